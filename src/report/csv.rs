//! `parity.csv` (one row per table pair) and `differences.csv` (one row per
//! differing row, capped per table; with `--show-values` it ends with both
//! sides' readings, `source_values` and `target_values`), and [`table`],
//! the one CSV shape every CSV report has: a header, then rows.

use anyhow::Result;

use super::verdict::row_counts;
use super::{Rendered, RunReport};

pub const PARITY: Rendered = Rendered::new(&["parity.csv"], parity);

pub const DIFFERENCES: Rendered = Rendered::new(&["differences.csv"], differences);

pub const PARITY_HEADER: [&str; 16] = [
    "repository",
    "source_table",
    "target_table",
    "source_rows",
    "target_rows",
    "matched",
    "missing_in_target",
    "extra_in_target",
    "different",
    "status",
    "source_seconds",
    "target_seconds",
    "unreadable",
    "in_flight",
    "mode",
    "mode_reason",
];

pub const DIFFERENCES_HEADER: [&str; 7] = [
    "source_table",
    "target_table",
    "key",
    "kind",
    "columns",
    "source_values",
    "target_values",
];

/// A CSV file's bytes: `header`, then one record per row.
pub fn table<Row, Cell>(header: &[&str], rows: impl IntoIterator<Item = Row>) -> Result<Vec<u8>>
where
    Row: IntoIterator<Item = Cell>,
    Cell: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(row)?;
    }
    Ok(w.into_inner()?)
}

fn parity(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let rows = run.tables.iter().map(|t| {
        let mut row = vec![
            t.repository.clone().unwrap_or_default(),
            t.source_table.clone(),
            t.target_table.clone(),
        ];
        row.extend(row_counts(t).map(|n| n.to_string()));
        row.extend([
            t.status.as_str().to_string(),
            format!("{:.3}", t.source_seconds),
            format!("{:.3}", t.target_seconds),
            t.unreadable.to_string(),
            t.in_flight.to_string(),
            t.mode.clone(),
            t.mode_reason.clone(),
        ]);
        row
    });
    table(&PARITY_HEADER, rows).map(Some)
}

fn differences(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let rows = run.tables.iter().flat_map(|t| {
        t.differences.iter().map(|d| {
            // With --show-values: what each side's ORM hands, as JSON
            // arrays of display strings parallel to `columns`.
            let values = |side: fn(&crate::engine::ValueDifference) -> &str| -> String {
                match &d.values {
                    Some(v) => {
                        let shown: Vec<&str> = d
                            .columns
                            .iter()
                            .map(|c| v.iter().find(|x| &x.column == c).map_or("", side))
                            .collect();
                        serde_json::to_string(&shown).unwrap_or_default()
                    }
                    None => String::new(),
                }
            };
            [
                t.source_table.clone(),
                t.target_table.clone(),
                d.key.to_string(),
                d.kind.as_str().to_string(),
                d.columns.join(";"),
                values(|x| x.source.as_str()),
                values(|x| x.target.as_str()),
            ]
        })
    });
    table(&DIFFERENCES_HEADER, rows).map(Some)
}
