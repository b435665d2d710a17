//! Unit tests of the read rules. Each pins one rule of `orm-semantics.md`;
//! most are tables of readings and what they must encode to.
//!
//! Files: numbers, text, JSON and enums ([`values`]), instants, dates and
//! times ([`instants`]), where Prisma and Drizzle read one mode differently
//! ([`orms`]), tolerances ([`tolerance`]); NULL, framing and display here.

mod instants;
mod orms;
mod tolerance;
pub(crate) mod values;

use super::*;
use crate::mapping::Orm;

use ReadMode as M;

/// One side's ORM-neutral reading: the raw value and the mode.
type Neutral<'a> = (Raw<'a>, ReadMode);

/// One side's reading: the raw value, the mode, the reading ORM.
type Reading<'a> = (Raw<'a>, ReadMode, Orm);

fn enc_by(raw: Raw<'_>, read: ReadMode, orm: Orm) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&raw, &ColumnCanon::from_read(read).with_orm(orm), &mut out);
    out
}

/// Encodes and decodes, checking the value is self-delimiting.
fn canon_by(raw: Raw<'_>, read: ReadMode, orm: Orm) -> Canon {
    let bytes = enc_by(raw, read, orm);
    let (c, n) = decode(&bytes).expect("decodes");
    assert_eq!(
        n,
        bytes.len(),
        "{raw:?} as {read:?}: consumed {n} of {}",
        bytes.len()
    );
    c
}

/// The ORM-neutral reading (`ColumnCanon::from_read`).
fn enc(raw: Raw<'_>, read: ReadMode) -> Vec<u8> {
    enc_by(raw, read, Orm::Catalog)
}

fn canon(raw: Raw<'_>, read: ReadMode) -> Canon {
    canon_by(raw, read, Orm::Catalog)
}

fn same(a: Neutral<'_>, b: Neutral<'_>) -> bool {
    enc(a.0, a.1) == enc(b.0, b.1)
}

/// Pairs of ORM-neutral readings, and whether each pair encodes alike.
fn assert_same(cases: &[(Neutral<'_>, Neutral<'_>, bool)]) {
    for &(a, b, want) in cases {
        assert_eq!(same(a, b), want, "{a:?} vs {b:?}");
    }
}

/// Pairs of readings through named ORMs, and whether each pair encodes alike.
fn assert_same_by(cases: &[(Reading<'_>, Reading<'_>, bool)]) {
    for &(a, b, want) in cases {
        let alike = enc_by(a.0, a.1, a.2) == enc_by(b.0, b.1, b.2);
        assert_eq!(alike, want, "{a:?} vs {b:?}");
    }
}

