//! What each ORM's migrator records when the fixture's migrations are
//! applied: the migration tables with the exact DDL the migrators use
//! (Prisma's schema engine: `_prisma_migrations`; drizzle-orm's `migrate()`:
//! `__drizzle_migrations`, in schema `drizzle` on PostgreSQL) and their rows.

use std::fmt::Write;

use anyhow::Result;

use super::encode::mysql_quote;
use super::fixture::{Flavour, Recorded, sha256_hex};
use super::rng::Rng;
use super::time::{Frac, iso_utc, micros, push_timestamp};
use crate::mapping::Dialect;

/// `_prisma_migrations` exactly as Prisma's schema engine creates it.
fn prisma_table_ddl(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => {
            "CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)"
        }
        Dialect::Mysql => {
            "CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4"
        }
        Dialect::Sqlite => {
            r#"CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)"#
        }
    }
}

/// drizzle-orm 0.45's `migrate()` table, per dialect (pg-core, mysql-core,
/// sqlite-core `dialect.js`). On SQLite `id SERIAL PRIMARY KEY` is not a
/// rowid alias, so drizzle's rows carry a NULL id; we insert the same way.
fn drizzle_table_ddl(d: Dialect) -> &'static [&'static str] {
    match d {
        Dialect::Postgres => &[
            r#"CREATE SCHEMA IF NOT EXISTS "drizzle""#,
            r#"CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (
				id SERIAL PRIMARY KEY,
				hash text NOT NULL,
				created_at bigint
			)"#,
        ],
        Dialect::Mysql => &["create table if not exists `__drizzle_migrations` (
				id serial primary key,
				hash text not null,
				created_at bigint
			)"],
        Dialect::Sqlite => &[r#"CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (
				id SERIAL PRIMARY KEY,
				hash text NOT NULL,
				created_at numeric
			)"#],
    }
}

/// The name of Drizzle's migration table as written in SQL.
pub fn drizzle_table(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => r#""drizzle"."__drizzle_migrations""#,
        Dialect::Mysql => "`__drizzle_migrations`",
        Dialect::Sqlite => r#""__drizzle_migrations""#,
    }
}

/// A Prisma folder name's timestamp prefix (`20250301120000_…`), in µs.
fn folder_time_us(name: &str) -> Option<i64> {
    let ts = name.get(..14)?;
    if !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| ts[a..b].parse::<i64>().ok();
    Some(micros(
        n(0, 4)?,
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    ))
}

/// The statements that record `rec` as applied, as each migrator would.
/// Every value is deterministic: Prisma's row id is a uuid drawn from the
/// seed and its timestamps derive from the migration folder's timestamp.
pub fn statements(f: &Flavour, rec: Recorded, seed: u64) -> Result<Vec<String>> {
    let d = f.dialect;
    let mut out = Vec::new();
    if rec.prisma > 0 {
        out.push(prisma_table_ddl(d).to_string());
        for (i, m) in f.prisma.iter().take(rec.prisma).enumerate() {
            let mut g = Rng::new(seed, 0x5052_4953_4d41, i as u64);
            let started = folder_time_us(m.name).unwrap_or(micros(2025, 1, 1, 0, 0, 0))
                + 60_000_000
                + g.range(0, 999) * 1000;
            let finished = started + g.range(20, 900) * 1000;
            let ts = |us: i64| -> String {
                let mut s = String::new();
                match d {
                    Dialect::Postgres => {
                        s.push('\'');
                        push_timestamp(&mut s, us, ' ', Frac::Iso);
                        s.push_str("+00'");
                    }
                    Dialect::Mysql => {
                        s.push('\'');
                        push_timestamp(&mut s, us, ' ', Frac::Iso);
                        s.push('\'');
                    }
                    Dialect::Sqlite => {
                        let _ = write!(s, "'{}'", iso_utc(us));
                    }
                }
                s
            };
            let mut name = String::new();
            mysql_quote(&mut name, m.name);
            out.push(format!(
                "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
                 VALUES ('{}', '{}', {}, {}, NULL, NULL, {}, 1)",
                g.uuid_v4(),
                sha256_hex(m.sql),
                ts(finished),
                name,
                ts(started),
            ));
        }
    }
    if rec.drizzle > 0 {
        out.extend(drizzle_table_ddl(d).iter().map(|s| s.to_string()));
        for m in f.drizzle.iter().take(rec.drizzle) {
            out.push(
                format!(
                    r#"insert into {} ("hash", "created_at") values('{}', {})"#,
                    drizzle_table(d),
                    sha256_hex(m.sql),
                    f.drizzle_when(m.tag)?,
                )
                .replace('"', if d == Dialect::Mysql { "`" } else { "\"" }),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::fixture::flavour;

    #[test]
    fn records_checksums_and_folder_times() {
        let f = flavour(Dialect::Postgres);
        let stmts = statements(
            f,
            Recorded {
                prisma: 1,
                drizzle: 2,
            },
            1,
        )
        .unwrap();
        assert!(
            stmts
                .iter()
                .any(|s| s.contains(&sha256_hex(f.prisma[0].sql)))
        );
        assert!(
            stmts.iter().any(|s| s.contains("2025-03-01 12:01:00")),
            "{stmts:#?}"
        );
    }
}
