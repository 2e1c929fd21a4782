import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot } from './paths.js';

export interface RunCliOptions {
  /** Merged over the clean env; a value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Run under a pseudo-terminal (`script -qec`); stdout then holds stdout and stderr combined. */
  tty?: boolean;
  timeoutMs?: number;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables that make a run depend on the machine, never inherited. Only these pass through. */
const PASSTHROUGH = ['PATH', 'TMPDIR', 'LANG', 'LC_ALL', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_DATA_HOME', 'GNUPGHOME', 'PASSWORD_STORE_DIR'];

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `node bin/wasm-oci.js ...args` as a user would, with a clean environment: HOME and
 * DOCKER_CONFIG point into a fresh temp dir (removed afterwards) unless the caller gives them,
 * so no credentials from the machine leak in.
 */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const home = await mkdtemp(join(tmpdir(), 'wasm-oci-home-'));
  try {
    const env: Record<string, string> = { HOME: home, DOCKER_CONFIG: join(home, '.docker') };
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

    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(cmd, cmdArgs as string[], { cwd: opts.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
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
          reject(new Error(`wasm-oci ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
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
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
