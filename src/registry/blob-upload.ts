import { Readable, Transform, pipeline as pipelineCb, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WasmOciError } from '../errors.js';
import type { Content, TransferOptions } from '../content/interfaces.js';
import { VerifyingStream } from '../oci/digest.js';
import { pacedTransfer } from '../content/gc-pacer.js';
import type { Descriptor } from '../oci/types.js';
import type { AuthResponse } from './auth.js';
import type { RegistryContext } from './context.js';
import { discardBody, headerValue, type BodyFactory, type RequestBody } from './http.js';
import { uploadLocation, withQuery } from './location.js';
import { responseError, type ErrorContext } from './response-error.js';

export interface UploadOptions extends TransferOptions {
  scopes: string[];
  /** Blobs up to this size go in one streamed PUT; bigger ones in PATCH chunks. */
  monolithicMaxBytes: number;
  chunkSize: number;
}

/** One streamed PUT is what Distribution ingests fastest (curl -T speed); chunks only for huge blobs. */
export const DEFAULT_MONOLITHIC_MAX_BYTES = 2 * 1024 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;
/** Bytes held between the file and the socket: with the socket's own buffer, well under the pacing window. */
const UPLOAD_HIGH_WATER_MARK = 64 * 1024;

/**
 * Counts bytes on their way to the socket, for onProgress and for the collection of the file's
 * read buffers (content/gc-pacer.ts): a known-digest upload has no VerifyingStream on its path.
 */
class Meter extends Transform {
  private readonly pacing = pacedTransfer();
  constructor(private done: number, private readonly report?: (done: number) => void) {
    super({ highWaterMark: UPLOAD_HIGH_WATER_MARK });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.done += chunk.length;
    this.pacing.moved(chunk.length);
    this.report?.(this.done);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.pacing.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.pacing.end();
    cb(err);
  }
}

/** Exactly `length` bytes of `src` (the rest left unread, `src` closed); fewer is E_SIZE_MISMATCH. */
function limit(src: Readable, length: number): Readable {
  async function* take(): AsyncGenerator<Buffer> {
    let left = length;
    if (left === 0) {
      src.destroy();
      return;
    }
    for await (const raw of src) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      if (chunk.length >= left) {
        yield chunk.subarray(0, left);
        left = 0;
        break;
      }
      left -= chunk.length;
      yield chunk;
    }
    if (left > 0) throw new WasmOciError('E_SIZE_MISMATCH', `the content to upload ended ${left} bytes short of its descriptor's size`);
  }
  return Readable.from(take(), { objectMode: false, highWaterMark: UPLOAD_HIGH_WATER_MARK });
}

/**
 * `src` piped into `t`, returning `t`: unlike `.pipe()`, destroying `t` (a failed or retried
 * request) also destroys `src`, so no file descriptor stays open behind an abandoned attempt.
 */
function through<T extends Transform>(src: Readable, t: T): T {
  pipelineCb(src, t, () => {});
  return t;
}

/** A replayable body for bytes [offset, offset+length) of the content, counted for progress. */
function slice(content: Content, offset: number, length: number, whole: boolean, progress?: (done: number) => void): RequestBody {
  if (content instanceof Uint8Array) {
    const part = content.subarray(offset, offset + length);
    if (!progress) return part;
    return () => through(Readable.from([Buffer.from(part.buffer, part.byteOffset, part.byteLength)]), new Meter(offset, progress));
  }
  const factory: BodyFactory = async () => {
    const src = await content(offset);
    // A whole-blob PUT streams the source as is (undici enforces Content-Length); chunks are cut.
    const body = whole ? src : limit(src, length);
    return through(body, new Meter(offset, progress));
  };
  return factory;
}

function errCtx(ctx: RegistryContext, repository: string, desc: { digest?: string }): ErrorContext {
  return { registry: ctx.registry, repository, object: desc.digest ? `the blob upload of ${desc.digest}` : 'the blob upload', kind: 'upload', reference: desc.digest };
}

async function expectStatus(res: AuthResponse, ok: number[], ctx: ErrorContext): Promise<void> {
  if (!ok.includes(res.status)) throw await responseError(res, ctx);
}

/** POST /blobs/uploads/: opens a session, returns its Location and the registry's minimum chunk length. */
async function startUpload(ctx: RegistryContext, repository: string, scopes: string[], signal: AbortSignal | undefined, ectx: ErrorContext): Promise<{ location: URL; minChunk: number }> {
  const url = new URL(`/v2/${repository}/blobs/uploads/`, ctx.origin);
  const res = await ctx.auth.request({ method: 'POST', url, scopes, signal, headers: { 'content-length': '0' } });
  await expectStatus(res, [202], ectx);
  const location = uploadLocation(res, ctx.origin);
  await discardBody(res.body);
  const minChunk = Number(headerValue(res, 'oci-chunk-min-length') ?? 0);
  return { location, minChunk: Number.isFinite(minChunk) && minChunk > 0 ? minChunk : 0 };
}

