import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { WasmOciError, fromFsError } from '../../errors.js';
import { writeFileAtomic } from '../../content/oci-layout.js';
import { readAll } from '../../content/read-all.js';
import { storeRoot } from '../../copy/copy.js';
import { LIMITS } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/types.js';
import { loadAnnotations, ANNOTATION_MANIFEST_KEY } from '../../pack/annotations.js';
import { createImageIndex, fetchManifestConfig, updateImageIndex } from '../../operations/image-index.js';
import { pushManifestDocument } from '../../operations/manifest-push.js';
import { parseReferrersMode } from '../../operations/referrers.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addPlatformOption, addTargetOptions, collect, type TargetFlags } from '../options.js';
import { parsePlatform } from '../../oci/platform.js';
import { openTarget, requireRef, type OpenedTarget } from '../target.js';

/** A manifest file, or stdin for `-`, bounded to what a registry accepts. */
async function readManifestInput(ctx: CliContext, file: string): Promise<Buffer> {
  const path = resolvePath(ctx.io.cwd, file);
  const stream = (file === '-' ? ctx.io.stdin : createReadStream(path)) as Readable;
  try {
    return await readAll(stream, LIMITS.manifestBytes, 'manifest');
  } catch (err) {
    if (err instanceof WasmOciError) throw err;
    throw fromFsError(err, path);
  }
}

function printDescriptor(ctx: CliContext, desc: Descriptor, pretty?: boolean): void {
  ctx.io.stdout.write(`${JSON.stringify(desc, null, pretty ? 2 : undefined)}\n`);
}

/** The tags a write goes to: `REF:t1,t2` (none for `REF@digest` or a bare name). */
function tagsOf(opened: OpenedTarget): string[] {
  return opened.digest ? [] : opened.tags;
}

function pushedLines(ctx: CliContext, opened: OpenedTarget, desc: Descriptor, tags: readonly string[]): void {
  const shown = tags.length ? `${opened.name}:${tags.join(',')}` : `${opened.name}@${desc.digest}`;
  ctx.out(`Pushed [${opened.kind}] ${shown}`);
  ctx.out(`Digest: ${desc.digest}`);
  ctx.json({ reference: `${opened.name}@${desc.digest}`, ...desc, referenceAsTags: [...tags].sort().map((t) => `${opened.name}:${t}`) });
}

/** oras manifest push (cmd/oras/root/manifest/push.go). */
export function manifestPushCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('push')
    .description('push a manifest (or an index) from a file or stdin, under one or more tags')
    .argument('<reference>', 'registry/repository[:tag[,tag...]|@digest] (or a layout path with --oci-layout)')
    .argument('<file>', 'the manifest file, or - for stdin')
    .option('--media-type <type>', 'media type of the manifest (default: its mediaType field)')
    .option('--descriptor', 'print the descriptor of the pushed manifest')
    .option('--pretty', 'indent the descriptor')
    .option('--distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag (where a manifest with subject is indexed)');
  // oras manifest/push.go: --concurrency (default 5) is how many tags are set at once (TagBytesN).
  addConcurrencyOption(addTargetOptions(cmd), 5, 'tags set in parallel');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci manifest push registry.example.com/filters/example:v1,latest manifest.json\n  $ cat manifest.json | wasm-oci manifest push --oci-layout ./wasm-store:v1 -');
  cmd.action(async (reference: string, file: string, flags: TargetFlags & { mediaType?: string; descriptor?: boolean; pretty?: boolean; distributionSpec?: string; concurrency: number }, self: Command) => {
    const ctx = getContext(self);
    const mode = parseReferrersMode(flags.distributionSpec);
    if (file === '-' && (flags.passwordStdin || flags.identityTokenStdin)) throw new WasmOciError('E_USAGE', 'the manifest and the password cannot both come from stdin');
    const bytes = await readManifestInput(ctx, file);
    const opened = await openTarget(ctx, reference, flags, { write: true });
    const tags = tagsOf(opened);
    const result = await pushManifestDocument(opened.target, bytes, { mediaType: flags.mediaType, tags, mode, signal: ctx.signal, concurrency: flags.concurrency });
    if (opened.digest && opened.digest !== result.descriptor.digest) {
      throw new WasmOciError('E_DIGEST_MISMATCH', `the manifest has digest ${result.descriptor.digest}, the reference says ${opened.digest}`);
    }
    if (flags.descriptor) return printDescriptor(ctx, result.descriptor, flags.pretty);
    pushedLines(ctx, opened, result.descriptor, tags);
  });
  return cmd;
}

