import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from './distribution.js';
import { makeTempDir, type CleanupContext } from './tmp.js';

/**
 * A real forward proxy: tinyproxy from Debian (scripts/install-system-deps.sh), in the
 * foreground, on a free loopback port, logging every connection and request line at Info.
 * With `hosts`, it runs in a mount namespace of its own whose /etc/hosts maps those names
 * (to 127.0.0.1): the proxy resolves a registry's name that nothing else on the machine knows,
 * so every byte stays on loopback and the machine's files are untouched.
 */

export interface TinyproxyOptions {
  t: CleanupContext;
  /** `ConnectPort` lines: CONNECT is allowed to these ports only (none given: every port). */
  connectPorts?: number[];
  /** `BasicAuth USER PASSWORD`: the proxy answers 407 without them. */
  basicAuth?: { username: string; password: string };
  /** Names the proxy resolves to 127.0.0.1 (needs a mount namespace: root, see canIsolateHosts). */
  hosts?: string[];
}

export interface ProxyLogLine {
  method: string;
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  target: string;
}

export interface RunningTinyproxy {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  log(): string;
  /** The request lines the proxy logged, in order. */
  requests(): ProxyLogLine[];
  stop(): Promise<void>;
}

export async function startTinyproxy(opts: TinyproxyOptions): Promise<RunningTinyproxy> {
  const dir = await makeTempDir(opts.t, 'wasm-oci-tinyproxy-');
  for (let attempt = 0; ; attempt++) {
    const port = await findFreePort();
    const conf = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'LogLevel Info',
      'MaxClients 64',
      'Allow 127.0.0.1',
      'DisableViaHeader Yes',
      ...(opts.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
      ...(opts.basicAuth ? [`BasicAuth ${opts.basicAuth.username} ${opts.basicAuth.password}`] : []),
    ].join('\n');
    const file = join(dir, 'tinyproxy.conf');
    await writeFile(file, `${conf}\n`);
    let child: ChildProcess;
    if (opts.hosts?.length) {
      const hostsFile = join(dir, 'hosts');
      await writeFile(hostsFile, `127.0.0.1 localhost ${opts.hosts.join(' ')}\n`);
      // unshare and sh exec in turn: the child's pid is tinyproxy's, so stop() signals it.
      child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec tinyproxy -d -c "$2"', 'sh', hostsFile, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      child = spawn('tinyproxy', ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    let log = '';
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => {});
    child.stdout!.on('data', (c: Buffer) => { log += c.toString('utf8'); });
    child.stderr!.on('data', (c: Buffer) => { log += c.toString('utf8'); });
    const stop = async (): Promise<void> => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    };
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!up) {
      if (exited) break;
      try {
        await Promise.race([canConnect(port), spawnError]);
        up = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
          throw new Error('tinyproxy not found: run scripts/install-system-deps.sh', { cause: err });
        }
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`tinyproxy did not listen within 10 s:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!up) {
      if (/address already in use/i.test(log) && attempt < 5) continue;
      throw new Error(`tinyproxy exited:\n${log}`);
    }
    opts.t.after(stop);
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      log: () => log,
      requests: () => [...log.matchAll(/Request \(file descriptor \d+\): ([A-Z]+) (\S+) HTTP\/1\.[01]/g)].map((m) => ({ method: m[1]!, target: m[2]! })),
      stop,
    };
  }
}

function canConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
}

/**
 * Whether this process may run a program in a mount namespace with its own /etc/hosts (root,
 * and a kernel or sandbox that allows it). Tried once, on a scratch file.
 */
export async function canIsolateHosts(): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-ns-'));
  try {
    const hosts = join(dir, 'hosts');
    await writeFile(hosts, '127.0.0.1 localhost wasm-oci-ns-probe.test\n');
    return await new Promise<boolean>((resolve) => {
      execFile('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/hosts && getent hosts wasm-oci-ns-probe.test', 'sh', hosts], (err, stdout) => {
        resolve(!err && stdout.includes('127.0.0.1'));
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
