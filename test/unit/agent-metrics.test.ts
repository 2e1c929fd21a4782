import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentMetrics } from '../../src/agent/metrics.js';
import { AgentHarness, moduleFor, seededRandom } from '../helpers/agent-harness.js';
import { metricValue } from '../helpers/agent-process.js';

// Issue 15: /metrics as Prometheus scrapes it, read off the agent's status at each scrape.

const INTERVAL = 30_000;

test('agent metrics: per filter ready, digests, failures, backoff, bytes and sync durations follow the agent; a removed filter\'s series go with it', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(37), backoffInitialMs: 2000 });
  const a = h.reg.pushModule('filters/a', 'v1', moduleFor('a'));
  const b = h.reg.pushModule('filters/b', 'v1', moduleFor('b'));
  await h.writeConfig({ a: a.reference, b: b.reference });
  const metrics = await createAgentMetrics(() => h.agent.status());
  let observed = 0;
  const scrape = async (): Promise<string> => {
    for (; observed < h.syncs.length; observed++) metrics.observe(h.syncs[observed]!);
    return (await metrics.render()).body;
  };
  await h.start();
  let text = await scrape();
  assert.equal(metricValue(text, 'wasm_oci_agent_ready'), 1);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_ready', { filter: 'a' }), 1);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_wanted_digest_info', { filter: 'a', digest: a.manifestDigest }), 1);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_current_digest_info', { filter: 'a', digest: a.manifestDigest }), 1);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_bytes_total', { filter: 'a' }), moduleFor('a').length);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_last_success_timestamp_seconds', { filter: 'a' }), h.clock.now() / 1000);
  assert.equal(metricValue(text, 'wasm_oci_agent_sync_duration_seconds_count', { filter: 'a', result: 'updated' }), 1);
  assert.ok(metricValue(text, 'process_resident_memory_bytes')! > 0, 'the process metrics are there (the memory budget is read from them)');

  h.reg.down();
  await h.advanceToNextCheck('a');
  await h.advanceToNextCheck('a');
  text = await scrape();
  const s = h.filter('a');
  assert.equal(metricValue(text, 'wasm_oci_agent_ready'), 0);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_ready', { filter: 'a' }), 0);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_sync_failures_total', { filter: 'a' }), s.failures);
  assert.ok(s.failures >= 2);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_consecutive_failures', { filter: 'a' }), s.consecutiveFailures);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_backoff_seconds', { filter: 'a' }), s.backoffMs / 1000);
  assert.ok(s.backoffMs > 0);
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_current_digest_info', { filter: 'a', digest: a.manifestDigest }), 1, 'the file in place is still v1');
  assert.equal(metricValue(text, 'wasm_oci_agent_sync_duration_seconds_count', { filter: 'a', result: 'failed' }), s.failures);

  h.reg.up();
  await h.writeConfig('filters: [{name: a, image: ');
  h.agent.requestReload();
  await h.clock.idle();
  text = await scrape();
  assert.equal(metricValue(text, 'wasm_oci_agent_config_last_reload_successful'), 0);
  assert.equal(metricValue(text, 'wasm_oci_agent_config_loaded'), 1, 'the last good config is in force');
  assert.equal(metricValue(text, 'wasm_oci_agent_config_reloads_total', { result: 'failure' }), 1);

  await h.writeConfig({ b: b.reference });
  h.agent.requestReload();
  await h.clock.idle();
  text = await scrape();
  assert.equal(metricValue(text, 'wasm_oci_agent_config_last_reload_successful'), 1);
  for (const name of ['wasm_oci_agent_filter_ready', 'wasm_oci_agent_filter_sync_failures_total', 'wasm_oci_agent_sync_duration_seconds_count']) {
    assert.ok(!text.split('\n').some((l) => l.startsWith(name) && l.includes('filter="a"')), `${name}: no series of the removed filter`);
  }
  // b may have failed too while the registry was down; its next check (the registry is back) succeeds.
  await h.advanceToNextCheck('b');
  text = await scrape();
  assert.equal(metricValue(text, 'wasm_oci_agent_filter_ready', { filter: 'b' }), 1);
  assert.equal(metricValue(text, 'wasm_oci_agent_ready'), 1);
});
