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
pub mod stats;

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::Connection as _;
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
    /// `url` is only the scheme: a URL that does not parse may hold a
    /// password anywhere, so nothing past the scheme is ever echoed.
    #[error("invalid database URL {url}: {reason}")]
    Url { url: String, reason: String },
    /// What the server or the OS said, as soon as it said it.
    #[error("cannot connect to {url}: {reason}{}", waited(*seconds))]
    Connect {
        url: String,
        seconds: u64,
        reason: String,
    },
}

fn waited(seconds: u64) -> String {
    if seconds > 0 {
        format!(" (gave up after {seconds}s)")
    } else {
        String::new()
    }
}

/// Options that shape every session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// parity's statement timeout; a role's stricter one is kept. Zero
    /// leaves the server's or role's own.
    pub statement_timeout: Duration,
    /// How long a statement waits for a lock before it fails with an error
    /// that names the lock (issue 10). Zero leaves the server's own.
    pub lock_timeout: Duration,
    /// Give up retrying a server that is starting up after this long.
    pub connect_timeout: Duration,
    /// Open SQLite read-only (never true for `seed`).
    pub read_only: bool,
}

/// `[check] lock_timeout_seconds` when the config does not set it.
pub use crate::config::DEFAULT_LOCK_TIMEOUT_SECONDS;

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 4,
            statement_timeout: Duration::from_secs(600),
            lock_timeout: Duration::from_secs(DEFAULT_LOCK_TIMEOUT_SECONDS),
            connect_timeout: Duration::from_secs(
                std::env::var("PARITY_CONNECT_TIMEOUT")
                    .ok()
                    .and_then(|v| crate::limits::CONNECT_TIMEOUT_SECONDS.parse(&v).ok())
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
        other => Err(DbError::Scheme(scheme_only(other))),
    }
}

