//! Values that travel through a timed operation: parameters going in,
//! result cells coming out, and their PostgreSQL binary wire forms.
//!
//! Owns [`Val`] (an owned `canon::Raw`), its text form, and the binary
//! encoders/decoders for the built-in PostgreSQL types the captured SQL
//! binds and returns. Parameters are sent with the type the server inferred
//! for each placeholder, exactly as node-postgres leaves it to the server
//! (it sends every parameter untyped); sqlx only speaks binary, hence the
//! encoders. Pure: no I/O.

use crate::canon::Raw;

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i32 = 10_957;
const US_PER_DAY: i64 = 86_400_000_000;

/// PostgreSQL type OIDs parity knows the binary form of.
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// An owned database value (the owned twin of `canon::Raw`).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// numeric as decimal text.
    Numeric(String),
    Text(String),
    Bytes(Vec<u8>),
    /// µs since 1970, wall clock as UTC.
    Timestamp(i64),
    /// µs since 1970 of the instant.
    TimestampTz(i64),
    Date(i32),
    Time(i64),
    Json(String),
    Uuid([u8; 16]),
}

impl Val {
    pub fn as_raw(&self) -> Raw<'_> {
        match self {
            Val::Null => Raw::Null,
            Val::Bool(b) => Raw::Bool(*b),
            Val::Int(i) => Raw::Int(*i),
            Val::Float(f) => Raw::Float(*f),
            Val::Numeric(s) => Raw::Numeric(s),
            Val::Text(s) => Raw::Text(s),
            Val::Bytes(b) => Raw::Bytes(b),
            Val::Timestamp(t) => Raw::Timestamp(*t),
            Val::TimestampTz(t) => Raw::TimestampTz(*t),
            Val::Date(d) => Raw::Date(*d),
            Val::Time(t) => Raw::Time(*t),
            Val::Json(s) => Raw::Json(s),
            Val::Uuid(u) => Raw::Uuid(*u),
        }
    }

    /// The value as PostgreSQL prints it (`None` for NULL): what a text
    /// parameter would carry.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Val::Null => return None,
            Val::Bool(b) => if *b { "true" } else { "false" }.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => f.to_string(),
            Val::Numeric(s) | Val::Text(s) | Val::Json(s) => s.clone(),
            Val::Bytes(b) => format!("\\x{}", hex::encode(b)),
            Val::Timestamp(us) => format_timestamp(*us, false),
            Val::TimestampTz(us) => format_timestamp(*us, true),
            Val::Date(d) => format_date(*d),
            Val::Time(us) => format_time(*us),
            Val::Uuid(u) => format_uuid(u),
        })
    }

    /// From a TOML literal in an operation file.
    pub fn from_toml(v: &toml::Value) -> Option<Val> {
        Some(match v {
            toml::Value::String(s) => Val::Text(s.clone()),
            toml::Value::Integer(i) => Val::Int(*i),
            toml::Value::Float(f) => Val::Float(*f),
            toml::Value::Boolean(b) => Val::Bool(*b),
            toml::Value::Datetime(d) => Val::Text(d.to_string()),
            _ => return None,
        })
    }

    /// Short human form for reports (`id=42`).
    pub fn display(&self) -> String {
        match self {
            Val::Null => "NULL".into(),
            Val::Text(s) => format!("{s:?}"),
            v => v.to_text().unwrap_or_default(),
        }
    }
}

// ---- text forms ------------------------------------------------------------

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm.
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

fn format_time(us: i64) -> String {
    let s = us / 1_000_000;
    let frac = us % 1_000_000;
    let mut out = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac != 0 {
        out.push_str(format!(".{frac:06}").trim_end_matches('0'));
    }
    out
}

fn format_timestamp(us: i64, tz: bool) -> String {
    let days = us.div_euclid(US_PER_DAY);
    let mut out = format!(
        "{} {}",
        format_date(days as i32),
        format_time(us.rem_euclid(US_PER_DAY))
    );
    if tz {
        out.push_str("+00");
    }
    out
}

