//! Manifests: a compact, versioned, streamable description of a database
//! as it stood in one snapshot, and the check of a restored copy against it.
//!
//! Owns: the file format ([`format`], documented there and in README
//! `## Manifests`), writing it as the tables are read ([`write`]), reading
//! and validating it ([`read`]: truncation, corruption and version skew are
//! [`ManifestError`]s, exit 2), a CSV view of it ([`export`]), describing a database into it and
//! verifying a database against it ([`scan`]), and judging catalog and
//! sequence differences ([`findings`]).
//!
//! It reads rows only through `db` (snapshots, chunk boundaries, chunk
//! reads) and hashes them only through `engine::digest`, the same path as
//! `check` and `backup --source`: a manifest chunk hash is blake3 over the
//! chunk's `(key, row hash)` pairs in key order, with every column read in
//! Raw mode (exact database values). Keyless tables are multisets
//! (`engine::multiset`). It does not render the run reports (`report`).

pub mod export;
pub mod findings;
pub mod format;
pub mod read;
pub mod scan;
pub mod write;

use std::path::PathBuf;

pub use format::{Header, TableHeader, VERSION};
pub use read::Manifest;
pub use write::Writer;

/// Why a manifest cannot be read. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the manifest {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a parity manifest (it does not start with PARITYMF); pass the file `parity manifest --manifest` wrote"
    )]
    NotAManifest { path: PathBuf },
    #[error(
        "the manifest {path} is truncated ({bytes} bytes, its end-of-file checksum is missing): the copy or the run that wrote it did not finish; copy it again or write a new one with `parity manifest`"
    )]
    Truncated { path: PathBuf, bytes: u64 },
    #[error(
        "the manifest {path} is corrupted: its blake3 checksum does not match its contents; restore it from a good copy or write a new one with `parity manifest`"
    )]
    Corrupted { path: PathBuf },
    #[error(
        "the manifest {path} has format version {version}, newer than this parity reads (version {supported}); upgrade parity to verify it"
    )]
    Newer {
        path: PathBuf,
        version: u32,
        supported: u32,
    },
    #[error(
        "the manifest {path} has format version {version}, which this parity no longer reads (it reads version {supported}); write the manifest again with this parity"
    )]
    Older {
        path: PathBuf,
        version: u32,
        supported: u32,
    },
    #[error("the manifest {path} is malformed at byte {offset}: {what}")]
    Malformed {
        path: PathBuf,
        offset: u64,
        what: String,
    },
}
