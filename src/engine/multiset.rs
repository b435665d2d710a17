//! Tables without a key, compared as multisets.
//!
//! Owns: the multiset of a keyless table ([`Keyless`]): the count of its
//! rows and the sum of their 128-bit row hashes mod 2^128, read chunk by
//! chunk through the scheduler. The sum is order-independent, so each side
//! may split its table into chunks of its own, by a physical pseudo key
//! (PostgreSQL `ctid`, SQLite `rowid`) that is stable inside one snapshot
//! but means nothing across databases. A multiset detects any difference
//! in content and multiplicity; it cannot name rows, so a differing keyless
//! table reports `different` = the count difference, or 1. Keyed tables
//! are merge-joined instead (`keyed`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use super::digest::{self, HashCol, HashMode, SideCodec};
use super::keyed::canon_columns;
use super::read::{Session, TableRead};
use super::schedule::{self, Schedule};
use super::{DiffKind, RowDifference, Status, TableCheck, TableResult};
use crate::canon::ColumnCanon;
use crate::db::{ChunkData, LiveColumn, ReadSpec, Snapshot, Wire};
use crate::mapping::{Orm, Table};

/// A table's rows as a multiset: how many, and the sum of their row hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Multiset {
    pub rows: u64,
    /// Sum of the 16-byte row hashes read as little-endian u128, mod 2^128.
    pub sum: u128,
}

impl Multiset {
    pub fn add(&mut self, row_hash: &[u8; 16]) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(*row_hash));
    }

    pub fn merge(&mut self, other: Multiset) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// The sum as 32 hex digits (little-endian bytes), for manifests and notes.
    pub fn sum_hex(&self) -> String {
        hex::encode(self.sum.to_le_bytes())
    }

    pub fn from_hex(rows: u64, sum: &str) -> Option<Multiset> {
        let bytes: [u8; 16] = hex::decode(sum).ok()?.try_into().ok()?;
        Some(Multiset {
            rows,
            sum: u128::from_le_bytes(bytes),
        })
    }
}

/// The physical row address a snapshot's backend orders a keyless table by.
fn pseudo_key(snapshot: &Snapshot) -> LiveColumn {
    let (name, ty) = match snapshot {
        Snapshot::Postgres(_) => ("ctid", "tid"),
        Snapshot::Sqlite(_) => ("rowid", "integer"),
        // No row address: a keyless MySQL table is read in one chunk.
        Snapshot::Mysql(_) => (crate::db::mysql::NO_KEY, "none"),
    };
    LiveColumn {
        name: name.to_string(),
        type_name: ty.to_string(),
        cast_type: ty.to_string(),
        declared: ty.to_string(),
        wire: Wire::Text,
        cast_to_text: true,
        not_null: true,
    }
}

/// One side of a keyless read: a table and the columns that make up its
/// rows (each with its canonicaliser).
pub struct Keyless {
    pub schema: Option<String>,
    pub table: String,
    pub columns: Vec<(String, ColumnCanon)>,
    pub where_clause: Option<String>,
}

/// Column name → cells the reading ORM cannot read (its read throws).
type Unreadable = BTreeMap<String, u64>;

impl Keyless {
    /// The table's multiset in `snapshot`: chunked by the backend's row
    /// address, hashed canonically.
    pub async fn multiset(
        self,
        snapshot: &Snapshot,
        jobs: usize,
        chunk_rows: usize,
    ) -> Result<Multiset> {
        Ok(self.scan(snapshot, jobs, chunk_rows, false).await?.0)
    }

