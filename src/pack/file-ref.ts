import { WasmOciError } from '../errors.js';

export interface FileRef {
  path: string;
  /** Undefined when the reference carried no media type (`file`, or `file:` with an empty one). */
  mediaType?: string;
}

/**
 * Splits an oras file reference `path[:mediaType]` at its right-most colon, as oras's
 * fileref.Parse does on unix; `hi:txt:` is the file `hi:txt` with the default media type.
 */
export function parseFileRef(ref: string): FileRef {
  const i = ref.lastIndexOf(':');
  const path = i < 0 ? ref : ref.slice(0, i);
  const mediaType = i < 0 ? '' : ref.slice(i + 1);
  if (path === '') throw new WasmOciError('E_USAGE', `found empty file path in "${ref}"`);
  return mediaType === '' ? { path } : { path, mediaType };
}

