//! `report.json`: the whole [`RunReport`], machine-readable. Its field docs
//! (in `report`, `engine` and `timing::result`) are the schema.

use anyhow::Result;

use super::{Rendered, RunReport};

pub const JSON: Rendered = Rendered::new(&["report.json"], render);

fn render(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let mut bytes = serde_json::to_vec_pretty(run)?;
    bytes.push(b'\n');
    Ok(Some(bytes))
}
