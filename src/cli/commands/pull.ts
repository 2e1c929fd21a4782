import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { fromFsError, WasmOciError } from '../../errors.js';
import { withBlobCache } from '../../content/cache.js';
import { pullArtifacts } from '../../operations/pull.js';
import type { CliContext } from '../context.js';
import { addConcurrencyOption, addPlatformOption, addTargetOptions, positiveInt, type TargetFlags } from '../options.js';
import { parsePlatform } from '../../oci/platform.js';
import { formatBytes, TransferDisplay } from '../progress.js';
import { orasPulledFile } from '../oras-json.js';
import { parseFileRef } from '../../pack/file-ref.js';
import { openTarget, readStdinSecret, requireRef, type OpenedTarget, type OpenOptions } from '../target.js';

interface PullFlags extends TargetFlags {
  output: string;
  concurrency: number;
  moduleSizeLimit?: number;
  cacheDir?: string;
  fromFile?: string;
  includeSubject?: boolean;
  keepOldFiles?: boolean;
  config?: string;
  allowPathTraversal?: boolean;
  platform?: string;
}

interface PullRequest {
  reference: string;
  /** `REF=NAME`: the sub-directory of -o it goes into. */
  name?: string;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** `REF` or `REF=NAME` (no reference contains `=`). */
function parsePullRequest(arg: string): PullRequest {
  const eq = arg.lastIndexOf('=');
  if (eq < 0) return { reference: arg };
  const name = arg.slice(eq + 1);
  if (!NAME_RE.test(name)) {
    throw new WasmOciError('E_USAGE', `"${name}" in "${arg}" is not a directory name`, { hint: 'NAME is one path segment of letters, digits, ".", "_" and "-"' });
  }
  return { reference: arg.slice(0, eq), name };
}

async function readPullList(path: string): Promise<PullRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromFsError(err, `--from-file ${path}`);
  }
  return text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map(parsePullRequest);
}

/**
 * One reference writes into -o itself, as always; several write each into `-o/<name>/`, the
 * name given as REF=NAME or else the repository's last path component (the layout's folder
 * name with --oci-layout). Two artifacts never share a directory: their runtime-config.json
 * files would overwrite each other.
 */
function outputDirs(requests: readonly PullRequest[], opened: readonly OpenedTarget[], outputDir: string): string[] {
  if (requests.length === 1 && requests[0]!.name === undefined) return [outputDir];
  const names = requests.map((r, i) => r.name ?? basename(opened[i]!.repository ?? opened[i]!.name));
  const seen = new Map<string, string>();
  names.forEach((n, i) => {
    const other = seen.get(n);
    if (other !== undefined) {
      throw new WasmOciError('E_USAGE', `${other} and ${requests[i]!.reference} would both be written into ${join(outputDir, n)}`, {
        hint: `name one of them: ${requests[i]!.reference}=OTHER-NAME`,
      });
    }
    seen.set(n, requests[i]!.reference);
  });
  return names.map((n) => join(outputDir, n));
}

/** References of one `pull` moved at once unless --concurrency says otherwise (issue 14). */
const ARTIFACTS_AT_ONCE = 8;

