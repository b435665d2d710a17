//! Tables without a key, compared as multisets, and the one-sided chunked
//! scan that multisets and manifests share.
//!
//! Owns: [`scan`] (read every chunk of one table in one snapshot with
//! `jobs` sessions, hand each chunk to a rayon task, collect the results in
//! one place) and the multiset of a keyless table: the count of its rows and
//! the sum of their 128-bit row hashes mod 2^128. The sum is
//! order-independent, so each side may split its table into chunks of its
//! own, by a physical pseudo key (PostgreSQL `ctid`, SQLite `rowid`) that
//! is stable inside one snapshot but means nothing across databases. A
//! multiset detects any difference in content and multiplicity; it cannot
//! name rows, so a differing keyless table reports `different` = the count
//! difference, or 1. It does not merge-join keyed tables (that is
//! [`super::check_table`]'s own path).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};

use super::digest::{self, HashCol, HashMode, SideCodec};
use super::{DiffKind, EngineOptions, RowDifference, Sides, Status, TableResult};
use crate::canon::ColumnCanon;
use crate::db::{Boundary, ChunkData, LiveColumn, ReadSpec, Snapshot, Wire, Worker};
use crate::mapping::Mapping;
use crate::plan::TablePair;

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
        wire: Wire::Text,
        cast_to_text: true,
        not_null: true,
    }
}

/// The wire of each projected column, or which one the live table lacks.
pub fn wires_of(spec: &ReadSpec, live: &[LiveColumn]) -> Result<Arc<[Wire]>> {
    spec.columns
        .iter()
        .map(|c| {
            live.iter()
                .find(|l| &l.name == c)
                .map(|l| l.wire)
                .with_context(|| {
                    format!(
                        "column {c} of {} is missing from the live table; run `parity schema` to see the drift",
                        spec.table
                    )
                })
        })
        .collect::<Result<Vec<_>>>()
        .map(Into::into)
}

