//! MySQL and MariaDB: live columns with their collations, exact key
//! quantiles as chunk boundaries, and chunk reads over the text protocol;
//! one consistent view across reader sessions ([`snapshot`]), fields typed
//! by their live column ([`decode`]), the catalog fingerprint
//! ([`fingerprint`]).
//!
//! # Collations
//!
//! Chunk boundaries and chunk membership use the key's own collation, so
//! the primary-key index serves every chunk; both sides must then have the
//! same collation on each text key column ([`check_key_collations`]). Rows
//! are merge-joined in byte order (`engine::digest` sorts each chunk by its
//! exact key bytes), so keys that are equal under a case-, accent- or
//! pad-insensitive collation but differ in bytes (`'a'`/`'A'`, `'x'`/`'x '`)
//! land in the same chunk on both sides and are reported as a missing and an
//! extra row, never merged.

mod decode;
pub mod fingerprint;
mod snapshot;

use anyhow::{Context, Result, bail};
use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{Connection, MySqlPool, Row};

use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::sql::{self, Quote};
use super::{Boundary, LiveColumn, ReadSpec};
use decode::base_type;
pub use decode::{Kind, decode, decode_text, kind_of};
pub use snapshot::{LockKind, MySnapshot, MyWorker, SnapshotMode, manifest_proof_note};

/// The databases a schema list names: "public" (the default schema name)
/// or none means the URL's database, `current`.
pub fn databases(schemas: &[String], current: &str) -> Vec<String> {
    if schemas.is_empty() {
        return vec![current.to_string()];
    }
    schemas
        .iter()
        .map(|s| if s == "public" { current } else { s }.to_string())
        .collect()
}

/// The pseudo key column of a keyless table: read in one chunk.
pub const NO_KEY: &str = "";

const Q: Quote = Quote::Backtick;

/// Quotes an identifier: `` `a``b` ``.
pub fn ident(name: &str) -> String {
    Q.ident(name)
}

pub fn table_ref(schema: Option<&str>, table: &str) -> String {
    Q.table_ref(schema, table)
}

/// Live columns of a table, in ordinal order. `cast_type` holds the
/// collation of a text column (empty for other types).
pub async fn columns(
    conn: &mut MySqlConnection,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<LiveColumn>> {
    let rows = sqlx::query(
        "SELECT CAST(c.COLUMN_NAME AS CHAR), CAST(LOWER(c.DATA_TYPE) AS CHAR), \
                CAST(LOWER(c.COLUMN_TYPE) AS CHAR), CAST(COALESCE(c.COLLATION_NAME, '') AS CHAR), \
                c.IS_NULLABLE = 'NO', \
                EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k \
                        WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
                          AND REPLACE(LOWER(k.CHECK_CLAUSE), ' ', '') LIKE CONCAT('%json_valid(`', LOWER(c.COLUMN_NAME), '`)%')) \
         FROM information_schema.COLUMNS c \
         WHERE c.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND c.TABLE_NAME = ? \
         ORDER BY c.ORDINAL_POSITION",
    )
    .bind(schema.filter(|s| !s.is_empty()))
    .bind(table)
    .fetch_all(&mut *conn)
    .await;
    sql::live_columns(rows, table, |r| {
        let data_type: String = r.get(1);
        let column_type: String = r.get(2);
        let is_json: bool = r.get::<i64, _>(5) != 0 || data_type == "json";
        LiveColumn {
            name: r.get(0),
            type_name: if is_json {
                "json".to_string()
            } else {
                column_type.clone()
            },
            declared: column_type,
            cast_type: r.get(3),
            wire: Wire::Text,
            cast_to_text: false,
            not_null: r.get::<i64, _>(4) != 0,
        }
    })
}

fn keyless(spec: &ReadSpec) -> bool {
    spec.key.is_empty() || spec.key.iter().all(|k| k == NO_KEY)
}

/// Chunk boundaries: a dense integer key split evenly between its MIN and
/// MAX ([`int_ranges`]); any other key by exact quantiles in its own order
/// (the collation's for text): every `chunk_rows`-th key, via
/// `ROW_NUMBER()` over the key index.
pub async fn boundaries(
    conn: &mut MySqlConnection,
    spec: &ReadSpec,
    chunk_rows: usize,
) -> Result<(Vec<Boundary>, u64)> {
    let t = table_ref(spec.schema.as_deref(), &spec.table);
    let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}{}", sql::filter(spec)))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("cannot count {}", spec.table))?;
    if keyless(spec) || count as usize <= chunk_rows {
        return Ok((Vec::new(), count as u64));
    }
    let live = columns(conn, spec.schema.as_deref(), &spec.table).await?;
    let kinds = kinds_of(spec, &spec.key, &live, "key column")?;
    if let [Kind::Int] = kinds.as_slice()
        && let Some(b) = int_ranges(conn, spec, &t, chunk_rows, count).await?
    {
        return Ok((b, count as u64));
    }
    // Integers come back as text on this protocol; the kinds type them.
    let sql = sql::quantiles(Q, spec, &t, chunk_rows, count);
    let mut out = Vec::new();
    let split = || format!("cannot split {} into chunks", spec.table);
    each_row(conn, &sql, split, |r| {
        let b: Boundary = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| match field(&r, i) {
                None => OwnedRaw::Null,
                Some(f) => match k {
                    Kind::Int => match std::str::from_utf8(f).ok().and_then(|s| s.parse().ok()) {
                        Some(v) => OwnedRaw::Int(v),
                        None => OwnedRaw::Text(String::from_utf8_lossy(f).into_owned()),
                    },
                    Kind::Bytes => OwnedRaw::Bytes(f.to_vec()),
                    _ => match std::str::from_utf8(f) {
                        Ok(s) => OwnedRaw::Text(s.to_string()),
                        Err(_) => OwnedRaw::Bytes(f.to_vec()),
                    },
                },
            })
            .collect();
        sql::push_boundary(&mut out, b);
    })
    .await?;
    Ok((out, count as u64))
}

