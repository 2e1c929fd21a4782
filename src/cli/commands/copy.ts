import { Command } from 'commander';
import { copyReference } from '../../copy/copy.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addRemoteOptions, type TargetFlags } from '../options.js';
import { describeBlob, formatBytes, TransferDisplay } from '../progress.js';
import { openTarget, readStdinSecret, requireRef } from '../target.js';

interface CopyFlags extends TargetFlags {
  fromOciLayout?: boolean;
  toOciLayout?: boolean;
  concurrency: number;
}

export function copyCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('copy')
    .alias('cp')
    .description('copy an artifact and everything it references between registries and OCI layouts')
    .argument('<source>', 'registry/repository:tag|@digest, or a layout path with --from-oci-layout')
    .argument('<destination>', 'registry/repository[:tag[,tag...]], or a layout path with --to-oci-layout')
    .option('--from-oci-layout', 'the source is an OCI image layout')
    .option('--to-oci-layout', 'the destination is an OCI image layout');
  addConcurrencyOption(addRemoteOptions(cmd));
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci copy registry.example.com/filters/example:v0.1 mirror.example.com/filters/example:v0.1
  $ wasm-oci copy --from-oci-layout ./wasm-store:v0.1 registry.example.com/filters/example:v0.1`,
  );
  cmd.action(async (source: string, destination: string, flags: CopyFlags, self: Command) => {
    const ctx = getContext(self);
    let secret: Promise<string> | undefined;
    const stdinSecret = () => (secret ??= readStdinSecret(ctx));
    const src = await openTarget(ctx, source, { ...flags, ociLayout: flags.fromOciLayout }, { stdinSecret });
    const dst = await openTarget(ctx, destination, { ...flags, ociLayout: flags.toOciLayout }, { write: true, stdinSecret });
    const srcRef = requireRef(src, source);
    // Without a tag on the destination, keep the source's tag (as oras copy does).
    const tags = dst.tags.length ? dst.tags : !dst.digest && !src.digest ? [srcRef] : [];
    const sameRegistry = src.kind === 'registry' && dst.kind === 'registry' && src.registry === dst.registry && src.repository !== dst.repository;
    const display = await TransferDisplay.create(ctx, 'Copying', `Resolving ${source}`);
    let result;
    try {
      result = await copyReference(src.target, srcRef, dst.target, tags, {
        concurrency: flags.concurrency,
        mountFrom: sameRegistry ? src.repository : undefined,
        onProgress: display.onProgress,
        onCopy: (desc, action) => {
          const verb = action === 'copied' ? 'Copied' : action === 'mounted' ? 'Mounted' : 'Exists';
          display.onDone(desc, verb);
          if (!ctx.interactive) ctx.out(`${verb.padEnd(9)} ${describeBlob(desc)} ${formatBytes(desc.size)}`);
        },
      });
    } finally {
      display.stop();
    }
    ctx.out(`Copied [${src.kind}] ${source} => [${dst.kind}] ${destination}`);
    ctx.out(`Digest: ${result.descriptor.digest}`);
    ctx.json({ source, destination, ...result.descriptor, tags: result.tags });
  });
  return cmd;
}
