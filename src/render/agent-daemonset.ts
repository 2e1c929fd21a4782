import { WasmOciError } from '../errors.js';
import { agentConfigYaml, validateAgentFilters, type AgentFilter } from './agent-filters.js';
import { normaliseFilterDir } from './filter-file.js';
import { DEFAULT_FILTER_DIR, type KubeObject } from './types.js';
import { validateNamespace, validateResourceName } from './validate.js';

/** What `render --kind agent` needs: the filters and how the agent runs. */
export interface AgentRenderInput {
  /** Image that has `wasm-oci` on its PATH. */
  agentImage: string;
  filters: AgentFilter[];
  /** Name of the DaemonSet, its ConfigMap and its ServiceAccount; default wasm-oci-agent. */
  name?: string;
  namespace?: string;
  /** Node directory the agent writes and the sidecars mount; default /var/local/lib/wasm-filters. */
  filterDir?: string;
  /** The agent's --interval (a duration such as 30s); default 30s. */
  interval?: string;
  /**
   * A non-root uid to run as, for nodes where the filter directory is provisioned writable by it.
   * Without it the agent runs as uid 0 with every capability dropped (see buildAgentDaemonSet).
   */
  runAsUser?: number;
}

export const DEFAULT_AGENT_NAME = 'wasm-oci-agent';
export const DEFAULT_AGENT_INTERVAL = '30s';
export const AGENT_PORT = 9090;
/** Where the ConfigMap is mounted; kubelet puts each key (filters.yaml) in it as a file. */
export const AGENT_CONFIG_MOUNT = '/etc/wasm-oci/config';
/** Where the pull secrets are projected, one folder per Secret: NAME/.dockerconfigjson. */
export const AGENT_PULL_SECRETS_MOUNT = '/etc/wasm-oci/pull-secrets';
export const AGENT_CONFIG_KEY = 'filters.yaml';

/**
 * V8 settings of the agent's Node, given at start (NODE_OPTIONS: a semi-space size set later
 * from inside the process has no effect). A 1 MiB semi-space keeps the young generation at
 * 2 MiB instead of letting it grow to 32 MiB. `npm run bench -- agent` (bench/agent.ts, which runs
 * the agent with exactly this value) measured 10 idle filters over 5 minutes at a peak RSS of
 * 81.0 MiB with it and 115.0 MiB without (BENCH_AGENT_NODE_OPTIONS=, same machine, same day);
 * CPU per idle interval 31 ms against 28 ms. Transfers are not slowed: the library collects the
 * young generation every 2 MiB moved anyway (src/content/gc-pacer.ts).
 */
export const AGENT_NODE_OPTIONS = '--max-semi-space-size=1';

/**
 * The agent's peak RSS as `npm run bench -- agent` measured it (bench/agent.ts; run recorded in
 * bench/results/bench-agent-20261203-084021.json and the README): 81.0 MiB, VmHWM over the whole
 * life of one agent with 10 tag filters of 1 MiB (start-up and first fetch included), 313 idle
 * intervals, probed and scraped as this DaemonSet is, on Node 20.20.2 with AGENT_NODE_OPTIONS.
 * Of that, 44 MiB are pages of the node binary (a bare `node` is 41 MiB there). Measure again
 * and update this figure when the agent, its dependencies or the Node version change.
 */
export const AGENT_MEASURED_PEAK_RSS_MIB = 81;

const roundUpMi = (mib: number): string => `${Math.ceil(mib / 8) * 8}Mi`;

/**
 * Requests and limits, sized from the measured peak: the memory request is the peak plus 25%
 * (what the pod uses, for the scheduler), the limit twice the peak: room to fetch a module much
 * larger than 1 MiB (the CLI's pull of 64 MiB peaks at 80 MiB, README "Performance"), for V8's
 * heap to grow before a full collection, and for the page cache of the files written, which the
 * kernel charges to the pod's memory cgroup. CPU: the bench measured 31 ms of CPU per interval
 * of 10 HEADs, so at 30 s and 20 filters about 2 millicores; 10m covers the fetches as well.
 */
export const AGENT_RESOURCES = {
  requests: { cpu: '10m', memory: roundUpMi(AGENT_MEASURED_PEAK_RSS_MIB * 1.25) },
  limits: { memory: roundUpMi(AGENT_MEASURED_PEAK_RSS_MIB * 2) },
} as const;

const DURATION_RE = /^[1-9][0-9]*(ms|s|m|h)$/;
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

function invalid(message: string, hint?: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', message, hint ? { hint } : {});
}

export function validateAgentRenderInput(input: AgentRenderInput): void {
  if (input.agentImage.trim() === '' || /\s/.test(input.agentImage)) {
    throw invalid(`agent image "${input.agentImage}" is not an image reference`, 'For example: --agent-image registry.example.com/tools/wasm-oci:0.1.0');
  }
  validateAgentFilters(input.filters);
  const name = input.name ?? DEFAULT_AGENT_NAME;
  validateResourceName(name);
  // A DaemonSet's pods are named NAME-xxxxx and its label value is NAME: both cap it at 63.
  if (name.length > 57) throw invalid(`name "${name}" is longer than 57 characters, too long for a DaemonSet whose pods are NAME-xxxxx`);
  if (input.namespace !== undefined) validateNamespace(input.namespace);
  if (input.filterDir !== undefined && !input.filterDir.startsWith('/')) {
    throw invalid(`filter dir "${input.filterDir}" is not an absolute path`, 'The directory on the node, e.g. /var/local/lib/wasm-filters');
  }
  if (input.interval !== undefined && !DURATION_RE.test(input.interval)) {
    throw invalid(`interval "${input.interval}" is not a duration`, 'For example: --interval 30s, 5m');
  }
  if (input.runAsUser !== undefined && (!Number.isInteger(input.runAsUser) || input.runAsUser <= 0 || input.runAsUser > 2 ** 31 - 1)) {
    throw invalid(`run-as-user ${input.runAsUser} is not a non-root uid`, 'Give a uid above 0 that owns the filter directory on the nodes');
  }
}

