import type { Ora } from 'ora';
import { ANNOTATIONS } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { CliContext } from './context.js';

export function describeBlob(desc: Descriptor): string {
  return desc.annotations?.[ANNOTATIONS.title] ?? `${desc.digest.slice(0, 19)} (${desc.mediaType})`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** `12.3 MiB/s`; a transfer that took no measurable time shows its size over one millisecond. */
export function formatRate(bytes: number, ms: number): string {
  return `${formatBytes(Math.round(bytes / (Math.max(ms, 1) / 1000)))}/s`;
}

/** The progress line of one blob: `Uploading plugin.wasm  1.2 MiB / 3.8 MiB  45.0 MiB/s`. */
export function progressLine(verb: string, desc: Descriptor, done: number, ms: number): string {
  return `${verb} ${describeBlob(desc)}  ${formatBytes(done)} / ${formatBytes(desc.size)}  ${formatRate(done, ms)}`;
}

interface Active {
  desc: Descriptor;
  done: number;
  started: number;
}

export interface TransferDisplayOptions {
  /** Verb of a finished blob's line; derived from the progress verb (`Uploading` -> `Uploaded`) when absent. */
  doneVerb?: string;
  /**
   * Persist a blob's done line as soon as its progress reaches its size, for callers that have no
   * per-blob completion callback (pull). Callers that call onDone pass false: an upload that has
   * sent every byte can still be refused by the final PUT, and a done mark would then be a lie.
   */
  doneOnFullSize?: boolean;
  /** Injected clock, for tests. */
  now?: () => number;
}

const RENDER_INTERVAL_MS = 100;

/** `Uploading` -> `Uploaded`, `Copying` -> `Copied`, `Downloading` -> `Downloaded`. */
export function pastTense(verb: string): string {
  if (verb.endsWith('ying')) return `${verb.slice(0, -4)}ied`;
  if (verb.endsWith('ing')) return `${verb.slice(0, -3)}ed`;
  return verb;
}

/**
 * Transfer progress on stderr, only when interactive: one ora spinner whose text lists each
 * active blob (name, bytes done / total, rate); each finished blob is persisted as a done line
 * (`✓ Uploaded  plugin.wasm  3.8 MiB  45.0 MiB/s`). Non-interactive runs get nothing from here.
 */
export class TransferDisplay {
  private readonly ctx: CliContext;
  private spinner?: Ora;
  private readonly active = new Map<string, Active>();
  private readonly finished = new Set<string>();
  private lastRender = 0;
  /** What the spinner says when no blob is moving. */
  private stepText = '';
  private readonly verb: string;
  private readonly doneVerb: string;
  private readonly doneOnFullSize: boolean;
  private readonly now: () => number;

  private constructor(ctx: CliContext, verb: string, options: TransferDisplayOptions) {
    this.ctx = ctx;
    this.verb = verb;
    this.doneVerb = options.doneVerb ?? pastTense(verb);
    this.doneOnFullSize = options.doneOnFullSize ?? true;
    this.now = options.now ?? Date.now;
  }

  static async create(ctx: CliContext, verb: string, text: string, options: TransferDisplayOptions = {}): Promise<TransferDisplay> {
    const d = new TransferDisplay(ctx, verb, options);
    d.stepText = text;
    if (ctx.interactive) {
      // ora is loaded only on a terminal: scripts and CI never pay for it.
      const { default: ora } = await import('ora');
      const stream = ctx.io.stderr as NodeJS.WriteStream;
      // A pty whose size was never set (`script` without a controlling terminal, serial consoles)
      // reports 0 columns; ora divides line widths by it and then clears Infinity lines forever.
      if (!(typeof stream.columns === 'number' && stream.columns > 0)) {
        try {
          stream.columns = 80;
        } catch {
          /* a stream without a writable columns property: ora falls back to 80 itself */
        }
      }
      d.spinner = ora({
        text,
        stream,
        isEnabled: true,
        // ora colours through its own chalk, which ignores NO_COLOR: follow the CLI's decision.
        color: ctx.errColor.level > 0 ? 'cyan' : false,
        // Keystrokes typed during a transfer must not be swallowed when stdin is not ours to read.
        discardStdin: false,
      }).start();
    }
    return d;
  }

  step(text: string): void {
    this.stepText = text;
    if (this.active.size === 0) this.drawLines([text]);
  }

  onProgress = (desc: Descriptor, done: number): void => {
    if (!this.spinner || this.finished.has(desc.digest)) return;
    const now = this.now();
    const known = this.active.get(desc.digest);
    const a = known ?? { desc, done: 0, started: now };
    a.done = done;
    this.active.set(desc.digest, a);
    if (this.doneOnFullSize && desc.size > 0 && done >= desc.size) {
      this.onDone(desc, this.doneVerb);
      return;
    }
    // A new blob is drawn at once, so even a transfer faster than one spinner frame shows its line.
    if (known && now - this.lastRender < RENDER_INTERVAL_MS) return;
    this.render(now);
  };

  /** A blob reached its end state: persist a line for it on the terminal (once per digest). */
  /** A blob's end state, shown as a done line on a terminal and as a result line on stdout elsewhere. */
  result(desc: Descriptor, action: string): void {
    this.onDone(desc, action);
    if (!this.ctx.interactive) this.ctx.out(`${action.padEnd(9)} ${describeBlob(desc)} ${formatBytes(desc.size)}`);
  }

  onDone(desc: Descriptor, action: string): void {
    if (this.finished.has(desc.digest)) return;
    this.finished.add(desc.digest);
    const a = this.active.get(desc.digest);
    this.active.delete(desc.digest);
    if (!this.spinner) return;
    const c = this.ctx.errColor;
    const now = this.now();
    // The last progress line, drawn before the done line replaces it: a fast blob still shows its bytes and rate.
    if (a) this.drawLines([progressLine(this.verb, desc, desc.size, now - a.started)]);
    const rate = a ? `  ${c.dim(formatRate(desc.size, now - a.started))}` : '';
    const text = `${action.padEnd(10)} ${describeBlob(desc)}  ${c.dim(formatBytes(desc.size))}${rate}`;
    this.spinner.stopAndPersist({ symbol: c.green('✓'), text });
    this.spinner.text = this.stepText;
    this.spinner.start();
    this.render(now);
  }

  private render(now = this.now()): void {
    if (!this.spinner) return;
    this.lastRender = now;
    const lines = [...this.active.values()].map((a) => progressLine(this.verb, a.desc, a.done, now - a.started));
    if (lines.length) this.drawLines(lines);
  }

  private drawLines(lines: string[]): void {
    if (!this.spinner) return;
    this.spinner.text = lines.join('\n');
    // Setting the text only takes effect on the next frame; draw now so short transfers are visible.
    this.spinner.render();
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
