import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { InputFile } from './inputs.js';
import { sha256File } from './inputs.js';
import { measureOk, type Measured } from './measure.js';
import { blobSize, unlinkBlob, verifyAndUnlinkPush } from './registry-http.js';
import type { Sample } from './stats.js';

/**
 * How each tool pushes, pulls and starts. Every function is one measured run plus the checks
 * that it did the job (outside the measured time): a fast run that did nothing is no result.
 */

export const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

export interface BenchEnv {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` */
  base: string;
  binPath: string;
  /** The Node binary that runs wasm-oci (and `node -e 0`): the bench compares Node versions. */
  node: string;
  /** Scratch root: inputs, layouts, outputs, time reports. */
  work: string;
  /** Clean environments: a throwaway HOME/DOCKER_CONFIG, no credentials of the machine. */
  wasmOciEnv: Record<string, string>;
  skopeoEnv: Record<string, string>;
  timeoutMs: number;
}

function opts(env: BenchEnv, childEnv: Record<string, string>, cwd?: string) {
  return { scratch: env.work, env: childEnv, timeoutMs: env.timeoutMs, ...(cwd ? { cwd } : {}) };
}

function sample(m: Measured, parts?: Record<string, number>): Sample {
  return { wallMs: m.wallMs, maxRssKiB: m.maxRssKiB, ...(parts ? { parts } : {}) };
}

// ---- push ---------------------------------------------------------------------------------

/** `wasm-oci push --plain-http HOST/REPO:v1 FILE[:TYPE]`, run from the file's directory (oras titles layers with the path as typed). */
export async function wasmOciPush(env: BenchEnv, repo: string, file: InputFile, mediaType?: string): Promise<Sample> {
  const arg = mediaType ? `${basename(file.path)}:${mediaType}` : basename(file.path);
  const m = await measureOk(env.node, [env.binPath, 'push', '--plain-http', `${env.host}/${repo}:v1`, arg], opts(env, env.wasmOciEnv, dirname(file.path)));
  await verifyAndUnlinkPush(env.base, repo, 'v1', { digest: file.digest, size: file.size });
  return sample(m);
}

export async function skopeoPush(env: BenchEnv, repo: string, layout: string, file: InputFile): Promise<Sample> {
  const m = await measureOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${env.host}/${repo}:v1`], opts(env, env.skopeoEnv));
  await verifyAndUnlinkPush(env.base, repo, 'v1', { digest: file.digest, size: file.size });
  return sample(m);
}

/**
 * The floor: a bare monolithic upload, POST /blobs/uploads/ for a Location, then
 * `curl -T FILE -X PUT LOCATION&digest=` with the digest computed beforehand (not timed: curl
 * cannot hash). The time is the whole two-step (two curl processes); `parts` keeps each step.
 */
export async function curlPush(env: BenchEnv, repo: string, file: InputFile): Promise<Sample> {
  const post = await measureOk('curl', ['-sS', '-f', '-X', 'POST', '-o', '/dev/null', '-D', '-', `${env.base}/v2/${repo}/blobs/uploads/`], opts(env, env.skopeoEnv));
  const loc = /^location:\s*(\S+)\s*$/im.exec(post.stdout)?.[1];
  if (!loc) throw new Error(`no Location in the upload POST response:\n${post.stdout}`);
  const url = new URL(loc, env.base);
  url.searchParams.set('digest', file.digest);
  const put = await measureOk('curl', ['-sS', '-f', '-o', '/dev/null', '-H', 'Content-Type: application/octet-stream', '-T', file.path, '-X', 'PUT', url.toString()], opts(env, env.skopeoEnv));
  const size = await blobSize(env.base, repo, file.digest);
  if (size !== file.size) throw new Error(`curl upload to ${repo} left size ${size}, expected ${file.size}`);
  await unlinkBlob(env.base, repo, file.digest);
  return { wallMs: post.wallMs + put.wallMs, maxRssKiB: Math.max(post.maxRssKiB, put.maxRssKiB), parts: { postMs: post.wallMs, putMs: put.wallMs } };
}

// ---- pull ---------------------------------------------------------------------------------

async function freshDir(env: BenchEnv, prefix: string): Promise<string> {
  const dir = join(env.work, 'out');
  await mkdir(dir, { recursive: true });
  return mkdtemp(join(dir, prefix));
}

async function checkFile(path: string, file: InputFile, hash: boolean): Promise<void> {
  const st = await stat(path);
  if (st.size !== file.size) throw new Error(`${path}: ${st.size} bytes, expected ${file.size}`);
  if (hash) {
    const d = await sha256File(path);
    if (d !== file.digest) throw new Error(`${path}: digest ${d}, expected ${file.digest}`);
  }
}

