//! Per-chunk digests: an order-preserving key encoding and a 16-byte blake3
//! hash of each row's canonical values. The per-row path: it allocates
//! nothing per row beyond appending to arenas.

use crate::canon::{self, ColumnCanon, Delivery, Raw};
use crate::db::buffer::Buf;
use crate::db::{ChunkData, Wire};

/// How one side turns a chunk's rows into canonical values.
pub struct SideCodec {
    /// Positions of the key columns in the read projection.
    pub key_idx: Vec<usize>,
    /// For each compared column pair: position in the projection and the
    /// side's canonicaliser. Ignored columns are absent.
    pub cols: Vec<(usize, ColumnCanon)>,
    /// What goes into the row hash, per compared column (see [`HashCol`]).
    pub hash: Vec<HashCol>,
}

/// How a compared column enters the row hash.
///
/// The hash is a pre-filter: equal hashes mean equal canonical values, and
/// a row whose hashes differ is compared column by column canonically. So
/// where both sides apply the same reading to the same wire type, the raw
/// value can be hashed instead (equal raw values read the same), which
/// skips JSON and decimal canonicalisation on the per-row path; and where
/// both sides read the very same bytes (one shared read), the column cannot
/// differ and is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMode {
    Canonical,
    Raw,
}

#[derive(Debug, Clone)]
pub struct HashCol {
    pub idx: usize,
    /// Index into `SideCodec::cols`.
    pub col: usize,
    pub mode: HashMode,
}

/// Decides, per compared column, how both sides hash it.
pub fn hash_plan(
    s: &SideCodec,
    t: &SideCodec,
    swires: &[Wire],
    twires: &[Wire],
    shared: bool,
) -> (Vec<HashCol>, Vec<HashCol>) {
    let mut sh = Vec::new();
    let mut th = Vec::new();
    for (c, ((si, scc), (ti, tcc))) in s.cols.iter().zip(&t.cols).enumerate() {
        let delivery = swires.get(*si).map_or(Delivery::Loose, |w| w.delivery());
        let same_reading = scc.reads_like(tcc, delivery) && swires.get(*si) == twires.get(*ti);
        if shared && same_reading && si == ti {
            continue;
        }
        let mode = if same_reading {
            HashMode::Raw
        } else {
            HashMode::Canonical
        };
        sh.push(HashCol {
            idx: *si,
            col: c,
            mode,
        });
        th.push(HashCol {
            idx: *ti,
            col: c,
            mode,
        });
    }
    (sh, th)
}

/// A chunk's rows reduced to (key, hash), sorted by key.
///
/// Kept in the [`BATCH`]-row parts the rayon tasks built, never copied
/// into one arena: a copy held every encoding twice for a moment, and
/// those moments, coinciding across lanes, were parity's peak memory.
pub struct Digest {
    parts: Vec<Part>,
    rows: usize,
    /// For a compare digest: blake3 over the keys and row encodings in key
    /// order. Equal on both sides ⇔ the chunks are identical.
    pub chunk_hash: Option<[u8; 32]>,
    /// Row indices in key order.
    pub order: Vec<u32>,
}

/// The digest of [`BATCH`] consecutive rows (fewer in the last part).
struct Part {
    keys: Vec<u8>,
    /// `key_end[i]` is where the part's row i's key ends in `keys` (it
    /// starts at `key_end[i-1]`).
    key_end: Vec<u32>,
    /// Per-row blake3 (manifests, multisets): empty for a compare digest.
    hashes: Vec<[u8; 16]>,
    /// For a compare digest: every row's encoding, end offsets like `key_end`.
    enc: Buf,
    enc_end: Vec<u32>,
}

impl Digest {
    pub fn len(&self) -> usize {
        self.rows
    }
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    fn part(&self, row: u32) -> (&Part, u32) {
        let r = row as usize;
        (&self.parts[r / BATCH], (r % BATCH) as u32)
    }
    /// A row's encoding (compare digests only).
    pub fn encoding(&self, row: u32) -> &[u8] {
        let (p, i) = self.part(row);
        arena_item(&p.enc, &p.enc_end, i)
    }
    pub fn key(&self, row: u32) -> &[u8] {
        let (p, i) = self.part(row);
        arena_item(&p.keys, &p.key_end, i)
    }
    pub fn hash(&self, row: u32) -> &[u8; 16] {
        let (p, i) = self.part(row);
        &p.hashes[i as usize]
    }
}

/// Item `row` of an arena whose items end at `ends` (each starts where the
/// one before ends).
#[inline]
fn arena_item<'a>(arena: &'a [u8], ends: &[u32], row: u32) -> &'a [u8] {
    let r = row as usize;
    let start = if r == 0 { 0 } else { ends[r - 1] as usize };
    &arena[start..ends[r] as usize]
}

