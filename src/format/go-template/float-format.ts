/**
 * strconv.FormatFloat for the 'e', 'f' and 'g' formats (Go src/strconv/ftoa.go), which
 * fmt's %v, %e, %f and %g print with. The shortest digits come from JS (both languages pick
 * the shortest string that reads back as the same float64); a fixed number of digits is rounded
 * from the float's exact decimal value, half to even, as Go does (JS's toFixed rounds ties up).
 */

interface Digits {
  /** Decimal digits without leading or trailing zeros ('' for zero). */
  d: string;
  /** Position of the decimal point: the value is 0.d × 10^dp. */
  dp: number;
}

function shortest(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

/** Every digit of |x| (a double is m × 2^e, so its decimal expansion ends). */
function exact(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const bits = buf.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (biasedExp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    // m × 2^e = m × 5^-e / 10^-e
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  const lead = trimmed.length - trimmed.replace(/^0+/, '').length;
  return { d: trimmed.slice(lead), dp: dp - lead };
}

/** Round to `nd` significant digits, half to even (strconv decimal.Round: shouldRoundUp). */
function roundTo(v: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: v.dp };
  if (v.d.length <= nd) return v;
  const next = v.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < v.d.length) up = true; // more than half
  else up = nd > 0 && (v.d.charCodeAt(nd - 1) - 48) % 2 === 1; // exactly half: to even
  let d = v.d.slice(0, nd);
  let dp = v.dp;
  if (up) {
    let i = d.length - 1;
    while (i >= 0 && d[i] === '9') i--;
    if (i < 0) {
      d = '1';
      dp += 1;
    } else {
      d = d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1);
    }
  }
  return { d: d.replace(/0+$/, ''), dp };
}

function fmtE(v: Digits, prec: number, e: 'e' | 'E'): string {
  let s = v.d.length === 0 ? '0' : v.d[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += i < v.d.length ? v.d[i] : '0';
  }
  const exp = v.d.length === 0 ? 0 : v.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
}

function fmtF(v: Digits, prec: number): string {
  let s: string;
  if (v.dp > 0) s = v.d.slice(0, v.dp).padEnd(v.dp, '0');
  else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = v.dp + i - 1;
      s += j >= 0 && j < v.d.length ? v.d[j] : '0';
    }
  }
  return s;
}

/** The float64's bits as strconv reads them: sign, mantissa with its top bit, unbiased exponent. */
function bitsOf(x: number): { neg: boolean; mant: bigint; exp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { neg: bits >> 63n === 1n, mant, exp: exp - 1023 };
}

/** ftoa.go fmtB: decimal mantissa, 'p', binary exponent (-4503599627370496p-52). */
function fmtB(x: number): string {
  const { neg, mant, exp } = bitsOf(x);
  const e = exp - 52;
  return `${neg ? '-' : ''}${mant}p${e >= 0 ? '+' : ''}${e}`;
}

/** ftoa.go fmtX: -0x1.yyyyp±dd, the mantissa rounded (half to even) to prec hex digits. */
function fmtX(x: number, prec: number, upper: boolean): string {
  let { neg, mant, exp } = bitsOf(x);
  if (mant === 0n) exp = 0;
  const ONE60 = 1n << 60n;
  mant <<= 60n - 52n;
  while (mant !== 0n && (mant & ONE60) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & (ONE60 - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = `${neg ? '-' : ''}0${upper ? 'X' : 'x'}${(mant >> 60n) & 1n}`;
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if ((prec < 0 && mant !== 0n) || prec > 0) {
    out += '.';
    if (prec < 0) {
      while (mant !== 0n) {
        out += hex[Number((mant >> 60n) & 15n)];
        mant = (mant << 4n) & ((1n << 64n) - 1n);
      }
    } else {
      for (let i = 0; i < prec; i++) {
        out += hex[Number((mant >> 60n) & 15n)];
        mant = (mant << 4n) & ((1n << 64n) - 1n);
      }
    }
  }
  const e = Math.abs(exp);
  return `${out}${upper ? 'P' : 'p'}${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** strconv.FormatFloat(x, fmt, prec, 64); prec -1 = the shortest that reads back. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G' | 'b' | 'x' | 'X', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (fmt === 'b') return fmtB(x);
  if (fmt === 'x' || fmt === 'X') return fmtX(x, prec, fmt === 'X');
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : '';
  const isShortest = prec < 0;
  let digs: Digits;
  if (isShortest) digs = shortest(x);
  else if (fmt === 'e' || fmt === 'E') digs = roundTo(exact(x), prec + 1);
  else if (fmt === 'f') digs = roundTo(exact(x), exact(x).dp + prec);
  else digs = roundTo(exact(x), prec === 0 ? 1 : prec);
  if (fmt === 'e' || fmt === 'E') return sign + fmtE(digs, isShortest ? Math.max(digs.d.length - 1, 0) : prec, fmt);
  if (fmt === 'f') return sign + fmtF(digs, isShortest ? Math.max(digs.d.length - digs.dp, 0) : prec);
  // %g (ftoa.go): %e when the exponent is < -4 or >= the precision (6 for the shortest form).
  let p = isShortest ? digs.d.length : prec === 0 ? 1 : prec;
  let eprec = p;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (isShortest) eprec = 6;
  const exp = digs.dp - 1;
  if (digs.d.length !== 0 && (exp < -4 || exp >= eprec)) {
    if (p > digs.d.length) p = digs.d.length;
    return sign + fmtE(digs, p - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (p > digs.dp) p = digs.d.length;
  return sign + fmtF(digs, Math.max(p - digs.dp, 0));
}
