import { Command, InvalidArgumentError } from 'commander';
import type { Readable } from 'node:stream';
import { DEFAULT_BLOB_MEDIA_TYPE, pushBlob } from '../../operations/blob-push.js';
import { rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join, resolve as resolvePath } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WasmOciError } from '../../errors.js';
import { fetchToFile } from '../../pull/blob-to-file.js';
import { hasBlobResolver, hasDeleter } from '../../content/interfaces.js';
import type { Descriptor } from '../../oci/types.js';
import type { CliContext } from '../context.js';
import { addTargetOptions, type TargetFlags } from '../options.js';
import { printDescriptor } from '../oras-json.js';
import { openTarget } from '../target.js';

export function blobCommand(getContext: (cmd: Command) => CliContext): Command {
  const blob = new Command('blob').description('blob operations');
  blob.addHelpText('after', '\nExample:\n  $ wasm-oci blob fetch -o filter.wasm registry.example.com/filters/example@sha256:...');
  const fetch = new Command('fetch')
    .alias('get')
    .description('download a blob by digest, verified against it (temp file, then rename)')
    .argument('<reference>', 'registry/repository@sha256:... (or a layout path with --oci-layout)')
    .option('-o, --output <file>', 'write to this file ("-" for stdout)')
    .option('--descriptor', 'print the blob descriptor (with -o FILE the content still goes into FILE)')
    .option('--pretty', 'indent the descriptor');
  addTargetOptions(fetch);
  fetch.addHelpText('after', '\nExample:\n  $ wasm-oci blob fetch -o filter.wasm registry.example.com/filters/example@sha256:...');
  fetch.action(async (reference: string, flags: TargetFlags & { output?: string; descriptor?: boolean; pretty?: boolean }, self: Command) => {
    const ctx = getContext(self);
    const opened = await openTarget(ctx, reference, flags);
    if (!opened.digest) throw new WasmOciError('E_USAGE', `"${reference}" needs a digest: blob fetch NAME@sha256:...`);
    // oras cmd/oras/root/blob/fetch.go (PreRunE, fetchBlob): -o and --descriptor together write
    // the content into the file and print the descriptor; only `-o -` excludes --descriptor.
    if (!flags.output && !flags.descriptor) throw new WasmOciError('E_USAGE', 'blob fetch needs -o FILE (or -o - for stdout) or --descriptor');
    if (flags.output === '-' && flags.descriptor) throw new WasmOciError('E_USAGE', '`--output -` cannot be used with `--descriptor` at the same time');
    // The size is unknown until the target says it (HEAD on a registry, stat on a layout).
    const desc = await describeBlob(opened.target, opened.digest);
    if (flags.descriptor && !flags.output) {
      printDescriptor(ctx, desc, flags.pretty);
      return;
    }
    if (flags.output === '-') {
      await pipeline(await opened.target.fetch(desc, { signal: ctx.signal }), ctx.io.stdout, { end: false });
      return;
    }
    const out = resolvePath(ctx.io.cwd, flags.output!);
    // Before the download, not after it: the rename onto a directory would fail with a raw EISDIR.
    if (await stat(out).then((st) => st.isDirectory(), () => false)) {
      throw new WasmOciError('E_USAGE', `-o ${flags.output} is a directory; blob fetch writes one file`, {
        hint: `name the file: -o ${join(flags.output!, 'blob')}`,
      });
    }
    const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      await fetchToFile(opened.target, desc, temp, { signal: ctx.signal });
      await rename(temp, out);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    if (flags.descriptor) {
      printDescriptor(ctx, desc, flags.pretty);
      return;
    }
    ctx.out(`Downloaded ${flags.output} ${desc.size} bytes`);
    ctx.out(`Digest: ${desc.digest}`);
    ctx.json({ reference, path: out, ...desc });
  });
  // oras blob delete (cmd/oras/root/blob/delete.go): by digest, -f to skip the question; aliases remove, rm.
  const del = new Command('delete')
    .aliases(['remove', 'rm'])
    .description('delete a blob by digest (needs -f/--force off a terminal)')
    .argument('<reference>', 'registry/repository@sha256:... (or a layout path with --oci-layout)')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--descriptor', 'print the descriptor of the deleted blob instead of the result lines (needs -f)')
    .option('--pretty', 'indent the descriptor');
  addTargetOptions(del);
  del.addHelpText('after', '\nExample:\n  $ wasm-oci blob delete -f registry.example.com/filters/example@sha256:...');
  del.action(async (reference: string, flags: TargetFlags & { force?: boolean; descriptor?: boolean; pretty?: boolean }, self: Command) => {
    const ctx = getContext(self);
    // oras blob delete (PreRunE): the descriptor goes to stdout, so there is no question to ask there.
    if (flags.descriptor && !flags.force) throw new WasmOciError('E_USAGE', 'must apply --force to confirm the deletion if the descriptor is outputted');
    const opened = await openTarget(ctx, reference, flags);
    if (!opened.digest) throw new WasmOciError('E_USAGE', `"${reference}" needs a digest: blob delete NAME@sha256:...`);
    if (!flags.force) throw new WasmOciError('E_USAGE', `refusing to delete blob ${opened.digest} without confirmation`, { hint: 'pass -f/--force to delete without asking' });
    if (!hasDeleter(opened.target)) throw new WasmOciError('E_UNSUPPORTED', 'this target cannot delete blobs');
    const desc = await describeBlob(opened.target, opened.digest);
    await opened.target.delete(desc, { signal: ctx.signal });
    if (flags.descriptor) {
      printDescriptor(ctx, desc, flags.pretty);
      return;
    }
    ctx.out(`Deleted [${opened.kind}] ${reference}`);
    ctx.json({ reference, deleted: true, ...desc });
  });
  blob.addCommand(fetch);

  // oras blob push (cmd/oras/root/blob/push.go).
  const push = new Command('push')
    .description('push a file (or stdin) as a blob; digest and size checked before and while it uploads')
    .argument('<reference>', 'registry/repository[@sha256:...] (or a layout path with --oci-layout)')
    .argument('<file>', 'the file, or - for stdin (then --size is required)')
    .option('--size <bytes>', 'the blob size (required for stdin)', (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('--size needs a non-negative integer.');
      return n;
    })
    .option('--media-type <type>', 'media type of the blob (in the printed descriptor)', DEFAULT_BLOB_MEDIA_TYPE)
    .option('--descriptor', 'print the descriptor of the pushed blob')
    .option('--pretty', 'indent the descriptor');
  addTargetOptions(push);
  push.addHelpText('after', '\nExamples:\n  $ wasm-oci blob push registry.example.com/filters/example filter.wasm\n  $ cat filter.wasm | wasm-oci blob push --size 668 registry.example.com/filters/example@sha256:... -');
  push.action(async (reference: string, file: string, flags: TargetFlags & { size?: number; mediaType?: string; descriptor?: boolean; pretty?: boolean }, self: Command) => {
    const ctx = getContext(self);
    if (file === '-' && (flags.passwordStdin || flags.identityTokenStdin)) throw new WasmOciError('E_USAGE', 'the blob and the password cannot both come from stdin');
    if (file === '-' && flags.size === undefined) throw new WasmOciError('E_USAGE', '`--size` must be provided if the blob is read from stdin');
    const opened = await openTarget(ctx, reference, flags, { write: true });
    if (opened.ref && !opened.digest) throw new WasmOciError('E_USAGE', `"${reference}": a blob has no tag; give NAME or NAME@sha256:...`);
    const source = file === '-' ? { stream: ctx.io.stdin as Readable } : { path: resolvePath(ctx.io.cwd, file) };
    const { descriptor, existed } = await pushBlob(opened.target, source, { digest: opened.digest, size: flags.size, mediaType: flags.mediaType, signal: ctx.signal });
    if (flags.descriptor) {
      printDescriptor(ctx, descriptor, flags.pretty);
      return;
    }
    ctx.out(`${existed ? 'Exists' : 'Pushed'} [${opened.kind}] ${opened.name}@${descriptor.digest}`);
    ctx.out(`Digest: ${descriptor.digest}`);
    ctx.json({ reference: `${opened.name}@${descriptor.digest}`, ...descriptor, existed });
  });
  blob.addCommand(push);
  blob.addCommand(del);
  return blob;
}

async function describeBlob(target: object, digest: string): Promise<Descriptor> {
  if (!hasBlobResolver(target)) throw new WasmOciError('E_UNSUPPORTED', 'this target cannot describe blobs');
  return target.resolveBlob(digest);
}

