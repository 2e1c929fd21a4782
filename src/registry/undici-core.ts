import { createRequire } from 'node:module';
import type { Agent as AgentType, Dispatcher } from 'undici';

/**
 * undici's core (Agent and the dispatcher `request` API) without its index: the index also loads
 * undici's fetch, whose cookie module touches `globalThis.Headers` and so loads Node's own bundled
 * copy of undici as well — about 8 MiB of peak RSS and start-up time for nothing we use.
 */
const require = createRequire(import.meta.url);
const AgentImpl = require('undici/lib/dispatcher/agent.js') as typeof AgentType;
const DispatcherImpl = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
const api = require('undici/lib/api/index.js') as object;
// What undici's index does: the request/stream/pipeline API lives on Dispatcher.prototype.
if (!('request' in DispatcherImpl.prototype)) Object.assign(DispatcherImpl.prototype, api);

export const Agent = AgentImpl;
export type Agent = AgentType;
export type { Dispatcher };
