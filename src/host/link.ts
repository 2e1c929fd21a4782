/**
 * Linking a module as proxy-wasm-cpp-host does on V8 (src/wasm.cc WasmBase::load / initialize,
 * src/v8/v8.cc V8::link, WasmBase::getFunctions), with V8 itself (Node's WebAssembly):
 * 1. the ABI version: the first known `proxy_abi_version_*` export (BytecodeUtil::getAbiVersion);
 *    none is "Missing or unknown Proxy-Wasm ABI version";
 * 2. each function import must be a host function registered for that ABI, with the same types;
 *    an imported global is a missing import; imported memories and tables are created by the host;
 * 3. each export the host calls must have the signature it calls it with;
 * 4. an allocator (malloc, else proxy_on_memory_allocate) must exist;
 * 5. the host must have a memory to pass data through (MEMORY_RULE).
 * Those rules live in link-rules.ts, shared with the static check (wasm/proxy-wasm.ts).
 * Host functions are passed through typed-bridge.ts, so V8's own import type check applies too.
 * The messages are cpp-host's, so a user can match them with Envoy's log.
 */
import { WasmOciError } from '../errors.js';
import type { AbiVersion, HostFunction } from './abi.js';
import { checkLinkRules, ruleModuleOf, type LinkProblem } from './link-rules.js';
import { readModuleTypes, type ModuleTypes } from './module-types.js';
import { bridgeFunctions } from './typed-bridge.js';

export type { LinkProblem };

export interface LinkPlan {
  module: WebAssembly.Module;
  types: ModuleTypes;
  abiVersion: AbiVersion;
  allocator: string;
  /** Each function import with the host function it links to. */
  hostImports: { module: string; name: string; host: HostFunction }[];
}

function linkError(problems: LinkProblem[], cause?: unknown, picked: { abiVersion?: AbiVersion; allocator?: string } = {}): WasmOciError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).map((p) => p.subject).join(', ')})` : '';
  const lead = problems.every((p) => p.afterLink) ? 'Envoy (V8) links the module but cannot run it' : 'Envoy (V8) refuses the module';
  return new WasmOciError('E_WASM_LINK', `${lead}: ${first.message}${more}`, {
    cause,
    details: { problems, ...picked },
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
  const rules = checkLinkRules(ruleModuleOf(types));
  if (rules.problems.length > 0) {
    const picked = { ...(rules.abiVersion !== undefined ? { abiVersion: rules.abiVersion } : {}), ...(rules.allocator !== undefined ? { allocator: rules.allocator } : {}) };
    throw linkError(rules.problems, undefined, picked);
  }
  return { module, types, abiVersion: rules.abiVersion!, allocator: rules.allocator!, hostImports: rules.hostImports };
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
