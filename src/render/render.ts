import { Document } from 'yaml';
import { buildAsmFilterDeployment } from './asm-filter-deployment.js';
import { buildEnvoyFilter } from './envoyfilter.js';
import type { KubeResource, RenderInput } from './types.js';
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

/** The resource as a YAML document, with a comment naming the artifact it pins. */
export function renderResource(input: RenderInput): string {
  const resource = buildResource(input);
  const doc = new Document(resource);
  doc.commentBefore = ` Rendered by wasm-oci from ${input.image.split('@')[0]}@${input.manifestDigest}`;
  // Long JSON strings (parameters, configuration.value) stay on one line: easier to read and diff.
  return doc.toString({ lineWidth: 0 });
}
