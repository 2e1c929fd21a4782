import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { withBlobCache } from '../content/cache.js';
import { loadFilterFile, loadFilterReference, type FilterModule } from '../operations/run-filter.js';
import type { CliContext } from './context.js';
import { addTargetOptions, positiveInt, type TargetFlags } from './options.js';
import { openTarget, requireRef } from './target.js';

export interface FilterSourceFlags extends TargetFlags {
  cacheDir?: string;
  moduleSizeLimit?: number;
  callbackBudget?: number;
  memoryCap?: number;
}

/**
 * The registry/layout flags of `run` and `test`. Their `-H` is curl's (a request header), so the
 * registry header of the other commands is `--header` only here.
 */
export function addFilterSourceOptions(cmd: Command): Command {
  addTargetOptions(cmd);
  const header = cmd.options.find((o) => o.long === '--header');
  if (header !== undefined) {
    header.short = undefined;
    header.flags = '--header <header>';
  }
  return cmd
    .option('--cache-dir <dir>', 'content-addressed blob cache, as pull uses it (default: $WASM_OCI_CACHE_DIR)')
    .option('--module-size-limit <bytes>', 'largest module accepted from a tar layer', (v) => positiveInt(v, '--module-size-limit'))
    .option('--callback-budget <ms>', 'time each callback into the filter may take before it is stopped (default 1000)', (v) => positiveInt(v, '--callback-budget'))
    .option('--memory-cap <bytes>', "cap on the filter's linear memory (default 256 MiB)", (v) => positiveInt(v, '--memory-cap'));
}

/** A .wasm file when `input` is one (and --oci-layout is not given), else the module of the reference. */
export async function loadFilter(ctx: CliContext, input: string, flags: FilterSourceFlags): Promise<FilterModule> {
  const path = resolvePath(ctx.io.cwd, input);
  if (!flags.ociLayout && flags.ociLayoutPath === undefined && (await stat(path).then((s) => s.isFile(), () => false))) return loadFilterFile(path).then((m) => ({ ...m, source: input }));
  const opened = await openTarget(ctx, input, flags);
  const cacheDir = flags.cacheDir ?? (ctx.io.env.WASM_OCI_CACHE_DIR || undefined);
  const target = cacheDir ? withBlobCache(opened.target, resolvePath(ctx.io.cwd, cacheDir), { onWarning: (m) => ctx.warn(m), onDebug: (l) => ctx.trace(l) }) : opened.target;
  const options: Parameters<typeof loadFilterReference>[0] = {
    target,
    reference: requireRef(opened, input),
    display: input,
    signal: ctx.signal,
    onWarning: (m) => ctx.warn(m),
  };
  if (flags.moduleSizeLimit !== undefined) options.moduleSizeLimit = flags.moduleSizeLimit;
  return loadFilterReference(options);
}

export function limitsOf(flags: FilterSourceFlags): { callbackBudgetMs?: number; memoryCapBytes?: number } {
  const out: { callbackBudgetMs?: number; memoryCapBytes?: number } = {};
  if (flags.callbackBudget !== undefined) out.callbackBudgetMs = flags.callbackBudget;
  if (flags.memoryCap !== undefined) out.memoryCapBytes = flags.memoryCap;
  return out;
}
