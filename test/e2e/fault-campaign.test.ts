import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import {
  and, campaignSeed, createPrng, describeSnapshot, inspectTag, method, padModule, sha256Hex, snapshotDir,
  type PlannedFault, type Prng,
} from '../helpers/fault-campaign.js';
import { isBlobGet, isManifestRequest, isUpload, startFaultProxy, type RequestInfo, type SeenRequest } from '../helpers/fault-proxy.js';
import { examplesDir } from '../helpers/paths.js';
import { blobsBeforeManifest } from '../helpers/push-order.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// The fault campaign of issue 8: K rounds, each a randomly chosen fault at a random offset,
// injected by the fault proxy in front of a real Distribution, with the real CLI as the client.
// Every round's outcome is checked against what a user is promised:
//   pull: the exact bytes, or a clear `Error:` line, exit 5 (integrity) or 6 (network), and
//         nothing at all left in the output directory;
//   push: done, or failed with an `Error:` line, and no tag (asked of the registry directly,
//         not through the proxy) pointing at a manifest one of whose blobs is missing; and, on
//         the proxy's record, no manifest PUT before the registry confirmed every blob it names
//         (Distribution refuses such a manifest itself, so the tag check alone cannot see it);
//   both: where the round's faults stay within the retry budget (5 attempts a request,
//         DEFAULT_RETRY_POLICY in src/registry/retry.ts; a cut download resumed as often), the
//         operation must succeed, and where no attempt can get through it must fail. An unmet
//         expectation is a violation like the others.
// The seed is printed; FAULT_SEED=N replays a campaign, FAULT_ROUNDS=K changes its length.

const FILTER = join(examplesDir, 'example-filter.wasm');
const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 36);
const PULL_REPO = 'campaign/pull';
const PUSH_REPO = 'campaign/push';
/** Exit codes a pull may end with under network faults: integrity or network (src/errors.ts). */
const PULL_FAILURE_EXITS = new Set([ERROR_CODES.E_DIGEST_MISMATCH.exitCode, ERROR_CODES.E_NETWORK.exitCode]);
/** A push may fail with any documented code but "unexpected internal error" (a crash). */
const DOCUMENTED_EXITS = new Set(Object.values(ERROR_CODES).map((c) => c.exitCode).filter((c) => c !== ERROR_CODES.E_INTERNAL.exitCode));

interface BlobFacts { digest: string; size: number }
interface Facts {
  manifestDigest: string;
  manifestSize: number;
  module: BlobFacts;
  config: BlobFacts;
}

type Op = 'pull' | 'push';
/**
 * What the round must end in: 'success' where every fault is one a retry or a resume gets past
 * (at most 3 of them, within the 5 attempts), 'failure' where every attempt is refused, 'either'
 * where the product may refuse rather than fetch again (a corrupt or cut-short body fails its
 * digest: exit 5, the bytes never kept).
 */
type Due = 'success' | 'failure' | 'either';
interface Scenario { op: Op; name: string; due: Due; faults: (p: Prng, f: Facts) => PlannedFault[] }

const blobGetOf = (digest: string) => (r: RequestInfo): boolean => isBlobGet(r) && r.path.endsWith(digest);
const manifestGet = and(isManifestRequest, method('GET'));
const uploadPut = and(isUpload, method('PUT'));
const uploadPost = and(isUpload, method('POST'));
const manifestPut = and(isManifestRequest, method('PUT'));
const blobHead = (r: RequestInfo): boolean => r.method === 'HEAD' && /\/blobs\/sha256:/.test(r.path);

/** A blob of the pulled artifact: mostly the big module, sometimes the small config layer. */
const pickBlob = (p: Prng, f: Facts): BlobFacts & { label: string } =>
  p.chance(0.85) ? { ...f.module, label: 'module' } : { ...f.config, label: 'config' };

function retryAfter(p: Prng): { retryAfter?: string; label: string } {
  switch (p.int(0, 3)) {
    case 0: return { label: 'no Retry-After' };
    case 1: return { retryAfter: '0', label: 'Retry-After: 0' };
    case 2: return { retryAfter: '1', label: 'Retry-After: 1' };
    default: {
      // An HTTP-date (RFC 9110 section 10.2.3) about a second ahead.
      const v = new Date(Date.now() + 1500).toUTCString();
      return { retryAfter: v, label: 'Retry-After: <date>' };
    }
  }
}

