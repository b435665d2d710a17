//! SQLite: one read transaction per side on one connection, chunk
//! boundaries from exact key quantiles, rows read through sqlx.

use anyhow::{Context, Result};
use futures::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Row, Sqlite, SqlitePool, TypeInfo, ValueRef};

use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::sql::{self, Quote};
use super::{Boundary, LiveColumn, ReadSpec};

/// SQLite quotes identifiers the ANSI way, as PostgreSQL does.
const Q: Quote = Quote::Ansi;

pub fn ident(name: &str) -> String {
    Q.ident(name)
}

/// One connection holding one read transaction: every chunk of this side
/// reads the same database state.
pub struct SqliteSnapshot {
    pub conn: tokio::sync::Mutex<PoolConnection<Sqlite>>,
    pub pool: SqlitePool,
}

impl SqliteSnapshot {
    pub async fn begin(pool: &SqlitePool) -> Result<SqliteSnapshot> {
        let mut conn = pool
            .acquire()
            .await
            .context("cannot open the SQLite file")?;
        for (sql, failed) in [
            ("BEGIN", "cannot start a read transaction"),
            // A deferred transaction takes its snapshot at the first read.
            (
                "SELECT count(*) FROM sqlite_master",
                "cannot read the SQLite schema",
            ),
        ] {
            conn.execute(sql).await.context(failed)?;
        }
        Ok(SqliteSnapshot {
            conn: tokio::sync::Mutex::new(conn),
            pool: pool.clone(),
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
        .await;
    sql::live_columns(rows, table, |r| {
        let ty: String = r.get(1);
        LiveColumn {
            name: r.get(0),
            type_name: ty.to_ascii_lowercase(),
            declared: ty.clone(),
            cast_type: ty,
            wire: Wire::Text,
            cast_to_text: false,
            not_null: r.get::<i64, _>(2) != 0,
        }
    })
}

/// Exact quantiles: every `chunk_rows`-th key.
pub async fn boundaries(
    conn: &mut PoolConnection<Sqlite>,
    spec: &ReadSpec,
    chunk_rows: usize,
) -> Result<(Vec<Boundary>, u64)> {
    let t = ident(&spec.table);
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}{}", sql::filter(spec)))
        .fetch_one(&mut **conn)
        .await
        .with_context(|| format!("cannot count {}", spec.table))?;
    if count as usize <= chunk_rows {
        return Ok((Vec::new(), count as u64));
    }
    let rows = sqlx::query(&sql::quantiles(Q, spec, &t, chunk_rows, count))
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
    let keys = Q.list(&spec.key);
    let placeholders = format!("({})", vec!["?"; spec.key.len()].join(", "));
    let bounds = [(lower, ">"), (upper, "<=")]
        .into_iter()
        .filter(|(b, _)| b.is_some())
        .map(|(_, op)| format!("({keys}) {op} {placeholders}"));
    let sql = format!(
        "SELECT {} FROM {}{} ORDER BY {keys}",
        Q.list(&spec.columns),
        ident(&spec.table),
        sql::where_all(spec, bounds)
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
