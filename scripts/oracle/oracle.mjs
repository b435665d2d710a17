#!/usr/bin/env node
// The real-ORM oracle: reads every table of a database through the real Prisma 7
// client (adapter-pg, adapter-mariadb or adapter-better-sqlite3) and the real drizzle-orm, through
// the app's own schema.prisma and Drizzle schema.ts, and writes the cell-level
// differences between the two ORMs' JS values, the columns whose JS types differ
// (shape), and the cells either ORM throws on.
//
//   node --import tsx scripts/oracle/oracle.mjs --prisma schema.prisma --drizzle schema.ts \
//        --url postgres://…/db | mysql://…/db | sqlite:/path/file.db  --out cells.json \
//        [--node-modules fixtures/bikeshop/node_modules] [--cache target/oracle-cache]
//
// Prisma is the source side, Drizzle the target side (as in parity's configs).
// Tables pair by physical name. Rows pair by the physical primary key (or the
// first all-required unique criterion): each ORM reads the table ordered by it,
// and a raw read of the same order names each row's key.
// A whole-query throw is recorded per table; the oracle then reads column by
// column, and row by row (offset/limit) for a column that throws, to name each
// cell that cannot be read (`unreadable_in_source` / `unreadable_in_target`).
//
// Output (JSON): { tables: [{ table, key, rows_source, rows_target, error_source,
//   error_target, columns: [{ column, source_type, target_type, shape, enum_shape }] }],
//   cells: [{ table, key, column, kind, source, target, error }],
//   both_unreadable: [{ table, key, column, source, target }] }
// A cell both ORMs throw on is no difference between them: it is listed in
// both_unreadable, not in cells.
// where key is an object of key column -> text (as PostgreSQL/SQLite print it).
// Exit 0 when it ran (differences are data, not failures), 2 on bad input.
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateClient, importClient, mariadbOptions } from './prisma-client.mjs';
import { sameInfo, show, typeOf } from './values.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function die(msg) {
  console.error(`oracle: ${msg}`);
  process.exit(2);
}

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i];
  if (!k.startsWith('--') || process.argv[i + 1] === undefined) die(`bad argument ${k}; usage in the header of scripts/oracle/oracle.mjs`);
  args[k.slice(2)] = process.argv[i + 1];
}
for (const k of ['prisma', 'drizzle', 'url', 'out']) if (!args[k]) die(`--${k} is required`);
const nodeModules = path.resolve(args['node-modules'] ?? path.join(root, 'fixtures/bikeshop/node_modules'));
const cacheDir = path.resolve(args.cache ?? path.join(root, 'target/oracle-cache'));
if (!existsSync(path.join(nodeModules, '@prisma/client'))) die(`no @prisma/client in ${nodeModules}; run npm ci in fixtures/bikeshop`);
const sqlite = args.url.startsWith('sqlite:') || args.url.startsWith('file:');
const mysqlUrl = args.url.startsWith('mysql:') || args.url.startsWith('mariadb:');

const require = createRequire(path.join(nodeModules, '..', 'package.json'));
const load = (s) => import(pathToFileURL(require.resolve(s)).href);
const oracleRequire = createRequire(path.join(here, 'package.json'));

// ---------------------------------------------------------------- Prisma DMMF
const psl = oracleRequire('@prisma/prisma-schema-wasm');
function dmmfOf(text) {
  const cleaned = text.replace(/^(\s*)(url|directUrl|shadowDatabaseUrl)(\s*=.*)$/gm, '$1// $2$3');
  return JSON.parse(psl.get_dmmf(JSON.stringify({ prismaSchema: cleaned }))).datamodel;
}
const prismaText = readFileSync(args.prisma, 'utf8');
const dmmf = dmmfOf(prismaText);

mkdirSync(cacheDir, { recursive: true });
const clientDir = generateClient(args.prisma, { cacheDir, nodeModules });
const { PrismaClient, Prisma } = await importClient(clientDir);
const Decimal = Prisma.Decimal;

