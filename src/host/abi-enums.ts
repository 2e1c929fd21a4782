/**
 * The numeric enums of the proxy-wasm ABI (proxy-wasm/spec abi-versions/v0.2.1/README.md;
 * proxy-wasm-cpp-host include/proxy-wasm/context_interface.h and wasm_api_impl.h). 0.1.0 uses the
 * same values for the parts it has.
 */

/** proxy_result_t (cpp-host include/proxy-wasm/word.h WasmResult). */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** proxy_map_type_t. */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

/** proxy_buffer_type_t. */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;

/** proxy_stream_type_t (proxy_continue_stream / proxy_close_stream, 0.2.x). */
export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const;

/** proxy_metric_type_t. */
export const METRIC_TYPES = ['counter', 'gauge', 'histogram'] as const;
export type MetricTypeName = (typeof METRIC_TYPES)[number];

/** proxy_filter_headers_status_t: what proxy_on_*_headers returns. */
export const HEADERS_STATUS = ['Continue', 'StopIteration', 'ContinueAndEndStream', 'StopAllIterationAndBuffer', 'StopAllIterationAndWatermark'] as const;
/** proxy_filter_data_status_t: what proxy_on_*_body returns. */
export const DATA_STATUS = ['Continue', 'StopIterationAndBuffer', 'StopIterationAndWatermark', 'StopIterationNoBuffer'] as const;
/** proxy_filter_trailers_status_t. */
export const TRAILERS_STATUS = ['Continue', 'StopIteration'] as const;

export function statusName(table: readonly string[], value: number): string {
  return table[value] ?? `unknown status ${value}`;
}
