import { WasmOciError, isWasmOciError } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { referrersTag } from './referrers.js';

/** What the index update needs of a repository (RemoteRepository has all of it). */
export interface IndexStore {
  fetchReference(reference: string, options?: { signal?: AbortSignal }): Promise<{ descriptor: Descriptor; content: Uint8Array }>;
  pushReference(desc: Descriptor, content: Uint8Array, reference: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface IndexChange {
  add?: Descriptor;
  remove?: string;
  signal?: AbortSignal;
  /** How long to wait before reading the tag back (another writer's PUT landing late overwrites ours). */
  settleMs?: number;
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

async function readIndex(store: IndexStore, tag: string, signal?: AbortSignal): Promise<Descriptor[]> {
  try {
    const { content } = await store.fetchReference(tag, { signal });
    const doc = JSON.parse(Buffer.from(content).toString('utf8')) as Partial<ImageIndex>;
    return Array.isArray(doc.manifests) ? doc.manifests.filter((d) => d && typeof d.digest === 'string') : [];
  } catch (err) {
    if (isWasmOciError(err, 'E_NOT_FOUND')) return [];
    throw err;
  }
}

function applied(list: Descriptor[], change: IndexChange): boolean {
  if (change.add && !list.some((d) => d.digest === change.add!.digest)) return false;
  if (change.remove && list.some((d) => d.digest === change.remove)) return false;
  return true;
}

/**
 * Adds a referrer to (or removes one from) the `sha256-<hex>` index of the referrers tag schema
 * (distribution-spec 1.1, "Referrers Tag Schema"). oras-go does this in
 * registry/remote/repository.go (manifestStore.updateReferrersIndex) under an in-process lock
 * only; two processes attaching to one subject can then lose a referrer. Registries like
 * Distribution 2.8 have no conditional PUT (If-Match is ignored), so the write here is
 * read, merge, write, then read back after a settle delay: a writer that finds its change
 * gone (overwritten by a concurrent writer who read before our write) merges again and
 * rewrites. Every writer keeps what it read, so a rewrite never drops the other's referrer.
 * The old index manifest is not deleted (oras-go's referrers GC): deleting by digest on
 * Distribution untags every tag on that digest, and a concurrent writer may have produced
 * identical bytes. An index left empty stays as an empty index.
 */
export async function updateReferrersIndex(store: IndexStore, subjectDigest: string, change: IndexChange): Promise<{ attempts: number; manifests: Descriptor[] }> {
  const tag = referrersTag(subjectDigest);
  const sleep = change.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = change.maxAttempts ?? 10;
  const settle = change.settleMs ?? 150;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await readIndex(store, tag, change.signal);
    if (!applied(current, change)) {
      let next = current.filter((d) => d.digest !== change.remove && d.digest !== change.add?.digest);
      if (change.add) next = [...next, change.add];
      const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: next };
      const bytes = Buffer.from(JSON.stringify(index));
      await store.pushReference({ mediaType: MEDIA_TYPES.ociIndex, digest: digestOf(bytes), size: bytes.length }, bytes, tag, { signal: change.signal });
    }
    // Jitter keeps two writers that collided from colliding again at the same moment.
    await sleep(settle + Math.floor(Math.random() * settle));
    const after = await readIndex(store, tag, change.signal);
    if (applied(after, change)) return { attempts: attempt, manifests: after };
  }
  throw new WasmOciError('E_REGISTRY', `the referrers index ${tag} kept changing under concurrent writers; gave up after ${maxAttempts} attempts`);
}
