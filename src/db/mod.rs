//! Database access, one file per backend: connect, consistent snapshots,
//! chunk boundaries, streaming a chunk, and catalog queries.
//!
//! Owns every piece of backend-specific SQL. Sessions are read-only and run
//! in UTC with a statement timeout and `application_name = parity`. It knows
//! nothing about ORMs: values leave here as `canon::Raw`.

pub mod catalog;
pub mod chunk;
pub mod fingerprint;
pub mod migrations;
pub mod mysql;
pub mod mysql_fingerprint;
pub mod postgres;
pub mod sqlite;

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{MySqlPool, PgPool, SqlitePool};

use crate::config::DbUrl;
use crate::mapping::Dialect;

/// A connection pool to one database.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    Mysql(MySqlPool),
    Sqlite(SqlitePool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme \"{0}\"; use postgres://, mysql:// or sqlite:PATH")]
    Scheme(String),
    #[error("invalid database URL {url}: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot connect to {url} after {seconds}s: {reason}")]
    Connect {
        url: String,
        seconds: u64,
        reason: String,
    },
}

/// Options that shape every session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub statement_timeout: Duration,
    /// Give up retrying a refused connection after this long.
    pub connect_timeout: Duration,
    /// Open SQLite read-only (never true for `seed`).
    pub read_only: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 4,
            statement_timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(
                std::env::var("PARITY_CONNECT_TIMEOUT")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(10),
            ),
            read_only: true,
        }
    }
}

