import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { WasmOciError } from '../../src/errors.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import {
  descriptorFor,
  encodeManifest,
  parseImageIndex,
  parseImageManifest,
  parseManifestDocument,
} from '../../src/oci/manifest.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D512 = `sha512:${'3'.repeat(128)}`;

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function soloManifest(): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.soloWasmConfig, digest: D1, size: 75 },
    layers: [
      { mediaType: MEDIA_TYPES.soloWasmConfig, digest: D1, size: 75, annotations: { 'org.opencontainers.image.title': 'runtime-config.json' } },
      { mediaType: MEDIA_TYPES.soloWasmLayer, digest: D2, size: 1024, annotations: { 'org.opencontainers.image.title': 'filter.wasm' } },
    ],
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  };
}

function ociIndex(): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, digest: D1, size: 500, platform: { architecture: 'wasm', os: 'wasip1' } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: D512, size: 501, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
    ],
  };
}

describe('parseManifestDocument: valid documents', () => {
  it('decodes an OCI image manifest (solo profile) and keeps every field', () => {
    const doc = parseManifestDocument(enc(soloManifest()), MEDIA_TYPES.ociManifest);
    assert.equal(doc.kind, 'manifest');
    assert.equal(doc.mediaType, MEDIA_TYPES.ociManifest);
    if (doc.kind !== 'manifest') return;
    assert.deepEqual(doc.manifest, soloManifest());
    assert.equal(doc.manifest.layers[1]!.mediaType, MEDIA_TYPES.soloWasmLayer);
  });

  it('decodes an OCI index with platforms and a sha512 descriptor', () => {
    const doc = parseManifestDocument(enc(ociIndex()));
    assert.equal(doc.kind, 'index');
    if (doc.kind !== 'index') return;
    assert.equal(doc.index.manifests.length, 2);
    assert.equal(doc.index.manifests[0]!.platform?.os, 'wasip1');
  });

  it('decodes a Docker schema 2 manifest and manifest list', () => {
    const docker = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: D1, size: 1 },
      layers: [{ mediaType: MEDIA_TYPES.dockerLayerTarGzip, digest: D2, size: 2 }],
    };
    const m = parseManifestDocument(enc(docker), `${MEDIA_TYPES.dockerManifest}; charset=utf-8`);
    assert.equal(m.kind, 'manifest');
    assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest);
    const list = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, digest: D1, size: 3, platform: { architecture: 'amd64', os: 'linux', variant: 'v8', 'os.features': ['x'] } }],
    };
    const l = parseManifestDocument(enc(list), MEDIA_TYPES.dockerManifestList);
    assert.equal(l.kind, 'index');
    assert.equal(l.mediaType, MEDIA_TYPES.dockerManifestList);
  });

  it('takes the kind from the Content-Type when the document has no mediaType field', () => {
    const m = soloManifest();
    delete m.mediaType;
    const doc = parseManifestDocument(enc(m), 'Application/VND.oci.image.manifest.v1+json');
    assert.equal(doc.kind, 'manifest');
    assert.equal(doc.mediaType, MEDIA_TYPES.ociManifest);
  });

  it('infers the kind from the shape when neither says, ignoring a generic Content-Type', () => {
    const m = soloManifest();
    delete m.mediaType;
    assert.equal(parseManifestDocument(enc(m), 'application/json').kind, 'manifest');
    const i = ociIndex();
    delete i.mediaType;
    const doc = parseManifestDocument(enc(i), 'application/octet-stream');
    assert.equal(doc.kind, 'index');
    assert.equal(doc.mediaType, MEDIA_TYPES.ociIndex);
  });

  it('accepts an artifact manifest with empty layers, artifactType and subject', () => {
    const m = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: 'application/vnd.example.sig',
      config: { mediaType: MEDIA_TYPES.ociEmpty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: 'e30=' },
      layers: [],
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: D1, size: 10 },
    };
    const doc = parseManifestDocument(enc(m));
    assert.equal(doc.kind, 'manifest');
  });

  it('parseImageManifest and parseImageIndex insist on the kind', () => {
    assert.equal(parseImageManifest(enc(soloManifest())).layers.length, 2);
    assert.equal(parseImageIndex(enc(ociIndex())).manifests.length, 2);
    assert.throws(() => parseImageManifest(enc(ociIndex())), { code: 'E_MANIFEST_INVALID', message: /expected an image manifest/ });
    assert.throws(() => parseImageIndex(enc(soloManifest())), { code: 'E_MANIFEST_INVALID', message: /expected an index/ });
  });
});