fn format_uuid(u: &[u8; 16]) -> String {
    let h = hex::encode(u);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// `HH:MM[:SS[.ffffff]]` → µs since midnight.
pub fn parse_time(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        None => (0, 0),
        Some(rest) => {
            let (sec, frac) = rest.split_once('.').unwrap_or((rest, ""));
            let mut f = frac.chars().take(6).collect::<String>();
            if !f.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            while f.len() < 6 {
                f.push('0');
            }
            (sec.parse::<i64>().ok()?, f.parse::<i64>().unwrap_or(0))
        }
    };
    if h > 24 || m > 59 || sec > 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + frac)
}

/// A timestamp as drivers and ORMs print it: `YYYY-MM-DD[ T]HH:MM[:SS[.f]]`
/// with an optional `Z` / `±HH[[:]MM]` offset, or a bare date. Returns µs
/// since 1970 (UTC when an offset is given, else the wall clock as UTC).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 10 {
        return None;
    }
    let days = parse_date(&s[..10])? as i64;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(days * US_PER_DAY);
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    // Split the offset off the time.
    let (time, offset_us) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits: String = off[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        let (hh, mm) = match digits.len() {
            2 => (digits[..2].parse::<i64>().ok()?, 0),
            4 => (
                digits[..2].parse::<i64>().ok()?,
                digits[2..].parse::<i64>().ok()?,
            ),
            _ => return None,
        };
        (t, sign * (hh * 3600 + mm * 60) * 1_000_000)
    } else {
        (rest, 0)
    };
    let tod = parse_time(time)?;
    Some(days * US_PER_DAY + tod - offset_us)
}

pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let h: String = s.trim().chars().filter(|c| *c != '-').collect();
    let v = hex::decode(h).ok()?;
    v.try_into().ok()
}

// ---- PostgreSQL numeric binary ----------------------------------------------

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// Decimal text (`-12.50`, `1e3` not accepted) → numeric binary.
pub fn encode_numeric(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    let header = |sign: u16| {
        let mut b = Vec::with_capacity(8);
        b.extend(0i16.to_be_bytes());
        b.extend(0i16.to_be_bytes());
        b.extend(sign.to_be_bytes());
        b.extend(0u16.to_be_bytes());
        b
    };
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Some(header(NUMERIC_NAN)),
        "infinity" | "+infinity" => return Some(header(NUMERIC_PINF)),
        "-infinity" => return Some(header(NUMERIC_NINF)),
        _ => {}
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let dscale = frac.len() as u16;
    let int = int.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to
    // whole base-10000 digits.
    let ipad = (4 - int.len() % 4) % 4;
    let fpad = (4 - frac.len() % 4) % 4;
    let digits_str = format!("{}{int}{frac}{}", "0".repeat(ipad), "0".repeat(fpad));
    let mut digits: Vec<i16> = digits_str
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap().parse::<i16>().unwrap())
        .collect();
    let mut weight = ((int.len() + ipad) / 4) as i16 - 1;
    // Strip leading and trailing zero groups.
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let mut b = Vec::with_capacity(8 + 2 * digits.len());
    b.extend((digits.len() as i16).to_be_bytes());
    b.extend(weight.to_be_bytes());
    b.extend(
        if neg && !digits.is_empty() {
            NUMERIC_NEG
        } else {
            NUMERIC_POS
        }
        .to_be_bytes(),
    );
    b.extend(dscale.to_be_bytes());
    for d in digits {
        b.extend(d.to_be_bytes());
    }
    Some(b)
}

