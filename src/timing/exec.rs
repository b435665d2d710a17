//! One timing client: a dedicated database session that executes captured
//! statements and hands back their rows as [`Val`]s.
//!
//! Owns how captured SQL meets the driver. The SQL itself is the ORM's,
//! never parity's; what parity adds is only session setup and transaction
//! framing, which is why it lives here rather than in `db/`:
//! - PostgreSQL sessions run with `default_transaction_read_only = on`, so
//!   every read is a read-only transaction without an extra round trip, and
//!   with `plan_cache_mode = force_custom_plan`: sqlx keeps statements
//!   prepared (one round trip per statement, like node-postgres), and forcing
//!   custom plans re-plans each execution for its parameters, as the
//!   unnamed statements node-postgres sends are.
//! - Parameters go untyped to the server, as node-postgres sends them; the
//!   server's inferred types decide their binary encoding (`value`).
//! - SQLite sessions run with `PRAGMA query_only = ON` outside writes.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use sqlx::pool::PoolConnection;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::{Column, Either, Encode, Executor, Postgres, Row, Sqlite, Statement, Type, ValueRef};

use super::value::{Val, decode_pg, encode_pg};
use crate::db::Db;

/// A result column: its name, type and (PostgreSQL) the table column it
/// comes straight from.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    pub name: String,
    /// PostgreSQL type OID; 0 on SQLite.
    pub type_oid: u32,
    /// `(table oid, attribute number)` from the row description.
    pub relation: Option<(u32, i16)>,
}

/// The rows one statement returned.
#[derive(Debug, Clone, Default)]
pub struct StmtResult {
    pub columns: Arc<Vec<ColumnMeta>>,
    pub rows: Vec<Vec<Val>>,
}

