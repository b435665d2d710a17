//! What a JavaScript value can hold, per ORM, where the database can hold
//! more: `Date`s out of range (PostgreSQL `infinity`, BC years, years above
//! 9999) and PostgreSQL scalar lists (SQL NULL, NULL elements).
//!
//! Observed with the real ORMs (Prisma 7.10 adapter-pg, drizzle-orm 0.45.4
//! on node-postgres, Node 20), see `orm-semantics.md`:
//! - Prisma: adapter-pg turns a timestamp into `YYYY-MM-DDTHH:MM:SS[.f]+00:00`
//!   (a date stays `YYYY-MM-DD`, then `T00:00:00Z` is added) and the client
//!   calls `new Date(text)`: only AD years 1–9999 parse; `infinity`, BC and
//!   five-digit years give an `Invalid Date` (no throw).
//! - Drizzle mode `'date'`: `new Date(text + "+0000")` for `timestamp`,
//!   `new Date(text)` for `timestamptz` and `date`. V8's fallback parser
//!   reads `infinity+0000` as 2000-01-01T00:00:00Z, a four-digit year below
//!   100 in a timestamp text as a two-digit year (`0001` → 2001, `0050` →
//!   1950), five-digit years up to 275760 as themselves, and BC as an
//!   `Invalid Date`; bare `infinity` (timestamptz, date) is an `Invalid Date`.
//! - Scalar lists: Prisma hands `[]` for SQL NULL and throws for the whole
//!   query on a NULL element (`Expected a string in column 'tags[1]', got
//!   object: null`); Drizzle hands `null` and `[…, null]`.

use super::time::{US_PER_DAY, civil_from_days, days_from_civil};
use super::{ColumnCanon, Cut, Raw, encode_instant, push_date, push_i64, tag};
use crate::mapping::Orm;

/// The largest instant a JS `Date` holds: ±8.64e15 ms.
const JS_MAX_US: i64 = 8_640_000_000_000_000 * 1_000;

/// 0100-01-01T00:00:00Z and 10000-01-01T00:00:00Z in µs since the epoch.
const YEAR_100_US: i64 = -59_011_459_200_000_000;
const YEAR_10000_US: i64 = 253_402_300_800_000_000;

/// A JS `Date` read by the column's ORM from a PostgreSQL timestamp,
/// timestamptz or date; every other delivery keeps the generic rules.
pub(super) fn encode_js_date(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    let (us, tz) = match *raw {
        Raw::Timestamp(us) => (us, false),
        Raw::TimestampTz(us) => (us, true),
        Raw::Date(_) => return encode_js_day(raw, col, out),
        _ => return encode_instant(raw, Cut::Millis, out),
    };
    match js_instant(us, tz, col.orm) {
        Some(us) => push_i64(out, tag::INSTANT, Cut::Millis.apply(us)),
        None => out.push(tag::INVALID_DATE),
    }
}

/// A JS `Date` at UTC midnight read from a PostgreSQL `date` (Prisma
/// `@db.Date`, Drizzle `date({ mode: 'date' })`).
pub(super) fn encode_js_day(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    let Raw::Date(d) = *raw else {
        return super::encode_date(raw, out);
    };
    let valid = match d {
        // The database's own value (catalog reads): every day is one.
        _ if col.orm == Orm::Catalog => true,
        i32::MAX | i32::MIN => false,
        _ => {
            let (y, _, _) = civil_from_days(i64::from(d));
            match col.orm {
                // `${date}T00:00:00Z`: an ISO string needs a 4-digit AD year.
                Orm::Prisma => (1..=9999).contains(&y),
                // `new Date("YYYY-MM-DD")`: BC fails, large years parse.
                _ => y >= 1 && i64::from(d) * US_PER_DAY <= JS_MAX_US,
            }
        }
    };
    if valid {
        push_date(out, d);
    } else {
        out.push(tag::INVALID_DATE);
    }
}

/// The instant (µs) the ORM's `Date` holds for a PostgreSQL timestamp, or
/// `None` for an `Invalid Date`. `tz`: timestamptz.
fn js_instant(us: i64, tz: bool, orm: Orm) -> Option<i64> {
    // Years 100–9999: every reader's `Date` holds the instant as it is. The
    // common case, on the per-row path: no calendar arithmetic.
    if (YEAR_100_US..YEAR_10000_US).contains(&us) {
        return Some(us);
    }
    let infinite = us == i64::MAX || us == i64::MIN;
    match orm {
        Orm::Prisma => {
            if infinite {
                return None;
            }
            let (y, _, _) = civil_from_days(us.div_euclid(US_PER_DAY));
            (1..=9999).contains(&y).then_some(us)
        }
        Orm::Drizzle => {
            if infinite {
                // `infinity+0000` parses as 2000-01-01; bare `infinity` fails.
                return (!tz).then_some(946_684_800_000_000);
            }
            let days = us.div_euclid(US_PER_DAY);
            let (y, m, d) = civil_from_days(days);
            if y < 1 || us.abs() > JS_MAX_US {
                return None;
            }
            if y < 100 {
                // V8's fallback parser: a year below 100 is a two-digit year.
                let y2 = if y < 50 { y + 2000 } else { y + 1900 };
                let shifted = days_from_civil(y2, m, d) - days;
                return Some(us + shifted * US_PER_DAY);
            }
            Some(us)
        }
        // The database's own value (catalog reads) or an unknown reader.
        Orm::Catalog => Some(us),
    }
}

