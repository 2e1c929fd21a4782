// `run` and `test` on filters built at test time by the real AssemblyScript SDK
// (@solo-io/proxy-runtime 0.1.8, asc 0.14.9; test/helpers/sdk-filter.ts), issue 12: what a user
// of that SDK sees before deploying, the users' story (`resp-header-demo: added by our filter`)
// included, and the SDK's mistyped import refused as Envoy's V8 refuses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { writeSdkFilter } from '../helpers/sdk-filter.js';
import { makeTempDir } from '../helpers/tmp.js';

const REFUSED = 7;
const SDK_BUILD = { timeout: 240_000 };

test('run: the SDK README add-header filter adds hello: <its plugin config> to what the client receives', SDK_BUILD, async (t) => {
  const dir = await makeTempDir(t, 'sdk-run-add');
  const file = await writeSdkFilter('addHeader', join(dir, 'add-header.wasm'));
  const r = await runCli(['run', file, '--root-id', 'add_header', '--plugin-config', 'from the plugin config', '--request', 'GET /details/123', '-H', 'Host: details:9080']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /proxy-wasm ABI 0\.2\.0, allocator malloc, root id "add_header"/);
  assert.match(r.stdout, /^< HTTP\/1\.1 200 OK$/m);
  assert.match(r.stdout, /^< hello: from the plugin config$/m);
  assert.doesNotMatch(r.stdout, /^> hello/m, 'the upstream never sees the response header');
  assert.match(r.stdout, /the filter added to the response: hello: from the plugin config/);

  // Without a plugin config the SDK's RootContext.onConfigure passes configuration_size (0) as
  // proxy_get_buffer_bytes' size pointer; cpp-host (src/exports.cc get_buffer_bytes, since #303)
  // answers an empty buffer by writing 0 to both pointers, so the SDK's buffer pointer is 0 while
  // its size is left from the call before, and the module reads out of bounds. Envoy does the same.
  const none = await runCli(['run', file, '--root-id', 'add_header', '--request', 'GET /details/123']);
  assert.equal(none.code, REFUSED, `${none.stdout}\n${none.stderr}`);
  assert.match(none.stderr, /the filter trapped in proxy_on_configure: memory access out of bounds/);
  assert.match(none.stdout, /Wasm stack:/);

  // The SDK looks its root context up by plugin_root_id: without the right one it gives up.
  const noRoot = await runCli(['run', file, '--plugin-config', 'x']);
  assert.equal(noRoot.code, REFUSED);
  assert.match(noRoot.stdout, /\[critical\] Missing root context factory for root id: /);
});

test("the users' story on an SDK-built filter: pushed with its root id, run shows resp-header-demo: added by our filter, test gates on it", SDK_BUILD, async (t) => {
  const dir = await makeTempDir(t, 'sdk-run-story');
  const file = await writeSdkFilter('respHeaderDemo', join(dir, 'resp-header-demo.wasm'));
  const store = `${join(dir, 'store')}:v1`;
  const pushed = await runCli(['push', '--oci-layout', store, file, '--root-id', 'resp_header_demo']);
  assert.equal(pushed.code, 0, pushed.stderr);

  // The root id comes from the artifact's runtime config, as the consumer would take it.
  const r = await runCli(['run', '--oci-layout', store, '--plugin-config', 'added by our filter', '--request', 'GET /details/123', '-H', 'Host: details:9080']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /root id "resp_header_demo"/);
  assert.match(r.stdout, /^> GET \/details\/123 HTTP\/1\.1$/m);
  assert.match(r.stdout, /^< resp-header-demo: added by our filter$/m);
  const json = JSON.parse((await runCli(['run', '--oci-layout', store, '--plugin-config', 'added by our filter', '--format', 'json'])).stdout);
  assert.deepEqual(json.client.changes.added, [['resp-header-demo', 'added by our filter']]);

  const cases = `defaults:
  pluginConfig: added by our filter
cases:
  - name: adds the demo header
    request: GET /details/123
    requestHeaders: { host: details:9080 }
    expect:
      client: { status: 200, headers: { resp-header-demo: added by our filter } }
      upstream: { headersAbsent: [resp-header-demo] }
`;
  await writeFile(join(dir, 'ok.yaml'), cases);
  const ok = await runCli(['test', '--oci-layout', store, '--cases', join(dir, 'ok.yaml')]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^✓ adds the demo header$/m);
  assert.match(ok.stdout, /^1 passed, 0 failed$/m);

  await writeFile(join(dir, 'bad.yaml'), `${cases}  - name: expects another value
    request: GET /details/123
    expect:
      client: { headers: { resp-header-demo: another value } }
`);
  const bad = await runCli(['test', '--oci-layout', store, '--cases', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /^✗ expects another value$/m);
  assert.match(bad.stdout, /client header resp-header-demo: expected "another value", got "added by our filter"/);
  assert.match(bad.stdout, /^1 passed, 1 failed$/m);
});

test('the SDK filter calling proxy_set_buffer_status: run and test refuse it with E_WASM_LINK, exit 7, naming the import and both signatures', SDK_BUILD, async (t) => {
  const dir = await makeTempDir(t, 'sdk-run-link');
  const file = await writeSdkFilter('setBufferStatus', join(dir, 'set-buffer-status.wasm'));
  const mismatch = /import type mismatch: env\.proxy_get_buffer_status, want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 -> i32/;

  const r = await runCli(['run', file, '--root-id', 'rewrite_body', '--request', 'GET /']);
  assert.equal(r.code, REFUSED, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, mismatch);
  assert.doesNotMatch(r.stdout, /Client received/, 'nothing ran');
  const json = JSON.parse((await runCli(['run', file, '--format', 'json'])).stdout);
  assert.equal(json.error.code, 'E_WASM_LINK');
  assert.match(json.error.message, mismatch);

  await writeFile(join(dir, 'cases.yaml'), 'cases:\n  - name: rewrites the body\n    request: GET /\n    expect:\n      client: { bodyContains: rewritten }\n');
  const tested = await runCli(['test', file, '--cases', join(dir, 'cases.yaml')]);
  assert.equal(tested.code, REFUSED, `${tested.stdout}\n${tested.stderr}`);
  assert.match(tested.stderr, mismatch);
  const tjson = JSON.parse((await runCli(['test', file, '--cases', join(dir, 'cases.yaml'), '--format', 'json'])).stdout);
  assert.equal(tjson.error.code, 'E_WASM_LINK');
});
