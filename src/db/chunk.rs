//! What a chunk read hands to the engine: the rows of one key range, in a
//! backend's own compact form, viewed column by column as `canon::Raw`.

use super::buffer::Buf;
use crate::canon::Raw;

/// How a PostgreSQL binary field is laid out; picked from the live type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    /// UTF-8 text (text, varchar, char, and anything cast `::text`).
    Text,
    /// `numeric::text`.
    Numeric,
    /// `json::text`, `jsonb::text`.
    Json,
    Bytes,
    Uuid,
    Timestamp,
    TimestampTz,
    Date,
    Time,
}

impl Wire {
    /// What this wire can deliver, as far as two readings of a column can
    /// agree ([`crate::canon::ColumnCanon::reads_like`]): text is loose,
    /// int8 and numeric hold integers beyond 2^53.
    pub fn delivery(self) -> crate::canon::Delivery {
        use crate::canon::Delivery;
        match self {
            Wire::Text => Delivery::Loose,
            Wire::I64 | Wire::Numeric => Delivery::TypedWide,
            _ => Delivery::Typed,
        }
    }

    /// The wire form for a PostgreSQL type name (`pg_type.typname`) and kind
    /// (`typtype`), and whether the SELECT must cast it to text.
    pub fn for_pg(typname: &str, typtype: &str) -> (Wire, bool) {
        if typtype == "e" {
            return (Wire::Text, true);
        }
        match typname {
            "int2" => (Wire::I16, false),
            "int4" => (Wire::I32, false),
            "int8" => (Wire::I64, false),
            "float4" => (Wire::F32, false),
            "float8" => (Wire::F64, false),
            "bool" => (Wire::Bool, false),
            "text" | "varchar" | "bpchar" | "name" | "citext" => (Wire::Text, false),
            "numeric" => (Wire::Numeric, true),
            "json" | "jsonb" => (Wire::Json, true),
            "bytea" => (Wire::Bytes, false),
            "uuid" => (Wire::Uuid, false),
            "timestamp" => (Wire::Timestamp, false),
            "timestamptz" => (Wire::TimestampTz, false),
            "date" => (Wire::Date, false),
            "time" => (Wire::Time, false),
            _ => (Wire::Text, true),
        }
    }
}

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
pub const PG_EPOCH_DAYS: i32 = 10_957;

/// An owned value, for backends read through sqlx rows (SQLite, MySQL).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedRaw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// MySQL/MariaDB typed values (see `db::mysql`), as `canon::Raw` has them.
    Numeric(String),
    Json(String),
    Timestamp(i64),
    TimestampTz(i64),
    Date(i32),
    Time(i64),
    Uuid([u8; 16]),
}

impl OwnedRaw {
    pub fn as_raw(&self) -> Raw<'_> {
        match self {
            OwnedRaw::Null => Raw::Null,
            OwnedRaw::Bool(b) => Raw::Bool(*b),
            OwnedRaw::Int(i) => Raw::Int(*i),
            OwnedRaw::Float(f) => Raw::Float(*f),
            OwnedRaw::Text(s) => Raw::Text(s),
            OwnedRaw::Bytes(b) => Raw::Bytes(b),
            OwnedRaw::Numeric(s) => Raw::Numeric(s),
            OwnedRaw::Json(s) => Raw::Json(s),
            OwnedRaw::Timestamp(v) => Raw::Timestamp(*v),
            OwnedRaw::TimestampTz(v) => Raw::TimestampTz(*v),
            OwnedRaw::Date(d) => Raw::Date(*d),
            OwnedRaw::Time(v) => Raw::Time(*v),
            OwnedRaw::Uuid(u) => Raw::Uuid(*u),
        }
    }
}

/// The rows of one chunk.
pub enum ChunkData {
    /// PostgreSQL `COPY … TO STDOUT (FORMAT binary)` output, tuples indexed.
    PgBinary {
        buf: Buf,
        /// Byte offset of each tuple's field count.
        rows: Buf<u32>,
        wires: std::sync::Arc<[Wire]>,
    },
    /// MySQL/MariaDB text-protocol fields in one buffer, each typed by its
    /// live column and decoded when read ([`super::mysql::decode`]): no
    /// allocation a value or a row (those were most of a MariaDB chunk's
    /// client time).
    MyText {
        buf: Buf,
        /// Each field's end in `buf`, row after row; [`NULL_FIELD`] set for
        /// a NULL.
        ends: Buf<u32>,
        kinds: std::sync::Arc<[super::mysql::Kind]>,
    },
    /// Row-by-row values.
    Values { rows: Vec<Vec<OwnedRaw>> },
}

