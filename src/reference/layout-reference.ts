import { WasmOciError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { validateTag } from './reference.js';
import type { LayoutReference } from './types.js';

function layoutError(input: string, problem: string, cause?: unknown): WasmOciError {
  return new WasmOciError('E_REFERENCE', `invalid OCI layout reference "${input}": ${problem}`, {
    cause,
    hint: 'an OCI layout reference is a directory, optionally followed by :tag or @sha256:<64 hex>',
  });
}

/**
 * Parses an `--oci-layout` reference `path[:tag|@digest]`, as oras does. The path may hold
 * "/", "./", "../" or be absolute; only the last path segment is searched for the suffix,
 * so "../v1:2/layout" is a path, not a tag. A digest is taken after the last "@" in the
 * last segment, and then the rest is the path verbatim (oras does not look for a tag too).
 */
export function parseLayoutReference(input: string): LayoutReference {
  if (input === '') throw new WasmOciError('E_REFERENCE', 'invalid OCI layout reference: it is empty');
  const lastSlash = input.lastIndexOf('/');

  const at = input.lastIndexOf('@');
  if (at !== -1 && at > lastSlash) {
    const path = input.slice(0, at);
    const digest = input.slice(at + 1);
    if (path === '') throw layoutError(input, 'the layout path before "@" is empty');
    if (digest === '') throw layoutError(input, 'digest after "@" is empty');
    try {
      parseDigest(digest);
    } catch (err) {
      throw layoutError(input, err instanceof Error ? err.message : String(err), err);
    }
    return { path, digest };
  }

  const colon = input.lastIndexOf(':');
  if (colon !== -1 && colon > lastSlash) {
    const path = input.slice(0, colon);
    const tag = input.slice(colon + 1);
    if (path === '') throw layoutError(input, 'the layout path before ":" is empty');
    try {
      validateTag(tag);
    } catch (err) {
      throw layoutError(input, err instanceof Error ? err.message : String(err), err);
    }
    return { path, tag };
  }
  return { path: input };
}

/** `path`, `path:tag` or `path@digest`; a digest wins over a tag, as it does when resolving. */
export function formatLayoutReference(ref: LayoutReference): string {
  if (ref.digest !== undefined) return `${ref.path}@${ref.digest}`;
  if (ref.tag !== undefined) return `${ref.path}:${ref.tag}`;
  return ref.path;
}
