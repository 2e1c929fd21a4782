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

interface Active {
  desc: Descriptor;
  done: number;
  started: number;
}

/**
 * Transfer progress on stderr, only when interactive: one ora spinner whose text lists each
 * active blob (name, bytes done / total, rate); each finished blob is persisted as a done line.
 */
export class TransferDisplay {
  private readonly ctx: CliContext;
  private spinner?: Ora;
  private readonly active = new Map<string, Active>();
  private lastRender = 0;
  private readonly verb: string;

  private constructor(ctx: CliContext, verb: string) {
    this.ctx = ctx;
    this.verb = verb;
  }

  static async create(ctx: CliContext, verb: string, text: string): Promise<TransferDisplay> {
    const d = new TransferDisplay(ctx, verb);
    if (ctx.interactive) {
      // ora is loaded only on a terminal: scripts and CI never pay for it.
      const { default: ora } = await import('ora');
      d.spinner = ora({ text, stream: ctx.io.stderr as NodeJS.WriteStream, isEnabled: true, color: 'cyan' }).start();
    }
    return d;
  }

  step(text: string): void {
    if (this.spinner) this.spinner.text = text;
  }

  onProgress = (desc: Descriptor, done: number): void => {
    if (!this.spinner) return;
    const a = this.active.get(desc.digest) ?? { desc, done: 0, started: Date.now() };
    a.done = done;
    this.active.set(desc.digest, a);
    const now = Date.now();
    if (now - this.lastRender < 100) return;
    this.lastRender = now;
    this.render();
  };

  /** A blob reached its end state: persist a line for it on the terminal. */
  onDone(desc: Descriptor, action: string): void {
    this.active.delete(desc.digest);
    if (!this.spinner) return;
    const c = this.ctx.errColor;
    const text = `${action.padEnd(9)} ${describeBlob(desc)} ${c.dim(formatBytes(desc.size))}`;
    this.spinner.stopAndPersist({ symbol: c.green('✓'), text });
    this.spinner.start();
    this.render();
  }

  private render(): void {
    if (!this.spinner) return;
    const lines = [...this.active.values()].map((a) => {
      const secs = Math.max((Date.now() - a.started) / 1000, 0.001);
      return `${this.verb} ${describeBlob(a.desc)}  ${formatBytes(a.done)} / ${formatBytes(a.desc.size)}  ${formatBytes(Math.round(a.done / secs))}/s`;
    });
    if (lines.length) this.spinner.text = lines.join('\n');
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
