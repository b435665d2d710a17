//! The bike-shop fixture's migrations, embedded in the binary so `seed`
//! (and `demo`) work from any directory, their DDL, and which of them
//! `--migrations` records as applied (what the migrators write is
//! [`record`](super::record)'s).
//!
//! The schema is built the way the app's history built it: Prisma's
//! `migration.sql` (the baseline), then the Drizzle migrations after
//! Drizzle's baseline `0000` (which only restates Prisma's tables).

use anyhow::{Result, bail};
use sha2::{Digest, Sha256};

use super::ident;
use super::record::drizzle_table;
use crate::mapping::Dialect;

/// One Prisma migration folder.
#[derive(Debug, Clone, Copy)]
pub struct PrismaMigration {
    /// The folder name, e.g. `20250301120000_init`.
    pub name: &'static str,
    pub sql: &'static str,
}

/// One Drizzle migration file.
#[derive(Debug, Clone, Copy)]
pub struct DrizzleMigration {
    /// The journal tag, e.g. `0001_transactions_occurred_at_idx`.
    pub tag: &'static str,
    pub sql: &'static str,
}

/// The fixture for one backend.
#[derive(Debug, Clone, Copy)]
pub struct Flavour {
    pub dialect: Dialect,
    pub prisma: &'static [PrismaMigration],
    pub drizzle: &'static [DrizzleMigration],
    /// `meta/_journal.json`: the `when` of each tag.
    pub journal: &'static str,
}

/// A file under `fixtures/bikeshop/<dir>`, embedded.
macro_rules! fixture {
    ($dir:literal, $path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/bikeshop/",
            $dir,
            $path
        ))
    };
}

/// The same migrations for each backend, from its folder of the fixture.
macro_rules! flavour {
    ($dialect:expr, $dir:literal) => {
        Flavour {
            dialect: $dialect,
            prisma: &[PrismaMigration {
                name: "20250301120000_init",
                sql: fixture!($dir, "prisma/migrations/20250301120000_init/migration.sql"),
            }],
            drizzle: &[
                DrizzleMigration {
                    tag: "0000_init",
                    sql: fixture!($dir, "drizzle/0000_init.sql"),
                },
                DrizzleMigration {
                    tag: "0001_transactions_occurred_at_idx",
                    sql: fixture!($dir, "drizzle/0001_transactions_occurred_at_idx.sql"),
                },
            ],
            journal: fixture!($dir, "drizzle/meta/_journal.json"),
        }
    };
}

const PG: Flavour = flavour!(Dialect::Postgres, "");
const MYSQL: Flavour = flavour!(Dialect::Mysql, "mariadb/");
const SQLITE: Flavour = flavour!(Dialect::Sqlite, "sqlite/");

pub fn flavour(dialect: Dialect) -> &'static Flavour {
    match dialect {
        Dialect::Postgres => &PG,
        Dialect::Mysql => &MYSQL,
        Dialect::Sqlite => &SQLITE,
    }
}

/// Splits a Prisma `migration.sql`: statements end with `;` at a line end;
/// `--` comment lines are dropped. Statements come back without the `;`.
pub fn split_prisma(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("--") || (t.is_empty() && cur.is_empty()) {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with(';') {
            push_statement(&mut out, &cur);
            cur.clear();
        }
    }
    push_statement(&mut out, &cur);
    out
}

/// Splits a Drizzle migration on `--> statement-breakpoint`, as drizzle-orm's
/// `readMigrationFiles` does.
pub fn split_drizzle(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in sql.split("--> statement-breakpoint") {
        push_statement(&mut out, part);
    }
    out
}

fn push_statement(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    let s = s.strip_suffix(';').unwrap_or(s).trim_end();
    if !s.is_empty() {
        out.push(s.to_string());
    }
}

/// The fixture's DDL in execution order, split into what must run before
/// loading (enums, tables) and what is cheaper after it (secondary indexes
/// and, on PostgreSQL, foreign keys): building an index once beats
/// maintaining it per row, and the catalog ends up the same.
pub struct Ddl {
    pub before_load: Vec<String>,
    pub after_load: Vec<String>,
}

