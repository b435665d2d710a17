//! The verdict a reader needs first, worded once for every renderer.
//!
//! Owns: the per-repository verdict (READY / NOT READY, its flag, one line
//! on why), the `global_flag` verdict, the closing line of `check`, and the
//! lines that say what `--max-differences` cut from `differences.csv`. The
//! console, `summary.md`, `report.html` and `junit.xml` all take their
//! wording from here, so they never disagree. It computes nothing from a
//! database: it reads a [`RunReport`]'s results.

use serde::Serialize;

use super::RunReport;
use crate::engine::{Status, TableResult};

/// What a run concluded, per repository (rollout phase) and for the global
/// flag. `report.json` field `verdict`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Verdict {
    /// `gate` for `parity run` (schema + data + timing: READY / NOT READY),
    /// `data` for `check` (data only: it can say NOT READY, never READY).
    pub scope: String,
    /// One per selected repository, in config order; one `all tables` entry
    /// when the config has no `[[repository]]`.
    pub repositories: Vec<RepositoryVerdict>,
    /// The config's `global_flag`, judged when every repository was run.
    pub global_flag: Option<GlobalFlagVerdict>,
    /// The console's closing line.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RepositoryVerdict {
    pub repository: String,
    pub flag: Option<String>,
    /// `READY`, `NOT READY`, or for `check` `DATA OK`.
    pub label: String,
    pub ready: bool,
    /// One line on why.
    pub why: String,
    /// The console line (`run` prints it).
    pub line: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct GlobalFlagVerdict {
    pub flag: String,
    pub ready: bool,
    /// Repositories that are not READY, in config order.
    pub not_ready: Vec<String>,
    /// E.g. `USE_DRIZZLE: NOT READY (repair, transaction)`.
    pub line: String,
}

impl GlobalFlagVerdict {
    /// The flag flips once every repository is READY.
    pub fn judge(flag: &str, repositories: &[RepositoryVerdict]) -> GlobalFlagVerdict {
        let not_ready: Vec<String> = repositories
            .iter()
            .filter(|r| !r.ready)
            .map(|r| r.repository.clone())
            .collect();
        let ready = not_ready.is_empty() && !repositories.is_empty();
        let line = if ready {
            format!(
                "{flag}: READY (all {} repositories READY)",
                repositories.len()
            )
        } else if repositories.is_empty() {
            format!("{flag}: NOT READY (no repositories checked)")
        } else {
            format!("{flag}: NOT READY ({})", not_ready.join(", "))
        };
        GlobalFlagVerdict {
            flag: flag.to_string(),
            ready,
            not_ready,
            line,
        }
    }
}

/// A table pair as every renderer names it: `users`, or
/// `audit_log → audit_events` when the two sides name it differently.
pub fn pair_name(t: &TableResult) -> String {
    if t.source_table == t.target_table {
        t.source_table.clone()
    } else {
        format!("{} → {}", t.source_table, t.target_table)
    }
}

/// A table's counts in the order every report lists them: source rows,
/// target rows, matched, missing in target, extra in target, different.
pub fn row_counts(t: &TableResult) -> [u64; 6] {
    [
        t.source_rows,
        t.target_rows,
        t.matched,
        t.missing_in_target,
        t.extra_in_target,
        t.different,
    ]
}

/// What differs in one table, one item per differing column and per
/// missing/extra count: `repairs.estimated_cost (1431 rows)`.
pub fn table_items(t: &TableResult) -> Vec<String> {
    let mut items = Vec::new();
    match t.status {
        Status::Error => items.push(format!("{} (failed)", t.source_table)),
        Status::Incomplete => items.push(format!("{} (not checked: run stopped)", t.source_table)),
        Status::Ok => {}
        Status::Differs => {
            for (c, n) in &t.columns_differing {
                items.push(format!("{}.{c} ({n} {})", t.source_table, rows(*n)));
            }
            if t.different > 0 && t.columns_differing.is_empty() {
                items.push(format!(
                    "{} ({} different {})",
                    t.source_table,
                    t.different,
                    rows(t.different)
                ));
            }
            if t.missing_in_target > 0 {
                items.push(format!(
                    "{} ({} {} missing in target)",
                    t.source_table,
                    t.missing_in_target,
                    rows(t.missing_in_target)
                ));
            }
            if t.extra_in_target > 0 {
                items.push(format!(
                    "{} ({} extra {} in target)",
                    t.source_table,
                    t.extra_in_target,
                    rows(t.extra_in_target)
                ));
            }
            if items.is_empty() {
                items.push(format!("{} (differs)", t.source_table));
            }
        }
    }
    items
}

