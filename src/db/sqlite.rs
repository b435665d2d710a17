//! SQLite: one read transaction per side on one connection, chunk
//! boundaries from exact key quantiles, rows read through sqlx.

use anyhow::{Context, Result};
use futures::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Row, Sqlite, SqlitePool, TypeInfo, ValueRef};

use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::{Boundary, LiveColumn, ReadSpec};

/// SQLite quotes identifiers the ANSI way, as PostgreSQL does.
pub use super::postgres::ident;

/// One connection holding one read transaction: every chunk of this side
/// reads the same database state.
pub struct SqliteSnapshot {
    pub conn: tokio::sync::Mutex<PoolConnection<Sqlite>>,
}

impl SqliteSnapshot {
    pub async fn begin(pool: &SqlitePool) -> Result<SqliteSnapshot> {
        let mut conn = pool
            .acquire()
            .await
            .context("cannot open the SQLite file")?;
        conn.execute("BEGIN")
            .await
            .context("cannot start a read transaction")?;
        // A deferred transaction takes its snapshot at the first read.
        conn.execute("SELECT count(*) FROM sqlite_master")
            .await
            .context("cannot read the SQLite schema")?;
        Ok(SqliteSnapshot {
            conn: tokio::sync::Mutex::new(conn),
        })
    }

    pub async fn end(self) {
        let mut c = self.conn.into_inner();
        let _ = c.execute("ROLLBACK").await;
    }
}

pub async fn columns(conn: &mut PoolConnection<Sqlite>, table: &str) -> Result<Vec<LiveColumn>> {
    let rows = sqlx::query("SELECT name, type, \"notnull\" FROM pragma_table_info(?1)")
        .bind(table)
        .fetch_all(&mut **conn)
        .await
        .with_context(|| format!("cannot read the columns of {table}"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let ty: String = r.get(1);
            LiveColumn {
                name: r.get(0),
                type_name: ty.to_ascii_lowercase(),
                cast_type: ty,
                wire: Wire::Text,
                cast_to_text: false,
                not_null: r.get::<i64, _>(2) != 0,
            }
        })
        .collect())
}

fn filter(spec: &ReadSpec) -> String {
    spec.where_clause
        .as_deref()
        .map(|w| format!(" WHERE ({w})"))
        .unwrap_or_default()
}

/// Exact quantiles: every `chunk_rows`-th key.
pub async fn boundaries(
    conn: &mut PoolConnection<Sqlite>,
    spec: &ReadSpec,
    chunk_rows: usize,
) -> Result<(Vec<Boundary>, u64)> {
    let keys = spec
        .key
        .iter()
        .map(|k| ident(k))
        .collect::<Vec<_>>()
        .join(", ");
    let t = ident(&spec.table);
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}{}", filter(spec)))
        .fetch_one(&mut **conn)
        .await
        .with_context(|| format!("cannot count {}", spec.table))?;
    if count as usize <= chunk_rows {
        return Ok((Vec::new(), count as u64));
    }
    let sql = format!(
        "SELECT {keys} FROM (SELECT {keys}, row_number() OVER (ORDER BY {keys}) AS parity_rn FROM {t}{}) \
         WHERE parity_rn % {chunk_rows} = 0 AND parity_rn < {count} ORDER BY parity_rn",
        filter(spec)
    );
    let rows = sqlx::query(&sql)
        .fetch_all(&mut **conn)
        .await
        .with_context(|| format!("cannot split {} into chunks", spec.table))?;
    Ok((rows.iter().map(row_values).collect(), count as u64))
}

fn row_values(r: &SqliteRow) -> Vec<OwnedRaw> {
    (0..r.columns().len()).map(|i| value(r, i)).collect()
}

fn value(r: &SqliteRow, i: usize) -> OwnedRaw {
    let Ok(v) = r.try_get_raw(i) else {
        return OwnedRaw::Null;
    };
    if v.is_null() {
        return OwnedRaw::Null;
    }
    match v.type_info().name() {
        "INTEGER" => r
            .try_get::<i64, _>(i)
            .map(OwnedRaw::Int)
            .unwrap_or(OwnedRaw::Null),
        "REAL" => r
            .try_get::<f64, _>(i)
            .map(OwnedRaw::Float)
            .unwrap_or(OwnedRaw::Null),
        "BLOB" => r
            .try_get::<Vec<u8>, _>(i)
            .map(OwnedRaw::Bytes)
            .unwrap_or(OwnedRaw::Null),
        _ => r
            .try_get::<String, _>(i)
            .map(OwnedRaw::Text)
            .unwrap_or(OwnedRaw::Null),
    }
}

pub async fn read_chunk(
    conn: &mut PoolConnection<Sqlite>,
    spec: &ReadSpec,
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<ChunkData> {
    let cols = spec
        .columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let keys = spec
        .key
        .iter()
        .map(|k| ident(k))
        .collect::<Vec<_>>()
        .join(", ");
    let tuple = format!("({keys})");
    let placeholders = |n: usize| format!("({})", vec!["?"; n].join(", "));
    let mut conds = Vec::new();
    if let Some(w) = &spec.where_clause {
        conds.push(format!("({w})"));
    }
    if lower.is_some() {
        conds.push(format!("{tuple} > {}", placeholders(spec.key.len())));
    }
    if upper.is_some() {
        conds.push(format!("{tuple} <= {}", placeholders(spec.key.len())));
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let sql = format!(
        "SELECT {cols} FROM {}{where_sql} ORDER BY {keys}",
        ident(&spec.table)
    );
    let mut q = sqlx::query(&sql);
    for b in lower.into_iter().chain(upper) {
        for v in b {
            q = match v {
                OwnedRaw::Null => q.bind(None::<i64>),
                OwnedRaw::Int(i) => q.bind(*i),
                OwnedRaw::Float(f) => q.bind(*f),
                OwnedRaw::Text(s) => q.bind(s.clone()),
                OwnedRaw::Bytes(b) => q.bind(b.clone()),
                other => anyhow::bail!("unsupported SQLite chunk boundary value {other:?}"),
            };
        }
    }
    let mut rows = Vec::new();
    let mut stream = q.fetch(&mut **conn);
    while let Some(r) = stream
        .try_next()
        .await
        .with_context(|| format!("reading {} failed", spec.table))?
    {
        rows.push(row_values(&r));
    }
    Ok(ChunkData::Values { rows })
}
