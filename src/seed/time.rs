//! Calendar arithmetic and the fast text forms of dates and timestamps that
//! the writers emit. Hand-rolled (Howard Hinnant's civil-from-days) because
//! the seeder formats millions of timestamps and chrono's formatter is an
//! order of magnitude slower; `tests` cross-check against chrono.

/// Microseconds per second / millisecond / day.
pub const US_PER_S: i64 = 1_000_000;
pub const US_PER_MS: i64 = 1_000;
pub const US_PER_DAY: i64 = 86_400 * US_PER_S;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: `(year, month, day)`.
pub const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Microseconds since the epoch of a UTC wall-clock time.
pub const fn micros(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    days_from_civil(y, mo, d) * US_PER_DAY + ((h * 60 + mi) * 60 + s) * US_PER_S
}

/// Truncates to whole milliseconds (towards minus infinity, so pre-1970
/// values stay on the millisecond grid).
pub const fn floor_ms(us: i64) -> i64 {
    us.div_euclid(US_PER_MS) * US_PER_MS
}

/// How many fractional digits a timestamp is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frac {
    /// Always six (`.123000`): PostgreSQL and MariaDB round to the column.
    Six,
    /// Three unless the value has sub-millisecond digits, then six: the
    /// `toISOString()` form Prisma 7 writes on SQLite, extended losslessly.
    Iso,
}

#[inline]
fn push2(out: &mut String, v: i64) {
    out.push((b'0' + (v / 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

#[inline]
fn push_n(out: &mut String, v: i64, width: u32) {
    let mut div = 10i64.pow(width - 1);
    while div > 0 {
        out.push((b'0' + ((v / div) % 10) as u8) as char);
        div /= 10;
    }
}

/// `YYYY-MM-DD` (years 0..=9999).
pub fn push_date(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    push_n(out, y, 4);
    out.push('-');
    push2(out, m);
    out.push('-');
    push2(out, d);
}

/// `YYYY-MM-DD<sep>HH:MM:SS.ffffff` without an offset.
pub fn push_timestamp(out: &mut String, us: i64, sep: char, frac: Frac) {
    let days = us.div_euclid(US_PER_DAY);
    let rem = us.rem_euclid(US_PER_DAY);
    push_date(out, days);
    out.push(sep);
    let secs = rem / US_PER_S;
    push2(out, secs / 3600);
    out.push(':');
    push2(out, secs / 60 % 60);
    out.push(':');
    push2(out, secs % 60);
    out.push('.');
    let sub = rem % US_PER_S;
    match frac {
        Frac::Iso if sub % 1000 == 0 => push_n(out, sub / 1000, 3),
        _ => push_n(out, sub, 6),
    }
}

/// The ISO-8601 text Prisma 7's SQLite adapter stores:
/// `2024-03-05T10:11:12.345+00:00`.
pub fn iso_utc(us: i64) -> String {
    let mut s = String::with_capacity(32);
    push_timestamp(&mut s, us, 'T', Frac::Iso);
    s.push_str("+00:00");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    #[test]
    fn civil_round_trips_and_matches_chrono() {
        for days in (-40_000..40_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let c = NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32).unwrap();
            assert_eq!(c.format("%Y-%m-%d").to_string(), {
                let mut s = String::new();
                push_date(&mut s, days);
                s
            });
        }
    }

    #[test]
    fn timestamps_format_like_chrono_including_before_1970() {
        for us in [
            0i64,
            -1,
            -86_400_000_001,
            1_709_633_472_345_678,
            -300_000_000_123_000,
            253_402_300_799_999_999,
        ] {
            let mut s = String::new();
            push_timestamp(&mut s, us, ' ', Frac::Six);
            let c = DateTime::from_timestamp_micros(us).unwrap().naive_utc();
            assert_eq!(s, c.format("%Y-%m-%d %H:%M:%S%.6f").to_string());
        }
        assert_eq!(
            iso_utc(micros(2024, 3, 5, 10, 11, 12) + 345_000),
            "2024-03-05T10:11:12.345+00:00"
        );
        assert_eq!(
            iso_utc(micros(1969, 7, 20, 20, 17, 40) + 5),
            "1969-07-20T20:17:40.000005+00:00"
        );
        assert_eq!(floor_ms(-1), -1000);
    }
}
