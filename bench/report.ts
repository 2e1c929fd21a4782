import { sizeLabel } from './inputs.js';
import { summarize, type Sample, type Summary } from './stats.js';

/** Results model, the DESIGN.md section 6 targets, and the printed table. */

export type ScenarioKind = 'startup' | 'filter-push' | 'filter-pull' | 'multi-pull' | 'push' | 'pull';

export interface ToolRuns {
  tool: string;
  samples: Sample[];
  /** Set when the tool failed; its runs stop there. */
  error?: string;
  summary?: Summary;
}

export interface ScenarioResult {
  kind: ScenarioKind;
  title: string;
  sizeBytes?: number;
  tools: ToolRuns[];
}

export interface TargetResult {
  target: string;
  measured: string;
  pass: boolean | null;
  note?: string;
}

/** DESIGN.md section 6: peak memory under 64 MiB whatever the size. */
export const RSS_LIMIT_KIB = 64 * 1024;

/** The wasm-oci variants of a run: `wasm-oci` alone, or `wasm-oci@node22`... when Node versions are compared. */
export function wasmOciTools(s: ScenarioResult | undefined): string[] {
  return (s?.tools ?? []).map((t) => t.tool).filter((n) => n.startsWith('wasm-oci'));
}

/** `wasm-oci@node22` -> `node -e 0@node22`: each start-up is compared with the same Node. */
export function bareNodeFor(wasmOciTool: string): string {
  return `node -e 0${wasmOciTool.slice('wasm-oci'.length)}`;
}

function tool(s: ScenarioResult | undefined, name: string): Summary | undefined {
  const t = s?.tools.find((x) => x.tool === name);
  return t && !t.error && t.samples.length ? summarize(t.samples) : undefined;
}

function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  return a && b ? a.medianMs / b.medianMs : undefined;
}

const fx = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : `${n.toFixed(digits)}x`);

export function ratios(s: ScenarioResult): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const name of wasmOciTools(s)) {
    const w = tool(s, name);
    switch (s.kind) {
      case 'startup':
        out[`${name} --version / node -e 0`] = ratio(w, tool(s, bareNodeFor(name)));
        break;
      case 'push':
        out[`${name}/curl`] = ratio(w, tool(s, 'curl'));
        out[`${name}/skopeo`] = ratio(w, tool(s, 'skopeo'));
        break;
      case 'pull':
        out[`${name}/curl`] = ratio(w, tool(s, 'curl'));
        out[`skopeo/${name} (speed-up)`] = ratio(tool(s, 'skopeo'), w);
        break;
      case 'multi-pull':
        out[`${name}/10 parallel skopeo`] = ratio(w, tool(s, 'skopeo x10 parallel'));
        break;
      default:
        out[`${name}/skopeo`] = ratio(w, tool(s, 'skopeo'));
    }
  }
  return out;
}

