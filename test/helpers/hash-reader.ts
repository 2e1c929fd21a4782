import { Worker } from 'node:worker_threads';

/** What a tight-loop reader saw of one file. */
export interface ReaderTally {
  /** Whole-file reads that returned bytes. */
  reads: number;
  /** Reads that found no file (ENOENT). */
  missing: number;
  /** `sha256:<hex>` of each read's bytes -> how many reads saw exactly those bytes. */
  byHash: Record<string, number>;
}

export interface HashReader {
  /** Reads so far (approximate: read without stopping the loop). */
  readsSoFar(): number;
  stop(): Promise<ReaderTally>;
}

// In a worker thread, so the loop is truly tight (synchronous reads back to back) and the test's
// own event loop, which polls the agent, is never starved by it.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const flags = new Int32Array(workerData.shared);
const byHash = {};
let reads = 0;
let missing = 0;
while (Atomics.load(flags, 0) === 0) {
  let bytes;
  try {
    bytes = readFileSync(workerData.file);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    missing++;
    continue;
  }
  const h = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  byHash[h] = (byHash[h] || 0) + 1;
  reads++;
  Atomics.store(flags, 1, reads);
}
parentPort.postMessage({ reads, missing, byHash });
`;

/** Starts reading `file` whole and hashing it, over and over, until `stop()`. */
export function startHashReader(file: string): HashReader {
  const shared = new SharedArrayBuffer(8);
  const flags = new Int32Array(shared);
  const worker = new Worker(WORKER, { eval: true, workerData: { file, shared } });
  const result = new Promise<ReaderTally>((resolve, reject) => {
    worker.once('message', (m: ReaderTally) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the reader exited (${code}) before reporting`)));
  });
  result.catch(() => {});
  return {
    readsSoFar: () => Atomics.load(flags, 1),
    async stop() {
      Atomics.store(flags, 0, 1);
      const tally = await result;
      await worker.terminate();
      return tally;
    },
  };
}