    /// The multiset, and with `count_unreadable` the unreadable cells per
    /// column (issue 9: a keyless table's rows cannot be named, but cells
    /// an ORM throws on can still be counted).
    async fn scan(
        self,
        snapshot: &Snapshot,
        jobs: usize,
        chunk_rows: usize,
        count_unreadable: bool,
    ) -> Result<(Multiset, Unreadable)> {
        let names: Vec<String> = self.columns.iter().map(|(n, _)| n.clone()).collect();
        let mut w = snapshot.worker().await?;
        let live = w.columns(self.schema.as_deref(), &self.table).await?;
        if live.is_empty() {
            anyhow::bail!("table {} does not exist", self.table);
        }
        let pseudo = pseudo_key(snapshot);
        let qualified = match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        };
        let spec = ReadSpec {
            schema: self.schema,
            table: self.table,
            columns: names.clone(),
            key: vec![pseudo.name.clone()],
            where_clause: self.where_clause,
        };
        let mut read = TableRead::new(spec, live)?;
        read.live.push(pseudo);
        let (bounds, _) = read.boundaries(&mut w, chunk_rows).await?;
        drop(w);
        let codec = Arc::new(SideCodec {
            key_idx: Vec::new(),
            hash: (0..self.columns.len())
                .map(|i| HashCol {
                    idx: i,
                    col: i,
                    mode: HashMode::Canonical,
                })
                .collect(),
            cols: self
                .columns
                .into_iter()
                .enumerate()
                .map(|(i, (_, cc))| (i, cc))
                .collect(),
        });
        let mut total = Multiset::default();
        let mut unreadable = vec![0u64; names.len()];
        schedule::run(
            &schedule::chunks(&qualified, &bounds),
            &Schedule::new(jobs),
            async |chunk, lane: &mut Session, _| {
                let (rows, _) = read.read(snapshot, lane, &chunk).await?;
                let codec = codec.clone();
                schedule::on_rayon(move || hash_rows(&rows, &codec, count_unreadable)).await
            },
            |_, (m, counts)| {
                total.merge(m);
                for (t, c) in unreadable.iter_mut().zip(counts) {
                    *t += c;
                }
                Ok(())
            },
        )
        .await?;
        let unreadable = names
            .into_iter()
            .zip(unreadable)
            .filter(|(_, n)| *n > 0)
            .collect();
        Ok((total, unreadable))
    }
}

/// One chunk's multiset, and (when asked) its unreadable cells per column.
fn hash_rows(chunk: &ChunkData, codec: &SideCodec, count_unreadable: bool) -> (Multiset, Vec<u64>) {
    let d = digest::digest(chunk, codec);
    let mut m = Multiset::default();
    for i in 0..d.len() as u32 {
        m.add(d.hash(i));
    }
    let mut counts = vec![0u64; codec.cols.len()];
    if count_unreadable {
        let (mut row, mut buf) = (Vec::new(), Vec::new());
        for i in 0..chunk.len() {
            chunk.row(i, &mut row);
            for (c, (idx, cc)) in codec.cols.iter().enumerate() {
                buf.clear();
                crate::canon::encode(&row[*idx], cc, &mut buf);
                if buf.first() == Some(&crate::canon::tag::UNREADABLE) {
                    counts[c] += 1;
                }
            }
        }
    }
    (m, counts)
}

/// A keyless table pair's result: both sides' multisets, compared.
pub fn multiset_result(result: &mut TableResult, source: Multiset, target: Multiset) {
    result.source_rows = source.rows;
    result.target_rows = target.rows;
    if source == target {
        result.matched = source.rows;
        result.status = Status::Ok;
        return;
    }
    result.status = Status::Differs;
    result.different = source.rows.abs_diff(target.rows).max(1);
    result.differences.push(RowDifference::bare(
        serde_json::json!({}),
        DiffKind::Different,
    ));
}

/// Cells one side cannot read, in a keyless table: per column, the cells
/// beyond what the other side also cannot read (rows cannot be paired, so
/// they are counted, not named: `key` is `{}`).
fn unreadable_result(result: &mut TableResult, source: &Unreadable, target: &Unreadable) {
    let excess = |a: &Unreadable, b: &Unreadable| -> Unreadable {
        a.iter()
            .filter_map(|(c, n)| {
                let d = n.saturating_sub(b.get(c).copied().unwrap_or(0));
                (d > 0).then(|| (c.clone(), d))
            })
            .collect()
    };
    let (s, t) = (excess(source, target), excess(target, source));
    if s.is_empty() && t.is_empty() {
        return;
    }
    result.status = Status::Differs;
    let rows = |m: &Unreadable| m.values().copied().max().unwrap_or(0);
    result.unreadable = rows(&s).max(rows(&t));
    for (kind, m) in [
        (DiffKind::UnreadableInSource, &s),
        (DiffKind::UnreadableInTarget, &t),
    ] {
        for (c, n) in m {
            *result.columns_unreadable.entry(c.clone()).or_default() += n;
        }
        if !m.is_empty() {
            result.differences.push(RowDifference {
                columns: m.keys().cloned().collect(),
                ..RowDifference::bare(serde_json::json!({}), kind)
            });
        }
    }
}

/// The note every report carries for a keyless table (the plan writes it).
pub use crate::plan::keyless_note as note;

