/**
 * The proxy-wasm checks on a module (DESIGN.md section 2, issue 5): what Envoy (proxy-wasm-cpp-host)
 * needs before it will load a module as a filter.
 *
 * The host function lists are the ones proxy-wasm-cpp-host registers in `WasmBase::registerCallbacks`
 * (src/wasm.cc, include/proxy-wasm/exports.h): `FOR_ALL_HOST_FUNCTIONS` for every ABI version, plus
 * the ABI-specific ones. Envoy links a module only when each of its imports is registered, so an
 * import outside these lists makes Envoy fail with a missing-import error.
 */
import type { ProxyWasmAbiVersion, ProxyWasmInfo, WasmImport, WasmInfo } from './types.js';

export const PROXY_WASM_ABI_VERSIONS: readonly ProxyWasmAbiVersion[] = ['0_1_0', '0_2_0', '0_2_1'];

const ABI_EXPORT_PREFIX = 'proxy_abi_version_';

/** Host functions of every ABI version (cpp-host FOR_ALL_HOST_FUNCTIONS). */
const COMMON_HOST_FUNCTIONS = [
  'log',
  'get_status',
  'set_property',
  'get_property',
  'send_local_response',
  'get_shared_data',
  'set_shared_data',
  'register_shared_queue',
  'resolve_shared_queue',
  'dequeue_shared_queue',
  'enqueue_shared_queue',
  'get_header_map_value',
  'add_header_map_value',
  'replace_header_map_value',
  'remove_header_map_value',
  'get_header_map_pairs',
  'set_header_map_pairs',
  'get_header_map_size',
  'get_buffer_status',
  'get_buffer_bytes',
  'set_buffer_bytes',
  'http_call',
  'grpc_call',
  'grpc_stream',
  'grpc_close',
  'grpc_cancel',
  'grpc_send',
  'set_tick_period_milliseconds',
  'get_current_time_nanoseconds',
  'define_metric',
  'increment_metric',
  'record_metric',
  'get_metric',
  'set_effective_context',
  'done',
  'call_foreign_function',
].map((f) => `proxy_${f}`);

/** Host functions only one ABI version has (cpp-host registerCallbacks, per abiVersion()). */
const ABI_SPECIFIC_HOST_FUNCTIONS: Record<ProxyWasmAbiVersion, readonly string[]> = {
  '0_1_0': ['proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache'],
  '0_2_0': ['proxy_continue_stream', 'proxy_close_stream'],
  '0_2_1': ['proxy_continue_stream', 'proxy_close_stream', 'proxy_get_log_level'],
};

/** Emscripten runtime helpers cpp-host also registers under `env`, whatever the ABI version. */
const ENV_RUNTIME_HELPERS = ['pthread_equal', 'emscripten_notify_memory_growth'];

/** WASI modules proxy-wasm hosts provide (the spec names wasi_snapshot_preview1; cpp-host also wasi_unstable). */
export const PROXY_WASM_WASI_MODULES: readonly string[] = ['wasi_snapshot_preview1', 'wasi_unstable'];

const ALLOCATORS = ['proxy_on_memory_allocate', 'malloc'] as const;

function hostFunctionsOf(version: ProxyWasmAbiVersion): Set<string> {
  return new Set([...COMMON_HOST_FUNCTIONS, ...ABI_SPECIFIC_HOST_FUNCTIONS[version], ...ENV_RUNTIME_HELPERS]);
}

/** The `env` host functions a module of this ABI version may import. */
export function proxyWasmHostFunctions(version: ProxyWasmAbiVersion): string[] {
  return [...hostFunctionsOf(version)].sort();
}

function isAbiVersion(v: string): v is ProxyWasmAbiVersion {
  return (PROXY_WASM_ABI_VERSIONS as readonly string[]).includes(v);
}

function dotted(version: ProxyWasmAbiVersion): string {
  return version.replaceAll('_', '.');
}

/** ` (it belongs to ABI 0.1.0)` when another ABI version has this host function. */
function ownedBy(name: string): string {
  const owners = PROXY_WASM_ABI_VERSIONS.filter((v) => ABI_SPECIFIC_HOST_FUNCTIONS[v].includes(name));
  return owners.length === 0 ? '' : ` (it belongs to ABI ${owners.map(dotted).join(', ')})`;
}

export function checkProxyWasm(info: WasmInfo): ProxyWasmInfo {
  const problems: string[] = [];
  if (info.kind === 'component') {
    problems.push('is a component; proxy-wasm hosts load only core modules');
  }

  const functionExports = info.exports.filter((e) => e.kind === 'function');
  const abiVersions: ProxyWasmAbiVersion[] = [];
  for (const e of functionExports) {
    if (!e.name.startsWith(ABI_EXPORT_PREFIX)) continue;
    const v = e.name.slice(ABI_EXPORT_PREFIX.length);
    if (isAbiVersion(v)) {
      if (!abiVersions.includes(v)) abiVersions.push(v);
    } else {
      problems.push(
        `exports ${e.name}, an ABI version proxy-wasm hosts do not know (known: ${PROXY_WASM_ABI_VERSIONS.join(', ')})`,
      );
    }
  }
  if (abiVersions.length === 0) {
    problems.push(`no ${ABI_EXPORT_PREFIX}* export (one of ${PROXY_WASM_ABI_VERSIONS.map((v) => ABI_EXPORT_PREFIX + v).join(', ')})`);
  }

  const exportedFunctions = new Set(functionExports.map((e) => e.name));
  const allocator = ALLOCATORS.find((a) => exportedFunctions.has(a));
  if (allocator === undefined) problems.push('no allocator export (proxy_on_memory_allocate or malloc)');

  const memoryExported = info.exports.some((e) => e.kind === 'memory');
  if (!memoryExported) problems.push('no exported memory');

  // cpp-host takes the first ABI version export it meets, and links host functions for that one.
  const version = abiVersions[0];
  const allowed = version === undefined
    ? new Set(PROXY_WASM_ABI_VERSIONS.flatMap((v) => [...hostFunctionsOf(v)]))
    : hostFunctionsOf(version);
  const unknownImports: WasmImport[] = [];
  for (const imp of info.imports) {
    const where = `${imp.module}.${imp.name}`;
    if (imp.kind !== 'function') {
      problems.push(`imports ${imp.kind} ${where}; proxy-wasm hosts provide only functions`);
      continue;
    }
    if (PROXY_WASM_WASI_MODULES.includes(imp.module)) continue;
    if (imp.module === 'env') {
      if (allowed.has(imp.name)) continue;
      unknownImports.push(imp);
      problems.push(
        version === undefined
          ? `imports ${where}, which is not a host function of any proxy-wasm ABI version`
          : `imports ${where}, which is not a host function of proxy-wasm ABI ${dotted(version)}${ownedBy(imp.name)}`,
      );
      continue;
    }
    unknownImports.push(imp);
    problems.push(
      `imports ${where} from module "${imp.module}"; proxy-wasm hosts provide only env and WASI (${PROXY_WASM_WASI_MODULES.join(', ')})`,
    );
  }

  const result: ProxyWasmInfo = { abiVersions, memoryExported, unknownImports, problems };
  if (allocator !== undefined) result.allocator = allocator;
  return result;
}
