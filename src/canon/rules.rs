//! The read rules: (raw value, read mode, reading ORM) → the encoding of
//! what that ORM hands to TypeScript. One function per mode family; the
//! bytes are written by [`wire`](super::wire).

use super::*;

/// Appends the canonical encoding of `raw` read through `col` to `out`.
pub fn encode(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    if col.list {
        return js::encode_list(raw, col, out);
    }
    encode_scalar(raw, col, out)
}

/// [`encode`] of one scalar (a list's element, or a plain column).
pub(super) fn encode_scalar(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    // A MySQL rule decides its values itself, throws included (Prisma's
    // zero DATETIME throws; it is not an `Invalid Date`).
    if let Some(rule) = col.mysql
        && !matches!(raw, Raw::Null)
        && mysql::encode(raw, rule, out)
    {
        return;
    }
    let start = out.len();
    encode_value(raw, col, out);
    if out.get(start) == Some(&tag::UNREADABLE) && col.orm != Orm::Catalog {
        not_a_throw(raw, col, out, start);
    }
}

/// Where a read rule found no value, but the ORM does not throw: it hands
/// something else, and that is what is compared (issue 9: unreadable means
/// the read throws). A `Date` reader of text no date parser takes hands an
/// `Invalid Date`; Drizzle's plain number and string readers hand the
/// driver's text as it is, and `Number(text)` is `NaN`.
pub(super) fn not_a_throw(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>, start: usize) {
    use ReadMode as M;
    let (Raw::Text(s) | Raw::Numeric(s)) = *raw else {
        return;
    };
    let date_reader = matches!(
        col.read,
        M::DateTime | M::Date | M::Time | M::EpochSeconds | M::EpochMillis
    );
    match col.orm {
        Orm::Prisma if date_reader => {
            out.truncate(start);
            out.push(tag::INVALID_DATE);
        }
        Orm::Drizzle if date_reader => {
            out.truncate(start);
            out.push(tag::INVALID_DATE);
        }
        Orm::Drizzle
            if matches!(
                col.read,
                M::Int
                    | M::Float
                    | M::BigIntNumber
                    | M::DateTimeString
                    | M::DateString
                    | M::TimeString
                    | M::Text
                    | M::EnumLabel
                    | M::IntOrBoolean
            ) =>
        {
            out.truncate(start);
            push_len(out, tag::TEXT, s.as_bytes());
        }
        Orm::Drizzle if col.read == M::DecimalNumber => {
            out.truncate(start);
            push_js_float(out, f64::NAN);
        }
        _ => {}
    }
}

pub(super) fn encode_value(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    use ReadMode as M;
    match *raw {
        Raw::Null => return out.push(tag::NULL),
        // Both ORMs hand a uuid over as its lowercase hyphenated string.
        Raw::Uuid(u) => return push_uuid(out, &u),
        _ => {}
    }
    match col.read {
        M::Raw => encode_raw(raw, out),
        M::Int if col.orm == Orm::Prisma => encode_prisma_int(raw, out),
        M::Int => encode_number_int(raw, out),
        M::IntOrBoolean => encode_int_or_bool(raw, out),
        M::BigInt => encode_bigint(raw, col.orm, out),
        M::BigIntNumber => encode_bigint_number(raw, out),
        M::Float => encode_float(raw, out),
        // better-sqlite3 hands Drizzle an INTEGER as a JS number, and its
        // `numeric()` does `String(value)`: digits beyond 2^53 are lost
        // (Prisma's adapter reads safe integers: the exact Decimal).
        M::DecimalString if col.orm == Orm::Drizzle => match *raw {
            Raw::Int(v) => {
                out.push(tag::DECIMAL);
                decimal::push_f64(out, v as f64);
            }
            _ => encode_decimal_exact(raw, out),
        },
        M::Decimal | M::DecimalString => encode_decimal_exact(raw, out),
        M::DecimalNumber => encode_decimal_number(raw, out),
        M::Text | M::EnumLabel => encode_text(raw, out),
        M::EnumName => encode_enum_name(raw, col, out),
        M::Boolean if col.orm == Orm::Prisma => encode_prisma_bool(raw, out),
        M::Boolean | M::IntBoolean => encode_bool(raw, out),
        M::DateTime => js::encode_js_date(raw, col, out),
        M::DateTimeString => encode_instant(raw, Cut::Micros, out),
        M::EpochSeconds => encode_epoch(raw, US_PER_SEC, out),
        M::EpochMillis => encode_epoch(raw, 1_000, out),
        M::Date => js::encode_js_day(raw, col, out),
        M::DateString => encode_date(raw, out),
        M::Time => encode_time(raw, Cut::Millis, out),
        M::TimeString => encode_time(raw, Cut::Micros, out),
        M::Json => encode_json(raw, out),
        M::Bytes => encode_bytes(raw, out),
    }
}