function burst(p: Prng, match: (r: RequestInfo) => boolean, where: string): PlannedFault[] {
  const status = p.pick([429, 503]);
  const times = p.int(1, 3);
  const ra = retryAfter(p);
  return [{ rule: { match, fault: { kind: 'status', status, ...(ra.retryAfter !== undefined ? { retryAfter: ra.retryAfter } : {}) }, times }, label: `${times}x ${status} on ${where} (${ra.label})` }];
}

const SCENARIOS: Scenario[] = [
  // ---- pulls (of an artifact pushed straight to the registry beforehand) ----
  { op: 'pull', name: 'reset inside a blob', due: 'success', faults: (p, f) => {
    const b = pickBlob(p, f);
    return Array.from({ length: p.int(1, 3) }, () => {
      const at = p.int(1, b.size - 1);
      return { rule: { match: blobGetOf(b.digest), fault: { kind: 'reset-mid-body', afterBytes: at }, times: 1 }, label: `reset ${b.label} after ${at} B` };
    });
  } },
  { op: 'pull', name: 'reset right after the headers of a blob', due: 'success', faults: (p, f) => {
    const b = pickBlob(p, f);
    const times = p.int(1, 2);
    return [{ rule: { match: blobGetOf(b.digest), fault: { kind: 'reset-mid-body', afterBytes: 0 }, times }, label: `${times}x reset ${b.label} after 0 B` }];
  } },
  { op: 'pull', name: 'a reset on every blob request', due: 'failure', faults: (p, f) => {
    const at = p.int(1, 64 * 1024);
    return [{ rule: { match: blobGetOf(f.module.digest), fault: { kind: 'reset-mid-body', afterBytes: at } }, label: `reset every module GET after ${at} B` }];
  } },
  { op: 'pull', name: 'reset inside the manifest', due: 'success', faults: (p, f) => {
    const at = p.int(0, f.manifestSize - 1);
    const times = p.int(1, 2);
    return [{ rule: { match: manifestGet, fault: { kind: 'reset-mid-body', afterBytes: at }, times }, label: `${times}x reset manifest GET after ${at} B` }];
  } },
  { op: 'pull', name: 'truncated blob', due: 'success', faults: (p, f) => {
    const b = pickBlob(p, f);
    return Array.from({ length: p.int(1, 2) }, () => {
      const at = p.int(1, b.size - 1);
      return { rule: { match: blobGetOf(b.digest), fault: { kind: 'truncate', afterBytes: at }, times: 1 }, label: `truncate ${b.label} at ${at} B` };
    });
  } },
  { op: 'pull', name: 'truncated manifest', due: 'either', faults: (p, f) => {
    const at = p.int(0, f.manifestSize - 1);
    return [{ rule: { match: manifestGet, fault: { kind: 'truncate', afterBytes: at }, times: 1 }, label: `truncate manifest GET at ${at} B` }];
  } },
  { op: 'pull', name: 'stalled blob', due: 'success', faults: (p, f) => {
    const b = pickBlob(p, f);
    const ms = p.int(200, 2500);
    return [{ rule: { match: blobGetOf(b.digest), fault: { kind: 'stall', ms }, times: 1 }, label: `stall ${b.label} GET ${ms} ms` }];
  } },
  { op: 'pull', name: 'stalled manifest', due: 'success', faults: (p) => {
    const ms = p.int(200, 2500);
    return [{ rule: { match: isManifestRequest, fault: { kind: 'stall', ms }, times: 1 }, label: `stall manifest request ${ms} ms` }];
  } },
  { op: 'pull', name: '429/503 burst on a blob', due: 'success', faults: (p, f) => {
    const b = pickBlob(p, f);
    return burst(p, blobGetOf(b.digest), `${b.label} GET`);
  } },
  { op: 'pull', name: '429/503 burst on the manifest', due: 'success', faults: (p) => burst(p, isManifestRequest, 'manifest HEAD/GET') },
  { op: 'pull', name: 'corrupt blob', due: 'either', faults: (p, f) => {
    const b = pickBlob(p, f);
    const at = p.int(0, b.size - 1);
    return [{ rule: { match: blobGetOf(b.digest), fault: { kind: 'corrupt-body', atByte: at }, times: 1 }, label: `flip ${b.label} byte ${at}` }];
  } },
  { op: 'pull', name: 'corrupt manifest', due: 'either', faults: (p, f) => {
    const at = p.int(0, f.manifestSize - 1);
    return [{ rule: { match: manifestGet, fault: { kind: 'corrupt-body', atByte: at }, times: 1 }, label: `flip manifest byte ${at}` }];
  } },
  { op: 'pull', name: 'mixed: manifest burst, then a reset and a truncation inside the module', due: 'success', faults: (p, f) => {
    const a = p.int(1, f.module.size - 1);
    const b = p.int(1, f.module.size - 1);
    return [
      ...burst(p, isManifestRequest, 'manifest HEAD/GET'),
      { rule: { match: blobGetOf(f.module.digest), fault: { kind: 'reset-mid-body', afterBytes: a }, times: 1 }, label: `reset module after ${a} B` },
      { rule: { match: blobGetOf(f.module.digest), fault: { kind: 'truncate', afterBytes: b }, times: 1 }, label: `truncate module at ${b} B` },
    ];
  } },
  // ---- pushes (through the proxy, a fresh module each round) ----
  { op: 'push', name: '500 on the final PUT of an upload', due: 'success', faults: (p) => {
    const times = p.int(1, 3);
    return [{ rule: { match: uploadPut, fault: { kind: 'status', status: 500 }, times }, label: `${times}x 500 on upload PUT` }];
  } },
  { op: 'push', name: '500 on every final PUT of an upload', due: 'failure', faults: () => [
    { rule: { match: uploadPut, fault: { kind: 'status', status: 500 } }, label: '500 on every upload PUT' },
  ] },
  { op: 'push', name: '429/503 burst on the upload POST', due: 'success', faults: (p) => burst(p, uploadPost, 'upload POST') },
  { op: 'push', name: 'reset after the registry took the upload PUT', due: 'success', faults: () => [
    { rule: { match: uploadPut, fault: { kind: 'reset-mid-body', afterBytes: 0 }, times: 1 }, label: 'reset upload PUT response' },
  ] },
  { op: 'push', name: 'stalled upload PUT', due: 'success', faults: (p) => {
    const ms = p.int(200, 2500);
    return [{ rule: { match: uploadPut, fault: { kind: 'stall', ms }, times: 1 }, label: `stall upload PUT ${ms} ms` }];
  } },
  { op: 'push', name: '429/503 burst on the manifest PUT', due: 'success', faults: (p) => burst(p, manifestPut, 'manifest PUT') },
  { op: 'push', name: 'reset after the registry took the manifest PUT', due: 'success', faults: () => [
    { rule: { match: manifestPut, fault: { kind: 'reset-mid-body', afterBytes: 0 }, times: 1 }, label: 'reset manifest PUT response' },
  ] },
  { op: 'push', name: '500 on every manifest PUT', due: 'failure', faults: () => [
    { rule: { match: manifestPut, fault: { kind: 'status', status: 500 } }, label: '500 on every manifest PUT' },
  ] },
  { op: 'push', name: '503 burst on the blob existence checks', due: 'success', faults: (p) => burst(p, blobHead, 'blob HEAD') },
];

