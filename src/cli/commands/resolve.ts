import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addTargetOptions, type TargetFlags } from '../options.js';
import { openTarget, requireRef } from '../target.js';

export function resolveCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('resolve')
    .alias('digest')
    .description('print the digest a tag points to')
    .argument('<reference>', 'registry/repository:tag (or a layout path with --oci-layout)')
    .option('-l, --full-reference', 'print name@digest instead of the digest alone');
  addTargetOptions(cmd);
  cmd.addHelpText('after', '\nExample:\n  $ wasm-oci resolve registry.example.com/filters/example:v0.1');
  cmd.action(async (reference: string, flags: TargetFlags & { fullReference?: boolean }, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, reference, flags);
    const desc = await opened.target.resolve(requireRef(opened, reference));
    ctx.out(flags.fullReference ? `${opened.name}@${desc.digest}` : desc.digest);
    ctx.json({ reference, ...desc });
  });
  return cmd;
}
