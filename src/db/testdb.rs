//! Test support: a scratch database of each backend for one test, made on
//! the servers `PARITY_TEST_PG_URL` / `PARITY_TEST_MYSQL_URL` name (SQLite:
//! a file in a temp dir) and dropped when the test ends, pass or fail.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

use crate::config::DbUrl;
use crate::mapping::Dialect;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One scratch database.
pub struct TestDb {
    pub url: DbUrl,
    dialect: Dialect,
    /// The server, without a database; `None` for SQLite.
    server: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

/// `scheme://user@host:port` from the variable (or its default), any
/// database path dropped.
fn server(var: &str, default: &str) -> String {
    let base = std::env::var(var).unwrap_or_else(|_| default.into());
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => base,
    }
}

/// Runs `f` on a runtime of its own on another thread, so it works inside
/// or outside a test's runtime (and from `Drop`).
fn on_own_thread<T: Send + 'static, F: std::future::Future<Output = T>>(
    make: impl FnOnce() -> F + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(make())
    })
    .join()
    .unwrap()
}

/// Runs one script on a connection of its own.
async fn exec_at(dialect: Dialect, url: String, sql: String) -> Result<(), sqlx::Error> {
    match dialect {
        Dialect::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::raw_sql(&sql).execute(&mut c).await?;
            c.close().await
        }
        Dialect::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(&url).await?;
            sqlx::raw_sql(&sql).execute(&mut c).await?;
            c.close().await
        }
        Dialect::Sqlite => {
            let o = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(super::sqlite_path(&url))
                .create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&o).await?;
            sqlx::raw_sql(&sql).execute(&mut c).await?;
            c.close().await
        }
    }
}

impl TestDb {
    /// An empty database.
    pub fn new(dialect: Dialect) -> TestDb {
        let name = format!(
            "parity_u_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let (server, create, admin_db) = match dialect {
            Dialect::Postgres => (
                server("PARITY_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432"),
                format!("CREATE DATABASE \"{name}\""),
                "postgres",
            ),
            Dialect::Mysql => (
                server("PARITY_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
                "mysql",
            ),
            Dialect::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("t.db").display());
                let db = TestDb {
                    url: DbUrl::new(url.clone()),
                    dialect,
                    server: None,
                    name,
                    _dir: Some(dir),
                };
                on_own_thread(move || exec_at(dialect, url, "SELECT 1".into())).unwrap();
                return db;
            }
        };
        let admin = format!("{server}/{admin_db}");
        on_own_thread(move || exec_at(dialect, admin, create)).unwrap();
        TestDb {
            url: DbUrl::new(format!("{server}/{name}")),
            dialect,
            server: Some(server),
            name,
            _dir: None,
        }
    }

    /// Runs a script in the database (set-up; may write).
    pub fn exec(&self, sql: &str) {
        let url = self.url.expose().to_string();
        let (dialect, script) = (self.dialect, sql.to_string());
        on_own_thread(move || exec_at(dialect, url, script))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl TestDb {
    /// Sessions the server holds open in this database for parity (`None`:
    /// SQLite has no server; PostgreSQL: by `application_name`, so an
    /// autovacuum worker is not counted). Asked on a connection to another database, so it never
    /// counts itself.
    pub fn sessions(&self) -> Option<i64> {
        let server = self.server.clone()?;
        let (dialect, name) = (self.dialect, self.name.clone());
        Some(on_own_thread(move || async move {
            match dialect {
                Dialect::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                        .await
                        .unwrap();
                    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'parity'")
                        .bind(name)
                        .fetch_one(&mut c)
                        .await
                        .unwrap()
                }
                _ => {
                    let mut c = sqlx::MySqlConnection::connect(&format!("{server}/mysql"))
                        .await
                        .unwrap();
                    sqlx::query_scalar(
                        "SELECT CAST(count(*) AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ?",
                    )
                    .bind(name)
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
                }
            }
        }))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(server) = &self.server else {
            return;
        };
        let (admin, drop) = match self.dialect {
            Dialect::Postgres => (
                format!("{server}/postgres"),
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            ),
            _ => (
                format!("{server}/mysql"),
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
            ),
        };
        let dialect = self.dialect;
        let _ = on_own_thread(move || exec_at(dialect, admin, drop));
    }
}
