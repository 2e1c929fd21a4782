import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import { inspectWasm, sniffWasm } from '../../src/wasm/inspect.js';
import { examplesDir } from '../helpers/paths.js';
import { buildWat } from '../helpers/wat.js';

const exampleWasm = join(examplesDir, 'example-filter.wasm');

function names(list: { name: string }[]): string[] {
  return list.map((x) => x.name);
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/** Appends a custom section to a module: valid anywhere after the header. */
function withCustomSection(bytes: Uint8Array, name: string, data: string): Uint8Array {
  const payload = [...str(name), ...new TextEncoder().encode(data)];
  return new Uint8Array([...bytes, ...section(0, payload)]);
}

/**
 * A minimal component, written by hand (wat2wasm cannot build components): an empty instance type,
 * an import of `wasi:cli/environment@0.2.0` as an instance of it, the re-export of that instance as
 * `wasi:http/incoming-handler@0.2.0`, and a custom section.
 */
function componentParts(): number[][] {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
  const types = section(7, [1, 0x42, 0x00]); // one type: instance type with no declarations
  const imports = section(10, [1, 0x00, ...str('wasi:cli/environment@0.2.0'), 0x05, 0x00]); // instance of type 0
  const exports = section(11, [1, 0x00, ...str('wasi:http/incoming-handler@0.2.0'), 0x05, 0x00, 0x00]); // instance 0, no type
  const custom = section(0, [...str('producers'), 0x00]);
  return [header, types, imports, exports, custom];
}

function componentBytes(): Uint8Array {
  return new Uint8Array(componentParts().flat());
}

/** Offsets where a section ends: a component cut there is shorter but still well-formed. */
function componentSectionEnds(): Set<number> {
  const ends = new Set<number>();
  let at = 0;
  for (const part of componentParts()) ends.add((at += part.length));
  return ends;
}

test('the example filter is a proxy-wasm ABI 0.2.1 module with no problems', async () => {
  const bytes = new Uint8Array(await readFile(exampleWasm));
  const info = inspectWasm(bytes, { name: 'example-filter.wasm' });
  assert.equal(info.kind, 'module');
  assert.equal(info.version, 1);
  assert.equal(info.size, bytes.length);
  assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(info.imports, [
    { module: 'env', name: 'proxy_log', kind: 'function' },
    { module: 'env', name: 'proxy_add_header_map_value', kind: 'function' },
  ]);
  for (const name of [
    'memory',
    'proxy_abi_version_0_2_1',
    'proxy_on_memory_allocate',
    'proxy_on_context_create',
    'proxy_on_vm_start',
    'proxy_on_configure',
    'proxy_on_request_headers',
    'proxy_on_response_headers',
    'proxy_on_done',
    'proxy_on_log',
    'proxy_on_delete',
  ]) {
    assert.ok(names(info.exports).includes(name), `exports ${name}`);
  }
  assert.deepEqual(info.memories, { count: 1, exported: true });
  assert.equal(info.wasi, undefined);
  assert.deepEqual(info.proxyWasm, {
    abiVersions: ['0_2_1'],
    allocator: 'proxy_on_memory_allocate',
    memoryExported: true,
    unknownImports: [],
    problems: [],
  });
});

test('the committed example-filter.wasm is what build.sh makes from example-filter.wat', async () => {
  const committed = new Uint8Array(await readFile(exampleWasm));
  const rebuilt = await buildWat(join(examplesDir, 'example-filter.wat'));
  assert.deepEqual(Buffer.from(rebuilt), Buffer.from(committed));
});

test('the example filter adds resp-header-demo to the response headers through the host', async () => {
  const bytes = new Uint8Array(await readFile(exampleWasm));
  const added: { map: number; key: string; value: string }[] = [];
  const logs: { level: number; message: string }[] = [];
  let memory: WebAssemblyMemoryLike | undefined;
  const text = (ptr: number, len: number) => new TextDecoder().decode(new Uint8Array(memory!.buffer, ptr, len));
  const host = {
    env: {
      proxy_log: (level: number, ptr: number, len: number) => {
        logs.push({ level, message: text(ptr, len) });
        return 0;
      },
      proxy_add_header_map_value: (map: number, kp: number, kl: number, vp: number, vl: number) => {
        added.push({ map, key: text(kp, kl), value: text(vp, vl) });
        return 0;
      },
    },
  };
  const { instance } = (await (globalThis as unknown as { WebAssembly: WebAssemblyLike }).WebAssembly.instantiate(bytes, host));
  const ex = instance.exports;
  memory = ex.memory as WebAssemblyMemoryLike;
  const call = (name: string, ...args: number[]) => (ex[name] as (...a: number[]) => number)(...args);

  // What Envoy does: start the VM on the root context, configure it, then a stream context.
  call('proxy_on_context_create', 1, 0);
  assert.equal(call('proxy_on_vm_start', 1, 0), 1);
  assert.equal(call('proxy_on_configure', 1, 0), 1);
  call('proxy_on_context_create', 2, 1);
  assert.equal(call('proxy_on_request_headers', 2, 3, 0), 0, 'request headers: Action::Continue');
  assert.deepEqual(added, [], 'nothing added on the request');
  assert.equal(call('proxy_on_response_headers', 2, 4, 0), 0, 'response headers: Action::Continue');
  assert.deepEqual(added, [{ map: 2, key: 'resp-header-demo', value: 'added by our filter' }]);
  assert.equal(call('proxy_on_done', 2), 1);
  call('proxy_on_log', 2);
  call('proxy_on_delete', 2);
  assert.deepEqual(logs, [{ level: 2, message: 'example-filter: VM started' }]);
});

test('the example filter logs a warning when the host refuses the header', async () => {
  const bytes = new Uint8Array(await readFile(exampleWasm));
  const logs: number[] = [];
  const host = {
    env: {
      proxy_log: (level: number) => {
        logs.push(level);
        return 0;
      },
      proxy_add_header_map_value: () => 2, // BAD_ARGUMENT
    },
  };
  const { instance } = await (globalThis as unknown as { WebAssembly: WebAssemblyLike }).WebAssembly.instantiate(bytes, host);
  const onResponseHeaders = instance.exports.proxy_on_response_headers as (...a: number[]) => number;
  assert.equal(onResponseHeaders(2, 0, 1), 0);
  assert.deepEqual(logs, [3]);
});

test('the example allocator returns aligned, disjoint blocks and grows memory', async () => {
  const bytes = new Uint8Array(await readFile(exampleWasm));
  const host = { env: { proxy_log: () => 0, proxy_add_header_map_value: () => 0 } };
  const { instance } = await (globalThis as unknown as { WebAssembly: WebAssemblyLike }).WebAssembly.instantiate(bytes, host);
  const alloc = instance.exports.proxy_on_memory_allocate as (n: number) => number;
  const memory = instance.exports.memory as WebAssemblyMemoryLike;
  const a = alloc(10);
  const b = alloc(3);
  assert.ok(a >= 1024, 'heap starts past the constant strings');
  assert.equal(a % 8, 0);
  assert.equal(b % 8, 0);
  assert.ok(b >= a + 10, 'blocks do not overlap');
  const big = alloc(200_000);
  assert.notEqual(big, 0);
  assert.ok(memory.buffer.byteLength >= big + 200_000, 'memory grew to hold the block');
  assert.equal(alloc(0xffff_fff0), 0, 'an allocation past 4 GiB fails with 0');
});

interface WebAssemblyMemoryLike {
  buffer: ArrayBuffer;
}
interface WebAssemblyLike {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

const abiFixtures = [
  {
    fixture: 'filter-abi-0_1_0',
    abi: '0_1_0',
    allocator: 'malloc',
    wasi: 'wasip1',
    imports: ['env.proxy_log', 'env.proxy_get_configuration', 'env.proxy_continue_request', 'wasi_unstable.fd_write'],
  },
  {
    fixture: 'filter-abi-0_2_0',
    abi: '0_2_0',
    allocator: 'proxy_on_memory_allocate',
    wasi: 'wasip1',
    imports: ['env.proxy_log', 'env.proxy_get_buffer_bytes', 'env.proxy_continue_stream', 'wasi_snapshot_preview1.fd_write'],
  },
  {
    fixture: 'filter-abi-0_2_1',
    abi: '0_2_1',
    allocator: 'proxy_on_memory_allocate',
    wasi: 'wasip1',
    imports: [
      'env.proxy_log',
      'env.proxy_get_log_level',
      'env.proxy_http_call',
      'env.emscripten_notify_memory_growth',
      'wasi_snapshot_preview1.random_get',
    ],
  },
] as const;

for (const f of abiFixtures) {
  test(`inspects the ABI ${f.abi} filter built by wat2wasm`, async () => {
    const info = inspectWasm(await buildWat(f.fixture));
    assert.equal(info.kind, 'module');
    assert.deepEqual(
      info.imports.map((i) => `${i.module}.${i.name}`),
      [...f.imports],
    );
    assert.ok(info.imports.every((i) => i.kind === 'function'));
    assert.equal(info.wasi, f.wasi);
    assert.equal(info.memories.exported, true);
    assert.ok(names(info.exports).includes(`proxy_abi_version_${f.abi}`));
    assert.deepEqual(info.proxyWasm?.abiVersions, [f.abi]);
    assert.equal(info.proxyWasm?.allocator, f.allocator);
    assert.deepEqual(info.proxyWasm?.problems, []);
  });
}

test('a plain WASI command is not a filter: wasip1, no proxyWasm', async () => {
  const info = inspectWasm(await buildWat('plain-wasi'));
  assert.equal(info.kind, 'module');
  assert.equal(info.wasi, 'wasip1');
  assert.equal(info.proxyWasm, undefined);
  assert.deepEqual(info.imports, [{ module: 'wasi_snapshot_preview1', name: 'fd_write', kind: 'function' }]);
  assert.deepEqual(info.exports, [
    { name: 'memory', kind: 'memory' },
    { name: '_start', kind: 'function' },
  ]);
});

test('a module without imports: no WASI, private memory counted but not exported, every export kind', async () => {
  const info = inspectWasm(await buildWat('plain-no-imports'));
  assert.equal(info.wasi, undefined);
  assert.equal(info.proxyWasm, undefined);
  assert.deepEqual(info.memories, { count: 1, exported: false });
  assert.deepEqual(info.exports, [
    { name: 'table', kind: 'table' },
    { name: 'answer', kind: 'global' },
    { name: 'add', kind: 'function' },
  ]);
});

test('custom section names are listed in order', async () => {
  const plain = inspectWasm(await buildWat('filter-abi-0_2_1'));
  assert.deepEqual(plain.customSections, []);
  const named = inspectWasm(await buildWat('filter-abi-0_2_1', { debugNames: true }));
  assert.deepEqual(named.customSections, ['name']);
  const both = inspectWasm(withCustomSection(await buildWat('filter-abi-0_2_1', { debugNames: true }), 'producers', 'x'));
  assert.deepEqual(both.customSections, ['name', 'producers']);
});

test('a file that does not start with \\0asm is E_NOT_WASM, named in the message', () => {
  for (const bytes of [new TextEncoder().encode('{"type":"envoy_proxy"}'), new Uint8Array(0), new Uint8Array([0x00, 0x61, 0x73])]) {
    assert.throws(
      () => inspectWasm(bytes, { name: 'runtime-config.json' }),
      (err: unknown) =>
        err instanceof WasmOciError &&
        err.code === 'E_NOT_WASM' &&
        err.message === 'runtime-config.json is not a WebAssembly module: it does not start with \\0asm',
    );
  }
});

test('a truncated module is E_WASM_PARSE with the validator message', async () => {
  const bytes = new Uint8Array(await readFile(exampleWasm));
  for (const cut of [5, 8 + 3, Math.floor(bytes.length / 2), bytes.length - 1]) {
    assert.throws(
      () => inspectWasm(bytes.subarray(0, cut), { name: 'cut.wasm' }),
      (err: unknown) => {
        assert.ok(err instanceof WasmOciError, String(err));
        assert.equal(err.code, 'E_WASM_PARSE');
        assert.match(err.message, /^cut\.wasm is not a valid WebAssembly (module|binary): \S/);
        return true;
      },
      `cut at ${cut}`,
    );
  }
});

test('an unknown binary version is E_WASM_PARSE naming the version', () => {
  const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]);
  assert.throws(() => inspectWasm(bytes), (err: unknown) => err instanceof WasmOciError && err.code === 'E_WASM_PARSE' && /02 00 00 00/.test(err.message));
});

