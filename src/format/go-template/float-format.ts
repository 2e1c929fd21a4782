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

/** strconv.FormatFloat(x, fmt, prec, 64); prec -1 = the shortest that reads back. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
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