/// The exact database value: used for catalog-vs-catalog comparisons, and
/// as the fallback when a driver delivers a kind a read mode has no rule
/// for (SQLite's loose typing): the value is then kept as it is, so it
/// matches only an identical delivery on the other side.
pub(super) fn encode_raw(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Null => out.push(tag::NULL),
        Raw::Bool(b) => push_bool(out, b),
        Raw::Int(v) => push_int(out, i128::from(v)),
        Raw::Float(f) => push_f64_bits(out, f.to_bits()),
        Raw::Numeric(s) => push_len(out, tag::RAW_DECIMAL, s.as_bytes()),
        Raw::Text(s) => push_len(out, tag::TEXT, s.as_bytes()),
        Raw::Bytes(b) => push_len(out, tag::BYTES, b),
        Raw::Timestamp(us) => push_i64(out, tag::LOCAL_TIMESTAMP, us),
        Raw::TimestampTz(us) => push_i64(out, tag::INSTANT, us),
        Raw::Date(d) => push_date(out, d),
        Raw::Time(us) => push_i64(out, tag::TIME, us),
        Raw::Json(s) => push_len(out, tag::RAW_JSON, s.as_bytes()),
        Raw::Uuid(u) => push_uuid(out, &u),
    }
}

/// `number` from an integer column: exact while it fits, and whatever
/// JavaScript holds when the driver gave a float or text.
/// The integer a JS `number` holds for `v`.
pub(super) fn js_int(v: i64) -> i128 {
    (v as f64) as i128
}

pub(super) fn encode_number_int(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        // A JS `number`: exact for int4, f64-rounded beyond 2^53 (SQLite
        // `integer()` columns hold 64-bit values and drivers hand numbers).
        Raw::Int(v) => push_int(out, js_int(v)),
        Raw::Bool(b) => push_int(out, i128::from(b)),
        Raw::Float(f) => push_js_number(out, f),
        Raw::Numeric(s) | Raw::Text(s) => match parse_i128(s) {
            Some(v) => push_int(out, v),
            None => match decimal::js_number(s) {
                Some(f) => push_js_number(out, f),
                None => push_unreadable(out, s),
            },
        },
        _ => encode_raw(raw, out),
    }
}

/// Prisma 7's `Int`: its data mapper does `Math.trunc(number)` (SQLite
/// REAL 2.5 → 2) and `Math.trunc(Number(text))`, and throws for the whole
/// query on an integer beyond 2^53 − 1 or text that is no number.
pub(super) fn encode_prisma_int(raw: &Raw<'_>, out: &mut Vec<u8>) {
    const SAFE: i64 = (1 << 53) - 1;
    let too_large = |out: &mut Vec<u8>, v: &dyn fmt::Display| {
        push_unreadable_with(
            out,
            format_args!(
                "Integer value {v} is too large to represent as a JavaScript number: Prisma's findMany throws"
            ),
        )
    };
    match *raw {
        Raw::Int(v) if !(-SAFE..=SAFE).contains(&v) => too_large(out, &v),
        Raw::Int(v) => push_int(out, i128::from(v)),
        Raw::Float(f) => push_js_number(out, f.trunc()),
        Raw::Numeric(s) | Raw::Text(s) => match decimal::js_number(s).map(f64::trunc) {
            Some(f) if f.is_finite() && f.abs() <= SAFE as f64 => push_js_number(out, f),
            Some(f) if f.is_finite() => too_large(out, &s),
            _ => push_unreadable_with(
                out,
                format_args!("Expected an integer, got string {s:?}: Prisma's findMany throws"),
            ),
        },
        _ => encode_number_int(raw, out),
    }
}

