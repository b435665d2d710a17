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
//! Files: the read rules ([`rules`], [`js`], [`mysql`]) write the encoding
//! through [`wire`]; [`value`] decodes it; [`tolerance`] compares decoded
//! values; [`decimal`], [`json`] and [`time`] parse what drivers deliver.
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
mod rules;
mod time;
mod tolerance;
mod value;
mod wire;

use std::fmt;

use crate::mapping::{Column, Mapping, Orm, ReadMode};

use self::rules::*;
use self::time::{US_PER_DAY, US_PER_SEC};
use self::wire::*;

pub use self::rules::encode;
pub use self::tolerance::{Tolerance, parse_tolerance, within_tolerance};
pub use self::value::{Canon, decode};

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

/// What a driver can hand over for a column, as far as two readings of it
/// can agree: the input to [`ColumnCanon::reads_like`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Text, or loosely typed values (SQLite): any kind may arrive, so
    /// per-ORM coercion rules apply.
    Loose,
    /// The column's own type, every value of which a JS `number` holds
    /// exactly (int2, int4, float4, float8, bool, dates, text types).
    Typed,
    /// The column's own type, with integers beyond 2^53 (int8, numeric):
    /// JS `number` readings part ways there.
    TypedWide,
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
    /// alike, so the raw value can be hashed in their place. `delivery`:
    /// what the driver can hand over for the column (see [`Delivery`]).
    pub fn reads_like(&self, other: &ColumnCanon, delivery: Delivery) -> bool {
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
            // A JS `number` from each ORM: alike only while every value the
            // column holds fits one exactly. Beyond 2^53 (an int8 or numeric
            // column) Prisma's `Int` throws where Drizzle's `integer()` rounds.
            M::Int | M::BigIntNumber | M::Float | M::DecimalNumber => delivery == Delivery::Typed,
            M::DecimalString
            | M::BigInt
            | M::Boolean
            | M::Time
            | M::DateTimeString
            | M::DateString
            | M::TimeString
            | M::EnumName => delivery != Delivery::Loose,
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

#[cfg(test)]
pub(crate) mod tests;
