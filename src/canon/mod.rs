//! (raw database value, ORM read mode) → canonical bytes.
//!
//! Owns: the per-value read rules of `orm-semantics.md` as named by
//! [`ReadMode`]; the self-delimiting byte encoding that rows are hashed and
//! compared by ([`encode`]); its decoding for reports ([`decode`], [`Canon`]);
//! and per-column tolerances ([`Tolerance`]). Two readings that carry the
//! same information encode to the same bytes; readings that lost digits,
//! shifted an instant or cut precision encode differently.
//!
//! It does no I/O and knows nothing of drivers (`db` builds [`Raw`]) nor of
//! hashing or pairing rows (`engine`). [`encode`] runs once per value on
//! tens of millions of rows, so it only appends to the caller's buffer:
//! no allocation except for JSON documents and unreadable values.
//!
//! # Encoding
//!
//! One tag byte, then a payload; integers are little-endian, `len` is a u32.
//!
//! | tag | meaning | payload |
//! |---|---|---|
//! | `0x00` | NULL | none |
//! | `0x01` | boolean | 1 byte, 0 or 1 |
//! | `0x02` | integer | i128 (16 bytes) |
//! | `0x03` | exact decimal | kind u8 (0 finite, 1 NaN, 2 +∞, 3 −∞); finite: sign u8, exponent i32, len, ASCII digits (value = ±digits × 10^exponent, no leading/trailing zero digit; zero = sign 0, exponent 0, no digits) |
//! | `0x04` | decimal text exactly as stored (Raw mode) | len, text |
//! | `0x05` | float | f64 bits (u64) |
//! | `0x06` | text | len, UTF-8 |
//! | `0x07` | bytes | len, bytes |
//! | `0x08` | instant | i64 µs since epoch |
//! | `0x09` | timestamp without time zone (Raw mode) | i64 µs since epoch, wall clock as UTC |
//! | `0x0A` | date | i32 days since 1970-01-01 |
//! | `0x0B` | time of day | i64 µs since midnight |
//! | `0x0C` | canonical JSON | len, JSON text |
//! | `0x0D` | JSON text exactly as stored (Raw mode) | len, text |
//! | `0x0E` | unreadable: the reading ORM throws reading it | len, raw text / description |
//! | `0x0F` | JS `Invalid Date` (a `Date` the reading ORM hands, holding no instant) | none |
//! | `0x10` | list (PostgreSQL array read as a JS array) | len, the elements' encodings |
//! | `0x11` | instant finer than µs (text timestamps with ns digits) | i64 µs since epoch, u16 ns (1–999) |

mod decimal;
mod js;
mod json;
pub mod mysql;
mod time;

use std::fmt;

use crate::mapping::{Column, Mapping, Orm, ReadMode};

use self::time::{US_PER_DAY, US_PER_SEC};

/// The tag bytes of the encoding (see the module docs for payloads).
pub mod tag {
    pub const NULL: u8 = 0x00;
    pub const BOOL: u8 = 0x01;
    pub const INT: u8 = 0x02;
    pub const DECIMAL: u8 = 0x03;
    pub const RAW_DECIMAL: u8 = 0x04;
    pub const FLOAT: u8 = 0x05;
    pub const TEXT: u8 = 0x06;
    pub const BYTES: u8 = 0x07;
    pub const INSTANT: u8 = 0x08;
    pub const LOCAL_TIMESTAMP: u8 = 0x09;
    pub const DATE: u8 = 0x0A;
    pub const TIME: u8 = 0x0B;
    pub const JSON: u8 = 0x0C;
    pub const RAW_JSON: u8 = 0x0D;
    pub const UNREADABLE: u8 = 0x0E;
    pub const INVALID_DATE: u8 = 0x0F;
    pub const LIST: u8 = 0x10;
    pub const INSTANT_NS: u8 = 0x11;
}

