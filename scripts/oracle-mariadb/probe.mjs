#!/usr/bin/env node
// The MariaDB oracle: reads every (row, column) of the probe table (setup.sql)
// through the real Prisma 7 (@prisma/adapter-mariadb) and the real
// drizzle-orm mysql-core (mysql2), one value per query so a throw is pinned
// to its value, and decides, independently of parity, whether the two
// readings carry the same information. Prints JSON on stdout:
//   {"observations": [{id, column, prisma, drizzle, same}], "differences": [{id, column}]}
// where prisma/drizzle describe what the app received (type and value).
//
// Usage (run.sh does all of this):
//   TZ=UTC tsx probe.mjs --url mysql://… --prisma-client …/client.ts --schema …/probe-schema.ts
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mariadbOptions } from '../oracle/prisma-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.resolve(here, '../../fixtures/bikeshop');
const require = createRequire(path.join(fixture, 'package.json'));
const load = async (spec) => import(pathToFileURL(require.resolve(spec)).href);

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const url = arg('url');
const clientPath = arg('prisma-client');
if (!url || !clientPath) {
  console.error('usage: probe.mjs --url mysql://… --prisma-client …/client.ts');
  process.exit(2);
}

const { PrismaClient } = await import(pathToFileURL(path.resolve(clientPath)).href);
const { PrismaMariaDb } = await load('@prisma/adapter-mariadb');
const mysql = (await load('mysql2/promise')).default;
const { drizzle } = await load('drizzle-orm/mysql2');
const { eq } = await load('drizzle-orm');
const { probe } = await import(pathToFileURL(path.resolve(arg('schema') ?? path.join(here, 'probe-schema.ts'))).href);

const prisma = new PrismaClient({ adapter: new PrismaMariaDb(mariadbOptions(url)) });
const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
const db = drizzle(pool);

const columns = Object.keys(probe).filter((k) => k !== 'id' && typeof probe[k] === 'object' && probe[k]?.name);
const [idRows] = await pool.query('SELECT id FROM probe ORDER BY id');
const ids = idRows.map((r) => r.id);

// What kind of value a column holds, for reading strings and Dates as information.
const temporal = (c) => (/^(dt|ts)/.test(c) ? 'instant' : /^d_/.test(c) ? 'date' : c === 'tm' ? 'time' : null);
const enumNames = { a: 'a', B: 'B', c_d: 'c d' }; // Prisma name -> database label

/** The value as the app sees it, for the report. */
function describe(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (v instanceof Error) return `throws: ${String(v.message).split('\n').filter(Boolean).slice(-1)[0]}`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()})`;
  if (typeof v === 'bigint') return `bigint(${v})`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${Buffer.from(v).toString('hex')})`;
  if (v && typeof v === 'object' && typeof v.toFixed === 'function' && 'd' in v) return `Decimal(${v.toFixed()})`;
  if (typeof v === 'object') return `json(${JSON.stringify(v)})`;
  return `${typeof v}(${JSON.stringify(v)})`;
}

/** A plain decimal string (no exponent, no leading/trailing zeros, no "-0"). */
function plainDecimal(text) {
  let s = String(text).trim().toLowerCase();
  const neg = s.startsWith('-');
  if (neg || s.startsWith('+')) s = s.slice(1);
  const [mant, exp = '0'] = s.split('e');
  const [int, frac = ''] = mant.split('.');
  if (!/^\d*$/.test(int + frac) || !/^[+-]?\d+$/.test(exp)) return `not-a-number:${text}`;
  let digits = int + frac;
  let point = int.length + Number(exp);
  while (digits.startsWith('0')) {
    digits = digits.slice(1);
    point -= 1;
  }
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  let out;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (neg ? '-' : '') + out;
}

function sortedJson(v) {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const US_PER_DAY = 86_400_000_000n;
function parseWall(s) {
  // "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" as UTC, to µs; null when no calendar date.
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', se = '0', f = ''] = m.slice(1);
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  const back = new Date(ms);
  if (Number.isNaN(ms) || back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d)) return null;
  return BigInt(ms) * 1000n + BigInt((f + '000000').slice(0, 6));
}
function parseTime(s) {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m || Number(m[1]) > 23) return null;
  return ((BigInt(m[1]) * 60n + BigInt(m[2])) * 60n + BigInt(m[3])) * 1_000_000n + BigInt(((m[4] ?? '') + '000000').slice(0, 6));
}

/** The information a reading carries, as a comparable string. */
function inform(column, v) {
  if (v === undefined || v === null) return 'null';
  if (v instanceof Error) return 'throws';
  const t = temporal(column);
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) return 'invalid-date';
    const us = BigInt(ms) * 1000n;
    if (t === 'time') return `time:${((us % US_PER_DAY) + US_PER_DAY) % US_PER_DAY}`;
    return `instant:${us}`;
  }
  if (typeof v === 'string' && t) {
    if (t === 'time') {
      const us = parseTime(v);
      return us === null ? `unparseable:${v}` : `time:${us}`;
    }
    const us = parseWall(v);
    return us === null ? `unparseable:${v}` : `instant:${us}`;
  }
  if (typeof v === 'boolean') return `bool:${v}`;
  // TINYINT(1) read as a number by one ORM and as a boolean by the other:
  // 0 and 1 carry the same information as false and true (the shape is
  // `parity schema`'s), but any other number is a different value: Drizzle's
  // `tinyint()` hands the app 2, which JS treats as true, where Prisma hands
  // false (the same rule as SQLite's plain integer() against a Boolean, #17).
  if (column === 'b_int' && (v === 0 || v === 1)) return `bool:${v === 1}`;
  if (typeof v === 'string' && column.startsWith('dec')) return `num:${plainDecimal(v)}`;
  if (typeof v === 'bigint') return `num:${v}`;
  // A number carries its exact value when integral (what BigInt(v) gives),
  // else the decimal JavaScript prints for it.
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `num:${v}`;
    return Number.isInteger(v) ? `num:${BigInt(v)}` : `num:${plainDecimal(String(v))}`;
  }
  if (v && typeof v === 'object' && typeof v.toFixed === 'function' && 'd' in v) return `num:${plainDecimal(v.toFixed())}`;
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'string' && ['bin', 'vb', 'bl'].includes(column)) return `bytes:${Buffer.from(v, 'utf8').toString('hex')}`;
  if (column === 'j') return `json:${sortedJson(v)}`;
  if (typeof v === 'string' && column === 'e') return `text:${v}`;
  if (typeof v === 'string') return `text:${v}`;
  return `json:${sortedJson(v)}`;
}

const observations = [];
const differences = [];
for (const id of ids) {
  for (const column of columns) {
    let p;
    try {
      const row = await prisma.probe.findUnique({ where: { id }, select: { [column]: true } });
      p = row[column];
      if (column === 'e' && typeof p === 'string') p = enumNames[p] ?? p;
    } catch (e) {
      p = e instanceof Error ? e : new Error(String(e));
    }
    let d;
    try {
      const rows = await db.select({ v: probe[column] }).from(probe).where(eq(probe.id, id));
      d = rows[0].v;
    } catch (e) {
      d = e instanceof Error ? e : new Error(String(e));
    }
    const same = inform(column, p) === inform(column, d);
    observations.push({ id, column, prisma: describe(p), drizzle: describe(d), prisma_info: inform(column, p), drizzle_info: inform(column, d), same });
    if (!same) differences.push({ id, column });
  }
}
await prisma.$disconnect();
await pool.end();
process.stdout.write(JSON.stringify({ observations, differences }, null, 1) + '\n');
