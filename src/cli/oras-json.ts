import type { Descriptor } from '../oci/types.js';
import type { CliContext } from './context.js';

/**
 * The documents `oras --format json` prints (oras 1.3, cmd/oras/internal/display/metadata/model/),
 * built here so every command that oras also has prints oras's keys with oras's types. Our own
 * keys (module, blobs, verdicts, ...) are added beside them by the commands, never in their place.
 */

/**
 * model/descriptor.go `FromDescriptor`: `reference` is `NAME@digest` (never a tag), then the OCI
 * descriptor's `mediaType`, `digest`, `size`, and `annotations` / `artifactType` only when set
 * (ocispec.Descriptor's `omitempty`). urls, data and platform are dropped, as oras drops them.
 */
export interface OrasDescriptor {
  reference: string;
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export function orasDescriptor(name: string, desc: Descriptor): OrasDescriptor {
  const out: OrasDescriptor = { reference: `${name}@${desc.digest}`, mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (desc.annotations && Object.keys(desc.annotations).length > 0) out.annotations = desc.annotations;
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}

/**
 * model/push.go `NewPush` with json/push.go `PushHandler`: the manifest's descriptor, and
 * `referenceAsTags` = `NAME:tag` for every tag set, sorted (model/tag.go `Tagged.Tags` sorts).
 * oras's Go nil slice would print `null` for no tag; we always print an array.
 */
export function orasPush(name: string, desc: Descriptor, tags: readonly string[]): OrasDescriptor & { referenceAsTags: string[] } {
  return { ...orasDescriptor(name, desc), referenceAsTags: [...tags].sort().map((t) => `${name}:${t}`) };
}

/**
 * model/pull.go `newFile`: the absolute `path` written (a directory unpacked from a tar layer ends
 * with the path separator), then the layer's descriptor with `reference` = `NAME@layer-digest`.
 */
export function orasPulledFile(name: string, path: string, layer: Descriptor, isDirectory = false): OrasDescriptor & { path: string } {
  return { path: isDirectory && !path.endsWith('/') ? `${path}/` : path, ...orasDescriptor(name, layer) };
}

/**
 * model/fetched.go `NewFetched` (json/manifest_fetch.go): the manifest's descriptor and the
 * manifest itself parsed as `content` (`null` when it is not a JSON object, as oras's
 * json.Unmarshal into a map fails and leaves nil).
 */
export function orasFetched(name: string, desc: Descriptor, bytes: Uint8Array): OrasDescriptor & { content: unknown } {
  let content: unknown = null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) content = parsed;
  } catch {
    content = null;
  }
  return { ...orasDescriptor(name, desc), content };
}

/**
 * --descriptor output: the descriptor alone on stdout, in every format, as oras prints it
 * (option.Descriptor.Marshal, then option.Pretty.Output: two-space indent with --pretty).
 */
export function printDescriptor(ctx: CliContext, desc: object, pretty?: boolean): void {
  ctx.io.stdout.write(`${JSON.stringify(desc, null, pretty ? 2 : undefined)}\n`);
}
