/**
 * The seam between consumer verdicts and the proxy-wasm host (issue 12 items 4 and 5): a verdict
 * that names "the module fails" asks a LinkCheck about the exact bytes the consumer would read.
 * The host layer provides the one every command uses (host/link-check.ts v8LinkCheck: V8 linking
 * against the ABI import table); tests inject others.
 */

export interface LinkCheckResult {
  ok: boolean;
  /** Why the module fails (LinkError, CompileError, a mistyped export ...), when it does. */
  reason?: string;
  /** 'linked' when the module was instantiated against the host's imports, 'compiled' when only compiled. */
  depth?: 'linked' | 'compiled';
  /** When it linked (host/link-check.ts): each problem with both signatures, the ABI and allocator picked. */
  problems?: Array<{ subject: string; message: string; expected?: string; actual?: string; afterLink?: boolean }>;
  abiVersion?: string;
  allocator?: string;
}

export type LinkCheck = (bytes: Uint8Array) => LinkCheckResult | Promise<LinkCheckResult>;
