//! parity: proves a database reads the same way through two ORM schema
//! mappings.
//!
//! The data flow, one module per stage:
//! `mapping` (each ORM's view) → `plan` (pairs, keys, shapes) → `db`
//! (snapshot, chunked reads) → `canon` (ORM read semantics) → `engine`
//! (hash, merge-join compare) → `report` (csv, json, md, html, junit).
//! `timing`, `manifest` and `seed` reuse those stages; `cmd` wires them per
//! subcommand. This file only dispatches.

pub mod canon;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod db;
pub mod engine;
pub mod exit;
pub mod manifest;
pub mod mapping;
pub mod plan;
pub mod report;
pub mod seed;
pub mod timing;
pub mod ui;

use clap::Parser;

/// Runs the command line and returns the process exit code.
pub fn main_entry() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::ERROR,
            };
            let _ = e.print();
            return code;
        }
    };
    let ui = ui::Ui::new(&cli.global);
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
            r = cmd::dispatch(cli, ui.clone()) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted (Ctrl-C); results are incomplete")),
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
