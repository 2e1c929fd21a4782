/**
 * From command-line values (and `test` cases) to a host scenario: `GET /details/123`, curl-style
 * `k: v` headers, TEXT|@file bodies and configs, `key=value` properties, stub http call answers.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fromFsError, WasmOciError } from '../errors.js';
import type { HeaderPair } from '../host/headers.js';
import type { HttpCallStub } from '../host/lifecycle.js';
import type { RunScenario } from '../host/scenario.js';
import type { ScenarioInput } from '../operations/filter-cases.js';

export interface RequestLine {
  method: string;
  path: string;
  authority?: string;
  scheme?: string;
}

/** `GET /details/123`, `POST http://details:9080/x?y=1`, or just a path (GET). */
export function parseRequestLine(text: string): RequestLine {
  const parts = text.trim().split(/\s+/);
  const [first, second] = parts;
  if (first === undefined || first === '' || parts.length > 2) {
    throw new WasmOciError('E_INVALID_INPUT', `--request must be 'METHOD PATH' (e.g. 'GET /details/123'), not '${text}'`);
  }
  const method = second === undefined ? 'GET' : first.toUpperCase();
  const target = second ?? first;
  if (/^https?:\/\//i.test(target)) {
    const url = new URL(target);
    return { method, path: `${url.pathname}${url.search}`, authority: url.host, scheme: url.protocol.replace(':', '') };
  }
  if (!target.startsWith('/')) throw new WasmOciError('E_INVALID_INPUT', `the request path must start with / or be a URL, not '${target}'`);
  return { method, path: target };
}

/** `Name: value`, as curl -H takes it. */
export function parseHeader(text: string, flag: string): HeaderPair {
  const i = text.indexOf(':', text.startsWith(':') ? 1 : 0);
  if (i <= 0) throw new WasmOciError('E_INVALID_INPUT', `${flag} must be 'Name: value', not '${text}'`);
  const name = text.slice(0, i).trim();
  if (name === '' || /\s/.test(name)) throw new WasmOciError('E_INVALID_INPUT', `${flag} has an invalid header name in '${text}'`);
  return [name.toLowerCase(), text.slice(i + 1).trim()];
}

/** TEXT, or the contents of a file for `@file`. */
export async function textOrFile(value: string, cwd: string, flag: string): Promise<string> {
  if (!value.startsWith('@')) return value;
  const path = resolvePath(cwd, value.slice(1));
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw fromFsError(err, `${flag} ${path}`);
  }
}

export function parseProperty(text: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new WasmOciError('E_INVALID_INPUT', `--property must be key=value (e.g. destination.port=9080), not '${text}'`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function headerPairsOf(value: unknown, what: string): HeaderPair[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    return value.map((p) => {
      if (!Array.isArray(p) || p.length !== 2) throw new WasmOciError('E_INVALID_INPUT', `${what}: headers must be [name, value] pairs`);
      return [String(p[0]).toLowerCase(), String(p[1])];
    });
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k.toLowerCase(), String(x)] as HeaderPair));
  }
  throw new WasmOciError('E_INVALID_INPUT', `${what}: headers must be a map or a list of pairs`);
}

/** `200 body...`, or JSON `{"upstream":"cluster","status":200,"headers":{...},"body":"..."}`. */
export function parseHttpCallStub(text: string): HttpCallStub {
  const t = text.trim();
  if (t.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(t);
    } catch (err) {
      throw new WasmOciError('E_INVALID_INPUT', `--http-call-response is not valid JSON: ${(err as Error).message}`);
    }
    return stubFromObject(doc, '--http-call-response');
  }
  const m = /^(\d{3})(?:\s+([\s\S]*))?$/.exec(t);
  if (m === null) throw new WasmOciError('E_INVALID_INPUT', `--http-call-response must be 'STATUS [BODY]' or a JSON object, not '${text}'`);
  const stub: HttpCallStub = { status: Number(m[1]) };
  if (m[2] !== undefined) stub.body = m[2];
  return stub;
}

export function stubFromObject(doc: unknown, what: string): HttpCallStub {
  if (typeof doc !== 'object' || doc === null) throw new WasmOciError('E_INVALID_INPUT', `${what} must be an object`);
  const o = doc as Record<string, unknown>;
  const status = Number(o.status ?? 200);
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new WasmOciError('E_INVALID_INPUT', `${what}: status must be an HTTP status code`);
  const stub: HttpCallStub = { status, headers: headerPairsOf(o.headers, what) };
  if (o.body !== undefined) stub.body = String(o.body);
  if (o.upstream !== undefined) stub.upstream = String(o.upstream);
  return stub;
}

export type { ScenarioInput };

/** The request curl would send for `curl -v http://AUTHORITY/PATH` (host, user-agent, accept). */
export function buildScenario(input: ScenarioInput): RunScenario {
  const line = parseRequestLine(input.request ?? 'GET /');
  const headers = [...(input.requestHeaders ?? [])];
  const hostHeader = headers.findIndex(([k]) => k === 'host' || k === ':authority');
  let authority = line.authority ?? 'localhost';
  if (hostHeader >= 0) {
    authority = headers[hostHeader]![1];
    headers.splice(hostHeader, 1);
  }
  if (!headers.some(([k]) => k === 'user-agent')) headers.push(['user-agent', 'wasm-oci-run']);
  if (!headers.some(([k]) => k === 'accept')) headers.push(['accept', '*/*']);
  const body = input.requestBody ?? [];
  if (body.length > 0 && !headers.some(([k]) => k === 'content-length')) {
    headers.push(['content-length', String(body.reduce((n, c) => n + Buffer.byteLength(c), 0))]);
  }
  const scenario: RunScenario = {
    request: { method: line.method, path: line.path, authority, scheme: line.scheme ?? 'http', headers, body, trailers: input.requestTrailers ?? [] },
    response: { status: input.responseStatus ?? 200, headers: input.responseHeaders ?? [], body: input.responseBody ?? [], trailers: input.responseTrailers ?? [] },
  };
  if (input.pluginConfig !== undefined) scenario.pluginConfig = input.pluginConfig;
  if (input.vmConfig !== undefined) scenario.vmConfig = input.vmConfig;
  if (input.rootId !== undefined) scenario.rootId = input.rootId;
  if (input.vmId !== undefined) scenario.vmId = input.vmId;
  if (input.properties !== undefined) scenario.properties = input.properties;
  if (input.httpCallResponses !== undefined) scenario.httpCallResponses = input.httpCallResponses;
  if (input.ticks !== undefined) scenario.ticks = input.ticks;
  return scenario;
}
