import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { CliResult } from './cli.js';
import type { TokenIssuer } from './token-issuer.js';

/**
 * Collects everything a suite's commands printed and wrote, and finds secrets in it: the test
 * passwords and tokens and the `user:password` pair, each in every form a program could spill it
 * (plain, base64, base64url, hex, URL- and form-encoded, JSON-escaped), any JWT (every token an
 * issuer signs is one), and any `Basic `/`Bearer ` value that is not `<redacted>`.
 * The product promise is "no output of any command, --debug included, holds a secret", and no
 * file it writes outside the credential store the secret belongs in (issue 16 item 3).
 */

export interface Leak {
  /** The command that printed or wrote it (secrets in the command line are masked). */
  label: string;
  /** `stdout`, `stderr`, or the file's path. */
  where: string;
  /** What leaked, described without repeating the secret. */
  what: string;
}

export interface SecretScan {
  /** A literal that must never be printed (password, identity token, ...). Short strings are refused: they would match by chance. */
  addSecret(secret: string, name?: string): void;
  /** The password and `user:password`, as docker's `auth` field and a Basic header carry it. */
  addBasicPair(username: string, password: string): void;
  /** Every token this issuer signs, and every credential the client sent it. Read at check time. */
  addIssuer(issuer: TokenIssuer): void;
  record(label: string, result: Pick<CliResult, 'stdout' | 'stderr'>): void;
  /**
   * Reads every file under `path` (a file or a directory, symlinks not followed) now, before the
   * test removes it, to be searched like an output. `except` lists paths that may hold a secret
   * (the credential store it belongs in).
   */
  recordFiles(label: string, path: string, except?: readonly string[]): Promise<void>;
  /** Number of outputs recorded (one per stream, one per file). */
  readonly outputs: number;
  /** Number of files among them. */
  readonly files: number;
  leaks(): Leak[];
  /** `secrets: 0 leaks in 57 outputs (12 files), 6 forms of 4 secrets` */
  summary(): string;
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
// A scheme followed by a credential-shaped value; challenge parameters (`Bearer realm="..."`) and
// the client's own `<redacted>` marker do not match.
const AUTH_VALUE = /\b(Basic|Bearer)\s+(?!<redacted>)([A-Za-z0-9+/_.~-]{12,}=*)/;
/** Files bigger than this are read only up to it (test modules and configs are far smaller). */
const FILE_CAP = 32 * 1024 * 1024;

function fingerprint(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/**
 * A password for tests that exercises every encoding: a space, `:` (the Basic separator), `$`,
 * `%` followed by hex digits (a URL-decoder's bait), both quotes, a backslash and non-ASCII
 * (UTF-8 of two and three bytes). Random, so no run matches another's. Under bcrypt's 72 bytes.
 */
export function testPassword(prefix = 'pw'): string {
  return `${prefix} ${randomBytes(6).toString('hex')}:$HOME%41"'\\é€-${randomBytes(3).toString('hex')}`;
}

/** Every form of `s` a leak could take, each named. */
export function encodedForms(s: string): Array<{ form: string; value: string }> {
  const bytes = Buffer.from(s, 'utf8');
  const forms = [
    { form: 'plain', value: s },
    { form: 'base64', value: bytes.toString('base64') },
    { form: 'base64 unpadded', value: bytes.toString('base64').replace(/=+$/, '') },
    { form: 'base64url', value: bytes.toString('base64url') },
    { form: 'hex', value: bytes.toString('hex') },
    { form: 'HEX', value: bytes.toString('hex').toUpperCase() },
    { form: 'URL-encoded', value: encodeURIComponent(s) },
    { form: 'form-encoded', value: new URLSearchParams({ x: s }).toString().slice(2) },
    { form: 'JSON-escaped', value: JSON.stringify(s).slice(1, -1) },
  ];
  const seen = new Set<string>();
  return forms.filter((f) => f.value.length >= 6 && !seen.has(f.value) && (seen.add(f.value), true));
}

interface Recorded {
  label: string;
  where: string;
  data: Buffer;
  isFile: boolean;
}

export function createSecretScan(): SecretScan {
  /** value -> description (which secret, which form). */
  const secrets = new Map<string, string>();
  const issuers: TokenIssuer[] = [];
  const recorded: Recorded[] = [];
  let secretCount = 0;

  const addSecret = (secret: string, name = 'secret'): void => {
    if (secret.length < 6) throw new Error(`secret "${name}" is too short to search for reliably`);
    secretCount++;
    for (const f of encodedForms(secret)) if (!secrets.has(f.value)) secrets.set(f.value, f.form === 'plain' ? name : `${f.form} ${name}`);
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

  async function walk(path: string, except: Set<string>, out: string[]): Promise<void> {
    if (except.has(path)) return;
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.isFile()) out.push(path);
    else if (st.isDirectory()) for (const name of await readdir(path).catch(() => [] as string[])) await walk(join(path, name), except, out);
  }

  return {
    addSecret,
    addBasicPair(username, password) {
      addSecret(password, `password of ${username}`);
      addSecret(`${username}:${password}`, `${username}:password`);
    },
    addIssuer(issuer) {
      issuers.push(issuer);
    },
    record(label, result) {
      recorded.push(
        { label, where: 'stdout', data: Buffer.from(result.stdout), isFile: false },
        { label, where: 'stderr', data: Buffer.from(result.stderr), isFile: false },
      );
    },
    async recordFiles(label, path, except = []) {
      const files: string[] = [];
      await walk(resolve(path), new Set(except.map((e) => resolve(e))), files);
      for (const f of files) {
        const data = await readFile(f).catch(() => undefined);
        if (data) recorded.push({ label, where: relative(process.cwd(), f) || f, data: data.subarray(0, FILE_CAP), isFile: true });
      }
    },
    get outputs() {
      return recorded.length;
    },
    get files() {
      return recorded.filter((r) => r.isFile).length;
    },
    leaks() {
      const all = [...secrets, ...issuerSecrets()].map(([value, name]) => ({ bytes: Buffer.from(value), value, name }));
      const found: Leak[] = [];
      for (const { label, where, data } of recorded) {
        for (const s of all) {
          if (data.includes(s.bytes)) found.push({ label, where, what: `${s.name} (sha256 ${fingerprint(s.value)})` });
        }
        const text = data.toString('latin1');
        const jwt = JWT.exec(text);
        if (jwt) found.push({ label, where, what: `a JWT (sha256 ${fingerprint(jwt[0])})` });
        const auth = AUTH_VALUE.exec(text);
        if (auth) found.push({ label, where, what: `a ${auth[1]} value (sha256 ${fingerprint(auth[2]!)})` });
      }
      return found;
    },
    summary() {
      const files = this.files;
      return `secrets: ${this.leaks().length} leaks in ${recorded.length} outputs (${recorded.length - files} streams, ${files} files), ${secrets.size} forms of ${secretCount} secrets`;
    },
  };
}

/** Masks the values of secret-bearing flags so a label can be shown in a failure message. */
export function maskArgs(args: string[]): string {
  const secretFlags = new Set(['-p', '--password', '--identity-token']);
  return args.map((a, i) => (secretFlags.has(args[i - 1] ?? '') ? '***' : a)).join(' ');
}
