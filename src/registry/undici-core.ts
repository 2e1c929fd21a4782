import AgentImpl from 'undici/lib/dispatcher/agent.js';
import DispatcherImpl from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import type { Agent as AgentType, Dispatcher } from 'undici';

/*
 * undici's core (Agent and the dispatcher `request` API) without its index: the index also loads
 * undici's fetch, whose cookie module touches `globalThis.Headers` and so loads Node's own bundled
 * copy of undici as well — about 8 MiB of peak RSS and start-up time for nothing we use.
 */
// What undici's index does: the request/stream/pipeline API lives on Dispatcher.prototype.
if (!('request' in DispatcherImpl.prototype)) Object.assign(DispatcherImpl.prototype, api);

export const Agent = AgentImpl;
export type Agent = AgentType;
export type { Dispatcher };
