//! Pushdown hashing (PostgreSQL): a chunk's rows hashed inside the
//! database, on both sides, so only a count and a hash come back (and,
//! for a chunk whose hashes differ, 16 bytes a row).
//!
//! Owns: the one decision whether a table pair can be hashed in SQL
//! exactly ([`decide`], pure: no database), and the per-chunk hash query
//! ([`hash_sql`], [`chunk_hash`], [`row_hashes`]).
//!
//! # What is hashed
//!
//! Each row becomes one record, `ROW(keys…, columns…)`, hashed by
//! PostgreSQL's own 64-bit record hash, `hash_record_extended`, which
//! hashes each field with its type's hash function; no value is formatted
//! as text unless it must be ([`hash_field`]). A field is hashed raw only
//! where the type's hash equality is exactly value identity and does not
//! depend on the database: integers, `bool`, `bytea`, `uuid`, `date`,
//! `timestamp` and `timestamptz`, and `text` / `varchar` under the `"C"`
//! collation (a nondeterministic collation would hash `'a'` like `'A'`).
//! `bpchar`'s hash ignores trailing spaces, so its octet length is hashed
//! beside it. A `jsonb` both sides `JSON.parse`, and a `numeric` both
//! read as a decimal.js `Decimal` ([`Agree::ByValue`]), are hashed by
//! their own hash: equal values differ at most in the scale of a number,
//! which those readings drop. Every other type goes in as
//! its text output: `numeric` (its hash ignores the scale, `1.5` against
//! `1.50`), floats (`-0` against `0`), enums (their hash is the label's
//! OID, which differs between databases), `json`, `jsonb` read as text,
//! arrays, intervals and the rest. Sessions run
//! in UTC. Where a column's readings agree only on part of its values, a
//! last field marks a row holding a value outside that region with the
//! side's own letter `s` / `t`: such a row never hashes alike on both
//! sides, so its chunk is drilled down through the client path, which
//! compares it exactly.
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
//! `hash_record_extended` combines its fields' hashes linearly
//! (`h = 31·h + field`), and a sum of linear row hashes would not see two
//! rows swap a value. So each row's record hash `r` is mixed again by
//! `hashint8extended(r, 0)`; per chunk, the exact sum of those (PostgreSQL
//! sums `int8` into `numeric` through a 128-bit accumulator: no
//! wraparound), and the row count. The sum is order-independent, so no
//! `ORDER BY`. Treating the hashes as random functions, a changed row
//! keeps its 64-bit record hash with probability about 2^-64, and changed
//! rows leave the exact sum of their 64-bit mixes unchanged with
//! probability about 2^-64; so a chunk with differing rows is taken for
//! identical with probability at most about 2^-63. The hash is not
//! cryptographic: this bounds accidents, not crafted data. An
//! identical-chunk verdict never rests on a 32-bit hash. (Measured per
//! row on the bench's table: the row's text through `hashtextextended`
//! twice cost about 2.5 times the server CPU, and `md5` halves about 3
//! times that; a second mixed sum, 2 times.)
//!
//! A chunk whose hashes differ is drilled into by per-row hashes: each
//! row's key hash (`hash_record_extended` of its key fields) and record
//! hash, 16 bytes a row ([`Hashes::Rows`]). Rows pair by key hash (a key
//! hash repeated within one side sends the chunk to a whole read), and
//! only the rows whose record hashes differ, or whose key one side lacks,
//! are read ([`key_hash_in`]).

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
    /// Every value, and values equal by the type's own equality read
    /// alike: a `jsonb` both sides `JSON.parse` (numbers equal by value,
    /// `1.0` against `1.00`), a `numeric` both sides read as a decimal.js
    /// `Decimal` (`1.5` against `1.50`). Hashed by the type's own hash, not
    /// formatted as text.
    ByValue,
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
        let both = |m: ReadMode| c.source.read == m && c.target.read == m;
        let by_value =
            (ty == "jsonb" && both(ReadMode::Json)) || (ty == "numeric" && both(ReadMode::Decimal));
        return Ok(if by_value {
            Agree::ByValue
        } else {
            Agree::Always
        });
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

/// One side's hash of a chunk: rows and the exact sum of the mixed row
/// hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkHash {
    pub rows: i64,
    pub sum: String,
}

impl ChunkHash {
    /// Bytes of payload the server sent for it.
    pub fn bytes(&self) -> u64 {
        (8 + self.sum.len()) as u64
    }
}

