#!/usr/bin/env node
// Records the SQL that the real Prisma 7 and the real drizzle-orm send for
// each repository operation in scripts/capture/operations.ts, and writes
// one parity operation file per operation: queries/<repository>/<op>.toml
// (PostgreSQL) or queries/sqlite/<repository>/<op>.toml (SQLite).
//
// Neither ORM's logger shows parameters exactly as sent (see
// ../shared/orm-semantics.md), so this wraps the driver both ORMs go
// through: `pg`'s Client#query (@prisma/adapter-pg, drizzle-orm/node-postgres)
// or better-sqlite3's Statement methods (@prisma/adapter-better-sqlite3,
// drizzle-orm/better-sqlite3). What is recorded is the SQL text and the
// parameter values as the driver sends them.
//
// Each operation runs twice per ORM with two different parameter sets. A
// placeholder whose value equals the same named parameter in both runs is
// mapped to that name; one that equals an earlier statement's result
// becomes {{stmtN.column}}; one that is the clock becomes {{now}}; anything
// else is a literal (Prisma's LIMIT/OFFSET). The SQL text must not change
// between the two runs.
//
// Writes run inside the ORM's own transaction and are then undone: every
// write operation's effect is deleted again by id (the capture database is
// a scratch copy anyway; scripts/capture-queries.sh makes one).
//
// Usage (scripts/capture-queries.sh does all of this):
//   TZ=UTC tsx scripts/capture-queries.mjs --url postgres://…|sqlite:PATH \
//     --prisma-client /tmp/x/generated/prisma/client.ts --out queries [--only NAME]

import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const fixture = path.join(root, 'fixtures/bikeshop');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const url = arg('url', process.env.DATABASE_URL);
const prismaClientPath = arg('prisma-client');
const outDir = path.resolve(arg('out', path.join(root, 'queries')));
const only = arg('only');
if (!url || !prismaClientPath) {
  console.error('usage: capture-queries.mjs --url postgres://…|sqlite:PATH --prisma-client …/client.ts [--out queries] [--only NAME]');
  process.exit(2);
}
if (process.env.TZ !== 'UTC') {
  console.error('capture-queries: run with TZ=UTC so dates go on the wire as UTC');
  process.exit(2);
}

// Packages come from the fixture project, where `npm ci` installed them.
const require = createRequire(path.join(fixture, 'package.json'));
const load = async (spec) => import(pathToFileURL(require.resolve(spec)).href);

const dialect = url.startsWith('sqlite:') ? 'sqlite' : /^(mysql|mariadb):/.test(url) ? 'mysql' : 'postgresql';
const orm = await load('drizzle-orm');
const pgUtils = require('pg/lib/utils');
const { operations } = await import(pathToFileURL(path.join(here, 'capture/operations.ts')).href);
const { PrismaClient } = await import(pathToFileURL(path.resolve(prismaClientPath)).href);

let tape = null; // array while recording
const keepRows = (entry, names, rows) => {
  entry.rows = rows.map((row) => Object.fromEntries(names.map((n, i) => [n, Array.isArray(row) ? row[i] : row[n]])));
  entry.first = entry.rows[0] ?? null;
};

