import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWat } from './wat.js';

export interface ProxyWatOptions {
  abi?: '0_1_0' | '0_2_0' | '0_2_1';
  /** `(import "env" ...)` lines. */
  imports?: string;
  /** Functions, data segments and globals. */
  body: string;
  /** Allocator export name (default malloc). */
  allocator?: string;
}

/**
 * A proxy-wasm filter in WAT, built with wat2wasm: an exported memory, a bump allocator from
 * 64 KiB up, the ABI marker export, and the given imports and functions. Data goes below 64 KiB.
 */
export async function buildProxyWat(options: ProxyWatOptions): Promise<Uint8Array> {
  const source = `(module
  ${options.imports ?? ''}
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "${options.allocator ?? 'malloc'}") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_abi_version_${options.abi ?? '0_2_1'}"))
  ${options.body}
)`;
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-proxy-wat-'));
  try {
    const file = join(dir, 'filter.wat');
    await writeFile(file, source);
    return await buildWat(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The bytes of a pairs serialisation as a WAT data string (cpp-host PairsUtil::marshalPairs). */
export function watPairs(pairs: [string, string][]): { data: string; size: number } {
  const u32 = (n: number): string => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  let data = u32(pairs.length);
  let size = 4;
  for (const [k, v] of pairs) {
    data += u32(k.length) + u32(v.length);
    size += 8;
  }
  for (const [k, v] of pairs) {
    data += `${k}\\00${v}\\00`;
    size += k.length + v.length + 2;
  }
  return { data, size };
}
