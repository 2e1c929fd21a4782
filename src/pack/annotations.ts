import { readFile } from 'node:fs/promises';
import { WasmOciError } from '../errors.js';
import type { Annotations } from '../oci/types.js';

/**
 * User annotations in oras's shape: `--annotation-file` is a JSON object whose keys are
 * `$manifest`, `$config`, or a file name as given on the command line, each mapping to an
 * object of string values (oras cmd/oras/internal/option/annotation.go, packer.go).
 */
export type AnnotationSet = Record<string, Annotations>;

export const ANNOTATION_MANIFEST_KEY = '$manifest';
export const ANNOTATION_CONFIG_KEY = '$config';

/** Parses `-a key=value` flags as oras does: split at the first `=`, a repeated key is an error. */
export function parseAnnotationFlags(list: readonly string[]): Annotations {
  const out: Annotations = {};
  for (const flag of list) {
    const eq = flag.indexOf('=');
    if (eq < 0) {
      throw new WasmOciError('E_INVALID_INPUT', `annotation "${flag}" is not a key=value pair`, {
        hint: 'Use --annotation "key=value".',
      });
    }
    const key = flag.slice(0, eq);
    if (key === '') {
      throw new WasmOciError('E_INVALID_INPUT', `annotation "${flag}" has an empty key`, { hint: 'Use --annotation "key=value".' });
    }
    if (Object.hasOwn(out, key)) {
      throw new WasmOciError('E_INVALID_INPUT', `duplicate annotation key "${key}"`);
    }
    out[key] = flag.slice(eq + 1);
  }
  return out;
}

/** Validates an already-decoded annotation file document. */
export function validateAnnotationFile(doc: unknown, source = 'annotation file'): AnnotationSet {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new WasmOciError('E_INVALID_INPUT', `${source} must be a JSON object of the form {"$manifest": {"key": "value"}, ...}`);
  }
  const out: AnnotationSet = {};
  for (const [target, value] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new WasmOciError('E_INVALID_INPUT', `${source}: "${target}" must map to an object of string values`);
    }
    const annotations: Annotations = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v !== 'string') {
        throw new WasmOciError('E_INVALID_INPUT', `${source}: "${target}"."${key}" must be a string, got ${v === null ? 'null' : typeof v}`);
      }
      if (key === '') throw new WasmOciError('E_INVALID_INPUT', `${source}: "${target}" has an empty annotation key`);
      annotations[key] = v;
    }
    out[target] = annotations;
  }
  return out;
}

/** Reads `--annotation-file`. A missing file is E_FILE_NOT_FOUND; bad JSON or shape is E_INVALID_INPUT. */
export async function loadAnnotationFile(path: string): Promise<AnnotationSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new WasmOciError('E_FILE_NOT_FOUND', `annotation file ${path} does not exist`, { cause: err });
    }
    throw new WasmOciError('E_INVALID_INPUT', `cannot read annotation file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new WasmOciError('E_INVALID_INPUT', `annotation file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateAnnotationFile(doc, `annotation file ${path}`);
}

/**
 * Combines the two sources as oras does: it refuses `--annotation` together with
 * `--annotation-file`; flags become the `$manifest` entry.
 */
export async function loadAnnotations(options: { flags?: readonly string[]; file?: string }): Promise<AnnotationSet> {
  const flags = options.flags ?? [];
  if (options.file !== undefined && flags.length > 0) {
    throw new WasmOciError('E_INVALID_INPUT', '--annotation and --annotation-file cannot both be given', {
      hint: 'Put the manifest annotations under "$manifest" in the annotation file.',
    });
  }
  if (options.file !== undefined) return loadAnnotationFile(options.file);
  return flags.length > 0 ? { [ANNOTATION_MANIFEST_KEY]: parseAnnotationFlags(flags) } : {};
}
