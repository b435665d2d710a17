#!/usr/bin/env node
// Compare the real-ORM oracle's cells (oracle.mjs) with parity's report.
//
//   node scripts/oracle/compare.mjs --oracle cells.json --report DIR/report.json --schema NAME \
//        [--known scripts/oracle/known-failures.txt] [--summary out.json]
//
// A cell is (table, key, column, kind). parity's `differences` rows (report.json,
// written with --show-values and a --max-differences above the row count) expand to
// one cell per listed column. Every oracle cell parity lacks is a MISS, every parity
// cell the oracle lacks a FALSE POSITIVE; each is printed with both values (the
// oracle's real JS values and parity's rendering). Shapes: the oracle's columns whose
// non-NULL JS types differ (or an enum name faces its label) against parity's shape
// findings that are not risk notes; a difference either way is a shape MISS / FALSE
// POSITIVE. A table the oracle read and parity did not check (error, or absent) is a
// TABLE MISS. parity's differences.csv next to report.json must list exactly the
// same rows (table, key, kind, columns) as report.json.
//
// Known failures: scripts/oracle/known-failures.txt lists, one per line,
//   <schema> <miss|false_positive|shape_miss|shape_false_positive|table_miss> <table>.<column> <kind|*> <key JSON|*>
// (`#` starts a comment). A listed failure is reported as KNOWN and does not fail the
// run; anything not listed fails it; a listed line that no longer fails is printed as
// STALE (remove it). Exit 0 when there is no unlisted failure, 1 otherwise, 2 on bad input.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { textInstantNs } from './values.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['oracle', 'report', 'schema']) {
  if (!args[k]) {
    console.error(`compare: --${k} is required`);
    process.exit(2);
  }
}
const oracle = JSON.parse(readFileSync(args.oracle, 'utf8'));
// Integers in parity's JSON are exact: parse keeping every number's text.
function parseExact(text) {
  let i = 0;
  const ws = () => {
    while (/\s/.test(text[i])) i++;
  };
  const value = () => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') return i++, o;
      for (;;) {
        ws();
        const k = value();
        ws();
        i++; // :
        o[k] = value();
        ws();
        if (text[i++] === '}') return o;
      }
    }
    if (ch === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') return i++, a;
      for (;;) {
        a.push(value());
        ws();
        if (text[i++] === ']') return a;
      }
    }
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      i = j + 1;
      return s;
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) throw new Error(`bad JSON at ${i}`);
    i += m[0].length;
    return m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : m[0];
  };
  return value();
}
const report = parseExact(readFileSync(args.report, 'utf8'));

