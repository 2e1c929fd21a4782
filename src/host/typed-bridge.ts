/**
 * Host functions with exact Wasm types. A plain JS function imported by a module links whatever
 * type the module declares for it; Envoy's V8 does not (proxy-wasm-cpp-host src/v8/v8.cc V8::link
 * refuses an import whose params or results differ from the registered host function's). So each
 * JS implementation is passed through a small generated module that imports it with the table's
 * signature (src/host/abi.ts) and exports it again: the export is a typed Wasm function, and V8
 * itself then checks every import of the filter against it at instantiation.
 */
import type { FunctionSignature, ValType } from './abi.js';
import { unsignedLeb128 } from '../wasm/binary-reader.js';

const VAL_TYPE_CODES: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };

const uleb = unsignedLeb128;

const utf8 = new TextEncoder();

function name(s: string): number[] {
  const b = utf8.encode(s);
  return [...uleb(b.length), ...b];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** The bytes of a module importing `h.<i>` with signatures[i] and exporting it as `<i>`. */
export function bridgeModuleBytes(signatures: readonly FunctionSignature[]): Uint8Array {
  const typeKeys: string[] = [];
  const typeIndex = signatures.map((s) => {
    const key = `${s.params.join(',')}>${s.results.join(',')}`;
    let i = typeKeys.indexOf(key);
    if (i < 0) i = typeKeys.push(key) - 1;
    return i;
  });
  const uniqueTypes = typeKeys.map((_, i) => signatures[typeIndex.indexOf(i)]!);
  const types = vector(uniqueTypes.map((s) => [
    0x60,
    ...vector(s.params.map((t) => [VAL_TYPE_CODES[t]])),
    ...vector(s.results.map((t) => [VAL_TYPE_CODES[t]])),
  ]));
  const imports = vector(signatures.map((_, i) => [...name('h'), ...name(String(i)), 0x00, ...uleb(typeIndex[i]!)]));
  const exports = vector(signatures.map((_, i) => [...name(String(i)), 0x00, ...uleb(i)]));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(7, exports),
  ]);
}

export interface BridgedFunction {
  signature: FunctionSignature;
  implementation: (...args: never[]) => number | bigint | void;
}

/** Typed Wasm functions, one per entry, calling the given JS implementations. */
export function bridgeFunctions(functions: readonly BridgedFunction[]): Function[] {
  if (functions.length === 0) return [];
  const module = new WebAssembly.Module(bridgeModuleBytes(functions.map((f) => f.signature)));
  const h: WebAssembly.ModuleImports = {};
  functions.forEach((f, i) => {
    h[String(i)] = f.implementation as unknown as Function;
  });
  const instance = new WebAssembly.Instance(module, { h });
  return functions.map((_, i) => instance.exports[String(i)] as Function);
}
