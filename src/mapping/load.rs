//! One side of `parity.toml` → its [`Mapping`]: picks the Prisma or Drizzle
//! reader by `orm` and by what the files hold, and checks the mapping was
//! written for the database the side's URL points at.
//!
//! Shared by every command that needs both mappings (`schema`, `check`,
//! `timing`, `run`); pair them with [`crate::plan::build`]. A `catalog` side
//! has no mapping file: its mapping is read live by
//! [`crate::db::catalog::read_catalog`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::config::Side;
use crate::mapping::{Mapping, Orm, drizzle, prisma};

/// Loads the mapping a config side names and checks its dialect against the
/// side's URL. Errors are one line naming the file and the fix.
pub fn load_side(side: &Side) -> Result<Mapping> {
    let mapping = load_files(side.orm, &side.mapping).with_context(|| {
        format!(
            "cannot load the {} mapping ({} side)",
            side.orm.as_str(),
            side.name
        )
    })?;
    if let Some(url) = &side.url {
        let want = crate::db::dialect_of(url)?;
        if want != mapping.dialect {
            bail!(
                "the {} side's mapping {} is for {} but its url {} is {}; point mapping at the {} schema or fix url",
                side.name,
                show_paths(&side.mapping),
                mapping.dialect.as_str(),
                url.redacted(),
                want.as_str(),
                want.as_str()
            );
        }
    }
    Ok(mapping)
}

/// Loads mapping files for an ORM: Prisma takes one `.prisma` file, a folder
/// of them or a DMMF `.json`; Drizzle takes a snapshot, the exporter JSON,
/// both, or a drizzle folder.
pub fn load_files(orm: Orm, paths: &[PathBuf]) -> Result<Mapping> {
    match orm {
        Orm::Catalog => {
            bail!(
                "orm = \"catalog\" has no mapping file: its mapping is read from the database; \
                 only `parity schema` reads a catalog side. For check, timing and run set \
                 orm = \"prisma\" or \"drizzle\" with mapping = \"…\" on both sides, or compare \
                 two databases by their live catalogs with `parity backup --source URL --target URL`"
            )
        }
        Orm::Drizzle => {
            for p in paths {
                if looks_like_prisma(p) {
                    bail!(
                        "{} is a Prisma schema but the side says orm = \"drizzle\"; set orm = \"prisma\" or point mapping at the drizzle-kit snapshot",
                        p.display()
                    );
                }
            }
            Ok(drizzle::load_paths(paths)?)
        }
        Orm::Prisma => {
            let [path] = paths else {
                bail!(
                    "orm = \"prisma\" takes one mapping (a schema.prisma file, a folder of .prisma files or a DMMF .json), got {}",
                    paths.len()
                );
            };
            if drizzle_kind(path).is_some() {
                bail!(
                    "{} is a Drizzle file but the side says orm = \"prisma\"; set orm = \"drizzle\" or point mapping at schema.prisma",
                    path.display()
                );
            }
            if !path.exists() {
                bail!(
                    "{} does not exist; check the mapping path in parity.toml",
                    path.display()
                );
            }
            prisma::load_path(path).map_err(|e| anyhow!(one_line(&e.to_string())))
        }
    }
}

/// `parity schema --show-mapping PATH`: one mapping as resolved, in the
/// corpus `tables.json` shape, whichever ORM the file belongs to.
pub fn show_mapping_json(path: &Path) -> Result<Value> {
    if !path.exists() {
        bail!(
            "{} does not exist; pass a schema.prisma file or folder, a DMMF .json, a drizzle-kit snapshot or the exporter's mapping.json",
            path.display()
        );
    }
    if drizzle_kind(path).is_some() || is_drizzle_folder(path) {
        return Ok(drizzle::show_mapping_json(path)?);
    }
    prisma::show_mapping_json(path).map_err(|e| anyhow!(one_line(&e.to_string())))
}

/// What Drizzle file `path` is, when it is a readable JSON one.
pub fn drizzle_kind(path: &Path) -> Option<drizzle::FileKind> {
    if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
        return None;
    }
    let v = drizzle::read_json(path).ok()?;
    drizzle::file_kind(&v)
}

fn is_drizzle_folder(path: &Path) -> bool {
    path.is_dir()
        && (path.join("meta").join("_journal.json").is_file()
            || path.join("_journal.json").is_file())
}

fn looks_like_prisma(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("prisma")
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Multi-problem Prisma errors come as several lines; the first line with a
/// count keeps the message to one line.
fn one_line(s: &str) -> String {
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_string();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        first
    } else {
        format!("{} {}", first, rest.join("; "))
    }
}

/// Reads a text file users hand to parity (config, schema, snapshot,
/// queries file). The error says what is wrong with it in one phrase:
/// "not UTF-8 text at byte N" for binary garbage, "is a directory, not a
/// file" for a folder, else the OS's words.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    if path.is_dir() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "is a directory, not a file",
        ));
    }
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!("not UTF-8 text at byte {}", e.utf8_error().valid_up_to()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DbUrl;

    fn side(orm: Orm, paths: Vec<PathBuf>, url: Option<&str>) -> Side {
        Side {
            name: "target".into(),
            orm,
            url: url.map(DbUrl::new),
            mapping: paths,
            migrations: None,
            allow_writes: false,
        }
    }

    #[test]
    fn dialect_must_match_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0000_snapshot.json");
        std::fs::write(
            &p,
            r#"{"version":"6","dialect":"sqlite","id":"a","prevId":"b","tables":{"t":{"name":"t","columns":{"id":{"name":"id","type":"integer","primaryKey":true,"notNull":true}},"indexes":{},"foreignKeys":{},"compositePrimaryKeys":{},"uniqueConstraints":{}}},"enums":{}}"#,
        )
        .unwrap();
        let ok = load_side(&side(Orm::Drizzle, vec![p.clone()], Some("sqlite:x.db"))).unwrap();
        assert_eq!(ok.tables.len(), 1);
        let e = load_side(&side(
            Orm::Drizzle,
            vec![p.clone()],
            Some("postgres://h/db"),
        ))
        .unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("is for sqlite") && msg.contains("postgresql"),
            "{msg}"
        );
        let e = load_side(&side(Orm::Prisma, vec![p], None)).unwrap_err();
        assert!(format!("{e:#}").contains("set orm = \"drizzle\""));
    }

    #[test]
    fn missing_files_name_the_path() {
        let e = load_side(&side(
            Orm::Drizzle,
            vec![PathBuf::from("/nope/x.json")],
            None,
        ))
        .unwrap_err();
        assert!(format!("{e:#}").contains("/nope/x.json"));
        let e = load_side(&side(
            Orm::Prisma,
            vec![PathBuf::from("/nope/s.prisma")],
            None,
        ))
        .unwrap_err();
        assert!(format!("{e:#}").contains("/nope/s.prisma does not exist"));
    }
}
