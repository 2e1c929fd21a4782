/**
 * `wasm-oci test` cases (issue 12 item 3): a YAML file of cases, each a request, an upstream
 * response and config for the filter, with expectations on what came out. The expectations check
 * what a user would check with curl and Envoy's logs: a header present or equal, the local reply
 * status, a body containing a text, a log line matching, a metric's value.
 *
 * ```yaml
 * defaults:                # merged under every case
 *   rootId: my_root
 * cases:
 *   - name: adds the demo header
 *     request: GET /details/123
 *     requestHeaders: { host: details:9080 }
 *     requestBody: "text"          # or a list of chunks
 *     response: { status: 200, headers: { content-type: text/plain }, body: "ok" }
 *     pluginConfig: { header: x }  # an object is passed as JSON
 *     properties: { destination.port: "9080" }
 *     httpCallResponses: [ { status: 200, body: allowed } ]
 *     expect:
 *       client:   { status: 200, headers: { resp-header-demo: added by our filter }, headersPresent: [x], headersAbsent: [y], bodyContains: ok }
 *       upstream: { received: true, headers: { ... }, bodyContains: "..." }
 *       localReply: { status: 403 }      # or `localReply: false` (none)
 *       logs: [ { level: info, matches: "VM started" } ]   # or a plain regex string
 *       metrics: { requests: 1 }
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { WasmOciError } from '../errors.js';
import type { HeaderPair } from '../host/headers.js';
import type { HttpCallStub } from '../host/lifecycle.js';
import type { HostReport, HttpMessage } from '../host/state.js';

export interface MessageExpectation {
  status?: number;
  headers?: Record<string, string>;
  headersPresent?: string[];
  headersAbsent?: string[];
  bodyContains?: string;
  bodyEquals?: string;
  received?: boolean;
}

export interface LogExpectation {
  level?: string;
  matches: string;
}

export interface CaseExpectations {
  client?: MessageExpectation;
  upstream?: MessageExpectation;
  localReply?: { status?: number; bodyContains?: string } | false;
  logs?: LogExpectation[];
  metrics?: Record<string, number>;
}

/** The traffic and configuration of one run: what `run`'s flags and each `test` case give. */
export interface ScenarioInput {
  request?: string;
  requestHeaders?: HeaderPair[];
  requestBody?: string[];
  requestTrailers?: HeaderPair[];
  responseStatus?: number;
  responseHeaders?: HeaderPair[];
  responseBody?: string[];
  responseTrailers?: HeaderPair[];
  pluginConfig?: string;
  vmConfig?: string;
  rootId?: string;
  vmId?: string;
  properties?: Record<string, string>;
  httpCallResponses?: HttpCallStub[];
  ticks?: number;
}

export interface FilterCase extends ScenarioInput {
  name: string;
  expect: CaseExpectations;
}

function bad(where: string, message: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', `cases file: ${where}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function headersOf(v: unknown, where: string): HeaderPair[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return v.map((p, i) => {
      if (typeof p === 'string') {
        const c = p.indexOf(':', p.startsWith(':') ? 1 : 0);
        if (c <= 0) throw bad(`${where}[${i}]`, `'${p}' is not 'Name: value'`);
        return [p.slice(0, c).trim().toLowerCase(), p.slice(c + 1).trim()];
      }
      if (Array.isArray(p) && p.length === 2) return [String(p[0]).toLowerCase(), String(p[1])];
      throw bad(`${where}[${i}]`, 'a header is "Name: value" or [name, value]');
    });
  }
  if (isObject(v)) return Object.entries(v).flatMap(([k, x]) => (Array.isArray(x) ? x : [x]).map((y) => [k.toLowerCase(), String(y)] as HeaderPair));
  throw bad(where, 'headers are a map, or a list of "Name: value"');
}

function chunksOf(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((c) => String(c));
  throw bad(where, 'a body is a string or a list of chunks');
}

function configText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function stringList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(where, 'must be a list');
  return v.map(String);
}

function messageExpectation(v: unknown, where: string): MessageExpectation | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(where, 'must be a map');
  const known = new Set(['status', 'headers', 'headersPresent', 'headersAbsent', 'bodyContains', 'bodyEquals', 'received']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(where, `unknown expectation "${k}" (known: ${[...known].join(', ')})`);
  const e: MessageExpectation = {};
  if (v.status !== undefined) e.status = Number(v.status);
  if (v.headers !== undefined) {
    if (!isObject(v.headers)) throw bad(`${where}.headers`, 'must be a map of name: value');
    e.headers = Object.fromEntries(Object.entries(v.headers).map(([k, x]) => [k.toLowerCase(), String(x)]));
  }
  if (v.headersPresent !== undefined) e.headersPresent = stringList(v.headersPresent, `${where}.headersPresent`).map((h) => h.toLowerCase());
  if (v.headersAbsent !== undefined) e.headersAbsent = stringList(v.headersAbsent, `${where}.headersAbsent`).map((h) => h.toLowerCase());
  if (v.bodyContains !== undefined) e.bodyContains = String(v.bodyContains);
  if (v.bodyEquals !== undefined) e.bodyEquals = String(v.bodyEquals);
  if (v.received !== undefined) e.received = v.received === true;
  return e;
}

