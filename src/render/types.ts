/** What `render` needs to write a deployable resource for a Wasm artifact. */

export const RENDER_KINDS = ['wasmplugin', 'envoyfilter', 'asmfilterdeployment'] as const;
export type RenderKind = (typeof RENDER_KINDS)[number];

/** Kinds rendered for the cluster rather than for one artifact: they take no reference. */
export const CLUSTER_RENDER_KINDS = ['agent', 'workload-patch'] as const;
export type ClusterRenderKind = (typeof CLUSTER_RENDER_KINDS)[number];

export const PLUGIN_PHASES = ['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE'] as const;
export type PluginPhase = (typeof PLUGIN_PHASES)[number];

export const IMAGE_PULL_POLICIES = ['IfNotPresent', 'Always'] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];

/** Where the ASM article's controller (asmwasm-controller) mounts pulled filters on each node. */
export const DEFAULT_FILTER_DIR = '/var/local/lib/wasm-filters';
export const DEFAULT_WORKLOAD_KIND = 'Deployment';

/** Annotation recording the exact artifact a resource was rendered from. */
export const SOURCE_ANNOTATION = 'wasm-oci.io/source';

export interface RenderInput {
  kind: RenderKind;
  /** `registry/repo:tag` as the user gave it, without a scheme. */
  image: string;
  /**
   * `sha256:...` of the MANIFEST. Istio's `sha256` for an `oci://` URL is checked against the
   * manifest digest of the pulled image, never against the module's own sha256.
   */
  manifestDigest: string;
  name: string;
  namespace?: string;
  selector?: Record<string, string>;
  rootId?: string;
  pluginConfig?: unknown;
  pullSecret?: string;
  imagePullPolicy?: ImagePullPolicy;
  phase?: PluginPhase;
  priority?: number;
  /** Directory of the module on the node (EnvoyFilter); default /var/local/lib/wasm-filters. */
  filterDir?: string;
  /**
   * Module file name in the artifact (its title). The EnvoyFilter's local file no longer follows
   * it: it is the agent's NAME.wasm (filter-file.ts).
   */
  moduleFileName?: string;
  /** ASMFilterDeployment workload kind; default Deployment. */
  workloadKind?: string;
}

/** A Kubernetes resource as plain data, ready for YAML or JSON. */
export interface KubeResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Any Kubernetes object as plain data (ConfigMaps have `data`, ServiceAccounts no spec). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}