async function finishUpload(ctx: RegistryContext, location: URL, digest: string, body: RequestBody | undefined, length: number, options: { scopes: string[]; signal?: AbortSignal }, ectx: ErrorContext): Promise<AuthResponse> {
  const url = withQuery(location, 'digest', digest);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(length) };
  const res = await ctx.auth.request({ method: 'PUT', url, headers, body, scopes: options.scopes, signal: options.signal });
  return res;
}

async function checkCreated(res: AuthResponse, digest: string, ectx: ErrorContext): Promise<void> {
  await expectStatus(res, [201, 200, 204], ectx);
  await discardBody(res.body);
  const got = headerValue(res, 'docker-content-digest');
  if (got && got !== digest) {
    throw new WasmOciError('E_DIGEST_MISMATCH', `registry stored the blob as ${got}, expected ${digest}`, { details: { expected: digest, actual: got } });
  }
}

/**
 * Uploads a blob: POST for a session, then either one streamed PUT `?digest=` (monolithic) or
 * PATCH chunks with `Content-Range`, always following the newest `Location`, and a closing PUT.
 * A registry that refuses the single PUT as too large (413) gets the chunked upload instead.
 */
export async function uploadBlob(ctx: RegistryContext, repository: string, desc: Descriptor, content: Content, options: UploadOptions): Promise<void> {
  const ectx = errCtx(ctx, repository, desc);
  const progress = options.onProgress ? (done: number) => options.onProgress!(desc, done) : undefined;
  const session = await startUpload(ctx, repository, options.scopes, options.signal, ectx);
  const live = { location: session.location };
  try {
    if (desc.size <= options.monolithicMaxBytes) {
      const res = await finishUpload(ctx, session.location, desc.digest, slice(content, 0, desc.size, true, progress), desc.size, options, ectx);
      if (res.status !== 413) {
        await checkCreated(res, desc.digest, ectx);
        return;
      }
      await discardBody(res.body);
      ctx.onDebug?.('registry refused a single PUT of this size (413); uploading in chunks');
      await cancelSession(ctx, live.location, options.scopes);
      const again = await startUpload(ctx, repository, options.scopes, options.signal, ectx);
      live.location = again.location;
      await uploadChunks(ctx, live, desc, content, Math.max(again.minChunk, Math.min(options.chunkSize, 16 * 1024 * 1024)), options, ectx, progress);
      return;
    }
    await uploadChunks(ctx, live, desc, content, Math.max(session.minChunk, options.chunkSize), options, ectx, progress);
  } catch (err) {
    await cancelSession(ctx, live.location, options.scopes);
    throw err;
  }
}

/**
 * DELETE on an upload session that will not be finished (a cancelled push, a failed chunk): the
 * distribution spec's "Canceling an upload" (`DELETE /v2/<name>/blobs/uploads/<reference>`), so
 * the registry frees what it holds now instead of when its upload purger runs (Distribution's
 * default: sessions older than a week). Best effort and bounded: the caller's signal may already
 * be aborted (Ctrl-C), so the request gets its own short timeout, and its failure is not the
 * error the user needs to see.
 */
