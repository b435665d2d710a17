//! Per-column tolerances: parsed from the config, applied to decoded
//! values.

use super::*;

/// How far two readings of a column may differ and still count as equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// `|a − b| ≤ x` for numbers.
    Absolute(f64),
    /// `|a − b| ≤ r × max(|a|, |b|)` for numbers.
    Relative(f64),
    /// `|a − b| ≤ µs` for instants, times and dates.
    Time(i64),
}

/// Whether `a` and `b` are equal or within `tol`. NULL is only ever close to
/// NULL; a tolerance never bridges kinds (a number and a date, text and a
/// number), and NaN or infinities are only close to themselves.
pub fn within_tolerance(a: &Canon, b: &Canon, tol: &Tolerance) -> bool {
    if a == b {
        return true;
    }
    match *tol {
        Tolerance::Absolute(t) => numeric_diff(a, b).is_some_and(|(d, _)| d <= t),
        Tolerance::Relative(r) => numeric_diff(a, b).is_some_and(|(d, scale)| d <= r * scale),
        Tolerance::Time(t) => {
            let as_us = |c: &Canon| match *c {
                Canon::Instant(us) if us != i64::MAX && us != i64::MIN => Some((0, i128::from(us))),
                Canon::Date(d) if d != i32::MAX && d != i32::MIN => {
                    Some((0, i128::from(d) * i128::from(US_PER_DAY)))
                }
                Canon::Time(us) => Some((1, i128::from(us))),
                _ => None,
            };
            match (as_us(a), as_us(b)) {
                (Some((ka, x)), Some((kb, y))) if ka == kb => (x - y).abs() <= i128::from(t),
                _ => false,
            }
        }
    }
}

/// `(|a − b|, max(|a|, |b|))` for two numeric values; exact for integers.
pub(super) fn numeric_diff(a: &Canon, b: &Canon) -> Option<(f64, f64)> {
    if let (Canon::Int(x), Canon::Int(y)) = (a, b) {
        let d = x
            .checked_sub(*y)
            .map_or(f64::INFINITY, |d| d.unsigned_abs() as f64);
        return Some((d, (*x as f64).abs().max((*y as f64).abs())));
    }
    let num = |c: &Canon| match c {
        Canon::Int(v) => Some(*v as f64),
        Canon::Float(f) => Some(*f),
        Canon::Decimal(s) => s.parse::<f64>().ok().or_else(|| decimal::js_number(s)),
        _ => None,
    };
    let (x, y) = (num(a)?, num(b)?);
    if x == y {
        // Also ±Infinity against itself across kinds (Float vs Decimal).
        return Some((0.0, x.abs()));
    }
    let d = (x - y).abs();
    // NaN or an infinity on either side: only equality (handled above) counts.
    d.is_finite().then_some((d, x.abs().max(y.abs())))
}

/// Parses a tolerance as written in `parity.toml`: a number is absolute
/// (`0.005`), `"1%"` relative, `"500us"` / `"1ms"` / `"2s"` a time span.
pub fn parse_tolerance(v: &toml::Value) -> Result<Tolerance, String> {
    const HELP: &str = "expected a number (absolute, e.g. 0.005), a percentage (\"1%\") \
                        or a duration (\"500us\", \"1ms\", \"2s\")";
    let abs = |x: f64| {
        if x.is_finite() && x >= 0.0 {
            Ok(Tolerance::Absolute(x))
        } else {
            Err(format!("tolerance {x} must be a finite number ≥ 0"))
        }
    };
    let s = match v {
        toml::Value::Float(x) => return abs(*x),
        toml::Value::Integer(i) => return abs(*i as f64),
        toml::Value::String(s) => s.trim(),
        other => return Err(format!("invalid tolerance {other}: {HELP}")),
    };
    let bad = || format!("invalid tolerance \"{s}\": {HELP}");
    let number = |n: &str| -> Result<f64, String> {
        match n.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 && decimal::parse(n).is_some() => Ok(x),
            _ => Err(bad()),
        }
    };
    if let Some(p) = s.strip_suffix('%') {
        return Ok(Tolerance::Relative(number(p)? / 100.0));
    }
    // Longest suffixes first: "ms" and "us" before "s".
    for (suffix, us) in [
        ("µs", 1.0),
        ("us", 1.0),
        ("ms", 1e3),
        ("min", 60e6),
        ("s", 1e6),
        ("m", 60e6),
        ("h", 3600e6),
    ] {
        if let Some(n) = s.strip_suffix(suffix) {
            let total = number(n)? * us;
            if total.fract() != 0.0 || total > i64::MAX as f64 {
                return Err(format!(
                    "invalid tolerance \"{s}\": must be a whole number of microseconds"
                ));
            }
            return Ok(Tolerance::Time(total as i64));
        }
    }
    number(s).map(Tolerance::Absolute)
}