test('a component is recognised with its top-level imports and exports and wasip2', () => {
  const bytes = componentBytes();
  assert.equal(sniffWasm(bytes), 'component');
  const info = inspectWasm(bytes);
  assert.equal(info.kind, 'component');
  assert.equal(info.version, 0x0d);
  assert.deepEqual(info.imports, [{ module: '', name: 'wasi:cli/environment@0.2.0', kind: 'instance' }]);
  assert.deepEqual(info.exports, [{ name: 'wasi:http/incoming-handler@0.2.0', kind: 'instance' }]);
  assert.deepEqual(info.customSections, ['producers']);
  assert.equal(info.wasi, 'wasip2');
  assert.equal(info.proxyWasm, undefined);
});

test('a truncated or malformed component is E_WASM_PARSE', () => {
  const bytes = componentBytes();
  const ends = componentSectionEnds();
  for (let cut = 9; cut < bytes.length; cut++) {
    if (ends.has(cut)) {
      assert.equal(inspectWasm(bytes.subarray(0, cut)).kind, 'component', `cut at section end ${cut}`);
      continue;
    }
    assert.throws(() => inspectWasm(bytes.subarray(0, cut)), (err: unknown) => err instanceof WasmOciError && err.code === 'E_WASM_PARSE', `cut at ${cut}`);
  }
  // An import count far larger than the section.
  const huge = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 10, 5, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.throws(() => inspectWasm(huge), (err: unknown) => err instanceof WasmOciError && err.code === 'E_WASM_PARSE' && /does not fit/.test(err.message));
});

