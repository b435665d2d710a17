//! Helpers shared by the integration test modules: a PostgreSQL database
//! per test, the real binary, and the fixture seeder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use serde_json::Value;
use sqlx::Connection;

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn pg_server() -> String {
    let base = std::env::var("PARITY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    // Drop any database path: tests name their own.
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => base,
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A PostgreSQL database that exists for one test.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn new(tag: &str) -> PgDb {
        let name = format!(
            "parity_t_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let url = format!("{}/{name}", pg_server());
        PgDb { name, url }
    }

    /// Creates it empty (for tests that build their own tables).
    pub fn create(self) -> PgDb {
        let name = self.name.clone();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server()))
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .unwrap();
        });
        self
    }

    pub fn exec(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        });
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        block_on(async move {
            if let Ok(mut c) =
                sqlx::PgConnection::connect(&format!("{}/postgres", pg_server())).await
            {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        });
    }
}

pub fn parity() -> Command {
    let mut c = Command::cargo_bin("parity").unwrap();
    c.env_remove("PARITY_CONFIG").env("NO_COLOR", "1");
    c
}

/// Seeds `url`; returns the drift JSON printed on stdout (or Null).
pub fn seed(url: &str, rows: u64, drift: Option<&str>) -> Value {
    let mut cmd = parity();
    cmd.args([
        "seed",
        "--url",
        url,
        "--rows",
        &rows.to_string(),
        "--seed",
        "7",
    ]);
    if let Some(d) = drift {
        cmd.args(["--drift", d]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}
