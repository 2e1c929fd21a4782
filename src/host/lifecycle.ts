/**
 * The driver: runs a linked proxy-wasm module through the ABI as proxy-wasm-cpp-host and Envoy do.
 * - Start (src/wasm.cc WasmBase::startVm): `_initialize` then `main(0, 0)` or `__main_void`, or
 *   `_start` for a WASI command.
 * - Root context (src/context.cc ContextBase::onStart / onConfigure): id 1 (0 is the VM context,
 *   WasmBase::next_context_id_), proxy_on_context_create(1, 0), proxy_on_vm_start(1, vm config
 *   size) and proxy_on_configure(1, plugin config size); false from either fails the plugin.
 * - Streams (ContextBase::onCreate ... onDelete): proxy_on_context_create(id, 1), request headers,
 *   body chunks (end_of_stream on the last), trailers, then the same for the response, then
 *   proxy_on_done, proxy_on_log, proxy_on_delete.
 * - Envoy semantics (source/extensions/common/wasm/context.cc): a headers callback returning
 *   StopIteration pauses the stream until proxy_continue_stream / proxy_continue_request; a body
 *   callback returning StopIterationAndBuffer keeps the data and the next call sees all of it;
 *   proxy_send_local_response is applied after the callback returns (cpp-host
 *   DeferAfterCallActions), ends the request and answers the client through the response path.
 * - http calls, queue-ready and ticks are delivered after the callback that caused them returns.
 */
import { WasmOciError } from '../errors.js';
import type { AbiVersion } from './abi.js';
import { BufferType, DATA_STATUS, HEADERS_STATUS, LOG_LEVELS, MapType, METRIC_TYPES, StreamType, statusName, TRAILERS_STATUS, type LogLevelName } from './abi-enums.js';
import { HeaderMap, type HeaderPair } from './headers.js';
import { hostImplementations } from './imports.js';
import { instantiate, planLink, type LinkPlan } from './link.js';
import { GuestMemory } from './memory.js';
import { getProperty, propertyOverride, type PropertyInputs } from './properties.js';
import type { CallbackTrace, GrpcCallRecord, HostReport, HttpCallRecord, HttpMessage, LocalReply, LogEntry, StreamOutcome } from './state.js';

export interface HttpCallStub {
  /** Answer only calls to this cluster; any call when absent. */
  upstream?: string;
  status: number;
  headers?: HeaderPair[];
  body?: string;
}

export interface HostOptions {
  rootId?: string;
  vmId?: string;
  pluginName?: string;
  vmConfig?: Uint8Array;
  pluginConfig?: Uint8Array;
  /** `--property key=value`, dotted keys. */
  properties?: Record<string, string>;
  /** Stub responses for proxy_http_call, used in order (a stub with `upstream` only for that cluster). */
  httpCallResponses?: HttpCallStub[];
  /** Ticks to deliver after configure when the filter set a tick period (default 1). */
  ticks?: number;
  /** What proxy_get_log_level reports (0.2.1); default trace, so every log line is kept. */
  logLevel?: LogLevelName;
  /** Nanoseconds since the epoch; injected for tests. */
  now?: () => bigint;
  /** Called around every callback into the module (budget.ts arms its timer on these). */
  onEnterCallback?: (callback: string) => void;
  onLeaveCallback?: (callback: string) => void;
  /** Linear memory cap in bytes, checked after every callback and host call. */
  memoryCapBytes?: number;
  /** WASI environment the plugin is given (cpp-host envs_). */
  env?: Record<string, string>;
}

export interface HttpRequestInput {
  method: string;
  path: string;
  authority: string;
  scheme?: string;
  headers?: HeaderPair[];
  /** Body chunks; each is one proxy_on_request_body call, the last with end_of_stream. */
  body?: string[];
  trailers?: HeaderPair[];
}

