//! The manifest file format, version 1: the framing, the record payloads,
//! and the row-hash encoding. Pure: no I/O here.
//!
//! ```text
//! file     = magic "PARITYMF" · version u32 LE · record* · trailer
//! record   = tag u8 · length u32 LE · payload[length]
//! trailer  = 'Z' · 32 u32 LE · blake3(every byte before the trailer)
//! ```
//!
//! | tag | payload | once per |
//! |-----|---------|----------|
//! | `H` | [`Header`] JSON | file (first record) |
//! | `F` | [`Fingerprint`] JSON (catalog items) | file |
//! | `S` | [`SequenceValue`] list JSON | file |
//! | `T` | [`TableHeader`] JSON: key, columns, chunk boundaries | table |
//! | `C` | table seq u32 · chunk u32 · rows u64 · blake3 32 bytes | chunk |
//! | `R` | table seq u32 · chunk u32 · rows u32 · rows × (key length LEB128 · key · row hash 16) | chunk, with `--row-hashes` |
//! | `E` | [`TableEnd`] JSON: row count, multiset of a keyless table | table |
//!
//! All integers are little-endian. Records of one table come between its
//! `T` and its `E`; `C`/`R` in any chunk order. A reader rejects unknown
//! upper-case tags and skips unknown lower-case ones, so later versions
//! can add optional records without a version bump.
//!
//! A chunk's hash is blake3 over its rows in key order, each row encoded
//! as in `R` (key length, order-preserving key, 16-byte row hash): the
//! row hash is `engine::digest`'s, over the canonical Raw-mode encoding of
//! every column, key columns first.

use serde::{Deserialize, Serialize};

use crate::canon::Raw;
use crate::db::fingerprint::{Fingerprint, SequenceValue};
use crate::db::{Boundary, OwnedRaw, Wire};
use crate::engine::digest::{self, Digest};

pub const MAGIC: &[u8; 8] = b"PARITYMF";
/// The format version this parity writes and reads.
pub const VERSION: u32 = 1;
/// Magic and version.
pub const PREAMBLE_BYTES: u64 = 12;
/// Tag, length and the 32-byte checksum.
pub const TRAILER_BYTES: u64 = 37;

pub mod tag {
    pub const HEADER: u8 = b'H';
    pub const CATALOG: u8 = b'F';
    pub const SEQUENCES: u8 = b'S';
    pub const TABLE: u8 = b'T';
    pub const CHUNK: u8 = b'C';
    pub const ROWS: u8 = b'R';
    pub const TABLE_END: u8 = b'E';
    pub const TRAILER: u8 = b'Z';
}

/// The first record: what the manifest describes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always `parity-manifest`.
    pub format: String,
    /// The file format version (same as the binary preamble's).
    pub version: u32,
    /// The parity that wrote it.
    pub parity_version: String,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// Scheme, host, port and database only: never a password.
    pub database: String,
    /// `postgresql`, `mysql` or `sqlite`.
    pub dialect: String,
    /// The exported snapshot the manifest was read in (PostgreSQL).
    pub snapshot: Option<String>,
    pub chunk_rows: usize,
    /// Whether `R` records (a hash per row) are present.
    pub row_hashes: bool,
    pub schemas: Vec<String>,
    pub exclude: Vec<String>,
    /// MySQL/MariaDB: the binary-log position of the manifest's view
    /// (`binlog FILE:POS, gtid …`, or `binary logging off`), taken while the
    /// global lock was held. Compare it with the position the dump recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// A column as the manifest read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    /// The database type without modifiers (PostgreSQL `format_type`, SQLite declared type).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A boundary value: typed, so a verifier binds exactly what was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoundValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// Hex.
    Bytes(String),
}

impl BoundValue {
    pub fn from_owned(v: &OwnedRaw) -> BoundValue {
        match v {
            OwnedRaw::Null => BoundValue::Null,
            OwnedRaw::Int(i) => BoundValue::Int(*i),
            OwnedRaw::Float(f) => BoundValue::Float(*f),
            OwnedRaw::Text(s) => BoundValue::Text(s.clone()),
            OwnedRaw::Bytes(b) => BoundValue::Bytes(hex::encode(b)),
            // Chunk boundaries are only ever read as integers, text or bytes
            // (`db::mysql` keeps typed values for rows); keep anything else
            // as its text so a verifier sees it.
            OwnedRaw::Numeric(s) | OwnedRaw::Json(s) => BoundValue::Text(s.clone()),
            other => BoundValue::Text(format!("{:?}", other.as_raw())),
        }
    }

