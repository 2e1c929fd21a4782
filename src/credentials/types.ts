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

/**
 * docker's config.json stores `base64(user:password)` and Basic auth sends the same pair
 * (RFC 7617 forbids a colon in the user-id): a `:` in the username would be read back by every
 * other tool as a shorter username, so it is refused before anything is stored or sent.
 */
export function usernameProblem(username: string | undefined): string | undefined {
  if (username !== undefined && username.includes(':')) return `the username "${username}" contains ":", which docker's config.json and Basic auth cannot carry`;
  return undefined;
}
