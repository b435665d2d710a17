//! Writing a manifest as the tables are read: records stream to a
//! temporary file beside the target, hashed as they go; `finish` appends
//! the checksum trailer, syncs and renames, so a manifest at its path is
//! always whole. A run that fails leaves no file at the path.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::format::{self, ChunkRecord, Header, TableEnd, TableHeader, tag};
use crate::db::fingerprint::{Fingerprint, SequenceValue};

pub struct Writer {
    out: Option<BufWriter<File>>,
    hasher: blake3::Hasher,
    tmp: PathBuf,
    path: PathBuf,
    bytes: u64,
}

impl Writer {
    /// Starts a manifest: preamble and header.
    pub fn create(path: &Path, header: &Header) -> Result<Writer> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "manifest".into());
        let tmp = path.with_file_name(format!(".{name}.partial"));
        let file = File::create(&tmp)
            .with_context(|| format!("cannot create the manifest {}", tmp.display()))?;
        let mut w = Writer {
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            hasher: blake3::Hasher::new(),
            tmp,
            path: path.to_path_buf(),
            bytes: 0,
        };
        w.raw(format::MAGIC)?;
        w.raw(&format::VERSION.to_le_bytes())?;
        w.json(tag::HEADER, header)?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out
            .as_mut()
            .context("the manifest is already finished")?
            .write_all(bytes)
            .with_context(|| format!("cannot write the manifest {}", self.tmp.display()))
    }

    fn record(&mut self, t: u8, parts: &[&[u8]]) -> Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len)
            .context("a manifest record is over 4 GiB; use a smaller --chunk-rows")?;
        self.raw(&[t])?;
        self.raw(&len.to_le_bytes())?;
        for p in parts {
            self.raw(p)?;
        }
        Ok(())
    }

    fn json(&mut self, t: u8, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec(value)?;
        self.record(t, &[&bytes])
    }

    pub fn catalog(&mut self, fp: &Fingerprint, seqs: &[SequenceValue]) -> Result<()> {
        self.json(tag::CATALOG, &format::catalog_json(fp))?;
        self.json(tag::SEQUENCES, &format::sequences_json(seqs))
    }

    pub fn table(&mut self, t: &TableHeader) -> Result<()> {
        self.json(tag::TABLE, t)
    }

    /// One chunk; `rows_encoded` (the `R` payload's rows) when row hashes are kept.
    pub fn chunk(&mut self, c: &ChunkRecord, rows_encoded: Option<&[u8]>) -> Result<()> {
        self.record(tag::CHUNK, &[&c.encode()])?;
        if let Some(rows) = rows_encoded {
            let count = u32::try_from(c.rows).context("a chunk is over 4 billion rows")?;
            self.record(
                tag::ROWS,
                &[
                    &c.seq.to_le_bytes(),
                    &c.chunk.to_le_bytes(),
                    &count.to_le_bytes(),
                    rows,
                ],
            )?;
        }
        Ok(())
    }

    pub fn table_end(&mut self, e: &TableEnd) -> Result<()> {
        self.json(tag::TABLE_END, e)
    }

    /// Appends the checksum trailer, syncs and moves the file into place.
    /// Returns the manifest's size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        let sum = *self.hasher.finalize().as_bytes();
        let out = self
            .out
            .take()
            .context("the manifest is already finished")?;
        let done = (|| -> Result<()> {
            let mut out = out;
            out.write_all(&[tag::TRAILER])?;
            out.write_all(&32u32.to_le_bytes())?;
            out.write_all(&sum)?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)?;
            Ok(())
        })();
        if let Err(e) = done {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e)
                .with_context(|| format!("cannot write the manifest {}", self.path.display()));
        }
        Ok(self.bytes + format::TRAILER_BYTES)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Not finished: never leave half a manifest behind.
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
