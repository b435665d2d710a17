//! MySQL and MariaDB values: a text-protocol field typed by its live column.
//!
//! Chunks are read over the text protocol (what `mysql2`'s `query` uses) and
//! each field is typed from the live column: integers as `Int` (BIGINT
//! UNSIGNED above 2^63-1 as exact decimal text), DECIMAL as `Numeric`,
//! FLOAT/DOUBLE as `Float`, DATETIME as a wall-clock `Timestamp`, TIMESTAMP
//! as an instant (sessions run with `time_zone = '+00:00'`), DATE, TIME,
//! JSON (MySQL's type, or MariaDB's LONGTEXT with a `json_valid` check) as
//! `Json`, binary strings as `Bytes`, everything else as `Text`. Zero dates
//! (`0000-00-00`) and out-of-range TIME values stay `Text`, so a reading that
//! needs a date calls them unreadable.

use chrono::Datelike;

use crate::canon::Raw;

/// The base type of a live column (`bigint unsigned` → `bigint`).
pub(super) fn base_type(type_name: &str) -> &str {
    let t = type_name.split(['(', ' ']).next().unwrap_or(type_name);
    t.trim()
}

/// How a field of this column is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Decimal,
    Float,
    DateTime,
    Timestamp,
    Date,
    Time,
    Json,
    Bytes,
    Text,
}

pub fn kind_of(type_name: &str) -> Kind {
    match base_type(type_name) {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => Kind::Int,
        "decimal" | "numeric" => Kind::Decimal,
        "float" | "double" | "real" => Kind::Float,
        "datetime" => Kind::DateTime,
        "timestamp" => Kind::Timestamp,
        "date" => Kind::Date,
        "time" => Kind::Time,
        "json" => Kind::Json,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bit" => {
            Kind::Bytes
        }
        _ => Kind::Text,
    }
}

/// One text-protocol field as a typed value, borrowed from the field's
/// bytes (text kinds hold valid UTF-8: [`ChunkData::push_my_field`] made
/// them so).
///
/// [`ChunkData::push_my_field`]: crate::db::chunk::ChunkData::push_my_field
pub fn decode(kind: Kind, f: &[u8]) -> Raw<'_> {
    // What does not parse is handed on as text (read lossily: these are
    // the rare values a reading calls unreadable).
    let s = || std::str::from_utf8(f).unwrap_or("");
    match kind {
        Kind::Int => parse_int(f).map_or_else(|| Raw::Numeric(s()), Raw::Int),
        Kind::Float => s()
            .parse::<f64>()
            .map_or_else(|_| Raw::Text(s()), Raw::Float),
        Kind::DateTime => parse_datetime(f).map_or_else(|| Raw::Text(s()), Raw::Timestamp),
        Kind::Timestamp => parse_datetime(f).map_or_else(|| Raw::Text(s()), Raw::TimestampTz),
        Kind::Date => parse_date(f).map_or_else(|| Raw::Text(s()), Raw::Date),
        Kind::Time => parse_time(f).map_or_else(|| Raw::Text(s()), Raw::Time),
        Kind::Bytes => Raw::Bytes(f),
        Kind::Decimal | Kind::Json | Kind::Text => decode_text(kind, s()),
    }
}

/// A field of a text kind ([`Kind::is_text`]) already known to be UTF-8.
pub fn decode_text(kind: Kind, s: &str) -> Raw<'_> {
    match kind {
        Kind::Decimal => Raw::Numeric(s),
        Kind::Json => Raw::Json(s),
        _ => Raw::Text(s),
    }
}

impl Kind {
    /// Handed on as text, so its bytes must be valid UTF-8.
    pub fn is_text(self) -> bool {
        matches!(self, Kind::Text | Kind::Json | Kind::Decimal)
    }
}

/// An `i64` in decimal, as MySQL prints it; None past its range (BIGINT
/// UNSIGNED) or for anything else.
fn parse_int(f: &[u8]) -> Option<i64> {
    let (neg, d) = match f {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, f),
    };
    if d.is_empty() || d.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg { Some(n) } else { n.checked_neg() }
}

/// `YYYY-MM-DD` → days since 1970-01-01; None for zero dates (`0000-00-00`,
/// `2024-00-10`) and anything else MySQL allows but a calendar does not.
/// Parsed by hand: chrono's format parser was most of a MariaDB chunk's
/// decoding time.
pub fn parse_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)?;
    Some(date.num_days_from_ce() - UNIX_DAYS_FROM_CE)
}

/// Days from 0001-01-01 (day 1) to 1970-01-01.
const UNIX_DAYS_FROM_CE: i32 = 719_163;

/// ASCII digits as a number; None if any byte is not a digit.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` → µs since epoch, wall clock as UTC.
pub fn parse_datetime(s: &[u8]) -> Option<i64> {
    let days = parse_date(s.get(..10)?)?;
    if s.get(10) != Some(&b' ') {
        return None;
    }
    let tod = parse_time(s.get(11..)?)?;
    if tod >= 86_400_000_000 {
        return None;
    }
    Some(i64::from(days) * 86_400_000_000 + tod)
}

