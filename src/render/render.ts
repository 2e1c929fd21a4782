import { Document } from 'yaml';
import { buildAsmFilterDeployment } from './asm-filter-deployment.js';
import { buildEnvoyFilter } from './envoyfilter.js';
import { SOURCE_ANNOTATION, type KubeResource, type RenderInput } from './types.js';
import { validateRenderInput } from './validate.js';
import { buildWasmPlugin } from './wasmplugin.js';

/** The resource as plain data (what `--format json` prints). Throws E_INVALID_INPUT on bad input. */
export function buildResource(input: RenderInput): KubeResource {
  validateRenderInput(input);
  switch (input.kind) {
    case 'wasmplugin':
      return buildWasmPlugin(input);
    case 'envoyfilter':
      return buildEnvoyFilter(input);
    case 'asmfilterdeployment':
      return buildAsmFilterDeployment(input);
  }
}

/** A resource as a YAML document, headed by a comment naming the artifact it pins. */
export function resourceToYaml(resource: KubeResource): string {
  const doc = new Document(resource);
  const source = resource.metadata.annotations?.[SOURCE_ANNOTATION];
  if (source) doc.commentBefore = ` Rendered by wasm-oci from ${source}`;
  // Long JSON strings (parameters, configuration.value) stay on one line: easier to read and diff.
  return doc.toString({ lineWidth: 0 });
}

/** The resource for `input` as YAML. */
export function renderResource(input: RenderInput): string {
  return resourceToYaml(buildResource(input));
}
