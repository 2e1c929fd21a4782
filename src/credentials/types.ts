/** A credential as docker's config.json and credential helpers know it. */
export interface Credential {
  username?: string;
  password?: string;
  /** A refresh token (docker's `identitytoken`), exchanged with an OAuth2 POST. */
  identityToken?: string;
  /** A bearer access token used as is (docker's `registrytoken`). */
  registryToken?: string;
}

/** Looks up the credential for a registry host (`host[:port]`, docker.io for Docker Hub). */
export type CredentialFunc = (registry: string) => Promise<Credential | undefined>;

export function isEmptyCredential(c: Credential | undefined): boolean {
  return !c || (!c.username && !c.password && !c.identityToken && !c.registryToken);
}
