//! One side of `parity.toml` → its [`Mapping`]: the side's mapping files
//! (read by `mapping::load`), checked against the database its URL points
//! at, so a Drizzle snapshot for SQLite never meets a PostgreSQL server.
//!
//! Shared by every command that needs both mappings (`schema`, `check`,
//! `timing`, `run`); pair them with [`crate::plan::build`]. Reads files
//! only: the URL's dialect comes from its scheme
//! ([`crate::config::DbUrl::dialect`]), no database is opened here.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::config::Side;
use crate::mapping::Mapping;
use crate::mapping::load::load_files;

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
    // A URL whose scheme has no backend is refused where it is connected
    // (the config refuses it first): there is no dialect to compare.
    if let Some(url) = &side.url
        && let Some(want) = url.dialect()
        && want != mapping.dialect
    {
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
    Ok(mapping)
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DbUrl;
    use crate::mapping::Orm;

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
        let msg = format!("{e:#}");
        assert!(msg.contains("set orm = \"drizzle\""), "{msg}");
        assert!(
            msg.contains("cannot load the prisma mapping (target side)"),
            "{msg}"
        );
    }
}