/// Boundaries of a single integer key split evenly between its MIN and MAX:
/// two index dives in place of a scan of the key. Only where the key is
/// dense (at least one row per 4 values), so that no chunk can hold more
/// than 4 × `chunk_rows` rows; `None` otherwise (and for keys beyond i64),
/// and the caller takes exact quantiles.
async fn int_ranges(
    conn: &mut MySqlConnection,
    spec: &ReadSpec,
    t: &str,
    chunk_rows: usize,
    count: i64,
) -> Result<Option<Vec<Boundary>>> {
    let k = ident(&spec.key[0]);
    let sql = format!(
        "SELECT CAST(MIN({k}) AS CHAR), CAST(MAX({k}) AS CHAR) FROM {t}{}",
        sql::filter(spec)
    );
    let (lo, hi): (Option<String>, Option<String>) = sqlx::query_as(&sql)
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("cannot split {} into chunks", spec.table))?;
    let int = |v: Option<String>| v.and_then(|s| s.parse::<i64>().ok()).map(i128::from);
    let (Some(lo), Some(hi)) = (int(lo), int(hi)) else {
        return Ok(None);
    };
    let span = hi - lo + 1;
    let count = i128::from(count);
    if span > 4 * count {
        return Ok(None);
    }
    let per = chunk_rows.max(1) as i128;
    let n = (count + per - 1) / per;
    let mut out = Vec::new();
    for i in 1..n {
        // Chunk i holds (b[i-1], b[i]]: span / n values, at most 4 × chunk_rows rows.
        let b = lo + span * i / n - 1;
        sql::push_boundary(&mut out, vec![OwnedRaw::Int(b as i64)]);
    }
    Ok(Some(out))
}

/// Streams the rows of `sql` (text protocol) into `row`; `failed` says
/// what could not be done.
async fn each_row(
    conn: &mut MySqlConnection,
    sql: &str,
    failed: impl Fn() -> String,
    mut row: impl FnMut(MySqlRow),
) -> Result<()> {
    let mut stream = sqlx::raw_sql(sql).fetch(&mut *conn);
    while let Some(r) = stream.try_next().await.with_context(&failed)? {
        row(r);
    }
    Ok(())
}

/// How each of `names` is decoded, from its live column.
fn kinds_of(
    spec: &ReadSpec,
    names: &[String],
    live: &[LiveColumn],
    what: &str,
) -> Result<Vec<Kind>> {
    names
        .iter()
        .map(|n| sql::live_column(live, spec, n, what).map(|c| kind_of(&c.type_name)))
        .collect()
}

fn field(r: &MySqlRow, i: usize) -> Option<&[u8]> {
    r.try_get_unchecked::<Option<&[u8]>, _>(i).ok().flatten()
}

/// A boundary value as an SQL literal that compares in the column's own
/// type and collation: integers bare, text as a hex string with the
/// utf8mb4 introducer (the column's collation wins: it is implicit, the
/// literal coercible), bytes as a hex literal.
fn literal(v: &OwnedRaw) -> Result<String> {
    Ok(match v {
        OwnedRaw::Int(i) => i.to_string(),
        OwnedRaw::Text(s) => format!("_utf8mb4 X'{}'", hex::encode(s.as_bytes())),
        OwnedRaw::Bytes(b) => format!("X'{}'", hex::encode(b)),
        OwnedRaw::Numeric(s)
            if s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
        {
            s.clone()
        }
        other => bail!("unsupported chunk boundary value {other:?}"),
    })
}

/// `(k1, k2) > (v1, v2)` expanded so the index serves it:
/// `k1 > v1 OR (k1 = v1 AND k2 > v2)`.
fn tuple_cmp(keys: &[String], b: &Boundary, op: &str) -> Result<String> {
    let lits = b.iter().map(literal).collect::<Result<Vec<_>>>()?;
    let mut ors = Vec::new();
    for i in 0..keys.len() {
        let mut ands: Vec<String> = (0..i)
            .map(|j| format!("{} = {}", ident(&keys[j]), lits[j]))
            .collect();
        let last = i + 1 == keys.len();
        let o = if last { op } else { &op[..1] };
        ands.push(format!("{} {o} {}", ident(&keys[i]), lits[i]));
        ors.push(format!("({})", ands.join(" AND ")));
    }
    Ok(format!("({})", ors.join(" OR ")))
}

