//! What the commands print on stdout, as text: `check`'s table of tables
//! and closing line, `timing`'s table of operations. Data only; progress
//! and errors go to stderr through `ui`.

use std::fmt::Write as _;
use std::io::Write as _;

use super::RunReport;
use super::verdict;
use crate::engine::TableResult;
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

/// One count column of [`summary_table`]: heading, width, value.
type CountColumn = (&'static str, usize, fn(&TableResult) -> u64);

/// The count columns after the table name.
const COUNTS: [CountColumn; 6] = [
    ("source", 9, |t| t.source_rows),
    ("target", 9, |t| t.target_rows),
    ("matched", 9, |t| t.matched),
    ("missing", 7, |t| t.missing_in_target),
    ("extra", 7, |t| t.extra_in_target),
    ("different", 9, |t| t.different),
];

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
    let mut s = format!("{:<width$}", "table");
    for (heading, w, _) in COUNTS {
        let _ = write!(s, " {heading:>w$}");
    }
    s.push_str("  status");
    if any_unreadable {
        s.push_str("   unreadable");
    }
    s.push('\n');
    for t in &run.tables {
        let _ = write!(s, "{:<width$}", t.source_table);
        for (_, w, value) in COUNTS {
            let _ = write!(s, " {:>w$}", value(t));
        }
        let status = t.status.as_str();
        let _ = write!(s, "  {status}");
        if any_unreadable {
            let padded =
                t.unreadable.to_string() + &" ".repeat(7usize.saturating_sub(status.len()));
            let _ = write!(s, "{padded:>13}");
        }
        s.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Status;

    /// A table whose counts are given in the console's column order.
    fn table(name: &str, counts: [u64; 6], status: Status, unreadable: u64) -> TableResult {
        let mut t = TableResult {
            source_table: name.into(),
            target_table: name.into(),
            status,
            unreadable,
            ..TableResult::default()
        };
        let [source, target, matched, missing, extra, different] = counts;
        (t.source_rows, t.target_rows, t.matched) = (source, target, matched);
        (t.missing_in_target, t.extra_in_target, t.different) = (missing, extra, different);
        t
    }

    #[test]
    fn the_table_widens_for_long_names_and_shows_unreadable_only_when_some_are() {
        let mut run = RunReport {
            tables: vec![
                table("users", [10, 10, 10, 0, 0, 0], Status::Ok, 0),
                table(
                    "transactions",
                    [2205, 2200, 2190, 15, 10, 0],
                    Status::Differs,
                    3,
                ),
            ],
            ..RunReport::default()
        };
        assert_eq!(
            summary_table(&run),
            "table           source    target   matched missing   extra different  status   unreadable\n\
             users               10        10        10       0       0         0  ok       0     \n\
             transactions      2205      2200      2190      15      10         0  differs            3\n"
        );
        run.tables[1].unreadable = 0;
        run.tables.truncate(1);
        assert_eq!(
            summary_table(&run),
            "table    source    target   matched missing   extra different  status\n\
             users        10        10        10       0       0         0  ok\n"
        );
    }
}