impl StmtResult {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

pub struct PgPrepared {
    param_oids: Vec<u32>,
    columns: Arc<Vec<ColumnMeta>>,
}

/// One client's session.
pub enum Session {
    Postgres {
        conn: PoolConnection<Postgres>,
        prepared: HashMap<String, Arc<PgPrepared>>,
    },
    Sqlite {
        conn: PoolConnection<Sqlite>,
    },
    /// MySQL/MariaDB (`timing::mysql`).
    Mysql {
        conn: PoolConnection<sqlx::MySql>,
    },
}

/// A parameter already in its binary form, sent as the inferred type.
struct PgParam {
    oid: u32,
    bytes: Option<Vec<u8>>,
}

impl Type<Postgres> for PgParam {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for PgParam {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match &self.bytes {
            None => Ok(sqlx::encode::IsNull::Yes),
            Some(b) => {
                buf.extend_from_slice(b);
                Ok(sqlx::encode::IsNull::No)
            }
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(PgTypeInfo::with_oid(Oid(self.oid)))
    }
}

/// Result columns by name only (SQLite and MySQL rows carry no type OID
/// or source column parity reads).
pub(super) fn named_columns<R: Row>(rows: &[R]) -> Arc<Vec<ColumnMeta>> {
    Arc::new(
        rows.first()
            .map(|r| {
                r.columns()
                    .iter()
                    .map(|c| ColumnMeta {
                        name: c.name().to_string(),
                        type_oid: 0,
                        relation: None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// A connection of its own from `pool`, with the session `setup` run on it.
async fn set_up<DB>(pool: &sqlx::Pool<DB>, setup: &str) -> Result<PoolConnection<DB>>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut conn = pool
        .acquire()
        .await
        .context("cannot open a timing session")?;
    (&mut *conn)
        .execute(setup)
        .await
        .context("cannot set up the timing session")?;
    Ok(conn)
}

impl Session {
    /// A dedicated session from `db`, set up for timing.
    pub async fn open(db: &Db) -> Result<Session> {
        Ok(match db {
            Db::Postgres(pool) => Session::Postgres {
                conn: set_up(
                    pool,
                    "SET default_transaction_read_only = on; SET plan_cache_mode = force_custom_plan",
                )
                .await?,
                prepared: HashMap::new(),
            },
            Db::Sqlite(pool) => Session::Sqlite {
                conn: set_up(pool, "PRAGMA query_only = ON").await?,
            },
            // Transactions read-only unless a write operation starts one
            // `READ WRITE`.
            Db::Mysql(pool) => Session::Mysql {
                conn: set_up(pool, "SET SESSION TRANSACTION READ ONLY").await?,
            },
        })
    }

    /// Runs transaction framing or session SQL (simple protocol, not timed
    /// as part of an operation).
    pub async fn control(&mut self, sql: &str) -> Result<()> {
        match self {
            Session::Postgres { conn, .. } => {
                conn.execute(sql)
                    .await
                    .with_context(|| format!("{sql} failed"))?;
            }
            Session::Sqlite { conn } => {
                conn.execute(sql)
                    .await
                    .with_context(|| format!("{sql} failed"))?;
            }
            Session::Mysql { conn } => {
                conn.execute(sql)
                    .await
                    .with_context(|| format!("{sql} failed"))?;
            }
        }
        Ok(())
    }

    /// Opens the outer transaction a write operation runs in.
    pub async fn begin_write(&mut self) -> Result<()> {
        match self {
            Session::Postgres { .. } => self.control("BEGIN READ WRITE").await,
            Session::Sqlite { .. } => {
                self.control("PRAGMA query_only = OFF").await?;
                self.control("BEGIN").await
            }
            Session::Mysql { .. } => self.control("START TRANSACTION READ WRITE").await,
        }
    }

    /// Rolls the outer transaction back: a write operation never persists.
    pub async fn rollback_write(&mut self) -> Result<()> {
        let r = self.control("ROLLBACK").await;
        if let Session::Sqlite { .. } = self {
            self.control("PRAGMA query_only = ON").await?;
        }
        r
    }

    /// Executes one statement with `params` (exactly its placeholders) and
    /// returns every row.
    pub async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<StmtResult> {
        match self {
            Session::Postgres { conn, prepared } => {
                let prep = match prepared.get(sql) {
                    Some(p) => p.clone(),
                    None => {
                        let p = Arc::new(pg_prepare(conn, sql, params.len()).await?);
                        prepared.insert(sql.to_string(), p.clone());
                        p
                    }
                };
                if prep.param_oids.len() != params.len() {
                    anyhow::bail!(
                        "the statement takes {} parameter(s) but {} were mapped; fix params in the operation file",
                        prep.param_oids.len(),
                        params.len()
                    );
                }
                let mut q = sqlx::query::<Postgres>(sql);
                for (v, oid) in params.iter().zip(&prep.param_oids) {
                    q = q.bind(PgParam {
                        oid: *oid,
                        bytes: encode_pg(v, *oid)?,
                    });
                }
                let rows = q.fetch_all(&mut **conn).await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut vals = Vec::with_capacity(prep.columns.len());
                    for (i, col) in prep.columns.iter().enumerate() {
                        let raw = row.try_get_raw(i)?;
                        vals.push(if raw.is_null() {
                            Val::Null
                        } else {
                            decode_pg(col.type_oid, raw.as_bytes().map_err(anyhow::Error::msg)?)
                        });
                    }
                    out.push(vals);
                }
                Ok(StmtResult {
                    columns: prep.columns.clone(),
                    rows: out,
                })
            }
            Session::Sqlite { conn } => {
                let mut q = sqlx::query::<Sqlite>(sql);
                for v in params {
                    q = match v {
                        Val::Null => q.bind(None::<i64>),
                        Val::Bool(b) => q.bind(i64::from(*b)),
                        Val::Int(i) => q.bind(*i),
                        Val::Float(f) => q.bind(*f),
                        Val::Bytes(b) => q.bind(b.clone()),
                        // Prisma 7's SQLite adapter writes ISO-8601 text.
                        Val::Timestamp(_) | Val::TimestampTz(_) => q.bind(other_iso(v)),
                        other => q.bind(other.to_text().unwrap_or_default()),
                    };
                }
                let rows = q.fetch_all(&mut **conn).await?;
                let columns = named_columns(&rows);
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut vals = Vec::with_capacity(columns.len());
                    for i in 0..columns.len() {
                        let raw = row.try_get_raw(i)?;
                        if raw.is_null() {
                            vals.push(Val::Null);
                            continue;
                        }
                        let kind = raw.type_info().to_string();
                        vals.push(match kind.as_str() {
                            "INTEGER" | "BOOLEAN" => Val::Int(row.try_get_unchecked::<i64, _>(i)?),
                            "REAL" => Val::Float(row.try_get_unchecked::<f64, _>(i)?),
                            "BLOB" => Val::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i)?),
                            _ => Val::Text(row.try_get_unchecked::<String, _>(i)?),
                        });
                    }
                    out.push(vals);
                }
                Ok(StmtResult { columns, rows: out })
            }
            Session::Mysql { conn } => super::mysql::exec(conn, sql, params).await,
        }
    }

    /// The query plan of one statement: PostgreSQL `EXPLAIN (ANALYZE,
    /// BUFFERS, FORMAT JSON)` (the caller wraps it in a savepoint, since
    /// ANALYZE executes), SQLite `EXPLAIN QUERY PLAN`.
    pub async fn explain(&mut self, sql: &str, params: &[Val]) -> Result<serde_json::Value> {
        match self {
            Session::Postgres { .. } | Session::Mysql { .. } => {
                let explain = if self.is_postgres() {
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"
                } else {
                    "EXPLAIN FORMAT=JSON"
                };
                let r = self.exec(&format!("{explain} {sql}"), params).await?;
                let text = r
                    .rows
                    .first()
                    .and_then(|row| row.first())
                    .and_then(Val::to_text)
                    .unwrap_or_default();
                Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
            }
            Session::Sqlite { .. } => {
                let r = self
                    .exec(&format!("EXPLAIN QUERY PLAN {sql}"), params)
                    .await?;
                let detail = r.column("detail");
                Ok(serde_json::Value::Array(
                    r.rows
                        .iter()
                        .map(|row| {
                            serde_json::Value::String(
                                detail.and_then(|i| row[i].to_text()).unwrap_or_default(),
                            )
                        })
                        .collect(),
                ))
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Session::Postgres { .. })
    }
}

/// `2024-03-05T10:11:12.345+00:00`, as Prisma 7 stores a DateTime in SQLite.
fn other_iso(v: &Val) -> String {
    let text = v.to_text().unwrap_or_default();
    let text = text.trim_end_matches("+00");
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let ms: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
    format!("{date}T{hms}.{ms}+00:00")
}

/// Prepares `sql` with every parameter untyped and records the types the
/// server inferred and the result columns. sqlx caches the statement under
/// the same SQL, so later executions bind and execute only.
async fn pg_prepare(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
    n: usize,
) -> Result<PgPrepared> {
    let types = vec![PgTypeInfo::with_oid(Oid(0)); n];
    let st = (&mut **conn).prepare_with(sql, &types).await?;
    let param_oids = match st.parameters() {
        Some(Either::Left(ts)) => ts.iter().map(|t| t.oid().map_or(0, |o| o.0)).collect(),
        Some(Either::Right(k)) => vec![0; k],
        None => vec![0; n],
    };
    let columns = st
        .columns()
        .iter()
        .map(|c| ColumnMeta {
            name: c.name().to_string(),
            type_oid: c.type_info().oid().map_or(0, |o| o.0),
            relation: c
                .relation_id()
                .zip(c.relation_attribute_no())
                .map(|(o, a)| (o.0, a)),
        })
        .collect();
    Ok(PgPrepared {
        param_oids,
        columns: Arc::new(columns),
    })
}

/// PostgreSQL: table OID → (schema, table, attnum → column name), for
/// naming the table column a result column comes from.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub tables: HashMap<u32, (String, String, HashMap<i16, String>)>,
}

impl Catalog {
    pub async fn load(db: &Db) -> Result<Catalog> {
        let Db::Postgres(pool) = db else {
            return Ok(Catalog::default());
        };
        // Issue 10: in a read-only transaction like every other read.
        let mut tx = crate::db::pg_begin(pool, "BEGIN READ ONLY").await?;
        let rows: Vec<(i64, String, String, i16, String)> = sqlx::query_as(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, a.attnum, a.attname::text \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
        )
        .fetch_all(&mut *tx)
        .await
        .context("cannot read the table catalog")?;
        let _ = tx.rollback().await;
        let mut tables: HashMap<u32, (String, String, HashMap<i16, String>)> = HashMap::new();
        for (oid, schema, table, attnum, attname) in rows {
            tables
                .entry(oid as u32)
                .or_insert_with(|| (schema, table, HashMap::new()))
                .2
                .insert(attnum, attname);
        }
        Ok(Catalog { tables })
    }

    /// `(schema, table, column)` of a relation column.
    pub fn column(&self, rel: (u32, i16)) -> Option<(&str, &str, &str)> {
        let (s, t, cols) = self.tables.get(&rel.0)?;
        Some((s, t, cols.get(&rel.1)?))
    }
}