pub fn dialect_of(url: &DbUrl) -> Result<Dialect, DbError> {
    match url.scheme() {
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        "mysql" | "mariadb" => Ok(Dialect::Mysql),
        "sqlite" => Ok(Dialect::Sqlite),
        other => Err(DbError::Scheme(other.to_string())),
    }
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::Mysql(_) => Dialect::Mysql,
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Connects, retrying with backoff until `opts.connect_timeout`.
    pub async fn connect(url: &DbUrl, opts: &ConnectOptions) -> Result<Db, DbError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            match Self::connect_once(url, opts).await {
                Ok(db) => return Ok(db),
                Err(DbError::Connect { reason, .. })
                    if started.elapsed() + delay < opts.connect_timeout && retryable(&reason) =>
                {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(DbError::Connect { reason, .. }) => {
                    return Err(DbError::Connect {
                        url: url.redacted(),
                        seconds: started.elapsed().as_secs(),
                        reason,
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn connect_once(url: &DbUrl, opts: &ConnectOptions) -> Result<Db, DbError> {
        let bad = |e: sqlx::Error| DbError::Url {
            url: url.redacted(),
            reason: scrub(&e.to_string(), url),
        };
        let conn_err = |e: sqlx::Error| DbError::Connect {
            url: url.redacted(),
            seconds: 0,
            reason: scrub(&e.to_string(), url),
        };
        match dialect_of(url)? {
            Dialect::Postgres => {
                let timeout_ms = opts.statement_timeout.as_millis().to_string();
                let o = PgConnectOptions::from_str(url.expose())
                    .map_err(bad)?
                    .application_name("parity")
                    .options([
                        ("TimeZone", "UTC"),
                        ("statement_timeout", timeout_ms.as_str()),
                        ("DateStyle", "ISO"),
                        ("IntervalStyle", "iso_8601"),
                        ("extra_float_digits", "3"),
                    ]);
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.connect_timeout)
                    .connect_with(o)
                    .await
                    .map_err(conn_err)?;
                Ok(Db::Postgres(pool))
            }
            Dialect::Mysql => {
                let o = MySqlConnectOptions::from_str(&url.expose().replacen(
                    "mariadb://",
                    "mysql://",
                    1,
                ))
                .map_err(bad)?
                .timezone(Some("+00:00".to_string()));
                let pool = MySqlPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.connect_timeout)
                    .connect_with(o)
                    .await
                    .map_err(conn_err)?;
                Ok(Db::Mysql(pool))
            }
            Dialect::Sqlite => {
                let path = sqlite_path(url.expose());
                if opts.read_only && !std::path::Path::new(&path).exists() {
                    return Err(DbError::Url {
                        url: url.redacted(),
                        reason: "the SQLite file does not exist; check the path".into(),
                    });
                }
                let o = SqliteConnectOptions::new()
                    .filename(&path)
                    .read_only(opts.read_only)
                    .create_if_missing(!opts.read_only);
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.connect_timeout)
                    .connect_with(o)
                    .await
                    .map_err(conn_err)?;
                Ok(Db::Sqlite(pool))
            }
        }
    }
}

/// `sqlite:path`, `sqlite://path`, `sqlite:///abs/path`, with any `?query` dropped.
pub fn sqlite_path(url: &str) -> String {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    if let Some(abs) = rest.strip_prefix("///") {
        format!("/{abs}")
    } else if let Some(p) = rest.strip_prefix("//") {
        p.to_string()
    } else {
        rest.to_string()
    }
}

fn retryable(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("refused")
        || r.contains("timed out")
        || r.contains("starting up")
        || r.contains("reset")
        || r.contains("too many")
}

/// Drivers sometimes echo the URL in errors; never let a password out.
pub fn scrub(msg: &str, url: &DbUrl) -> String {
    let full = url.expose();
    let mut out = msg.replace(full, &url.redacted());
    if let Some(rest) = full.split_once("://").map(|x| x.1)
        && let Some((userinfo, _)) = rest.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
        && !password.is_empty()
    {
        out = out.replace(password, "***");
    }
    out
}

// ---- consistent chunked reads -------------------------------------------

use std::sync::Arc;

use anyhow::{Context, Result};
use sqlx::pool::PoolConnection;

pub use chunk::{ChunkData, OwnedRaw, Wire};

/// A chunk boundary: one value per key column. Chunk i holds keys in
/// `(boundary[i-1], boundary[i]]`; the first and last are open-ended.
pub type Boundary = Vec<OwnedRaw>;

/// What to read from one physical table.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    pub schema: Option<String>,
    pub table: String,
    /// Physical columns, key columns first (in key order), then the rest.
    pub columns: Vec<String>,
    /// Physical key columns, in key order.
    pub key: Vec<String>,
    pub where_clause: Option<String>,
}

/// A column as the live database has it.
#[derive(Debug, Clone)]
pub struct LiveColumn {
    pub name: String,
    /// Backend type name (`pg_type.typname`, SQLite declared type).
    pub type_name: String,
    /// The type to cast key literals to (PostgreSQL `format_type`).
    pub cast_type: String,
    pub wire: Wire,
    pub cast_to_text: bool,
    pub not_null: bool,
}

/// One consistent view of a database for a whole run.
pub enum Snapshot {
    Postgres(postgres::PgSnapshot),
    Sqlite(Arc<sqlite::SqliteSnapshot>),
    Mysql(mysql::MySnapshot),
}

/// A session reading inside a [`Snapshot`].
pub enum Worker {
    Postgres(PoolConnection<sqlx::Postgres>),
    Sqlite(Arc<sqlite::SqliteSnapshot>),
    Mysql(mysql::MyWorker),
}

impl Snapshot {
    /// Opens the snapshot: PostgreSQL exports one from a REPEATABLE READ
    /// READ ONLY transaction; SQLite holds one read transaction.
    pub async fn begin(db: &Db) -> Result<Snapshot> {
        match db {
            Db::Postgres(pool) => Ok(Snapshot::Postgres(postgres::PgSnapshot::begin(pool).await?)),
            Db::Sqlite(pool) => Ok(Snapshot::Sqlite(Arc::new(
                sqlite::SqliteSnapshot::begin(pool).await?,
            ))),
            // Every pooled session but one (the coordinator's while the lock
            // is held; a spare for re-reads afterwards) starts inside the
            // shared view.
            Db::Mysql(pool) => Ok(Snapshot::Mysql(
                mysql::MySnapshot::begin(
                    pool,
                    (pool.options().get_max_connections() as usize)
                        .saturating_sub(1)
                        .max(1),
                )
                .await?,
            )),
        }
    }

    /// MySQL/MariaDB: how the readers share a view (reported).
    pub fn mysql_mode(&self) -> Option<mysql::SnapshotMode> {
        match self {
            Snapshot::Mysql(s) => Some(s.mode),
            _ => None,
        }
    }

    /// MySQL/MariaDB: the binary-log position of the view (see `db::mysql`).
    pub fn mysql_position(&self) -> Option<&str> {
        match self {
            Snapshot::Mysql(s) => Some(&s.position),
            _ => None,
        }
    }

    /// A session in a fresh snapshot of its own, for re-reading chunks that
    /// readers without a shared view found different (MySQL only).
    pub async fn fresh_worker(&self) -> Result<Worker> {
        match self {
            Snapshot::Mysql(s) => Ok(Worker::Mysql(s.fresh_worker().await?)),
            _ => self.worker().await,
        }
    }

    pub async fn worker(&self) -> Result<Worker> {
        match self {
            Snapshot::Postgres(s) => Ok(Worker::Postgres(s.worker().await?)),
            Snapshot::Sqlite(s) => Ok(Worker::Sqlite(s.clone())),
            Snapshot::Mysql(s) => Ok(Worker::Mysql(s.worker().await?)),
        }
    }

    pub async fn end(self) {
        match self {
            Snapshot::Postgres(s) => s.end().await,
            Snapshot::Sqlite(s) => {
                if let Ok(s) = Arc::try_unwrap(s) {
                    s.end().await
                }
            }
            Snapshot::Mysql(s) => s.end().await,
        }
    }

    /// The exported snapshot id (PostgreSQL), for `pg_dump --snapshot`.
    pub fn exported_id(&self) -> Option<&str> {
        match self {
            Snapshot::Postgres(s) => Some(&s.id),
            Snapshot::Sqlite(_) | Snapshot::Mysql(_) => None,
        }
    }
}

impl Worker {
    pub async fn columns(&mut self, schema: Option<&str>, table: &str) -> Result<Vec<LiveColumn>> {
        match self {
            Worker::Postgres(c) => postgres::columns(c, schema, table).await,
            Worker::Sqlite(s) => sqlite::columns(&mut *s.conn.lock().await, table).await,
            Worker::Mysql(w) => mysql::columns(w.conn(), schema, table).await,
        }
    }

    /// Chunk boundaries and the estimated row count.
    pub async fn boundaries(
        &mut self,
        spec: &ReadSpec,
        chunk_rows: usize,
    ) -> Result<(Vec<Boundary>, u64)> {
        match self {
            Worker::Postgres(c) => postgres::boundaries(c, spec, chunk_rows).await,
            Worker::Sqlite(s) => {
                sqlite::boundaries(&mut *s.conn.lock().await, spec, chunk_rows).await
            }
            Worker::Mysql(w) => mysql::boundaries(w.conn(), spec, chunk_rows).await,
        }
    }

    pub async fn read_chunk(
        &mut self,
        spec: &ReadSpec,
        live: &[LiveColumn],
        wires: &Arc<[Wire]>,
        lower: Option<&Boundary>,
        upper: Option<&Boundary>,
    ) -> Result<ChunkData> {
        match self {
            Worker::Postgres(c) => postgres::read_chunk(c, spec, live, wires, lower, upper).await,
            Worker::Sqlite(s) => {
                sqlite::read_chunk(&mut *s.conn.lock().await, spec, lower, upper).await
            }
            Worker::Mysql(w) => {
                let r = mysql::read_chunk(w.conn(), spec, live, lower, upper).await;
                if r.as_ref().is_err_and(is_connection_lost) {
                    // Never hand a dead session back to the shared stash.
                    w.broken = true;
                }
                r
            }
        }
    }

    /// Whether this reader reads in the view every shared reader of its
    /// snapshot has (always, except MySQL readers outside the locked view).
    pub fn in_shared_view(&self) -> bool {
        match self {
            Worker::Mysql(w) => w.shared,
            _ => true,
        }
    }

    /// Test hook (`PARITY_FAULT_KILL_READER=1`): terminate this reader's
    /// backend from another session before its next read.
    pub async fn kill_for_test(&mut self, snapshot: &Snapshot) -> Result<()> {
        match (self, snapshot) {
            (Worker::Postgres(c), Snapshot::Postgres(s)) => postgres::terminate_backend(&s.pool, c)
                .await
                .context("fault hook"),
            (Worker::Mysql(w), Snapshot::Mysql(s)) => mysql::kill_connection(&s.pool, w.conn())
                .await
                .context("fault hook"),
            _ => Ok(()),
        }
    }
}

/// Is this a lost connection, worth one retry of the chunk?
pub fn is_connection_lost(e: &anyhow::Error) -> bool {
    postgres::is_connection_lost(e) || mysql::is_connection_lost(e)
}