/// A value as the database driver delivered it (borrowed from the read buffer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    Null,
    Bool(bool),
    /// int2/int4/int8, MySQL ints, SQLite INTEGER.
    Int(i64),
    /// float4/float8/real/double, SQLite REAL.
    Float(f64),
    /// numeric/decimal as the database prints it (`"12345678.90"`, `"NaN"`).
    Numeric(&'a str),
    /// text/varchar/char (blank-padded as stored)/uuid text/enum label/SQLite TEXT.
    Text(&'a str),
    /// bytea/blob.
    Bytes(&'a [u8]),
    /// timestamp WITHOUT time zone: µs since 1970-01-01 00:00, wall clock as UTC.
    /// `i64::MAX` / `i64::MIN` are PostgreSQL's `infinity` / `-infinity`.
    Timestamp(i64),
    /// timestamptz: µs since epoch of the instant.
    TimestampTz(i64),
    /// Days since 1970-01-01.
    Date(i32),
    /// µs since midnight.
    Time(i64),
    /// json/jsonb text.
    Json(&'a str),
    Uuid([u8; 16]),
}

/// Per-column decoding info, built once per column pair side, before the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnCanon {
    pub read: ReadMode,
    /// `(database label, ORM name)` of the column's enum, sorted by label.
    /// Empty when the column is no enum.
    enum_values: Vec<(Box<str>, Box<str>)>,
    /// Whether labels outside `enum_values` are unreadable: true for a
    /// Prisma enum whose definition the mapping holds (Prisma throws on a
    /// label it does not know). Without a definition every label passes,
    /// rather than flagging a whole column for a loader gap.
    enum_strict: bool,
    /// The reading ORM: where Prisma and Drizzle read the same mode
    /// differently (a JS `Date` out of range, a NULL list).
    orm: Orm,
    /// A PostgreSQL scalar list (`String[]`, `integer[]`): the value comes as
    /// the array's text and is read element by element.
    list: bool,
    /// A MySQL/MariaDB-specific reading (`canon::mysql`), if the column has one.
    mysql: Option<mysql::Rule>,
}

impl ColumnCanon {
    pub fn new(column: &Column, mapping: &Mapping) -> ColumnCanon {
        let mut c = ColumnCanon::from_read(column.read);
        c.mysql = mysql::rule(column, mapping);
        let def = column
            .enum_name
            .as_deref()
            .or(Some(column.db_type.as_str()).filter(|_| column.read == ReadMode::EnumName))
            .and_then(|name| mapping.enum_def(name));
        if let Some(def) = def {
            c.enum_values = def
                .values
                .iter()
                .map(|v| (v.db_name.as_str().into(), v.name.as_str().into()))
                .collect();
            c.enum_values.sort();
            c.enum_strict = column.read == ReadMode::EnumName;
        }
        c.orm = mapping.orm;
        // The catalog (backups, manifests) keeps comparing an array's text.
        c.list = column.is_list
            && mapping.dialect == crate::mapping::Dialect::Postgres
            && mapping.orm != Orm::Catalog;
        c
    }

    /// The same reading by another ORM (tests and ad-hoc reads).
    pub fn with_orm(mut self, orm: Orm) -> ColumnCanon {
        self.orm = orm;
        self
    }

    /// The same reading of a scalar list (tests and ad-hoc reads).
    pub fn as_list(mut self) -> ColumnCanon {
        self.list = true;
        self
    }

    /// A column read with `read` and no enum: for tests and ad-hoc reads.
    pub fn from_read(read: ReadMode) -> ColumnCanon {
        ColumnCanon {
            read,
            enum_values: Vec::new(),
            enum_strict: false,
            orm: Orm::Catalog,
            list: false,
            mysql: None,
        }
    }

    /// Whether `self` and `other` read every value a column can deliver
    /// alike, so the raw value can be hashed in their place. `typed_wire`:
    /// the driver delivers the column's own type (a PostgreSQL binary field
    /// other than text), so loose-typing rules (SQLite) cannot apply.
    pub fn reads_like(&self, other: &ColumnCanon, typed_wire: bool) -> bool {
        use ReadMode as M;
        if self.read != other.read
            || self.enum_values != other.enum_values
            || self.enum_strict != other.enum_strict
            || self.list != other.list
            || self.mysql != other.mysql
        {
            return false;
        }
        if self.orm == other.orm {
            return true;
        }
        if self.list {
            return false;
        }
        match self.read {
            M::Text | M::EnumLabel | M::Json | M::Bytes | M::Decimal | M::Raw => true,
            M::DecimalString
            | M::Int
            | M::BigInt
            | M::BigIntNumber
            | M::Float
            | M::DecimalNumber
            | M::Boolean
            | M::Time
            | M::DateTimeString
            | M::DateString
            | M::TimeString
            | M::EnumName => typed_wire,
            // Out-of-range dates and loosely typed values read per ORM.
            _ => false,
        }
    }

    /// The ORM's name for a database enum label (`waiting_parts` →
    /// `WAITING_FOR_PARTS`), for reports.
    pub fn enum_name(&self, label: &str) -> Option<&str> {
        let i = self.label_index(label)?;
        Some(&self.enum_values[i].1)
    }

    fn label_index(&self, label: &str) -> Option<usize> {
        self.enum_values
            .binary_search_by(|(l, _)| (**l).cmp(label))
            .ok()
    }
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Appends the canonical encoding of `raw` read through `col` to `out`.
pub fn encode(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    if col.list {
        return js::encode_list(raw, col, out);
    }
    encode_scalar(raw, col, out)
}

/// [`encode`] of one scalar (a list's element, or a plain column).
fn encode_scalar(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
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
fn not_a_throw(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>, start: usize) {
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

fn encode_value(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
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
fn encode_raw(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
fn js_int(v: i64) -> i128 {
    (v as f64) as i128
}

fn encode_number_int(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
fn encode_prisma_int(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
fn encode_int_or_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Int(v @ (0 | 1)) => push_bool(out, v == 1),
        Raw::Float(f) if f == 0.0 || f == 1.0 => push_bool(out, f == 1.0),
        Raw::Bool(b) => push_bool(out, b),
        _ => encode_number_int(raw, out),
    }
}

/// Prisma 7's `Boolean`: a number is `=== 1`; text must be `true`/`TRUE`/`1`
/// or `false`/`FALSE`/`0`, else the read throws.
fn encode_prisma_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
fn encode_bigint(raw: &Raw<'_>, orm: Orm, out: &mut Vec<u8>) {
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
fn encode_bigint_number(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Int(v) => push_js_number(out, v as f64),
        Raw::Bool(b) => push_int(out, i128::from(b)),
        Raw::Float(f) => push_js_number(out, f),
        Raw::Numeric(s) | Raw::Text(s) => match decimal::js_number(s) {
            Some(f) => push_js_number(out, f),
            None => push_unreadable(out, s),
        },
        _ => encode_raw(raw, out),
    }
}

fn encode_float(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Float(f) => push_js_float(out, f),
        Raw::Int(v) => push_js_float(out, v as f64),
        Raw::Numeric(s) | Raw::Text(s) => match decimal::js_number(s) {
            Some(f) => push_js_float(out, f),
            None => push_unreadable(out, s),
        },
        _ => encode_raw(raw, out),
    }
}

/// decimal.js `Decimal` and Drizzle's numeric string: the exact decimal,
/// normalised so `56`, `56.0` and `56.00` are one value.
fn encode_decimal_exact(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
fn encode_decimal_number(raw: &Raw<'_>, out: &mut Vec<u8>) {
    let f = match *raw {
        Raw::Numeric(s) | Raw::Text(s) => match decimal::js_number(s) {
            Some(f) => f,
            None => return push_unreadable(out, s),
        },
        Raw::Int(v) => v as f64,
        Raw::Float(f) => f,
        _ => return encode_raw(raw, out),
    };
    out.push(tag::DECIMAL);
    decimal::push_f64(out, f);
}

fn encode_text(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Text(s) => push_len(out, tag::TEXT, s.as_bytes()),
        _ => encode_raw(raw, out),
    }
}

/// Prisma maps the label to its schema name and throws on a label it does
/// not know. Name ↔ label is one-to-one, so the information is the label:
/// encoding the label makes `WAITING_FOR_PARTS` equal Drizzle's
/// `waiting_parts`.
fn encode_enum_name(raw: &Raw<'_>, col: &ColumnCanon, out: &mut Vec<u8>) {
    match *raw {
        Raw::Text(s) if col.enum_strict && col.label_index(s).is_none() => push_unreadable(out, s),
        Raw::Text(s) => push_len(out, tag::TEXT, s.as_bytes()),
        _ => encode_raw(raw, out),
    }
}

/// Both ORMs read `true` only for exactly 1 (MySQL TINYINT(1), SQLite).
fn encode_bool(raw: &Raw<'_>, out: &mut Vec<u8>) {
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
enum Cut {
    /// JS `Date`: milliseconds, floored (cutting digits of the text).
    Millis,
    Micros,
}

impl Cut {
    fn apply(self, us: i64) -> i64 {
        match self {
            // ±infinity stay themselves rather than moving by <1ms.
            Cut::Millis if us != i64::MAX && us != i64::MIN => {
                us.saturating_sub(us.rem_euclid(1_000))
            }
            _ => us,
        }
    }
}

fn encode_instant(raw: &Raw<'_>, cut: Cut, out: &mut Vec<u8>) {
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
fn encode_epoch(raw: &Raw<'_>, us_per_unit: i64, out: &mut Vec<u8>) {
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

fn encode_date(raw: &Raw<'_>, out: &mut Vec<u8>) {
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

fn encode_time(raw: &Raw<'_>, cut: Cut, out: &mut Vec<u8>) {
    match *raw {
        Raw::Time(us) => push_i64(out, tag::TIME, cut.apply(us)),
        Raw::Text(s) => match time::parse_time(s) {
            Some(us) => push_i64(out, tag::TIME, cut.apply(us)),
            None => push_unreadable(out, s),
        },
        _ => encode_raw(raw, out),
    }
}

fn encode_json(raw: &Raw<'_>, out: &mut Vec<u8>) {
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

fn encode_bytes(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Bytes(b) => push_len(out, tag::BYTES, b),
        _ => encode_raw(raw, out),
    }
}

// --- payload writers --------------------------------------------------------

#[inline]
fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(&[tag::BOOL, u8::from(b)]);
}

#[inline]
fn push_int(out: &mut Vec<u8>, v: i128) {
    out.push(tag::INT);
    out.extend_from_slice(&v.to_le_bytes());
}

#[inline]
fn push_i64(out: &mut Vec<u8>, t: u8, v: i64) {
    out.push(t);
    out.extend_from_slice(&v.to_le_bytes());
}

#[inline]
fn push_date(out: &mut Vec<u8>, days: i32) {
    out.push(tag::DATE);
    out.extend_from_slice(&days.to_le_bytes());
}

#[inline]
fn push_f64_bits(out: &mut Vec<u8>, bits: u64) {
    out.push(tag::FLOAT);
    out.extend_from_slice(&bits.to_le_bytes());
}

/// A float as JavaScript holds it: one NaN, and `-0` prints (and
/// serialises) as `0`, so it equals `+0`.
fn push_js_float(out: &mut Vec<u8>, f: f64) {
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
fn push_js_number(out: &mut Vec<u8>, f: f64) {
    match f64_to_i128(f) {
        Some(v) => push_int(out, v),
        None => push_js_float(out, f),
    }
}

/// The exact integer an integral f64 holds (`-0` → 0); `None` otherwise.
fn f64_to_i128(f: f64) -> Option<i128> {
    // 2^127 is exactly representable; below it `as` is exact for integers.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7014118346046923e38).then_some(f as i128)
}

fn push_epoch(out: &mut Vec<u8>, v: i64, us_per_unit: i64) {
    match v.checked_mul(us_per_unit) {
        Some(us) => push_i64(out, tag::INSTANT, us),
        None => push_unreadable_with(out, format_args!("epoch {v} × {us_per_unit} µs overflows")),
    }
}

/// `new Date(ms)` of a float: TimeClip truncates toward zero to whole ms.
fn push_epoch_f64(out: &mut Vec<u8>, us: f64) {
    let ms = (us / 1_000.0).trunc();
    if ms.is_finite() && ms.abs() <= 8.64e15 {
        push_i64(out, tag::INSTANT, ms as i64 * 1_000);
    } else {
        push_unreadable_with(out, format_args!("invalid date from {us} µs"));
    }
}

/// A date-typed reading of an instant: a date when it is a UTC midnight,
/// otherwise the instant (its time of day is information a date lacks).
fn push_date_or_instant(out: &mut Vec<u8>, us: i64) {
    match i32::try_from(us.div_euclid(US_PER_DAY)) {
        Ok(d) if us.rem_euclid(US_PER_DAY) == 0 => push_date(out, d),
        _ => push_i64(out, tag::INSTANT, us),
    }
}

fn push_decimal_text(out: &mut Vec<u8>, s: &str) {
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

fn push_json_number(out: &mut Vec<u8>, f: f64) {
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
fn push_len(out: &mut Vec<u8>, t: u8, bytes: &[u8]) {
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
fn patch_len(out: &mut Vec<u8>, start: usize) {
    match u32::try_from(out.len() - start - 5) {
        Ok(n) => out[start + 1..start + 5].copy_from_slice(&n.to_le_bytes()),
        Err(_) => {
            out.truncate(start);
            push_len(out, tag::UNREADABLE, b"value larger than 4 GiB");
        }
    }
}

fn push_unreadable(out: &mut Vec<u8>, raw_text: &str) {
    push_len(out, tag::UNREADABLE, raw_text.as_bytes());
}

/// Unreadable with a description (rare path, allocation is fine).
fn push_unreadable_with(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    push_unreadable(out, &args.to_string());
}

fn push_uuid(out: &mut Vec<u8>, u: &[u8; 16]) {
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
fn parse_i128(s: &str) -> Option<i128> {
    s.trim_ascii().parse().ok()
}

// ---------------------------------------------------------------------------
// Decoding and display
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Tolerance
// ---------------------------------------------------------------------------

/// How far two readings of a column may differ and still count as equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// `|a − b| ≤ x` for numbers.
    Absolute(f64),
    /// `|a − b| ≤ r × max(|a|, |b|)` for numbers.
    Relative(f64),
    /// `|a − b| ≤ µs` for instants, times and dates.
    Time(i64),
}

/// Whether `a` and `b` are equal or within `tol`. NULL is only ever close to
/// NULL; a tolerance never bridges kinds (a number and a date, text and a
/// number), and NaN or infinities are only close to themselves.
pub fn within_tolerance(a: &Canon, b: &Canon, tol: &Tolerance) -> bool {
    if a == b {
        return true;
    }
    match *tol {
        Tolerance::Absolute(t) => numeric_diff(a, b).is_some_and(|(d, _)| d <= t),
        Tolerance::Relative(r) => numeric_diff(a, b).is_some_and(|(d, scale)| d <= r * scale),
        Tolerance::Time(t) => {
            let as_us = |c: &Canon| match *c {
                Canon::Instant(us) if us != i64::MAX && us != i64::MIN => Some((0, i128::from(us))),
                Canon::Date(d) if d != i32::MAX && d != i32::MIN => {
                    Some((0, i128::from(d) * i128::from(US_PER_DAY)))
                }
                Canon::Time(us) => Some((1, i128::from(us))),
                _ => None,
            };
            match (as_us(a), as_us(b)) {
                (Some((ka, x)), Some((kb, y))) if ka == kb => (x - y).abs() <= i128::from(t),
                _ => false,
            }
        }
    }
}

/// `(|a − b|, max(|a|, |b|))` for two numeric values; exact for integers.
fn numeric_diff(a: &Canon, b: &Canon) -> Option<(f64, f64)> {
    if let (Canon::Int(x), Canon::Int(y)) = (a, b) {
        let d = x
            .checked_sub(*y)
            .map_or(f64::INFINITY, |d| d.unsigned_abs() as f64);
        return Some((d, (*x as f64).abs().max((*y as f64).abs())));
    }
    let num = |c: &Canon| match c {
        Canon::Int(v) => Some(*v as f64),
        Canon::Float(f) => Some(*f),
        Canon::Decimal(s) => s.parse::<f64>().ok().or_else(|| decimal::js_number(s)),
        _ => None,
    };
    let (x, y) = (num(a)?, num(b)?);
    if x == y {
        // Also ±Infinity against itself across kinds (Float vs Decimal).
        return Some((0.0, x.abs()));
    }
    let d = (x - y).abs();
    // NaN or an infinity on either side: only equality (handled above) counts.
    d.is_finite().then_some((d, x.abs().max(y.abs())))
}

/// Parses a tolerance as written in `parity.toml`: a number is absolute
/// (`0.005`), `"1%"` relative, `"500us"` / `"1ms"` / `"2s"` a time span.
pub fn parse_tolerance(v: &toml::Value) -> Result<Tolerance, String> {
    const HELP: &str = "expected a number (absolute, e.g. 0.005), a percentage (\"1%\") \
                        or a duration (\"500us\", \"1ms\", \"2s\")";
    let abs = |x: f64| {
        if x.is_finite() && x >= 0.0 {
            Ok(Tolerance::Absolute(x))
        } else {
            Err(format!("tolerance {x} must be a finite number ≥ 0"))
        }
    };
    let s = match v {
        toml::Value::Float(x) => return abs(*x),
        toml::Value::Integer(i) => return abs(*i as f64),
        toml::Value::String(s) => s.trim(),
        other => return Err(format!("invalid tolerance {other}: {HELP}")),
    };
    let bad = || format!("invalid tolerance \"{s}\": {HELP}");
    let number = |n: &str| -> Result<f64, String> {
        match n.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 && decimal::parse(n).is_some() => Ok(x),
            _ => Err(bad()),
        }
    };
    if let Some(p) = s.strip_suffix('%') {
        return Ok(Tolerance::Relative(number(p)? / 100.0));
    }
    // Longest suffixes first: "ms" and "us" before "s".
    for (suffix, us) in [
        ("µs", 1.0),
        ("us", 1.0),
        ("ms", 1e3),
        ("min", 60e6),
        ("s", 1e6),
        ("m", 60e6),
        ("h", 3600e6),
    ] {
        if let Some(n) = s.strip_suffix(suffix) {
            let total = number(n)? * us;
            if total.fract() != 0.0 || total > i64::MAX as f64 {
                return Err(format!(
                    "invalid tolerance \"{s}\": must be a whole number of microseconds"
                ));
            }
            return Ok(Tolerance::Time(total as i64));
        }
    }
    number(s).map(Tolerance::Absolute)
}

#[cfg(test)]
mod tests;
