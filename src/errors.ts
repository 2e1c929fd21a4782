/**
 * One error class for the whole library. Every failure carries a stable `code`; the CLI maps
 * codes to exit codes and messages through `ERROR_CODES` and nothing else.
 */

export type ErrorCode =
  | 'E_USAGE'
  | 'E_REFERENCE'
  | 'E_INVALID_INPUT'
  | 'E_NOT_WASM'
  | 'E_WASM_PARSE'
  | 'E_WASM_LINK'
  | 'E_WASM_TRAP'
  | 'E_TEST_FAILED'
  | 'E_FILE_NOT_FOUND'
  | 'E_LOCAL_WRITE'
  | 'E_AUTH'
  | 'E_FORBIDDEN'
  | 'E_NOT_FOUND'
  | 'E_DIGEST_MISMATCH'
  | 'E_SIZE_MISMATCH'
  | 'E_SIZE_LIMIT'
  | 'E_UNSAFE_PATH'
  | 'E_UNSUPPORTED'
  | 'E_CONSUMER_REFUSED'
  | 'E_MANIFEST_INVALID'
  | 'E_NETWORK'
  | 'E_TLS'
  | 'E_REGISTRY'
  | 'E_INSECURE'
  | 'E_CREDENTIALS'
  | 'E_CANCELLED'
  | 'E_INTERNAL';

export interface ErrorCodeInfo {
  exitCode: number;
  summary: string;
}

/** Exit codes: 0 success, 1 unexpected, 2 usage, 3 auth, 4 not found, 5 integrity, 6 network/registry, 7 unsupported/unsafe content. */
export const ERROR_CODES: Record<ErrorCode, ErrorCodeInfo> = {
  E_USAGE: { exitCode: 2, summary: 'invalid command line usage' },
  E_REFERENCE: { exitCode: 2, summary: 'invalid reference' },
  E_INVALID_INPUT: { exitCode: 2, summary: 'invalid input (flag value, annotation file, config)' },
  E_NOT_WASM: { exitCode: 2, summary: 'the file is not a WebAssembly module or component' },
  E_WASM_PARSE: { exitCode: 2, summary: 'the WebAssembly binary is malformed or truncated' },
  E_FILE_NOT_FOUND: { exitCode: 2, summary: 'a local file or directory does not exist' },
  E_AUTH: { exitCode: 3, summary: 'authentication failed or credentials are missing' },
  E_FORBIDDEN: { exitCode: 3, summary: 'the registry denied access' },
  E_CREDENTIALS: { exitCode: 3, summary: 'a credential store failed' },
  E_INSECURE: { exitCode: 3, summary: 'refused to send credentials over an insecure channel' },
  E_NOT_FOUND: { exitCode: 4, summary: 'manifest, tag, blob or repository not found' },
  E_DIGEST_MISMATCH: { exitCode: 5, summary: 'content does not match its digest' },
  E_SIZE_MISMATCH: { exitCode: 5, summary: 'content does not match its declared size' },
  E_SIZE_LIMIT: { exitCode: 5, summary: 'content exceeds a size limit' },
  E_MANIFEST_INVALID: { exitCode: 5, summary: 'a manifest or index is malformed' },
  E_NETWORK: { exitCode: 6, summary: 'network failure' },
  E_TLS: { exitCode: 6, summary: 'TLS handshake or certificate failure' },
  E_REGISTRY: { exitCode: 6, summary: 'the registry returned an error' },
  E_UNSAFE_PATH: { exitCode: 7, summary: 'refused to write outside the output directory' },
  E_WASM_LINK: { exitCode: 7, summary: 'the proxy-wasm host (Envoy on V8) refuses to load the module: an import or export it cannot link' },
  E_WASM_TRAP: { exitCode: 7, summary: 'the filter failed while running: a trap, proc_exit, or a callback over its time or memory budget' },
  E_UNSUPPORTED: { exitCode: 7, summary: 'unsupported artifact, media type or operation' },
  E_CONSUMER_REFUSED: { exitCode: 7, summary: 'with --strict: a consumer the artifact targets would refuse it (Envoy (V8) fails to link the module, Istio cannot fetch it ...)' },
  E_LOCAL_WRITE: { exitCode: 8, summary: 'cannot write on this machine: the disk or the quota is full, the file system is read-only, or permission is denied' },
  E_CANCELLED: { exitCode: 130, summary: 'cancelled' },
  E_TEST_FAILED: { exitCode: 1, summary: 'a case of `wasm-oci test` failed' },
  E_INTERNAL: { exitCode: 1, summary: 'unexpected internal error' },
};

