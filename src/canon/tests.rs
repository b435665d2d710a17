//! Unit tests of the read rules. Each pins one rule of `orm-semantics.md`.

use super::*;
use crate::mapping::{Dialect, EnumDef, EnumValue, Orm};

use ReadMode as M;

fn enc(raw: Raw<'_>, read: ReadMode) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&raw, &ColumnCanon::from_read(read), &mut out);
    out
}

/// Encodes and decodes, checking the value is self-delimiting.
fn canon(raw: Raw<'_>, read: ReadMode) -> Canon {
    let bytes = enc(raw, read);
    let (c, n) = decode(&bytes).expect("decodes");
    assert_eq!(
        n,
        bytes.len(),
        "{raw:?} as {read:?}: consumed {n} of {}",
        bytes.len()
    );
    c
}

fn same(a: (Raw<'_>, ReadMode), b: (Raw<'_>, ReadMode)) -> bool {
    enc(a.0, a.1) == enc(b.0, b.1)
}

fn us(s: &str) -> i64 {
    time::parse_instant(s).unwrap()
}

// --- integers ---------------------------------------------------------------

#[test]
fn bigint_number_holds_what_javascript_holds() {
    let lossy = |v: i64| canon(Raw::Int(v), M::BigIntNumber);
    assert_eq!(
        lossy(9_007_199_254_740_993),
        Canon::Int(9_007_199_254_740_992)
    );
    assert_eq!(lossy(4_006_381_333_931), Canon::Int(4_006_381_333_931));
    assert_eq!(lossy(i64::MAX), Canon::Int(9_223_372_036_854_775_808));
    assert_eq!(lossy(i64::MIN), Canon::Int(-9_223_372_036_854_775_808));
    assert_eq!(lossy((1 << 53) - 1), Canon::Int((1 << 53) - 1));

    // Exact bigint vs number: equal exactly when nothing was lost.
    let differs = |v: i64| !same((Raw::Int(v), M::BigInt), (Raw::Int(v), M::BigIntNumber));
    assert!(differs(9_007_199_254_740_993));
    assert!(differs(i64::MAX));
    assert!(differs(i64::MIN + 1));
    assert!(!differs(i64::MIN)); // -2^63 is a power of two: exact in f64
    assert!(!differs(4_006_381_333_931));
    assert!(!differs(9_007_199_254_740_992));
    assert!(!differs(-((1 << 53) - 1)));
    // The lossy reading of 2^53+1 is the exact reading of 2^53.
    assert!(same(
        (Raw::Int(9_007_199_254_740_993), M::BigIntNumber),
        (Raw::Int(9_007_199_254_740_992), M::BigInt)
    ));
}

#[test]
fn integers_are_exact_i128() {
    assert_eq!(
        canon(Raw::Int(i64::MAX), M::BigInt),
        Canon::Int(i64::MAX.into())
    );
    assert_eq!(
        canon(Raw::Int(i64::MIN), M::Int),
        Canon::Int(i64::MIN.into())
    );
    assert_eq!(
        canon(Raw::Int(i64::MIN), M::Raw),
        Canon::Int(i64::MIN.into())
    );
    assert!(same((Raw::Int(7), M::Int), (Raw::Int(7), M::BigInt)));
    assert!(same((Raw::Int(7), M::Raw), (Raw::Int(7), M::BigInt)));
}

#[test]
fn integer_text_parses_or_is_unreadable() {
    assert_eq!(canon(Raw::Text("123"), M::BigInt), Canon::Int(123));
    assert_eq!(
        canon(Raw::Text("-9223372036854775808"), M::BigInt),
        Canon::Int(i64::MIN.into())
    );
    assert_eq!(
        canon(Raw::Text("12a"), M::BigInt),
        Canon::Unreadable("12a".into())
    );
    assert_eq!(
        canon(Raw::Text("1.5"), M::BigInt),
        Canon::Unreadable("1.5".into())
    );
    assert_eq!(canon(Raw::Text("1.5"), M::Int), Canon::Float(1.5));
    assert_eq!(
        canon(Raw::Text("abc"), M::Int),
        Canon::Unreadable("abc".into())
    );
    assert_eq!(
        canon(Raw::Text("9007199254740993"), M::BigIntNumber),
        Canon::Int(9_007_199_254_740_992)
    );
    assert_eq!(canon(Raw::Numeric("42"), M::Int), Canon::Int(42));
    // A JS number from a float: integral → the integer, else the float.
    assert_eq!(canon(Raw::Float(3.0), M::Int), Canon::Int(3));
    assert_eq!(canon(Raw::Float(2.5), M::BigIntNumber), Canon::Float(2.5));
    assert_eq!(
        canon(Raw::Float(2.5), M::BigInt),
        Canon::Unreadable("2.5 as bigint".into())
    );
}

// --- decimals ---------------------------------------------------------------

