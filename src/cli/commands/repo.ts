import { Command } from 'commander';
import { WasmOciError } from '../../errors.js';
import { hasTagLister } from '../../content/interfaces.js';
import type { CliContext } from '../context.js';
import { addTargetOptions, type TargetFlags } from '../options.js';
import { openTarget } from '../target.js';
import { repoLsCommand } from './repo-ls.js';

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * oras cmd/oras/root/repo/tags.go isDigestTag: the tag with its first `-` made a `:` parses as a
 * digest (go-digest Parse: a registered algorithm and hex of its length), like `sha256-<hex>`.
 */
export function isDigestTag(tag: string): boolean {
  const m = /^([a-z0-9]+)-([a-f0-9]+)$/.exec(tag);
  return m !== null && DIGEST_HEX[m[1]!] === m[2]!.length;
}

export function repoCommand(getContext: (cmd: Command) => CliContext): Command {
  const repo = new Command('repo').alias('repository').description('repository operations');
  repo.addHelpText('after', '\nExample:\n  $ wasm-oci repo tags --last v0.1 registry.example.com/filters/example');
  const tags = new Command('tags')
    .alias('show-tags')
    .description('list the tags of a repository (every page)')
    .argument('<repository>', 'registry/repository (or a layout path with --oci-layout)')
    .option('--last <tag>', 'list only tags after this one')
    .option('--exclude-digest-tags', 'leave out digest-like tags such as sha256-<hex> (the referrers tag schema and signatures)');
  addTargetOptions(tags);
  tags.addHelpText('after', '\nExample:\n  $ wasm-oci repo tags registry.example.com/filters/example');
  tags.action(async (repository: string, flags: TargetFlags & { last?: string; excludeDigestTags?: boolean }, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, repository, flags);
    if (!hasTagLister(opened.target)) throw new WasmOciError('E_UNSUPPORTED', 'this target cannot list tags');
    const all = await opened.target.tags({ last: flags.last });
    const list = flags.excludeDigestTags ? all.filter((t) => !isDigestTag(t)) : all;
    for (const t of list) ctx.out(t);
    ctx.json({ repository: opened.name, tags: list });
  });
  repo.addCommand(tags);
  repo.addCommand(repoLsCommand(getContext));
  return repo;
}
