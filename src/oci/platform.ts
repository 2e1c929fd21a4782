import { WasmOciError } from '../errors.js';
import type { Platform } from './types.js';

/** Node's process.arch in Go's GOARCH spelling (what oras defaults a bare `--platform os` to). */
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

/**
 * `--platform os[/arch[/variant]][:os_version]` as oras reads it (cmd/oras/internal/option/
 * platform.go Parse): the architecture defaults to this machine's, OS and architecture must
 * not be empty.
 */
export function parsePlatform(value: string, hostArch: string = process.arch): Platform {
  const colon = value.indexOf(':');
  const spec = colon === -1 ? value : value.slice(0, colon);
  const osVersion = colon === -1 ? undefined : value.slice(colon + 1);
  const parts = spec.split('/');
  if (parts.length > 3) throw new WasmOciError('E_USAGE', `failed to parse platform "${value}": expected format os[/arch[/variant]]`);
  const p: Platform = { os: parts[0]!, architecture: parts.length >= 2 ? parts[1]! : (GOARCH[hostArch] ?? hostArch) };
  if (parts.length === 3) p.variant = parts[2]!;
  if (osVersion) p['os.version'] = osVersion;
  if (p.os === '') throw new WasmOciError('E_USAGE', 'invalid platform: OS cannot be empty');
  if (p.architecture === '') throw new WasmOciError('E_USAGE', 'invalid platform: Architecture cannot be empty');
  return p;
}

/**
 * oras-go internal/platform Match: architecture and OS equal, variant and OS version equal when
 * asked for, every asked OS feature present.
 */
export function platformMatches(got: Partial<Platform> | undefined, want: Platform): boolean {
  if (!got || got.architecture !== want.architecture || got.os !== want.os) return false;
  if (want['os.version'] && got['os.version'] !== want['os.version']) return false;
  if (want.variant && got.variant !== want.variant) return false;
  const features = new Set(got['os.features'] ?? []);
  return (want['os.features'] ?? []).every((f) => features.has(f));
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}${p['os.version'] ? `:${p['os.version']}` : ''}`;
}