let prisma;
let db;
let schema;
let runSql; // (sql, params) => rows as objects, outside the tap
let close;
if (dialect === 'postgresql') {
  // ---- the wire tap: pg's Client#query ------------------------------------
  const pg = (await load('pg')).default;
  const origQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text;
    const vals = (typeof config === 'object' && config?.values) || (Array.isArray(values) ? values : []);
    const entry = tape && text != null ? { sql: text, params: vals.map((v) => pgUtils.prepareValue(v)) } : null;
    if (entry) tape.push(entry);
    const keep = (res) => {
      if (entry && res) keepRows(entry, (res.fields ?? []).map((f) => f.name), res.rows ?? []);
    };
    // pg-pool calls query(text, values, callback); the ORMs call query(config).
    if (typeof values === 'function') {
      const cb = values;
      values = (err, res) => (keep(res), cb(err, res));
    } else if (typeof callback === 'function') {
      const cb = callback;
      callback = (err, res) => (keep(res), cb(err, res));
    }
    const r = origQuery.call(this, config, values, callback);
    if (r && typeof r.then === 'function') r.then(keep, () => {});
    return r;
  };
  const { drizzle } = await load('drizzle-orm/node-postgres');
  const { PrismaPg } = await load('@prisma/adapter-pg');
  schema = await import(pathToFileURL(path.join(fixture, 'drizzle/schema.ts')).href);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  db = drizzle(pool, { schema });
  runSql = async (sql, params = []) => {
    let n = 0;
    return (await pool.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows;
  };
  close = async () => {
    await prisma.$disconnect();
    await pool.end();
  };
} else if (dialect === 'mysql') {
  // ---- the taps: the mariadb driver's base Connection (query and
  // prepareExecute: @prisma/adapter-mariadb) and mysql2's core Connection
  // (query and execute: drizzle-orm/mysql2). What they record is the SQL
  // with its `?` placeholders and the values, before mysql2 interpolates.
  const MariaConn = require('mariadb/lib/connection.js');
  for (const method of ['query', 'prepareExecute']) {
    const orig = MariaConn.prototype[method];
    MariaConn.prototype[method] = function (cmdParam, resolve, reject) {
      const entry = tape && cmdParam?.sql != null ? { sql: cmdParam.sql, params: (cmdParam.values ?? []).map((v) => (typeof v === 'bigint' ? v.toString() : v)) } : null;
      if (entry && !/^SET /i.test(entry.sql)) tape.push(entry);
      const done = (res) => {
        if (entry && Array.isArray(res)) {
          const names = (res.meta ?? []).map((m) => (typeof m.name === 'function' ? m.name() : m.name));
          keepRows(entry, names, res);
        }
        return resolve(res);
      };
      return orig.call(this, cmdParam, done, reject);
    };
  }
  const mysql2 = require('mysql2');
  for (const method of ['query', 'execute']) {
    const orig = mysql2.Connection.prototype[method];
    mysql2.Connection.prototype[method] = function (sql, values, cb) {
      const text = typeof sql === 'string' ? sql : sql?.sql;
      const vals = Array.isArray(values) ? values : Array.isArray(sql?.values) ? sql.values : [];
      const entry = tape && text != null ? { sql: text, params: vals.map((v) => (typeof v === 'bigint' ? v.toString() : v)) } : null;
      if (entry && !/^set /i.test(text)) tape.push(entry);
      const wrap = (f) => (err, rows, fields) => {
        if (entry && Array.isArray(rows)) keepRows(entry, (fields ?? []).map((f) => f.name), rows);
        return f(err, rows, fields);
      };
      if (typeof values === 'function') return orig.call(this, sql, wrap(values));
      if (typeof cb === 'function') return orig.call(this, sql, values, wrap(cb));
      return orig.call(this, sql, values, cb);
    };
  }
  const mysqlPromise = (await load('mysql2/promise')).default;
  const { drizzle } = await load('drizzle-orm/mysql2');
  const { PrismaMariaDb } = await load('@prisma/adapter-mariadb');
  schema = await import(pathToFileURL(path.join(fixture, 'mariadb/drizzle/schema.ts')).href);
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const pool = mysqlPromise.createPool({ uri: u.href, connectionLimit: 2, timezone: 'Z' });
  prisma = new PrismaClient({
    adapter: new PrismaMariaDb({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.slice(1),
      timezone: 'Z',
    }),
  });
  // MariaDB has no LATERAL: the PlanetScale mode builds relational queries
  // from correlated subqueries instead.
  db = drizzle(pool, { schema, mode: 'planetscale' });
  // The adapter asks the server for its version on first use: do that
  // before recording, so both runs of the first operation match.
  await prisma.$queryRawUnsafe('SELECT 1');
  runSql = async (sql, params = []) => (await pool.query(sql, params))[0];
  close = async () => {
    await prisma.$disconnect();
    await pool.end();
  };
} else {
  // ---- the tap: better-sqlite3's Statement methods ------------------------
  const Database = (await load('better-sqlite3')).default;
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  const origBind = proto.bind;
  proto.bind = function (...args) {
    this.__parity_params = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return origBind.apply(this, args);
  };
  for (const method of ['run', 'get', 'all']) {
    const orig = proto[method];
    proto[method] = function (...args) {
      const params = args.length ? (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) : this.__parity_params ?? [];
      const entry = tape ? { sql: this.source, params: params.map((v) => (typeof v === 'bigint' ? v.toString() : v)) } : null;
      if (entry) tape.push(entry);
      const res = orig.apply(this, args);
      if (entry) {
        const names = this.reader ? this.columns().map((c) => c.name) : [];
        keepRows(entry, names, method === 'run' ? [] : method === 'get' ? (res == null ? [] : [res]) : res);
      }
      return res;
    };
  }
  const { drizzle } = await load('drizzle-orm/better-sqlite3');
  const { PrismaBetterSqlite3 } = await load('@prisma/adapter-better-sqlite3');
  schema = await import(pathToFileURL(path.join(fixture, 'sqlite/drizzle/schema.ts')).href);
  const client = new Database(file);
  prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  db = drizzle(client, { schema });
  runSql = async (sql, params = []) => {
    const st = client.prepare(sql);
    return st.reader ? st.all(...params) : (st.run(...params), []);
  };
  close = async () => {
    await prisma.$disconnect();
    client.close();
  };
}
const deps = { prisma, db, schema, orm, dialect };