#[test]
fn exact_decimals_ignore_scale_but_not_digits() {
    let d = |s| canon(Raw::Numeric(s), M::Decimal);
    assert_eq!(d("56"), Canon::Decimal("56".into()));
    assert!(same(
        (Raw::Numeric("56"), M::Decimal),
        (Raw::Numeric("56.0"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Numeric("56.00"), M::Decimal),
        (Raw::Numeric("56.0"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Numeric("-0.00"), M::Decimal),
        (Raw::Numeric("0"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Numeric("0.0"), M::Decimal),
        (Raw::Numeric("0"), M::Decimal)
    ));
    assert!(!same(
        (Raw::Numeric("56.01"), M::Decimal),
        (Raw::Numeric("56.0"), M::DecimalString)
    ));
    assert!(!same(
        (Raw::Numeric("560"), M::Decimal),
        (Raw::Numeric("56"), M::Decimal)
    ));
    assert!(!same(
        (Raw::Numeric("-56"), M::Decimal),
        (Raw::Numeric("56"), M::Decimal)
    ));
    assert_eq!(d("12345678.90"), Canon::Decimal("12345678.9".into()));
    assert_eq!(d("-0.00"), Canon::Decimal("0".into()));
}

#[test]
fn scale_30_decimals_are_exact() {
    let tiny = "-0.000000000000000000000000000001";
    assert_eq!(
        canon(Raw::Numeric(tiny), M::Decimal),
        Canon::Decimal(tiny.into())
    );
    assert!(!same(
        (Raw::Numeric("0.000000000000000000000000000001"), M::Decimal),
        (Raw::Numeric("0.000000000000000000000000000002"), M::Decimal)
    ));
    let wide = "12345678901234567890123456789012345.123456789012345678901234567891";
    assert_eq!(
        canon(Raw::Numeric(wide), M::DecimalString),
        Canon::Decimal(wide.into())
    );
    let padded = "12345678901234567890123456789012345.123456789012345678901234567890";
    assert_eq!(
        canon(Raw::Numeric(padded), M::Decimal),
        Canon::Decimal(padded.trim_end_matches('0').into())
    );
}

#[test]
fn decimal_number_keeps_what_an_f64_keeps() {
    assert!(same(
        (Raw::Numeric("0.1"), M::DecimalNumber),
        (Raw::Numeric("0.10"), M::Decimal)
    ));
    assert!(same(
        (Raw::Numeric("56.00"), M::DecimalNumber),
        (Raw::Numeric("56"), M::Decimal)
    ));
    let big = "12345678901234567.89";
    assert!(!same(
        (Raw::Numeric(big), M::DecimalNumber),
        (Raw::Numeric(big), M::Decimal)
    ));
    assert_eq!(
        canon(Raw::Numeric(big), M::DecimalNumber),
        Canon::Decimal("12345678901234568".into())
    );
    // 0.1 + 0.2 is not 0.3 in f64, and the encoding says so.
    assert_eq!(
        canon(Raw::Float(0.1 + 0.2), M::DecimalNumber),
        Canon::Decimal("0.30000000000000004".into())
    );
    assert!(same(
        (Raw::Float(0.1), M::DecimalNumber),
        (Raw::Numeric("0.1"), M::Decimal)
    ));
    assert!(same(
        (Raw::Numeric("-0.0"), M::DecimalNumber),
        (Raw::Numeric("0"), M::Decimal)
    ));
    assert_eq!(
        canon(
            Raw::Numeric("0.000000000000000000000000000001"),
            M::DecimalNumber
        ),
        Canon::Decimal("0.000000000000000000000000000001".into())
    );
}

#[test]
fn decimal_special_values_are_distinct() {
    let all = [
        enc(Raw::Numeric("NaN"), M::Decimal),
        enc(Raw::Numeric("Infinity"), M::Decimal),
        enc(Raw::Numeric("-Infinity"), M::Decimal),
        enc(Raw::Numeric("0"), M::Decimal),
        enc(Raw::Null, M::Decimal),
    ];
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            assert_ne!(all[i], all[j], "{i} vs {j}");
        }
    }
    assert!(same(
        (Raw::Numeric("NaN"), M::DecimalNumber),
        (Raw::Numeric("NaN"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Numeric("-Infinity"), M::DecimalNumber),
        (Raw::Numeric("-Infinity"), M::Decimal)
    ));
    assert_eq!(
        canon(Raw::Numeric("NaN"), M::Decimal),
        Canon::Decimal("NaN".into())
    );
}

#[test]
fn raw_decimal_keeps_the_scale() {
    assert!(!same(
        (Raw::Numeric("1.10"), M::Raw),
        (Raw::Numeric("1.1"), M::Raw)
    ));
    assert_eq!(
        canon(Raw::Numeric("1.10"), M::Raw),
        Canon::Decimal("1.10".into())
    );
}

#[test]
fn sqlite_numbers_reach_decimal_modes() {
    assert!(same(
        (Raw::Int(56), M::Decimal),
        (Raw::Numeric("56.0"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Int(-1200), M::Decimal),
        (Raw::Numeric("-1200.00"), M::Decimal)
    ));
    assert!(same(
        (Raw::Float(12.5), M::Decimal),
        (Raw::Numeric("12.50"), M::DecimalString)
    ));
    assert!(same(
        (Raw::Int(9_007_199_254_740_993), M::Decimal),
        (Raw::Text("9007199254740993"), M::Decimal)
    ));
    assert!(!same(
        (Raw::Int(9_007_199_254_740_993), M::DecimalNumber),
        (Raw::Int(9_007_199_254_740_993), M::Decimal)
    ));
    assert_eq!(
        canon(Raw::Text("12,5"), M::Decimal),
        Canon::Unreadable("12,5".into())
    );
    assert_eq!(
        canon(Raw::Text("abc"), M::DecimalNumber),
        Canon::Unreadable("abc".into())
    );
}

// --- floats -----------------------------------------------------------------

#[test]
fn floats_canonicalise_nan_and_zero_except_raw() {
    let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
    assert!(same(
        (Raw::Float(f64::NAN), M::Float),
        (Raw::Float(other_nan), M::Float)
    ));
    assert!(!same(
        (Raw::Float(f64::NAN), M::Raw),
        (Raw::Float(other_nan), M::Raw)
    ));
    assert!(same(
        (Raw::Float(-0.0), M::Float),
        (Raw::Float(0.0), M::Float)
    ));
    assert!(!same((Raw::Float(-0.0), M::Raw), (Raw::Float(0.0), M::Raw)));
    assert!(!same(
        (Raw::Float(0.1), M::Float),
        (Raw::Float(0.1 + 1e-17 * 2.0), M::Float)
    ));
    assert_eq!(canon(Raw::Float(1.5), M::Float), Canon::Float(1.5));
    assert_eq!(canon(Raw::Int(3), M::Float), Canon::Float(3.0));
    assert_eq!(canon(Raw::Numeric("0.25"), M::Float), Canon::Float(0.25));
}

// --- text, bytes, uuid --------------------------------------------------------

#[test]
fn text_keeps_char_padding() {
    assert!(!same(
        (Raw::Text("US "), M::Text),
        (Raw::Text("US"), M::Text)
    ));
    assert_eq!(canon(Raw::Text("US "), M::Text), Canon::Text("US ".into()));
    assert_eq!(
        canon(Raw::Text("héllo"), M::Text),
        Canon::Text("héllo".into())
    );
}

#[test]
fn uuid_reads_as_lowercase_hyphenated_text() {
    let u = [
        0x55, 0x0E, 0x84, 0x00, 0xE2, 0x9B, 0x41, 0xD4, 0xA7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00,
        0x00,
    ];
    let text = "550e8400-e29b-41d4-a716-446655440000";
    assert_eq!(canon(Raw::Uuid(u), M::Text), Canon::Text(text.into()));
    assert!(same((Raw::Uuid(u), M::Text), (Raw::Text(text), M::Text)));
    assert!(same((Raw::Uuid(u), M::Raw), (Raw::Text(text), M::Raw)));
}

#[test]
fn bytes_are_length_prefixed() {
    assert_eq!(
        canon(Raw::Bytes(&[0, 1, 255]), M::Bytes),
        Canon::Bytes(vec![0, 1, 255])
    );
    assert!(!same(
        (Raw::Bytes(b"ab"), M::Bytes),
        (Raw::Bytes(b"abc"), M::Bytes)
    ));
    assert!(!same(
        (Raw::Bytes(b"ab"), M::Bytes),
        (Raw::Text("ab"), M::Text)
    ));
}

// --- booleans -----------------------------------------------------------------

#[test]
fn booleans_are_true_only_for_one() {
    assert_eq!(canon(Raw::Int(1), M::Boolean), Canon::Bool(true));
    assert_eq!(canon(Raw::Int(2), M::Boolean), Canon::Bool(false));
    assert_eq!(canon(Raw::Int(-1), M::IntBoolean), Canon::Bool(false));
    assert!(same(
        (Raw::Int(2), M::Boolean),
        (Raw::Int(0), M::IntBoolean)
    ));
    assert!(same(
        (Raw::Bool(true), M::Boolean),
        (Raw::Int(1), M::IntBoolean)
    ));
    assert!(!same((Raw::Bool(true), M::Boolean), (Raw::Int(1), M::Int)));
    assert_eq!(canon(Raw::Text("t"), M::Boolean), Canon::Bool(true));
    assert_eq!(
        canon(Raw::Text("yes"), M::Boolean),
        Canon::Unreadable("yes".into())
    );
}

// --- instants -----------------------------------------------------------------

#[test]
fn date_readings_cut_to_milliseconds_and_strings_keep_micros() {
    let t = us("2024-03-05 10:11:12.345678");
    let ms = us("2024-03-05 10:11:12.345");
    assert_eq!(canon(Raw::Timestamp(t), M::DateTime), Canon::Instant(ms));
    assert_eq!(canon(Raw::TimestampTz(t), M::DateTime), Canon::Instant(ms));
    assert_eq!(
        canon(Raw::Timestamp(t), M::DateTimeString),
        Canon::Instant(t)
    );
    // Prisma's Date vs Drizzle's string differ only when µs were stored.
    assert!(!same(
        (Raw::Timestamp(t), M::DateTime),
        (Raw::Timestamp(t), M::DateTimeString)
    ));
    assert!(same(
        (Raw::Timestamp(ms), M::DateTime),
        (Raw::Timestamp(ms), M::DateTimeString)
    ));
}

#[test]
fn millisecond_cut_floors_before_1970() {
    // 1969-12-31 23:59:59.999999 → 23:59:59.999, not 1970-01-01 00:00:00.
    let t = us("1969-12-31 23:59:59.999999");
    assert_eq!(t, -1);
    assert_eq!(
        canon(Raw::Timestamp(t), M::DateTime),
        Canon::Instant(-1_000)
    );
    assert_eq!(
        canon(Raw::Timestamp(-1_001), M::DateTime),
        Canon::Instant(-2_000)
    );
    assert_eq!(
        canon(Raw::Timestamp(-1_000), M::DateTime),
        Canon::Instant(-1_000)
    );
    assert_eq!(
        canon(Raw::Timestamp(t), M::DateTime).to_string(),
        "1969-12-31T23:59:59.999000Z"
    );
    assert_eq!(
        canon(Raw::Text("1969-12-31 23:59:59.999999"), M::DateTime),
        Canon::Instant(-1_000)
    );
}

#[test]
fn infinity_timestamps_survive_every_reading() {
    for read in [M::DateTime, M::DateTimeString] {
        assert_eq!(
            canon(Raw::Timestamp(i64::MAX), read),
            Canon::Instant(i64::MAX)
        );
        assert_eq!(
            canon(Raw::Timestamp(i64::MIN), read),
            Canon::Instant(i64::MIN)
        );
    }
    assert_eq!(
        canon(Raw::Timestamp(i64::MAX), M::DateTime).to_string(),
        "infinity"
    );
}

#[test]
fn sqlite_text_and_epoch_ms_are_instants() {
    let ms = us("2024-03-05T10:11:12.345Z");
    for text in [
        "2024-03-05T10:11:12.345+00:00",
        "2024-03-05T10:11:12.345Z",
        "2024-03-05 10:11:12.345",
        "2024-03-05T12:11:12.3456+02:00",
    ] {
        assert_eq!(
            canon(Raw::Text(text), M::DateTime),
            Canon::Instant(ms),
            "{text}"
        );
    }
    assert_eq!(
        canon(Raw::Text("2024-03-05 10:11:12"), M::DateTime),
        Canon::Instant(ms - 345_000)
    );
    // Prisma ≤ 6 wrote epoch milliseconds; 7 writes ISO text: one column can mix both.
    let epoch_ms = ms / 1_000;
    assert!(same(
        (Raw::Int(epoch_ms), M::DateTime),
        (Raw::Text("2024-03-05T10:11:12.345+00:00"), M::DateTime)
    ));
    assert!(same(
        (Raw::Int(epoch_ms), M::DateTime),
        (Raw::Timestamp(ms + 999), M::DateTime)
    ));
}

#[test]
fn unparseable_instants_are_unreadable_not_panics() {
    for junk in [
        "yesterday",
        "2024-02-30 00:00:00",
        "",
        "2024-03-05T10:11:12+25:00",
    ] {
        assert_eq!(
            canon(Raw::Text(junk), M::DateTime),
            Canon::Unreadable(junk.into())
        );
        assert_eq!(
            canon(Raw::Text(junk), M::DateTimeString),
            Canon::Unreadable(junk.into())
        );
    }
    assert!(matches!(
        canon(Raw::Int(i64::MAX), M::DateTime),
        Canon::Unreadable(_)
    ));
    assert!(matches!(
        canon(Raw::Int(i64::MAX), M::EpochSeconds),
        Canon::Unreadable(_)
    ));
}

#[test]
fn drizzle_sqlite_epoch_modes() {
    let s = us("2024-03-05T10:11:12Z");
    assert_eq!(
        canon(Raw::Int(s / 1_000_000), M::EpochSeconds),
        Canon::Instant(s)
    );
    assert_eq!(
        canon(Raw::Int(s / 1_000 + 5), M::EpochMillis),
        Canon::Instant(s + 5_000)
    );
    // Same instant through Drizzle seconds and Prisma's ISO text.
    assert!(same(
        (Raw::Int(s / 1_000_000), M::EpochSeconds),
        (Raw::Text("2024-03-05T10:11:12.000+00:00"), M::DateTime)
    ));
    assert!(same(
        (Raw::Int(s / 1_000), M::EpochMillis),
        (Raw::Int(s / 1_000), M::DateTime)
    ));
}

#[test]
fn raw_keeps_micros_and_tells_timestamp_kinds_apart() {
    let t = us("2024-03-05 10:11:12.345678");
    assert_eq!(canon(Raw::Timestamp(t), M::Raw), Canon::Instant(t));
    assert!(!same(
        (Raw::Timestamp(t), M::Raw),
        (Raw::TimestampTz(t), M::Raw)
    ));
    assert!(same(
        (Raw::Timestamp(t), M::DateTimeString),
        (Raw::TimestampTz(t), M::DateTimeString)
    ));
    assert!(same(
        (Raw::TimestampTz(t), M::Raw),
        (Raw::TimestampTz(t), M::DateTimeString)
    ));
}

// --- dates and times ------------------------------------------------------------

#[test]
fn dates_compare_by_day() {
    assert!(same(
        (Raw::Date(19_787), M::Date),
        (Raw::Date(19_787), M::DateString)
    ));
    assert!(same(
        (Raw::Date(19_787), M::Date),
        (Raw::Text("2024-03-05"), M::DateString)
    ));
    assert!(same(
        (Raw::Date(-1), M::Date),
        (Raw::Text("1969-12-31"), M::Date)
    ));
    assert!(!same(
        (Raw::Date(19_787), M::Date),
        (Raw::Date(19_788), M::DateString)
    ));
    assert_eq!(canon(Raw::Date(19_787), M::Date).to_string(), "2024-03-05");
    assert!(same(
        (Raw::Text("2024-03-05T00:00:00.000+00:00"), M::Date),
        (Raw::Date(19_787), M::DateString)
    ));
    assert_eq!(
        canon(Raw::Text("2024-03-05x"), M::Date),
        Canon::Unreadable("2024-03-05x".into())
    );
    // A Prisma DateTime on a date column carries the same information.
    assert!(same(
        (Raw::Date(19_787), M::DateTime),
        (Raw::Date(19_787), M::DateString)
    ));
}

#[test]
fn times_cut_to_ms_for_date_objects() {
    let t = 36_672_345_678; // 10:11:12.345678
    assert_eq!(canon(Raw::Time(t), M::Time), Canon::Time(36_672_345_000));
    assert_eq!(canon(Raw::Time(t), M::TimeString), Canon::Time(t));
    assert!(same(
        (Raw::Time(36_672_345_000), M::Time),
        (Raw::Text("10:11:12.345"), M::TimeString)
    ));
    assert!(!same(
        (Raw::Time(t), M::Time),
        (Raw::Time(t), M::TimeString)
    ));
    assert_eq!(
        canon(Raw::Time(t), M::TimeString).to_string(),
        "10:11:12.345678"
    );
}

// --- JSON -------------------------------------------------------------------------

#[test]
fn json_compares_as_json_parse_sees_it() {
    assert!(same(
        (Raw::Json(r#"{"b": 1, "a": [1.10, 2]}"#), M::Json),
        (Raw::Json(r#"{"a":[1.1,2],"b":1}"#), M::Json)
    ));
    assert_eq!(
        canon(
            Raw::Json(r#"{"n": 12345678901234567890, "x": 1.10, "e": 1e2}"#),
            M::Json
        ),
        Canon::Json(r#"{"e":100,"n":12345678901234567000,"x":1.1}"#.into())
    );
    assert!(same(
        (Raw::Json("9007199254740993"), M::Json),
        (Raw::Json("9007199254740992"), M::Json)
    ));
    assert!(!same(
        (Raw::Json(r#"{"a":1}"#), M::Json),
        (Raw::Json(r#"{"a":"1"}"#), M::Json)
    ));
    assert!(!same(
        (Raw::Json("[1,2]"), M::Json),
        (Raw::Json("[2,1]"), M::Json)
    ));
    assert!(same(
        (Raw::Json(r#"{"a":1,"a":2}"#), M::Json),
        (Raw::Json(r#"{"a":2}"#), M::Json)
    ));
    // SQLite/MySQL deliver JSON as text.
    assert!(same(
        (Raw::Text(r#"{"a": 1}"#), M::Json),
        (Raw::Json(r#"{"a":1}"#), M::Json)
    ));
    assert_eq!(
        canon(Raw::Json("{oops"), M::Json),
        Canon::Unreadable("{oops".into())
    );
}

#[test]
fn raw_json_keeps_the_text() {
    assert!(!same(
        (Raw::Json(r#"{"a": 1}"#), M::Raw),
        (Raw::Json(r#"{"a":1}"#), M::Raw)
    ));
    assert_eq!(
        canon(Raw::Json(r#"{"a": 1.10}"#), M::Raw),
        Canon::Json(r#"{"a": 1.10}"#.into())
    );
}

// --- enums --------------------------------------------------------------------------

fn status_column(read: ReadMode) -> (Column, Mapping) {
    let column = Column {
        name: "status".into(),
        field: "status".into(),
        db_type: "ticket_status".into(),
        nullable: false,
        is_list: false,
        enum_name: Some("TicketStatus".into()),
        read,
        has_default: false,
        is_updated_at: false,
    };
    let mapping = Mapping {
        orm: Orm::Prisma,
        dialect: Dialect::Postgres,
        tables: Vec::new(),
        enums: vec![EnumDef {
            name: "TicketStatus".into(),
            db_name: "ticket_status".into(),
            schema: None,
            values: vec![
                EnumValue {
                    name: "WAITING_FOR_PARTS".into(),
                    db_name: "waiting_parts".into(),
                },
                EnumValue {
                    name: "OPEN".into(),
                    db_name: "OPEN".into(),
                },
            ],
        }],
        notes: Vec::new(),
    };
    (column, mapping)
}

#[test]
fn enum_names_compare_through_the_value_map() {
    let (pc, pm) = status_column(M::EnumName);
    let (dc, dm) = status_column(M::EnumLabel);
    let prisma = ColumnCanon::new(&pc, &pm);
    let drizzle = ColumnCanon::new(&dc, &dm);
    assert_eq!(prisma.enum_name("waiting_parts"), Some("WAITING_FOR_PARTS"));
    assert_eq!(prisma.enum_name("WAITING_FOR_PARTS"), None);
    let e = |raw: Raw<'_>, c: &ColumnCanon| {
        let mut out = Vec::new();
        encode(&raw, c, &mut out);
        out
    };
    for label in ["waiting_parts", "OPEN"] {
        assert_eq!(
            e(Raw::Text(label), &prisma),
            e(Raw::Text(label), &drizzle),
            "{label}"
        );
    }
    assert_ne!(
        e(Raw::Text("OPEN"), &prisma),
        e(Raw::Text("waiting_parts"), &drizzle)
    );
    // A label Prisma's enum lacks: Prisma throws, Drizzle passes it on.
    let stray = e(Raw::Text("archived"), &prisma);
    assert_eq!(
        decode(&stray).unwrap().0,
        Canon::Unreadable("archived".into())
    );
    assert_ne!(stray, e(Raw::Text("archived"), &drizzle));
    assert_eq!(
        decode(&e(Raw::Text("archived"), &drizzle)).unwrap().0,
        Canon::Text("archived".into())
    );
}

#[test]
fn enum_without_definition_passes_labels_through() {
    let (pc, mut pm) = status_column(M::EnumName);
    pm.enums.clear();
    let prisma = ColumnCanon::new(&pc, &pm);
    assert!(same(
        (Raw::Text("archived"), M::EnumLabel),
        (Raw::Text("archived"), M::Text)
    ));
    let mut out = Vec::new();
    encode(&Raw::Text("archived"), &prisma, &mut out);
    assert_eq!(out, enc(Raw::Text("archived"), M::EnumLabel));
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
        (
            Raw::Numeric("-12.50"),
            M::Decimal,
            Canon::Decimal("-12.5".into()),
        ),
        (Raw::Numeric("1.50"), M::Raw, Canon::Decimal("1.50".into())),
        (Raw::Float(2.25), M::Float, Canon::Float(2.25)),
        (Raw::Text(""), M::Text, Canon::Text(String::new())),
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
        (Raw::Text("nope"), M::Date, Canon::Unreadable("nope".into())),
        (
            Raw::Numeric("0"),
            M::DecimalNumber,
            Canon::Decimal("0".into()),
        ),
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
    assert_eq!(Canon::Text("US ".into()).to_string(), "\"US \"");
    assert_eq!(Canon::Instant(0).to_string(), "1970-01-01T00:00:00.000000Z");
    assert_eq!(Canon::Float(1e21).to_string(), "1e+21");
    assert_eq!(Canon::Float(-0.0).to_string(), "-0");
    assert_eq!(Canon::Bytes(vec![0xDE, 0xAD]).to_string(), "\\xdead");
    assert_eq!(Canon::Null.to_string(), "NULL");
    assert_eq!(
        Canon::Unreadable("x".into()).to_string(),
        "<unreadable: \"x\">"
    );
}

// --- tolerance ----------------------------------------------------------------------

#[test]
fn parses_tolerances() {
    let p = |v: toml::Value| parse_tolerance(&v);
    assert_eq!(p(toml::Value::Float(0.005)), Ok(Tolerance::Absolute(0.005)));
    assert_eq!(p(toml::Value::Integer(2)), Ok(Tolerance::Absolute(2.0)));
    assert_eq!(p("1%".into()), Ok(Tolerance::Relative(0.01)));
    assert_eq!(p("0.5 %".into()), Ok(Tolerance::Relative(0.005)));
    assert_eq!(p("1ms".into()), Ok(Tolerance::Time(1_000)));
    assert_eq!(p("500us".into()), Ok(Tolerance::Time(500)));
    assert_eq!(p("500µs".into()), Ok(Tolerance::Time(500)));
    assert_eq!(p("2s".into()), Ok(Tolerance::Time(2_000_000)));
    assert_eq!(p("1.5ms".into()), Ok(Tolerance::Time(1_500)));
    assert_eq!(p("1min".into()), Ok(Tolerance::Time(60_000_000)));
    assert_eq!(p("0.01".into()), Ok(Tolerance::Absolute(0.01)));
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
    let d = |s: &str| Canon::Decimal(s.into());
    assert!(within_tolerance(&d("1.004"), &d("1.000"), &abs));
    assert!(!within_tolerance(&d("1.006"), &d("1.000"), &abs));
    assert!(within_tolerance(&Canon::Float(1.0), &d("1.004"), &abs));
    assert!(within_tolerance(
        &Canon::Int(9_007_199_254_740_993),
        &Canon::Int(9_007_199_254_740_992),
        &Tolerance::Absolute(1.0)
    ));
    assert!(!within_tolerance(
        &Canon::Int(i128::MAX),
        &Canon::Int(i128::MIN),
        &Tolerance::Absolute(1e300)
    ));
    let rel = Tolerance::Relative(0.01);
    assert!(within_tolerance(&Canon::Int(100), &Canon::Int(101), &rel));
    assert!(!within_tolerance(&Canon::Int(100), &Canon::Int(102), &rel));
    assert!(within_tolerance(
        &Canon::Float(0.0),
        &Canon::Float(0.0),
        &rel
    ));
    assert!(!within_tolerance(
        &Canon::Float(f64::NAN),
        &Canon::Float(1.0),
        &Tolerance::Absolute(1e9)
    ));
    assert!(within_tolerance(
        &Canon::Float(f64::NAN),
        &Canon::Float(f64::NAN),
        &abs
    ));
    assert!(!within_tolerance(
        &d("Infinity"),
        &d("1"),
        &Tolerance::Absolute(1e300)
    ));
    assert!(within_tolerance(
        &d("Infinity"),
        &Canon::Float(f64::INFINITY),
        &abs
    ));
    // Tolerances never bridge kinds.
    assert!(!within_tolerance(
        &Canon::Text("1".into()),
        &Canon::Int(1),
        &abs
    ));
    assert!(!within_tolerance(
        &Canon::Instant(0),
        &Canon::Instant(1),
        &abs
    ));
}

#[test]
fn tolerance_bounds_instants() {
    let ms = Tolerance::Time(1_000);
    assert!(within_tolerance(
        &Canon::Instant(1_000_999),
        &Canon::Instant(1_000_000),
        &ms
    ));
    assert!(!within_tolerance(
        &Canon::Instant(1_001_001),
        &Canon::Instant(1_000_000),
        &ms
    ));
    assert!(within_tolerance(&Canon::Time(500), &Canon::Time(0), &ms));
    assert!(within_tolerance(
        &Canon::Date(1),
        &Canon::Instant(US_PER_DAY + 1),
        &ms
    ));
    assert!(!within_tolerance(&Canon::Time(0), &Canon::Instant(0), &ms));
    assert!(!within_tolerance(
        &Canon::Instant(i64::MAX),
        &Canon::Instant(i64::MAX - 1),
        &ms
    ));
    assert!(!within_tolerance(&Canon::Int(0), &Canon::Int(1), &ms));
    // The Prisma/Drizzle sub-ms cut is exactly what a 1ms tolerance forgives.
    let t = us("2024-03-05 10:11:12.345678");
    let a = canon(Raw::Timestamp(t), M::DateTime);
    let b = canon(Raw::Timestamp(t), M::DateTimeString);
    assert_ne!(a, b);
    assert!(within_tolerance(&a, &b, &ms));
    assert!(!within_tolerance(&a, &b, &Tolerance::Time(100)));
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

// --- issue 9 / 17: what each real ORM hands -----------------------------------

fn enc_by(raw: Raw<'_>, read: ReadMode, orm: Orm) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&raw, &ColumnCanon::from_read(read).with_orm(orm), &mut out);
    out
}

fn canon_by(raw: Raw<'_>, read: ReadMode, orm: Orm) -> Canon {
    let bytes = enc_by(raw, read, orm);
    let (c, n) = decode(&bytes).expect("decodes");
    assert_eq!(n, bytes.len());
    c
}

fn list_by(raw: Raw<'_>, read: ReadMode, orm: Orm) -> Canon {
    let mut out = Vec::new();
    encode(
        &raw,
        &ColumnCanon::from_read(read).with_orm(orm).as_list(),
        &mut out,
    );
    let (c, n) = decode(&out).expect("decodes");
    assert_eq!(n, out.len());
    c
}

#[test]
fn prisma_lists_hand_empty_for_null_and_throw_on_null_elements() {
    use Orm::{Drizzle, Prisma};
    // SQL NULL: Prisma [], Drizzle null; '{}' is [] on both.
    assert_eq!(list_by(Raw::Null, M::Text, Prisma), Canon::List(vec![]));
    assert_eq!(list_by(Raw::Null, M::Text, Drizzle), Canon::Null);
    assert_eq!(
        list_by(Raw::Text("{}"), M::Text, Drizzle),
        Canon::List(vec![])
    );
    assert_eq!(
        list_by(Raw::Null, M::Text, Prisma),
        list_by(Raw::Text("{}"), M::Text, Drizzle)
    );
    // Elements are read with the column's mode.
    assert_eq!(
        list_by(Raw::Text("{1,2}"), M::Int, Drizzle),
        Canon::List(vec![Canon::Int(1), Canon::Int(2)])
    );
    assert_eq!(
        list_by(Raw::Text(r#"{a,"b c"}"#), M::Text, Prisma),
        Canon::List(vec![Canon::Text("a".into()), Canon::Text("b c".into())])
    );
    // A NULL element: Prisma's findMany throws; Drizzle hands [a, null].
    assert!(matches!(
        list_by(Raw::Text("{a,NULL}"), M::Text, Prisma),
        Canon::Unreadable(_)
    ));
    assert_eq!(
        list_by(Raw::Text("{a,NULL}"), M::Text, Drizzle),
        Canon::List(vec![Canon::Text("a".into()), Canon::Null])
    );
    assert_eq!(
        list_by(Raw::Text("{a,NULL}"), M::Text, Drizzle).to_string(),
        "[\"a\", NULL]"
    );
}

#[test]
fn dates_a_js_date_cannot_hold_are_invalid_dates() {
    use Orm::{Drizzle, Prisma};
    let ts = |s: &str| time::parse_instant(s).unwrap();
    // Prisma: infinity, BC and year 10000 are Invalid Dates (not throws).
    for us in [
        i64::MAX,
        i64::MIN,
        ts("10000-01-01T00:00:00Z"),
        ts("-0043-03-15T00:00:00Z"),
    ] {
        assert_eq!(
            canon_by(Raw::Timestamp(us), M::DateTime, Prisma),
            Canon::InvalidDate
        );
        assert_eq!(
            canon_by(Raw::TimestampTz(us), M::DateTime, Prisma),
            Canon::InvalidDate
        );
    }
    // An Invalid Date equals another and differs from the string reading.
    assert_eq!(
        enc_by(Raw::Timestamp(i64::MAX), M::DateTime, Prisma),
        enc_by(Raw::Timestamp(i64::MIN), M::DateTime, Prisma)
    );
    assert_ne!(
        enc_by(Raw::Timestamp(i64::MAX), M::DateTime, Prisma),
        enc_by(Raw::Timestamp(i64::MAX), M::DateTimeString, Drizzle)
    );
    assert_eq!(Canon::InvalidDate.to_string(), "Invalid Date");
    // Drizzle mode 'date': `new Date("infinity+0000")` is 2000-01-01.
    assert_eq!(
        canon_by(Raw::Timestamp(i64::MAX), M::DateTime, Drizzle),
        Canon::Instant(ts("2000-01-01T00:00:00Z"))
    );
    assert_eq!(
        canon_by(Raw::TimestampTz(i64::MAX), M::DateTime, Drizzle),
        Canon::InvalidDate
    );
    assert_eq!(
        canon_by(
            Raw::Timestamp(ts("10000-01-01T00:00:00Z")),
            M::DateTime,
            Drizzle
        ),
        Canon::Instant(ts("10000-01-01T00:00:00Z"))
    );
    // Ordinary instants: both cut to ms, equal.
    let t = ts("2024-03-05T10:11:12.123456Z");
    assert_eq!(
        enc_by(Raw::Timestamp(t), M::DateTime, Prisma),
        enc_by(Raw::Timestamp(t), M::DateTime, Drizzle)
    );
    // @db.Date: Prisma Invalid Date out of 1–9999; Drizzle date mode parses 10000.
    let d = |s: &str| time::parse_date(s).unwrap() as i32;
    assert_eq!(
        canon_by(Raw::Date(i32::MAX), M::Date, Prisma),
        Canon::InvalidDate
    );
    assert_eq!(
        canon_by(Raw::Date(d("10000-01-01")), M::Date, Prisma),
        Canon::InvalidDate
    );
    assert_eq!(
        canon_by(Raw::Date(d("10000-01-01")), M::Date, Drizzle),
        Canon::Date(d("10000-01-01"))
    );
    assert_eq!(
        canon_by(Raw::Date(i32::MIN), M::Date, Drizzle),
        Canon::InvalidDate
    );
    assert_eq!(
        canon_by(Raw::Date(d("2024-03-05")), M::Date, Prisma),
        Canon::Date(d("2024-03-05"))
    );
}

#[test]
fn prisma_on_sqlite_reads_as_its_data_mapper_does() {
    use Orm::{Drizzle, Prisma};
    // Int holding REAL 2.5: Prisma Math.trunc → 2, Drizzle 2.5.
    assert_eq!(canon_by(Raw::Float(2.5), M::Int, Prisma), Canon::Int(2));
    assert_eq!(
        canon_by(Raw::Float(2.5), M::Int, Drizzle),
        Canon::Float(2.5)
    );
    // Int above 2^53: Prisma throws for the whole query.
    assert!(matches!(
        canon_by(Raw::Int(9_007_199_254_740_994), M::Int, Prisma),
        Canon::Unreadable(_)
    ));
    assert_eq!(
        canon_by(Raw::Int(9_007_199_254_740_991), M::Int, Prisma),
        Canon::Int(9_007_199_254_740_991)
    );
    // BigInt holding REAL 25.3: Prisma 25n, no throw.
    assert_eq!(
        canon_by(Raw::Float(25.3), M::BigInt, Prisma),
        Canon::Int(25)
    );
    // Boolean holding 2: Prisma false; a plain integer() hands 2.
    assert_eq!(
        canon_by(Raw::Int(2), M::Boolean, Prisma),
        Canon::Bool(false)
    );
    assert_eq!(
        canon_by(Raw::Int(2), M::IntOrBoolean, Drizzle),
        Canon::Int(2)
    );
    assert_eq!(
        enc_by(Raw::Int(1), M::Boolean, Prisma),
        enc_by(Raw::Int(1), M::IntOrBoolean, Drizzle)
    );
    assert_eq!(
        enc_by(Raw::Int(0), M::Boolean, Prisma),
        enc_by(Raw::Int(0), M::IntOrBoolean, Drizzle)
    );
    // Decimal stored as INTEGER: the exact Decimal, against mode 'number'.
    assert_eq!(
        canon_by(Raw::Int(9_007_199_254_740_993), M::Decimal, Prisma),
        Canon::Decimal("9007199254740993".into())
    );
    assert_ne!(
        enc_by(Raw::Int(9_007_199_254_740_993), M::Decimal, Prisma),
        enc_by(Raw::Int(9_007_199_254_740_993), M::DecimalNumber, Drizzle)
    );
    // Drizzle's numeric() string of an INTEGER is `String(number)`.
    assert_eq!(
        canon_by(Raw::Int(9_007_199_254_740_993), M::DecimalString, Drizzle),
        Canon::Decimal("9007199254740992".into())
    );
    assert_eq!(
        canon_by(Raw::Numeric("9007199254740993"), M::DecimalString, Drizzle),
        Canon::Decimal("9007199254740993".into())
    );
    // Text a Date reader cannot parse: Invalid Date (no throw); Drizzle's
    // string reading hands the text, its plain integer() the text too.
    assert_eq!(
        canon_by(Raw::Text("junk"), M::DateTime, Prisma),
        Canon::InvalidDate
    );
    assert_eq!(
        canon_by(Raw::Text("junk"), M::DateTimeString, Drizzle),
        Canon::Text("junk".into())
    );
    assert_eq!(
        canon_by(Raw::Text("abc"), M::Int, Drizzle),
        Canon::Text("abc".into())
    );
    assert!(matches!(
        canon_by(Raw::Text("abc"), M::Int, Prisma),
        Canon::Unreadable(_)
    ));
}

#[test]
fn text_timestamps_compare_at_the_finest_precision_either_side_carries() {
    use Orm::{Drizzle, Prisma};
    let ns = "2024-03-05T10:11:12.123000789Z";
    // Prisma cuts to ms; Drizzle's string keeps the ns: they differ.
    assert_ne!(
        enc_by(Raw::Text(ns), M::DateTime, Prisma),
        enc_by(Raw::Text(ns), M::DateTimeString, Drizzle)
    );
    assert_eq!(
        canon_by(Raw::Text(ns), M::DateTimeString, Drizzle).to_string(),
        "2024-03-05T10:11:12.123000789Z"
    );
    // Trailing zero ns digits are no extra information.
    let zeros = "2024-03-05T10:11:12.123000000Z";
    assert_eq!(
        enc_by(Raw::Text(zeros), M::DateTime, Prisma),
        enc_by(Raw::Text(zeros), M::DateTimeString, Drizzle)
    );
}

#[test]
fn raw_hashing_only_where_both_orms_read_alike() {
    let p = |r: ReadMode| ColumnCanon::from_read(r).with_orm(Orm::Prisma);
    let d = |r: ReadMode| ColumnCanon::from_read(r).with_orm(Orm::Drizzle);
    // Typed PostgreSQL wires: integers, strings read alike by both ORMs.
    assert!(p(M::Int).reads_like(&d(M::Int), true));
    assert!(p(M::Text).reads_like(&d(M::Text), false));
    // SQLite's loose typing: Prisma truncates a REAL in an Int column.
    assert!(!p(M::Int).reads_like(&d(M::Int), false));
    // Dates out of range and lists read per ORM.
    assert!(!p(M::DateTime).reads_like(&d(M::DateTime), true));
    assert!(
        !p(M::Text)
            .as_list()
            .reads_like(&d(M::Text).as_list(), false)
    );
    assert!(p(M::DateTime).reads_like(&p(M::DateTime), true));
}
