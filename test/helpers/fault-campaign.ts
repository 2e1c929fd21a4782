import { createHash, randomInt } from 'node:crypto';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { FaultRule, RequestInfo } from './fault-proxy.js';
import { padModule as padWasm } from './wasm-padding.js';

/**
 * Building blocks of the fault campaign (test/e2e/fault-campaign.test.ts): a seeded PRNG so a
 * failing campaign can be replayed with FAULT_SEED, a Wasm module padded to a chosen size, a
 * snapshot of what a pull left on disk, and a direct look at the registry (bypassing the proxy)
 * to tell whether a tag points at a manifest whose blobs are all there.
 */

/** mulberry32: tiny, fast, and good enough to pick faults; the same seed gives the same campaign. */
export interface Prng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  shuffle<T>(items: T[]): T[];
}

export function createPrng(seed: number): Prng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed: seed >>> 0,
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    chance: (p) => next() < p,
    bytes(n) {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        const v = (next() * 4294967296) >>> 0;
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
      }
      return out;
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i);
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
  };
}

/** FAULT_SEED from the environment (decimal or 0x hex) to replay a campaign, else a fresh one. */
export function campaignSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FAULT_SEED?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FAULT_SEED must be an integer in [0, 2^32), not "${raw}"`);
    return n;
  }
  return randomInt(0, 0xffffffff);
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function padModule(base: Uint8Array, payload: Buffer): Buffer {
  return padWasm(base, payload, 'campaign-padding');
}

/** Every entry under `dir` (hidden ones included: a `.x.partial-…` temp file is a finding), path -> sha256 or `<dir>`/`<link>`. */
export async function snapshotDir(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(dir, rel));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw err;
    }
    for (const name of names.sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, r));
      if (st.isDirectory()) {
        out.set(r, '<dir>');
        await walk(r);
      } else if (st.isFile()) {
        out.set(r, sha256Hex(await readFile(join(dir, r))));
      } else {
        out.set(r, '<other>');
      }
    }
  };
  await walk('');
  return out;
}

export function describeSnapshot(s: Map<string, string>): string {
  return s.size === 0 ? '(empty)' : [...s].map(([k, v]) => `${k} ${v.slice(0, 12)}`).join(', ');
}

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface TagState {
  /** The tag resolves at the registry. */
  exists: boolean;
  digest?: string;
  /** Every blob the manifest names (config and layers). */
  blobs: string[];
  /** Blobs of that manifest the registry answers HEAD with something other than 200. */
  missing: string[];
}

/**
 * Asks the registry itself (not the proxy) what `repo:tag` points at and whether every blob of
 * that manifest is there. A fresh connection per request (`reset`): nothing shared with the client.
 */
export async function inspectTag(registryUrl: string, repo: string, tag: string): Promise<TagState> {
  const res = await request(`${registryUrl}/v2/${repo}/manifests/${tag}`, { method: 'GET', headers: { accept: ACCEPT }, reset: true });
  const text = await res.body.text();
  if (res.statusCode === 404) return { exists: false, blobs: [], missing: [] };
  if (res.statusCode !== 200) throw new Error(`GET manifest ${repo}:${tag} from the registry: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  const manifest = JSON.parse(text) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
  const blobs = [manifest.config?.digest, ...(manifest.layers ?? []).map((l) => l.digest)].filter((d): d is string => typeof d === 'string');
  const missing: string[] = [];
  for (const d of blobs) {
    const head = await request(`${registryUrl}/v2/${repo}/blobs/${d}`, { method: 'HEAD', reset: true });
    await head.body.dump();
    if (head.statusCode !== 200) missing.push(d);
  }
  return { exists: true, digest: `sha256:${sha256Hex(Buffer.from(text))}`, blobs, missing };
}

/** A fault rule plus a human description for the round's log line. */
export interface PlannedFault {
  rule: FaultRule;
  label: string;
}

export const and = (...ms: Array<(r: RequestInfo) => boolean>) => (r: RequestInfo): boolean => ms.every((m) => m(r));
export const method = (m: string) => (r: RequestInfo): boolean => r.method === m;
