import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addPlatformOption, addTargetOptions, type TargetFlags } from '../options.js';
import { resolvePlatform } from '../../copy/select-platform.js';
import { parsePlatform } from '../../oci/platform.js';
import { openTarget, requireRef } from '../target.js';

export function resolveCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('resolve')
    .alias('digest')
    .description('print the digest a tag points to')
    .argument('<reference>', 'registry/repository:tag (or a layout path with --oci-layout)')
    .option('-l, --full-reference', 'print name@digest instead of the digest alone');
  addPlatformOption(addTargetOptions(cmd), 'resolve the manifest of this platform');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci resolve registry.example.com/filters/example:v0.1\n  $ wasm-oci resolve --platform wasip1/wasm registry.example.com/filters/example:v0.1');
  cmd.action(async (reference: string, flags: TargetFlags & { fullReference?: boolean; platform?: string }, self: Command) => {
    const ctx = getContext(self);
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const opened = await openTarget(ctx, reference, flags);
    // oras resolve.go: oras.Resolve with TargetPlatform.
    const desc = await resolvePlatform(opened.target, requireRef(opened, reference), platform, ctx.signal);
    ctx.out(flags.fullReference ? `${opened.name}@${desc.digest}` : desc.digest);
    ctx.json({ reference, ...desc });
  });
  return cmd;
}
