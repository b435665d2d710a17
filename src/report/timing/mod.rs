//! Timing's reports, rendered from the [`TimingSection`] in
//! `RunReport::timing`: `timing.csv` and `timing-compare.csv` (`csv`),
//! `summary.md` (`summary`), the query-timing section of `report.html`
//! (`html`), and the EXPLAIN files `--explain` captured ([`EXPLAIN`]).
//! `report.json` and `junit.xml` are the shared writers'.
//!
//! `timing` measures and hands back data; this module is the only place
//! its results become files ([`render_into`]).

pub mod csv;
pub mod html;
pub mod summary;

use std::path::Path;

use anyhow::{Context, Result};

use super::{ReportWriter, RunReport, Writers, write_atomic};
use crate::timing::{Comparison, OperationResult, TimingSection};

/// The writers `parity timing` uses; `parity run` adds the data check's
/// CSVs ([`run_writers`]).
pub fn timing_writers() -> Writers {
    vec![
        Box::new(csv::TIMING),
        Box::new(csv::COMPARE),
        Box::new(summary::SUMMARY),
        Box::new(super::json::JSON),
        Box::new(super::html::HTML),
        Box::new(super::junit::JUNIT),
        Box::new(EXPLAIN),
    ]
}

/// Every writer of `parity run` (data check and timing): the check's CSVs,
/// then the timing files; `summary.md` from [`summary::SUMMARY`], which
/// renders the data-check summary first.
pub fn run_writers() -> Writers {
    let mut w: Writers = vec![
        Box::new(super::csv::PARITY),
        Box::new(super::csv::DIFFERENCES),
    ];
    w.extend(timing_writers());
    w
}

/// Puts `section` into `run` and rewrites the report files in `out`:
/// timing.csv, timing-compare.csv, summary.md, report.json, report.html,
/// junit.xml and the EXPLAIN files, plus parity.csv and differences.csv
/// when `run` also checked tables (`parity run`).
pub fn render_into(run: &mut RunReport, section: TimingSection, out: &Path) -> Result<()> {
    run.timing = Some(section);
    let writers = if run.tables.is_empty() {
        timing_writers()
    } else {
        run_writers()
    };
    super::write_all(&writers, run, out)
}

/// The EXPLAIN files of `--explain`: each side's captured plan document at
/// the path its `explain_file` names, under the out dir.
pub const EXPLAIN: ExplainFiles = ExplainFiles;

pub struct ExplainFiles;

impl ReportWriter for ExplainFiles {
    /// None by a fixed name: the files are named per operation and side.
    fn files(&self) -> &'static [&'static str] {
        &[]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        for o in operations(run) {
            for side in [&o.source, &o.target] {
                let (Some(rel), Some(doc)) = (&side.explain_file, &side.explain) else {
                    continue;
                };
                let path = dir.join(rel);
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p)
                        .with_context(|| format!("cannot create {}", p.display()))?;
                }
                let mut bytes = serde_json::to_vec_pretty(doc)?;
                bytes.push(b'\n');
                write_atomic(&path, &bytes)?;
            }
        }
        Ok(())
    }
}

/// The run's timed operations (none when it timed nothing).
fn operations(run: &RunReport) -> &[OperationResult] {
    run.timing.as_ref().map_or(&[], |t| t.operations.as_slice())
}

/// How the operations were measured and judged, in one paragraph; `mark`
/// sets off the verdict words (`slower`, `faster`).
fn method(t: &TimingSection, mark: fn(&str) -> String) -> String {
    format!(
        "{} measured iterations per side in {} block(s), each on fresh sessions after {} warm-up rounds, \
         {} client(s) per side, interleaved. {} when the 95% bootstrap CI of the median ratio (target/source) \
         lies above {:.2}; {} when it lies below {:.2}. The interval resamples blocks, then iterations: \
         it covers the spread between blocks.",
        t.iterations,
        t.blocks.max(1),
        t.warmup,
        t.concurrency,
        mark("slower"),
        1.0 + t.max_slowdown,
        mark("faster"),
        1.0 / (1.0 + t.max_slowdown)
    )
}

/// An operation's headline figures as the timing tables show them: the
/// source and target p50 (ms), the ratio of medians, its 95% interval and
/// the ratio of p95s.
fn figures(o: &OperationResult) -> [String; 5] {
    let c = &o.comparison;
    [
        format!("{:.3}", o.source.stats.p50_ms),
        format!("{:.3}", o.target.stats.p50_ms),
        format!("{:.2}", c.ratio_p50),
        format!("[{:.2}, {:.2}]", c.ci_low, c.ci_high),
        format!("{:.2}", c.ratio_p95),
    ]
}

/// A count or mean: whole numbers without decimals, else two.
fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The ratio within each block, lowest to highest: `1.21–1.34 (10 blocks)`.
fn block_spread(c: &Comparison) -> String {
    if c.block_ratios.is_empty() {
        return String::new();
    }
    format!(
        "{:.2}–{:.2} ({} block{})",
        c.block_ratio_min,
        c.block_ratio_max,
        c.block_ratios.len(),
        if c.block_ratios.len() == 1 { "" } else { "s" }
    )
}
