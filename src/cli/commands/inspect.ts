import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { inspectFile, inspectReference } from '../../operations/inspect.js';
import { WasmOciError } from '../../errors.js';
import { ANNOTATIONS } from '../../oci/media-types.js';
import type { WasmInfo } from '../../wasm/types.js';
import type { ConsumerVerdict } from '../../wasm/verdicts.js';
import type { CliContext } from '../context.js';
import { addTargetOptions, positiveInt, type TargetFlags } from '../options.js';
import { formatBytes } from '../progress.js';
import { openTarget, requireRef } from '../target.js';

interface InspectFlags extends TargetFlags {
  moduleSizeLimit?: number;
  strict?: boolean;
}

export function inspectCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('inspect')
    .description('inspect a local .wasm file, or an artifact in a registry or layout, with a verdict per runtime')
    .argument('<target>', 'a .wasm file, registry/repository:tag|@digest, or with --oci-layout path[:tag|@digest]')
    .option('--strict', 'exit 7 when a consumer the artifact targets would refuse it (Envoy (V8) fails to link the module, Istio cannot fetch it ...); 0 when it would load')
    .option('--module-size-limit <bytes>', 'largest module accepted, from any module layer or tar (default 268435456, Istio\'s 256 MiB)', (v) => positiveInt(v, '--module-size-limit'));
  addTargetOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci inspect examples/example-filter.wasm
  $ wasm-oci inspect --strict registry.example.com/filters/example:v0.1   # CI gate: exit 7 if refused
  $ wasm-oci inspect --oci-layout ./wasm-store:v0.1
  $ wasm-oci inspect --format json registry.example.com/filters/example:v0.1`,
  );
  cmd.action(async (input: string, flags: InspectFlags, self: Command) => {
    const ctx = getContext(self);
    if (!flags.ociLayout && flags.ociLayoutPath === undefined && (await isLocalFile(resolvePath(ctx.io.cwd, input)))) {
      const result = await inspectFile(resolvePath(ctx.io.cwd, input));
      const verdicts = result.verdict ? [result.verdict] : [];
      ctx.json({ file: input, ...result.info, ...(result.link?.depth === 'linked' ? { link: result.link } : {}), verdicts });
      renderWasm(ctx, input, result.info);
      if (verdicts.length > 0) {
        ctx.out(`${ctx.color.bold('Verdicts:')}`);
        for (const v of verdicts) renderVerdict(ctx, v);
      }
      if (flags.strict) failIfRefused(ctx, input, verdicts);
      return;
    }
    if (!flags.ociLayout && flags.ociLayoutPath === undefined && looksLikeFilePath(input)) {
      throw new WasmOciError('E_FILE_NOT_FOUND', `no such file: ${input}`, {
        hint: 'To inspect an artifact in a registry, name a tag or digest: registry.example.com/repo:tag.',
      });
    }
    const opened = await openTarget(ctx, input, flags);
    const result = await inspectReference({ target: opened.target, reference: requireRef(opened, input), moduleSizeLimit: flags.moduleSizeLimit, signal: ctx.signal });
    // JSON readers get the error document alone (one document on stdout); people get the report, then the error.
    if (result.integrityError && ctx.format === 'json') throw result.integrityError;
    ctx.json({
      reference: input,
      descriptor: result.descriptor,
      manifest: result.manifest,
      config: result.config,
      module: result.module && {
        layer: result.module.layer,
        fileName: result.module.fileName,
        fromTar: result.module.fromTar,
        size: result.module.size,
        digest: result.module.digest,
        error: result.module.error,
        info: result.module.info,
      },
      verdicts: result.verdicts,
    });
    const c = ctx.color;
    ctx.out(`${c.bold('Reference:')} ${input}`);
    ctx.out(`${c.bold('Digest:')}    ${result.descriptor.digest}  ${c.dim('(the sha256 Istio wants for an oci:// URL)')}`);
    ctx.out(`${c.bold('MediaType:')} ${result.descriptor.mediaType}`);
    if (result.manifest.artifactType) ctx.out(`${c.bold('ArtifactType:')} ${result.manifest.artifactType}`);
    ctx.out(`${c.bold('Config:')}    ${result.manifest.config.mediaType} ${formatBytes(result.manifest.config.size)}`);
    ctx.out(`${c.bold('Layers:')}`);
    result.manifest.layers.forEach((l, i) => {
      const title = l.annotations?.[ANNOTATIONS.title];
      ctx.out(`  ${i}  ${l.mediaType}  ${formatBytes(l.size)}${title ? `  ${title}` : ''}`);
    });
    if (result.module?.info) renderWasm(ctx, result.module.fileName ?? 'module', result.module.info);
    else if (result.module?.error) ctx.out(`${c.bold('Module:')}    ${c.red(result.module.error)}`);
    ctx.out(`${c.bold('Verdicts:')}`);
    for (const v of result.verdicts) renderVerdict(ctx, v);
    if (result.integrityError) throw result.integrityError;
    if (flags.strict) failIfRefused(ctx, input, result.verdicts);
  });
  return cmd;
}

/** A path (`./x`, `/x`, `x.wasm`) with no tag or digest is a file the user meant, not a reference. */
function looksLikeFilePath(input: string): boolean {
  if (/[:@]/.test(input.split('/').pop() ?? '')) return false;
  return /\.(wasm|wat|wast)$/i.test(input) || /^(\.{1,2}\/|\/|~)/.test(input);
}

/** --strict: exit 7 (E_CONSUMER_REFUSED) when a consumer the artifact is made for refuses it; the report is already out. */
function failIfRefused(ctx: CliContext, input: string, verdicts: ConsumerVerdict[]): void {
  const refused = verdicts.filter((v) => v.targeted && !v.ok);
  if (refused.length === 0) return;
  const names = refused.map((v) => CONSUMER_NAMES[v.consumer] ?? v.consumer).join(', ');
  throw new WasmOciError('E_CONSUMER_REFUSED', `${input}: refused by ${names}`, { details: { documentWritten: true } });
}

async function isLocalFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

const CONSUMER_NAMES: Record<string, string> = {
  istio: 'Istio (WasmPlugin oci://)',
  wasme: 'wasme / Alibaba ASM',
  cncf: 'CNCF (wkg, wasm-pkg-client)',
  runwasi: 'runwasi (containerd)',
  'proxy-wasm': 'proxy-wasm (Envoy)',
};

function renderVerdict(ctx: CliContext, v: ConsumerVerdict): void {
  const c = ctx.color;
  const name = (CONSUMER_NAMES[v.consumer] ?? v.consumer).padEnd(30);
  if (v.ok) ctx.out(`  ${c.green('✓')} ${name} ${v.summary ?? `loads it${v.variant ? ` (${v.variant})` : ''}`}`);
  else {
    ctx.out(`  ${c.red('✗')} ${name} ${v.summary ?? 'refuses it'}`);
    for (const r of v.reasons) ctx.out(`      - ${r}`);
  }
  for (const n of v.notes ?? []) ctx.out(`      ${c.dim(`note: ${n}`)}`);
}

function renderWasm(ctx: CliContext, name: string, info: WasmInfo): void {
  const c = ctx.color;
  const list = (items: string[]) => (items.length ? items.join(', ') : 'none');
  ctx.out(`${c.bold('Module:')}    ${name}`);
  ctx.out(`  Kind:            ${info.kind === 'component' ? 'component' : 'core module'} (version ${info.version})`);
  ctx.out(`  Size:            ${info.size} bytes (${formatBytes(info.size)})`);
  ctx.out(`  SHA256:          ${info.sha256}`);
  ctx.out(`  WASI:            ${info.wasi ?? 'none'}`);
  ctx.out(`  Memories:        ${info.memories.count}${info.memories.exported ? ' (exported)' : ''}`);
  ctx.out(`  Imports:         ${list(info.imports.map((i) => `${i.module}.${i.name} (${i.kind})`))}`);
  ctx.out(`  Exports:         ${list(info.exports.map((e) => `${e.name} (${e.kind})`))}`);
  ctx.out(`  Custom sections: ${list(info.customSections)}`);
  const p = info.proxyWasm;
  if (!p) {
    ctx.out(`  Proxy-Wasm:      not a proxy-wasm filter`);
    return;
  }
  ctx.out(`  Proxy-Wasm ABI:  ${list(p.abiVersions)}`);
  ctx.out(`  Allocator:       ${p.allocator ?? c.red('none')}`);
  ctx.out(`  Memory export:   ${p.memoryExported ? 'yes' : c.red('no')}`);
  ctx.out(`  Unknown imports: ${list(p.unknownImports.map((i) => `${i.module}.${i.name}`))}`);
  ctx.out(`  Filter checks:   ${p.problems.length ? c.red(p.problems.join('; ')) : c.green('pass')}`);
}
