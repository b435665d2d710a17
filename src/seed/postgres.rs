//! The PostgreSQL writer: one connection, one transaction around the whole
//! seed (DDL is transactional, so a failed seed leaves an empty database),
//! `COPY … FROM STDIN` in text format streamed in ~1 MiB batches.

use std::str::FromStr;

use anyhow::Result;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgCopyIn};
use sqlx::{Connection, Row};

use super::data::{Table, Val};
use super::encode::pg_copy_row;
use super::fixture::Flavour;
use super::{
    Backend, Conn, Encoder, Sink, column_list, create_database, ident, url_error, with_retry,
};
use crate::config::DbUrl;
use crate::mapping::Dialect;
use crate::ui::Ui;

const BATCH_BYTES: usize = 1 << 20;

fn options(url: &DbUrl) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url.expose())
        .map_err(|e| url_error("invalid database URL", url, e))?
        .application_name("parity seed")
        .options([("TimeZone", "UTC"), ("statement_timeout", "0")]))
}

/// Connects, creating the database first when it does not exist.
pub async fn connect(url: &DbUrl, ui: &Ui) -> Result<PgConnection> {
    let opts = options(url)?;
    let fail = |e: sqlx::Error| url_error("cannot connect to", url, e);
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
            let admin = match admin {
                Some(a) => a,
                None => return Err(fail(last.expect("a connection error"))),
            };
            let create = format!("CREATE DATABASE {}", ident(Dialect::Postgres, &name));
            create_database(admin, &create, &format!("\"{name}\""), ui).await?;
            PgConnection::connect_with(&opts).await.map_err(fail)?
        }
        Err(e) => return Err(fail(e)),
    };
    Ok(conn)
}

/// `COPY` text rows, ~1 MiB a batch.
pub(crate) struct CopyRows;

impl Encoder for CopyRows {
    type Batch = String;

    fn empty(&self) -> String {
        String::with_capacity(BATCH_BYTES + 8192)
    }

    fn push(&mut self, buf: &mut String, row: &[Val]) -> bool {
        pg_copy_row(buf, row);
        buf.len() >= BATCH_BYTES
    }
}

impl Sink for PgCopyIn<&mut PgConnection> {
    type Batch = String;

    async fn write(&mut self, batch: String) -> Result<()> {
        self.send(batch.into_bytes()).await?;
        Ok(())
    }

    async fn abandon(self, why: &str) {
        let _ = self.abort(format!("parity seed: {why}")).await;
    }

    async fn complete(self) -> Result<()> {
        self.finish().await?;
        Ok(())
    }
}

impl Backend for PgConnection {
    const DIALECT: Dialect = Dialect::Postgres;
    const COUNT_TABLES: &'static str = "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%'";
    type Encoder = CopyRows;
    type Sink<'a> = PgCopyIn<&'a mut PgConnection>;

    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()> {
        self.exec(&format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            f.drop_list().join(", ")
        ))
        .await?;
        self.exec("DROP SCHEMA IF EXISTS \"drizzle\" CASCADE")
            .await?;
        let types: Vec<String> = f
            .enum_types()
            .iter()
            .map(|t| ident(Dialect::Postgres, t))
            .collect();
        if !types.is_empty() {
            self.exec(&format!("DROP TYPE IF EXISTS {} CASCADE", types.join(", ")))
                .await?;
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<()> {
        // Loading is replayable from the seed, so durability per commit is
        // not worth the fsyncs; index builds get room to sort in memory.
        self.exec("SET synchronous_commit = off").await?;
        self.exec("SET maintenance_work_mem = '256MB'").await?;
        self.exec("BEGIN").await
    }

    async fn open(&mut self, t: Table) -> Result<(Self::Sink<'_>, CopyRows)> {
        let statement = format!(
            "COPY {} ({}) FROM STDIN",
            ident(Dialect::Postgres, t.name()),
            column_list(Dialect::Postgres, t)
        );
        Ok((self.copy_in_raw(&statement).await?, CopyRows))
    }

    async fn finish(&mut self) -> Result<()> {
        // Serial columns (autoincrement ids) continue after the seeded ids.
        let serials = sqlx::query(
            "SELECT quote_ident(table_name), quote_ident(column_name), \
                    pg_get_serial_sequence(quote_ident(table_schema) || '.' || quote_ident(table_name), column_name) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
        )
        .fetch_all(&mut *self)
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
}
