import { lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fetcher } from '../content/interfaces.js';
import { fromFsError, isWasmOciError, WasmOciError } from '../errors.js';
import { LIMITS } from '../oci/media-types.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { fetchToFile } from './blob-to-file.js';
import { planExtraction, RUNTIME_CONFIG_FILE_NAME, type ExtractJob } from './extract-plan.js';
import { moduleOverLimit } from './module-limit.js';
import { prepareParent, resolveOutputRoot, safeRelativeSegments } from './safe-path.js';
import { extractFromTarLayer, loadTarStream } from './tar-module.js';
import { applyDirectoryMeta, placeDirectory, unpackDirectoryLayer, type UnpackedDirectory } from './tar-directory.js';
import { TempFiles } from './temp-files.js';

export { planExtraction, MODULE_FILE_NAME, RUNTIME_CONFIG_FILE_NAME } from './extract-plan.js';
export type { ExtractPlan, ExtractJob } from './extract-plan.js';

export interface ExtractOptions {
  manifest: ImageManifest;
  fetcher: Fetcher;
  outputDir: string;
  /** Cap on the module (and on what a tar layer may decompress to); Istio's 256 MiB by default. */
  moduleSizeLimit?: number;
  onProgress?: (desc: Descriptor, done: number) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Layers fetched at once (default 3). */
  concurrency?: number;
  /** oras pull -k/--keep-old-files: a file (or directory) already at a target path fails the pull, before anything is written. */
  keepOldFiles?: boolean;
  /**
   * oras pull --config PATH[:mediatype]: also write the manifest's config blob at PATH (relative to
   * the output directory), when its media type is the one given (or none is given).
   */
  configFile?: { name: string; mediaType?: string };
}

export interface ExtractedFile {
  /** Absolute path written (under the real path of outputDir). */
  path: string;
  /** Name relative to outputDir, with `/` separators. */
  name: string;
  /** sha256 of the file written (for a file unpacked from a tar: of that file, not of the layer). */
  digest: string;
  size: number;
  /** Media type of the layer it came from. */
  mediaType: string;
  /** Digest of the layer it came from. */
  layerDigest: string;
  /** The layer's descriptor as the manifest lists it (oras's pull JSON describes each file by it). */
  layer: Descriptor;
  /** The layer was a directory oras pushed (a tar+gzip with `io.deis.oras.content.unpack`), unpacked at `path`. */
  directory?: boolean;
}

export interface ExtractResult {
  files: ExtractedFile[];
  module?: { path: string; name: string; digest: string; size: number };
}

interface Pending {
  tempPath: string;
  finalPath: string;
  file: ExtractedFile;
  isModule: boolean;
  /** A directory layer: its unpacked tree is at tempPath. */
  unpacked?: UnpackedDirectory;
}

function normalizeError(err: unknown, desc: Descriptor | undefined, signal: AbortSignal | undefined): WasmOciError {
  if (isWasmOciError(err)) return err;
  if (signal?.aborted) return new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new WasmOciError('E_UNSUPPORTED', `layer ${desc?.digest ?? ''} is not valid gzip: ${(err as Error).message}`, { cause: err });
  }
  const fsError = fromFsError(err, 'cannot write to the output directory');
  if (fsError instanceof WasmOciError) return fsError;
  const message = err instanceof Error ? err.message : String(err);
  if (desc && /tar|header/i.test(message)) {
    return new WasmOciError('E_UNSUPPORTED', `layer ${desc.digest} is not a valid tar: ${message}`, { cause: err });
  }
  return new WasmOciError('E_INTERNAL', `extraction failed: ${message}`, { cause: err });
}

/**
 * Writes an artifact's files into `outputDir` (the rule is in planExtraction). Safe by
 * construction (DESIGN.md section 7): every name is validated before anything is fetched;
 * outputDir is resolved to its real path once and each parent directory is checked to stay
 * inside it; each blob goes to an exclusive temp file next to its target, verified against
 * digest and size while streaming; only when every layer has succeeded are the temp files
 * renamed into place (a rename replaces a symlink at the target, never follows it). On any
 * failure every temp file is removed and nothing new is left behind.
 */
