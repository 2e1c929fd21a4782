import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Fetcher, TransferOptions } from '../content/interfaces.js';
import type { Descriptor } from '../oci/types.js';

/**
 * Streams a blob into `tempPath` (created exclusively, so nothing already there is followed).
 * The Fetcher contract is a stream verified against digest and size (every store here wraps its
 * bytes in a VerifyingStream), so hashing again here would double the CPU of a pull for nothing.
 */
export async function fetchToFile(
  fetcher: Fetcher,
  desc: Descriptor,
  tempPath: string,
  options: TransferOptions,
): Promise<{ digest: string; size: number }> {
  const source = await fetcher.fetch(desc, options);
  await pipeline(source, createWriteStream(tempPath, { flags: 'wx', mode: 0o644, highWaterMark: 4 * 1024 * 1024 }), { signal: options.signal });
  return { digest: desc.digest, size: desc.size };
}
