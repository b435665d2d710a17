//! Decoding the encoding back into a [`Canon`] value, for reports, and how
//! such a value is shown.

use std::fmt;

use super::*;

/// Decoded canonical value for reports, tolerance and `--show-values`.
#[derive(Debug, Clone)]
pub enum Canon {
    Null,
    Bool(bool),
    Int(i128),
    /// Plain decimal digits (`-0.000001`, `56`, `NaN`); in Raw mode the
    /// database's own text (`1.10`).
    Decimal(String),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// µs since epoch (also a Raw-mode timestamp without time zone).
    Instant(i64),
    Date(i32),
    /// µs since midnight.
    Time(i64),
    Json(String),
    /// What the reading ORM could not read: the raw text or a description.
    Unreadable(String),
    /// A JS `Invalid Date`: equals another, differs from every instant.
    InvalidDate,
    /// A JS array (PostgreSQL scalar list), element by element.
    List(Vec<Canon>),
    /// An instant with digits below the microsecond: µs, then ns (1–999).
    InstantNs(i64, u16),
}

/// Equality as the encoding sees it: floats by bits, except that all NaNs
/// are one value.
impl PartialEq for Canon {
    fn eq(&self, other: &Canon) -> bool {
        use Canon::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Decimal(a), Decimal(b)) | (Text(a), Text(b)) | (Json(a), Json(b)) => a == b,
            (Unreadable(a), Unreadable(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Bytes(a), Bytes(b)) => a == b,
            (Instant(a), Instant(b)) | (Time(a), Time(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (InvalidDate, InvalidDate) => true,
            (List(a), List(b)) => a == b,
            (InstantNs(a, x), InstantNs(b, y)) => a == b && x == y,
            _ => false,
        }
    }
}

/// Decodes one value from the front of `bytes`: the value and how many
/// bytes it took. `None` for an unknown tag or a truncated payload.
pub fn decode(bytes: &[u8]) -> Option<(Canon, usize)> {
    let (&t, p) = bytes.split_first()?;
    let fixed = |n: usize| p.get(..n);
    let framed = || -> Option<(&[u8], usize)> {
        let n = u32::from_le_bytes(fixed(4)?.try_into().ok()?) as usize;
        Some((p.get(4..4usize.checked_add(n)?)?, 5 + n))
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(match t {
        tag::NULL => (Canon::Null, 1),
        tag::BOOL => (Canon::Bool(*p.first()? != 0), 2),
        tag::INT => (
            Canon::Int(i128::from_le_bytes(fixed(16)?.try_into().ok()?)),
            17,
        ),
        tag::DECIMAL => {
            let (s, n) = decimal::decode(p)?;
            (Canon::Decimal(s), 1 + n)
        }
        tag::FLOAT => (
            Canon::Float(f64::from_bits(u64::from_le_bytes(
                fixed(8)?.try_into().ok()?,
            ))),
            9,
        ),
        tag::INSTANT | tag::LOCAL_TIMESTAMP => (
            Canon::Instant(i64::from_le_bytes(fixed(8)?.try_into().ok()?)),
            9,
        ),
        tag::DATE => (
            Canon::Date(i32::from_le_bytes(fixed(4)?.try_into().ok()?)),
            5,
        ),
        tag::TIME => (
            Canon::Time(i64::from_le_bytes(fixed(8)?.try_into().ok()?)),
            9,
        ),
        tag::INVALID_DATE => (Canon::InvalidDate, 1),
        tag::INSTANT_NS => (
            Canon::InstantNs(
                i64::from_le_bytes(fixed(8)?.try_into().ok()?),
                u16::from_le_bytes(p.get(8..10)?.try_into().ok()?),
            ),
            11,
        ),
        tag::LIST => {
            let (mut b, n) = framed()?;
            let mut items = Vec::new();
            while !b.is_empty() {
                let (v, used) = decode(b)?;
                items.push(v);
                b = &b[used..];
            }
            (Canon::List(items), n)
        }
        tag::RAW_DECIMAL | tag::TEXT | tag::BYTES | tag::JSON | tag::RAW_JSON | tag::UNREADABLE => {
            let (b, n) = framed()?;
            let v = match t {
                tag::RAW_DECIMAL => Canon::Decimal(text(b)),
                tag::TEXT => Canon::Text(text(b)),
                tag::BYTES => Canon::Bytes(b.to_vec()),
                tag::JSON | tag::RAW_JSON => Canon::Json(text(b)),
                _ => Canon::Unreadable(text(b)),
            };
            (v, n)
        }
        _ => return None,
    })
}

/// Human rendering: text quoted (so `"US "`, `""` and NULL are told apart),
/// instants as ISO-8601 UTC with µs, decimals as digits, bytes as `\x…`.
impl fmt::Display for Canon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Canon::Null => f.write_str("NULL"),
            Canon::Bool(b) => write!(f, "{b}"),
            Canon::Int(v) => write!(f, "{v}"),
            Canon::Decimal(s) | Canon::Json(s) => f.write_str(s),
            // A Raw-mode -0 keeps its sign so a difference is visible.
            Canon::Float(x) if *x == 0.0 && x.is_sign_negative() => f.write_str("-0"),
            Canon::Float(x) => {
                let mut b = Vec::with_capacity(24);
                decimal::push_js_number(&mut b, *x);
                f.write_str(std::str::from_utf8(&b).unwrap_or("?"))
            }
            Canon::Text(s) => write!(f, "{s:?}"),
            Canon::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|c| write!(f, "{c:02x}"))
            }
            Canon::Instant(us) => time::write_instant(f, *us),
            Canon::Date(d) => time::write_date(f, *d),
            Canon::Time(us) => time::write_time(f, *us),
            Canon::Unreadable(s) => write!(f, "<unreadable: {s:?}>"),
            Canon::InvalidDate => f.write_str("Invalid Date"),
            Canon::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Canon::InstantNs(us, ns) => {
                // …12.123000789Z: the µs rendering with the ns digits added.
                let mut t = String::new();
                time::write_instant(&mut t, *us)?;
                match t.strip_suffix('Z') {
                    Some(head) => write!(f, "{head}{ns:03}Z"),
                    None => f.write_str(&t),
                }
            }
        }
    }
}
