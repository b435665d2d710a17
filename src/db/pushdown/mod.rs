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
//! Each field of a row (keys, then columns) is hashed by its type's own
//! 64-bit extended hash function with a seed of its own, and the row's
//! hash is the XOR of those; no value is formatted as text unless it must
//! be ([`field_hashes`]). A field is hashed raw only
//! where the type's hash equality is exactly value identity and does not
//! depend on the database: integers, `bool`, `bytea`, `uuid`, `date`,
//! `timestamp` and `timestamptz`, and `text` / `varchar` under the `"C"`
//! collation (a nondeterministic collation would hash `'a'` like `'A'`).
//! `bpchar`'s hash ignores trailing spaces, so its octet length is hashed
//! beside it; `timestamptz` is hashed as its UTC `timestamp`. A `jsonb`
//! both sides `JSON.parse`, a `numeric` both read as a decimal.js
//! `Decimal`, and a `numeric(p,s)` or `character(n)` declared alike on both
//! sides ([`Agree::ByValue`]), are hashed by their own hash: equal values
//! differ at most in the scale of a number, which those readings drop, or
//! not at all (the modifier fixes scale and padding; `character(n)` then
//! needs no octet length). Every other type goes in as
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
//! A row's hash is an XOR of its fields' hashes, and a sum of such
//! linear row hashes would not see two rows swap a value. So each row's
//! hash `r` is mixed again by
//! `hashint8extended(r, 0)`; per chunk, the exact sum of those (PostgreSQL
//! sums `int8` into `numeric` through a 128-bit accumulator: no
//! wraparound), and the row count. The sum is order-independent, so no
//! `ORDER BY`. Treating the hashes as random functions, a changed row
//! keeps its 64-bit row hash with probability about 2^-64, and changed
//! rows leave the exact sum of their 64-bit mixes unchanged with
//! probability about 2^-64; so a chunk with differing rows is taken for
//! identical with probability at most about 2^-63. The hash is not
//! cryptographic: this bounds accidents, not crafted data. An
//! identical-chunk verdict never rests on a 32-bit hash. (Measured per
//! row on the bench's table: the row's text through `hashtextextended`
//! twice cost about 2.5 times the server CPU, and `md5` halves about 3
//! times that; a second mixed sum, 2 times; `hash_record_extended` of the
//! row as one record, 1.2 times.)
//!
//! A chunk whose hashes differ is drilled into by per-row hashes: each
//! row's key hash (the key itself for one integer key column, else the
//! XOR of its key fields' hashes) and row hash, 16 bytes a row
//! ([`Hashes::Rows`]). Rows pair by key hash (a key
//! hash repeated within one side sends the chunk to a whole read), and
//! only the rows whose row hashes differ, or whose key one side lacks,
//! are read ([`key_hash_in`]: through the key's index for an integer key).

use anyhow::{Context, Result};
use sqlx::Row;

use crate::canon::{ColumnCanon, Delivery};
use crate::db::postgres::{self, ident};
use crate::db::{Boundary, ChunkData, LiveColumn, ReadSpec, Wire, Worker};
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
    /// `Decimal` (`1.5` against `1.50`), a `numeric(p,s)` or `character(n)`
    /// declared alike on both sides (the scale, or the padding, is fixed:
    /// equal values have equal text). Hashed by the type's own hash, not
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
    /// Declared types with their modifiers (`numeric(12,2)`), both sides.
    pub source_declared: &'a str,
    pub target_declared: &'a str,
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
        // The same modifier on both sides fixes a numeric's scale and a
        // char(n)'s padding: equal values are then equal text.
        let fixed = c.source_declared == c.target_declared
            && match ty {
                "numeric" => c.source_declared.starts_with("numeric("),
                "bpchar" => c.source_declared.starts_with("character("),
                _ => false,
            };
        let by_value = fixed
            || (ty == "jsonb" && both(ReadMode::Json))
            || (ty == "numeric" && both(ReadMode::Decimal));
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

