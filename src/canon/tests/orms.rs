//! Issues 9 and 17: what each real ORM hands where Prisma and Drizzle read
//! one mode differently (lists, dates a JS `Date` cannot hold, SQLite's
//! loose typing, text timestamps finer than µs).

use super::*;
use Orm::{Drizzle, Prisma};

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
    for (raw, read, orm, want) in [
        // SQL NULL: Prisma [], Drizzle null; '{}' is [] on both.
        (Raw::Null, M::Text, Prisma, Canon::List(vec![])),
        (Raw::Null, M::Text, Drizzle, Canon::Null),
        (Raw::Text("{}"), M::Text, Drizzle, Canon::List(vec![])),
        // Elements are read with the column's mode.
        (
            Raw::Text("{1,2}"),
            M::Int,
            Drizzle,
            Canon::List(vec![Canon::Int(1), Canon::Int(2)]),
        ),
        (
            Raw::Text(r#"{a,"b c"}"#),
            M::Text,
            Prisma,
            Canon::List(vec![text("a"), text("b c")]),
        ),
        // A NULL element: Prisma's findMany throws; Drizzle hands [a, null].
        (
            Raw::Text("{a,NULL}"),
            M::Text,
            Drizzle,
            Canon::List(vec![text("a"), Canon::Null]),
        ),
    ] {
        assert_eq!(list_by(raw, read, orm), want, "{raw:?} by {orm:?}");
    }
    assert_eq!(
        list_by(Raw::Null, M::Text, Prisma),
        list_by(Raw::Text("{}"), M::Text, Drizzle)
    );
    assert!(matches!(
        list_by(Raw::Text("{a,NULL}"), M::Text, Prisma),
        Canon::Unreadable(_)
    ));
    assert_eq!(
        list_by(Raw::Text("{a,NULL}"), M::Text, Drizzle).to_string(),
        "[\"a\", NULL]"
    );
}

#[test]
fn dates_a_js_date_cannot_hold_are_invalid_dates() {
    // Prisma: infinity, BC and year 10000 are Invalid Dates (not throws).
    for v in [
        i64::MAX,
        i64::MIN,
        us("10000-01-01T00:00:00Z"),
        us("-0043-03-15T00:00:00Z"),
    ] {
        for raw in [Raw::Timestamp(v), Raw::TimestampTz(v)] {
            assert_eq!(
                canon_by(raw, M::DateTime, Prisma),
                Canon::InvalidDate,
                "{raw:?}"
            );
        }
    }
    let (max, t) = (
        Raw::Timestamp(i64::MAX),
        Raw::Timestamp(us("2024-03-05T10:11:12.123456Z")),
    );
    assert_same_by(&[
        // An Invalid Date equals another and differs from the string reading.
        (
            (max, M::DateTime, Prisma),
            (Raw::Timestamp(i64::MIN), M::DateTime, Prisma),
            true,
        ),
        (
            (max, M::DateTime, Prisma),
            (max, M::DateTimeString, Drizzle),
            false,
        ),
        // Ordinary instants: both cut to ms, equal.
        ((t, M::DateTime, Prisma), (t, M::DateTime, Drizzle), true),
    ]);
    assert_eq!(Canon::InvalidDate.to_string(), "Invalid Date");
    let year_10000 = us("10000-01-01T00:00:00Z");
    let d = |s: &str| time::parse_date(s).unwrap() as i32;
    assert_canon_by(&[
        // Drizzle mode 'date': `new Date("infinity+0000")` is 2000-01-01.
        (
            max,
            M::DateTime,
            Drizzle,
            Canon::Instant(us("2000-01-01T00:00:00Z")),
        ),
        (
            Raw::TimestampTz(i64::MAX),
            M::DateTime,
            Drizzle,
            Canon::InvalidDate,
        ),
        (
            Raw::Timestamp(year_10000),
            M::DateTime,
            Drizzle,
            Canon::Instant(year_10000),
        ),
        // @db.Date: Prisma Invalid Date out of 1–9999; Drizzle date mode parses 10000.
        (Raw::Date(i32::MAX), M::Date, Prisma, Canon::InvalidDate),
        (
            Raw::Date(d("10000-01-01")),
            M::Date,
            Prisma,
            Canon::InvalidDate,
        ),
        (
            Raw::Date(d("10000-01-01")),
            M::Date,
            Drizzle,
            Canon::Date(d("10000-01-01")),
        ),
        (Raw::Date(i32::MIN), M::Date, Drizzle, Canon::InvalidDate),
        (
            Raw::Date(d("2024-03-05")),
            M::Date,
            Prisma,
            Canon::Date(d("2024-03-05")),
        ),
    ]);
}

