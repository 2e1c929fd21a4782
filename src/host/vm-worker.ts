/**
 * The worker thread a filter runs in (budget.ts): it runs the scenario and reports each callback
 * it enters and leaves, so the parent can stop it when one overruns its budget.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WasmOciError } from '../errors.js';
import { executeScenario, type RunScenario } from './scenario.js';

interface WorkerInput {
  bytes: Uint8Array;
  scenario: RunScenario;
  memoryCapBytes: number;
}

const port = parentPort!;
const input = workerData as WorkerInput;

try {
  const report = await executeScenario(input.bytes, input.scenario, {
    memoryCapBytes: input.memoryCapBytes,
    onEnterCallback: (callback) => port.postMessage({ type: 'enter', callback }),
    onLeaveCallback: (callback) => port.postMessage({ type: 'leave', callback }),
  });
  port.postMessage({ type: 'done', report });
} catch (err) {
  if (err instanceof WasmOciError) {
    port.postMessage({ type: 'error', error: { code: err.code, message: err.message, hint: err.hint, details: err.details } });
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({ type: 'error', error: { code: 'E_INTERNAL', message: e.message, details: { stack: e.stack } } });
  }
}
