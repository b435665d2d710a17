#!/usr/bin/env node
// drizzle-mapping.mjs: export a Drizzle schema's read mapping for parity.
//
// Run it inside YOUR app (the working directory must be the app, where
// drizzle-orm is installed); the script itself may live anywhere:
//
//   node --import tsx /path/to/drizzle-mapping.mjs src/db/schema.ts > drizzle-mapping.json
//   node /path/to/drizzle-mapping.mjs dist/db/schema.js > drizzle-mapping.json
//
// `--import tsx` lets Node load a TypeScript schema (tsx must be installed in
// the app). Without it, a schema Node cannot load is handed to tsx's tsImport()
// API, again when the app has tsx installed. The schema path is taken relative to the working
// directory. drizzle-orm is resolved from the working directory, never from the
// script's folder.
//
// Output (stdout), format "parity-drizzle-mapping" version 1:
//   {"format":"parity-drizzle-mapping","version":1,"dialect":"postgresql",
//    "tables":[{"name","schema","export","primaryKey":[...],"columns":[
//      {"name","key","columnType","dataType","mode","sqlType","notNull",
//       "primary","hasDefault","enumValues","isUpdatedAt"}]}],
//    "enums":[{"name","schema","values":[...]}]}
// - dialect: "postgresql", "mysql" or "sqlite" (one schema module, one dialect).
// - mode: the column's `config.mode` when Drizzle keeps one (SQLite integer
//   modes); otherwise the read mode implied by its column class for the column
//   builders that take a `mode` option (PgBigInt53 -> "number", PgBigSerial64 ->
//   "bigint", PgTimestampString -> "string", PgTimestamp -> "date", PgNumeric ->
//   "string", MySqlDateTime -> "date", SQLiteText -> "text", ...); else null.
// - primaryKey: the composite key from getTableConfig(t).primaryKeys, else the
//   columns marked primary, as database column names.
// - isUpdatedAt: the column has an $onUpdate function.
// - baseColumn (array columns only): the innermost element column, described
//   the same way (its class gives the elements' read mode).
// - tables are sorted by schema and name; enums (pgEnum exports) by name.
// Errors (bad arguments, missing file, import failure, no tables): one line on
// stderr and exit code 2.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

function fail(message) {
  process.stderr.write(`drizzle-mapping: ${String(message).split('\n')[0]}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length !== 1 || args[0].startsWith('-')) {
  fail('usage: node [--import tsx] drizzle-mapping.mjs <schema file, relative to the working directory>');
}
const schemaFile = path.resolve(args[0]);
if (!existsSync(schemaFile)) fail(`schema file not found: ${args[0]}`);

// Packages as the app has them: resolved from the working directory, ESM entry.
const appRequire = createRequire(path.resolve('package.json'));
function esmEntry(pkgName, subpath) {
  let pkgJson;
  try {
    // Exports maps may hide package.json: find it above the main entry.
    let dir = path.dirname(appRequire.resolve(pkgName));
    const isRoot = (d) => {
      try {
        return JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')).name === pkgName;
      } catch {
        return false;
      }
    };
    while (!isRoot(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    pkgJson = path.join(dir, 'package.json');
  } catch {
    return null;
  }
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const entry = pkg.exports?.[subpath];
  const target = typeof entry === 'string' ? entry
    : entry?.import?.default ?? entry?.import ?? entry?.default;
  if (typeof target !== 'string') return null;
  return pathToFileURL(path.join(path.dirname(pkgJson), target)).href;
}
function drizzleEntry(subpath) {
  const url = esmEntry('drizzle-orm', subpath);
  if (!url) fail(`cannot resolve drizzle-orm${subpath.slice(1)} from ${process.cwd()} (run this script inside the app, where drizzle-orm is installed)`);
  return url;
}
const [orm, pgCore, mysqlCore, sqliteCore] = await Promise.all(
  ['.', './pg-core', './mysql-core', './sqlite-core'].map((s) => import(drizzleEntry(s))),
);
const { is, getTableColumns } = orm;

// Import the schema module; fall back to tsx's API for TypeScript when no
// loader was given on the command line.
async function importSchema() {
  const url = pathToFileURL(schemaFile).href;
  try {
    return await import(url);
  } catch (err) {
    if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    const api = esmEntry('tsx', './esm/api');
    if (!api) fail(`cannot load ${args[0]}: run with \`node --import tsx\` (tsx is not installed in this app)`);
    // tsImport loads the file through a private tsx loader, whatever the app's
    // module type (a plain import() would hit the failed load cached above).
    return (await import(api)).tsImport(url, import.meta.url);
  }
}
let mod;
try {
  mod = await importSchema();
} catch (err) {
  fail(`cannot import ${args[0]}: ${err?.message ?? err}`);
}

