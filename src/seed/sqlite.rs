//! The SQLite writer: creates the file, runs the whole seed in one
//! transaction with `synchronous = OFF` and foreign keys off (the data is
//! consistent by construction), and binds multi-row `INSERT`s of up to 500
//! rows, the values spelled as Prisma 7's SQLite adapter writes them.

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteSynchronous};

use super::data::{Table, Val};
use super::encode::{SqliteValue, sqlite_value};
use super::fixture::Flavour;
use super::{Backend, Conn, Encoder, Sink, column_list, ident};
use crate::config::DbUrl;
use crate::db::sqlite_path;
use crate::mapping::Dialect;

/// Stays far below SQLite's 32766 bound parameters per statement.
const MAX_ROWS: usize = 500;

pub async fn connect(url: &DbUrl) -> Result<SqliteConnection> {
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
    Ok(conn)
}

/// Up to [`MAX_ROWS`] rows of values to bind.
pub(crate) struct BindRows {
    ncols: usize,
}

impl Encoder for BindRows {
    type Batch = Vec<SqliteValue>;

    fn empty(&self) -> Vec<SqliteValue> {
        Vec::with_capacity(MAX_ROWS * self.ncols)
    }

    fn push(&mut self, vals: &mut Vec<SqliteValue>, row: &[Val]) -> bool {
        vals.extend(row.iter().map(sqlite_value));
        vals.len() >= MAX_ROWS * self.ncols
    }
}

/// A table's bound multi-row inserts, inside the seed's one transaction.
pub(crate) struct Inserts<'a> {
    conn: &'a mut SqliteConnection,
    table: Table,
    ncols: usize,
    head: String,
    /// The statement for a full batch, built once.
    full: String,
}

impl Inserts<'_> {
    fn sql_for(&self, rows: usize) -> String {
        let one = format!("({})", vec!["?"; self.ncols].join(","));
        format!("{}{}", self.head, vec![one.as_str(); rows].join(","))
    }
}

impl Sink for Inserts<'_> {
    type Batch = Vec<SqliteValue>;

    async fn write(&mut self, vals: Vec<SqliteValue>) -> Result<()> {
        let rows = vals.len() / self.ncols;
        let partial;
        let sql = if rows == MAX_ROWS {
            self.full.as_str()
        } else {
            partial = self.sql_for(rows);
            partial.as_str()
        };
        let mut q = sqlx::query(sql);
        for v in vals {
            q = match v {
                SqliteValue::Null => q.bind(None::<String>),
                SqliteValue::Int(i) => q.bind(i),
                SqliteValue::Real(f) => q.bind(f),
                SqliteValue::Text(s) => q.bind(s),
            };
        }
        q.execute(&mut *self.conn)
            .await
            .with_context(|| format!("inserting into {}", self.table.name()))?;
        Ok(())
    }

    /// The seed's transaction is never committed: nothing to undo here.
    async fn abandon(self, _why: &str) {}

    async fn complete(self) -> Result<()> {
        Ok(())
    }
}

impl Backend for SqliteConnection {
    const DIALECT: Dialect = Dialect::Sqlite;
    const COUNT_TABLES: &'static str =
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
    type Encoder = BindRows;
    type Sink<'a> = Inserts<'a>;

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        for t in f.drop_list() {
            self.exec(&format!("DROP TABLE IF EXISTS {t}")).await?;
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<()> {
        self.exec("BEGIN").await
    }

    async fn open(&mut self, t: Table) -> Result<(Inserts<'_>, BindRows)> {
        let ncols = t.columns().len();
        let mut sink = Inserts {
            conn: &mut *self,
            table: t,
            ncols,
            head: format!(
                "INSERT INTO {} ({}) VALUES ",
                ident(Dialect::Sqlite, t.name()),
                column_list(Dialect::Sqlite, t)
            ),
            full: String::new(),
        };
        sink.full = sink.sql_for(MAX_ROWS);
        Ok((sink, BindRows { ncols }))
    }

    async fn finish(&mut self) -> Result<()> {
        // AUTOINCREMENT tables track the largest explicit id in
        // sqlite_sequence by themselves; nothing to move.
        self.exec("ANALYZE").await?;
        self.exec("COMMIT").await
    }
}