impl Flavour {
    /// Prisma's migrations, then Drizzle's after its baseline `0000`.
    pub fn statements(&self) -> Vec<String> {
        let mut all = Vec::new();
        for m in self.prisma {
            all.extend(split_prisma(m.sql));
        }
        for m in self.drizzle.iter().skip(1) {
            all.extend(split_drizzle(m.sql));
        }
        all
    }

    pub fn ddl(&self) -> Ddl {
        let mut ddl = Ddl {
            before_load: Vec::new(),
            after_load: Vec::new(),
        };
        for s in self.statements() {
            let head = s.trim_start().to_ascii_uppercase();
            let deferred = head.starts_with("CREATE INDEX")
                || head.starts_with("CREATE UNIQUE INDEX")
                || (self.dialect == Dialect::Postgres
                    && head.starts_with("ALTER TABLE")
                    && head.contains("FOREIGN KEY"));
            if deferred {
                ddl.after_load.push(s);
            } else {
                ddl.before_load.push(s);
            }
        }
        ddl
    }

    /// Names created by `CREATE <kind>` statements (unquoted, unqualified).
    fn created(&self, kind: &str) -> Vec<String> {
        let prefix = format!("CREATE {kind} ");
        let mut out = Vec::new();
        for s in self.statements() {
            let upper = s.to_ascii_uppercase();
            if let Some(rest) = upper.starts_with(&prefix).then(|| &s[prefix.len()..]) {
                let rest = rest
                    .trim_start()
                    .strip_prefix("IF NOT EXISTS")
                    .unwrap_or(rest)
                    .trim_start();
                let name: String = rest
                    .split(|c: char| c.is_whitespace() || c == '(')
                    .next()
                    .unwrap_or("")
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .trim_matches(['"', '`'])
                    .to_string();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }

    /// The tables the fixture creates (what `--force` drops).
    pub fn tables(&self) -> Vec<String> {
        self.created("TABLE")
    }

    /// What `--force` drops, quoted: the fixture's tables, Prisma's
    /// migration table and Drizzle's where it is a plain table (on
    /// PostgreSQL it has a schema of its own, dropped as a whole).
    pub fn drop_list(&self) -> Vec<String> {
        let d = self.dialect;
        let mut tables: Vec<String> = self.tables().iter().map(|t| ident(d, t)).collect();
        tables.push(ident(d, "_prisma_migrations"));
        if d != Dialect::Postgres {
            tables.push(drizzle_table(d).to_string());
        }
        tables
    }

    /// The enum types the fixture creates (PostgreSQL).
    pub fn enum_types(&self) -> Vec<String> {
        self.created("TYPE")
    }

    /// The journal's `when` (ms) for a Drizzle tag.
    pub fn drizzle_when(&self, tag: &str) -> Result<i64> {
        let j: serde_json::Value = serde_json::from_str(self.journal)?;
        j["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["tag"] == tag)
            .and_then(|e| e["when"].as_i64())
            .ok_or_else(|| anyhow::anyhow!("drizzle journal has no entry for {tag}"))
    }

    /// Every tag `--migrations` accepts, in timeline order.
    pub fn known_tags(&self) -> Vec<&'static str> {
        self.prisma
            .iter()
            .map(|m| m.name)
            .chain(self.drizzle.iter().map(|m| m.tag))
            .collect()
    }

    /// How many migrations of each ORM `--migrations` records. The timeline
    /// is Prisma's migrations (the app's history) followed by Drizzle's
    /// journal: a Drizzle tag records every Prisma migration plus Drizzle's
    /// up to it; a Prisma name records Prisma's up to it and no Drizzle ones.
    pub fn select(&self, sel: &MigrationSelection) -> Result<Recorded> {
        Ok(match sel {
            MigrationSelection::All => Recorded {
                prisma: self.prisma.len(),
                drizzle: self.drizzle.len(),
            },
            MigrationSelection::None => Recorded {
                prisma: 0,
                drizzle: 0,
            },
            MigrationSelection::UpTo(tag) => {
                if let Some(i) = self.prisma.iter().position(|m| m.name == tag) {
                    Recorded {
                        prisma: i + 1,
                        drizzle: 0,
                    }
                } else if let Some(i) = self.drizzle.iter().position(|m| m.tag == tag) {
                    Recorded {
                        prisma: self.prisma.len(),
                        drizzle: i + 1,
                    }
                } else {
                    bail!(
                        "unknown migration \"{tag}\" for --migrations; use all, none or one of: {}",
                        self.known_tags().join(", ")
                    )
                }
            }
        })
    }
}

/// `--migrations all|none|TAG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationSelection {
    All,
    None,
    UpTo(String),
}

impl MigrationSelection {
    pub fn parse(s: &str) -> MigrationSelection {
        match s.trim() {
            "all" | "" => MigrationSelection::All,
            "none" => MigrationSelection::None,
            tag => MigrationSelection::UpTo(tag.to_string()),
        }
    }
}

/// How many of each ORM's migrations are recorded as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub prisma: usize,
    pub drizzle: usize,
}