/** Every scenario once, the rest drawn at random, in a random order. */
function schedule(p: Prng, rounds: number): Scenario[] {
  const list = [...SCENARIOS];
  while (list.length < rounds) list.push(p.pick(SCENARIOS));
  return p.shuffle(list.slice(0, Math.max(rounds, 1)));
}

const errorLine = (r: CliResult): string | undefined => /^Error: .+$/m.exec(r.stderr)?.[0];
const digestLine = (stdout: string): string | undefined => /^Digest: (sha256:[a-f0-9]{64})$/m.exec(stdout)?.[1];

interface ManifestJson { config: BlobFacts; layers: Array<BlobFacts & { mediaType: string }> }

async function getManifest(registryUrl: string, repo: string, ref: string): Promise<{ bytes: Buffer; json: ManifestJson }> {
  const res = await request(`${registryUrl}/v2/${repo}/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' }, reset: true });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  assert.equal(res.statusCode, 200, `GET ${repo}:${ref} straight from the registry`);
  return { bytes, json: JSON.parse(bytes.toString('utf8')) as ManifestJson };
}

test('fault campaign: every pull is exact or fails cleanly, every push sends its blobs before the manifest, and a fault a retry gets past ends in success', { timeout: 300_000 }, async (t) => {
  const seed = campaignSeed();
  const prng = createPrng(seed);
  // stdout of a test file reaches the runner's report as comment lines, in order, as they happen.
  const announce = (line: string): void => {
    console.log(line);
  };
  announce(`fault campaign seed ${seed} (replay with FAULT_SEED=${seed}), ${ROUNDS} rounds`);

  const reg = await startDistribution({ mode: 'plain', t });
  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const dir = await makeTempDir(t, 'wasm-oci-campaign-');
  const base = await readFile(FILTER);

  // The artifact every pull round fetches, pushed straight to the registry (no faults).
  const pullModule = padModule(base, prng.bytes(prng.int(2 * MiB, 4 * MiB)));
  const pullPath = join(dir, 'campaign-filter.wasm');
  await writeFile(pullPath, pullModule);
  const pushed = await runCli(['push', `${reg.host}/${PULL_REPO}:v1`, pullPath, '--plain-http', '--root-id', 'campaign']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const manifestDigest = digestLine(pushed.stdout);
  assert.ok(manifestDigest, pushed.stdout);
  const { bytes: manifestBytes, json: manifest } = await getManifest(reg.url, PULL_REPO, 'v1');
  assert.equal(`sha256:${sha256Hex(manifestBytes)}`, manifestDigest);
  const moduleLayer = manifest.layers.find((l) => l.digest === `sha256:${sha256Hex(pullModule)}`);
  assert.ok(moduleLayer, 'the pushed manifest has the module as a layer');
  const facts: Facts = {
    manifestDigest, manifestSize: manifestBytes.length,
    module: { digest: moduleLayer.digest, size: moduleLayer.size },
    config: { digest: manifest.config.digest, size: manifest.config.size },
  };

  // What a fault-free pull writes, straight from the registry: the reference every round is held to.
  const baselineDir = join(dir, 'baseline');
  const clean = await runCli(['pull', `${reg.host}/${PULL_REPO}:v1`, '--plain-http', '-o', baselineDir]);
  assert.equal(clean.code, 0, clean.stderr);
  const baseline = await snapshotDir(baselineDir);
  assert.ok([...baseline.values()].includes(sha256Hex(pullModule)), `the fault-free pull wrote the module: ${describeSnapshot(baseline)}`);

  const tally = { survived: 0, failed: 0, resumed: 0, pulls: 0, pushes: 0, manifestPuts: 0 };
  const due = { success: 0, successMet: 0, failure: 0, failureMet: 0 };
  const exits: Record<string, number> = {};
  const violations: string[] = [];
  const plan = schedule(prng, ROUNDS);
  const started = Date.now();

  for (const [i, scenario] of plan.entries()) {
    const round = i + 1;
    const faults = scenario.faults(prng, facts);
    proxy.clearFaults();
    for (const f of faults) proxy.addFault(f.rule);
    const firstRequest = proxy.requests.length;
    const injectedBefore = proxy.faultsInjected;
    const t0 = Date.now();
    const problems: string[] = [];
    let outcome: 'survived' | 'failed' = 'failed';
    let note = '';
    let result: CliResult;

    if (scenario.op === 'pull') {
      tally.pulls++;
      const out = join(dir, `out-${round}`);
      await mkdir(out);
      const ref = prng.chance(0.3) ? `${proxy.host}/${PULL_REPO}@${facts.manifestDigest}` : `${proxy.host}/${PULL_REPO}:v1`;
      result = await runCli(['pull', ref, '--plain-http', '-o', out], { timeoutMs: 90_000 });
      const left = await snapshotDir(out);
      if (result.code === 0) {
        outcome = 'survived';
        const want = describeSnapshot(baseline);
        const got = describeSnapshot(left);
        if (want !== got) problems.push(`pull reported success but wrote ${got}, expected ${want}`);
        const seen = proxy.requests.slice(firstRequest) as SeenRequest[];
        if (seen.some((r) => isBlobGet(r) && typeof r.headers.range === 'string' && r.headers.range.startsWith('bytes='))) {
          tally.resumed++;
          note = ' (resumed with Range)';
        }
      } else {
        if (!PULL_FAILURE_EXITS.has(result.code)) problems.push(`pull exited ${result.code}, not 5 (integrity) or 6 (network)`);
        if (!errorLine(result)) problems.push(`pull failed without an "Error:" line: ${JSON.stringify(result.stderr.slice(0, 300))}`);
        if (left.size > 0) problems.push(`failed pull left files behind: ${describeSnapshot(left)}`);
      }
      await rm(out, { recursive: true, force: true });
    } else {
      tally.pushes++;
      const tag = `r${round}`;
      const file = join(dir, `push-${round}.wasm`);
      const bytes = padModule(base, prng.bytes(prng.int(MiB / 4, MiB)));
      await writeFile(file, bytes);
      // A root id per round makes the config blob new too, so both blobs are really uploaded.
      result = await runCli(['push', `${proxy.host}/${PUSH_REPO}:${tag}`, file, '--plain-http', '--root-id', `campaign-${round}`], { timeoutMs: 90_000 });
      // The registry itself, not the proxy, is asked what the tag points at.
      const state = await inspectTag(reg.url, PUSH_REPO, tag);
      if (state.exists && state.missing.length > 0) {
        problems.push(`tag ${tag} points at ${state.digest} whose blobs ${state.missing.join(', ')} are missing`);
      }
      if (result.code === 0) {
        outcome = 'survived';
        const digest = digestLine(result.stdout);
        if (!state.exists) problems.push(`push reported success but ${tag} does not resolve at the registry`);
        else if (digest !== state.digest) problems.push(`push reported ${digest}, the registry has ${state.digest} under ${tag}`);
        if (state.exists && !state.blobs.includes(`sha256:${sha256Hex(bytes)}`)) problems.push(`the manifest under ${tag} does not name the pushed module`);
      } else {
        if (!DOCUMENTED_EXITS.has(result.code)) problems.push(`push exited ${result.code}, not a documented exit code`);
        if (!errorLine(result)) problems.push(`push failed without an "Error:" line: ${JSON.stringify(result.stderr.slice(0, 300))}`);
        note = state.exists ? ' (tag present, all blobs there)' : ' (no tag)';
      }
      await rm(file, { force: true });
    }
    proxy.clearFaults();

    // Blobs before the manifest, on the proxy's record of this round (requests and answers in order).
    const order = blobsBeforeManifest(proxy.requests.slice(firstRequest));
    tally.manifestPuts += order.checked;
    problems.push(...order.problems);
    if (scenario.op === 'push' && result.code === 0 && order.checked === 0) problems.push('the push succeeded but the proxy saw no manifest PUT to check');
    if (scenario.due === 'success') {
      due.success++;
      if (result.code === 0) due.successMet++;
      else problems.push(`success was due (every fault within the retry budget) but the ${scenario.op} failed with exit ${result.code}`);
    } else if (scenario.due === 'failure') {
      due.failure++;
      if (result.code !== 0) due.failureMet++;
      else problems.push(`every attempt was refused, yet the ${scenario.op} reported success`);
    }

    const injected = proxy.faultsInjected - injectedBefore;
    const failure = result.code === 0 ? '' : ` exit ${result.code}: ${errorLine(result) ?? result.stderr.trim().split('\n')[0]}`;
    const line = `round ${round} ${scenario.op} [${faults.map((f) => f.label).join('; ')}] ${injected} injected -> ${problems.length ? 'VIOLATION' : outcome}${note}${failure} (${Date.now() - t0} ms)`;
    announce(line);
    if (problems.length) violations.push(`round ${round} (${scenario.name}): ${problems.join('; ')}`);
    else if (outcome === 'survived') tally.survived++;
    else {
      tally.failed++;
      const key = `${scenario.op} exit ${result.code}`;
      exits[key] = (exits[key] ?? 0) + 1;
    }
  }

  const byKind = Object.entries(proxy.faultsByKind()).map(([k, n]) => `${k} ${n}`).join(', ');
  announce(`faults by kind: ${byKind}; ${tally.pulls} pulls, ${tally.pushes} pushes; ${tally.resumed} pulls survived through a Range resume; clean failures: ${JSON.stringify(exits)}; ${Math.round((Date.now() - started) / 1000)} s`);
  announce(`faults: ${proxy.faultsInjected} injected over ${plan.length} rounds: ${tally.survived} survived, ${tally.failed} failed cleanly, ${violations.length} violations (seed ${seed}); success due in ${due.success} rounds, met in ${due.successMet}; failure due in ${due.failure}, met in ${due.failureMet}; ${tally.manifestPuts} manifest PUTs checked for blobs first`);
  for (const v of violations) announce(`violation: ${v}`);

  assert.deepEqual(violations, [], `violations (replay with FAULT_SEED=${seed})`);
  assert.equal(tally.survived + tally.failed, plan.length);
  assert.ok(proxy.faultsInjected >= plan.length, `at least one fault per round on average (${proxy.faultsInjected} over ${plan.length})`);
  assert.ok(tally.survived > 0, 'some rounds survived their faults');
  assert.ok(tally.resumed > 0, 'some pulls survived a cut blob by resuming it with Range');
});
