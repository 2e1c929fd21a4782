import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Volume } from 'kubernetes-models/v1/Volume';
import { VolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';

/**
 * Validates plain objects against the Kubernetes OpenAPI schema as kubernetes-models compiles it
 * (types, required fields, enums, quantity and int-or-string formats). Throws on the first
 * invalid object with the schema's own message.
 */
const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
};

export function validateKubeObject(obj: any): void {
  const model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!model) throw new Error(`no schema here for ${obj.apiVersion} ${obj.kind}`);
  new model(obj).validate();
}

export function validateVolume(obj: unknown): void {
  new Volume(obj as any).validate();
}

export function validateVolumeMount(obj: unknown): void {
  new VolumeMount(obj as any).validate();
}