type Mutation = [name: string, make: () => Uint8Array | [Uint8Array, string], message: RegExp];

function mutate(base: () => Record<string, unknown>, edit: (m: any) => void): () => Uint8Array {
  return () => {
    const m = base();
    edit(m);
    return enc(m);
  };
}

const MALFORMED: Mutation[] = [
  ['empty bytes', () => new Uint8Array(0), /not valid JSON/],
  ['truncated JSON', () => enc(JSON.stringify(soloManifest()).slice(0, 40)), /not valid JSON/],
  ['invalid UTF-8', () => new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
  ['a JSON array', () => enc([]), /must be a JSON object, got an array/],
  ['JSON null', () => enc('null'), /must be a JSON object, got null/],
  ['a JSON string', () => enc('"x"'), /got a string/],
  ['missing schemaVersion', mutate(soloManifest, (m) => delete m.schemaVersion), /schemaVersion is missing/],
  ['schemaVersion "2"', mutate(soloManifest, (m) => (m.schemaVersion = '2')), /schemaVersion must be 2, got a string/],
  ['schemaVersion 3', mutate(soloManifest, (m) => (m.schemaVersion = 3)), /schemaVersion must be 2, got 3/],
  ['mediaType a number', mutate(soloManifest, (m) => (m.mediaType = 5)), /mediaType must be a string/],
  ['mediaType with CRLF', mutate(soloManifest, (m) => (m.mediaType = 'application/x\r\nX-Evil: 1')), /not a valid media type/],
  ['mediaType disagreeing with Content-Type', () => [enc(soloManifest()), MEDIA_TYPES.ociIndex], /does not match its Content-Type/],
  ['docker mediaType served as OCI', () => [enc({ ...soloManifest(), mediaType: MEDIA_TYPES.dockerManifest }), MEDIA_TYPES.ociManifest], /does not match/],
  ['no config, layers or manifests', () => enc({ schemaVersion: 2 }), /neither/],
  ['both manifests and layers, no mediaType', mutate(soloManifest, (m) => { delete m.mediaType; m.manifests = []; }), /ambiguous/],
  ['manifest carrying manifests', mutate(soloManifest, (m) => (m.manifests = [])), /must not contain "manifests"/],
  ['index carrying layers', mutate(ociIndex, (m) => (m.layers = [])), /must not contain "config" or "layers"/],
  ['missing config', mutate(soloManifest, (m) => delete m.config), /config is missing/],
  ['config a string', mutate(soloManifest, (m) => (m.config = D1)), /config must be an object, got a string/],
  ['missing layers', mutate(soloManifest, (m) => delete m.layers), /layers is missing/],
  ['layers an object', mutate(soloManifest, (m) => (m.layers = {})), /layers must be an array/],
  ['layer null', mutate(soloManifest, (m) => (m.layers[0] = null)), /layers\[0\] must be an object, got null/],
  ['layer without mediaType', mutate(soloManifest, (m) => delete m.layers[1].mediaType), /layers\[1\]\.mediaType must be a string/],
  ['layer mediaType without subtype', mutate(soloManifest, (m) => (m.layers[1].mediaType = 'wasm')), /layers\[1\]\.mediaType "wasm" is not a valid media type/],
  ['digest missing', mutate(soloManifest, (m) => delete m.layers[1].digest), /layers\[1\]\.digest must be a string/],
  ['digest short', mutate(soloManifest, (m) => (m.layers[1].digest = 'sha256:abc')), /layers\[1\]\.digest: .*sha256 needs 64/],
  ['digest sha512 wrong length', mutate(soloManifest, (m) => (m.config.digest = `sha512:${'a'.repeat(64)}`)), /config\.digest: .*sha512 needs 128/],
  ['digest unknown algorithm', mutate(soloManifest, (m) => (m.config.digest = `md5:${'a'.repeat(32)}`)), /unsupported algorithm "md5"/],
  ['size negative', mutate(soloManifest, (m) => (m.layers[0].size = -1)), /layers\[0\]\.size must be a non-negative integer, got -1/],
  ['size fractional', mutate(soloManifest, (m) => (m.layers[0].size = 1.5)), /got 1\.5/],
  ['size a string', mutate(soloManifest, (m) => (m.layers[0].size = '10')), /size must be a non-negative integer, got a string/],
  ['size beyond 2^53', () => enc(JSON.stringify(soloManifest()).replace('"size":1024', '"size":9007199254740993')), /size must be a non-negative integer/],
  ['annotation value a number', mutate(soloManifest, (m) => (m.annotations = { a: 1 })), /annotations\["a"\] must be a string/],
  ['annotations an array', mutate(soloManifest, (m) => (m.layers[0].annotations = ['x'])), /layers\[0\]\.annotations must be an object of strings, got an array/],
  ['urls not strings', mutate(soloManifest, (m) => (m.layers[0].urls = [1])), /urls\[0\] must be a string/],
  ['data not base64', mutate(soloManifest, (m) => (m.config.data = '!!!')), /data must be a base64 string/],
  ['data not matching digest', mutate(soloManifest, (m) => { m.config.data = 'e30='; m.config.size = 2; }), /data does not match/],
  ['subject malformed', mutate(soloManifest, (m) => (m.subject = { mediaType: MEDIA_TYPES.ociManifest, size: 1 })), /subject\.digest must be a string/],
  ['index missing manifests', mutate(ociIndex, (m) => delete m.manifests), /index manifests is missing/],
  ['index entry with bad platform', mutate(ociIndex, (m) => (m.manifests[0].platform = { os: 'linux' })), /manifests\[0\]\.platform\.architecture must be a string/],
  ['index entry with bad digest', mutate(ociIndex, (m) => (m.manifests[1].digest = 'sha512:zz')), /manifests\[1\]\.digest/],
  ['artifactType not a media type', mutate(soloManifest, (m) => (m.artifactType = 'nope')), /artifactType "nope" is not a valid media type/],
];

describe('parseManifestDocument: malformed documents', () => {
  for (const [name, make, message] of MALFORMED) {
    it(`rejects ${name}`, () => {
      const made = make();
      const [bytes, type] = Array.isArray(made) ? made : [made, undefined];
      assert.throws(() => parseManifestDocument(bytes, type), (err: unknown) => {
        assert.ok(err instanceof WasmOciError, `expected WasmOciError, got ${String(err)}`);
        assert.equal(err.code, 'E_MANIFEST_INVALID');
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('refuses Docker schema 1 and unknown manifest media types as unsupported', () => {
    assert.throws(() => parseManifestDocument(enc({ schemaVersion: 1, name: 'x', fsLayers: [] })), { code: 'E_UNSUPPORTED', message: /schema 1/ });
    assert.throws(
      () => parseManifestDocument(enc({ ...soloManifest(), mediaType: 'application/vnd.oci.artifact.manifest.v1+json' })),
      { code: 'E_UNSUPPORTED', message: /unsupported manifest media type/ },
    );
  });

  it('refuses a document over 4 MiB with E_SIZE_LIMIT before parsing it', () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1).fill(0x20);
    assert.throws(() => parseManifestDocument(big), { code: 'E_SIZE_LIMIT', message: /over the 4194304-byte limit/ });
  });
});

describe('encodeManifest and descriptorFor', () => {
  it('encodes compactly, and the descriptor digests exactly those bytes', () => {
    const m = soloManifest();
    const bytes = encodeManifest(m);
    const text = new TextDecoder().decode(bytes);
    assert.equal(text, JSON.stringify(m));
    assert.ok(!text.includes('\n') && !text.includes(': '));
    const d = descriptorFor(bytes, MEDIA_TYPES.ociManifest, { annotations: { a: 'b' } });
    assert.deepEqual(Object.keys(d), ['mediaType', 'digest', 'size', 'annotations']);
    assert.equal(d.size, bytes.byteLength);
    assert.equal(d.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    assert.equal(parseManifestDocument(bytes, d.mediaType).kind, 'manifest');
  });
});
