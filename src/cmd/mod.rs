//! One thin file per subcommand, wiring the stages. Nothing here that a
//! second command would need: shared logic lives in the stage modules.

pub mod backup;
pub mod check;
pub mod demo;
pub mod manifest;
pub mod observe;
pub mod run;
pub mod schema;
pub mod seed;
pub mod timing;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::ui::Ui;

/// Runs one subcommand; returns the exit code for a run that completed.
pub async fn dispatch(cli: Cli, ui: Ui) -> Result<i32> {
    let global = cli.global;
    match cli.command {
        Command::Schema(args) => schema::run(args, &global, ui).await,
        Command::Check(args) => check::run(args, &global, ui).await,
        Command::Timing(args) => timing::run(args, &global, ui).await,
        Command::Backup(args) => backup::run(args, &global, ui).await,
        Command::Manifest(args) => manifest::run(args, &global, ui).await,
        Command::Run(args) => run::run(args, &global, ui).await,
        Command::Seed(args) => seed::run(args, &global, ui).await,
        Command::Demo(args) => demo::run(args, &global, ui).await,
        Command::Observe(args) => observe::run(args, &global, ui).await,
    }
}
