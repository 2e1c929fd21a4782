/**
 * Inspection of a Wasm binary (DESIGN.md section 2). Core modules are validated and listed by the
 * runtime's own WebAssembly API; the few facts it does not expose (memory section count, custom
 * section names without knowing them) and components, which it rejects, come from a bounded reader.
 */
import { createHash } from 'node:crypto';
import { WasmOciError } from '../errors.js';
import { BinaryParseError, customSectionName, readSections, ByteReader } from './binary-reader.js';
import { readComponent } from './component.js';
import { readModuleTypes, type ModuleTypes } from '../host/module-types.js';
import { checkProxyWasm } from './proxy-wasm.js';
import type { WasmExport, WasmImport, WasmInfo, WasmKind } from './types.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
const CORE_VERSION = [0x01, 0x00, 0x00, 0x00] as const;
/** Component binaries: version 0x0d (pre-1.0 draft) and layer 1, which tells them from core modules. */
const COMPONENT_VERSION = [0x0d, 0x00, 0x01, 0x00] as const;

const WASI_P1_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

// lib.dom is not part of this build, so the slice of the WebAssembly JS API used here is typed locally.
interface WebAssemblyModuleApi {
  new (bytes: Uint8Array): object;
  imports(module: object): { module: string; name: string; kind: string }[];
  exports(module: object): { name: string; kind: string }[];
}
const webAssembly = (globalThis as unknown as { WebAssembly: { Module: WebAssemblyModuleApi } }).WebAssembly;

export interface InspectOptions {
  /** Used in error messages (a file name or reference). */
  name?: string;
}

function startsWith(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (bytes.length < offset + expected.length) return false;
  return expected.every((b, i) => bytes[offset + i] === b);
}

/** Tells a core module from a component by the 8-byte header; undefined when it is neither. */
export function sniffWasm(bytes: Uint8Array): WasmKind | undefined {
  if (!startsWith(bytes, 0, MAGIC)) return undefined;
  if (startsWith(bytes, 4, CORE_VERSION)) return 'module';
  if (startsWith(bytes, 4, COMPONENT_VERSION)) return 'component';
  return undefined;
}

export function inspectWasm(bytes: Uint8Array, options: InspectOptions = {}): WasmInfo {
  const label = options.name ?? 'the input';
  if (!startsWith(bytes, 0, MAGIC)) {
    if (isWasmText(bytes, label)) {
      throw new WasmOciError('E_NOT_WASM', `${label} is WebAssembly text (WAT), not a binary module`, {
        hint: `Compile it first: wat2wasm ${label} -o ${label.replace(/\.(wat|wast)$/, '')}.wasm (wat2wasm is in wabt: apt-get install wabt).`,
      });
    }
    throw new WasmOciError('E_NOT_WASM', `${label} is not a WebAssembly module: it does not start with \\0asm`, {
      hint: 'Give a .wasm file, or spell out media types (file:type) to push any file as oras does.',
    });
  }
  if (bytes.length < 8) {
    throw new WasmOciError(
      'E_WASM_PARSE',
      `${label} is not a valid WebAssembly binary: it is truncated (${bytes.length} bytes, the header alone is 8)`,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (startsWith(bytes, 4, CORE_VERSION)) return inspectModule(bytes, label, sha256);
  if (startsWith(bytes, 4, COMPONENT_VERSION)) return inspectComponent(bytes, label, sha256);
  const version = Array.from(bytes.subarray(4, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new WasmOciError(
    'E_WASM_PARSE',
    `${label} is not a valid WebAssembly binary: unknown binary version ${version} (01 00 00 00 is a core module, 0d 00 01 00 a component)`,
  );
}

function inspectModule(bytes: Uint8Array, label: string, sha256: string): WasmInfo {
  let module: object;
  try {
    module = new webAssembly.Module(bytes);
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/^WebAssembly\.Module\(\):\s*/, '') : String(err);
    throw new WasmOciError('E_WASM_PARSE', `${label} is not a valid WebAssembly module: ${message}`, { cause: err });
  }
  const imports: WasmImport[] = webAssembly.Module.imports(module).map((i) => ({
    module: i.module,
    name: i.name,
    kind: i.kind,
  }));
  const exports: WasmExport[] = webAssembly.Module.exports(module).map((e) => ({ name: e.name, kind: e.kind }));

  let definedMemories = 0;
  const customSections: string[] = [];
  try {
    for (const section of readSections(bytes)) {
      if (section.id === 0) customSections.push(customSectionName(bytes, section));
      else if (section.id === 5) definedMemories = new ByteReader(bytes, section.start, section.end).u32();
    }
  } catch (err) {
    // The validator accepted the module, so this would be a reader bug; still report it as a parse error.
    throw parseError(label, err);
  }

  const info: WasmInfo = {
    kind: 'module',
    version: 1,
    size: bytes.length,
    sha256,
    imports,
    exports,
    memories: {
      count: definedMemories + imports.filter((i) => i.kind === 'memory').length,
      exported: exports.some((e) => e.kind === 'memory'),
    },
    customSections,
  };
  if (imports.some((i) => WASI_P1_MODULES.has(i.module))) info.wasi = 'wasip1';
  const looksLikeProxyWasm =
    exports.some((e) => e.name.startsWith('proxy_abi_version_')) ||
    imports.some((i) => i.module === 'env' && i.name.startsWith('proxy_'));
  if (looksLikeProxyWasm) info.proxyWasm = checkProxyWasm(info, typesOf(bytes));
  return info;
}

/** The types of imports and exports, so the proxy-wasm checks include signatures; undefined if they cannot be read. */
function typesOf(bytes: Uint8Array): ModuleTypes | undefined {
  try {
    return readModuleTypes(bytes);
  } catch {
    return undefined; // a type form the reader does not know (GC types): names-only checks
  }
}

function inspectComponent(bytes: Uint8Array, label: string, sha256: string): WasmInfo {
  let summary;
  try {
    summary = readComponent(bytes);
  } catch (err) {
    throw parseError(label, err);
  }
  const info: WasmInfo = {
    kind: 'component',
    version: 0x0d,
    size: bytes.length,
    sha256,
    imports: summary.imports,
    exports: summary.exports,
    // A component has no memories of its own: they live in its embedded core modules.
    memories: { count: 0, exported: false },
    customSections: summary.customSections,
  };
  if (summary.imports.some((i) => i.name.startsWith('wasi:'))) info.wasi = 'wasip2';
  return info;
}

/** A `.wat`/`.wast` name, or text that opens with `(module` or `(component` after comments and blanks. */
function isWasmText(bytes: Uint8Array, label: string): boolean {
  if (/\.(wat|wast)$/i.test(label)) return true;
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  const code = head.replace(/^(?:\s+|;;[^\n]*\n?|\(;[\s\S]*?;\))*/, '');
  return /^\((module|component)\b/.test(code);
}

function parseError(label: string, err: unknown): WasmOciError {
  if (err instanceof BinaryParseError) {
    return new WasmOciError('E_WASM_PARSE', `${label} is not a valid WebAssembly binary: ${err.message}`, { cause: err });
  }
  return new WasmOciError('E_WASM_PARSE', `${label} could not be parsed: ${String(err)}`, { cause: err });
}
