//! Database access, one file per backend: connect, consistent snapshots,
//! chunk boundaries, streaming a chunk, and catalog queries.
//!
//! Owns every piece of backend-specific SQL. Sessions are read-only and run
//! in UTC with a statement timeout and `application_name = parity`. It knows
//! nothing about ORMs: values leave here as `canon::Raw`.

pub mod catalog;

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
    #[error(
        "unsupported database URL scheme \"{0}\"; use postgres://, mysql:// or sqlite:PATH"
    )]
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
            connect_timeout: Duration::from_secs(10),
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
                        ("DateStyle", "ISO, YMD"),
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
                let o = MySqlConnectOptions::from_str(&url.expose().replacen("mariadb://", "mysql://", 1))
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
