/** sprig's list and dict functions (list.go, dict.go). */
import { FuncError, type GoFunc } from './exec.js';
import { deepEqual, empty, f, kindName, listOf, n0, s0, strval, toInt64 } from './sprig-convert.js';
import { hasKey, isList, isMap, MISSING, stringList, typeName, type GoList, type GoMap, type GoValue } from './values.js';

export const SPRIG_COLLECTIONS: Record<string, GoFunc> = {
  // Lists (list.go).
  list: f([], (a) => a.map((x) => (x === MISSING ? null : x)), 'any'),
  first: f(['any'], (a) => listOf(a[0]!, 'first')[0] ?? null),
  last: f(['any'], (a) => {
    const l = listOf(a[0]!, 'last');
    return l.length === 0 ? null : l[l.length - 1]!;
  }),
  // A nil []interface{} for an empty list: inside interface{} it is not nil, it prints [].
  rest: f(['any'], (a) => listOf(a[0]!, 'rest').slice(1)),
  initial: f(['any'], (a) => listOf(a[0]!, 'initial').slice(0, -1)),
  reverse: f(['any'], (a) => {
    const l = listOf(a[0]!, 'reverse');
    return [...l].reverse();
  }),
  has: f(['any', 'any'], (a) => {
    const hay = a[1]!;
    if (hay === null || hay === MISSING) return false;
    return listOf(hay, 'has').some((e) => deepEqual(e, a[0]!));
  }),
  uniq: f(['any'], (a) => {
    const out: GoValue[] = [];
    for (const e of listOf(a[0]!, 'uniq')) if (!out.some((o) => deepEqual(o, e))) out.push(e);
    return out;
  }),
  compact: f(['any'], (a) => listArg(a[0]!, 'compact').filter((e) => !empty(e))),
  slice: f(['any'], (a) => {
    const l = a[0]!;
    if (l === null || l === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
    if (!isList(l)) throw new FuncError(`list should be type of slice or array but ${kindName(l)}`);
    if (l.length === 0) return null;
    const start = a.length > 1 ? Number(toInt64(a[1]!)) : 0;
    const end = a.length > 2 ? Number(toInt64(a[2]!)) : l.length;
    // reflect.Value.Slice checks against the capacity, which a decoded JSON array may have
    // beyond its length; we know only the length.
    if (start < 0 || end > l.length || start > end) throw new FuncError('reflect.Value.Slice: slice index out of bounds');
    // reflect's Slice keeps the slice's type ([]string stays []string).
    const out: GoList = l.slice(start, end);
    if (l.elem) out.elem = l.elem;
    return out;
  }, 'any'),

  push: f(['any', 'any'], (a) => [...listArg(a[0]!, 'push'), a[1]!]),
  append: f(['any', 'any'], (a) => [...listArg(a[0]!, 'push'), a[1]!]),
  prepend: f(['any', 'any'], (a) => [a[1]!, ...listArg(a[0]!, 'prepend')]),
  concat: f([], (a) => {
    const out: GoValue[] = [];
    for (const l of a) {
      if (l === null || l === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
      if (!isList(l)) throw new FuncError(`Cannot concat type ${kindName(l)} as list`);
      out.push(...l);
    }
    // A nil []interface{} inside interface{} is not a nil interface: it prints [].
    return out;
  }, 'any'),
  without: f(['any'], (a) => listArg(a[0]!, 'find without').filter((e) => !a.slice(1).some((o) => deepEqual(o, e))), 'any'),
  chunk: f(['int', 'any'], (a) => {
    const size = n0(a, 0);
    const l = listArg(a[1]!, 'chunk', 'Cannot chunk type');
    // list.go mustChunk divides by the size as a float64: 0 makes an infinite count of chunks.
    if (size <= 0) throw new FuncError('runtime error: makeslice: len out of range');
    // A [][]interface{}.
    const out: GoList = [];
    for (let i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
    out.elem = '[]interface {}';
    return out;
  }),
  set: f(['map', 'string', 'any'], (a) => {
    const d = mapArg(a[0]!);
    d[s0(a, 1)] = a[2]!;
    return d;
  }),
  unset: f(['map', 'string'], (a) => {
    // Deleting from a nil Go map does nothing; the nil map prints map[].
    if (!isMap(a[0]!)) return {};
    const d = a[0];
    delete d[s0(a, 1)];
    return d;
  }),
  pick: f(['map'], (a) => {
    const d = isMap(a[0]!) ? a[0] : {};
    const out: GoMap = {};
    for (const k of a.slice(1) as string[]) if (hasKey(d, k)) out[k] = d[k]!;
    return out;
  }, 'string'),
  omit: f(['map'], (a) => {
    const d = isMap(a[0]!) ? a[0] : {};
    const drop = new Set(a.slice(1) as string[]);
    const out: GoMap = {};
    for (const k of Object.keys(d)) if (!drop.has(k)) out[k] = d[k]!;
    return out;
  }, 'string'),
  dig: f([], (a) => {
    if (a.length < 3) throw new FuncError('dig needs at least three arguments');
    // dict.go dig: keys, then the default, then the dict; a key that is not a string panics.
    const dict = a[a.length - 1]!;
    const def = a[a.length - 2]!;
    const keys = a.slice(0, -2);
    if (!isMap(dict)) throw new FuncError(`interface conversion: interface {} is ${typeNameOf(dict)}, not map[string]interface {}`);
    let cur: GoMap = dict;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (typeof k !== 'string') throw new FuncError(`interface conversion: interface {} is ${typeNameOf(k)}, not string`);
      if (!hasKey(cur, k)) return def;
      const step = cur[k]!;
      if (i === keys.length - 1) return step;
      if (!isMap(step)) throw new FuncError(`interface conversion: interface {} is ${typeNameOf(step)}, not map[string]interface {}`);
      cur = step;
    }
    return def;
  }, 'any'),

  // Dicts (dict.go).
  dict: f([], (a) => {
    const d: GoMap = {};
    for (let i = 0; i < a.length; i += 2) d[strval(a[i]!)] = i + 1 < a.length ? (a[i + 1] === MISSING ? null : a[i + 1]!) : '';
    return d;
  }, 'any'),
  keys: f([], (a) => stringList(a.flatMap((d) => (isMap(d) ? Object.keys(d) : []))), 'map'),
  values: f(['map'], (a) => (isMap(a[0]!) ? Object.values(a[0]) : [])),
  hasKey: f(['map', 'string'], (a) => isMap(a[0]!) && hasKey(a[0], s0(a, 1))),
  get: f(['map', 'string'], (a) => (isMap(a[0]!) && hasKey(a[0], s0(a, 1)) ? a[0][s0(a, 1)]! : '')),
  pluck: f(['string'], (a) => a.slice(1).filter((d) => isMap(d) && hasKey(d, s0(a, 0))).map((d) => (d as GoMap)[s0(a, 0)]!), 'map'),

};

/** list.go mustPush & co: a list, or "Cannot <fn> on type <kind>" (a nil list panics in reflect). */
function listArg(x: GoValue, fn: string, prefix = `Cannot ${fn} on type`): GoValue[] {
  if (x === null || x === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  if (!isList(x)) throw new FuncError(`${prefix} ${kindName(x)}`);
  return x;
}

/** A map parameter that got nil: assigning to a nil Go map panics. */
function mapArg(x: GoValue): GoMap {
  if (!isMap(x)) throw new FuncError('assignment to entry in nil map');
  return x;
}

function typeNameOf(x: GoValue): string {
  return x === null || x === MISSING ? 'nil' : typeName(x);
}
