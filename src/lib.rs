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
pub mod limits;
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
            if code == exit::OK {
                let _ = e.print();
            } else {
                // One line, like every other error: clap's own first line
                // (kept word for word) and its tip, without the usage block.
                eprintln!("{}", one_line_usage_error(&e.to_string()));
            }
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
        let stop = stop_signal();
        tokio::select! {
            r = cmd::dispatch(cli, ui.clone()) => r,
            what = stop => {
                // The command's future is dropped here, which removes its
                // temp files; the report files are then marked incomplete.
                let why = format!("interrupted ({what}); results are incomplete");
                let dir = report::mark_incomplete(&format!("the run was stopped by {what}"));
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

/// clap's error text as one line: its `error: …` line and any `tip:`.
fn one_line_usage_error(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    for l in lines {
        if let Some(tip) = l.strip_prefix("tip:") {
            out.push_str("; tip:");
            out.push_str(tip);
        }
    }
    out.push_str(" (parity --help lists the options)");
    out
}
