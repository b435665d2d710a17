//! MySQL/MariaDB read rules that differ from the generic ones, as the real
//! ORMs showed them (`scripts/oracle-mariadb/`): Prisma 7 through
//! `@prisma/adapter-mariadb` (binary protocol) and drizzle-orm mysql-core
//! through `mysql2` (text protocol, default pool options).
//!
//! | value | Prisma 7 | Drizzle |
//! |---|---|---|
//! | zero or partial-zero DATETIME/TIMESTAMP (`0000-00-00 …`, `2024-02-00 …`) | the query throws ("Invalid time value") | mode `date`: `Invalid Date`; mode `string`: the text |
//! | zero DATE, out-of-day TIME (`-01:00:00`, `838:59:59`) | `Invalid Date` | mode `date`: `Invalid Date`; `string`/`time()`: the text |
//! | BIGINT (UNSIGNED) in mode `bigint` | exact `bigint` | `BigInt()` of mysql2's `number`: f64-rounded above 2^53 |
//! | FLOAT | the stored f32, widened exactly (`0.10000000149011612`) | `parseFloat` of the server's text, 6 significant digits (`0.1`, `16777200`) |
//! | BINARY/VARBINARY | `Uint8Array` | `binary()`/`varbinary()`: a string, the bytes decoded as UTF-8 (invalid bytes become U+FFFD) |
//!
//! Everything else follows the generic rules of `canon` (DATETIME/TIMESTAMP
//! as UTC, milliseconds for a `Date`; TINYINT(1) `true` only for 1; exact
//! DECIMAL for Prisma and Drizzle strings; JSON parsed by both; CHAR read
//! without trailing spaces, as the server sends it).
//!
//! `db::mysql` delivers a temporal value that is no calendar value as
//! `Raw::Text`, and a FLOAT as the exact f32 widened to f64.

use crate::mapping::{Column, Dialect, Mapping, Orm, ReadMode};

use super::{Raw, push_js_float, push_len, push_unreadable, tag};

/// A MySQL-specific reading of one column, chosen from the ORM, the read
/// mode and the column's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Prisma `DateTime` on DATETIME/TIMESTAMP: a zero date throws.
    PrismaThrowsOnZeroDate,
    /// A `Date` that comes out invalid (Prisma on DATE/TIME, Drizzle mode `date`).
    InvalidDate,
    /// Drizzle string modes on temporal columns: the server's text as given.
    TextAsGiven,
    /// Drizzle bigint mode `bigint`: `BigInt(number)`.
    BigIntViaNumber,
    /// Drizzle `float()` on FLOAT: 6 significant digits.
    Float6,
    /// Drizzle `binary()`/`varbinary()`: the bytes as a UTF-8 string.
    BytesAsUtf8,
}

/// The rule for a column of a MySQL mapping, if any.
pub fn rule(column: &Column, mapping: &Mapping) -> Option<Rule> {
    if mapping.dialect != Dialect::Mysql {
        return None;
    }
    let ty = column.db_type.trim().to_ascii_lowercase();
    let base = ty.split(['(', ' ']).next().unwrap_or("");
    let temporal_instant = matches!(base, "datetime" | "timestamp");
    let temporal_other = matches!(base, "date" | "time");
    use ReadMode as M;
    match (mapping.orm, column.read) {
        (Orm::Prisma, M::DateTime) if temporal_instant => Some(Rule::PrismaThrowsOnZeroDate),
        (Orm::Prisma, M::DateTime | M::Date | M::Time) if temporal_other => Some(Rule::InvalidDate),
        (Orm::Drizzle, M::DateTime | M::Date | M::Time) if temporal_instant || temporal_other => {
            Some(Rule::InvalidDate)
        }
        (Orm::Drizzle, M::DateTimeString | M::DateString | M::TimeString)
            if temporal_instant || temporal_other =>
        {
            Some(Rule::TextAsGiven)
        }
        (Orm::Drizzle, M::BigInt) => Some(Rule::BigIntViaNumber),
        (Orm::Drizzle, M::Float) if base == "float" => Some(Rule::Float6),
        (Orm::Drizzle, M::Text) if matches!(base, "binary" | "varbinary") => {
            Some(Rule::BytesAsUtf8)
        }
        _ => None,
    }
}