/** A setting that may differ per dialect: a value or { postgresql, sqlite }. */
const forDialect = (v) => (v && typeof v === 'object' && !Array.isArray(v) && (dialect in v || 'postgresql' in v || 'sqlite' in v || 'mysql' in v) ? v[dialect] : v);
const paramsFrom = (op) => forDialect(op.params_from);

async function record(fn) {
  tape = [];
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20)); // let result hooks land
    return tape;
  } finally {
    tape = null;
  }
}

function cuid() {
  return 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12).padEnd(10, '0');
}

function fresh(op, set) {
  const p = { ...set };
  for (const [k, kind] of Object.entries(op.generate ?? {})) {
    p[k] = kind === 'uuid' ? crypto.randomUUID() : kind === 'now' ? new Date() : cuid();
  }
  return p;
}

async function undo(op, p) {
  if (!op.writes) return;
  // The fixture's only write operation creates a repair (+ join rows, cascade).
  if (p.repair_id) {
    await runSql(dialect === 'mysql' ? 'DELETE FROM `_ItemToRepair` WHERE `B` = ?' : 'DELETE FROM "_ItemToRepair" WHERE "B" = ?', [p.repair_id]);
    await runSql('DELETE FROM repairs WHERE id = ?', [p.repair_id]);
  }
}

const wire = (v) => (v == null ? null : String(pgUtils.prepareValue(v)));
// Each ORM formats a Date its own way ('2024-01-01 00:00:00' vs
// '2024-01-01T00:00:00.000+00:00'): compare instants, not spellings.
const asTime = (v) => {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(v)) return NaN;
  const iso = v.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d\d(:?\d\d)?)$/.test(iso) ? iso.replace(/([+-]\d\d)$/, '$1:00') : iso + 'Z');
};
const same = (a, b) => {
  if (a == null || b == null) return a == null && b == null;
  const x = String(a);
  const y = String(b);
  if (x === y) return true;
  const tx = asTime(x);
  return Number.isFinite(tx) && tx === asTime(y);
};
const isNow = (v, t0, t1) => {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(v)) return false;
  const t = Date.parse(v.includes('T') || /[Z+]/.test(v.slice(10)) ? v : v.replace(' ', 'T') + 'Z');
  return Number.isFinite(t) && t >= t0 - 5000 && t <= t1 + 5000;
};

/**
 * Prisma's includes put the parents' ids into `IN ($1,$2,…)`: as many
 * placeholders as the previous query returned rows. Such a list becomes
 * `{{stmtK.col[]}}` (parity expands it per execution) and the remaining
 * placeholders are renumbered in order.
 */
