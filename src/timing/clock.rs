//! The clock the runner measures with, behind a trait so that tests can
//! inject a [`MockClock`] and snapshot timing reports byte for byte
//! (hyperfine's `MockExecutor` idea).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A monotonic clock plus the wall-clock time reports are stamped with.
pub trait Clock: Send + Sync {
    /// Nanoseconds since an arbitrary origin; only differences mean anything.
    fn now_ns(&self) -> u64;
    /// UTC wall-clock time, RFC 3339, for `started_at`.
    fn utc_rfc3339(&self) -> String;
}

/// The real clock: `Instant` for durations, the system time for stamps.
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn utc_rfc3339(&self) -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// A clock that advances by a fixed step on every reading, so every
/// measured interval is exactly `step_ns` and reports are deterministic.
pub struct MockClock {
    step_ns: u64,
    t: AtomicU64,
    stamp: String,
}

impl MockClock {
    pub fn new(step_ns: u64) -> MockClock {
        MockClock {
            step_ns,
            t: AtomicU64::new(0),
            stamp: "2024-01-01T00:00:00Z".to_string(),
        }
    }
}

impl Clock for MockClock {
    fn now_ns(&self) -> u64 {
        self.t.fetch_add(self.step_ns, Ordering::Relaxed) + self.step_ns
    }

    fn utc_rfc3339(&self) -> String {
        self.stamp.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_steps_evenly() {
        let c = MockClock::new(1_000);
        let a = c.now_ns();
        let b = c.now_ns();
        assert_eq!(b - a, 1_000);
        assert_eq!(c.utc_rfc3339(), "2024-01-01T00:00:00Z");
        let s = SystemClock::new();
        assert!(s.now_ns() <= s.now_ns());
    }
}
