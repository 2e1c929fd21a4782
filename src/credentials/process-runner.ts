import { spawn } from 'node:child_process';

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
  /** Kill the child after this long: a helper waiting for a pinentry with no terminal would hang forever. */
  timeoutMs?: number;
}

export function createProcessRunner(options: ProcessRunnerOptions = {}): ProcessRunner {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return (cmd, args, input) =>
    new Promise<ProcessResult>((resolve, reject) => {
      const child = spawn(cmd, args, {
        env: options.env as NodeJS.ProcessEnv | undefined,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      timer.unref();
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        resolve({
          code: code ?? 128,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: timedOut ? `${stderr}\n${cmd} timed out after ${timeoutMs} ms` : signal ? `${stderr}\nkilled by ${signal}` : stderr,
        });
      });
      // A helper that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
}
