//! Calendar arithmetic (civil date ↔ days since 1970-01-01) and the small
//! ISO-8601 / PostgreSQL text parsers `canon` needs for SQLite's text
//! timestamps. No time zone database: offsets are read from the text only.
//! Allocation-free; the printers write into any `fmt::Write`.

use std::fmt;

pub(super) const US_PER_SEC: i64 = 1_000_000;
pub(super) const US_PER_DAY: i64 = 86_400 * US_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`, valid for every i32 year).
pub(super) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Reads exactly `n` ASCII digits.
fn digits(b: &[u8], n: usize) -> Option<(i64, &[u8])> {
    if b.len() < n || !b[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = b[..n]
        .iter()
        .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0'));
    Some((v, &b[n..]))
}

/// `YYYY-MM-DD` (or a signed 4–6 digit year) at the start of `b`.
fn parse_ymd(b: &[u8]) -> Option<(i64, &[u8])> {
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let ylen = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(4..=6).contains(&ylen) {
        return None;
    }
    let (y, b) = digits(b, ylen)?;
    let y = if neg { -y } else { y };
    let b = b.strip_prefix(b"-")?;
    let (m, b) = digits(b, 2)?;
    let b = b.strip_prefix(b"-")?;
    let (d, b) = digits(b, 2)?;
    let (m, d) = (m as u32, d as u32);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((days_from_civil(y, m, d), b))
}

/// `HH:MM[:SS[.fraction]]` at the start of `b` → microseconds since
/// midnight. Digits beyond microseconds are cut, which is a floor because
/// the fraction is added to a non-negative time of day. `24:00:00` is
/// accepted (PostgreSQL and `Date.parse` both allow it).
fn parse_hms(b: &[u8]) -> Option<(i64, &[u8])> {
    let (h, b) = digits(b, 2)?;
    let b = b.strip_prefix(b":")?;
    let (mi, mut b) = digits(b, 2)?;
    let mut s = 0;
    let mut frac = 0;
    if let Some(rest) = b.strip_prefix(b":") {
        let (sv, rest) = digits(rest, 2)?;
        s = sv;
        b = rest;
        if let Some(rest) = b.strip_prefix(b".").or_else(|| b.strip_prefix(b",")) {
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let mut scale = 100_000;
            for &c in &rest[..n.min(6)] {
                frac += i64::from(c - b'0') * scale;
                scale /= 10;
            }
            b = &rest[n..];
        }
    }
    if mi > 59 || s > 59 || h > 24 || (h == 24 && (mi, s, frac) != (0, 0, 0)) {
        return None;
    }
    Some(((h * 3600 + mi * 60 + s) * US_PER_SEC + frac, b))
}

/// `Z`, `+HH`, `+HHMM`, `+HH:MM`, `+HH:MM:SS` → offset east of UTC in µs.
fn parse_offset(b: &[u8]) -> Option<(i64, &[u8])> {
    match b.first()? {
        b'Z' | b'z' => Some((0, &b[1..])),
        &c @ (b'+' | b'-') => {
            let (h, mut b) = digits(&b[1..], 2)?;
            let mut m = 0;
            let mut s = 0;
            let colon = b.first() == Some(&b':');
            if colon {
                b = &b[1..];
            }
            if let Some((mv, rest)) = digits(b, 2) {
                m = mv;
                b = rest;
                if colon && let Some(rest) = b.strip_prefix(b":") {
                    let (sv, rest) = digits(rest, 2)?;
                    s = sv;
                    b = rest;
                }
            } else if colon {
                return None;
            }
            if h > 23 || m > 59 || s > 59 {
                return None;
            }
            let off = (h * 3600 + m * 60 + s) * US_PER_SEC;
            Some((if c == b'-' { -off } else { off }, b))
        }
        _ => None,
    }
}

fn trim(s: &str) -> &[u8] {
    s.trim_ascii().as_bytes()
}

/// A whole `YYYY-MM-DD` string → days since epoch.
pub(super) fn parse_date(s: &str) -> Option<i64> {
    match parse_ymd(trim(s))? {
        (days, []) => Some(days),
        _ => None,
    }
}

/// An ISO-8601 or PostgreSQL timestamp text → µs since epoch of the instant
/// (floored to µs). Accepts a `T` or space separator, an optional fraction
/// of any length, and `Z` / numeric offsets; no offset means UTC, as both
/// ORMs read SQLite's text. A bare date is UTC midnight.
pub(super) fn parse_instant(s: &str) -> Option<i64> {
    let (days, b) = parse_ymd(trim(s))?;
    let base = days.checked_mul(US_PER_DAY)?;
    let b = match b {
        [] => return Some(base),
        [b'T' | b't' | b' ', rest @ ..] => rest,
        _ => return None,
    };
    let (tod, mut b) = parse_hms(b)?;
    if let Some(rest) = b.strip_prefix(b" ") {
        b = rest;
    }
    let mut off = 0;
    if !b.is_empty() {
        let (o, rest) = parse_offset(b)?;
        if !rest.is_empty() {
            return None;
        }
        off = o;
    }
    base.checked_add(tod)?.checked_sub(off)
}

/// The nanoseconds below the microsecond (digits 7–9 of the fraction) of a
/// timestamp text: `…12.123000789Z` → 789. 0 when the text has none.
pub(super) fn sub_micro_ns(s: &str) -> u16 {
    let Some(i) = s.find(':') else { return 0 };
    let rest = &s[i..];
    let Some(dot) = rest.find(['.', ',']) else {
        return 0;
    };
    let digits = rest[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .skip(6)
        .take(3);
    let mut ns = 0u16;
    let mut scale = 100;
    for c in digits {
        ns += u16::from(c - b'0') * scale;
        scale /= 10;
    }
    ns
}

/// A whole `HH:MM[:SS[.f]]` string → µs since midnight.
pub(super) fn parse_time(s: &str) -> Option<i64> {
    match parse_hms(trim(s))? {
        (us, []) => Some(us),
        _ => None,
    }
}

fn write_ymd(f: &mut impl fmt::Write, days: i64) -> fmt::Result {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        write!(f, "{y:04}-{m:02}-{d:02}")
    } else {
        // ISO-8601 expanded years, as JavaScript prints them.
        let sign = if y < 0 { '-' } else { '+' };
        write!(f, "{sign}{:06}-{m:02}-{d:02}", y.unsigned_abs())
    }
}

fn write_hms(f: &mut impl fmt::Write, tod: i64) -> fmt::Result {
    let secs = tod.div_euclid(US_PER_SEC);
    let frac = tod.rem_euclid(US_PER_SEC);
    write!(
        f,
        "{:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2024-03-05T10:11:12.345000Z`: always six fraction digits, so a value
