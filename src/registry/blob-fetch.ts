import type { Readable } from 'node:stream';
import { WasmOciError, isWasmOciError } from '../errors.js';
import type { TransferOptions } from '../content/interfaces.js';
import { VerifyingStream } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { AuthRequest, AuthResponse } from './auth.js';
import type { RegistryContext } from './context.js';
import { discardBody, headerValue, mapNetworkError } from './http.js';
import { isRedirect, redirectTarget } from './location.js';
import { responseError, type ErrorContext } from './response-error.js';
import { backoffDelay } from './retry.js';

const MAX_REDIRECTS = 10;
/**
 * What undici's body stream holds before it pauses the socket: one read's worth (Node reads a
 * socket 64 KiB at a time). A bigger buffer does not make the pull faster, only longer-lived:
 * with 1 MiB here a 256 MiB pull peaked at 126 MiB RSS, with 64 KiB at 71 MiB (content/gc-pacer.ts).
 */
const BLOB_HIGH_WATER_MARK = 64 * 1024;

/**
 * GET or HEAD following redirects by hand: blob GETs are commonly redirected to S3 or a CDN,
 * and the auth layer attaches Authorization only on the registry's own origin, so the next hop
 * never sees it. Returns the first non-redirect response.
 */
export async function requestFollowingRedirects(ctx: RegistryContext, req: AuthRequest): Promise<AuthResponse> {
  let url = new URL(String(req.url));
  for (let hop = 0; ; hop++) {
    const res = await ctx.auth.request({ ...req, url });
    if (!isRedirect(res.status)) return res;
    await discardBody(res.body);
    if (hop >= MAX_REDIRECTS) throw new WasmOciError('E_REGISTRY', `too many redirects fetching ${url.pathname}`);
    url = redirectTarget(res, ctx.plainHttp);
    ctx.onDebug?.(`following redirect to ${url.origin === ctx.origin.origin ? 'the registry' : `another origin (${url.host}), without credentials`}`);
  }
}

/** `bytes START-END/TOTAL` of a 206 response. */
export function parseContentRangeStart(value: string | undefined): number | undefined {
  const m = value ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Opens a blob as a stream verified against the descriptor's digest and size. An interrupted
 * download is resumed with `Range: bytes=N-` and the same running hash; a registry that answers
 * the range with 200 (or a range that does not start at N) is read again from the start, the
 * bytes already delivered skipped. Fails with E_DIGEST_MISMATCH / E_SIZE_MISMATCH at the end.
 */
export async function openBlob(ctx: RegistryContext, repository: string, desc: Descriptor, options: TransferOptions & { scopes: string[] }): Promise<Readable> {
  const url = new URL(`/v2/${repository}/blobs/${desc.digest}`, ctx.origin);
  const errCtx: ErrorContext = { registry: ctx.registry, repository, object: `the blob ${desc.digest}`, kind: 'blob', reference: desc.digest };
  const signal = options.signal;

  const get = async (from: number): Promise<{ res: AuthResponse; skip: number }> => {
    const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
    const res = await requestFollowingRedirects(ctx, { method: 'GET', url, headers, signal, scopes: options.scopes, highWaterMark: BLOB_HIGH_WATER_MARK });
    if (res.status === 200) {
      // The registry declares the whole blob at another size than the descriptor: an integrity
      // failure, not an interrupted download to resume (a cut body has no such declaration).
      const declared = headerValue(res, 'content-length');
      if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) !== desc.size) {
        await discardBody(res.body);
        throw new WasmOciError('E_SIZE_MISMATCH', `the blob ${desc.digest} is ${declared.trim()} bytes at the registry, its descriptor says ${desc.size}`, {
          details: { expected: desc.size, actual: Number(declared), retryable: false },
        });
      }
      return { res, skip: from };
    }
    if (res.status === 206 && from > 0) {
      const start = parseContentRangeStart(headerValue(res, 'content-range'));
      if (start !== undefined && start <= from) return { res, skip: from - start };
      await discardBody(res.body);
      return get(0).then((r) => ({ res: r.res, skip: from }));
    }
    throw await responseError(res, errCtx);
  };

  let current = await get(0);
  const out = new VerifyingStream({ digest: desc.digest, size: desc.size });

  const pump = async (): Promise<void> => {
    let received = 0;
    let failures = 0;
    for (;;) {
      const { res } = current;
      let skip = current.skip;
      let failure: unknown;
      try {
        for await (const raw of res.body) {
          let chunk = raw as Buffer;
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          received += chunk.length;
          if (!out.write(chunk)) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                out.off('drain', done);
                out.off('close', done);
                resolve();
              };
              out.on('drain', done);
              out.on('close', done);
            });
          }
          if (out.destroyed) {
            res.body.destroy();
            return;
          }
          options.onProgress?.(desc, received);
        }
      } catch (err) {
        failure = err;
      }
      if (out.destroyed) return;
      // All bytes are in (the stream verifies them); otherwise, error or not, the download was
      // interrupted (a body without Content-Length may just end early) and is resumed.
      if (received >= desc.size) {
        out.end();
        return;
      }
      if (signal?.aborted) {
        out.destroy(new WasmOciError('E_CANCELLED', 'download cancelled'));
        return;
      }
      failures++;
      if (failures >= ctx.retryPolicy.maxAttempts) {
        const why = failure === undefined
          ? new WasmOciError('E_NETWORK', `download of ${desc.digest} ended after ${received} of ${desc.size} bytes`)
          : mapNetworkError(failure, res.url, ctx.plainHttp, signal);
        out.destroy(why);
        return;
      }
      ctx.onDebug?.(`download of ${desc.digest} interrupted at byte ${received}; resuming`);
      try {
        await ctx.clock.sleep(backoffDelay(failures, ctx.retryPolicy), signal);
        current = await get(received);
      } catch (err) {
        out.destroy(isWasmOciError(err) ? err : mapNetworkError(err, url, ctx.plainHttp, signal));
        return;
      }
    }
  };
  void pump().catch((err: unknown) => out.destroy(isWasmOciError(err) ? err : new WasmOciError('E_INTERNAL', String(err), { cause: err })));
  return out;
}
