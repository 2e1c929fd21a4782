import { Command } from 'commander';
import { WasmOciError } from '../../errors.js';
import { hasTagLister } from '../../content/interfaces.js';
import type { CliContext } from '../context.js';
import { addTargetOptions, type TargetFlags } from '../options.js';
import { openTarget } from '../target.js';
import { repoLsCommand } from './repo-ls.js';

export function repoCommand(getContext: (cmd: Command) => CliContext): Command {
  const repo = new Command('repo').alias('repository').description('repository operations');
  repo.addHelpText('after', '\nExample:\n  $ wasm-oci repo tags --last v0.1 registry.example.com/filters/example');
  const tags = new Command('tags')
    .alias('show-tags')
    .description('list the tags of a repository (every page)')
    .argument('<repository>', 'registry/repository (or a layout path with --oci-layout)')
    .option('--last <tag>', 'list only tags after this one');
  addTargetOptions(tags);
  tags.addHelpText('after', '\nExample:\n  $ wasm-oci repo tags registry.example.com/filters/example');
  tags.action(async (repository: string, flags: TargetFlags & { last?: string }, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, repository, flags);
    if (!hasTagLister(opened.target)) throw new WasmOciError('E_UNSUPPORTED', 'this target cannot list tags');
    const list = await opened.target.tags({ last: flags.last });
    for (const t of list) ctx.out(t);
    ctx.json({ repository: opened.name, tags: list });
  });
  repo.addCommand(tags);
  repo.addCommand(repoLsCommand(getContext));
  return repo;
}
