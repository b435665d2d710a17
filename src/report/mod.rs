//! Rendering results into files: one file per format behind one trait.
//!
//! Never queries anything; it renders the [`RunReport`] it is handed. The
//! run rewrites its files after each table or operation (atomically), so a
//! run that dies midway still leaves its results.
//!
//! Most formats are one file rendered whole from the run: a [`Rendered`]
//! names the file and its renderer. The writer lists per command are
//! [`check_writers`], `timing::timing_writers` and `timing::run_writers`,
//! `observe::observe_writers`, and `merge::merge_writers` (`parity merge`
//! reads shard folders back and combines them, issue 15).

pub mod console;
pub mod csv;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod observe;
pub mod prometheus;
pub mod schema;
#[cfg(test)]
mod tests;
pub mod timing;
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
    /// Present when the run was stopped (Ctrl-C, SIGTERM) before it ended:
    /// why. The files then hold partial results; tables not yet checked are
    /// rows with status `incomplete`, and `junit.xml` has an error testcase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// The table pairs the run means to check, as (repository, source
    /// table, target table): what a stopped run marks `incomplete`.
    #[serde(skip)]
    pub planned: Vec<(Option<String>, String, String)>,
    /// A shard's report folder (`--shard I/N`, issue 15): which shard of
    /// which run, and the chunks it read; `parity merge` combines the
    /// shards. `null` for a full run.
    pub partial: Option<crate::engine::shard::Partial>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
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

/// A format rendered whole into one file: the file's name and its renderer,
/// which returns the bytes, or `None` when the run has nothing for this
/// file (`observe.csv` of a run that observed nothing).
pub struct Rendered {
    /// The one file, as `&["name"]`.
    pub files: &'static [&'static str],
    pub render: fn(&RunReport) -> Result<Option<Vec<u8>>>,
}

impl Rendered {
    pub const fn new(
        files: &'static [&'static str],
        render: fn(&RunReport) -> Result<Option<Vec<u8>>>,
    ) -> Rendered {
        Rendered { files, render }
    }
}

impl ReportWriter for Rendered {
    fn files(&self) -> &'static [&'static str] {
        self.files
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        match (self.render)(run)? {
            Some(bytes) => write_atomic(&dir.join(self.files[0]), &bytes),
            None => Ok(()),
        }
    }
}

/// A boxed writer list, as every command hands to [`write_all`].
pub type Writers = Vec<Box<dyn ReportWriter + Send + Sync>>;

/// The writers every table-checking command uses.
pub fn check_writers() -> Writers {
    vec![
        Box::new(csv::PARITY),
        Box::new(csv::DIFFERENCES),
        Box::new(markdown::SUMMARY),
        Box::new(json::JSON),
        Box::new(html::HTML),
    ]
}

/// Rewrites every report file, and remembers what it wrote so that a run
/// stopped by a signal can mark the same files incomplete
/// ([`mark_incomplete`]).
pub fn write_all(
    writers: &[Box<dyn ReportWriter + Send + Sync>],
    run: &RunReport,
    dir: &Path,
) -> Result<()> {
    let files: Vec<&'static str> = writers
        .iter()
        .flat_map(|w| w.files().iter().copied())
        .collect();
    if let Ok(mut last) = LAST_WRITE.lock() {
        *last = Some((run.clone(), dir.to_path_buf(), files));
    }
    for w in writers {
        w.write(run, dir)?;
    }
    Ok(())
}

type LastWrite = (RunReport, PathBuf, Vec<&'static str>);

/// The last report set [`write_all`] wrote in this process.
static LAST_WRITE: std::sync::Mutex<Option<LastWrite>> = std::sync::Mutex::new(None);

/// After Ctrl-C or SIGTERM: rewrites the last report set with the run
/// marked incomplete (`reason`): tables planned but not finished become
/// `incomplete` rows (one row with no table names when none is known), and
/// `junit.xml` gets an error testcase. Returns the report directory, if any
/// report had been written.
pub fn mark_incomplete(reason: &str) -> Option<PathBuf> {
    let (mut run, dir, files) = LAST_WRITE.lock().ok()?.take()?;
    run.in_progress = true;
    run.exit_code = Some(crate::exit::ERROR);
    run.incomplete = Some(reason.to_string());
    let pending: Vec<_> = run
        .planned
        .iter()
        .filter(|(_, s, t)| {
            !run.tables
                .iter()
                .any(|r| &r.source_table == s && &r.target_table == t)
        })
        .cloned()
        .collect();
    let incomplete_row = |repository: Option<String>, s: String, t: String| TableResult {
        repository,
        source_table: s,
        target_table: t,
        status: crate::engine::Status::Incomplete,
        error: Some(format!("not checked: {reason}")),
        ..TableResult::default()
    };
    if pending.is_empty() {
        if files.contains(&"parity.csv") {
            run.tables
                .push(incomplete_row(None, String::new(), String::new()));
        }
    } else {
        for (r, s, t) in pending {
            run.tables.push(incomplete_row(r, s, t));
        }
    }
    // By command, so a `run` stopped during its data check also gets the
    // junit.xml it would have written.
    let writers = match run.command.as_str() {
        "run" => timing::run_writers(),
        "timing" => timing::timing_writers(),
        _ if files.contains(&"timing.csv") => timing::timing_writers(),
        _ => check_writers(),
    };
    for w in &writers {
        let _ = w.write(&run, &dir);
    }
    Some(dir)
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
    // Issue 10: no temp file survives any failure (a full disk included).
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
