//! How a table came out, and the one exit-code rule.
//!
//! Owns: [`TableResult`] and what it holds (status, row differences, value
//! differences, shapes), its one constructor [`TableResult::new`] (every
//! other way to start a result goes through it), and [`exit_code_for`],
//! the rule every command's exit code comes from. The field doc comments
//! are the JSON schema of `report.json`'s tables. It does not render
//! anything (`report` does).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{ShapeRisk, TablePair};

/// How one table pair came out.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TableResult {
    /// Rollout phase (`[[repository]]`), when the config names one.
    pub repository: Option<String>,
    pub source_table: String,
    pub target_table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Rows present on both sides with equal values.
    pub matched: u64,
    pub missing_in_target: u64,
    pub extra_in_target: u64,
    /// Rows present on both sides whose values differ.
    pub different: u64,
    pub status: Status,
    /// Time spent reading the source side (sum over chunks).
    pub source_seconds: f64,
    pub target_seconds: f64,
    /// Wall-clock time for the whole table.
    pub wall_seconds: f64,
    pub chunks: usize,
    /// True when both mappings were read from one scan of the same table
    /// in the same snapshot.
    pub shared_read: bool,
    /// Chunk reads retried after a lost connection.
    pub retries: u64,
    /// Source column → number of rows where it differs.
    pub columns_differing: BTreeMap<String, u64>,
    /// The first `max_differences` row differences.
    pub differences: Vec<RowDifference>,
    /// Shape differences from the mapping plan, per column.
    pub shapes: Vec<ColumnShape>,
    /// Columns compared (source physical names) and those ignored by config.
    pub columns_compared: Vec<String>,
    pub columns_ignored: Vec<String>,
    pub error: Option<String>,
    /// True when `differences` (and `differences.csv`) stop at
    /// `--max-differences` while more rows differ; the counts above are
    /// always the true ones.
    pub differences_truncated: bool,
    /// Rows present on both sides with at least one cell that one side's
    /// ORM cannot read at all (its read throws): counted apart from
    /// `different`, so `matched + different + unreadable` is the number of
    /// rows present on both sides. A cell unreadable identically on both
    /// sides is not counted (both ORMs fail alike).
    pub unreadable: u64,
    /// Source column → number of rows where one side cannot read it.
    pub columns_unreadable: BTreeMap<String, u64>,
    /// How the rows were paired when the mappings name no primary key (a
    /// unique criterion used as the key, or a keyless multiset); `None` for
    /// a primary key.
    pub key_note: Option<String>,
    /// Rows that differed when first read but not when re-read in a fresh
    /// snapshot (a sharded run, or readers outside one shared view): writes
    /// in flight, not counted as differences.
    pub in_flight: u64,
    /// The chunks this run read (a sharded run): `report.json` lists them
    /// in its `partial` section.
    #[serde(skip)]
    pub covered: Vec<super::shard::ChunkRange>,
    /// Where the chunks were compared (issue 13): `pushdown` (hashed in
    /// both databases; only differing chunks read) or `client` (every row
    /// read); empty for a table not read.
    pub mode: String,
    /// Why a table ran `client`, when pushdown was asked for (`auto` or
    /// `pushdown`) and could not be exact; empty otherwise.
    pub mode_reason: String,
    /// Chunks hashed in the databases (pushdown).
    pub chunks_hashed: usize,
    /// Of those, chunks whose hashes differed, read and compared row by row.
    pub chunks_read_after_hashing: usize,
    /// Payload bytes received from both servers for this table: rows read
    /// (COPY binary) plus chunk hashes.
    pub bytes_received: u64,
}

impl TableResult {
    /// The one constructor: a table not yet read (status `ok`, every count
    /// zero), named by its two sides.
    pub fn new(
        repository: Option<String>,
        source_table: impl Into<String>,
        target_table: impl Into<String>,
    ) -> TableResult {
        TableResult {
            repository,
            source_table: source_table.into(),
            target_table: target_table.into(),
            ..TableResult::default()
        }
    }

    /// A planned pair before it is read: its names, the plan's shape
    /// differences, the compared and ignored columns and the key note.
    pub fn for_pair(pair: &TablePair) -> TableResult {
        let names = |ignored: bool| {
            pair.columns
                .iter()
                .filter(|c| c.ignore == ignored)
                .map(|c| c.source.name.clone())
                .collect()
        };
        TableResult {
            shapes: pair
                .columns
                .iter()
                .flat_map(|c| {
                    c.shapes.iter().map(|s| ColumnShape {
                        column: c.source.name.clone(),
                        code: s.code.clone(),
                        risk: s.risk,
                        message: s.message.clone(),
                    })
                })
                .collect(),
            columns_compared: names(false),
            columns_ignored: names(true),
            key_note: pair.key_note.clone(),
            ..TableResult::new(
                pair.repository.clone(),
                pair.source.qualified_name(),
                pair.target.qualified_name(),
            )
        }
    }

    /// A row that is only a verdict (a table one mapping lacks, a table a
    /// stopped run did not reach): `status`, and why.
    pub fn with_error(mut self, status: Status, error: impl Into<String>) -> TableResult {
        self.status = status;
        self.error = Some(error.into());
        self
    }

