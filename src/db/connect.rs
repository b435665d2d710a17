//! Opening a database: URL → pool, with the session settings every
//! command shares (UTC, ISO dates, statement and lock timeouts that keep a
//! role's stricter ones, `application_name = parity`), a retry while the
//! server starts up, and errors that say what the server said and never
//! echo a password.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Result;
use sqlx::Connection as _;
use sqlx::PgPool;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::{Db, postgres};
use crate::config::DbUrl;
use crate::mapping::Dialect;

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

/// [`DbUrl::dialect`], or the error that names the scheme and the fix.
pub fn dialect_of(url: &DbUrl) -> Result<Dialect, DbError> {
    url.dialect()
        .ok_or_else(|| DbError::Scheme(scheme_only(url.scheme())))
}

/// A scheme fit to print: letters, digits, `+-.` only, at most 20.
fn scheme_only(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .take(20)
        .collect()
}

impl Db {
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
                let pool = pool_options(opts)
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
                Ok(Db::Mysql(
                    pool_options(opts).connect_with(o).await.map_err(conn_err)?,
                ))
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
                Ok(Db::Sqlite(
                    pool_options(opts).connect_with(o).await.map_err(conn_err)?,
                ))
            }
        }
    }
}

/// The pool every backend gets: its size, and how long to wait for a session.
fn pool_options<DB: sqlx::Database>(opts: &ConnectOptions) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.connect_timeout)
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