/// The hashes that stand for column `c` (quoted) of live type `ty`
/// (`pg_type.typname`) in the row hash, each an `int8` expression that is
/// never NULL, seeded with `seed` (and `seed + 1` for a second one): the
/// type's own extended hash of the raw value where the type's hash
/// equality is value identity in every database (or, for a `jsonb` or
/// `numeric` read by value, [`Agree::ByValue`]), else the hash of its text
/// output (see the module doc). A NULL stands as the seed's own constant.
fn field_hashes(c: &str, ty: &str, agree: &Agree, seed: i64) -> Vec<String> {
    let h = |f: &str, arg: String, seed: i64| format!("COALESCE({f}({arg}, {seed}), {})", -seed);
    let by_value = *agree == Agree::ByValue;
    match ty {
        "jsonb" if by_value => vec![h("jsonb_hash_extended", c.into(), seed)],
        "numeric" if by_value => vec![h("hash_numeric_extended", c.into(), seed)],
        "int2" => vec![h("hashint2extended", c.into(), seed)],
        "int4" => vec![h("hashint4extended", c.into(), seed)],
        "int8" => vec![h("hashint8extended", c.into(), seed)],
        "bool" => vec![h("hashint4extended", format!("{c}::int4"), seed)],
        "uuid" => vec![h("uuid_hash_extended", c.into(), seed)],
        "timestamp" => vec![h("timestamp_hash_extended", c.into(), seed)],
        // One-to-one in a UTC session, infinities included.
        "timestamptz" => vec![h(
            "timestamp_hash_extended",
            format!("{c} AT TIME ZONE 'UTC'"),
            seed,
        )],
        // Past year 294276 a date has no timestamp: its own record hash.
        "date" | "bytea" => vec![h("hash_record_extended", format!("ROW({c})"), seed)],
        "text" | "varchar" => vec![h("hashtextextended", format!("{c} COLLATE \"C\""), seed)],
        // bpchar's hash ignores trailing spaces: its length goes beside it,
        // unless both sides pad to the same length.
        "bpchar" if by_value => vec![h("hashbpcharextended", format!("{c} COLLATE \"C\""), seed)],
        "bpchar" => vec![
            h("hashbpcharextended", format!("{c} COLLATE \"C\""), seed),
            h("hashint4extended", format!("octet_length({c})"), seed + 1),
        ],
        _ => vec![h(
            "hashtextextended",
            format!("{c}::text COLLATE \"C\""),
            seed,
        )],
    }
}

/// Field hashes of the key columns, seeded 1, 3, 5, …
fn key_hashes(spec: &ReadSpec, live: &[LiveColumn]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, k) in spec.key.iter().enumerate() {
        let ty = &crate::db::sql::live_column(live, spec, k, "key column")?.type_name;
        out.extend(field_hashes(
            &ident(k),
            ty,
            &Agree::Always,
            2 * i as i64 + 1,
        ));
    }
    Ok(out)
}

/// One side's row hash: the XOR of a seeded 64-bit hash per field (the
/// keys, then `cols`, each as [`field_hashes`] has it, every field with
/// its own seed, so two columns cannot swap values unseen), then, when a
/// column has a region (see [`Agree`]), a marker that is 0 while every
/// value lies in its region and the hash of the side's letter `side`
/// (`'s'` or `'t'`) otherwise. No record is formed: on the bench's table
/// this costs the server about 17% less than `hash_record_extended`.
fn row_hash(
    spec: &ReadSpec,
    live: &[LiveColumn],
    cols: &[(&str, Agree)],
    side: char,
) -> Result<String> {
    let find = |name: &str| crate::db::sql::live_column(live, spec, name, "column");
    let mut fields = key_hashes(spec, live)?;
    let mut outside = Vec::new();
    let first = 2 * spec.key.len() as i64 + 1;
    for (i, (name, agree)) in cols.iter().enumerate() {
        let c = ident(name);
        let seed = first + 2 * i as i64;
        fields.extend(field_hashes(&c, &find(name)?.type_name, agree, seed));
        if let Some(r) = region(&c, agree) {
            outside.push(format!("NOT ({c} IS NULL OR ({r}))"));
        }
    }
    if !outside.is_empty() {
        fields.push(format!(
            "CASE WHEN {} THEN hashtextextended('{side}', 0) ELSE 0 END",
            outside.join(" OR ")
        ));
    }
    Ok(format!("({})", fields.join(" # ")))
}

/// The one integer key column (NOT NULL), whose value is its own exact
/// key hash (a narrowed read then finds its rows through the key's index).
fn integer_key<'a>(spec: &'a ReadSpec, live: &[LiveColumn]) -> Result<Option<&'a str>> {
    let [k] = spec.key.as_slice() else {
        return Ok(None);
    };
    let c = crate::db::sql::live_column(live, spec, k, "key column")?;
    let int = matches!(c.type_name.as_str(), "int2" | "int4" | "int8");
    Ok((int && c.not_null).then_some(k.as_str()))
}