fn rows(n: u64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// The closing line of a data check, e.g. `2 of 8 tables differ:
/// repairs.estimated_cost (1431 rows), transactions.occurred_at (440 rows)
/// → exit 1`.
pub fn closing_line(tables: &[TableResult], exit_code: i32) -> String {
    format!("{} → exit {exit_code}", data_line(tables))
}

/// [`closing_line`] without the exit code.
pub fn data_line(tables: &[TableResult]) -> String {
    let total = tables.len();
    if total == 0 {
        return "no tables checked".to_string();
    }
    let failed: Vec<&TableResult> = tables
        .iter()
        .filter(|t| t.status == Status::Error)
        .collect();
    let differing: Vec<&TableResult> = tables
        .iter()
        .filter(|t| t.status == Status::Differs)
        .collect();
    let mut parts = Vec::new();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|t| t.source_table.as_str()).collect();
        parts.push(format!(
            "{} of {total} {} failed: {}",
            failed.len(),
            tables_word(total),
            names.join(", ")
        ));
    }
    if !differing.is_empty() {
        let items: Vec<String> = differing.iter().flat_map(|t| table_items(t)).collect();
        let lead = if failed.is_empty() {
            format!("{} of {total} {}", differing.len(), tables_word(total))
        } else {
            differing.len().to_string()
        };
        parts.push(format!(
            "{lead} {}: {}",
            if differing.len() == 1 {
                "differs"
            } else {
                "differ"
            },
            items.join(", ")
        ));
    }
    if parts.is_empty() {
        parts.push(format!(
            "{total} of {total} {} at parity",
            tables_word(total)
        ));
    }
    parts.join("; ")
}

fn tables_word(n: usize) -> &'static str {
    if n == 1 { "table" } else { "tables" }
}

/// Whether `differences.csv` lists fewer rows of this table than differ.
pub fn is_truncated(t: &TableResult) -> bool {
    t.differences_truncated
}

/// One line per table whose differences were cut:
/// `transactions: differences.csv truncated: 1000 of 2205 rows (--max-differences)`.
pub fn truncation_lines(tables: &[TableResult]) -> Vec<String> {
    tables
        .iter()
        .filter(|t| is_truncated(t))
        .map(|t| {
            format!(
                "{}: differences.csv truncated: {} of {} rows (--max-differences)",
                t.source_table,
                t.differences.len(),
                t.missing_in_target + t.extra_in_target + t.different
            )
        })
        .collect()
}

