/**
 * What a run of a filter leaves for a test or a report to read, in the spirit of
 * proxy-wasm-go-sdk's proxytest host emulator (proxywasm/proxytest): logs with levels, metrics,
 * shared data, queues, the calls the filter made, what the upstream and the client received.
 * Plain data (no classes) so it crosses a worker boundary with structured clone.
 */
import type { AbiVersion } from './abi.js';
import type { HeaderPair } from './headers.js';
import type { LogLevelName, MetricTypeName } from './abi-enums.js';

export interface LogEntry {
  level: LogLevelName;
  message: string;
  /** The context that was current when the filter logged (1 is the root context). */
  contextId: number;
  /** The callback the host was running, e.g. proxy_on_request_headers. */
  callback: string;
}

export interface MetricEntry {
  name: string;
  type: MetricTypeName;
  value: number;
}

export interface HttpCallRecord {
  token: number;
  /** The cluster (upstream) name the filter passed. */
  upstream: string;
  headers: HeaderPair[];
  body: string;
  trailers: HeaderPair[];
  timeoutMs: number;
  contextId: number;
  /** The stub response delivered to proxy_on_http_call_response; absent when none was (a failure was delivered). */
  response?: { status: number; headers: HeaderPair[]; body: string };
}

export interface GrpcCallRecord {
  token: number;
  kind: 'call' | 'stream';
  service: string;
  serviceName: string;
  method: string;
  initialMetadata: HeaderPair[];
  message: string;
  contextId: number;
}

export interface LocalReply {
  status: number;
  details: string;
  body: string;
  headers: HeaderPair[];
  grpcStatus: number;
  /** The callback that sent it. */
  callback: string;
}

export interface CallbackTrace {
  callback: string;
  args: number[];
  /** The i32 the callback returned, when it returns one. */
  result?: number;
  /** The result named by the ABI (Continue, StopIteration, ...), for header/body/trailer callbacks. */
  status?: string;
}

/** One side of the HTTP exchange as it crossed the filter. */
export interface HttpMessage {
  headers: HeaderPair[];
  body: string;
  trailers: HeaderPair[];
}

export interface StreamOutcome {
  contextId: number;
  /** What the upstream received; absent when the filter never let the request through. */
  upstream?: HttpMessage;
  /** What the client received; absent when the stream stopped and was never resumed. */
  client?: HttpMessage;
  localReply?: LocalReply;
  /** Why the exchange ended early, when it did (a stopped stream never resumed, a closed stream). */
  stopped?: string;
}

export interface HostReport {
  abiVersion: AbiVersion;
  allocator: string;
  rootId: string;
  vmId: string;
  /** Whether proxy_on_vm_start and proxy_on_configure returned true. */
  vmStarted: boolean;
  configured: boolean;
  logs: LogEntry[];
  metrics: MetricEntry[];
  sharedData: { key: string; value: string; cas: number }[];
  queues: { name: string; vmId: string; token: number; pending: string[] }[];
  httpCalls: HttpCallRecord[];
  grpcCalls: GrpcCallRecord[];
  foreignCalls: { name: string; argument: string }[];
  tickPeriodMs: number;
  ticks: number;
  properties: Record<string, string>;
  trace: CallbackTrace[];
  streams: StreamOutcome[];
}