export function pullCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('pull')
    .description('pull a Wasm artifact and write its module (and files) into a directory')
    .argument('[reference...]', 'registry/repository:tag|@digest or, with --oci-layout, path[:tag|@digest]; several go each into DIR/<name>/ (REF=NAME picks the name)')
    .option('--from-file <list>', 'also pull every reference listed in this file (one per line: REF or REF=NAME; # starts a comment)')
    .option('-o, --output <dir>', 'output directory', '.')
    .option('--cache-dir <dir>', 'content-addressed blob cache (DIR/sha256/<hex>) kept between runs; hits are verified (default: $WASM_OCI_CACHE_DIR)')
    .option('--module-size-limit <bytes>', 'largest module accepted, from any module layer or tar (default 268435456, Istio\'s 256 MiB)', (v) => positiveInt(v, '--module-size-limit'))
    .option('--include-subject', 'also pull the subject of the artifact (and its subject...) into the same directory, as oras')
    .option('-k, --keep-old-files', 'do not replace files that exist: fail (before writing anything) instead')
    .addOption(new Option('-T, --allow-path-traversal', 'refused: wasm-oci never writes outside the output directory').hideHelp())
    .option('--config <path[:mediatype]>', 'also write the manifest config to PATH in the output directory (only if its media type is the one given)');
  addConcurrencyOption(addPlatformOption(addTargetOptions(cmd), 'pull the manifest of this platform instead of an index\'s wasm entry'));
  cmd.addHelpText(
    'after',
    `
Examples:
  $ wasm-oci pull --oci-layout ./wasm-store:v0.1 -o ./out
  $ wasm-oci pull registry.example.com/filters/example:v0.1 -o ./filters
  $ wasm-oci pull registry.example.com/filters/example@sha256:... --cache-dir ~/.cache/wasm-oci
  $ wasm-oci pull --platform wasip1/wasm registry.example.com/filters/example:v0.1 -o ./filters
  $ wasm-oci pull reg.example.com/filters/a:v1 reg.example.com/filters/b:v2=b-canary -o ./filters   # ./filters/a, ./filters/b-canary`,
  );
  cmd.action(async (references: string[], flags: PullFlags, self: Command) => {
    const ctx = getContext(self);
    if (flags.allowPathTraversal) {
      // oras pull -T sets the file store's AllowPathTraversalOnWrite; the one promise we keep without exception is not to.
      throw new WasmOciError('E_UNSUPPORTED', '-T/--allow-path-traversal is not supported: wasm-oci never writes outside the output directory', {
        hint: 'pull into the directory the files belong in (-o DIR); titles with ../ or absolute paths are refused',
      });
    }
    const requests = [...references.map(parsePullRequest), ...(flags.fromFile ? await readPullList(resolvePath(ctx.io.cwd, flags.fromFile)) : [])];
    if (requests.length === 0) throw new WasmOciError('E_USAGE', 'pull needs a reference (or --from-file LIST)');
    // oras and docker take `-` for stdout; pull writes a directory of files, so `-o -` would make a folder named "-".
    if (flags.output === '-') {
      throw new WasmOciError('E_USAGE', 'pull writes files into a directory; -o - (stdout) is not supported', {
        hint: 'to stream one layer to stdout: wasm-oci blob fetch -o - NAME@DIGEST',
      });
    }
    const outputDir = resolvePath(ctx.io.cwd, flags.output);
    const configFile = flags.config !== undefined ? parseFileRef(flags.config) : undefined;
    const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
    const cacheDir = flags.cacheDir ?? (ctx.io.env.WASM_OCI_CACHE_DIR || undefined);
    // One registry context per host for the whole run; the password from stdin is read once.
    const contexts: NonNullable<OpenOptions['contexts']> = new Map();
    let secret: Promise<string> | undefined;
    const stdinSecret = (): Promise<string> => (secret ??= readStdinSecret(ctx));
    const opened: OpenedTarget[] = [];
    for (const r of requests) opened.push(await openTarget(ctx, r.reference, flags, { contexts, stdinSecret }));
    const dirs = outputDirs(requests, opened, outputDir);
    const display = await TransferDisplay.create(ctx, 'Downloading', `Resolving ${requests.length === 1 ? requests[0]!.reference : `${requests.length} references`}`);
    let results;
    try {
      results = await pullArtifacts(
        opened.map((o, i) => ({
          onWarning: (m: string) => ctx.warn(m),
          target: cacheDir ? withBlobCache(o.target, resolvePath(ctx.io.cwd, cacheDir), { onWarning: (m) => ctx.warn(m), onDebug: (l) => ctx.trace(l) }) : o.target,
          reference: requireRef(o, requests[i]!.reference),
          outputDir: dirs[i]!,
          concurrency: flags.concurrency,
          moduleSizeLimit: flags.moduleSizeLimit,
          includeSubject: flags.includeSubject === true,
          keepOldFiles: flags.keepOldFiles === true,
          ...(configFile ? { configFile: { name: configFile.path, ...(configFile.mediaType ? { mediaType: configFile.mediaType } : {}) } } : {}),
          onProgress: display.onProgress,
          ...(platform ? { platform } : {}),
        })),
        // Artifacts at once: small filters are bound by round trips, not bandwidth, so several
        // references go together (up to 8) while each moves its own blobs --concurrency at a time,
        // as oras does for one artifact. An explicit --concurrency bounds both.
        { concurrency: self.getOptionValueSource('concurrency') === 'cli' ? flags.concurrency : Math.min(requests.length, ARTIFACTS_AT_ONCE), signal: ctx.signal },
      );
    } finally {
      display.stop();
    }
    const docs = results.map((result, i) => {
      const o = opened[i]!;
      const shown = `${o.name}${o.digest ? `@${o.digest}` : `:${o.ref}`}`;
      for (const f of result.files) ctx.out(`Downloaded ${f.name} ${formatBytes(f.size)}`);
      for (const sub of result.subjects ?? []) {
        for (const f of sub.files) ctx.out(`Downloaded ${f.name} ${formatBytes(f.size)}`);
        ctx.out(`Pulled subject ${o.name}@${sub.descriptor.digest}`);
      }
      ctx.out(`Pulled [${o.kind}] ${shown}${requests.length > 1 ? ` into ${dirs[i]}` : ''}`);
      ctx.out(`Digest: ${result.descriptor.digest}`);
      // oras's pull document (model/pull.go NewPull, json/pull.go Render): reference
      // NAME@digest and files[] each described by its layer; our keys beside them: the manifest's
      // descriptor, `name` relative to -o, the digest and size of the file written (which differ
      // from the layer's for a file taken out of a tar), `module`.
      return {
        reference: `${o.name}@${result.descriptor.digest}`,
        // With --include-subject oras lists the subjects' files in the same files[].
        files: [...result.files, ...(result.subjects ?? []).flatMap((sub) => sub.files)].map((f) => ({
          ...orasPulledFile(o.name, f.path, f.layer, f.directory === true),
          name: f.name,
          layerDigest: f.layerDigest,
          fileDigest: f.digest,
          fileSize: f.size,
        })),
        mediaType: result.descriptor.mediaType,
        digest: result.descriptor.digest,
        size: result.descriptor.size,
        ...(o.digest ? {} : { tag: o.ref }),
        module: result.module,
        ...(requests.length > 1 ? { outputDir: dirs[i] } : {}),
        ...(result.subjects ? { subjects: result.subjects.map((sub) => `${o.name}@${sub.descriptor.digest}`) } : {}),
      };
    });
    // One reference: the document as before; several: one document listing them, in order.
    ctx.json(docs.length === 1 ? docs[0] : { artifacts: docs });
  });
  return cmd;
}
