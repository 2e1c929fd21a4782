import { Command } from 'commander';
import { WasmOciError } from '../../errors.js';
import type { ReferrerLister } from '../../content/interfaces.js';
import { discoverReferrers, parseReferrersMode, type DiscoverNode } from '../../operations/referrers.js';
import type { CliContext } from '../context.js';
import { addPlatformOption, addTargetOptions, positiveInt, type TargetFlags } from '../options.js';
import { resolvePlatform } from '../../copy/select-platform.js';
import { parsePlatform } from '../../oci/platform.js';
import { orasDescriptor } from '../oras-json.js';
import { openTarget, requireRef } from '../target.js';

interface DiscoverFlags extends TargetFlags {
  artifactType?: string;
  depth?: number;
  distributionSpec?: string;
  platform?: string;
}

/** oras's JSON node (display/metadata/model/discover.go Node): reference, the descriptor, referrers. */
function jsonNode(name: string, n: DiscoverNode): unknown {
  const { referrers, ...desc } = n;
  return { ...orasDescriptor(name, desc), referrers: referrers.map((r) => jsonNode(name, r)) };
}

/** oras's tree view (display/metadata/tree/discover.go): artifact type, then digest, then annotations. */
function treeLines(n: DiscoverNode, prefix: string, out: string[]): void {
  n.referrers.forEach((r, i) => {
    const last = i === n.referrers.length - 1;
    out.push(`${prefix}${last ? '└── ' : '├── '}${r.artifactType || '<unknown>'}`);
    const p1 = `${prefix}${last ? '    ' : '│   '}`;
    out.push(`${p1}└── ${r.digest}`);
    const p2 = `${p1}    `;
    const ann = Object.entries(r.annotations ?? {});
    const hasKids = r.referrers.length > 0;
    if (ann.length) {
      out.push(`${p2}${hasKids ? '├── ' : '└── '}[annotations]`);
      const p3 = `${p2}${hasKids ? '│   ' : '    '}`;
      ann.forEach(([k, v], j) => out.push(`${p3}${j === ann.length - 1 ? '└── ' : '├── '}${k}: ${JSON.stringify(v)}`));
    }
    treeLines(r, p2, out);
  });
}

export function discoverCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('discover')
    .description('list the referrers of a manifest (tree, table or json with the global --format)')
    .argument('<reference>', 'registry/repository:tag|@digest (or a layout path with --oci-layout)')
    .option('--artifact-type <type>', 'only referrers of this artifact type')
    .option('--depth <n>', 'levels of referrers to show (all when not given)', (v) => positiveInt(v, '--depth'))
    .option('--distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag');
  addPlatformOption(addTargetOptions(cmd), 'list the referrers of the manifest of this platform');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci discover registry.example.com/filters/example:v0.1\n  $ wasm-oci discover --format json --depth 1 registry.example.com/filters/example:v0.1\n  $ wasm-oci discover --format table registry.example.com/filters/example:v0.1');
  cmd.action(async (reference: string, flags: DiscoverFlags, self: Command) => {
    const ctx = getContext(self);
    parseReferrersMode(flags.distributionSpec);
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const opened = await openTarget(ctx, reference, flags);
    const target = opened.target as Partial<ReferrerLister> & typeof opened.target;
    if (typeof target.referrers !== 'function') throw new WasmOciError('E_UNSUPPORTED', 'this target cannot list referrers');
    // oras discover.go: the subject is oras.Resolve with TargetPlatform.
    const subject = await resolvePlatform(opened.target, requireRef(opened, reference), platform, ctx.signal);
    // oras shows only direct referrers in the table view.
    const depth = ctx.view === 'table' ? 1 : flags.depth ?? 0;
    const root = await discoverReferrers(target as ReferrerLister, subject, { artifactType: flags.artifactType, depth, signal: ctx.signal });
    ctx.json(jsonNode(opened.name, root));
    if (ctx.view === 'table') {
      const n = root.referrers.length;
      ctx.out(`Discovered ${n} artifact${n === 1 ? '' : 's'} referencing ${reference}`);
      ctx.out(`Digest: ${subject.digest}`);
      if (n) {
        const w = Math.max('Artifact Type'.length, ...root.referrers.map((r) => (r.artifactType ?? '').length));
        ctx.out('');
        ctx.out(`${'Artifact Type'.padEnd(w)}  Digest`);
        for (const r of root.referrers) ctx.out(`${(r.artifactType ?? '').padEnd(w)}  ${r.digest}`);
      }
      return;
    }
    const lines = [`${opened.name}@${subject.digest}`];
    treeLines(root, '', lines);
    for (const l of lines) ctx.out(l);
  });
  return cmd;
}
