/**
 * The implementations of every host function in abi.ts, keyed `module.name`. Behaviour follows
 * proxy-wasm-cpp-host src/exports.cc (argument checks, what is written where, the WasmResult
 * returned) and, for what cpp-host delegates to the embedder, Envoy
 * source/extensions/common/wasm/context.cc. A memory fault in a host call is InvalidMemoryAccess
 * (cpp-host returns it when getMemory/setWord fail), never a host crash.
 */
import { randomFillSync } from 'node:crypto';
import { HOST_FUNCTIONS } from './abi.js';
import { LOG_LEVELS, WasmResult } from './abi-enums.js';
import { deserializePairs, serializePairs, type HeaderMap } from './headers.js';
import type { HostImplementation } from './link.js';
import type { ProxyWasmHost } from './lifecycle.js';
import { InvalidMemoryAccess } from './memory.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** WASI errno values (wasi_snapshot_preview1 `errno`). */
const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOSYS: 52, NOTSUP: 58, NOTCAPABLE: 76 } as const;

class ProcExit extends Error {
  readonly procExit: number;
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.procExit = code;
  }
}

type Impl = (...args: number[]) => number | void;

/** Wraps a proxy_* implementation: memory faults become InvalidMemoryAccess. */
function guarded(host: ProxyWasmHost, fn: Impl): Impl {
  return (...args: number[]) => {
    try {
      const r = fn(...args);
      host.checkMemoryCap(host.currentCallback);
      return r;
    } catch (err) {
      if (err instanceof InvalidMemoryAccess) return WasmResult.InvalidMemoryAccess;
      throw err;
    }
  };
}

