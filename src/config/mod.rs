//! `parity.toml` + environment → validated settings.
//!
//! Owns: reading the config file, `${VAR}` interpolation from the
//! environment, resolving paths relative to the config file, and turning
//! every mistake into a [`ConfigError`] that names the file, the line and the
//! fix. It does not open databases or mapping files.
//!
//! `file` reads the text, `settings` holds the `[check]`/`[timing]`/`[schema]`
//! settings and their defaults, `url` the database URL and its redaction;
//! this file holds the validated [`Config`] and where it is found.

mod file;
mod settings;
mod url;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::mapping::Orm;

pub use file::{interpolate, parse};
pub use settings::{
    CheckMode, CheckSettings, DEFAULT_LOCK_TIMEOUT_SECONDS, DEFAULT_TIMING_BLOCKS, SchemaSettings,
    TimingSettings, parse_duration_seconds,
};
pub use url::{DbUrl, KNOWN_SCHEMES, UrlArgError, redact_url};

/// A config mistake: where it is and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// `file:line:col`, or just the file when no position is known.
    pub location: String,
    pub message: String,
}

/// One side of the comparison: an ORM mapping over a database.
#[derive(Debug, Clone)]
pub struct Side {
    pub name: String,
    pub orm: Orm,
    pub url: Option<DbUrl>,
    /// Mapping files, resolved against the config's folder.
    pub mapping: Vec<PathBuf>,
    pub migrations: Option<PathBuf>,
    pub allow_writes: bool,
}

impl Side {
    /// Where this side reads, fit to print: the redacted URL, or
    /// `(no url)`.
    pub fn database(&self) -> String {
        self.url
            .as_ref()
            .map(DbUrl::redacted)
            .unwrap_or_else(|| "(no url)".into())
    }
}

#[derive(Debug, Clone)]
pub struct Repository {
    pub name: String,
    pub flag: Option<String>,
    pub tables: Vec<String>,
    pub queries: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct TableOverride {
    pub name: String,
    pub key: Vec<String>,
    pub ignore: Vec<String>,
    pub where_clause: Option<String>,
    /// column → tolerance as written (`0.005`, `"1%"`, `"1ms"`); `canon` parses it.
    pub tolerance: BTreeMap<String, toml::Value>,
}

/// `[[pair]]`: the target renamed a table (and maybe columns).
#[derive(Debug, Clone)]
pub struct PairOverride {
    pub source: String,
    pub target: String,
    /// source column → target column.
    pub columns: BTreeMap<String, String>,
}

/// The validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Folder relative paths resolve against.
    pub dir: PathBuf,
    pub source: Side,
    pub target: Side,
    pub repositories: Vec<Repository>,
    pub tables: Vec<TableOverride>,
    pub pairs: Vec<PairOverride>,
    pub check: CheckSettings,
    pub timing: TimingSettings,
    pub schema: SchemaSettings,
    /// `global_flag`: the flag the last rollout phase flips once every
    /// repository is READY (e.g. `USE_DRIZZLE`); `run` ends with its verdict.
    pub global_flag: Option<String>,
    /// Where names were written in the file, for errors found later.
    pub locations: Locations,
}

/// `file:line:col` of names in the config file, for mistakes only the
/// planner can see (a table neither mapping has).
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// `[[table]]` name → where its `name` is.
    pub table: BTreeMap<String, String>,
    /// (`[[repository]]` name, table) → where that table is in its `tables`.
    pub repository_table: BTreeMap<(String, String), String>,
}

impl Config {
    /// The config file's name as the user gave it (e.g. `typo5.toml`).
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// `file:line:col` of a `[[table]]` name, or the file.
    pub fn location_of_table(&self, name: &str) -> String {
        self.locations
            .table
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// `file:line:col` of a table in a `[[repository]]`'s `tables`, or the file.
    pub fn location_of_repository_table(&self, repository: &str, table: &str) -> String {
        self.locations
            .repository_table
            .get(&(repository.to_string(), table.to_string()))
            .cloned()
            .unwrap_or_else(|| self.path.display().to_string())
    }

    pub fn table_override(&self, physical: &str) -> Option<&TableOverride> {
        self.tables.iter().find(|t| {
            t.name == physical
                || crate::mapping::split_qualified(&t.name).1 == physical
                || crate::mapping::split_qualified(physical).1 == t.name
        })
    }

    pub fn repository(&self, name: &str) -> Option<&Repository> {
        self.repositories.iter().find(|r| r.name == name)
    }
}

/// Reads and validates a config file, taking `${VAR}` from the process
/// environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::mapping::load::read_text(path).map_err(|e| ConfigError {
        location: path.display().to_string(),
        message: format!("cannot read the config file ({e}); pass an existing file with --config"),
    })?;
    parse(path, &text, &|name| std::env::var(name).ok())
}

/// The config for a command that needs one: `--config`/`PARITY_CONFIG`, or
/// `./parity.toml`.
pub fn load_required(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    match explicit {
        Some(p) => load(p),
        None => {
            let p = Path::new("parity.toml");
            if !p.exists() {
                return Err(ConfigError {
                    location: "parity.toml".into(),
                    message:
                        "no config file here; pass --config FILE (start from parity.example.toml)"
                            .into(),
                });
            }
            load(p)
        }
    }
}

/// The config for a command that can run without one: `None` when the
/// default file is absent; a file named explicitly must exist.
pub fn load_optional(explicit: Option<&Path>) -> Result<Option<Config>, ConfigError> {
    match explicit {
        Some(p) => load(p).map(Some),
        None if Path::new("parity.toml").exists() => load(Path::new("parity.toml")).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DATABASE_URL" => Some("postgres://app:s3cret@db.internal:5432/shop".into()),
            _ => None,
        }
    }

    const GOOD: &str = r#"
