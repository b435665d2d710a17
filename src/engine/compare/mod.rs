//! The merge-join compare: two key-ordered sides walked in step, every row
//! classified as matched, missing in the target, extra in the target,
//! different (naming its columns, honouring tolerances) or unreadable.
//!
//! Owns: [`merge_by_key`] (the walk, shared with manifest verification),
//! [`merge_join`] (one chunk of a keyed pair, from both sides' digests),
//! and [`ChunkOutcome`] (one chunk's counts and named differences, summed
//! over a table). It reads nothing: chunks and digests are handed to it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::time::Duration;

use super::digest::{self, Digest, SideCodec};
use super::result::{DiffKind, RowDifference, TableResult, ValueDifference};
use crate::canon::{self, Canon, Tolerance};
use crate::db::ChunkData;

/// One step of a merge-join: a key both sides have, or one side only.
#[derive(Debug, PartialEq, Eq)]
pub enum Joined<A, B> {
    Both(A, B),
    SourceOnly(A),
    TargetOnly(B),
}

/// Walks two key-ordered sequences in step; `cmp` orders a source item
/// against a target item by key.
pub fn merge_by_key<I, J, F>(
    source: I,
    target: J,
    cmp: F,
) -> MergeByKey<I::IntoIter, J::IntoIter, F>
where
    I: IntoIterator,
    J: IntoIterator,
    F: FnMut(&I::Item, &J::Item) -> Ordering,
{
    MergeByKey {
        source: source.into_iter().peekable(),
        target: target.into_iter().peekable(),
        cmp,
    }
}

pub struct MergeByKey<I: Iterator, J: Iterator, F> {
    source: Peekable<I>,
    target: Peekable<J>,
    cmp: F,
}

impl<I, J, F> Iterator for MergeByKey<I, J, F>
where
    I: Iterator,
    J: Iterator,
    F: FnMut(&I::Item, &J::Item) -> Ordering,
{
    type Item = Joined<I::Item, J::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        let ord = match (self.source.peek(), self.target.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(s), Some(t)) => (self.cmp)(s, t),
        };
        Some(match ord {
            Ordering::Less => Joined::SourceOnly(self.source.next()?),
            Ordering::Greater => Joined::TargetOnly(self.target.next()?),
            Ordering::Equal => Joined::Both(self.source.next()?, self.target.next()?),
        })
    }
}

/// The compared columns, parallel to `SideCodec::cols`.
pub struct Compared {
    /// Source physical names.
    pub names: Vec<String>,
    pub tolerances: Vec<Option<Tolerance>>,
}

/// How one chunk (or, summed, a table) came out; serialized as a journal
/// line's `outcome`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChunkOutcome {
    pub source_rows: u64,
    pub target_rows: u64,
    pub matched: u64,
    pub missing: u64,
    pub extra: u64,
    pub different: u64,
    pub unreadable: u64,
    pub unreadable_columns: BTreeMap<String, u64>,
    pub source_read: Duration,
    pub target_read: Duration,
    /// Source column → rows where it differs.
    pub columns: BTreeMap<String, u64>,
    /// (sort key, difference), capped at max_differences.
    pub diffs: Vec<(Vec<u8>, RowDifference)>,
    /// Rows that differed at the first read and not at the re-read.
    pub in_flight: u64,
    /// Payload bytes received from both servers.
    pub bytes_received: u64,
}

impl ChunkOutcome {
    /// Rows found missing, extra, different or unreadable.
    pub fn differing(&self) -> u64 {
        self.missing + self.extra + self.different + self.unreadable
    }

    /// Adds `o`; keeps the `cap` differences first in key order.
    pub fn merge(&mut self, o: ChunkOutcome, cap: usize) {
        self.source_rows += o.source_rows;
        self.target_rows += o.target_rows;
        self.matched += o.matched;
        self.missing += o.missing;
        self.extra += o.extra;
        self.different += o.different;
        self.bytes_received += o.bytes_received;
        self.unreadable += o.unreadable;
        add_counts(&mut self.unreadable_columns, o.unreadable_columns);
        self.source_read += o.source_read;
        self.target_read += o.target_read;
        add_counts(&mut self.columns, o.columns);
        self.in_flight += o.in_flight;
        self.diffs.extend(o.diffs);
        if self.diffs.len() > cap {
            self.diffs.sort_by(|a, b| a.0.cmp(&b.0));
            self.diffs.truncate(cap);
        }
    }

