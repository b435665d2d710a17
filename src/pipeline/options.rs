//! Settings resolved for one run: the engine's options from `[check]` and
//! the flags, every command's session settings, and the one way to open a
//! database pool with them.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::{self, CheckSettings, Config, DbUrl};
use crate::db::{ConnectOptions, Db};
use crate::engine::EngineOptions;

/// What a command line may say over `[check]`: each `None` (and a `false`
/// `show_values`) leaves the setting as the config, or its default, has it.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--chunk-rows`.
    pub chunk_rows: Option<usize>,
    /// `--max-differences`.
    pub max_differences: Option<usize>,
    /// `--show-values`: row values in reports (personal data: off unless asked).
    pub show_values: bool,
    /// `--shard I/N` (or `--shards N` with `JOB_COMPLETION_INDEX`).
    pub shard: Option<crate::engine::shard::Shard>,
    /// `--resume DIR`: continue the journal there.
    pub resume: bool,
    /// `--mode` (check only).
    pub mode: Option<crate::config::CheckMode>,
}

impl CheckOptions {
    /// The engine's options: each flag over its `[check]` setting.
    pub fn resolve(&self, settings: &CheckSettings) -> EngineOptions {
        EngineOptions {
            jobs: self.jobs.unwrap_or(settings.jobs).max(1),
            chunk_rows: self.chunk_rows.unwrap_or(settings.chunk_rows).max(1),
            max_differences: self.max_differences.unwrap_or(settings.max_differences),
            show_values: self.show_values,
            share_reads: settings.share_reads,
            shard: self.shard,
            journal: None,
            resume: self.resume,
            mode: self.mode.unwrap_or(settings.mode),
        }
    }
}

/// Session settings from `[check]`: every command's statement and lock
/// timeouts (issue 10).
pub fn connect_options(config: &Config) -> ConnectOptions {
    ConnectOptions {
        statement_timeout: Duration::from_secs(config.check.statement_timeout_seconds),
        lock_timeout: Duration::from_secs(config.check.lock_timeout_seconds),
        ..ConnectOptions::default()
    }
}

/// Session settings for a command that needs no config (`backup`,
/// `manifest`): the `[check]` timeouts of a config named with `--config`,
/// else the defaults.
pub fn session_options(config: Option<&Path>) -> Result<ConnectOptions> {
    Ok(match config {
        Some(path) => connect_options(&config::load(path)?),
        None => ConnectOptions::default(),
    })
}

/// Connections for `jobs` chunk readers on one database, with room for
/// the catalog and snapshot reads beside them (`backup`, `manifest`).
pub fn reader_connections(jobs: usize) -> u32 {
    (jobs + 3) as u32
}

/// A pool of `connections` on `url` with the session settings `base`;
/// a failure says `what` could not be opened.
pub async fn connect(
    url: &DbUrl,
    connections: u32,
    base: &ConnectOptions,
    what: impl FnOnce() -> String,
) -> Result<Db> {
    let opts = ConnectOptions {
        max_connections: connections,
        ..base.clone()
    };
    Db::connect(url, &opts).await.with_context(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_config_and_zero_reads_as_one() {
        let settings = CheckSettings {
            jobs: 3,
            chunk_rows: 700,
            max_differences: 9,
            share_reads: false,
            ..CheckSettings::default()
        };
        let from_config = CheckOptions::default().resolve(&settings);
        assert_eq!(
            (
                from_config.jobs,
                from_config.chunk_rows,
                from_config.max_differences
            ),
            (3, 700, 9)
        );
        assert!(!from_config.show_values && !from_config.share_reads);
        let flags = CheckOptions {
            jobs: Some(0),
            chunk_rows: Some(50),
            max_differences: Some(0),
            show_values: true,
            ..CheckOptions::default()
        }
        .resolve(&settings);
        assert_eq!(
            (flags.jobs, flags.chunk_rows, flags.max_differences),
            (1, 50, 0)
        );
        assert!(flags.show_values);
    }
}
