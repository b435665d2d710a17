//! Numbers, booleans, text, bytes, uuids, JSON and enums.

use super::*;
use crate::mapping::{Dialect, EnumDef, EnumValue};

// --- integers ---------------------------------------------------------------

#[test]
fn bigint_number_holds_what_javascript_holds() {
    for (v, number) in [
        (9_007_199_254_740_993, 9_007_199_254_740_992),
        (4_006_381_333_931, 4_006_381_333_931),
        (i64::MAX, 9_223_372_036_854_775_808),
        (i64::MIN, -9_223_372_036_854_775_808),
        ((1 << 53) - 1, (1 << 53) - 1),
    ] {
        let lossy = canon(Raw::Int(v), M::BigIntNumber);
        assert_eq!(lossy, Canon::Int(number), "{v}");
    }

    // Exact bigint vs number: equal exactly when nothing was lost.
    for (v, lost) in [
        (9_007_199_254_740_993, true),
        (i64::MAX, true),
        (i64::MIN + 1, true),
        (i64::MIN, false), // -2^63 is a power of two: exact in f64
        (4_006_381_333_931, false),
        (9_007_199_254_740_992, false),
        (-((1 << 53) - 1), false),
    ] {
        let differs = !same((Raw::Int(v), M::BigInt), (Raw::Int(v), M::BigIntNumber));
        assert_eq!(differs, lost, "{v}");
    }
    // The lossy reading of 2^53+1 is the exact reading of 2^53.
    assert!(same(
        (Raw::Int(9_007_199_254_740_993), M::BigIntNumber),
        (Raw::Int(9_007_199_254_740_992), M::BigInt)
    ));
}

#[test]
fn integers_are_exact_i128() {
    assert_canon(&[
        (Raw::Int(i64::MAX), M::BigInt, Canon::Int(i64::MAX.into())),
        (Raw::Int(i64::MIN), M::Int, Canon::Int(i64::MIN.into())),
        (Raw::Int(i64::MIN), M::Raw, Canon::Int(i64::MIN.into())),
    ]);
    assert_same(&[
        ((Raw::Int(7), M::Int), (Raw::Int(7), M::BigInt), true),
        ((Raw::Int(7), M::Raw), (Raw::Int(7), M::BigInt), true),
    ]);
}

#[test]
fn integer_text_parses_or_is_unreadable() {
    let t = Raw::Text;
    assert_canon(&[
        (t("123"), M::BigInt, Canon::Int(123)),
        (
            t("-9223372036854775808"),
            M::BigInt,
            Canon::Int(i64::MIN.into()),
        ),
        (t("12a"), M::BigInt, unreadable("12a")),
        (t("1.5"), M::BigInt, unreadable("1.5")),
        (t("1.5"), M::Int, Canon::Float(1.5)),
        (t("abc"), M::Int, unreadable("abc")),
        (
            t("9007199254740993"),
            M::BigIntNumber,
            Canon::Int(9_007_199_254_740_992),
        ),
        (Raw::Numeric("42"), M::Int, Canon::Int(42)),
        // A JS number from a float: integral → the integer, else the float.
        (Raw::Float(3.0), M::Int, Canon::Int(3)),
        (Raw::Float(2.5), M::BigIntNumber, Canon::Float(2.5)),
        (Raw::Float(2.5), M::BigInt, unreadable("2.5 as bigint")),
    ]);
}

// --- decimals ---------------------------------------------------------------

