export type { Credential, CredentialFunc } from './types.js';
export { isEmptyCredential } from './types.js';
export {
  DOCKER_HUB_SERVER_ADDRESS,
  canonicalHost,
  convertToHostname,
  isDockerHub,
  sameRegistry,
  serverAddress,
} from './host.js';
export {
  KEYCHAIN_MARKER_FIELD,
  authsCredential,
  credHelperFor,
  credsStoreOf,
  findAuthEntry,
  parseDockerConfig,
  readDockerConfig,
  resolveConfigPaths,
  updateDockerConfig,
  type AuthEntry,
  type CredentialEnv,
  type DockerConfig,
} from './docker-config.js';
export { createProcessRunner, type ProcessRunner, type ProcessResult } from './process-runner.js';
export { createCredentialHelper, IDENTITY_TOKEN_USERNAME, type CredentialHelper } from './helper.js';
export {
  createKeychain,
  defaultKeytarLoader,
  DEFAULT_KEYCHAIN_SERVICE,
  type Keychain,
  type KeytarLike,
  type KeytarLoader,
} from './keychain.js';
export {
  createCredentialStore,
  KEYCHAIN_LOCATION,
  type CredentialStore,
  type CredentialStoreOptions,
  type StoreKind,
  type StoreResult,
} from './store.js';
export { login, logout, type LoginOptions, type LogoutOptions } from './login.js';
