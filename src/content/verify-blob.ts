import type { Descriptor } from '../oci/types.js';
import type { ReadOnlyTarget } from './interfaces.js';

/**
 * Reads a blob to its end and discards it. Every target's `fetch` verifies digest and size as the
 * stream ends, so this fails with E_DIGEST_MISMATCH / E_SIZE_MISMATCH for content that is not what
 * its descriptor says: for commands that would otherwise vouch for bytes they never read.
 */
export async function verifyBlob(target: ReadOnlyTarget, desc: Descriptor, signal?: AbortSignal): Promise<void> {
  const stream = await target.fetch(desc, { signal });
  for await (const chunk of stream) void chunk;
}
