//! `parity merge` (issue 15): the report folders of a sharded check, read
//! back and combined into the one report an unsharded run would have
//! written (timings apart).
//!
//! Owns: reading a shard folder's `report.json`, the checks that the
//! folders are exactly the N shards of one run (same plan, config and
//! parity version; each shard once; every chunk read by exactly one
//! shard), and combining per-table results (counts summed, differences put
//! back in key order and capped as the run capped them). It queries
//! nothing and renders nothing itself: the usual writers render the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::{RunReport, SideInfo, Writers};
use crate::engine::shard::{ChunkRange, Partial};
use crate::engine::{self, Status, TableResult};

/// What `parity merge` reads of a shard's `report.json`.
#[derive(Debug, Deserialize)]
struct ShardReport {
    command: String,
    started_at: String,
    source: SideInfo,
    target: SideInfo,
    tables: Vec<TableResult>,
    #[serde(default)]
    only_source_tables: Vec<String>,
    #[serde(default)]
    only_target_tables: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    in_progress: bool,
    partial: Option<Partial>,
}

/// A shard folder, read.
struct ShardFolder {
    dir: PathBuf,
    report: ShardReport,
    partial: Partial,
}

/// The writers of a merged report: a check's, and `junit.xml`.
pub fn merge_writers() -> Writers {
    let mut w = super::check_writers();
    w.push(Box::new(super::junit::JUNIT));
    w
}

/// Reads the shard folders `dirs`, checks that they are every shard of one
/// run exactly once, and combines them. Errors name the folders to fix.
pub fn merge(dirs: &[PathBuf]) -> Result<RunReport> {
    let shards = dirs.iter().map(|d| read(d)).collect::<Result<Vec<_>>>()?;
    check_set(&shards)?;
    let first = &shards[0];
    let cap = first.partial.max_differences;
    let mut tables: Vec<TableResult> = Vec::new();
    for (i, t) in first.report.tables.iter().enumerate() {
        let rows: Vec<&TableResult> = shards
            .iter()
            .map(|s| same_table(s, i, t))
            .collect::<Result<_>>()?;
        tables.push(combine(&rows, cap));
    }
    check_coverage(&shards, &tables)?;
    let mut notes = first.report.notes.clone();
    for s in &shards[1..] {
        for n in &s.report.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    let mut run = RunReport {
        format_version: 1,
        command: first.report.command.clone(),
        started_at: shards
            .iter()
            .map(|s| s.report.started_at.clone())
            .min()
            .unwrap_or_default(),
        source: first.report.source.clone(),
        target: first.report.target.clone(),
        only_source_tables: first.report.only_source_tables.clone(),
        only_target_tables: first.report.only_target_tables.clone(),
        notes,
        in_progress: false,
        ..RunReport::default()
    };
    run.exit_code = Some(engine::exit_code(&tables));
    run.tables = tables;
    run.verdict = Some(super::verdict::data_verdict(
        &run,
        &first.partial.repositories,
    ));
    Ok(run)
}

/// One shard folder's `report.json`, which must be a finished shard's.
fn read(dir: &Path) -> Result<ShardFolder> {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} has no report.json to merge", dir.display()))?;
    let report: ShardReport = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a parity report", path.display()))?;
    let Some(partial) = report.partial.clone() else {
        bail!(
            "{} is not a shard's report folder (its report.json has no partial section); merge the folders of `check --shard I/N`",
            dir.display()
        );
    };
    if report.in_progress {
        bail!(
            "{} holds shard {}/{} unfinished; run it to the end (or `check --resume {}`) before merging",
            dir.display(),
            partial.shard,
            partial.shards,
            dir.display()
        );
    }
    Ok(ShardFolder {
        dir: dir.to_path_buf(),
        report,
        partial,
    })
}

/// Every shard of one run, each once: else one line naming what is wrong.
fn check_set(shards: &[ShardFolder]) -> Result<()> {
    // The run most folders belong to is the reference; the others are
    // foreign (a single odd folder is named, not the many that agree).
    let id = |p: &Partial| {
        (
            p.parity_version.clone(),
            p.plan_id.clone(),
            p.config_hash.clone(),
            p.shards,
        )
    };
    let votes = |p: &Partial| shards.iter().filter(|s| id(&s.partial) == id(p)).count();
    let reference = shards
        .iter()
        .max_by_key(|s| (votes(&s.partial), std::cmp::Reverse(s.partial.shard)))
        .unwrap_or(&shards[0]);
    let first = &reference.partial;
    let mut problems = Vec::new();
    let r = reference.dir.display();
    for s in shards {
        let p = &s.partial;
        let d = s.dir.display();
        if p.parity_version != first.parity_version {
            problems.push(format!(
                "{d} is from parity {}, {r} from parity {}",
                p.parity_version, first.parity_version
            ));
        } else if p.plan_id != first.plan_id {
            problems.push(format!("{d} is from another plan than {r}"));
        } else if p.config_hash != first.config_hash {
            problems.push(format!("{d} is from another config than {r}"));
        } else if p.shards != first.shards {
            problems.push(format!(
                "{d} is from a run of {} shards, {r} from a run of {}",
                p.shards, first.shards
            ));
        }
    }
    if problems.is_empty() {
        let n = first.shards;
        let mut by_index: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for s in shards {
            by_index
                .entry(s.partial.shard)
                .or_default()
                .push(s.dir.display().to_string());
        }
        for i in 0..n {
            match by_index.get(&i).map(Vec::as_slice) {
                None => problems.push(format!("shard {i}/{n} missing")),
                Some([_]) => {}
                Some(dirs) => {
                    problems.push(format!("shard {i}/{n} given twice: {}", dirs.join(", ")))
                }
            }
        }
    }
    if !problems.is_empty() {
        bail!("cannot merge: {}", problems.join("; "));
    }
    Ok(())
}