function metadata(input: AgentRenderInput, labels: Record<string, string>): KubeObject['metadata'] {
  return {
    name: input.name ?? DEFAULT_AGENT_NAME,
    ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
    labels: { ...labels },
  };
}

/**
 * The agent's three objects, in the order `kubectl apply` wants them: a ServiceAccount with no
 * permissions (the agent reads only mounted volumes, so its token is not even mounted), the
 * ConfigMap the agent watches, and the DaemonSet.
 */
export function buildAgentObjects(input: AgentRenderInput): KubeObject[] {
  validateAgentRenderInput(input);
  const name = input.name ?? DEFAULT_AGENT_NAME;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'wasm-filter-agent' };
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadata(input, labels),
    automountServiceAccountToken: false,
  };
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(input, labels),
    data: { [AGENT_CONFIG_KEY]: agentConfigYaml(input.filters) },
  };
  return [serviceAccount, configMap, buildAgentDaemonSet(input, labels)];
}

function buildAgentDaemonSet(input: AgentRenderInput, labels: Record<string, string>): KubeObject {
  const name = input.name ?? DEFAULT_AGENT_NAME;
  const dir = normaliseFilterDir(input.filterDir ?? DEFAULT_FILTER_DIR);
  const secrets = [...new Set(input.filters.flatMap((f) => (f.pullSecret !== undefined ? [f.pullSecret] : [])))].sort();
  const args = [
    '--config', AGENT_CONFIG_MOUNT,
    '--output', dir,
    ...(secrets.length > 0 ? ['--pull-secrets', AGENT_PULL_SECRETS_MOUNT] : []),
    // Probes come from the kubelet to the pod IP: the listener cannot stay on loopback.
    '--listen', `0.0.0.0:${AGENT_PORT}`,
    '--interval', input.interval ?? DEFAULT_AGENT_INTERVAL,
    '--log-format', 'json',
  ];
  const volumeMounts: Record<string, unknown>[] = [
    { name: 'wasm-filters', mountPath: dir },
    { name: 'config', mountPath: AGENT_CONFIG_MOUNT, readOnly: true },
  ];
  const volumes: Record<string, unknown>[] = [
    // DirectoryOrCreate: kubelet makes the directory (root-owned, 0755) on a fresh node.
    { name: 'wasm-filters', hostPath: { path: dir, type: 'DirectoryOrCreate' } },
    { name: 'config', configMap: { name } },
  ];
  if (secrets.length > 0) {
    volumeMounts.push({ name: 'pull-secrets', mountPath: AGENT_PULL_SECRETS_MOUNT, readOnly: true });
    // One projected volume lays every Secret out as the agent's --pull-secrets reads it:
    // NAME/.dockerconfigjson. A missing Secret keeps the pod from starting, which names it.
    volumes.push({
      name: 'pull-secrets',
      projected: {
        // Group-readable so a non-root uid with fsGroup reads them; uid 0 reads them as owner.
        defaultMode: 0o440,
        sources: secrets.map((s) => ({
          secret: { name: s, items: [{ key: DOCKER_CONFIG_JSON_KEY, path: `${s}/${DOCKER_CONFIG_JSON_KEY}` }] },
        })),
      },
    });
  }
  // Node has no need of /tmp, but a small writable one keeps a library that wants it from failing
  // on the read-only root file system.
  volumeMounts.push({ name: 'tmp', mountPath: '/tmp' });
  volumes.push({ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } });

  // Privilege: kubelet creates the hostPath directory root-owned 0755, so only uid 0 can write it
  // on a fresh node. uid 0 with every capability dropped (no CAP_DAC_OVERRIDE, CAP_CHOWN, ...)
  // writes only what it owns or what the mode bits let it, on a read-only root file system, with
  // no escalation: the one privilege left is writing that directory. Where the nodes provide the
  // directory owned by another uid, --run-as-user makes the pod non-root.
  const identity =
    input.runAsUser !== undefined
      ? { runAsNonRoot: true, runAsUser: input.runAsUser, runAsGroup: input.runAsUser }
      : { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 };
  const container = {
    name: 'agent',
    image: input.agentImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['wasm-oci', 'agent'],
    args,
    env: [{ name: 'NODE_OPTIONS', value: AGENT_NODE_OPTIONS }],
    ports: [{ name: 'http', containerPort: AGENT_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    resources: { requests: { ...AGENT_RESOURCES.requests }, limits: { ...AGENT_RESOURCES.limits } },
    securityContext: {
      ...identity,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata(input, labels),
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          ...(input.runAsUser !== undefined ? { securityContext: { fsGroup: input.runAsUser } } : {}),
          serviceAccountName: name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // Sidecars on tainted nodes need their filters too, as kube-proxy-style node agents do.
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 30,
          containers: [container],
          volumes,
        },
      },
    },
  };
}
