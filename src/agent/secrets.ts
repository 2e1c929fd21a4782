import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authsCredential, parseDockerConfig } from '../credentials/docker-config.js';
import type { CredentialFunc } from '../credentials/types.js';
import { WasmOciError } from '../errors.js';
import { isSafeName } from './config.js';

/** The key of a `kubernetes.io/dockerconfigjson` Secret, and so the file its volume holds. */
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

/** Where the Secret `name` is mounted under the --pull-secrets directory. */
export function pullSecretPath(secretsDir: string, name: string): string {
  if (!isSafeName(name)) throw new WasmOciError('E_INVALID_INPUT', `"${name}" is not a Secret name`);
  return join(secretsDir, name, DOCKER_CONFIG_JSON_KEY);
}

/**
 * The credentials of one mounted pull secret: only its `auths` entries, matched by host as docker
 * matches config keys, and nothing for any other registry (no helpers, no credsStore, no other
 * config file: a Secret names its registries, and its password goes to those alone). The file is
 * read on every lookup, and the auth layer looks up again once a credential is refused
 * (src/registry/auth.ts), so a rotated Secret (kubelet swaps its `..data` like a ConfigMap's) is
 * used from the first refusal of the old one on, without a restart. A missing or broken file fails the filter's sync
 * with a message that names the Secret but never quotes the file.
 */
export function pullSecretCredentials(secretsDir: string | undefined, name: string): CredentialFunc {
  return async (registry) => {
    if (secretsDir === undefined) {
      throw new WasmOciError('E_CREDENTIALS', `the filter names pull secret "${name}" but no --pull-secrets directory was given`);
    }
    const path = pullSecretPath(secretsDir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new WasmOciError('E_CREDENTIALS', `pull secret "${name}": cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`, {
        hint: 'mount the Secret (type kubernetes.io/dockerconfigjson) at --pull-secrets/NAME',
      });
    }
    const config = parseDockerConfig(text, `pull secret "${name}"`);
    return authsCredential(config, registry, `pull secret "${name}"`);
  };
}
