//! `timing.csv` (one row per operation and side), `timing-compare.csv` (one
//! row per operation) and the query-timing section of `summary.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::{ReportWriter, RunReport, write_atomic};
use crate::timing::{OperationResult, SideResult, TimingSection};

pub struct TimingCsv;
pub struct TimingCompareCsv;
/// `summary.md` with the query-timing section: the data-check summary
/// (`markdown::render`) first when the run checked tables.
pub struct TimingSummary;

pub const TIMING_HEADER: [&str; 18] = [
    "repository",
    "operation",
    "side",
    "n",
    "min_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "mean_ms",
    "stddev_ms",
    "rows",
    "round_trips",
    "result_hash",
    "blocks",
    "block_p50_min_ms",
    "block_p50_max_ms",
];

pub const COMPARE_HEADER: [&str; 12] = [
    "repository",
    "operation",
    "source_p50_ms",
    "target_p50_ms",
    "ratio_p50",
    "ci_low",
    "ci_high",
    "ratio_p95",
    "verdict",
    "blocks",
    "block_ratio_min",
    "block_ratio_max",
];

/// The writers `parity timing` uses; `parity run` adds its data-check
/// writers (and uses [`TimingSummary`] in place of `markdown::Summary`).
pub fn timing_writers() -> Vec<Box<dyn ReportWriter + Send + Sync>> {
    vec![
        Box::new(TimingCsv),
        Box::new(TimingCompareCsv),
        Box::new(TimingSummary),
        Box::new(super::json::Json),
        Box::new(super::html::Html),
        Box::new(super::junit::Junit),
    ]
}

/// Every writer of `parity run` (data check and timing): the check's CSVs,
/// then the timing files; `summary.md` from [`TimingSummary`], which renders
/// the data-check summary first.
pub fn run_writers() -> Vec<Box<dyn ReportWriter + Send + Sync>> {
    let mut w: Vec<Box<dyn ReportWriter + Send + Sync>> = vec![
        Box::new(super::csv::ParityCsv),
        Box::new(super::csv::DifferencesCsv),
    ];
    w.extend(timing_writers());
    w
}

fn ms(x: f64) -> String {
    format!("{x:.4}")
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn ops(run: &RunReport) -> &[OperationResult] {
    run.timing.as_ref().map_or(&[], |t| t.operations.as_slice())
}

impl ReportWriter for TimingCsv {
    fn files(&self) -> &'static [&'static str] {
        &["timing.csv"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(TIMING_HEADER)?;
        for o in ops(run) {
            for (label, s) in [("source", &o.source), ("target", &o.target)] {
                w.write_record(side_record(o, label, s))?;
            }
        }
        // A stopped run (Ctrl-C, SIGTERM) never reads as a complete one: a
        // last row with side `incomplete` (issue 10).
        if run.incomplete.is_some() {
            let mut row = vec![String::new(); TIMING_HEADER.len()];
            row[2] = "incomplete".into();
            w.write_record(row)?;
        }
        write_atomic(&dir.join("timing.csv"), &w.into_inner()?)
    }
}

fn side_record(o: &OperationResult, label: &str, s: &SideResult) -> Vec<String> {
    let st = &s.stats;
    vec![
        o.repository.clone(),
        o.operation.clone(),
        label.to_string(),
        st.n.to_string(),
        ms(st.min_ms),
        ms(st.p50_ms),
        ms(st.p90_ms),
        ms(st.p95_ms),
        ms(st.p99_ms),
        ms(st.max_ms),
        ms(st.mean_ms),
        ms(st.stddev_ms),
        num(s.rows),
        num(s.round_trips),
        s.result_hash.clone(),
        s.block_p50_ms.len().to_string(),
        ms(min_of(&s.block_p50_ms)),
        ms(max_of(&s.block_p50_ms)),
    ]
}

fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().reduce(f64::min).unwrap_or(f64::NAN)
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().copied().reduce(f64::max).unwrap_or(f64::NAN)
}

impl ReportWriter for TimingCompareCsv {
    fn files(&self) -> &'static [&'static str] {
        &["timing-compare.csv"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COMPARE_HEADER)?;
        for o in ops(run) {
            let c = &o.comparison;
            w.write_record([
                o.repository.clone(),
                o.operation.clone(),
                ms(o.source.stats.p50_ms),
                ms(o.target.stats.p50_ms),
                format!("{:.4}", c.ratio_p50),
                format!("{:.4}", c.ci_low),
                format!("{:.4}", c.ci_high),
                format!("{:.4}", c.ratio_p95),
                o.verdict.as_str().to_string(),
                c.blocks.to_string(),
                format!("{:.4}", c.block_ratio_min),
                format!("{:.4}", c.block_ratio_max),
            ])?;
        }
        // A stopped run: a last row with verdict `incomplete` (issue 10).
        if run.incomplete.is_some() {
            let mut row = vec![String::new(); COMPARE_HEADER.len()];
            row[8] = "incomplete".into();
            w.write_record(row)?;
        }
        write_atomic(&dir.join("timing-compare.csv"), &w.into_inner()?)
    }
}