    pub fn to_owned_raw(&self) -> Option<OwnedRaw> {
        Some(match self {
            BoundValue::Null => OwnedRaw::Null,
            BoundValue::Int(i) => OwnedRaw::Int(*i),
            BoundValue::Float(f) => OwnedRaw::Float(*f),
            BoundValue::Text(s) => OwnedRaw::Text(s.clone()),
            BoundValue::Bytes(h) => OwnedRaw::Bytes(hex::decode(h).ok()?),
        })
    }

    /// For reports: the value as JSON.
    pub fn json(&self) -> serde_json::Value {
        match self {
            BoundValue::Null => serde_json::Value::Null,
            BoundValue::Int(i) => (*i).into(),
            BoundValue::Float(f) => (*f).into(),
            BoundValue::Text(s) | BoundValue::Bytes(s) => s.clone().into(),
        }
    }
}

/// One table's description, written before its chunks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableHeader {
    /// Position in the file (0, 1, …); `C`, `R` and `E` records refer to it.
    pub seq: u32,
    pub schema: Option<String>,
    pub name: String,
    /// Key columns, in key order. Empty: the table has no primary key and
    /// the manifest holds its multiset in `E`.
    pub key: Vec<String>,
    /// Every column, key columns first: the read projection.
    pub columns: Vec<ColumnInfo>,
    /// Chunk boundaries; chunk i holds keys in `(b[i-1], b[i]]`.
    pub boundaries: Vec<Vec<BoundValue>>,
}

impl TableHeader {
    pub fn qualified_name(&self) -> String {
        crate::mapping::qualified(self.schema.as_deref(), &self.name)
    }

    pub fn chunks(&self) -> usize {
        if self.key.is_empty() {
            0
        } else {
            self.boundaries.len() + 1
        }
    }

    pub fn bounds(&self) -> Option<Vec<Boundary>> {
        self.boundaries
            .iter()
            .map(|b| b.iter().map(BoundValue::to_owned_raw).collect())
            .collect()
    }
}

/// Closes a table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableEnd {
    pub seq: u32,
    pub rows: u64,
    /// Keyless tables: the sum of row hashes mod 2^128, hex (see `engine::multiset`).
    pub multiset: Option<String>,
    pub seconds: f64,
}

/// The fixed part of a `C` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRecord {
    pub seq: u32,
    pub chunk: u32,
    pub rows: u64,
    pub hash: [u8; 32],
}

impl ChunkRecord {
    pub const BYTES: usize = 48;

    pub fn encode(&self) -> [u8; Self::BYTES] {
        let mut b = [0u8; Self::BYTES];
        b[0..4].copy_from_slice(&self.seq.to_le_bytes());
        b[4..8].copy_from_slice(&self.chunk.to_le_bytes());
        b[8..16].copy_from_slice(&self.rows.to_le_bytes());
        b[16..48].copy_from_slice(&self.hash);
        b
    }

    pub fn decode(b: &[u8]) -> Option<ChunkRecord> {
        if b.len() != Self::BYTES {
            return None;
        }
        Some(ChunkRecord {
            seq: u32::from_le_bytes(b[0..4].try_into().ok()?),
            chunk: u32::from_le_bytes(b[4..8].try_into().ok()?),
            rows: u64::from_le_bytes(b[8..16].try_into().ok()?),
            hash: b[16..48].try_into().ok()?,
        })
    }
}

/// A chunk reduced to what the manifest keeps.
#[derive(Debug, Clone)]
pub struct ChunkSum {
    pub rows: u64,
    pub hash: [u8; 32],
    /// The rows as `R` encodes them (key order); empty unless asked for.
    pub rows_encoded: Vec<u8>,
}

