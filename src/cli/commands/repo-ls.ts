import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addRemoteOptions, type TargetFlags } from '../options.js';
import { openRegistry } from '../target.js';

/** oras repo ls (cmd/oras/root/repo/ls.go): the catalog, every page, filtered to a namespace. */
export function repoLsCommand(getContext: (cmd: Command) => CliContext): Command {
  const ls = new Command('ls')
    .alias('list')
    .description('list the repositories of a registry (the catalog, every page)')
    .argument('<registry>', 'HOST[:PORT], or HOST[:PORT]/namespace for the repositories under it')
    .option('--last <repository>', 'list only repositories after this one');
  addRemoteOptions(ls);
  ls.addHelpText('after', '\nExamples:\n  $ wasm-oci repo ls localhost:5000\n  $ wasm-oci repo ls --last filters/a localhost:5000/filters');
  ls.action(async (input: string, flags: TargetFlags & { last?: string }, self: Command) => {
    const ctx = getContext(self);
    const { registry, host, namespace } = await openRegistry(ctx, input, flags);
    try {
      const prefix = namespace ? `${namespace}/` : '';
      const all = await registry.repositories({ last: flags.last, signal: ctx.signal });
      const repos = all.filter((r) => r.startsWith(prefix));
      // Text shows the names under the namespace (oras display/metadata/text/repo_list.go); JSON the full names.
      for (const r of repos) ctx.out(r.slice(prefix.length));
      ctx.json({ registry: host, repositories: repos });
    } finally {
      await registry.close();
    }
  });
  return ls;
}
