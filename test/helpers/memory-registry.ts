import { Readable } from 'node:stream';
import type { ReadOnlyTarget } from '../../src/content/interfaces.js';
import { WasmOciError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';

/** One request as a registry's access log would show it. */
export interface MemoryRequest {
  method: 'HEAD' | 'GET';
  kind: 'manifest' | 'blob';
  repository: string;
  /** Tag or digest asked for. */
  reference: string;
  /** When, by the registry's clock (`now`, e.g. the agent's fake clock). */
  at: number;
}

interface Repo {
  tags: Map<string, string>;
  manifests: Map<string, { mediaType: string; bytes: Buffer }>;
}

/**
 * A registry held in memory for unit tests of the node agent: repositories with tags, manifests
 * and blobs, answering through ReadOnlyTarget (plus `fetchReference`, the one-request manifest GET
 * a real registry target has) and logging every request as HEAD/GET of a manifest or a blob, so a
 * test counts what the agent asked, as the e2e tests count Distribution's access log.
 * Faults: `down()` (or `failure`) fails every request; `corrupt` serves other bytes for a
 * blob digest (a lying registry or mirror), so only the agent's own verification can catch it.
 */
export class MemoryRegistry {
  private readonly repos = new Map<string, Repo>();
  private readonly blobs = new Map<string, Buffer>();
  readonly requests: MemoryRequest[] = [];
  /** When set, every request fails with it (a refused connection, refused credentials...). */
  failure: WasmOciError | undefined;
  readonly corrupt = new Map<string, Buffer>();

  constructor(readonly host = 'registry.test', public now: () => number = () => Date.now()) {}

  /** Every request fails as a refused connection until `up()`. */
  down(): void {
    this.failure = new WasmOciError('E_NETWORK', `cannot connect to ${this.host}: connect ECONNREFUSED`);
  }

  up(): void {
    this.failure = undefined;
  }

  private repo(name: string): Repo {
    let r = this.repos.get(name);
    if (!r) {
      r = { tags: new Map(), manifests: new Map() };
      this.repos.set(name, r);
    }
    return r;
  }

  /**
   * Stores `module` as a one-layer Wasm artifact (CNCF layout: wasm config, application/wasm
   * layer) in `repository`, tagged `tag` when given. Returns the manifest's and the module's digests.
   */
  pushModule(repository: string, tag: string | undefined, module: Buffer): { manifestDigest: string; moduleDigest: string; reference: string } {
    const pushed = this.pushArtifact(repository, tag, [{ mediaType: MEDIA_TYPES.cncfWasmLayer, bytes: module }]);
    return { ...pushed, moduleDigest: digestOf(module) };
  }

  /** Stores an artifact of these layers (any media types: one without a module, say). */
  pushArtifact(repository: string, tag: string | undefined, layers: Array<{ mediaType: string; bytes: Buffer }>): { manifestDigest: string; reference: string } {
    const config = Buffer.from('{}');
    const configDesc: Descriptor = { mediaType: MEDIA_TYPES.cncfWasmConfig, digest: digestOf(config), size: config.length };
    this.blobs.set(configDesc.digest, config);
    const descs = layers.map((l): Descriptor => {
      this.blobs.set(digestOf(l.bytes), Buffer.from(l.bytes));
      return { mediaType: l.mediaType, digest: digestOf(l.bytes), size: l.bytes.length };
    });
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: descs }));
    const manifestDigest = digestOf(bytes);
    const r = this.repo(repository);
    r.manifests.set(manifestDigest, { mediaType: MEDIA_TYPES.ociManifest, bytes });
    if (tag !== undefined) r.tags.set(tag, manifestDigest);
    return { manifestDigest, reference: `${this.host}/${repository}${tag !== undefined ? `:${tag}` : `@${manifestDigest}`}` };
  }

  /** Removes a tag (the manifest stays, by digest). */
  untag(repository: string, tag: string): void {
    this.repos.get(repository)?.tags.delete(tag);
  }

  /** Requests of one kind (and repository) since index `from`. */
  count(filter: Partial<MemoryRequest> = {}, from = 0): number {
    return this.requests.slice(from).filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof MemoryRequest] === v)).length;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private manifestFor(repository: string, reference: string): { descriptor: Descriptor; bytes: Buffer } {
    const r = this.repos.get(repository);
    const digest = reference.includes(':') ? reference : r?.tags.get(reference);
    const m = digest !== undefined ? r?.manifests.get(digest) : undefined;
    if (!m || digest === undefined) throw new WasmOciError('E_NOT_FOUND', `${this.host}/${repository}: manifest ${reference} not found`);
    return { descriptor: { mediaType: m.mediaType, digest, size: m.bytes.length }, bytes: m.bytes };
  }

  /** The target for one repository, as `createRepository` gives the agent one. */
  target(repository: string): ReadOnlyTarget & { fetchReference(reference: string): Promise<{ descriptor: Descriptor; content: Uint8Array }> } {
    const log = (method: MemoryRequest['method'], kind: MemoryRequest['kind'], reference: string): void => {
      this.requests.push({ method, kind, repository, reference, at: this.now() });
    };
    return {
      resolve: async (reference) => {
        log('HEAD', 'manifest', reference);
        this.check();
        return this.manifestFor(repository, reference).descriptor;
      },
      fetchReference: async (reference) => {
        log('GET', 'manifest', reference);
        this.check();
        const m = this.manifestFor(repository, reference);
        return { descriptor: m.descriptor, content: m.bytes };
      },
      exists: async (desc) => {
        log('HEAD', 'blob', desc.digest);
        this.check();
        return this.blobs.has(desc.digest) || this.repos.get(repository)?.manifests.has(desc.digest) === true;
      },
      fetch: async (desc) => {
        const manifest = this.repos.get(repository)?.manifests.get(desc.digest);
        log('GET', manifest ? 'manifest' : 'blob', desc.digest);
        this.check();
        const bytes = this.corrupt.get(desc.digest) ?? manifest?.bytes ?? this.blobs.get(desc.digest);
        if (!bytes) throw new WasmOciError('E_NOT_FOUND', `blob ${desc.digest} not found`);
        // Served in chunks and unverified: the agent's own check is what is under test.
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
        return Readable.from(chunks);
      },
    };
  }
}
