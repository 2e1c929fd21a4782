import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmOciError } from '../../src/errors.js';
import { parsePlatform, platformMatches } from '../../src/oci/platform.js';

// oras cmd/oras/internal/option/platform.go Parse and oras-go internal/platform Match.

test('--platform os[/arch[/variant]][:os_version] as oras parses it; a bare OS takes the machine\'s architecture in Go spelling', () => {
  assert.deepEqual(parsePlatform('wasip1/wasm'), { os: 'wasip1', architecture: 'wasm' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('windows/amd64:10.0.17763'), { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' });
  assert.deepEqual(parsePlatform('linux', 'x64'), { os: 'linux', architecture: 'amd64' });
  for (const bad of ['a/b/c/d', '/amd64', 'linux/']) assert.throws(() => parsePlatform(bad), (e: unknown) => e instanceof WasmOciError && e.code === 'E_USAGE', bad);
});

test('a platform matches when OS and architecture are equal, and variant, OS version and features when asked for', () => {
  const want = parsePlatform('linux/arm64');
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, want), 'a variant not asked for does not matter');
  assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64' }, want));
  assert.ok(!platformMatches(undefined, want));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v7' }, parsePlatform('linux/arm64/v8')));
  assert.ok(platformMatches({ os: 'w', architecture: 'a', 'os.features': ['x', 'y'] }, { os: 'w', architecture: 'a', 'os.features': ['y'] }));
  assert.ok(!platformMatches({ os: 'w', architecture: 'a' }, { os: 'w', architecture: 'a', 'os.features': ['y'] }));
});
