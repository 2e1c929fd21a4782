import { filterFilePath } from './filter-file.js';
import type { KubeResource, RenderInput } from './types.js';
import { imageFacts, metadataOf, pluginConfigString } from './source.js';

export const WASM_FILTER_NAME = 'envoy.filters.http.wasm';
export const WASM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';
export const V8_RUNTIME = 'envoy.wasm.runtime.v8';

/**
 * Istio `EnvoyFilter` (networking.istio.io/v1alpha3) that inserts the Wasm HTTP filter before
 * the router on inbound sidecar listeners, loading the module from a file on the node, as the
 * ASM controller's generated filter does (the article's "INSERT_BEFORE envoy.router").
 */
export function buildEnvoyFilter(input: RenderInput): KubeResource {
  const facts = imageFacts(input);
  // The file `wasm-oci agent` writes for filter NAME (DIR/NAME.wasm): render the agent's
  // ConfigMap with --filter NAME=IMAGE and this EnvoyFilter with --name NAME. Envoy reads a local
  // `code` file when it builds the filter from listener config, so a module the agent replaces
  // reaches a proxy when its listener config next changes or the pod restarts, never half-written
  // (the agent renames a verified file into place).
  const filename = filterFilePath(input.name, input.filterDir);
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
