import { Command } from 'commander';
import { storeRoot } from '../../copy/copy.js';
import { fetchManifest } from '../../operations/manifest.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addTargetOptions, type TargetFlags } from '../options.js';
import { openTarget, requireRef } from '../target.js';

export function tagCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('tag')
    .description('point one or more new tags at an existing manifest')
    .argument('<source>', 'registry/repository:tag|@digest (or a layout path with --oci-layout)')
    .argument('<tags...>', 'new tags');
  addTargetOptions(cmd);
  addConcurrencyOption(cmd, 5, 'tags set in parallel on a registry');
  cmd.addHelpText('after', '\nExample:\n  $ wasm-oci tag registry.example.com/filters/example:v0.1 stable latest');
  cmd.action(async (source: string, tags: string[], flags: TargetFlags & { concurrency: number }, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, source, flags);
    const { descriptor, bytes } = await fetchManifest(opened.target, requireRef(opened, source));
    // The manifest is there already: storeRoot only adds the tags (a PUT by tag on a registry).
    await storeRoot(opened.target, descriptor, bytes, tags, true, ctx.signal, flags.concurrency);
    for (const t of tags) ctx.out(`Tagged ${t}`);
    ctx.out(`Digest: ${descriptor.digest}`);
    ctx.json({ reference: source, digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size, tags });
  });
  return cmd;
}
