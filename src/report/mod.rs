//! Rendering results into files: one file per format behind one trait.
//!
//! Never queries anything; it renders the [`RunReport`] it is handed. The
//! run rewrites its files after each table or operation (atomically), so a
//! run that dies midway still leaves its results.

pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod observe;
pub mod prometheus;
pub mod timing_csv;
pub mod verdict;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::engine::TableResult;

/// Everything one run produced. Field docs are the `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RunReport {
    /// Report format version.
    pub format_version: u32,
    /// The subcommand: `check`, `backup`, `run`, `demo`, …
    pub command: String,
    /// UTC start time, RFC 3339.
    pub started_at: String,
    /// The source side: name, ORM and redacted database location.
    pub source: SideInfo,
    pub target: SideInfo,
    /// One entry per table pair, in the order they were checked.
    pub tables: Vec<TableResult>,
    /// Tables only one mapping has (not compared).
    pub only_source_tables: Vec<String>,
    pub only_target_tables: Vec<String>,
    /// Loader and planner notes (assumptions the reader should know).
    pub notes: Vec<String>,
    /// True while the run is still going (the files are rewritten as it goes).
    pub in_progress: bool,
    /// Exit code of the finished run (0 parity holds, 1 differences, 2 error).
    pub exit_code: Option<i32>,
    /// Paired query timing (`timing`, `run`): absent for commands that time nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<crate::timing::TimingSection>,
    /// What the run concluded, worded for people: per repository READY /
    /// NOT READY (or, for `check`, data only), the `global_flag` verdict and
    /// the closing line. Absent while the run is in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<verdict::Verdict>,
    /// `parity run`: the schema findings (the same as `schema.json`'s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_findings: Option<Vec<crate::plan::findings::Finding>>,
    /// Production statement statistics (`observe`): absent for other commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observe: Option<crate::timing::observe::ObserveSection>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SideInfo {
    pub name: String,
    pub orm: String,
    /// Scheme, host, port and database only: never a password.
    pub database: String,
}

/// One output format.
pub trait ReportWriter {
    /// File names this writer produces in the out dir.
    fn files(&self) -> &'static [&'static str];
    fn write(&self, run: &RunReport, dir: &Path) -> Result<()>;
}

/// The writers every table-checking command uses.
pub fn check_writers() -> Vec<Box<dyn ReportWriter + Send + Sync>> {
    vec![
        Box::new(csv::ParityCsv),
        Box::new(csv::DifferencesCsv),
        Box::new(markdown::Summary),
        Box::new(json::Json),
        Box::new(html::Html),
    ]
}

/// Rewrites every report file.
pub fn write_all(
    writers: &[Box<dyn ReportWriter + Send + Sync>],
    run: &RunReport,
    dir: &Path,
) -> Result<()> {
    for w in writers {
        w.write(run, dir)?;
    }
    Ok(())
}

/// Creates the run's report directory: `--out DIR`, or
/// `reports/<UTC timestamp>/` with `reports/latest` pointing at it.
pub fn prepare_out_dir(out: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
        return Ok(dir.to_path_buf());
    }
    let base = PathBuf::from("reports");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut dir = base.join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{stamp}-{n}"));
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
    let latest = base.join("latest");
    let _ = std::fs::remove_file(&latest);
    #[cfg(unix)]
    {
        let name = dir.file_name().map(PathBuf::from).unwrap_or_default();
        std::os::unix::fs::symlink(&name, &latest)
            .with_context(|| format!("cannot point {} at {}", latest.display(), dir.display()))?;
    }
    Ok(dir)
}

/// Writes a file atomically (temp file + rename) so readers never see half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
