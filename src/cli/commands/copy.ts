import { Command, Option } from 'commander';
import { copyReference, type CopyResult } from '../../copy/copy.js';
import { copyReferrers } from '../../copy/copy-referrers.js';
import type { Descriptor } from '../../oci/types.js';
import { indexIfReferrer, parseReferrersMode } from '../../operations/referrers.js';
import { WasmOciError } from '../../errors.js';
import { convertArtifact, type ConvertResult } from '../../operations/convert.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addPlatformOption, addRemoteOptions, addSideRemoteOptions, collect, hasSideCredential, sideTargetFlags, type TargetFlags } from '../options.js';
import { TransferDisplay } from '../progress.js';
import { hasFlagCredential, openTarget, readStdinSecret, requireRef } from '../target.js';
import { resolvePlatform } from '../../copy/select-platform.js';
import { parsePlatform } from '../../oci/platform.js';

interface CopyFlags extends TargetFlags {
  fromOciLayout?: boolean;
  toOciLayout?: boolean;
  fromOciLayoutPath?: string;
  toOciLayoutPath?: string;
  concurrency: number;
  profile?: 'solo' | 'compat' | 'cncf';
  rootId?: string[];
  recursive?: boolean;
  distributionSpec?: string;
  platform?: string;
  [sideFlag: string]: unknown;
}