    /// `differs` when any row is missing, extra, different or unreadable,
    /// else `ok`.
    pub fn settle_status(&mut self) {
        let differing =
            self.missing_in_target + self.extra_in_target + self.different + self.unreadable;
        self.status = if differing > 0 {
            Status::Differs
        } else {
            Status::Ok
        };
    }

    /// Sets [`TableResult::differences_truncated`]: the listed differences
    /// hit the cap while more rows differ (a keyless table names no rows at
    /// all, which is not a cut).
    pub fn mark_truncated(&mut self, max_differences: usize) {
        let total =
            self.missing_in_target + self.extra_in_target + self.different + self.unreadable;
        let listed = self.differences.len() as u64;
        self.differences_truncated =
            self.status == Status::Differs && listed >= max_differences as u64 && total > listed;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Ok,
    Differs,
    Error,
    /// The run was stopped (Ctrl-C, SIGTERM) before this table was checked.
    Incomplete,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Differs => "differs",
            Status::Error => "error",
            Status::Incomplete => "incomplete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    MissingInTarget,
    ExtraInTarget,
    Different,
    /// The source mapping's ORM throws reading these cells.
    UnreadableInSource,
    /// The target mapping's ORM throws reading these cells.
    UnreadableInTarget,
}

impl DiffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::MissingInTarget => "missing_in_target",
            DiffKind::ExtraInTarget => "extra_in_target",
            DiffKind::Different => "different",
            DiffKind::UnreadableInSource => "unreadable_in_source",
            DiffKind::UnreadableInTarget => "unreadable_in_target",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowDifference {
    /// `{physical key column: value}`, integers as exact JSON numbers.
    pub key: serde_json::Value,
    pub kind: DiffKind,
    /// Source physical names of the differing columns (`different`), or of
    /// the unreadable cells (`unreadable_in_source` / `unreadable_in_target`).
    pub columns: Vec<String>,
    /// Only with `--show-values`: each differing column's two readings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<ValueDifference>>,
    /// The chunk it was found in (a sharded run only): how `parity merge`
    /// puts the shards' differences back in key order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<usize>,
    /// Its key's sort encoding, hex (a sharded run only): the order an
    /// unsharded run lists differences in, which `parity merge` restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<String>,
}

impl RowDifference {
    /// A difference named by key and kind only (no columns, no values).
    pub fn bare(key: serde_json::Value, kind: DiffKind) -> RowDifference {
        RowDifference {
            key,
            kind,
            columns: Vec::new(),
            values: None,
            chunk: None,
            sort_key: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValueDifference {
    pub column: String,
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnShape {
    pub column: String,
    pub code: String,
    pub risk: ShapeRisk,
    pub message: String,
}

/// What decides an exit code, whatever the command found it in: tables,
/// catalog findings, chunk findings, verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Something could not be checked (an error, or a stopped run).
    pub error: bool,
    /// Something differs (rows, findings, a verdict that is not READY).
    pub differences: bool,
}

impl Outcome {
    /// The outcome of checked tables: any `error` or `incomplete` row is an
    /// error, any `differs` row a difference.
    pub fn of_tables(tables: &[TableResult]) -> Outcome {
        Outcome {
            error: tables
                .iter()
                .any(|r| matches!(r.status, Status::Error | Status::Incomplete)),
            differences: tables.iter().any(|r| r.status == Status::Differs),
        }
    }
}

/// The one exit-code rule: 2 when anything could not be checked, else 1
/// when anything differs, else 0.
pub fn exit_code_for(outcome: Outcome) -> i32 {
    crate::exit::of(outcome.error, outcome.differences)
}

/// 0 when every table is at parity, 1 when any row differs, 2 on any error.
pub fn exit_code(results: &[TableResult]) -> i32 {
    exit_code_for(Outcome::of_tables(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: Status) -> TableResult {
        TableResult {
            status,
            ..TableResult::new(None, "t", "t")
        }
    }

    #[test]
    fn error_beats_differences_beats_ok() {
        use crate::exit::{DIFFERENCES, ERROR, OK};
        let cases: &[(&[Status], i32)] = &[
            (&[], OK),
            (&[Status::Ok, Status::Ok], OK),
            (&[Status::Ok, Status::Differs], DIFFERENCES),
            (&[Status::Differs, Status::Error], ERROR),
            (&[Status::Ok, Status::Incomplete], ERROR),
        ];
        for (statuses, code) in cases {
            let tables: Vec<_> = statuses.iter().map(|s| with(*s)).collect();
            assert_eq!(exit_code(&tables), *code, "{statuses:?}");
        }
        let found = |error, differences| exit_code_for(Outcome { error, differences });
        assert_eq!(
            [
                found(false, false),
                found(false, true),
                found(true, false),
                found(true, true)
            ],
            [OK, DIFFERENCES, ERROR, ERROR]
        );
    }

    #[test]
    fn truncation_is_marked_only_when_rows_are_left_out() {
        let mut r = with(Status::Differs);
        r.different = 3;
        r.differences =
            vec![RowDifference::bare(serde_json::json!({"id": 1}), DiffKind::Different); 2];
        r.mark_truncated(2);
        assert!(r.differences_truncated, "3 differ, 2 listed at a cap of 2");
        r.different = 2;
        r.mark_truncated(2);
        assert!(!r.differences_truncated, "all listed");
        r.settle_status();
        assert_eq!(r.status, Status::Differs);
        r.different = 0;
        r.settle_status();
        assert_eq!(r.status, Status::Ok);
    }
}