export function hostImplementations(host: ProxyWasmHost): Map<string, HostImplementation> {
  const m = () => host.memory;
  const str = (ptr: number, len: number): string => m().readString(ptr, len);
  const bytes = (ptr: number, len: number): Uint8Array => m().read(ptr, len);

  const headerOp = (type: number, fn: (map: HeaderMap) => number): number => {
    const map = host.headerMap(type);
    if (map === undefined) return WasmResult.BadArgument;
    return fn(map);
  };

  const proxy: Record<string, Impl> = {
    log: (level, ptr, size) => {
      if (level > LOG_LEVELS.length - 1) return WasmResult.BadArgument;
      host.log(level, str(ptr, size));
      return WasmResult.Ok;
    },
    get_log_level: (ptr) => {
      m().writeU32(ptr, LOG_LEVELS.indexOf(host.options.logLevel ?? 'trace'));
      return WasmResult.Ok;
    },
    get_status: (codePtr, msgPtrPtr, msgSizePtr) => {
      m().writeU32(codePtr, 0);
      m().copyOut('', msgPtrPtr, msgSizePtr);
      return WasmResult.Ok;
    },
    get_configuration: (ptrPtr, sizePtr) => {
      m().copyOut(host.options.pluginConfig ?? new Uint8Array(0), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    get_property: (pathPtr, pathSize, valuePtrPtr, valueSizePtr) => {
      const segments = str(pathPtr, pathSize).split('\0').filter((s) => s !== '');
      const value = host.property(segments);
      if (value === undefined) return WasmResult.NotFound;
      m().copyOut(value, valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    },
    set_property: (keyPtr, keySize, valuePtr, valueSize) => {
      const key = str(keyPtr, keySize).split('\0').filter((s) => s !== '').join('.');
      host.propertyOverrides.set(key, bytes(valuePtr, valueSize));
      return WasmResult.Ok;
    },
    continue_request: () => (host.continueStream(0) ? WasmResult.Ok : WasmResult.NotFound),
    continue_response: () => (host.continueStream(1) ? WasmResult.Ok : WasmResult.NotFound),
    continue_stream: (type) => (host.continueStream(type) ? WasmResult.Ok : WasmResult.BadArgument),
    close_stream: (type) => (host.closeStream(type) ? WasmResult.Ok : WasmResult.BadArgument),
    clear_route_cache: () => WasmResult.Ok,
    send_local_response: (status, detailsPtr, detailsSize, bodyPtr, bodySize, headersPtr, headersSize, grpcStatus) => {
      const headers = deserializePairs(bytes(headersPtr, headersSize));
      if (headers === undefined) return WasmResult.BadArgument;
      const ok = host.sendLocalReply({
        status,
        details: str(detailsPtr, detailsSize),
        body: str(bodyPtr, bodySize),
        headers: headers.map(([k, v]) => [k.toLowerCase(), v]),
        grpcStatus: grpcStatus | 0,
      });
      return ok ? WasmResult.Ok : WasmResult.BadArgument;
    },
    get_shared_data: (keyPtr, keySize, valuePtrPtr, valueSizePtr, casPtr) => {
      const entry = host.sharedData.get(`${host.vmId}\0${str(keyPtr, keySize)}`);
      if (entry === undefined) return WasmResult.NotFound;
      m().copyOut(entry.value, valuePtrPtr, valueSizePtr);
      m().writeU32(casPtr, entry.cas);
      return WasmResult.Ok;
    },
    set_shared_data: (keyPtr, keySize, valuePtr, valueSize, cas) => {
      // cpp-host src/shared_data.cc SharedData::set: a non-zero cas must match; cas counts up.
      const key = `${host.vmId}\0${str(keyPtr, keySize)}`;
      const entry = host.sharedData.get(key);
      if (cas !== 0 && (entry === undefined || entry.cas !== cas)) return WasmResult.CasMismatch;
      host.sharedData.set(key, { value: bytes(valuePtr, valueSize), cas: (entry?.cas ?? 0) + 1 });
      return WasmResult.Ok;
    },
    register_shared_queue: (namePtr, nameSize, tokenPtr) => {
      const name = str(namePtr, nameSize);
      const existing = [...host.queues.values()].find((q) => q.name === name && q.vmId === host.vmId);
      const token = existing?.token ?? host.nextToken++;
      if (existing === undefined) host.queues.set(token, { name, vmId: host.vmId, token, ownerContextId: host.currentContextId || host.rootContextId, items: [] });
      m().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    resolve_shared_queue: (vmIdPtr, vmIdSize, namePtr, nameSize, tokenPtr) => {
      const vmId = str(vmIdPtr, vmIdSize);
      const name = str(namePtr, nameSize);
      const q = [...host.queues.values()].find((x) => x.name === name && x.vmId === vmId);
      if (q === undefined) return WasmResult.NotFound;
      m().writeU32(tokenPtr, q.token);
      return WasmResult.Ok;
    },
    enqueue_shared_queue: (token, dataPtr, dataSize) => {
      const q = host.queues.get(token);
      if (q === undefined) return WasmResult.NotFound;
      q.items.push(bytes(dataPtr, dataSize));
      host.pendingQueueReady.push(q);
      return WasmResult.Ok;
    },
    dequeue_shared_queue: (token, dataPtrPtr, dataSizePtr) => {
      const q = host.queues.get(token);
      if (q === undefined) return WasmResult.NotFound;
      const item = q.items.shift();
      if (item === undefined) return WasmResult.Empty;
      m().copyOut(item, dataPtrPtr, dataSizePtr);
      return WasmResult.Ok;
    },
    get_header_map_value: (type, keyPtr, keySize, valuePtrPtr, valueSizePtr) => headerOp(type, (map) => {
      const v = map.get(str(keyPtr, keySize));
      if (v === undefined) return WasmResult.NotFound;
      m().copyOut(v, valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    }),
    add_header_map_value: (type, keyPtr, keySize, valuePtr, valueSize) => headerOp(type, (map) => {
      map.add(str(keyPtr, keySize), str(valuePtr, valueSize));
      return WasmResult.Ok;
    }),
    replace_header_map_value: (type, keyPtr, keySize, valuePtr, valueSize) => headerOp(type, (map) => {
      map.replace(str(keyPtr, keySize), str(valuePtr, valueSize));
      return WasmResult.Ok;
    }),
    remove_header_map_value: (type, keyPtr, keySize) => headerOp(type, (map) => {
      map.remove(str(keyPtr, keySize));
      return WasmResult.Ok;
    }),
    get_header_map_pairs: (type, ptrPtr, sizePtr) => headerOp(type, (map) => {
      m().copyOut(serializePairs(map.pairs()), ptrPtr, sizePtr);
      return WasmResult.Ok;
    }),
    set_header_map_pairs: (type, ptr, size) => headerOp(type, (map) => {
      const pairs = deserializePairs(bytes(ptr, size));
      if (pairs === undefined) return WasmResult.BadArgument;
      map.setPairs(pairs);
      return WasmResult.Ok;
    }),
    get_header_map_size: (type, resultPtr) => headerOp(type, (map) => {
      m().writeU32(resultPtr, serializePairs(map.pairs()).length);
      return WasmResult.Ok;
    }),
    get_buffer_status: (type, lengthPtr, flagsPtr) => {
      const b = host.buffer(type);
      if (b === undefined) return WasmResult.NotFound;
      m().writeU32(lengthPtr, b.length);
      m().writeU32(flagsPtr, 0);
      return WasmResult.Ok;
    },
    get_buffer_bytes: (type, start, length, ptrPtr, sizePtr) => {
      // cpp-host exports.cc get_buffer_bytes: a read past the end is cut, a start past the end
      // reads nothing; nothing read writes 0 to both pointers and is Ok (copyOut does that for an
      // empty slice). Its overflow check (start + length wrapping) cannot trip on 32-bit Words.
      const b = host.buffer(type);
      if (b === undefined) return WasmResult.NotFound;
      m().copyOut(start > b.length ? new Uint8Array(0) : b.subarray(start, Math.min(b.length, start + length)), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    set_buffer_bytes: (type, start, length, dataPtr, dataSize) => {
      // Envoy context.cc BufferWrapper::copyFrom: start 0 drains `length` bytes and prepends the
      // data (start 0, length = size replaces all); start at or past the end appends; else BadArgument.
      const b = host.buffer(type);
      if (b === undefined) return WasmResult.NotFound;
      const data = bytes(dataPtr, dataSize);
      let next: Uint8Array;
      if (start === 0) {
        const rest = b.subarray(Math.min(length, b.length));
        next = new Uint8Array(data.length + rest.length);
        next.set(data);
        next.set(rest, data.length);
      } else if (start >= b.length) {
        next = new Uint8Array(b.length + data.length);
        next.set(b);
        next.set(data, b.length);
      } else {
        return WasmResult.BadArgument;
      }
      return host.setBuffer(type, next) ? WasmResult.Ok : WasmResult.BadArgument;
    },
    http_call: (uriPtr, uriSize, headersPtr, headersSize, bodyPtr, bodySize, trailersPtr, trailersSize, timeoutMs, tokenPtr) => {
      const headers = deserializePairs(bytes(headersPtr, headersSize));
      const trailers = deserializePairs(bytes(trailersPtr, trailersSize));
      if (headers === undefined || trailers === undefined) return WasmResult.BadArgument;
      // Envoy Context::httpCall: :method, :path and :authority are required.
      for (const required of [':method', ':path', ':authority']) {
        if (!headers.some(([k]) => k === required)) {
          host.log(4, `wasm-oci host: proxy_http_call without ${required} is refused by Envoy (BadArgument)`);
          return WasmResult.BadArgument;
        }
      }
      const token = host.nextToken++;
      const record = {
        token,
        upstream: str(uriPtr, uriSize),
        headers,
        body: str(bodyPtr, bodySize),
        trailers,
        timeoutMs,
        contextId: host.currentContextId,
      };
      host.httpCalls.push(record);
      host.pendingHttpCalls.push(record);
      m().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    grpc_call: (svcPtr, svcSize, namePtr, nameSize, methodPtr, methodSize, mdPtr, mdSize, reqPtr, reqSize, _timeout, tokenPtr) => {
      const token = host.nextToken++;
      host.grpcCalls.push({
        token, kind: 'call', service: str(svcPtr, svcSize), serviceName: str(namePtr, nameSize), method: str(methodPtr, methodSize),
        initialMetadata: deserializePairs(bytes(mdPtr, mdSize)) ?? [], message: str(reqPtr, reqSize), contextId: host.currentContextId,
      });
      m().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    grpc_stream: (svcPtr, svcSize, namePtr, nameSize, methodPtr, methodSize, mdPtr, mdSize, tokenPtr) => {
      const token = host.nextToken++;
      host.grpcCalls.push({
        token, kind: 'stream', service: str(svcPtr, svcSize), serviceName: str(namePtr, nameSize), method: str(methodPtr, methodSize),
        initialMetadata: deserializePairs(bytes(mdPtr, mdSize)) ?? [], message: '', contextId: host.currentContextId,
      });
      m().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    grpc_send: (token, msgPtr, msgSize) => {
      const call = host.grpcCalls.find((c) => c.token === token);
      if (call === undefined) return WasmResult.NotFound;
      call.message += str(msgPtr, msgSize);
      return WasmResult.Ok;
    },
    grpc_close: (token) => (host.grpcCalls.some((c) => c.token === token) ? WasmResult.Ok : WasmResult.NotFound),
    grpc_cancel: (token) => (host.grpcCalls.some((c) => c.token === token) ? WasmResult.Ok : WasmResult.NotFound),
    set_tick_period_milliseconds: (ms) => {
      host.tickPeriodMs = ms;
      return WasmResult.Ok;
    },
    get_current_time_nanoseconds: (ptr) => {
      m().writeU64(ptr, host.now());
      return WasmResult.Ok;
    },
    define_metric: (type, namePtr, nameSize, idPtr) => {
      if (type > 2) return WasmResult.BadArgument;
      const name = str(namePtr, nameSize);
      let id = [...host.metrics.entries()].find(([, v]) => v.name === name && v.type === type)?.[0];
      if (id === undefined) {
        id = host.metrics.size + 1;
        host.metrics.set(id, { name, type, value: 0n });
      }
      m().writeU32(idPtr, id);
      return WasmResult.Ok;
    },
    get_metric: (id, resultPtr) => {
      const metric = host.metrics.get(id);
      if (metric === undefined) return WasmResult.NotFound;
      m().writeU64(resultPtr, metric.value);
      return WasmResult.Ok;
    },
    set_effective_context: (id) => {
      if (id !== host.rootContextId && !host.streams.has(id)) return WasmResult.BadArgument;
      host.currentContextId = id;
      return WasmResult.Ok;
    },
    done: () => (host.pendingDone ? WasmResult.Ok : WasmResult.NotFound),
    call_foreign_function: (namePtr, nameSize, argPtr, argSize) => {
      host.foreignCalls.push({ name: str(namePtr, nameSize), argument: str(argPtr, argSize) });
      return WasmResult.NotFound;
    },
  };

  // i64 parameters arrive as BigInt (JS-API ToJSValue for i64).
  const metricOps: Record<string, HostImplementation> = {
    increment_metric: ((id: number, offset: bigint) => {
      const metric = host.metrics.get(id);
      if (metric === undefined) return WasmResult.NotFound;
      // Envoy Context::incrementMetric: a counter only counts up; a histogram cannot be incremented.
      if (metric.type === 0 && offset < 0n) return WasmResult.BadArgument;
      if (metric.type === 2) return WasmResult.BadArgument;
      metric.value += offset;
      return WasmResult.Ok;
    }) as HostImplementation,
    record_metric: ((id: number, value: bigint) => {
      const metric = host.metrics.get(id);
      if (metric === undefined) return WasmResult.NotFound;
      // Envoy Context::recordMetric: counter add, gauge set, histogram record (the last value kept here).
      metric.value = metric.type === 0 ? metric.value + BigInt.asUintN(64, value) : BigInt.asUintN(64, value);
      return WasmResult.Ok;
    }) as HostImplementation,
  };

  const now = (): bigint => host.now();
  const wasi: Record<string, HostImplementation> = {
    fd_write: ((fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      // cpp-host exports.cc wasi_unstable_fd_write: stdout logs at info, stderr at error.
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      let written = 0;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < iovsLen; i++) {
        const ptr = m().readU32(iovs + i * 8);
        const len = m().readU32(iovs + i * 8 + 4);
        parts.push(m().read(ptr, len));
        written += len;
      }
      const text = parts.map((p) => decoder.decode(p)).join('');
      if (text.length > 0) host.log(fd === 1 ? 2 : 4, text.replace(/\n$/, ''));
      m().writeU32(nwrittenPtr, written);
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    fd_read: (() => ERRNO.NOSYS) as HostImplementation,
    fd_seek: (() => ERRNO.NOSYS) as HostImplementation,
    fd_close: (() => ERRNO.NOSYS) as HostImplementation,
    fd_fdstat_get: ((fd: number, statPtr: number) => {
      // cpp-host: fds 1 and 2 are character devices with write rights; others EBADF.
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      m().write(statPtr, new Uint8Array(24));
      m().write(statPtr, new Uint8Array([2]));
      m().writeU64(statPtr + 8, 64n); // fd_write right
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    fd_fdstat_set_flags: (() => ERRNO.NOSYS) as HostImplementation,
    environ_get: ((arrayPtr: number, bufPtr: number) => {
      let p = bufPtr;
      Object.entries(host.options.env ?? {}).forEach(([k, v], i) => {
        const b = encoder.encode(`${k}=${v}\0`);
        m().writeU32(arrayPtr + i * 4, p);
        m().write(p, b);
        p += b.length;
      });
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    environ_sizes_get: ((countPtr: number, sizePtr: number) => {
      const entries = Object.entries(host.options.env ?? {});
      m().writeU32(countPtr, entries.length);
      m().writeU32(sizePtr, entries.reduce((n, [k, v]) => n + encoder.encode(`${k}=${v}\0`).length, 0));
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    args_get: (() => ERRNO.SUCCESS) as HostImplementation,
    args_sizes_get: ((argcPtr: number, sizePtr: number) => {
      m().writeU32(argcPtr, 0);
      m().writeU32(sizePtr, 0);
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    clock_time_get: ((clockId: number, _precision: bigint, resultPtr: number) => {
      // cpp-host: realtime (0) and monotonic (1); others EINVAL... ENOTSUP.
      if (clockId !== 0 && clockId !== 1) return ERRNO.NOTSUP;
      m().writeU64(resultPtr, clockId === 0 ? now() : process.hrtime.bigint());
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    clock_res_get: ((clockId: number, resultPtr: number) => {
      if (clockId !== 0 && clockId !== 1) return ERRNO.NOTSUP;
      m().writeU64(resultPtr, 1n);
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    random_get: ((ptr: number, len: number) => {
      const b = new Uint8Array(len);
      randomFillSync(b);
      m().write(ptr, b);
      return ERRNO.SUCCESS;
    }) as HostImplementation,
    sched_yield: (() => ERRNO.SUCCESS) as HostImplementation,
    poll_oneoff: (() => ERRNO.NOSYS) as HostImplementation,
    proc_exit: ((code: number) => {
      throw new ProcExit(code);
    }) as HostImplementation,
    fd_prestat_get: (() => ERRNO.BADF) as HostImplementation,
    fd_prestat_dir_name: (() => ERRNO.NOSYS) as HostImplementation,
  };

  const emscripten: Record<string, HostImplementation> = {
    pthread_equal: ((a: number, b: number) => (a === b ? 1 : 0)) as HostImplementation,
    emscripten_notify_memory_growth: (() => undefined) as HostImplementation,
  };

  const out = new Map<string, HostImplementation>();
  for (const f of HOST_FUNCTIONS) {
    const key = `${f.module}.${f.name}`;
    let impl: HostImplementation | undefined;
    if (f.group === 'proxy') {
      const short = f.name.slice('proxy_'.length);
      impl = metricOps[short] ?? (proxy[short] === undefined ? undefined : (guarded(host, proxy[short]) as HostImplementation));
    } else if (f.group === 'wasi') {
      // The rest of cpp-host's list (files, sockets, paths): a proxy-wasm plugin has none, so
      // they answer as cpp-host's implementations do, with an errno (ENOSYS / EBADF).
      const w = wasi[f.name] ?? ((() => ERRNO.NOSYS) as HostImplementation);
      // A memory fault in a WASI call is EFAULT (21), not a crash of the host.
      impl = ((...args: never[]) => {
        try {
          return (w as (...a: never[]) => number | void)(...args);
        } catch (err) {
          if (err instanceof InvalidMemoryAccess) return 21;
          throw err;
        }
      }) as HostImplementation;
    } else {
      impl = emscripten[f.name];
    }
    if (impl === undefined) throw new Error(`no implementation for ${key}`);
    out.set(key, impl);
  }
  return out;
}
