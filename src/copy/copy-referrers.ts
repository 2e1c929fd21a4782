import type { ReadOnlyTarget, ReferrerLister, Target } from '../content/interfaces.js';
import type { Descriptor } from '../oci/types.js';
import { indexReferrer, type ReferrersMode } from '../operations/referrers.js';
import { copyGraph, type CopyOptions } from './copy.js';

function isReferrerLister(t: object): t is ReferrerLister {
  return typeof (t as Partial<ReferrerLister>).referrers === 'function';
}

/**
 * `copy -r`: the referrers of `subject` (and theirs, every level) copied after it, as oras cp
 * -r does with oras-go's ExtendedCopy (cmd/oras/root/cp.go runCopy, recursive: predecessors
 * found through the referrers API or the tag schema). Each referrer lands in the destination's
 * referrers: its own index under the tag schema, the registry's API otherwise, a layout's
 * index.json for a layout. Each digest is visited once, so a cyclic graph ends.
 */
export async function copyReferrers(src: ReadOnlyTarget, dst: Target, subject: Descriptor, options: CopyOptions & { mode?: ReferrersMode; onReferrer?: (referrer: Descriptor, subject: Descriptor) => void } = {}): Promise<Descriptor[]> {
  if (!isReferrerLister(src)) return [];
  const copied: Descriptor[] = [];
  const visited = new Set<string>([subject.digest]);
  const walk = async (node: Descriptor): Promise<void> => {
    const list = await src.referrers({ mediaType: node.mediaType, digest: node.digest, size: node.size }, { signal: options.signal });
    for (const referrer of list) {
      if (visited.has(referrer.digest)) continue;
      visited.add(referrer.digest);
      const plain: Descriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
      await copyGraph(src, dst, plain, options);
      await indexReferrer(dst, node.digest, referrer, options.mode ?? 'auto', options.signal);
      options.onReferrer?.(referrer, node);
      copied.push(referrer);
      await walk(plain);
    }
  };
  await walk(subject);
  return copied;
}
