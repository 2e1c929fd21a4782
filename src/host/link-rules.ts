/**
 * The rules by which proxy-wasm-cpp-host links a module (issue 12 item 4), on the module's
 * imports and exports alone, against the host table of abi.ts. This is the one place they live:
 * planLink (link.ts) applies them after V8 compiled the module, and the static check
 * (wasm/proxy-wasm.ts, what `inspect` lists as "Filter checks") applies them to what inspection
 * read, so the two cannot disagree. What V8 adds on top is compiling the module (a module V8
 * cannot compile never reaches these rules) and instantiating it.
 *
 * From proxy-wasm-cpp-host (52a02917):
 * - src/bytecode_util.cc BytecodeUtil::getAbiVersion: the ABI is the first function export named
 *   proxy_abi_version_0_1_0 / _0_2_0 / _0_2_1 in export order; unknown names are skipped; none is
 *   "Missing or unknown Proxy-Wasm ABI version" (WasmBase::load, src/wasm.cc), before any link.
 * - src/v8/v8.cc V8::link: a function import must be registered (WasmBase::registerCallbacks) for
 *   that ABI with the same params and results; a global import is a missing import; memory and
 *   table imports are created by the host.
 * - src/wasm.cc WasmBase::getFunctions, src/v8/v8.cc V8::getModuleFunctionImpl: each export the
 *   host looks up must have the signature it calls it with; malloc, else proxy_on_memory_allocate.
 * - the memory the host reads: link.ts memoryProblem's comment (MEMORY_RULE).
 */
import {
  abiVersionsProviding,
  expectedExport,
  findHostFunction,
  formatSignature,
  pickAbiVersion,
  pickAllocator,
  sameSignature,
  type AbiVersion,
  type FunctionSignature,
  type HostFunction,
} from './abi.js';
import type { ModuleTypes } from './module-types.js';

export interface LinkProblem {
  /** `env.proxy_get_buffer_status`, `malloc` ... */
  subject: string;
  message: string;
  /** The type the module declares, when a type is the problem. */
  actual?: string;
  /** The type the host provides or requires. */
  expected?: string;
  /** V8 links the module; the problem is what happens when the host runs it (no memory). */
  afterLink?: boolean;
}

/**
 * A module as the rules see it. `signature` is absent when only names are known (a WasmInfo
 * without the type section read): the signature rules are then skipped, nothing else.
 */
export interface RuleModule {
  imports: ReadonlyArray<{ module: string; name: string; kind: string; signature?: FunctionSignature }>;
  exports: ReadonlyArray<{ name: string; kind: string; signature?: FunctionSignature }>;
}

export interface RuleVerdict {
  /** The ABI cpp-host picks; undefined means the module is refused for it alone. */
  abiVersion?: AbiVersion;
  /** The allocator Envoy calls (malloc first). */
  allocator?: string;
  /** Every problem, in the order cpp-host meets them (imports, exports, allocator, memory). */
  problems: LinkProblem[];
  /** Imports the host does not provide (unregistered functions, globals, tags). */
  missingImports: { module: string; name: string }[];
  /** Each function import with the host function it links to (only when its signature is known). */
  hostImports: { module: string; name: string; host: HostFunction }[];
}

export function ruleModuleOf(types: ModuleTypes): RuleModule {
  return {
    imports: types.imports.map((i) => ({ module: i.module, name: i.name, kind: i.type.kind, ...(i.type.kind === 'function' ? { signature: i.type.signature } : {}) })),
    exports: types.exports,
  };
}

const ABI_EXPORT_PREFIX = 'proxy_abi_version_';

