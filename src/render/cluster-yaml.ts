import { Document } from 'yaml';
import type { KubeObject } from './types.js';

/** Several objects as one YAML stream (`---` between documents), as `kubectl apply -f -` reads it. */
export function objectsToYaml(objects: readonly KubeObject[], header?: string): string {
  return objects
    .map((o, i) => {
      const doc = new Document(o);
      if (i === 0 && header !== undefined) doc.commentBefore = header;
      return doc.toString({ lineWidth: 0 });
    })
    .join('---\n');
}

/** Several objects as one JSON document: a v1 List, which kubectl apply also takes. */
export function asKubeList(objects: readonly KubeObject[]): { apiVersion: 'v1'; kind: 'List'; items: KubeObject[] } {
  return { apiVersion: 'v1', kind: 'List', items: [...objects] };
}

/** The workload patch as YAML, headed by how to apply it. */
export function workloadPatchToYaml(patch: object): string {
  const doc = new Document(patch);
  doc.commentBefore = ' Mounts the wasm-oci agent\'s node directory into the Istio sidecar. Apply with:\n kubectl patch deployment NAME --type strategic --patch-file this-file.yaml';
  return doc.toString({ lineWidth: 0 });
}
