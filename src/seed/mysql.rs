//! The MariaDB/MySQL writer: one connection in UTC, foreign-key and unique
//! checks off while loading (the mysqldump recipe; the data is consistent
//! by construction), multi-row `INSERT`s of ~1 MiB committed in groups.
//! MariaDB DDL commits implicitly, so a failed seed can leave tables behind:
//! rerun with `--force`.

use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Connection, Executor, Row};

use super::data::{Table, Val};
use super::encode::mysql_literal;
use super::fixture::Flavour;
use super::{
    Backend, Conn, Encoder, Sink, column_list, create_database, ident, url_error, with_retry,
};
use crate::config::DbUrl;
use crate::mapping::Dialect;
use crate::ui::Ui;

const BATCH_BYTES: usize = 1 << 20;
/// Batches per commit.
const COMMIT_EVERY: u32 = 32;
/// MariaDB's `ER_BAD_DB_ERROR`: the database in the URL does not exist.
const UNKNOWN_DATABASE: u16 = 1049;

pub async fn connect(url: &DbUrl, ui: &Ui) -> Result<MySqlConnection> {
    let opts = MySqlConnectOptions::from_str(&url.expose().replacen("mariadb://", "mysql://", 1))
        .map_err(|e| url_error("invalid database URL", url, e))?
        .timezone(Some("+00:00".to_string()))
        .charset("utf8mb4");
    let fail = |e: sqlx::Error| url_error("cannot connect to", url, e);
    let conn = match with_retry(|| MySqlConnection::connect_with(&opts)).await {
        Ok(c) => c,
        Err(sqlx::Error::Database(e))
            if e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|m| m.number() == UNKNOWN_DATABASE) =>
        {
            let name = opts.get_database().unwrap_or_default().to_string();
            let admin = MySqlConnection::connect_with(&opts.clone().database("mysql"))
                .await
                .map_err(fail)?;
            let create = format!(
                "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                ident(Dialect::Mysql, &name)
            );
            create_database(admin, &create, &format!("`{name}`"), ui).await?;
            MySqlConnection::connect_with(&opts).await.map_err(fail)?
        }
        Err(e) => return Err(fail(e)),
    };
    Ok(conn)
}

/// Multi-row `INSERT` statements of ~1 MiB.
pub(crate) struct InsertRows {
    head: String,
}

impl Encoder for InsertRows {
    type Batch = String;

    fn empty(&self) -> String {
        let mut s = String::with_capacity(BATCH_BYTES + 8192);
        s.push_str(&self.head);
        s
    }

    fn push(&mut self, sql: &mut String, row: &[Val]) -> bool {
        if !sql.ends_with(' ') {
            sql.push(',');
        }
        sql.push('(');
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            mysql_literal(sql, v);
        }
        sql.push(')');
        sql.len() >= BATCH_BYTES
    }
}

/// A table's inserts, committed every [`COMMIT_EVERY`] batches.
pub(crate) struct Inserts<'a> {
    conn: &'a mut MySqlConnection,
    table: Table,
    batches: u32,
}

impl Sink for Inserts<'_> {
    type Batch = String;

    async fn write(&mut self, sql: String) -> Result<()> {
        self.conn
            .execute(sql.as_str())
            .await
            .with_context(|| format!("inserting into {}", self.table.name()))?;
        self.batches += 1;
        if self.batches.is_multiple_of(COMMIT_EVERY) {
            self.conn.exec("COMMIT").await?;
            self.conn.exec("START TRANSACTION").await?;
        }
        Ok(())
    }

    async fn abandon(self, _why: &str) {
        let _ = self.conn.execute("ROLLBACK").await;
    }

    async fn complete(self) -> Result<()> {
        self.conn.exec("COMMIT").await
    }
}

impl Backend for MySqlConnection {
    const DIALECT: Dialect = Dialect::Mysql;
    const COUNT_TABLES: &'static str =
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()";
    type Encoder = InsertRows;
    type Sink<'a> = Inserts<'a>;

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        self.exec("SET FOREIGN_KEY_CHECKS = 0").await?;
        self.exec(&format!(
            "DROP TABLE IF EXISTS {}",
            f.drop_list().join(", ")
        ))
        .await?;
        self.exec("SET FOREIGN_KEY_CHECKS = 1").await
    }

    async fn start(&mut self) -> Result<()> {
        self.exec("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            .await
    }

    async fn open(&mut self, t: Table) -> Result<(Inserts<'_>, InsertRows)> {
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            ident(Dialect::Mysql, t.name()),
            column_list(Dialect::Mysql, t)
        );
        self.exec("START TRANSACTION").await?;
        let sink = Inserts {
            conn: &mut *self,
            table: t,
            batches: 0,
        };
        Ok((sink, InsertRows { head }))
    }

    async fn finish(&mut self) -> Result<()> {
        self.exec("SET SESSION foreign_key_checks = 1, unique_checks = 1")
            .await?;
        // AUTO_INCREMENT continues after the seeded ids (InnoDB would get
        // there itself; saying it keeps the catalog explicit).
        let autos = sqlx::query(
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND extra LIKE '%auto_increment%' \
             AND table_name <> '__drizzle_migrations'",
        )
        .fetch_all(&mut *self)
        .await?;
        for row in autos {
            let (table, column): (String, String) = (row.get(0), row.get(1));
            let max: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT CAST(MAX({}) AS SIGNED) FROM {}",
                ident(Dialect::Mysql, &column),
                ident(Dialect::Mysql, &table)
            ))
            .fetch_one(&mut *self)
            .await?;
            self.exec(&format!(
                "ALTER TABLE {} AUTO_INCREMENT = {}",
                ident(Dialect::Mysql, &table),
                max.unwrap_or(0) + 1
            ))
            .await?;
        }
        let tables: Vec<String> = Table::ALL
            .iter()
            .map(|t| ident(Dialect::Mysql, t.name()))
            .collect();
        // ANALYZE returns a result set; fetch it so the connection stays clean.
        sqlx::query(&format!("ANALYZE TABLE {}", tables.join(", ")))
            .fetch_all(&mut *self)
            .await?;
        Ok(())
    }
}
