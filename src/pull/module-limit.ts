import { WasmOciError } from '../errors.js';
import { LIMITS } from '../oci/media-types.js';

/**
 * The one refusal of a module over `--module-size-limit`, whichever layer carries it (a plain
 * module layer or a gzip tar's plugin.wasm), with a hint that names the flag (issue 11 item 13).
 */
export function moduleOverLimit(what: string, size: number, limit: number): WasmOciError {
  const istio = limit === LIMITS.moduleBytes ? "Istio's own limit, 256 MiB" : `set by --module-size-limit`;
  return new WasmOciError('E_SIZE_LIMIT', `${what} is ${size} bytes, over the limit of ${limit} bytes (${istio})`, {
    hint: 'Istio refuses modules over 256 MiB; to read a larger one anyway, pass --module-size-limit BYTES.',
  });
}