// --------------------------------------------------------------- Drizzle schema
// Copied next to the cache's node_modules link so the schema resolves drizzle-orm.
const dzText = readFileSync(args.drizzle, 'utf8');
const dzDir = path.join(cacheDir, 'drizzle-' + createHash('sha256').update(dzText).digest('hex').slice(0, 16));
mkdirSync(dzDir, { recursive: true });
writeFileSync(path.join(dzDir, 'package.json'), '{ "type": "module", "private": true }\n');
cpSync(args.drizzle, path.join(dzDir, 'schema.ts'));
const dz = await import(pathToFileURL(path.join(dzDir, 'schema.ts')).href);
const orm = await load('drizzle-orm');
const core = await load(sqlite ? 'drizzle-orm/sqlite-core' : mysqlUrl ? 'drizzle-orm/mysql-core' : 'drizzle-orm/pg-core');
const TableClass = sqlite ? core.SQLiteTable : mysqlUrl ? core.MySqlTable : core.PgTable;
const dzTables = new Map();
for (const v of Object.values(dz)) {
  if (orm.is(v, TableClass)) {
    const cfg = core.getTableConfig(v);
    dzTables.set(cfg.name, { table: v, cfg, cols: orm.getTableColumns(v) });
  }
}

// ------------------------------------------------------------------ connections
let prisma;
let db;
let rawKeys; // (table, keyCols) -> array of key objects in key order
let closeAll;
if (sqlite) {
  const file = args.url.replace(/^(sqlite|file):(\/\/)?/, '');
  const { PrismaBetterSqlite3 } = await load('@prisma/adapter-better-sqlite3');
  const Database = (await load('better-sqlite3')).default;
  const { drizzle } = await load('drizzle-orm/better-sqlite3');
  prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const conn = new Database(file, { readonly: true });
  const rawConn = new Database(file, { readonly: true });
  db = drizzle(conn);
  rawKeys = async (table, keyCols) => {
    const q = (c) => `"${c.replace(/"/g, '""')}"`;
    // Aliases k0, k1…: ordering by the column, not by its text.
    const rows = rawConn
      .prepare(`SELECT ${keyCols.map((c, i) => `CAST(${q(c)} AS TEXT) AS k${i}`).join(', ')} FROM ${q(table)} ORDER BY ${keyCols.map(q).join(', ')}`)
      .all();
    return rows.map((r) => Object.fromEntries(keyCols.map((c, i) => [c, r[`k${i}`]])));
  };
  closeAll = async () => {
    await prisma.$disconnect();
    conn.close();
    rawConn.close();
  };
} else if (mysqlUrl) {
  // Prisma 7 through @prisma/adapter-mariadb, Drizzle through mysql2: what the app runs.
  const { PrismaMariaDb } = await load('@prisma/adapter-mariadb');
  const mysql = (await load('mysql2/promise')).default;
  const { drizzle } = await load('drizzle-orm/mysql2');
  prisma = new PrismaClient({ adapter: new PrismaMariaDb(mariadbOptions(args.url)) });
  const pool = mysql.createPool({ uri: args.url.replace(/^mariadb:/, 'mysql:'), connectionLimit: 2 });
  db = drizzle(pool);
  rawKeys = async (table, keyCols) => {
    const q = (c) => `\`${c.replace(/`/g, '``')}\``;
    // The key as the server prints it, in the collation's order (as both ORMs order).
    const [rows] = await pool.query(
      `SELECT ${keyCols.map((c, i) => `CAST(${q(c)} AS CHAR) AS k${i}`).join(', ')} FROM ${q(table)} ORDER BY ${keyCols.map(q).join(', ')}`,
    );
    return rows.map((row) => Object.fromEntries(keyCols.map((c, i) => [c, row[`k${i}`]])));
  };
  closeAll = async () => {
    await prisma.$disconnect();
    await pool.end();
  };
} else {
  const { PrismaPg } = await load('@prisma/adapter-pg');
  const pg = (await load('pg')).default;
  const { drizzle } = await load('drizzle-orm/node-postgres');
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: args.url }) });
  const pool = new pg.Pool({ connectionString: args.url, max: 2 });
  db = drizzle(pool);
  rawKeys = async (table, keyCols) => {
    const q = (c) => `"${c.replace(/"/g, '""')}"`;
    // Aliases k0, k1…: ordering by the column, not by its text.
    const r = await pool.query(
      `SELECT ${keyCols.map((c, i) => `${q(c)}::text AS k${i}`).join(', ')} FROM ${q(table)} ORDER BY ${keyCols.map(q).join(', ')}`,
    );
    return r.rows.map((row) => Object.fromEntries(keyCols.map((c, i) => [c, row[`k${i}`]])));
  };
  closeAll = async () => {
    await prisma.$disconnect();
    await pool.end();
  };
}

