//! The SQLite writer: creates the file, runs the whole seed in one
//! transaction with `synchronous = OFF` and foreign keys off (the data is
//! consistent by construction), and binds multi-row `INSERT`s of up to 500
//! rows, the values spelled as Prisma 7's SQLite adapter writes them.

use anyhow::{Context, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteSynchronous};
use sqlx::{Connection, Executor};

use super::data::Table;
use super::encode::{SqliteValue, sqlite_value};
use super::fixture::{Flavour, drizzle_table};
use super::postgres::first_line;
use super::{Backend, RowSource, column_list, ident, join_producer};
use crate::config::DbUrl;
use crate::db::sqlite_path;
use crate::mapping::Dialect;

/// Stays far below SQLite's 32766 bound parameters per statement.
const MAX_ROWS: usize = 500;

pub(crate) struct Lite {
    conn: SqliteConnection,
}

impl Lite {
    pub async fn connect(url: &DbUrl) -> Result<Lite> {
        let path = sqlite_path(url.expose());
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(false)
            .synchronous(SqliteSynchronous::Off)
            .pragma("cache_size", "-131072")
            .pragma("temp_store", "MEMORY");
        let conn = SqliteConnection::connect_with(&opts)
            .await
            .with_context(|| format!("cannot open {}", url.redacted()))?;
        Ok(Lite { conn })
    }
}

impl Backend for Lite {
    async fn exec(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute(sql)
            .await
            .with_context(|| format!("statement failed: {}", first_line(sql)))?;
        Ok(())
    }

    async fn count_tables(&mut self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        let mut tables: Vec<String> = f
            .tables()
            .iter()
            .map(|t| ident(Dialect::Sqlite, t))
            .collect();
        tables.push(ident(Dialect::Sqlite, "_prisma_migrations"));
        tables.push(drizzle_table(Dialect::Sqlite).to_string());
        for t in tables {
            self.exec(&format!("DROP TABLE IF EXISTS {t}")).await?;
        }
        Ok(())
    }

    async fn begin(&mut self) -> Result<()> {
        self.exec("BEGIN").await
    }

    async fn load(&mut self, src: RowSource) -> Result<u64> {
        let t = src.table;
        let ncols = t.columns().len();
        let (mut rx, handle) = src.spawn(
            move || Vec::with_capacity(MAX_ROWS * ncols),
            move |vals: &mut Vec<SqliteValue>, row| {
                vals.extend(row.iter().map(sqlite_value));
                vals.len() >= MAX_ROWS * ncols
            },
        );
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            ident(Dialect::Sqlite, t.name()),
            column_list(Dialect::Sqlite, t)
        );
        let one = format!("({})", vec!["?"; ncols].join(","));
        let sql_for = |rows: usize| format!("{head}{}", vec![one.as_str(); rows].join(","));
        let full = sql_for(MAX_ROWS);
        let mut n = 0u64;
        while let Some(batch) = rx.recv().await {
            let rows = batch.rows as usize;
            let partial;
            let sql = if rows == MAX_ROWS {
                full.as_str()
            } else {
                partial = sql_for(rows);
                partial.as_str()
            };
            let mut q = sqlx::query(sql);
            for v in batch.data {
                q = match v {
                    SqliteValue::Null => q.bind(None::<String>),
                    SqliteValue::Int(i) => q.bind(i),
                    SqliteValue::Real(f) => q.bind(f),
                    SqliteValue::Text(s) => q.bind(s),
                };
            }
            if let Err(e) = q.execute(&mut self.conn).await {
                drop(rx);
                return Err(e).with_context(|| format!("inserting into {}", t.name()));
            }
            n += batch.rows;
        }
        join_producer(handle, t).await?;
        Ok(n)
    }

    async fn finish(&mut self) -> Result<()> {
        // AUTOINCREMENT tables track the largest explicit id in
        // sqlite_sequence by themselves; nothing to move.
        self.exec("ANALYZE").await?;
        self.exec("COMMIT").await
    }

    async fn count_rows(&mut self, t: Table) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}",
            ident(Dialect::Sqlite, t.name())
        ))
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }
}
