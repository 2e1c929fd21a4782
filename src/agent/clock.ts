/** Time as the agent sees it: injected, so tests drive intervals and backoff without waiting. */
export interface AgentClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemAgentClock: AgentClock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

/**
 * The delay before the next check of a filter that is in place: the interval shortened by up
 * to `jitter` of itself, at random. Only ever shorter, so a change is still seen within one
 * interval, while a thousand agents started together drift apart instead of asking together.
 */
export function jitteredInterval(intervalMs: number, jitter: number, random: () => number): number {
  return Math.round(intervalMs * (1 - jitter * random()));
}

/**
 * The delay after the `failures`-th failure in a row: doubling from `initialMs` up to `maxMs`,
 * with "equal jitter" (half fixed, half random: AWS architecture blog, "Exponential Backoff And
 * Jitter"), so retries of many nodes after one outage spread out but never come sooner than half
 * the nominal delay.
 */
export function backoffDelay(failures: number, initialMs: number, maxMs: number, random: () => number): number {
  const nominal = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(nominal / 2 + (nominal / 2) * random());
}
