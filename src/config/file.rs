//! `parity.toml` text → [`Config`]: the file's shape (serde, unknown keys
//! refused), `${VAR}` interpolation, paths resolved against the file's
//! folder, and every mistake as a [`ConfigError`] at `file:line:col`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::settings::{RawCheck, RawSchema, RawTiming, parse_duration_seconds};
use super::{
    CheckSettings, Config, ConfigError, DbUrl, Locations, PairOverride, Repository, SchemaSettings,
    Side, TableOverride, TimingSettings, redact_url,
};
use crate::mapping::Orm;

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

/// Turns byte offsets of the file into `file:line:col` errors.
pub(super) struct Locator<'a> {
    file: String,
    text: &'a str,
}

impl Locator<'_> {
    /// `file:line:col` of a byte offset range, or the file alone.
    pub(super) fn at(&self, span: Option<Range<usize>>) -> String {
        match span {
            Some(span) => {
                let (line, col) = line_col(self.text, span.start);
                format!("{}:{line}:{col}", self.file)
            }
            None => self.file.clone(),
        }
    }

    pub(super) fn error(&self, span: Range<usize>, message: String) -> ConfigError {
        ConfigError {
            location: self.at(Some(span)),
            message,
        }
    }
}

/// What every part of the file is read with: where errors point, the
/// environment, and the folder relative paths resolve against.
struct Context<'a> {
    at: Locator<'a>,
    env: &'a dyn Fn(&str) -> Option<String>,
    dir: PathBuf,
}

impl Context<'_> {
    fn interp(&self, s: &Spanned<String>) -> Result<String, ConfigError> {
        interpolate(s.get_ref(), self.env).map_err(|var| {
            self.at.error(
                s.span(),
                format!(
                    "environment variable {var} is not set; export {var}, or write the value without ${{{var}}}"
                ),
            )
        })
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn side(&self, raw: Option<RawSide>, which: &str) -> Result<Side, ConfigError> {
        let raw = raw.ok_or_else(|| ConfigError {
            location: self.at.file.clone(),
            message: format!(
                "missing [{which}] section; add [{which}] with orm, url and mapping (see parity.example.toml)"
            ),
        })?;
        let orm = match raw.orm.get_ref().as_str() {
            "prisma" => Orm::Prisma,
            "drizzle" => Orm::Drizzle,
            "catalog" => Orm::Catalog,
            other => {
                return Err(self.at.error(
                    raw.orm.span(),
                    format!(
                        "unknown orm \"{other}\" in [{which}]; use \"prisma\", \"drizzle\" or \"catalog\""
                    ),
                ));
            }
        };
        let url = match &raw.url {
            Some(u) => Some(self.url(u, which)?),
            None => None,
        };
        let mapping = match &raw.mapping {
            None => Vec::new(),
            Some(m) => {
                let list = match m.get_ref() {
                    OneOrMany::One(s) => std::slice::from_ref(s),
                    OneOrMany::Many(v) => v.as_slice(),
                };
                let mut out = Vec::new();
                for p in list {
                    let value = interpolate(p, self.env).map_err(|var| {
                        self.at.error(
                            m.span(),
                            format!("environment variable {var} is not set; export it"),
                        )
                    })?;
                    out.push(self.resolve(&value));
                }
                out
            }
        };
        if mapping.is_empty() && orm != Orm::Catalog {
            return Err(self.at.error(
                raw.orm.span(),
                format!(
                    "[{which}] has orm = \"{}\" but no mapping; add mapping = \"path/to/schema\"",
                    orm.as_str()
                ),
            ));
        }
        let migrations = match &raw.migrations {
            Some(m) => Some(self.resolve(&self.interp(m)?)),
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
    }

    fn url(&self, u: &Spanned<String>, which: &str) -> Result<DbUrl, ConfigError> {
        let value = self.interp(u)?;
        let known = [
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
            "sqlite:",
        ];
        if !known.iter().any(|k| value.starts_with(k)) {
            return Err(self.at.error(
                u.span(),
                format!(
                    "[{which}] url is not a database URL (got {}); use postgres://…, mysql://… or sqlite:PATH",
                    redact_url(&value)
                ),
            ));
        }
        Ok(DbUrl::new(value))
    }

    fn repositories(
        &self,
        raw: Vec<RawRepository>,
        locations: &mut Locations,
    ) -> Result<Vec<Repository>, ConfigError> {
        let mut repositories: Vec<Repository> = Vec::new();
        for r in raw {
            if repositories.iter().any(|x| x.name == r.name) {
                return Err(ConfigError {
                    location: self.at.file.clone(),
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
                    .or_insert_with(|| self.at.at(Some(t.span())));
            }
            repositories.push(Repository {
                name: r.name,
                flag: r.flag,
                tables: r.tables.into_iter().map(Spanned::into_inner).collect(),
                queries: r.queries.map(|q| self.resolve(&q)),
            });
        }
        Ok(repositories)
    }

    fn table(&self, t: RawTable, locations: &mut Locations) -> Result<TableOverride, ConfigError> {
        locations
            .table
            .entry(t.name.get_ref().clone())
            .or_insert_with(|| self.at.at(Some(t.name.span())));
        let name = t.name.into_inner();
        let where_clause = match &t.where_clause {
            Some(w) => Some(self.interp(w)?),
            None => None,
        };
        let mut tolerance = BTreeMap::new();
        for (col, v) in t.tolerance {
            if let Err(msg) = validate_tolerance(v.get_ref()) {
                return Err(self
                    .at
                    .error(v.span(), format!("tolerance for {name}.{col}: {msg}")));
            }
            tolerance.insert(col, v.into_inner());
        }
        Ok(TableOverride {
            name,
            key: t.key,
            ignore: t.ignore,
            where_clause,
            tolerance,
        })
    }
}

/// Parses config text; `env` looks up `${VAR}`s (injectable for tests).
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let at = Locator {
        file: path.display().to_string(),
        text,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        location: at.at(e.span()),
        message: format!("{}; fix the TOML there", e.message().trim_end()),
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cx = Context { at, env, dir };
    let source = cx.side(raw.source, "source")?;
    let target = cx.side(raw.target, "target")?;
    let mut locations = Locations::default();
    let repositories = cx.repositories(raw.repository, &mut locations)?;
    let tables = raw
        .table
        .into_iter()
        .map(|t| cx.table(t, &mut locations))
        .collect::<Result<Vec<_>, _>>()?;
    let pairs = raw
        .pair
        .into_iter()
        .map(|p| PairOverride {
            source: p.source,
            target: p.target,
            columns: p.columns,
        })
        .collect();
    Ok(Config {
        path: path.to_path_buf(),
        source,
        target,
        repositories,
        tables,
        pairs,
        check: CheckSettings::from_raw(raw.check, &cx.at)?,
        timing: TimingSettings::from_raw(raw.timing, &cx.at)?,
        schema: SchemaSettings::from_raw(raw.schema),
        global_flag: raw.global_flag.filter(|f| !f.trim().is_empty()),
        locations,
        dir: cx.dir,
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