#[test]
fn exact_decimals_ignore_scale_but_not_digits() {
    let n = Raw::Numeric;
    assert_canon(&[
        (n("56"), M::Decimal, dec("56")),
        (n("12345678.90"), M::Decimal, dec("12345678.9")),
        (n("-0.00"), M::Decimal, dec("0")),
    ]);
    assert_same(&[
        ((n("56"), M::Decimal), (n("56.0"), M::DecimalString), true),
        (
            (n("56.00"), M::Decimal),
            (n("56.0"), M::DecimalString),
            true,
        ),
        ((n("-0.00"), M::Decimal), (n("0"), M::DecimalString), true),
        ((n("0.0"), M::Decimal), (n("0"), M::Decimal), true),
        (
            (n("56.01"), M::Decimal),
            (n("56.0"), M::DecimalString),
            false,
        ),
        ((n("560"), M::Decimal), (n("56"), M::Decimal), false),
        ((n("-56"), M::Decimal), (n("56"), M::Decimal), false),
    ]);
}

#[test]
fn scale_30_decimals_are_exact() {
    let tiny = "-0.000000000000000000000000000001";
    let wide = "12345678901234567890123456789012345.123456789012345678901234567891";
    let padded = "12345678901234567890123456789012345.123456789012345678901234567890";
    assert_canon(&[
        (Raw::Numeric(tiny), M::Decimal, dec(tiny)),
        (Raw::Numeric(wide), M::DecimalString, dec(wide)),
        (
            Raw::Numeric(padded),
            M::Decimal,
            dec(padded.trim_end_matches('0')),
        ),
    ]);
    assert!(!same(
        (Raw::Numeric("0.000000000000000000000000000001"), M::Decimal),
        (Raw::Numeric("0.000000000000000000000000000002"), M::Decimal)
    ));
}

#[test]
fn decimal_number_keeps_what_an_f64_keeps() {
    let n = Raw::Numeric;
    let big = "12345678901234567.89";
    assert_same(&[
        ((n("0.1"), M::DecimalNumber), (n("0.10"), M::Decimal), true),
        ((n("56.00"), M::DecimalNumber), (n("56"), M::Decimal), true),
        ((n(big), M::DecimalNumber), (n(big), M::Decimal), false),
        (
            (Raw::Float(0.1), M::DecimalNumber),
            (n("0.1"), M::Decimal),
            true,
        ),
        ((n("-0.0"), M::DecimalNumber), (n("0"), M::Decimal), true),
    ]);
    let scale_30 = "0.000000000000000000000000000001";
    assert_canon(&[
        (n(big), M::DecimalNumber, dec("12345678901234568")),
        // 0.1 + 0.2 is not 0.3 in f64, and the encoding says so.
        (
            Raw::Float(0.1 + 0.2),
            M::DecimalNumber,
            dec("0.30000000000000004"),
        ),
        (n(scale_30), M::DecimalNumber, dec(scale_30)),
    ]);
}

#[test]
fn decimal_special_values_are_distinct() {
    let n = Raw::Numeric;
    let all = [
        enc(n("NaN"), M::Decimal),
        enc(n("Infinity"), M::Decimal),
        enc(n("-Infinity"), M::Decimal),
        enc(n("0"), M::Decimal),
        enc(Raw::Null, M::Decimal),
    ];
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            assert_ne!(all[i], all[j], "{i} vs {j}");
        }
    }
    assert_same(&[
        (
            (n("NaN"), M::DecimalNumber),
            (n("NaN"), M::DecimalString),
            true,
        ),
        (
            (n("-Infinity"), M::DecimalNumber),
            (n("-Infinity"), M::Decimal),
            true,
        ),
    ]);
    assert_eq!(canon(n("NaN"), M::Decimal), dec("NaN"));
}

#[test]
fn raw_decimal_keeps_the_scale() {
    let n = Raw::Numeric;
    assert!(!same((n("1.10"), M::Raw), (n("1.1"), M::Raw)));
    assert_eq!(canon(n("1.10"), M::Raw), dec("1.10"));
}

