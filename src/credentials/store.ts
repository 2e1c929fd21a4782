/**
 * Finding, storing and erasing registry credentials the way docker and oras do, plus the OS
 * keychain for secrets wasm-oci stored itself.
 *
 * Lookup, per config file in order (the `--registry-config` files, or the one docker uses):
 *   credHelpers[host] -> credsStore -> OS keychain (only for hosts this config marks as stored
 *   there, see KEYCHAIN_MARKER_FIELD) -> auths[host].
 * A miss at one step falls through to the next, so a hand-written `auths` entry still works
 * next to a credsStore that does not know the host.
 * Writes go to the first config file only; the others are read-only.
 */
import { WasmOciError, isWasmOciError } from '../errors.js';
import { isEmptyCredential, type Credential, type CredentialFunc } from './types.js';
import {
  authsCredential,
  credHelperFor,
  credsStoreOf,
  hasKeychainMark,
  readDockerConfig,
  removeAuthCredential,
  resolveConfigPaths,
  setAuthCredential,
  setKeychainMark,
  updateDockerConfig,
  type CredentialEnv,
} from './docker-config.js';
import type { FileLockOptions } from './config-lock.js';
import { createCredentialHelper, type CredentialHelper } from './helper.js';
import { createProcessRunner, type ProcessRunner } from './process-runner.js';
import { createKeychain, type Keychain, type KeytarLoader } from './keychain.js';
import { serverAddress } from './host.js';

export type StoreKind = 'keychain' | 'file' | 'helper';

export interface StoreResult {
  store: StoreKind;
  /** Where the secret went: the helper program, `OS keychain`, or the config file path. */
  location: string;
  /** Set when the secret is stored unencrypted. */
  warning?: string;
}

export interface CredentialStoreOptions {
  /** `--registry-config` files; the first is written, the rest are only read. Default: docker's config.json. */
  configPaths?: string[];
  /** DOCKER_CONFIG and HOME locate config.json; the whole env is handed to helper processes. */
  env: CredentialEnv;
  runner?: ProcessRunner;
  keychain?: Keychain;
  /** Used to build the keychain when `keychain` is not given (tests simulate a missing keytar). */
  keytarLoader?: KeytarLoader;
  onWarning?: (message: string) => void;
  lock?: FileLockOptions;
}

export interface CredentialStore {
  readonly configPaths: string[];
  get(registry: string): Promise<Credential | undefined>;
  store(registry: string, credential: Credential, options?: { store?: StoreKind }): Promise<StoreResult>;
  /** Removes the registry's credentials from every store that holds them; returns their locations. */
  erase(registry: string): Promise<string[]>;
  credentialFunc(): CredentialFunc;
}

export const KEYCHAIN_LOCATION = 'OS keychain';

