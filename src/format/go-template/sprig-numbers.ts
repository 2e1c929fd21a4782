/** sprig's numeric functions (numeric.go), integers through spf13/cast as sprig converts them. */
import { FuncError, type GoFunc } from './exec.js';
import { f, i64, n0, s0, toFloat64, toInt64, wrap64 } from './sprig-convert.js';
import { GoInt, goInt, type GoList, type GoValue } from './values.js';

export const SPRIG_NUMBERS: Record<string, GoFunc> = {
  // Numbers (numeric.go, with spf13/cast's conversions).
  atoi: f(['string'], (a) => goInt(/^[+-]?\d+$/.test(s0(a, 0)) && BigInt.asIntN(64, BigInt(s0(a, 0))) === BigInt(s0(a, 0)) ? BigInt(s0(a, 0)) : 0n)),
  int: f(['any'], (a) => new GoInt(toInt64(a[0]!), 'int')),
  int64: f(['any'], (a) => new GoInt(toInt64(a[0]!), 'int64')),
  float64: f(['any'], (a) => toFloat64(a[0]!)),
  add1: f(['any'], (a) => i64(toInt64(a[0]!) + 1n)),
  add: f([], (a) => i64(a.reduce<bigint>((s, x) => s + toInt64(x), 0n)), 'any'),
  sub: f(['any', 'any'], (a) => i64(toInt64(a[0]!) - toInt64(a[1]!))),
  mul: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((s, x) => wrap64(s * toInt64(x)), toInt64(a[0]!))), 'any'),
  div: f(['any', 'any'], (a) => {
    const d = toInt64(a[1]!);
    if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
    return i64(toInt64(a[0]!) / d);
  }),
  mod: f(['any', 'any'], (a) => {
    const d = toInt64(a[1]!);
    if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
    return i64(toInt64(a[0]!) % d);
  }),
  max: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a[0]!))), 'any'),
  min: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a[0]!))), 'any'),

  biggest: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a[0]!))), 'any'),
  maxf: f(['any'], (a) => a.slice(1).reduce<number>((m, x) => goMax(m, toFloat64(x)), toFloat64(a[0]!)), 'any'),
  minf: f(['any'], (a) => a.slice(1).reduce<number>((m, x) => goMin(m, toFloat64(x)), toFloat64(a[0]!)), 'any'),
  floor: f(['any'], (a) => Math.floor(toFloat64(a[0]!))),
  ceil: f(['any'], (a) => Math.ceil(toFloat64(a[0]!))),
  round: f(['any', 'int'], (a) => {
    // numeric.go round: up when the fraction of value × 10^places reaches roundOn (0.5).
    const roundOn = a.length > 2 ? toFloat64(a[2]!) : 0.5;
    const pow = 10 ** n0(a, 1);
    const digit = pow * toFloat64(a[0]!);
    const frac = digit - Math.trunc(digit);
    return (frac >= roundOn ? Math.ceil(digit) : Math.floor(digit)) / pow;
  }, 'float64'),
  // Decimal arithmetic (shopspring/decimal), so 1.1 + 2.2 is 3.3 and not 3.3000000000000003.
  addf: f([], (a) => decimalOp(0, a, (x, y) => x.add(y)), 'any'),
  add1f: f(['any'], (a) => decimalOp(a[0]!, [1], (x, y) => x.add(y))),
  subf: f(['any'], (a) => decimalOp(a[0]!, a.slice(1), (x, y) => x.sub(y)), 'any'),
  mulf: f(['any'], (a) => decimalOp(a[0]!, a.slice(1), (x, y) => x.mul(y)), 'any'),
  divf: f(['any'], (a) => decimalOp(a[0]!, a.slice(1), (x, y) => x.div(y)), 'any'),
  until: f(['int'], (a) => ints(untilStep(0, n0(a, 0), n0(a, 0) < 0 ? -1 : 1))),
  untilStep: f(['int', 'int', 'int'], (a) => ints(untilStep(n0(a, 0), n0(a, 1), n0(a, 2)))),
  seq: f([], (a) => seq(a.map((x) => Number((x as GoInt).value))), 'int'),
};

