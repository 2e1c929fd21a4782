import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fetchManifestBytes } from '../copy/copy.js';
import type { Descriptor } from '../oci/types.js';

/** Resolves a tag or digest and fetches the manifest it names, bounded and verified. */
export async function fetchManifest(target: ReadOnlyTarget, reference: string, signal?: AbortSignal): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const descriptor = await target.resolve(reference, { signal });
  const bytes = await fetchManifestBytes(target, descriptor, signal);
  return { descriptor, bytes };
}
