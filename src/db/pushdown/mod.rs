//! Pushdown hashing (PostgreSQL): a chunk's rows hashed inside the
//! database, on both sides, so only a count and a hash come back.
//!
//! Owns: the one decision whether a table pair can be hashed in SQL
//! exactly ([`decide`], pure: no database), and the per-chunk hash query
//! ([`chunk_hash_sql`], [`chunk_hash`]).
//!
//! # What is hashed
//!
//! Each row becomes one text: the record `ROW(keys…, columns…)::text`.
//! PostgreSQL's record output is unambiguous: NULL is an empty field, and
//! a value that is empty or holds a quote, backslash, parenthesis, comma or
//! space is quoted with its quotes and backslashes doubled, so no value can
//! forge a separator; each value is in its type's text output (`bpchar`
//! keeps its padding; sessions run in UTC). Where a column's readings agree
//! only on part of its values, a last field marks a row holding a value
//! outside that region with the side's own letter `s` / `t`: such a row
//! never hashes alike on both sides, so its chunk is drilled down through
//! the client path, which compares it exactly.
//!
//! A column is hashed by its raw value only where equal raw values are
//! read alike by both ORMs ([`Agree`]): same live type on both sides, and
//! either the same reading (`ColumnCanon::reads_like`, with the delivery
//! rule of the client path's hash) or a known pair of readings restricted
//! to the values where they agree (safe integers, whole milliseconds, JS
//! dates, known enum labels). Anything else sends the table through the
//! client path, with the reason. Equal hashes therefore imply equal
//! canonical readings; unequal hashes only mean "read the rows".
//!
//! # The hash and its collision bound
//!
//! Per row, two 64-bit hashes of the row text, `hashtextextended` with
//! seeds 0 and 1 (PostgreSQL's own 64-bit text hash); per chunk, the exact
//! sums of each (PostgreSQL sums `int8` into `numeric`: no wraparound), and
//! the row count. The sums are order-independent, so no `ORDER BY`.
//! Treating the hash as a random function, two chunks whose row multisets
//! differ get the same sums with probability about 2^-128, and at most
//! 2^-64 even if the two seeds were fully correlated; the hash is not
//! cryptographic, so this bounds accidents, not crafted data. An
//! identical-chunk verdict never rests on a 32-bit hash. (`md5` halves
//! gave the same bound at three times the server CPU.)

use anyhow::{Context, Result};
use sqlx::Row;

use crate::canon::{ColumnCanon, Delivery};
use crate::db::postgres::{self, ident};
use crate::db::{Boundary, LiveColumn, ReadSpec, Worker};
use crate::mapping::{Orm, ReadMode};

#[cfg(test)]
mod tests;

/// Where equal raw values of a column are read alike by both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agree {
    /// Every value.
    Always,
    /// Integers within ±(2^53 − 1), where a JS `number` is exact.
    SafeInteger,
    /// Finite timestamps of years 100–9999 (below 100 a JS date parser
    /// reads a two-digit year) with no digit below the
    /// millisecond, where a JS `Date` holds the value exactly.
    WholeMillis,
    /// Dates of years 1–9999, where every reader's JS `Date` is valid.
    Day,
    /// Enum labels the name-reading side knows (Prisma throws on others).
    Labels(Vec<String>),
}

/// Whether a table pair is hashed in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushdown {
    /// Yes: one [`Agree`] per compared column, in order.
    Exact(Vec<Agree>),
    /// No, and why (for the report).
    No(String),
}

/// One compared column as both sides read it.
pub struct PdColumn<'a> {
    /// The source's column name (for the reason).
    pub name: &'a str,
    pub source: &'a ColumnCanon,
    pub target: &'a ColumnCanon,
    /// Live type names (`pg_type.typname`) of both sides.
    pub source_type: &'a str,
    pub target_type: &'a str,
    /// For an enum column: the database labels either mapping defines.
    pub labels: &'a [String],
    /// What the source's driver delivers ([`crate::db::Wire::delivery`]),
    /// the client path's input to the same rule.
    pub delivery: Delivery,
}

