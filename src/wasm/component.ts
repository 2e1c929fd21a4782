/**
 * Reads what inspection needs from a WebAssembly component (binary version 0x0d, layer 1): the
 * top-level import and export names and the custom section names. WebAssembly.Module rejects
 * components, so this walks the component binary format (component-model Binary.md) itself; nested
 * components and core modules are skipped, not parsed.
 */
import { BinaryParseError, ByteReader, customSectionName, readSections } from './binary-reader.js';
import type { WasmExport, WasmImport } from './types.js';

const SECTION = { custom: 0, import: 10, export: 11 } as const;

export interface ComponentSummary {
  imports: WasmImport[];
  exports: WasmExport[];
  customSections: string[];
}

/** Throws BinaryParseError on malformed input; never reads outside `bytes`. */
export function readComponent(bytes: Uint8Array): ComponentSummary {
  const summary: ComponentSummary = { imports: [], exports: [], customSections: [] };
  for (const section of readSections(bytes)) {
    if (section.id === SECTION.custom) {
      summary.customSections.push(customSectionName(bytes, section));
    } else if (section.id === SECTION.import) {
      const r = new ByteReader(bytes, section.start, section.end);
      // An import takes at least 3 bytes: name tag, name length, extern descriptor.
      const n = r.count(3);
      for (let i = 0; i < n; i++) {
        const name = externName(r);
        const kind = externDesc(r);
        summary.imports.push({ module: '', name, kind });
      }
      expectEnd(r, 'import');
    } else if (section.id === SECTION.export) {
      const r = new ByteReader(bytes, section.start, section.end);
      const n = r.count(4);
      for (let i = 0; i < n; i++) {
        const name = externName(r);
        const kind = sortIdx(r);
        const hasDesc = r.u8();
        if (hasDesc === 0x01) externDesc(r);
        else if (hasDesc !== 0x00) throw new BinaryParseError(`bad optional type flag 0x${hex(hasDesc)}`, r.pos - 1);
        summary.exports.push({ name, kind });
      }
      expectEnd(r, 'export');
    }
  }
  return summary;
}

function expectEnd(r: ByteReader, what: string): void {
  if (!r.atEnd()) throw new BinaryParseError(`${r.remaining} unexpected bytes at the end of the ${what} section`, r.pos);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** importname' / exportname': 0x00 name, or 0x01 name followed by a version suffix (or, in older drafts, a URL). */
function externName(r: ByteReader): string {
  const tag = r.u8();
  if (tag === 0x00) return r.name();
  if (tag === 0x01) {
    const name = r.name();
    r.name();
    return name;
  }
  throw new BinaryParseError(`bad extern name tag 0x${hex(tag)}`, r.pos - 1);
}

/** externdesc: returns the kind it describes. */
function externDesc(r: ByteReader): string {
  const at = r.pos;
  const tag = r.u8();
  switch (tag) {
    case 0x00: {
      const coreSort = r.u8();
      if (coreSort !== 0x11) throw new BinaryParseError(`bad core module descriptor 0x${hex(coreSort)}`, at + 1);
      r.u32();
      return 'module';
    }
    case 0x01:
      r.u32();
      return 'function';
    case 0x02: {
      const bound = r.u8();
      if (bound === 0x00) r.u32();
      else if (bound === 0x01) valType(r);
      else throw new BinaryParseError(`bad value bound 0x${hex(bound)}`, r.pos - 1);
      return 'value';
    }
    case 0x03: {
      const bound = r.u8();
      if (bound === 0x00) r.u32();
      else if (bound !== 0x01) throw new BinaryParseError(`bad type bound 0x${hex(bound)}`, r.pos - 1);
      return 'type';
    }
    case 0x04:
      r.u32();
      return 'component';
    case 0x05:
      r.u32();
      return 'instance';
    default:
      throw new BinaryParseError(`bad extern descriptor 0x${hex(tag)}`, at);
  }
}

/** valtype: a primitive value type is one byte in 0x64..0x7f (a negative s33); a type index is a u32. */
function valType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b !== undefined && b >= 0x40 && b < 0x80) {
    r.u8();
    return;
  }
  r.u32();
}

const CORE_SORTS: Record<number, string> = {
  0x00: 'core function',
  0x01: 'core table',
  0x02: 'core memory',
  0x03: 'core global',
  0x10: 'core type',
  0x11: 'module',
  0x12: 'core instance',
};

const SORTS: Record<number, string> = {
  0x01: 'function',
  0x02: 'value',
  0x03: 'type',
  0x04: 'component',
  0x05: 'instance',
};

function sortIdx(r: ByteReader): string {
  const at = r.pos;
  const sort = r.u8();
  let kind: string | undefined;
  if (sort === 0x00) {
    const core = r.u8();
    kind = CORE_SORTS[core];
    if (kind === undefined) throw new BinaryParseError(`bad core sort 0x${hex(core)}`, at + 1);
  } else {
    kind = SORTS[sort];
    if (kind === undefined) throw new BinaryParseError(`bad sort 0x${hex(sort)}`, at);
  }
  r.u32();
  return kind;
}
