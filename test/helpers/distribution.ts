import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeSelfSignedCert } from './self-signed-cert.js';
import { startTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from './token-issuer.js';
import type { CleanupContext } from './tmp.js';

/**
 * A real CNCF Distribution 2.8 (`docker-registry serve`, Debian package) per test, on a free
 * loopback port, with its own storage dir. Modes as /work/shared/TESTBED.md describes.
 */

const execFileAsync = promisify(execFile);

export type RegistryMode = 'plain' | 'plain-htpasswd' | 'tls' | 'tls-htpasswd' | 'token' | 'tls-token';

export interface StartDistributionOptions {
  mode: RegistryMode;
  /** For htpasswd and token modes; defaults `testuser` / `testpassword`. */
  username?: string;
  password?: string;
  /** Log at `info` (every request with its fields) instead of `error`. The access log is always on. */
  logRequests?: boolean;
  /** Extra options for the token issuer (token modes). */
  issuer?: Omit<TokenIssuerOptions, 'username' | 'password' | 'tls'>;
  /** TLS modes: require a client certificate (`http.tls.clientcas`); one is made and returned. */
  clientCert?: boolean;
  /**
   * A name the registry is also reached by: its TLS certificate covers it, and a token issuer's
   * realm is spelled with it. It listens on 127.0.0.1 all the same. A proxy test needs one: Go's
   * rules (and ours) never send localhost or a loopback address through a proxy, a name they do.
   */
  serverName?: string;
  /**
   * Run as a pull-through cache of this registry URL (Distribution's `proxy.remoteurl`): it
   * serves the upstream's repositories and stores what it fetched; pushes are refused.
   */
  proxyRemoteUrl?: string;
  /** When given, the registry (and its issuer) is stopped after the test. */
  t?: CleanupContext;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://...` */
  url: string;
  mode: RegistryMode;
  tls: boolean;
  /** PEM file clients trust for TLS modes (the self-signed server cert). */
  caFile?: string;
  caPem?: string;
  /** With `clientCert`: the PEM files of the certificate the registry accepts. */
  clientCertFile?: string;
  clientKeyFile?: string;
  username?: string;
  password?: string;
  issuer?: TokenIssuer;
  /** Root dir of this registry's temp files; storage lives in `${dataDir}/storage`. */
  dataDir: string;
  logs(): string;
  /** Access-log entries so far, in order (the markers of `flushLog` left out). */
  requests(): AccessLogEntry[];
  /**
   * Resolves once the access log holds every request answered before the call: Distribution
   * writes a request's line after its response, so a client that has its answer may be ahead of
   * the log. Sends a marker request and polls the log for its line (10 s deadline).
   */
  flushLog(): Promise<void>;
  /** Stops the process only (SIGTERM): storage, config and port are kept for `restart`. */
  halt(): Promise<void>;
  /** Starts the process again on the same port with the same storage; resolves once GET /v2/ answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  protocol: string;
}

const LOG_CAP = 16 * 1024 * 1024;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes before stop() must not leave registries listening after the run.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** A port that was free a moment ago: listen on 0, read it, close. Callers retry on EADDRINUSE. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Parses the combined-format access log lines Distribution writes for every request. */
export function parseAccessLog(logs: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  const re = /^\S+ - \S+ \[[^\]]+\] "([A-Z]+) (\S+) (HTTP\/[\d.]+)" (\d{3}) /gm;
  for (let m = re.exec(logs); m; m = re.exec(logs)) {
    out.push({ method: m[1]!, path: m[2]!, protocol: m[3]!, status: Number(m[4]) });
  }
  return out;
}

export interface RequestFilter {
  method?: string;
  pathIncludes?: string;
  pathMatches?: RegExp;
  status?: number;
}

function matches(e: AccessLogEntry, f: RequestFilter): boolean {
  if (f.method && e.method !== f.method.toUpperCase()) return false;
  if (f.pathIncludes && !e.path.includes(f.pathIncludes)) return false;
  if (f.pathMatches && !f.pathMatches.test(e.path)) return false;
  if (f.status !== undefined && e.status !== f.status) return false;
  return true;
}

/**
 * Number of requests the registry logged that match, counted once the log has caught up with
 * every request answered so far (`flushLog`): call it after the client call has resolved.
 */
export async function countRequests(reg: RunningRegistry, filter: RequestFilter = {}): Promise<number> {
  await reg.flushLog();
  return reg.requests().filter((e) => matches(e, filter)).length;
}

/** Synchronous count of what has been logged so far. */
export function countRequestsNow(reg: RunningRegistry, filter: RequestFilter = {}): number {
  return reg.requests().filter((e) => matches(e, filter)).length;
}

/** Query parameter of the marker requests `flushLog` sends (left out of `requests()`). */
const LOG_MARKER = 'wasm-oci-test-log-marker';

function probe(url: string, caPem: string | undefined, timeoutMs: number, client?: { certPem: string; keyPem: string }, path = '/v2/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
      method: 'GET', timeout: timeoutMs, ...(caPem ? { ca: caPem } : {}),
      ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
      agent: false,
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function startDistribution(opts: StartDistributionOptions): Promise<RunningRegistry> {
  installExitHook();
  const mode = opts.mode;
  const tls = mode === 'tls' || mode === 'tls-htpasswd' || mode === 'tls-token';
  const htpasswd = mode === 'plain-htpasswd' || mode === 'tls-htpasswd';
  const token = mode === 'token' || mode === 'tls-token';
  const username = htpasswd || token ? opts.username ?? 'testuser' : undefined;
  const password = htpasswd || token ? opts.password ?? 'testpassword' : undefined;

  const dataDir = await mkdtemp(join(tmpdir(), 'wasm-oci-registry-'));
  let issuer: TokenIssuer | undefined;
  try {
    const storage = join(dataDir, 'storage');
    await mkdir(storage);
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: opts.logRequests ? 'info' : 'error', formatter: 'text' },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
      // A fixed secret silences the "No HTTP secret provided" warning; uploads are per-instance anyway.
      http: { addr: '', secret: randomBytes(16).toString('hex') } as Record<string, unknown>,
      ...(opts.proxyRemoteUrl !== undefined ? { proxy: { remoteurl: opts.proxyRemoteUrl } } : {}),
    };
    let caPem: string | undefined;
    let caFile: string | undefined;
    let client: Awaited<ReturnType<typeof makeSelfSignedCert>> | undefined;
    if (tls) {
      const cert = await makeSelfSignedCert(dataDir, 'registry', undefined, opts.serverName ? [opts.serverName] : []);
      (config.http as Record<string, unknown>).tls = { certificate: cert.certFile, key: cert.keyFile };
      caPem = cert.certPem;
      caFile = cert.certFile;
      if (opts.clientCert) {
        client = await makeSelfSignedCert(dataDir, 'client', 'wasm-oci-test-client');
        ((config.http as Record<string, unknown>).tls as Record<string, unknown>).clientcas = [client.certFile];
      }
      if (token) {
        // The issuer serves HTTPS with the same cert: an HTTP realm behind an HTTPS registry is a downgrade clients refuse.
        issuer = await startTokenIssuer({ ...opts.issuer, username, password, tls: { certPem: cert.certPem, keyPem: cert.keyPem }, ...(opts.serverName ? { realmHost: opts.serverName } : {}) });
      }
    }
    if (htpasswd) {
      const { stdout } = await execFileAsync('htpasswd', ['-Bbn', username!, password!]);
      const file = join(dataDir, 'htpasswd');
      await writeFile(file, stdout);
      config.auth = { htpasswd: { realm: 'test', path: file } };
    }
    if (token) {
      issuer ??= await startTokenIssuer({ ...opts.issuer, username, password, ...(opts.serverName ? { realmHost: opts.serverName } : {}) });
      const bundle = join(dataDir, 'issuer.pem');
      await writeFile(bundle, issuer.certPem);
      config.auth = { token: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootcertbundle: bundle } };
    }

    for (let attempt = 0; ; attempt++) {
      const port = await findFreePort();
      (config.http as Record<string, unknown>).addr = `127.0.0.1:${port}`;
      const configFile = join(dataDir, 'config.yml');
      // JSON is YAML; Distribution's go-yaml reads it as is.
      await writeFile(configFile, JSON.stringify(config, null, 2));
      try {
        return await launch({ port, configFile, dataDir, mode, tls, caPem, caFile, username, password, issuer, client, t: opts.t });
      } catch (err) {
        if (err instanceof AddressInUse && attempt < 5) continue;
        throw err;
      }
    }
  } catch (err) {
    await issuer?.close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

class AddressInUse extends Error {}

interface LaunchArgs {
  port: number; configFile: string; dataDir: string; mode: RegistryMode; tls: boolean;
  caPem?: string; caFile?: string; username?: string; password?: string; issuer?: TokenIssuer;
  client?: { certFile: string; keyFile: string; certPem: string; keyPem: string };
  t?: CleanupContext;
}

/** One `docker-registry serve` process. */
interface RegistryProcess {
  exited(): boolean;
  kill(): Promise<void>;
}

function spawnRegistry(configFile: string, sink: (chunk: Buffer) => void): { proc: RegistryProcess; spawnError: Promise<never> } {
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout!.on('data', sink);
  child.stderr!.on('data', sink);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; running.delete(child); resolve(); });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  const kill = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(timer);
    }
  };
  return { proc: { exited: () => exited, kill }, spawnError };
}