/// Shard `s`'s row for table `i` of the first shard, which must name the
/// same pair (the plans are the same, so the order is).
fn same_table<'a>(s: &'a ShardFolder, i: usize, t: &TableResult) -> Result<&'a TableResult> {
    s.report
        .tables
        .get(i)
        .filter(|r| r.source_table == t.source_table && r.target_table == t.target_table)
        .with_context(|| {
            format!(
                "cannot merge: {} has no row for {} → {} where the first shard has it",
                s.dir.display(),
                t.source_table,
                t.target_table
            )
        })
}

/// One table's rows from every shard, combined: counts summed, the worst
/// status kept, differences back in key order (chunk by chunk) and capped.
fn combine(rows: &[&TableResult], cap: usize) -> TableResult {
    let mut m = rows[0].clone();
    for r in &rows[1..] {
        m.source_rows += r.source_rows;
        m.target_rows += r.target_rows;
        m.matched += r.matched;
        m.missing_in_target += r.missing_in_target;
        m.extra_in_target += r.extra_in_target;
        m.different += r.different;
        m.unreadable += r.unreadable;
        m.in_flight += r.in_flight;
        m.retries += r.retries;
        m.source_seconds += r.source_seconds;
        m.target_seconds += r.target_seconds;
        m.wall_seconds = m.wall_seconds.max(r.wall_seconds);
        add(&mut m.columns_differing, &r.columns_differing);
        add(&mut m.columns_unreadable, &r.columns_unreadable);
        m.differences.extend(r.differences.iter().cloned());
        if r.status > m.status {
            m.status = r.status;
        }
        if m.error.is_none() {
            m.error = r.error.clone();
        }
    }
    // The order and cut of an unsharded run: by the keys' sort encoding
    // (hex keeps the byte order), the first `cap`.
    m.differences
        .sort_by(|a, b| (&a.sort_key, a.chunk).cmp(&(&b.sort_key, b.chunk)));
    m.differences.truncate(cap);
    for d in &mut m.differences {
        d.chunk = None;
        d.sort_key = None;
    }
    if !matches!(m.status, Status::Error | Status::Incomplete) && m.error.is_none() {
        m.settle_status();
    }
    m.mark_truncated(cap);
    m
}

fn add(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Every chunk of every keyed table read by exactly one shard, the shards'
/// ranges meeting end to end: else the shards chunked a table differently
/// (rows came or went between their starts) and the merge would miss or
/// double rows.
fn check_coverage(shards: &[ShardFolder], tables: &[TableResult]) -> Result<()> {
    let mut by_table: BTreeMap<&str, BTreeMap<usize, &ChunkRange>> = BTreeMap::new();
    for s in shards {
        for c in &s.partial.chunks {
            if by_table
                .entry(c.table.as_str())
                .or_default()
                .insert(c.index, c)
                .is_some()
            {
                bail!(
                    "cannot merge: chunk {} of {} was read by two shards; rerun the shards with one config",
                    c.index,
                    c.table
                );
            }
        }
    }
    for t in tables {
        if t.status == Status::Error {
            continue;
        }
        // The engine names a pair's chunks by its source table.
        let Some(chunks) = by_table.get(t.source_table.as_str()) else {
            continue;
        };
        let whole = chunks.len() == t.chunks
            && chunks.keys().copied().eq(0..t.chunks)
            && chunks.values().next().is_some_and(|c| c.lower.is_none())
            && chunks.values().last().is_some_and(|c| c.upper.is_none())
            && chunks
                .values()
                .zip(chunks.values().skip(1))
                .all(|(a, b)| a.upper == b.lower);
        if !whole {
            bail!(
                "cannot merge: the shards split {} into different chunks (rows were added or removed between the shards' starts); rerun the shards together",
                t.source_table
            );
        }
    }
    Ok(())
}
