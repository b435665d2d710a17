//! `summary.md` of a data check: the verdict first, then per repository
//! (rollout phase) and per table, with the mapping's shape differences
//! beside the value differences, and the read timing per side. Also the
//! Markdown pieces the other `summary.md`s share (the run's head, bullet
//! lists, table cells).

use std::fmt::{Display, Write as _};

use super::verdict::row_counts;
use super::{Rendered, RunReport};
use crate::engine::{Status, TableResult};
use crate::plan::ShapeRisk;

/// `summary.md` of `check`, `backup` and `demo`.
pub const SUMMARY: Rendered =
    Rendered::new(&["summary.md"], |run| Ok(Some(render(run).into_bytes())));

pub fn render(run: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# parity {}\n", run.command);
    verdict_block(&mut s, run);
    head(&mut s, run);
    let (ok, differs, errors) = counts(&run.tables);
    let _ = writeln!(
        s,
        "**{} tables: {ok} at parity, {differs} differ, {errors} failed.**\n",
        run.tables.len()
    );
    let mut repos: Vec<Option<String>> = Vec::new();
    for t in &run.tables {
        if !repos.contains(&t.repository) {
            repos.push(t.repository.clone());
        }
    }
    for repo in repos {
        let tables: Vec<&TableResult> =
            run.tables.iter().filter(|t| t.repository == repo).collect();
        let _ = writeln!(
            s,
            "## {}\n",
            repo.as_deref()
                .map(|r| format!("Repository `{r}`"))
                .unwrap_or_else(|| "Tables outside any repository".into())
        );
        let _ = writeln!(
            s,
            "| table | source rows | target rows | matched | missing in target | extra in target | different | status | unreadable |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---|---:|");
        for t in &tables {
            let name = cell(&super::verdict::pair_name(t));
            let counts = row_counts(t).map(|n| n.to_string()).join(" | ");
            let _ = writeln!(
                s,
                "| {name} | {counts} | {} | {} |",
                t.status.as_str(),
                t.unreadable
            );
        }
        s.push('\n');
        for t in &tables {
            if let Some(e) = &t.error {
                let _ = writeln!(s, "- **{}** failed: {e}", t.source_table);
            }
            if let Some(n) = &t.key_note {
                let _ = writeln!(s, "- **{}** key: {n}", t.source_table);
            }
            if t.in_flight > 0 {
                let _ = writeln!(
                    s,
                    "- **{}** {}",
                    t.source_table,
                    in_flight_line(t.in_flight)
                );
            }
            for (what, cols) in [
                ("unreadable (an ORM's read throws)", &t.columns_unreadable),
                ("value differences", &t.columns_differing),
            ] {
                if !cols.is_empty() {
                    let cols: Vec<String> = cols
                        .iter()
                        .map(|(c, n)| format!("`{c}` ({n} rows)"))
                        .collect();
                    let _ = writeln!(s, "- **{}** {what}: {}", t.source_table, cols.join(", "));
                }
            }
            for sh in &t.shapes {
                let _ = writeln!(
                    s,
                    "- **{}.{}** shape `{}`{}: {}",
                    t.source_table,
                    sh.column,
                    sh.code,
                    match sh.risk {
                        ShapeRisk::Value => " (can lose information)",
                        ShapeRisk::Note => " (risk note, no shape difference)",
                        ShapeRisk::Shape => "",
                    },
                    sh.message
                );
            }
            if !t.columns_ignored.is_empty() {
                let _ = writeln!(
                    s,
                    "- **{}** ignored by config: {}",
                    t.source_table,
                    t.columns_ignored.join(", ")
                );
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Read timing\n");
    let _ = writeln!(
        s,
        "| table | chunks | source s | source rows/s | target s | target rows/s | wall s |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for t in &run.tables {
        let rate = |rows: u64, secs: f64| {
            if secs > 0.0 {
                format!("{:.0}", rows as f64 / secs)
            } else {
                "-".into()
            }
        };
        let _ = writeln!(
            s,
            "| {}{} | {} | {:.3} | {} | {:.3} | {} | {:.3} |",
            cell(&t.source_table),
            if t.shared_read {
                " (one shared read)"
            } else {
                ""
            },
            t.chunks,
            t.source_seconds,
            rate(t.source_rows, t.source_seconds),
            t.target_seconds,
            rate(t.target_rows, t.target_seconds),
            t.wall_seconds
        );
    }
    let only = |tables: &[String], side: &str| -> Vec<String> {
        tables
            .iter()
            .map(|t| format!("`{t}`: only the {side} mapping has it"))
            .collect()
    };
    let mut not_compared = only(&run.only_source_tables, "source");
    not_compared.extend(only(&run.only_target_tables, "target"));
    if !not_compared.is_empty() {
        s.push('\n');
        bullets(&mut s, "Not compared", &not_compared);
    }
    if !run.notes.is_empty() {
        s.push('\n');
        bullets(&mut s, "Notes", &run.notes);
    }
    s
}

/// Under the title: the two sides, when the run started, whether it is
/// still going, and a stopped run's reason.
pub(super) fn head(s: &mut String, run: &RunReport) {
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
}

/// `## heading`, a blank line, then one `- item` line per item.
pub(super) fn bullets<T: Display>(s: &mut String, heading: &str, items: &[T]) {
    let _ = writeln!(s, "## {heading}\n");
    for i in items {
        let _ = writeln!(s, "- {i}");
    }
}

/// The verdict first: one line per repository (READY / NOT READY, its
/// flag, why), the global flag, the closing line and what was cut. Kept
/// within the file's first 15 lines for up to 8 repositories.
fn verdict_block(s: &mut String, run: &RunReport) {
    let _ = writeln!(s, "## Verdict\n");
    let Some(v) = &run.verdict else {
        let _ = writeln!(
            s,
            "In progress: {} tables checked so far; the verdict comes when the run ends.\n",
            run.tables.len()
        );
        return;
    };
    for r in &v.repositories {
        let flag = r
            .flag
            .as_deref()
            .map(|f| format!(" (`{f}`)"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "- **{}**{flag}: **{}** — {}",
            r.repository, r.label, r.why
        );
    }
    if let Some(g) = &v.global_flag {
        let _ = writeln!(s, "- **{}**", g.line);
    }
    if !v.repositories.is_empty() || v.global_flag.is_some() {
        s.push('\n');
    }
    if v.scope == "gate" {
        let _ = writeln!(
            s,
            "Data: {}; exit code {}.",
            super::verdict::data_line(&run.tables),
            run.exit_code.unwrap_or(0)
        );
    } else {
        let _ = writeln!(s, "{}", v.summary);
    }
    let cut = super::verdict::truncation_lines(&run.tables);
    if !cut.is_empty() {
        s.push('\n');
        for l in cut {
            let _ = writeln!(s, "- {l}");
        }
    }
    s.push('\n');
}

/// Text for a Markdown table cell: a `|` (legal in a quoted SQL name)
/// would end the cell, a newline the row.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

pub fn counts(tables: &[TableResult]) -> (usize, usize, usize) {
    let by = |st: Status| tables.iter().filter(|t| t.status == st).count();
    (by(Status::Ok), by(Status::Differs), by(Status::Error))
}

/// What `in_flight` rows mean, for a reader of the report.
pub(super) fn in_flight_line(n: u64) -> String {
    format!(
        "in flight: {n} row(s) differed at the first read but not when re-read in a fresh snapshot (writes during the run), not counted as differences"
    )
}
