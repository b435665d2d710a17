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

use crate::db::chunk::OwnedRaw;

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

/// One text-protocol field as a typed value.
pub fn decode(kind: Kind, f: &[u8]) -> OwnedRaw {
    let text = || String::from_utf8_lossy(f).into_owned();
    let s = || std::str::from_utf8(f).unwrap_or("");
    match kind {
        Kind::Int => match s().parse::<i64>() {
            Ok(v) => OwnedRaw::Int(v),
            Err(_) => OwnedRaw::Numeric(text()),
        },
        Kind::Decimal => OwnedRaw::Numeric(text()),
        Kind::Float => match s().parse::<f64>() {
            Ok(v) => OwnedRaw::Float(v),
            Err(_) => OwnedRaw::Text(text()),
        },
        Kind::DateTime => {
            parse_datetime(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Timestamp)
        }
        Kind::Timestamp => {
            parse_datetime(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::TimestampTz)
        }
        Kind::Date => parse_date(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Date),
        Kind::Time => parse_time(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Time),
        Kind::Json => OwnedRaw::Json(text()),
        Kind::Bytes => OwnedRaw::Bytes(f.to_vec()),
        Kind::Text => OwnedRaw::Text(text()),
    }
}

/// `YYYY-MM-DD` → days since 1970-01-01; None for zero dates (`0000-00-00`,
/// `2024-00-10`) and anything else MySQL allows but a calendar does not.
pub fn parse_date(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    if s.len() != 10 {
        return None;
    }
    Some((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` → µs since epoch, wall clock as UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let days = parse_date(s.get(..10)?)?;
    if s.as_bytes().get(10) != Some(&b' ') {
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
pub fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut it = hms.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let sec: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || hms.starts_with('-') || !(0..24).contains(&h) || m > 59 || sec > 59 {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let us: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_protocol_fields() {
        let text = |s: &str| OwnedRaw::Text(s.into());
        for (kind, field, want) in [
            (Kind::Int, "-12", OwnedRaw::Int(-12)),
            (
                Kind::Int,
                "18446744073709551615",
                OwnedRaw::Numeric("18446744073709551615".into()),
            ),
            (
                Kind::DateTime,
                "1970-01-02 00:00:01.5",
                OwnedRaw::Timestamp(86_401_500_000),
            ),
            (
                Kind::DateTime,
                "0000-00-00 00:00:00.000",
                text("0000-00-00 00:00:00.000"),
            ),
            (Kind::Date, "1970-01-03", OwnedRaw::Date(2)),
            (Kind::Date, "2024-00-10", text("2024-00-10")),
            (Kind::Time, "01:00:00.25", OwnedRaw::Time(3_600_250_000)),
            (Kind::Time, "-01:00:00", text("-01:00:00")),
            (Kind::Time, "25:00:00", text("25:00:00")),
        ] {
            assert_eq!(decode(kind, field.as_bytes()), want, "{kind:?} {field}");
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
