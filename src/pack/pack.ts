import { stat } from 'node:fs/promises';
import { WasmOciError } from '../errors.js';
import { packOrasStyle } from './oras-style.js';
import { packCompat } from './profile-compat.js';
import { packCncf } from './profile-cncf.js';
import { packSolo } from './profile-solo.js';
import type { PackedArtifact, PackOptions, PackStyle } from './types.js';

export type { ImageSpecVersion, PackedArtifact, PackedBlob, PackFile, PackOptions, PackProfile, PackStyle } from './types.js';

const STYLES: readonly PackStyle[] = ['solo', 'compat', 'cncf', 'oras'];

/** The style a push takes: oras syntax (a `file:type`, a manifest config, --image-spec, --artifact-platform) means the oras style. */
export function packStyleOf(options: Pick<PackOptions, 'profile' | 'files' | 'manifestConfig' | 'imageSpec' | 'artifactPlatform'>): PackStyle {
  if (options.profile !== undefined) return options.profile;
  const spelled =
    options.manifestConfig !== undefined || options.imageSpec !== undefined || options.artifactPlatform !== undefined || options.files.some((f) => f.mediaType !== undefined && f.mediaType !== '');
  return spelled ? 'oras' : 'solo';
}

/**
 * Builds the manifest, config and blob list of an artifact from local files, without pushing
 * anything: the caller copies `blobs` then `manifestBytes` to a target. Call `cleanup()` once
 * the blobs have been pushed (the compat layer lives in a temp file).
 */
export async function pack(options: PackOptions): Promise<PackedArtifact> {
  // A directory among the files: oras style, as `oras push REF dir/` packs it.
  const directory = options.profile === undefined && (await Promise.all(options.files.map((f) => stat(f.path).then((st) => st.isDirectory(), () => false)))).some(Boolean);
  const style = directory ? 'oras' : packStyleOf(options);
  if (!STYLES.includes(style)) {
    throw new WasmOciError('E_USAGE', `unknown profile "${style}"`, { hint: `Use one of ${STYLES.join(', ')}.` });
  }
  const created = options.created ?? options.clock?.() ?? new Date();
  if (style === 'oras') return packOrasStyle(options, created);

  if (options.manifestConfig !== undefined) {
    throw new WasmOciError('E_USAGE', `--manifest-config builds an oras-style artifact; it cannot be combined with --profile ${style}`);
  }
  if (options.imageSpec !== undefined || options.artifactPlatform !== undefined) {
    throw new WasmOciError('E_USAGE', `${options.imageSpec !== undefined ? '--image-spec' : '--artifact-platform'} shapes an oras-style manifest; the ${style} profile sets its manifest itself`, {
      hint: 'Drop --profile to push oras style, or drop the flag to push the profile as it is.',
    });
  }
  const spelled = options.files.find((f) => f.mediaType !== undefined && f.mediaType !== '');
  if (spelled) {
    throw new WasmOciError('E_USAGE', `${spelled.path}:${spelled.mediaType} spells a media type, which the ${style} profile sets itself`, {
      hint: 'Drop the media type, or drop --profile to push exactly the media types given (oras style).',
    });
  }
  if (options.files.length !== 1) {
    throw new WasmOciError('E_USAGE', `the ${style} profile packs exactly one module, got ${options.files.length} files`);
  }
  const modulePath = options.files[0]!.path;
  switch (style) {
    case 'solo':
      return packSolo(modulePath, options, created);
    case 'compat':
      return packCompat(modulePath, options, created);
    case 'cncf':
      return packCncf(modulePath, options, created);
  }
}