/// The bit of a [`ChunkData::MyText`] field end that marks a NULL.
const NULL_FIELD: u32 = 1 << 31;

#[derive(Debug, thiserror::Error)]
#[error("malformed COPY binary data at byte {0}")]
pub struct CopyFormatError(pub usize);

impl ChunkData {
    pub fn len(&self) -> usize {
        match self {
            ChunkData::PgBinary { rows, .. } => rows.len(),
            ChunkData::MyText { ends, kinds, .. } => ends.len() / kinds.len().max(1),
            ChunkData::Values { rows } => rows.len(),
        }
    }

    /// An empty MySQL text-protocol chunk of columns `kinds`, reserving
    /// about `capacity` bytes ([`ChunkData::bytes`] of the largest chunk so
    /// far, and an eighth), so it does not grow by doubling.
    pub fn my_text(kinds: std::sync::Arc<[super::mysql::Kind]>, capacity: usize) -> ChunkData {
        // A field's end takes 4 bytes; text-protocol fields average ~12. A
        // table's first chunks, of no known size, reserve 1 MiB and 64k
        // ends (256 KiB), as PostgreSQL's COPY buffer does: buffers the
        // pool lends and takes back, where ones grown from nothing would be
        // freed, and the next chunks fault in new pages.
        let (buf, ends) = match capacity {
            0 => (1 << 20, 1 << 16),
            n => (n * 3 / 4, n / 16),
        };
        ChunkData::MyText {
            buf: Buf::with_capacity(buf),
            ends: Buf::with_capacity(ends),
            kinds,
        }
    }

