//! `timing.csv` (one row per operation and side) and `timing-compare.csv`
//! (one row per operation). A stopped run (Ctrl-C, SIGTERM) never reads as
//! a complete one: each file then ends with a row marked `incomplete`
//! (issue 10).

use anyhow::Result;

use super::{num, operations};
use crate::report::csv::table;
use crate::report::{Rendered, RunReport};
use crate::timing::{OperationResult, SideResult};

pub const TIMING: Rendered = Rendered::new(&["timing.csv"], timing);

pub const COMPARE: Rendered = Rendered::new(&["timing-compare.csv"], compare);

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

/// Milliseconds and ratios, to four decimals.
fn ms(x: f64) -> String {
    format!("{x:.4}")
}

fn timing(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let rows = operations(run).iter().flat_map(|o| {
        [("source", &o.source), ("target", &o.target)]
            .into_iter()
            .map(move |(label, s)| side_record(o, label, s))
    });
    let stopped = stopped_row(run, TIMING_HEADER.len(), 2);
    table(&TIMING_HEADER, rows.chain(stopped)).map(Some)
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

fn compare(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let rows = operations(run).iter().map(|o| {
        let c = &o.comparison;
        vec![
            o.repository.clone(),
            o.operation.clone(),
            ms(o.source.stats.p50_ms),
            ms(o.target.stats.p50_ms),
            ms(c.ratio_p50),
            ms(c.ci_low),
            ms(c.ci_high),
            ms(c.ratio_p95),
            o.verdict.as_str().to_string(),
            c.blocks.to_string(),
            ms(c.block_ratio_min),
            ms(c.block_ratio_max),
        ]
    });
    let stopped = stopped_row(run, COMPARE_HEADER.len(), 8);
    table(&COMPARE_HEADER, rows.chain(stopped)).map(Some)
}

/// A stopped run's last row: empty but for `incomplete` in column `at`.
fn stopped_row(run: &RunReport, width: usize, at: usize) -> Option<Vec<String>> {
    run.incomplete.as_ref().map(|_| {
        let mut row = vec![String::new(); width];
        row[at] = "incomplete".into();
        row
    })
}