#[test]
fn sqlite_numbers_reach_decimal_modes() {
    let n = Raw::Numeric;
    let big = Raw::Int(9_007_199_254_740_993);
    assert_same(&[
        (
            (Raw::Int(56), M::Decimal),
            (n("56.0"), M::DecimalString),
            true,
        ),
        (
            (Raw::Int(-1200), M::Decimal),
            (n("-1200.00"), M::Decimal),
            true,
        ),
        (
            (Raw::Float(12.5), M::Decimal),
            (n("12.50"), M::DecimalString),
            true,
        ),
        (
            (big, M::Decimal),
            (Raw::Text("9007199254740993"), M::Decimal),
            true,
        ),
        ((big, M::DecimalNumber), (big, M::Decimal), false),
    ]);
    assert_canon(&[
        (Raw::Text("12,5"), M::Decimal, unreadable("12,5")),
        (Raw::Text("abc"), M::DecimalNumber, unreadable("abc")),
    ]);
}

// --- floats -----------------------------------------------------------------

#[test]
fn floats_canonicalise_nan_and_zero_except_raw() {
    let f = Raw::Float;
    let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
    assert_same(&[
        ((f(f64::NAN), M::Float), (f(other_nan), M::Float), true),
        ((f(f64::NAN), M::Raw), (f(other_nan), M::Raw), false),
        ((f(-0.0), M::Float), (f(0.0), M::Float), true),
        ((f(-0.0), M::Raw), (f(0.0), M::Raw), false),
        ((f(0.1), M::Float), (f(0.1 + 1e-17 * 2.0), M::Float), false),
    ]);
    assert_canon(&[
        (f(1.5), M::Float, Canon::Float(1.5)),
        (Raw::Int(3), M::Float, Canon::Float(3.0)),
        (Raw::Numeric("0.25"), M::Float, Canon::Float(0.25)),
    ]);
}

// --- booleans -----------------------------------------------------------------

#[test]
fn booleans_are_true_only_for_one() {
    assert_canon(&[
        (Raw::Int(1), M::Boolean, Canon::Bool(true)),
        (Raw::Int(2), M::Boolean, Canon::Bool(false)),
        (Raw::Int(-1), M::IntBoolean, Canon::Bool(false)),
        (Raw::Text("t"), M::Boolean, Canon::Bool(true)),
        (Raw::Text("yes"), M::Boolean, unreadable("yes")),
    ]);
    assert_same(&[
        (
            (Raw::Int(2), M::Boolean),
            (Raw::Int(0), M::IntBoolean),
            true,
        ),
        (
            (Raw::Bool(true), M::Boolean),
            (Raw::Int(1), M::IntBoolean),
            true,
        ),
        ((Raw::Bool(true), M::Boolean), (Raw::Int(1), M::Int), false),
    ]);
}

// --- text, bytes, uuid --------------------------------------------------------

#[test]
fn text_keeps_char_padding() {
    assert!(!same(
        (Raw::Text("US "), M::Text),
        (Raw::Text("US"), M::Text)
    ));
    assert_canon(&[
        (Raw::Text("US "), M::Text, text("US ")),
        (Raw::Text("héllo"), M::Text, text("héllo")),
    ]);
}

#[test]
fn uuid_reads_as_lowercase_hyphenated_text() {
    let u = [
        0x55, 0x0E, 0x84, 0x00, 0xE2, 0x9B, 0x41, 0xD4, 0xA7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00,
        0x00,
    ];
    let hyphenated = "550e8400-e29b-41d4-a716-446655440000";
    assert_eq!(canon(Raw::Uuid(u), M::Text), text(hyphenated));
    assert_same(&[
        (
            (Raw::Uuid(u), M::Text),
            (Raw::Text(hyphenated), M::Text),
            true,
        ),
        (
            (Raw::Uuid(u), M::Raw),
            (Raw::Text(hyphenated), M::Raw),
            true,
        ),
    ]);
}