/// numeric binary → decimal text with `dscale` fraction digits, as
/// PostgreSQL prints it.
pub fn decode_numeric(b: &[u8]) -> Option<String> {
    let u16_at = |i: usize| b.get(i..i + 2).map(|x| u16::from_be_bytes([x[0], x[1]]));
    let ndigits = u16_at(0)? as usize;
    let weight = u16_at(2)? as i16 as i32;
    let sign = u16_at(4)?;
    let dscale = u16_at(6)? as usize;
    match sign {
        NUMERIC_NAN => return Some("NaN".into()),
        NUMERIC_PINF => return Some("Infinity".into()),
        NUMERIC_NINF => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| u16_at(8 + 2 * i))
        .collect::<Option<_>>()?;
    let mut int = String::new();
    for w in 0..=weight.max(-1) {
        let d = digits.get(w as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    if dscale > 0 {
        let mut i = weight + 1;
        while frac.len() < dscale {
            let d = if i < 0 {
                0
            } else {
                digits.get(i as usize).copied().unwrap_or(0)
            };
            frac.push_str(&format!("{d:04}"));
            i += 1;
        }
        frac.truncate(dscale);
    }
    let mut out = String::new();
    if sign == NUMERIC_NEG {
        out.push('-');
    }
    out.push_str(&int);
    if dscale > 0 {
        out.push('.');
        out.push_str(&frac);
    }
    Some(out)
}

// ---- PostgreSQL binary encode / decode --------------------------------------

/// Why a parameter cannot be sent as the type the server inferred.
#[derive(Debug, thiserror::Error)]
#[error("cannot send {value} as PostgreSQL type oid {oid}")]
pub struct EncodeError {
    pub value: String,
    pub oid: u32,
}

/// The binary form of `v` for a parameter of type `type_oid`; `None` is NULL.
/// Types parity has no encoder for (enums, domains over text) are sent as
/// their text bytes, which is their binary form.
pub fn encode_pg(v: &Val, type_oid: u32) -> Result<Option<Vec<u8>>, EncodeError> {
    use oid::*;
    if *v == Val::Null {
        return Ok(None);
    }
    let err = || EncodeError {
        value: v.display(),
        oid: type_oid,
    };
    let text = || v.to_text().ok_or_else(err);
    let int = || -> Result<i64, EncodeError> {
        match v {
            Val::Int(i) => Ok(*i),
            Val::Bool(b) => Ok(i64::from(*b)),
            Val::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
            _ => text()?.trim().parse().map_err(|_| err()),
        }
    };
    let float = || -> Result<f64, EncodeError> {
        match v {
            Val::Float(f) => Ok(*f),
            Val::Int(i) => Ok(*i as f64),
            _ => text()?.trim().parse().map_err(|_| err()),
        }
    };
    let instant = || -> Result<i64, EncodeError> {
        match v {
            Val::Timestamp(t) | Val::TimestampTz(t) => Ok(*t),
            Val::Date(d) => Ok(*d as i64 * US_PER_DAY),
            _ => parse_timestamp(&text()?).ok_or_else(err),
        }
    };
    Ok(Some(match type_oid {
        BOOL => vec![u8::from(match v {
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            _ => matches!(
                text()?.trim().to_ascii_lowercase().as_str(),
                "t" | "true" | "1" | "yes" | "on"
            ),
        })],
        INT2 => i16::try_from(int()?)
            .map_err(|_| err())?
            .to_be_bytes()
            .to_vec(),
        INT4 => i32::try_from(int()?)
            .map_err(|_| err())?
            .to_be_bytes()
            .to_vec(),
        INT8 => int()?.to_be_bytes().to_vec(),
        OID => u32::try_from(int()?)
            .map_err(|_| err())?
            .to_be_bytes()
            .to_vec(),
        FLOAT4 => (float()? as f32).to_be_bytes().to_vec(),
        FLOAT8 => float()?.to_be_bytes().to_vec(),
        NUMERIC => encode_numeric(&text()?).ok_or_else(err)?,
        UUID => match v {
            Val::Uuid(u) => u.to_vec(),
            _ => parse_uuid(&text()?).ok_or_else(err)?.to_vec(),
        },
        JSONB => {
            let mut b = vec![1u8];
            b.extend(text()?.into_bytes());
            b
        }
        TIMESTAMP | TIMESTAMPTZ => (instant()? - PG_EPOCH_MICROS).to_be_bytes().to_vec(),
        DATE => {
            let d = match v {
                Val::Date(d) => *d,
                Val::Timestamp(t) | Val::TimestampTz(t) => t.div_euclid(US_PER_DAY) as i32,
                _ => {
                    let t = text()?;
                    match parse_date(&t) {
                        Some(d) => d,
                        None => parse_timestamp(&t).ok_or_else(err)?.div_euclid(US_PER_DAY) as i32,
                    }
                }
            };
            (d - PG_EPOCH_DAYS).to_be_bytes().to_vec()
        }
        TIME => match v {
            Val::Time(t) => *t,
            _ => parse_time(&text()?).ok_or_else(err)?,
        }
        .to_be_bytes()
        .to_vec(),
        BYTEA => match v {
            Val::Bytes(b) => b.clone(),
            _ => {
                let t = text()?;
                match t.strip_prefix("\\x") {
                    Some(h) => hex::decode(h).map_err(|_| err())?,
                    None => t.into_bytes(),
                }
            }
        },
        // text, varchar, bpchar, name, json, unknown, enums, domains over text.
        _ => text()?.into_bytes(),
    }))
}

/// A binary result field of type `type_oid` → [`Val`]. Types without a
/// decoder come back as text when they are valid UTF-8 (enums, citext) and
/// as bytes otherwise, so the two sides still compare byte for byte.
pub fn decode_pg(type_oid: u32, f: &[u8]) -> Val {
    use oid::*;
    let i64_at = || f.try_into().map(i64::from_be_bytes).unwrap_or(0);
    let text = || String::from_utf8_lossy(f).into_owned();
    match type_oid {
        BOOL => Val::Bool(f.first().copied().unwrap_or(0) != 0),
        INT2 => Val::Int(f.try_into().map(i16::from_be_bytes).unwrap_or(0) as i64),
        INT4 => Val::Int(f.try_into().map(i32::from_be_bytes).unwrap_or(0) as i64),
        OID => Val::Int(f.try_into().map(u32::from_be_bytes).unwrap_or(0) as i64),
        INT8 => Val::Int(i64_at()),
        FLOAT4 => Val::Float(f.try_into().map(f32::from_be_bytes).unwrap_or(0.0) as f64),
        FLOAT8 => Val::Float(f.try_into().map(f64::from_be_bytes).unwrap_or(0.0)),
        NUMERIC => match decode_numeric(f) {
            Some(s) => Val::Numeric(s),
            None => Val::Bytes(f.to_vec()),
        },
        TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN => Val::Text(text()),
        JSON => Val::Json(text()),
        JSONB => Val::Json(String::from_utf8_lossy(f.get(1..).unwrap_or(&[])).into_owned()),
        UUID => Val::Uuid(f.try_into().unwrap_or([0; 16])),
        BYTEA => Val::Bytes(f.to_vec()),
        TIMESTAMP | TIMESTAMPTZ => {
            let v = i64_at();
            let us = if v == i64::MAX || v == i64::MIN {
                v
            } else {
                v + PG_EPOCH_MICROS
            };
            if type_oid == TIMESTAMP {
                Val::Timestamp(us)
            } else {
                Val::TimestampTz(us)
            }
        }
        DATE => {
            let d = f.try_into().map(i32::from_be_bytes).unwrap_or(0);
            Val::Date(if d == i32::MAX || d == i32::MIN {
                d
            } else {
                d + PG_EPOCH_DAYS
            })
        }
        TIME => Val::Time(i64_at()),
        _ => match std::str::from_utf8(f) {
            Ok(s) => Val::Text(s.to_string()),
            Err(_) => Val::Bytes(f.to_vec()),
        },
    }
}

/// A JSON scalar or document nested in a Drizzle relational result, as the
/// raw value the column's read mode is applied to: strings stay text (the
/// read mode parses dates and decimals), numbers keep their JSON digits.
pub fn from_json(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => Val::Numeric(n.to_string()),
        },
        serde_json::Value::String(s) => Val::Text(s.clone()),
        other => Val::Json(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_round_trips() {
        for s in [
            "0",
            "12.50",
            "-12.5",
            "12345678.90",
            "0.000001",
            "100000000",
            "42.500000000000000000000000000000",
            "-0.01",
            "9999.9999",
            "10000",
        ] {
            let b = encode_numeric(s).unwrap();
            assert_eq!(decode_numeric(&b).unwrap(), s, "{s}");
        }
        assert_eq!(
            decode_numeric(&encode_numeric("NaN").unwrap()).unwrap(),
            "NaN"
        );
        assert!(encode_numeric("1e5").is_none());
        // PostgreSQL's own bytes for 12.50: ndigits 2, weight 0, pos, dscale 2, [12, 5000].
        assert_eq!(
            encode_numeric("12.50").unwrap(),
            vec![0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88]
        );
    }

    #[test]
    fn timestamps_parse_in_every_driver_spelling() {
        let want = parse_timestamp("2024-03-05 10:11:12.345").unwrap();
        assert_eq!(parse_timestamp("2024-03-05T10:11:12.345Z"), Some(want));
        assert_eq!(parse_timestamp("2024-03-05T10:11:12.345+00:00"), Some(want));
        assert_eq!(parse_timestamp("2024-03-05 12:11:12.345+02"), Some(want));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59.999999"), Some(-1));
        assert_eq!(parse_timestamp("1970-01-02"), Some(US_PER_DAY));
        assert_eq!(format_timestamp(want, false), "2024-03-05 10:11:12.345");
        assert_eq!(Val::Date(0).to_text().unwrap(), "1970-01-01");
        assert!(parse_timestamp("soon").is_none());
    }

    #[test]
    fn encodes_by_inferred_type() {
        assert_eq!(
            encode_pg(&Val::Text("7".into()), oid::INT4).unwrap(),
            Some(7i32.to_be_bytes().to_vec())
        );
        assert_eq!(
            encode_pg(&Val::Int(7), oid::TEXT).unwrap(),
            Some(b"7".to_vec())
        );
        let u = "311ac54f-9996-4add-960a-624026852d05";
        let b = encode_pg(&Val::Text(u.into()), oid::UUID).unwrap().unwrap();
        assert_eq!(decode_pg(oid::UUID, &b).to_text().unwrap(), u);
        let ts = encode_pg(&Val::Text("2000-01-01T00:00:01Z".into()), oid::TIMESTAMP)
            .unwrap()
            .unwrap();
        assert_eq!(ts, 1_000_000i64.to_be_bytes().to_vec());
        assert_eq!(encode_pg(&Val::Null, oid::INT4).unwrap(), None);
        assert!(encode_pg(&Val::Text("x".into()), oid::INT4).is_err());
        let j = encode_pg(&Val::Text("{}".into()), oid::JSONB)
            .unwrap()
            .unwrap();
        assert_eq!(decode_pg(oid::JSONB, &j), Val::Json("{}".into()));
    }

    #[test]
    fn json_scalars_keep_their_digits() {
        let v: serde_json::Value =
            serde_json::from_str(r#"[1, 56.0, "x", null, {"a":1}]"#).unwrap();
        let got: Vec<Val> = v.as_array().unwrap().iter().map(from_json).collect();
        assert_eq!(got[0], Val::Int(1));
        assert_eq!(got[1], Val::Numeric("56.0".into()));
        assert_eq!(got[2], Val::Text("x".into()));
        assert_eq!(got[3], Val::Null);
        assert_eq!(got[4], Val::Json(r#"{"a":1}"#.into()));
    }
}