/// The condition under which a non-NULL value of column `c` lies where
/// both readings agree; `None`: everywhere.
fn region(c: &str, agree: &Agree) -> Option<String> {
    match agree {
        Agree::Always | Agree::ByValue => None,
        Agree::SafeInteger => Some(format!(
            "{c} BETWEEN -9007199254740991 AND 9007199254740991"
        )),
        Agree::WholeMillis => Some(format!(
            "{c} >= '0100-01-01' AND {c} < '10000-01-01' \
             AND {c} = date_trunc('milliseconds', {c})"
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

/// The record field(s) that stand for column `c` (quoted) of live type
/// `ty` (`pg_type.typname`) in the row hash: the raw value where the
/// type's hash equality is value identity in every database (or, for
/// a `jsonb` or `numeric` read by value, [`Agree::ByValue`]), else its
/// text output (see the module doc).
fn hash_field(c: &str, ty: &str, agree: &Agree) -> String {
    match ty {
        "jsonb" | "numeric" if *agree == Agree::ByValue => c.to_string(),
        "int2" | "int4" | "int8" | "bool" | "bytea" | "uuid" | "date" | "timestamp"
        | "timestamptz" => c.to_string(),
        "text" | "varchar" => format!("{c} COLLATE \"C\""),
        "bpchar" => format!("{c} COLLATE \"C\", octet_length({c})"),
        _ => format!("{c}::text"),
    }
}

/// One side's row hash, `hash_record_extended(ROW(…), 0)`: the record of
/// its `keys`, then `cols` (each as [`hash_field`] has it), then (when a
/// column has a region, see [`Agree`]) a marker that is NULL while every
/// value lies in its region and the side's letter `side` (`'s'` or `'t'`)
/// otherwise.
fn row_hash(
    spec: &ReadSpec,
    live: &[LiveColumn],
    cols: &[(&str, Agree)],
    side: char,
) -> Result<String> {
    let find = |name: &str| crate::db::sql::live_column(live, spec, name, "column");
    let mut fields = key_fields(spec, live)?;
    let mut outside = Vec::new();
    for (name, agree) in cols {
        let c = ident(name);
        fields.push(hash_field(&c, &find(name)?.type_name, agree));
        if let Some(r) = region(&c, agree) {
            outside.push(format!("NOT ({c} IS NULL OR ({r}))"));
        }
    }
    if !outside.is_empty() {
        fields.push(format!(
            "CASE WHEN {} THEN '{side}'::text END",
            outside.join(" OR ")
        ));
    }
    Ok(format!(
        "hash_record_extended(ROW({}), 0)",
        fields.join(", ")
    ))
}

/// The key columns as [`hash_field`] has them.
fn key_fields(spec: &ReadSpec, live: &[LiveColumn]) -> Result<Vec<String>> {
    spec.key
        .iter()
        .map(|k| {
            let ty = &crate::db::sql::live_column(live, spec, k, "key column")?.type_name;
            Ok(hash_field(&ident(k), ty, &Agree::Always))
        })
        .collect()
}

/// A row's key hash, `hash_record_extended(ROW(keys…), 0)`: what a
/// drill-down pairs rows by, and narrows a read to.
fn key_hash(spec: &ReadSpec, live: &[LiveColumn]) -> Result<String> {
    Ok(format!(
        "hash_record_extended(ROW({}), 0)",
        key_fields(spec, live)?.join(", ")
    ))
}

/// What a hash query asks one side for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashes {
    /// The chunk's row count and the exact sum of its mixed row hashes
    /// ([`row_hash`]): one row.
    Chunk,
    /// For a chunk whose sums differ: each row's [`key_hash`] and
    /// [`row_hash`], as two `int8` arrays in one row, so a chunk comes
    /// back as one message of 16 bytes a row whatever its key.
    Rows,
}

/// The hash query `what` of one side's chunk, the keys in
/// `(lower, upper]`.
pub fn hash_sql(
    what: Hashes,
    spec: &ReadSpec,
    live: &[LiveColumn],
    cols: &[(&str, Agree)],
    side: char,
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<String> {
    let (row, from) = (
        row_hash(spec, live, cols, side)?,
        postgres::chunk_from(spec, live, lower, upper)?,
    );
    // The hash inline in the aggregate: a subquery (`OFFSET 0`) that
    // computed it once for two aggregates cost PostgreSQL 15 twice as
    // much, on the bench's transactions table.
    Ok(match what {
        Hashes::Chunk => {
            format!(
                "SELECT count(*)::int8, COALESCE(sum(hashint8extended({row}, 0)), 0)::text{from}"
            )
        }
        Hashes::Rows => format!(
            "SELECT COALESCE(array_agg({}), '{{}}'), COALESCE(array_agg({row}), '{{}}'){from}",
            key_hash(spec, live)?
        ),
    })
}

/// One side's per-row hashes of a chunk: (key hash, row hash), sorted.
pub type RowHashes = Vec<(i64, i64)>;

/// Runs a [`Hashes::Rows`] query on `worker`; also says how many bytes
/// of payload came back.
pub async fn row_hashes(worker: &mut Worker, sql: &str) -> Result<(RowHashes, u64)> {
    let row = hash_row(worker, sql).await?;
    let (keys, rows): (Vec<i64>, Vec<i64>) = (row.try_get(0)?, row.try_get(1)?);
    let bytes = 8 * (keys.len() + rows.len()) as u64;
    let mut out: RowHashes = keys.into_iter().zip(rows).collect();
    out.sort_unstable();
    Ok((out, bytes))
}

/// The condition that keeps the rows whose [`key_hash`] is one of
/// `hashes`: a superset of the rows with those keys (two keys may share
/// a hash), which the row compare sorts out.
pub fn key_hash_in(spec: &ReadSpec, live: &[LiveColumn], hashes: &[i64]) -> Result<String> {
    let list: Vec<String> = hashes.iter().map(i64::to_string).collect();
    Ok(format!(
        "{} = ANY('{{{}}}'::int8[])",
        key_hash(spec, live)?,
        list.join(",")
    ))
}

/// Runs a chunk's hash query on `worker` (PostgreSQL only).
pub async fn chunk_hash(worker: &mut Worker, sql: &str) -> Result<ChunkHash> {
    let row = hash_row(worker, sql).await?;
    Ok(ChunkHash {
        rows: row.try_get(0)?,
        sum: row.try_get(1)?,
    })
}

/// The one row a [`hash_sql`] query returns (PostgreSQL only).
async fn hash_row(worker: &mut Worker, sql: &str) -> Result<sqlx::postgres::PgRow> {
    let Worker::Postgres(tx) = worker else {
        anyhow::bail!("pushdown hashing runs on PostgreSQL only");
    };
    sqlx::query(sql)
        .fetch_one(&mut **tx)
        .await
        .context("cannot hash a chunk in the database")
}
