//! The ORMs' migration folders against the rows their migrators recorded.
//!
//! Owns: reading a drizzle-kit folder (`meta/_journal.json` + `<tag>.sql`)
//! and a Prisma `migrations/*/migration.sql` folder with their SHA-256
//! checksums, and matching them against the applied rows the way each
//! ORM's migrator does. Drizzle's migrator matches by `created_at` = the
//! journal entry's `when` (and applies only entries newer than the last
//! applied one); Prisma's by `migration_name`. A missing migration table
//! means none applied. Reads files only: the rows of `__drizzle_migrations`
//! / `_prisma_migrations` are read by `db::migrations` and handed in.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::findings::{Finding, Severity};
use crate::mapping::Orm;

/// One entry of a drizzle-kit journal with its SQL file's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub idx: u64,
    pub tag: String,
    /// The journal's `when`: what the migrator stores as `created_at`.
    pub when: i64,
    /// SHA-256 hex of the whole `<tag>.sql` file; `None` when it is missing.
    pub hash: Option<String>,
}

/// One Prisma migration folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMigration {
    pub name: String,
    /// SHA-256 hex of `migration.sql`.
    pub checksum: String,
    /// The checksum with CRLF/LF swapped: Prisma accepts either.
    pub alt_checksum: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads `<folder>/meta/_journal.json` and hashes each `<tag>.sql`.
pub fn drizzle_journal(folder: &Path) -> Result<Vec<JournalEntry>> {
    let journal = folder.join("meta").join("_journal.json");
    let text = std::fs::read_to_string(&journal).with_context(|| {
        format!(
            "cannot read the drizzle journal {}; point migrations at the drizzle-kit output folder",
            journal.display()
        )
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", journal.display()))?;
    let Some(entries) = v.get("entries").and_then(|e| e.as_array()) else {
        bail!(
            "{} has no \"entries\" list; is it a drizzle-kit journal?",
            journal.display()
        );
    };
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let tag = e
            .get("tag")
            .and_then(|t| t.as_str())
            .with_context(|| format!("{}: entry {i} has no \"tag\"", journal.display()))?
            .to_string();
        let when = e
            .get("when")
            .and_then(|w| w.as_i64().or_else(|| w.as_f64().map(|f| f as i64)))
            .with_context(|| {
                format!("{}: entry {tag} has no numeric \"when\"", journal.display())
            })?;
        let sql = folder.join(format!("{tag}.sql"));
        let hash = std::fs::read(&sql).ok().map(|b| sha256_hex(&b));
        out.push(JournalEntry {
            idx: e.get("idx").and_then(|x| x.as_u64()).unwrap_or(i as u64),
            tag,
            when,
            hash,
        });
    }
    Ok(out)
}

/// Lists `<folder>/*/migration.sql` in name order, with checksums.
pub fn prisma_migrations(folder: &Path) -> Result<Vec<LocalMigration>> {
    let rd = std::fs::read_dir(folder).with_context(|| {
        format!(
            "cannot read the Prisma migrations folder {}; point migrations at prisma/migrations",
            folder.display()
        )
    })?;
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("migration.sql").is_file())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        let bytes = std::fs::read(d.join("migration.sql"))
            .with_context(|| format!("cannot read {}", d.join("migration.sql").display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let alt = if text.contains("\r\n") {
            text.replace("\r\n", "\n")
        } else {
            text.replace('\n', "\r\n")
        };
        out.push(LocalMigration {
            name: d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            checksum: sha256_hex(&bytes),
            alt_checksum: sha256_hex(alt.as_bytes()),
        });
    }
    Ok(out)
}

/// An applied row of `__drizzle_migrations`.
#[derive(Debug, Clone)]
pub struct DrizzleApplied {
    pub hash: String,
    pub created_at: i64,
}

/// An applied row of `_prisma_migrations`.
#[derive(Debug, Clone)]
pub struct PrismaApplied {
    pub name: String,
    pub checksum: String,
    pub finished: bool,
    pub rolled_back: bool,
}

/// What a database records as applied, for one side's ORM
/// (`db::migrations::read_applied`).
#[derive(Debug, Clone)]
pub enum Applied {
    Drizzle {
        /// Where drizzle keeps its table on this backend (named in findings).
        table: String,
        /// `None`: there is no such table.
        rows: Option<Vec<DrizzleApplied>>,
    },
    /// `None`: there is no `_prisma_migrations` table.
    Prisma(Option<Vec<PrismaApplied>>),
    /// A `catalog` side has no migrator.
    Catalog,
}

/// One side's migrations folder, read and hashed.
#[derive(Debug, Clone)]
pub enum Local {
    Drizzle(Vec<JournalEntry>),
    Prisma(Vec<LocalMigration>),
    /// A `catalog` side has no migrations folder to read.
    Catalog,
}

/// How many migrations one side's folder has and how many of them the
/// database records as applied (matched as [`Local::check`] matches them).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MigrationCount {
    /// The side's name (`[source]`/`[target]` `name`).
    pub side: String,
    pub orm: String,
    /// Migrations in the folder (drizzle: journal entries).
    pub found: usize,
    /// Of those, applied in the database (drizzle: a row with the entry's
    /// `created_at`; Prisma: a finished, not rolled back row of that name).
    pub applied: usize,
}

