import type { AgentClock } from '../../src/agent/clock.js';

interface Sleeper {
  until: number;
  ms: number;
  resolve: () => void;
}

/**
 * An AgentClock whose time moves only when a test says so. Every sleep is recorded (its length
 * and when it was asked for), so jitter and backoff are read off what the agent asked to wait.
 * `advance` walks time forward sleeper by sleeper and, after waking each, waits until the agent
 * is idle again (as many sleepers pending as `idleCount()` says), so file-system work in between
 * finishes before time moves on: a test sees what a real agent would after that much time.
 */
export class FakeClock implements AgentClock {
  private t: number;
  private pending: Sleeper[] = [];
  /** Every sleep asked for, in order: when, and for how long. */
  readonly sleeps: Array<{ at: number; ms: number }> = [];

  constructor(start = Date.UTC(2030, 0, 1), private idleCount: () => number = () => 0) {
    this.t = start;
  }

  /** How many sleepers make the agent idle (one per filter worker, one for the config loop). */
  setIdleCount(fn: () => number): void {
    this.idleCount = fn;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push({ at: this.t, ms });
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const s: Sleeper = { until: this.t + Math.max(0, ms), ms, resolve: () => undefined };
      const done = (): void => {
        this.pending = this.pending.filter((p) => p !== s);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      s.resolve = done;
      this.pending.push(s);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Sleepers pending now. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Resolves once the agent is idle: `idleCount()` sleepers pending (real time, bounded). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // A few turns of the event loop with the count reached, so a sleeper that wakes and sleeps
    // again at once (a zero delay) is not mistaken for a settled one.
    let stable = 0;
    while (stable < 3) {
      if (Date.now() > deadline) throw new Error(`fake clock: the agent did not go idle within ${timeoutMs} ms (${this.pending.length} sleepers pending, ${this.idleCount()} expected)`);
      await new Promise((r) => setTimeout(r, 2));
      stable = this.pending.length === this.idleCount() ? stable + 1 : 0;
    }
  }

  /** Moves time forward by `ms`, waking sleepers in the order they are due, idling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.until <= target).sort((a, b) => a.until - b.until);
      if (due.length === 0) break;
      this.t = Math.max(this.t, due[0]!.until);
      for (const s of this.pending.filter((p) => p.until <= this.t)) s.resolve();
      await this.idle();
    }
    this.t = target;
  }

  /** Sleeps asked for since index `from` (for reading the delays of one phase of a test). */
  sleepsSince(from: number): Array<{ at: number; ms: number }> {
    return this.sleeps.slice(from);
  }
}
