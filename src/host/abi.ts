/**
 * The proxy-wasm host ABI as proxy-wasm-cpp-host links it (issue 12 item 1, DESIGN.md section 2b):
 * every function the host provides to a module (per import module name, with its exact Wasm
 * signature and the ABI versions it is registered for), and every export the host calls (with the
 * signature it requires).
 *
 * Sources (proxy-wasm/proxy-wasm-cpp-host at 52a02917, 2026-07-01):
 * - include/proxy-wasm/exports.h: the C++ declarations of the host functions (`Word` is a uint32_t,
 *   so an `i32` in Wasm; `int64_t`/`uint64_t` are `i64`), FOR_ALL_HOST_FUNCTIONS,
 *   FOR_ALL_HOST_FUNCTIONS_ABI_SPECIFIC and FOR_ALL_WASI_FUNCTIONS.
 * - src/wasm.cc WasmBase::registerCallbacks: `env.pthread_equal` and
 *   `env.emscripten_notify_memory_growth` always; every WASI function under both `wasi_unstable` and
 *   `wasi_snapshot_preview1` (the same implementation, `exports::wasi_unstable_*`); every
 *   FOR_ALL_HOST_FUNCTIONS entry as `env.proxy_*`; then per abiVersion(): 0.1.0 adds
 *   get_configuration, continue_request, continue_response, clear_route_cache; 0.2.0 adds
 *   continue_stream, close_stream; 0.2.1 adds continue_stream, close_stream, get_log_level.
 * - src/wasm.cc WasmBase::getFunctions and include/proxy-wasm/wasm.h (the WasmCallVoid<N> /
 *   WasmCallWord<N> members): the exports the host looks up and their signatures. A missing export
 *   is simply not called; a present one with another signature fails the VM
 *   (src/v8/v8.cc V8::getModuleFunctionImpl: "Bad function signature for: NAME, want: ... but the
 *   module exports: ...").
 * - src/v8/v8.cc V8::link: an import not registered fails with "Failed to load Wasm module due to a
 *   missing import: MODULE.NAME"; a registered one with other types fails with "... an import type
 *   mismatch: MODULE.NAME, want: PARAMS -> RESULTS, but host exports: PARAMS -> RESULTS"; an
 *   imported global always fails (as missing); imported memories and tables are created by the host.
 * - src/bytecode_util.cc BytecodeUtil::getAbiVersion: the ABI is the first function export named
 *   proxy_abi_version_0_1_0 / _0_2_0 / _0_2_1, in export order; other names are skipped.
 * The ABI versions themselves are specified in proxy-wasm/spec abi-versions/v0.1.0, v0.2.0, v0.2.1.
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64';

/** A proxy-wasm ABI version, as the spec names it. */
export type AbiVersion = '0.1.0' | '0.2.0' | '0.2.1';

export const ABI_VERSIONS: readonly AbiVersion[] = ['0.1.0', '0.2.0', '0.2.1'];

/** The import module names the host registers functions under. */
export type HostModule = 'env' | 'wasi_snapshot_preview1' | 'wasi_unstable';

export const HOST_MODULES: readonly HostModule[] = ['env', 'wasi_snapshot_preview1', 'wasi_unstable'];

