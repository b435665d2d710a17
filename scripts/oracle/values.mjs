// The oracle's notion of "the same information": how two JS values handed out
// by two ORMs compare. This is deliberately independent of parity's Rust rules
// (src/canon): it looks only at the JS values the real ORMs returned.
//
// - typeOf(v): the JS type an application sees (Date, string, number, bigint,
//   boolean, Decimal, bytes, array<...>, object, null). Buffer and Uint8Array are
//   both "bytes" (Buffer is a Uint8Array).
// - sameInfo(a, b, ctx): true when both carry the same information, across types
//   where a lossless reading exists (Date vs timestamp text at nanosecond
//   precision, Decimal vs numeric text or number, bigint vs number, boolean vs
//   0/1, enum name vs its database label). An Invalid Date is its own value:
//   it equals another Invalid Date and nothing else.
// - show(v): a readable rendering for reports (Date(...), Decimal(...), 12n, ...).

export function isDecimal(v) {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.toFixed === 'function' &&
    'd' in v &&
    'e' in v &&
    's' in v
  );
}

export function typeOf(v) {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Date) return 'Date';
  if (isDecimal(v)) return 'Decimal';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) {
    const inner = [...new Set(v.filter((x) => x !== null && x !== undefined).map(typeOf))].sort();
    return `array<${inner.join('|')}>`;
  }
  if (typeof v === 'object') return 'object';
  return typeof v;
}

export function show(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : `Date(${v.toISOString()})`;
  if (isDecimal(v)) return `Decimal(${v.toString()})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Uint8Array) return `bytes(${Buffer.from(v).toString('hex')})`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object') return JSON.stringify(canonJson(v));
  return JSON.stringify(v);
}

function canonJson(v) {
  if (Array.isArray(v)) return v.map(canonJson);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canonJson(v[k]);
    return o;
  }
  return v;
}

const TS =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Nanoseconds since the epoch (BigInt) of a timestamp/date/time text, or null. */
export function textInstantNs(s) {
  if (typeof s !== 'string') return null;
  let m = TS.exec(s.trim());
  let year;
  let mon;
  let day;
  let hh;
  let mi;
  let ss;
  let frac;
  let off;
  if (m) {
    [, year, mon, day, hh, mi, ss, frac, off] = m;
    if (m[9]) return null; // BC: no JS Date holds it as the ORMs hand it
    year = Number(year);
  } else if ((m = TIME.exec(s.trim()))) {
    year = 1970;
    mon = '01';
    day = '01';
    [, hh, mi, ss, frac, off] = m;
  } else {
    return null;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, Number(mon) - 1, Number(day));
  d.setUTCHours(Number(hh ?? 0), Number(mi ?? 0), Number(ss ?? 0), 0);
  let ns = BigInt(d.getTime()) * 1_000_000n;
  if (Number.isNaN(d.getTime())) return null;
  if (frac) ns += BigInt((frac + '000000000').slice(0, 9));
  if (off && off !== 'Z') {
    const sign = off[0] === '-' ? -1n : 1n;
    const digits = off.slice(1).replace(/:/g, '');
    const secs =
      BigInt(Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0));
    ns -= sign * secs * 1_000_000_000n;
  }
  return ns;
}

function dateNs(d) {
  const t = d.getTime();
  return Number.isNaN(t) ? null : BigInt(t) * 1_000_000n;
}

/** Exact decimal text of a value that is a number, bigint, Decimal or numeric string. */
function decimalOf(v, Decimal) {
  try {
    if (isDecimal(v)) return v;
    // An integral number is exactly the integer JS holds (-2^63 as a double is exact);
    // a fractional one is the decimal JS prints for it (0.1 is 0.1).
    if (typeof v === 'number' && Number.isInteger(v)) return new Decimal(BigInt(v).toString());
    if (typeof v === 'number' || typeof v === 'bigint') return new Decimal(String(v));
    if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$|^(NaN|[+-]?Infinity)$/i.test(v)) return new Decimal(v.trim());
  } catch {
    return null;
  }
  return null;
}

function decimalEq(a, b) {
  if (!a.isFinite() || !b.isFinite()) return a.toString() === b.toString();
  return a.equals(b);
}

/**
 * Same information? `ctx.enumMap` (name -> label) when the column is a Prisma
 * enum; `ctx.Decimal` is decimal.js from the Prisma runtime.
 */
export function sameInfo(a, b, ctx = {}) {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta === 'null' || tb === 'null') return ta === tb;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameInfo(x, b[i], ctx));
  }
  if (ctx.enumMap && typeof a === 'string' && typeof b === 'string') {
    return (ctx.enumMap.get(a) ?? a) === b;
  }
  if (ta === tb) {
    switch (ta) {
      case 'Date': {
        const x = dateNs(a);
        const y = dateNs(b);
        return x === y;
      }
      case 'number':
        return Object.is(a, b);
      case 'Decimal':
        return decimalEq(a, b);
      case 'bytes':
        return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
      case 'object':
        return JSON.stringify(canonJson(a)) === JSON.stringify(canonJson(b));
      default:
        return a === b;
    }
  }
  // Different JS types: same information only where a lossless reading exists.
  if (ta === 'Date' || tb === 'Date') {
    const [d, s] = ta === 'Date' ? [a, b] : [b, a];
    const x = dateNs(d);
    if (x === null) return false; // an Invalid Date is its own value
    if (typeof s === 'string') return textInstantNs(s) === x;
    return false;
  }
  if (ta === 'boolean' || tb === 'boolean') {
    const [bool, n] = ta === 'boolean' ? [a, b] : [b, a];
    return typeof n === 'number' && n === (bool ? 1 : 0);
  }
  if (ctx.Decimal) {
    const x = decimalOf(a, ctx.Decimal);
    const y = decimalOf(b, ctx.Decimal);
    if (x && y) return decimalEq(x, y);
  }
  return false;
}
