//! The `[check]`, `[timing]` and `[schema]` settings: their defaults (the
//! one home of each default; `db` and `timing` read them from here) and
//! how the file's sections become them, range-checked by `crate::limits`.

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::file::Locator;
use crate::limits::{self, Limit};

/// `[check] lock_timeout_seconds` when the config does not set it.
pub const DEFAULT_LOCK_TIMEOUT_SECONDS: u64 = 5;

/// `[timing] blocks` when the config does not say (see `timing::runner`).
pub const DEFAULT_TIMING_BLOCKS: usize = 10;

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
    /// `[check] mode`: where chunks are hashed (issue 13).
    pub mode: CheckMode,
}

/// Where a keyed table's chunks are compared (`[check] mode`, `--mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    /// Pushdown where it is exact and both sides are PostgreSQL, else client.
    #[default]
    Auto,
    /// Every row shipped and compared in parity.
    Client,
    /// Pushdown; a table that cannot be hashed exactly in SQL runs client,
    /// with the reason in the report.
    Pushdown,
}

impl CheckMode {
    /// `auto`, `client` or `pushdown`.
    pub fn parse(s: &str) -> Option<CheckMode> {
        match s {
            "auto" => Some(CheckMode::Auto),
            "client" => Some(CheckMode::Client),
            "pushdown" => Some(CheckMode::Pushdown),
            _ => None,
        }
    }
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            jobs: 4,
            chunk_rows: 20_000,
            max_differences: 1000,
            statement_timeout_seconds: 600,
            share_reads: true,
            lock_timeout_seconds: DEFAULT_LOCK_TIMEOUT_SECONDS,
            mode: CheckMode::Auto,
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

// ---- the file's sections ---------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    jobs: Option<Spanned<i64>>,
    chunk_rows: Option<Spanned<i64>>,
    max_differences: Option<Spanned<i64>>,
    statement_timeout_seconds: Option<Spanned<i64>>,
    share_reads: Option<bool>,
    lock_timeout_seconds: Option<Spanned<i64>>,
    mode: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTiming {
    iterations: Option<Spanned<i64>>,
    warmup: Option<Spanned<i64>>,
    max_slowdown: Option<Spanned<f64>>,
    min_time: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    blocks: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchema {
    #[serde(default)]
    allow: Vec<String>,
}

/// One range check for the file, the flags and the env (`crate::limits`);
/// the message keeps the "[section] key must be at least …" start.
fn ranged(
    at: &Locator,
    section: &str,
    key: &str,
    value: Option<Spanned<i64>>,
    limit: Limit,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = value else { return Ok(None) };
    Limit { name: "", ..limit }
        .check(i128::from(*v.get_ref()))
        .map(Some)
        .map_err(|m| at.error(v.span(), format!("[{section}] {key}{m}")))
}

impl CheckSettings {
    pub(super) fn from_raw(raw: Option<RawCheck>, at: &Locator) -> Result<Self, ConfigError> {
        let mut s = CheckSettings::default();
        let Some(c) = raw else { return Ok(s) };
        let r = |key: &str, v, limit| ranged(at, "check", key, v, limit);
        s.jobs = r("jobs", c.jobs, limits::JOBS)?.map_or(s.jobs, |v| v as usize);
        s.chunk_rows =
            r("chunk_rows", c.chunk_rows, limits::CHUNK_ROWS)?.map_or(s.chunk_rows, |v| v as usize);
        s.max_differences = r(
            "max_differences",
            c.max_differences,
            limits::MAX_DIFFERENCES,
        )?
        .map_or(s.max_differences, |v| v as usize);
        s.statement_timeout_seconds = r(
            "statement_timeout_seconds",
            c.statement_timeout_seconds,
            limits::STATEMENT_TIMEOUT_SECONDS,
        )?
        .unwrap_or(s.statement_timeout_seconds);
        s.lock_timeout_seconds = r(
            "lock_timeout_seconds",
            c.lock_timeout_seconds,
            limits::LOCK_TIMEOUT_SECONDS,
        )?
        .unwrap_or(s.lock_timeout_seconds);
        s.share_reads = c.share_reads.unwrap_or(s.share_reads);
        if let Some(m) = c.mode {
            s.mode = CheckMode::parse(m.get_ref()).ok_or_else(|| {
                at.error(
                    m.span(),
                    format!(
                        "[check] mode \"{}\" is unknown; use \"auto\", \"client\" or \"pushdown\"",
                        m.get_ref()
                    ),
                )
            })?;
        }
        Ok(s)
    }
}

impl TimingSettings {
    pub(super) fn from_raw(raw: Option<RawTiming>, at: &Locator) -> Result<Self, ConfigError> {
        let mut s = TimingSettings::default();
        let Some(t) = raw else { return Ok(s) };
        let r = |key: &str, v, limit| ranged(at, "timing", key, v, limit);
        s.iterations =
            r("iterations", t.iterations, limits::ITERATIONS)?.map_or(s.iterations, |v| v as usize);
        s.warmup = r("warmup", t.warmup, limits::WARMUP)?.map_or(s.warmup, |v| v as usize);
        if let Some(m) = t.max_slowdown {
            let v = *m.get_ref();
            if !(0.0..=crate::limits::MAX_SLOWDOWN).contains(&v) {
                return Err(at.error(
                    m.span(),
                    format!(
                        "[timing] max_slowdown {v} is out of range; use a fraction such as 0.10 for 10%"
                    ),
                ));
            }
            s.max_slowdown = v;
        }
        if let Some(m) = t.min_time {
            s.min_time_seconds = parse_duration_seconds(m.get_ref()).ok_or_else(|| {
                at.error(
                    m.span(),
                    format!(
                        "[timing] min_time \"{}\" is not a duration; write e.g. \"5s\" or \"500ms\"",
                        m.get_ref()
                    ),
                )
            })?;
        }
        s.concurrency = r("concurrency", t.concurrency, limits::CONCURRENCY)?
            .map_or(s.concurrency, |v| v as usize);
        if let Some(b) = t.blocks {
            if *b.get_ref() == 0 {
                return Err(at.error(b.span(), "[timing] blocks must be at least 1".into()));
            }
            s.blocks = b.into_inner();
        }
        Ok(s)
    }
}

impl SchemaSettings {
    pub(super) fn from_raw(raw: Option<RawSchema>) -> Self {
        SchemaSettings {
            allow: raw.map(|s| s.allow).unwrap_or_default(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, seconds) in [
            ("5s", Some(5.0)),
            ("500ms", Some(0.5)),
            ("1.5m", Some(90.0)),
            ("soon", None),
        ] {
            assert_eq!(parse_duration_seconds(text), seconds, "{text}");
        }
    }
}