function lists(tapeRun) {
  return tapeRun.map((st, si) => {
    const question = !/\$\d/.test(st.sql);
    // Placeholder number (1-based) of each `?`, by its offset in the SQL.
    const qIndex = new Map();
    if (question) {
      let k = 0;
      for (let i = 0; i < st.sql.length; i++) if (st.sql[i] === '?') qIndex.set(i, ++k);
    }
    const re = question ? /IN \((\?(?:,\s*\?)*)\)/g : /IN \((\$\d+(?:,\s*\$\d+)*)\)/g;
    let m;
    const drop = new Set();
    const replacements = [];
    while ((m = re.exec(st.sql))) {
      const nums = question
        ? [...m[1].matchAll(/\?/g)].map((q) => qIndex.get(m.index + 4 + q.index))
        : m[1].split(',').map((x) => Number(x.trim().slice(1)));
      const vals = nums.map((n) => String(st.params[n - 1])).sort();
      let found = null;
      for (let k = 0; k < si && !found; k++) {
        const rows = tapeRun[k].rows ?? [];
        if (!rows.length) continue;
        for (const col of Object.keys(rows[0])) {
          const colVals = [...new Set(rows.map((r) => wire(r[col])))].sort();
          if (colVals.length === vals.length && colVals.every((v, i) => v === vals[i])) {
            found = `{{stmt${k + 1}.${col}[]}}`;
            break;
          }
        }
      }
      if (found) {
        nums.forEach((n) => drop.add(n));
        replacements.push([m.index + 4, m[1].length, found]);
      }
    }
    if (!replacements.length) return st;
    let sql = st.sql;
    for (const [at, len, text] of replacements.reverse()) sql = sql.slice(0, at) + text + sql.slice(at + len);
    let params;
    if (question) {
      params = st.params.filter((_, i) => !drop.has(i + 1));
    } else {
      // Renumber what is left, in order of appearance.
      const order = [];
      sql = sql.replace(/\$(\d+)/g, (_, n) => {
        order.push(Number(n));
        return `$${order.length}`;
      });
      params = order.map((n) => st.params[n - 1]);
    }
    return { ...st, sql, params };
  });
}

/** Maps each captured placeholder to a name, a reference or a literal. */
function classify(rawRuns, sets, windows) {
  const [a, b] = rawRuns.map(lists);
  if (a.length !== b.length) throw new Error(`statement count differs between runs (${a.length} vs ${b.length})`);
  return a.map((st, si) => {
    const other = b[si];
    if (st.sql !== other.sql) throw new Error(`SQL of statement ${si + 1} depends on the parameter values:\n${st.sql}\n${other.sql}`);
    const params = st.params.map((v, pi) => {
      const w = other.params[pi];
      for (const name of Object.keys(sets[0])) {
        if (same(wire(sets[0][name]), v) && same(wire(sets[1][name]), w)) {
          return name;
        }
      }
      for (let k = 0; k < si; k++) {
        for (const [col, val] of Object.entries(a[k].first ?? {})) {
          if (val != null && same(wire(val), v) && same(wire(b[k].first?.[col]), w)) return `{{stmt${k + 1}.${col}}}`;
        }
      }
      if (isNow(v, ...windows[0]) && isNow(w, ...windows[1])) return '{{now}}';
      if (v !== w) throw new Error(`placeholder ${pi + 1} of statement ${si + 1} changes between runs (${v} vs ${w}) but matches no parameter`);
      return { literal: v };
    });
    return { sql: st.sql, params };
  });
}

/** Two sample sets that differ in every parameter, so no literal is mistaken for one. */
function pickSets(rows) {
  for (let j = rows.length - 1; j > 0; j--) {
    const a = rows[0];
    const b = rows[j];
    if (Object.keys(a).every((k) => wire(a[k]) !== wire(b[k]))) return [a, b];
  }
  throw new Error('params_from gave no two rows that differ in every column; the capture needs them to tell parameters from literals');
}

// ---- TOML output -----------------------------------------------------------
const q = (s) => JSON.stringify(s); // TOML basic strings accept JSON escapes
const tomlValue = (v) => {
  if (v && typeof v === 'object' && 'literal' in v) {
    const x = v.literal;
    if (x == null) return '{ null = true }';
    if (/^-?\d{1,15}$/.test(String(x))) return String(Number(x));
    return `{ value = ${q(String(x))} }`;
  }
  return q(v);
};

function side(label, orm, statements, rename) {
  const lines = [`[${label}]`, `orm = ${q(orm)}`];
  if (rename && Object.keys(rename).length) {
    lines.push(`rename = { ${Object.entries(rename).map(([k, v]) => `${q(k)} = ${q(v)}`).join(', ')} }`);
  }
  if (statements.length === 1) {
    lines.push(`statements = [${q(statements[0].sql)}]`);
    lines.push(`params = [${statements[0].params.map(tomlValue).join(', ')}]`);
  } else {
    for (const st of statements) {
      lines.push('', `[[${label}.statements]]`, `sql = ${q(st.sql)}`);
      if (st.params.length) lines.push(`params = [${st.params.map(tomlValue).join(', ')}]`);
    }
  }
  return lines.join('\n');
}