/// `HH:MM:SS[.ffffff]` within a day → µs since midnight; negative and
/// 24h-or-more TIME values (MySQL's durations) are None.
pub fn parse_time(s: &[u8]) -> Option<i64> {
    let (hms, frac) = match s.iter().position(|&c| c == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &[][..]),
    };
    let mut it = hms.split(|&c| c == b':');
    let mut part = || it.next().filter(|p| !p.is_empty()).and_then(digits);
    let (h, m, sec) = (part()?, part()?, part()?);
    if it.next().is_some() || !(0..24).contains(&h) || m > 59 || sec > 59 {
        return None;
    }
    if frac.len() > 6 {
        return None;
    }
    let us = digits(frac)? * 10i64.pow(6 - frac.len() as u32);
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_protocol_fields() {
        for (kind, field, want) in [
            (Kind::Int, "-12", Raw::Int(-12)),
            (Kind::Int, "0", Raw::Int(0)),
            (Kind::Int, "9223372036854775807", Raw::Int(i64::MAX)),
            (Kind::Int, "-9223372036854775808", Raw::Int(i64::MIN)),
            (
                Kind::Int,
                "9223372036854775808",
                Raw::Numeric("9223372036854775808"),
            ),
            (
                Kind::Int,
                "18446744073709551615",
                Raw::Numeric("18446744073709551615"),
            ),
            (
                Kind::DateTime,
                "1970-01-02 00:00:01.5",
                Raw::Timestamp(86_401_500_000),
            ),
            (
                Kind::DateTime,
                "0000-00-00 00:00:00.000",
                Raw::Text("0000-00-00 00:00:00.000"),
            ),
            (Kind::Date, "1970-01-03", Raw::Date(2)),
            (Kind::Date, "2024-00-10", Raw::Text("2024-00-10")),
            (Kind::Time, "01:00:00.25", Raw::Time(3_600_250_000)),
            (Kind::Time, "-01:00:00", Raw::Text("-01:00:00")),
            (Kind::Time, "25:00:00", Raw::Text("25:00:00")),
            (Kind::Float, "1e3", Raw::Float(1000.0)),
            (Kind::Json, "{\"a\":1}", Raw::Json("{\"a\":1}")),
            (Kind::Bytes, "\u{1}x", Raw::Bytes(b"\x01x")),
        ] {
            assert_eq!(decode(kind, field.as_bytes()), want, "{kind:?} {field}");
        }
    }

    /// The hand parsers agree with chrono's format parser (what they
    /// replaced) on every shape MySQL prints and on malformed ones.
    #[test]
    fn date_and_time_parsers_agree_with_chrono() {
        let chrono_date = |s: &str| -> Option<i32> {
            let d = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
            (s.len() == 10).then_some(())?;
            Some((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
        };
        let mut dates = vec![
            "0000-00-00",
            "0000-01-01",
            "0001-01-01",
            "1969-12-31",
            "1970-01-01",
            "2000-02-29",
            "1900-02-29",
            "2024-02-30",
            "2024-13-01",
            "2024-00-10",
            "9999-12-31",
            "2024-1-01",
            "2024/01/01",
            "2024-01-01 ",
            "20a4-01-01",
            "",
        ];
        let generated: Vec<String> = (0..4000)
            .map(|i| format!("{:04}-{:02}-{:02}", (i * 37) % 10000, i % 14, (i * 7) % 33))
            .collect();
        dates.extend(generated.iter().map(String::as_str));
        for d in dates {
            assert_eq!(parse_date(d.as_bytes()), chrono_date(d), "{d:?}");
        }
        for (t, want) in [
            ("00:00:00", Some(0)),
            ("23:59:59.999999", Some(86_399_999_999)),
            ("01:02:03.5", Some(3_723_500_000)),
            ("01:02:03.", Some(3_723_000_000)),
            ("24:00:00", None),
            ("-01:00:00", None),
            ("838:59:59", None),
            ("01:60:00", None),
            ("01:00:00.1234567", None),
            ("01:00", None),
            ("01::00", None),
            ("01:00:00:00", None),
            ("01:00:0x", None),
        ] {
            assert_eq!(parse_time(t.as_bytes()), want, "{t:?}");
        }
    }

    #[test]
    fn types_map_to_kinds() {
        assert_eq!(kind_of("bigint(20) unsigned"), Kind::Int);
        assert_eq!(kind_of("tinyint(1)"), Kind::Int);
        assert_eq!(kind_of("decimal(65,30)"), Kind::Decimal);
        assert_eq!(kind_of("datetime(6)"), Kind::DateTime);
        assert_eq!(kind_of("enum('a','b')"), Kind::Text);
        assert_eq!(kind_of("varbinary(16)"), Kind::Bytes);
        assert_eq!(kind_of("json"), Kind::Json);
    }
}