export function checkLinkRules(m: RuleModule): RuleVerdict {
  const functionExports = m.exports.filter((e) => e.kind === 'function').map((e) => e.name);
  const abiVersion = pickAbiVersion(functionExports);
  const missingImports: RuleVerdict['missingImports'] = [];
  const hostImports: RuleVerdict['hostImports'] = [];
  const allocator = pickAllocator(functionExports);
  const base = allocator === undefined ? {} : { allocator };
  if (abiVersion === undefined) {
    const unknown = functionExports.filter((n) => n.startsWith(ABI_EXPORT_PREFIX));
    const also = unknown.length > 0 ? `; ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not one cpp-host knows` : '';
    return {
      ...base,
      problems: [{ subject: 'proxy_abi_version_*', message: `Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export${also})` }],
      missingImports,
      hostImports,
    };
  }

  const problems: LinkProblem[] = [];
  for (const imp of m.imports) {
    const subject = `${imp.module}.${imp.name}`;
    if (imp.kind === 'memory' || imp.kind === 'table') continue; // V8::link creates them
    if (imp.kind !== 'function') {
      missingImports.push({ module: imp.module, name: imp.name });
      problems.push({ subject, message: `Failed to load Wasm module due to a missing import: ${subject} (an imported ${imp.kind}; the host provides only functions, memories and tables)` });
      continue;
    }
    const host = findHostFunction(imp.module, imp.name, abiVersion);
    if (host === undefined) {
      missingImports.push({ module: imp.module, name: imp.name });
      const others = abiVersionsProviding(imp.module, imp.name);
      const where = others.length > 0 ? ` (the host registers it for ABI ${others.join(', ')}, the module declares ${abiVersion})` : '';
      problems.push({ subject, message: `Failed to load Wasm module due to a missing import: ${subject}${where}` });
      continue;
    }
    if (imp.signature === undefined) continue;
    if (!sameSignature(imp.signature, host.signature)) {
      const actual = formatSignature(imp.signature);
      const expected = formatSignature(host.signature);
      problems.push({
        subject,
        actual,
        expected,
        message: `Failed to load Wasm module due to an import type mismatch: ${subject}, want: ${actual}, but host exports: ${expected}`,
      });
      continue;
    }
    hostImports.push({ module: imp.module, name: imp.name, host });
  }

  const hasInitialize = functionExports.includes('_initialize');
  for (const exp of m.exports) {
    if (exp.kind !== 'function' || exp.signature === undefined) continue;
    // getFunctions looks up main/__main_void only with _initialize, _start only without it,
    // proxy_on_memory_allocate only when malloc is missing.
    if ((exp.name === 'main' || exp.name === '__main_void') && !hasInitialize) continue;
    if (exp.name === '_start' && hasInitialize) continue;
    if (exp.name === 'proxy_on_memory_allocate' && functionExports.includes('malloc')) continue;
    const want = expectedExport(exp.name, abiVersion);
    if (want === undefined || sameSignature(want.signature, exp.signature)) continue;
    const actual = formatSignature(exp.signature);
    const expected = formatSignature(want.signature);
    problems.push({ subject: exp.name, actual, expected, message: `Bad function signature for: ${exp.name}, want: ${expected}, but the module exports: ${actual}` });
  }

  if (allocator === undefined) problems.push({ subject: 'malloc', message: 'Wasm module is missing malloc function (it exports neither malloc nor proxy_on_memory_allocate)' });

  const memory = memoryProblem(m);
  if (memory !== undefined) problems.push(memory);

  return { ...base, abiVersion, problems, missingImports, hostImports };
}

/**
 * MEMORY_RULE, as proxy-wasm-cpp-host has it (src/v8/v8.cc V8::link; src/wamr/wamr.cc Wamr::link
 * and src/wasmtime/wasmtime.cc Wasmtime::link do the same): the host's `memory_` is the memory the
 * module imports (the MEMORY import case creates it) or, else, the memory it exports under any
 * name (the MEMORY export case copies it; the name `memory` is not looked at). Nothing checks that
 * one was found: V8::link returns true, and WasmBase::initialize (src/wasm.cc) goes on to
 * getFunctions and startVm. The first host call that passes data (proxy_log, a header, the plugin
 * configuration copied by WasmBase::copyToPointerSize) reaches V8::getMemory / setMemory /
 * getWord, which `assert(memory_ != nullptr)` and otherwise dereference the null memory_: Envoy
 * aborts or crashes. So a module with neither an imported nor an exported memory links, and is
 * still refused here, with that said (afterLink). A memory defined but not exported is the same.
 */
function memoryProblem(m: RuleModule): LinkProblem | undefined {
  if (m.imports.some((i) => i.kind === 'memory') || m.exports.some((e) => e.kind === 'memory')) return undefined;
  return {
    subject: 'memory',
    afterLink: true,
    message: 'the module neither exports nor imports a memory: V8 links it, but Envoy has none to pass it data through (cpp-host keeps a null memory_, and the first host call that reads or writes the module\'s memory crashes Envoy)',
  };
}
