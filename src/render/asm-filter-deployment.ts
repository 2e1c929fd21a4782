import { WasmOciError } from '../errors.js';
import { imageFacts, pluginConfigString } from './source.js';
import { DEFAULT_WORKLOAD_KIND, SOURCE_ANNOTATION, type KubeResource, type RenderInput } from './types.js';

/**
 * Alibaba Cloud Service Mesh `ASMFilterDeployment` (istio.alibabacloud.com/v1beta1), in the shape
 * of the ASM article's example. `filter.image` is `registry/repo:tag@sha256:...`: the article
 * uses a bare tag, but the controller pulls with oras, whose reference parser accepts
 * `name:tag@digest` and fetches by the digest; the tag stays for people reading the resource.
 * A tag alone would let a re-pushed tag change what runs without the resource changing.
 */
export function buildAsmFilterDeployment(input: RenderInput): KubeResource {
  const facts = imageFacts(input);
  if (!input.selector || Object.keys(input.selector).length === 0) {
    throw new WasmOciError('E_INVALID_INPUT', 'an ASMFilterDeployment needs workload labels', {
      hint: 'Add --selector key=value for the workload the filter is mounted into, e.g. --selector app=details --selector version=v1',
    });
  }
  const filter: Record<string, unknown> = {};
  if (input.pluginConfig !== undefined) filter.parameters = pluginConfigString(input.pluginConfig);
  filter.image = facts.pinned;
  if (input.pullSecret) filter.imagePullOptions = { pullSecret: input.pullSecret };
  if (input.rootId !== undefined) filter.rootID = input.rootId;
  // The controller's id is NAME.NAMESPACE; the article's resource has no namespace and gets ".default".
  filter.id = `${input.name}.${input.namespace ?? 'default'}`;
  return {
    apiVersion: 'istio.alibabacloud.com/v1beta1',
    kind: 'ASMFilterDeployment',
    metadata: {
      name: input.name,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      annotations: { [SOURCE_ANNOTATION]: facts.pinned },
    },
    spec: {
      workload: { kind: input.workloadKind ?? DEFAULT_WORKLOAD_KIND, labels: { ...input.selector } },
      filter,
    },
  };
}
