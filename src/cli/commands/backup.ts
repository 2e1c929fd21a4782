import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { WasmOciError } from '../../errors.js';
import { OciLayoutStore } from '../../content/oci-layout.js';
import { OciLayoutTarStore } from '../../content/oci-layout-tar.js';
import { backupToPath, moveTags, type BackupItem } from '../../operations/backup.js';
import { parseReferrersMode } from '../../operations/referrers.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addRemoteOptions, type TargetFlags } from '../options.js';
import { openTarget, type OpenedTarget } from '../target.js';

interface MoveFlags extends TargetFlags {
  output?: string;
  input?: string;
  includeReferrers?: boolean;
  excludeReferrers?: boolean;
  dryRun?: boolean;
  distributionSpec?: string;
  concurrency: number;
}

function tagsOf(opened: OpenedTarget, reference: string): string[] {
  if (opened.digest) throw new WasmOciError('E_USAGE', `"${reference}": backup and restore move tags; name them (REPO:t1,t2) or none for every tag`);
  return opened.tags;
}

function report(ctx: CliContext, verb: string, items: BackupItem[], where: string, extra: Record<string, unknown>): void {
  for (const i of items) {
    ctx.out(`${verb} ${i.tag} ${i.descriptor.digest}${i.referrers.length ? ` (+${i.referrers.length} referrer${i.referrers.length === 1 ? '' : 's'})` : ''}`);
  }
  ctx.out(`${verb} ${items.length} tag${items.length === 1 ? '' : 's'} ${/^(Backed up|Would back up)$/.test(verb) ? 'to' : 'from'} ${where}`);
  ctx.json({
    ...extra,
    tags: items.map((i) => ({ tag: i.tag, mediaType: i.descriptor.mediaType, digest: i.descriptor.digest, size: i.descriptor.size, referrers: i.referrers.map((r) => r.digest) })),
  });
}

/** oras backup (cmd/oras/root/backup.go). */
export function backupCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('backup')
    .description("back up a repository's tags (and with --include-referrers their referrers) to an OCI layout folder or a .tar of one")
    .argument('<repository>', 'registry/repository[:tag[,tag...]] (no tag: every tag)')
    .option('-o, --output <path>', 'a folder, or a file ending in .tar for a tar archive of the layout')
    .option('--include-referrers', 'also back up the referrers of each artifact, every level')
    .option('--dry-run', 'list what would be backed up; write nothing')
    .option('--distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag');
  addConcurrencyOption(addRemoteOptions(cmd));
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci backup -o ./backup registry.example.com/filters/example:v0.1\n  $ wasm-oci backup --include-referrers -o filters.tar registry.example.com/filters/example');
  cmd.action(async (reference: string, flags: MoveFlags, self: Command) => {
    const ctx = getContext(self);
    if (!flags.output) throw new WasmOciError('E_USAGE', 'backup needs -o/--output PATH (a folder, or a .tar file)');
    parseReferrersMode(flags.distributionSpec);
    const src = await openTarget(ctx, reference, { ...flags, ociLayout: false });
    const output = resolvePath(ctx.io.cwd, flags.output!);
    const items = await backupToPath(src.target, output, { tags: tagsOf(src, reference), referrers: flags.includeReferrers === true, dryRun: flags.dryRun === true, concurrency: flags.concurrency, signal: ctx.signal });
    report(ctx, flags.dryRun ? 'Would back up' : 'Backed up', items, flags.output!, { source: src.name, output, dryRun: flags.dryRun === true });
  });
  return cmd;
}

/** oras restore (cmd/oras/root/restore.go). */
export function restoreCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('restore')
    .description('restore tags (with their referrers unless --exclude-referrers) from an OCI layout folder or a .tar of one into a repository')
    .argument('<repository>', 'registry/repository[:tag[,tag...]] (no tag: every tag of the layout)')
    .option('--input <path>', 'the OCI layout: a folder or a tar archive of one')
    .option('--exclude-referrers', 'restore the artifacts without their referrers')
    .option('--dry-run', 'list what would be restored; upload nothing')
    .option('--distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag (where restored referrers are indexed)');
  addConcurrencyOption(addRemoteOptions(cmd));
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci restore --input filters.tar registry.example.com/filters/example\n  $ wasm-oci restore --dry-run --input ./backup registry.example.com/filters/example:v0.1');
  cmd.action(async (reference: string, flags: MoveFlags, self: Command) => {
    const ctx = getContext(self);
    if (!flags.input) throw new WasmOciError('E_USAGE', 'restore needs --input PATH (a layout folder or a tar of one)');
    const mode = parseReferrersMode(flags.distributionSpec);
    const input = resolvePath(ctx.io.cwd, flags.input!);
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new WasmOciError('E_FILE_NOT_FOUND', `no OCI layout at ${flags.input}`);
    const src = info.isFile() ? new OciLayoutTarStore(input) : new OciLayoutStore(input);
    const dst = await openTarget(ctx, reference, { ...flags, ociLayout: false }, { write: true });
    const items = await moveTags(src, dst.target, {
      tags: tagsOf(dst, reference), referrers: flags.excludeReferrers !== true, mode, dryRun: flags.dryRun === true, concurrency: flags.concurrency, signal: ctx.signal,
    });
    report(ctx, flags.dryRun ? 'Would restore' : 'Restored', items, flags.input!, { destination: dst.name, input, dryRun: flags.dryRun === true });
  });
  return cmd;
}