/** math.Max / math.Min: NaN wins, and +0 beats -0 (max) / -0 beats +0 (min). */
function goMax(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && y === 0) return Object.is(x, -0) ? y : x;
  return x > y ? x : y;
}
function goMin(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && y === 0) return Object.is(x, -0) ? x : y;
  return x < y ? x : y;
}

/** A []int. */
function ints(values: number[]): GoList {
  const out: GoList = values.map((i) => goInt(i));
  out.elem = 'int';
  return out;
}

/** numeric.go untilStep. */
function untilStep(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (stop < start) {
    if (step >= 0) return out;
    for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
  if (step <= 0) return out;
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

/** numeric.go seq: like seq(1): 1 to N, or START END, or START STEP END, space-separated. */
function seq(p: number[]): string {
  const join = (l: number[]) => l.join(' ');
  if (p.length === 1) {
    const end = p[0]!;
    const inc = end < 1 ? -1 : 1;
    return join(untilStep(1, end + inc, inc));
  }
  if (p.length === 2) {
    const [start, end] = p as [number, number];
    const step = end < start ? -1 : 1;
    return join(untilStep(start, end + step, step));
  }
  if (p.length === 3) {
    const [start, step, end] = p as [number, number, number];
    let inc = 1;
    if (end < start) {
      inc = -1;
      if (step > 0) return '';
    }
    return join(untilStep(start, end + inc, step));
  }
  return '';
}

/** shopspring/decimal's Decimal: value × 10^exp, exact. */
class Decimal {
  constructor(
    readonly value: bigint,
    readonly exp: number,
  ) {}

  /** NewFromFloat: the shortest decimal that reads back as the float. */
  static fromFloat(x: number): Decimal {
    if (x === 0 || !Number.isFinite(x)) return new Decimal(0n, 0);
    const [mant, e] = x.toExponential().split('e') as [string, string];
    const [int, frac = ''] = mant.split('.') as [string, string?];
    return new Decimal(BigInt(int + frac), Number(e) - frac.length);
  }

  private align(o: Decimal): [bigint, bigint, number] {
    const exp = Math.min(this.exp, o.exp);
    return [this.value * 10n ** BigInt(this.exp - exp), o.value * 10n ** BigInt(o.exp - exp), exp];
  }
  add(o: Decimal): Decimal {
    const [a, b, exp] = this.align(o);
    return new Decimal(a + b, exp);
  }
  sub(o: Decimal): Decimal {
    const [a, b, exp] = this.align(o);
    return new Decimal(a - b, exp);
  }
  mul(o: Decimal): Decimal {
    return new Decimal(this.value * o.value, this.exp + o.exp);
  }
  /** Div = DivRound(d2, 16): 16 decimal places, half away from zero. */
  div(o: Decimal): Decimal {
    if (o.value === 0n) throw new FuncError('decimal division by 0');
    const prec = 16;
    // value / o.value × 10^(exp - o.exp), to 10^-prec: scale so the quotient is an integer count of 10^-prec.
    const shift = this.exp - o.exp + prec;
    let num = this.value;
    let den = o.value;
    if (shift >= 0) num *= 10n ** BigInt(shift);
    else den *= 10n ** BigInt(-shift);
    let q = num / den;
    const r = num % den;
    const abs = (n: bigint) => (n < 0n ? -n : n);
    if (2n * abs(r) >= abs(den)) q += (num < 0n) !== (den < 0n) ? -1n : 1n;
    return new Decimal(q, -prec);
  }
  toFloat(): number {
    return Number(`${this.value}e${this.exp}`);
  }
}

/** numeric.go execDecimalOp: each operand through cast.ToFloat64 and NewFromFloat; a float64 back. */
function decimalOp(first: GoValue, rest: GoValue[], op: (x: Decimal, y: Decimal) => Decimal): number {
  let acc = Decimal.fromFloat(toFloat64(first));
  for (const x of rest) acc = op(acc, Decimal.fromFloat(toFloat64(x)));
  return acc.toFloat();
}
