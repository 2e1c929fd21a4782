// undici's internal entry points carry no type declarations; these borrow the public ones.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentImpl: typeof Agent;
  export default AgentImpl;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const DispatcherImpl: { prototype: object };
  export default DispatcherImpl;
}
declare module 'undici/lib/api/index.js' {
  const api: object;
  export default api;
}
declare module 'undici/lib/core/connect.js' {
  import type { buildConnector } from 'undici';
  const buildConnectorImpl: typeof buildConnector;
  export default buildConnectorImpl;
}
declare module 'undici/lib/dispatcher/proxy-agent.js' {
  import type { ProxyAgent } from 'undici';
  const ProxyAgentImpl: typeof ProxyAgent;
  export default ProxyAgentImpl;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolImpl: typeof Pool;
  export default PoolImpl;
}
