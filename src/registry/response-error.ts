import { WasmOciError, type ErrorCode } from '../errors.js';
import { LIMITS } from '../oci/media-types.js';
import type { AuthResponse } from './auth.js';
import { readBounded } from './read-body.js';

/** One entry of a distribution spec error body: `{"errors":[{"code","message","detail"}]}`. */
export interface DistributionError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** Parses a distribution error document; anything else gives an empty list (never throws). */
export function parseDistributionErrors(text: string): DistributionError[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!doc || !Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: String(e['code']), message: typeof e['message'] === 'string' ? e['message'] : undefined, detail: e['detail'] }));
  } catch {
    return [];
  }
}

export interface ErrorContext {
  registry: string;
  repository?: string;
  /** What we were doing, as a noun phrase: `the manifest`, `the blob upload`, `the tag list`. */
  object: string;
  /** `manifest`, `blob`, `tag list`, ... for "not found" messages. */
  kind: 'manifest' | 'blob' | 'tag list' | 'referrers' | 'upload' | 'registry' | 'repository';
  /** Tag or digest involved, for messages and the unknown-tag hint. */
  reference?: string;
}

// Codes a registry uses when it does not accept a media type (Distribution, ACR, Harbor, ECR).
const UNSUPPORTED_MEDIA = /MANIFEST_INVALID|UNSUPPORTED|MEDIA_TYPE|BLOB_UNKNOWN/;

/** Reads up to 8 KiB of a failed response and turns it into the right WasmOciError. */
export async function responseError(res: AuthResponse, ctx: ErrorContext): Promise<WasmOciError> {
  let text = '';
  try {
    text = (await readBounded(res.body, LIMITS.errorBodyBytes, 'error body', true)).toString('utf8');
  } catch {
    /* the status alone will have to do */
  }
  const errors = parseDistributionErrors(text);
  const registryCodes = errors.map((e) => e.code);
  const detail = errors.length
    ? errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ')
    : `HTTP ${res.status}`;
  const where = ctx.repository ? `${ctx.registry}/${ctx.repository}` : ctx.registry;
  const target = ctx.reference ? `${where}${ctx.reference.includes(':') ? '@' : ':'}${ctx.reference}` : where;
  const base = { status: res.status, registryCodes: registryCodes.length ? registryCodes : undefined };
  const make = (code: ErrorCode, message: string, hint?: string): WasmOciError =>
    new WasmOciError(code, message, { ...base, hint, details: { registry: ctx.registry, repository: ctx.repository } });

  switch (res.status) {
    case 401: {
      const a = res.auth;
      if (!a.credentialsUsed) {
        return make('E_AUTH', `authentication required: no credentials for ${ctx.registry}`, `run: wasm-oci login ${ctx.registry}, or pass -u/-p`);
      }
      const who = a.username ? ` for user "${a.username}"` : '';
      if (a.challengeError === 'insufficient_scope') {
        return make('E_AUTH', `${ctx.registry} denied access to ${where}${who}: insufficient scope (${detail})`, 'check that the user may access this repository');
      }
      return make('E_AUTH', `${ctx.registry} rejected the credentials${who} (${detail})`, `check the password or run: wasm-oci login ${ctx.registry}`);
    }
    case 403:
      return make('E_FORBIDDEN', `${ctx.registry} denied access to ${where} (${detail})`);
    case 404: {
      const isTag = ctx.kind === 'manifest' && ctx.reference !== undefined && !ctx.reference.includes(':');
      const hint = isTag && ctx.repository ? `list tags with: wasm-oci repo tags ${ctx.registry}/${ctx.repository}` : undefined;
      const what = registryCodes.includes('NAME_UNKNOWN') ? 'repository' : ctx.kind;
      return make('E_NOT_FOUND', `${what} not found: ${what === 'repository' ? where : target}${errors.length ? ` (${detail})` : ''}`, hint);
    }
    case 405:
      return make('E_UNSUPPORTED', `${ctx.registry} does not allow this operation on ${ctx.object} (${detail})`,
        ctx.object.includes('delete') ? 'the registry has deletion disabled (Distribution: storage.delete.enabled)' : undefined);
    case 413:
      return make('E_SIZE_LIMIT', `${ctx.registry} refused ${ctx.object}: too large (${detail})`);
    case 416:
      return make('E_REGISTRY', `${ctx.registry} refused the range of ${ctx.object} (${detail})`);
    default:
      break;
  }
  // An HTTPS server (Go's net/http) answers a plain HTTP request with a bare 400. A HEAD (resolve,
  // the blob checks of push and copy) carries no body to say so, so over plain HTTP a 400 without a
  // registry error document is read the same way: every command gets the same hint from here.
  if (res.status === 400 && (text.includes('HTTP request to an HTTPS server') || (res.url?.protocol === 'http:' && errors.length === 0))) {
    return make('E_REGISTRY', `${ctx.registry} speaks HTTPS, not plain HTTP (HTTP 400 to a plain HTTP request)`, 'remove --plain-http');
  }
  if (registryCodes.includes('DIGEST_INVALID')) {
    return make('E_DIGEST_MISMATCH', `registry refused ${ctx.object}: ${detail}`);
  }
  if (res.status === 400 || res.status === 415) {
    const hint = ctx.kind === 'manifest' && (res.status === 415 || errors.some((e) => UNSUPPORTED_MEDIA.test(e.code) || /media ?type|unsupported|unknown/i.test(e.message ?? '')))
      ? 'the registry may not accept this artifact\'s media types: try --profile compat'
      : undefined;
    return make('E_REGISTRY', `registry refused ${ctx.object}: ${detail}`, hint);
  }
  return make('E_REGISTRY', `registry ${ctx.registry} failed on ${ctx.object}: ${detail}`);
}
