#!/usr/bin/env node
// Write tricky rows into every table of a PostgreSQL database (schema public),
// for the real-ORM oracle. Only ever run it on a database you created for a test.
//
//   node scripts/oracle/fill-pg.mjs --url postgres://…/db [--rows N] [--node-modules DIR]
//
// From the live catalog, per table, it inserts N rows (default: the longest
// tricky list) with safe values, distinct ones in every column of a unique index,
// then sets each other column, cell by cell inside a savepoint, to the next value of
// its type's tricky list: µs timestamps, DST edges, ±infinity, BC and year-10000
// timestamps, bigints around 2^53 and at 2^63-1, long and negative decimals with
// trailing zeros, NaN/±Infinity, floats, every enum label, JSON with big integers,
// key order and unicode, NULLs, empty strings and lists, arrays with NULL elements,
// bytes. A value the column refuses (a CHECK, an overflow) is skipped and counted.
// Foreign keys are not enforced while filling (session_replication_role = replica):
// the ORMs read scalar columns, so dangling references change nothing they hand.
// Prints one summary line on stderr; exit 2 on bad input.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.url) {
  console.error('fill-pg: --url is required');
  process.exit(2);
}
const nodeModules = path.resolve(args['node-modules'] ?? path.join(here, '../../fixtures/bikeshop/node_modules'));
const require = createRequire(path.join(nodeModules, '..', 'package.json'));
const pg = (await import(pathToFileURL(require.resolve('pg')).href)).default;

const TS = [
  '2024-03-05 10:11:12.123456',
  '2024-03-31 02:30:00',
  '2024-10-27 02:30:00.5',
  'infinity',
  '1970-01-01 00:00:00',
  '-infinity',
  '1969-12-31 23:59:59.999999',
  '0044-03-15 12:00:00 BC',
  '2024-02-29 23:59:59.9995',
  '9999-12-31 23:59:59.999',
  '10000-01-01 00:00:00',
  '0001-01-01 00:00:00',
  '0099-06-01 00:00:00.000001',
  '2024-03-05 10:11:12.1',
];
const TSTZ = [
  '2024-03-05 10:11:12.123456+00',
  '2024-03-31 02:30:00+02',
  '2024-10-27 02:30:00.5+05:30',
  'infinity',
  '1970-01-01 00:00:00+00',
  '-infinity',
  '1969-12-31 23:59:59.999999-08',
  '0044-03-15 12:00:00+00 BC',
  '9999-12-31 23:59:59.999+00',
  '10000-01-01 00:00:00+00',
  '0001-01-01 00:00:00+00',
  '0099-06-01 00:00:00+00',
];
const TRICKY = {
  int2: ['0', '-1', '32767', '-32768', '7'],
  int4: ['0', '-1', '2147483647', '-2147483648', '42'],
  int8: ['0', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '12345'],
  numeric: [
    '0', '0.00', '-0.50', '1.10', '12345678.90', '99999999.99', '-0.01', '123456789012345678.123456789012',
    '0.000000000000000000000000000001', '1500000000000000000000', 'NaN', 'Infinity', '-Infinity', '9007199254740993',
  ],
  float4: ['0', '-0', '0.1', '3.4e38', '1e-45', 'NaN', 'Infinity', '-Infinity', '123.456'],
  float8: ['0', '-0', '0.1', '1e308', '5e-324', 'NaN', 'Infinity', '-Infinity', '123.456', '9007199254740993'],
  bool: ['true', 'false'],
  text: ['', ' ', 'héllo 🚲 ünïcode', 'line\nbreak\ttab', `quote'"\\`, 'x'.repeat(300), 'null', 'NULL', 'US'],
  uuid: ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '3f1c2a9e-7b4d-4e8f-9a0b-1c2d3e4f5a6b'],
  timestamp: TS,
  timestamptz: TSTZ,
  date: ['2024-02-29', '1970-01-01', 'infinity', '-infinity', '0044-03-15 BC', '10000-01-01', '0001-01-01', '0099-06-01', '9999-12-31'],
  time: ['00:00:00', '23:59:59.999999', '12:34:56.789', '24:00:00', '12:34:56.7891'],
  timetz: ['12:34:56.789+02', '00:00:00+00', '23:59:59.999999-05'],
  json: [
    '{"big": 9007199254740993}', '{"b": 1, "a": 2}', '{"u": "ü€𝄞 \\u0000x"}', '[]', '{}', 'null', '1.10', '"str"',
    '{"n": 12345678901234567890}', '{"a": {"a": 1, "a": 2}}', '[1, 2.50, -0, 1e400]',
  ],
  bytea: ['\\x', '\\x00ff', '\\xdeadbeef'],
};
TRICKY.jsonb = TRICKY.json.filter((v) => !v.includes('\\u0000'));
TRICKY.varchar = TRICKY.text;
TRICKY.bpchar = TRICKY.text;
TRICKY.citext = TRICKY.text;
TRICKY.oid = TRICKY.int4;