/// The data-only verdict of `check` per repository: `NOT READY` when a
/// table differs or failed, else `DATA OK` (READY needs `parity run`).
pub fn data_verdict(run: &RunReport, repositories: &[(String, Option<String>)]) -> Verdict {
    let mut out = Vec::new();
    let mut groups: Vec<(String, Option<String>, Vec<&TableResult>)> = repositories
        .iter()
        .map(|(name, flag)| {
            (
                name.clone(),
                flag.clone(),
                run.tables
                    .iter()
                    .filter(|t| t.repository.as_deref() == Some(name.as_str()))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, _, ts)| !ts.is_empty())
        .collect();
    let outside: Vec<&TableResult> = run
        .tables
        .iter()
        .filter(|t| {
            t.repository
                .as_deref()
                .is_none_or(|r| !repositories.iter().any(|(n, _)| n == r))
        })
        .collect();
    if !outside.is_empty() {
        let name = if groups.is_empty() {
            "all tables"
        } else {
            "other tables"
        };
        groups.push((name.to_string(), None, outside));
    }
    for (name, flag, tables) in groups {
        let bad: Vec<String> = tables.iter().flat_map(|t| table_items(t)).collect();
        let ready = bad.is_empty();
        let rows: u64 = tables.iter().map(|t| t.source_rows).sum();
        let why = if ready {
            format!(
                "data at parity ({} {}, {rows} rows); READY needs `parity run` (schema and timing too)",
                tables.len(),
                tables_word(tables.len())
            )
        } else {
            format!("data differs: {}", bad.join(", "))
        };
        let label = if ready { "DATA OK" } else { "NOT READY" }.to_string();
        let flag_part = flag
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        out.push(RepositoryVerdict {
            line: format!("{name}{flag_part}: {why} → {label}"),
            repository: name,
            flag,
            label,
            ready,
            why,
        });
    }
    Verdict {
        scope: "data".into(),
        repositories: out,
        global_flag: None,
        summary: closing_line(&run.tables, run.exit_code.unwrap_or(0)),
    }
}

/// One table's result on stderr as it finishes, within 80 columns:
/// `repairs      differs       2000 rows  1431 different  0.31s`. Very
/// large counts fall back to `diff`/`miss`, then the line is cut.
pub fn result_line(t: &TableResult) -> String {
    let build = |short: bool| {
        let mut detail = Vec::new();
        for (n, long, abbr) in [
            (t.different, "different", "diff"),
            (t.missing_in_target, "missing", "miss"),
            (t.extra_in_target, "extra", "extra"),
        ] {
            if n > 0 {
                detail.push(format!("{n} {}", if short { abbr } else { long }));
            }
        }
        if t.status == Status::Error {
            detail.push("failed".into());
        }
        let tail = format!(
            "{:<7} {:>10} rows  {}{:.2}s",
            t.status.as_str(),
            t.source_rows,
            if detail.is_empty() {
                String::new()
            } else {
                format!("{}  ", detail.join(", "))
            },
            t.wall_seconds
        );
        // The name takes what is left of 80 columns (12 to 28).
        let room = 79usize.saturating_sub(tail.chars().count()).clamp(12, 28);
        let name = crate::ui::fit(&t.source_table, room);
        format!("{name:<room$} {tail}")
    };
    let line = build(false);
    if line.chars().count() <= 80 {
        return line;
    }
    crate::ui::fit(&build(true), 80)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{DiffKind, RowDifference};

    /// A table result with the given counts and differing columns.
    pub(crate) fn table(
        repo: &str,
        name: &str,
        rows: u64,
        different: u64,
        columns: &[(&str, u64)],
    ) -> TableResult {
        let pair_source = name.to_string();
        let mut t = crate::engine::TableResult {
            repository: Some(repo.to_string()),
            source_table: pair_source.clone(),
            target_table: pair_source,
            source_rows: rows,
            target_rows: rows,
            matched: rows - different,
            different,
            status: if different > 0 {
                Status::Differs
            } else {
                Status::Ok
            },
            source_seconds: 0.5,
            target_seconds: 0.5,
            wall_seconds: 0.6,
            chunks: 1,
            shared_read: true,
            columns_differing: columns.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            ..Default::default()
        };
        for i in 0..different.min(1000) {
            t.differences.push(RowDifference {
                key: serde_json::json!({ "id": i }),
                kind: DiffKind::Different,
                columns: vec![columns.first().map(|c| c.0).unwrap_or("x").to_string()],
                values: None,
                chunk: None,
                sort_key: None,
            });
        }
        t.mark_truncated(1000);
        t
    }

    #[test]
    fn the_closing_line_names_each_differing_column_and_the_exit_code() {
        let mut tables = vec![
            table("user", "users", 10, 0, &[]),
            table("repair", "repairs", 2000, 1431, &[("estimated_cost", 1431)]),
            table(
                "transaction",
                "transactions",
                3000,
                440,
                &[("occurred_at", 440)],
            ),
        ];
        for n in ["a", "b", "c", "d", "e"] {
            tables.push(table("other", n, 1, 0, &[]));
        }
        assert_eq!(
            closing_line(&tables, 1),
            "2 of 8 tables differ: repairs.estimated_cost (1431 rows), transactions.occurred_at (440 rows) → exit 1"
        );
        assert_eq!(
            closing_line(&tables[..1], 0),
            "1 of 1 table at parity → exit 0"
        );
        let mut failed = tables.clone();
        failed[0].status = Status::Error;
        assert_eq!(
            closing_line(&failed, 2),
            "1 of 8 tables failed: users; 2 differ: repairs.estimated_cost (1431 rows), transactions.occurred_at (440 rows) → exit 2"
        );
        let mut missing = table("t", "t", 5, 0, &[]);
        missing.status = Status::Differs;
        missing.missing_in_target = 1;
        missing.extra_in_target = 2;
        assert_eq!(
            table_items(&missing),
            ["t (1 row missing in target)", "t (2 extra rows in target)"]
        );
    }

    #[test]
    fn a_cut_is_said_with_the_word_truncated() {
        let t = table(
            "transaction",
            "transactions",
            5000,
            2205,
            &[("amount", 2205)],
        );
        assert!(t.differences_truncated);
        assert_eq!(
            truncation_lines(std::slice::from_ref(&t)),
            ["transactions: differences.csv truncated: 1000 of 2205 rows (--max-differences)"]
        );
        // Exactly at the cap, nothing was cut.
        let t = table(
            "transaction",
            "transactions",
            5000,
            1000,
            &[("amount", 1000)],
        );
        assert!(!t.differences_truncated);
        assert!(truncation_lines(&[t]).is_empty());
    }

    #[test]
    fn the_global_flag_waits_for_every_repository() {
        let r = |name: &str, ready: bool| RepositoryVerdict {
            repository: name.into(),
            ready,
            ..RepositoryVerdict::default()
        };
        let g = GlobalFlagVerdict::judge(
            "USE_DRIZZLE",
            &[r("user", true), r("repair", false), r("transaction", false)],
        );
        assert_eq!(g.line, "USE_DRIZZLE: NOT READY (repair, transaction)");
        assert!(!g.ready);
        let g = GlobalFlagVerdict::judge("USE_DRIZZLE", &[r("user", true), r("bike", true)]);
        assert_eq!(g.line, "USE_DRIZZLE: READY (all 2 repositories READY)");
    }

    #[test]
    fn a_data_check_can_say_not_ready_but_never_ready() {
        let run = RunReport {
            tables: vec![
                table("user", "users", 10, 0, &[]),
                table("repair", "repairs", 20, 3, &[("estimated_cost", 3)]),
            ],
            exit_code: Some(1),
            ..RunReport::default()
        };
        let v = data_verdict(
            &run,
            &[
                ("user".into(), Some("drizzle_user_repo".into())),
                ("repair".into(), Some("drizzle_repair_repo".into())),
            ],
        );
        assert_eq!(v.repositories[0].label, "DATA OK");
        assert_eq!(
            v.repositories[1].line,
            "repair (drizzle_repair_repo): data differs: repairs.estimated_cost (3 rows) → NOT READY"
        );
        assert!(v.repositories.iter().all(|r| r.label != "READY"));
    }

    #[test]
    fn result_lines_fit_80_columns() {
        let mut t = table(
            "transaction",
            "a_rather_long_schema.transactions_archive_2024",
            123_456_789,
            1_234_567,
            &[("amount", 1_234_567)],
        );
        t.missing_in_target = 12_345;
        t.extra_in_target = 6_789;
        t.wall_seconds = 1234.5;
        let line = result_line(&t);
        assert!(
            line.chars().count() <= 80,
            "{} chars: {line}",
            line.chars().count()
        );
        assert!(
            line.contains("1234567 diff, 12345 miss, 6789 extra"),
            "{line}"
        );
        t.missing_in_target = 0;
        t.extra_in_target = 0;
        t.source_rows = 2_000_000;
        t.wall_seconds = 12.5;
        let line = result_line(&t);
        assert!(
            line.contains("2000000 rows  1234567 different  12.50s"),
            "{line}"
        );
        assert!(line.chars().count() <= 80, "{line}");
        let ok = result_line(&table("user", "users", 2000, 0, &[]));
        assert!(ok.starts_with("users "), "{ok}");
        assert!(ok.chars().count() <= 80);
    }
}
