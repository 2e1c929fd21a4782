import { Command, InvalidArgumentError, Option } from 'commander';
import { WasmOciError } from '../../errors.js';
import {
  CLUSTER_RENDER_KINDS,
  IMAGE_PULL_POLICIES,
  PLUGIN_PHASES,
  RENDER_KINDS,
  type ClusterRenderKind,
  type ImagePullPolicy,
  type PluginPhase,
  type RenderKind,
} from '../../render/types.js';
import { loadPluginConfig, parseImage, parseSelector } from '../../render/validate.js';
import type { CliContext } from '../context.js';
import { addTargetOptions, collect, type TargetFlags } from '../options.js';
import { openTarget, requireRef } from '../target.js';

interface RenderFlags extends TargetFlags {
  kind: RenderKind | ClusterRenderKind;
  filter?: string[];
  agentImage?: string;
  interval?: string;
  runAsUser?: number;
  image?: string;
  name?: string;
  namespace?: string;
  selector?: string[];
  rootId?: string;
  pluginConfig?: string;
  pullSecret?: string;
  imagePullPolicy?: ImagePullPolicy;
  phase?: PluginPhase;
  priority?: number;
  filterDir?: string;
  workloadKind?: string;
}

function integerFor(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`${flag} needs an integer.`);
    return n;
  };
}

function isClusterKind(kind: string): kind is ClusterRenderKind {
  return (CLUSTER_RENDER_KINDS as readonly string[]).includes(kind);
}

/** `--kind agent` and `--kind workload-patch`: objects for the cluster, built from flags alone. */
async function renderClusterKind(ctx: CliContext, flags: RenderFlags & { kind: ClusterRenderKind }): Promise<void> {
  const [{ buildWorkloadPatch }, { buildAgentObjects }, { parseFilterFlag }, yaml] = await Promise.all([
    import('../../render/workload-patch.js'),
    import('../../render/agent-daemonset.js'),
    import('../../render/agent-filters.js'),
    // yaml (a quarter of the bundle) is loaded only by the command that prints YAML.
    import('../../render/cluster-yaml.js'),
  ]);
  if (flags.kind === 'workload-patch') {
    const patch = buildWorkloadPatch(flags.filterDir !== undefined ? { filterDir: flags.filterDir } : {});
    if (ctx.format === 'json') ctx.json(patch);
    else ctx.io.stdout.write(yaml.workloadPatchToYaml(patch));
    return;
  }
  if (!flags.agentImage) {
    throw new WasmOciError('E_USAGE', '--kind agent needs --agent-image: the image the DaemonSet runs (one with wasm-oci on its PATH)', {
      hint: 'Add --agent-image registry.example.com/tools/wasm-oci:0.1.0',
    });
  }
  if (!flags.filter || flags.filter.length === 0) {
    throw new WasmOciError('E_USAGE', '--kind agent needs at least one --filter NAME=IMAGE', {
      hint: 'For example: --filter example=registry.example.com/filters/example:v0.1',
    });
  }
  const filters = flags.filter.map(parseFilterFlag).map((f) =>
    f.pullSecret === undefined && flags.pullSecret !== undefined ? { ...f, pullSecret: flags.pullSecret } : f,
  );
  const objects = buildAgentObjects({
    agentImage: flags.agentImage,
    filters,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.filterDir !== undefined ? { filterDir: flags.filterDir } : {}),
    ...(flags.interval !== undefined ? { interval: flags.interval } : {}),
    ...(flags.runAsUser !== undefined ? { runAsUser: flags.runAsUser } : {}),
  });
  if (ctx.format === 'json') ctx.json(yaml.asKubeList(objects));
  else ctx.io.stdout.write(yaml.objectsToYaml(objects, ' Rendered by wasm-oci: the node agent (ServiceAccount, ConfigMap, DaemonSet). kubectl apply -f this-file.yaml'));
}

/** The last path component of the repository, made a DNS-1123 name: `filters/example` -> `example`. */
export function defaultResourceName(image: string): string | undefined {
  const repo = parseImage(image).repository;
  const base = repo.slice(repo.lastIndexOf('/') + 1).toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return base === '' ? undefined : base.slice(0, 63).replace(/[^a-z0-9]+$/, '');
}

