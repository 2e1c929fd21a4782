/**
 * The OS keychain (libsecret / macOS Keychain / Windows Credential Vault) through keytar.
 *
 * keytar is an optional native dependency: it may be missing, fail to load (ABI mismatch), or
 * load fine and then throw because no secret service answers on D-Bus (CI, containers, SSH).
 * None of that is fatal: the first failure is reported once through `onWarning` with the reason,
 * the keychain is then considered unavailable, and callers fall back to another store.
 */
import { WasmOciError } from '../errors.js';
import type { Credential } from './types.js';

/** The part of keytar we use. */
export interface KeytarLike {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export type KeytarLoader = () => Promise<KeytarLike>;

/** Loads keytar only when the keychain is first used: `--version` and anonymous pulls never pay for it. */
export const defaultKeytarLoader: KeytarLoader = async () => {
  // A variable specifier keeps tsc from requiring keytar's types where the optional install failed.
  const specifier = 'keytar';
  const mod = (await import(specifier)) as { default?: KeytarLike } & Partial<KeytarLike>;
  const api = (mod.default ?? mod) as KeytarLike;
  if (typeof api.getPassword !== 'function') throw new Error('the keytar module has no getPassword');
  return api;
};

export const DEFAULT_KEYCHAIN_SERVICE = 'wasm-oci';

export interface KeychainOptions {
  load?: KeytarLoader;
  /** keytar "service"; the account is the registry's server address. */
  service?: string;
  onWarning?: (message: string) => void;
  /** A secret service that never answers (a prompter with no display) must not hang the CLI. */
  timeoutMs?: number;
}

export interface Keychain {
  readonly service: string;
  /** The credential stored for the account; undefined when none, or when the keychain is unavailable (warned once). */
  get(account: string): Promise<Credential | undefined>;
  /**
   * Stores the credential. Returns false when the keychain is unavailable (warned once);
   * with `strict`, throws E_CREDENTIALS with the reason instead of warning.
   */
  set(account: string, credential: Credential, options?: { strict?: boolean }): Promise<boolean>;
  /** Returns true when an entry was removed. */
  delete(account: string): Promise<boolean>;
  /** Why the keychain is unavailable, once a use has failed. */
  unavailableReason(): string | undefined;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'keytar is not installed';
  const msg = String(e?.message ?? err).split('\n')[0]!.trim();
  return msg || 'unknown error';
}

/** Stored as JSON in the keychain password, since keytar keeps one secret per account. */
function encode(cred: Credential): string {
  const doc: Record<string, string> = {};
  if (cred.username) doc.username = cred.username;
  if (cred.password) doc.password = cred.password;
  if (cred.identityToken) doc.identityToken = cred.identityToken;
  if (cred.registryToken) doc.registryToken = cred.registryToken;
  return JSON.stringify(doc);
}

function decode(text: string): Credential | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined; // an entry some other tool put under our service name
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const cred: Credential = {};
  for (const k of ['username', 'password', 'identityToken', 'registryToken'] as const) {
    if (typeof d[k] === 'string' && d[k] !== '') cred[k] = d[k] as string;
  }
  return Object.keys(cred).length > 0 ? cred : undefined;
}

export function createKeychain(options: KeychainOptions = {}): Keychain {
  const load = options.load ?? defaultKeytarLoader;
  const service = options.service ?? DEFAULT_KEYCHAIN_SERVICE;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let keytar: Promise<KeytarLike> | undefined;
  let reason: string | undefined;
  let warned = false;

  function unavailable(why: string): void {
    reason ??= why;
    if (!warned) {
      warned = true;
      options.onWarning?.(`the OS keychain is not used: ${reason}`);
    }
  }

  async function call<T>(op: (k: KeytarLike) => Promise<T>): Promise<T> {
    if (reason) throw new Error(reason);
    keytar ??= load();
    let k: KeytarLike;
    try {
      k = await keytar;
    } catch (err) {
      reason ??= `keytar cannot be loaded (${describe(err)})`;
      throw new Error(reason);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(k),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the secret service did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (err) {
      reason ??= `no secret service answered (${describe(err)})`;
      throw new Error(reason);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    service,

    async get(account) {
      try {
        const text = await call((k) => k.getPassword(service, account));
        return text ? decode(text) : undefined;
      } catch {
        unavailable(reason!);
        return undefined;
      }
    },

    async set(account, credential, setOptions = {}) {
      try {
        await call((k) => k.setPassword(service, account, encode(credential)));
        return true;
      } catch {
        if (setOptions.strict) {
          throw new WasmOciError('E_CREDENTIALS', `cannot store the credentials in the OS keychain: ${reason}`, {
            hint: 'use --store file or a credential helper, or start a secret service (gnome-keyring) in this session',
          });
        }
        unavailable(reason!);
        return false;
      }
    },

    async delete(account) {
      try {
        return await call((k) => k.deletePassword(service, account));
      } catch {
        unavailable(reason!);
        return false;
      }
    },

    unavailableReason: () => reason,
  };
}
