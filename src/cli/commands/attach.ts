import { Command } from 'commander';
import { resolve as resolvePath } from 'node:path';
import { WasmOciError } from '../../errors.js';
import { writeFileAtomic } from '../../content/oci-layout.js';
import { loadAnnotations, ANNOTATION_CONFIG_KEY, ANNOTATION_MANIFEST_KEY } from '../../pack/annotations.js';
import { attachArtifact, parseReferrersMode } from '../../operations/referrers.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addTargetOptions, collect, type TargetFlags } from '../options.js';
import { orasDescriptor } from '../oras-json.js';
import { parsePlatform } from '../../oci/platform.js';
import { openTarget, requireRef } from '../target.js';

interface AttachFlags extends TargetFlags {
  artifactType?: string;
  annotation?: string[];
  annotationFile?: string;
  exportManifest?: string;
  distributionSpec?: string;
  config?: string;
  platform?: string;
  disablePathValidation?: boolean;
  concurrency: number;
}

/** oras attach (cmd/oras/root/attach.go): files or annotations attached to an existing artifact. */
export function attachCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('attach')
    .description('attach files to an existing artifact (a manifest whose subject is it)')
    .argument('<reference>', 'the subject: registry/repository:tag|@digest (or a layout path with --oci-layout)')
    .argument('[files...]', 'file[:mediaType] to attach as layers')
    .option('--artifact-type <type>', 'artifact type of the attached manifest (required)')
    .option('--config <file[:mediatype]>', 'config blob of the attached manifest (default: the empty config; media type application/vnd.unknown.config.v1+json)')
    .option('--platform <os[/arch[/variant]][:os_version]>', 'attach to the manifest of this platform when the subject is an index (a manifest must be of it)')
    .option('-a, --annotation <key=value>', 'manifest annotation (repeatable)', collect, [])
    .option('--annotation-file <file>', 'annotations file, as oras reads it ($manifest, file names)')
    .option('--export-manifest <file>', 'also write the pushed manifest to this file')
    .option('--disable-path-validation', 'allow absolute and ../ file paths (their titles are refused by pulls that check paths)')
    .option('--distribution-spec <spec>', 'v1.1-referrers-api (the registry indexes referrers) or v1.1-referrers-tag (the sha256-<hex> tag index)');
  // oras attach.go: --concurrency, default 5.
  addConcurrencyOption(addTargetOptions(cmd), 5, 'files uploaded in parallel');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci attach --artifact-type doc/example registry.example.com/filters/example:v0.1 hi.txt\n  $ wasm-oci attach --artifact-type doc/example --annotation key=val --oci-layout ./wasm-store:v0.1');
  cmd.action(async (reference: string, files: string[], flags: AttachFlags, self: Command) => {
    const ctx = getContext(self);
    const mode = parseReferrersMode(flags.distributionSpec);
    // attach.go PreRunE: CheckMutuallyExclusiveFlags("config", "platform").
    if (flags.config !== undefined && flags.platform !== undefined) throw new WasmOciError('E_USAGE', '--config, --platform cannot be used at the same time');
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const annotations = await loadAnnotations({ flags: flags.annotation, file: flags.annotationFile ? resolvePath(ctx.io.cwd, flags.annotationFile) : undefined });
    const manifestAnnotations = annotations[ANNOTATION_MANIFEST_KEY] ?? {};
    if (files.length === 0 && Object.keys(manifestAnnotations).length === 0) {
      throw new WasmOciError('E_USAGE', 'neither file nor annotation provided in the command', { hint: 'attach files as arguments or annotations with --annotation' });
    }
    const fileAnnotations = Object.fromEntries(Object.entries(annotations).filter(([k]) => k !== ANNOTATION_MANIFEST_KEY && k !== ANNOTATION_CONFIG_KEY));
    const opened = await openTarget(ctx, reference, flags, { write: true });
    const result = await attachArtifact(opened.target, requireRef(opened, reference), {
      artifactType: flags.artifactType!, files, cwd: ctx.io.cwd, manifestAnnotations, fileAnnotations, mode, signal: ctx.signal,
      ...(flags.config !== undefined ? { config: flags.config, configAnnotations: annotations[ANNOTATION_CONFIG_KEY] } : {}),
      ...(platform ? { platform } : {}),
      disablePathValidation: flags.disablePathValidation === true,
      concurrency: flags.concurrency,
    });
    if (flags.exportManifest) await writeFileAtomic(resolvePath(ctx.io.cwd, flags.exportManifest), result.manifest);
    const sep = opened.kind === 'oci-layout' ? '@' : '@';
    ctx.out(`Attached to [${opened.kind}] ${opened.name}${sep}${result.subject.digest}`);
    ctx.out(`Digest: ${result.descriptor.digest}`);
    // oras's JSON (display/metadata/model/descriptor.go FromDescriptor): reference, then the descriptor.
    ctx.json({
      ...orasDescriptor(opened.name, result.descriptor),
      subject: `${opened.name}@${result.subject.digest}`,
      referrersIndexUpdated: result.indexUpdated,
    });
  });
  return cmd;
}