/// Rows per rayon task: large enough to amortise scheduling, small enough
/// to spread a chunk over both cores.
const BATCH: usize = 4096;

/// Digests a chunk in parallel batches: a 16-byte blake3 per row (what
/// manifests store).
pub fn digest(chunk: &ChunkData, codec: &SideCodec) -> Digest {
    digest_with(chunk, codec, false)
}

/// Digests a chunk for a two-sided compare: keeps each row's encoding and
/// one blake3 over the whole chunk in key order. Equal chunk hashes settle
/// the chunk at once; otherwise rows are compared by their encodings, which
/// is exact and skips a blake3 finalisation per row (on 2 cores shared with
/// the servers, that was the largest part of the client's CPU).
pub fn digest_for_compare(chunk: &ChunkData, codec: &SideCodec) -> Digest {
    digest_with(chunk, codec, true)
}

fn digest_with(chunk: &ChunkData, codec: &SideCodec, keep: bool) -> Digest {
    use rayon::prelude::*;
    let n = chunk.len();
    // A part's encodings take about the chunk's wire bytes per row (a field
    // header of 5 bytes for COPY's 4): sized once, not grown by doubling.
    let wire_per_row = chunk.bytes() / n.max(1);
    let enc_per_row = wire_per_row + wire_per_row / 4 + 16;
    let parts: Vec<Part> = (0..n.div_ceil(BATCH))
        .into_par_iter()
        .map(|b| {
            let start = b * BATCH;
            let end = (start + BATCH).min(n);
            let mut keys = Vec::with_capacity((end - start) * 12);
            let mut key_end = Vec::with_capacity(end - start);
            let mut hashes = Vec::with_capacity(if keep { 0 } else { end - start });
            // Recycled: a part's encodings are about 1 MiB, which glibc
            // would map and unmap (and the kernel zero) chunk after chunk.
            let mut enc = Buf::with_capacity(if keep { (end - start) * enc_per_row } else { 0 });
            let mut enc_end = Vec::with_capacity(if keep { end - start } else { 0 });
            let mut row = Vec::new();
            let mut fields = Vec::new();
            let mut buf = Vec::with_capacity(256);
            let raw = ColumnCanon::from_read(crate::mapping::ReadMode::Raw);
            for i in start..end {
                buf.clear();
                if let Some(wires) = chunk.fields(i, &mut fields) {
                    // PostgreSQL binary rows: a raw-hashed column goes in as
                    // its wire bytes (equal bytes of one wire type are equal
                    // values); only keys and canonical columns are decoded.
                    for &k in &codec.key_idx {
                        encode_key(&ChunkData::decode_field(wires[k], fields[k]), &mut keys);
                    }
                    for h in &codec.hash {
                        let f = fields[h.idx];
                        match h.mode {
                            HashMode::Canonical => canon::encode(
                                &ChunkData::decode_field(wires[h.idx], f),
                                &codec.cols[h.col].1,
                                &mut buf,
                            ),
                            HashMode::Raw => match f {
                                None => buf.push(0),
                                Some(bytes) => {
                                    buf.push(1);
                                    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                                    buf.extend_from_slice(bytes);
                                }
                            },
                        }
                    }
                } else {
                    chunk.row(i, &mut row);
                    for &k in &codec.key_idx {
                        encode_key(&row[k], &mut keys);
                    }
                    for h in &codec.hash {
                        match h.mode {
                            HashMode::Canonical => {
                                canon::encode(&row[h.idx], &codec.cols[h.col].1, &mut buf)
                            }
                            HashMode::Raw => canon::encode(&row[h.idx], &raw, &mut buf),
                        }
                    }
                }
                key_end.push(keys.len() as u32);
                if keep {
                    enc.extend_from_slice(&buf);
                    enc_end.push(enc.len() as u32);
                } else {
                    hashes.push(row_hash(&buf));
                }
            }
            Part {
                keys,
                key_end,
                hashes,
                enc,
                enc_end,
            }
        })
        .collect();
    let mut d = Digest {
        parts,
        rows: n,
        chunk_hash: None,
        order: (0..n as u32).collect(),
    };
    // The database usually returns key order already; sort only when its
    // collation disagrees with byte order.
    let sorted = d.order.windows(2).all(|w| d.key(w[0]) <= d.key(w[1]));
    if !sorted {
        let mut order = std::mem::take(&mut d.order);
        order.sort_unstable_by(|a, b| d.key(*a).cmp(d.key(*b)));
        d.order = order;
    }
    if keep {
        // Keys and row encodings are self-delimiting, so the two arenas in
        // key order identify the chunk's content; one large update lets
        // blake3 hash many 1 KiB chunks at once (SIMD).
        let mut h = blake3::Hasher::new();
        h.update(&(n as u64).to_le_bytes());
        if sorted {
            for p in &d.parts {
                h.update(&p.keys);
            }
            for p in &d.parts {
                h.update(&p.enc);
            }
        } else {
            for &r in &d.order {
                h.update(d.key(r));
            }
            for &r in &d.order {
                h.update(d.encoding(r));
            }
        }
        d.chunk_hash = Some(*h.finalize().as_bytes());
    }
    d
}

