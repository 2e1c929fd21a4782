/**
 * Running a filter under bounds (issue 12 item 1): the VM runs in a worker thread; every callback
 * into it has a wall-clock budget, and a callback that overruns it (an endless loop) gets the
 * worker terminated, with an error naming the callback. The linear memory cap is checked by the
 * host after every callback and host call (lifecycle.ts); the worker's JS heap is capped too.
 * A trap comes back with the callback and the Wasm stack (lifecycle.ts trapError).
 */
import { Worker } from 'node:worker_threads';
import { WasmOciError, type ErrorCode } from '../errors.js';
import { DEFAULT_LIMITS, type RunLimits, type RunScenario } from './scenario.js';
import type { HostReport } from './state.js';

type WorkerMessage =
  | { type: 'enter'; callback: string }
  | { type: 'leave'; callback: string }
  | { type: 'done'; report: HostReport }
  | { type: 'error'; error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } };

/** The worker's entry: next to this file in dist/src/host, and in the CLI bundle (dist/cli). */
const WORKER_URL = new URL('./vm-worker.js', import.meta.url);

/** Runs the scenario on the module in a worker, under the limits. */
export function runFilterInWorker(bytes: Uint8Array, scenario: RunScenario, limits: Partial<RunLimits> = {}): Promise<HostReport> {
  const { callbackBudgetMs, memoryCapBytes } = { ...DEFAULT_LIMITS, ...limits };
  return new Promise<HostReport>((resolve, reject) => {
    const worker = new Worker(WORKER_URL, {
      workerData: { bytes, scenario, memoryCapBytes },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'enter') {
        if (timer !== undefined) clearTimeout(timer);
        const callback = msg.callback;
        timer = setTimeout(() => {
          finish(() => reject(new WasmOciError('E_WASM_TRAP', `${callback} ran past its ${callbackBudgetMs} ms budget and was stopped (an endless loop?)`, {
            details: { kind: 'timeout', callback, budgetMs: callbackBudgetMs },
            hint: 'raise the budget with --callback-budget MS if the filter is only slow',
          })));
        }, callbackBudgetMs);
      } else if (msg.type === 'leave') {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      } else if (msg.type === 'done') {
        finish(() => resolve(msg.report));
      } else {
        const e = msg.error;
        const opts: { hint?: string; details?: Record<string, unknown> } = {};
        if (e.hint !== undefined) opts.hint = e.hint;
        if (e.details !== undefined) opts.details = e.details;
        finish(() => reject(new WasmOciError(e.code, e.message, opts)));
      }
    });
    worker.on('error', (err) => {
      const message = /ERR_WORKER_OUT_OF_MEMORY/.test(String((err as NodeJS.ErrnoException).code)) ? 'the filter exhausted the host heap' : err.message;
      finish(() => reject(new WasmOciError('E_WASM_TRAP', message, { cause: err, details: { kind: 'worker' } })));
    });
    worker.on('exit', (code) => {
      finish(() => reject(new WasmOciError('E_INTERNAL', `the filter's worker exited (${code}) before reporting`)));
    });
  });
}
