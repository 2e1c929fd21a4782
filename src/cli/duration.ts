import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go and Kubernetes spell them (`500ms`, `30s`, `1m30s`, `2h`), or a bare number of
 * seconds. Returns milliseconds; commander reports a bad value as a usage error naming the flag.
 */
export function parseDuration(value: string, flag: string, minMs = 1): number {
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) {
      throw new InvalidArgumentError(`${flag} needs a duration such as 30s, 1m or 500ms.`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
  }
  if (!Number.isFinite(ms) || ms < minMs) throw new InvalidArgumentError(`${flag} must be at least ${minMs} ms.`);
  return Math.round(ms);
}
