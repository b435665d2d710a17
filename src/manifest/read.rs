//! Reading a manifest: the preamble and version first (a newer or older
//! format is named as such, whatever else is wrong), then the checksum over
//! the whole file (streamed), then the records. Row hashes stay on disk:
//! the index records where each chunk's are, and [`Manifest::chunk_rows`]
//! reads one chunk's when a verifier needs to name rows.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::ManifestError;
use super::format::{self, ChunkRecord, Header, TableEnd, TableHeader, tag};
use crate::db::fingerprint::{Fingerprint, Item, SequenceValue};

/// A manifest, validated, with row hashes indexed but not loaded.
#[derive(Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub header: Header,
    pub tables: Vec<TableEntry>,
    pub fingerprint: Fingerprint,
    /// The fingerprint hash recorded when it was written.
    pub fingerprint_hash: String,
    pub sequences: Vec<SequenceValue>,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct TableEntry {
    pub header: TableHeader,
    /// Indexed by chunk.
    pub chunks: Vec<ChunkEntry>,
    pub end: TableEnd,
}

#[derive(Debug, Clone)]
pub struct ChunkEntry {
    pub rows: u64,
    pub hash: [u8; 32],
    /// Where this chunk's encoded rows are: (file offset, length).
    pub row_hashes: Option<(u64, u64)>,
}

