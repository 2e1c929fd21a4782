import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { runCli } from './cli.js';

export type RenderedKind = 'wasmplugin' | 'envoyfilter' | 'asmfilterdeployment';

/**
 * Runs `wasm-oci render <targetArgs...> --kind KIND <extra...>` and returns the YAML parsed back.
 * `targetArgs` is the reference plus how to reach it: `['--oci-layout', 'DIR:v1', '--image', IMAGE]`
 * or `['localhost:PORT/repo:v1', '--plain-http']`.
 */
export async function renderViaCli(targetArgs: string[], kind: RenderedKind, extra: string[] = []): Promise<{ doc: any; yaml: string }> {
  const r = await runCli(['render', ...targetArgs, '--kind', kind, ...extra]);
  assert.equal(r.code, 0, `render --kind ${kind} failed (${r.code}): ${r.stderr}`);
  return { doc: parse(r.stdout), yaml: r.stdout };
}

/**
 * Checks that a rendered resource is pinned to `manifestDigest` (the digest the registry or
 * `resolve` reports) and carries `rootId`, whatever its kind.
 */
export function assertPinned(doc: any, kind: RenderedKind, image: string, manifestDigest: string, rootId?: string): void {
  const hex = manifestDigest.replace(/^sha256:/, '');
  assert.equal(doc.metadata.annotations['wasm-oci.io/source'], `${image.split('@')[0]}@${manifestDigest}`);
  if (kind === 'wasmplugin') {
    assert.equal(doc.kind, 'WasmPlugin');
    assert.equal(doc.spec.sha256, hex);
    assert.equal(doc.spec.url, `oci://${image}`);
    assert.equal(doc.spec.pluginName, rootId);
  } else if (kind === 'envoyfilter') {
    assert.equal(doc.kind, 'EnvoyFilter');
    const config = doc.spec.configPatches[0].patch.value.typed_config.config;
    assert.equal(config.root_id, rootId);
    assert.equal(config.vm_config.code.local.filename, `/var/local/lib/wasm-filters/${doc.metadata.name}.wasm`);
  } else {
    assert.equal(doc.kind, 'ASMFilterDeployment');
    assert.equal(doc.spec.filter.image, `${image.split('@')[0]}@${manifestDigest}`);
    assert.equal(doc.spec.filter.rootID, rootId);
  }
}