    /// Writes a table's summed outcome into its result: counts, columns,
    /// read times, the differences in key order, and the status.
    pub fn fill(mut self, result: &mut TableResult) {
        result.source_rows = self.source_rows;
        result.target_rows = self.target_rows;
        result.matched = self.matched;
        result.missing_in_target = self.missing;
        result.extra_in_target = self.extra;
        result.different = self.different;
        result.unreadable = self.unreadable;
        result.columns_unreadable = self.unreadable_columns;
        result.source_seconds = self.source_read.as_secs_f64();
        result.target_seconds = self.target_read.as_secs_f64();
        result.columns_differing = self.columns;
        result.in_flight = self.in_flight;
        result.bytes_received = self.bytes_received;
        self.diffs.sort_by(|a, b| a.0.cmp(&b.0));
        result.differences = self.diffs.into_iter().map(|(_, d)| d).collect();
        result.settle_status();
    }

    /// Names a row by its sort key, unless `cap` differences are named.
    pub fn name(&mut self, cap: usize, sort_key: &[u8], d: impl FnOnce() -> RowDifference) {
        if self.diffs.len() < cap {
            self.diffs.push((sort_key.to_vec(), d()));
        }
    }
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

/// One chunk of a keyed pair, both sides read and digested.
pub struct MergeInput<'a> {
    pub schunk: &'a ChunkData,
    pub tchunk: &'a ChunkData,
    pub scodec: &'a SideCodec,
    pub tcodec: &'a SideCodec,
    pub sd: &'a Digest,
    pub td: &'a Digest,
    pub compared: &'a Compared,
    /// Source physical key columns, for the reports' key objects.
    pub key_names: &'a [String],
    pub cap: usize,
    pub show_values: bool,
}

/// Walks both digests in key order and classifies every row.
pub fn merge_join(m: MergeInput<'_>) -> ChunkOutcome {
    let mut out = ChunkOutcome {
        source_rows: m.sd.len() as u64,
        target_rows: m.td.len() as u64,
        ..Default::default()
    };
    if m.sd.len() == m.td.len() && m.sd.chunk_hash.is_some() && m.sd.chunk_hash == m.td.chunk_hash {
        // Identical chunks: every row matches.
        out.matched = m.sd.len() as u64;
        return out;
    }
    let mut srow = Vec::new();
    let mut trow = Vec::new();
    let rows = merge_by_key(
        m.sd.order.iter().copied(),
        m.td.order.iter().copied(),
        |s, t| m.sd.key(*s).cmp(m.td.key(*t)),
    );
    for joined in rows {
        match joined {
            Joined::SourceOnly(s) => {
                out.missing += 1;
                one_sided(&mut out, &m, Present::SourceOnly, s, &mut srow);
            }
            Joined::TargetOnly(t) => {
                out.extra += 1;
                one_sided(&mut out, &m, Present::TargetOnly, t, &mut trow);
            }
            Joined::Both(s, t) if m.sd.encoding(s) == m.td.encoding(t) => out.matched += 1,
            Joined::Both(s, t) => {
                m.schunk.row(s as usize, &mut srow);
                m.tchunk.row(t as usize, &mut trow);
                let cd = column_diff(&m, &srow, &trow);
                if cd.is_empty() {
                    // Every difference was within tolerance.
                    out.matched += 1;
                    continue;
                }
                let key = key_object(m.key_names, &m.scodec.key_idx, &srow);
                cd.record(&mut out, &m, m.sd.key(s), key);
            }
        }
    }
    out
}

/// Which side alone has a row.
#[derive(Clone, Copy)]
enum Present {
    SourceOnly,
    TargetOnly,
}

/// Records a row only one side has (missing or extra in the target).
fn one_sided<'a>(
    out: &mut ChunkOutcome,
    m: &MergeInput<'a>,
    side: Present,
    r: u32,
    row: &mut Vec<canon::Raw<'a>>,
) {
    let (chunk, codec, digest, kind) = match side {
        Present::SourceOnly => (m.schunk, m.scodec, m.sd, DiffKind::MissingInTarget),
        Present::TargetOnly => (m.tchunk, m.tcodec, m.td, DiffKind::ExtraInTarget),
    };
    out.name(m.cap, digest.key(r), || {
        chunk.row(r as usize, row);
        RowDifference::bare(key_object(m.key_names, &codec.key_idx, row), kind)
    });
}