impl Local {
    /// Reads the folder the way `orm`'s migrator does.
    pub fn read(orm: Orm, folder: &Path) -> Result<Local> {
        Ok(match orm {
            Orm::Drizzle => Local::Drizzle(drizzle_journal(folder)?),
            Orm::Prisma => Local::Prisma(prisma_migrations(folder)?),
            Orm::Catalog => Local::Catalog,
        })
    }

    fn orm(&self) -> Orm {
        match self {
            Local::Drizzle(_) => Orm::Drizzle,
            Local::Prisma(_) => Orm::Prisma,
            Local::Catalog => Orm::Catalog,
        }
    }

    /// The folder against the applied rows (read for the same ORM): the
    /// findings, and the counts `parity schema` prints even when all is well.
    pub fn check(&self, side: &str, applied: &Applied) -> (Vec<Finding>, MigrationCount) {
        let mut count = MigrationCount {
            side: side.to_string(),
            orm: self.orm().as_str().to_string(),
            ..MigrationCount::default()
        };
        let findings = match (self, applied) {
            (Local::Drizzle(journal), Applied::Drizzle { table, rows }) => {
                let done = rows.as_deref().unwrap_or(&[]);
                count.found = journal.len();
                count.applied = journal
                    .iter()
                    .filter(|e| done.iter().any(|r| r.created_at == e.when))
                    .count();
                compare_drizzle(side, journal, table, rows.as_deref())
            }
            (Local::Prisma(local), Applied::Prisma(rows)) => {
                let done = rows.as_deref().unwrap_or(&[]);
                count.found = local.len();
                count.applied = local
                    .iter()
                    .filter(|l| {
                        done.iter()
                            .any(|r| r.name == l.name && r.finished && !r.rolled_back)
                    })
                    .count();
                compare_prisma(side, local, rows.as_deref())
            }
            (Local::Catalog, Applied::Catalog) => Vec::new(),
            (local, _) => unreachable!(
                "{} migrations checked against another ORM's rows",
                local.orm().as_str()
            ),
        };
        (findings, count)
    }
}

