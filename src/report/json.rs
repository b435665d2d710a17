//! `report.json`: the whole [`RunReport`], machine-readable. Its field docs
//! (in `report` and `engine`) are the schema.

use std::path::Path;

use anyhow::Result;

use super::{ReportWriter, RunReport, write_atomic};

pub struct Json;

impl ReportWriter for Json {
    fn files(&self) -> &'static [&'static str] {
        &["report.json"]
    }

    fn write(&self, run: &RunReport, dir: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(run)?;
        bytes.push(b'\n');
        write_atomic(&dir.join("report.json"), &bytes)
    }
}
