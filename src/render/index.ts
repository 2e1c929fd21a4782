export { buildResource, renderResource, resourceToYaml } from './render.js';
export { buildWasmPlugin } from './wasmplugin.js';
export { buildEnvoyFilter, localModuleFileName } from './envoyfilter.js';
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
