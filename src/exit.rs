//! The process exit codes, named. Documented in README.md.

/// Parity holds: every check passed.
pub const OK: i32 = 0;
/// Differences, findings or a timing regression were found.
pub const DIFFERENCES: i32 = 1;
/// Usage, config, connection or other error: the check itself could not run.
pub const ERROR: i32 = 2;
