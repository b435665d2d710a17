//! `parity schema`: both mappings against each other, each against the live
//! catalog, the migration tables, the shape differences and the server time
//! zone; human text on stdout, `schema.json` and `schema.md` in the out dir.
//! The inspection is `pipeline::schema`, the rendering `report::schema`.

use std::io::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::cli::{GlobalArgs, SchemaArgs};
use crate::config;
use crate::exit;
use crate::pipeline::schema::inspect;
use crate::report::{self, console, schema};
use crate::ui::Ui;

pub async fn run(args: SchemaArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    if let Some(path) = &args.show_mapping {
        return show_mapping(path, args.json);
    }
    let config = config::load_required(global.config.as_deref())?;
    let found = inspect(&config, &args.select.selection(), args.strict, &ui).await?;
    let out = report::prepare_out_dir(global.out.as_deref())?;
    schema::write_reports(&found, &out)?;
    console::print(&schema::render_text(&found))?;
    ui.info(format!("reports: {}", out.display()));
    Ok(found.summary.exit_code)
}

/// `--show-mapping PATH [--json]`: one mapping as resolved; needs no config.
fn show_mapping(path: &Path, json: bool) -> Result<i32> {
    let v = crate::mapping::load::show_mapping_json(path)?;
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        console::print(&schema::render_mapping_text(&v))?;
    }
    Ok(exit::OK)
}