export function renderCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('render')
    .description('print a WasmPlugin, EnvoyFilter or ASMFilterDeployment that deploys the artifact, pinned to its manifest digest; or the node agent\'s DaemonSet (--kind agent) and the workload patch that mounts its directory (--kind workload-patch)')
    .argument('[reference]', 'registry/repository:tag|@digest (or a layout path with --oci-layout); none with --kind agent or workload-patch')
    .addOption(new Option('--kind <kind>', 'resource to render').choices([...RENDER_KINDS, ...CLUSTER_RENDER_KINDS]).default('wasmplugin'))
    .option('--image <registry/repository:tag>', 'image the cluster pulls (required with --oci-layout; default: the reference)')
    .option('--name <name>', 'metadata.name (default: the repository\'s last path component)')
    .option('--namespace <namespace>', 'metadata.namespace')
    .option('--selector <key=value>', 'workload label to select (repeatable)', collect)
    .option('--root-id <id>', 'proxy-wasm root id (default: the first root id of the artifact\'s runtime config)')
    .option('--plugin-config <json|@file>', 'plugin configuration: inline JSON, @file or a file path')
    .option('--pull-secret <secret>', 'image pull secret (WasmPlugin imagePullSecret, ASM imagePullOptions.pullSecret)')
    .addOption(new Option('--image-pull-policy <policy>', 'WasmPlugin imagePullPolicy').choices(IMAGE_PULL_POLICIES))
    .addOption(new Option('--phase <phase>', 'WasmPlugin phase').choices(PLUGIN_PHASES))
    .option('--priority <n>', 'WasmPlugin priority', integerFor('--priority'))
    .option('--filter-dir <dir>', 'EnvoyFilter: directory of the module on the node (default /var/local/lib/wasm-filters)')
    .option('--workload-kind <kind>', 'ASMFilterDeployment workload kind (default Deployment)')
    .option('--filter <name=image[,pullSecret=s][,rootId=id]>', 'agent: a filter of its ConfigMap, written to DIR/NAME.wasm on each node (repeatable)', collect)
    .option('--agent-image <image>', 'agent: the image the DaemonSet runs (wasm-oci on its PATH)')
    .option('--interval <duration>', 'agent: how often each tag is resolved (default 30s)')
    .option('--run-as-user <uid>', 'agent: run as this non-root uid (the node directory must be writable by it); default uid 0 with no capabilities', integerFor('--run-as-user'));
  addTargetOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The resource is pinned to the MANIFEST digest (Istio checks a WasmPlugin's sha256 against the
manifest digest of the image it pulls, not against the module's sha256).

Examples:
  $ wasm-oci render registry.example.com/filters/example:v0.1 --namespace default --selector app=details \\
      --plugin-config '{"name":"hello","value":"hello details"}'
  $ wasm-oci render --oci-layout ./wasm-store:v0.1 --image registry.example.com/filters/example:v0.1 \\
      --kind asmfilterdeployment --name details-v1-wasmfiltersample --selector app=details --selector version=v1 \\
      --pull-secret asmwasm-cache --plugin-config @config.json
  $ wasm-oci render --kind agent --agent-image registry.example.com/tools/wasm-oci:0.1.0 \\
      --filter example=registry.example.com/filters/example:v0.1,pullSecret=regcred --namespace wasm-oci
  $ wasm-oci render --kind workload-patch > patch.yaml && kubectl patch deployment details-v1 --patch-file patch.yaml`,
  );
  cmd.action(async (reference: string | undefined, flags: RenderFlags, self: Command) => {
    const ctx = getContext(self);
    if (isClusterKind(flags.kind)) {
      if (reference !== undefined) {
        throw new WasmOciError('E_USAGE', `--kind ${flags.kind} takes no reference (got "${reference}")`, {
          hint: flags.kind === 'agent' ? 'Name the filters with --filter NAME=IMAGE' : 'The patch is the same for every workload: wasm-oci render --kind workload-patch',
        });
      }
      await renderClusterKind(ctx, flags as RenderFlags & { kind: ClusterRenderKind });
      return;
    }
    if (reference === undefined) {
      throw new WasmOciError('E_USAGE', `--kind ${flags.kind} needs a reference: the artifact it deploys`, {
        hint: 'For example: wasm-oci render registry.example.com/filters/example:v0.1 --kind ' + flags.kind,
      });
    }
    if (flags.filter !== undefined || flags.agentImage !== undefined) {
      throw new WasmOciError('E_USAGE', '--filter and --agent-image belong to --kind agent');
    }
    if ((flags.ociLayout || flags.ociLayoutPath !== undefined) && !flags.image) {
      throw new WasmOciError('E_USAGE', '--image is required with --oci-layout: a layout has no registry address for the cluster to pull from', {
        hint: 'Add --image registry.example.com/filters/example:v0.1 (where the artifact is, or will be, pushed)',
      });
    }
    const image = flags.image ?? reference;
    const name = flags.name ?? defaultResourceName(image);
    if (name === undefined) throw new WasmOciError('E_USAGE', `cannot derive a resource name from "${image}"`, { hint: 'Add --name NAME' });
    const selector = parseSelector(flags.selector ?? []);
    const pluginConfig = flags.pluginConfig !== undefined ? await loadPluginConfig(flags.pluginConfig, { cwd: ctx.io.cwd }) : undefined;

    const opened = await openTarget(ctx, reference, flags);
    // yaml (a quarter of the bundle) is loaded only by the command that prints YAML.
    const { renderArtifact } = await import('../../render/render-artifact.js');
    const { resource, yaml } = await renderArtifact(opened.target, requireRef(opened, reference), {
      kind: flags.kind,
      image,
      name,
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      ...(Object.keys(selector).length > 0 ? { selector } : {}),
      ...(flags.rootId !== undefined ? { rootId: flags.rootId } : {}),
      ...(pluginConfig !== undefined ? { pluginConfig } : {}),
      ...(flags.pullSecret !== undefined ? { pullSecret: flags.pullSecret } : {}),
      ...(flags.imagePullPolicy !== undefined ? { imagePullPolicy: flags.imagePullPolicy } : {}),
      ...(flags.phase !== undefined ? { phase: flags.phase } : {}),
      ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
      ...(flags.filterDir !== undefined ? { filterDir: flags.filterDir } : {}),
      ...(flags.workloadKind !== undefined ? { workloadKind: flags.workloadKind } : {}),
      onWarning: (m: string) => ctx.warn(m),
    });
    if (ctx.format === 'json') ctx.json(resource);
    else ctx.io.stdout.write(yaml);
  });
  return cmd;
}
