//! The ORMs' migration tables, read: `__drizzle_migrations` (in drizzle's
//! `drizzle` schema on PostgreSQL, wherever it is found) and
//! `_prisma_migrations`, on every backend.
//!
//! Owns each backend's SQL for finding and reading them; every read runs in
//! a read-only transaction, and one loop turns the rows into
//! [`plan::migrations`](crate::plan::migrations)' types. It does not judge
//! them: `plan::migrations` matches them against the migrations folder.

use anyhow::{Context, Result};
use sqlx::Row;

use super::Db;
use crate::mapping::{Dialect, Orm};
use crate::plan::migrations::{Applied, DrizzleApplied, PrismaApplied};

/// What the database records as applied for `orm`'s migrator.
pub async fn read_applied(db: &Db, orm: Orm) -> Result<Applied> {
    Ok(match orm {
        Orm::Drizzle => {
            let (table, rows) = read_drizzle(db).await?;
            Applied::Drizzle { table, rows }
        }
        Orm::Prisma => Applied::Prisma(read_prisma(db).await?),
        Orm::Catalog => Applied::Catalog,
    })
}

/// Where drizzle keeps its table on this backend, and its rows (`None`: no table).
pub async fn read_drizzle(db: &Db) -> Result<(String, Option<Vec<DrizzleApplied>>)> {
    let (locate, missing) = match db.dialect() {
        // drizzle's default migrationsSchema is "drizzle"; fall back to any schema.
        Dialect::Postgres => (
            "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relname = '__drizzle_migrations' AND c.relkind IN ('r', 'p')
              ORDER BY (n.nspname = 'drizzle') DESC, n.nspname LIMIT 1",
            "drizzle.__drizzle_migrations",
        ),
        Dialect::Mysql => (
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '__drizzle_migrations'",
            "__drizzle_migrations",
        ),
        Dialect::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'",
            "__drizzle_migrations",
        ),
    };
    let dialect = db.dialect();
    let read = read_table(db, locate, &|found| match dialect {
        Dialect::Postgres => (
            format!("{found}.__drizzle_migrations"),
            format!(
                "SELECT hash::text, created_at::text FROM {}.\"__drizzle_migrations\" ORDER BY created_at",
                super::postgres::ident(found)
            ),
        ),
        Dialect::Mysql => (
            found.to_string(),
            "SELECT CAST(hash AS CHAR), CAST(created_at AS CHAR)
               FROM `__drizzle_migrations` ORDER BY created_at"
                .to_string(),
        ),
        Dialect::Sqlite => (
            found.to_string(),
            "SELECT CAST(hash AS TEXT), CAST(created_at AS TEXT)
               FROM \"__drizzle_migrations\" ORDER BY created_at"
                .to_string(),
        ),
    })
    .await?;
    let Some((table, rows)) = read else {
        return Ok((missing.to_string(), None));
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let [hash, created_at] = cells(r);
            Ok(DrizzleApplied {
                hash,
                created_at: whole_number(&created_at).with_context(|| {
                    format!("__drizzle_migrations.created_at \"{created_at}\" is not a number")
                })?,
            })
        })
        .collect::<Result<_>>()?;
    Ok((table, Some(rows)))
}

/// The rows of `_prisma_migrations` (`None`: no table).
pub async fn read_prisma(db: &Db) -> Result<Option<Vec<PrismaApplied>>> {
    let (locate, select) = match db.dialect() {
        Dialect::Postgres => (
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relname = '_prisma_migrations' AND n.nspname = ANY(current_schemas(false)) LIMIT 1",
            "SELECT migration_name::text, checksum::text,
                    (finished_at IS NOT NULL)::text, (rolled_back_at IS NOT NULL)::text
               FROM \"_prisma_migrations\" ORDER BY started_at",
        ),
        Dialect::Mysql => (
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_prisma_migrations'",
            "SELECT CAST(migration_name AS CHAR), CAST(checksum AS CHAR),
                    CAST(finished_at IS NOT NULL AS CHAR), CAST(rolled_back_at IS NOT NULL AS CHAR)
               FROM `_prisma_migrations` ORDER BY started_at",
        ),
        Dialect::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'",
            "SELECT CAST(migration_name AS TEXT), CAST(checksum AS TEXT),
                    CAST(finished_at IS NOT NULL AS TEXT), CAST(rolled_back_at IS NOT NULL AS TEXT)
               FROM \"_prisma_migrations\" ORDER BY started_at",
        ),
    };
    let read = read_table(db, locate, &|found| (found.to_string(), select.to_string())).await?;
    Ok(read.map(|(_, rows)| {
        rows.into_iter()
            .map(|r| {
                let [name, checksum, finished, rolled_back] = cells(r);
                PrismaApplied {
                    name,
                    checksum,
                    finished: is_true(&finished),
                    rolled_back: is_true(&rolled_back),
                }
            })
            .collect()
    }))
}