    /// Appends the next field of a [`ChunkData::MyText`] chunk (row after
    /// row, column after column): a text kind's bytes as valid UTF-8 (an
    /// invalid sequence becomes U+FFFD, as a lossy read would).
    pub fn push_my_field(&mut self, field: Option<&[u8]>) {
        let ChunkData::MyText { buf, ends, kinds } = self else {
            unreachable!("push_my_field on a chunk that is not MySQL text");
        };
        match field {
            None => ends.push(buf.len() as u32 | NULL_FIELD),
            Some(f) => {
                // Only text read as text must be valid UTF-8 (numbers, dates
                // and times are parsed from their bytes).
                let kind = kinds[ends.len() % kinds.len()];
                match kind.is_text() && std::str::from_utf8(f).is_err() {
                    true => buf.extend_from_slice(String::from_utf8_lossy(f).as_bytes()),
                    false => buf.extend_from_slice(f),
                }
                assert!(
                    buf.len() < NULL_FIELD as usize,
                    "a MySQL chunk of more than 2 GiB: lower [check] chunk_rows"
                );
                ends.push(buf.len() as u32);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> usize {
        match self {
            ChunkData::PgBinary { buf, .. } => buf.len(),
            ChunkData::MyText { buf, ends, .. } => buf.len() + 4 * ends.len(),
            ChunkData::Values { rows } => rows.len() * 64,
        }
    }

    /// Indexes a COPY binary stream: checks the header and records where
    /// each tuple starts.
    pub fn from_pg_copy(
        buf: impl Into<Buf>,
        wires: std::sync::Arc<[Wire]>,
    ) -> Result<ChunkData, CopyFormatError> {
        let buf = buf.into();
        const SIG: &[u8] = b"PGCOPY\n\xff\r\n\0";
        if buf.len() < SIG.len() + 8 || &buf[..SIG.len()] != SIG {
            return Err(CopyFormatError(0));
        }
        let ext = be_u32(&buf, SIG.len() + 4).ok_or(CopyFormatError(SIG.len()))? as usize;
        let mut pos = SIG.len() + 8 + ext;
        // Sized once for tuples of 32 bytes or more; narrower ones grow it.
        let mut rows = Buf::with_capacity(buf.len() / 32);
        loop {
            let n = be_i16(&buf, pos).ok_or(CopyFormatError(pos))?;
            if n == -1 {
                break;
            }
            if n as usize != wires.len() {
                return Err(CopyFormatError(pos));
            }
            rows.push(pos as u32);
            pos += 2;
            for _ in 0..n {
                let len = be_i32(&buf, pos).ok_or(CopyFormatError(pos))?;
                pos += 4;
                if len > 0 {
                    pos += len as usize;
                }
                if pos > buf.len() {
                    return Err(CopyFormatError(pos));
                }
            }
        }
        Ok(ChunkData::PgBinary { buf, rows, wires })
    }

    /// For PostgreSQL binary chunks: fills `out` with row `i`'s field bytes
    /// (None for NULL) without decoding them, and returns the wire types.
    /// Returns None for row-by-row chunks.
    pub fn fields<'a>(&'a self, i: usize, out: &mut Vec<Option<&'a [u8]>>) -> Option<&'a [Wire]> {
        out.clear();
        match self {
            ChunkData::PgBinary { buf, rows, wires } => {
                let mut pos = rows[i] as usize + 2;
                for _ in 0..wires.len() {
                    let len = i32::from_be_bytes(buf[pos..pos + 4].try_into().unwrap());
                    pos += 4;
                    if len < 0 {
                        out.push(None);
                    } else {
                        out.push(Some(&buf[pos..pos + len as usize]));
                        pos += len as usize;
                    }
                }
                Some(wires)
            }
            ChunkData::MyText { .. } | ChunkData::Values { .. } => None,
        }
    }

    /// Decodes one field that [`ChunkData::fields`] returned.
    pub fn decode_field(wire: Wire, field: Option<&[u8]>) -> Raw<'_> {
        match field {
            None => Raw::Null,
            Some(f) => decode_pg(wire, f),
        }
    }

    /// Fills `out` with row `i`'s values, in projection order.
    pub fn row<'a>(&'a self, i: usize, out: &mut Vec<Raw<'a>>) {
        out.clear();
        match self {
            ChunkData::PgBinary { buf, rows, wires } => {
                let mut pos = rows[i] as usize + 2;
                for wire in wires.iter() {
                    let len = i32::from_be_bytes(buf[pos..pos + 4].try_into().unwrap());
                    pos += 4;
                    if len < 0 {
                        out.push(Raw::Null);
                        continue;
                    }
                    let field = &buf[pos..pos + len as usize];
                    pos += len as usize;
                    out.push(decode_pg(*wire, field));
                }
            }
            ChunkData::MyText { buf, ends, kinds } => {
                let n = kinds.len();
                let mut start = match i * n {
                    0 => 0,
                    at => (ends[at - 1] & !NULL_FIELD) as usize,
                };
                for (j, kind) in kinds.iter().enumerate() {
                    let end = ends[i * n + j];
                    if end & NULL_FIELD != 0 {
                        out.push(Raw::Null);
                        continue;
                    }
                    let f = &buf[start..end as usize];
                    out.push(match kind.is_text() {
                        // SAFETY: `push_my_field`, the only code that writes
                        // a `MyText` buffer, stores every field of a text
                        // kind as valid UTF-8 (checked, or made lossy).
                        true => super::mysql::decode_text(*kind, unsafe {
                            std::str::from_utf8_unchecked(f)
                        }),
                        false => super::mysql::decode(*kind, f),
                    });
                    start = end as usize;
                }
            }
            ChunkData::Values { rows } => out.extend(rows[i].iter().map(OwnedRaw::as_raw)),
        }
    }
}

fn decode_pg(wire: Wire, f: &[u8]) -> Raw<'_> {
    fn text(f: &[u8]) -> &str {
        // PostgreSQL only sends valid UTF-8 in a UTF8 database; never panic on
        // anything else, show it as the longest valid prefix.
        match std::str::from_utf8(f) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&f[..e.valid_up_to()]).unwrap_or(""),
        }
    }
    let i64_at = |f: &[u8]| f.try_into().map(i64::from_be_bytes).unwrap_or(0);
    match wire {
        Wire::I16 => Raw::Int(f.try_into().map(i16::from_be_bytes).unwrap_or(0) as i64),
        Wire::I32 => Raw::Int(f.try_into().map(i32::from_be_bytes).unwrap_or(0) as i64),
        Wire::I64 => Raw::Int(i64_at(f)),
        Wire::F32 => Raw::Float(f.try_into().map(f32::from_be_bytes).unwrap_or(0.0) as f64),
        Wire::F64 => Raw::Float(f.try_into().map(f64::from_be_bytes).unwrap_or(0.0)),
        Wire::Bool => Raw::Bool(f.first().copied().unwrap_or(0) != 0),
        Wire::Text => Raw::Text(text(f)),
        Wire::Numeric => Raw::Numeric(text(f)),
        Wire::Json => Raw::Json(text(f)),
        Wire::Bytes => Raw::Bytes(f),
        Wire::Uuid => Raw::Uuid(f.try_into().unwrap_or([0; 16])),
        // ±infinity are i64::MAX/MIN on the wire; keep them out of range of
        // real instants by not shifting them.
        Wire::Timestamp => Raw::Timestamp(shift_ts(i64_at(f))),
        Wire::TimestampTz => Raw::TimestampTz(shift_ts(i64_at(f))),
        Wire::Date => {
            let d = f.try_into().map(i32::from_be_bytes).unwrap_or(0);
            Raw::Date(if d == i32::MAX || d == i32::MIN {
                d
            } else {
                d + PG_EPOCH_DAYS
            })
        }
        Wire::Time => Raw::Time(i64_at(f)),
    }
}

