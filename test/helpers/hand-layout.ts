// OCI image layouts written by hand, byte by byte: blobs under blobs/sha256, index.json, oci-layout.
// No pack or layout code of ours is involved, so a test built on them checks our reading against
// documents we did not produce.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  tarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  soloConfig: 'application/vnd.module.wasm.config.v1+json',
  soloLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
  cncfConfig: 'application/vnd.wasm.config.v0+json',
  wasm: 'application/wasm',
} as const;

export const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface HandBlob {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

export const hblob = (mediaType: string, bytes: Uint8Array | string, title?: string): HandBlob => ({
  mediaType,
  bytes: typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes),
  ...(title !== undefined ? { annotations: { 'org.opencontainers.image.title': title } } : {}),
});

export const descOf = (b: HandBlob, extra: Record<string, unknown> = {}) => ({
  mediaType: b.mediaType,
  digest: sha256(b.bytes),
  size: b.bytes.length,
  ...(b.annotations ? { annotations: b.annotations } : {}),
  ...extra,
});

/** A layout under construction: blobs are written as they are added; `tag` writes index.json. */
export class HandLayout {
  private readonly tags: Array<Record<string, unknown>> = [];
  constructor(readonly dir: string) {}

  async blob(b: HandBlob | Buffer): Promise<void> {
    const bytes = Buffer.isBuffer(b) ? b : b.bytes;
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
  }

  /** Writes an image manifest (and its blobs); returns its bytes as a blob. */
  async manifest(config: HandBlob, layers: HandBlob[], fields: Record<string, unknown> = { mediaType: MT.ociManifest }): Promise<HandBlob> {
    for (const b of [config, ...layers]) await this.blob(b);
    const doc = { schemaVersion: 2, ...fields, config: descOf(config), layers: layers.map((l) => descOf(l)) };
    const m = hblob((fields.mediaType as string | undefined) ?? MT.ociManifest, JSON.stringify(doc));
    await this.blob(m);
    return m;
  }

  /** Writes an index of the given manifests, each with its platform (or none). */
  async index(children: Array<{ manifest: HandBlob; platform?: { architecture: string; os: string; variant?: string } }>): Promise<HandBlob> {
    const doc = {
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: children.map((c) => descOf(c.manifest, c.platform ? { platform: c.platform } : {})),
    };
    const i = hblob(MT.ociIndex, JSON.stringify(doc));
    await this.blob(i);
    return i;
  }

  async tag(name: string, root: HandBlob): Promise<void> {
    this.tags.push(descOf(root, { annotations: { 'org.opencontainers.image.ref.name': name } }));
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.tags }));
  }
}

/** A gzip tar of the entries in order, and its diff id. */
export async function handTarGzip(entries: Array<[string, Uint8Array]>): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  for (const [name, bytes] of entries) pack.entry({ name, size: bytes.length, mtime: new Date(0) }, Buffer.from(bytes));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return { gz: gzipSync(raw), diffId: sha256(raw) };
}

export function handImageConfig(diffIds: string[], mediaType: string = MT.ociConfig, extra: Record<string, unknown> = {}): HandBlob {
  return hblob(mediaType, JSON.stringify({ architecture: 'wasm', os: 'wasip1', ...extra, rootfs: { type: 'layers', diff_ids: diffIds } }));
}
