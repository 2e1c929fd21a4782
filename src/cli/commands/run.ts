import { STATUS_CODES } from 'node:http';
import { Command } from 'commander';
import { WasmOciError } from '../../errors.js';
import type { HeaderPair } from '../../host/headers.js';
import type { RunScenario } from '../../host/scenario.js';
import type { HostReport, HttpMessage } from '../../host/state.js';
import { runFilter } from '../../operations/run-filter.js';
import type { CliContext } from '../context.js';
import { addFilterSourceOptions, limitsOf, loadFilter, type FilterSourceFlags } from '../filter-source.js';
import { buildScenario, parseHeader, parseHttpCallStub, parseProperty, textOrFile } from '../filter-scenario.js';
import { InvalidArgumentError } from 'commander';
import { positiveInt } from '../options.js';

interface RunFlags extends FilterSourceFlags {
  request?: string;
  requestHeader?: string[];
  requestBody?: string[];
  requestTrailer?: string[];
  responseStatus?: number;
  responseHeader?: string[];
  responseBody?: string[];
  responseTrailer?: string[];
  pluginConfig?: string;
  vmConfig?: string;
  rootId?: string;
  vmId?: string;
  property?: string[];
  httpCallResponse?: string[];
  ticks?: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function nonNegativeInt(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} needs a whole number.`);
  return n;
}

export function runCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('run')
    .description('run a proxy-wasm filter on a sample HTTP exchange, as Envoy (V8) would, and show what the upstream and the client see')
    .argument('<target>', 'a .wasm file, registry/repository:tag|@digest, or with --oci-layout path[:tag|@digest]');
  addFilterSourceOptions(cmd);
  cmd
    .option('--request <request>', "the request line: 'METHOD PATH' or 'METHOD URL' (default 'GET /')")
    .option('-H, --request-header <header>', "a request header, 'Name: value' (repeatable; 'Host: x' sets :authority)", collect)
    .option('--request-body <body>', 'a request body chunk, TEXT or @file (repeatable: one proxy_on_request_body call each)', collect)
    .option('--request-trailer <header>', "a request trailer, 'Name: value' (repeatable)", collect)
    .option('--response-status <code>', "the upstream's status (default 200)", (v) => positiveInt(v, '--response-status'))
    .option('--response-header <header>', "an upstream response header, 'Name: value' (repeatable)", collect)
    .option('--response-body <body>', 'an upstream response body chunk, TEXT or @file (repeatable)', collect)
    .option('--response-trailer <header>', "an upstream response trailer, 'Name: value' (repeatable)", collect)
    .option('--plugin-config <json>', 'the plugin configuration (proxy_on_configure), TEXT or @file')
    .option('--vm-config <json>', 'the VM configuration (proxy_on_vm_start), TEXT or @file')
    .option('--root-id <id>', "the plugin's root id (default: the first rootId of the artifact's runtime config)")
    .option('--vm-id <id>', 'the VM id (plugin_vm_id, shared data and queues)')
    .option('--property <key=value>', 'an Envoy attribute for proxy_get_property, e.g. destination.port=9080 (repeatable)', collect)
    .option('--http-call-response <answer>', "the answer to the filter's next proxy_http_call: 'STATUS [BODY]' or JSON {upstream,status,headers,body} (repeatable, in order)", collect)
    .option('--ticks <n>', 'proxy_on_tick calls after configure when the filter set a tick period (default 1)', (v) => nonNegativeInt(v, '--ticks'));
  cmd.addHelpText(
    'after',
    `
The filter runs in a worker thread on Node's WebAssembly (V8, Envoy's default runtime), linked
against the proxy-wasm host functions of its ABI exactly as proxy-wasm-cpp-host registers them.
A module Envoy would refuse fails here with the same reason (exit 7), as does a trap or a
callback that runs past its budget.

