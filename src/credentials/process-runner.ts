export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with `input` on stdin and collects its output. Injected wherever the library
 * starts a process (credential helpers), so tests can stand in for the program.
 * Rejects only when the program cannot be started (`code` ENOENT when it is not installed).
 */
export type ProcessRunner = (cmd: string, args: string[], input: string) => Promise<ProcessResult>;

export interface ProcessRunnerOptions {
  /** The child's environment (helpers need PATH, HOME, DBUS_SESSION_BUS_ADDRESS, GNUPGHOME, ...). */
  env?: Record<string, string | undefined>;
  /**
   * Kill the child after this long: a helper waiting for a pinentry with no terminal would hang
   * forever. Default 60 s, or WASM_OCI_CREDENTIAL_HELPER_TIMEOUT (seconds) from `env`.
   */
  timeoutMs?: number;
}

export const DEFAULT_HELPER_TIMEOUT_MS = 60_000;

/** Raised when the program did not finish in time; `code` is ETIMEDOUT like a socket's. */
export class ProcessTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly command: string, readonly timeoutMs: number) {
    super(`${command} did not finish within ${timeoutMs / 1000} s`);
    this.name = 'ProcessTimeoutError';
  }
}

function timeoutFrom(env: Record<string, string | undefined> | undefined): number {
  const raw = env?.WASM_OCI_CREDENTIAL_HELPER_TIMEOUT;
  const seconds = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_HELPER_TIMEOUT_MS;
}

export function createProcessRunner(options: ProcessRunnerOptions = {}): ProcessRunner {
  const timeoutMs = options.timeoutMs ?? timeoutFrom(options.env ?? process.env);
  return async (cmd, args, input) => {
    // child_process (and dgram, which it loads) only once a helper really runs: most commands
    // never start one, and loading them is a few ms of every start-up (issue 14).
    const { spawn } = await import('node:child_process');
    return new Promise<ProcessResult>((resolve, reject) => {
      // Same process group as ours, as docker runs helpers, so one that asks on the terminal still can.
      const child = spawn(cmd, args, {
        env: options.env as NodeJS.ProcessEnv | undefined,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        child.kill('SIGKILL');
        // Do not wait for 'close': what a shell-script helper started (`sleep`, `gpg`) outlives the
        // kill and holds the pipes open, so 'close' may never come. Our ends go now.
        child.stdout.destroy();
        child.stderr.destroy();
        child.stdin.destroy();
        reject(new ProcessTimeoutError(cmd, timeoutMs));
      }, timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        const stderr = Buffer.concat(err).toString('utf8');
        resolve({
          code: code ?? 128,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr,
        });
      });
      // A helper that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
  };
}
