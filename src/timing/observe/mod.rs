//! `parity observe`'s arithmetic: the window between two cumulative
//! statement-statistics snapshots, the attribution of each statement to an
//! operation and an ORM through the captured SQL in `queries/`, the
//! per-operation statistics of each side, Welch's interval for the ratio of
//! means, and the verdict.
//!
//! Owns [`ObserveSection`], which `report` renders (observe.csv, the
//! production section of report.html, junit.xml, report.json and the
//! Prometheus metrics). It reads no database (`db::stats` does) and renders
//! nothing.
//!
//! **Window.** Per statement, calls, time, rows and blocks are the
//! differences of the two cumulative snapshots; the window's variance comes
//! from the difference of the sums of squares (`calls × (stddev² + mean²)`,
//! `pg_stat_statements` keeps the population deviation). A statement whose
//! calls went down was reset or evicted in between: its second snapshot
//! counts whole, and a note says so.
//!
//! **Attribution.** A statement belongs to the operation sides whose captured
//! SQL has its query id (computed by the database from the captured text),
//! or failing that, its normalised text (literals and placeholders as `?`,
//! lists of them folded, unquoted words lower-cased, comments dropped). A
//! statement several operations send (Prisma's `findMany` of bikes is also
//! the first query of its include) is split between them: an operation's
//! executions are the calls of its first statement no other operation sends,
//! and the shared statement's remaining calls go to the others. Transaction
//! control (`BEGIN`, `COMMIT`, …) cannot be attributed by its text and is
//! listed as `control`; statements parity itself sent are counted apart.
//! When each ORM connects as its own database role (`--source-role`,
//! `--target-role`), a statement goes only to the side of the role that ran
//! it, which also separates statements both sides spell as one query tree.
//!
//! **Per operation side.** `calls` are its executions; `mean_ms` the
//! execution time of all its statements per execution; `stddev_ms` the
//! square root of the sum of its statements' variances (weighted by their
//! calls per execution: independent statements); rows, blocks and planning
//! time are per execution.
//!
//! **Verdict.** The ratio is Drizzle's (target's) mean over Prisma's
//! (source's), with a 95% Welch interval on the log ratio (delta method,
//! Welch–Satterthwaite degrees of freedom). `slower` when the interval lies
//! above `1 + max_slowdown`, `faster` when it lies below `1 − max_slowdown`,
//! else `same`; a side with fewer than `min_calls` executions gets
//! `not_enough_traffic`. An operation whose two sides send the very same
//! statements, or statements PostgreSQL records under one query id (the
//! same query tree spelled differently: `$1::timestamp` against an inferred
//! timestamp, `GROUP BY 1` against the expression), cannot be told apart
//! in `pg_stat_statements`: `indistinguishable`, with the calls split evenly.
//!
//! Here: the section's data types; `window` takes the difference of two
//! snapshots, `normalize` the text statements are matched by, `attribute`
//! the attribution, statistics and verdicts.

mod attribute;
mod normalize;
#[cfg(test)]
mod tests;
mod window;

use std::collections::BTreeMap;

use serde::Serialize;

use super::ops::Operation;

pub use attribute::{ObserveOptions, WindowTotals, attribute, t_975, welch_ratio};
pub use normalize::normalize_sql;
pub use window::{WindowEntry, window};

/// The outcome for one observed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObserveVerdict {
    /// The interval lies above 1 + max_slowdown.
    Slower,
    /// The interval lies below 1 − max_slowdown.
    Faster,
    Same,
    /// A side had fewer than `min_calls` executions in the window.
    NotEnoughTraffic,
    /// Both sides' statements are recorded as one (same SQL, or same query
    /// id): their traffic cannot be split.
    Indistinguishable,
}

impl ObserveVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ObserveVerdict::Slower => "slower",
            ObserveVerdict::Faster => "faster",
            ObserveVerdict::Same => "same",
            ObserveVerdict::NotEnoughTraffic => "not_enough_traffic",
            ObserveVerdict::Indistinguishable => "indistinguishable",
        }
    }
}

/// One side of one operation over the window. Field docs are the
/// `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ObservedSide {
    /// `prisma` or `drizzle` (from the operation file).
    pub orm: String,
    /// Executions of the operation in the window.
    pub calls: u64,
    /// Execution time of all its statements per execution, ms.
    pub mean_ms: f64,
    /// Standard deviation of that time (sample), ms.
    pub stddev_ms: f64,
    /// Rows returned or affected per execution.
    pub rows_per_call: f64,
    /// Shared buffer hits and reads per execution.
    pub shared_blks_hit: f64,
    pub shared_blks_read: f64,
    /// Temp blocks read + written per execution.
    pub temp_blks: f64,
    /// Planning time per execution, ms; `None` unless
    /// `pg_stat_statements.track_planning` is on.
    pub plan_ms: Option<f64>,
    /// Total execution time attributed to this side in the window, ms.
    pub total_ms: f64,
    /// Query ids of the statements attributed to this side.
    pub queryids: Vec<i64>,
    /// How the statements were matched: `query_id`, `text` or both.
    pub matched_by: Vec<String>,
}