/// Journal vs applied rows, matched by `created_at` = `when`.
pub fn compare_drizzle(
    side: &str,
    journal: &[JournalEntry],
    table: &str,
    applied: Option<&[DrizzleApplied]>,
) -> Vec<Finding> {
    let rows = applied.unwrap_or(&[]);
    let last = rows.iter().map(|r| r.created_at).max();
    let mut out = Vec::new();
    for e in journal {
        let Some(hash) = &e.hash else {
            out.push(
                Finding::new(
                    "MIGRATION_FILE_MISSING",
                    Severity::Error,
                    format!(
                        "drizzle migration {} is in the journal but {}.sql is missing; restore it from version control",
                        e.tag, e.tag
                    ),
                )
                .side(side),
            );
            continue;
        };
        match rows.iter().find(|r| r.created_at == e.when) {
            None => {
                let never = match last {
                    Some(l) if l > e.when => format!(
                        "; drizzle's migrator applies only entries newer than the last applied one (created_at {l}), so it will never apply this one"
                    ),
                    _ => "; run drizzle-kit migrate".to_string(),
                };
                let where_ = if applied.is_none() {
                    format!("{table} does not exist")
                } else {
                    format!("{table} has no row with created_at = {}", e.when)
                };
                out.push(
                    Finding::new(
                        "MIGRATION_NOT_APPLIED",
                        Severity::Error,
                        format!(
                            "drizzle migration {} (journal when {}) is not applied: {where_}{never}",
                            e.tag, e.when
                        ),
                    )
                    .side(side),
                );
            }
            Some(r) if &r.hash != hash => out.push(
                Finding::new(
                    "MIGRATION_CHECKSUM_MISMATCH",
                    Severity::Error,
                    format!(
                        "drizzle migration {} was applied with hash {} but {}.sql now hashes to {}: the file changed after it was applied",
                        e.tag,
                        short(&r.hash),
                        e.tag,
                        short(hash)
                    ),
                )
                .side(side),
            ),
            Some(_) => {}
        }
    }
    for r in rows {
        if !journal.iter().any(|e| e.when == r.created_at) {
            out.push(
                Finding::new(
                    "MIGRATION_UNKNOWN_APPLIED",
                    Severity::Warning,
                    format!(
                        "{table} has a migration (created_at {}, hash {}) that the journal does not list: applied from another branch or folder",
                        r.created_at,
                        short(&r.hash)
                    ),
                )
                .side(side),
            );
        }
    }
    out
}

