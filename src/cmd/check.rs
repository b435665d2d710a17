//! `parity check`: every paired table read through both mappings; the
//! results once, as a table on stdout.

use anyhow::Result;

use crate::cli::{CheckArgs, GlobalArgs};
use crate::config;
use crate::pipeline::Prepared;
use crate::report::{self, console};
use crate::ui::Ui;

pub async fn run(args: CheckArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let config = config::load_required(global.config.as_deref())?;
    let prepared = Prepared::load(&config, &args.select.selection())?;
    let mut opts = crate::pipeline::CheckOptions {
        mode: args.mode,
        ..args.read.check_options(global.jobs)
    }
    .resolve(&config.check);
    opts.shard = args.shard.shard()?;
    // Issue 15: a resumed check writes its final reports where it began.
    let out = match &args.shard.resume {
        Some(dir) => {
            if global.out.as_ref().is_some_and(|o| o != dir) {
                anyhow::bail!(
                    "--resume {} writes the reports in that folder; leave out --out",
                    dir.display()
                );
            }
            opts.resume = true;
            report::prepare_out_dir(Some(dir))?
        }
        None => report::prepare_out_dir(global.out.as_deref())?,
    };
    // The results print once, as the table on stdout: no per-table lines.
    let quiet_tables = ui.without_result_lines();
    let run = prepared
        .check(&config, &opts, &quiet_tables, &out, "check")
        .await?;
    console::print(&console::console_summary(&run))?;
    if let Some(p) = &args.prometheus.prometheus {
        report::prometheus::write(p, &run, &report::prometheus::Extras::finished_now(&run))?;
    }
    ui.info(format!("reports: {}", out.display()));
    Ok(run.exit_code.unwrap_or(crate::exit::ERROR))
}