/// One operation, both sides.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedOperation {
    pub repository: String,
    pub operation: String,
    pub source: ObservedSide,
    pub target: ObservedSide,
    /// target mean / source mean (Drizzle over Prisma); NaN without traffic.
    pub ratio: f64,
    /// 95% Welch interval of the ratio.
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: ObserveVerdict,
    /// Why the verdict is what it is, when not obvious.
    pub notes: Vec<String>,
    /// `parity timing`'s staging result for the same operation, when
    /// `--staging` named its report.json.
    pub staging: Option<StagingTiming>,
}

/// A staging timing result (`parity timing` / `run`) beside production.
#[derive(Debug, Clone, Serialize)]
pub struct StagingTiming {
    /// Ratio of medians, target over source, and its bootstrap interval.
    pub ratio_p50: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: String,
}

/// Staging results by (repository, operation) from a `report.json` of
/// `parity timing` or `parity run`.
pub fn staging_from_report(
    report: &serde_json::Value,
) -> BTreeMap<(String, String), StagingTiming> {
    let mut out = BTreeMap::new();
    let ops = report
        .get("timing")
        .and_then(|t| t.get("operations"))
        .and_then(|o| o.as_array());
    for o in ops.into_iter().flatten() {
        let s = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let c = |k: &str| {
            o.get("comparison")
                .and_then(|c| c.get(k))
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        out.insert(
            (s("repository"), s("operation")),
            StagingTiming {
                ratio_p50: c("ratio_p50"),
                ci_low: c("ci_low"),
                ci_high: c("ci_high"),
                verdict: s("verdict"),
            },
        );
    }
    out
}

/// A statement in the window that no operation's SQL accounts for.
#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub queryid: i64,
    /// `query` (a statement no operation file has: a new query shape) or
    /// `control` (transaction control, which text cannot attribute).
    pub kind: String,
    pub calls: u64,
    pub total_ms: f64,
    /// Share of the window's total execution time (parity's own excluded).
    pub share: f64,
    /// The normalised text PostgreSQL recorded (no values).
    pub query: String,
}

/// Everything `observe` found. Field docs are the `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ObserveSection {
    /// `postgresql`.
    pub dialect: String,
    pub database: String,
    /// The window: the two snapshots' server times and the seconds between.
    pub from: String,
    pub to: String,
    pub window_seconds: f64,
    pub max_slowdown: f64,
    pub min_calls: u64,
    /// Unmatched statements below this share of total time are only counted.
    pub min_share: f64,
    /// One entry per operation, in `queries/` order.
    pub operations: Vec<ObservedOperation>,
    /// Unmatched statements at or above `min_share`, by time, largest first.
    pub unmatched: Vec<Unmatched>,
    /// All unmatched statements (kind `query`), and their share of total time.
    pub unmatched_count: u64,
    pub unmatched_share: f64,
    /// Statements and calls in the window (parity's own excluded), total ms.
    pub statements: u64,
    pub calls: u64,
    pub total_ms: f64,
    /// Calls of the statements parity itself sent in the window.
    pub parity_calls: u64,
    pub notes: Vec<String>,
}

impl ObserveSection {
    /// 1 when an operation is `slower`, else 0.
    pub fn exit_code(&self) -> i32 {
        if self
            .operations
            .iter()
            .any(|o| o.verdict == ObserveVerdict::Slower)
        {
            crate::exit::DIFFERENCES
        } else {
            crate::exit::OK
        }
    }
}

/// Which side of an operation a captured statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatementSide {
    Source,
    Target,
}

/// How one captured statement is recognised.
#[derive(Debug, Clone, Default)]
pub struct StatementKey {
    /// The database's query id, when it could be computed.
    pub queryid: Option<i64>,
    pub text: String,
}

/// The captured statements to compute query ids for: (operation index,
/// side, statement index, SQL with `$n` placeholders, arity). Transaction
/// control and statements with expanded lists (`{{stmtN.col[]}}`: their id
/// changes with the list's length) are left to text matching.
pub fn statements_to_identify(
    ops: &[Operation],
) -> Vec<(usize, StatementSide, usize, String, usize)> {
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (side, s) in [
            (StatementSide::Source, &op.source),
            (StatementSide::Target, &op.target),
        ] {
            for (k, st) in s.statements.iter().enumerate() {
                if st.control.is_none() && st.pieces.is_none() {
                    out.push((i, side, k, st.sql.clone(), st.arity));
                }
            }
        }
    }
    out
}
