//! The MariaDB/MySQL writer: one connection in UTC, foreign-key and unique
//! checks off while loading (the mysqldump recipe; the data is consistent
//! by construction), multi-row `INSERT`s of ~1 MiB committed in groups.
//! MariaDB DDL commits implicitly, so a failed seed can leave tables behind:
//! rerun with `--force`.

use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Connection, Executor, Row};

use super::data::Table;
use super::encode::mysql_literal;
use super::fixture::{Flavour, drizzle_table};
use super::postgres::first_line;
use super::{Backend, RowSource, column_list, ident, join_producer, with_retry};
use crate::config::DbUrl;
use crate::db::scrub;
use crate::mapping::Dialect;
use crate::ui::Ui;

const BATCH_BYTES: usize = 1 << 20;
/// Batches per commit.
const COMMIT_EVERY: u32 = 32;
/// MariaDB's `ER_BAD_DB_ERROR`: the database in the URL does not exist.
const UNKNOWN_DATABASE: u16 = 1049;

pub(crate) struct My {
    conn: MySqlConnection,
}

impl My {
    pub async fn connect(url: &DbUrl, ui: &Ui) -> Result<My> {
        let opts =
            MySqlConnectOptions::from_str(&url.expose().replacen("mariadb://", "mysql://", 1))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "invalid database URL {}: {}",
                        url.redacted(),
                        scrub(&e.to_string(), url)
                    )
                })?
                .timezone(Some("+00:00".to_string()))
                .charset("utf8mb4");
        let fail = |e: sqlx::Error| {
            anyhow::anyhow!(
                "cannot connect to {}: {}",
                url.redacted(),
                scrub(&e.to_string(), url)
            )
        };
        let conn = match with_retry(|| MySqlConnection::connect_with(&opts)).await {
            Ok(c) => c,
            Err(sqlx::Error::Database(e))
                if e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|m| m.number() == UNKNOWN_DATABASE) =>
            {
                let name = opts.get_database().unwrap_or_default().to_string();
                let mut admin = MySqlConnection::connect_with(&opts.clone().database("mysql"))
                    .await
                    .map_err(fail)?;
                ui.info(format!("creating database `{name}`"));
                admin
                    .execute(
                        format!(
                            "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                            ident(Dialect::Mysql, &name)
                        )
                        .as_str(),
                    )
                    .await
                    .with_context(|| format!("cannot create database `{name}`"))?;
                let _ = admin.close().await;
                MySqlConnection::connect_with(&opts).await.map_err(fail)?
            }
            Err(e) => return Err(fail(e)),
        };
        Ok(My { conn })
    }
}

impl Backend for My {
    async fn exec(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute(sql)
            .await
            .with_context(|| format!("statement failed: {}", first_line(sql)))?;
        Ok(())
    }

    async fn count_tables(&mut self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
        )
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        let mut tables: Vec<String> = f
            .tables()
            .iter()
            .map(|t| ident(Dialect::Mysql, t))
            .collect();
        tables.push(ident(Dialect::Mysql, "_prisma_migrations"));
        tables.push(drizzle_table(Dialect::Mysql).to_string());
        self.exec("SET FOREIGN_KEY_CHECKS = 0").await?;
        self.exec(&format!("DROP TABLE IF EXISTS {}", tables.join(", ")))
            .await?;
        self.exec("SET FOREIGN_KEY_CHECKS = 1").await
    }

    async fn begin(&mut self) -> Result<()> {
        self.exec("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            .await
    }

    async fn load(&mut self, src: RowSource) -> Result<u64> {
        let t = src.table;
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            ident(Dialect::Mysql, t.name()),
            column_list(Dialect::Mysql, t)
        );
        let new_head = head.clone();
        let (mut rx, handle) = src.spawn(
            move || {
                let mut s = String::with_capacity(BATCH_BYTES + 8192);
                s.push_str(&new_head);
                s
            },
            move |sql, row| {
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
            },
        );
        let mut n = 0u64;
        let mut batches = 0u32;
        self.exec("START TRANSACTION").await?;
        while let Some(batch) = rx.recv().await {
            if let Err(e) = self.conn.execute(batch.data.as_str()).await {
                drop(rx);
                let _ = self.conn.execute("ROLLBACK").await;
                return Err(e).with_context(|| format!("inserting into {}", t.name()));
            }
            n += batch.rows;
            batches += 1;
            if batches.is_multiple_of(COMMIT_EVERY) {
                self.exec("COMMIT").await?;
                self.exec("START TRANSACTION").await?;
            }
        }
        join_producer(handle, t).await?;
        self.exec("COMMIT").await?;
        Ok(n)
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
        .fetch_all(&mut self.conn)
        .await?;
        for row in autos {
            let (table, column): (String, String) = (row.get(0), row.get(1));
            let max: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT CAST(MAX({}) AS SIGNED) FROM {}",
                ident(Dialect::Mysql, &column),
                ident(Dialect::Mysql, &table)
            ))
            .fetch_one(&mut self.conn)
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
            .fetch_all(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn count_rows(&mut self, t: Table) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {}",
            ident(Dialect::Mysql, t.name())
        ))
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }
}
