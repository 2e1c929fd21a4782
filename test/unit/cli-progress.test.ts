// TransferDisplay on a fake terminal: what a user sees for a blob (name, bytes done / total, rate,
// then a done mark), that fast transfers still draw, that nothing is drawn off a terminal, and
// that a terminal reporting 0 columns (a pty whose size was never set) does not hang ora.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CliContext, type CliIO } from '../../src/cli/context.js';
import { formatBytes, formatRate, pastTense, progressLine, TransferDisplay } from '../../src/cli/progress.js';
import type { Descriptor } from '../../src/oci/types.js';

const MiB = 1024 * 1024;
const blob: Descriptor = {
  mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 4 * MiB,
  annotations: { 'org.opencontainers.image.title': 'plugin.wasm' },
};

/** A writable that looks like a tty.WriteStream to ora; it fails loudly instead of growing forever. */
function fakeTerminal(columns: number): { stream: Writable & Record<string, unknown>; text(): string } {
  const chunks: string[] = [];
  let bytes = 0;
  const stream = new Writable({
    write(chunk, _enc, cb) {
      bytes += chunk.length;
      if (bytes > 1_000_000) throw new Error('runaway terminal output (ora clearing an unbounded number of lines?)');
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & Record<string, unknown>;
  Object.assign(stream, {
    isTTY: true,
    columns,
    rows: 24,
    cursorTo(x: number) { stream.write(`\x1b[${x + 1}G`); return true; },
    moveCursor(_dx: number, dy: number) { if (dy < 0) stream.write(`\x1b[${-dy}A`); return true; },
    clearLine() { stream.write('\x1b[0K'); return true; },
  });
  return { stream, text: () => chunks.join('') };
}

function contextOn(stderr: Writable, env: NodeJS.ProcessEnv = { NO_COLOR: '1' }, tty = true): CliContext {
  const io: CliIO = { stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr: stderr as CliIO['stderr'], stdin: process.stdin, env, cwd: process.cwd() };
  return new CliContext(io, { format: 'text', tty });
}

const strip = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

test('a blob shows name, bytes done / total and rate while moving, then a persisted ✓ line with size and rate', async () => {
  const term = fakeTerminal(0);
  let clock = 10_000;
  const display = await TransferDisplay.create(contextOn(term.stream), 'Uploading', 'Preparing', { doneOnFullSize: false, now: () => clock });
  display.onProgress(blob, 1 * MiB);
  clock += 50;
  display.onProgress(blob, 1.5 * MiB); // within 100 ms of the last draw: not drawn
  clock += 450;
  display.onProgress(blob, 2 * MiB);
  clock += 500;
  display.onDone(blob, 'Uploaded');
  display.onDone(blob, 'Uploaded'); // a second completion of the same digest prints nothing more
  display.stop();
  const out = strip(term.text());
  assert.match(out, /Uploading plugin\.wasm {2}1\.0 MiB \/ 4\.0 MiB {2}1000 MiB\/s/, 'first progress is drawn at once');
  assert.doesNotMatch(out, /1\.5 MiB \/ 4\.0 MiB/, 'redraws are throttled');
  assert.match(out, /Uploading plugin\.wasm {2}2\.0 MiB \/ 4\.0 MiB {2}4\.0 MiB\/s/);
  assert.equal(out.match(/✓ Uploaded {3}plugin\.wasm {2}4\.0 MiB {2}4\.0 MiB\/s/g)?.length, 1, 'one done line with size and average rate');
  assert.doesNotMatch(term.text(), /\x1b\[3\dm|\x1b\[2m/, 'NO_COLOR: no colour codes from us or from ora');
});

test('a transfer finishing within one frame still draws its bytes line and its done line', async () => {
  const term = fakeTerminal(120);
  let clock = 0;
  const display = await TransferDisplay.create(contextOn(term.stream), 'Downloading', 'Resolving', { now: () => clock });
  clock = 3;
  display.onProgress(blob, blob.size); // pull has no per-blob completion callback: full size means done
  display.onDone(blob, 'Downloaded');
  display.stop();
  const out = strip(term.text());
  assert.match(out, /Downloading plugin\.wasm {2}4\.0 MiB \/ 4\.0 MiB/);
  assert.equal(out.match(/✓ Downloaded plugin\.wasm {2}4\.0 MiB/g)?.length, 1);
});

test('colours follow FORCE_COLOR on the terminal', async () => {
  const term = fakeTerminal(80);
  const display = await TransferDisplay.create(contextOn(term.stream, { FORCE_COLOR: '1' }), 'Uploading', 'x', { doneOnFullSize: false });
  display.onProgress(blob, 1);
  display.onDone(blob, 'Uploaded');
  display.stop();
  assert.match(term.text(), /\x1b\[32m✓\x1b\[39m/);
});

test('not interactive (--no-tty, or stderr not a terminal): nothing is written', async () => {
  for (const [tty, isTTY] of [[false, true], [true, false]] as const) {
    const term = fakeTerminal(80);
    term.stream.isTTY = isTTY;
    const display = await TransferDisplay.create(contextOn(term.stream, {}, tty), 'Uploading', 'Preparing');
    display.onProgress(blob, 1);
    display.onDone(blob, 'Uploaded');
    display.stop();
    assert.equal(term.text(), '', `tty flag ${tty}, isTTY ${isTTY}`);
  }
});

test('CI=true and TERM=dumb count as not interactive', () => {
  const term = fakeTerminal(80);
  assert.equal(contextOn(term.stream, { CI: 'true' }).interactive, false);
  assert.equal(contextOn(term.stream, { TERM: 'dumb' }).interactive, false);
  assert.equal(contextOn(term.stream, {}).interactive, true);
});

test('formatting helpers', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(300 * MiB), '300 MiB');
  assert.equal(formatRate(MiB, 500), '2.0 MiB/s');
  assert.equal(formatRate(10, 0), '9.8 KiB/s', 'no division by zero');
  assert.equal(progressLine('Uploading', blob, MiB, 1000), 'Uploading plugin.wasm  1.0 MiB / 4.0 MiB  1.0 MiB/s');
  assert.equal(pastTense('Uploading'), 'Uploaded');
  assert.equal(pastTense('Copying'), 'Copied');
  assert.equal(pastTense('Downloading'), 'Downloaded');
});
