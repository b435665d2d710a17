//! `summary.md` of `parity timing` and `parity run`: the data check's
//! summary first when the run checked tables (`markdown::render`), then
//! the `## Query timing` section: the method in one paragraph, the counts
//! by verdict, a row per operation, and what needs a word (errors,
//! mismatches, compare modes, outliers, notes).

use std::fmt::Write as _;

use super::{block_spread, figures, method, num};
use crate::report::markdown::{self, bullets, cell, head};
use crate::report::{Rendered, RunReport};
use crate::timing::result::MismatchKind;
use crate::timing::{CompareMode, TimingSection};

pub const SUMMARY: Rendered =
    Rendered::new(&["summary.md"], |run| Ok(Some(render(run).into_bytes())));

/// The whole `summary.md`: the data-check part when the run has tables,
/// then the timing section.
pub fn render(run: &RunReport) -> String {
    let mut s = if run.tables.is_empty() {
        let mut s = String::new();
        let _ = writeln!(s, "# parity {}\n", run.command);
        head(&mut s, run);
        if !run.notes.is_empty() {
            bullets(&mut s, "Notes", &run.notes);
            s.push('\n');
        }
        s
    } else {
        let mut s = markdown::render(run);
        s.push('\n');
        s
    };
    if let Some(t) = &run.timing {
        s.push_str(&section(t));
    }
    s
}

/// The `## Query timing` section of `summary.md`.
fn section(t: &TimingSection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Query timing\n");
    let _ = writeln!(s, "{}\n", method(t, |w| format!("`{w}`")));
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
            "| {}/{} | {} | {}/{} | {}/{} | **{}** | {} |",
            cell(&o.repository),
            cell(&o.operation),
            figures(o).join(" | "),
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
            if m.detail.kind == MismatchKind::Order {
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
        if o.compare != CompareMode::Rows {
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
