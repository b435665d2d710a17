//! The process exit codes, named, and the one rule that ranks them.
//! Documented in README.md.

/// Parity holds: every check passed.
pub const OK: i32 = 0;
/// Differences, findings or a timing regression were found.
pub const DIFFERENCES: i32 = 1;
/// Usage, config, connection or other error: the check itself could not run.
pub const ERROR: i32 = 2;

/// The exit code of a run: an error outranks a difference, which outranks
/// parity.
pub fn of(error: bool, differences: bool) -> i32 {
    if error {
        ERROR
    } else if differences {
        DIFFERENCES
    } else {
        OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_outranks_a_difference() {
        assert_eq!(of(true, true), ERROR);
        assert_eq!(of(true, false), ERROR);
        assert_eq!(of(false, true), DIFFERENCES);
        assert_eq!(of(false, false), OK);
    }
}
