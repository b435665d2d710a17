//! Result parity: the rows each side's statements returned, read through
//! that side's mapping, as comparable entities; and the comparison.
//!
//! Owns: naming the table column behind each result column (the row
//! description's table OID on PostgreSQL, else the tables the SQL names),
//! canonicalising cells with `canon` and the mapping's read modes, unnesting
//! Drizzle's relational-query JSON (`json_agg(json_build_array(…))` over
//! lateral joins) into the entities it carries, and comparing two sides'
//! entities as multisets (`rows`), by primary key (`entities`) or by count.
//! Pure apart from what it is handed: no I/O.
//!
//! Result columns that come from no table column (aggregates, casts Prisma
//! adds such as `"status"::text` are still matched by name) are compared by
//! their exact database value under their result name; a side may `rename`
//! them (Prisma's `_sum$amount`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::exec::{Catalog, ColumnMeta, StmtResult};
use super::ops::{ColumnRef, CompareMode};
use super::value::{Val, from_json, oid};
use crate::canon::{self, ColumnCanon, Tolerance};
use crate::mapping::{Dialect, Mapping, ReadMode};

/// How one side reads its results.
pub struct SideView<'a> {
    pub mapping: &'a Mapping,
    pub catalog: &'a Catalog,
    pub rename: &'a BTreeMap<String, String>,
    pub dialect: Dialect,
}

/// One row of one table (or of expression columns, table ""), as canonical
/// bytes per column, sorted by column name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entity {
    pub table: String,
    pub values: Vec<(String, Vec<u8>)>,
}

impl Entity {
    fn get(&self, col: &str) -> Option<&[u8]> {
        self.values
            .binary_search_by(|(c, _)| c.as_str().cmp(col))
            .ok()
            .map(|i| self.values[i].1.as_slice())
    }
}