export interface HttpResponseInput {
  status: number;
  headers?: HeaderPair[];
  body?: string[];
  trailers?: HeaderPair[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The state of one HTTP stream context. */
export class StreamContext {
  requestHeaders: HeaderMap;
  requestTrailers: HeaderMap | undefined;
  responseHeaders: HeaderMap | undefined;
  responseTrailers: HeaderMap | undefined;
  /** The body buffer the current body callback sees. */
  requestBody: Uint8Array = new Uint8Array(0);
  responseBody: Uint8Array = new Uint8Array(0);
  localReply: LocalReply | undefined;
  pendingLocalReply: LocalReply | undefined;
  requestResumed = false;
  responseResumed = false;
  closed: string | undefined;
  constructor(readonly id: number, request: HeaderMap) {
    this.requestHeaders = request;
  }
}

export interface QueueState {
  name: string;
  vmId: string;
  token: number;
  ownerContextId: number;
  items: Uint8Array[];
}

/** A callback error: a trap or proc_exit, with the callback and Wasm stack. */
function trapError(callback: string, err: unknown): WasmOciError {
  if (err instanceof WasmOciError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const wasmStack = (e.stack ?? '').split('\n').filter((l) => /wasm:\/\/|wasm-function/.test(l)).map((l) => l.trim());
  const exit = (e as { procExit?: number }).procExit;
  const message = exit !== undefined
    ? `the filter called proc_exit(${exit}) in ${callback}; cpp-host fails the VM`
    : `the filter trapped in ${callback}: ${e.message}`;
  return new WasmOciError('E_WASM_TRAP', message, { cause: err, details: { kind: exit !== undefined ? 'proc_exit' : 'trap', callback, wasmStack } });
}

export class ProxyWasmHost {
  readonly options: HostOptions;
  readonly plan: LinkPlan;
  instance!: WebAssembly.Instance;
  memory!: GuestMemory;
  readonly rootContextId = 1;
  private nextContextId = 2;
  /** The context host calls act on (cpp-host contextOrEffectiveContext). */
  currentContextId = 0;
  currentCallback = 'instantiation';
  readonly streams = new Map<number, StreamContext>();

  // Observable state (state.ts HostReport).
  readonly logs: LogEntry[] = [];
  readonly metrics = new Map<number, { name: string; type: number; value: bigint }>();
  readonly sharedData = new Map<string, { value: Uint8Array; cas: number }>();
  readonly queues = new Map<number, QueueState>();
  readonly httpCalls: HttpCallRecord[] = [];
  readonly grpcCalls: GrpcCallRecord[] = [];
  readonly foreignCalls: { name: string; argument: string }[] = [];
  readonly trace: CallbackTrace[] = [];
  readonly propertyOverrides = new Map<string, Uint8Array>();
  tickPeriodMs = 0;
  ticks = 0;
  vmStarted = false;
  configured = false;
  pendingDone = false;
  nextToken = 1;
  /** Work delivered once the running callback returns. */
  readonly pendingHttpCalls: HttpCallRecord[] = [];
  readonly pendingQueueReady: QueueState[] = [];
  /** The response an on_http_call_response callback reads. */
  httpCallResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | undefined;
  private stubs: HttpCallStub[];
  propertyInputs: PropertyInputs;

  private constructor(plan: LinkPlan, options: HostOptions) {
    this.plan = plan;
    this.options = options;
    this.stubs = [...(options.httpCallResponses ?? [])];
    for (const [k, v] of Object.entries(options.properties ?? {})) this.propertyOverrides.set(k, propertyOverride(k, v));
    this.propertyInputs = this.makePropertyInputs(new HeaderMap());
  }

  /** Links the module (E_WASM_LINK when Envoy would refuse it), instantiates it and starts the VM. */
  static async create(bytes: Uint8Array, options: HostOptions = {}): Promise<ProxyWasmHost> {
    const plan = await planLink(bytes);
    const host = new ProxyWasmHost(plan, options);
    host.enter('instantiation');
    let mem: WebAssembly.Memory | undefined;
    try {
      const linked = instantiate(plan, hostImplementations(host));
      host.instance = linked.instance;
      mem = linked.memory;
    } catch (err) {
      throw trapError('instantiation (the start function)', err);
    } finally {
      host.leave('instantiation');
    }
    // planLink refused a module with no memory the host can reach (link.ts memoryProblem); an
    // imported memory is the one instantiate created.
    host.memory = new GuestMemory(() => mem, (size) => host.call(plan.allocator, [size], { trace: false }) ?? 0);
    return host;
  }

  get abiVersion(): AbiVersion {
    return this.plan.abiVersion;
  }

  get rootId(): string {
    return this.options.rootId ?? '';
  }

  get vmId(): string {
    return this.options.vmId ?? '';
  }

  now(): bigint {
    return this.options.now?.() ?? BigInt(Date.now()) * 1_000_000n;
  }

  private enter(callback: string): void {
    this.currentCallback = callback;
    this.options.onEnterCallback?.(callback);
  }

  private leave(callback: string): void {
    this.options.onLeaveCallback?.(callback);
    this.checkMemoryCap(callback);
  }

  checkMemoryCap(callback: string): void {
    const cap = this.options.memoryCapBytes;
    if (cap === undefined || this.memory === undefined) return;
    const size = this.memory.byteLength;
    if (size > cap) {
      throw new WasmOciError('E_WASM_TRAP', `the filter grew its memory to ${size} bytes in ${callback}, over the ${cap}-byte cap`, {
        details: { kind: 'memory', callback, memoryBytes: size, capBytes: cap },
      });
    }
  }

  hasExport(name: string): boolean {
    return typeof this.instance.exports[name] === 'function';
  }

  /**
   * Calls an export when the module has it (cpp-host calls only what getFunctions found), with
   * `contextId` as the current context. Returns its i32 result, or undefined when absent / void.
   */
  call(name: string, args: number[], opts: { contextId?: number; trace?: boolean } = {}): number | undefined {
    const fn = this.instance.exports[name] as ((...a: number[]) => number | undefined) | undefined;
    if (typeof fn !== 'function') return undefined;
    const savedContext = this.currentContextId;
    const savedCallback = this.currentCallback;
    if (opts.contextId !== undefined) this.currentContextId = opts.contextId;
    const nested = savedCallback !== 'idle' && savedCallback !== 'instantiation' && name === this.plan.allocator;
    if (!nested) this.enter(name);
    let result: number | undefined;
    try {
      result = fn(...args);
    } catch (err) {
      throw trapError(name, err);
    } finally {
      if (!nested) this.leave(name);
      this.currentContextId = savedContext;
      this.currentCallback = nested ? savedCallback : 'idle';
    }
    const r = typeof result === 'number' ? result : undefined;
    if (opts.trace !== false) {
      const entry: CallbackTrace = { callback: name, args };
      if (r !== undefined) entry.result = r;
      this.trace.push(entry);
    }
    return r;
  }

  log(level: number, message: string): void {
    this.logs.push({ level: LOG_LEVELS[level] ?? 'critical', message, contextId: this.currentContextId, callback: this.currentCallback });
  }

  // --- VM and root context ---

  /** _initialize/_start, then the root context: on_context_create, on_vm_start, on_configure. */
  start(): void {
    if (this.hasExport('_initialize')) {
      this.call('_initialize', [], { contextId: this.rootContextId });
      if (this.hasExport('main')) this.call('main', [0, 0], { contextId: this.rootContextId });
      else if (this.hasExport('__main_void')) this.call('__main_void', [], { contextId: this.rootContextId });
    } else if (this.hasExport('_start')) {
      this.call('_start', [], { contextId: this.rootContextId });
    }
    this.call('proxy_on_context_create', [this.rootContextId, 0], { contextId: this.rootContextId });
    const vmConfig = this.options.vmConfig ?? new Uint8Array(0);
    const started = this.hasExport('proxy_on_vm_start') ? this.call('proxy_on_vm_start', [this.rootContextId, vmConfig.length], { contextId: this.rootContextId }) : 1;
    this.vmStarted = started !== 0;
    this.drain();
    if (!this.vmStarted) {
      throw new WasmOciError('E_WASM_TRAP', 'proxy_on_vm_start returned false: Envoy fails the VM ("Failed to start base Wasm")', { details: { kind: 'vm_start', callback: 'proxy_on_vm_start' } });
    }
    const pluginConfig = this.options.pluginConfig ?? new Uint8Array(0);
    const configured = this.hasExport('proxy_on_configure') ? this.call('proxy_on_configure', [this.rootContextId, pluginConfig.length], { contextId: this.rootContextId }) : 1;
    this.configured = configured !== 0;
    this.drain();
    if (!this.configured) {
      throw new WasmOciError('E_WASM_TRAP', 'proxy_on_configure returned false: Envoy refuses the plugin configuration ("Failed to configure base Wasm plugin")', { details: { kind: 'configure', callback: 'proxy_on_configure' } });
    }
    const ticks = this.tickPeriodMs > 0 ? (this.options.ticks ?? 1) : 0;
    for (let i = 0; i < ticks; i++) this.tick();
  }

  tick(): void {
    this.ticks++;
    this.call('proxy_on_tick', [this.rootContextId], { contextId: this.rootContextId });
    this.drain();
  }

  /** Delivers what the last callback caused: http call responses, queue-ready (in that order). */
  drain(): void {
    for (let guard = 0; guard < 1000 && (this.pendingHttpCalls.length > 0 || this.pendingQueueReady.length > 0); guard++) {
      const call = this.pendingHttpCalls.shift();
      if (call !== undefined) {
        this.deliverHttpCall(call);
        continue;
      }
      const q = this.pendingQueueReady.shift()!;
      this.call('proxy_on_queue_ready', [q.ownerContextId, q.token], { contextId: q.ownerContextId });
    }
  }

  private deliverHttpCall(call: HttpCallRecord): void {
    const i = this.stubs.findIndex((s) => s.upstream === undefined || s.upstream === call.upstream);
    const stub = i < 0 ? undefined : this.stubs.splice(i, 1)[0];
    if (stub === undefined) {
      // No answer given: deliver what Envoy delivers on a failed call (AsyncClient onFailure):
      // no headers, no body.
      this.httpCallResponse = { headers: new HeaderMap(), body: new Uint8Array(0), trailers: new HeaderMap() };
      this.call('proxy_on_http_call_response', [call.contextId, call.token, 0, 0, 0], { contextId: call.contextId });
    } else {
      const headers = new HeaderMap([[':status', String(stub.status)], ...(stub.headers ?? [])]);
      const body = encoder.encode(stub.body ?? '');
      this.httpCallResponse = { headers, body, trailers: new HeaderMap() };
      call.response = { status: stub.status, headers: headers.pairs(), body: stub.body ?? '' };
      this.call('proxy_on_http_call_response', [call.contextId, call.token, headers.size, body.length, 0], { contextId: call.contextId });
    }
    this.httpCallResponse = undefined;
  }

  // --- streams ---

  private makePropertyInputs(request: HeaderMap, stream?: StreamContext): PropertyInputs {
    const inputs: PropertyInputs = {
      request: {
        method: request.get(':method') ?? '',
        path: request.get(':path') ?? '',
        authority: request.get(':authority') ?? '',
        scheme: request.get(':scheme') ?? 'http',
        protocol: 'HTTP/1.1',
        headers: request,
      },
      plugin: { name: this.options.pluginName ?? this.rootId, rootId: this.rootId, vmId: this.vmId },
      source: { address: '127.0.0.1', port: 54321 },
      destination: { address: '127.0.0.1', port: 8080 },
      node: { id: 'sidecar~127.0.0.1~wasm-oci-run.default~default.svc.cluster.local', cluster: 'wasm-oci-run.default', metadata: {} },
      clusterName: 'outbound|8080||upstream',
      routeName: 'default',
      connectionId: 1,
    };
    if (stream?.responseHeaders !== undefined) {
      inputs.response = { status: Number(stream.responseHeaders.get(':status') ?? 0), headers: stream.responseHeaders };
      if (stream.responseTrailers !== undefined) inputs.response.trailers = stream.responseTrailers;
    }
    return inputs;
  }

  property(segments: string[]): Uint8Array | undefined {
    const stream = this.streams.get(this.currentContextId);
    const inputs = stream === undefined ? this.propertyInputs : this.makePropertyInputs(stream.requestHeaders, stream);
    return getProperty(segments, inputs, this.propertyOverrides);
  }

  /** Runs one HTTP exchange through a new stream context; the upstream answers with `response`. */
  runStream(request: HttpRequestInput, response: HttpResponseInput): StreamOutcome {
    const id = this.nextContextId++;
    const headers = new HeaderMap([
      [':method', request.method],
      [':scheme', request.scheme ?? 'http'],
      [':authority', request.authority],
      [':path', request.path],
      ...(request.headers ?? []),
    ]);
    const s = new StreamContext(id, headers);
    this.streams.set(id, s);
    const outcome: StreamOutcome = { contextId: id };
    this.call('proxy_on_context_create', [id, this.rootContextId], { contextId: id });
    this.drain();

    const upstream = this.requestPath(s, request);
    if (upstream !== undefined) outcome.upstream = upstream;
    if (s.localReply !== undefined) {
      outcome.localReply = s.localReply;
      outcome.client = this.responsePath(s, {
        status: s.localReply.status,
        headers: s.localReply.headers,
        body: s.localReply.body === '' ? [] : [s.localReply.body],
      }, true);
    } else if (upstream !== undefined) {
      outcome.client = this.responsePath(s, response, false);
      if (s.localReply !== undefined) outcome.localReply = s.localReply;
    }
    if (s.closed !== undefined) outcome.stopped = s.closed;
    else if (outcome.client === undefined && outcome.stopped === undefined) outcome.stopped = this.stoppedReason ?? 'the filter stopped the stream and never resumed it';
    this.stoppedReason = undefined;

    const done = this.call('proxy_on_done', [id], { contextId: id });
    void done;
    this.call('proxy_on_log', [id], { contextId: id });
    this.call('proxy_on_delete', [id], { contextId: id });
    this.drain();
    this.streams.delete(id);
    return outcome;
  }

  private stoppedReason: string | undefined;

  /** Applies a local reply sent during the last callback (cpp-host defers it to after the call). */
  private applyLocalReply(s: StreamContext): boolean {
    if (s.pendingLocalReply !== undefined && s.localReply === undefined) {
      s.localReply = s.pendingLocalReply;
      s.pendingLocalReply = undefined;
    }
    return s.localReply !== undefined;
  }

  private headersCall(s: StreamContext, callback: 'proxy_on_request_headers' | 'proxy_on_response_headers', count: number, endOfStream: boolean): number {
    const args = this.abiVersion === '0.1.0' ? [s.id, count] : [s.id, count, endOfStream ? 1 : 0];
    const r = this.call(callback, args, { contextId: s.id }) ?? 0;
    this.annotate(HEADERS_STATUS, r);
    return r;
  }

  private annotate(table: readonly string[], r: number): void {
    const last = this.trace[this.trace.length - 1];
    if (last !== undefined) last.status = statusName(table, r);
  }

  /** Waits for a resume: delivers pending calls; true when the filter continued the direction. */
  private waitForResume(s: StreamContext, direction: 'request' | 'response'): boolean {
    this.drain();
    return direction === 'request' ? s.requestResumed : s.responseResumed;
  }

  private requestPath(s: StreamContext, request: HttpRequestInput): HttpMessage | undefined {
    const chunks = request.body ?? [];
    const trailers = request.trailers ?? [];
    const endAfterHeaders = chunks.length === 0 && trailers.length === 0;
    s.requestResumed = false;
    const r = this.headersCall(s, 'proxy_on_request_headers', s.requestHeaders.size, endAfterHeaders);
    if (this.applyLocalReply(s)) return undefined;
    if (r !== 0 && r !== 2) {
      const resumed = this.waitForResume(s, 'request');
      if (this.applyLocalReply(s)) return undefined;
      if (!resumed) {
        this.stoppedReason = `proxy_on_request_headers returned ${statusName(HEADERS_STATUS, r)} and the filter never resumed the request`;
        return undefined;
      }
    }
    if (s.closed !== undefined) return undefined;
    const sent = this.bodyPath(s, 'request', chunks, trailers.length === 0);
    if (sent === undefined) return undefined;
    if (trailers.length > 0) {
      s.requestTrailers = new HeaderMap(trailers);
      s.requestResumed = false;
      const t = this.call('proxy_on_request_trailers', [s.id, s.requestTrailers.size], { contextId: s.id }) ?? 0;
      this.annotate(TRAILERS_STATUS, t);
      if (this.applyLocalReply(s)) return undefined;
      if (t !== 0 && !this.waitForResume(s, 'request')) {
        this.stoppedReason = 'proxy_on_request_trailers returned StopIteration and the filter never resumed the request';
        return undefined;
      }
    }
    return { headers: s.requestHeaders.pairs(), body: sent, trailers: s.requestTrailers?.pairs() ?? [] };
  }

  /**
   * Body chunks through proxy_on_*_body. Continue passes the buffer on; StopIterationAndBuffer
   * keeps it, and the next call sees it with the new chunk appended (Envoy buffering).
   * Returns what went through, or undefined when the stream ended here.
   */
  private bodyPath(s: StreamContext, direction: 'request' | 'response', chunks: string[], lastIsEnd: boolean): string | undefined {
    const callback = direction === 'request' ? 'proxy_on_request_body' : 'proxy_on_response_body';
    let passed: Uint8Array = new Uint8Array(0);
    let buffered: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < chunks.length; i++) {
      const end = lastIsEnd && i === chunks.length - 1;
      buffered = concat(buffered, encoder.encode(chunks[i]!));
      if (direction === 'request') s.requestBody = buffered;
      else s.responseBody = buffered;
      if (direction === 'request') s.requestResumed = false;
      else s.responseResumed = false;
      const r = this.call(callback, [s.id, buffered.length, end ? 1 : 0], { contextId: s.id }) ?? 0;
      this.annotate(DATA_STATUS, r);
      // The filter may have rewritten the buffer (proxy_set_buffer_bytes).
      buffered = direction === 'request' ? s.requestBody : s.responseBody;
      if (direction === 'request' && this.applyLocalReply(s)) return undefined;
      if (r === 0) {
        passed = concat(passed, buffered);
        buffered = new Uint8Array(0);
      } else if (end) {
        if (this.waitForResume(s, direction)) {
          buffered = direction === 'request' ? s.requestBody : s.responseBody;
          passed = concat(passed, buffered);
          buffered = new Uint8Array(0);
        } else {
          this.stoppedReason = `${callback} returned ${statusName(DATA_STATUS, r)} at end of stream and the filter never resumed`;
          return undefined;
        }
      }
    }
    if (buffered.length > 0) passed = concat(passed, buffered);
    if (direction === 'request') s.requestBody = new Uint8Array(0);
    else s.responseBody = new Uint8Array(0);
    return decoder.decode(passed);
  }

  private responsePath(s: StreamContext, response: HttpResponseInput, local: boolean): HttpMessage | undefined {
    const chunks = response.body ?? [];
    const trailers = response.trailers ?? [];
    const extra = [...(response.headers ?? [])];
    if (chunks.length > 0 && !extra.some(([k]) => k.toLowerCase() === 'content-length')) {
      extra.push(['content-length', String(chunks.reduce((n, c) => n + encoder.encode(c).length, 0))]);
    }
    s.responseHeaders = new HeaderMap([[':status', String(response.status)], ...extra]);
    s.responseResumed = false;
    const r = this.headersCall(s, 'proxy_on_response_headers', s.responseHeaders.size, chunks.length === 0 && trailers.length === 0);
    if (!local && this.applyLocalReply(s)) {
      return this.responsePath(s, { status: s.localReply!.status, headers: s.localReply!.headers, body: s.localReply!.body === '' ? [] : [s.localReply!.body] }, true);
    }
    if (r !== 0 && r !== 2 && !this.waitForResume(s, 'response')) {
      this.stoppedReason = `proxy_on_response_headers returned ${statusName(HEADERS_STATUS, r)} and the filter never resumed the response`;
      return undefined;
    }
    const body = this.bodyPath(s, 'response', chunks, trailers.length === 0);
    if (body === undefined) return undefined;
    if (trailers.length > 0) {
      s.responseTrailers = new HeaderMap(trailers);
      const t = this.call('proxy_on_response_trailers', [s.id, s.responseTrailers.size], { contextId: s.id }) ?? 0;
      this.annotate(TRAILERS_STATUS, t);
      if (t !== 0 && !this.waitForResume(s, 'response')) {
        this.stoppedReason = 'proxy_on_response_trailers returned StopIteration and the filter never resumed the response';
        return undefined;
      }
    }
    return { headers: s.responseHeaders.pairs(), body, trailers: s.responseTrailers?.pairs() ?? [] };
  }

  // --- what host calls act on ---

  currentStream(): StreamContext | undefined {
    return this.streams.get(this.currentContextId);
  }

  headerMap(type: number): HeaderMap | undefined {
    if (type === MapType.HttpCallResponseHeaders) return this.httpCallResponse?.headers;
    if (type === MapType.HttpCallResponseTrailers) return this.httpCallResponse?.trailers;
    const s = this.currentStream();
    if (s === undefined) return undefined;
    switch (type) {
      case MapType.HttpRequestHeaders: return s.requestHeaders;
      case MapType.HttpRequestTrailers: return (s.requestTrailers ??= new HeaderMap());
      case MapType.HttpResponseHeaders: return s.responseHeaders;
      case MapType.HttpResponseTrailers: return s.responseHeaders === undefined ? undefined : (s.responseTrailers ??= new HeaderMap());
      default: return undefined;
    }
  }

  buffer(type: number): Uint8Array | undefined {
    const s = this.currentStream();
    switch (type) {
      case BufferType.HttpRequestBody: return s?.requestBody;
      case BufferType.HttpResponseBody: return s?.responseBody;
      case BufferType.HttpCallResponseBody: return this.httpCallResponse?.body;
      case BufferType.VmConfiguration: return this.options.vmConfig ?? new Uint8Array(0);
      case BufferType.PluginConfiguration: return this.options.pluginConfig ?? new Uint8Array(0);
      default: return undefined;
    }
  }

  setBuffer(type: number, value: Uint8Array): boolean {
    const s = this.currentStream();
    if (s === undefined) return false;
    if (type === BufferType.HttpRequestBody) s.requestBody = value;
    else if (type === BufferType.HttpResponseBody) s.responseBody = value;
    else return false;
    return true;
  }

  continueStream(type: number): boolean {
    const s = this.currentStream() ?? [...this.streams.values()].at(-1);
    if (s === undefined) return false;
    if (type === StreamType.Request) s.requestResumed = true;
    else if (type === StreamType.Response) s.responseResumed = true;
    else return false;
    return true;
  }

  closeStream(type: number): boolean {
    const s = this.currentStream();
    if (s === undefined) return false;
    s.closed = `the filter closed the ${type === StreamType.Request ? 'request' : 'response'} stream (proxy_close_stream)`;
    return true;
  }

  sendLocalReply(reply: Omit<LocalReply, 'callback'>): boolean {
    const s = this.currentStream() ?? [...this.streams.values()].at(-1);
    if (s === undefined || s.localReply !== undefined) return false;
    s.pendingLocalReply = { ...reply, callback: this.currentCallback };
    return true;
  }

  /** The report (state.ts) of everything observed so far. */
  report(streams: StreamOutcome[] = []): HostReport {
    const properties: Record<string, string> = {};
    for (const [k, v] of this.propertyOverrides) properties[k] = decoder.decode(v);
    return {
      abiVersion: this.abiVersion,
      allocator: this.plan.allocator,
      rootId: this.rootId,
      vmId: this.vmId,
      vmStarted: this.vmStarted,
      configured: this.configured,
      logs: this.logs,
      metrics: [...this.metrics.values()].map((m) => ({ name: m.name, type: METRIC_TYPES[m.type] ?? 'counter', value: Number(m.value) })),
      sharedData: [...this.sharedData.entries()].map(([key, v]) => ({ key, value: decoder.decode(v.value), cas: v.cas })),
      queues: [...this.queues.values()].map((q) => ({ name: q.name, vmId: q.vmId, token: q.token, pending: q.items.map((i) => decoder.decode(i)) })),
      httpCalls: this.httpCalls,
      grpcCalls: this.grpcCalls,
      foreignCalls: this.foreignCalls,
      tickPeriodMs: this.tickPeriodMs,
      ticks: this.ticks,
      properties,
      trace: this.trace,
      streams,
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