/// A plain integer reading (Drizzle SQLite `integer()`) against a boolean
/// reading: 0 and 1 carry a boolean's information, any other number stays
/// the number the application gets (`2` is truthy, Prisma's `false`).
pub(super) fn encode_int_or_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Int(v @ (0 | 1)) => push_bool(out, v == 1),
        Raw::Float(f) if f == 0.0 || f == 1.0 => push_bool(out, f == 1.0),
        Raw::Bool(b) => push_bool(out, b),
        _ => encode_number_int(raw, out),
    }
}

/// Prisma 7's `Boolean`: a number is `=== 1`; text must be `true`/`TRUE`/`1`
/// or `false`/`FALSE`/`0`, else the read throws.
pub(super) fn encode_prisma_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Numeric(s) | Raw::Text(s) => match s {
            "true" | "TRUE" | "1" => push_bool(out, true),
            "false" | "FALSE" | "0" => push_bool(out, false),
            _ => push_unreadable_with(
                out,
                format_args!("Expected a boolean, got string {s:?}: Prisma's findMany throws"),
            ),
        },
        _ => encode_bool(raw, out),
    }
}

/// JavaScript `bigint`: exact, or unreadable where `BigInt()` would throw.
/// Prisma reads a REAL in a BigInt column truncated (`25.3` → `25n`).
pub(super) fn encode_bigint(raw: &Raw<'_>, orm: Orm, out: &mut Vec<u8>) {
    match *raw {
        Raw::Int(v) => push_int(out, i128::from(v)),
        Raw::Bool(b) => push_int(out, i128::from(b)),
        Raw::Float(f) if orm == Orm::Prisma && f.is_finite() => match f64_to_i128(f.trunc()) {
            Some(v) => push_int(out, v),
            None => push_unreadable_with(out, format_args!("{f} as bigint")),
        },
        Raw::Float(f) => match f64_to_i128(f) {
            Some(v) => push_int(out, v),
            None => push_unreadable_with(out, format_args!("{f} as bigint")),
        },
        Raw::Numeric(s) | Raw::Text(s) => match parse_i128(s) {
            Some(v) => push_int(out, v),
            None => push_unreadable(out, s),
        },
        _ => encode_raw(raw, out),
    }
}

/// Drizzle bigint mode 'number': the integer the f64 holds, so a lossy
/// reading differs from the exact bigint exactly when digits were lost.
pub(super) fn encode_bigint_number(raw: &Raw<'_>, out: &mut Vec<u8>) {
    if let Raw::Bool(b) = *raw {
        push_int(out, i128::from(b));
    } else if let Some(f) = js_number_or_encode(raw, out) {
        push_js_number(out, f);
    }
}

pub(super) fn encode_float(raw: &Raw<'_>, out: &mut Vec<u8>) {
    if let Some(f) = js_number_or_encode(raw, out) {
        push_js_float(out, f);
    }
}

/// The JS number a driver's value becomes (`Number(text)` for text), or
/// `None` once what stands in its place is written: an unreadable text, or
/// the raw encoding of a value no number reading applies to.
#[inline]
pub(super) fn js_number_or_encode(raw: &Raw<'_>, out: &mut Vec<u8>) -> Option<f64> {
    match *raw {
        Raw::Int(v) => Some(v as f64),
        Raw::Float(f) => Some(f),
        Raw::Numeric(s) | Raw::Text(s) => {
            let f = decimal::js_number(s);
            if f.is_none() {
                push_unreadable(out, s);
            }
            f
        }
        _ => {
            encode_raw(raw, out);
            None
        }
    }
}

