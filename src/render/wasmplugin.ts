import { WasmOciError } from '../errors.js';
import { imageFacts, metadataOf } from './source.js';
import type { KubeResource, RenderInput } from './types.js';

/**
 * Istio `WasmPlugin` (extensions.istio.io/v1alpha1). `url` keeps the tag the user gave and
 * `sha256` pins it: Istio's image fetcher compares `sha256` with the digest of the manifest it
 * pulled (pkg/wasm/imagefetcher.go), so a moved tag fails closed instead of loading other bytes.
 */
export function buildWasmPlugin(input: RenderInput): KubeResource {
  const facts = imageFacts(input);
  const config = input.pluginConfig;
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    // spec.pluginConfig is a google.protobuf.Struct: only a JSON object fits.
    throw new WasmOciError('E_INVALID_INPUT', 'a WasmPlugin plugin config must be a JSON object', {
      hint: 'Wrap it, e.g. {"value": ...}, or render --kind envoyfilter, whose configuration is a plain string',
    });
  }
  const spec: Record<string, unknown> = {};
  if (input.selector && Object.keys(input.selector).length > 0) spec.selector = { matchLabels: { ...input.selector } };
  spec.url = `oci://${facts.urlImage}`;
  spec.sha256 = facts.hex;
  if (input.imagePullPolicy) spec.imagePullPolicy = input.imagePullPolicy;
  if (input.pullSecret) spec.imagePullSecret = input.pullSecret;
  if (input.rootId !== undefined) spec.pluginName = input.rootId;
  if (input.phase) spec.phase = input.phase;
  if (input.priority !== undefined) spec.priority = input.priority;
  if (config !== undefined) spec.pluginConfig = config;
  return { apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: metadataOf(input, facts), spec };
}
