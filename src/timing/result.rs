//! What a timing run found, as data: the [`TimingSection`] that `report`
//! renders (timing.csv, timing-compare.csv, summary.md, report.json,
//! report.html, junit.xml, the EXPLAIN files) and `cmd` turns into an exit
//! code. Field docs are the `report.json` schema.
//!
//! A leaf for the renderers: plain serde structs and the one-line wording
//! of a mismatch; no I/O, nothing that runs a query.

use serde::Serialize;

use super::ops::{CompareMode, Operation};
use super::stats::{Comparison, LatencySummary, TimingVerdict};

/// The timing part of a run. Field docs are the `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TimingSection {
    /// Measured iterations asked for per side, warm-up rounds, clients per side.
    pub iterations: usize,
    pub warmup: usize,
    pub concurrency: usize,
    pub min_time_seconds: f64,
    /// The verdict threshold: `slower` when the CI's lower bound > 1 + this.
    pub max_slowdown: f64,
    /// One entry per operation, in the order they ran.
    pub operations: Vec<OperationResult>,
    /// Selection notes (operations skipped for another dialect, …).
    pub notes: Vec<String>,
    /// Independent blocks per operation (fresh sessions and a warm-up
    /// each); `warmup` is per block.
    pub blocks: usize,
}

impl TimingSection {
    /// 0 all same/faster, 1 any slower or mismatch, 2 any operation failed.
    pub fn exit_code(&self) -> i32 {
        if self
            .operations
            .iter()
            .any(|o| o.verdict == TimingVerdict::Error)
        {
            crate::exit::ERROR
        } else if self.operations.iter().any(|o| o.verdict.fails()) {
            crate::exit::DIFFERENCES
        } else {
            crate::exit::OK
        }
    }
}

/// How one operation came out.
#[derive(Debug, Clone, Serialize)]
pub struct OperationResult {
    pub repository: String,
    pub operation: String,
    pub description: Option<String>,
    /// The operation file.
    pub file: String,
    pub writes: bool,
    /// `rows`, `entities` or `count`, and the file's reason for it.
    pub compare: CompareMode,
    pub compare_reason: Option<String>,
    /// Parameter sets the result check ran (each on both sides).
    pub parameter_sets: usize,
    pub source: SideResult,
    pub target: SideResult,
    /// target/source ratios and the 95% bootstrap CI of the median ratio.
    pub comparison: Comparison,
    pub verdict: TimingVerdict,
    /// The first parameter set whose results differ.
    pub mismatch: Option<ResultMismatch>,
    /// What the result check set aside (columns or tables one side lacks).
    pub notes: Vec<String>,
    pub error: Option<String>,
    /// One line on how the two sides' results were brought to one shape
    /// before comparing (see `result_hash`).
    pub reconciled: String,
}

impl OperationResult {
    pub fn new(op: &Operation) -> OperationResult {
        OperationResult {
            repository: op.repository.clone(),
            operation: op.name.clone(),
            description: op.description.clone(),
            file: op.file.display().to_string(),
            writes: op.writes,
            compare: op.compare,
            compare_reason: op.reason.clone(),
            parameter_sets: 0,
            source: SideResult::new(op.source.statements.len()),
            target: SideResult::new(op.target.statements.len()),
            comparison: Comparison::default(),
            verdict: TimingVerdict::Same,
            mismatch: None,
            notes: Vec::new(),
            error: None,
            reconciled: reconciliation(op),
        }
    }
}