async function launch(a: LaunchArgs): Promise<RunningRegistry> {
  // One log across restarts (`restart` spawns a new process on the same port and storage).
  let log = '';
  const append = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > LOG_CAP) log = log.slice(log.length - LOG_CAP / 2);
  };
  const url = `${a.tls ? 'https' : 'http'}://127.0.0.1:${a.port}`;

  /** Spawns the process and waits until GET /v2/ answers (200, or 401 behind auth). */
  const start = async (): Promise<RegistryProcess> => {
    const logFrom = log.length;
    const { proc, spawnError } = spawnRegistry(a.configFile, append);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exited()) {
        const own = log.slice(logFrom);
        if (/address already in use/i.test(own)) throw new AddressInUse(own);
        throw new Error(`docker-registry exited before it answered GET /v2/:\n${own}`);
      }
      try {
        const status = await Promise.race([probe(url, a.caPem, 1000, a.client), spawnError]);
        if (status === 200 || status === 401) return proc;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
          throw new Error('docker-registry not found: run scripts/install-system-deps.sh', { cause: err });
        }
      }
      if (Date.now() > deadline) {
        await proc.kill();
        throw new Error(`docker-registry did not answer GET /v2/ within 10 s:\n${log.slice(logFrom)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let proc = await start();
  const exited = (): boolean => proc.exited();
  const kill = (): Promise<void> => proc.kill();

  let stopped: Promise<void> | undefined;
  const reg: RunningRegistry = {
    host: `127.0.0.1:${a.port}`,
    port: a.port,
    url,
    mode: a.mode,
    tls: a.tls,
    ...(a.caFile ? { caFile: a.caFile, caPem: a.caPem } : {}),
    ...(a.client ? { clientCertFile: a.client.certFile, clientKeyFile: a.client.keyFile } : {}),
    ...(a.username !== undefined ? { username: a.username, password: a.password } : {}),
    ...(a.issuer ? { issuer: a.issuer } : {}),
    dataDir: a.dataDir,
    logs: () => log,
    requests: () => parseAccessLog(log).filter((e) => !e.path.includes(LOG_MARKER)),
    async flushLog() {
      const marker = `${LOG_MARKER}=${randomBytes(8).toString('hex')}`;
      await probe(url, a.caPem, 5000, a.client, `/v2/?${marker}`);
      for (const deadline = Date.now() + 10_000; !log.includes(marker);) {
        if (exited() || Date.now() > deadline) throw new Error(`the registry's access log never showed the marker request ${marker}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    halt: kill,
    async restart() {
      if (stopped) throw new Error('the registry was stopped for good');
      if (!exited()) throw new Error('the registry is still running');
      proc = await start();
    },
    stop() {
      stopped ??= (async () => {
        await kill();
        await a.issuer?.close();
        await rm(a.dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  a.t?.after(() => reg.stop());
  return reg;
}
