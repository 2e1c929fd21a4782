/**
 * `run` and `test` in the library (issue 12 items 2, 3): the module of a file, or the one a
 * reference holds (pulled by pullArtifact, the code and cache `pull` uses, into a temporary
 * directory that is removed afterwards; the module is the one pull extracts), run on sample
 * traffic by the proxy-wasm host under its budgets (src/host/budget.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fromFsError, WasmOciError } from '../errors.js';
import { runFilterInWorker } from '../host/budget.js';
import type { RunLimits, RunScenario } from '../host/scenario.js';
import type { HostReport } from '../host/state.js';
import { RUNTIME_CONFIG_FILE_NAME } from '../pull/extract-plan.js';
import { parseRuntimeConfig } from '../wasm/runtime-config.js';
import { pullArtifact } from './pull.js';

export interface FilterModule {
  bytes: Uint8Array;
  /** The file, or `reference (module name)`. */
  source: string;
  /** rootIds of the artifact's runtime config, when it has one. */
  rootIds: string[];
  /** The manifest digest, for a reference. */
  digest?: string;
}

export async function loadFilterFile(path: string): Promise<FilterModule> {
  try {
    return { bytes: new Uint8Array(await readFile(path)), source: path, rootIds: [] };
  } catch (err) {
    throw fromFsError(err, path);
  }
}

export interface LoadFilterReferenceOptions {
  target: ReadOnlyTarget;
  reference: string;
  /** Shown in messages. */
  display: string;
  moduleSizeLimit?: number;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

export async function loadFilterReference(options: LoadFilterReferenceOptions): Promise<FilterModule> {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-run-'));
  try {
    const pullOptions: Parameters<typeof pullArtifact>[0] = { target: options.target, reference: options.reference, outputDir: dir };
    if (options.moduleSizeLimit !== undefined) pullOptions.moduleSizeLimit = options.moduleSizeLimit;
    if (options.signal !== undefined) pullOptions.signal = options.signal;
    if (options.onWarning !== undefined) pullOptions.onWarning = options.onWarning;
    const pulled = await pullArtifact(pullOptions);
    if (pulled.module === undefined) {
      throw new WasmOciError('E_UNSUPPORTED', `${options.display} holds no Wasm module (files: ${pulled.files.map((f) => f.name).join(', ') || 'none'})`);
    }
    const bytes = new Uint8Array(await readFile(pulled.module.path));
    let rootIds: string[] = [];
    const configFile = pulled.files.find((f) => f.name === RUNTIME_CONFIG_FILE_NAME || f.name.endsWith(`/${RUNTIME_CONFIG_FILE_NAME}`));
    if (configFile !== undefined) {
      try {
        rootIds = parseRuntimeConfig(await readFile(configFile.path)).config.rootIds ?? [];
      } catch (err) {
        options.onWarning?.(`the runtime config of ${options.display} is not usable (${err instanceof Error ? err.message : String(err)}); no default root id`);
      }
    }
    return { bytes, source: `${options.display} (${pulled.module.name})`, rootIds, digest: pulled.descriptor.digest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one scenario; the root id defaults to the artifact's first rootId. */
export function runFilter(module: FilterModule, scenario: RunScenario, limits: Partial<RunLimits> = {}): Promise<HostReport> {
  const s: RunScenario = { ...scenario };
  if (s.rootId === undefined && module.rootIds[0] !== undefined) s.rootId = module.rootIds[0];
  return runFilterInWorker(module.bytes, s, limits);
}
