//! The allowed range of every number a user can give: command-line flags,
//! their `PARITY_*` environment variables and the config file share one
//! check, so `--jobs 0`, `PARITY_JOBS=0` and `[check] jobs = 0` all say the
//! same thing (issue #10). Owns the ranges and their messages; it does not
//! decide defaults (`config`) or what the numbers do.
//!
//! Every bound keeps derived counts (connections = 2 × jobs + 2, …) far
//! from any integer's limit, so no input can wrap or panic.

/// One numeric setting: its name as the user writes it and its range.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
}

/// Connections per side.
pub const JOBS: Limit = Limit::new("jobs", 1, 100_000);
pub const CHUNK_ROWS: Limit = Limit::new("chunk-rows", 1, 100_000_000);
pub const MAX_DIFFERENCES: Limit = Limit::new("max-differences", 0, 1_000_000_000);
pub const ITERATIONS: Limit = Limit::new("iterations", 1, 100_000_000);
pub const WARMUP: Limit = Limit::new("warmup", 0, 100_000_000);
/// Timing clients per side (each is a connection).
pub const CONCURRENCY: Limit = Limit::new("concurrency", 1, 10_000);
pub const SEED_ROWS: Limit = Limit::new("rows", 1, 10_000_000_000);
pub const DEMO_ROWS: Limit = Limit::new("rows", 1, 100_000_000);
pub const SEED: Limit = Limit::new("seed", 0, u64::MAX);
/// `statement_timeout_seconds`: 0 leaves the server's (or the role's) own.
pub const STATEMENT_TIMEOUT_SECONDS: Limit =
    Limit::new("statement_timeout_seconds", 0, 7 * 24 * 3600);
/// `lock_timeout_seconds`: 0 waits for a lock as long as the statement may.
pub const LOCK_TIMEOUT_SECONDS: Limit = Limit::new("lock_timeout_seconds", 0, 24 * 3600);
/// `PARITY_CONNECT_TIMEOUT`, seconds.
pub const CONNECT_TIMEOUT_SECONDS: Limit = Limit::new("PARITY_CONNECT_TIMEOUT", 1, 3600);

impl Limit {
    const fn new(name: &'static str, min: u64, max: u64) -> Limit {
        Limit { name, min, max }
    }

    /// `jobs must be at least 1 and at most 100000`.
    pub fn message(&self) -> String {
        format!(
            "{} must be at least {} and at most {}",
            self.name, self.min, self.max
        )
    }

    /// Checks a number already parsed (the config file gives i64).
    pub fn check(&self, v: i128) -> Result<u64, String> {
        if v < i128::from(self.min) || v > i128::from(self.max) {
            return Err(format!("{}, not {v}", self.message()));
        }
        Ok(v as u64)
    }

    /// Parses a flag or env value: a whole number in range, negative
    /// numbers and huge ones included, each with the range in the message.
    pub fn parse(&self, text: &str) -> Result<u64, String> {
        let t = text.trim();
        match t.parse::<i128>() {
            Ok(v) => self.check(v),
            // Longer than i128: out of range whatever its sign.
            Err(_)
                if !t.is_empty()
                    && t.strip_prefix('-')
                        .unwrap_or(t)
                        .chars()
                        .all(|c| c.is_ascii_digit())
                    && t != "-" =>
            {
                Err(format!("{}, not {t}", self.message()))
            }
            Err(_) => Err(format!(
                "{} must be a whole number from {} to {}, not \"{}\"",
                self.name,
                self.min,
                self.max,
                t.escape_debug()
            )),
        }
    }
}

macro_rules! parsers {
    ($($fn:ident: $limit:ident as $ty:ty;)*) => {$(
        #[doc = concat!("clap value parser for [`", stringify!($limit), "`].")]
        pub fn $fn(text: &str) -> Result<$ty, String> {
            $limit.parse(text).map(|v| v as $ty)
        }
    )*};
}

parsers! {
    jobs: JOBS as usize;
    chunk_rows: CHUNK_ROWS as usize;
    max_differences: MAX_DIFFERENCES as usize;
    iterations: ITERATIONS as usize;
    warmup: WARMUP as usize;
    concurrency: CONCURRENCY as usize;
    seed_rows: SEED_ROWS as u64;
    demo_rows: DEMO_ROWS as u64;
    seed: SEED as u64;
}

/// The largest slowdown margin `[timing] max_slowdown` and
/// `--max-slowdown` take: 10 (the slower side may take 11× as long).
pub const MAX_SLOWDOWN: f64 = 10.0;

/// clap value parser for `--max-slowdown`: a fraction from 0 to
/// [`MAX_SLOWDOWN`] (0.10 = 10%).
pub fn max_slowdown(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=MAX_SLOWDOWN).contains(&v) => Ok(v),
        _ => Err(format!(
            "max-slowdown must be a fraction from 0 to {MAX_SLOWDOWN} (0.10 = 10%), not \"{}\"",
            text.escape_debug()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_has_one_message_for_every_bad_value() {
        for bad in [
            "0",
            "-1",
            "100001",
            "2147483647",
            "4294967293",
            "99999999999999999999999999999999999999999",
        ] {
            let e = jobs(bad).unwrap_err();
            assert!(
                e.starts_with("jobs must be at least 1 and at most 100000"),
                "{bad}: {e}"
            );
        }
        assert_eq!(jobs("1").unwrap(), 1);
        assert_eq!(jobs("100000").unwrap(), 100_000);
        assert!(jobs("many").unwrap_err().contains("whole number"));
        assert!(jobs("").unwrap_err().contains("whole number"));
        assert!(jobs("1.5").unwrap_err().contains("whole number"));
    }

    #[test]
    fn seed_takes_every_u64_but_no_negative() {
        assert_eq!(seed("18446744073709551615").unwrap(), u64::MAX);
        assert!(seed("-1").unwrap_err().contains("at least 0"));
    }

    #[test]
    fn max_slowdown_is_a_fraction_in_range() {
        assert_eq!(max_slowdown("0.25"), Ok(0.25));
        assert_eq!(max_slowdown("10"), Ok(10.0));
        let bad = ["-0.1", "10.5", "NaN", "inf", "ten", ""];
        assert!(bad.iter().all(|b| max_slowdown(b).is_err()));
    }
}