fn shift_ts(v: i64) -> i64 {
    if v == i64::MAX || v == i64::MIN {
        v
    } else {
        v + PG_EPOCH_MICROS
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_be_bytes)
}
fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    b.get(at..at + 4)?.try_into().ok().map(i32::from_be_bytes)
}
fn be_i16(b: &[u8], at: usize) -> Option<i16> {
    b.get(at..at + 2)?.try_into().ok().map(i16::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_text_fields_decode_when_read_and_text_is_kept_valid_utf8() {
        use crate::db::mysql::Kind;
        let kinds: std::sync::Arc<[Kind]> = [Kind::Int, Kind::Text, Kind::Bytes].into();
        let mut c = ChunkData::my_text(kinds, 0);
        for f in [
            Some(&b"7"[..]),
            Some(&b"a\xffb"[..]),
            Some(&b"\xff"[..]),
            None,
            Some(&b""[..]),
            None,
        ] {
            c.push_my_field(f);
        }
        assert_eq!(c.len(), 2);
        let mut row = Vec::new();
        c.row(0, &mut row);
        assert_eq!(
            row,
            [Raw::Int(7), Raw::Text("a\u{fffd}b"), Raw::Bytes(b"\xff")]
        );
        c.row(1, &mut row);
        assert_eq!(row, [Raw::Null, Raw::Text(""), Raw::Null]);
    }

    fn copy_of(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut b = b"PGCOPY\n\xff\r\n\0".to_vec();
        b.extend(0u32.to_be_bytes());
        b.extend(0u32.to_be_bytes());
        for r in rows {
            b.extend((r.len() as i16).to_be_bytes());
            for f in r {
                match f {
                    None => b.extend((-1i32).to_be_bytes()),
                    Some(v) => {
                        b.extend((v.len() as i32).to_be_bytes());
                        b.extend(v);
                    }
                }
            }
        }
        b.extend((-1i16).to_be_bytes());
        b
    }

    #[test]
    fn decodes_copy_binary_rows() {
        let buf = copy_of(&[
            vec![Some(7i64.to_be_bytes().to_vec()), Some(b"a".to_vec()), None],
            vec![
                Some((-1i64).to_be_bytes().to_vec()),
                Some("é".as_bytes().to_vec()),
                Some(0i64.to_be_bytes().to_vec()),
            ],
        ]);
        let wires: std::sync::Arc<[Wire]> = vec![Wire::I64, Wire::Text, Wire::Timestamp].into();
        let chunk = ChunkData::from_pg_copy(buf, wires).unwrap();
        assert_eq!(chunk.len(), 2);
        let mut row = Vec::new();
        chunk.row(0, &mut row);
        assert!(matches!(row[..], [Raw::Int(7), Raw::Text("a"), Raw::Null]));
        chunk.row(1, &mut row);
        assert!(matches!(row[0], Raw::Int(-1)));
        assert!(matches!(row[2], Raw::Timestamp(946_684_800_000_000)));
    }

    #[test]
    fn rejects_truncated_copy_data() {
        let mut buf = copy_of(&[vec![Some(7i64.to_be_bytes().to_vec())]]);
        buf.truncate(buf.len() - 5);
        assert!(ChunkData::from_pg_copy(buf, vec![Wire::I64].into()).is_err());
    }
}
