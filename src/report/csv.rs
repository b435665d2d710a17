//! `parity.csv` (one row per table pair) and `differences.csv` (one row per
//! differing row, capped per table; with `--show-values` it ends with both
//! sides' readings, `source_values` and `target_values`).

use std::path::Path;

use anyhow::Result;

use super::{ReportWriter, RunReport, write_atomic};

pub struct ParityCsv;
pub struct DifferencesCsv;

pub const PARITY_HEADER: [&str; 13] = [
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
];

impl ReportWriter for ParityCsv {
    fn files(&self) -> &'static [&'static str] {
        &["parity.csv"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(PARITY_HEADER)?;
        for t in &run.tables {
            w.write_record([
                t.repository.clone().unwrap_or_default(),
                t.source_table.clone(),
                t.target_table.clone(),
                t.source_rows.to_string(),
                t.target_rows.to_string(),
                t.matched.to_string(),
                t.missing_in_target.to_string(),
                t.extra_in_target.to_string(),
                t.different.to_string(),
                t.status.as_str().to_string(),
                format!("{:.3}", t.source_seconds),
                format!("{:.3}", t.target_seconds),
                t.unreadable.to_string(),
            ])?;
        }
        write_atomic(&dir.join("parity.csv"), &w.into_inner()?)
    }
}

impl ReportWriter for DifferencesCsv {
    fn files(&self) -> &'static [&'static str] {
        &["differences.csv"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "source_table",
            "target_table",
            "key",
            "kind",
            "columns",
            "source_values",
            "target_values",
        ])?;
        for t in &run.tables {
            for d in &t.differences {
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
                w.write_record([
                    t.source_table.as_str(),
                    t.target_table.as_str(),
                    &d.key.to_string(),
                    d.kind.as_str(),
                    &d.columns.join(";"),
                    &values(|x| x.source.as_str()),
                    &values(|x| x.target.as_str()),
                ])?;
            }
        }
        write_atomic(&dir.join("differences.csv"), &w.into_inner()?)
    }
}
