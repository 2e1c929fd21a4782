import { ERROR_CODES, WasmOciError, type ErrorCode } from '../errors.js';
import type { CliContext } from './context.js';

/** Prints one line saying what failed, then a hint where one helps; returns the exit code. */
export function renderError(ctx: CliContext, err: unknown): number {
  const e = err instanceof WasmOciError ? err : new WasmOciError('E_INTERNAL', (err as Error)?.message ?? String(err), { cause: err });
  if (ctx.format === 'json') {
    ctx.io.stdout.write(`${JSON.stringify({ error: { code: e.code, exitCode: e.exitCode, message: e.message, hint: e.hint } }, null, 2)}\n`);
  }
  const c = ctx.errColor;
  ctx.io.stderr.write(`${c.red('Error:')} ${e.message}\n`);
  if (e.hint) ctx.io.stderr.write(`${c.cyan('Hint:')} ${e.hint}\n`);
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
