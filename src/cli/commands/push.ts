import { Command, InvalidArgumentError, Option } from 'commander';
import { stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { createFileDigestMemo } from '../../content/digest-memo.js';
import { WasmOciError } from '../../errors.js';
import { pushArtifact } from '../../operations/push.js';
import type { ImageSpecVersion, PackOptions } from '../../pack/types.js';
import { parsePlatform } from '../../oci/platform.js';
import { loadAnnotations } from '../../pack/annotations.js';
import { parseFileRef } from '../../pack/file-ref.js';
import { orasPackPlan } from '../../pack/oras-style.js';
import { ANNOTATIONS } from '../../oci/media-types.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addTargetOptions, collect, type TargetFlags } from '../options.js';
import { TransferDisplay } from '../progress.js';
import { orasPush } from '../oras-json.js';
import { openTarget } from '../target.js';

interface PushFlags extends TargetFlags {
  strict?: boolean;
  profile?: 'solo' | 'compat' | 'cncf';
  /** --manifest-config or --config (commander keeps the last long name). */
  config?: string;
  runtimeConfig?: string;
  rootId?: string[];
  annotation?: string[];
  annotationFile?: string;
  artifactType?: string;
  exportManifest?: string;
  disablePathValidation?: boolean;
  concurrency: number;
  imageSpec?: ImageSpecVersion;
  artifactPlatform?: string;
}

/** oras option/spec.go ImageSpec.Set: the two values, in its words otherwise. */
function parseImageSpec(value: string): ImageSpecVersion {
  if (value === 'v1.1' || value === 'v1.0') return value;
  throw new InvalidArgumentError(`unknown image specification flag: ${value}. Available options: v1.1, v1.0`);
}

export function pushCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('push')
    .description('push a Wasm module (or any files, oras style) to a registry or an OCI layout')
    .argument('<reference>', 'registry/repository[:tag[,tag...]] or, with --oci-layout, path[:tag]')
    .argument('[files...]', 'file[:mediatype]; one .wasm for the solo/compat/cncf profiles (none is an oras-style artifact with the empty layer)')
    .addOption(new Option('--profile <profile>', 'artifact format').choices(['solo', 'compat', 'cncf']))
    .option('--manifest-config, --config <file[:mediatype]>', 'config blob of an oras-style artifact')
    .option('--runtime-config <file>', 'runtime-config.json for the solo profile (generated when absent)')
    .option('--root-id <id>', 'root id for the generated runtime config (repeatable)', collect)
    .option('-a, --annotation <key=value>', 'manifest annotation (repeatable)', collect)
    .option('--annotation-file <file>', 'annotations file in oras JSON shape ($manifest, $config, file titles)')
    .option('--artifact-type <type>', 'artifactType of the manifest')
    .option('--image-spec <version>', 'oras style: v1.1 (artifactType, empty config) or v1.0 (the type is the config\'s media type); default v1.1, or v1.0 for --config without --artifact-type', parseImageSpec)
    .option('--artifact-platform <os[/arch[/variant]][:os_version]>', 'oras style: the artifact\'s platform, written as its image config (not with --config)')
    .option('--export-manifest <file>', 'also write the pushed manifest to this file')
    .option('--disable-path-validation', 'allow absolute and ../ file paths (their titles are refused by pulls that check paths)')
    .option('--strict', 'refuse (exit 7) a proxy-wasm module that Envoy (V8) would not link; without it, a warning');
  addConcurrencyOption(addTargetOptions(cmd));
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci push --oci-layout ./wasm-store:v0.1 examples/example-filter.wasm
  $ wasm-oci push registry.example.com/filters/example:v0.1,latest example-filter.wasm --root-id my_root_id
  $ wasm-oci push REGISTRY/asm-test:v0.1 --manifest-config runtime-config.json:application/vnd.module.wasm.config.v1+json \\
      example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm
  $ wasm-oci push --artifact-platform wasip1/wasm REGISTRY/filters/example:v0.1 example-filter.wasm:application/wasm
  $ wasm-oci push --image-spec v1.0 --artifact-type application/vnd.me.config REGISTRY/hello:v1 hi.txt:text/plain`,
  );
  cmd.action(async (reference: string, files: string[], flags: PushFlags, self: Command) => {
    const ctx = getContext(self);
    const specs = files.map(parseFileRef);
    // A directory is pushed as oras pushes one: a tar+gzip layer to unpack on pull.
    const directories = (await Promise.all(specs.map((s) => stat(s.path).then((st) => st.isDirectory(), () => false)))).some(Boolean);
    // --image-spec and --artifact-platform are oras push flags (push.go): they make an oras-style push.
    const orasFlag = flags.imageSpec !== undefined ? '--image-spec' : flags.artifactPlatform !== undefined ? '--artifact-platform' : undefined;
    const orasStyle = flags.config !== undefined || specs.some((s) => s.mediaType !== undefined) || directories || orasFlag !== undefined;
    if (orasStyle && flags.profile) {
      throw new WasmOciError('E_USAGE', `--profile cannot be combined with ${orasFlag ?? (directories ? 'a directory' : 'file:mediatype or --manifest-config')} (oras style): the ${flags.profile} profile sets its manifest itself`, {
        hint: `drop --profile to push oras style, or drop ${orasFlag ?? 'the oras syntax'} to push the ${flags.profile} profile`,
      });
    }
    if (!orasStyle && specs.length !== 1) {
      throw new WasmOciError('E_USAGE', `the ${flags.profile ?? 'solo'} profile takes exactly one .wasm file (got ${specs.length}); spell out file:mediatype to push several files oras style`);
    }
    // Paths stay as the user typed them: oras titles each layer with the path as given.
    const packOptions: PackOptions = {
      profile: orasStyle ? 'oras' : (flags.profile ?? 'solo'),
      files: specs,
      manifestConfig: flags.config ? parseFileRef(flags.config) : undefined,
      runtimeConfig: flags.runtimeConfig,
      rootIds: flags.rootId,
      annotations: await loadAnnotations({ flags: flags.annotation, file: flags.annotationFile }),
      artifactType: flags.artifactType,
      ...(flags.imageSpec !== undefined ? { imageSpec: flags.imageSpec } : {}),
      ...(flags.artifactPlatform !== undefined ? { artifactPlatform: parsePlatform(flags.artifactPlatform) } : {}),
      disablePathValidation: flags.disablePathValidation === true,
      onWarning: (m) => ctx.warn(m),
    };
    // oras checks its flag rules before it connects (push.go PreRunE); so do we.
    if (orasStyle) orasPackPlan(packOptions);
    const opened = await openTarget(ctx, reference, flags, { write: true });
    // The manifest's digest is known only once it is built: a digest in the reference would
    // either be ignored (an untagged manifest with another digest, "success") or be a guess.
    if (opened.digest) {
      throw new WasmOciError('E_USAGE', `"${reference}" names a digest; a push reference names the tags to set`, {
        hint: `push to ${opened.name}:TAG (the digest is printed after the push)`,
      });
    }
    const display = await TransferDisplay.create(ctx, 'Uploading', `Preparing ${reference}`, { doneOnFullSize: false });
    let result;
    try {
      result = await pushArtifact({
        signal: ctx.signal,
        target: opened.target,
        tags: opened.tags,
        pack: packOptions,
        concurrency: flags.concurrency,
        strict: flags.strict === true,
        digestMemo: createFileDigestMemo(digestMemoDir(ctx.io.env)),
        onProgress: display.onProgress,
        onBlob: (desc, action) => {
          display.result(desc, action === 'uploaded' ? 'Uploaded' : 'Exists');
        },
      });
    } finally {
      display.stop();
    }
    if (flags.exportManifest) await writeFile(resolvePath(ctx.io.cwd, flags.exportManifest), result.manifestBytes);
    const where = opened.kind === 'oci-layout' ? `[oci-layout] ${opened.name}` : `[registry] ${opened.name}`;
    const artifactType = result.manifest.artifactType ?? result.manifest.config.mediaType;
    // oras's push document (model/push.go NewPush): reference NAME@digest, the manifest's
    // descriptor with its annotations and artifactType (oras-go pack.go pushManifest copies both
    // onto it), referenceAsTags sorted; then our extra `blobs`.
    ctx.json({
      ...orasPush(opened.name, { ...result.descriptor, annotations: result.manifest.annotations, artifactType }, result.tags),
      annotations: result.manifest.annotations ?? {},
      artifactType,
      blobs: result.blobs.map((b) => ({
        mediaType: b.descriptor.mediaType,
        digest: b.descriptor.digest,
        size: b.descriptor.size,
        title: b.descriptor.annotations?.[ANNOTATIONS.title],
        action: b.action,
      })),
    });
    ctx.out(`Pushed ${where}${result.tags.length ? `:${result.tags.join(',')}` : ''}`);
    ctx.out(`ArtifactType: ${result.manifest.artifactType ?? result.manifest.config.mediaType}`);
    ctx.out(`Digest: ${result.descriptor.digest}`);
  });
  return cmd;
}

/** The user's cache directory (XDG), where the launcher keeps V8's code cache too. */
function digestMemoDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'wasm-oci', 'file-digests');
}
