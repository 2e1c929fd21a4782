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
