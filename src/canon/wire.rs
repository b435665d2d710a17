//! The payload writers of the encoding (tags and layouts in the module
//! docs of [`canon`](super)): integers, decimals, instants, length-prefixed
//! text, unreadable values.

use std::fmt;

use super::*;

#[inline]
pub(super) fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(&[tag::BOOL, u8::from(b)]);
}

#[inline]
pub(super) fn push_int(out: &mut Vec<u8>, v: i128) {
    out.push(tag::INT);
    out.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub(super) fn push_i64(out: &mut Vec<u8>, t: u8, v: i64) {
    out.push(t);
    out.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub(super) fn push_date(out: &mut Vec<u8>, days: i32) {
    out.push(tag::DATE);
    out.extend_from_slice(&days.to_le_bytes());
}

#[inline]
pub(super) fn push_f64_bits(out: &mut Vec<u8>, bits: u64) {
    out.push(tag::FLOAT);
    out.extend_from_slice(&bits.to_le_bytes());
}

/// A float as JavaScript holds it: one NaN, and `-0` prints (and
/// serialises) as `0`, so it equals `+0`.
pub(super) fn push_js_float(out: &mut Vec<u8>, f: f64) {
    let f = if f.is_nan() {
        f64::NAN
    } else if f == 0.0 {
        0.0
    } else {
        f
    };
    push_f64_bits(out, f.to_bits());
}

/// A JavaScript `number` from an integer-typed reading: the integer tag when
/// it holds an integer (so it meets the exact bigint reading), else a float.
pub(super) fn push_js_number(out: &mut Vec<u8>, f: f64) {
    match f64_to_i128(f) {
        Some(v) => push_int(out, v),
        None => push_js_float(out, f),
    }
}

/// The exact integer an integral f64 holds (`-0` → 0); `None` otherwise.
pub(super) fn f64_to_i128(f: f64) -> Option<i128> {
    // 2^127 is exactly representable; below it `as` is exact for integers.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7014118346046923e38).then_some(f as i128)
}

pub(super) fn push_epoch(out: &mut Vec<u8>, v: i64, us_per_unit: i64) {
    match v.checked_mul(us_per_unit) {
        Some(us) => push_i64(out, tag::INSTANT, us),
        None => push_unreadable_with(out, format_args!("epoch {v} × {us_per_unit} µs overflows")),
    }
}

/// `new Date(ms)` of a float: TimeClip truncates toward zero to whole ms.
pub(super) fn push_epoch_f64(out: &mut Vec<u8>, us: f64) {
    let ms = (us / 1_000.0).trunc();
    if ms.is_finite() && ms.abs() <= 8.64e15 {
        push_i64(out, tag::INSTANT, ms as i64 * 1_000);
    } else {
        push_unreadable_with(out, format_args!("invalid date from {us} µs"));
    }
}

/// A date-typed reading of an instant: a date when it is a UTC midnight,
/// otherwise the instant (its time of day is information a date lacks).
pub(super) fn push_date_or_instant(out: &mut Vec<u8>, us: i64) {
    match i32::try_from(us.div_euclid(US_PER_DAY)) {
        Ok(d) if us.rem_euclid(US_PER_DAY) == 0 => push_date(out, d),
        _ => push_i64(out, tag::INSTANT, us),
    }
}

pub(super) fn push_decimal_text(out: &mut Vec<u8>, s: &str) {
    match decimal::parse(s) {
        Some(decimal::Dec::Finite {
            neg,
            int,
            frac,
            exp,
        }) => {
            let start = out.len();
            out.push(tag::DECIMAL);
            if !decimal::push(out, neg, int, frac, exp) {
                out.truncate(start);
                push_unreadable(out, s);
            }
        }
        Some(decimal::Dec::NaN) => out.extend_from_slice(&[tag::DECIMAL, decimal::NAN]),
        Some(decimal::Dec::Inf { neg }) => out.extend_from_slice(&[
            tag::DECIMAL,
            if neg {
                decimal::NEG_INF
            } else {
                decimal::POS_INF
            },
        ]),
        None => push_unreadable(out, s),
    }
}

pub(super) fn push_json_number(out: &mut Vec<u8>, f: f64) {
    let start = out.len();
    out.push(tag::JSON);
    out.extend_from_slice(&[0; 4]);
    if f.is_finite() {
        decimal::push_js_number(out, f);
    } else {
        out.extend_from_slice(b"null");
    }
    patch_len(out, start);
}

/// Tag, u32 length, bytes. A value over 4 GiB cannot be framed and is
/// reported unreadable instead (no database column reaches that size).
pub(super) fn push_len(out: &mut Vec<u8>, t: u8, bytes: &[u8]) {
    match u32::try_from(bytes.len()) {
        Ok(n) => {
            out.push(t);
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Err(_) => push_len(out, tag::UNREADABLE, b"value larger than 4 GiB"),
    }
}

/// Fills in the u32 length of a value whose tag is at `start`.
pub(super) fn patch_len(out: &mut Vec<u8>, start: usize) {
    match u32::try_from(out.len() - start - 5) {
        Ok(n) => out[start + 1..start + 5].copy_from_slice(&n.to_le_bytes()),
        Err(_) => {
            out.truncate(start);
            push_len(out, tag::UNREADABLE, b"value larger than 4 GiB");
        }
    }
}

pub(super) fn push_unreadable(out: &mut Vec<u8>, raw_text: &str) {
    push_len(out, tag::UNREADABLE, raw_text.as_bytes());
}

/// Unreadable with a description (rare path, allocation is fine).
pub(super) fn push_unreadable_with(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    push_unreadable(out, &args.to_string());
}

pub(super) fn push_uuid(out: &mut Vec<u8>, u: &[u8; 16]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = [0u8; 36];
    let mut j = 0;
    for (i, &b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s[j] = b'-';
            j += 1;
        }
        s[j] = HEX[usize::from(b >> 4)];
        s[j + 1] = HEX[usize::from(b & 0xF)];
        j += 2;
    }
    push_len(out, tag::TEXT, &s);
}

/// An integer in text (`-12`, `+7`, surrounding blanks), exactly.
pub(super) fn parse_i128(s: &str) -> Option<i128> {
    s.trim_ascii().parse().ok()
}