/// decimal.js `Decimal` and Drizzle's numeric string: the exact decimal,
/// normalised so `56`, `56.0` and `56.00` are one value.
pub(super) fn encode_decimal_exact(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Numeric(s) | Raw::Text(s) => push_decimal_text(out, s),
        Raw::Int(v) => {
            out.push(tag::DECIMAL);
            decimal::push_i128(out, i128::from(v));
        }
        // A REAL in SQLite: the driver's number, printed exactly as JS would.
        Raw::Float(f) => {
            out.push(tag::DECIMAL);
            decimal::push_f64(out, f);
        }
        _ => encode_raw(raw, out),
    }
}

/// `Number(text)` / `parseFloat(text)`, then the exact decimal that f64 is
/// printed as: `0.1` stays `0.1`, digits beyond ~17 significant are lost.
pub(super) fn encode_decimal_number(raw: &Raw<'_>, out: &mut Vec<u8>) {
    if let Some(f) = js_number_or_encode(raw, out) {
        out.push(tag::DECIMAL);
        decimal::push_f64(out, f);
    }
}

pub(super) fn encode_text(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Text(s) => push_len(out, tag::TEXT, s.as_bytes()),
        _ => encode_raw(raw, out),
    }
}

/// Prisma maps the label to its schema name and throws on a label it does
/// not know. Name ↔ label is one-to-one, so the information is the label:
/// encoding the label makes `WAITING_FOR_PARTS` equal Drizzle's
/// `waiting_parts`.
pub(super) fn encode_enum_name(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    match *raw {
        Raw::Text(s) if col.enum_strict && col.label_index(s).is_none() => push_unreadable(out, s),
        Raw::Text(s) => push_len(out, tag::TEXT, s.as_bytes()),
        _ => encode_raw(raw, out),
    }
}

/// Both ORMs read `true` only for exactly 1 (MySQL TINYINT(1), SQLite).
pub(super) fn encode_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Bool(b) => push_bool(out, b),
        Raw::Int(v) => push_bool(out, v == 1),
        Raw::Float(f) => push_bool(out, f == 1.0),
        Raw::Numeric(s) | Raw::Text(s) => match s.trim_ascii() {
            "t" | "true" => push_bool(out, true),
            "f" | "false" => push_bool(out, false),
            t => match parse_i128(t) {
                Some(v) => push_bool(out, v == 1),
                None => push_unreadable(out, s),
            },
        },
        _ => encode_raw(raw, out),
    }
}

/// What a reading keeps of sub-second digits.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Cut {
    /// JS `Date`: milliseconds, floored (cutting digits of the text).
    Millis,
    Micros,
}

impl Cut {
    pub(super) fn apply(self, us: i64) -> i64 {
        match self {
            // ±infinity stay themselves rather than moving by <1ms.
            Cut::Millis if us != i64::MAX && us != i64::MIN => {
                us.saturating_sub(us.rem_euclid(1_000))
            }
            _ => us,
        }
    }
}

pub(super) fn encode_instant(raw: &Raw<'_>, cut: Cut, out: &mut Vec<u8>) {
    match *raw {
        Raw::Timestamp(us) | Raw::TimestampTz(us) => push_i64(out, tag::INSTANT, cut.apply(us)),
        Raw::Text(s) => match time::parse_instant(s) {
            // A text that keeps digits below µs (SQLite): its reading keeps
            // them too, so it differs from any µs or ms reading.
            Some(us) if cut == Cut::Micros && time::sub_micro_ns(s) != 0 => {
                push_i64(out, tag::INSTANT_NS, us);
                out.extend_from_slice(&time::sub_micro_ns(s).to_le_bytes());
            }
            Some(us) => push_i64(out, tag::INSTANT, cut.apply(us)),
            None => push_unreadable(out, s),
        },
        // A string reading (Drizzle `text()` / `numeric()` in string form)
        // of a number hands that number, not an instant: the oracle sees
        // Drizzle's "1709633472123" against Prisma's Date.
        Raw::Int(v) if cut == Cut::Micros => push_len(out, tag::TEXT, v.to_string().as_bytes()),
        Raw::Float(f) if cut == Cut::Micros => {
            let mut b = Vec::new();
            decimal::push_js_number(&mut b, f);
            push_len(out, tag::TEXT, &b);
        }
        // Prisma ≤ 6 on SQLite stored epoch milliseconds.
        Raw::Int(ms) => push_epoch(out, ms, 1_000),
        Raw::Float(ms) => push_epoch_f64(out, ms * 1_000.0),
        // A DateTime field on a date/time column: same information as the
        // string readings of that column.
        Raw::Date(d) => push_date(out, d),
        Raw::Time(us) => push_i64(out, tag::TIME, cut.apply(us)),
        _ => encode_raw(raw, out),
    }
}