/// Reads every chunk of `spec` (chunk i holds keys in
/// `(bounds[i-1], bounds[i]]`) in `snapshot` with up to `jobs` sessions.
/// `work` runs on rayon for each chunk as it arrives; `sink` receives its
/// result on the calling task, in completion order. A lost connection is
/// retried once on a fresh session in the same snapshot.
#[allow(clippy::too_many_arguments)]
pub async fn scan<T, W, S>(
    snapshot: &Snapshot,
    spec: &ReadSpec,
    live: &[LiveColumn],
    wires: &Arc<[Wire]>,
    bounds: &[Boundary],
    jobs: usize,
    work: W,
    mut sink: S,
) -> Result<()>
where
    T: Send + 'static,
    W: Fn(usize, &ChunkData) -> T + Send + Sync + 'static,
    S: FnMut(usize, T) -> Result<()>,
{
    let work = Arc::new(work);
    let chunks = bounds.len() + 1;
    let next = AtomicUsize::new(0);
    let workers = jobs.max(1).min(chunks);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, T)>(workers * 2);
    let readers = async {
        let r = futures::future::try_join_all((0..workers).map(|_| {
            let tx = tx.clone();
            let work = work.clone();
            let next = &next;
            async move {
                let mut worker: Option<Worker> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= chunks {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let lower = if i == 0 { None } else { bounds.get(i - 1) };
                    let upper = bounds.get(i);
                    let chunk =
                        read_retrying(snapshot, &mut worker, spec, live, wires, lower, upper)
                            .await?;
                    let (otx, orx) = tokio::sync::oneshot::channel();
                    let work = work.clone();
                    rayon::spawn(move || {
                        let _ = otx.send(work(i, &chunk));
                    });
                    let out = orx.await.context("the hashing pool stopped")?;
                    if tx.send((i, out)).await.is_err() {
                        // The consumer failed; its error is the one to report.
                        return Ok(());
                    }
                }
            }
        }))
        .await;
        drop(tx);
        r
    };
    let consumer = async {
        while let Some((i, out)) = rx.recv().await {
            sink(i, out)?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let (r, c) = tokio::join!(readers, consumer);
    c?;
    r?;
    Ok(())
}

async fn read_retrying(
    snapshot: &Snapshot,
    worker: &mut Option<Worker>,
    spec: &ReadSpec,
    live: &[LiveColumn],
    wires: &Arc<[Wire]>,
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<ChunkData> {
    let mut retried = false;
    loop {
        if worker.is_none() {
            *worker = Some(snapshot.worker().await?);
        }
        let w = worker.as_mut().expect("worker present");
        match w.read_chunk(spec, live, wires, lower, upper).await {
            Ok(c) => return Ok(c),
            Err(e) if !retried && crate::db::is_connection_lost(&e) => {
                *worker = None;
                retried = true;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The multiset of one table's `columns` (each with its canonicaliser) in
/// `snapshot`: chunked by the backend's row address, hashed canonically.
pub async fn table_multiset(
    snapshot: &Snapshot,
    schema: Option<&str>,
    table: &str,
    columns: Vec<(String, ColumnCanon)>,
    where_clause: Option<String>,
    jobs: usize,
    chunk_rows: usize,
) -> Result<Multiset> {
    let (m, _) = table_multiset_with(
        snapshot,
        schema,
        table,
        columns,
        where_clause,
        jobs,
        chunk_rows,
        false,
    )
    .await?;
    Ok(m)
}

/// Column name → cells the reading ORM cannot read (its read throws).
type Unreadable = BTreeMap<String, u64>;

/// [`table_multiset`], and with `count_unreadable` the unreadable cells
/// per column (issue 9: a keyless table's rows cannot be named, but cells
/// an ORM throws on can still be counted).
#[allow(clippy::too_many_arguments)]
async fn table_multiset_with(
    snapshot: &Snapshot,
    schema: Option<&str>,
    table: &str,
    columns: Vec<(String, ColumnCanon)>,
    where_clause: Option<String>,
    jobs: usize,
    chunk_rows: usize,
    count_unreadable: bool,
) -> Result<(Multiset, Unreadable)> {
    let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
    let mut w = snapshot.worker().await?;
    let mut live = w.columns(schema, table).await?;
    if live.is_empty() {
        anyhow::bail!("table {table} does not exist");
    }
    let pseudo = pseudo_key(snapshot);
    let spec = ReadSpec {
        schema: schema.map(str::to_string),
        table: table.to_string(),
        columns: columns.iter().map(|(n, _)| n.clone()).collect(),
        key: vec![pseudo.name.clone()],
        where_clause,
    };
    let wires = wires_of(&spec, &live)?;
    live.push(pseudo);
    let (bounds, _) = w.boundaries(&spec, chunk_rows).await?;
    drop(w);
    let codec = Arc::new(SideCodec {
        key_idx: Vec::new(),
        hash: (0..columns.len())
            .map(|i| HashCol {
                idx: i,
                col: i,
                mode: HashMode::Canonical,
            })
            .collect(),
        cols: columns
            .into_iter()
            .enumerate()
            .map(|(i, (_, cc))| (i, cc))
            .collect(),
    });
    let mut total = Multiset::default();
    let mut unreadable = vec![0u64; names.len()];
    scan(
        snapshot,
        &spec,
        &live,
        &wires,
        &bounds,
        jobs,
        move |_, chunk| {
            let d = digest::digest(chunk, &codec);
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
    result.differences.push(RowDifference {
        key: serde_json::json!({}),
        kind: DiffKind::Different,
        columns: Vec::new(),
        values: None,
    });
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
                key: serde_json::json!({}),
                kind,
                columns: m.keys().cloned().collect(),
                values: None,
            });
        }
    }
}

/// The note every report carries for a keyless table.
pub fn note(table: &str) -> String {
    format!(
        "{table} has no primary key: compared as a multiset (row count and sum of row hashes); a difference is detected but its rows cannot be named"
    )
}

/// Checks a pair without a key (the plan allows one only when asked:
/// `backup`). Never fails: errors become an `error` row.
pub async fn check_table(
    sides: &Sides,
    pair: &TablePair,
    source_map: &Mapping,
    target_map: &Mapping,
    opts: &EngineOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> TableResult {
    let started = Instant::now();
    let mut result = super::empty_result(pair);
    result.chunks = 1;
    let compared: Vec<_> = pair.columns.iter().filter(|c| !c.ignore).collect();
    let s_cols = compared
        .iter()
        .map(|c| {
            (
                c.source.name.clone(),
                ColumnCanon::new(&c.source, source_map),
            )
        })
        .collect();
    let t_cols = compared
        .iter()
        .map(|c| {
            (
                c.target.name.clone(),
                ColumnCanon::new(&c.target, target_map),
            )
        })
        .collect();
    // Only an ORM's reading can throw; catalog reads (backups) skip the count.
    let count = source_map.orm != crate::mapping::Orm::Catalog
        || target_map.orm != crate::mapping::Orm::Catalog;
    let read = |snapshot: Arc<Snapshot>, table: &crate::mapping::Table, cols| {
        let schema = table.schema.clone();
        let name = table.name.clone();
        let filter = pair.where_clause.clone();
        async move {
            table_multiset_with(
                &snapshot,
                schema.as_deref(),
                &name,
                cols,
                filter,
                opts.jobs,
                opts.chunk_rows,
                count,
            )
            .await
        }
    };
    let t0 = Instant::now();
    let (s, t) = tokio::join!(
        read(sides.source.clone(), &pair.source, s_cols),
        read(sides.target.clone(), &pair.target, t_cols)
    );
    let seconds = t0.elapsed().as_secs_f64();
    match (s, t) {
        (Ok((s, su)), Ok((t, tu))) => {
            multiset_result(&mut result, s, t);
            unreadable_result(&mut result, &su, &tu);
            result.source_seconds = seconds;
            result.target_seconds = seconds;
            if let Some(pb) = progress {
                pb.set_length(s.rows);
                pb.set_position(s.rows);
            }
        }
        (Err(e), _) => {
            result.status = Status::Error;
            result.error = Some(format!("source: {e:#}"));
        }
        (_, Err(e)) => {
            result.status = Status::Error;
            result.error = Some(format!("target: {e:#}"));
        }
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
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
        let mut r = super::super::empty_result_for_tests();
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
        let pair_result = || TableResult {
            source_table: "t".into(),
            target_table: "t".into(),
            chunks: 1,
            ..TableResult::default()
        };
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