// Distinct text for key/unique columns, in an order where byte order, case and
// collation disagree (merge-joins and chunk boundaries must follow the database).
const KEY_PREFIXES = ['a', 'B', 'é', 'Z', 'ß', '_', 'aa', '🚲', 'A b', '0', 'ä'];
const textKey = (i) => `${KEY_PREFIXES[i % KEY_PREFIXES.length]}-oracle-${i}`;
const SAFE = {
  int2: '1', int4: '1', int8: '1', numeric: '1', float4: '1', float8: '1', bool: 'false', text: 's', varchar: 's', bpchar: 's',
  citext: 's', uuid: '11111111-1111-1111-1111-111111111111', timestamp: '2024-01-01 00:00:00', timestamptz: '2024-01-01 00:00:00+00',
  date: '2024-01-01', time: '00:00:00', timetz: '00:00:00+00', json: '{}', jsonb: '{}', bytea: '\\x00',
};

function distinct(typ, i) {
  switch (typ) {
    case 'int2': return String(1000 + i);
    case 'int4': case 'oid': return String(1000000 + i);
    case 'int8': return String(9007199254740990n + BigInt(i));
    case 'numeric': case 'float4': case 'float8': return String(1000 + i);
    case 'uuid': return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    case 'timestamp': return `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`;
    case 'timestamptz': return `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}+00`;
    case 'date': return `2023-01-${String((i % 28) + 1).padStart(2, '0')}`;
    case 'bool': return i % 2 ? 'true' : 'false';
    default: return textKey(i);
  }
}

const arrLit = (elems) =>
  `{${elems.map((e) => (e === null ? 'NULL' : `"${String(e).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;

const client = new pg.Client({ connectionString: args.url });
await client.connect();
await client.query("SET session_replication_role = replica; SET TimeZone = 'UTC'; BEGIN");
const { rows: cols } = await client.query(`
  SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS fmt,
         t.typname, t.typtype, t.oid AS typoid, e.typname AS elem, e.typtype AS elemtype, e.oid AS elemoid,
         a.attnotnull AS notnull, a.attidentity AS identity, a.attgenerated AS generated,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND a.attnum = ANY (i.indkey)) AS uniq
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
  WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    AND c.relname NOT IN ('_prisma_migrations')
  ORDER BY c.relname, a.attnum`);
const { rows: labels } = await client.query('SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder');
const enumLabels = new Map();
for (const l of labels) {
  if (!enumLabels.has(l.enumtypid)) enumLabels.set(l.enumtypid, []);
  enumLabels.get(l.enumtypid).push(l.enumlabel);
}

function trickyOf(c) {
  let list;
  if (c.elem) {
    const base = c.elemtype === 'e' ? enumLabels.get(c.elemoid) ?? [] : TRICKY[c.elem] ?? [];
    list = ['{}', arrLit([null]), base.length ? arrLit([base[0], null]) : null, base.length ? arrLit(base.slice(0, 3)) : null].filter(Boolean);
  } else if (c.typtype === 'e') {
    list = [...(enumLabels.get(c.typoid) ?? [])];
  } else {
    list = [...(TRICKY[c.typname] ?? [])];
  }
  if (!c.notnull) list.push(null);
  return list;
}
function safeOf(c) {
  if (c.elem) return '{}';
  if (c.typtype === 'e') return enumLabels.get(c.typoid)?.[0];
  return SAFE[c.typname];
}

const tables = new Map();
for (const c of cols) {
  if (!tables.has(c.table)) tables.set(c.table, []);
  tables.get(c.table).push(c);
}
const q = (s) => `"${s.replace(/"/g, '""')}"`;
let cells = 0;
let refused = 0;
let rowsAdded = 0;
for (const [table, tcols] of tables) {
  const writable = tcols.filter((c) => !c.generated);
  const tricky = new Map(writable.map((c) => [c, trickyOf(c)]));
  const n = Number(args.rows ?? Math.max(2, ...writable.filter((c) => !c.uniq).map((c) => tricky.get(c).length)));
  for (let i = 0; i < n; i++) {
    const insertCols = [];
    const vals = [];
    for (const c of writable) {
      const v = c.uniq ? (c.typtype === 'e' ? enumLabels.get(c.typoid)?.[i % (enumLabels.get(c.typoid)?.length || 1)] : distinct(c.typname, i)) : safeOf(c);
      if (v === undefined) continue;
      insertCols.push(c);
      vals.push(v);
    }
    const overriding = writable.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
    let ctid;
    try {
      await client.query('SAVEPOINT r');
      const r = await client.query(
        `INSERT INTO ${q(table)} (${insertCols.map((c) => q(c.column)).join(', ')})${overriding} VALUES (${insertCols.map((c, j) => `$${j + 1}::${c.fmt}`).join(', ')}) RETURNING ctid::text AS ctid`,
        vals,
      );
      ctid = r.rows[0].ctid;
      rowsAdded++;
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT r');
      console.error(`fill-pg: ${table} row ${i} not inserted: ${e.message}`);
      continue;
    }
    for (const c of writable) {
      if (c.uniq) continue;
      const list = tricky.get(c);
      if (!list.length) continue;
      const v = list[i % list.length];
      try {
        await client.query('SAVEPOINT c');
        const r = await client.query(`UPDATE ${q(table)} SET ${q(c.column)} = $1::${c.fmt} WHERE ctid = $2::tid RETURNING ctid::text AS ctid`, [v, ctid]);
        ctid = r.rows[0].ctid;
        cells++;
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT c');
        refused++;
      }
    }
  }
}
await client.query('COMMIT');
await client.end();
console.error(`fill-pg: ${tables.size} tables, ${rowsAdded} rows added, ${cells} tricky cells written, ${refused} refused by the column`);