/// Reduces a chunk's digest: rows in key order, encoded, hashed.
pub fn summarize(d: &Digest, keep_rows: bool) -> ChunkSum {
    let mut buf = Vec::with_capacity(d.len() * 28);
    for &r in &d.order {
        push_row(&mut buf, d.key(r), d.hash(r));
    }
    let hash = *blake3::hash(&buf).as_bytes();
    if !keep_rows {
        buf = Vec::new();
    }
    ChunkSum {
        rows: d.len() as u64,
        hash,
        rows_encoded: buf,
    }
}

pub fn push_row(out: &mut Vec<u8>, key: &[u8], hash: &[u8; 16]) {
    let mut n = key.len() as u64;
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(key);
    out.extend_from_slice(hash);
}

/// Iterates `(key, row hash)` over rows encoded by [`push_row`]; `None`
/// items mean malformed bytes.
pub struct Rows<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub fn rows(buf: &[u8]) -> Rows<'_> {
    Rows { buf, pos: 0 }
}

impl<'a> Iterator for Rows<'a> {
    type Item = Option<(&'a [u8], [u8; 16])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let mut len: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                self.pos = self.buf.len();
                return Some(None);
            };
            self.pos += 1;
            len |= ((b & 0x7F) as u64) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 56 {
                self.pos = self.buf.len();
                return Some(None);
            }
        }
        let end = self.pos + len as usize;
        if end + 16 > self.buf.len() {
            self.pos = self.buf.len();
            return Some(None);
        }
        let key = &self.buf[self.pos..end];
        let hash: [u8; 16] = self.buf[end..end + 16].try_into().unwrap_or([0; 16]);
        self.pos = end + 16;
        Some(Some((key, hash)))
    }
}

/// Decodes `engine::digest::encode_key` output back into report JSON, one
/// value per key column; `wires` tell apart the types that share a tag
/// (timestamp, timestamptz and time). `None` on malformed bytes.
pub fn key_json(names: &[String], wires: &[Wire], mut bytes: &[u8]) -> Option<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        let (&tag, rest) = bytes.split_first()?;
        bytes = rest;
        let take = |bytes: &mut &[u8], n: usize| -> Option<Vec<u8>> {
            if bytes.len() < n {
                return None;
            }
            let (a, b) = bytes.split_at(n);
            *bytes = b;
            Some(a.to_vec())
        };
        let u64_of = |b: Vec<u8>| -> Option<u64> { Some(u64::from_be_bytes(b.try_into().ok()?)) };
        let value = match tag {
            0x00 => serde_json::Value::Null,
            0x01 => serde_json::Value::Bool(take(&mut bytes, 1)?[0] != 0),
            0x02 => {
                let v = (u64_of(take(&mut bytes, 8)?)? ^ (1 << 63)) as i64;
                digest::key_json(&Raw::Int(v))
            }
            0x03 => {
                let v = (u64_of(take(&mut bytes, 8)?)? ^ (1 << 63)) as i64;
                let raw = match wires.get(i) {
                    Some(Wire::Time) => Raw::Time(v),
                    Some(Wire::TimestampTz) => Raw::TimestampTz(v),
                    _ => Raw::Timestamp(v),
                };
                digest::key_json(&raw)
            }
            0x04 => {
                let b: [u8; 4] = take(&mut bytes, 4)?.try_into().ok()?;
                let d = (u32::from_be_bytes(b) ^ (1 << 31)) as i32;
                digest::key_json(&Raw::Date(d))
            }
            0x05 => {
                let o = u64_of(take(&mut bytes, 8)?)?;
                let bits = if o >> 63 == 1 { o ^ (1 << 63) } else { !o };
                digest::key_json(&Raw::Float(f64::from_bits(bits)))
            }
            0x06 | 0x07 => {
                let mut out = Vec::new();
                loop {
                    let (&b, rest) = bytes.split_first()?;
                    bytes = rest;
                    if b != 0 {
                        out.push(b);
                        continue;
                    }
                    let (&next, rest) = bytes.split_first()?;
                    bytes = rest;
                    match next {
                        0xFF => out.push(0),
                        0x00 => break,
                        _ => return None,
                    }
                }
                if tag == 0x06 {
                    serde_json::Value::from(String::from_utf8_lossy(&out).into_owned())
                } else {
                    serde_json::Value::from(hex::encode(out))
                }
            }
            _ => return None,
        };
        map.insert(name.clone(), value);
    }
    bytes.is_empty().then_some(serde_json::Value::Object(map))
}

