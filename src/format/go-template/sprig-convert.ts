/**
 * The conversions sprig's functions share (sprig strings.go strval/strslice, defaults.go empty,
 * numeric.go over spf13/cast ToInt64E/ToFloat64E), and Go's panics in them as call errors.
 */
import { FuncError, type GoFunc } from './exec.js';
import { printValue } from './fmt.js';
import { GoInt, hasKey, isList, isMap, MISSING, type GoValue } from './values.js';

const noFlags = { plus: false, minus: false, sharp: false, space: false, zero: false };
export const v = (x: GoValue) => printValue(x, 'v', noFlags, 0);

/** strings.go strval: a string as is, anything else as %v. */
export function strval(x: GoValue): string {
  return typeof x === 'string' ? x : v(x);
}

/** strings.go strslice: a list's non-nil elements as strings; nil is []; anything else [strval]. */
export function strslice(x: GoValue): string[] {
  if (isList(x)) return x.filter((e) => e !== null && e !== MISSING).map(strval);
  if (x === null || x === MISSING) return [];
  return [strval(x)];
}

/** spf13/cast ToInt64E: ints, float64 (truncated), strings in Go syntax ("0x1f", "010"), bool; else 0. */
export function toInt64(x: GoValue): bigint {
  if (x instanceof GoInt) return x.value;
  if (typeof x === 'number') return Number.isFinite(x) ? BigInt(Math.trunc(x)) : -0x8000000000000000n;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (typeof x === 'string') {
    // trimZeroDecimal: "12.000" -> "12".
    const s = /^(.*)\.0+$/.exec(x)?.[1] ?? x;
    const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
    if (!m) return 0n;
    let body = m[2]!.replace(/_/g, '');
    if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
    const n = BigInt(body);
    const r = m[1] === '-' ? -n : n;
    return r > 0x7fffffffffffffffn || r < -0x8000000000000000n ? 0n : r;
  }
  return 0n;
}

/** cast ToFloat64E. */
export function toFloat64(x: GoValue): number {
  if (typeof x === 'number') return x;
  if (x instanceof GoInt) return Number(x.value);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string') {
    const s = x.replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
    return 0;
  }
  return 0;
}

/** Go's int64 arithmetic wraps around. */
export const wrap64 = (n: bigint) => BigInt.asIntN(64, n);
export const i64 = (n: bigint) => new GoInt(wrap64(n), 'int64');

/** defaults.go empty: the zero value, or an empty string, list or map. */
export function empty(x: GoValue): boolean {
  if (x === null || x === MISSING) return true;
  if (typeof x === 'string') return x.length === 0;
  if (typeof x === 'boolean') return !x;
  if (typeof x === 'number') return x === 0;
  if (x instanceof GoInt) return x.value === 0n;
  if (isList(x)) return x.length === 0;
  return Object.keys(x).length === 0;
}

/** Go panics in a template function become the call's error (exec.go safeCall). */
export function listOf(x: GoValue, fn: string): GoValue[] {
  if (x === null || x === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  if (!isList(x)) throw new FuncError(`Cannot find ${fn} on type ${kindName(x)}`);
  return x;
}

/** reflect.Kind's String(). */
export function kindName(x: GoValue): string {
  if (typeof x === 'string') return 'string';
  if (typeof x === 'number') return 'float64';
  if (typeof x === 'boolean') return 'bool';
  if (x instanceof GoInt) return x.type;
  if (isMap(x)) return 'map';
  if (isList(x)) return 'slice';
  return 'invalid';
}

export function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true;
  if (a instanceof GoInt || b instanceof GoInt) return a instanceof GoInt && b instanceof GoInt && a.type === b.type && a.value === b.value;
  if (isList(a) && isList(b)) return a.length === b.length && a.every((e, i) => deepEqual(e, b[i]!));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasKey(b, k) && deepEqual(a[k]!, b[k]!));
  }
  return false;
}


export const f = (params: GoFunc['params'], call: GoFunc['call'], variadic?: GoFunc['variadic']): GoFunc => ({ params, variadic, call });
export const s0 = (a: GoValue[], i: number) => a[i] as string;
export const n0 = (a: GoValue[], i: number) => Number((a[i] as GoInt).value);
