import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface SelfSignedCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** base64 DER, the form a JWT `x5c` header carries. */
  derBase64: string;
}

/**
 * A self-signed certificate made by openssl (node:crypto cannot issue certificates).
 * `openssl req -x509` marks it CA:TRUE, so the same file serves as the CA bundle clients trust
 * and as the server certificate. The SANs cover both loopback spellings clients may use.
 */
export async function makeSelfSignedCert(dir: string, name: string, cn = '127.0.0.1', extraNames: readonly string[] = []): Promise<SelfSignedCert> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await execFileAsync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...extraNames.map((n) => `DNS:${n}`)].join(',')}`,
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  const derBase64 = new X509Certificate(certPem).raw.toString('base64');
  return { certFile, keyFile, certPem, keyPem, derBase64 };
}
