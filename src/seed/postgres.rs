//! The PostgreSQL writer: one connection, one transaction around the whole
//! seed (DDL is transactional, so a failed seed leaves an empty database),
//! `COPY … FROM STDIN` in text format streamed in ~1 MiB batches.

use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};

use super::data::Table;
use super::encode::pg_copy_row;
use super::fixture::Flavour;
use super::{Backend, RowSource, column_list, ident, join_producer, with_retry};
use crate::config::DbUrl;
use crate::db::scrub;
use crate::mapping::Dialect;
use crate::ui::Ui;

const BATCH_BYTES: usize = 1 << 20;

pub(crate) struct Pg {
    conn: PgConnection,
}

fn options(url: &DbUrl) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url.expose())
        .map_err(|e| {
            anyhow::anyhow!(
                "invalid database URL {}: {}",
                url.redacted(),
                scrub(&e.to_string(), url)
            )
        })?
        .application_name("parity seed")
        .options([("TimeZone", "UTC"), ("statement_timeout", "0")]))
}

impl Pg {
    /// Connects, creating the database first when it does not exist.
    pub async fn connect(url: &DbUrl, ui: &Ui) -> Result<Pg> {
        let opts = options(url)?;
        let fail = |e: sqlx::Error| {
            anyhow::anyhow!(
                "cannot connect to {}: {}",
                url.redacted(),
                scrub(&e.to_string(), url)
            )
        };
        let conn = match with_retry(|| PgConnection::connect_with(&opts)).await {
            Ok(c) => c,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
                let name = opts.get_database().unwrap_or("postgres").to_string();
                let mut admin = None;
                let mut last = None;
                for db in ["postgres", "template1"] {
                    match PgConnection::connect_with(&opts.clone().database(db)).await {
                        Ok(c) => {
                            admin = Some(c);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let mut admin = match admin {
                    Some(a) => a,
                    None => return Err(fail(last.expect("a connection error"))),
                };
                ui.info(format!("creating database \"{name}\""));
                admin
                    .execute(
                        format!("CREATE DATABASE {}", ident(Dialect::Postgres, &name)).as_str(),
                    )
                    .await
                    .with_context(|| format!("cannot create database \"{name}\""))?;
                let _ = admin.close().await;
                PgConnection::connect_with(&opts).await.map_err(fail)?
            }
            Err(e) => return Err(fail(e)),
        };
        Ok(Pg { conn })
    }
}

impl Backend for Pg {
    async fn exec(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute(sql)
            .await
            .with_context(|| format!("statement failed: {}", first_line(sql)))?;
        Ok(())
    }

    async fn count_tables(&mut self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg_toast%'",
        )
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        let d = Dialect::Postgres;
        let mut tables: Vec<String> = f.tables().iter().map(|t| ident(d, t)).collect();
        tables.push(ident(d, "_prisma_migrations"));
        self.exec(&format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            tables.join(", ")
        ))
        .await?;
        self.exec("DROP SCHEMA IF EXISTS \"drizzle\" CASCADE")
            .await?;
        let types: Vec<String> = f.enum_types().iter().map(|t| ident(d, t)).collect();
        if !types.is_empty() {
            self.exec(&format!("DROP TYPE IF EXISTS {} CASCADE", types.join(", ")))
                .await?;
        }
        Ok(())
    }

    async fn begin(&mut self) -> Result<()> {
        // Loading is replayable from the seed, so durability per commit is
        // not worth the fsyncs; index builds get room to sort in memory.
        self.exec("SET synchronous_commit = off").await?;
        self.exec("SET maintenance_work_mem = '256MB'").await?;
        self.exec("BEGIN").await
    }

    async fn load(&mut self, src: RowSource) -> Result<u64> {
        let t = src.table;
        let statement = format!(
            "COPY {} ({}) FROM STDIN",
            ident(Dialect::Postgres, t.name()),
            column_list(Dialect::Postgres, t)
        );
        let (mut rx, handle) = src.spawn(
            || String::with_capacity(BATCH_BYTES + 8192),
            |buf, row| {
                pg_copy_row(buf, row);
                buf.len() >= BATCH_BYTES
            },
        );
        let mut copy = self.conn.copy_in_raw(&statement).await?;
        let mut n = 0u64;
        while let Some(batch) = rx.recv().await {
            if let Err(e) = copy.send(batch.data.into_bytes()).await {
                drop(rx);
                let _ = copy.abort("parity seed: send failed").await;
                return Err(e.into());
            }
            n += batch.rows;
        }
        if let Err(e) = join_producer(handle, t).await {
            let _ = copy.abort("parity seed: generator failed").await;
            return Err(e);
        }
        copy.finish().await?;
        Ok(n)
    }

    async fn finish(&mut self) -> Result<()> {
        // Serial columns (autoincrement ids) continue after the seeded ids.
        let serials = sqlx::query(
            "SELECT quote_ident(table_name), quote_ident(column_name), \
                    pg_get_serial_sequence(quote_ident(table_schema) || '.' || quote_ident(table_name), column_name) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
        )
        .fetch_all(&mut self.conn)
        .await?;
        for row in serials {
            let (table, column): (String, String) = (row.get(0), row.get(1));
            let Some(seq): Option<String> = row.get(2) else {
                continue;
            };
            self.exec(&format!(
                "SELECT setval('{}', COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)",
                seq.replace('\'', "''")
            ))
            .await?;
        }
        self.exec("ANALYZE").await?;
        self.exec("COMMIT").await
    }

    async fn count_rows(&mut self, t: Table) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}",
            ident(Dialect::Postgres, t.name())
        ))
        .fetch_one(&mut self.conn)
        .await?;
        Ok(n as u64)
    }
}

/// The first line of a statement, for error messages.
pub(crate) fn first_line(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or("");
    if line.len() > 120 {
        let mut end = 120;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &line[..end])
    } else {
        line.to_string()
    }
}
