import { DEFAULT_FILTER_DIR } from './types.js';
import { normaliseFilterDir } from './filter-file.js';

/** Istio's sidecar injector reads these pod annotations as JSON lists of Volumes and VolumeMounts. */
export const USER_VOLUME_ANNOTATION = 'sidecar.istio.io/userVolume';
export const USER_VOLUME_MOUNT_ANNOTATION = 'sidecar.istio.io/userVolumeMount';
/** The volume name of the ASM article's Deployment. */
export const WORKLOAD_VOLUME_NAME = 'wasmfilters-dir';

export interface WorkloadPatchInput {
  filterDir?: string;
}

/**
 * The strategic-merge patch for a Deployment (or any workload with a pod template) that mounts
 * the agent's node directory into the istio-proxy container. The JSON is the ASM article's,
 * byte for byte with the default directory: `[{"name":"wasmfilters-dir","hostPath":{"path":...}}]`
 * and `[{"mountPath":...,"name":"wasmfilters-dir"}]`.
 */
export function buildWorkloadPatch(input: WorkloadPatchInput = {}): { spec: { template: { metadata: { annotations: Record<string, string> } } } } {
  const dir = normaliseFilterDir(input.filterDir ?? DEFAULT_FILTER_DIR);
  const volume = JSON.stringify([{ name: WORKLOAD_VOLUME_NAME, hostPath: { path: dir } }]);
  const mount = JSON.stringify([{ mountPath: dir, name: WORKLOAD_VOLUME_NAME }]);
  return { spec: { template: { metadata: { annotations: { [USER_VOLUME_ANNOTATION]: volume, [USER_VOLUME_MOUNT_ANNOTATION]: mount } } } } };
}