/// A row's key hash: what a drill-down pairs rows by, and narrows a read
/// to. The key itself for one integer key column; else the XOR of the
/// key fields' seeded hashes.
fn key_hash(spec: &ReadSpec, live: &[LiveColumn]) -> Result<String> {
    if let Some(k) = integer_key(spec, live)? {
        return Ok(format!("{}::int8", ident(k)));
    }
    Ok(format!("({})", key_hashes(spec, live)?.join(" # ")))
}

/// The most rows a chunk in pushdown mode is planned to hold: its packed
/// row hashes ([`Hashes::Rows`], 16 bytes a row) stay a quarter of
/// PostgreSQL's 1 GB limit on one value.
pub const PACKED_MAX_ROWS: usize = 16_000_000;

/// What a hash query asks one side for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashes {
    /// The chunk's row count and the exact sum of its mixed row hashes
    /// ([`row_hash`]): one row.
    Chunk,
    /// For a chunk whose sums differ: each row's [`key_hash`] and
    /// [`row_hash`], packed by the server into one `bytea` of 16 bytes a
    /// row (`int8send` of each, big-endian), shipped as one COPY binary
    /// row. One message a chunk: a message a row cost the client about
    /// 0.25 µs each in the driver (2.5 s of CPU for 5M rows on each side),
    /// while the server's `string_agg` costs what its COPY of the rows did.
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
            "COPY (SELECT string_agg(int8send({}) || int8send({row}), ''::bytea){from}) \
             TO STDOUT (FORMAT binary)",
            key_hash(spec, live)?
        ),
    })
}

/// One side's per-row hashes of a chunk: (key hash, row hash), sorted.
pub type RowHashes = Vec<(i64, i64)>;

/// Runs a [`Hashes::Rows`] query on `worker`, reserving `capacity` bytes
/// (the largest answer so far, so the buffer is a pooled one with its
/// pages, where one grown from nothing is a fresh allocation every chunk);
/// also says how many bytes of payload came back.
pub async fn row_hashes(
    worker: &mut Worker,
    sql: &str,
    capacity: usize,
) -> Result<(RowHashes, u64)> {
    let Worker::Postgres(tx) = worker else {
        anyhow::bail!("pushdown hashing runs on PostgreSQL only");
    };
    let buf = postgres::copy_out(tx, sql, capacity)
        .await
        .context("cannot hash a chunk's rows in the database")?;
    let bytes = buf.len() as u64;
    let mut out = pairs(&ChunkData::from_pg_copy(buf, [Wire::Bytes].into())?)?;
    out.sort_unstable();
    Ok((out, bytes))
}

/// The (key hash, row hash) pairs of a [`Hashes::Rows`] result: one row
/// of one `bytea` (NULL for an empty chunk) of 16 bytes a pair.
fn pairs(rows: &ChunkData) -> Result<RowHashes> {
    let mut fields = Vec::with_capacity(1);
    if rows.len() != 1 {
        anyhow::bail!(
            "a chunk's row hashes came back as {} rows, not one",
            rows.len()
        );
    }
    rows.fields(0, &mut fields);
    let packed = fields[0].unwrap_or_default();
    if packed.len() % 16 != 0 {
        anyhow::bail!(
            "a chunk's row hashes came back {} bytes long, not 16 a row",
            packed.len()
        );
    }
    let int = |b: &[u8]| i64::from_be_bytes(b.try_into().expect("8 bytes"));
    Ok(packed
        .chunks_exact(16)
        .map(|p| (int(&p[..8]), int(&p[8..])))
        .collect())
}

/// The condition that keeps the rows whose [`key_hash`] is one of
/// `hashes`: a superset of the rows with those keys (two keys may share
/// a hash), which the row compare sorts out.
pub fn key_hash_in(spec: &ReadSpec, live: &[LiveColumn], hashes: &[i64]) -> Result<String> {
    let list: Vec<String> = hashes.iter().map(i64::to_string).collect();
    let lhs = match integer_key(spec, live)? {
        Some(k) => ident(k),
        None => key_hash(spec, live)?,
    };
    Ok(format!("{lhs} = ANY('{{{}}}'::int8[])", list.join(",")))
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
