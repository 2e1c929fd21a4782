import { ERROR_CODES, WasmOciError, fromFsError, type ErrorCode } from '../errors.js';
import type { CliContext } from './context.js';
import { hintFor } from './hints.js';

/** The JSON document of a failed command (docs/json-output.md): what scripts read on stdout. */
export interface ErrorDocument {
  error: {
    code: ErrorCode;
    exitCode: number;
    message: string;
    hint?: string;
    /** HTTP status of the registry response, when a registry answered. */
    status?: number;
    /** Distribution error codes from the response body (`MANIFEST_INVALID`, ...). */
    registryCodes?: string[];
  };
}

export function toWasmOciError(err: unknown): WasmOciError {
  if (err instanceof WasmOciError) return err;
  // A file system error that reached the top (a full disk, an unwritable -o) is the user's to fix, not a crash.
  const typed = fromFsError(err, (err as NodeJS.ErrnoException)?.path ?? 'file system');
  return typed instanceof WasmOciError ? typed : new WasmOciError('E_INTERNAL', (err as Error)?.message ?? String(err), { cause: err });
}

export function errorDocument(err: WasmOciError): ErrorDocument {
  const hint = hintFor(err);
  return {
    error: {
      code: err.code,
      exitCode: err.exitCode,
      message: err.message,
      ...(hint !== undefined ? { hint } : {}),
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.registryCodes?.length ? { registryCodes: err.registryCodes } : {}),
    },
  };
}

/**
 * Prints one line saying what failed, then a hint where one helps, on stderr; with --format json
 * also the error document on stdout, so a script parsing stdout always gets one document
 * (not with go-template: oras prints errors on stderr only).
 * Returns the exit code.
 */
export function renderError(ctx: CliContext, err: unknown): number {
  const e = toWasmOciError(err);
  const hint = hintFor(e);
  // A command that already wrote its one document for this outcome (test's results, inspect --strict's verdicts) says so.
  if (ctx.view === 'json' && e.details?.documentWritten !== true) ctx.io.stdout.write(`${JSON.stringify(errorDocument(e), null, 2)}\n`);
  const c = ctx.errColor;
  ctx.io.stderr.write(`${c.red('Error:')} ${e.message}\n`);
  if (hint) ctx.io.stderr.write(`${c.cyan('Hint:')} ${hint}\n`);
  if (ctx.debug && e.code === 'E_INTERNAL' && (err as Error)?.stack) ctx.io.stderr.write(`${c.dim((err as Error).stack!)}\n`);
  return e.exitCode;
}

/** The exit-code table, shown by `wasm-oci help exit-codes` and copied in the README. */
export function exitCodeTable(): Array<{ exitCode: number; codes: ErrorCode[]; meaning: string }> {
  const byExit = new Map<number, { codes: ErrorCode[]; meanings: string[] }>();
  byExit.set(0, { codes: [], meanings: ['success'] });
  for (const [code, info] of Object.entries(ERROR_CODES) as Array<[ErrorCode, (typeof ERROR_CODES)[ErrorCode]]>) {
    const row = byExit.get(info.exitCode) ?? { codes: [], meanings: [] };
    row.codes.push(code);
    row.meanings.push(info.summary);
    byExit.set(info.exitCode, row);
  }
  return [...byExit.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([exitCode, row]) => ({ exitCode, codes: row.codes, meaning: row.meanings.join('; ') }));
}
