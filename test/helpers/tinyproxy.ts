import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from './distribution.js';
import { makeTempDir, type CleanupContext } from './tmp.js';

/**
 * A real forward proxy: tinyproxy from Debian (scripts/install-system-deps.sh), in the
 * foreground, on a free loopback port, logging every connection and request line at Info.
 * With `hosts`, tinyproxy sends requests for those names (CONNECT and absolute-form alike) to an
 * `Upstream http` next hop: a small forwarding proxy in this process whose only job is to connect
 * those names to 127.0.0.1. So tinyproxy stays the proxy the client talks to, logs and judges
 * (ConnectPort, BasicAuth), while a registry's name that nothing else on the machine knows still
 * leads to loopback: no root, no mount namespace, no change to the machine's /etc/hosts.
 */

export interface TinyproxyOptions {
  t: CleanupContext;
  /** `ConnectPort` lines: CONNECT is allowed to these ports only (none given: every port). */
  connectPorts?: number[];
  /** `BasicAuth USER PASSWORD`: the proxy answers 407 without them. */
  basicAuth?: { username: string; password: string };
  /** Names the proxy reaches at 127.0.0.1 (through its upstream, see startLoopbackResolver). */
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
  const upstream = opts.hosts?.length ? await startLoopbackResolver(opts.t, opts.hosts) : undefined;
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
      // tinyproxy.conf(5): "upstream type host:port "site_spec"", the last matching rule wins.
      ...(upstream ? opts.hosts!.map((h) => `Upstream http 127.0.0.1:${upstream.port} "${h}"`) : []),
    ].join('\n');
    const file = join(dir, 'tinyproxy.conf');
    await writeFile(file, `${conf}\n`);
    const child = spawn('tinyproxy', ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
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
 * tinyproxy's next hop for `hosts`: an HTTP proxy that accepts CONNECT host:port and absolute-form
 * requests for those names only and connects them to 127.0.0.1 on the same port; any other name
 * gets 502. It resolves names, nothing more: what the client sent is what tinyproxy forwarded.
 */
async function startLoopbackResolver(t: CleanupContext, hosts: string[]): Promise<{ port: number }> {
  const known = new Set(hosts.map((h) => h.toLowerCase()));
  const target = (host: string, defaultPort: number): number | undefined => {
    const u = new URL(`http://${host}`);
    if (!known.has(u.hostname.toLowerCase())) return undefined;
    return u.port ? Number(u.port) : defaultPort;
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let url: URL;
    try { url = new URL(req.url ?? ''); } catch { res.writeHead(400).end(); return; }
    const port = url.protocol === 'http:' ? target(url.host, 80) : undefined;
    if (port === undefined) { res.writeHead(502).end(`unknown name ${url.host}\n`); return; }
    const out = httpRequest({ host: '127.0.0.1', port, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers }, (up: IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
      up.pipe(res);
    });
    out.once('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(out);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const port = target(req.url ?? '', 443);
    if (port === undefined) { client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'); return; }
    const up = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    for (const s of [up, client]) { sockets.add(s); s.once('close', () => sockets.delete(s)); }
    up.once('error', () => client.destroy());
    client.once('error', () => up.destroy());
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  return { port: (server.address() as AddressInfo).port };
}
