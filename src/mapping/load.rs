//! Mapping files → a [`Mapping`]: picks the Prisma or Drizzle reader by
//! `orm` and by what the files hold, with one-line errors that name the
//! file and the fix; plus [`read_text`], the one reader of text files users
//! hand to parity.
//!
//! Reads files only: it knows no settings and no database. Loading a config
//! side (its files, checked against its URL's dialect) is
//! `plan::load::load_side`; a `catalog` side has no mapping file (its
//! mapping is read live by `db::catalog::read_catalog`).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use crate::mapping::{Mapping, Orm, drizzle, prisma};

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

    #[test]
    fn missing_files_name_the_path() {
        let e = load_files(Orm::Drizzle, &[PathBuf::from("/nope/x.json")]).unwrap_err();
        assert!(format!("{e:#}").contains("/nope/x.json"));
        let e = load_files(Orm::Prisma, &[PathBuf::from("/nope/s.prisma")]).unwrap_err();
        assert!(format!("{e:#}").contains("/nope/s.prisma does not exist"));
    }
}
