//! Reading a database into a manifest, and verifying a database against
//! one: the same projection (key columns first, every column in Raw mode),
//! the same chunk boundaries (the manifest's, on the verifying side), the
//! same `engine::digest` row hashes and the same chunk hash, so a chunk
//! verifies exactly when its rows are the rows the manifest saw. Chunks
//! run through the engine's one scheduler (`engine::schedule`), so they
//! are written and judged in chunk order.

use std::cell::Cell;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::Manifest;
use super::format::{self, BoundValue, ChunkRecord, ChunkSum, ColumnInfo, TableEnd, TableHeader};
use super::write::Writer;
use crate::canon::ColumnCanon;
use crate::db::fingerprint::Filter;
use crate::db::{Boundary, LiveColumn, ReadSpec, Snapshot, Wire};
use crate::engine::compare::{Joined, merge_by_key};
use crate::engine::digest::{self, HashCol, HashMode, SideCodec};
use crate::engine::multiset::{self, Keyless, Multiset};
use crate::engine::read::{Session, TableRead};
use crate::engine::schedule::{self, Schedule};
use crate::engine::{DiffKind, RowDifference, Status, TableResult};
use crate::mapping::{Mapping, ReadMode};
use crate::ui::Ui;

/// Settings for writing or verifying.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub jobs: usize,
    pub chunk_rows: usize,
    pub row_hashes: bool,
    pub max_differences: usize,
    pub filter: Filter,
}

/// Every column in Raw mode (exact database values), key columns first.
fn raw_codec(columns: usize, key: usize) -> SideCodec {
    SideCodec {
        key_idx: (0..key).collect(),
        cols: (0..columns)
            .map(|i| (i, ColumnCanon::from_read(ReadMode::Raw)))
            .collect(),
        hash: (0..columns)
            .map(|i| HashCol {
                idx: i,
                col: i,
                mode: HashMode::Raw,
            })
            .collect(),
    }
}

/// A table's read as a manifest has it: `columns` (key columns first), in
/// Raw mode, ordered by `key`.
fn manifest_read(
    schema: &Option<String>,
    name: &str,
    columns: &[String],
    key: &[String],
    live: Vec<LiveColumn>,
) -> Result<TableRead> {
    let spec = ReadSpec {
        schema: schema.clone(),
        table: name.to_string(),
        columns: columns.to_vec(),
        key: key.to_vec(),
        where_clause: None,
    };
    TableRead::new(spec, live)
}

/// A keyless table's multiset, every column in Raw mode.
async fn raw_multiset(
    snapshot: &Snapshot,
    schema: &Option<String>,
    name: &str,
    columns: &[String],
    jobs: usize,
    chunk_rows: usize,
) -> Result<Multiset> {
    Keyless {
        schema: schema.clone(),
        table: name.to_string(),
        columns: columns
            .iter()
            .map(|n| (n.clone(), ColumnCanon::from_read(ReadMode::Raw)))
            .collect(),
        where_clause: None,
    }
    .multiset(snapshot, jobs, chunk_rows)
    .await
}

/// Reads every chunk of `read` (split at `bounds`) and hands each chunk's
/// summary to `on_chunk` in chunk order: its row count and hash, and its
/// encoded rows where `keep` says so.
async fn summarize_chunks(
    snapshot: &Snapshot,
    read: &TableRead,
    table: &str,
    bounds: &[Boundary],
    jobs: usize,
    keep: impl Fn(usize, &ChunkSum) -> bool,
    mut on_chunk: impl FnMut(usize, ChunkSum) -> Result<()>,
) -> Result<()> {
    let codec = std::sync::Arc::new(raw_codec(read.spec.columns.len(), read.spec.key.len()));
    schedule::run(
        &schedule::chunks(table, bounds),
        &Schedule::new(jobs),
        async |chunk, lane: &mut Session, _| {
            let (rows, _) = read.read(snapshot, lane, &chunk).await?;
            let codec = codec.clone();
            let mut sum =
                schedule::on_rayon(move || format::summarize(&digest::digest(&rows, &codec), true))
                    .await?;
            if !keep(chunk.index, &sum) {
                sum.rows_encoded = Vec::new();
            }
            Ok(sum)
        },
        |chunk, sum| on_chunk(chunk.index, sum),
    )
    .await?;
    Ok(())
}