/** oras manifest fetch-config (cmd/oras/root/manifest/fetch_config.go). */
export function manifestFetchConfigCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('fetch-config')
    .alias('get-config')
    .description('print the config of an image manifest (or write it to a file), verified')
    .argument('<reference>', 'registry/repository:tag|@digest (or a layout path with --oci-layout)')
    .option('--descriptor', 'print the config descriptor (with -o FILE the config still goes into FILE)')
    .option('--pretty', 'indent the JSON')
    .option('-o, --output <file>', 'write the config to a file ("-" for stdout)');
  addPlatformOption(addTargetOptions(cmd), 'fetch the config of the manifest of this platform');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci manifest fetch-config registry.example.com/filters/example:v0.1\n  $ wasm-oci manifest fetch-config --platform wasip1/wasm registry.example.com/filters/example:v0.1');
  cmd.action(async (reference: string, flags: TargetFlags & { descriptor?: boolean; pretty?: boolean; output?: string; platform?: string }, self: Command) => {
    const ctx = getContext(self);
    if (flags.output === '-' && flags.descriptor) throw new WasmOciError('E_USAGE', '`--descriptor` cannot be used with `--output -` at the same time');
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const opened = await openTarget(ctx, reference, flags);
    const { descriptor, bytes } = await fetchManifestConfig(opened.target, requireRef(opened, reference), ctx.signal, platform);
    if (flags.output && flags.output !== '-') {
      await writeFileAtomic(resolvePath(ctx.io.cwd, flags.output), bytes);
      if (flags.descriptor) printDescriptor(ctx, descriptor, flags.pretty);
      return;
    }
    if (flags.descriptor) return printDescriptor(ctx, descriptor, flags.pretty);
    if (flags.pretty) {
      try {
        ctx.io.stdout.write(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
        return;
      } catch {
        /* not JSON: as it is */
      }
    }
    ctx.io.stdout.write(bytes);
  });
  return cmd;
}

interface IndexFlags extends TargetFlags {
  artifactType?: string;
  annotation?: string[];
  annotationFile?: string;
  output?: string;
  pretty?: boolean;
  tag?: string[];
  add?: string[];
  remove?: string[];
  merge?: string[];
}

/** A source of an index: `v1`, `:v1`, `sha256:...` or `@sha256:...` in the index's repository. */
function sourceRef(s: string): string {
  return s.replace(/^[:@]/, '');
}

