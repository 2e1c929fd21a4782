import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { binPath, repoRoot } from './paths.js';
import { maskArgs, type SecretScan } from './secrets.js';

export interface RunCliOptions {
  /** Merged over the clean env; a value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Run under a pseudo-terminal (`script -qec`); stdout then holds stdout and stderr combined. */
  tty?: boolean;
  timeoutMs?: number;
  /**
   * What to do with files a call left behind in its own TMPDIR, or temp files left in (or next to)
   * its `-o` target: 'throw' (default) fails the test; 'return' leaves them in `leftovers` for the
   * caller to count (the hostile suite does).
   */
  leftovers?: 'throw' | 'return';
  /**
   * Records the call's stdout and stderr in this scan, and every file it wrote where a user
   * would find one: its HOME (but the docker config.json, where a `--store file` secret
   * belongs), its TMPDIR, and the `-o`, `--export-manifest` and `--cache-dir` targets.
   */
  scan?: SecretScan;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Files the call left: anything in its TMPDIR, temp-named files in or beside its `-o` target. */
  leftovers: string[];
}

/** Variables that make a run depend on the machine, never inherited. Only these pass through. */
const PASSTHROUGH = ['PATH', 'LANG', 'LC_ALL', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_DATA_HOME', 'GNUPGHOME', 'PASSWORD_STORE_DIR'];

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Names the product gives its temp files (pull's `.x.partial-…`, blob fetch's `.x.….partial`, layouts' and config's `….tmp`, convert's `wasm-oci-…-` dirs). */
export const TEMP_NAME = /\.partial(-|$)|\.tmp$|^wasm-oci-(convert|inspect|pack)-/;

/** Output paths of the calls running now: a temp file beside one of them is that call's, not a leftover. */
const inFlightOutputs = new Set<string>();

/** Every path under `dir` (relative), or [] when it does not exist. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    out.push(e.name);
    if (e.isDirectory()) for (const sub of await listTree(join(dir, e.name))) out.push(`${e.name}/${sub}`);
  }
  return out;
}

/** The value of a flag (`-o X`, `--output X`, `--output=X`) in a command line, if any. */
function flagValue(args: readonly string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (names.includes(a) && i + 1 < args.length) return args[i + 1];
    const long = names.find((n) => n.startsWith('--') && a.startsWith(`${n}=`));
    if (long) return a.slice(long.length + 1);
  }
  return undefined;
}

function outputArg(args: readonly string[]): string | undefined {
  return flagValue(args, '-o', '--output');
}

/**
 * What a finished call left behind: every entry of its own TMPDIR (nothing may stay there), and
 * temp-named files inside its `-o` target or directly beside it (a pull or fetch renames its temp
 * files into place or removes them; one left there is a partial file a user would find).
 */
async function leftoversOf(tmp: string, output: string | undefined): Promise<string[]> {
  const found = (await listTree(tmp)).map((p) => `$TMPDIR/${p}`);
  if (output === undefined || output === '-') return found;
  for (const p of await listTree(output)) if (TEMP_NAME.test(basename(p))) found.push(join(output, p));
  const parent = dirname(output);
  const others = [...inFlightOutputs].filter((o) => o !== output && dirname(o) === parent).map((o) => `.${basename(o)}`);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!TEMP_NAME.test(name) || others.some((o) => name.startsWith(o))) continue;
    found.push(join(parent, name));
  }
  return found;
}

/**
 * Runs `node bin/wasm-oci.js ...args` as a user would, with a clean environment in a sandbox of
 * its own: HOME and DOCKER_CONFIG point into it unless the caller gives them, so no credentials
 * from the machine leak in, and so does TMPDIR, so a temp file the command forgets is seen (issue
 * 16 item 4). After the call the sandbox's TMPDIR must be empty and no temp file may be left in
 * or beside the `-o` target; the sandbox is removed.
 */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const sandbox = await mkdtemp(join(tmpdir(), 'wasm-oci-cli-'));
  const home = join(sandbox, 'home');
  const tmp = join(sandbox, 'tmp');
  await Promise.all([mkdir(home), mkdir(tmp)]);
  const cwd = opts.cwd ?? repoRoot;
  const out = outputArg(args);
  const output = out === undefined || out === '-' ? undefined : resolve(cwd, out);
  if (output) inFlightOutputs.add(output);
  try {
    const env: Record<string, string> = { HOME: home, DOCKER_CONFIG: join(home, '.docker'), TMPDIR: tmp };
    for (const k of PASSTHROUGH) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    if (opts.tty) env.TERM = 'xterm-256color';
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }

    const nodeArgs = [binPath, ...args];
    const [cmd, cmdArgs] = opts.tty
      ? ['script', ['-qec', [process.execPath, ...nodeArgs].map(shellQuote).join(' '), '/dev/null']]
      : [process.execPath, nodeArgs];

    const result = await new Promise<Omit<CliResult, 'leftovers'>>((resolve, reject) => {
      const child = spawn(cmd, cmdArgs as string[], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const timeoutMs = opts.timeoutMs ?? 60_000;
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
      child.once('error', (err) => { clearTimeout(timer); reject(err); });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new Error(`wasm-oci ${maskArgs(args)} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        const exit = code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0);
        // A pty turns \n into \r\n; tests compare lines, not terminal line discipline.
        resolve({ code: exit, stdout: opts.tty ? stdout.replace(/\r\n/g, '\n') : stdout, stderr });
      });
      child.stdin.on('error', () => {});
      if (opts.input !== undefined) child.stdin.end(opts.input);
      else child.stdin.end();
    });
    if (opts.scan) {
      const label = maskArgs(args);
      opts.scan.record(label, result);
      await opts.scan.recordFiles(label, sandbox, [join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json')]);
      const written = [output, flagValue(args, '--export-manifest'), flagValue(args, '--cache-dir'), env.WASM_OCI_CACHE_DIR];
      for (const w of written) if (w) await opts.scan.recordFiles(label, resolve(cwd, w));
    }
    // A caller's own TMPDIR is the caller's to check (it may be shared by calls still running).
    const leftovers = await leftoversOf(env.TMPDIR === tmp ? tmp : join(sandbox, 'none'), output);
    if (leftovers.length > 0 && (opts.leftovers ?? 'throw') === 'throw') {
      throw new Error(`wasm-oci ${maskArgs(args)} left files behind: ${leftovers.join(', ')}\nexit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return { ...result, leftovers };
  } finally {
    if (output) inFlightOutputs.delete(output);
    await rm(sandbox, { recursive: true, force: true });
  }
}
