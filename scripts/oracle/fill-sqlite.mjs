#!/usr/bin/env node
// Write tricky rows into every table of a SQLite file, for the real-ORM oracle
// (issue #17's values and the same kinds in every column). Only run it on a file
// you created for a test.
//
//   node scripts/oracle/fill-sqlite.mjs --file shop.db --prisma schema.prisma [--node-modules DIR]
//
// SQLite stores what it is given, so the tricky values are chosen per Prisma
// field type (from Prisma's own DMMF) and bound with their storage class: an
// INTEGER above 2^53 in an Int column, a REAL 2.5 in an Int, 25.3 in a BigInt,
// 2 in a Boolean, a Decimal stored as INTEGER 9007199254740993 / REAL / TEXT,
// DateTimes as Prisma 7 ISO text, Prisma 6 epoch milliseconds, text finer than
// microseconds, `CURRENT_TIMESTAMP` text; every enum label and one unknown label;
// JSON with big integers, key order, unicode, and text that is not JSON.
// Rows are inserted with safe values (distinct ones in unique columns), then each
// other column is set cell by cell; a value the table refuses is skipped.
// Foreign keys are off while filling.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.file || !args.prisma) {
  console.error('fill-sqlite: --file and --prisma are required');
  process.exit(2);
}
const nodeModules = path.resolve(args['node-modules'] ?? path.join(here, '../../fixtures/bikeshop/node_modules'));
const require = createRequire(path.join(nodeModules, '..', 'package.json'));
const Database = (await import(pathToFileURL(require.resolve('better-sqlite3')).href)).default;
const psl = createRequire(path.join(here, 'package.json'))('@prisma/prisma-schema-wasm');
const dmmf = JSON.parse(psl.get_dmmf(JSON.stringify({ prismaSchema: readFileSync(args.prisma, 'utf8') }))).datamodel;

const BY_TYPE = {
  Int: [0, -1, 2147483647, 2.5, 9007199254740994n, -2.5, 42],
  BigInt: [0n, 9007199254740993n, 25.3, -9223372036854775808n, 9223372036854775807n, 9007199254740991n, -0.5],
  Decimal: [9007199254740993n, 12.5, '12.50', '-0.000001', '123456789012345678.123456789', 0, 0.1, '1e-7', 2],
  Float: [0.1, -0, 1e308, 5e-324, 2, 9007199254740993n, 123.456],
  Boolean: [0, 1, 2, -1],
  DateTime: [
    '2024-03-05T10:11:12.123+00:00',
    1709633472123,
    '2024-03-05T10:11:12.123000789Z',
    '2024-03-05 10:11:12',
    '2024-03-31T02:30:00.000+02:00',
    '2024-03-05T10:11:12.123456Z',
    1709633472,
    '1970-01-01T00:00:00.000Z',
    '2024-03-05',
    'not a date',
    2.5,
  ],
  String: ['', ' ', 'héllo 🚲 ünïcode', 'line\nbreak\ttab', `quote'"\\`, 'x'.repeat(300), 'NULL'],
  Json: ['{"big": 9007199254740993}', '{"b": 1, "a": 2}', '{"u": "ü€𝄞"}', '[]', '{}', 'null', '1.10', '{"a": {"a": 1, "a": 2}}', 'not json'],
  Bytes: [Buffer.from([]), Buffer.from([0, 255])],
};
// Distinct text for key/unique columns, in an order where byte order, case and
// collation disagree (merge-joins and chunk boundaries must follow the database).
const KEY_PREFIXES = ['a', 'B', 'é', 'Z', 'ß', '_', 'aa', '🚲', 'A b', '0', 'ä'];
const textKey = (i) => `${KEY_PREFIXES[i % KEY_PREFIXES.length]}-oracle-${i}`;
const SAFE = { Int: 1, BigInt: 1, Decimal: '1', Float: 1, Boolean: 0, DateTime: '2024-01-01T00:00:00.000+00:00', String: 's', Json: '{}', Bytes: Buffer.from([0]) };