// Key values as text; a timestamp key as its instant (parity prints ISO with µs and Z,
// the database `2024-01-01 00:00:10`).
const keyText = (v) => {
  if (v === null) return null;
  const s = String(v);
  if (/^\+?\d{4,}-\d\d-\d\d[ T]\d\d:\d\d/.test(s)) {
    const ns = textInstantNs(s.replace(/^\+/, ''));
    if (ns !== null) return `instant:${ns}`;
  }
  return s;
};
const keyCanon = (k) =>
  JSON.stringify(
    Object.entries(k)
      .map(([c, v]) => [c, keyText(v)])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
const cellId = (table, key, column, kind) => `${table}\u0000${key}\u0000${column}\u0000${kind}`;

// ------------------------------------------------------------------ parity
const ptables = new Map();
for (const t of report.tables ?? []) ptables.set(t.source_table ?? t.table, t);
const pcells = new Map();
let truncated = [];
for (const [name, t] of ptables) {
  const diffs = t.differences ?? [];
  const rowsDiffering = Number(t.different ?? 0) + Number(t.unreadable ?? 0) + Number(t.missing_in_target ?? 0) + Number(t.extra_in_target ?? 0);
  const keysListed = new Set(diffs.map((d) => keyCanon(d.key))).size;
  if (keysListed < rowsDiffering) truncated.push(`${name}: ${keysListed} of ${rowsDiffering} differing rows listed`);
  for (const d of diffs) {
    const key = keyCanon(d.key);
    const cols = d.kind === 'missing_in_target' || d.kind === 'extra_in_target' ? ['*'] : d.columns ?? [];
    for (const column of cols) {
      const v = (d.values ?? []).find((x) => x.column === column);
      pcells.set(cellId(name, key, column, d.kind), { table: name, key, column, kind: d.kind, source: v?.source, target: v?.target });
    }
  }
}

// differences.csv (the interface scripts read) must list exactly report.json's rows.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}
const csvMismatch = [];
const csvPath = path.join(path.dirname(args.report), 'differences.csv');
if (existsSync(csvPath)) {
  const [header, ...body] = parseCsv(readFileSync(csvPath, 'utf8'));
  const col = (n) => header.indexOf(n);
  const fromCsv = new Set(body.map((r) => `${r[col('source_table')]}\u0000${keyCanon(parseExact(r[col('key')]))}\u0000${r[col('kind')]}\u0000${r[col('columns')]}`));
  const fromJson = new Set();
  for (const [name, t] of ptables) for (const d of t.differences ?? []) fromJson.add(`${name}\u0000${keyCanon(d.key)}\u0000${d.kind}\u0000${(d.columns ?? []).join(';')}`);
  for (const r of fromJson) if (!fromCsv.has(r)) csvMismatch.push(`in report.json, not in differences.csv: ${r.replace(/\u0000/g, ' ')}`);
  for (const r of fromCsv) if (!fromJson.has(r)) csvMismatch.push(`in differences.csv, not in report.json: ${r.replace(/\u0000/g, ' ')}`);
} else {
  csvMismatch.push(`no differences.csv next to ${args.report}`);
}

// ------------------------------------------------------------------ oracle
const ocells = new Map();
for (const c of oracle.cells) {
  const key = keyCanon(c.key);
  ocells.set(cellId(c.table, key, c.column, c.kind), { ...c, key });
}

const failures = [];
for (const [id, c] of ocells) {
  if (!pcells.has(id)) failures.push({ what: 'miss', table: c.table, column: c.column, kind: c.kind, key: c.key, oracle: c, parity: null });
}
for (const [id, c] of pcells) {
  if (!ocells.has(id)) failures.push({ what: 'false_positive', table: c.table, column: c.column, kind: c.kind, key: c.key, oracle: null, parity: c });
}
// What the other side says about the same (table, key, column), for printing.
const byCell = (cells) => {
  const m = new Map();
  for (const c of cells.values()) m.set(`${c.table}\u0000${c.key}\u0000${c.column}`, c);
  return m;
};
const oByCell = byCell(ocells);
const pByCell = byCell(pcells);

// ------------------------------------------------------------------ shapes + tables
let oracleShapes = 0;
const unread = [];
for (const t of oracle.tables) {
  const pt = ptables.get(t.table);
  if (!t.key) {
    // The oracle did not read it (keyless, or one ORM does not map it): no verdict on it here.
    unread.push(`${t.table}: ${t.error_source ?? t.error_target ?? 'not read'}`);
    continue;
  }
  if (!pt || pt.status === 'error') {
    failures.push({ what: 'table_miss', table: t.table, column: '*', kind: '*', key: '*', detail: pt ? `parity: error ${pt.error}` : 'parity did not check this table' });
    continue;
  }
  const pshapes = new Map((pt.shapes ?? []).filter((s) => s.risk !== 'note').map((s) => [s.column, s]));
  for (const c of t.columns) {
    if (c.shape) oracleShapes++;
    const ps = pshapes.get(c.column);
    const why = `JS types: Prisma ${c.source_type || '-'} / Drizzle ${c.target_type || '-'}${c.enum_shape ? ' (enum name vs label)' : ''}`;
    if (c.shape && !ps) failures.push({ what: 'shape_miss', table: t.table, column: c.column, kind: '*', key: '*', detail: why });
    if (!c.shape && ps) failures.push({ what: 'shape_false_positive', table: t.table, column: c.column, kind: '*', key: '*', detail: `${why}; parity ${ps.code} (${ps.risk}): ${ps.message}` });
  }
}

// ------------------------------------------------------------------ known list
const known = [];
if (args.known && existsSync(args.known)) {
  for (const [n, raw] of readFileSync(args.known, 'utf8').split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!m) {
      console.error(`compare: ${args.known}:${n + 1}: expected "<schema> <what> <table>.<column> <kind|*> <key JSON|*>"`);
      process.exit(2);
    }
    if (m[1] !== args.schema) continue;
    known.push({ line: n + 1, what: m[2], tc: m[3], kind: m[4], key: m[5] === '*' ? '*' : keyCanon(parseExact(m[5])), used: false });
  }
}
const isKnown = (f) => {
  for (const k of known) {
    if (k.what === f.what && k.tc === `${f.table}.${f.column}` && (k.kind === '*' || k.kind === f.kind) && (k.key === '*' || k.key === f.key)) {
      k.used = true;
      return true;
    }
  }
  return false;
};