/** oras manifest index create and update (cmd/oras/root/manifest/index/create.go, update.go). */
export function manifestIndexCommand(getContext: (cmd: Command) => CliContext): Command {
  const index = new Command('index').description('create and update image indexes');
  index.addHelpText('after', '\nExamples:\n  $ wasm-oci manifest index create registry.example.com/filters/example:multi v1-amd64 v1-arm64\n  $ wasm-oci manifest index update registry.example.com/filters/example:multi --add v1-s390x');
  const create = new Command('create')
    .alias('pack')
    .description('create an OCI image index of manifests in the repository, and push it (or write it with -o)')
    .argument('<reference>', 'registry/repository[:tag[,tag...]] (or a layout path with --oci-layout)')
    .argument('[sources...]', 'tags or digests of manifests in the same repository')
    .option('--artifact-type <type>', 'artifactType of the index')
    .option('-a, --annotation <key=value>', 'index annotation (repeatable)', collect, [])
    .option('--annotation-file <file>', 'annotations file ($manifest key)')
    .option('-o, --output <file>', 'write the index to this file ("-" for stdout) instead of pushing it')
    .option('--pretty', 'indent the index written to stdout (-o -)');
  addTargetOptions(create);
  create.addHelpText('after', '\nExample:\n  $ wasm-oci manifest index create registry.example.com/filters/example:multi v1-amd64 v1-arm64');
  create.action(async (reference: string, sources: string[], flags: IndexFlags, self: Command) => {
    const ctx = getContext(self);
    const annotations = (await loadAnnotations({ flags: flags.annotation, file: flags.annotationFile ? resolvePath(ctx.io.cwd, flags.annotationFile) : undefined }))[ANNOTATION_MANIFEST_KEY];
    const opened = await openTarget(ctx, reference, flags, { write: flags.output === undefined });
    const built = await createImageIndex(opened.target, sources.map(sourceRef), { artifactType: flags.artifactType, annotations, signal: ctx.signal });
    await emitIndex(ctx, opened, built.descriptor, built.bytes, tagsOf(opened), flags.output, flags.pretty);
  });

  const update = new Command('update')
    .description('add, remove or merge manifests of an index, and push the new index')
    .argument('<reference>', 'registry/repository:tag|@digest of the index (or a layout path with --oci-layout)')
    .option('--add <ref>', 'a manifest (tag or digest) to add (repeatable)', collect)
    .option('--remove <digest>', 'a manifest digest to remove (repeatable)', collect)
    .option('--merge <ref>', 'an index whose manifests are added (repeatable)', collect)
    .option('--artifact-type <type>', 'set the artifactType of the index')
    .option('--tag <tag>', 'also tag the new index (repeatable)', collect)
    .option('-o, --output <file>', 'write the new index to this file ("-" for stdout) instead of pushing it')
    .option('--pretty', 'indent the index written to stdout (-o -)');
  addTargetOptions(update);
  update.addHelpText('after', '\nExample:\n  $ wasm-oci manifest index update registry.example.com/filters/example:multi --add v1-s390x --remove sha256:...');
  update.action(async (reference: string, flags: IndexFlags, self: Command) => {
    const ctx = getContext(self);
    if (!flags.add && !flags.remove && !flags.merge && flags.artifactType === undefined) {
      ctx.out('Nothing to update as no change is requested');
      return;
    }
    const opened = await openTarget(ctx, reference, flags, { write: flags.output === undefined });
    const ref = requireRef(opened, reference);
    const built = await updateImageIndex(opened.target, ref, {
      add: flags.add?.map(sourceRef), remove: flags.remove, merge: flags.merge?.map(sourceRef), artifactType: flags.artifactType, signal: ctx.signal,
    });
    await emitIndex(ctx, opened, built.descriptor, built.bytes, [...tagsOf(opened), ...(flags.tag ?? [])], flags.output, flags.pretty);
  });
  index.addCommand(create);
  index.addCommand(update);
  return index;
}

async function emitIndex(ctx: CliContext, opened: OpenedTarget, desc: Descriptor, bytes: Buffer, tags: string[], output?: string, pretty?: boolean): Promise<void> {
  if (output === '-') {
    // oras display/content/manifest_index.go: --pretty indents stdout only; a file gets the
    // bytes whose digest was printed.
    ctx.io.stdout.write(pretty ? `${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n` : bytes);
    return;
  }
  if (output !== undefined) {
    await writeFileAtomic(resolvePath(ctx.io.cwd, output), bytes);
    ctx.out(`Wrote ${output}`);
    ctx.out(`Digest: ${desc.digest}`);
    ctx.json({ path: resolvePath(ctx.io.cwd, output), ...desc });
    return;
  }
  await storeRoot(opened.target, desc, bytes, tags, await opened.target.exists(desc, { signal: ctx.signal }), ctx.signal);
  pushedLines(ctx, opened, desc, tags);
}