/// cut to milliseconds is visibly different from one that kept its µs.
pub(super) fn write_instant(f: &mut impl fmt::Write, us: i64) -> fmt::Result {
    match us {
        i64::MAX => f.write_str("infinity"),
        i64::MIN => f.write_str("-infinity"),
        _ => {
            write_ymd(f, us.div_euclid(US_PER_DAY))?;
            f.write_char('T')?;
            write_hms(f, us.rem_euclid(US_PER_DAY))?;
            f.write_char('Z')
        }
    }
}

pub(super) fn write_date(f: &mut impl fmt::Write, days: i32) -> fmt::Result {
    match days {
        i32::MAX => f.write_str("infinity"),
        i32::MIN => f.write_str("-infinity"),
        _ => write_ymd(f, i64::from(days)),
    }
}

pub(super) fn write_time(f: &mut impl fmt::Write, us: i64) -> fmt::Result {
    if (0..=US_PER_DAY).contains(&us) {
        write_hms(f, us)
    } else {
        write!(f, "{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(us: i64) -> String {
        let mut s = String::new();
        write_instant(&mut s, us).unwrap();
        s
    }

    #[test]
    fn civil_round_trips_across_eras() {
        for z in [-719_468 - 1, -1, 0, 1, 19_787, 2_932_896, -2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn parses_iso_and_pg_spellings() {
        let want = parse_instant("2024-03-05T10:11:12.345Z").unwrap();
        for text in [
            "2024-03-05T10:11:12.345+00:00",
            "2024-03-05 10:11:12.345",
            "2024-03-05 12:11:12.345+02",
            "2024-03-05T05:41:12.345-0430",
        ] {
            assert_eq!(parse_instant(text), Some(want), "{text}");
        }
        assert_eq!(show(want), "2024-03-05T10:11:12.345000Z");
        assert_eq!(parse_instant("2024-03-05"), Some(19_787 * US_PER_DAY));
        assert_eq!(parse_instant("2024-03-05 10:11"), Some(want - 12_345_000));
    }

    #[test]
    fn sub_microsecond_digits_are_floored_even_before_1970() {
        // 1969-12-31 23:59:59.9999999 → .999999, i.e. -1 µs.
        assert_eq!(parse_instant("1969-12-31 23:59:59.9999999"), Some(-1));
        assert_eq!(show(-1), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn rejects_impossible_dates_and_junk() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-03-05T25:00:00",
            "2024-03-05T10:61:00",
            "2024-03-05T10:11:12.",
            "2024-03-05T10:11:12 junk",
            "not a date",
            "",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2024-02-29 00:00"), None);
        assert_eq!(parse_time("24:00:00"), Some(US_PER_DAY));
        assert_eq!(parse_time("24:00:01"), None);
        assert_eq!(parse_time("10:11:12.1234567"), Some(36_672_123_456));
    }
}