/// ORM-neutral readings and the value each decodes to.
fn assert_canon(cases: &[(Raw<'_>, ReadMode, Canon)]) {
    for (raw, read, want) in cases {
        assert_eq!(&canon(*raw, *read), want, "{raw:?} as {read:?}");
    }
}

/// Readings through named ORMs and the value each decodes to.
fn assert_canon_by(cases: &[(Raw<'_>, ReadMode, Orm, Canon)]) {
    for (raw, read, orm, want) in cases {
        assert_eq!(
            &canon_by(*raw, *read, *orm),
            want,
            "{raw:?} as {read:?} by {orm:?}"
        );
    }
}

fn dec(s: &str) -> Canon {
    Canon::Decimal(s.into())
}

fn text(s: &str) -> Canon {
    Canon::Text(s.into())
}

fn unreadable(s: &str) -> Canon {
    Canon::Unreadable(s.into())
}

fn us(s: &str) -> i64 {
    time::parse_instant(s).unwrap()
}

// --- NULL -------------------------------------------------------------------------

#[test]
fn null_equals_nothing_but_null() {
    let null = enc(Raw::Null, M::Text);
    assert_eq!(null, [tag::NULL]);
    for read in [M::Text, M::Int, M::Json, M::Decimal, M::DateTime, M::Raw] {
        assert_eq!(enc(Raw::Null, read), null);
    }
    for (raw, read) in [
        (Raw::Text(""), M::Text),
        (Raw::Text("NULL"), M::Text),
        (Raw::Int(0), M::Int),
        (Raw::Numeric("0"), M::Decimal),
        (Raw::Json("{}"), M::Json),
        (Raw::Json("null"), M::Json),
        (Raw::Bytes(b""), M::Bytes),
        (Raw::Bool(false), M::Boolean),
        (Raw::Float(0.0), M::Float),
    ] {
        assert_ne!(enc(raw, read), null, "{raw:?}");
    }
    assert!(!same((Raw::Text(""), M::Text), (Raw::Int(0), M::Int)));
    assert!(!within_tolerance(
        &Canon::Null,
        &Canon::Int(0),
        &Tolerance::Absolute(1.0)
    ));
    assert!(within_tolerance(
        &Canon::Null,
        &Canon::Null,
        &Tolerance::Absolute(0.0)
    ));
}

// --- framing ----------------------------------------------------------------------

#[test]
fn rows_are_concatenations_that_decode_back() {
    let values: Vec<(Raw<'_>, ReadMode, Canon)> = vec![
        (Raw::Null, M::Text, Canon::Null),
        (Raw::Bool(true), M::Boolean, Canon::Bool(true)),
        (Raw::Int(-5), M::Int, Canon::Int(-5)),
        (Raw::Numeric("-12.50"), M::Decimal, dec("-12.5")),
        (Raw::Numeric("1.50"), M::Raw, dec("1.50")),
        (Raw::Float(2.25), M::Float, Canon::Float(2.25)),
        (Raw::Text(""), M::Text, text("")),
        (Raw::Bytes(b"\x00\x01"), M::Bytes, Canon::Bytes(vec![0, 1])),
        (
            Raw::TimestampTz(1_700_000_000_123_456),
            M::DateTimeString,
            Canon::Instant(1_700_000_000_123_456),
        ),
        (Raw::Timestamp(-7), M::Raw, Canon::Instant(-7)),
        (Raw::Date(-719_468), M::Date, Canon::Date(-719_468)),
        (Raw::Time(1), M::TimeString, Canon::Time(1)),
        (
            Raw::Json("[true, null]"),
            M::Json,
            Canon::Json("[true,null]".into()),
        ),
        (Raw::Json("[ ]"), M::Raw, Canon::Json("[ ]".into())),
        (Raw::Text("nope"), M::Date, unreadable("nope")),
        (Raw::Numeric("0"), M::DecimalNumber, dec("0")),
    ];
    let mut row = Vec::new();
    for (raw, read, _) in &values {
        encode(raw, &ColumnCanon::from_read(*read), &mut row);
    }
    let mut at = 0;
    for (raw, read, want) in &values {
        let (got, n) = decode(&row[at..]).expect("decodes");
        assert_eq!(&got, want, "{raw:?} as {read:?}");
        at += n;
    }
    assert_eq!(at, row.len());
    // Truncated or unknown input is refused, not misread.
    assert!(decode(&row[..row.len() - 1]).is_some()); // first value intact
    assert!(decode(&[tag::INT, 1, 2]).is_none());
    assert!(decode(&[tag::TEXT, 5, 0, 0, 0, b'a']).is_none());
    assert!(decode(&[0xFF]).is_none());
    assert!(decode(&[]).is_none());
}

#[test]
fn display_is_human() {
    for (value, shown) in [
        (text("US "), "\"US \""),
        (Canon::Instant(0), "1970-01-01T00:00:00.000000Z"),
        (Canon::Float(1e21), "1e+21"),
        (Canon::Float(-0.0), "-0"),
        (Canon::Bytes(vec![0xDE, 0xAD]), "\\xdead"),
        (Canon::Null, "NULL"),
        (unreadable("x"), "<unreadable: \"x\">"),
    ] {
        assert_eq!(value.to_string(), shown);
    }
}

// --- speed ----------------------------------------------------------------------------

/// `cargo test --lib canon -- --ignored --nocapture bench`: prints only.
#[test]
#[ignore]
fn bench_encode_mixed_values() {
    let cols: Vec<ColumnCanon> = [
        M::BigInt,
        M::BigIntNumber,
        M::Decimal,
        M::DecimalNumber,
        M::Text,
        M::DateTime,
        M::DateTimeString,
        M::Float,
        M::Boolean,
        M::Date,
    ]
    .into_iter()
    .map(ColumnCanon::from_read)
    .collect();
    let texts = [
        "alice@example.com",
        "US ",
        "",
        "a somewhat longer description text",
    ];
    let nums = [
        "12345678.90",
        "0.000000000000000000000000000001",
        "56.0",
        "-42",
    ];
    let n = 1_000_000usize;
    let mut out = Vec::with_capacity(64 * 1024);
    let mut total_bytes = 0usize;
    let start = std::time::Instant::now();
    for i in 0..n {
        let v = i as i64;
        let raw = match i % 10 {
            0 | 1 => Raw::Int(v * 7_919),
            2 | 3 => Raw::Numeric(nums[i % 4]),
            4 => Raw::Text(texts[i % 4]),
            5 | 6 => Raw::Timestamp(1_700_000_000_000_000 + v * 1_234),
            7 => Raw::Float(v as f64 * 0.37),
            8 => Raw::Int(i64::from(i % 3 == 0)),
            _ => Raw::Date(19_000 + (i % 1000) as i32),
        };
        encode(&raw, &cols[i % 10], &mut out);
        if out.len() > 60 * 1024 {
            total_bytes += out.len();
            out.clear();
        }
    }
    let elapsed = start.elapsed();
    total_bytes += out.len();
    println!(
        "canon::encode: {n} values, {total_bytes} bytes, {:.1} ns/value",
        elapsed.as_nanos() as f64 / n as f64
    );
}