/// How an operation's two results are brought to one shape, in one line.
pub fn reconciliation(op: &Operation) -> String {
    let mut s = match op.compare {
        CompareMode::Rows => {
            "each side's rows decoded through its mapping, Drizzle's json_agg rows unnested per table, and compared as canonical values in sorted order; rows per execution differ when one side nests what the other returns flat".to_string()
        }
        CompareMode::Entities => {
            "each side's rows unnested into entities per table (Drizzle's json_agg rows included), merged by primary key, and compared as canonical values; rows per execution differ when one side joins and the other runs separate queries".to_string()
        }
        CompareMode::Count => "row counts per table compared".to_string(),
    };
    s.push_str("; columns only one side returns are left out");
    if !op.tolerance.is_empty() {
        let cols: Vec<String> = op
            .tolerance
            .iter()
            .map(|(c, _)| match &c.table {
                Some(t) => format!("{t}.{}", c.column),
                None => c.column.clone(),
            })
            .collect();
        s.push_str(&format!(
            "; {} compared within tolerance and left out of the hash",
            cols.join(", ")
        ));
    }
    s
}

/// One side of one operation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SideResult {
    /// Latency statistics in milliseconds.
    #[serde(flatten)]
    pub stats: LatencySummary,
    /// Statements in the captured list.
    pub statements: usize,
    /// Rows returned per execution (mean over the parameter sets).
    pub rows: f64,
    /// Round trips per execution (mean over the parameter sets).
    pub round_trips: f64,
    /// blake3 (first 8 bytes, hex) of the compared (canonical) results of
    /// every parameter set: each side's rows turned into entities through
    /// its mapping, Drizzle's `json_agg` rows unnested, duplicates merged by
    /// key in `entities` mode, columns only one side returns and columns
    /// compared within a tolerance left out. Equal on both sides when the
    /// results match.
    pub result_hash: String,
    /// Every measured latency, in run order (pairs with the other side's).
    pub samples_ms: Vec<f64>,
    /// The EXPLAIN file in the out dir (`--explain`), relative to it.
    pub explain_file: Option<String>,
    /// The median latency of each block, in run order (ms).
    pub block_p50_ms: Vec<f64>,
    /// The EXPLAIN document behind `explain_file`, values masked: the
    /// runner captures it, `report` writes it.
    #[serde(skip)]
    pub explain: Option<serde_json::Value>,
}

impl SideResult {
    fn new(statements: usize) -> SideResult {
        SideResult {
            statements,
            ..SideResult::default()
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultMismatch {
    /// 1-based index of the parameter set.
    pub parameter_set: usize,
    #[serde(flatten)]
    pub detail: Mismatch,
}

/// Why one parameter set's results differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mismatch {
    /// The table ("" for expression columns) where the difference is.
    pub table: String,
    pub source_rows: usize,
    pub target_rows: usize,
    /// Rows (entities) only the source returned, and only the target.
    pub only_in_source: usize,
    pub only_in_target: usize,
    /// Keys of the first differing rows, e.g. `id="r1"`.
    pub first_keys: Vec<String>,
    /// Columns that differ between unmatched rows with the same key.
    pub columns: Vec<String>,
    /// `rows` when the rows differ; `order` when both sides returned the
    /// same rows in a different order (then `first_keys` holds the source's
    /// and the target's row at `position`).
    pub kind: MismatchKind,
    /// `order`: the 1-based position of the first row where the two
    /// sequences part.
    pub position: Option<usize>,
}

/// What kind of difference a [`Mismatch`] is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// Rows only one side returned, or values that differ.
    #[default]
    Rows,
    /// The same rows, in a different order.
    Order,
}

impl Mismatch {
    /// One line for people: what differs, and where.
    pub fn describe(&self) -> String {
        match self.kind {
            MismatchKind::Order => format!(
                "same rows, different order in {}: they part at position {} (source {}, target {})",
                self.table,
                self.position.unwrap_or(0),
                self.first_keys.first().map_or("?", String::as_str),
                self.first_keys.get(1).map_or("?", String::as_str),
            ),
            MismatchKind::Rows => format!(
                "{} rows from source, {} from target in {}; {} only from source, {} only from target{}; first: {}",
                self.source_rows,
                self.target_rows,
                self.table,
                self.only_in_source,
                self.only_in_target,
                if self.columns.is_empty() {
                    String::new()
                } else {
                    format!(" (columns {})", self.columns.join(", "))
                },
                self.first_keys.join(" ")
            ),
        }
    }
}