const conn = new Database(args.file);
conn.pragma('foreign_keys = OFF');
const q = (s) => `"${s.replace(/"/g, '""')}"`;
let cells = 0;
let refused = 0;
let rowsAdded = 0;
conn.exec('BEGIN');
for (const model of dmmf.models) {
  const table = model.dbName ?? model.name;
  const info = conn.prepare(`PRAGMA table_info(${q(table)})`).all();
  if (!info.length) continue;
  const uniqueCols = new Set(info.filter((c) => c.pk).map((c) => c.name));
  for (const idx of conn.prepare(`PRAGMA index_list(${q(table)})`).all()) {
    if (idx.unique) for (const c of conn.prepare(`PRAGMA index_info(${q(idx.name)})`).all()) uniqueCols.add(c.name);
  }
  const fields = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
  const colOf = (f) => f.dbName ?? f.name;
  const trickyOf = (f) => {
    let list = f.kind === 'enum' ? [...dmmf.enums.find((e) => e.name === f.type).values.map((v) => v.dbName ?? v.name), 'bogus_label'] : [...(BY_TYPE[f.type] ?? [])];
    if (f.isList) list = [];
    if (!f.isRequired) list.push(null);
    return list;
  };
  const safeOf = (f) => (f.kind === 'enum' ? dmmf.enums.find((e) => e.name === f.type).values[0].dbName ?? dmmf.enums.find((e) => e.name === f.type).values[0].name : SAFE[f.type]);
  const distinct = (f, i) => {
    switch (f.type) {
      case 'Int': return 1000000 + i;
      case 'BigInt': return 9007199254740990n + BigInt(i);
      case 'Float': case 'Decimal': return 1000 + i;
      case 'DateTime': return `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}+00:00`;
      default: return textKey(i);
    }
  };
  const present = fields.filter((f) => info.some((c) => c.name === colOf(f)));
  const n = Math.max(2, ...present.filter((f) => !uniqueCols.has(colOf(f))).map((f) => trickyOf(f).length));
  for (let i = 0; i < n; i++) {
    const vals = present.map((f) => (uniqueCols.has(colOf(f)) ? distinct(f, i) : safeOf(f)));
    let rowid;
    try {
      const r = conn
        .prepare(`INSERT INTO ${q(table)} (${present.map((f) => q(colOf(f))).join(', ')}) VALUES (${present.map(() => '?').join(', ')})`)
        .run(...vals);
      rowid = r.lastInsertRowid;
      rowsAdded++;
    } catch (e) {
      console.error(`fill-sqlite: ${table} row ${i} not inserted: ${e.message}`);
      continue;
    }
    for (const f of present) {
      if (uniqueCols.has(colOf(f))) continue;
      const list = trickyOf(f);
      if (!list.length) continue;
      try {
        conn.prepare(`UPDATE ${q(table)} SET ${q(colOf(f))} = ? WHERE rowid = ?`).run(list[i % list.length], rowid);
        cells++;
      } catch {
        refused++;
      }
    }
  }
}
// Implicit many-to-many join tables: a couple of rows each.
for (const t of conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_%' ESCAPE '\\'").all()) {
  const info = conn.prepare(`PRAGMA table_info(${q(t.name)})`).all();
  if (info.map((c) => c.name).join() !== 'A,B') continue;
  for (let i = 0; i < 2; i++) {
    try {
      conn.prepare(`INSERT INTO ${q(t.name)} ("A", "B") VALUES (?, ?)`).run(info[0].type.toUpperCase().includes('INT') ? 1000000 + i : textKey(i), info[1].type.toUpperCase().includes("INT") ? 1000000 + i : textKey(i));
      rowsAdded++;
    } catch {
      refused++;
    }
  }
}
conn.exec('COMMIT');
conn.close();
console.error(`fill-sqlite: ${rowsAdded} rows added, ${cells} tricky cells written, ${refused} refused`);
