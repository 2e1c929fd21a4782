/**
 * docker's credential helper protocol (github.com/docker/docker-credential-helpers):
 * `docker-credential-<name> get|store|erase`, the server URL or a JSON document on stdin.
 */
import { WasmOciError } from '../errors.js';
import type { Credential } from './types.js';
import { ProcessTimeoutError, type ProcessRunner } from './process-runner.js';

export type { ProcessRunner } from './process-runner.js';

/** The username helpers use to mark the secret as an identity (refresh) token. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

export interface CredentialHelper {
  readonly name: string;
  /** `docker-credential-<name>` */
  readonly command: string;
  get(serverURL: string): Promise<Credential | undefined>;
  store(serverURL: string, credential: Credential): Promise<void>;
  /** Returns false when the helper held nothing for the server. */
  erase(serverURL: string): Promise<boolean>;
}

/**
 * The helpers' "not found" message (`credentials not found in native keychain`) is a miss, not a
 * failure; docker-credential-pass 0.7 says `... is not in the password store` on erase instead.
 */
function isNotFound(text: string): boolean {
  return /credentials not found|is not in the password store/i.test(text);
}

function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  // A helper echoing its JSON input back would leak the secret field.
  out = out.replace(/("Secret"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"***"');
  out = out.trim().replace(/\s+/g, ' ');
  return out.length > 300 ? `${out.slice(0, 300)}...` : out;
}

export function validateHelperName(name: string): void {
  // The name becomes part of a program name looked up on PATH; a path separator would run an arbitrary file.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new WasmOciError('E_INVALID_INPUT', `invalid credential helper name "${name}"`, {
      hint: 'credsStore and credHelpers name the suffix of a docker-credential-<name> program on PATH',
    });
  }
}

export function createCredentialHelper(name: string, runner: ProcessRunner): CredentialHelper {
  validateHelperName(name);
  const command = `docker-credential-${name}`;

  async function run(action: string, input: string, secrets: (string | undefined)[]) {
    try {
      return await runner(command, [action], input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new WasmOciError('E_CREDENTIALS', `credential helper ${command} is not installed`, {
          cause: err,
          hint: `install ${command} or remove "${name}" from credsStore/credHelpers in config.json`,
          details: { helper: name, reason: 'not-installed' },
        });
      }
      if (err instanceof ProcessTimeoutError) {
        throw new WasmOciError('E_CREDENTIALS', `credential helper ${command} did not answer \`${action}\` within ${err.timeoutMs / 1000} s; it was stopped`, {
          cause: err,
          hint: `check that ${command} works on its own (echo SERVER | ${command} get); a helper waiting for a passphrase prompt needs its agent unlocked. WASM_OCI_CREDENTIAL_HELPER_TIMEOUT sets the wait in seconds.`,
          details: { helper: name, reason: 'timeout' },
        });
      }
      throw new WasmOciError('E_CREDENTIALS', `cannot run ${command} ${action}: ${redact(String((err as Error)?.message ?? err), secrets)}`, {
        details: { helper: name },
      });
    }
  }

  function failure(action: string, res: { code: number; stdout: string; stderr: string }, secrets: (string | undefined)[]): WasmOciError {
    const said = redact(`${res.stdout} ${res.stderr}`, secrets);
    return new WasmOciError('E_CREDENTIALS', `${command} ${action} failed (exit ${res.code})${said ? `: ${said}` : ''}`, {
      details: { helper: name },
    });
  }

  return {
    name,
    command,

    async get(serverURL) {
      const res = await run('get', serverURL, []);
      if (res.code !== 0) {
        if (isNotFound(res.stdout) || isNotFound(res.stderr)) return undefined;
        throw failure('get', res, []);
      }
      if (isNotFound(res.stdout)) return undefined;
      let doc: unknown;
      try {
        doc = JSON.parse(res.stdout);
      } catch {
        // Never quote the output: it is meant to hold the secret.
        throw new WasmOciError('E_CREDENTIALS', `${command} get printed something that is not JSON`, { details: { helper: name } });
      }
      const { Username, Secret } = (doc ?? {}) as { Username?: unknown; Secret?: unknown };
      const username = typeof Username === 'string' ? Username : '';
      const secret = typeof Secret === 'string' ? Secret : '';
      if (!username && !secret) return undefined;
      if (username === IDENTITY_TOKEN_USERNAME) return secret ? { identityToken: secret } : undefined;
      const cred: Credential = {};
      if (username) cred.username = username;
      if (secret) cred.password = secret;
      return cred;
    },

    async store(serverURL, credential) {
      let Username: string;
      let Secret: string;
      if (credential.identityToken) {
        Username = IDENTITY_TOKEN_USERNAME;
        Secret = credential.identityToken;
      } else if (credential.username && credential.password) {
        Username = credential.username;
        Secret = credential.password;
      } else {
        throw new WasmOciError('E_CREDENTIALS', `${command} can only store a username and password or an identity token`);
      }
      const secrets = [Secret, credential.password, credential.identityToken];
      const res = await run('store', JSON.stringify({ ServerURL: serverURL, Username, Secret }), secrets);
      if (res.code !== 0) throw failure('store', res, secrets);
    },

    async erase(serverURL) {
      const res = await run('erase', serverURL, []);
      if (res.code === 0) return true;
      if (isNotFound(res.stdout) || isNotFound(res.stderr)) return false;
      throw failure('erase', res, []);
    },
  };
}
