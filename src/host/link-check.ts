/**
 * The host's LinkCheck (src/wasm/link-check.ts seam, issue 12 item 4): V8 compiles the module and
 * links it against the proxy-wasm host table of its ABI (link.ts: imports and types as
 * proxy-wasm-cpp-host V8::link checks them, the exports getFunctions calls with their signatures,
 * the allocator). No callback runs: the host functions given to V8 throw if called, and a module
 * with a start function is checked without instantiating it (its start would run code).
 */
import { isWasmOciError } from '../errors.js';
import type { LinkCheck, LinkCheckResult } from '../wasm/link-check.js';
import { readSections } from '../wasm/binary-reader.js';
import { instantiate, planLink, type HostImplementation, type LinkProblem } from './link.js';

const START_SECTION = 8;

export interface V8LinkCheckResult extends LinkCheckResult {
  /** Each problem found, with the expected and actual types where types are the problem. */
  problems?: LinkProblem[];
  abiVersion?: string;
  allocator?: string;
}

export const v8LinkCheck: LinkCheck = async (bytes): Promise<V8LinkCheckResult> => {
  try {
    const plan = await planLink(bytes);
    if (!readSections(bytes).some((s) => s.id === START_SECTION)) {
      const refuse = (() => {
        throw new Error('a link check runs no host function');
      }) as HostImplementation;
      instantiate(plan, new Map(plan.hostImports.map((i) => [`${i.module}.${i.name}`, refuse])));
    }
    return { ok: true, depth: 'linked', abiVersion: plan.abiVersion, allocator: plan.allocator };
  } catch (err) {
    if (isWasmOciError(err)) {
      const problems = err.details?.problems as LinkProblem[] | undefined;
      const result: V8LinkCheckResult = { ok: false, depth: err.code === 'E_WASM_LINK' ? 'linked' : 'compiled', reason: err.message };
      if (problems !== undefined) result.problems = problems;
      const { abiVersion, allocator } = err.details ?? {};
      if (typeof abiVersion === 'string') result.abiVersion = abiVersion;
      if (typeof allocator === 'string') result.allocator = allocator;
      return result;
    }
    return { ok: false, depth: 'linked', reason: `V8 refuses it: ${err instanceof Error ? err.message : String(err)}` };
  }
};