/// Drizzle SQLite `integer({ mode: 'timestamp' | 'timestamp_ms' })`:
/// `new Date(value * unit)`.
pub(super) fn encode_epoch(raw: &Raw<'_>, us_per_unit: i64, out: &mut Vec<u8>) {
    match *raw {
        Raw::Int(v) => push_epoch(out, v, us_per_unit),
        Raw::Float(v) => push_epoch_f64(out, v * us_per_unit as f64),
        Raw::Text(s) => match parse_i128(s).and_then(|v| i64::try_from(v).ok()) {
            Some(v) => push_epoch(out, v, us_per_unit),
            // Drizzle's `timestamp` mode computes `new Date(value * 1000)`:
            // text gives an Invalid Date. `timestamp_ms` does `new Date(value)`,
            // which parses ISO text.
            None if us_per_unit == US_PER_SEC => push_unreadable(out, s),
            None => encode_instant(raw, Cut::Millis, out),
        },
        _ => encode_instant(raw, Cut::Millis, out),
    }
}

pub(super) fn encode_date(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Date(d) => push_date(out, d),
        Raw::Text(s) => {
            if let Some(days) = time::parse_date(s) {
                match i32::try_from(days) {
                    Ok(d) => push_date(out, d),
                    Err(_) => push_unreadable(out, s),
                }
            } else if let Some(us) = time::parse_instant(s) {
                // A full timestamp in a date column (SQLite text).
                push_date_or_instant(out, us)
            } else {
                push_unreadable(out, s)
            }
        }
        Raw::Timestamp(us) | Raw::TimestampTz(us) => push_date_or_instant(out, us),
        Raw::Int(ms) => match ms.checked_mul(1_000) {
            Some(us) => push_date_or_instant(out, us),
            None => push_unreadable_with(out, format_args!("{ms} ms")),
        },
        _ => encode_raw(raw, out),
    }
}

pub(super) fn encode_time(raw: &Raw<'_>, cut: Cut, out: &mut Vec<u8>) {
    match *raw {
        Raw::Time(us) => push_i64(out, tag::TIME, cut.apply(us)),
        Raw::Text(s) => match time::parse_time(s) {
            Some(us) => push_i64(out, tag::TIME, cut.apply(us)),
            None => push_unreadable(out, s),
        },
        _ => encode_raw(raw, out),
    }
}

pub(super) fn encode_json(raw: &Raw<'_>, out: &mut Vec<u8>) {
    let text = match *raw {
        Raw::Json(s) | Raw::Text(s) => s,
        Raw::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => s,
            Err(_) => {
                return push_unreadable_with(
                    out,
                    format_args!("{} bytes of non-UTF-8 JSON", b.len()),
                );
            }
        },
        // SQLite JSON columns can hold a bare number: `JSON.parse(5)` is 5.
        Raw::Int(v) => return push_json_number(out, v as f64),
        Raw::Float(f) => return push_json_number(out, f),
        Raw::Bool(b) => return push_len(out, tag::JSON, if b { b"true" } else { b"false" }),
        _ => return encode_raw(raw, out),
    };
    let start = out.len();
    out.push(tag::JSON);
    out.extend_from_slice(&[0; 4]);
    if json::canonicalize(text, out) {
        patch_len(out, start);
    } else {
        out.truncate(start);
        push_unreadable(out, text);
    }
}

pub(super) fn encode_bytes(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Bytes(b) => push_len(out, tag::BYTES, b),
        _ => encode_raw(raw, out),
    }
}
