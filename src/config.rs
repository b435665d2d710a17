//! `parity.toml` + environment → validated settings.
//!
//! Owns: reading the config file, `${VAR}` interpolation from the
//! environment, resolving paths relative to the config file, and turning
//! every mistake into a [`ConfigError`] that names the file, the line and the
//! fix. It does not open databases or mapping files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::mapping::Orm;

/// A config mistake: where it is and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// `file:line:col`, or just the file when no position is known.
    pub location: String,
    pub message: String,
}

/// A database URL. It never prints its password or its full text: reports
/// and errors show [`DbUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

impl DbUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DbUrl(url.into())
    }
    /// The full URL, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `postgres://host:5432/db` — scheme, host, port and database only.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
    pub fn scheme(&self) -> &str {
        // Something that is not a scheme (`role:password@host`, a typo'd
        // URL) is never echoed: it may hold a user name or a password.
        match self.0.split_once("://") {
            Some((s, _)) if is_scheme(s) => s,
            _ => match self.0.split_once(':') {
                Some((s, _)) if KNOWN_SCHEMES.contains(&s) => s,
                _ => "",
            },
        }
    }
    /// The backend this URL points at, from its scheme alone (no I/O);
    /// `None` for a scheme parity has no backend for.
    pub fn dialect(&self) -> Option<crate::mapping::Dialect> {
        use crate::mapping::Dialect;
        match self.scheme() {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Drops user, password and query string from a URL. A password may hold
/// an unencoded `#`, `?`, `/` or `@`, so the user part ends at the last
/// `@`, found before anything else is cut (issue 10).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // sqlite:path: the scheme and file name only. Anything else that
        // does not parse is never echoed past its scheme.
        return match url.split_once(':') {
            Some((scheme, path)) if scheme == "sqlite" => {
                let path = path.split('?').next().unwrap_or("");
                let name = Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{scheme}:{name}")
            }
            Some((scheme, _)) if KNOWN_SCHEMES.contains(&scheme) => format!("{scheme}:…"),
            _ => "<url>".to_string(),
        };
    };
    if !is_scheme(scheme) {
        return "<url>".to_string();
    }
    let host_and_path = match rest.rfind('@') {
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    let host_and_path = host_and_path.split(['?', '#']).next().unwrap_or("");
    if scheme == "sqlite" {
        let name = Path::new(host_and_path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return format!("sqlite:{name}");
    }
    format!("{scheme}://{host_and_path}")
}

const KNOWN_SCHEMES: &[&str] = &["postgres", "postgresql", "mysql", "mariadb", "sqlite"];

fn is_scheme(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
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

#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub jobs: usize,
    pub chunk_rows: usize,
    pub max_differences: usize,
    pub statement_timeout_seconds: u64,
    /// Read a same-database, same-table pair once for both mappings.
    pub share_reads: bool,
    /// How long any statement waits for a lock (another session's ALTER,
    /// LOCK TABLE, …) before that table becomes an error row naming the
    /// lock. 0 waits as long as the statement timeout allows.
    pub lock_timeout_seconds: u64,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            jobs: 4,
            chunk_rows: 20_000,
            max_differences: 1000,
            statement_timeout_seconds: 600,
            share_reads: true,
            lock_timeout_seconds: crate::db::DEFAULT_LOCK_TIMEOUT_SECONDS,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TimingSettings {
    pub iterations: usize,
    pub warmup: usize,
    pub max_slowdown: f64,
    pub min_time_seconds: f64,
    pub concurrency: usize,
    /// Independent measuring blocks per operation (fresh sessions and a
    /// warm-up each); the interval comes from the spread between them.
    pub blocks: usize,
}

/// `[timing] blocks` when the config does not say (see `timing::runner`).
pub const DEFAULT_TIMING_BLOCKS: usize = 10;

impl Default for TimingSettings {
    fn default() -> Self {
        TimingSettings {
            iterations: 400,
            warmup: 10,
            max_slowdown: 0.10,
            min_time_seconds: 0.0,
            concurrency: 1,
            blocks: DEFAULT_TIMING_BLOCKS,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SchemaSettings {
    /// Finding codes CI accepts (reported, but they do not fail the run).
    pub allow: Vec<String>,
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

// ---- raw file shape -------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    source: Option<RawSide>,
    target: Option<RawSide>,
    #[serde(default)]
    repository: Vec<RawRepository>,
    #[serde(default)]
    table: Vec<RawTable>,
    #[serde(default)]
    pair: Vec<RawPair>,
    check: Option<RawCheck>,
    timing: Option<RawTiming>,
    schema: Option<RawSchema>,
    global_flag: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    name: Option<String>,
    orm: Spanned<String>,
    url: Option<Spanned<String>>,
    mapping: Option<Spanned<OneOrMany>>,
    migrations: Option<Spanned<String>>,
    #[serde(default)]
    allow_writes: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    name: String,
    flag: Option<String>,
    #[serde(default)]
    tables: Vec<Spanned<String>>,
    queries: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: Spanned<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(rename = "where")]
    where_clause: Option<Spanned<String>>,
    #[serde(default)]
    tolerance: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    source: String,
    target: String,
    #[serde(default)]
    columns: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    jobs: Option<Spanned<i64>>,
    chunk_rows: Option<Spanned<i64>>,
    max_differences: Option<Spanned<i64>>,
    statement_timeout_seconds: Option<Spanned<i64>>,
    share_reads: Option<bool>,
    lock_timeout_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    iterations: Option<Spanned<i64>>,
    warmup: Option<Spanned<i64>>,
    max_slowdown: Option<Spanned<f64>>,
    min_time: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    blocks: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    #[serde(default)]
    allow: Vec<String>,
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

/// Parses config text; `env` looks up `${VAR}`s (injectable for tests).
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let at = |span: Option<std::ops::Range<usize>>| -> String {
        match span {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                format!("{file}:{line}:{col}")
            }
            None => file.clone(),
        }
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        location: at(e.span()),
        message: format!("{}; fix the TOML there", e.message().trim_end()),
    })?;
    let dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let interp = |s: &Spanned<String>| -> Result<String, ConfigError> {
        interpolate(s.get_ref(), env).map_err(|var| ConfigError {
            location: at(Some(s.span())),
            message: format!(
                "environment variable {var} is not set; export {var}, or write the value without ${{{var}}}"
            ),
        })
    };
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let side = |raw: Option<RawSide>, which: &str| -> Result<Side, ConfigError> {
        let raw = raw.ok_or_else(|| ConfigError {
            location: file.clone(),
            message: format!(
                "missing [{which}] section; add [{which}] with orm, url and mapping (see parity.example.toml)"
            ),
        })?;
        let orm = match raw.orm.get_ref().as_str() {
            "prisma" => Orm::Prisma,
            "drizzle" => Orm::Drizzle,
            "catalog" => Orm::Catalog,
            other => {
                return Err(ConfigError {
                    location: at(Some(raw.orm.span())),
                    message: format!(
                        "unknown orm \"{other}\" in [{which}]; use \"prisma\", \"drizzle\" or \"catalog\""
                    ),
                });
            }
        };
        let url = match &raw.url {
            Some(u) => {
                let value = interp(u)?;
                if !(value.starts_with("postgres://")
                    || value.starts_with("postgresql://")
                    || value.starts_with("mysql://")
                    || value.starts_with("mariadb://")
                    || value.starts_with("sqlite:"))
                {
                    return Err(ConfigError {
                        location: at(Some(u.span())),
                        message: format!(
                            "[{which}] url is not a database URL (got {}); use postgres://…, mysql://… or sqlite:PATH",
                            redact_url(&value)
                        ),
                    });
                }
                Some(DbUrl::new(value))
            }
            None => None,
        };
        let mapping = match &raw.mapping {
            None => Vec::new(),
            Some(m) => {
                let list = match m.get_ref() {
                    OneOrMany::One(s) => vec![s.clone()],
                    OneOrMany::Many(v) => v.clone(),
                };
                let mut out = Vec::new();
                for p in list {
                    let value = interpolate(&p, env).map_err(|var| ConfigError {
                        location: at(Some(m.span())),
                        message: format!("environment variable {var} is not set; export it"),
                    })?;
                    out.push(resolve(&value));
                }
                out
            }
        };
        if mapping.is_empty() && orm != Orm::Catalog {
            return Err(ConfigError {
                location: at(Some(raw.orm.span())),
                message: format!(
                    "[{which}] has orm = \"{}\" but no mapping; add mapping = \"path/to/schema\"",
                    orm.as_str()
                ),
            });
        }
        let migrations = match &raw.migrations {
            Some(m) => Some(resolve(&interp(m)?)),
            None => None,
        };
        Ok(Side {
            name: raw.name.unwrap_or_else(|| which.to_string()),
            orm,
            url,
            mapping,
            migrations,
            allow_writes: raw.allow_writes,
        })
    };
    let source = side(raw.source, "source")?;
    let target = side(raw.target, "target")?;

    let mut locations = Locations::default();
    let mut repositories = Vec::new();
    for r in raw.repository {
        if repositories.iter().any(|x: &Repository| x.name == r.name) {
            return Err(ConfigError {
                location: file.clone(),
                message: format!(
                    "[[repository]] \"{}\" appears twice; give each rollout phase one entry",
                    r.name
                ),
            });
        }
        for t in &r.tables {
            locations
                .repository_table
                .entry((r.name.clone(), t.get_ref().clone()))
                .or_insert_with(|| at(Some(t.span())));
        }
        repositories.push(Repository {
            name: r.name,
            flag: r.flag,
            tables: r.tables.into_iter().map(Spanned::into_inner).collect(),
            queries: r.queries.map(|q| resolve(&q)),
        });
    }

    let mut tables = Vec::new();
    for t in raw.table {
        locations
            .table
            .entry(t.name.get_ref().clone())
            .or_insert_with(|| at(Some(t.name.span())));
        let name = t.name.into_inner();
        let where_clause = match &t.where_clause {
            Some(w) => Some(interp(w)?),
            None => None,
        };
        let mut tolerance = BTreeMap::new();
        for (col, v) in t.tolerance {
            if let Err(msg) = validate_tolerance(v.get_ref()) {
                return Err(ConfigError {
                    location: at(Some(v.span())),
                    message: format!("tolerance for {name}.{col}: {msg}"),
                });
            }
            tolerance.insert(col, v.into_inner());
        }
        tables.push(TableOverride {
            name,
            key: t.key,
            ignore: t.ignore,
            where_clause,
            tolerance,
        });
    }

    let pairs = raw
        .pair
        .into_iter()
        .map(|p| PairOverride {
            source: p.source,
            target: p.target,
            columns: p.columns,
        })
        .collect();

    // One range check for the file, the flags and the env (crate::limits);
    // the message keeps the "[section] key must be at least …" start.
    let ranged = |section: &str,
                  key: &str,
                  v: Option<Spanned<i64>>,
                  limit: crate::limits::Limit|
     -> Result<Option<u64>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let limit = crate::limits::Limit { name: "", ..limit };
        limit
            .check(i128::from(*v.get_ref()))
            .map(Some)
            .map_err(|m| ConfigError {
                location: at(Some(v.span())),
                message: format!("[{section}] {key}{m}"),
            })
    };
    let mut check = CheckSettings::default();
    if let Some(c) = raw.check {
        use crate::limits::*;
        if let Some(j) = ranged("check", "jobs", c.jobs, JOBS)? {
            check.jobs = j as usize;
        }
        if let Some(n) = ranged("check", "chunk_rows", c.chunk_rows, CHUNK_ROWS)? {
            check.chunk_rows = n as usize;
        }
        if let Some(m) = ranged(
            "check",
            "max_differences",
            c.max_differences,
            MAX_DIFFERENCES,
        )? {
            check.max_differences = m as usize;
        }
        if let Some(s) = ranged(
            "check",
            "statement_timeout_seconds",
            c.statement_timeout_seconds,
            STATEMENT_TIMEOUT_SECONDS,
        )? {
            check.statement_timeout_seconds = s;
        }
        if let Some(s) = ranged(
            "check",
            "lock_timeout_seconds",
            c.lock_timeout_seconds,
            LOCK_TIMEOUT_SECONDS,
        )? {
            check.lock_timeout_seconds = s;
        }
        if let Some(s) = c.share_reads {
            check.share_reads = s;
        }
    }

    let mut timing = TimingSettings::default();
    if let Some(t) = raw.timing {
        if let Some(i) = ranged(
            "timing",
            "iterations",
            t.iterations,
            crate::limits::ITERATIONS,
        )? {
            timing.iterations = i as usize;
        }
        if let Some(w) = ranged("timing", "warmup", t.warmup, crate::limits::WARMUP)? {
            timing.warmup = w as usize;
        }
        if let Some(m) = t.max_slowdown {
            let v = *m.get_ref();
            if !(0.0..=10.0).contains(&v) {
                return Err(ConfigError {
                    location: at(Some(m.span())),
                    message: format!(
                        "[timing] max_slowdown {v} is out of range; use a fraction such as 0.10 for 10%"
                    ),
                });
            }
            timing.max_slowdown = v;
        }
        if let Some(m) = t.min_time {
            timing.min_time_seconds =
                parse_duration_seconds(m.get_ref()).ok_or_else(|| ConfigError {
                    location: at(Some(m.span())),
                    message: format!(
                        "[timing] min_time \"{}\" is not a duration; write e.g. \"5s\" or \"500ms\"",
                        m.get_ref()
                    ),
                })?;
        }
        if let Some(c) = ranged(
            "timing",
            "concurrency",
            t.concurrency,
            crate::limits::CONCURRENCY,
        )? {
            timing.concurrency = c as usize;
        }
        if let Some(b) = t.blocks {
            if *b.get_ref() == 0 {
                return Err(ConfigError {
                    location: at(Some(b.span())),
                    message: "[timing] blocks must be at least 1".into(),
                });
            }
            timing.blocks = b.into_inner();
        }
    }

    let schema = SchemaSettings {
        allow: raw.schema.map(|s| s.allow).unwrap_or_default(),
    };

    Ok(Config {
        path: path.to_path_buf(),
        dir,
        source,
        target,
        repositories,
        tables,
        pairs,
        check,
        timing,
        schema,
        global_flag: raw.global_flag.filter(|f| !f.trim().is_empty()),
        locations,
    })
}

fn validate_tolerance(v: &toml::Value) -> Result<(), String> {
    match v {
        toml::Value::Float(f) if *f >= 0.0 => Ok(()),
        toml::Value::Integer(i) if *i >= 0 => Ok(()),
        toml::Value::String(s) => {
            let s = s.trim();
            if let Some(p) = s.strip_suffix('%') {
                return p
                    .trim()
                    .parse::<f64>()
                    .map(|_| ())
                    .map_err(|_| format!("\"{s}\" is not a percentage; write e.g. \"1%\""));
            }
            parse_duration_seconds(s).map(|_| ()).ok_or_else(|| {
                format!("\"{s}\" is not a tolerance; write a number (0.005), a percentage (\"1%\") or a duration (\"1ms\")")
            })
        }
        _ => Err(
            "write a non-negative number (0.005), a percentage (\"1%\") or a duration (\"1ms\")"
                .into(),
        ),
    }
}

/// `"5s"`, `"500ms"`, `"250us"`, `"1m"` → seconds.
pub fn parse_duration_seconds(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some(n * factor)
}

/// Replaces every `${VAR}` from `env`; returns the first missing name.
pub fn interpolate(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = &after[..end];
        match env(name) {
            Some(v) => out.push_str(&v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
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
    fn urls_never_show_passwords() {
        let c = parse(Path::new("parity.toml"), GOOD, &env).unwrap();
        let url = c.source.url.unwrap();
        assert_eq!(url.redacted(), "postgres://db.internal:5432/shop");
        assert!(!format!("{url} {url:?}").contains("s3cret"));
        assert_eq!(
            redact_url("sqlite:/tmp/x/shop.db?mode=ro"),
            "sqlite:shop.db"
        );
        assert_eq!(redact_url("sqlite:///tmp/x/shop.db"), "sqlite:shop.db");
        // Issue 10: unencoded #, ?, / and @ in a password.
        for u in [
            "postgres://role:Hx7Qw#x@db:5432/shop",
            "postgres://role:Hx?7Qw@db:5432/shop",
            "postgres://role:H/x@7Qw@db:5432/shop?sslmode=require",
        ] {
            assert_eq!(redact_url(u), "postgres://db:5432/shop", "{u}");
        }
        assert_eq!(redact_url("postgres:role:Hx7Qw@db"), "postgres:…");
        assert_eq!(redact_url("role:Hx7Qw@db"), "<url>");
        assert_eq!(DbUrl::new("role:Hx7Qw@db").scheme(), "");
        assert_eq!(redact_url("not a url at all"), "<url>");
    }

    #[test]
    fn missing_env_var_names_line_and_fix() {
        let text = "[source]\norm = \"prisma\"\nmapping = \"s.prisma\"\nurl = \"${NOPE_URL}\"\n[target]\norm=\"catalog\"\n";
        let e = parse(Path::new("p.toml"), text, &env).unwrap_err();
        assert_eq!(e.location, "p.toml:4:7");
        assert!(e.message.contains("NOPE_URL is not set"), "{e}");
    }

    #[test]
    fn unknown_orm_and_unknown_key_are_located() {
        let text = "[source]\norm = \"prisme\"\nmapping = \"x\"\n[target]\norm = \"catalog\"\n";
        let e = parse(Path::new("p.toml"), text, &env).unwrap_err();
        assert_eq!(e.location, "p.toml:2:7");
        assert!(e.message.contains("\"prisma\", \"drizzle\" or \"catalog\""));

        let text = "[source]\norm = \"catalog\"\n[target]\norm = \"catalog\"\n[check]\njobz = 3\n";
        let e = parse(Path::new("p.toml"), text, &env).unwrap_err();
        assert!(e.location.starts_with("p.toml:6:"), "{e}");
        assert!(e.message.contains("jobz"), "{e}");
    }

    #[test]
    fn missing_sections_and_bad_values_are_errors() {
        let e = parse(Path::new("p.toml"), "[source]\norm=\"catalog\"\n", &env).unwrap_err();
        assert!(e.message.contains("missing [target]"));
        let e = parse(
            Path::new("p.toml"),
            "[source]\norm=\"catalog\"\nurl=\"http://x\"\n[target]\norm=\"catalog\"\n",
            &env,
        )
        .unwrap_err();
        assert!(e.message.contains("not a database URL"), "{e}");
        let e = parse(
            Path::new("p.toml"),
            "[source]\norm=\"prisma\"\n[target]\norm=\"catalog\"\n",
            &env,
        )
        .unwrap_err();
        assert!(e.message.contains("no mapping"), "{e}");
        let e = parse(
            Path::new("p.toml"),
            "[source]\norm=\"catalog\"\n[target]\norm=\"catalog\"\n[[table]]\nname=\"t\"\ntolerance={a=\"soon\"}\n",
            &env,
        )
        .unwrap_err();
        assert!(e.location.starts_with("p.toml:7:"), "{e}");
        let e = parse(Path::new("p.toml"), "[source\n", &env).unwrap_err();
        assert!(e.location.starts_with("p.toml:1:"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_seconds("5s"), Some(5.0));
        assert_eq!(parse_duration_seconds("500ms"), Some(0.5));
        assert_eq!(parse_duration_seconds("1.5m"), Some(90.0));
        assert_eq!(parse_duration_seconds("soon"), None);
    }
}
