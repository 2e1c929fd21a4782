import { DEFAULT_FILTER_DIR, type KubeResource, type RenderInput } from './types.js';
import { imageFacts, metadataOf, pluginConfigString } from './source.js';

export const WASM_FILTER_NAME = 'envoy.filters.http.wasm';
export const WASM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';
export const V8_RUNTIME = 'envoy.wasm.runtime.v8';

/**
 * The module's file name on the node: `<stem>-<manifest digest hex>.wasm`.
 * The digest is in the name so a new version is a new file and a new EnvoyFilter: Envoy reads a
 * local `code` source only when the listener config changes, so overwriting the file under an
 * unchanged name would leave old proxies on the old bytes and new ones on the new (a fleet
 * running two versions under one config), and a half-written file could be loaded. A new name
 * changes the config, every proxy reloads, and the old file stays valid until it is unused.
 */
export function localModuleFileName(input: Pick<RenderInput, 'name' | 'moduleFileName'>, hex: string): string {
  const base = input.moduleFileName ?? input.name;
  const stem = base.endsWith('.wasm') ? base.slice(0, -'.wasm'.length) : base;
  return `${stem || input.name}-${hex}.wasm`;
}

/**
 * Istio `EnvoyFilter` (networking.istio.io/v1alpha3) that inserts the Wasm HTTP filter before
 * the router on inbound sidecar listeners, loading the module from a file on the node, as the
 * ASM controller's generated filter does (the article's "INSERT_BEFORE envoy.router").
 */
export function buildEnvoyFilter(input: RenderInput): KubeResource {
  const facts = imageFacts(input);
  const dir = (input.filterDir ?? DEFAULT_FILTER_DIR).replace(/\/+$/, '') || '/';
  const filename = `${dir === '/' ? '' : dir}/${localModuleFileName(input, facts.hex)}`;
  const config: Record<string, unknown> = { name: input.name };
  if (input.rootId !== undefined) config.root_id = input.rootId;
  if (input.pluginConfig !== undefined) config.configuration = { '@type': STRING_VALUE_TYPE, value: pluginConfigString(input.pluginConfig) };
  config.vm_config = {
    vm_id: input.name,
    runtime: V8_RUNTIME,
    code: { local: { filename } },
  };
  const spec: Record<string, unknown> = {};
  if (input.selector && Object.keys(input.selector).length > 0) spec.workloadSelector = { labels: { ...input.selector } };
  spec.configPatches = [
    {
      applyTo: 'HTTP_FILTER',
      match: {
        context: 'SIDECAR_INBOUND',
        listener: {
          filterChain: {
            filter: {
              name: 'envoy.filters.network.http_connection_manager',
              subFilter: { name: 'envoy.filters.http.router' },
            },
          },
        },
      },
      patch: {
        operation: 'INSERT_BEFORE',
        value: { name: WASM_FILTER_NAME, typed_config: { '@type': WASM_FILTER_TYPE, config } },
      },
    },
  ];
  return { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: metadataOf(input, facts), spec };
}