/// Opens and validates a manifest.
pub fn open(path: &Path) -> Result<Manifest, ManifestError> {
    let io = |source| ManifestError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory; pass the manifest file inside it",
        )));
    }
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();

    // 1. Preamble and version: before anything else, so a version skew is
    //    reported as one, not as a checksum failure.
    let mut pre = [0u8; format::PREAMBLE_BYTES as usize];
    let got = read_up_to(&mut file, &mut pre).map_err(io)?;
    if got < 8 {
        return Err(if format::MAGIC.starts_with(&pre[..got]) && got > 0 {
            ManifestError::Truncated {
                path: path.into(),
                bytes: len,
            }
        } else {
            ManifestError::NotAManifest { path: path.into() }
        });
    }
    if &pre[..8] != format::MAGIC {
        return Err(ManifestError::NotAManifest { path: path.into() });
    }
    if got < pre.len() {
        return Err(ManifestError::Truncated {
            path: path.into(),
            bytes: len,
        });
    }
    let version = u32::from_le_bytes(pre[8..12].try_into().expect("4 bytes"));
    if version > format::VERSION {
        return Err(ManifestError::Newer {
            path: path.into(),
            version,
            supported: format::VERSION,
        });
    }
    if version < format::VERSION {
        return Err(ManifestError::Older {
            path: path.into(),
            version,
            supported: format::VERSION,
        });
    }

    // 2. The trailer and the checksum of everything before it.
    if len < format::PREAMBLE_BYTES + format::TRAILER_BYTES {
        return Err(ManifestError::Truncated {
            path: path.into(),
            bytes: len,
        });
    }
    let body_end = len - format::TRAILER_BYTES;
    let mut trailer = [0u8; format::TRAILER_BYTES as usize];
    file.seek(SeekFrom::Start(body_end)).map_err(io)?;
    file.read_exact(&mut trailer).map_err(io)?;
    if trailer[0] != tag::TRAILER || trailer[1..5] != 32u32.to_le_bytes() {
        return Err(ManifestError::Truncated {
            path: path.into(),
            bytes: len,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut hasher = blake3::Hasher::new();
    let mut left = body_end;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = (left as usize).min(buf.len());
        file.read_exact(&mut buf[..n]).map_err(io)?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    if hasher.finalize().as_bytes() != &trailer[5..] {
        return Err(ManifestError::Corrupted { path: path.into() });
    }

    // 3. The records.
    file.seek(SeekFrom::Start(format::PREAMBLE_BYTES))
        .map_err(io)?;
    let mut r = BufReader::with_capacity(1 << 16, file);
    parse(path, &mut r, body_end, len)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn parse(
    path: &Path,
    r: &mut BufReader<File>,
    body_end: u64,
    len: u64,
) -> Result<Manifest, ManifestError> {
    let bad = |offset: u64, what: String| ManifestError::Malformed {
        path: path.into(),
        offset,
        what,
    };
    let io = |source| ManifestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut header: Option<Header> = None;
    let mut fingerprint: Option<(Fingerprint, String)> = None;
    let mut sequences: Option<Vec<SequenceValue>> = None;
    let mut tables: Vec<TableEntry> = Vec::new();
    // Tables whose `E` has not come yet: their chunks by index.
    let mut open: Option<(TableHeader, Vec<Option<ChunkEntry>>)> = None;
    let mut pos = format::PREAMBLE_BYTES;
    while pos < body_end {
        let mut head = [0u8; 5];
        r.read_exact(&mut head).map_err(io)?;
        let t = head[0];
        let size = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes")) as u64;
        let payload_at = pos + 5;
        if payload_at + size > body_end {
            return Err(bad(
                pos,
                format!("record '{}' runs past the end", t as char),
            ));
        }
        let json = |r: &mut BufReader<File>| -> Result<serde_json::Value, ManifestError> {
            let mut b = vec![0u8; size as usize];
            r.read_exact(&mut b).map_err(io)?;
            serde_json::from_slice(&b).map_err(|e| bad(pos, format!("bad JSON: {e}")))
        };
        if header.is_none() && t != tag::HEADER {
            return Err(bad(pos, "the first record is not the header".into()));
        }
        match t {
            tag::HEADER => {
                if header.is_some() {
                    return Err(bad(pos, "a second header".into()));
                }
                let h: Header = serde_json::from_value(json(r)?)
                    .map_err(|e| bad(pos, format!("header: {e}")))?;
                header = Some(h);
            }
            tag::CATALOG => {
                let v = json(r)?;
                let items: Vec<Item> = serde_json::from_value(v["items"].clone())
                    .map_err(|e| bad(pos, format!("catalog: {e}")))?;
                let hash = v["hash"].as_str().unwrap_or_default().to_string();
                fingerprint = Some((Fingerprint { items }, hash));
            }
            tag::SEQUENCES => {
                sequences = Some(
                    serde_json::from_value(json(r)?)
                        .map_err(|e| bad(pos, format!("sequences: {e}")))?,
                );
            }
            tag::TABLE => {
                if open.is_some() {
                    return Err(bad(pos, "a table starts before the last one ended".into()));
                }
                let h: TableHeader = serde_json::from_value(json(r)?)
                    .map_err(|e| bad(pos, format!("table: {e}")))?;
                if h.seq as usize != tables.len() {
                    return Err(bad(pos, format!("table {} is out of sequence", h.name)));
                }
                let n = h.chunks();
                open = Some((h, vec![None; n]));
            }
            tag::CHUNK | tag::ROWS => {
                let (h, chunks) = open
                    .as_mut()
                    .ok_or_else(|| bad(pos, "a chunk outside any table".into()))?;
                let (seq, chunk) = if t == tag::CHUNK {
                    let mut b = [0u8; ChunkRecord::BYTES];
                    if size as usize != b.len() {
                        return Err(bad(pos, "a chunk record of the wrong size".into()));
                    }
                    r.read_exact(&mut b).map_err(io)?;
                    let c = ChunkRecord::decode(&b).expect("size checked");
                    let slot = chunks.get_mut(c.chunk as usize).ok_or_else(|| {
                        bad(
                            pos,
                            format!("chunk {} of {} does not exist", c.chunk, h.name),
                        )
                    })?;
                    if slot.is_some() {
                        return Err(bad(
                            pos,
                            format!("chunk {} of {} appears twice", c.chunk, h.name),
                        ));
                    }
                    *slot = Some(ChunkEntry {
                        rows: c.rows,
                        hash: c.hash,
                        row_hashes: None,
                    });
                    (c.seq, c.chunk)
                } else {
                    if size < 12 {
                        return Err(bad(pos, "a row-hash record of the wrong size".into()));
                    }
                    let mut b = [0u8; 12];
                    r.read_exact(&mut b).map_err(io)?;
                    let seq = u32::from_le_bytes(b[0..4].try_into().expect("4"));
                    let chunk = u32::from_le_bytes(b[4..8].try_into().expect("4"));
                    let entry = chunks
                        .get_mut(chunk as usize)
                        .and_then(Option::as_mut)
                        .ok_or_else(|| bad(pos, format!("row hashes for chunk {chunk} of {} come before its chunk record", h.name)))?;
                    entry.row_hashes = Some((payload_at + 12, size - 12));
                    r.seek_relative((size - 12) as i64).map_err(io)?;
                    (seq, chunk)
                };
                if seq != h.seq {
                    return Err(bad(
                        pos,
                        format!("chunk {chunk} belongs to another table than {}", h.name),
                    ));
                }
            }
            tag::TABLE_END => {
                let e: TableEnd = serde_json::from_value(json(r)?)
                    .map_err(|e| bad(pos, format!("table end: {e}")))?;
                let (h, chunks) = open
                    .take()
                    .ok_or_else(|| bad(pos, "a table end outside any table".into()))?;
                if e.seq != h.seq {
                    return Err(bad(
                        pos,
                        format!("the end of table {} has the wrong sequence", h.name),
                    ));
                }
                let chunks = chunks
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        c.ok_or_else(|| bad(pos, format!("chunk {i} of {} is missing", h.name)))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if h.key.is_empty() && e.multiset.is_none() {
                    return Err(bad(
                        pos,
                        format!("keyless table {} has no multiset", h.name),
                    ));
                }
                tables.push(TableEntry {
                    header: h,
                    chunks,
                    end: e,
                });
            }
            t if t.is_ascii_lowercase() => {
                // An optional record from a later writer: skip it.
                r.seek_relative(size as i64).map_err(io)?;
            }
            t => {
                return Err(bad(
                    pos,
                    format!(
                        "unknown record type 0x{t:02x}; the manifest may come from a newer parity"
                    ),
                ));
            }
        }
        pos = payload_at + size;
    }
    if let Some((h, _)) = open {
        return Err(bad(pos, format!("table {} never ends", h.name)));
    }
    let header = header.ok_or_else(|| bad(pos, "no header".into()))?;
    let (fingerprint, fingerprint_hash) =
        fingerprint.ok_or_else(|| bad(pos, "no catalog record".into()))?;
    let sequences = sequences.ok_or_else(|| bad(pos, "no sequences record".into()))?;
    Ok(Manifest {
        path: path.into(),
        header,
        tables,
        fingerprint,
        fingerprint_hash,
        sequences,
        bytes: len,
    })
}

impl Manifest {
    /// One chunk's encoded rows (see [`format::rows`]); `None` without row hashes.
    pub fn chunk_rows(&self, table: usize, chunk: usize) -> Result<Option<Vec<u8>>, ManifestError> {
        let Some((at, len)) = self.tables[table].chunks[chunk].row_hashes else {
            return Ok(None);
        };
        let io = |source| ManifestError::Io {
            path: self.path.clone(),
            source,
        };
        let mut f = File::open(&self.path).map_err(io)?;
        f.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).map_err(io)?;
        Ok(Some(buf))
    }

    /// Total rows across tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.end.rows).sum()
    }
}