/// 16 bytes of blake3 over a row's canonical encoding.
pub fn row_hash(canonical: &[u8]) -> [u8; 16] {
    let h = blake3::hash(canonical);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.as_bytes()[..16]);
    out
}

/// Order-preserving, self-delimiting key encoding (compare as bytes). Equal
/// keys encode equally whichever backend delivered them: a uuid and its
/// text form encode the same.
pub fn encode_key(raw: &Raw<'_>, out: &mut Vec<u8>) {
    match *raw {
        Raw::Null => out.push(0x00),
        Raw::Bool(b) => out.extend([0x01, b as u8]),
        Raw::Int(i) => {
            out.push(0x02);
            out.extend(((i as u64) ^ (1 << 63)).to_be_bytes());
        }
        Raw::Timestamp(i) | Raw::TimestampTz(i) | Raw::Time(i) => {
            out.push(0x03);
            out.extend(((i as u64) ^ (1 << 63)).to_be_bytes());
        }
        Raw::Date(d) => {
            out.push(0x04);
            out.extend(((d as u32) ^ (1 << 31)).to_be_bytes());
        }
        Raw::Float(f) => {
            out.push(0x05);
            let bits = f.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            out.extend(ordered.to_be_bytes());
        }
        Raw::Text(s) | Raw::Numeric(s) | Raw::Json(s) => escaped(0x06, s.as_bytes(), out),
        Raw::Bytes(b) => escaped(0x07, b, out),
        Raw::Uuid(u) => {
            let mut text = [0u8; 36];
            uuid_text(&u, &mut text);
            escaped(0x06, &text, out);
        }
    }
}

fn escaped(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend([0x00, 0x00]);
}

pub fn uuid_text(u: &[u8; 16], out: &mut [u8; 36]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut j = 0;
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[j] = b'-';
            j += 1;
        }
        out[j] = HEX[(b >> 4) as usize];
        out[j + 1] = HEX[(b & 15) as usize];
        j += 2;
    }
}

/// A key value as JSON for reports: integers as exact JSON numbers.
pub fn key_json(raw: &Raw<'_>) -> serde_json::Value {
    use serde_json::Value;
    match *raw {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Int(i) => Value::from(i),
        Raw::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Raw::Text(s) | Raw::Numeric(s) | Raw::Json(s) => Value::from(s),
        Raw::Uuid(u) => {
            let mut t = [0u8; 36];
            uuid_text(&u, &mut t);
            Value::from(std::str::from_utf8(&t).unwrap_or_default())
        }
        Raw::Bytes(b) => Value::from(hex::encode(b)),
        ref other => {
            let mut buf = Vec::new();
            canon::encode(
                other,
                &ColumnCanon::from_read(crate::mapping::ReadMode::Raw),
                &mut buf,
            );
            match canon::decode(&buf) {
                Some((c, _)) => Value::from(c.to_string()),
                None => Value::Null,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(r: Raw<'_>) -> Vec<u8> {
        let mut v = Vec::new();
        encode_key(&r, &mut v);
        v
    }

    #[test]
    fn key_encoding_preserves_order() {
        assert!(key(Raw::Int(-5)) < key(Raw::Int(3)));
        assert!(key(Raw::Int(i64::MIN)) < key(Raw::Int(i64::MAX)));
        assert!(key(Raw::Text("a")) < key(Raw::Text("ab")));
        assert!(key(Raw::Text("ab")) < key(Raw::Text("b")));
        assert!(key(Raw::Float(-1.5)) < key(Raw::Float(0.25)));
        // composite keys: (1, "b") < (2, "a")
        let mut a = key(Raw::Int(1));
        a.extend(key(Raw::Text("b")));
        let mut b = key(Raw::Int(2));
        b.extend(key(Raw::Text("a")));
        assert!(a < b);
    }

    #[test]
    fn uuid_and_its_text_are_the_same_key() {
        let u = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x00,
        ];
        assert_eq!(
            key(Raw::Uuid(u)),
            key(Raw::Text("123e4567-e89b-12d3-a456-426614174000"))
        );
        assert_eq!(
            key_json(&Raw::Uuid(u)),
            serde_json::json!("123e4567-e89b-12d3-a456-426614174000")
        );
    }

    #[test]
    fn big_keys_stay_exact_in_json() {
        let v = key_json(&Raw::Int(9_007_199_254_740_993));
        assert_eq!(v.to_string(), "9007199254740993");
    }
}
