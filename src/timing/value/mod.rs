//! Values that travel through a timed operation: parameters going in,
//! result cells coming out, and their PostgreSQL binary wire forms.
//!
//! Owns [`Val`] (an owned `canon::Raw`), its text form, and (in `pg`) the binary
//! encoders/decoders for the built-in PostgreSQL types the captured SQL
//! binds and returns. Parameters are sent with the type the server inferred
//! for each placeholder, exactly as node-postgres leaves it to the server
//! (it sends every parameter untyped); sqlx only speaks binary, hence the
//! encoders. Pure: no I/O.

mod pg;

pub use pg::{EncodeError, decode_numeric, decode_pg, encode_numeric, encode_pg};

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
use crate::db::chunk::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
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

/// An owned database value (the owned twin of `canon::Raw`): the one
/// `db` reads rows into.
pub use crate::db::OwnedRaw as Val;

impl Val {
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