/// Text rows of a migration table, in one read-only transaction: `locate`
/// yields where the table is (one text value) or no row; `select` turns
/// that into the table's display name and a SELECT whose every column is
/// text. `None` when there is no table.
async fn read_table(
    db: &Db,
    locate: &str,
    select: &(dyn Fn(&str) -> (String, String) + Sync),
) -> Result<Option<(String, Vec<Vec<Option<String>>>)>> {
    // The one row loop; the macro only spans the three pool types.
    macro_rules! run {
        ($pool:expr, $begin:expr) => {{
            let mut tx = $pool.begin_with($begin).await?;
            let found: Option<String> = sqlx::query_scalar(locate).fetch_optional(&mut *tx).await?;
            let out = match found {
                None => None,
                Some(found) => {
                    let (table, sql) = select(&found);
                    let rows = sqlx::query(&sql)
                        .fetch_all(&mut *tx)
                        .await
                        .with_context(|| format!("reading {table}"))?;
                    let rows = rows
                        .iter()
                        .map(|r| (0..r.len()).map(|i| r.try_get(i)).collect())
                        .collect::<Result<Vec<Vec<Option<String>>>, sqlx::Error>>()?;
                    Some((table, rows))
                }
            };
            tx.commit().await?;
            Ok(out)
        }};
    }
    match db {
        Db::Postgres(pool) => run!(pool, "BEGIN READ ONLY"),
        Db::Mysql(pool) => run!(pool, "START TRANSACTION READ ONLY"),
        Db::Sqlite(pool) => run!(pool, "BEGIN"),
    }
}

/// A row's cells, NULL read as empty text.
fn cells<const N: usize>(row: Vec<Option<String>>) -> [String; N] {
    let mut it = row.into_iter();
    std::array::from_fn(|_| it.next().flatten().unwrap_or_default())
}

/// `1700000000000`, or the same written as a float (`1.7e12`).
fn whole_number(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>()
        .ok()
        .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
}

/// A boolean cast to text: `true` (PostgreSQL) or `1` (MySQL, SQLite).
fn is_true(s: &str) -> bool {
    matches!(s.trim(), "true" | "t" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testdb::TestDb;
    use crate::db::{ConnectOptions, Db};

    #[test]
    fn text_cells_parse() {
        assert_eq!(whole_number("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(whole_number(" 1.7e12 "), Some(1_700_000_000_000));
        assert_eq!(whole_number("x"), None);
        assert!(is_true("true") && is_true("1") && !is_true("false") && !is_true("0"));
        let [a, b] = cells(vec![Some("h".into()), None]);
        assert_eq!((a.as_str(), b.as_str()), ("h", ""));
    }

    /// Both migrators' tables as each backend spells them, with rows
    /// inserted out of order (the reader orders them).
    fn tables(dialect: Dialect) -> String {
        let (q, schema, ts, drizzle_schema) = match dialect {
            Dialect::Postgres => ('"', "CREATE SCHEMA drizzle;", "timestamptz", "drizzle."),
            Dialect::Mysql => ('`', "", "datetime(3)", ""),
            Dialect::Sqlite => ('"', "", "datetime", ""),
        };
        format!(
            "{schema}
             CREATE TABLE {drizzle_schema}{q}__drizzle_migrations{q} (id integer, hash text NOT NULL, created_at bigint);
             INSERT INTO {drizzle_schema}{q}__drizzle_migrations{q} VALUES (2, 'h1', 200), (1, 'h0', 100);
             CREATE TABLE {q}_prisma_migrations{q} (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,
               finished_at {ts} NULL, migration_name varchar(255) NOT NULL, rolled_back_at {ts} NULL,
               started_at {ts} NOT NULL);
             INSERT INTO {q}_prisma_migrations{q} VALUES
               ('c', 'c3', NULL, '3_rb', '2024-01-03 00:00:01', '2024-01-03 00:00:00'),
               ('a', 'c1', '2024-01-01 00:00:01', '1_init', NULL, '2024-01-01 00:00:00'),
               ('b', 'c2', NULL, '2_fail', NULL, '2024-01-02 00:00:00');"
        )
    }

    /// On every backend: no table reads as none applied; the rows read as
    /// the migrators wrote them, in their order, wherever drizzle keeps its table.
    #[tokio::test]
    async fn reads_both_migration_tables_on_every_backend() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let t = TestDb::new(dialect);
            let opts = ConnectOptions {
                read_only: false,
                ..ConnectOptions::default()
            };
            let db = Db::connect(&t.url, &opts).await.unwrap();
            let Applied::Drizzle { table, rows } = read_applied(&db, Orm::Drizzle).await.unwrap()
            else {
                panic!("drizzle rows")
            };
            let want_table = match dialect {
                Dialect::Postgres => "drizzle.__drizzle_migrations",
                _ => "__drizzle_migrations",
            };
            assert_eq!(
                (table.as_str(), rows.is_none()),
                (want_table, true),
                "{dialect:?}"
            );
            assert!(matches!(
                read_applied(&db, Orm::Prisma).await.unwrap(),
                Applied::Prisma(None)
            ));

            t.exec(&tables(dialect));
            let Applied::Drizzle { table, rows } = read_applied(&db, Orm::Drizzle).await.unwrap()
            else {
                panic!("drizzle rows")
            };
            assert_eq!(table, want_table, "{dialect:?}");
            let rows: Vec<(String, i64)> = rows
                .unwrap()
                .into_iter()
                .map(|r| (r.hash, r.created_at))
                .collect();
            assert_eq!(
                rows,
                vec![("h0".into(), 100), ("h1".into(), 200)],
                "{dialect:?}"
            );
            let Applied::Prisma(Some(rows)) = read_applied(&db, Orm::Prisma).await.unwrap() else {
                panic!("prisma rows")
            };
            let rows: Vec<(String, String, bool, bool)> = rows
                .into_iter()
                .map(|r| (r.name, r.checksum, r.finished, r.rolled_back))
                .collect();
            assert_eq!(
                rows,
                vec![
                    ("1_init".into(), "c1".into(), true, false),
                    ("2_fail".into(), "c2".into(), false, false),
                    ("3_rb".into(), "c3".into(), false, true),
                ],
                "{dialect:?}"
            );
            assert!(matches!(
                read_applied(&db, Orm::Catalog).await.unwrap(),
                Applied::Catalog
            ));
            db.close().await;
        }
    }
}