#[test]
fn prisma_on_sqlite_reads_as_its_data_mapper_does() {
    let big = Raw::Int(9_007_199_254_740_993);
    assert_canon_by(&[
        // Int holding REAL 2.5: Prisma Math.trunc → 2, Drizzle 2.5.
        (Raw::Float(2.5), M::Int, Prisma, Canon::Int(2)),
        (Raw::Float(2.5), M::Int, Drizzle, Canon::Float(2.5)),
        (
            Raw::Int(9_007_199_254_740_991),
            M::Int,
            Prisma,
            Canon::Int(9_007_199_254_740_991),
        ),
        // BigInt holding REAL 25.3: Prisma 25n, no throw.
        (Raw::Float(25.3), M::BigInt, Prisma, Canon::Int(25)),
        // Boolean holding 2: Prisma false; a plain integer() hands 2.
        (Raw::Int(2), M::Boolean, Prisma, Canon::Bool(false)),
        (Raw::Int(2), M::IntOrBoolean, Drizzle, Canon::Int(2)),
        // Decimal stored as INTEGER: the exact Decimal, against mode 'number'.
        (big, M::Decimal, Prisma, dec("9007199254740993")),
        // Drizzle's numeric() string of an INTEGER is `String(number)`.
        (big, M::DecimalString, Drizzle, dec("9007199254740992")),
        (
            Raw::Numeric("9007199254740993"),
            M::DecimalString,
            Drizzle,
            dec("9007199254740993"),
        ),
        // Text a Date reader cannot parse: Invalid Date (no throw); Drizzle's
        // string reading hands the text, its plain integer() the text too.
        (Raw::Text("junk"), M::DateTime, Prisma, Canon::InvalidDate),
        (Raw::Text("junk"), M::DateTimeString, Drizzle, text("junk")),
        (Raw::Text("abc"), M::Int, Drizzle, text("abc")),
    ]);
    // Int above 2^53, or text in an Int: Prisma throws for the whole query.
    for raw in [Raw::Int(9_007_199_254_740_994), Raw::Text("abc")] {
        assert!(
            matches!(canon_by(raw, M::Int, Prisma), Canon::Unreadable(_)),
            "{raw:?}"
        );
    }
    assert_same_by(&[
        (
            (Raw::Int(1), M::Boolean, Prisma),
            (Raw::Int(1), M::IntOrBoolean, Drizzle),
            true,
        ),
        (
            (Raw::Int(0), M::Boolean, Prisma),
            (Raw::Int(0), M::IntOrBoolean, Drizzle),
            true,
        ),
        (
            (big, M::Decimal, Prisma),
            (big, M::DecimalNumber, Drizzle),
            false,
        ),
    ]);
}

#[test]
fn text_timestamps_compare_at_the_finest_precision_either_side_carries() {
    let ns = Raw::Text("2024-03-05T10:11:12.123000789Z");
    // Trailing zero ns digits are no extra information.
    let zeros = Raw::Text("2024-03-05T10:11:12.123000000Z");
    assert_same_by(&[
        // Prisma cuts to ms; Drizzle's string keeps the ns: they differ.
        (
            (ns, M::DateTime, Prisma),
            (ns, M::DateTimeString, Drizzle),
            false,
        ),
        (
            (zeros, M::DateTime, Prisma),
            (zeros, M::DateTimeString, Drizzle),
            true,
        ),
    ]);
    assert_eq!(
        canon_by(ns, M::DateTimeString, Drizzle).to_string(),
        "2024-03-05T10:11:12.123000789Z"
    );
}

#[test]
fn raw_hashing_only_where_both_orms_read_alike() {
    use crate::canon::Delivery::{Loose, Typed, TypedWide};
    let p = |r: ReadMode| ColumnCanon::from_read(r).with_orm(Prisma);
    let d = |r: ReadMode| ColumnCanon::from_read(r).with_orm(Drizzle);
    // Typed PostgreSQL wires: integers, strings read alike by both ORMs.
    assert!(p(M::Int).reads_like(&d(M::Int), Typed));
    assert!(p(M::Text).reads_like(&d(M::Text), Loose));
    assert!(p(M::BigInt).reads_like(&d(M::BigInt), TypedWide));
    // An int8 column both read as a JS number: beyond 2^53 Prisma's `Int`
    // throws and Drizzle's `integer()` rounds, so the raw value cannot stand in.
    assert!(!p(M::Int).reads_like(&d(M::Int), TypedWide));
    assert!(!p(M::Float).reads_like(&d(M::Float), TypedWide));
    assert!(p(M::Float).reads_like(&d(M::Float), Typed));
    // SQLite's loose typing: Prisma truncates a REAL in an Int column.
    assert!(!p(M::Int).reads_like(&d(M::Int), Loose));
    // Dates out of range and lists read per ORM.
    assert!(!p(M::DateTime).reads_like(&d(M::DateTime), Typed));
    assert!(
        !p(M::Text)
            .as_list()
            .reads_like(&d(M::Text).as_list(), Loose)
    );
    assert!(p(M::DateTime).reads_like(&p(M::DateTime), Typed));
}
