import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot } from './paths.js';
import type { CleanupContext } from './tmp.js';

/** A `wasm-oci agent` running as its own process, as a DaemonSet runs it. */
export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** `http://127.0.0.1:PORT` once the agent logged where it listens (with --listen 127.0.0.1:0). */
  url(): Promise<string>;
  get(path: string): Promise<{ status: number; body: string }>;
  /** Resolves to the exit code. */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const PASSTHROUGH = ['PATH', 'TMPDIR', 'LANG', 'LC_ALL'];

/** Polls `check` every 50 ms until it returns a truthy value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function startAgent(args: string[], opts: { t: CleanupContext; env?: Record<string, string>; cwd?: string }): Promise<AgentProcess> {
  const home = await mkdtemp(join(tmpdir(), 'wasm-oci-home-'));
  const env: Record<string, string> = { HOME: home, DOCKER_CONFIG: join(home, '.docker') };
  for (const k of PASSTHROUGH) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  Object.assign(env, opts.env ?? {});
  const child = spawn(process.execPath, [binPath, 'agent', ...args], { cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  // 'close', not 'exit': it comes once stdout and stderr are read to the end too, so a test that
  // checks a log line after the agent exited sees every line the agent wrote.
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 0)));
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  opts.t.after(async () => {
    await stop('SIGKILL');
    await rm(home, { recursive: true, force: true });
  });
  const url = async (): Promise<string> => {
    const m = await waitFor('the agent to log its listen address', () => /msg"?[:=]?"?listening.*?(http:\/\/[\d.]+:\d+)|listening address=(http:\/\/[\d.]+:\d+)/.exec(err) ?? (child.exitCode !== null ? (() => { throw new Error(`agent exited: ${err}`); })() : null));
    return m[1] ?? m[2]!;
  };
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    url,
    get: async (path) => httpGet(`${await url()}${path}`),
    exited,
    stop,
  };
}

/** The value of one series in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[kv[1]!] = kv[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}
