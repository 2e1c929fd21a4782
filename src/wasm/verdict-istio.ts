/**
 * Istio's verdict on the module it would read (issue 12 item 5). Which module that is, and the
 * error texts when there is none, come from istio-image.ts (istio/istio pkg/wasm/imagefetcher.go);
 * whether the module then works is asked of a LinkCheck (V8), so the line tells apart
 * "fetches it and V8 links it" from "fetches it, but the module fails".
 */
import { createHash } from 'node:crypto';
import { ISTIO_MAX_WASM_BYTES, istioValidWasmBinary, type IstioRead } from './istio-image.js';
import type { LinkCheckResult } from './link-check.js';
import type { ConsumerVerdict } from './verdicts.js';

export interface IstioJudgement {
  read: IstioRead;
  /** The LinkCheck's answer on `read.module.bytes`; absent when there is no valid binary to check. */
  link?: LinkCheckResult;
  /** Set when the reference is an index: the child Istio resolves it to, or undefined when none. */
  index?: { child?: string; entries: number };
  limit?: number;
}

export function istioVerdictFromRead(j: IstioJudgement): ConsumerVerdict {
  const notes: string[] = [];
  if (j.index !== undefined) {
    if (j.index.child === undefined) {
      return {
        consumer: 'istio',
        ok: false,
        // go-containerregistry remoteIndex.childByPlatform's error, as Istio wraps it in PrepareFetch.
        reasons: [`could not fetch image: no child with platform linux/amd64 in the index (${j.index.entries} entries); Istio resolves an index as go-containerregistry does, to linux/amd64`],
      };
    }
    notes.push(`the index resolves to its linux/amd64 child ${j.index.child}, as go-containerregistry does for Istio (a child without a platform counts as linux/amd64)`);
  }
  const { module } = j.read;
  if (module === undefined) {
    const v: ConsumerVerdict = { consumer: 'istio', ok: false, reasons: [...j.read.errors] };
    if (j.read.variant !== undefined) v.variant = j.read.variant;
    if (notes.length) v.notes = notes;
    return v;
  }
  const limit = j.limit ?? ISTIO_MAX_WASM_BYTES;
  if (module.truncatedFrom !== undefined) {
    notes.push(`the module layer is ${module.truncatedFrom} bytes; Istio reads only its first ${limit} bytes (MaxWasmBinarySizeBytes)`);
  }
  const where = module.entryName !== undefined ? `${module.entryName} in layer ${module.layerIndex}` : `layer ${module.layerIndex}`;
  const base: ConsumerVerdict = {
    consumer: 'istio',
    ok: false,
    variant: module.variant,
    reasons: [],
    module: { layerIndex: module.layerIndex, size: module.bytes.length, sha256: createHash('sha256').update(module.bytes).digest('hex'), ...(module.entryName !== undefined ? { entryName: module.entryName } : {}) },
  };
  if (notes.length) base.notes = notes;
  if (!istioValidWasmBinary(module.bytes)) {
    // pkg/wasm/cache.go: the fetched binary is checked before Envoy ever sees it.
    return { ...base, summary: 'fetches it, but refuses the binary', reasons: [`fetched Wasm binary is invalid: ${where} does not start with the Wasm magic \\0asm and a version`] };
  }
  const link = j.link;
  if (link === undefined) return { ...base, ok: true, summary: `fetches it (${module.variant} variant); the module was not checked` };
  const how = link.depth === 'compiled' ? 'V8 compiles it (not linked against the host)' : 'V8 links it';
  if (link.ok) return { ...base, ok: true, summary: `fetches it (${module.variant} variant) and ${how}` };
  const reasons = link.problems !== undefined && link.problems.length > 0 ? link.problems.map((p) => `${where}: ${p.message}`) : [`${where}: ${link.reason ?? 'the module fails'}`];
  return { ...base, summary: `fetches it (${module.variant} variant), but the module fails`, reasons };
}
