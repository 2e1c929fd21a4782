import { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { resolve as resolvePath } from 'node:path';
import { WasmOciError } from '../../errors.js';
import { hasDeleter } from '../../content/interfaces.js';
import { writeFileAtomic } from '../../content/oci-layout.js';
import { fetchManifest } from '../../operations/manifest.js';
import { parseReferrersMode, unindexReferrer } from '../../operations/referrers.js';
import type { CliContext } from '../context.js';
import { addPlatformOption, addTargetOptions, type TargetFlags } from '../options.js';
import { parsePlatform } from '../../oci/platform.js';
import { orasFetched, printDescriptor } from '../oras-json.js';
import { openTarget, requireRef } from '../target.js';
import { manifestFetchConfigCommand, manifestIndexCommand, manifestPushCommand } from './manifest-write.js';

interface FetchFlags extends TargetFlags {
  mediaType?: string[];
  descriptor?: boolean;
  pretty?: boolean;
  output?: string;
  platform?: string;
}

/** oras's StringSliceVar: `--media-type a,b` and `--media-type a --media-type b` both give [a, b]. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

export function manifestCommand(getContext: (cmd: Command) => CliContext): Command {
  const manifest = new Command('manifest').description('manifest operations');
  manifest.addHelpText('after', '\nExamples:\n  $ wasm-oci manifest fetch --pretty registry.example.com/filters/example:v0.1\n  $ wasm-oci manifest delete registry.example.com/filters/example:v0.1');

  const fetch = new Command('fetch')
    .aliases(['get', 'show'])
    .description('print a manifest (or write it to a file), verified against its digest')
    .argument('<reference>', 'registry/repository:tag|@digest (or a layout path or layout tar with --oci-layout)')
    .option('--media-type <types>', 'accepted media types (comma-separated, repeatable); another type is refused', collectList)
    .option('--descriptor', 'print the descriptor (with -o FILE the manifest still goes into FILE)')
    .option('--pretty', 'indent the JSON (not in a file)')
    .option('-o, --output <file>', 'write the manifest to a file ("-" for stdout)');
  addPlatformOption(addTargetOptions(fetch), 'fetch the manifest of this platform');
  fetch.addHelpText('after', '\nExamples:\n  $ wasm-oci manifest fetch --pretty registry.example.com/filters/example:v0.1\n  $ wasm-oci manifest fetch --descriptor -o manifest.json registry.example.com/filters/example:v0.1\n  $ wasm-oci manifest fetch --descriptor --oci-layout ./wasm-store:v0.1\n  $ wasm-oci manifest fetch --platform wasip1/wasm registry.example.com/filters/example:v0.1');
  fetch.action(async (reference: string, flags: FetchFlags, self: Command) => {
    const ctx = getContext(self);
    // oras cmd/oras/root/manifest/fetch.go (PreRunE): the descriptor and the content cannot share stdout.
    if (flags.output === '-' && flags.descriptor) throw new WasmOciError('E_USAGE', '`--descriptor` cannot be used with `--output -` at the same time');
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const opened = await openTarget(ctx, reference, flags);
    // fetch.go: oras.FetchBytes (or Resolve for --descriptor) with TargetPlatform.
    const { descriptor, bytes } = await fetchManifest(opened.target, requireRef(opened, reference), ctx.signal, flags.mediaType, platform);
    if (ctx.format === 'json' && !flags.descriptor) {
      // oras's document (model/fetched.go NewFetched): the descriptor and the manifest as
      // `content`. oras refuses `--output -` with --format json (cmd/oras/root/manifest/fetch.go
      // PreRunE): stdout carries the document. With -o FILE the bytes go to the file as well and
      // our `path` is added.
      if (flags.output === '-') throw new WasmOciError('E_USAGE', `\`--output -\` cannot be used with \`--format ${ctx.view}\` at the same time`);
      let path: string | undefined;
      if (flags.output) {
        path = resolvePath(ctx.io.cwd, flags.output);
        await writeFileAtomic(path, bytes);
      }
      ctx.json({ ...orasFetched(opened.name, descriptor, bytes), ...(path ? { path } : {}) });
      return;
    }
    const toFile = flags.output !== undefined && flags.output !== '-';
    const printDescriptor = () => ctx.io.stdout.write(`${JSON.stringify(descriptor, null, flags.pretty || ctx.format === 'json' ? 2 : undefined)}\n`);
    if (toFile) {
      // oras display/content/manifest_fetch.go: the file gets the manifest as fetched (--pretty
      // is ignored for a file); with --descriptor the descriptor is printed beside it.
      const path = resolvePath(ctx.io.cwd, flags.output!);
      await writeFileAtomic(path, bytes);
      if (flags.descriptor) {
        printDescriptor();
        return;
      }
      ctx.out(`Fetched ${reference} to ${flags.output}`);
      ctx.out(`Digest: ${descriptor.digest}`);
      ctx.json({ reference, path, ...descriptor });
      return;
    }
    if (flags.descriptor) printDescriptor();
    else if (flags.pretty) ctx.io.stdout.write(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
    else ctx.io.stdout.write(bytes);
  });

  const del = new Command('delete')
    .aliases(['remove', 'rm'])
    .description('delete a manifest (asks first on a terminal; -f skips the question)')
    .argument('<reference>', 'registry/repository:tag|@digest (or a layout path with --oci-layout)')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--descriptor', 'print the descriptor of the deleted manifest instead of the result lines (needs -f)')
    .option('--pretty', 'indent the descriptor')
    .option('--distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag (where a deleted referrer is unindexed)');
  addTargetOptions(del);
  del.addHelpText('after', '\nExample:\n  $ wasm-oci manifest delete -f registry.example.com/filters/example@sha256:...');
  del.action(async (reference: string, flags: TargetFlags & { force?: boolean; descriptor?: boolean; pretty?: boolean; distributionSpec?: string }, self: Command) => {
    const ctx = getContext(self);
    // oras manifest delete (PreRunE): the descriptor goes to stdout, so there is no question to ask there.
    if (flags.descriptor && !flags.force) throw new WasmOciError('E_USAGE', 'must apply --force to confirm the deletion if the descriptor is outputted');
    const opened = await openTarget(ctx, reference, flags);
    if (!hasDeleter(opened.target)) throw new WasmOciError('E_UNSUPPORTED', 'this target cannot delete manifests');
    let desc;
    try {
      desc = await opened.target.resolve(requireRef(opened, reference));
    } catch (err) {
      // oras cmd/oras/root/manifest/delete.go (deleteManifest): with --force a manifest that is
      // already gone is not an error — "Missing REF", exit 0 — so cleanup scripts can re-run.
      // With --descriptor there is no descriptor to print, so oras fails (deleteManifest).
      if (flags.force && !flags.descriptor && err instanceof WasmOciError && err.code === 'E_NOT_FOUND') {
        ctx.out(`Missing ${reference}`);
        ctx.json({ reference, deleted: false, missing: true });
        return;
      }
      throw err;
    }
    if (!flags.force) {
      if (!ctx.interactive || !ctx.io.stdin.isTTY) {
        throw new WasmOciError('E_USAGE', `refusing to delete ${reference} without confirmation`, { hint: 'pass -f/--force to delete without asking' });
      }
      const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
      const answer = await rl.question(`Delete manifest ${desc.digest} (${reference})? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) throw new WasmOciError('E_CANCELLED', 'deletion cancelled');
    }
    // A referrer leaves its subject's tag index too (oras-go deletes it there as well:
    // registry/remote/repository.go manifestStore.deleteWithIndexing).
    const { bytes } = await fetchManifest(opened.target, desc.digest);
    let subject: string | undefined;
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: unknown } };
      if (typeof doc.subject?.digest === 'string') subject = doc.subject.digest;
    } catch {
      /* not JSON: nothing to unindex */
    }
    await opened.target.delete(desc);
    if (subject) await unindexReferrer(opened.target, subject, desc.digest, parseReferrersMode(flags.distributionSpec), ctx.signal);
    if (flags.descriptor) {
      printDescriptor(ctx, desc, flags.pretty);
      return;
    }
    ctx.out(`Deleted [${opened.kind}] ${reference}`);
    ctx.out(`Digest: ${desc.digest}`);
    ctx.json({ reference, deleted: true, ...desc });
  });

  manifest.addCommand(fetch);
  manifest.addCommand(del);
  manifest.addCommand(manifestPushCommand(getContext));
  manifest.addCommand(manifestFetchConfigCommand(getContext));
  manifest.addCommand(manifestIndexCommand(getContext));
  return manifest;
}
