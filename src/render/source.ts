import { checkImage, manifestDigestHex } from './validate.js';
import { SOURCE_ANNOTATION, type RenderInput } from './types.js';

/** What every renderer derives from the image and its manifest digest. */
export interface ImageFacts {
  /** `registry/repo[:tag]` as the user gave it, digest stripped. */
  image: string;
  /**
   * What an `oci://` URL names: the image with its tag, or, when the user gave no tag, pinned by
   * digest so Istio does not fall back to `latest`.
   */
  urlImage: string;
  /** `registry/repo[:tag]@sha256:...`: the tag for humans, the digest for the puller. */
  pinned: string;
  /** Manifest digest hex, no `sha256:` prefix. */
  hex: string;
}

export function imageFacts(input: Pick<RenderInput, 'image' | 'manifestDigest'>): ImageFacts {
  const hex = manifestDigestHex(input.manifestDigest);
  const { name, tag } = checkImage(input.image, input.manifestDigest);
  const image = tag !== undefined ? `${name}:${tag}` : name;
  const pinned = `${image}@${input.manifestDigest}`;
  return { image, urlImage: tag !== undefined ? image : pinned, pinned, hex };
}

export function metadataOf(input: RenderInput, facts: ImageFacts): { name: string; namespace?: string; annotations: Record<string, string> } {
  return {
    name: input.name,
    ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
    annotations: { [SOURCE_ANNOTATION]: facts.pinned },
  };
}

/**
 * The plugin config as the string proxy-wasm's `proxy_on_configure` receives: compact JSON.
 * A JSON string value is passed through as is, so a filter that takes plain text still can.
 */
export function pluginConfigString(config: unknown): string {
  return typeof config === 'string' ? config : JSON.stringify(config);
}