/// A PostgreSQL array (delivered as its text) read as a JS array, element
/// by element with the column's read mode.
pub(super) fn encode_list(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    let text = match *raw {
        Raw::Null if col.orm == Orm::Prisma => {
            // Prisma hands `[]` for SQL NULL.
            out.push(tag::LIST);
            out.extend_from_slice(&0u32.to_le_bytes());
            return;
        }
        Raw::Null => return out.push(tag::NULL),
        Raw::Text(s) => s,
        _ => return super::encode_scalar(raw, col, out),
    };
    let Some(elements) = parse_pg_array(text) else {
        // Multi-dimensional or malformed: compare the text as it is.
        return super::push_len(out, tag::TEXT, text.as_bytes());
    };
    if col.orm == Orm::Prisma
        && let Some(i) = elements.iter().position(Option::is_none)
    {
        return super::push_unreadable_with(
            out,
            format_args!(
                "NULL element [{i}] in a list: Prisma's findMany throws for the whole query"
            ),
        );
    }
    let start = out.len();
    out.push(tag::LIST);
    out.extend_from_slice(&[0; 4]);
    for e in &elements {
        match e {
            None => out.push(tag::NULL),
            Some(s) => super::encode_scalar(&Raw::Text(s), col, out),
        }
    }
    super::patch_len(out, start);
}

/// The elements of a one-dimensional PostgreSQL array text (`{a,"b c",NULL}`),
/// `None` for a NULL element. `None` overall for nested or malformed text.
pub(super) fn parse_pg_array(s: &str) -> Option<Vec<Option<String>>> {
    let b = s.as_bytes();
    // An explicit lower bound (`[0:1]={…}`) is dropped by both drivers.
    let body = match b.first()? {
        b'[' => &s[s.find('=')? + 1..],
        _ => s,
    };
    let inner = body.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut cur = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => cur.push(chars.next()?),
                    '"' => break,
                    c => cur.push(c),
                }
            }
            out.push(Some(cur));
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '"' {
                    return None;
                }
                chars.next();
                if c == '\\' {
                    cur.push(chars.next()?);
                } else {
                    cur.push(c);
                }
            }
            let t = cur.trim();
            out.push((!t.eq_ignore_ascii_case("NULL")).then(|| t.to_string()));
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_bounds_are_years_100_and_10000() {
        assert_eq!(YEAR_100_US, days_from_civil(100, 1, 1) * US_PER_DAY);
        assert_eq!(YEAR_10000_US, days_from_civil(10000, 1, 1) * US_PER_DAY);
        // Just inside and outside: the same answers as the calendar rules.
        for orm in [Orm::Prisma, Orm::Drizzle] {
            assert_eq!(js_instant(YEAR_100_US, false, orm), Some(YEAR_100_US));
            assert_eq!(
                js_instant(YEAR_10000_US - 1, false, orm),
                Some(YEAR_10000_US - 1)
            );
        }
        assert_eq!(js_instant(YEAR_10000_US, false, Orm::Prisma), None);
        assert_eq!(
            js_instant(YEAR_10000_US, false, Orm::Drizzle),
            Some(YEAR_10000_US)
        );
        // Year 99 still shifts on Drizzle's side (1999).
        let y99 = YEAR_100_US - US_PER_DAY;
        assert_ne!(js_instant(y99, false, Orm::Drizzle), Some(y99));
        assert_eq!(js_instant(y99, false, Orm::Prisma), Some(y99));
    }

    #[test]
    fn parses_array_texts() {
        assert_eq!(parse_pg_array("{}"), Some(vec![]));
        assert_eq!(
            parse_pg_array(r#"{a,"b c",NULL,"NULL","x\"y"}"#),
            Some(vec![
                Some("a".into()),
                Some("b c".into()),
                None,
                Some("NULL".into()),
                Some("x\"y".into())
            ])
        );
        assert_eq!(parse_pg_array("{{1,2},{3,4}}"), None);
        assert_eq!(parse_pg_array("[0:1]={1,2}").map(|v| v.len()), Some(2));
    }

    #[test]
    fn js_dates_per_orm() {
        let y = |y: i64| days_from_civil(y, 6, 1) * US_PER_DAY;
        // Prisma: only AD 1–9999.
        assert_eq!(js_instant(y(2024), false, Orm::Prisma), Some(y(2024)));
        assert_eq!(js_instant(y(1), false, Orm::Prisma), Some(y(1)));
        assert_eq!(js_instant(y(10000), false, Orm::Prisma), None);
        assert_eq!(js_instant(y(0), false, Orm::Prisma), None);
        assert_eq!(js_instant(i64::MAX, true, Orm::Prisma), None);
        // Drizzle mode 'date'.
        assert_eq!(
            js_instant(i64::MAX, false, Orm::Drizzle),
            Some(946_684_800_000_000)
        );
        assert_eq!(js_instant(i64::MIN, true, Orm::Drizzle), None);
        assert_eq!(js_instant(y(10000), false, Orm::Drizzle), Some(y(10000)));
        assert_eq!(js_instant(y(1), false, Orm::Drizzle), Some(y(2001)));
        assert_eq!(js_instant(y(50), true, Orm::Drizzle), Some(y(1950)));
        assert_eq!(js_instant(y(-43), false, Orm::Drizzle), None);
        assert_eq!(js_instant(y(280_000), false, Orm::Drizzle), None);
        assert_eq!(
            js_instant(y(200_000), false, Orm::Drizzle),
            Some(y(200_000))
        );
    }
}