export interface WasmOciErrorOptions {
  cause?: unknown;
  /** A suggestion the CLI prints under the message. */
  hint?: string;
  /** HTTP status when the error came from a registry response. */
  status?: number;
  /** Registry error codes from the distribution error body (e.g. MANIFEST_INVALID). */
  registryCodes?: string[];
  /** Free-form details safe to print (never secrets). */
  details?: Record<string, unknown>;
}

export class WasmOciError extends Error {
  readonly code: ErrorCode;
  hint?: string;
  readonly status?: number;
  readonly registryCodes?: string[];
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: WasmOciErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WasmOciError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status;
    this.registryCodes = options.registryCodes;
    this.details = options.details;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

/**
 * Content that is not what its digest or size says. Every command that meets it fails with its
 * exit code (5), including the ones that only report (inspect) or only read a manifest (render):
 * a report that shows a verdict on corrupt bytes is not true.
 */
const INTEGRITY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_DIGEST_MISMATCH', 'E_SIZE_MISMATCH']);

export function isIntegrityError(err: unknown): err is WasmOciError {
  return err instanceof WasmOciError && INTEGRITY_CODES.has(err.code);
}

export function isWasmOciError(err: unknown, code?: ErrorCode): err is WasmOciError {
  return err instanceof WasmOciError && (code === undefined || err.code === code);
}

/** What to do about the conditions a user cannot tell from errno text alone (issue 11, rough edges). */
const FS_HINTS: Record<string, string> = {
  ENOSPC: 'The disk is full where it writes (the output, the layout, the cache or TMPDIR): free space there, or point -o / --cache-dir / TMPDIR elsewhere.',
  EDQUOT: 'Your disk quota is used up where it writes: free space, or point -o / --cache-dir / TMPDIR elsewhere.',
  EROFS: 'That file system is mounted read-only: write somewhere else (-o, --oci-layout, --cache-dir, TMPDIR).',
  EACCES: 'No permission to write there: choose a directory you own, or fix its permissions.',
};

/** A path that cannot take the write the user asked for: their input, exit 2. */
const FS_PATH_CODES = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG']);
/** The machine cannot write (space, quota, mount, permissions): not a usage slip, so its own exit code (8). */
const FS_MACHINE_CODES = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EDQUOT']);

/**
 * Types an error from the file system: a missing file is E_FILE_NOT_FOUND, a path in the way (a
 * directory where a file goes) E_INVALID_INPUT, a machine that cannot write (permissions, a full
 * disk or quota, a read-only mount) E_LOCAL_WRITE; anything else is
 * returned as is. `what` says which file or directory, for the message.
 */
export function fromFsError(err: unknown, what: string): unknown {
  if (err instanceof WasmOciError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new WasmOciError('E_FILE_NOT_FOUND', `${what}: no such file or directory`, { cause: err });
  if (code !== undefined && FS_MACHINE_CODES.has(code)) {
    return new WasmOciError('E_LOCAL_WRITE', `${what}: ${(err as Error).message}`, { cause: err, hint: FS_HINTS[code] });
  }
  if (code !== undefined && FS_PATH_CODES.has(code)) return new WasmOciError('E_INVALID_INPUT', `${what}: ${(err as Error).message}`, { cause: err });
  return err;
}
