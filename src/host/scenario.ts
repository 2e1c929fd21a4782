/**
 * One run of a filter on sample traffic: the inputs (plain data, so they cross into the worker
 * budget.ts runs the VM in) and the driver that runs them on a ProxyWasmHost.
 */
import { WasmOciError } from '../errors.js';
import type { HeaderPair } from './headers.js';
import { ProxyWasmHost, type HostOptions, type HttpCallStub, type HttpRequestInput, type HttpResponseInput } from './lifecycle.js';
import type { HostReport } from './state.js';

export interface RunScenario {
  rootId?: string;
  vmId?: string;
  pluginName?: string;
  vmConfig?: string;
  pluginConfig?: string;
  properties?: Record<string, string>;
  httpCallResponses?: HttpCallStub[];
  ticks?: number;
  env?: Record<string, string>;
  request: HttpRequestInput;
  response: HttpResponseInput;
}

export interface RunLimits {
  /** Wall-clock budget of each callback into the module, in milliseconds. */
  callbackBudgetMs: number;
  /** Cap on the module's linear memory, in bytes. */
  memoryCapBytes: number;
}

export const DEFAULT_LIMITS: RunLimits = { callbackBudgetMs: 1000, memoryCapBytes: 256 * 1024 * 1024 };

const encoder = new TextEncoder();

export type { HeaderPair, HostReport };

/** Runs the scenario in this thread (no time budget: budget.ts wraps it in a worker). */
export async function executeScenario(bytes: Uint8Array, scenario: RunScenario, options: Pick<HostOptions, 'onEnterCallback' | 'onLeaveCallback' | 'memoryCapBytes' | 'now'> = {}): Promise<HostReport> {
  const hostOptions: HostOptions = { ...options };
  if (scenario.rootId !== undefined) hostOptions.rootId = scenario.rootId;
  if (scenario.vmId !== undefined) hostOptions.vmId = scenario.vmId;
  if (scenario.pluginName !== undefined) hostOptions.pluginName = scenario.pluginName;
  if (scenario.vmConfig !== undefined) hostOptions.vmConfig = encoder.encode(scenario.vmConfig);
  if (scenario.pluginConfig !== undefined) hostOptions.pluginConfig = encoder.encode(scenario.pluginConfig);
  if (scenario.properties !== undefined) hostOptions.properties = scenario.properties;
  if (scenario.httpCallResponses !== undefined) hostOptions.httpCallResponses = scenario.httpCallResponses;
  if (scenario.ticks !== undefined) hostOptions.ticks = scenario.ticks;
  if (scenario.env !== undefined) hostOptions.env = scenario.env;
  const host = await ProxyWasmHost.create(bytes, hostOptions);
  try {
    host.start();
    const stream = host.runStream(scenario.request, scenario.response);
    return host.report([stream]);
  } catch (err) {
    // What the filter did before it failed (its logs above all) goes with the error.
    if (err instanceof WasmOciError) throw new WasmOciError(err.code, err.message, { cause: err, details: { ...err.details, report: host.report() } });
    throw err;
  }
}