/// A scheme fit to print: letters, digits, `+-.` only, at most 20.
fn scheme_only(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .take(20)
        .collect()
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::Mysql(_) => Dialect::Mysql,
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Closes every session of the pool cleanly (a Terminate message, so
    /// the server logs no "unexpected EOF").
    pub async fn close(&self) {
        match self {
            Db::Postgres(p) => p.close().await,
            Db::Mysql(p) => p.close().await,
            Db::Sqlite(p) => p.close().await,
        }
    }

    /// Connects. A server that is starting up is retried with backoff
    /// until `opts.connect_timeout`; any other failure (refused port, bad
    /// password, unknown database, connection limit) is reported at once
    /// with what the server or the OS said.
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
            url: format!("{}://…", scheme_only(url.scheme())),
            reason: scrub(&e.to_string(), url),
        };
        let conn_err = |e: sqlx::Error| DbError::Connect {
            url: url.redacted(),
            seconds: 0,
            reason: scrub(&e.to_string(), url),
        };
        match dialect_of(url)? {
            Dialect::Postgres => {
                let o = PgConnectOptions::from_str(url.expose())
                    .map_err(bad)?
                    .application_name("parity")
                    .options([
                        ("TimeZone", "UTC"),
                        ("DateStyle", "ISO"),
                        ("IntervalStyle", "iso_8601"),
                        ("extra_float_digits", "3"),
                    ]);
                let statement_ms = opts.statement_timeout.as_millis() as u64;
                let lock_ms = opts.lock_timeout.as_millis() as u64;
                // Every session the pool may open, opened once directly: a
                // pool retries refusals and connection limits into "pool
                // timed out"; a direct connection says what went wrong.
                let probes = futures::future::join_all(
                    (0..opts.max_connections.max(1)).map(|_| sqlx::PgConnection::connect_with(&o)),
                )
                .await;
                let mut first_err = None;
                for p in probes {
                    match p {
                        Ok(c) => {
                            let _ = sqlx::Connection::close(c).await;
                        }
                        Err(e) => {
                            first_err.get_or_insert(e);
                        }
                    }
                }
                if let Some(e) = first_err {
                    return Err(conn_err(e));
                }
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.connect_timeout)
                    .after_connect(move |conn, _| {
                        Box::pin(async move { pg_session(conn, statement_ms, lock_ms).await })
                    })
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
                if let Err(e) = sqlx::MySqlConnection::connect_with(&o).await.map(|c| {
                    tokio::spawn(sqlx::Connection::close(c));
                }) {
                    return Err(conn_err(e));
                }
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
                if std::path::Path::new(&path).is_dir() {
                    return Err(DbError::Url {
                        url: url.redacted(),
                        reason: "that path is a directory, not a SQLite file; check the path"
                            .into(),
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

/// Session settings of every PostgreSQL session parity opens (SHOW and
/// SET only: no statement outside a transaction). parity's statement
/// timeout applies only where the role's own is looser, so a DBA's stricter
/// limit holds.
async fn pg_session(
    conn: &mut sqlx::PgConnection,
    statement_ms: u64,
    lock_ms: u64,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let mut sets = Vec::new();
    for (name, ours) in [
        ("statement_timeout", statement_ms),
        ("lock_timeout", lock_ms),
    ] {
        if ours == 0 {
            continue;
        }
        let theirs: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut *conn)
            .await?;
        match pg_duration_ms(&theirs) {
            Some(t) if t > 0 && t <= ours => {}
            _ => sets.push(format!("SET {name} = {ours}")),
        }
    }
    if !sets.is_empty() {
        conn.execute(sets.join("; ").as_str()).await?;
    }
    Ok(())
}

/// A PostgreSQL duration setting as SHOW prints it (`0`, `250ms`, `30s`,
/// `5min`, `1h`, `1d`) in milliseconds.
pub fn pg_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "us" => return Some(n / 1000),
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A pooled session inside a transaction opened with `begin` (which says
/// READ ONLY for every read). When the pool cannot hand out a session in
/// time, one session is opened directly so the error says what the server
/// said ("too many connections for role …"), not "pool timed out".
pub async fn pg_begin(pool: &PgPool, begin: &str) -> Result<postgres::PgTx> {
    match pool.begin_with(begin.to_string()).await {
        Ok(tx) => Ok(tx),
        Err(sqlx::Error::PoolTimedOut) => {
            use sqlx::Connection as _;
            match sqlx::PgConnection::connect_with(&pool.connect_options()).await {
                Err(direct) => Err(anyhow::anyhow!("{direct}")),
                Ok(c) => {
                    let _ = c.close().await;
                    Err(anyhow::Error::new(sqlx::Error::PoolTimedOut).context(
                        "every session of the pool stayed busy; lower --jobs or raise the server's connection limit",
                    ))
                }
            }
        }
        Err(e) => Err(e.into()),
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

/// Only a server on its way up is worth waiting for; anything else is
/// reported at once (issue 10: a refused port, a connection limit).
fn retryable(reason: &str) -> bool {
    reason.to_ascii_lowercase().contains("starting up")
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
    Postgres(postgres::PgTx),
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

    /// Ends the snapshot and closes its pool's sessions cleanly: for the
    /// owner of both (`engine::Sides`).
    pub async fn end_and_close(self) {
        match self {
            Snapshot::Postgres(s) => s.end_and_close().await,
            Snapshot::Sqlite(s) => {
                if let Ok(s) = Arc::try_unwrap(s) {
                    s.end().await
                }
            }
            Snapshot::Mysql(s) => s.end().await,
        }
    }

    /// Why a table could not be read, when another session's lock is the
    /// reason: the lock and who holds it (PostgreSQL), else `None`.
    pub async fn lock_note(
        &self,
        e: &anyhow::Error,
        schema: Option<&str>,
        table: &str,
    ) -> Option<String> {
        let Snapshot::Postgres(s) = self else {
            return None;
        };
        if !postgres::is_lock_timeout(e) {
            return None;
        }
        let holders = postgres::lock_holders(&s.pool, schema, table).await;
        Some(format!(
            "table {table} is locked by another session{}; parity gave up after lock_timeout \
             (set [check] lock_timeout_seconds to wait longer)",
            holders.map(|h| format!(": {h}")).unwrap_or_default()
        ))
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
