import { WasmOciError, isWasmOciError } from '../errors.js';
import { discardBody, headerValue, isReplayable, type HttpClient, type HttpRequest, type HttpResponse } from './http.js';

/** Time, injected so tests do not wait for real back-off delays. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new WasmOciError('E_CANCELLED', 'cancelled'));
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new WasmOciError('E_CANCELLED', 'cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the response is returned as is. */
  maxRetryAfterMs: number;
  /** [0, 1) source for jitter. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

export function resolveRetryPolicy(p: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) };
}

/** Status codes worth another attempt: timeouts, rate limits and server failures (not 501). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Full-jitter-ish exponential back-off: between half and all of base * 2^(retry-1), capped. */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + (exp / 2) * policy.random());
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  clock?: Clock;
  onDebug?: (line: string) => void;
}

/**
 * The one retry layer: network errors, 408, 429 (honouring Retry-After) and 5xx, with bounded
 * exponential back-off. A request whose body is a plain stream is never retried: it cannot be
 * sent again.
 */
export function createRetryingClient(inner: HttpClient, options: RetryOptions = {}): HttpClient {
  const policy = resolveRetryPolicy(options.policy);
  const clock = options.clock ?? systemClock;
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const replayable = req.once !== true && isReplayable(req.body);
      for (let attempt = 1; ; attempt++) {
        const last = !replayable || attempt >= policy.maxAttempts;
        let res: HttpResponse;
        try {
          res = await inner.request(req);
        } catch (err) {
          const retryable = isWasmOciError(err, 'E_NETWORK') && err.details?.['retryable'] === true;
          if (last || !retryable) throw err;
          const delay = backoffDelay(attempt, policy);
          options.onDebug?.(`retrying ${req.method} in ${delay} ms after: ${(err as Error).message}`);
          await clock.sleep(delay, req.signal);
          continue;
        }
        if (last || !isRetryableStatus(res.status)) return res;
        let delay = backoffDelay(attempt, policy);
        if (res.status === 429 || res.status === 503) {
          const after = parseRetryAfter(headerValue(res, 'retry-after'), clock.now());
          if (after !== undefined) {
            if (after > policy.maxRetryAfterMs) return res;
            delay = after;
          }
        }
        await discardBody(res.body);
        options.onDebug?.(`retrying ${req.method} in ${delay} ms after HTTP ${res.status}`);
        await clock.sleep(delay, req.signal);
      }
    },
    close: () => inner.close(),
  };
}