/// The one decision: whether a keyed table pair whose columns are `cols`
/// can be hashed in SQL exactly, on PostgreSQL both sides. Pure.
pub fn decide(cols: &[PdColumn<'_>]) -> Pushdown {
    let mut agree = Vec::with_capacity(cols.len());
    for c in cols {
        match column_agree(c) {
            Ok(a) => agree.push(a),
            Err(why) => return Pushdown::No(format!("column {}: {why}", c.name)),
        }
    }
    Pushdown::Exact(agree)
}

fn column_agree(c: &PdColumn<'_>) -> Result<Agree, String> {
    use ReadMode as M;
    if c.source_type != c.target_type {
        return Err(format!(
            "types differ ({} against {})",
            c.source_type, c.target_type
        ));
    }
    let ty = c.source_type;
    if c.source.reads_like(c.target, c.delivery) {
        return Ok(Agree::Always);
    }
    let (s, t) = (c.source, c.target);
    // Known pairs: only for plain scalars without enum or MySQL rules.
    let plain = |x: &ColumnCanon| {
        [Orm::Prisma, Orm::Drizzle]
            .into_iter()
            .any(|orm| *x == ColumnCanon::from_read(x.read).with_orm(orm))
    };
    let timestamp = matches!(ty, "timestamp" | "timestamptz");
    let reads = (s.read, t.read);
    let pair = |a: M, b: M| reads == (a, b) || reads == (b, a);
    if plain(s) && plain(t) {
        if pair(M::Decimal, M::DecimalString) && ty == "numeric" {
            return Ok(Agree::Always);
        }
        if (pair(M::BigInt, M::BigIntNumber) || reads == (M::Int, M::Int)) && ty == "int8" {
            return Ok(Agree::SafeInteger);
        }
        if timestamp
            && (pair(M::DateTime, M::DateTimeString) || reads == (M::DateTime, M::DateTime))
        {
            return Ok(Agree::WholeMillis);
        }
        if ty == "date" && (pair(M::Date, M::DateString) || reads == (M::Date, M::Date)) {
            return Ok(Agree::Day);
        }
    }
    // An enum's name against its label: the name side hands the label's
    // own encoding for every label its definition knows, and throws on the
    // rest (canon's `encode_enum_name`).
    if pair(M::EnumName, M::EnumLabel) && !ty.starts_with('_') {
        let named = if s.read == M::EnumName { s } else { t };
        let known = c
            .labels
            .iter()
            .filter(|l| named.enum_name(l).is_some())
            .cloned()
            .collect();
        return Ok(Agree::Labels(known));
    }
    Err(format!(
        "read as {:?} and {:?} on {ty}: no SQL form for both readings",
        s.read, t.read
    ))
}

/// One side's hash of a chunk: rows and the two half sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkHash {
    pub rows: i64,
    pub sum_hi: String,
    pub sum_lo: String,
}

impl ChunkHash {
    /// Bytes of payload the server sent for it.
    pub fn bytes(&self) -> u64 {
        (8 + self.sum_hi.len() + self.sum_lo.len()) as u64
    }
}

/// The condition under which a non-NULL value of column `c` lies where
/// both readings agree; `None`: everywhere.
fn region(c: &str, agree: &Agree) -> Option<String> {
    match agree {
        Agree::Always => None,
        Agree::SafeInteger => Some(format!(
            "{c} BETWEEN -9007199254740991 AND 9007199254740991"
        )),
        Agree::WholeMillis => Some(format!(
            "isfinite({c}) AND {c} = date_trunc('milliseconds', {c}) \
             AND extract(year FROM {c}) BETWEEN 100 AND 9999"
        )),
        Agree::Day => Some(format!("{c} BETWEEN '0001-01-01' AND '9999-12-31'")),
        Agree::Labels(labels) if labels.is_empty() => Some("false".into()),
        Agree::Labels(labels) => Some(format!(
            "{c}::text IN ({})",
            labels
                .iter()
                .map(|l| postgres::literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The hash query of one side's chunk: the row text is the record of its
/// `keys`, then `cols`, then (when a column has a region, see [`Agree`])
/// a marker that is NULL while every value lies in its region and the
/// side's letter `side` (`'s'` or `'t'`) otherwise.
pub fn chunk_hash_sql(
    spec: &ReadSpec,
    live: &[LiveColumn],
    cols: &[(&str, Agree)],
    side: char,
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<String> {
    let find = |name: &str| crate::db::sql::live_column(live, spec, name, "column");
    let mut fields = Vec::with_capacity(spec.key.len() + cols.len() + 1);
    let mut outside = Vec::new();
    for k in &spec.key {
        find(k)?;
        fields.push(ident(k));
    }
    for (name, agree) in cols {
        find(name)?;
        let c = ident(name);
        if let Some(r) = region(&c, agree) {
            outside.push(format!("NOT ({c} IS NULL OR ({r}))"));
        }
        fields.push(c);
    }
    if !outside.is_empty() {
        fields.push(format!(
            "CASE WHEN {} THEN '{side}' END",
            outside.join(" OR ")
        ));
    }
    // OFFSET 0 keeps the row text computed once for both hashes.
    Ok(format!(
        "SELECT count(*)::int8, COALESCE(sum(hashtextextended(r, 0)), 0)::text, \
         COALESCE(sum(hashtextextended(r, 1)), 0)::text \
         FROM (SELECT ROW({})::text AS r{} OFFSET 0) AS rows",
        fields.join(", "),
        postgres::chunk_from(spec, live, lower, upper)?
    ))
}

/// Runs a chunk's hash query on `worker` (PostgreSQL only).
pub async fn chunk_hash(worker: &mut Worker, sql: &str) -> Result<ChunkHash> {
    let Worker::Postgres(tx) = worker else {
        anyhow::bail!("pushdown hashing runs on PostgreSQL only");
    };
    let row = sqlx::query(sql)
        .fetch_one(&mut **tx)
        .await
        .context("cannot hash a chunk in the database")?;
    Ok(ChunkHash {
        rows: row.try_get(0)?,
        sum_hi: row.try_get(1)?,
        sum_lo: row.try_get(2)?,
    })
}
