//! Per-column tolerances: parsing, numbers, instants.

use super::*;

/// Pairs of values, a tolerance, and whether the pair is within it.
fn assert_within(cases: &[(Canon, Canon, Tolerance, bool)]) {
    for (a, b, tol, want) in cases {
        assert_eq!(within_tolerance(a, b, tol), *want, "{a} vs {b} by {tol:?}");
    }
}

#[test]
fn parses_tolerances() {
    let p = |v: toml::Value| parse_tolerance(&v);
    for (value, want) in [
        (toml::Value::Float(0.005), Tolerance::Absolute(0.005)),
        (toml::Value::Integer(2), Tolerance::Absolute(2.0)),
        ("1%".into(), Tolerance::Relative(0.01)),
        ("0.5 %".into(), Tolerance::Relative(0.005)),
        ("1ms".into(), Tolerance::Time(1_000)),
        ("500us".into(), Tolerance::Time(500)),
        ("500µs".into(), Tolerance::Time(500)),
        ("2s".into(), Tolerance::Time(2_000_000)),
        ("1.5ms".into(), Tolerance::Time(1_500)),
        ("1min".into(), Tolerance::Time(60_000_000)),
        ("0.01".into(), Tolerance::Absolute(0.01)),
    ] {
        assert_eq!(p(value.clone()), Ok(want), "{value}");
    }
    for bad in ["abc", "1 parsec", "-1ms", "%", "0.5us", "inf", "NaN%", ""] {
        assert!(p(bad.into()).is_err(), "{bad}");
    }
    assert!(p(toml::Value::Float(-0.1)).is_err());
    assert!(p(toml::Value::Boolean(true)).is_err());
    assert!(p("abc".into()).unwrap_err().contains("\"1ms\""));
}

#[test]
fn tolerance_bounds_numbers() {
    let abs = Tolerance::Absolute(0.005);
    let rel = Tolerance::Relative(0.01);
    let huge = Tolerance::Absolute(1e300);
    assert_within(&[
        (dec("1.004"), dec("1.000"), abs, true),
        (dec("1.006"), dec("1.000"), abs, false),
        (Canon::Float(1.0), dec("1.004"), abs, true),
        (
            Canon::Int(9_007_199_254_740_993),
            Canon::Int(9_007_199_254_740_992),
            Tolerance::Absolute(1.0),
            true,
        ),
        (Canon::Int(i128::MAX), Canon::Int(i128::MIN), huge, false),
        (Canon::Int(100), Canon::Int(101), rel, true),
        (Canon::Int(100), Canon::Int(102), rel, false),
        (Canon::Float(0.0), Canon::Float(0.0), rel, true),
        (
            Canon::Float(f64::NAN),
            Canon::Float(1.0),
            Tolerance::Absolute(1e9),
            false,
        ),
        (Canon::Float(f64::NAN), Canon::Float(f64::NAN), abs, true),
        (dec("Infinity"), dec("1"), huge, false),
        (dec("Infinity"), Canon::Float(f64::INFINITY), abs, true),
        // Tolerances never bridge kinds.
        (text("1"), Canon::Int(1), abs, false),
        (Canon::Instant(0), Canon::Instant(1), abs, false),
    ]);
}

#[test]
fn tolerance_bounds_instants() {
    let ms = Tolerance::Time(1_000);
    assert_within(&[
        (
            Canon::Instant(1_000_999),
            Canon::Instant(1_000_000),
            ms,
            true,
        ),
        (
            Canon::Instant(1_001_001),
            Canon::Instant(1_000_000),
            ms,
            false,
        ),
        (Canon::Time(500), Canon::Time(0), ms, true),
        (Canon::Date(1), Canon::Instant(US_PER_DAY + 1), ms, true),
        (Canon::Time(0), Canon::Instant(0), ms, false),
        (
            Canon::Instant(i64::MAX),
            Canon::Instant(i64::MAX - 1),
            ms,
            false,
        ),
        (Canon::Int(0), Canon::Int(1), ms, false),
    ]);
    // The Prisma/Drizzle sub-ms cut is exactly what a 1ms tolerance forgives.
    let t = us("2024-03-05 10:11:12.345678");
    let a = canon(Raw::Timestamp(t), M::DateTime);
    let b = canon(Raw::Timestamp(t), M::DateTimeString);
    assert_ne!(a, b);
    assert!(within_tolerance(&a, &b, &ms));
    assert!(!within_tolerance(&a, &b, &Tolerance::Time(100)));
}