/// A row's key as `{physical key column: value}`.
pub fn key_object(names: &[String], idx: &[usize], row: &[canon::Raw<'_>]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (n, &k) in names.iter().zip(idx) {
        map.insert(n.clone(), digest::key_json(&row[k]));
    }
    serde_json::Value::Object(map)
}

/// How one row pair's compared columns came out.
#[derive(Default)]
struct ColumnDiff {
    /// Readable on both sides, and different beyond tolerance.
    cols: Vec<String>,
    /// With `--show-values`: both readings of every column named above.
    values: Vec<ValueDifference>,
    /// Cells the source side's ORM cannot read (its read throws).
    unreadable_source: Vec<String>,
    unreadable_target: Vec<String>,
}

impl ColumnDiff {
    fn is_empty(&self) -> bool {
        self.cols.is_empty()
            && self.unreadable_source.is_empty()
            && self.unreadable_target.is_empty()
    }

    /// Counts a differing row pair and names it (a row per kind: unreadable
    /// in the source, in the target, different).
    fn record(
        self,
        out: &mut ChunkOutcome,
        m: &MergeInput<'_>,
        sort_key: &[u8],
        key: serde_json::Value,
    ) {
        if self.unreadable_source.is_empty() && self.unreadable_target.is_empty() {
            out.different += 1;
        } else {
            out.unreadable += 1;
        }
        for c in &self.cols {
            *out.columns.entry(c.clone()).or_default() += 1;
        }
        let unreadable: BTreeSet<_> = self
            .unreadable_source
            .iter()
            .chain(&self.unreadable_target)
            .collect();
        for c in unreadable {
            *out.unreadable_columns.entry(c.clone()).or_default() += 1;
        }
        let ColumnDiff {
            cols,
            values,
            unreadable_source,
            unreadable_target,
        } = self;
        for (kind, columns) in [
            (DiffKind::UnreadableInSource, unreadable_source),
            (DiffKind::UnreadableInTarget, unreadable_target),
            (DiffKind::Different, cols),
        ] {
            if columns.is_empty() {
                continue;
            }
            out.name(m.cap, sort_key, || {
                let values = m.show_values.then(|| {
                    values
                        .iter()
                        .filter(|v| columns.contains(&v.column))
                        .cloned()
                        .collect()
                });
                RowDifference {
                    values,
                    columns,
                    ..RowDifference::bare(key.clone(), kind)
                }
            });
        }
    }
}

/// Which compared columns differ for one row pair, honouring tolerances;
/// a cell one side cannot read is unreadable, never within a tolerance.
fn column_diff(m: &MergeInput<'_>, srow: &[canon::Raw<'_>], trow: &[canon::Raw<'_>]) -> ColumnDiff {
    let mut out = ColumnDiff::default();
    let mut a = Vec::with_capacity(64);
    let mut b = Vec::with_capacity(64);
    for (c, ((si, scc), (ti, tcc))) in m.scodec.cols.iter().zip(&m.tcodec.cols).enumerate() {
        a.clear();
        b.clear();
        canon::encode(&srow[*si], scc, &mut a);
        canon::encode(&trow[*ti], tcc, &mut b);
        if a == b {
            continue;
        }
        let av = canon::decode(&a).map(|x| x.0).unwrap_or(Canon::Null);
        let bv = canon::decode(&b).map(|x| x.0).unwrap_or(Canon::Null);
        let (su, tu) = (
            matches!(av, Canon::Unreadable(_)),
            matches!(bv, Canon::Unreadable(_)),
        );
        let name = &m.compared.names[c];
        if su {
            out.unreadable_source.push(name.clone());
        }
        if tu {
            out.unreadable_target.push(name.clone());
        }
        if !su && !tu {
            if let Some(tol) = &m.compared.tolerances[c]
                && canon::within_tolerance(&av, &bv, tol)
            {
                continue;
            }
            out.cols.push(name.clone());
        }
        if m.show_values {
            out.values.push(ValueDifference {
                column: name.clone(),
                source: av.to_string(),
                target: bv.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