Examples:
  $ wasm-oci run examples/example-filter.wasm --request 'GET /details/123' -H 'Host: details:9080'
  $ wasm-oci run --oci-layout ./wasm-store:v0.1 --plugin-config '{"header":"x"}'
  $ wasm-oci run filter.wasm --request 'POST /api' --request-body 'part one ' --request-body 'part two'
  $ wasm-oci run filter.wasm --http-call-response '200 {"allowed":true}' --format json`,
  );
  cmd.action(async (input: string, flags: RunFlags, self: Command) => {
    const ctx = getContext(self);
    const scenario = await scenarioFromFlags(ctx, flags);
    const module = await loadFilter(ctx, input, flags);
    let report: HostReport;
    try {
      report = await runFilter(module, scenario, limitsOf(flags));
    } catch (err) {
      if (err instanceof WasmOciError && ctx.format === 'text') renderFailure(ctx, err);
      throw err;
    }
    ctx.json(runDocument(module.source, scenario, report));
    renderReport(ctx, module.source, scenario, report);
  });
  return cmd;
}

async function scenarioFromFlags(ctx: CliContext, flags: RunFlags): Promise<RunScenario> {
  const cwd = ctx.io.cwd;
  const headers = (list: string[] | undefined, flag: string): HeaderPair[] => (list ?? []).map((h) => parseHeader(h, flag));
  const bodies = async (list: string[] | undefined, flag: string): Promise<string[]> => Promise.all((list ?? []).map((b) => textOrFile(b, cwd, flag)));
  const input: Parameters<typeof buildScenario>[0] = {
    requestHeaders: headers(flags.requestHeader, '-H/--request-header'),
    requestBody: await bodies(flags.requestBody, '--request-body'),
    requestTrailers: headers(flags.requestTrailer, '--request-trailer'),
    responseHeaders: headers(flags.responseHeader, '--response-header'),
    responseBody: await bodies(flags.responseBody, '--response-body'),
    responseTrailers: headers(flags.responseTrailer, '--response-trailer'),
    properties: Object.fromEntries((flags.property ?? []).map(parseProperty)),
    httpCallResponses: (flags.httpCallResponse ?? []).map(parseHttpCallStub),
  };
  if (flags.request !== undefined) input.request = flags.request;
  if (flags.responseStatus !== undefined) input.responseStatus = flags.responseStatus;
  if (flags.pluginConfig !== undefined) input.pluginConfig = await textOrFile(flags.pluginConfig, cwd, '--plugin-config');
  if (flags.vmConfig !== undefined) input.vmConfig = await textOrFile(flags.vmConfig, cwd, '--vm-config');
  if (flags.rootId !== undefined) input.rootId = flags.rootId;
  if (flags.vmId !== undefined) input.vmId = flags.vmId;
  if (flags.ticks !== undefined) input.ticks = flags.ticks;
  return buildScenario(input);
}

/** Headers of `after` that `before` lacks, and the other way round (names and values). */
export function headerChanges(before: HeaderPair[], after: HeaderPair[]): { added: HeaderPair[]; removed: HeaderPair[] } {
  const key = ([k, v]: HeaderPair): string => `${k}\0${v}`;
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return { added: after.filter((p) => !b.has(key(p))), removed: before.filter((p) => !a.has(key(p))) };
}

function requestPairs(s: RunScenario): HeaderPair[] {
  return [[':method', s.request.method], [':scheme', s.request.scheme ?? 'http'], [':authority', s.request.authority], [':path', s.request.path], ...(s.request.headers ?? [])];
}

/** The `run --format json` document (docs/json-output.md). */
export function runDocument(source: string, scenario: RunScenario, report: HostReport): unknown {
  const stream = report.streams[0];
  const upstream = stream?.upstream;
  const client = stream?.client;
  const responseIn: HeaderPair[] = [[':status', String(scenario.response.status)], ...(scenario.response.headers ?? [])];
  return {
    module: source,
    abiVersion: report.abiVersion,
    allocator: report.allocator,
    rootId: report.rootId,
    vmId: report.vmId,
    upstream: upstream === undefined ? null : { ...messageDoc(upstream), changes: headerChanges(requestPairs(scenario), upstream.headers) },
    client: client === undefined ? null : { status: Number(pseudo(client.headers, ':status') ?? 0), ...messageDoc(client), changes: headerChanges(stream?.localReply ? [] : responseIn, client.headers) },
    localReply: stream?.localReply ?? null,
    stopped: stream?.stopped ?? null,
    logs: report.logs,
    metrics: report.metrics,
    httpCalls: report.httpCalls,
    grpcCalls: report.grpcCalls,
    sharedData: report.sharedData,
    queues: report.queues,
    foreignCalls: report.foreignCalls,
    tickPeriodMs: report.tickPeriodMs,
    ticks: report.ticks,
    properties: report.properties,
    callbacks: report.trace,
  };
}

function messageDoc(m: HttpMessage): { headers: HeaderPair[]; body: string; trailers: HeaderPair[] } {
  return { headers: m.headers, body: m.body, trailers: m.trailers };
}

function pseudo(headers: HeaderPair[], name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
}

function renderReport(ctx: CliContext, source: string, scenario: RunScenario, report: HostReport): void {
  const c = ctx.color;
  const stream = report.streams[0];
  ctx.out(c.dim(`* Filter ${source}: proxy-wasm ABI ${report.abiVersion}, allocator ${report.allocator}, root id "${report.rootId}"`));
  renderLogs(ctx, report);
  const upstream = stream?.upstream;
  if (upstream !== undefined) {
    ctx.out(c.dim('* Upstream received:'));
    const method = pseudo(upstream.headers, ':method') ?? '';
    const path = pseudo(upstream.headers, ':path') ?? '';
    ctx.out(`> ${method} ${path} HTTP/1.1`);
    const authority = pseudo(upstream.headers, ':authority');
    if (authority !== undefined) ctx.out(`> host: ${authority}`);
    for (const [k, v] of upstream.headers) if (!k.startsWith(':')) ctx.out(`> ${k}: ${v}`);
    ctx.out('>');
    if (upstream.body !== '') ctx.out(upstream.body);
    for (const [k, v] of upstream.trailers) ctx.out(`> ${k}: ${v}  ${c.dim('(trailer)')}`);
    renderChanges(ctx, 'request', headerChanges(requestPairs(scenario), upstream.headers));
  } else {
    ctx.out(c.dim('* Upstream received nothing: the filter did not let the request through'));
  }
  if (stream?.localReply !== undefined) {
    const r = stream.localReply;
    ctx.out(c.dim(`* Local reply ${r.status}${r.details ? ` (${r.details})` : ''} sent by the filter in ${r.callback}`));
  }
  const client = stream?.client;
  if (client !== undefined) {
    ctx.out(c.dim('* Client received:'));
    const status = Number(pseudo(client.headers, ':status') ?? 0);
    ctx.out(`< HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd());
    for (const [k, v] of client.headers) if (!k.startsWith(':')) ctx.out(`< ${k}: ${v}`);
    ctx.out('<');
    if (client.body !== '') ctx.out(client.body);
    for (const [k, v] of client.trailers) ctx.out(`< ${k}: ${v}  ${c.dim('(trailer)')}`);
    if (stream?.localReply === undefined) {
      renderChanges(ctx, 'response', headerChanges([[':status', String(scenario.response.status)], ...(scenario.response.headers ?? [])], client.headers));
    }
  }
  if (stream?.stopped !== undefined) ctx.out(c.yellow(`* Stream stopped: ${stream.stopped}`));
  for (const m of report.metrics) ctx.out(c.dim(`* Metric ${m.name} (${m.type}) = ${m.value}`));
  for (const call of report.httpCalls) {
    const method = pseudo(call.headers, ':method') ?? '';
    const path = pseudo(call.headers, ':path') ?? '';
    const answer = call.response === undefined ? 'no --http-call-response given: the filter got a failed call (0 headers)' : `answered ${call.response.status}`;
    ctx.out(c.dim(`* HTTP call #${call.token} to cluster ${call.upstream}: ${method} ${path} (timeout ${call.timeoutMs} ms); ${answer}`));
  }
  for (const call of report.grpcCalls) ctx.out(c.dim(`* gRPC ${call.kind} #${call.token} to ${call.service}: ${call.serviceName}/${call.method} (recorded, not answered)`));
  for (const d of report.sharedData) ctx.out(c.dim(`* Shared data ${d.key.replace('\0', ' ')} = ${d.value} (cas ${d.cas})`));
  for (const q of report.queues) ctx.out(c.dim(`* Shared queue ${q.name} (token ${q.token}): ${q.pending.length} pending`));
  if (report.tickPeriodMs > 0) ctx.out(c.dim(`* Tick period ${report.tickPeriodMs} ms; ${report.ticks} tick(s) delivered`));
}