export async function extractArtifact(options: ExtractOptions): Promise<ExtractResult> {
  const limit = options.moduleSizeLimit ?? LIMITS.moduleBytes;
  const plan = planExtraction(options.manifest);
  addConfigJob(plan.jobs, options.manifest, options.configFile);
  for (const s of plan.skipped) options.onWarning?.(`skipped ${s.desc.digest}: ${s.reason}`);
  if (plan.jobs.length === 0) {
    throw new WasmOciError('E_UNSUPPORTED', 'the artifact has no file to write: no titled layer, no Wasm layer, no gzip tar holding plugin.wasm', {
      hint: 'Inspect it with `wasm-oci inspect REF` to see its layers.',
    });
  }
  for (const job of plan.jobs) {
    if (job.kind === 'file' && job.isModule && job.desc.size > limit) {
      throw moduleOverLimit(`the module ${job.name}`, job.desc.size, limit);
    }
  }

  const root = await resolveOutputRoot(options.outputDir);
  const temps = new TempFiles();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const pending: Pending[] = [];
  const runJob = async (job: ExtractJob): Promise<void> => {
    const transfer = { signal: controller.signal, onProgress: options.onProgress };
    if (job.kind === 'file') {
      const parent = await prepareParent(root, job.segments);
      const base = job.segments[job.segments.length - 1]!;
      const tempPath = temps.create(parent, base);
      const { digest, size } = await fetchToFile(options.fetcher, job.desc, tempPath, transfer);
      pending.push({
        tempPath,
        finalPath: join(parent, base),
        isModule: job.isModule,
        file: { path: join(parent, base), name: job.name, digest, size, mediaType: job.desc.mediaType, layerDigest: job.desc.digest, layer: job.desc },
      });
      return;
    }
    if (job.kind === 'dir') {
      const parent = await prepareParent(root, job.segments);
      const base = job.segments[job.segments.length - 1]!;
      const staging = temps.create(parent, base);
      await mkdir(staging, { mode: 0o700 });
      await loadTarStream();
      const source = await options.fetcher.fetch(job.desc, transfer);
      const unpacked = await unpackDirectoryLayer(source, job.desc, { staging, prefix: job.name, sizeLimit: limit, signal: controller.signal });
      if (unpacked.skipped.length > 0) {
        options.onWarning?.(`${job.name}: skipped ${unpacked.skipped.length} entries that are neither files, directories nor symlinks (${unpacked.skipped.slice(0, 3).join(', ')}${unpacked.skipped.length > 3 ? ', ...' : ''})`);
      }
      pending.push({
        tempPath: staging,
        finalPath: join(parent, base),
        isModule: false,
        unpacked,
        file: { path: join(parent, base), name: job.name, digest: job.desc.digest, size: job.desc.size, mediaType: job.desc.mediaType, layerDigest: job.desc.digest, layer: job.desc, directory: true },
      });
      return;
    }
    await loadTarStream();
    const source = await options.fetcher.fetch(job.desc, transfer);
    const entries = await extractFromTarLayer(source, job.desc, {
      wantModule: job.wantModule,
      wantRuntimeConfig: job.wantRuntimeConfig,
      moduleSizeLimit: limit,
      tempFor: (name) => temps.create(root, name),
      signal: controller.signal,
    });
    if (job.wantModule && !entries.some((e) => e.name === 'plugin.wasm')) {
      options.onWarning?.(`the last layer ${job.desc.digest} is a gzip tar without plugin.wasm`);
    }
    for (const e of entries) {
      pending.push({
        tempPath: e.tempPath,
        finalPath: join(root, e.name),
        isModule: e.name === 'plugin.wasm',
        file: { path: join(root, e.name), name: e.name, digest: e.digest, size: e.size, mediaType: job.desc.mediaType, layerDigest: job.desc.digest, layer: job.desc },
      });
    }
  };

  try {
    const errors: Array<{ err: unknown; desc: Descriptor }> = [];
    const queue = [...plan.jobs];
    const width = Math.max(1, Math.min(options.concurrency ?? 3, queue.length));
    await Promise.all(
      Array.from({ length: width }, async () => {
        for (let job = queue.shift(); job !== undefined && !controller.signal.aborted; job = queue.shift()) {
          try {
            await runJob(job);
          } catch (err) {
            errors.push({ err, desc: job.desc });
            // Stop the other transfers; their temp files are removed below once they have settled.
            controller.abort(err);
          }
        }
      }),
    );
    if (errors.length > 0) {
      // The first error is the cause; later ones are the other transfers being stopped.
      const first = errors[0]!;
      throw normalizeError(first.err, first.desc, options.signal);
    }
    if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled');

    // Everything verified: move into place, in manifest order. A directory where a file goes
    // would fail its rename halfway through the list: refuse before the first rename instead.
    pending.sort((a, b) => orderOf(plan.jobs, a) - orderOf(plan.jobs, b));
    for (const p of pending) {
      const st = await lstat(p.finalPath).catch(() => undefined);
      if (options.keepOldFiles && st) {
        // oras-go file store DisableOverwrite (ErrOverwriteDisallowed), checked for every file before the first is moved.
        throw new WasmOciError('E_INVALID_INPUT', `${p.file.name} exists in the output directory and -k/--keep-old-files keeps it; nothing was written`, {
          hint: 'remove it, pull into another directory (-o), or drop -k to replace it',
        });
      }
      if (!p.unpacked && st?.isDirectory()) {
        throw new WasmOciError('E_INVALID_INPUT', `cannot write ${p.file.name}: a directory of that name is in the output directory`);
      }
      if (p.unpacked && st && !st.isDirectory() && !st.isSymbolicLink()) {
        throw new WasmOciError('E_INVALID_INPUT', `cannot write the directory ${p.file.name}: a file of that name is in the output directory`);
      }
    }
    for (const p of pending) {
      if (p.unpacked) {
        const ours = await placeDirectory(p.tempPath, p.finalPath, p.file.name);
        temps.release(p.tempPath);
        await applyDirectoryMeta(p.finalPath, p.unpacked.dirs, ours);
        continue;
      }
      await rename(p.tempPath, p.finalPath);
      temps.release(p.tempPath);
    }
    if (!options.keepOldFiles) await dropStaleRuntimeConfig(root, pending, options.onWarning);
  } catch (err) {
    await temps.removeAll();
    throw normalizeError(err, undefined, options.signal);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  const result: ExtractResult = { files: pending.map((p) => p.file) };
  const mod = pending.find((p) => p.isModule);
  if (mod) result.module = { path: mod.file.path, name: mod.file.name, digest: mod.file.digest, size: mod.file.size };
  return result;
}

/**
 * oras pull --config (cmd/oras/root/pull.go doPull): the config is titled with PATH when its
 * media type matches, and written as any titled file is, PATH checked like a layer title.
 */
function addConfigJob(jobs: ExtractJob[], manifest: ImageManifest, config: ExtractOptions['configFile']): void {
  if (!config || (config.mediaType && manifest.config.mediaType !== config.mediaType)) return;
  const segments = safeRelativeSegments(config.name);
  const names = jobs.flatMap((j) => (j.kind === 'tar' ? [] : [j.name]));
  const clash = names.find((n) => n === config.name || n.startsWith(`${config.name}/`) || config.name.startsWith(`${n}/`));
  if (clash !== undefined) throw new WasmOciError('E_USAGE', `--config ${config.name} would be written where the layer ${clash} goes`);
  jobs.push({ kind: 'file', desc: manifest.config, name: config.name, segments, isModule: false });
}

function orderOf(jobs: readonly ExtractJob[], p: Pending): number {
  const i = jobs.findIndex((j) => j.desc.digest === p.file.layerDigest && (j.kind === 'tar' || j.name === p.file.name));
  return i < 0 ? jobs.length : i;
}

/**
 * runtime-config.json describes the module beside it (wasme writes and reads the two as one
 * filter). A pull that writes a module without one would otherwise leave an earlier pull's config
 * describing a module that is no longer the one there (issue 11: two pulls into one directory
 * mixed them). Removed only at the output root, only when this pull wrote a module and no config.
 */
async function dropStaleRuntimeConfig(root: string, pending: readonly Pending[], onWarning?: (message: string) => void): Promise<void> {
  if (!pending.some((p) => p.isModule) || pending.some((p) => p.file.name === RUNTIME_CONFIG_FILE_NAME)) return;
  const stale = join(root, RUNTIME_CONFIG_FILE_NAME);
  const st = await lstat(stale).catch(() => undefined);
  if (st === undefined || st.isDirectory()) return;
  await unlink(stale);
  onWarning?.(`removed ${RUNTIME_CONFIG_FILE_NAME} left in the output directory by an earlier pull: it described another module, and this artifact has none`);
}
