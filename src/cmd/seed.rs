//! `parity seed`: turns `SeedArgs` into `seed::SeedOptions`, runs the seed,
//! prints the planted drift keys as JSON on stdout and a summary on stderr.

use std::io::Write;

use anyhow::Result;

use crate::cli::{GlobalArgs, SeedArgs};
use crate::config::DbUrl;
use crate::exit;
use crate::seed::data::Table;
use crate::seed::drift::DriftSpec;
use crate::seed::fixture::MigrationSelection;
use crate::seed::{SeedOptions, seed};
use crate::ui::Ui;

pub async fn run(args: SeedArgs, _global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let drift = args.drift.as_deref().map(DriftSpec::parse).transpose()?;
    let opts = SeedOptions {
        url: DbUrl::new(args.url),
        rows: args.rows,
        seed: args.seed,
        drift,
        migrations: MigrationSelection::parse(&args.migrations),
        force: args.force,
    };
    let summary = seed(&opts, &ui).await?;
    if let Some(plan) = &summary.drift {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", plan.to_json())?;
        out.flush()?;
    }
    let counts: Vec<String> = summary
        .rows
        .iter()
        .map(|(t, n)| format!("{n} {}", t.name()))
        .collect();
    ui.info(format!(
        "seeded {}: {} transactions, {} in {:.1}s",
        opts.url.redacted(),
        summary.rows_of(Table::Transactions),
        counts
            .iter()
            .filter(|c| !c.ends_with(" transactions"))
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        summary.seconds
    ));
    Ok(exit::OK)
}