const counts = { different: 0, unreadable_in_source: 0, unreadable_in_target: 0 };
for (const c of ocells.values()) counts[c.kind] = (counts[c.kind] ?? 0) + 1;
const found = [...ocells.keys()].filter((id) => pcells.has(id)).length;
const unknown = [];
let knownCount = 0;
for (const f of failures) {
  const k = isKnown(f);
  if (k) knownCount++;
  else unknown.push(f);
  const tag = k ? 'KNOWN' : 'FAIL ';
  if (f.what === 'miss' || f.what === 'false_positive') {
    const o = f.oracle ?? oByCell.get(`${f.table}\u0000${f.key}\u0000${f.column}`);
    const p = f.parity ?? pByCell.get(`${f.table}\u0000${f.key}\u0000${f.column}`);
    console.log(
      `${tag} ${f.what} ${args.schema} ${f.table}.${f.column} key=${f.key} kind=${f.kind}: ` +
        `oracle Prisma=${o ? o.source : '(same information)'} Drizzle=${o ? o.target : '(same information)'}; ` +
        `parity ${p ? `${p.kind} source=${p.source ?? '?'} target=${p.target ?? '?'}` : '(nothing)'}`,
    );
  } else {
    console.log(`${tag} ${f.what} ${args.schema} ${f.table}.${f.column}: ${f.detail}`);
  }
}
for (const k of known) if (!k.used) console.log(`STALE known-failures line ${k.line}: ${k.what} ${k.tc} ${k.kind} (it passes now: remove it)`);
for (const m of csvMismatch) console.log(`FAIL  csv ${args.schema}: ${m}`);
for (const t of unread) console.log(`NOTE the oracle did not read ${t}`);
for (const t of truncated) console.log(`NOTE parity's list is capped (${t}): raise --max-differences`);

const summary = {
  schema: args.schema,
  oracle_cells: ocells.size,
  oracle_different: counts.different,
  oracle_unreadable_in_source: counts.unreadable_in_source,
  oracle_unreadable_in_target: counts.unreadable_in_target,
  parity_cells: pcells.size,
  found,
  missed: failures.filter((f) => f.what === 'miss').length,
  false_positives: failures.filter((f) => f.what === 'false_positive').length,
  oracle_shape_columns: oracleShapes,
  shape_misses: failures.filter((f) => f.what === 'shape_miss').length,
  shape_false_positives: failures.filter((f) => f.what === 'shape_false_positive').length,
  table_misses: failures.filter((f) => f.what === 'table_miss').length,
  oracle_tables_read: oracle.tables.length - unread.length,
  oracle_tables_unread: unread.length,
  csv_mismatches: csvMismatch.length,
  known: knownCount,
  unknown_failures: unknown.length,
};
if (args.summary) writeFileSync(args.summary, JSON.stringify(summary, null, 1) + '\n');
console.log(
  `oracle ${args.schema}: ${summary.oracle_cells} cells (${counts.different} different, ${counts.unreadable_in_source} unreadable_in_source, ` +
    `${counts.unreadable_in_target} unreadable_in_target), parity found ${found}, missed ${summary.missed}, false positives ${summary.false_positives}; ` +
    `shapes ${oracleShapes} (missed ${summary.shape_misses}, false ${summary.shape_false_positives}); tables not checked ${summary.table_misses}; ` +
    `${knownCount} known, ${unknown.length} new failures`,
);
process.exit(unknown.length || truncated.length || csvMismatch.length ? 1 : 0);