/// Local folders vs `_prisma_migrations`, matched by name.
pub fn compare_prisma(
    side: &str,
    local: &[LocalMigration],
    applied: Option<&[PrismaApplied]>,
) -> Vec<Finding> {
    let rows = applied.unwrap_or(&[]);
    let mut out = Vec::new();
    for l in local {
        let mine: Vec<&PrismaApplied> = rows.iter().filter(|r| r.name == l.name).collect();
        let done: Vec<&&PrismaApplied> = mine
            .iter()
            .filter(|r| r.finished && !r.rolled_back)
            .collect();
        let f = if let Some(r) = done.first() {
            if r.checksum != l.checksum && r.checksum != l.alt_checksum {
                Some(Finding::new(
                    "MIGRATION_CHECKSUM_MISMATCH",
                    Severity::Error,
                    format!(
                        "Prisma migration {} was applied with checksum {} but its migration.sql now hashes to {}: the file changed after it was applied",
                        l.name,
                        short(&r.checksum),
                        short(&l.checksum)
                    ),
                ))
            } else {
                None
            }
        } else if mine.iter().any(|r| !r.finished && !r.rolled_back) {
            Some(Finding::new(
                "MIGRATION_NOT_FINISHED",
                Severity::Error,
                format!(
                    "Prisma migration {} started but did not finish (failed); fix it and mark it with prisma migrate resolve",
                    l.name
                ),
            ))
        } else if !mine.is_empty() {
            Some(Finding::new(
                "MIGRATION_ROLLED_BACK",
                Severity::Error,
                format!(
                    "Prisma migration {} is marked rolled back and not applied since; run prisma migrate deploy",
                    l.name
                ),
            ))
        } else {
            let why = if applied.is_none() {
                "_prisma_migrations does not exist"
            } else {
                "no row in _prisma_migrations"
            };
            Some(Finding::new(
                "MIGRATION_NOT_APPLIED",
                Severity::Error,
                format!(
                    "Prisma migration {} is not applied ({why}); run prisma migrate deploy",
                    l.name
                ),
            ))
        };
        if let Some(f) = f {
            out.push(f.side(side));
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for r in rows {
        if !local.iter().any(|l| l.name == r.name) && !seen.contains(&r.name.as_str()) {
            seen.push(&r.name);
            out.push(
                Finding::new(
                    "MIGRATION_UNKNOWN_APPLIED",
                    Severity::Warning,
                    format!(
                        "_prisma_migrations lists {}, which is not in the migrations folder: applied from another branch or folder",
                        r.name
                    ),
                )
                .side(side),
            );
        }
    }
    out
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str, when: i64, hash: &str) -> JournalEntry {
        JournalEntry {
            idx: 0,
            tag: tag.into(),
            when,
            hash: Some(hash.into()),
        }
    }

    #[test]
    fn drizzle_matches_by_created_at() {
        let j = vec![
            entry("0000_a", 100, "h0"),
            entry("0001_b", 200, "h1"),
            entry("0002_c", 300, "h2"),
        ];
        let rows = vec![
            DrizzleApplied {
                hash: "h0".into(),
                created_at: 100,
            },
            DrizzleApplied {
                hash: "changed".into(),
                created_at: 300,
            },
            DrizzleApplied {
                hash: "hx".into(),
                created_at: 400,
            },
        ];
        let f = compare_drizzle("target", &j, "drizzle.__drizzle_migrations", Some(&rows));
        let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "MIGRATION_NOT_APPLIED",
                "MIGRATION_CHECKSUM_MISMATCH",
                "MIGRATION_UNKNOWN_APPLIED"
            ]
        );
        assert!(
            f[0].message.contains("0001_b") && f[0].message.contains("never apply"),
            "{}",
            f[0].message
        );
        let none = compare_drizzle("target", &j, "drizzle.__drizzle_migrations", None);
        assert_eq!(none.len(), 3);
        assert!(none[0].message.contains("does not exist"));
    }

    #[test]
    fn prisma_states() {
        let l = |n: &str, c: &str| LocalMigration {
            name: n.into(),
            checksum: c.into(),
            alt_checksum: format!("{c}-crlf"),
        };
        let local = vec![
            l("1_init", "c1"),
            l("2_more", "c2"),
            l("3_fail", "c3"),
            l("4_rb", "c4"),
            l("5_new", "c5"),
        ];
        let r = |n: &str, c: &str, finished: bool, rolled_back: bool| PrismaApplied {
            name: n.into(),
            checksum: c.into(),
            finished,
            rolled_back,
        };
        let rows = vec![
            r("1_init", "c1-crlf", true, false),
            r("2_more", "other", true, false),
            r("3_fail", "c3", false, false),
            r("4_rb", "c4", false, true),
            r("0_gone", "c0", true, false),
        ];
        let f = compare_prisma("source", &local, Some(&rows));
        let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "MIGRATION_CHECKSUM_MISMATCH",
                "MIGRATION_NOT_FINISHED",
                "MIGRATION_ROLLED_BACK",
                "MIGRATION_NOT_APPLIED",
                "MIGRATION_UNKNOWN_APPLIED"
            ]
        );
    }

    #[test]
    fn reads_a_drizzle_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("meta")).unwrap();
        std::fs::write(
            dir.path().join("meta/_journal.json"),
            r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_init","breakpoints":true},{"idx":1,"version":"7","when":1700000000001,"tag":"0001_gone","breakpoints":true}]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("0000_init.sql"),
            "CREATE TABLE x (id int);\n",
        )
        .unwrap();
        let j = drizzle_journal(dir.path()).unwrap();
        assert_eq!(j[0].when, 1700000000000);
        assert_eq!(
            j[0].hash.as_deref(),
            Some(sha256_hex(b"CREATE TABLE x (id int);\n").as_str())
        );
        assert!(j[1].hash.is_none());
    }
}