const firstLine = (e) => {
  const lines = String(e?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? String(e);
};

// ------------------------------------------------------------------- the models
const enums = new Map(dmmf.enums.map((e) => [e.name, new Map(e.values.map((v) => [v.name, v.dbName ?? v.name]))]));
const delegateOf = (model) => model.name.charAt(0).toLowerCase() + model.name.slice(1);

const out = { tables: [], cells: [], both_unreadable: [] };

for (const model of dmmf.models) {
  const tableName = model.dbName ?? model.name;
  const scalars = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
  const colOf = (f) => f.dbName ?? f.name;
  const entry = { table: tableName, key: null, rows_source: null, rows_target: null, error_source: null, error_target: null, columns: [] };
  out.tables.push(entry);
  const dzt = dzTables.get(tableName);
  if (!dzt) {
    entry.error_target = 'no Drizzle table of this name';
    continue;
  }
  // Key: @id / @@id, else the first @@unique / @unique whose fields are all required.
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  let keyFields = model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name);
  if (!keyFields.length) {
    const crit = [...(model.uniqueFields ?? []), ...model.fields.filter((f) => f.isUnique).map((f) => [f.name])];
    keyFields = crit.find((c) => c.every((n) => byName.get(n)?.isRequired)) ?? [];
  }
  if (!keyFields.length) {
    entry.error_source = 'no key: oracle skips keyless tables';
    continue;
  }
  const keyCols = keyFields.map((n) => colOf(byName.get(n)));
  entry.key = keyCols;
  const dzByCol = new Map(Object.entries(dzt.cols).map(([prop, c]) => [c.name, { prop, col: c }]));
  const orderP = keyFields.map((n) => ({ [n]: 'asc' }));
  const orderD = keyCols.map((c) => orm.asc(dzByCol.get(c).col));
  const delegate = prisma[delegateOf(model)];
  const keys = await rawKeys(tableName, keyCols);

  // Read a side whole; on a throw, column by column; a throwing column row by row.
  async function readSide(side, fields) {
    const n = keys.length;
    const values = new Map(); // field -> array of { v } | { err }
    const readCol = async (f, offset, limit) =>
      side === 'source'
        ? (await delegate.findMany({ select: { [f.name]: true }, orderBy: orderP, skip: offset, take: limit })).map((r) => r[f.name])
        : (await (() => {
            const q = db.select({ v: dzByCol.get(colOf(f)).col }).from(dzt.table).orderBy(...orderD);
            return limit === undefined ? q : q.limit(limit).offset(offset);
          })()).map((r) => r.v);
    let whole = null;
    try {
      const rows =
        side === 'source'
          ? await delegate.findMany({ orderBy: orderP })
          : await db.select().from(dzt.table).orderBy(...orderD);
      if (rows.length !== n) throw new Error(`read ${rows.length} rows, the table has ${n}`);
      for (const f of fields) {
        const key = side === 'source' ? f.name : dzByCol.get(colOf(f))?.prop;
        values.set(f, rows.map((r) => ({ v: r[key] })));
      }
      return { values, whole };
    } catch (e) {
      whole = firstLine(e);
    }
    for (const f of fields) {
      try {
        values.set(f, (await readCol(f, undefined, undefined)).map((v) => ({ v })));
      } catch {
        const cells = [];
        for (let i = 0; i < n; i++) {
          try {
            cells.push({ v: (await readCol(f, i, 1))[0] });
          } catch (e) {
            cells.push({ err: firstLine(e) });
          }
        }
        values.set(f, cells);
      }
    }
    return { values, whole };
  }

  const paired = scalars.filter((f) => dzByCol.has(colOf(f)));
  const src = await readSide('source', paired);
  const tgt = await readSide('target', paired);
  entry.rows_source = keys.length;
  entry.rows_target = keys.length;
  entry.error_source = src.whole;
  entry.error_target = tgt.whole;
  for (const f of paired) {
    const column = colOf(f);
    const enumMap = f.kind === 'enum' ? enums.get(f.type) : null;
    const ctx = { Decimal, enumMap };
    const sTypes = new Set();
    const tTypes = new Set();
    let typeDiff = false;
    const sv = src.values.get(f);
    const tv = tgt.values.get(f);
    for (let i = 0; i < keys.length; i++) {
      const a = sv[i];
      const b = tv[i];
      if (a.err && b.err) {
        // Both ORMs throw on this cell: no difference between them (listed apart).
        out.both_unreadable.push({ table: tableName, key: keys[i], column, source: a.err, target: b.err });
        continue;
      }
      if (a.err || b.err) {
        if (a.err) out.cells.push({ table: tableName, key: keys[i], column, kind: 'unreadable_in_source', source: a.err, target: b.err ? b.err : show(b.v), error: a.err });
        if (b.err) out.cells.push({ table: tableName, key: keys[i], column, kind: 'unreadable_in_target', source: a.err ? a.err : show(a.v), target: b.err, error: b.err });
        continue;
      }
      const ta = typeOf(a.v);
      const tb = typeOf(b.v);
      if (ta !== 'null') sTypes.add(ta);
      if (tb !== 'null') tTypes.add(tb);
      if (ta !== 'null' && tb !== 'null' && ta !== tb) typeDiff = true;
      if (!sameInfo(a.v, b.v, ctx)) {
        out.cells.push({ table: tableName, key: keys[i], column, kind: 'different', source: show(a.v), target: show(b.v) });
      }
    }
    const enumShape = !!enumMap && [...enumMap].some(([name, label]) => name !== label);
    entry.columns.push({
      column,
      source_type: [...sTypes].sort().join('|'),
      target_type: [...tTypes].sort().join('|'),
      shape: typeDiff || enumShape,
      enum_shape: enumShape,
    });
  }
}

