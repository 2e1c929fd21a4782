/**
 * login / logout: check a credential against the registry, and only then store it.
 */
import { WasmOciError, isWasmOciError } from '../errors.js';
import { isEmptyCredential, type Credential } from './types.js';
import type { CredentialStore, StoreKind, StoreResult } from './store.js';

export interface LoginOptions {
  registry: string;
  credential: Credential;
  store: CredentialStore;
  /**
   * Proves the credential works (the CLI passes the registry client's `checkCredentials`: a ping
   * and, for token auth, a token). Throws (E_AUTH for a wrong password) to refuse the login.
   */
  verify: (credential: Credential) => Promise<void>;
  storeKind?: StoreKind;
  onWarning?: (message: string) => void;
}

export async function login(options: LoginOptions): Promise<StoreResult> {
  const { credential } = options;
  if (isEmptyCredential(credential)) {
    throw new WasmOciError('E_USAGE', 'no credentials given', { hint: 'pass -u and --password-stdin, or --identity-token-stdin' });
  }
  if (!credential.identityToken && !credential.registryToken && (!credential.username || !credential.password)) {
    throw new WasmOciError('E_USAGE', 'both a username and a password are needed', {
      hint: 'pass -u USER with --password-stdin (or -p), or use --identity-token-stdin',
    });
  }
  // Verify before touching any store: a wrong password must leave config.json, the helpers and
  // the keychain exactly as they were.
  try {
    await options.verify(credential);
  } catch (err) {
    if (isWasmOciError(err)) {
      // The registry client's hint suggests running login, which is what is failing here.
      if (err.code === 'E_AUTH') err.hint = 'check the username and password (or the token), then try again';
      throw err;
    }
    throw new WasmOciError('E_AUTH', `cannot log in to ${options.registry}`, { cause: err });
  }
  const result = await options.store.store(options.registry, credential, { store: options.storeKind });
  if (result.warning) options.onWarning?.(result.warning);
  return result;
}

export interface LogoutOptions {
  registry: string;
  store: CredentialStore;
}

/** Returns where credentials were removed from; empty when the registry was not logged in. */
export async function logout(options: LogoutOptions): Promise<string[]> {
  return options.store.erase(options.registry);
}