/// Checks a pair without a key (the plan allows one only when asked:
/// `backup`) into `result`: both sides' multisets, read at once.
pub(super) async fn check(c: &TableCheck<'_>, result: &mut TableResult) -> Result<()> {
    let (pair, opts) = (c.pair, c.opts);
    result.chunks = 1;
    // Only an ORM's reading can throw; catalog reads (backups) skip the count.
    let count = c.source_map.orm != Orm::Catalog || c.target_map.orm != Orm::Catalog;
    let side = |table: &Table, columns| Keyless {
        schema: table.schema.clone(),
        table: table.name.clone(),
        columns,
        where_clause: pair.where_clause.clone(),
    };
    let source = side(
        &pair.source,
        canon_columns(pair, c.source_map, |p| &p.source),
    );
    let target = side(
        &pair.target,
        canon_columns(pair, c.target_map, |p| &p.target),
    );
    let started = Instant::now();
    let (s, t) = tokio::join!(
        source.scan(&c.sides.source, opts.jobs, opts.chunk_rows, count),
        target.scan(&c.sides.target, opts.jobs, opts.chunk_rows, count)
    );
    let seconds = started.elapsed().as_secs_f64();
    let (s, su) = s.context("source")?;
    let (t, tu) = t.context("target")?;
    multiset_result(result, s, t);
    unreadable_result(result, &su, &tu);
    result.source_seconds = seconds;
    result.target_seconds = seconds;
    if let Some(pb) = c.progress {
        pb.set_length(s.rows);
        pb.set_position(s.rows);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0] = n;
        b[15] = n.wrapping_mul(7);
        b
    }

    #[test]
    fn multiset_is_order_independent_and_counts_duplicates() {
        let mut a = Multiset::default();
        let mut b = Multiset::default();
        for n in [1, 2, 2, 3] {
            a.add(&h(n));
        }
        for n in [2, 3, 1, 2] {
            b.add(&h(n));
        }
        assert_eq!(a, b);
        let mut c = Multiset::default();
        for n in [1, 2, 3] {
            c.add(&h(n));
        }
        assert_ne!(a, c, "a missing duplicate is a difference");
        let mut split = Multiset::default();
        let mut part = Multiset::default();
        part.add(&h(2));
        part.add(&h(1));
        split.merge(part);
        let mut part = Multiset::default();
        part.add(&h(3));
        part.add(&h(2));
        split.merge(part);
        assert_eq!(split, a, "chunking does not change the multiset");
    }

    #[test]
    fn sum_wraps_and_round_trips_through_hex() {
        let mut m = Multiset::default();
        m.add(&[0xFF; 16]);
        m.add(&[0xFF; 16]);
        assert_eq!(m.sum, u128::MAX.wrapping_add(u128::MAX));
        assert_eq!(Multiset::from_hex(m.rows, &m.sum_hex()), Some(m));
    }

    #[test]
    fn keyless_unreadable_cells_count_beyond_the_other_side() {
        let mut r = TableResult::new(None, "t", "t");
        let m = |v: &[(&str, u64)]| -> Unreadable {
            v.iter().map(|(c, n)| (c.to_string(), *n)).collect()
        };
        // Both sides throw on 2 cells of `a`: no difference between them.
        unreadable_result(&mut r, &m(&[("a", 2)]), &m(&[("a", 2)]));
        assert_eq!((r.unreadable, r.status), (0, Status::Ok));
        unreadable_result(&mut r, &m(&[("a", 3), ("b", 1)]), &m(&[("a", 1)]));
        assert_eq!((r.unreadable, r.status), (2, Status::Differs));
        assert_eq!(r.differences[0].kind, DiffKind::UnreadableInSource);
        assert_eq!(r.differences[0].columns, vec!["a", "b"]);
        assert_eq!(r.columns_unreadable, m(&[("a", 2), ("b", 1)]));
    }

    #[test]
    fn differing_multisets_count_at_least_one() {
        let pair_result = || TableResult::new(None, "t", "t");
        let a = Multiset { rows: 5, sum: 10 };
        let mut r = pair_result();
        multiset_result(&mut r, a, Multiset { rows: 5, sum: 11 });
        assert_eq!((r.status, r.different), (Status::Differs, 1));
        let mut r = pair_result();
        multiset_result(&mut r, a, Multiset { rows: 8, sum: 11 });
        assert_eq!(r.different, 3);
        let mut r = pair_result();
        multiset_result(&mut r, a, a);
        assert_eq!((r.status, r.matched), (Status::Ok, 5));
    }
}