impl ReportWriter for TimingSummary {
    fn files(&self) -> &'static [&'static str] {
        &["summary.md"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        write_atomic(&dir.join("summary.md"), render_summary(run).as_bytes())
    }
}

/// The whole `summary.md`: the data-check part when the run has tables,
/// then the timing section.
pub fn render_summary(run: &RunReport) -> String {
    let mut s = if run.tables.is_empty() {
        let mut s = String::new();
        let _ = writeln!(s, "# parity {}\n", run.command);
        let _ = writeln!(
            s,
            "- source: **{}** ({}, {})\n- target: **{}** ({}, {})\n- started: {}{}\n",
            run.source.name,
            run.source.orm,
            run.source.database,
            run.target.name,
            run.target.orm,
            run.target.database,
            run.started_at,
            if run.in_progress {
                " (in progress)"
            } else {
                ""
            }
        );
        if let Some(reason) = &run.incomplete {
            let _ = writeln!(s, "**INCOMPLETE: {reason}; these results are partial.**\n");
        }
        if !run.notes.is_empty() {
            let _ = writeln!(s, "## Notes\n");
            for n in &run.notes {
                let _ = writeln!(s, "- {n}");
            }
            s.push('\n');
        }
        s
    } else {
        let mut s = super::markdown::render(run);
        s.push('\n');
        s
    };
    if let Some(t) = &run.timing {
        s.push_str(&markdown_section(t));
    }
    s
}

