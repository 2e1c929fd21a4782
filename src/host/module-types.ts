/**
 * The types of a core module's imports and exports, read from its type, import, function and
 * export sections (Wasm core spec 5.5). The JS API does not expose function types (the
 * type-reflection proposal is not in Node 20), and the host must know them to link as
 * proxy-wasm-cpp-host does (src/v8/v8.cc V8::link compares each import's params and results with
 * the host function's; V8::getModuleFunctionImpl each export's with the one it calls).
 * Run on a module V8 has compiled already, so malformed input is not expected; errors still throw.
 */
import { ByteReader, readSections } from '../wasm/binary-reader.js';
import type { FunctionSignature, ValType } from './abi.js';

export interface Limits {
  min: number;
  max?: number;
  shared?: boolean;
}

export type ImportType =
  | { kind: 'function'; signature: FunctionSignature }
  | { kind: 'memory'; limits: Limits; memory64: boolean }
  | { kind: 'table'; element: 'anyfunc' | 'externref'; limits: Limits }
  | { kind: 'global'; valType: string; mutable: boolean }
  | { kind: 'tag' };

export interface TypedImport {
  module: string;
  name: string;
  type: ImportType;
}

export interface TypedExport {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** For function exports. */
  signature?: FunctionSignature;
}

export interface ModuleTypes {
  imports: TypedImport[];
  /** In export order (cpp-host picks the ABI version by it). */
  exports: TypedExport[];
}

const VAL_TYPES: Record<number, ValType | string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};

function valType(r: ByteReader): ValType {
  const b = r.u8();
  const t = VAL_TYPES[b];
  // v128 and reference types are legal Wasm, but no proxy-wasm host function takes them: keep the
  // name so a message can show it; comparisons against i32/i64 fail as they should.
  return (t ?? `0x${b.toString(16)}`) as ValType;
}

function limits(r: ByteReader): { limits: Limits; memory64: boolean } {
  const flags = r.u8();
  const memory64 = (flags & 0x04) !== 0;
  const read = (): number => (memory64 ? Number(r.u32()) : r.u32());
  const out: Limits = { min: read() };
  if (flags & 0x01) out.max = read();
  if (flags & 0x02) out.shared = true;
  return { limits: out, memory64 };
}

const EXPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

export function readModuleTypes(bytes: Uint8Array): ModuleTypes {
  const types: FunctionSignature[] = [];
  const funcTypes: number[] = []; // type index of every function, imports first
  const imports: TypedImport[] = [];
  const exports: { name: string; kind: TypedExport['kind']; index: number }[] = [];

  for (const section of readSections(bytes)) {
    const r = new ByteReader(bytes, section.start, section.end);
    if (section.id === 1) {
      for (let n = r.count(), i = 0; i < n; i++) {
        const form = r.u8();
        if (form !== 0x60) throw new Error(`type ${i} is not a function type (0x${form.toString(16)})`);
        const params = Array.from({ length: r.count() }, () => valType(r));
        const results = Array.from({ length: r.count() }, () => valType(r));
        types.push({ params, results });
      }
    } else if (section.id === 2) {
      for (let n = r.count(), i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.u8();
        if (kind === 0x00) {
          const t = r.u32();
          funcTypes.push(t);
          const signature = types[t];
          if (signature === undefined) throw new Error(`import ${module}.${name} names type ${t}, which does not exist`);
          imports.push({ module, name, type: { kind: 'function', signature } });
        } else if (kind === 0x01) {
          const el = r.u8();
          imports.push({ module, name, type: { kind: 'table', element: el === 0x6f ? 'externref' : 'anyfunc', limits: limits(r).limits } });
        } else if (kind === 0x02) {
          const l = limits(r);
          imports.push({ module, name, type: { kind: 'memory', limits: l.limits, memory64: l.memory64 } });
        } else if (kind === 0x03) {
          const t = valType(r);
          const mutable = r.u8() === 1;
          imports.push({ module, name, type: { kind: 'global', valType: t, mutable } });
        } else if (kind === 0x04) {
          r.u8();
          r.u32();
          imports.push({ module, name, type: { kind: 'tag' } });
        } else {
          throw new Error(`import ${module}.${name} has unknown kind ${kind}`);
        }
      }
    } else if (section.id === 3) {
      for (let n = r.count(), i = 0; i < n; i++) funcTypes.push(r.u32());
    } else if (section.id === 7) {
      for (let n = r.count(), i = 0; i < n; i++) {
        const name = r.name();
        const kind = EXPORT_KINDS[r.u8()] ?? 'tag';
        exports.push({ name, kind, index: r.u32() });
      }
    }
  }

  return {
    imports,
    exports: exports.map((e) => {
      if (e.kind !== 'function') return { name: e.name, kind: e.kind };
      const t = funcTypes[e.index];
      const signature = t === undefined ? undefined : types[t];
      return signature === undefined ? { name: e.name, kind: e.kind } : { name: e.name, kind: e.kind, signature };
    }),
  };
}