#[test]
fn bytes_are_length_prefixed() {
    assert_eq!(
        canon(Raw::Bytes(&[0, 1, 255]), M::Bytes),
        Canon::Bytes(vec![0, 1, 255])
    );
    assert_same(&[
        (
            (Raw::Bytes(b"ab"), M::Bytes),
            (Raw::Bytes(b"abc"), M::Bytes),
            false,
        ),
        (
            (Raw::Bytes(b"ab"), M::Bytes),
            (Raw::Text("ab"), M::Text),
            false,
        ),
    ]);
}

// --- JSON -------------------------------------------------------------------------

#[test]
fn json_compares_as_json_parse_sees_it() {
    let j = Raw::Json;
    assert_same(&[
        (
            (j(r#"{"b": 1, "a": [1.10, 2]}"#), M::Json),
            (j(r#"{"a":[1.1,2],"b":1}"#), M::Json),
            true,
        ),
        (
            (j("9007199254740993"), M::Json),
            (j("9007199254740992"), M::Json),
            true,
        ),
        (
            (j(r#"{"a":1}"#), M::Json),
            (j(r#"{"a":"1"}"#), M::Json),
            false,
        ),
        ((j("[1,2]"), M::Json), (j("[2,1]"), M::Json), false),
        (
            (j(r#"{"a":1,"a":2}"#), M::Json),
            (j(r#"{"a":2}"#), M::Json),
            true,
        ),
        // SQLite/MySQL deliver JSON as text.
        (
            (Raw::Text(r#"{"a": 1}"#), M::Json),
            (j(r#"{"a":1}"#), M::Json),
            true,
        ),
    ]);
    assert_canon(&[
        (
            j(r#"{"n": 12345678901234567890, "x": 1.10, "e": 1e2}"#),
            M::Json,
            Canon::Json(r#"{"e":100,"n":12345678901234567000,"x":1.1}"#.into()),
        ),
        (j("{oops"), M::Json, unreadable("{oops")),
    ]);
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

/// A `status` column of enum `TicketStatus` (labels `waiting_parts`,
/// `OPEN`; Prisma names `WAITING_FOR_PARTS`, `OPEN`) read with `read` by `orm`.
pub(crate) fn status_column_of(read: ReadMode, orm: Orm) -> (Column, Mapping) {
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
    let value = |name: &str, db: &str| EnumValue {
        name: name.into(),
        db_name: db.into(),
    };
    let mapping = Mapping {
        orm,
        dialect: Dialect::Postgres,
        tables: Vec::new(),
        enums: vec![EnumDef {
            name: "TicketStatus".into(),
            db_name: "ticket_status".into(),
            schema: None,
            values: vec![
                value("WAITING_FOR_PARTS", "waiting_parts"),
                value("OPEN", "OPEN"),
            ],
        }],
        notes: Vec::new(),
    };
    (column, mapping)
}

fn status_column(read: ReadMode) -> (Column, Mapping) {
    status_column_of(read, Orm::Prisma)
}

fn enc_col(raw: Raw<'_>, c: &ColumnCanon) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&raw, c, &mut out);
    out
}

#[test]
fn enum_names_compare_through_the_value_map() {
    let (pc, pm) = status_column(M::EnumName);
    let (dc, dm) = status_column(M::EnumLabel);
    let prisma = ColumnCanon::new(&pc, &pm);
    let drizzle = ColumnCanon::new(&dc, &dm);
    assert_eq!(prisma.enum_name("waiting_parts"), Some("WAITING_FOR_PARTS"));
    assert_eq!(prisma.enum_name("WAITING_FOR_PARTS"), None);
    let e = enc_col;
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
    assert_eq!(decode(&stray).unwrap().0, unreadable("archived"));
    assert_ne!(stray, e(Raw::Text("archived"), &drizzle));
    assert_eq!(
        decode(&e(Raw::Text("archived"), &drizzle)).unwrap().0,
        text("archived")
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
    assert_eq!(
        enc_col(Raw::Text("archived"), &prisma),
        enc(Raw::Text("archived"), M::EnumLabel)
    );
}
