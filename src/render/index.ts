export { buildResource, renderResource, resourceToYaml } from './render.js';
export { buildWasmPlugin } from './wasmplugin.js';
export { buildEnvoyFilter } from './envoyfilter.js';
export { filterFilePath } from './filter-file.js';
export { buildAgentObjects, validateAgentRenderInput, AGENT_RESOURCES, AGENT_NODE_OPTIONS, type AgentRenderInput } from './agent-daemonset.js';
export { parseFilterFlag, validateAgentFilters, agentConfigYaml, type AgentFilter } from './agent-filters.js';
export { buildWorkloadPatch, type WorkloadPatchInput } from './workload-patch.js';
export { objectsToYaml, workloadPatchToYaml, asKubeList } from './cluster-yaml.js';
export { buildAsmFilterDeployment } from './asm-filter-deployment.js';
export { loadRenderFacts, type RenderFacts } from './artifact-facts.js';
export { renderArtifact, type RenderArtifactOptions } from './render-artifact.js';
export {
  parseSelector,
  loadPluginConfig,
  validateResourceName,
  validateNamespace,
  validateLabels,
  validateRenderInput,
} from './validate.js';
export * from './types.js';
