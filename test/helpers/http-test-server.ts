import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { CleanupContext } from './tmp.js';

/** What the server saw: enough for a test to assert on request sequences and headers. */
export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/**
 * What one request (or one connection that did not parse as HTTP) brought the server, byte for
 * byte as parsed: the request line and header lines as received (`rawHeaders`), then the body
 * chunks as they arrive. Recorded from the request line on, so a request the client abandons
 * midway is in it too.
 */
export interface Received {
  chunks: Buffer[];
}

export type TestHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown;

export interface TestServer {
  /** `127.0.0.1:PORT`, the registry name to give the client. */
  host: string;
  port: number;
  origin: string;
  requests: RecordedRequest[];
  /** Everything clients sent, request by request (see Received), for scanning every byte. */
  received: Received[];
  close(): Promise<void>;
}

/** The request line and header lines of `req` as the client sent them (names in their own case). */
export function requestHead(req: IncomingMessage): string {
  const lines = [`${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A fresh in-process HTTP(S) server on a free loopback port for one test, closed when the test
 * ends. For hostile and faulty behaviour no real registry shows on demand.
 */
export async function startTestServer(t: CleanupContext, handler: TestHandler, options: { tls?: { cert: string; key: string } } = {}): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    const raw: Received = { chunks: [Buffer.from(requestHead(req), 'latin1')] };
    received.push(raw);
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      raw.chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Bytes that did not parse as HTTP are recorded too (the default answer, 400, is kept).
  server.on('clientError', (err: Error & { rawPacket?: Buffer }, socket: Socket) => {
    if (err.rawPacket && err.rawPacket.length > 0) received.push({ chunks: [Buffer.from(err.rawPacket)] });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return { host: `127.0.0.1:${port}`, port, origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, requests, received, close };
}

/** A clock whose sleeps return at once and are recorded. */
export function fakeClock(): { now(): number; sleep(ms: number): Promise<void>; sleeps: number[] } {
  const sleeps: number[] = [];
  let now = Date.now();
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
