//! One thin file per subcommand: parse its arguments into settings, call
//! the library (`pipeline` and the stages), print what it found, pick the
//! exit code. Nothing here that a second command would need: shared logic
//! lives in `pipeline` and the stage modules. This file runs a command line
//! to its exit code.

pub mod backup;
pub mod check;
pub mod demo;
pub mod manifest;
pub mod merge;
pub mod observe;
pub mod run;
pub mod schema;
pub mod seed;
pub mod timing;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::exit;
use crate::ui::{self, Ui};

/// Runs the command line and returns the process exit code.
pub fn main_entry() -> i32 {
    let cli = match Cli::from_args() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let ui = Ui::new(cli.global.quiet, cli.global.color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui.error(&anyhow::anyhow!("cannot start the async runtime: {e}"));
            return exit::ERROR;
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = dispatch(cli, ui.clone()) => r,
            what = stop_signal() => {
                // The command's future is dropped here, which removes its
                // temp files; the report files are then marked incomplete.
                let why = format!("interrupted ({what}); results are incomplete");
                let dir = crate::report::mark_incomplete(&format!("the run was stopped by {what}"));
                Err(match dir {
                    Some(d) => anyhow::anyhow!("{why}; partial reports in {}", d.display()),
                    None => anyhow::anyhow!("{why}"),
                })
            }
        }
    });
    // Close pools and readers promptly; a stuck reader must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) if ui::is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            ui.error(&e);
            exit::ERROR
        }
    }
}

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
        Command::Merge(args) => merge::run(args, &global, ui),
    }
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM, which cron, systemd and Kubernetes
/// send: both stop the run the same way. Returns the signal's name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