export function copyCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('copy')
    .alias('cp')
    .description('copy an artifact and everything it references between registries and OCI layouts')
    .argument('<source>', 'registry/repository:tag|@digest, or a layout path with --from-oci-layout')
    .argument('<destination>', 'registry/repository[:tag[,tag...]], or a layout path with --to-oci-layout')
    .option('--from-oci-layout', 'the source is an OCI image layout')
    .option('--to-oci-layout', 'the destination is an OCI image layout')
    .option('--from-oci-layout-path <path>', 'the source is the OCI image layout at PATH; <source> is then only the tag or digest')
    .option('--to-oci-layout-path <path>', 'the destination is the OCI image layout at PATH; <destination> is then only the tag(s)')
    .addOption(new Option('--profile <profile>', 're-package the module in this format instead of copying the manifest as is').choices(['solo', 'compat', 'cncf']))
    .option('--root-id <id>', 'with --profile: root id of a generated runtime config, when the source has none (repeatable)', collect)
    .option('-r, --recursive', 'also copy the referrers of the artifact (signatures, SBOMs...), every level')
    // oras cp spells it --to-distribution-spec (BinaryTarget: the To side's DistributionSpec); it only
    // matters where referrers are written. Commander keeps the last long name: distributionSpec.
    .option('--to-distribution-spec, --distribution-spec <spec>', 'v1.1-referrers-api or v1.1-referrers-tag: how copied referrers are indexed on the destination');
  addSideRemoteOptions(cmd, 'from', 'source');
  addSideRemoteOptions(cmd, 'to', 'destination');
  addConcurrencyOption(addPlatformOption(addRemoteOptions(cmd), 'copy the manifest of this platform'));
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci copy registry.example.com/filters/example:v0.1 mirror.example.com/filters/example:v0.1
  $ wasm-oci copy --from-oci-layout ./wasm-store:v0.1 registry.example.com/filters/example:v0.1
  $ wasm-oci copy --from-ca-file ./ca.pem registry.example.com/filters/example:v0.1 --to-plain-http localhost:5000/filters/example:v0.1
  $ wasm-oci copy REGISTRY/asm-test:v0.1 REGISTRY/asm-test:v0.1-istio --profile solo
  $ wasm-oci copy --platform wasip1/wasm registry.example.com/filters/set:v0.1 mirror.example.com/filters/example:v0.1`,
  );
  cmd.action(async (source: string, destination: string, flags: CopyFlags, self: Command) => {
    const ctx = getContext(self);
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    let secret: Promise<string> | undefined;
    const stdinSecret = () => (secret ??= readStdinSecret(ctx));
    const side = (which: 'from' | 'to'): TargetFlags => {
      const layout = which === 'from' ? flags.fromOciLayout : flags.toOciLayout;
      const layoutPath = which === 'from' ? flags.fromOciLayoutPath : flags.toOciLayoutPath;
      if (layout && layoutPath !== undefined) throw new WasmOciError('E_USAGE', `--${which}-oci-layout-path and --${which}-oci-layout cannot be used together`);
      const f: TargetFlags = { ...sideTargetFlags(flags, which), ociLayout: layout };
      delete f.ociLayoutPath;
      if (layoutPath !== undefined) f.ociLayoutPath = layoutPath;
      return f;
    };
    const src = await openTarget(ctx, source, side('from'), { stdinSecret });
    const dst = await openTarget(ctx, destination, side('to'), { write: true, stdinSecret });
    // -u/-p name one account; typed for a copy between two registries it would go to both.
    const sharedCredentialUsed = hasFlagCredential(flags) && !(hasSideCredential(flags, 'from') && hasSideCredential(flags, 'to'));
    if (sharedCredentialUsed && src.kind === 'registry' && dst.kind === 'registry' && src.registry !== dst.registry) {
      throw new WasmOciError('E_USAGE', `-u/-p would send one credential to both ${src.registry} and ${dst.registry}`, {
        hint: 'use --from-username/--from-password and --to-username/--to-password',
      });
    }
    const srcRef = requireRef(src, source);
    // Without a tag on the destination, keep the source's tag (as oras copy does).
    const tags = dst.tags.length ? dst.tags : !dst.digest && !src.digest ? [srcRef] : [];
    const sameRegistry = src.kind === 'registry' && dst.kind === 'registry' && src.registry === dst.registry && src.repository !== dst.repository;
    if (flags.rootId && !flags.profile) throw new WasmOciError('E_USAGE', '--root-id needs --profile: a plain copy keeps the artifact as it is');
    if (flags.profile && dst.digest) {
      throw new WasmOciError('E_USAGE', `"${destination}" names a digest, but --profile builds a new manifest with a digest of its own`, {
        hint: 'Give the destination a tag, or no tag to keep the source tag.',
      });
    }
    const display = await TransferDisplay.create(ctx, 'Copying', `Resolving ${source}`, { doneOnFullSize: false });
    if (flags.recursive && flags.profile) throw new WasmOciError('E_USAGE', '-r cannot be used with --profile: the referrers name the original manifest as their subject');
    const mode = parseReferrersMode(flags.distributionSpec);
    let result: CopyResult | ConvertResult;
    let referrers: Descriptor[] = [];
    try {
      // cp.go: with --platform the root is oras.Resolve with TargetPlatform (-r, no destination
      // tag) or CopyOptions.WithTargetPlatform (plain copy): the same manifest either way; a
      // --profile conversion starts from that manifest too.
      const profileSource = flags.profile && platform ? (await resolvePlatform(src.target, srcRef, platform, ctx.signal)).digest : srcRef;
      result = flags.profile
        ? await convertArtifact({
        signal: ctx.signal,
            source: src.target,
            sourceRef: profileSource,
            destination: dst.target,
            tags,
            profile: flags.profile,
            rootIds: flags.rootId,
            concurrency: flags.concurrency,
            onProgress: display.onProgress,
            onWarning: (m) => ctx.warn(m),
            onBlob: (desc, action) => {
              display.result(desc, action === 'uploaded' ? 'Copied' : 'Exists');
            },
          })
        : await copyReference(src.target, srcRef, dst.target, tags, {
        signal: ctx.signal,
            concurrency: flags.concurrency,
            mountFrom: sameRegistry ? src.repository : undefined,
            ...(platform ? { platform } : {}),
            onProgress: display.onProgress,
            onCopy: (desc, action) => {
              display.result(desc, action === 'copied' ? 'Copied' : action === 'mounted' ? 'Mounted' : 'Exists');
            },
          });
      // A copied referrer reaches the destination's referrers index, as any pushed manifest with subject does.
      const copiedBytes = (result as CopyResult).bytes;
      if (!flags.profile && copiedBytes) await indexIfReferrer(dst.target, result.descriptor, copiedBytes, mode, ctx.signal);
      if (flags.recursive) {
        referrers = await copyReferrers(src.target, dst.target, result.descriptor, {
          signal: ctx.signal, concurrency: flags.concurrency, mode,
          mountFrom: sameRegistry ? src.repository : undefined,
          onProgress: display.onProgress,
          onCopy: (desc, action) => display.result(desc, action === 'copied' ? 'Copied' : action === 'mounted' ? 'Mounted' : 'Exists'),
        });
      }
    } finally {
      display.stop();
    }
    ctx.out(`Copied [${src.kind}] ${source} => [${dst.kind}] ${destination}`);
    ctx.out(`Digest: ${result.descriptor.digest}`);
    if (flags.recursive) ctx.out(`Referrers: ${referrers.length} copied`);
    const converted = flags.profile ? { profile: flags.profile, sourceDigest: (result as ConvertResult).source.descriptor.digest } : {};
    ctx.json({ source, destination, ...result.descriptor, tags: result.tags, ...converted, ...(flags.recursive ? { referrers: referrers.map((r) => r.digest) } : {}) });
  });
  return cmd;
}
