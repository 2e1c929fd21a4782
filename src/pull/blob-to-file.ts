import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Fetcher, TransferOptions } from '../content/interfaces.js';
import { VerifyingStream } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';

/**
 * Streams a blob into `tempPath` (created exclusively, so nothing already there is followed),
 * verifying digest and size on the way. The Fetcher verifies too; checking here as well means no
 * file is kept on the word of a store we did not write. Returns the verified digest and size.
 */
export async function fetchToFile(
  fetcher: Fetcher,
  desc: Descriptor,
  tempPath: string,
  options: TransferOptions,
): Promise<{ digest: string; size: number }> {
  const source = await fetcher.fetch(desc, options);
  const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
  await pipeline(source, verify, createWriteStream(tempPath, { flags: 'wx', mode: 0o644 }), { signal: options.signal });
  return { digest: desc.digest, size: verify.bytes };
}