/// Encodes `raw` under `rule` when the rule decides it; false leaves the
/// value to the generic rules.
pub fn encode(raw: &Raw<'_>, rule: Rule, out: &mut Vec<u8>) -> bool {
    // Temporal text that is a calendar value (a nested JSON value, say)
    // follows the generic rules; only zero dates and the like are special.
    if let (Rule::PrismaThrowsOnZeroDate | Rule::InvalidDate | Rule::TextAsGiven, Raw::Text(s)) =
        (rule, *raw)
        && is_calendar(s)
    {
        return false;
    }
    match (rule, *raw) {
        (Rule::PrismaThrowsOnZeroDate, Raw::Text(_)) => {
            push_unreadable(out, "the query throws: Invalid time value");
            true
        }
        // A `Date` holding no instant: a value of its own (equal to another
        // Invalid Date), not a throw.
        (Rule::InvalidDate, Raw::Text(_)) => {
            out.push(tag::INVALID_DATE);
            true
        }
        (Rule::TextAsGiven, Raw::Text(s)) => {
            push_len(out, tag::TEXT, s.as_bytes());
            true
        }
        (Rule::BigIntViaNumber, _) => {
            super::encode_bigint_number(raw, out);
            true
        }
        (Rule::Float6, Raw::Float(f)) => {
            push_js_float(out, float6(f));
            true
        }
        (Rule::BytesAsUtf8, Raw::Bytes(b)) => {
            let s = String::from_utf8_lossy(b);
            push_len(out, tag::BYTES, s.as_bytes());
            true
        }
        _ => false,
    }
}

fn is_calendar(s: &str) -> bool {
    super::time::parse_instant(s).is_some()
        || super::time::parse_date(s).is_some()
        || super::time::parse_time(s).is_some()
}

/// What `parseFloat` gives for MariaDB's text of a FLOAT: `%g` with six
/// significant digits.
pub fn float6(f: f64) -> f64 {
    if !f.is_finite() || f == 0.0 {
        return f;
    }
    format!("{f:.5e}").parse().unwrap_or(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_text_has_six_significant_digits() {
        assert_eq!(float6(0.1f32 as f64), 0.1);
        assert_eq!(float6(16_777_216.0), 16_777_200.0);
        assert_eq!(float6(3.402_823_466_385_288_6e38), 3.40282e38);
        assert_eq!(float6(1.5), 1.5);
    }

    #[test]
    fn zero_dates_read_per_orm() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let z = Raw::Text("0000-00-00 00:00:00.000");
        assert!(encode(&z, Rule::PrismaThrowsOnZeroDate, &mut a));
        assert!(encode(&z, Rule::InvalidDate, &mut b));
        assert_ne!(a, b);
        // Prisma's zero DATE is an `Invalid Date` value, not a throw.
        assert_eq!(b, [tag::INVALID_DATE]);
        let mut c = Vec::new();
        assert!(encode(&z, Rule::TextAsGiven, &mut c));
        assert_ne!(b, c);
        assert!(!encode(&Raw::Timestamp(0), Rule::InvalidDate, &mut c));
        // A calendar value as text (nested JSON) is left to the generic rules.
        assert!(!encode(
            &Raw::Text("2024-03-05 10:11:12.345678"),
            Rule::InvalidDate,
            &mut c
        ));
    }

    #[test]
    fn binary_strings_lose_invalid_utf8() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert!(encode(&Raw::Bytes(b"ab"), Rule::BytesAsUtf8, &mut a));
        super::super::encode(
            &Raw::Bytes(b"ab"),
            &super::super::ColumnCanon::from_read(ReadMode::Bytes),
            &mut b,
        );
        assert_eq!(a, b);
        a.clear();
        b.clear();
        assert!(encode(&Raw::Bytes(&[0xff, 0]), Rule::BytesAsUtf8, &mut a));
        super::super::encode(
            &Raw::Bytes(&[0xff, 0]),
            &super::super::ColumnCanon::from_read(ReadMode::Bytes),
            &mut b,
        );
        assert_ne!(a, b);
    }
}