#[derive(Debug, Clone)]
pub(super) enum Target {
    Field {
        table: String,
        column: String,
        canon: ColumnCanon,
    },
    Expr {
        name: String,
        canon: ColumnCanon,
    },
    Nested(NestedSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct NestedSpec {
    table: String,
    fields: Vec<NestedField>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum NestedField {
    Column(String),
    Nested(NestedSpec),
    Skip,
}

/// Appends the entities of one statement's rows to `out`.
pub fn entities(
    view: &SideView<'_>,
    sql: &str,
    res: &StmtResult,
    ignore: &[ColumnRef],
    out: &mut Vec<Entity>,
) {
    if res.rows.is_empty() {
        return;
    }
    let targets = resolve(view, sql, &res.columns);
    let mut buf = Vec::new();
    for row in &res.rows {
        let mut groups: BTreeMap<&str, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for (val, target) in row.iter().zip(&targets) {
            match target {
                Target::Field {
                    table,
                    column,
                    canon,
                } => {
                    if ignored(ignore, table, column) {
                        continue;
                    }
                    buf.clear();
                    canon::encode(&val.as_raw(), canon, &mut buf);
                    groups
                        .entry(table.as_str())
                        .or_default()
                        .push((column.clone(), buf.clone()));
                }
                Target::Expr { name, canon } => {
                    if ignored(ignore, "", name) {
                        continue;
                    }
                    buf.clear();
                    canon::encode(&val.as_raw(), canon, &mut buf);
                    groups
                        .entry("")
                        .or_default()
                        .push((name.clone(), buf.clone()));
                }
                Target::Nested(spec) => {
                    let text = match val {
                        Val::Json(s) | Val::Text(s) => s.as_str(),
                        _ => continue,
                    };
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                        unnest(view, spec, &json, ignore, out);
                    }
                }
            }
        }
        for (table, mut values) in groups {
            values.sort();
            out.push(Entity {
                table: table.to_string(),
                values,
            });
        }
    }
}

fn ignored(ignore: &[ColumnRef], table: &str, column: &str) -> bool {
    ignore.iter().any(|r| r.matches(table, column))
}

fn unnest(
    view: &SideView<'_>,
    spec: &NestedSpec,
    json: &serde_json::Value,
    ignore: &[ColumnRef],
    out: &mut Vec<Entity>,
) {
    let serde_json::Value::Array(items) = json else {
        return;
    };
    if items.is_empty() {
        // `coalesce(json_agg(…), '[]')`: a relation with no rows.
        return;
    }
    // json_agg of arrays (a `many` relation) or one json_build_array (`one`).
    if items.first().is_some_and(|x| x.is_array()) {
        for item in items {
            unnest(view, spec, item, ignore, out);
        }
        return;
    }
    let table = view.mapping.table(&spec.table);
    let mut values = Vec::new();
    for (field, v) in spec.fields.iter().zip(items) {
        match field {
            NestedField::Column(c) => {
                if ignored(ignore, &spec.table, c) {
                    continue;
                }
                let canon = table
                    .and_then(|t| t.column(c))
                    .map(|col| ColumnCanon::new(col, view.mapping))
                    .unwrap_or_else(|| ColumnCanon::from_read(ReadMode::Raw));
                let mut b = Vec::new();
                canon::encode(&from_json(v).as_raw(), &canon, &mut b);
                values.push((c.clone(), b));
            }
            // SQLite hands a nested subquery's JSON over as a string.
            NestedField::Nested(inner) => match v {
                serde_json::Value::String(text) => {
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                        unnest(view, inner, &json, ignore, out);
                    }
                }
                _ => unnest(view, inner, v, ignore, out),
            },
            NestedField::Skip => {}
        }
    }
    values.sort();
    out.push(Entity {
        table: spec.table.clone(),
        values,
    });
}

/// Names the table column (or expression) behind each result column.
pub(super) fn resolve(view: &SideView<'_>, sql: &str, cols: &[ColumnMeta]) -> Vec<Target> {
    let nested = drizzle_nested(sql);
    let referenced = referenced_tables(view.mapping, sql);
    cols.iter()
        .map(|c| {
            if let Some(name) = view.rename.get(&c.name) {
                return Target::Expr {
                    name: name.clone(),
                    canon: expr_canon(view.dialect, c.type_oid),
                };
            }
            if let Some(spec) = nested.get(&c.name) {
                return Target::Nested(spec.clone());
            }
            let from_rel = c
                .relation
                .and_then(|r| view.catalog.column(r))
                .map(|(s, t, col)| {
                    let table = if s == "public" || s.is_empty() {
                        t.to_string()
                    } else {
                        format!("{s}.{t}")
                    };
                    (table, col.to_string())
                });
            let (table, column) = match from_rel {
                Some(tc) => tc,
                None => match referenced.iter().find(|t| {
                    view.mapping
                        .table(t)
                        .is_some_and(|t| t.column(&c.name).is_some())
                }) {
                    Some(t) => (t.clone(), c.name.clone()),
                    None => {
                        return Target::Expr {
                            name: c.name.clone(),
                            canon: expr_canon(view.dialect, c.type_oid),
                        };
                    }
                },
            };
            let canon = view
                .mapping
                .table(&table)
                .and_then(|t| t.column(&column))
                .map(|col| ColumnCanon::new(col, view.mapping))
                .unwrap_or_else(|| expr_canon(view.dialect, c.type_oid));
            Target::Field {
                table,
                column,
                canon,
            }
        })
        .collect()
}

/// Exact database values for columns no mapping describes.
fn expr_canon(dialect: Dialect, type_oid: u32) -> ColumnCanon {
    if dialect != Dialect::Postgres {
        return ColumnCanon::from_read(ReadMode::Raw);
    }
    ColumnCanon::from_read(match type_oid {
        oid::BOOL => ReadMode::Boolean,
        oid::INT2 | oid::INT4 | oid::INT8 | oid::OID => ReadMode::BigInt,
        oid::FLOAT4 | oid::FLOAT8 => ReadMode::Float,
        oid::NUMERIC => ReadMode::Decimal,
        oid::TIMESTAMP | oid::TIMESTAMPTZ => ReadMode::DateTimeString,
        oid::DATE => ReadMode::DateString,
        oid::TIME => ReadMode::TimeString,
        oid::JSON | oid::JSONB => ReadMode::Json,
        oid::BYTEA => ReadMode::Bytes,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UUID => ReadMode::Text,
        _ => ReadMode::Raw,
    })
}

// ---- SQL scanning ---------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Word(String),
    Sym(char),
    /// A run of digits (`ORDER BY 1`).
    Num(String),
    Other,
}

