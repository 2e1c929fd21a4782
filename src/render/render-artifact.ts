import type { ReadOnlyTarget } from '../content/interfaces.js';
import { loadRenderFacts, type LoadRenderFactsOptions, type RenderFacts } from './artifact-facts.js';
import { buildResource, resourceToYaml } from './render.js';
import type { KubeResource, RenderInput } from './types.js';

export type RenderArtifactOptions = Omit<RenderInput, 'manifestDigest'> & LoadRenderFactsOptions;

/**
 * Renders the resource for an artifact in a registry or layout: the manifest digest and the
 * default root id and module name come from the artifact; explicit options win.
 */
export async function renderArtifact(
  target: ReadOnlyTarget,
  reference: string,
  options: RenderArtifactOptions,
): Promise<{ facts: RenderFacts; input: RenderInput; resource: KubeResource; yaml: string }> {
  const { signal, onWarning, ...rest } = options;
  const facts = await loadRenderFacts(target, reference, { signal, onWarning });
  const input: RenderInput = { ...rest, manifestDigest: facts.manifestDigest };
  if (input.rootId === undefined && facts.rootId !== undefined) input.rootId = facts.rootId;
  if (input.moduleFileName === undefined && facts.moduleFileName !== undefined) input.moduleFileName = facts.moduleFileName;
  const resource = buildResource(input);
  return { facts, input, resource, yaml: resourceToYaml(resource) };
}