async function cancelSession(ctx: RegistryContext, location: URL, scopes: string[]): Promise<void> {
  try {
    const res = await ctx.auth.request({ method: 'DELETE', url: location, scopes, once: true, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
    await discardBody(res.body);
    ctx.onDebug?.(`cancelled the upload session (DELETE ${res.status})`);
  } catch {
    /* an abandoned session expires on its own */
  }
}

const CANCEL_TIMEOUT_MS = 3000;

/** Where the registry says the session stands: `Range: 0-N` means N+1 bytes are in. */
function rangeEnd(res: AuthResponse): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(headerValue(res, 'range')?.trim() ?? '');
  return m ? Number(m[1]) + 1 : undefined;
}

/** `live.location` follows the newest Location, so a failure cancels the session where it stands. */
async function uploadChunks(ctx: RegistryContext, live: { location: URL }, desc: Descriptor, content: Content, chunkSize: number, options: UploadOptions, ectx: ErrorContext, progress?: (done: number) => void): Promise<void> {
  let location = live.location;
  let offset = 0;
  let stalls = 0;
  while (offset < desc.size) {
    const length = Math.min(chunkSize, desc.size - offset);
    const res = await ctx.auth.request({
      method: 'PATCH',
      url: location,
      scopes: options.scopes,
      signal: options.signal,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${offset}-${offset + length - 1}`,
        'content-length': String(length),
      },
      body: slice(content, offset, length, false, progress),
    });
    if (res.status === 416) {
      // A retried PATCH after a partial write: ask the session where it stands and go on from there.
      await discardBody(res.body);
      if (++stalls > 3) throw new WasmOciError('E_REGISTRY', `the registry keeps refusing the chunk at byte ${offset}`);
      const status = await ctx.auth.request({ method: 'GET', url: location, scopes: options.scopes, signal: options.signal });
      await expectStatus(status, [204, 202], ectx);
      await discardBody(status.body);
      location = live.location = uploadLocation(status, ctx.origin);
      offset = rangeEnd(status) ?? 0;
      continue;
    }
    await expectStatus(res, [202], ectx);
    await discardBody(res.body);
    location = live.location = uploadLocation(res, ctx.origin);
    const end = rangeEnd(res);
    offset = end !== undefined && end < offset + length ? end : offset + length;
  }
  const res = await finishUpload(ctx, location, desc.digest, undefined, 0, options, ectx);
  await checkCreated(res, desc.digest, ectx);
}

/**
 * Uploads content whose digest is not known yet in a single pass: POST, one streamed PATCH
 * hashed on the way, then PUT `?digest=` with what was computed. The body cannot be replayed, so
 * a failure is not retried.
 */
export async function uploadUnknown(ctx: RegistryContext, repository: string, mediaType: string, source: Readable, options: TransferOptions & { scopes: string[]; size?: number }): Promise<Descriptor> {
  const ectx = errCtx(ctx, repository, {});
  let session: Awaited<ReturnType<typeof startUpload>>;
  try {
    session = await startUpload(ctx, repository, options.scopes, options.signal, ectx);
  } catch (err) {
    source.destroy();
    throw err;
  }
  const hasher = new VerifyingStream();
  const piped = pipeline(source, hasher).catch((err: unknown) => {
    hasher.destroy(err as Error);
  });
  let body: Readable = hasher;
  if (options.onProgress) {
    const report = options.onProgress;
    body = through(hasher, new Meter(0, (done) => report({ mediaType, digest: '', size: done }, done)));
  }
  let res: AuthResponse;
  try {
    res = await ctx.auth.request({
      method: 'PATCH',
      url: session.location,
      scopes: options.scopes,
      signal: options.signal,
      // With the size known the body is sent with a Content-Length, as a monolithic PUT would be.
      headers: { 'content-type': 'application/octet-stream', ...(options.size !== undefined ? { 'content-length': String(options.size) } : {}) },
      body,
    });
  } catch (err) {
    body.destroy();
    source.destroy();
    await cancelSession(ctx, session.location, options.scopes);
    throw err;
  }
  let location = session.location;
  try {
    await piped;
    await expectStatus(res, [202], ectx);
    await discardBody(res.body);
    location = uploadLocation(res, ctx.origin);
    const digest = hasher.computed;
    if (!digest) throw new WasmOciError('E_INTERNAL', 'upload finished without a computed digest');
    const desc: Descriptor = { mediaType, digest, size: hasher.bytes };
    const put = await finishUpload(ctx, location, digest, undefined, 0, options, { ...ectx, reference: digest });
    await checkCreated(put, digest, ectx);
    return desc;
  } catch (err) {
    await cancelSession(ctx, location, options.scopes);
    throw err;
  }
}

/**
 * Cross-repository mount (`POST ?mount=&from=`): 201 means mounted. 202 means the registry
 * opened an upload session instead; it is cancelled and the caller uploads.
 */
export async function mountBlob(ctx: RegistryContext, repository: string, desc: Descriptor, from: string, options: { scopes: string[]; signal?: AbortSignal }): Promise<boolean> {
  const url = new URL(`/v2/${repository}/blobs/uploads/`, ctx.origin);
  url.searchParams.set('mount', desc.digest);
  url.searchParams.set('from', from);
  const ectx = errCtx(ctx, repository, desc);
  const res = await ctx.auth.request({ method: 'POST', url, scopes: options.scopes, signal: options.signal, headers: { 'content-length': '0' } });
  if (res.status === 201) {
    await discardBody(res.body);
    return true;
  }
  if (res.status === 202) {
    await discardBody(res.body);
    try {
      const location = uploadLocation(res, ctx.origin);
      const del = await ctx.auth.request({ method: 'DELETE', url: location, scopes: options.scopes, signal: options.signal });
      await discardBody(del.body);
    } catch {
      /* an abandoned session expires on its own */
    }
    return false;
  }
  throw await responseError(res, ectx);
}
