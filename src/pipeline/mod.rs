//! The stages wired into the runs the commands share: one home for each
//! piece of orchestration a second command needs.
//!
//! - `options`: the engine's options from `[check]` and the flags
//!   ([`CheckOptions::resolve`]), session settings, opening a pool;
//! - `check`: mappings and plan loaded once ([`Prepared`]), the data check
//!   into a [`RunReport`] with the reports rewritten after each table;
//! - `schema`: the schema inspection (`schema`, `run`);
//! - `gate`: `run`'s verdict per repository and its exit code;
//! - `backup`: a restored copy against its source or a manifest.
//!
//! It renders nothing (that is `report`) and parses no command line (that
//! is `cli`); `cmd` calls it and picks what to print.

pub mod backup;
pub mod check;
pub mod gate;
pub mod options;
pub mod schema;

pub use check::{
    Prepared, check_into, load_mappings, new_report, nothing_to_check, repositories_of,
    rewrite_after_each, unpaired_rows,
};
pub use options::{CheckOptions, connect, connect_options, reader_connections, session_options};

use crate::config::Side;
use crate::report::{RunReport, SideInfo};

/// How a report names one side of the config: its name, ORM and redacted
/// database.
pub fn side_info(side: &Side) -> SideInfo {
    SideInfo {
        name: side.name.clone(),
        orm: side.orm.as_str().to_string(),
        database: side.database(),
    }
}

/// An empty report in progress for `command`, started now.
pub fn report_for(command: &str, source: SideInfo, target: SideInfo) -> RunReport {
    RunReport {
        format_version: 1,
        command: command.to_string(),
        started_at: now_rfc3339(),
        source,
        target,
        in_progress: true,
        ..RunReport::default()
    }
}

/// The UTC time now, RFC 3339 to the second, as reports carry it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