/// SHA-256 hex, the checksum both migrators store.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_split_keeps_multiline_statements() {
        let s = split_prisma(
            "-- CreateEnum\nCREATE TYPE \"A\" AS ENUM ('x');\n\n-- CreateTable\nCREATE TABLE \"t\" (\n  \"a\" INT\n);\n",
        );
        assert_eq!(s.len(), 2);
        assert!(s[1].starts_with("CREATE TABLE \"t\" (") && s[1].ends_with(')'));
    }

    #[test]
    fn drizzle_split_on_breakpoints() {
        let s = split_drizzle(
            "CREATE TABLE a (x int);\n--> statement-breakpoint\nCREATE INDEX i ON a (x);",
        );
        assert_eq!(s, vec!["CREATE TABLE a (x int)", "CREATE INDEX i ON a (x)"]);
    }

    /// The embedded list must match the fixture folders: a migration added
    /// under fixtures/ without being listed here would silently be skipped.
    #[test]
    fn embedded_migrations_match_the_fixture_folders() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bikeshop");
        for (dialect, prefix) in [
            (Dialect::Postgres, ""),
            (Dialect::Mysql, "mariadb/"),
            (Dialect::Sqlite, "sqlite/"),
        ] {
            let f = flavour(dialect);
            let mut folders: Vec<String> =
                std::fs::read_dir(root.join(format!("{prefix}prisma/migrations")))
                    .unwrap()
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
            folders.sort();
            let names: Vec<&str> = f.prisma.iter().map(|m| m.name).collect();
            assert_eq!(folders, names, "{dialect:?}");
            let j: serde_json::Value = serde_json::from_str(f.journal).unwrap();
            let tags: Vec<&str> = j["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["tag"].as_str().unwrap())
                .collect();
            assert_eq!(
                tags,
                f.drizzle.iter().map(|m| m.tag).collect::<Vec<_>>(),
                "{dialect:?}"
            );
            for m in f.drizzle {
                f.drizzle_when(m.tag).unwrap();
            }
        }
    }

    #[test]
    fn fixture_ddl_is_split_and_named() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let f = flavour(d);
            let mut tables = f.tables();
            tables.sort();
            assert_eq!(
                tables,
                [
                    "_ItemToRepair",
                    "bikes",
                    "customers",
                    "items",
                    "repair_events",
                    "repairs",
                    "transactions",
                    "users"
                ],
                "{d:?}"
            );
            let ddl = f.ddl();
            assert!(
                ddl.after_load
                    .iter()
                    .any(|s| s.contains("transactions_occurred_at_idx")),
                "{d:?}"
            );
            assert!(
                ddl.before_load
                    .iter()
                    .all(|s| !s.to_ascii_uppercase().starts_with("CREATE INDEX"))
            );
        }
        assert_eq!(
            flavour(Dialect::Postgres).enum_types(),
            ["Role", "RepairStatus", "TransactionKind"]
        );
    }

    #[test]
    fn migration_selection() {
        let f = flavour(Dialect::Postgres);
        assert_eq!(
            f.select(&MigrationSelection::All).unwrap(),
            Recorded {
                prisma: 1,
                drizzle: 2
            }
        );
        assert_eq!(
            f.select(&MigrationSelection::UpTo("0000_init".into()))
                .unwrap(),
            Recorded {
                prisma: 1,
                drizzle: 1
            }
        );
        assert_eq!(
            f.select(&MigrationSelection::UpTo("20250301120000_init".into()))
                .unwrap(),
            Recorded {
                prisma: 1,
                drizzle: 0
            }
        );
        let e = f
            .select(&MigrationSelection::UpTo("nope".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("0001_transactions_occurred_at_idx"), "{e}");
    }
}