function expectationsOf(v: unknown, where: string): CaseExpectations {
  if (v === undefined) return {};
  if (!isObject(v)) throw bad(where, 'must be a map');
  const known = new Set(['client', 'upstream', 'localReply', 'logs', 'metrics']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(where, `unknown expectation "${k}" (known: ${[...known].join(', ')})`);
  const e: CaseExpectations = {};
  const client = messageExpectation(v.client, `${where}.client`);
  if (client) e.client = client;
  const upstream = messageExpectation(v.upstream, `${where}.upstream`);
  if (upstream) e.upstream = upstream;
  if (v.localReply === false) e.localReply = false;
  else if (v.localReply !== undefined) {
    if (!isObject(v.localReply)) throw bad(`${where}.localReply`, 'must be a map ({status: 403}) or false');
    e.localReply = {};
    if (v.localReply.status !== undefined) e.localReply.status = Number(v.localReply.status);
    if (v.localReply.bodyContains !== undefined) e.localReply.bodyContains = String(v.localReply.bodyContains);
  }
  if (v.logs !== undefined) {
    if (!Array.isArray(v.logs)) throw bad(`${where}.logs`, 'must be a list');
    e.logs = v.logs.map((l, i) => {
      if (typeof l === 'string') return { matches: l };
      if (!isObject(l) || l.matches === undefined) throw bad(`${where}.logs[${i}]`, 'is a regex string or {level, matches}');
      const out: LogExpectation = { matches: String(l.matches) };
      if (l.level !== undefined) out.level = String(l.level);
      return out;
    });
    for (const [i, l] of e.logs.entries()) {
      try {
        new RegExp(l.matches);
      } catch (err) {
        throw bad(`${where}.logs[${i}]`, `not a valid regular expression: ${(err as Error).message}`);
      }
    }
  }
  if (v.metrics !== undefined) {
    if (!isObject(v.metrics)) throw bad(`${where}.metrics`, 'must be a map of name: value');
    e.metrics = Object.fromEntries(Object.entries(v.metrics).map(([k, x]) => [k, Number(x)]));
  }
  return e;
}

function stubsOf(v: unknown, where: string): HttpCallStub[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(where, 'must be a list');
  return v.map((s, i) => {
    if (!isObject(s)) throw bad(`${where}[${i}]`, 'must be a map {status, headers, body, upstream}');
    const stub: HttpCallStub = { status: Number(s.status ?? 200), headers: headersOf(s.headers, `${where}[${i}].headers`) };
    if (s.body !== undefined) stub.body = String(s.body);
    if (s.upstream !== undefined) stub.upstream = String(s.upstream);
    return stub;
  });
}

const CASE_KEYS = new Set(['name', 'request', 'requestHeaders', 'requestBody', 'requestTrailers', 'response', 'pluginConfig', 'vmConfig', 'rootId', 'vmId', 'properties', 'httpCallResponses', 'ticks', 'expect']);

/** Parses a cases file; every mistake is E_INVALID_INPUT naming where it is. */
export function parseCases(text: string): FilterCase[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new WasmOciError('E_INVALID_INPUT', `cases file is not valid YAML: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.cases)) throw bad('top level', 'needs a `cases:` list');
  const defaults = doc.defaults === undefined ? {} : doc.defaults;
  if (!isObject(defaults)) throw bad('defaults', 'must be a map');
  if (doc.cases.length === 0) throw bad('cases', 'is empty');
  return doc.cases.map((raw, i) => {
    if (!isObject(raw)) throw bad(`cases[${i}]`, 'must be a map');
    const c: Record<string, unknown> = { ...defaults, ...raw };
    const where = `case ${i + 1}${typeof c.name === 'string' ? ` (${c.name})` : ''}`;
    for (const k of Object.keys(c)) if (!CASE_KEYS.has(k)) throw bad(where, `unknown key "${k}"`);
    const out: FilterCase = { name: typeof c.name === 'string' ? c.name : `case ${i + 1}`, expect: expectationsOf(c.expect, `${where}.expect`) };
    if (c.request !== undefined) out.request = String(c.request);
    out.requestHeaders = headersOf(c.requestHeaders, `${where}.requestHeaders`);
    out.requestBody = chunksOf(c.requestBody, `${where}.requestBody`);
    out.requestTrailers = headersOf(c.requestTrailers, `${where}.requestTrailers`);
    if (c.response !== undefined) {
      if (!isObject(c.response)) throw bad(`${where}.response`, 'must be a map {status, headers, body, trailers}');
      if (c.response.status !== undefined) out.responseStatus = Number(c.response.status);
      out.responseHeaders = headersOf(c.response.headers, `${where}.response.headers`);
      out.responseBody = chunksOf(c.response.body, `${where}.response.body`);
      out.responseTrailers = headersOf(c.response.trailers, `${where}.response.trailers`);
    }
    const pc = configText(c.pluginConfig);
    if (pc !== undefined) out.pluginConfig = pc;
    const vc = configText(c.vmConfig);
    if (vc !== undefined) out.vmConfig = vc;
    if (c.rootId !== undefined) out.rootId = String(c.rootId);
    if (c.vmId !== undefined) out.vmId = String(c.vmId);
    if (c.properties !== undefined) {
      if (!isObject(c.properties)) throw bad(`${where}.properties`, 'must be a map');
      out.properties = Object.fromEntries(Object.entries(c.properties).map(([k, v]) => [k, String(v)]));
    }
    const stubs = stubsOf(c.httpCallResponses, `${where}.httpCallResponses`);
    if (stubs !== undefined) out.httpCallResponses = stubs;
    if (c.ticks !== undefined) out.ticks = Number(c.ticks);
    return out;
  });
}

function checkMessage(side: 'client' | 'upstream', m: HttpMessage | undefined, e: MessageExpectation, failures: string[]): void {
  if (e.received === false) {
    if (m !== undefined) failures.push(`${side}: expected nothing to arrive, but it received ${m.headers.length} headers`);
    return;
  }
  if (m === undefined) {
    failures.push(`${side}: received nothing`);
    return;
  }
  const get = (n: string): string | undefined => m.headers.find(([k]) => k === n)?.[1];
  if (e.status !== undefined && Number(get(':status')) !== e.status) failures.push(`${side} status: expected ${e.status}, got ${get(':status') ?? 'none'}`);
  for (const [k, v] of Object.entries(e.headers ?? {})) {
    const got = get(k);
    if (got !== v) failures.push(`${side} header ${k}: expected "${v}", got ${got === undefined ? 'no such header' : `"${got}"`}`);
  }
  for (const k of e.headersPresent ?? []) if (get(k) === undefined) failures.push(`${side} header ${k}: expected present, it is absent`);
  for (const k of e.headersAbsent ?? []) if (get(k) !== undefined) failures.push(`${side} header ${k}: expected absent, it is "${get(k)}"`);
  if (e.bodyContains !== undefined && !m.body.includes(e.bodyContains)) failures.push(`${side} body: expected it to contain "${e.bodyContains}", got "${m.body}"`);
  if (e.bodyEquals !== undefined && m.body !== e.bodyEquals) failures.push(`${side} body: expected "${e.bodyEquals}", got "${m.body}"`);
}

/** The failed expectations of a case against a run's report (empty when it passes). */
export function checkCase(c: FilterCase, report: HostReport): string[] {
  const failures: string[] = [];
  const stream = report.streams[0];
  const e = c.expect;
  if (e.client) checkMessage('client', stream?.client, e.client, failures);
  if (e.upstream) checkMessage('upstream', stream?.upstream, e.upstream, failures);
  if (e.localReply === false) {
    if (stream?.localReply) failures.push(`local reply: expected none, the filter sent ${stream.localReply.status}`);
  } else if (e.localReply !== undefined) {
    const r = stream?.localReply;
    if (r === undefined) failures.push('local reply: expected one, the filter sent none');
    else {
      if (e.localReply.status !== undefined && r.status !== e.localReply.status) failures.push(`local reply status: expected ${e.localReply.status}, got ${r.status}`);
      if (e.localReply.bodyContains !== undefined && !r.body.includes(e.localReply.bodyContains)) failures.push(`local reply body: expected it to contain "${e.localReply.bodyContains}", got "${r.body}"`);
    }
  }
  for (const l of e.logs ?? []) {
    const re = new RegExp(l.matches);
    if (!report.logs.some((x) => (l.level === undefined || x.level === l.level) && re.test(x.message))) {
      failures.push(`log: no ${l.level ?? ''}${l.level ? ' ' : ''}line matches /${l.matches}/ (logged: ${report.logs.map((x) => `[${x.level}] ${x.message}`).join('; ') || 'nothing'})`);
    }
  }
  for (const [name, value] of Object.entries(e.metrics ?? {})) {
    const m = report.metrics.find((x) => x.name === name);
    if (m === undefined) failures.push(`metric ${name}: expected ${value}, the filter defined no such metric`);
    else if (m.value !== value) failures.push(`metric ${name}: expected ${value}, got ${m.value}`);
  }
  return failures;
}