/// The ratio within each block, lowest to highest: `1.21–1.34 (10 blocks)`.
pub fn block_spread(c: &crate::timing::Comparison) -> String {
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

/// The `## Query timing` section of `summary.md`.
pub fn markdown_section(t: &TimingSection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Query timing\n");
    let _ = writeln!(
        s,
        "{} measured iterations per side in {} block(s), each on fresh sessions after {} warm-up rounds, \
         {} client(s) per side, interleaved. `slower` when the 95% CI of the median ratio (target/source) \
         lies above {:.2}; `faster` when it lies below {:.2}. The interval is a bootstrap over blocks, then \
         iterations: it covers the spread between blocks.\n",
        t.iterations,
        t.blocks.max(1),
        t.warmup,
        t.concurrency,
        1.0 + t.max_slowdown,
        1.0 / (1.0 + t.max_slowdown)
    );
    let count = |v: &str| {
        t.operations
            .iter()
            .filter(|o| o.verdict.as_str() == v)
            .count()
    };
    let _ = writeln!(
        s,
        "**{} operations: {} same, {} faster, {} slower, {} mismatch, {} error.**\n",
        t.operations.len(),
        count("same"),
        count("faster"),
        count("slower"),
        count("mismatch"),
        count("error")
    );
    let _ = writeln!(
        s,
        "| operation | source p50 ms | target p50 ms | ratio p50 | 95% CI | ratio p95 | round trips (s/t) | rows (s/t) | verdict | block ratios |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---|---:|---|---|---|---|");
    for o in &t.operations {
        let _ = writeln!(
            s,
            "| {}/{} | {:.3} | {:.3} | {:.2} | [{:.2}, {:.2}] | {:.2} | {}/{} | {}/{} | **{}** | {} |",
            super::markdown::cell(&o.repository),
            super::markdown::cell(&o.operation),
            o.source.stats.p50_ms,
            o.target.stats.p50_ms,
            o.comparison.ratio_p50,
            o.comparison.ci_low,
            o.comparison.ci_high,
            o.comparison.ratio_p95,
            num(o.source.round_trips),
            num(o.target.round_trips),
            num(o.source.rows),
            num(o.target.rows),
            o.verdict.as_str(),
            block_spread(&o.comparison)
        );
    }
    s.push('\n');
    for o in &t.operations {
        let id = format!("{}/{}", o.repository, o.operation);
        if let Some(e) = &o.error {
            let _ = writeln!(s, "- **{id}** failed: {e}");
        }
        if let Some(m) = &o.mismatch {
            if m.detail.kind == crate::timing::result::MismatchKind::Order {
                let _ = writeln!(
                    s,
                    "- **{id}** results differ for parameter set {}: {}",
                    m.parameter_set,
                    m.detail.describe()
                );
            } else {
                let _ = writeln!(
                    s,
                    "- **{id}** results differ for parameter set {} in `{}`: {} rows from source, {} from target; {} only from source, {} only from target; first: {}",
                    m.parameter_set,
                    m.detail.table,
                    m.detail.source_rows,
                    m.detail.target_rows,
                    m.detail.only_in_source,
                    m.detail.only_in_target,
                    m.detail.first_keys.join(", ")
                );
            }
        }
        if o.compare != crate::timing::CompareMode::Rows {
            let _ = writeln!(
                s,
                "- **{id}** compares `{}`{}",
                o.compare.as_str(),
                o.compare_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        let outliers = o.source.stats.outliers + o.target.stats.outliers;
        if outliers > 0 {
            let _ = writeln!(
                s,
                "- **{id}** {} + {} outlier(s) by the MAD rule (kept in the statistics)",
                o.source.stats.outliers, o.target.stats.outliers
            );
        }
        for n in &o.notes {
            let _ = writeln!(s, "- **{id}** {n}");
        }
    }
    for n in &t.notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::timing::{Comparison, Summary, Verdict};

    pub(crate) fn sample_run() -> RunReport {
        let side = |p50: f64| SideResult {
            stats: Summary::of(&[p50 - 0.1, p50, p50 + 0.1]),
            statements: 1,
            rows: 1.0,
            round_trips: 1.0,
            result_hash: "00112233aabbccdd".into(),
            samples_ms: vec![p50 - 0.1, p50, p50 + 0.1],
            explain_file: None,
            block_p50_ms: vec![p50 - 0.05, p50 + 0.05],
        };
        let op = OperationResult {
            repository: "user".into(),
            operation: "find-user-by-email".into(),
            description: Some("lookup".into()),
            file: "queries/user/find-user-by-email.toml".into(),
            writes: false,
            compare: crate::timing::CompareMode::Rows,
            compare_reason: None,
            parameter_sets: 3,
            source: side(1.0),
            target: side(1.2),
            comparison: Comparison {
                ratio_p50: 1.2,
                ratio_p95: 1.2,
                ci_low: 1.15,
                ci_high: 1.25,
                blocks: 2,
                block_ratios: vec![1.1, 1.3],
                block_ratio_min: 1.1,
                block_ratio_max: 1.3,
            },
            verdict: Verdict::Slower,
            mismatch: None,
            notes: vec![],
            error: None,
            reconciled: "rows compared".into(),
        };
        RunReport {
            command: "timing".into(),
            timing: Some(TimingSection {
                iterations: 3,
                warmup: 1,
                concurrency: 1,
                max_slowdown: 0.1,
                operations: vec![op],
                ..TimingSection::default()
            }),
            ..RunReport::default()
        }
    }

    #[test]
    fn csv_columns_are_exactly_the_documented_ones() {
        let dir = tempfile::tempdir().unwrap();
        let run = sample_run();
        TimingCsv.write(&run, dir.path()).unwrap();
        TimingCompareCsv.write(&run, dir.path()).unwrap();
        let t = std::fs::read_to_string(dir.path().join("timing.csv")).unwrap();
        let mut lines = t.lines();
        assert_eq!(
            lines.next().unwrap(),
            "repository,operation,side,n,min_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,mean_ms,stddev_ms,rows,round_trips,result_hash,blocks,block_p50_min_ms,block_p50_max_ms"
        );
        assert_eq!(
            lines.next().unwrap(),
            "user,find-user-by-email,source,3,0.9000,1.0000,1.0800,1.0900,1.0980,1.1000,1.0000,0.1000,1,1,00112233aabbccdd,2,0.9500,1.0500"
        );
        assert_eq!(lines.count(), 1);
        let c = std::fs::read_to_string(dir.path().join("timing-compare.csv")).unwrap();
        assert_eq!(
            c,
            "repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n\
             user,find-user-by-email,1.0000,1.2000,1.2000,1.1500,1.2500,1.2000,slower,2,1.1000,1.3000\n"
        );
        let md = render_summary(&run);
        assert!(md.contains("## Query timing"), "{md}");
        // A stopped run says so in both files' last row.
        let mut stopped = sample_run();
        stopped.incomplete = Some("the run was stopped by SIGTERM".into());
        TimingCsv.write(&stopped, dir.path()).unwrap();
        TimingCompareCsv.write(&stopped, dir.path()).unwrap();
        let t = std::fs::read_to_string(dir.path().join("timing.csv")).unwrap();
        assert_eq!(t.lines().last().unwrap(), ",,incomplete,,,,,,,,,,,,,,,");
        let c = std::fs::read_to_string(dir.path().join("timing-compare.csv")).unwrap();
        assert_eq!(c.lines().last().unwrap(), ",,,,,,,,incomplete,,,");
        assert!(md.contains("| user/find-user-by-email | 1.000 | 1.200 | 1.20 | [1.15, 1.25] | 1.20 | 1/1 | 1/1 | **slower** | 1.10–1.30 (2 blocks) |"), "{md}");
    }
}