export function createCredentialStore(options: CredentialStoreOptions): CredentialStore {
  const configPaths =
    options.configPaths && options.configPaths.length > 0 ? [...options.configPaths] : resolveConfigPaths({ env: options.env });
  const runner = options.runner ?? createProcessRunner({ env: options.env });
  const onWarning = options.onWarning ?? (() => {});
  const keychain = options.keychain ?? createKeychain({ load: options.keytarLoader, onWarning });
  const helpers = new Map<string, CredentialHelper>();
  const warnedHelpers = new Set<string>();

  function helper(name: string): CredentialHelper {
    let h = helpers.get(name);
    if (!h) {
      h = createCredentialHelper(name, runner);
      helpers.set(name, h);
    }
    return h;
  }

  function isNotInstalled(err: unknown): boolean {
    return isWasmOciError(err, 'E_CREDENTIALS') && err.details?.reason === 'not-installed';
  }

  /**
   * A helper named in config.json but absent from PATH (a config copied from a Docker Desktop
   * machine names `desktop`) is reported once and skipped: anonymous pulls must still work.
   */
  function warnNotInstalled(name: string, err: WasmOciError): void {
    if (warnedHelpers.has(name)) return;
    warnedHelpers.add(name);
    onWarning(`${err.message}; skipping it`);
  }

  async function helperGet(name: string, address: string): Promise<Credential | undefined> {
    try {
      return await helper(name).get(address);
    } catch (err) {
      if (isNotInstalled(err)) {
        warnNotInstalled(name, err as WasmOciError);
        return undefined;
      }
      throw err;
    }
  }

  function writablePath(): string {
    const path = configPaths[0];
    if (!path) {
      throw new WasmOciError('E_CREDENTIALS', 'cannot locate config.json: neither DOCKER_CONFIG nor HOME is set', {
        hint: 'set DOCKER_CONFIG or HOME, or pass --registry-config',
      });
    }
    return path;
  }

  async function get(registry: string): Promise<Credential | undefined> {
    const address = serverAddress(registry);
    for (const path of configPaths) {
      const config = await readDockerConfig(path);
      const perHost = credHelperFor(config, registry);
      if (perHost) {
        const c = await helperGet(perHost, address);
        if (!isEmptyCredential(c)) return c;
      }
      const global = credsStoreOf(config);
      if (global && global !== perHost) {
        const c = await helperGet(global, address);
        if (!isEmptyCredential(c)) return c;
      }
      if (hasKeychainMark(config, registry)) {
        const c = await keychain.get(address);
        if (!isEmptyCredential(c)) return c;
      }
      const c = authsCredential(config, registry, path);
      if (!isEmptyCredential(c)) return c;
    }
    return undefined;
  }

  async function store(registry: string, credential: Credential, storeOptions: { store?: StoreKind } = {}): Promise<StoreResult> {
    if (isEmptyCredential(credential)) throw new WasmOciError('E_USAGE', 'no credentials to store');
    const path = writablePath();
    const address = serverAddress(registry);
    const config = await readDockerConfig(path);
    const helperName = credHelperFor(config, registry) ?? credsStoreOf(config);
    const wasInKeychain = hasKeychainMark(config, registry);
    const requested = storeOptions.store;

    const forgetKeychainCopy = async () => {
      // A secret we moved elsewhere must not linger in the keychain under the same account.
      if (wasInKeychain) await keychain.delete(address);
    };

    if (requested === 'helper' || (requested === undefined && helperName)) {
      if (!helperName) {
        throw new WasmOciError('E_CREDENTIALS', `no credential helper is configured in ${path}`, {
          hint: 'set "credsStore" (e.g. "pass" or "secretservice") or "credHelpers" in config.json, or choose --store keychain|file',
        });
      }
      const h = helper(helperName);
      await h.store(address, credential);
      await updateDockerConfig(
        path,
        (c) => {
          removeAuthCredential(c, registry);
          setKeychainMark(c, registry, false);
        },
        options.lock,
      );
      await forgetKeychainCopy();
      return { store: 'helper', location: h.command };
    }

    if (requested === 'keychain' || requested === undefined) {
      const stored = await keychain.set(address, credential, { strict: requested === 'keychain' });
      if (stored) {
        await updateDockerConfig(
          path,
          (c) => {
            removeAuthCredential(c, registry);
            setKeychainMark(c, registry, true);
          },
          options.lock,
        );
        return { store: 'keychain', location: KEYCHAIN_LOCATION };
      }
    }

    await updateDockerConfig(
      path,
      (c) => {
        setAuthCredential(c, registry, credential);
        setKeychainMark(c, registry, false);
      },
      options.lock,
    );
    await forgetKeychainCopy();
    return {
      store: 'file',
      location: path,
      warning: `the credentials are stored unencrypted in ${path}; configure a credential helper (credsStore) or a keychain to avoid it`,
    };
  }

  async function erase(registry: string): Promise<string[]> {
    const address = serverAddress(registry);
    const removed: string[] = [];
    const failures: unknown[] = [];
    const configs = await Promise.all(configPaths.map(async (p) => ({ path: p, config: await readDockerConfig(p) })));

    const helperNames = new Set<string>();
    for (const { config } of configs) {
      const perHost = credHelperFor(config, registry);
      if (perHost) helperNames.add(perHost);
      const global = credsStoreOf(config);
      if (global) helperNames.add(global);
    }
    for (const name of helperNames) {
      try {
        // Some helpers (secretservice) exit 0 on erasing nothing; ask first so the report is true.
        const held = !isEmptyCredential(await helper(name).get(address));
        if (held && (await helper(name).erase(address))) removed.push(helper(name).command);
      } catch (err) {
        if (isNotInstalled(err)) warnNotInstalled(name, err as WasmOciError);
        else failures.push(err);
      }
    }

    if (configs.some(({ config }) => hasKeychainMark(config, registry))) {
      if (await keychain.delete(address)) removed.push(KEYCHAIN_LOCATION);
    }

    const [first, ...readOnly] = configs;
    if (first) {
      let fileHeldIt = false;
      await updateDockerConfig(
        first.path,
        (c) => {
          fileHeldIt = removeAuthCredential(c, registry);
          setKeychainMark(c, registry, false);
        },
        options.lock,
      );
      if (fileHeldIt) removed.push(first.path);
    }
    for (const { path, config } of readOnly) {
      if (authsCredential(config, registry, path)) onWarning(`credentials for ${registry} remain in the read-only config ${path}`);
    }

    if (failures.length > 0) throw failures[0];
    return removed;
  }

  return {
    configPaths,
    get,
    store,
    erase,
    credentialFunc: () => (registry: string) => get(registry),
  };
}
