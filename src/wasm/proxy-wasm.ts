/**
 * The proxy-wasm checks on a module (DESIGN.md section 2, issue 5): what Envoy (proxy-wasm-cpp-host)
 * needs before it will load a module as a filter.
 *
 * They are not a reading of their own: they are the link rules of the proxy-wasm host
 * (host/link-rules.ts) applied to the module's imports and exports, against the same host table
 * (host/abi.ts) the host links with, so `Filter checks` and the V8 link verdict cannot disagree.
 * With the module's types (inspectWasm reads them) every rule applies, signatures included; from
 * names alone (a WasmInfo built by hand) the signature rules are skipped.
 */
import { hostFunctionsFor, type AbiVersion } from '../host/abi.js';
import { checkLinkRules, ruleModuleOf } from '../host/link-rules.js';
import type { ModuleTypes } from '../host/module-types.js';
import type { ProxyWasmAbiVersion, ProxyWasmInfo, WasmImport, WasmInfo } from './types.js';

export const PROXY_WASM_ABI_VERSIONS: readonly ProxyWasmAbiVersion[] = ['0_1_0', '0_2_0', '0_2_1'];

const ABI_EXPORT_PREFIX = 'proxy_abi_version_';

function dotted(version: ProxyWasmAbiVersion): AbiVersion {
  return version.replaceAll('_', '.') as AbiVersion;
}

/** The `env` host functions a module of this ABI version may import (the host table's). */
export function proxyWasmHostFunctions(version: ProxyWasmAbiVersion): string[] {
  return hostFunctionsFor(dotted(version)).filter((f) => f.module === 'env').map((f) => f.name).sort();
}

function isAbiVersion(v: string): v is ProxyWasmAbiVersion {
  return (PROXY_WASM_ABI_VERSIONS as readonly string[]).includes(v);
}

/**
 * The proxy-wasm facts and problems of a module. `types` (host/module-types.ts readModuleTypes)
 * lets the signature rules apply; inspectWasm always passes them.
 */
export function checkProxyWasm(info: WasmInfo, types?: ModuleTypes): ProxyWasmInfo {
  const memoryExported = info.exports.some((e) => e.kind === 'memory');
  const abiVersions: ProxyWasmAbiVersion[] = [];
  for (const e of info.exports) {
    if (e.kind !== 'function' || !e.name.startsWith(ABI_EXPORT_PREFIX)) continue;
    const v = e.name.slice(ABI_EXPORT_PREFIX.length);
    if (isAbiVersion(v) && !abiVersions.includes(v)) abiVersions.push(v);
  }
  if (info.kind === 'component') {
    // V8 does not compile a component (cpp-host loads core modules only): no rule applies.
    return { abiVersions, memoryExported, unknownImports: [], problems: ['is a component; proxy-wasm hosts load only core modules'] };
  }
  // With types every rule applies; from names alone the signature rules are skipped.
  const rules = checkLinkRules(types !== undefined ? ruleModuleOf(types) : { imports: info.imports, exports: info.exports });
  const missing = new Set(rules.missingImports.map((i) => `${i.module}.${i.name}`));
  const unknownImports: WasmImport[] = info.imports.filter((i) => missing.has(`${i.module}.${i.name}`));
  const result: ProxyWasmInfo = { abiVersions, memoryExported, unknownImports, problems: rules.problems.map((p) => p.message) };
  if (rules.allocator !== undefined) result.allocator = rules.allocator;
  return result;
}
