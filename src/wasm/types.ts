/** What inspection reports about a Wasm binary (DESIGN.md section 2). */

export type WasmKind = 'module' | 'component';

export interface WasmImport {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag' | string;
}

export interface WasmExport {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag' | string;
}

export type ProxyWasmAbiVersion = '0_1_0' | '0_2_0' | '0_2_1';

export interface ProxyWasmInfo {
  /** ABI versions exported as `proxy_abi_version_*` (normally one). */
  abiVersions: ProxyWasmAbiVersion[];
  /** The allocator Envoy calls: `malloc` when exported, else `proxy_on_memory_allocate` (cpp-host WasmBase::getFunctions). */
  allocator?: string;
  /** True when a memory is exported. */
  memoryExported: boolean;
  /** Imports the host does not provide for its ABI version: unregistered functions (WASI names outside cpp-host's list too), globals. */
  unknownImports: WasmImport[];
  /** Problems that would keep Envoy from loading it, by the host's link rules (host/link-rules.ts); empty when none. */
  problems: string[];
}

export interface WasmInfo {
  kind: WasmKind;
  /** Binary format version: 1 for core modules, 0x0d (layer 1) for components. */
  version: number;
  size: number;
  sha256: string;
  imports: WasmImport[];
  exports: WasmExport[];
  /** Memories defined or imported; `exported` when any is exported. */
  memories: { count: number; exported: boolean };
  customSections: string[];
  /** 'wasip1' (wasi_snapshot_preview1 / wasi_unstable), 'wasip2' (wasi:* component imports), or undefined. */
  wasi?: 'wasip1' | 'wasip2';
  /** Present when the module exports a proxy_abi_version_* function or imports proxy_* host functions. */
  proxyWasm?: ProxyWasmInfo;
}