export interface FunctionSignature {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** What part of the host a function belongs to. */
export type HostFunctionGroup = 'proxy' | 'wasi' | 'emscripten';

export interface HostFunction {
  readonly module: HostModule;
  readonly name: string;
  readonly signature: FunctionSignature;
  /** The ABI versions for which cpp-host registers it. */
  readonly abiVersions: readonly AbiVersion[];
  readonly group: HostFunctionGroup;
}

/** `sig('i32 i64', 'i32')`: a signature from space-separated value types. */
function sig(params: string, results = ''): FunctionSignature {
  const parse = (s: string): ValType[] => s.split(' ').filter((t) => t !== '').map((t) => {
    if (t !== 'i32' && t !== 'i64' && t !== 'f32' && t !== 'f64') throw new Error(`bad value type ${t}`);
    return t;
  });
  return Object.freeze({ params: Object.freeze(parse(params)), results: Object.freeze(parse(results)) });
}

/** `n` i32 parameters (cpp-host Word arguments). */
function words(n: number): string {
  return Array.from({ length: n }, () => 'i32').join(' ');
}

const ALL: readonly AbiVersion[] = ABI_VERSIONS;

/**
 * `env.proxy_*` host functions: FOR_ALL_HOST_FUNCTIONS (all versions) and the ABI-specific ones,
 * with the parameter lists of include/proxy-wasm/exports.h. Every one returns a Word (WasmResult).
 */
const PROXY_FUNCTIONS: ReadonlyArray<readonly [string, FunctionSignature, readonly AbiVersion[]]> = [
  ['log', sig(words(3), 'i32'), ALL], // level, message_ptr, message_size
  ['get_status', sig(words(3), 'i32'), ALL], // code_ptr, message_ptr_ptr, message_size_ptr
  ['set_property', sig(words(4), 'i32'), ALL],
  ['get_property', sig(words(4), 'i32'), ALL], // path_ptr, path_size, value_ptr_ptr, value_size_ptr
  ['send_local_response', sig(words(8), 'i32'), ALL],
  ['get_shared_data', sig(words(5), 'i32'), ALL],
  ['set_shared_data', sig(words(5), 'i32'), ALL],
  ['register_shared_queue', sig(words(3), 'i32'), ALL],
  ['resolve_shared_queue', sig(words(5), 'i32'), ALL],
  ['dequeue_shared_queue', sig(words(3), 'i32'), ALL],
  ['enqueue_shared_queue', sig(words(3), 'i32'), ALL],
  ['get_header_map_value', sig(words(5), 'i32'), ALL],
  ['add_header_map_value', sig(words(5), 'i32'), ALL],
  ['replace_header_map_value', sig(words(5), 'i32'), ALL],
  ['remove_header_map_value', sig(words(3), 'i32'), ALL],
  ['get_header_map_pairs', sig(words(3), 'i32'), ALL],
  ['set_header_map_pairs', sig(words(3), 'i32'), ALL],
  ['get_header_map_size', sig(words(2), 'i32'), ALL],
  ['get_buffer_status', sig(words(3), 'i32'), ALL], // type, length_ptr, flags_ptr
  ['get_buffer_bytes', sig(words(5), 'i32'), ALL],
  ['set_buffer_bytes', sig(words(5), 'i32'), ALL],
  ['http_call', sig(words(10), 'i32'), ALL],
  ['grpc_call', sig(words(12), 'i32'), ALL],
  ['grpc_stream', sig(words(9), 'i32'), ALL],
  ['grpc_close', sig(words(1), 'i32'), ALL],
  ['grpc_cancel', sig(words(1), 'i32'), ALL],
  ['grpc_send', sig(words(4), 'i32'), ALL],
  ['set_tick_period_milliseconds', sig(words(1), 'i32'), ALL],
  ['get_current_time_nanoseconds', sig(words(1), 'i32'), ALL],
  ['define_metric', sig(words(4), 'i32'), ALL],
  ['increment_metric', sig('i32 i64', 'i32'), ALL], // metric_id, int64_t offset
  ['record_metric', sig('i32 i64', 'i32'), ALL], // metric_id, uint64_t value
  ['get_metric', sig(words(2), 'i32'), ALL],
  ['set_effective_context', sig(words(1), 'i32'), ALL],
  ['done', sig('', 'i32'), ALL],
  ['call_foreign_function', sig(words(6), 'i32'), ALL],
  // FOR_ALL_HOST_FUNCTIONS_ABI_SPECIFIC, registered per version by registerCallbacks.
  ['get_configuration', sig(words(2), 'i32'), ['0.1.0']],
  ['continue_request', sig('', 'i32'), ['0.1.0']],
  ['continue_response', sig('', 'i32'), ['0.1.0']],
  ['clear_route_cache', sig('', 'i32'), ['0.1.0']],
  ['continue_stream', sig(words(1), 'i32'), ['0.2.0', '0.2.1']],
  ['close_stream', sig(words(1), 'i32'), ['0.2.0', '0.2.1']],
  ['get_log_level', sig(words(1), 'i32'), ['0.2.1']],
];

/**
 * FOR_ALL_WASI_FUNCTIONS in its order, with the signatures of exports.h `wasi_unstable_*`
 * (src/exports.cc implements them). Registered under both WASI module names for every ABI version.
 * Before cpp-host #533 (94091cd, 2026-04) it was WASI_FUNCTION_NAMES_BEFORE_533; an Envoy built on
 * an older cpp-host refuses the others as missing imports.
 */
const WASI_FUNCTIONS: ReadonlyArray<readonly [string, FunctionSignature]> = [
  ['fd_write', sig(words(4), 'i32')],
  ['fd_read', sig(words(4), 'i32')],
  ['fd_seek', sig('i32 i64 i32 i32', 'i32')],
  ['fd_close', sig(words(1), 'i32')],
  ['fd_fdstat_get', sig(words(2), 'i32')],
  ['fd_fdstat_set_flags', sig(words(2), 'i32')],
  ['fd_fdstat_set_rights', sig('i32 i64 i64', 'i32')],
  ['environ_get', sig(words(2), 'i32')],
  ['environ_sizes_get', sig(words(2), 'i32')],
  ['args_get', sig(words(2), 'i32')],
  ['args_sizes_get', sig(words(2), 'i32')],
  ['clock_time_get', sig('i32 i64 i32', 'i32')],
  ['clock_res_get', sig(words(2), 'i32')],
  ['fd_advise', sig('i32 i64 i64 i32', 'i32')],
  ['fd_allocate', sig('i32 i64 i64', 'i32')],
  ['fd_datasync', sig(words(1), 'i32')],
  ['fd_filestat_set_size', sig('i32 i64', 'i32')],
  ['fd_filestat_set_times', sig('i32 i64 i64 i32', 'i32')],
  ['fd_pread', sig('i32 i32 i32 i64 i32', 'i32')],
  ['fd_pwrite', sig('i32 i32 i32 i64 i32', 'i32')],
  ['fd_readdir', sig('i32 i32 i32 i64 i32', 'i32')],
  ['fd_renumber', sig(words(2), 'i32')],
  ['fd_sync', sig(words(1), 'i32')],
  ['fd_tell', sig(words(2), 'i32')],
  ['path_create_directory', sig(words(3), 'i32')],
  ['path_filestat_set_times', sig('i32 i32 i32 i32 i64 i64 i32', 'i32')],
  // cpp-host declares path_link with 6 and path_symlink with 4 Words (WASI preview1 has 7 and 5);
  // V8 links against cpp-host's declaration, so these are what a module must import.
  ['path_link', sig(words(6), 'i32')],
  ['path_readlink', sig(words(6), 'i32')],
  ['path_remove_directory', sig(words(3), 'i32')],
  ['path_rename', sig(words(6), 'i32')],
  ['path_symlink', sig(words(4), 'i32')],
  ['path_unlink_file', sig(words(3), 'i32')],
  ['sock_accept', sig(words(3), 'i32')],
  ['sock_recv', sig(words(6), 'i32')],
  ['sock_send', sig(words(5), 'i32')],
  ['sock_shutdown', sig(words(2), 'i32')],
  ['random_get', sig(words(2), 'i32')],
  ['sched_yield', sig('', 'i32')],
  ['poll_oneoff', sig(words(4), 'i32')],
  ['proc_exit', sig(words(1))], // void
  ['path_open', sig('i32 i32 i32 i32 i32 i64 i64 i32 i32', 'i32')],
  ['fd_prestat_get', sig(words(2), 'i32')],
  ['fd_prestat_dir_name', sig(words(3), 'i32')],
  ['path_filestat_get', sig(words(5), 'i32')],
  ['fd_filestat_get', sig(words(2), 'i32')],
];

/** The emscripten runtime helpers registerCallbacks adds under `env` (exports.h). */
const EMSCRIPTEN_FUNCTIONS: ReadonlyArray<readonly [string, FunctionSignature]> = [
  ['pthread_equal', sig(words(2), 'i32')],
  ['emscripten_notify_memory_growth', sig(words(1))], // void
];

function buildHostFunctions(): readonly HostFunction[] {
  const out: HostFunction[] = [];
  for (const [name, signature] of EMSCRIPTEN_FUNCTIONS) {
    out.push(Object.freeze({ module: 'env', name, signature, abiVersions: ALL, group: 'emscripten' }));
  }
  for (const module of ['wasi_unstable', 'wasi_snapshot_preview1'] as const) {
    for (const [name, signature] of WASI_FUNCTIONS) {
      out.push(Object.freeze({ module, name, signature, abiVersions: ALL, group: 'wasi' }));
    }
  }
  for (const [name, signature, abiVersions] of PROXY_FUNCTIONS) {
    out.push(Object.freeze({ module: 'env', name: `proxy_${name}`, signature, abiVersions, group: 'proxy' }));
  }
  return Object.freeze(out);
}

/** Every function the host provides, for any ABI version. */
export const HOST_FUNCTIONS: readonly HostFunction[] = buildHostFunctions();

/** The WASI function names cpp-host registers (the same list under both WASI module names). */
export const WASI_FUNCTION_NAMES: readonly string[] = Object.freeze(WASI_FUNCTIONS.map(([n]) => n));

/**
 * FOR_ALL_WASI_FUNCTIONS from c4d7bb0 (2024-12, "add wasi hostcalls used by the Go SDK") until
 * #533: what Envoy releases built on cpp-host of 2025 register.
 */
export const WASI_FUNCTION_NAMES_BEFORE_533: readonly string[] = Object.freeze([
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'environ_get',
  'environ_sizes_get', 'args_get', 'args_sizes_get', 'clock_time_get', 'random_get', 'sched_yield',
  'poll_oneoff', 'proc_exit', 'path_open', 'fd_prestat_get', 'fd_prestat_dir_name',
]);

/** The host functions a module of this ABI version is linked against. */
export function hostFunctionsFor(abi: AbiVersion): HostFunction[] {
  return HOST_FUNCTIONS.filter((f) => f.abiVersions.includes(abi));
}

/** The host function `module.name` for this ABI version, or undefined when cpp-host does not register it. */
export function findHostFunction(module: string, name: string, abi: AbiVersion): HostFunction | undefined {
  return HOST_FUNCTIONS.find((f) => f.module === module && f.name === name && f.abiVersions.includes(abi));
}

/** The ABI versions that do register `module.name` (empty when none does), for messages. */
export function abiVersionsProviding(module: string, name: string): AbiVersion[] {
  return ABI_VERSIONS.filter((v) => findHostFunction(module, name, v) !== undefined);
}

/** Why the host calls an export. */
export type GuestExportRole = 'start' | 'allocator' | 'callback';

export interface GuestExport {
  readonly name: string;
  readonly signature: FunctionSignature;
  /** The ABI versions for which the host looks it up. */
  readonly abiVersions: readonly AbiVersion[];
  readonly role: GuestExportRole;
}

/**
 * The exports cpp-host looks up (WasmBase::getFunctions), with the member types of
 * include/proxy-wasm/wasm.h: WasmCallVoid<N> is N i32 params and no result, WasmCallWord<N> is N
 * i32 params and an i32 result (the ContextBase* argument is not passed to Wasm).
 * `main` and `__main_void` are looked up only when `_initialize` exists, `_start` only when it
 * does not; `proxy_on_memory_allocate` only when `malloc` is missing.
 */
const GUEST_EXPORT_ROWS: ReadonlyArray<readonly [string, FunctionSignature, readonly AbiVersion[], GuestExportRole]> = [
  ['_initialize', sig(''), ALL, 'start'],
  ['main', sig(words(2), 'i32'), ALL, 'start'],
  ['__main_void', sig('', 'i32'), ALL, 'start'],
  ['_start', sig(''), ALL, 'start'],
  ['malloc', sig(words(1), 'i32'), ALL, 'allocator'],
  ['proxy_on_memory_allocate', sig(words(1), 'i32'), ALL, 'allocator'],
  ['proxy_validate_configuration', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_vm_start', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_configure', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_tick', sig(words(1)), ALL, 'callback'],
  ['proxy_on_context_create', sig(words(2)), ALL, 'callback'],
  ['proxy_on_new_connection', sig(words(1), 'i32'), ALL, 'callback'],
  ['proxy_on_downstream_data', sig(words(3), 'i32'), ALL, 'callback'],
  ['proxy_on_upstream_data', sig(words(3), 'i32'), ALL, 'callback'],
  ['proxy_on_downstream_connection_close', sig(words(2)), ALL, 'callback'],
  ['proxy_on_upstream_connection_close', sig(words(2)), ALL, 'callback'],
  ['proxy_on_request_headers', sig(words(2), 'i32'), ['0.1.0'], 'callback'],
  ['proxy_on_request_headers', sig(words(3), 'i32'), ['0.2.0', '0.2.1'], 'callback'],
  ['proxy_on_request_body', sig(words(3), 'i32'), ALL, 'callback'],
  ['proxy_on_request_trailers', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_request_metadata', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_response_headers', sig(words(2), 'i32'), ['0.1.0'], 'callback'],
  ['proxy_on_response_headers', sig(words(3), 'i32'), ['0.2.0', '0.2.1'], 'callback'],
  ['proxy_on_response_body', sig(words(3), 'i32'), ALL, 'callback'],
  ['proxy_on_response_trailers', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_response_metadata', sig(words(2), 'i32'), ALL, 'callback'],
  ['proxy_on_http_call_response', sig(words(5)), ALL, 'callback'],
  ['proxy_on_grpc_receive', sig(words(3)), ALL, 'callback'],
  ['proxy_on_grpc_close', sig(words(3)), ALL, 'callback'],
  ['proxy_on_grpc_receive_initial_metadata', sig(words(3)), ALL, 'callback'],
  ['proxy_on_grpc_receive_trailing_metadata', sig(words(3)), ALL, 'callback'],
  ['proxy_on_queue_ready', sig(words(2)), ALL, 'callback'],
  ['proxy_on_foreign_function', sig(words(3)), ['0.2.0', '0.2.1'], 'callback'],
  ['proxy_on_done', sig(words(1), 'i32'), ALL, 'callback'],
  ['proxy_on_log', sig(words(1)), ALL, 'callback'],
  ['proxy_on_delete', sig(words(1)), ALL, 'callback'],
];

export const GUEST_EXPORTS: readonly GuestExport[] = Object.freeze(
  GUEST_EXPORT_ROWS.map(([name, signature, abiVersions, role]) => Object.freeze({ name, signature, abiVersions, role })),
);

/** The signature the host requires of export `name` under this ABI, or undefined when it never calls it. */
export function expectedExport(name: string, abi: AbiVersion): GuestExport | undefined {
  return GUEST_EXPORTS.find((e) => e.name === name && e.abiVersions.includes(abi));
}

/** The allocator exports in the order cpp-host tries them (getFunctions: malloc, then the alias). */
export const ALLOCATOR_EXPORTS: readonly string[] = ['malloc', 'proxy_on_memory_allocate'];

/** The export name that declares each ABI version. */
export const ABI_VERSION_EXPORTS: Readonly<Record<string, AbiVersion>> = Object.freeze({
  proxy_abi_version_0_1_0: '0.1.0',
  proxy_abi_version_0_2_0: '0.2.0',
  proxy_abi_version_0_2_1: '0.2.1',
});

/**
 * The ABI version as BytecodeUtil::getAbiVersion picks it: the first function export, in export
 * order, whose name is a known `proxy_abi_version_*`; unknown ones are ignored.
 */
export function pickAbiVersion(functionExportNames: Iterable<string>): AbiVersion | undefined {
  for (const name of functionExportNames) {
    const v = ABI_VERSION_EXPORTS[name];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The allocator cpp-host would call, given the module's function exports, or undefined. */
export function pickAllocator(functionExportNames: Iterable<string>): string | undefined {
  const names = new Set(functionExportNames);
  return ALLOCATOR_EXPORTS.find((a) => names.has(a));
}

/** Value types as V8's printValTypes writes them in cpp-host messages: `i32 i64`, or `void` when empty. */
export function formatValTypes(types: readonly ValType[]): string {
  return types.length === 0 ? 'void' : types.join(' ');
}

/** A signature as cpp-host writes it: `i32 i32 -> i32`. */
export function formatSignature(s: FunctionSignature): string {
  return `${formatValTypes(s.params)} -> ${formatValTypes(s.results)}`;
}

export function sameSignature(a: FunctionSignature, b: FunctionSignature): boolean {
  const eq = (x: readonly ValType[], y: readonly ValType[]): boolean => x.length === y.length && x.every((t, i) => t === y[i]);
  return eq(a.params, b.params) && eq(a.results, b.results);
}