/** `wasm-oci pull --plain-http HOST/REPO:v1 -o DIR`; `expectName` is the file it must write. */
export async function wasmOciPull(env: BenchEnv, repo: string, file: InputFile, expectName: string, hash: boolean): Promise<Sample> {
  const out = await freshDir(env, 'wasm-oci-');
  try {
    const m = await measureOk(env.node, [env.binPath, 'pull', '--plain-http', `${env.host}/${repo}:v1`, '-o', out], opts(env, env.wasmOciEnv));
    await checkFile(join(out, expectName), file, hash);
    return sample(m);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export async function skopeoPull(env: BenchEnv, repo: string, file: InputFile, hash: boolean): Promise<Sample> {
  const out = await freshDir(env, 'skopeo-');
  try {
    const m = await measureOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${env.host}/${repo}:v1`, `oci:${out}:v1`], opts(env, env.skopeoEnv));
    await checkFile(join(out, 'blobs', 'sha256', file.digest.slice('sha256:'.length)), file, hash);
    return sample(m);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The floor: one GET of the blob to a file (curl neither resolves a tag nor verifies). */
export async function curlPull(env: BenchEnv, repo: string, file: InputFile, hash: boolean): Promise<Sample> {
  const out = await freshDir(env, 'curl-');
  try {
    const target = join(out, 'blob');
    const m = await measureOk('curl', ['-sS', '-f', '-o', target, `${env.base}/v2/${repo}/blobs/${file.digest}`], opts(env, env.skopeoEnv));
    await checkFile(target, file, hash);
    return sample(m);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * `wasm-oci pull --plain-http REF1 ... REFn -o DIR`: one process, one connection pool; each
 * artifact lands in `DIR/<last path component of its repository>/`.
 */
export async function wasmOciPullMany(env: BenchEnv, repos: string[], files: InputFile[], expectName: string, hash: boolean): Promise<Sample> {
  const out = await freshDir(env, 'wasm-oci-many-');
  try {
    const refs = repos.map((r) => `${env.host}/${r}:v1`);
    const m = await measureOk(env.node, [env.binPath, 'pull', '--plain-http', ...refs, '-o', out], opts(env, env.wasmOciEnv));
    for (let i = 0; i < repos.length; i++) {
      await checkFile(join(out, basename(repos[i]!), expectName), files[i]!, hash);
    }
    return sample(m);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The peer for many filters: ten `skopeo copy` processes started together (what a CI job or a
 * node agent would do with a Go client). Wall time from the first start to the last exit; the
 * RSS is the sum of the processes' peaks, an upper bound of what they held at once.
 */
export async function skopeoPullParallel(env: BenchEnv, repos: string[], files: InputFile[], hash: boolean): Promise<Sample> {
  const outs = await Promise.all(repos.map(() => freshDir(env, 'skopeo-many-')));
  try {
    const start = process.hrtime.bigint();
    const runs = await Promise.all(repos.map((r, i) => measureOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${env.host}/${r}:v1`, `oci:${outs[i]!}:v1`], opts(env, env.skopeoEnv))));
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    for (let i = 0; i < repos.length; i++) {
      await checkFile(join(outs[i]!, 'blobs', 'sha256', files[i]!.digest.slice('sha256:'.length)), files[i]!, hash);
    }
    return { wallMs, maxRssKiB: runs.reduce((a, r) => a + r.maxRssKiB, 0) };
  } finally {
    await Promise.all(outs.map((o) => rm(o, { recursive: true, force: true })));
  }
}

// ---- start-up -----------------------------------------------------------------------------

export async function nodeBare(env: BenchEnv): Promise<Sample> {
  return sample(await measureOk(env.node, ['-e', '0'], opts(env, env.wasmOciEnv)));
}

export async function wasmOciVersion(env: BenchEnv): Promise<Sample> {
  const m = await measureOk(env.node, [env.binPath, '--version'], opts(env, env.wasmOciEnv));
  if (!/^\d+\.\d+\.\d+/.test(m.stdout)) throw new Error(`--version printed ${JSON.stringify(m.stdout)}`);
  return sample(m);
}

// ---- setup (not measured) -----------------------------------------------------------------

/** An OCI layout holding FILE, built by wasm-oci (oras style when `mediaType` is given, else the solo profile). */
export async function buildLayout(env: BenchEnv, layout: string, file: InputFile, mediaType?: string): Promise<void> {
  const arg = mediaType ? `${basename(file.path)}:${mediaType}` : basename(file.path);
  await measureOk(env.node, [env.binPath, 'push', '--oci-layout', `${layout}:v1`, arg], opts(env, env.wasmOciEnv, dirname(file.path)));
}

/** Puts a layout's `v1` into the registry with skopeo, so the pull scenarios do not depend on our push. */
export async function seedRepo(env: BenchEnv, layout: string, repo: string): Promise<void> {
  await measureOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${env.host}/${repo}:v1`], opts(env, env.skopeoEnv));
}