function renderLogs(ctx: CliContext, report: HostReport): void {
  for (const l of report.logs) ctx.out(`${ctx.color.dim('* Filter log')} [${l.level}] ${l.message} ${ctx.color.dim(`(${l.callback})`)}`);
}

function renderChanges(ctx: CliContext, what: string, changes: { added: HeaderPair[]; removed: HeaderPair[] }): void {
  const c = ctx.color;
  for (const [k, v] of changes.added) ctx.out(c.dim(`* the filter added to the ${what}: ${k}: ${v}`));
  for (const [k, v] of changes.removed) ctx.out(c.dim(`* the filter removed from the ${what}: ${k}: ${v}`));
}

/** Before the error line: what the filter logged, and the Wasm stack of a trap. */
function renderFailure(ctx: CliContext, err: WasmOciError): void {
  const report = err.details?.report as HostReport | undefined;
  if (report !== undefined) renderLogs(ctx, report);
  const stack = err.details?.wasmStack as string[] | undefined;
  if (stack !== undefined && stack.length > 0) {
    ctx.out(ctx.color.dim('* Wasm stack:'));
    for (const line of stack) ctx.out(`    ${line}`);
  }
  const problems = err.details?.problems as { message: string }[] | undefined;
  if (problems !== undefined && problems.length > 1) for (const p of problems) ctx.out(`* ${p.message}`);
}