pub(super) fn tokens(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'`' {
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == c {
                    if b.get(j + 1) == Some(&c) {
                        s.push(c as char);
                        j += 2;
                        continue;
                    }
                    break;
                }
                let ch = sql[j..].chars().next().unwrap_or(' ');
                s.push(ch);
                j += ch.len_utf8();
            }
            out.push(Tok::Ident(s));
            i = j + 1;
        } else if c == b'\'' {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push(Tok::Other);
            i = j + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let j = b[i..]
                .iter()
                .position(|x| !(x.is_ascii_alphanumeric() || *x == b'_' || *x == b'$'))
                .map_or(b.len(), |p| i + p);
            out.push(Tok::Word(sql[i..j].to_ascii_lowercase()));
            i = j;
        } else if c.is_ascii_digit() {
            let j = b[i..]
                .iter()
                .position(|x| !x.is_ascii_digit())
                .map_or(b.len(), |p| i + p);
            out.push(Tok::Num(sql[i..j].to_string()));
            i = j;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if matches!(c, b'(' | b')' | b',' | b'.') {
            out.push(Tok::Sym(c as char));
            i += 1;
        } else {
            out.push(Tok::Other);
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// The mapping's tables the SQL names: those after a top-level FROM or JOIN
/// first (the tables the outer select reads), then the rest in order of
/// first mention. Unqualified result columns resolve to the first that has
/// the column.
pub(super) fn referenced_tables(mapping: &Mapping, sql: &str) -> Vec<String> {
    let t = tokens(sql);
    let mut top: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    let mut depth = 0i32;
    for (i, tok) in t.iter().enumerate() {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') => depth -= 1,
            Tok::Ident(name) | Tok::Word(name) => {
                let Some(table) = mapping.table(name) else {
                    continue;
                };
                let q = table.qualified_name();
                // `from "t"`, `from "schema"."t"`, `join "t"`.
                let after_from = (1..=3).any(|k| {
                    i >= k
                        && matches!(&t[i - k], Tok::Word(w) if w == "from" || w == "join")
                        && t[i - k + 1..i]
                            .iter()
                            .all(|x| matches!(x, Tok::Ident(_) | Tok::Sym('.')))
                });
                if depth == 0 && after_from {
                    if !top.contains(&q) {
                        top.push(q);
                    }
                } else if !rest.contains(&q) {
                    rest.push(q);
                }
            }
            _ => {}
        }
    }
    rest.retain(|x| !top.contains(x));
    top.extend(rest);
    top
}

/// Drizzle's relational queries: result column → the nested rows it holds.
/// Two shapes are parsed, drizzle-orm's (0.3x–0.45):
/// - PostgreSQL: `"bikes_repairs"."data" as "repairs"` in the outer select
///   list, over a lateral subquery selecting
///   `coalesce(json_agg(json_build_array("bikes_repairs"."id", …)), '[]'::json)`
///   from `"repairs" "bikes_repairs"`; a nested relation is another
///   `"…"."data"` among the parent's arguments.
/// - SQLite: `(select coalesce(json_group_array(json_array("id", …)),
///   json_array()) as "data" from "repairs" "bikes_repairs" where …) as
///   "repairs"`; a nested relation is such a subquery among the arguments.
/// - MySQL (`mode: 'planetscale'`): ``coalesce((select json_arrayagg(json_array(`id`, …))
///   from `repairs` `bikes_repairs` where …), json_array()) as `repairs` ``.
fn drizzle_nested(sql: &str) -> HashMap<String, NestedSpec> {
    if !sql.contains("json_build_array") && !sql.contains("json_array") {
        return HashMap::new();
    }
    let t = tokens(sql);
    // Matching parentheses.
    let mut close_of = vec![usize::MAX; t.len()];
    let mut stack = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        match tok {
            Tok::Sym('(') => stack.push(i),
            Tok::Sym(')') => {
                if let Some(o) = stack.pop() {
                    close_of[o] = i;
                }
            }
            _ => {}
        }
    }
    struct Build {
        at: usize,
        end: usize,
        args: Vec<(usize, usize)>,
        table: String,
        alias: Option<String>,
        output: Option<String>,
    }
    let mut builds: Vec<Build> = Vec::new();
    for i in 0..t.len() {
        let is_call = matches!(&t[i], Tok::Word(w) if w == "json_build_array" || w == "json_array")
            && t.get(i + 1) == Some(&Tok::Sym('('))
            && t.get(i + 2) != Some(&Tok::Sym(')'));
        if !is_call || close_of[i + 1] == usize::MAX {
            continue;
        }
        let end = close_of[i + 1];
        let mut args = Vec::new();
        let mut start = i + 2;
        let mut depth = 0;
        for (j, tok) in t.iter().enumerate().take(end).skip(i + 2) {
            match tok {
                Tok::Sym('(') => depth += 1,
                Tok::Sym(')') => depth -= 1,
                Tok::Sym(',') if depth == 0 => {
                    args.push((start, j));
                    start = j + 1;
                }
                _ => {}
            }
        }
        args.push((start, end));
        // The table: the first `from` after the call, at the call's level.
        let mut j = end + 1;
        let mut depth = 0i32;
        let mut from = None;
        while j < t.len() {
            match &t[j] {
                Tok::Sym('(') => depth += 1,
                Tok::Sym(')') => depth -= 1,
                Tok::Word(w) if w == "from" && depth <= 0 => {
                    from = Some(j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(f) = from else { continue };
        let mut k = f + 1;
        let mut table = match t.get(k) {
            Some(Tok::Ident(s)) => s.clone(),
            _ => continue,
        };
        if t.get(k + 1) == Some(&Tok::Sym('.'))
            && let Some(Tok::Ident(s)) = t.get(k + 2)
        {
            table = s.clone();
            k += 2;
        }
        k += 1;
        if t.get(k) == Some(&Tok::Word("as".into())) {
            k += 1;
        }
        let alias = match t.get(k) {
            Some(Tok::Ident(a)) => Some(a.clone()),
            _ => None,
        };
        // SQLite: `(select … from "t" "a" …) as "out"` around the call.
        let mut output = None;
        if let Some(open) = (0..i).rev().find(|&o| {
            t[o] == Tok::Sym('(')
                && close_of[o] > end
                && t.get(o + 1) == Some(&Tok::Word("select".into()))
        }) {
            let mut c = close_of[open];
            // MySQL: `coalesce((select json_arrayagg(…) from …), json_array()) as "out"`.
            if open >= 2
                && t[open - 1] == Tok::Sym('(')
                && t[open - 2] == Tok::Word("coalesce".into())
                && close_of[open - 1] != usize::MAX
            {
                c = close_of[open - 1];
            }
            if t.get(c + 1) == Some(&Tok::Word("as".into()))
                && let Some(Tok::Ident(out)) = t.get(c + 2)
                && out != "data"
            {
                output = Some(out.clone());
            }
        }
        builds.push(Build {
            at: i,
            end,
            args,
            table,
            alias,
            output,
        });
    }
    // PostgreSQL: `"alias"."data" as "out"`.
    let mut outputs: Vec<(String, usize)> = Vec::new();
    for i in 0..t.len() {
        if let Tok::Ident(a) = &t[i]
            && t.get(i + 1) == Some(&Tok::Sym('.'))
            && t.get(i + 2) == Some(&Tok::Ident("data".into()))
            && t.get(i + 3) == Some(&Tok::Word("as".into()))
            && let Some(Tok::Ident(out)) = t.get(i + 4)
            && out != "data"
            && let Some(b) = builds.iter().position(|b| b.alias.as_deref() == Some(a))
        {
            outputs.push((out.clone(), b));
        }
    }
    let inside_another = |b: &Build| builds.iter().any(|o| o.at < b.at && b.at < o.end);
    for (k, b) in builds.iter().enumerate() {
        if let Some(out) = &b.output
            && !inside_another(b)
        {
            outputs.push((out.clone(), k));
        }
    }
    fn spec(t: &[Tok], builds: &[Build], k: usize, depth: usize) -> NestedSpec {
        let b = &builds[k];
        let fields = b
            .args
            .iter()
            .map(|&(s, e)| match &t[s..e] {
                [Tok::Ident(c)] => NestedField::Column(c.clone()),
                [Tok::Ident(a), Tok::Sym('.'), Tok::Ident(c)]
                    if c != "data" || b.alias.as_deref() == Some(a) =>
                {
                    NestedField::Column(c.clone())
                }
                [Tok::Ident(a), Tok::Sym('.'), Tok::Ident(_)] => {
                    match builds.iter().position(|x| x.alias.as_deref() == Some(a)) {
                        Some(n) if depth < 8 => NestedField::Nested(spec(t, builds, n, depth + 1)),
                        _ => NestedField::Skip,
                    }
                }
                _ => match builds.iter().position(|x| s <= x.at && x.at < e) {
                    Some(n) if depth < 8 => NestedField::Nested(spec(t, builds, n, depth + 1)),
                    _ => NestedField::Skip,
                },
            })
            .collect();
        NestedSpec {
            table: b.table.clone(),
            fields,
        }
    }
    outputs
        .into_iter()
        .map(|(out, k)| (out, spec(&t, &builds, k, 0)))
        .collect()
}

// ---- comparison -------------------------------------------------------------------

/// Why one parameter set's results differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mismatch {
    /// The table ("" for expression columns) where the difference is.
    pub table: String,
    pub source_rows: usize,
    pub target_rows: usize,
    /// Rows (entities) only the source returned, and only the target.
    pub only_in_source: usize,
    pub only_in_target: usize,
    /// Keys of the first differing rows, e.g. `id="r1"`.
    pub first_keys: Vec<String>,
    /// Columns that differ between unmatched rows with the same key.
    pub columns: Vec<String>,
    /// `rows` when the rows differ; `order` when both sides returned the
    /// same rows in a different order (then `first_keys` holds the source's
    /// and the target's row at `position`).
    pub kind: MismatchKind,
    /// `order`: the 1-based position of the first row where the two
    /// sequences part.
    pub position: Option<usize>,
}

/// What kind of difference a [`Mismatch`] is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// Rows only one side returned, or values that differ.
    #[default]
    Rows,
    /// The same rows, in a different order.
    Order,
}

impl Mismatch {
    /// One line for people: what differs, and where.
    pub fn describe(&self) -> String {
        match self.kind {
            MismatchKind::Order => format!(
                "same rows, different order in {}: they part at position {} (source {}, target {})",
                self.table,
                self.position.unwrap_or(0),
                self.first_keys.first().map_or("?", String::as_str),
                self.first_keys.get(1).map_or("?", String::as_str),
            ),
            MismatchKind::Rows => format!(
                "{} rows from source, {} from target in {}; {} only from source, {} only from target{}; first: {}",
                self.source_rows,
                self.target_rows,
                self.table,
                self.only_in_source,
                self.only_in_target,
                if self.columns.is_empty() {
                    String::new()
                } else {
                    format!(" (columns {})", self.columns.join(", "))
                },
                self.first_keys.join(" ")
            ),
        }
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub mismatch: Option<Mismatch>,
    /// Things the comparison set aside (columns or tables one side lacks).
    pub notes: BTreeSet<String>,
}

/// Compares one parameter set's entities. `key_of(table)` gives a table's
/// primary-key columns from the mapping. Feeds the compared form into the
/// two hashers so that sides whose results match hash alike.
pub fn compare(
    mode: CompareMode,
    source: Vec<Entity>,
    target: Vec<Entity>,
    tolerance: &[(ColumnRef, Tolerance)],
    key_of: &dyn Fn(&str) -> Vec<String>,
    hashers: (&mut blake3::Hasher, &mut blake3::Hasher),
) -> Outcome {
    let mut out = Outcome::default();
    let mut tables: BTreeMap<String, (Vec<Entity>, Vec<Entity>)> = BTreeMap::new();
    for e in source {
        tables.entry(e.table.clone()).or_default().0.push(e);
    }
    for e in target {
        tables.entry(e.table.clone()).or_default().1.push(e);
    }
    let (hs, ht) = hashers;
    for (table, (mut s, mut t)) in tables {
        let label = if table.is_empty() {
            "(expression columns)".to_string()
        } else {
            table.clone()
        };
        let key = key_of(&table);
        if mode == CompareMode::Entities {
            if s.is_empty() || t.is_empty() {
                out.notes.insert(format!(
                    "{label}: only the {} reads it back; not compared",
                    if s.is_empty() { "target" } else { "source" }
                ));
                continue;
            }
            s = dedupe(s, &key);
            t = dedupe(t, &key);
        }
        // Compare the columns both sides return for this table.
        let cols = |v: &[Entity]| -> BTreeSet<String> {
            v.iter()
                .flat_map(|e| e.values.iter().map(|(c, _)| c.clone()))
                .collect()
        };
        let (cs, ct) = (cols(&s), cols(&t));
        if !s.is_empty() && !t.is_empty() {
            for c in cs.symmetric_difference(&ct) {
                out.notes.insert(format!(
                    "{label}.{c}: only the {} returns it; not compared",
                    if cs.contains(c) { "source" } else { "target" }
                ));
            }
            let common: BTreeSet<&String> = cs.intersection(&ct).collect();
            for e in s.iter_mut().chain(t.iter_mut()) {
                e.values.retain(|(c, _)| common.contains(c));
            }
        }
        s.sort();
        t.sort();
        // The hashes are of the compared form: columns compared within a
        // tolerance are left out (their bits may differ while they match).
        let tolerated = |c: &str| tolerance.iter().any(|(r, _)| r.matches(&table, c));
        hash_compared(hs, &s, &tolerated);
        hash_compared(ht, &t, &tolerated);
        if mode == CompareMode::Count {
            if s.len() != t.len() && out.mismatch.is_none() {
                out.mismatch = Some(Mismatch {
                    table: label.clone(),
                    source_rows: s.len(),
                    target_rows: t.len(),
                    only_in_source: s.len().saturating_sub(t.len()),
                    only_in_target: t.len().saturating_sub(s.len()),
                    first_keys: Vec::new(),
                    columns: Vec::new(),
                    kind: MismatchKind::Rows,
                    position: None,
                });
            }
            continue;
        }
        let (ls, lt) = unmatched(&s, &t, &table, tolerance);
        if (!ls.is_empty() || !lt.is_empty()) && out.mismatch.is_none() {
            let first_keys = ls
                .iter()
                .chain(lt.iter())
                .take(3)
                .map(|e| render_key(e, &key))
                .collect();
            // Same key on both sides: name the columns that differ.
            let mut columns = BTreeSet::new();
            for a in &ls {
                let ka: Vec<Option<&[u8]>> = key.iter().map(|k| a.get(k)).collect();
                if key.is_empty() || ka.iter().any(Option::is_none) {
                    continue;
                }
                if let Some(b) = lt
                    .iter()
                    .find(|b| key.iter().map(|k| b.get(k)).collect::<Vec<_>>() == ka)
                {
                    for (c, v) in &a.values {
                        if b.get(c) != Some(v.as_slice()) {
                            columns.insert(c.clone());
                        }
                    }
                }
            }
            out.mismatch = Some(Mismatch {
                table: label,
                source_rows: s.len(),
                target_rows: t.len(),
                only_in_source: ls.len(),
                only_in_target: lt.len(),
                first_keys,
                columns: columns.into_iter().collect(),
                kind: MismatchKind::Rows,
                position: None,
            });
        }
    }
    out
}

/// Hashes entities as compared: without the tolerated columns, in sorted
/// order, so that sides whose results match hash alike.
fn hash_compared(h: &mut blake3::Hasher, v: &[Entity], tolerated: &dyn Fn(&str) -> bool) {
    let mut projected: Vec<Entity> = v
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.values.retain(|(c, _)| !tolerated(c));
            e
        })
        .collect();
    projected.sort();
    for e in &projected {
        hash_entity(h, e);
    }
}

fn hash_entity(h: &mut blake3::Hasher, e: &Entity) {
    h.update(e.table.as_bytes());
    h.update(&[0xFF]);
    for (c, v) in &e.values {
        h.update(c.as_bytes());
        h.update(&[0xFE]);
        h.update(v);
    }
    h.update(&[0xFD]);
}

/// One entity per key, later readings filling in columns earlier ones lack.
fn dedupe(v: Vec<Entity>, key: &[String]) -> Vec<Entity> {
    let mut by: BTreeMap<Vec<Vec<u8>>, Entity> = BTreeMap::new();
    for e in v {
        let k: Option<Vec<Vec<u8>>> = if key.is_empty() {
            None
        } else {
            key.iter().map(|c| e.get(c).map(<[u8]>::to_vec)).collect()
        };
        let k = k.unwrap_or_else(|| e.values.iter().map(|(_, v)| v.clone()).collect());
        match by.get_mut(&k) {
            Some(have) => {
                for (c, val) in e.values {
                    match have.values.binary_search_by(|(x, _)| x.cmp(&c)) {
                        Ok(i) => have.values[i].1 = val,
                        Err(i) => have.values.insert(i, (c, val)),
                    }
                }
            }
            None => {
                by.insert(k, e);
            }
        }
    }
    by.into_values().collect()
}

/// The rows of sorted `s` and `t` that find no partner, exactly or within
/// the tolerances.
fn unmatched<'a>(
    s: &'a [Entity],
    t: &'a [Entity],
    table: &str,
    tolerance: &[(ColumnRef, Tolerance)],
) -> (Vec<&'a Entity>, Vec<&'a Entity>) {
    let (mut i, mut j) = (0, 0);
    let mut ls = Vec::new();
    let mut lt = Vec::new();
    while i < s.len() && j < t.len() {
        match s[i].cmp(&t[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                ls.push(&s[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                lt.push(&t[j]);
                j += 1;
            }
        }
    }
    ls.extend(&s[i..]);
    lt.extend(&t[j..]);
    if tolerance.is_empty() || ls.is_empty() || lt.is_empty() {
        return (ls, lt);
    }
    let tol_of = |c: &str| {
        tolerance
            .iter()
            .find(|(r, _)| r.matches(table, c))
            .map(|(_, t)| *t)
    };
    let close = |a: &Entity, b: &Entity| {
        a.values.len() == b.values.len()
            && a.values.iter().zip(&b.values).all(|((ca, va), (cb, vb))| {
                ca == cb
                    && (va == vb
                        || tol_of(ca).is_some_and(|tol| {
                            match (canon::decode(va), canon::decode(vb)) {
                                (Some((x, _)), Some((y, _))) => {
                                    canon::within_tolerance(&x, &y, &tol)
                                }
                                _ => false,
                            }
                        }))
            })
    };
    let mut left_t: Vec<Option<&Entity>> = lt.into_iter().map(Some).collect();
    let mut still = Vec::new();
    for a in ls {
        match left_t.iter_mut().find(|b| b.is_some_and(|b| close(a, b))) {
            Some(slot) => *slot = None,
            None => still.push(a),
        }
    }
    (still, left_t.into_iter().flatten().collect())
}

pub(super) fn render_key(e: &Entity, key: &[String]) -> String {
    let cols: Vec<&(String, Vec<u8>)> = if key.is_empty() || key.iter().any(|k| e.get(k).is_none())
    {
        e.values.iter().take(3).collect()
    } else {
        e.values.iter().filter(|(c, _)| key.contains(c)).collect()
    };
    let parts: Vec<String> = cols
        .iter()
        .map(|(c, v)| {
            let shown = canon::decode(v)
                .map(|(x, _)| x.to_string())
                .unwrap_or_else(|| "?".into());
            format!("{c}={shown}")
        })
        .collect();
    let table = if e.table.is_empty() {
        ""
    } else {
        e.table.as_str()
    };
    if table.is_empty() {
        parts.join(",")
    } else {
        format!("{table}({})", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRIZZLE_WITH: &str = r#"select "bikes"."id", "bikes"."customer_id", "bikes_repairs"."data" as "repairs" from "bikes" "bikes" left join lateral (select coalesce(json_agg(json_build_array("bikes_repairs"."id", "bikes_repairs"."status", "bikes_repairs_items"."data")), '[]'::json) as "data" from "repairs" "bikes_repairs" left join lateral (select coalesce(json_agg(json_build_array("bikes_repairs_items"."id", "bikes_repairs_items"."sku")), '[]'::json) as "data" from "items" "bikes_repairs_items") "bikes_repairs_items" on true where "bikes_repairs"."bike_id" = "bikes"."id") "bikes_repairs" on true where "bikes"."customer_id" = $1"#;

    const DRIZZLE_SQLITE_WITH: &str = r#"select "id", "customer_id", (select coalesce(json_group_array(json_array("id", "status", (select coalesce(json_group_array(json_array("id", "sku")), json_array()) as "data" from "items" "bikes_repairs_items"))), json_array()) as "data" from "repairs" "bikes_repairs" where "bikes_repairs"."bike_id" = "bikes"."id") as "repairs" from "bikes" "bikes" where "bikes"."customer_id" = ?"#;

    #[test]
    fn parses_drizzle_relational_sql_for_mysql() {
        let sql = "select `id`, coalesce((select json_arrayagg(json_array(`id`, `status`)) from `repairs` `bikes_repairs` where `bikes_repairs`.`bike_id` = `bikes`.`id`), json_array()) as `repairs` from `bikes` `bikes` where `bikes`.`customer_id` = ?";
        let n = drizzle_nested(sql);
        let spec = n.get("repairs").expect("repairs");
        assert_eq!(spec.table, "repairs");
        assert_eq!(
            spec.fields,
            vec![
                NestedField::Column("id".into()),
                NestedField::Column("status".into())
            ]
        );
    }

    #[test]
    fn parses_drizzle_relational_sql_for_sqlite() {
        let n = drizzle_nested(DRIZZLE_SQLITE_WITH);
        assert_eq!(n.len(), 1, "{n:?}");
        let spec = n.get("repairs").expect("repairs");
        assert_eq!(spec.table, "repairs");
        assert_eq!(spec.fields[0], NestedField::Column("id".into()));
        match &spec.fields[2] {
            NestedField::Nested(inner) => {
                assert_eq!(inner.table, "items");
                assert_eq!(
                    inner.fields,
                    vec![
                        NestedField::Column("id".into()),
                        NestedField::Column("sku".into())
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_drizzle_relational_sql() {
        let n = drizzle_nested(DRIZZLE_WITH);
        let spec = n.get("repairs").expect("repairs");
        assert_eq!(spec.table, "repairs");
        assert_eq!(spec.fields[0], NestedField::Column("id".into()));
        assert_eq!(spec.fields[1], NestedField::Column("status".into()));
        match &spec.fields[2] {
            NestedField::Nested(inner) => {
                assert_eq!(inner.table, "items");
                assert_eq!(inner.fields.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(drizzle_nested("select 1").is_empty());
    }

    fn mapping() -> Mapping {
        let col = |name: &str, read: ReadMode| crate::mapping::Column {
            name: name.into(),
            field: name.into(),
            db_type: "text".into(),
            nullable: true,
            is_list: false,
            enum_name: None,
            read,
            has_default: false,
            is_updated_at: false,
        };
        let table = |name: &str, cols: Vec<crate::mapping::Column>| crate::mapping::Table {
            schema: None,
            name: name.into(),
            logical: name.into(),
            is_view: false,
            columns: cols,
            primary_key: vec!["id".into()],
            uniques: vec![],
        };
        Mapping {
            orm: crate::mapping::Orm::Drizzle,
            dialect: Dialect::Postgres,
            tables: vec![
                table(
                    "bikes",
                    vec![col("id", ReadMode::Text), col("customer_id", ReadMode::Int)],
                ),
                table(
                    "repairs",
                    vec![
                        col("id", ReadMode::Text),
                        col("status", ReadMode::EnumLabel),
                        col("estimated_cost", ReadMode::DecimalNumber),
                    ],
                ),
                table(
                    "items",
                    vec![col("id", ReadMode::Int), col("sku", ReadMode::Text)],
                ),
            ],
            enums: vec![],
            notes: vec![],
        }
    }

    #[test]
    fn unnests_json_rows_into_entities() {
        let m = mapping();
        let cat = Catalog::default();
        let rename = BTreeMap::new();
        let view = SideView {
            mapping: &m,
            catalog: &cat,
            rename: &rename,
            dialect: Dialect::Postgres,
        };
        let cols = std::sync::Arc::new(vec![
            ColumnMeta {
                name: "id".into(),
                type_oid: oid::TEXT,
                relation: None,
            },
            ColumnMeta {
                name: "customer_id".into(),
                type_oid: oid::INT4,
                relation: None,
            },
            ColumnMeta {
                name: "repairs".into(),
                type_oid: oid::JSON,
                relation: None,
            },
        ]);
        let res = StmtResult {
            columns: cols,
            rows: vec![
                vec![
                    Val::Text("b1".into()),
                    Val::Int(7),
                    Val::Json(
                        r#"[["r1","DONE",[[1,"SKU1"],[2,"SKU2"]]],["r2","waiting_parts",[]]]"#
                            .into(),
                    ),
                ],
                vec![Val::Text("b2".into()), Val::Int(7), Val::Json("[]".into())],
            ],
        };
        let mut out = Vec::new();
        entities(&view, DRIZZLE_WITH, &res, &[], &mut out);
        let tables: Vec<&str> = out.iter().map(|e| e.table.as_str()).collect();
        assert_eq!(tables.iter().filter(|t| **t == "repairs").count(), 2);
        assert_eq!(tables.iter().filter(|t| **t == "items").count(), 2);
        assert_eq!(tables.iter().filter(|t| **t == "bikes").count(), 2);
        assert!(out.iter().all(|e| !e.values.is_empty()));
        // The bike row carries its two columns, the JSON column is gone.
        let bike = out.iter().find(|e| e.table == "bikes").unwrap();
        assert_eq!(bike.values.len(), 2);
    }

    fn ent(table: &str, vals: &[(&str, i64)]) -> Entity {
        let mut values: Vec<(String, Vec<u8>)> = vals
            .iter()
            .map(|(c, v)| {
                let mut b = Vec::new();
                canon::encode(
                    &canon::Raw::Int(*v),
                    &ColumnCanon::from_read(ReadMode::Int),
                    &mut b,
                );
                (c.to_string(), b)
            })
            .collect();
        values.sort();
        Entity {
            table: table.into(),
            values,
        }
    }

    fn cmp(
        mode: CompareMode,
        s: Vec<Entity>,
        t: Vec<Entity>,
        tol: &[(ColumnRef, Tolerance)],
    ) -> Outcome {
        let (mut a, mut b) = (blake3::Hasher::new(), blake3::Hasher::new());
        compare(mode, s, t, tol, &|_| vec!["id".into()], (&mut a, &mut b))
    }

    #[test]
    fn compares_multisets_entities_and_counts() {
        let s = vec![
            ent("t", &[("id", 1), ("v", 10)]),
            ent("t", &[("id", 2), ("v", 20)]),
        ];
        let t = vec![
            ent("t", &[("id", 2), ("v", 20)]),
            ent("t", &[("id", 1), ("v", 10)]),
        ];
        assert!(
            cmp(CompareMode::Rows, s.clone(), t.clone(), &[])
                .mismatch
                .is_none()
        );
        // A missing row is a mismatch naming its key.
        let m = cmp(CompareMode::Rows, s.clone(), t[..1].to_vec(), &[])
            .mismatch
            .unwrap();
        assert_eq!((m.only_in_source, m.only_in_target), (1, 0));
        assert_eq!(m.first_keys, vec!["t(id=1)"]);
        // A value difference within tolerance passes.
        let t2 = vec![
            ent("t", &[("id", 2), ("v", 21)]),
            ent("t", &[("id", 1), ("v", 10)]),
        ];
        assert!(
            cmp(CompareMode::Rows, s.clone(), t2.clone(), &[])
                .mismatch
                .is_some()
        );
        let tol = [(ColumnRef::parse("t.v"), Tolerance::Absolute(1.0))];
        assert!(
            cmp(CompareMode::Rows, s.clone(), t2, &tol)
                .mismatch
                .is_none()
        );
        // Entities: duplicate readings merge by key, extra tables are notes.
        let s3 = vec![
            ent("t", &[("id", 1)]),
            ent("t", &[("id", 1), ("v", 10)]),
            ent("u", &[("id", 5)]),
        ];
        let t3 = vec![ent("t", &[("id", 1), ("v", 10)])];
        let o = cmp(CompareMode::Entities, s3, t3, &[]);
        assert!(o.mismatch.is_none());
        assert!(o.notes.iter().any(|n| n.starts_with("u:")), "{:?}", o.notes);
        // Count: only the numbers matter.
        let t4 = vec![
            ent("t", &[("id", 3), ("v", 30)]),
            ent("t", &[("id", 4), ("v", 40)]),
        ];
        assert!(
            cmp(CompareMode::Count, s.clone(), t4, &[])
                .mismatch
                .is_none()
        );
        assert!(cmp(CompareMode::Count, s, vec![], &[]).mismatch.is_some());
    }

    #[test]
    fn matching_sides_hash_alike() {
        let s = vec![ent("t", &[("id", 1), ("v", 10), ("only_s", 3)])];
        let t = vec![ent("t", &[("id", 1), ("v", 10)])];
        let (mut a, mut b) = (blake3::Hasher::new(), blake3::Hasher::new());
        let o = compare(CompareMode::Rows, s, t, &[], &|_| vec![], (&mut a, &mut b));
        assert!(o.mismatch.is_none());
        assert_eq!(a.finalize(), b.finalize());
        assert!(o.notes.iter().any(|n| n.contains("only_s")));
    }
}