test('sniffWasm tells modules, components and other files apart', async () => {
  assert.equal(sniffWasm(await buildWat('plain-wasi')), 'module');
  assert.equal(sniffWasm(componentBytes()), 'component');
  assert.equal(sniffWasm(new TextEncoder().encode('#!/bin/sh\n')), undefined);
  assert.equal(sniffWasm(new Uint8Array([0x00, 0x61, 0x73, 0x6d])), undefined);
  assert.equal(sniffWasm(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0])), undefined);
});

test('arbitrary bytes after a Wasm header never throw anything but WasmOciError', () => {
  const headers = [
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
  ];
  fc.assert(
    fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 200 }), (header, tail) => {
      try {
        const info = inspectWasm(new Uint8Array([...header, ...tail]));
        assert.ok(info.kind === 'module' || info.kind === 'component');
      } catch (err) {
        assert.ok(err instanceof WasmOciError, `threw ${String(err)}`);
        assert.equal(err.code, 'E_WASM_PARSE');
      }
    }),
    { numRuns: 2000 },
  );
});

test('mutating a component byte never throws anything but WasmOciError', () => {
  const base = componentBytes();
  fc.assert(
    fc.property(fc.nat(base.length - 9), fc.integer({ min: 0, max: 255 }), (i, value) => {
      const bytes = Uint8Array.from(base);
      bytes[8 + i] = value;
      try {
        inspectWasm(bytes);
      } catch (err) {
        assert.ok(err instanceof WasmOciError && err.code === 'E_WASM_PARSE', `threw ${String(err)}`);
      }
    }),
    { numRuns: 2000 },
  );
});