// Read modes implied by column classes whose builders take a `mode` option.
const IMPLIED_MODE = {
  PgBigInt53: 'number', PgBigInt64: 'bigint',
  PgBigSerial53: 'number', PgBigSerial64: 'bigint',
  PgTimestamp: 'date', PgTimestampString: 'string',
  PgDate: 'date', PgDateString: 'string',
  PgNumeric: 'string', PgNumericNumber: 'number', PgNumericBigInt: 'bigint',
  PgPointTuple: 'tuple', PgPointObject: 'xy',
  PgGeometry: 'tuple', PgGeometryObject: 'xy',
  PgLine: 'tuple', PgLineABC: 'abc',
  MySqlBigInt53: 'number', MySqlBigInt64: 'bigint',
  MySqlTimestamp: 'date', MySqlTimestampString: 'string',
  MySqlDateTime: 'date', MySqlDateTimeString: 'string',
  MySqlDate: 'date', MySqlDateString: 'string',
  MySqlDecimal: 'string', MySqlDecimalNumber: 'number', MySqlDecimalBigInt: 'bigint',
  SQLiteInteger: 'number', SQLiteText: 'text', SQLiteTextJson: 'json',
  SQLiteBlobBuffer: 'buffer', SQLiteBlobJson: 'json', SQLiteBigInt: 'bigint',
  SQLiteNumeric: 'string', SQLiteNumericNumber: 'number', SQLiteNumericBigInt: 'bigint',
};

function describeColumn(c, key) {
  const explicit = c.config?.mode ?? c.mode;
  const out = {
    name: c.name,
    key,
    columnType: c.columnType,
    dataType: c.dataType,
    mode: typeof explicit === 'string' ? explicit : IMPLIED_MODE[c.columnType] ?? null,
    sqlType: c.getSQLType(),
    notNull: Boolean(c.notNull),
    primary: Boolean(c.primary),
    hasDefault: Boolean(c.hasDefault),
    enumValues: Array.isArray(c.enumValues) ? [...c.enumValues] : null,
    isUpdatedAt: typeof c.onUpdateFn === 'function',
  };
  // PgArray: the innermost element column, whose class gives the elements'
  // read mode (the dimensions are in sqlType: "timestamp[][]").
  let base = c.baseColumn;
  while (base?.baseColumn) base = base.baseColumn;
  if (base && typeof base.getSQLType === 'function') {
    out.baseColumn = { ...describeColumn(base, key), name: c.name };
  }
  return out;
}

const DIALECTS = [
  { name: 'postgresql', Table: pgCore.PgTable, getTableConfig: pgCore.getTableConfig },
  { name: 'mysql', Table: mysqlCore.MySqlTable, getTableConfig: mysqlCore.getTableConfig },
  { name: 'sqlite', Table: sqliteCore.SQLiteTable, getTableConfig: sqliteCore.getTableConfig },
];

const seen = new Map(); // table object -> entry (a table exported twice is listed once)
const dialects = new Set();
for (const exportName of Object.keys(mod).sort()) {
  const value = mod[exportName];
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) continue;
  const dialect = DIALECTS.find((d) => is(value, d.Table));
  if (!dialect || seen.has(value)) continue;
  dialects.add(dialect.name);
  const config = dialect.getTableConfig(value);
  const keyed = getTableColumns(value);
  const keyOf = new Map(Object.entries(keyed).map(([k, c]) => [c, k]));
  const columns = config.columns.map((c) => describeColumn(c, keyOf.get(c) ?? c.name));
  const composite = config.primaryKeys[0];
  const primaryKey = composite
    ? composite.columns.map((c) => c.name)
    : config.columns.filter((c) => c.primary).map((c) => c.name);
  seen.set(value, {
    name: config.name,
    schema: config.schema ?? null,
    export: exportName,
    primaryKey,
    columns,
  });
}

if (seen.size === 0) fail(`no Drizzle tables exported by ${args[0]}`);
if (dialects.size > 1) fail(`${args[0]} mixes dialects: ${[...dialects].join(', ')}`);
const dialect = [...dialects][0];

const tables = [...seen.values()].sort((a, b) =>
  cmp(a.schema ?? '', b.schema ?? '') || cmp(a.name, b.name));

const enums = [];
if (dialect === 'postgresql') {
  const found = new Map();
  for (const exportName of Object.keys(mod).sort()) {
    const value = mod[exportName];
    if (typeof value === 'function' && pgCore.isPgEnum(value) && !found.has(value)) {
      found.set(value, { name: value.enumName, schema: value.schema ?? null, values: [...value.enumValues] });
    }
  }
  enums.push(...[...found.values()].sort((a, b) =>
    cmp(a.schema ?? '', b.schema ?? '') || cmp(a.name, b.name)));
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

process.stdout.write(JSON.stringify({ format: 'parity-drizzle-mapping', version: 1, dialect, tables, enums }, null, 2) + '\n');
