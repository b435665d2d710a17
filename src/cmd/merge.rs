//! `parity merge DIR… --out DIR`: the report folders of a sharded check
//! combined into one report (`report::merge` checks and combines them).

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, MergeArgs};
use crate::report::{self, console};
use crate::ui::Ui;

pub fn run(args: MergeArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let out = global
        .out
        .as_deref()
        .context("parity merge needs --out DIR: where the merged reports go")?;
    let run = report::merge::merge(&args.dirs)?;
    let out = report::prepare_out_dir(Some(out))?;
    report::write_all(&report::merge::merge_writers(), &run, &out)?;
    console::print(&console::console_summary(&run))?;
    ui.info(format!("reports: {}", out.display()));
    Ok(run.exit_code.unwrap_or(crate::exit::ERROR))
}
