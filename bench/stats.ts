/** Order statistics of a handful of runs: the median is what the benchmark compares. */

export interface Sample {
  wallMs: number;
  maxRssKiB: number;
  /** Parts of a composite run (e.g. curl's POST and PUT), in ms. */
  parts?: Record<string, number>;
}

export interface Summary {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Highest peak RSS of any run, KiB. */
  peakRssKiB: number;
  medianRssKiB: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(samples: Sample[]): Summary {
  const walls = samples.map((s) => s.wallMs);
  const rss = samples.map((s) => s.maxRssKiB);
  return {
    runs: samples.length,
    medianMs: median(walls),
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    peakRssKiB: Math.max(...rss),
    medianRssKiB: median(rss),
  };
}
