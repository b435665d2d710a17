//! What the commands print on stdout, as text: `check`'s table of tables
//! and closing line, `timing`'s table of operations. Data only; progress
//! and errors go to stderr through `ui`.

use std::fmt::Write as _;
use std::io::Write as _;

use super::RunReport;
use super::verdict;
use crate::timing::TimingSection;
use crate::timing::result::MismatchKind;

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// What `check` prints on stdout: the table, what `--max-differences` cut,
/// and one closing line.
pub fn console_summary(run: &RunReport) -> String {
    let mut s = summary_table(run);
    let closing = run
        .verdict
        .as_ref()
        .map(|v| v.summary.clone())
        .unwrap_or_else(|| verdict::closing_line(&run.tables, run.exit_code.unwrap_or(0)));
    s.push_str(&closing);
    s.push('\n');
    s
}

/// The data on stdout: one line per table, then one line per table whose
/// differences.csv was cut. A closed stdout is not an error here.
pub fn print_summary(run: &RunReport) {
    let _ = print(&summary_table(run));
}

/// The table [`print_summary`] prints, within 80 columns for names up to
/// 14 characters (longer names widen the first column).
pub fn summary_table(run: &RunReport) -> String {
    let width = run
        .tables
        .iter()
        .map(|t| t.source_table.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    // The unreadable column shows only when some table has such rows, so
    // the usual table stays within 80 columns.
    let any_unreadable = run.tables.iter().any(|t| t.unreadable > 0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<width$} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}  status{}",
        "table",
        "source",
        "target",
        "matched",
        "missing",
        "extra",
        "different",
        if any_unreadable { "   unreadable" } else { "" }
    );
    for t in &run.tables {
        let status = t.status.as_str();
        let unreadable = if any_unreadable {
            let padded =
                t.unreadable.to_string() + &" ".repeat(7usize.saturating_sub(status.len()));
            format!("{padded:>13}")
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{:<width$} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}  {status}{unreadable}",
            t.source_table,
            t.source_rows,
            t.target_rows,
            t.matched,
            t.missing_in_target,
            t.extra_in_target,
            t.different,
        );
    }
    for l in verdict::truncation_lines(&run.tables) {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// What `timing` prints on stdout: one line per operation, and under an
/// operation whose results differ, how.
pub fn timing_table(t: &TimingSection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<44} {:>10} {:>10} {:>7} {:>16} {:>7}  verdict",
        "operation", "source p50", "target p50", "ratio", "95% CI", "p95 ×"
    );
    for o in &t.operations {
        let _ = writeln!(
            s,
            "{:<44} {:>8.3}ms {:>8.3}ms {:>7.2} {:>16} {:>7.2}  {}",
            format!("{}/{}", o.repository, o.operation),
            o.source.stats.p50_ms,
            o.target.stats.p50_ms,
            o.comparison.ratio_p50,
            format!("[{:.2}, {:.2}]", o.comparison.ci_low, o.comparison.ci_high),
            o.comparison.ratio_p95,
            o.verdict.as_str()
        );
        let Some(m) = &o.mismatch else { continue };
        let d = &m.detail;
        if d.kind == MismatchKind::Order {
            let _ = writeln!(
                s,
                "    results differ for parameter set {}: {}",
                m.parameter_set,
                d.describe()
            );
        } else {
            let columns = if d.columns.is_empty() {
                String::new()
            } else {
                format!(" (columns {})", d.columns.join(", "))
            };
            let _ = writeln!(
                s,
                "    results differ for parameter set {} in {}: {} only from source, {} only from target{columns}; first: {}",
                m.parameter_set,
                d.table,
                d.only_in_source,
                d.only_in_target,
                d.first_keys.join(" ")
            );
        }
    }
    s
}
