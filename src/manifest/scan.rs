//! Reading a database into a manifest, and verifying a database against
//! one: the same projection (key columns first, every column in Raw mode),
//! the same chunk boundaries (the manifest's, on the verifying side), the
//! same `engine::digest` row hashes and the same chunk hash, so a chunk
//! verifies exactly when its rows are the rows the manifest saw.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::Manifest;
use super::format::{self, BoundValue, ChunkRecord, ChunkSum, ColumnInfo, TableEnd, TableHeader};
use super::write::Writer;
use crate::canon::ColumnCanon;
use crate::db::fingerprint::Filter;
use crate::db::{ReadSpec, Snapshot, Wire};
use crate::engine::digest::{self, HashCol, HashMode, SideCodec};
use crate::engine::multiset::{self, Multiset};
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

fn raw_columns(names: &[String]) -> Vec<(String, ColumnCanon)> {
    names
        .iter()
        .map(|n| (n.clone(), ColumnCanon::from_read(ReadMode::Raw)))
        .collect()
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
            let m = multiset::table_multiset(
                snapshot,
                table.schema.as_deref(),
                &table.name,
                raw_columns(&columns),
                None,
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
        let spec = ReadSpec {
            schema: table.schema.clone(),
            table: table.name.clone(),
            columns: columns.clone(),
            key: key.clone(),
            where_clause: None,
        };
        let wires = multiset::wires_of(&spec, &live)?;
        let (bounds, _) = w.boundaries(&spec, opts.chunk_rows).await?;
        drop(w);
        header.boundaries = bounds
            .iter()
            .map(|b| b.iter().map(BoundValue::from_owned).collect())
            .collect();
        writer.table(&header)?;
        let codec = Arc::new(raw_codec(columns.len(), key.len()));
        let keep = opts.row_hashes;
        let mut rows = 0u64;
        multiset::scan(
            snapshot,
            &spec,
            &live,
            &wires,
            &bounds,
            opts.jobs,
            move |_, chunk| format::summarize(&digest::digest(chunk, &codec), keep),
            |i, sum: ChunkSum| {
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

fn blank_result(name: &str, columns: &[ColumnInfo]) -> TableResult {
    TableResult {
        source_table: name.to_string(),
        target_table: name.to_string(),
        columns_compared: columns.iter().map(|c| c.name.clone()).collect(),
        ..TableResult::default()
    }
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
        let mut result = blank_result(&name, &t.header.columns);
        result.source_rows = t.end.rows;
        result.chunks = t.header.chunks().max(1);
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
        let actual = multiset::table_multiset(
            snapshot,
            h.schema.as_deref(),
            &h.name,
            raw_columns(&columns),
            None,
            opts.jobs,
            manifest.header.chunk_rows.max(1),
        )
        .await?;
        multiset::multiset_result(result, expected, actual);
        result.target_seconds = read_started.elapsed().as_secs_f64();
        v.notes.push(multiset::note(&name));
        return Ok(());
    }

    let spec = ReadSpec {
        schema: h.schema.clone(),
        table: h.name.clone(),
        columns: columns.clone(),
        key: h.key.clone(),
        where_clause: None,
    };
    let wires = multiset::wires_of(&spec, &live)?;
    let key_wires: Vec<Wire> = wires[..h.key.len()].to_vec();
    let bounds = h
        .bounds()
        .context("the manifest's chunk boundaries are malformed")?;
    let expected: Arc<Vec<(u64, [u8; 32])>> =
        Arc::new(t.chunks.iter().map(|c| (c.rows, c.hash)).collect());
    let codec = Arc::new(raw_codec(columns.len(), h.key.len()));
    let exp = expected.clone();
    let cap = opts.max_differences;
    let mut target_rows = 0u64;
    let mut named: Vec<(Vec<u8>, DiffKind)> = Vec::new();
    let mut row_level = false;
    let mut count_only = false;
    multiset::scan(
        snapshot,
        &spec,
        &live,
        &wires,
        &bounds,
        opts.jobs,
        move |i, chunk| {
            let mut sum = format::summarize(&digest::digest(chunk, &codec), true);
            if exp.get(i) == Some(&(sum.rows, sum.hash)) {
                sum.rows_encoded = Vec::new();
            }
            sum
        },
        |i, sum: ChunkSum| {
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
        result.differences.push(RowDifference {
            key: format::key_json(&h.key, &key_wires, &key)
                .unwrap_or_else(|| serde_json::json!({ "key_hex": hex::encode(&key) })),
            kind,
            columns: Vec::new(),
            values: None,
        });
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
    let mut out = RowDiffs::default();
    let mut a = format::rows(expected).peekable();
    let mut b = format::rows(actual).peekable();
    let name = |out: &mut RowDiffs, key: &[u8], kind| {
        if out.named.len() < cap {
            out.named.push((key.to_vec(), kind));
        }
    };
    loop {
        let (x, y) = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(None), _) | (_, Some(None)) => return None,
            (x, y) => (x.copied().flatten(), y.copied().flatten()),
        };
        match (x, y) {
            (Some((ka, ha)), Some((kb, hb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Equal => {
                    if ha == hb {
                        out.matched += 1;
                    } else {
                        out.different += 1;
                        name(&mut out, ka, DiffKind::Different);
                    }
                    a.next();
                    b.next();
                }
                std::cmp::Ordering::Less => {
                    out.missing += 1;
                    name(&mut out, ka, DiffKind::MissingInTarget);
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    out.extra += 1;
                    name(&mut out, kb, DiffKind::ExtraInTarget);
                    b.next();
                }
            },
            (Some((ka, _)), None) => {
                out.missing += 1;
                name(&mut out, ka, DiffKind::MissingInTarget);
                a.next();
            }
            (None, Some((kb, _))) => {
                out.extra += 1;
                name(&mut out, kb, DiffKind::ExtraInTarget);
                b.next();
            }
            (None, None) => break,
        }
    }
    Some(out)
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