// Implicit many-to-many join tables (`_<relationName>`, A -> the model that sorts
// first): Prisma reads them only through the relation, so the oracle reads
// A's id with the related B ids, and compares the set of (A, B) pairs with
// Drizzle's rows of the join table.
const m2m = new Map();
for (const model of dmmf.models) {
  for (const f of model.fields) {
    if (f.kind === 'object' && f.isList && !(f.relationFromFields ?? []).length) {
      const other = dmmf.models.find((m) => m.name === f.type);
      const back = other?.fields.find((g) => g.relationName === f.relationName && g !== f);
      if (back?.isList && model.name !== other.name) m2m.set(f.relationName, model.name < other.name ? [model, f, other] : [other, back, model]);
    }
  }
}
for (const [relationName, [A, fieldOnA, B]] of m2m) {
  const tableName = `_${relationName}`;
  const entry = { table: tableName, key: ['A', 'B'], rows_source: null, rows_target: null, error_source: null, error_target: null, columns: [] };
  out.tables.push(entry);
  const dzt = dzTables.get(tableName);
  const idA = A.fields.find((f) => f.isId);
  const idB = B.fields.find((f) => f.isId);
  if (!dzt || !idA || !idB) {
    entry.key = null;
    entry.error_target = !dzt ? 'no Drizzle table of this name' : 'a composite id on a join table: not read by the oracle';
    continue;
  }
  const keyText = (v) => (v instanceof Date ? v.toISOString() : String(v));
  const src = new Set();
  try {
    const rows = await prisma[delegateOf(A)].findMany({ select: { [idA.name]: true, [fieldOnA.name]: { select: { [idB.name]: true } } } });
    for (const r of rows) for (const b of r[fieldOnA.name]) src.add(JSON.stringify([keyText(r[idA.name]), keyText(b[idB.name])]));
  } catch (e) {
    entry.error_source = firstLine(e);
  }
  const tgt = new Set();
  try {
    const cols = Object.values(dzt.cols);
    const a = cols.find((c) => c.name === 'A');
    const b = cols.find((c) => c.name === 'B');
    for (const r of await db.select({ a, b }).from(dzt.table)) tgt.add(JSON.stringify([keyText(r.a), keyText(r.b)]));
  } catch (e) {
    entry.error_target = firstLine(e);
  }
  entry.rows_source = src.size;
  entry.rows_target = tgt.size;
  for (const k of src) if (!tgt.has(k)) out.cells.push({ table: tableName, key: { A: JSON.parse(k)[0], B: JSON.parse(k)[1] }, column: '*', kind: 'missing_in_target', source: k, target: null });
  for (const k of tgt) if (!src.has(k)) out.cells.push({ table: tableName, key: { A: JSON.parse(k)[0], B: JSON.parse(k)[1] }, column: '*', kind: 'extra_in_target', source: null, target: k });
  for (const c of ['A', 'B']) entry.columns.push({ column: c, source_type: '', target_type: '', shape: false, enum_shape: false });
}
for (const name of dzTables.keys()) {
  if (!out.tables.some((t) => t.table === name)) out.tables.push({ table: name, key: null, error_source: 'no Prisma model of this name', columns: [] });
}

await closeAll();
writeFileSync(args.out, JSON.stringify(out, null, 1) + '\n');
const count = (k) => out.cells.filter((c) => c.kind === k).length;
console.error(
  `oracle: ${out.tables.length} tables, ${count('different')} different, ${count('unreadable_in_source')} unreadable_in_source, ` +
    `${count('unreadable_in_target')} unreadable_in_target, ${out.tables.flatMap((t) => t.columns).filter((c) => c.shape).length} shape columns`,
);
