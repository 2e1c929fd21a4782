import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One measured process run: wall time by `process.hrtime` around the spawn, peak RSS from
 * GNU time (`/usr/bin/time -v -o FILE`, Debian package `time`). time's report goes to its own
 * file so it never mixes with the tool's stderr.
 */

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  wallMs: number;
  /** "Maximum resident set size" of the measured process, in KiB. */
  maxRssKiB: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Scratch dir for time's report file. */
  scratch: string;
  timeoutMs?: number;
}

const current = new Set<ChildProcess>();

/** Kills every process still running under `measure` (Ctrl-C, a failed run). */
export function killRunning(): void {
  for (const child of current) child.kill('SIGKILL');
}

let seq = 0;

export function parseMaxRssKiB(report: string): number {
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(report);
  if (!m) throw new Error(`no "Maximum resident set size" in GNU time output:\n${report}`);
  return Number(m[1]);
}

const OUTPUT_CAP = 1024 * 1024;

export async function measure(cmd: string, args: string[], opts: MeasureOptions): Promise<Measured> {
  const report = join(opts.scratch, `time-${process.pid}-${seq++}.txt`);
  let stdout = '';
  let stderr = '';
  const start = process.hrtime.bigint();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-v', '-o', report, cmd, ...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current.add(child);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < OUTPUT_CAP) stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < OUTPUT_CAP) stderr += d; });
    child.once('error', (err) => {
      current.delete(child);
      if (timer) clearTimeout(timer);
      reject((err as NodeJS.ErrnoException).code === 'ENOENT'
        ? new Error(`${GNU_TIME} not found: install the Debian package "time" (scripts/install-system-deps.sh)`)
        : err);
    });
    child.once('close', (c, signal) => {
      current.delete(child);
      if (timer) clearTimeout(timer);
      resolve(c ?? (signal ? 128 : 1));
    });
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  let text = '';
  try {
    text = await readFile(report, 'utf8');
  } finally {
    await rm(report, { force: true });
  }
  return { wallMs, maxRssKiB: parseMaxRssKiB(text), code, stdout, stderr };
}

/** `measure`, failing loudly when the tool failed: a benchmark of a failing command measures nothing. */
export async function measureOk(cmd: string, args: string[], opts: MeasureOptions): Promise<Measured> {
  const r = await measure(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout.slice(0, 4000)}\nstderr: ${r.stderr.slice(0, 4000)}`);
  }
  return r;
}
