import { Command } from 'commander';
import { resolve as resolvePath } from 'node:path';
import { withBlobCache } from '../../content/cache.js';
import { pullArtifact } from '../../operations/pull.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addTargetOptions, positiveInt, type TargetFlags } from '../options.js';
import { formatBytes, TransferDisplay } from '../progress.js';
import { openTarget, requireRef } from '../target.js';

interface PullFlags extends TargetFlags {
  output: string;
  concurrency: number;
  moduleSizeLimit?: number;
  cacheDir?: string;
}

export function pullCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('pull')
    .description('pull a Wasm artifact and write its module (and files) into a directory')
    .argument('<reference>', 'registry/repository:tag|@digest or, with --oci-layout, path[:tag|@digest]')
    .option('-o, --output <dir>', 'output directory', '.')
    .option('--cache-dir <dir>', 'content-addressed blob cache (DIR/sha256/<hex>) kept between runs; hits are verified (default: $WASM_OCI_CACHE_DIR)')
    .option('--module-size-limit <bytes>', 'largest module accepted from a tar layer (Istio caps it at 256 MiB)', (v) => positiveInt(v, '--module-size-limit'));
  addConcurrencyOption(addTargetOptions(cmd));
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci pull --oci-layout ./wasm-store:v0.1 -o ./out
  $ wasm-oci pull registry.example.com/filters/example:v0.1 -o ./filters
  $ wasm-oci pull registry.example.com/filters/example@sha256:... --cache-dir ~/.cache/wasm-oci`,
  );
  cmd.action(async (reference: string, flags: PullFlags, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, reference, flags);
    const ref = requireRef(opened, reference);
    const outputDir = resolvePath(ctx.io.cwd, flags.output);
    const cacheDir = flags.cacheDir ?? (ctx.io.env.WASM_OCI_CACHE_DIR || undefined);
    const target = cacheDir
      ? withBlobCache(opened.target, resolvePath(ctx.io.cwd, cacheDir), { onWarning: (m) => ctx.warn(m), onDebug: (l) => ctx.trace(l) })
      : opened.target;
    const display = await TransferDisplay.create(ctx, 'Downloading', `Resolving ${reference}`);
    let result;
    try {
      result = await pullArtifact({
        signal: ctx.signal,
        onWarning: (m) => ctx.warn(m),
        target,
        reference: ref,
        outputDir,
        concurrency: flags.concurrency,
        moduleSizeLimit: flags.moduleSizeLimit,
        onProgress: display.onProgress,
      });
    } finally {
      display.stop();
    }
    for (const f of result.files) ctx.out(`Downloaded ${f.name} ${formatBytes(f.size)}`);
    ctx.out(`Pulled [${opened.kind}] ${opened.name}${opened.digest ? `@${opened.digest}` : `:${opened.ref}`}`);
    ctx.out(`Digest: ${result.descriptor.digest}`);
    ctx.json({
      reference: `${opened.name}${opened.digest ? `@${opened.digest}` : `:${opened.ref}`}`,
      mediaType: result.descriptor.mediaType,
      digest: result.descriptor.digest,
      size: result.descriptor.size,
      files: result.files,
      module: result.module,
    });
  });
  return cmd;
}