/** One line per target and wasm-oci variant (Node version). */
export function evaluateTargets(results: ScenarioResult[], largestSize: number): TargetResult[] {
  const at = largestSize === 1024 ** 3 ? '' : ` (measured at ${sizeLabel(largestSize)}: 1 GiB was skipped)`;
  const push = results.find((s) => s.kind === 'push' && s.sizeBytes === largestSize);
  const pull = results.find((s) => s.kind === 'pull' && s.sizeBytes === largestSize);
  const st = results.find((s) => s.kind === 'startup');
  const variants = [...new Set(results.flatMap((s) => wasmOciTools(s)))];
  const out: TargetResult[] = [];
  for (const name of variants) {
    const tag = variants.length > 1 ? `[${name.slice('wasm-oci@'.length)}] ` : '';
    const pr = ratio(tool(push, name), tool(push, 'curl'));
    out.push({ target: `${tag}push 1 GiB within 1.05x of curl -T`, measured: `${fx(pr)}${at}`, pass: pr === undefined ? null : pr <= 1.05 });
    const su = ratio(tool(pull, 'skopeo'), tool(pull, name));
    out.push({ target: `${tag}pull 1 GiB at least 2x faster than skopeo`, measured: `${fx(su)} faster${at}`, pass: su === undefined ? null : su >= 2 });
    for (const s of results.filter((x) => x.kind === 'filter-push' || x.kind === 'filter-pull')) {
      const r = ratio(tool(s, name), tool(s, 'skopeo'));
      out.push({ target: `${tag}${s.title} within 2.0x of skopeo`, measured: fx(r), pass: r === undefined ? null : r <= 2 });
    }
    const many = results.find((s) => s.kind === 'multi-pull');
    if (many) {
      const r = ratio(tool(many, name), tool(many, 'skopeo x10 parallel'));
      out.push({ target: `${tag}ten filters in one pull <= 0.5x of 10 parallel skopeo`, measured: fx(r), pass: r === undefined ? null : r <= 0.5 });
    }
    const peaks = results
      .filter((s) => s.kind !== 'startup')
      .map((s) => ({ s, w: tool(s, name) }))
      .filter((x): x is { s: ScenarioResult; w: Summary } => !!x.w);
    const worst = peaks.reduce<{ s: ScenarioResult; w: Summary } | undefined>((a, b) => (!a || b.w.peakRssKiB > a.w.peakRssKiB ? b : a), undefined);
    out.push({
      target: `${tag}peak RSS under 64 MiB at every size`,
      measured: worst ? `max ${(worst.w.peakRssKiB / 1024).toFixed(1)} MiB (${worst.s.title})` : 'n/a',
      pass: worst ? peaks.every((x) => x.w.peakRssKiB < RSS_LIMIT_KIB) : null,
    });
    const sr = ratio(tool(st, name), tool(st, bareNodeFor(name)));
    out.push({ target: `${tag}--version within 1.2x of node -e 0`, measured: fx(sr), pass: sr === undefined ? null : sr <= 1.2 });
  }
  return out;
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/** Pads table rows into columns; a row of one cell is printed as is (the ratio lines). */
function pad(cells: string[][]): string {
  const table = cells.filter((r) => r.length > 1);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return cells
    .map((r) => (r.length === 1 ? r[0]! : r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')))
    .join('\n');
}

/** The table `npm run bench` prints (and the README quotes). */
export function formatTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'tool', 'median s', 'min s', 'max s', 'MiB/s', 'peak RSS MiB']];
  const notes: string[] = [];
  for (const s of results) {
    s.tools.forEach((t, i) => {
      const name = i === 0 ? s.title : '';
      if (t.error || t.samples.length === 0) {
        rows.push([name, t.tool, 'ERROR', '', '', '', '']);
        notes.push(`${s.title} / ${t.tool}: ${(t.error ?? 'no runs').split('\n')[0]}`);
        return;
      }
      const m = summarize(t.samples);
      const rate = s.sizeBytes ? (s.sizeBytes / 1024 ** 2 / (m.medianMs / 1000)).toFixed(0) : '';
      rows.push([name, t.tool, secs(m.medianMs), secs(m.minMs), secs(m.maxMs), rate, (m.peakRssKiB / 1024).toFixed(1)]);
    });
    rows.push([`    ratios of medians: ${Object.entries(ratios(s)).map(([k, v]) => `${k} ${fx(v)}`).join(', ')}`]);
  }
  return pad(rows) + (notes.length ? `\n\nErrors:\n${notes.map((n) => `  ${n}`).join('\n')}` : '');
}

export function formatTargets(targets: TargetResult[]): string {
  return targets
    .map((t) => `${t.pass === null ? 'N/A ' : t.pass ? 'PASS' : 'FAIL'}  ${t.target.padEnd(58)} ${t.measured}${t.note ? ` (${t.note})` : ''}`)
    .join('\n');
}

/** The same table as GitHub markdown, for the README. */
export function formatMarkdown(results: ScenarioResult[]): string {
  const lines = ['| scenario | tool | median s | min s | max s | peak RSS MiB | ratios |', '|---|---|---:|---:|---:|---:|---|'];
  for (const s of results) {
    const r = Object.entries(ratios(s)).map(([k, v]) => `${k} ${fx(v)}`).join('; ');
    s.tools.forEach((t, i) => {
      if (t.error || !t.samples.length) {
        lines.push(`| ${s.title} | ${t.tool} | error | | | | ${i === 0 ? r : ''} |`);
        return;
      }
      const m = summarize(t.samples);
      lines.push(`| ${i === 0 ? s.title : ''} | ${t.tool} | ${secs(m.medianMs)} | ${secs(m.minMs)} | ${secs(m.maxMs)} | ${(m.peakRssKiB / 1024).toFixed(1)} | ${i === 0 ? r : ''} |`);
    });
  }
  return lines.join('\n');
}
