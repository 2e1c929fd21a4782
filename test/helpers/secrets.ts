import { createHash } from 'node:crypto';
import type { CliResult } from './cli.js';
import type { TokenIssuer } from './token-issuer.js';

/**
 * Collects every stdout and stderr a suite saw and finds secrets in them: the test passwords and
 * tokens (also base64 of `user:pass`, the form `auth` and Basic headers carry), any JWT (every
 * token an issuer signs is one), and any `Basic `/`Bearer ` value that is not `<redacted>`.
 * The product promise is "no output of any command, --debug included, holds a secret".
 */

export interface Leak {
  /** The command that printed it (secrets in the command line are masked). */
  label: string;
  stream: 'stdout' | 'stderr';
  /** What leaked, described without repeating the secret. */
  what: string;
}

export interface SecretScan {
  /** A literal that must never be printed (password, identity token, ...). Short strings are refused: they would match by chance. */
  addSecret(secret: string, name?: string): void;
  /** `user:pass` as docker's `auth` field and a Basic header carry it. */
  addBasicPair(username: string, password: string): void;
  /** Every token this issuer signs, and every credential the client sent it. Read at check time. */
  addIssuer(issuer: TokenIssuer): void;
  record(label: string, result: Pick<CliResult, 'stdout' | 'stderr'>): void;
  /** Number of outputs recorded (one per stream). */
  readonly outputs: number;
  leaks(): Leak[];
  /** `secrets: 0 leaks in 57 outputs` */
  summary(): string;
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
// A scheme followed by a credential-shaped value; challenge parameters (`Bearer realm="..."`) and
// the client's own `<redacted>` marker do not match.
const AUTH_VALUE = /\b(Basic|Bearer)\s+(?!<redacted>)([A-Za-z0-9+/_.~-]{12,}=*)/;

function fingerprint(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

export function createSecretScan(): SecretScan {
  const secrets = new Map<string, string>();
  const issuers: TokenIssuer[] = [];
  const recorded: { label: string; stream: 'stdout' | 'stderr'; text: string }[] = [];

  const addSecret = (secret: string, name = 'secret'): void => {
    if (secret.length < 6) throw new Error(`secret "${name}" is too short to search for reliably`);
    secrets.set(secret, name);
  };

  function issuerSecrets(): Map<string, string> {
    const out = new Map<string, string>();
    for (const issuer of issuers) {
      // Every token the issuer signs starts with this header: RS256 with the issuer's certificate in x5c.
      const derBase64 = issuer.certPem.replace(/-----[^-]+-----|\s/g, '');
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [derBase64] })).toString('base64url');
      out.set(header, 'a token signed by the issuer');
      for (const r of issuer.requests) {
        const a = r.headers.authorization;
        for (const v of Array.isArray(a) ? a : a ? [a] : []) {
          const value = v.replace(/^\S+\s+/, '');
          if (value.length >= 6) out.set(value, `the Authorization value sent to the issuer (${v.split(' ')[0]})`);
        }
      }
    }
    return out;
  }

  return {
    addSecret,
    addBasicPair(username, password) {
      addSecret(password, `password of ${username}`);
      addSecret(Buffer.from(`${username}:${password}`).toString('base64'), `base64 of ${username}:password`);
    },
    addIssuer(issuer) {
      issuers.push(issuer);
    },
    record(label, result) {
      recorded.push({ label, stream: 'stdout', text: result.stdout }, { label, stream: 'stderr', text: result.stderr });
    },
    get outputs() {
      return recorded.length;
    },
    leaks() {
      const all = new Map([...secrets, ...issuerSecrets()]);
      const found: Leak[] = [];
      for (const { label, stream, text } of recorded) {
        for (const [secret, name] of all) {
          if (text.includes(secret)) found.push({ label, stream, what: `${name} (sha256 ${fingerprint(secret)})` });
        }
        const jwt = JWT.exec(text);
        if (jwt) found.push({ label, stream, what: `a JWT (sha256 ${fingerprint(jwt[0])})` });
        const auth = AUTH_VALUE.exec(text);
        if (auth) found.push({ label, stream, what: `a ${auth[1]} value (sha256 ${fingerprint(auth[2]!)})` });
      }
      return found;
    },
    summary() {
      return `secrets: ${this.leaks().length} leaks in ${recorded.length} outputs`;
    },
  };
}

/** Masks the values of secret-bearing flags so a label can be shown in a failure message. */
export function maskArgs(args: string[]): string {
  const secretFlags = new Set(['-p', '--password', '--identity-token']);
  return args.map((a, i) => (secretFlags.has(args[i - 1] ?? '') ? '***' : a)).join(' ');
}