[source]
name = "prisma"
orm = "prisma"
url = "${DATABASE_URL}"
mapping = "prisma/schema.prisma"
migrations = "prisma/migrations"

[target]
orm = "drizzle"
url = "${DATABASE_URL}"
mapping = ["drizzle/meta/0001_snapshot.json", "drizzle/mapping.json"]
allow_writes = true

[[repository]]
name = "user"
flag = "drizzle_user_repo"
tables = ["users"]
queries = "queries/user"

[[table]]
name = "transactions"
key = ["id"]
ignore = ["updated_at"]
where = "occurred_at >= '2024-01-01'"
tolerance = { amount = 0.005, occurred_at = "1ms" }

[check]
jobs = 2
chunk_rows = 1000

[timing]
iterations = 50
max_slowdown = 0.2
"#;

    #[test]
    fn parses_the_documented_shape() {
        let c = parse(Path::new("/app/parity.toml"), GOOD, &env).unwrap();
        assert_eq!(c.source.orm, Orm::Prisma);
        assert_eq!(c.target.name, "target");
        assert!(c.target.allow_writes && !c.source.allow_writes);
        assert_eq!(
            c.source.url.as_ref().unwrap().expose(),
            "postgres://app:s3cret@db.internal:5432/shop"
        );
        assert_eq!(
            c.source.mapping,
            vec![PathBuf::from("/app/prisma/schema.prisma")]
        );
        assert_eq!(c.target.mapping.len(), 2);
        assert_eq!(c.repositories[0].flag.as_deref(), Some("drizzle_user_repo"));
        assert_eq!(
            c.repositories[0].queries.as_deref(),
            Some(Path::new("/app/queries/user"))
        );
        let t = c.table_override("transactions").unwrap();
        assert_eq!(t.ignore, vec!["updated_at"]);
        assert_eq!(t.tolerance.len(), 2);
        assert_eq!(c.check.jobs, 2);
        assert_eq!(c.check.max_differences, 1000);
        assert_eq!(c.timing.iterations, 50);
        // Per block since issue 18: 10 blocks of 10 warm-up rounds each.
        assert_eq!(c.timing.warmup, 10);
        assert_eq!(c.timing.blocks, 10);
    }

    #[test]
    fn a_config_url_never_shows_its_password() {
        let c = parse(Path::new("parity.toml"), GOOD, &env).unwrap();
        let url = c.source.url.clone().unwrap();
        assert_eq!(url.redacted(), "postgres://db.internal:5432/shop");
        assert!(!format!("{url} {url:?}").contains("s3cret"));
        assert_eq!(c.source.database(), "postgres://db.internal:5432/shop");
    }

    /// Each mistake: the config text, where the error must point
    /// (`file:line:col`, or a prefix ending in `:`) and what its message
    /// must say.
    #[test]
    fn mistakes_name_the_place_and_the_fix() {
        for (text, location, message) in [
            (
                "[source]\norm = \"prisma\"\nmapping = \"s.prisma\"\nurl = \"${NOPE_URL}\"\n[target]\norm=\"catalog\"\n",
                "p.toml:4:7",
                "NOPE_URL is not set",
            ),
            (
                "[source]\norm = \"prisme\"\nmapping = \"x\"\n[target]\norm = \"catalog\"\n",
                "p.toml:2:7",
                "\"prisma\", \"drizzle\" or \"catalog\"",
            ),
            (
                "[source]\norm = \"catalog\"\n[target]\norm = \"catalog\"\n[check]\njobz = 3\n",
                "p.toml:6:",
                "jobz",
            ),
            ("[source]\norm=\"catalog\"\n", "p.toml", "missing [target]"),
            (
                "[source]\norm=\"catalog\"\nurl=\"http://x\"\n[target]\norm=\"catalog\"\n",
                "p.toml:3:",
                "not a database URL",
            ),
            (
                "[source]\norm=\"prisma\"\n[target]\norm=\"catalog\"\n",
                "p.toml:2:",
                "no mapping",
            ),
            (
                "[source]\norm=\"catalog\"\n[target]\norm=\"catalog\"\n[[table]]\nname=\"t\"\ntolerance={a=\"soon\"}\n",
                "p.toml:7:",
                "tolerance for t.a",
            ),
            ("[source\n", "p.toml:1:", "fix the TOML there"),
            (
                "[source]\norm=\"catalog\"\n[target]\norm=\"catalog\"\n[check]\njobs = 0\n",
                "p.toml:6:8",
                "[check] jobs must be at least 1",
            ),
            (
                "[source]\norm=\"catalog\"\n[target]\norm=\"catalog\"\n[timing]\nblocks = 0\n",
                "p.toml:6:",
                "[timing] blocks must be at least 1",
            ),
            (
                "[source]\norm=\"catalog\"\n[target]\norm=\"catalog\"\n[check]\nmode = \"push\"\n",
                "p.toml:6:",
                "use \"auto\", \"client\" or \"pushdown\"",
            ),
        ] {
            let e = parse(Path::new("p.toml"), text, &env).unwrap_err();
            if location.ends_with(':') {
                assert!(e.location.starts_with(location), "{text:?}: {e}");
            } else {
                assert_eq!(e.location, location, "{text:?}: {e}");
            }
            assert!(e.message.contains(message), "{text:?}: {e}");
        }
    }
}
