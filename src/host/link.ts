/**
 * Linking a module as proxy-wasm-cpp-host does on V8 (src/wasm.cc WasmBase::load / initialize,
 * src/v8/v8.cc V8::link, WasmBase::getFunctions), with V8 itself (Node's WebAssembly):
 * 1. the ABI version: the first known `proxy_abi_version_*` export (BytecodeUtil::getAbiVersion);
 *    none is "Missing or unknown Proxy-Wasm ABI version";
 * 2. each function import must be a host function registered for that ABI, with the same types;
 *    an imported global is a missing import; imported memories and tables are created by the host;
 * 3. each export the host calls must have the signature it calls it with;
 * 4. an allocator (malloc, else proxy_on_memory_allocate) must exist;
 * 5. the host must have a memory to pass data through (MEMORY_RULE below).
 * Host functions are passed through typed-bridge.ts, so V8's own import type check applies too.
 * The messages are cpp-host's, so a user can match them with Envoy's log.
 */
import { WasmOciError } from '../errors.js';
import {
  type AbiVersion,
  abiVersionsProviding,
  expectedExport,
  findHostFunction,
  formatSignature,
  pickAbiVersion,
  pickAllocator,
  sameSignature,
  type HostFunction,
} from './abi.js';
import { readModuleTypes, type ModuleTypes } from './module-types.js';
import { bridgeFunctions } from './typed-bridge.js';

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

export interface LinkPlan {
  module: WebAssembly.Module;
  types: ModuleTypes;
  abiVersion: AbiVersion;
  allocator: string;
  /** Each function import with the host function it links to. */
  hostImports: { module: string; name: string; host: HostFunction }[];
}

function linkError(problems: LinkProblem[], cause?: unknown, abiVersion?: AbiVersion): WasmOciError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).map((p) => p.subject).join(', ')})` : '';
  const lead = problems.every((p) => p.afterLink) ? 'Envoy (V8) links the module but cannot run it' : 'Envoy (V8) refuses the module';
  return new WasmOciError('E_WASM_LINK', `${lead}: ${first.message}${more}`, {
    cause,
    details: abiVersion === undefined ? { problems } : { problems, abiVersion },
  });
}

/** Compiles and checks the module against the host ABI; throws E_WASM_LINK with every problem found. */
export async function planLink(bytes: Uint8Array): Promise<LinkPlan> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (err) {
    throw new WasmOciError('E_WASM_PARSE', `V8 cannot compile the module: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const types = readModuleTypes(bytes);
  const functionExports = types.exports.filter((e) => e.kind === 'function').map((e) => e.name);
  const abiVersion = pickAbiVersion(functionExports);
  if (abiVersion === undefined) {
    throw linkError([{ subject: 'proxy_abi_version_*', message: 'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export)' }]);
  }

  const problems: LinkProblem[] = [];
  const hostImports: LinkPlan['hostImports'] = [];
  for (const imp of types.imports) {
    const subject = `${imp.module}.${imp.name}`;
    if (imp.type.kind === 'memory' || imp.type.kind === 'table') continue; // V8::link creates them
    if (imp.type.kind !== 'function') {
      problems.push({ subject, message: `Failed to load Wasm module due to a missing import: ${subject} (an imported ${imp.type.kind}; the host provides only functions, memories and tables)` });
      continue;
    }
    const host = findHostFunction(imp.module, imp.name, abiVersion);
    if (host === undefined) {
      const others = abiVersionsProviding(imp.module, imp.name);
      const where = others.length > 0 ? ` (the host registers it for ABI ${others.join(', ')}, the module declares ${abiVersion})` : '';
      problems.push({ subject, message: `Failed to load Wasm module due to a missing import: ${subject}${where}` });
      continue;
    }
    if (!sameSignature(imp.type.signature, host.signature)) {
      const actual = formatSignature(imp.type.signature);
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
  for (const exp of types.exports) {
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

  const allocator = pickAllocator(functionExports);
  if (allocator === undefined) problems.push({ subject: 'malloc', message: 'Wasm module is missing malloc function (it exports neither malloc nor proxy_on_memory_allocate)' });

  const memory = memoryProblem(types);
  if (memory !== undefined) problems.push(memory);

  if (problems.length > 0) throw linkError(problems, undefined, abiVersion);
  return { module, types, abiVersion, allocator: allocator!, hostImports };
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
function memoryProblem(types: ModuleTypes): LinkProblem | undefined {
  if (types.imports.some((i) => i.type.kind === 'memory') || types.exports.some((e) => e.kind === 'memory')) return undefined;
  return {
    subject: 'memory',
    afterLink: true,
    message: 'the module neither exports nor imports a memory: V8 links it, but Envoy has none to pass it data through (cpp-host keeps a null memory_, and the first host call that reads or writes the module\'s memory crashes Envoy)',
  };
}

export type HostImplementation = (...args: never[]) => number | bigint | void;

export interface Instantiated {
  instance: WebAssembly.Instance;
  /**
   * The memory the host reads and writes, as V8::link picks memory_: the one it created for the
   * module's memory import, replaced by an exported one when the module exports a memory.
   */
  memory?: WebAssembly.Memory;
}

/**
 * Instantiates a planned module with the host's implementations (keyed `module.name`), each
 * bridged to its exact type. A LinkError V8 still raises becomes E_WASM_LINK.
 */
export function instantiate(plan: LinkPlan, implementations: ReadonlyMap<string, HostImplementation>): Instantiated {
  const imports: WebAssembly.Imports = {};
  const bridged = bridgeFunctions(plan.hostImports.map((i) => {
    const impl = implementations.get(`${i.module}.${i.name}`);
    if (impl === undefined) throw new WasmOciError('E_INTERNAL', `the host has no implementation of ${i.module}.${i.name}`);
    return { signature: i.host.signature, implementation: impl };
  }));
  plan.hostImports.forEach((i, n) => {
    (imports[i.module] ??= {})[i.name] = bridged[n]!;
  });
  let memory: WebAssembly.Memory | undefined;
  for (const imp of plan.types.imports) {
    if (imp.type.kind === 'memory') {
      const d: WebAssembly.MemoryDescriptor = { initial: imp.type.limits.min };
      if (imp.type.limits.max !== undefined) d.maximum = imp.type.limits.max;
      if (imp.type.limits.shared) d.shared = true;
      memory = new WebAssembly.Memory(d);
      (imports[imp.module] ??= {})[imp.name] = memory;
    } else if (imp.type.kind === 'table') {
      const d: WebAssembly.TableDescriptor = { element: imp.type.element, initial: imp.type.limits.min };
      if (imp.type.limits.max !== undefined) d.maximum = imp.type.limits.max;
      (imports[imp.module] ??= {})[imp.name] = new WebAssembly.Table(d);
    }
  }
  try {
    const instance = new WebAssembly.Instance(plan.module, imports);
    const exported = Object.values(instance.exports).find((v) => v instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined;
    memory = exported ?? memory;
    return memory === undefined ? { instance } : { instance, memory };
  } catch (err) {
    if (err instanceof WebAssembly.LinkError) {
      throw linkError([{ subject: 'module', message: `V8 LinkError: ${err.message}` }], err);
    }
    throw err;
  }
}
