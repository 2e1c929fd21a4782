import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesDir, repoRoot } from './paths.js';

const run = promisify(execFile);

/**
 * Filters built at test time with a real proxy-wasm SDK from npm (issue 12): the AssemblyScript
 * SDK `@solo-io/proxy-runtime` 0.1.8 with `assemblyscript` 0.14.9, the compiler its own
 * package.json pins. Both are devDependencies at exact versions, so `npm ci` installs them from
 * package-lock.json on a fresh machine; the build is the one the SDK README gives:
 * `asc assembly/index.ts -b out.wasm --use abort=abort_proc_exit --optimize`.
 */
export const SDK = { runtime: '@solo-io/proxy-runtime', runtimeVersion: '0.1.8', compiler: 'assemblyscript', compilerVersion: '0.14.9' } as const;

export const SDK_FILTERS = {
  /** The SDK README's "Hello, World": adds `hello: world!`, or `hello: <configuration>`; root id add_header. */
  addHeader: 'add-header.as',
  /** Calls the SDK's proxy_set_buffer_status, which imports env.proxy_get_buffer_status with 5 i32 params. */
  setBufferStatus: 'set-buffer-status.as',
  /** The users' story: adds `resp-header-demo: <plugin configuration>` to responses; root id resp_header_demo. */
  respHeaderDemo: 'resp-header-demo.as',
} as const;

export type SdkFilter = keyof typeof SDK_FILTERS;

const ASC_ARGS = ['assembly/index.ts', '-b', 'out.wasm', '--use', 'abort=abort_proc_exit', '--optimize'];
const cacheDir = join(tmpdir(), 'wasm-oci-sdk-filters');
const nodeModules = join(repoRoot, 'node_modules');
const building = new Map<string, Promise<Uint8Array>>();

async function installedVersion(pkg: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(nodeModules, pkg, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function checkSdkInstalled(): Promise<void> {
  for (const [pkg, want] of [[SDK.runtime, SDK.runtimeVersion], [SDK.compiler, SDK.compilerVersion]] as const) {
    const have = await installedVersion(pkg);
    if (have !== want) {
      throw new Error(`${pkg}@${want} is needed to build SDK filters (found ${have ?? 'none'} in ${nodeModules}); run npm ci`);
    }
  }
}

/**
 * Builds one of SDK_FILTERS and returns the module bytes. A build takes some 10 s of CPU, so the
 * result is cached in the temp dir by the hash of source, versions and flags (a finished build
 * is renamed into place, so concurrent test files never read half a module).
 */
export function buildSdkFilter(filter: SdkFilter): Promise<Uint8Array> {
  const pending = building.get(filter);
  if (pending) return pending;
  const p = build(filter);
  building.set(filter, p);
  p.catch(() => building.delete(filter));
  return p;
}

async function build(filter: SdkFilter): Promise<Uint8Array> {
  const source = await readFile(join(fixturesDir, 'sdk', SDK_FILTERS[filter]), 'utf8');
  const key = createHash('sha256').update(JSON.stringify([source, SDK, ASC_ARGS])).digest('hex').slice(0, 32);
  const cached = join(cacheDir, `${filter}-${key}.wasm`);
  try {
    return new Uint8Array(await readFile(cached));
  } catch {
    // not built yet
  }
  await checkSdkInstalled();
  await mkdir(cacheDir, { recursive: true });
  const dir = await mkdtemp(join(cacheDir, `build-${filter}-`));
  try {
    await mkdir(join(dir, 'assembly'));
    await writeFile(join(dir, 'assembly', 'index.ts'), source);
    // asc resolves "@solo-io/proxy-runtime/..." through node_modules next to the project.
    await symlink(nodeModules, join(dir, 'node_modules'), 'dir');
    const asc = join(nodeModules, SDK.compiler, 'bin', 'asc');
    try {
      await run(process.execPath, [asc, ...ASC_ARGS], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`asc failed on ${SDK_FILTERS[filter]}: ${e.stderr || e.stdout || e.message}`);
    }
    await rename(join(dir, 'out.wasm'), cached);
    return new Uint8Array(await readFile(cached));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the built filter to `path` (for the CLI, which takes files). */
export async function writeSdkFilter(filter: SdkFilter, path: string): Promise<string> {
  await writeFile(path, await buildSdkFilter(filter));
  return path;
}