/// The SELECT for one chunk: the projection, ordered by key.
pub fn chunk_select(
    spec: &ReadSpec,
    live: &[LiveColumn],
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<String> {
    // A FLOAT's text has six significant digits; `+ 0e0` widens the stored
    // f32 exactly to a DOUBLE, whose text round-trips.
    let cols = spec
        .columns
        .iter()
        .map(|c| {
            let float = live
                .iter()
                .any(|l| &l.name == c && base_type(&l.type_name) == "float");
            if float {
                format!("({} + 0e0)", ident(c))
            } else {
                ident(c)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let keyed = !keyless(spec);
    let mut bounds = Vec::new();
    if keyed {
        if let Some(l) = lower {
            bounds.push(tuple_cmp(&spec.key, l, ">")?);
        }
        if let Some(u) = upper {
            bounds.push(tuple_cmp(&spec.key, u, "<=")?);
        }
    }
    let where_sql = sql::where_all(spec, bounds);
    let order = if keyed {
        format!(" ORDER BY {}", Q.list(&spec.key))
    } else {
        String::new()
    };
    Ok(format!(
        "SELECT {cols} FROM {}{where_sql}{order}",
        table_ref(spec.schema.as_deref(), &spec.table)
    ))
}

/// Reads one chunk over the text protocol, typing each field by its column.
pub async fn read_chunk(
    conn: &mut MySqlConnection,
    spec: &ReadSpec,
    live: &[LiveColumn],
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
    capacity: usize,
) -> Result<ChunkData> {
    let kinds = kinds_of(spec, &spec.columns, live, "column")?;
    let sql = chunk_select(spec, live, lower, upper)?;
    let n = kinds.len();
    let mut chunk = ChunkData::my_text(kinds.into(), capacity);
    let failed = || format!("reading {} failed", spec.table);
    each_row(conn, &sql, failed, |r| {
        for i in 0..n {
            chunk.push_my_field(field(&r, i));
        }
    })
    .await?;
    Ok(chunk)
}

/// Both sides must order a text key the same way for chunk boundaries
/// taken on one side to split the other exactly.
pub fn check_key_collations(
    table: &str,
    keys: &[(String, String)],
    source: &[LiveColumn],
    target: &[LiveColumn],
) -> Result<()> {
    for (s, t) in keys {
        let sc = source
            .iter()
            .find(|c| &c.name == s)
            .map(|c| c.cast_type.as_str());
        let tc = target
            .iter()
            .find(|c| &c.name == t)
            .map(|c| c.cast_type.as_str());
        if let (Some(a), Some(b)) = (sc, tc)
            && !a.eq_ignore_ascii_case(b)
        {
            bail!(
                "key column {s} of {table} has collation {} in the source and {} in the target; \
                 chunks would split differently on each side: give both the same collation \
                 (ALTER TABLE … MODIFY … COLLATE …) or compare a copy",
                if a.is_empty() { "(none)" } else { a },
                if b.is_empty() { "(none)" } else { b }
            );
        }
    }
    Ok(())
}

/// Is this a lost MySQL connection (KILL CONNECTION, server gone)?
pub fn is_connection_lost(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        if let Some(sqlx::Error::Database(db)) = c.downcast_ref::<sqlx::Error>()
            && let Some(m) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        {
            // ER_CONNECTION_KILLED, ER_QUERY_INTERRUPTED after KILL, CR_SERVER_GONE_ERROR, CR_SERVER_LOST.
            return matches!(m.number(), 1927 | 1053 | 2006 | 2013);
        }
        let msg = c.to_string().to_ascii_lowercase();
        msg.contains("connection was killed") || msg.contains("server has gone away")
    })
}

/// Test hook: another session kills a reader's connection
/// (`KILL CONNECTION`), as an operator or a failover would.
pub async fn kill_connection(pool: &MySqlPool, victim: &mut MySqlConnection) -> Result<()> {
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *victim)
        .await?;
    let mut other = MySqlConnection::connect_with(&pool.connect_options()).await?;
    sqlx::raw_sql(&format!("KILL CONNECTION {id}"))
        .execute(&mut other)
        .await?;
    let _ = other.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_boundaries_expand_for_the_index() {
        let keys = vec!["a".to_string(), "b".to_string()];
        let b = vec![OwnedRaw::Int(1), OwnedRaw::Text("x".into())];
        assert_eq!(
            tuple_cmp(&keys, &b, ">").unwrap(),
            "((`a` > 1) OR (`a` = 1 AND `b` > _utf8mb4 X'78'))"
        );
        assert_eq!(
            tuple_cmp(&keys, &b, "<=").unwrap(),
            "((`a` < 1) OR (`a` = 1 AND `b` <= _utf8mb4 X'78'))"
        );
    }
}
