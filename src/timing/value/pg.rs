//! PostgreSQL's binary wire forms of [`Val`]s: parameters encoded as the
//! type the server inferred for each placeholder, result fields decoded by
//! their type OID, and `numeric`'s base-10000 digits both ways.

use super::{
    PG_EPOCH_DAYS, PG_EPOCH_MICROS, US_PER_DAY, Val, oid, parse_date, parse_time, parse_timestamp,
    parse_uuid,
};

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