function toml(op, src, tgt) {
  const out = [
    dialect === 'sqlite'
      ? `# Captured from the real ORMs by scripts/capture-queries.mjs (Prisma 7 + @prisma/adapter-better-sqlite3,`
      : dialect === 'mysql'
        ? `# Captured from the real ORMs by scripts/capture-queries.mjs (Prisma 7 + @prisma/adapter-mariadb,`
        : `# Captured from the real ORMs by scripts/capture-queries.mjs (Prisma 7 + @prisma/adapter-pg,`,
    dialect === 'sqlite'
      ? `# drizzle-orm + better-sqlite3) against a seeded bike-shop fixture. Do not edit the SQL by hand:`
      : dialect === 'mysql'
        ? `# drizzle-orm + mysql2) against a seeded MariaDB bike-shop fixture. Do not edit the SQL by hand:`
        : `# drizzle-orm + node-postgres) against a seeded bike-shop fixture. Do not edit the SQL by hand:`,
    `# re-run scripts/capture-queries.sh.`,
    `name = ${q(op.name)}`,
    `repository = ${q(op.repository)}`,
    `description = ${q(op.description)}`,
    `dialect = ${q(dialect)}`,
  ];
  const comment = forDialect(op.comment);
  const ignore = forDialect(op.ignore);
  const tolerance = forDialect(op.tolerance);
  if (comment) out.push(...comment.split('\n').map((l) => `# ${l}`));
  if (op.writes) out.push('writes = true');
  if (op.compare) out.push(`compare = ${q(op.compare)}`);
  if (op.reason) out.push(`reason = ${q(op.reason)}`);
  if (ignore?.length) out.push(`ignore = [${ignore.map(q).join(', ')}]`);
  if (tolerance) out.push(`tolerance = { ${Object.entries(tolerance).map(([k, v]) => `${q(k)} = ${typeof v === 'number' ? v : q(v)}`).join(', ')} }`);
  if (paramsFrom(op)) out.push(`params_from = ${q(paramsFrom(op))}`);
  if (op.generate) out.push(`generate = { ${Object.entries(op.generate).map(([k, v]) => `${k} = ${q(v)}`).join(', ')} }`);
  if (op.params) {
    for (const set of op.params) {
      out.push('', '[[params]]', ...Object.entries(set).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : q(String(v))}`));
    }
  }
  out.push('', side('source', 'prisma', src, op.rename?.prisma), '', side('target', 'drizzle', tgt, op.rename?.drizzle), '');
  return out.join('\n');
}

// ---- main ------------------------------------------------------------------
let failed = 0;
for (const op of operations) {
  if (only && op.name !== only) continue;
  try {
    let sets = op.params;
    if (!sets) {
      const rows = await runSql(paramsFrom(op));
      if (rows.length < 2) throw new Error(`params_from gave ${rows.length} rows; the capture needs 2 (seed the database first)`);
      sets = pickSets(rows);
    }
    const captured = {};
    for (const which of ['prisma', 'drizzle']) {
      const runs = [];
      const used = [];
      const windows = [];
      for (const set of sets.slice(0, 2)) {
        // Generated parameters (a fresh cuid per run) are matched through the
        // value each run actually used.
        const p = fresh(op, set);
        const t0 = Date.now();
        runs.push(await record(() => op[which](deps, p)));
        windows.push([t0, Date.now()]);
        used.push(p);
        await undo(op, p);
      }
      captured[which] = classify(runs, used, windows);
    }
    const file = path.join(outDir, ...(dialect === 'sqlite' ? ['sqlite'] : dialect === 'mysql' ? ['mariadb'] : []), op.repository, `${op.name}.toml`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, toml(op, captured.prisma, captured.drizzle));
    console.error(`captured ${op.repository}/${op.name}: prisma ${captured.prisma.length} statement(s), drizzle ${captured.drizzle.length}`);
  } catch (e) {
    failed++;
    console.error(`capture of ${op.name} failed: ${e.stack ?? e}`);
  }
}

await close();
process.exit(failed ? 1 : 0);
