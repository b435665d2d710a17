//! How a generated [`Val`] is spelled for each backend: PostgreSQL `COPY`
//! text format, MariaDB SQL literals, and the SQLite values Prisma 7's
//! adapter would bind. Pure functions; the writers own the I/O.

use super::data::Val;
use super::time::{Frac, iso_utc, push_date, push_timestamp};

/// One field of a PostgreSQL `COPY … FROM STDIN` text-format row.
pub fn pg_copy_field(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("\\N"),
        Val::Int(i) => push_int(out, *i),
        Val::Float(f) => out.push_str(&f.to_string()),
        Val::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Val::Text(s) | Val::Json(s) => pg_copy_escape(out, s),
        Val::Decimal(s) | Val::Uuid(s) => out.push_str(s),
        Val::Enum(s) => out.push_str(s),
        Val::Timestamp(us) => push_timestamp(out, *us, ' ', Frac::Six),
        Val::TimestampTz(us) => {
            push_timestamp(out, *us, ' ', Frac::Six);
            out.push_str("+00");
        }
        Val::Date(d) => push_date(out, *d),
    }
}

/// A whole `COPY` text row (tab-separated, newline-terminated).
pub fn pg_copy_row(out: &mut String, row: &[Val]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        pg_copy_field(out, v);
    }
    out.push('\n');
}

fn pg_copy_escape(out: &mut String, s: &str) {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn push_int(out: &mut String, i: i64) {
    use std::fmt::Write;
    let _ = write!(out, "{i}");
}

/// A MariaDB SQL literal (the session runs with `time_zone = '+00:00'`,
/// default `sql_mode`, so backslashes and quotes are escaped).
pub fn mysql_literal(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("NULL"),
        Val::Int(i) => push_int(out, *i),
        Val::Float(f) => out.push_str(&f.to_string()),
        Val::Bool(b) => out.push(if *b { '1' } else { '0' }),
        Val::Text(s) | Val::Json(s) | Val::Uuid(s) => mysql_quote(out, s),
        Val::Enum(s) => mysql_quote(out, s),
        Val::Decimal(s) => out.push_str(s),
        Val::Timestamp(us) | Val::TimestampTz(us) => {
            out.push('\'');
            push_timestamp(out, *us, ' ', Frac::Six);
            out.push('\'');
        }
        Val::Date(d) => {
            out.push('\'');
            push_date(out, *d);
            out.push('\'');
        }
    }
}

pub fn mysql_quote(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// What Prisma 7's SQLite adapter binds for a value: DateTime as ISO-8601
/// text (`…T…+00:00`, also for `@db.Date`-less dates), Decimal through
/// `parseFloat`, Boolean as 0/1, BigInt as an integer, Json as text.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

pub fn sqlite_value(v: &Val) -> SqliteValue {
    match v {
        Val::Null => SqliteValue::Null,
        Val::Int(i) => SqliteValue::Int(*i),
        Val::Float(f) => SqliteValue::Real(*f),
        Val::Bool(b) => SqliteValue::Int(*b as i64),
        Val::Text(s) | Val::Json(s) | Val::Uuid(s) => SqliteValue::Text(s.clone()),
        Val::Enum(s) => SqliteValue::Text(s.to_string()),
        Val::Decimal(s) => SqliteValue::Real(s.parse().unwrap_or(f64::NAN)),
        Val::Timestamp(us) | Val::TimestampTz(us) => SqliteValue::Text(iso_utc(*us)),
        Val::Date(d) => SqliteValue::Text(iso_utc(*d * super::time::US_PER_DAY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_nulls() {
        let mut s = String::new();
        pg_copy_row(
            &mut s,
            &[
                Val::Int(-9_223_372_036_854_775_808),
                Val::Null,
                Val::Text("a\tb\nc\\d 🚲".into()),
                Val::Bool(true),
                Val::Timestamp(-1),
                Val::TimestampTz(1_500),
                Val::Date(-1),
                Val::Decimal("56.00".into()),
            ],
        );
        assert_eq!(
            s,
            "-9223372036854775808\t\\N\ta\\tb\\nc\\\\d 🚲\tt\t1969-12-31 23:59:59.999999\t1970-01-01 00:00:00.001500+00\t1969-12-31\t56.00\n"
        );
    }

    #[test]
    fn mysql_literals_quote_safely() {
        let mut s = String::new();
        mysql_literal(&mut s, &Val::Text("O'Brien \\ x".into()));
        assert_eq!(s, "'O''Brien \\\\ x'");
        s.clear();
        mysql_literal(&mut s, &Val::Timestamp(1_000));
        assert_eq!(s, "'1970-01-01 00:00:00.001000'");
    }

    #[test]
    fn sqlite_values_follow_prisma_7() {
        assert_eq!(
            sqlite_value(&Val::Date(0)),
            SqliteValue::Text("1970-01-01T00:00:00.000+00:00".into())
        );
        assert_eq!(
            sqlite_value(&Val::Decimal("12.50".into())),
            SqliteValue::Real(12.5)
        );
        assert_eq!(sqlite_value(&Val::Bool(false)), SqliteValue::Int(0));
    }
}