/// Payload of an `F` record.
pub fn catalog_json(fp: &Fingerprint) -> serde_json::Value {
    serde_json::json!({ "hash": fp.hash(), "items": fp.items })
}

/// Payload of an `S` record.
pub fn sequences_json(seqs: &[SequenceValue]) -> serde_json::Value {
    serde_json::json!(seqs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::digest::encode_key;

    fn enc(vals: &[Raw<'_>]) -> Vec<u8> {
        let mut v = Vec::new();
        for r in vals {
            encode_key(r, &mut v);
        }
        v
    }

    #[test]
    fn keys_decode_to_the_json_reports_use() {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let bytes = enc(&[Raw::Int(-42), Raw::Text("x\0y"), Raw::Bytes(&[0, 1, 255])]);
        let v = key_json(&names, &[Wire::I64, Wire::Text, Wire::Bytes], &bytes).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": -42, "b": "x\u{0}y", "c": "0001ff"})
        );

        let names = vec!["t".to_string(), "d".to_string(), "f".to_string()];
        let bytes = enc(&[Raw::TimestampTz(0), Raw::Date(1), Raw::Float(-2.5)]);
        let v = key_json(&names, &[Wire::TimestampTz, Wire::Date, Wire::F64], &bytes).unwrap();
        let expected = serde_json::json!({
            "t": digest::key_json(&Raw::TimestampTz(0)),
            "d": digest::key_json(&Raw::Date(1)),
            "f": -2.5
        });
        assert_eq!(v, expected);
        // A uuid key encodes as its text.
        let u = [7u8; 16];
        let v = key_json(&["id".into()], &[Wire::Uuid], &enc(&[Raw::Uuid(u)])).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id": digest::key_json(&Raw::Uuid(u))})
        );
    }

    #[test]
    fn malformed_keys_are_none() {
        let names = vec!["a".to_string()];
        assert!(key_json(&names, &[], &[0x02, 1, 2]).is_none());
        assert!(key_json(&names, &[], &[0x06, b'a']).is_none());
        assert!(key_json(&names, &[], &[0x09]).is_none());
        // Trailing bytes after the last column.
        assert!(key_json(&names, &[], &[0x00, 0x00]).is_none());
    }

    #[test]
    fn rows_round_trip_and_detect_truncation() {
        let mut buf = Vec::new();
        let long = vec![b'k'; 300];
        push_row(&mut buf, b"ab", &[1; 16]);
        push_row(&mut buf, &long, &[2; 16]);
        let all: Vec<_> = rows(&buf).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], Some((&b"ab"[..], [1; 16])));
        assert_eq!(all[1].unwrap().0.len(), 300);
        let cut = &buf[..buf.len() - 3];
        assert_eq!(rows(cut).last(), Some(None));
    }

    #[test]
    fn chunk_records_round_trip() {
        let c = ChunkRecord {
            seq: 3,
            chunk: 9,
            rows: 20_000,
            hash: [5; 32],
        };
        assert_eq!(ChunkRecord::decode(&c.encode()), Some(c));
        assert_eq!(ChunkRecord::decode(&c.encode()[..40]), None);
    }

    #[test]
    fn boundary_values_round_trip_through_json() {
        let b = vec![
            OwnedRaw::Int(5),
            OwnedRaw::Text("a'b".into()),
            OwnedRaw::Bytes(vec![0, 9]),
            OwnedRaw::Null,
        ];
        let j = serde_json::to_string(&b.iter().map(BoundValue::from_owned).collect::<Vec<_>>())
            .unwrap();
        let back: Vec<BoundValue> = serde_json::from_str(&j).unwrap();
        let back: Vec<OwnedRaw> = back.iter().map(|v| v.to_owned_raw().unwrap()).collect();
        assert_eq!(back, b);
    }
}
