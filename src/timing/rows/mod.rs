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
//!
//! Here: rows → entities. `sql` reads what the captured SQL says (tables,
//! Drizzle's nested JSON, `ORDER BY`), `compare` compares two sides'
//! entities, `order` their top-level lists in order.

pub mod compare;
pub mod order;
mod sql;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::exec::{Catalog, ColumnMeta, StmtResult};
use super::ops::ColumnRef;
use super::value::{Val, from_json, oid};
use crate::canon::{self, ColumnCanon};
use crate::mapping::{Dialect, Mapping, ReadMode};

pub use compare::{Outcome, compare};

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
enum Target {
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
struct NestedSpec {
    table: String,
    fields: Vec<NestedField>,
}

#[derive(Debug, Clone, PartialEq)]
enum NestedField {
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
fn resolve(view: &SideView<'_>, sql: &str, cols: &[ColumnMeta]) -> Vec<Target> {
    let nested = sql::drizzle_nested(sql);
    let referenced = sql::referenced_tables(view.mapping, sql);
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
