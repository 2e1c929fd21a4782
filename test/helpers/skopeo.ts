import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningRegistry } from './distribution.js';

/**
 * skopeo, the independent client: it reads what we push and writes what we pull.
 * Every run gets a throwaway HOME and no XDG_RUNTIME_DIR/REGISTRY_AUTH_FILE/DOCKER_CONFIG, so
 * credentials come only from what the test passes, never from the machine.
 */

export interface SkopeoSideOptions {
  /** `false` for plain-HTTP registries (or to skip verification). Omitted: skopeo's default (verify). */
  tlsVerify?: boolean;
  /** PEM of a CA to trust; copied into a temp cert dir as `ca.crt`. */
  caFile?: string;
  creds?: string | { username: string; password: string };
  authfile?: string;
  registryToken?: string;
  noCreds?: boolean;
}

export interface SkopeoRunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface SkopeoCopyOptions extends SkopeoRunOptions {
  src?: SkopeoSideOptions;
  dest?: SkopeoSideOptions;
  /** Applies to both sides unless a side sets its own. */
  tlsVerify?: boolean;
  authfile?: string;
  extraArgs?: string[];
}

/** Side options that reach `reg` as a well-behaved client would (CA for TLS, creds for auth). */
export function skopeoOptsFor(reg: RunningRegistry, withCreds = true): SkopeoSideOptions {
  const o: SkopeoSideOptions = reg.tls ? { tlsVerify: true, caFile: reg.caFile! } : { tlsVerify: false };
  if (withCreds && reg.username !== undefined) o.creds = { username: reg.username, password: reg.password ?? '' };
  return o;
}

export class SkopeoError extends Error {
  constructor(message: string, readonly code: number | null, readonly stderr: string, readonly stdout: string) {
    super(message);
  }
}

async function sideArgs(prefix: '' | 'src-' | 'dest-', o: SkopeoSideOptions, scratch: string): Promise<string[]> {
  const args: string[] = [];
  if (o.tlsVerify !== undefined) args.push(`--${prefix}tls-verify=${o.tlsVerify}`);
  if (o.caFile) {
    const certDir = join(scratch, `certs-${prefix || 'main'}`);
    await mkdir(certDir, { recursive: true });
    await copyFile(o.caFile, join(certDir, 'ca.crt'));
    args.push(`--${prefix}cert-dir`, certDir);
  }
  if (o.creds !== undefined) {
    const c = typeof o.creds === 'string' ? o.creds : `${o.creds.username}:${o.creds.password}`;
    args.push(`--${prefix}creds`, c);
  }
  if (o.authfile) args.push(prefix === '' ? '--authfile' : `--${prefix}authfile`, o.authfile);
  if (o.registryToken) args.push(`--${prefix}registry-token`, o.registryToken);
  if (o.noCreds) args.push(`--${prefix}no-creds`);
  return args;
}

/** Runs `skopeo --insecure-policy ...args` (the trust policy is not what tests exercise). Returns stdout. */
export async function skopeoRun(build: (scratch: string) => Promise<string[]>, opts: SkopeoRunOptions = {}): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'wasm-oci-skopeo-'));
  try {
    const args = ['--insecure-policy', ...(await build(scratch))];
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, ...opts.env };
    return await new Promise<string>((resolve, reject) => {
      execFile('skopeo', args, { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
          // Creds are on the command line; keep them out of the message.
          const shown = args.map((a, i) => (args[i - 1]?.endsWith('creds') || args[i - 1]?.endsWith('registry-token') ? '***' : a));
          reject(new SkopeoError(`skopeo ${shown.join(' ')} failed (${code ?? err.message}):\n${stderr}`, code, stderr, stdout));
        } else resolve(stdout);
      });
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `skopeo inspect --raw REF`: the manifest bytes as the registry or layout serves them. */
export function skopeoInspectRaw(ref: string, opts: SkopeoSideOptions & SkopeoRunOptions & { config?: boolean } = {}): Promise<string> {
  return skopeoRun(async (scratch) => [
    'inspect', '--raw', ...(opts.config ? ['--config'] : []), ...(await sideArgs('', opts, scratch)), ref,
  ], opts);
}

/** `skopeo copy SRC DST`, e.g. `oci:DIR:TAG` to `docker://HOST/REPO:TAG`. */
export function skopeoCopy(src: string, dst: string, opts: SkopeoCopyOptions = {}): Promise<string> {
  const side = (s: SkopeoSideOptions | undefined): SkopeoSideOptions => ({
    ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
    ...(opts.authfile ? { authfile: opts.authfile } : {}),
    ...s,
  });
  return skopeoRun(async (scratch) => [
    'copy', '--quiet',
    ...(await sideArgs('src-', side(opts.src), scratch)),
    ...(await sideArgs('dest-', side(opts.dest), scratch)),
    ...(opts.extraArgs ?? []),
    src, dst,
  ], opts);
}