/// One table as written into a manifest.
#[derive(Debug, Clone)]
pub struct WrittenTable {
    pub name: String,
    pub rows: u64,
    pub chunks: usize,
    pub keyless: bool,
    pub seconds: f64,
}

/// Describes every table of `catalog` (views and excluded tables left out)
/// into `writer`, reading inside `snapshot`.
pub async fn write_tables(
    snapshot: &Snapshot,
    catalog: &Mapping,
    writer: &mut Writer,
    opts: &ScanOptions,
    ui: &Ui,
) -> Result<Vec<WrittenTable>> {
    let mut out = Vec::new();
    let mut seq: u32 = 0;
    for table in &catalog.tables {
        if table.is_view || opts.filter.excludes(table.schema.as_deref(), &table.name) {
            continue;
        }
        let started = Instant::now();
        let qualified = table.qualified_name();
        let mut w = snapshot.worker().await?;
        let live = w.columns(table.schema.as_deref(), &table.name).await?;
        if live.is_empty() {
            ui.warn(format!(
                "{qualified} is gone from the snapshot; left out of the manifest"
            ));
            continue;
        }
        // Key columns first, then the rest in column order; types as the
        // snapshot has them.
        let key: Vec<String> = table.primary_key.clone();
        let mut columns = key.clone();
        columns.extend(
            live.iter()
                .map(|c| c.name.clone())
                .filter(|c| !key.contains(c)),
        );
        let infos = columns
            .iter()
            .map(|c| {
                let l = live.iter().find(|l| &l.name == c).with_context(|| {
                    format!("key column {c} of {qualified} is not in the table")
                })?;
                Ok(ColumnInfo {
                    name: c.clone(),
                    type_name: l.cast_type.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut header = TableHeader {
            seq,
            schema: table.schema.clone(),
            name: table.name.clone(),
            key: key.clone(),
            columns: infos,
            boundaries: Vec::new(),
        };
        if key.is_empty() {
            drop(w);
            let m = raw_multiset(
                snapshot,
                &table.schema,
                &table.name,
                &columns,
                opts.jobs,
                opts.chunk_rows,
            )
            .await
            .with_context(|| format!("reading {qualified}"))?;
            writer.table(&header)?;
            writer.table_end(&TableEnd {
                seq,
                rows: m.rows,
                multiset: Some(m.sum_hex()),
                seconds: started.elapsed().as_secs_f64(),
            })?;
            ui.info(format!(
                "{qualified:<28} {:>9} rows  multiset (no primary key)  {:.2}s",
                m.rows,
                started.elapsed().as_secs_f64()
            ));
            out.push(WrittenTable {
                name: qualified,
                rows: m.rows,
                chunks: 0,
                keyless: true,
                seconds: started.elapsed().as_secs_f64(),
            });
            seq += 1;
            continue;
        }
        let read = manifest_read(&table.schema, &table.name, &columns, &key, live)?;
        let (bounds, _) = read.boundaries(&mut w, opts.chunk_rows).await?;
        drop(w);
        header.boundaries = bounds
            .iter()
            .map(|b| b.iter().map(BoundValue::from_owned).collect())
            .collect();
        writer.table(&header)?;
        let keep = opts.row_hashes;
        let mut rows = 0u64;
        summarize_chunks(
            snapshot,
            &read,
            &qualified,
            &bounds,
            opts.jobs,
            |_, _| keep,
            |i, sum| {
                rows += sum.rows;
                writer.chunk(
                    &ChunkRecord {
                        seq,
                        chunk: i as u32,
                        rows: sum.rows,
                        hash: sum.hash,
                    },
                    keep.then_some(&sum.rows_encoded[..]),
                )
            },
        )
        .await
        .with_context(|| format!("reading {qualified}"))?;
        let seconds = started.elapsed().as_secs_f64();
        writer.table_end(&TableEnd {
            seq,
            rows,
            multiset: None,
            seconds,
        })?;
        ui.info(format!(
            "{qualified:<28} {rows:>9} rows  {:>5} chunks  {seconds:.2}s",
            bounds.len() + 1
        ));
        out.push(WrittenTable {
            name: qualified,
            rows,
            chunks: bounds.len() + 1,
            keyless: false,
            seconds,
        });
        seq += 1;
    }
    Ok(out)
}

/// A chunk whose rows differ from the manifest's.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkFinding {
    pub table: String,
    pub chunk: usize,
    /// The key the chunk starts after (`null`: the start of the table).
    pub after: serde_json::Value,
    /// The last key the chunk holds (`null`: the end of the table).
    pub through: serde_json::Value,
    pub manifest_rows: u64,
    pub target_rows: u64,
    pub manifest_hash: String,
    pub target_hash: String,
}

/// What verifying the tables found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub tables: Vec<TableResult>,
    pub chunks: Vec<ChunkFinding>,
    pub notes: Vec<String>,
}

/// Verifies every table of `manifest` against the database of `snapshot`,
/// calling `after_each` with the results so far. One failing table does
/// not stop the others: it becomes an `error` row.
pub async fn verify_tables(
    manifest: &Manifest,
    snapshot: &Snapshot,
    opts: &ScanOptions,
    ui: &Ui,
    mut after_each: impl FnMut(&Verified) -> Result<()>,
) -> Result<Verified> {
    let mut v = Verified::default();
    for ti in 0..manifest.tables.len() {
        let t = &manifest.tables[ti];
        let name = t.header.qualified_name();
        let started = Instant::now();
        let mut result = TableResult {
            columns_compared: t.header.columns.iter().map(|c| c.name.clone()).collect(),
            source_rows: t.end.rows,
            chunks: t.header.chunks().max(1),
            ..TableResult::new(None, &name, &name)
        };
        if let Err(e) = verify_table(manifest, ti, snapshot, opts, &mut result, &mut v).await {
            result.status = Status::Error;
            result.error = Some(format!("{e:#}"));
        }
        result.wall_seconds = started.elapsed().as_secs_f64();
        result.mark_truncated(opts.max_differences);
        ui.result_line(crate::report::verdict::result_line(&result));
        if let Some(e) = &result.error {
            ui.warn(format!("{name}: {e}"));
        }
        v.tables.push(result);
        after_each(&v)?;
    }
    Ok(v)
}

async fn verify_table(
    manifest: &Manifest,
    ti: usize,
    snapshot: &Snapshot,
    opts: &ScanOptions,
    result: &mut TableResult,
    v: &mut Verified,
) -> Result<()> {
    let t = &manifest.tables[ti];
    let h = &t.header;
    let name = h.qualified_name();
    let mut w = snapshot.worker().await?;
    let live = w.columns(h.schema.as_deref(), &h.name).await?;
    drop(w);
    if live.is_empty() {
        result.status = Status::Differs;
        result.missing_in_target = t.end.rows;
        v.notes
            .push(format!("{name} is missing from the target database"));
        return Ok(());
    }
    let mut mismatched = Vec::new();
    for c in &h.columns {
        match live.iter().find(|l| l.name == c.name) {
            None => mismatched.push(format!("{} is missing", c.name)),
            Some(l) if l.cast_type != c.type_name => mismatched.push(format!(
                "{} is {} in the target, {} in the manifest",
                c.name, l.cast_type, c.type_name
            )),
            Some(_) => {}
        }
    }
    if !mismatched.is_empty() {
        result.status = Status::Differs;
        v.notes.push(format!(
            "{name}: rows not compared, the columns differ from the manifest ({}); catalog.csv lists them",
            mismatched.join("; ")
        ));
        return Ok(());
    }
    let columns: Vec<String> = h.columns.iter().map(|c| c.name.clone()).collect();
    let read_started = Instant::now();
    if h.key.is_empty() {
        let expected = t
            .end
            .multiset
            .as_deref()
            .and_then(|s| Multiset::from_hex(t.end.rows, s))
            .context("the manifest's multiset is malformed")?;
        let actual = raw_multiset(
            snapshot,
            &h.schema,
            &h.name,
            &columns,
            opts.jobs,
            manifest.header.chunk_rows.max(1),
        )
        .await?;
        multiset::multiset_result(result, expected, actual);
        result.target_seconds = read_started.elapsed().as_secs_f64();
        v.notes.push(multiset::note(&name));
        return Ok(());
    }

    let read = manifest_read(&h.schema, &h.name, &columns, &h.key, live)?;
    let key_wires: Vec<Wire> = read.wires[..h.key.len()].to_vec();
    let bounds = h
        .bounds()
        .context("the manifest's chunk boundaries are malformed")?;
    let expected: Vec<(u64, [u8; 32])> = t.chunks.iter().map(|c| (c.rows, c.hash)).collect();
    let cap = opts.max_differences;
    let mut target_rows = 0u64;
    let mut named: Vec<(Vec<u8>, DiffKind)> = Vec::new();
    let mut row_level = false;
    let mut count_only = false;
    summarize_chunks(
        snapshot,
        &read,
        &name,
        &bounds,
        opts.jobs,
        // A chunk's rows are kept only to name the rows of a differing chunk.
        |i, sum| expected.get(i) != Some(&(sum.rows, sum.hash)),
        |i, sum| {
            target_rows += sum.rows;
            let (m_rows, m_hash) = expected[i];
            if (sum.rows, sum.hash) == (m_rows, m_hash) {
                result.matched += sum.rows;
                return Ok(());
            }
            v.chunks.push(ChunkFinding {
                table: name.clone(),
                chunk: i,
                after: bound_json(&h.key, i.checked_sub(1).and_then(|j| h.boundaries.get(j))),
                through: bound_json(&h.key, h.boundaries.get(i)),
                manifest_rows: m_rows,
                target_rows: sum.rows,
                manifest_hash: hex::encode(m_hash),
                target_hash: hex::encode(sum.hash),
            });
            match manifest.chunk_rows(ti, i)? {
                Some(m) => {
                    row_level = true;
                    let d = compare_rows(&m, &sum.rows_encoded, cap.saturating_sub(named.len()))
                        .context("the manifest's row hashes are malformed")?;
                    result.matched += d.matched;
                    result.missing_in_target += d.missing;
                    result.extra_in_target += d.extra;
                    result.different += d.different;
                    named.extend(d.named);
                }
                None => {
                    count_only = true;
                    result.missing_in_target += m_rows.saturating_sub(sum.rows);
                    result.extra_in_target += sum.rows.saturating_sub(m_rows);
                    let same_count = u64::from(m_rows == sum.rows);
                    result.different += same_count;
                    result.matched += m_rows.min(sum.rows) - same_count;
                }
            }
            Ok(())
        },
    )
    .await?;
    result.target_rows = target_rows;
    result.target_seconds = read_started.elapsed().as_secs_f64();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named.truncate(cap);
    for (key, kind) in named {
        let key = format::key_json(&h.key, &key_wires, &key)
            .unwrap_or_else(|| serde_json::json!({ "key_hex": hex::encode(&key) }));
        result.differences.push(RowDifference::bare(key, kind));
    }
    if result.missing_in_target + result.extra_in_target + result.different > 0
        || target_rows != t.end.rows
    {
        result.status = Status::Differs;
    }
    if row_level {
        v.notes.push(format!(
            "{name}: differing rows named from the manifest's row hashes (which columns differ is not recorded)"
        ));
    }
    if count_only {
        v.notes.push(format!(
            "{name}: the manifest has no row hashes, so differing chunks are named (chunks.csv) but not their rows; counts are lower bounds. Write manifests with --row-hashes to name rows"
        ));
    }
    Ok(())
}

fn bound_json(key: &[String], b: Option<&Vec<BoundValue>>) -> serde_json::Value {
    match b {
        None => serde_json::Value::Null,
        Some(vals) => serde_json::Value::Object(
            key.iter()
                .zip(vals)
                .map(|(k, v)| (k.clone(), v.json()))
                .collect(),
        ),
    }
}

/// Row-level differences between a manifest chunk and the same chunk read now.
#[derive(Debug, Default, PartialEq)]
pub struct RowDiffs {
    pub matched: u64,
    pub missing: u64,
    pub extra: u64,
    pub different: u64,
    /// Up to the cap: (encoded key, kind), in key order.
    pub named: Vec<(Vec<u8>, DiffKind)>,
}

/// Merge-joins two chunks' encoded rows (both in key order). `None` when
/// either is malformed.
pub fn compare_rows(expected: &[u8], actual: &[u8], cap: usize) -> Option<RowDiffs> {
    let malformed = Cell::new(false);
    let well_formed = |row: Option<_>| {
        malformed.set(malformed.get() || row.is_none());
        row
    };
    let rows = merge_by_key(
        format::rows(expected).map_while(well_formed),
        format::rows(actual).map_while(well_formed),
        |a, b| a.0.cmp(b.0),
    );
    let mut out = RowDiffs::default();
    for joined in rows {
        let (key, kind) = match joined {
            Joined::Both((_, a), (_, b)) if a == b => {
                out.matched += 1;
                continue;
            }
            Joined::Both((key, _), _) => {
                out.different += 1;
                (key, DiffKind::Different)
            }
            Joined::SourceOnly((key, _)) => {
                out.missing += 1;
                (key, DiffKind::MissingInTarget)
            }
            Joined::TargetOnly((key, _)) => {
                out.extra += 1;
                (key, DiffKind::ExtraInTarget)
            }
        };
        if out.named.len() < cap {
            out.named.push((key.to_vec(), kind));
        }
    }
    (!malformed.get()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(rows: &[(&[u8], u8)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, h) in rows {
            format::push_row(&mut b, k, &[*h; 16]);
        }
        b
    }

    #[test]
    fn rows_are_classified_by_key_and_hash() {
        let m = enc(&[(b"a", 1), (b"b", 2), (b"c", 3), (b"e", 5)]);
        let t = enc(&[(b"a", 1), (b"b", 9), (b"d", 4), (b"e", 5), (b"f", 6)]);
        let d = compare_rows(&m, &t, 10).unwrap();
        assert_eq!((d.matched, d.missing, d.extra, d.different), (2, 1, 2, 1));
        assert_eq!(
            d.named,
            vec![
                (b"b".to_vec(), DiffKind::Different),
                (b"c".to_vec(), DiffKind::MissingInTarget),
                (b"d".to_vec(), DiffKind::ExtraInTarget),
                (b"f".to_vec(), DiffKind::ExtraInTarget),
            ]
        );
        let capped = compare_rows(&m, &t, 1).unwrap();
        assert_eq!(capped.named.len(), 1);
        assert_eq!(capped.extra, 2, "counts stay true past the cap");
    }

    #[test]
    fn malformed_rows_are_refused() {
        let mut m = enc(&[(b"a", 1)]);
        m.pop();
        assert!(compare_rows(&m, &enc(&[(b"a", 1)]), 10).is_none());
    }
}
