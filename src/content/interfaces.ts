import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';

/**
 * Content to push. Bytes for small documents (manifests, configs); a factory for blobs, so a
 * retry or a resumed upload can open the source again instead of holding it in memory.
 * `offset` asks for the content from that byte on (a resumed chunked upload).
 */
export type Content = Uint8Array | ((offset?: number) => Readable | Promise<Readable>);

export interface TransferOptions {
  signal?: AbortSignal;
  /** Called as bytes move; `done` counts bytes of `desc` transferred so far. */
  onProgress?: (desc: Descriptor, done: number) => void;
}

/** Reads content by descriptor. The returned stream is verified against digest and size. */
export interface Fetcher {
  fetch(desc: Descriptor, options?: TransferOptions): Promise<Readable>;
}

/** Writes content; the store verifies digest and size before the content becomes visible. */
export interface Pusher {
  push(desc: Descriptor, content: Content, options?: TransferOptions): Promise<void>;
}

export interface ReadOnlyStorage extends Fetcher {
  exists(desc: Descriptor, options?: { signal?: AbortSignal }): Promise<boolean>;
}

export interface Storage extends ReadOnlyStorage, Pusher {}

/** Turns a tag or digest into the descriptor of a manifest. */
export interface Resolver {
  resolve(reference: string, options?: { signal?: AbortSignal }): Promise<Descriptor>;
}

/** Points a tag at a manifest already stored. */
export interface Tagger {
  tag(desc: Descriptor, reference: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface TagLister {
  /** All tags in lexical order, after `last` when given. */
  tags(options?: { last?: string; signal?: AbortSignal }): Promise<string[]>;
}

export interface Deleter {
  delete(desc: Descriptor, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Pushes a manifest and tags it in one step (a registry PUT by tag). */
export interface ReferencePusher {
  pushReference(desc: Descriptor, content: Uint8Array, reference: string, options?: TransferOptions): Promise<void>;
}

export interface ReferrerLister {
  referrers(subject: Descriptor, options?: { artifactType?: string; signal?: AbortSignal }): Promise<Descriptor[]>;
}

export interface ReadOnlyTarget extends ReadOnlyStorage, Resolver {}

export interface Target extends Storage, Resolver, Tagger {}

/** Mounts a blob from another repository of the same registry (distribution spec cross-repository mount). */
export interface Mounter {
  /** Resolves true when mounted; false when the registry answered with an upload session instead (the caller uploads). */
  mount(desc: Descriptor, fromRepository: string, options?: { signal?: AbortSignal }): Promise<boolean>;
}

/** What a store is: used by copy to decide on mounts and by the CLI to render. */
export interface TargetInfo {
  kind: 'oci-layout' | 'registry' | 'memory';
  /** Registry host (with port) for registry targets. */
  registry?: string;
  repository?: string;
}

export function hasTagLister(t: object): t is TagLister {
  return typeof (t as Partial<TagLister>).tags === 'function';
}
export function hasDeleter(t: object): t is Deleter {
  return typeof (t as Partial<Deleter>).delete === 'function';
}
export function hasReferencePusher(t: object): t is ReferencePusher {
  return typeof (t as Partial<ReferencePusher>).pushReference === 'function';
}
export function hasMounter(t: object): t is Mounter {
  return typeof (t as Partial<Mounter>).mount === 'function';
}

/** Describes a blob by digest alone (HEAD on a registry, stat on a layout): `blob fetch` needs its size. */
export interface BlobResolver {
  resolveBlob(digest: string, options?: { signal?: AbortSignal }): Promise<Descriptor>;
}
export function hasBlobResolver(t: object): t is BlobResolver {
  return typeof (t as Partial<BlobResolver>).resolveBlob === 'function';
}

/**
 * Stores content whose digest is not known yet, hashing it on the way: one pass over a large
 * file instead of a hashing pass and then an upload. The body is a stream, so it is not retried.
 */
export interface UnknownPusher {
  pushUnknown(mediaType: string, content: Readable, options?: TransferOptions & { size?: number }): Promise<Descriptor>;
}
export function hasUnknownPusher(t: object): t is UnknownPusher {
  return typeof (t as Partial<UnknownPusher>).pushUnknown === 'function';
}
