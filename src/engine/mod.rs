//! Checking table pairs: chunk scheduling, parallel reads, hashing and the
//! merge-join compare.
//!
//! The flow, one file per step: [`sides`] opens both snapshots; [`keyed`]
//! turns a keyed [`TablePair`] into read specs, codecs and chunks, and
//! [`schedule`] (the one chunk scheduler, also serving multisets and
//! manifests) runs them through [`read`] (a chunk's rows), [`digest`]
//! (canonical row encodings and hashes, on rayon) and [`compare`] (the
//! merge-join); a pair without a key is a [`multiset`]. A sharded run
//! takes its [`shard`]'s chunks only; every check appends finished chunks
//! to its [`journal`], and a resumed one skips those. Each table comes
//! out as a [`result::TableResult`]; [`result::exit_code_for`] is the one
//! exit-code rule. It does not render reports: the caller prints and
//! writes them from the callbacks of [`check_pairs`].

pub mod compare;
pub mod digest;
pub mod journal;
mod keyed;
pub mod multiset;
mod pushdown;
pub mod read;
pub mod result;
pub mod schedule;
pub mod shard;
pub mod sides;

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::mapping::Mapping;
use crate::plan::TablePair;

pub use result::{
    ColumnShape, DiffKind, Outcome, RowDifference, Status, TableResult, ValueDifference, exit_code,
    exit_code_for,
};
pub use sides::{Sides, open_sides, open_sides_with};

/// Settings for one run of the engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub jobs: usize,
    pub chunk_rows: usize,
    pub max_differences: usize,
    pub show_values: bool,
    /// Read a table once for both sides when both sides are the same table
    /// of the same database (the default). Off, each side reads separately,
    /// still in the one shared snapshot.
    pub share_reads: bool,
    /// `--shard I/N`: read only this shard's chunks (issue 15); `None`:
    /// every chunk.
    pub shard: Option<shard::Shard>,
    /// The checkpoint journal every check appends to (and a resumed one
    /// skips the recorded chunks of); `None`: no journal.
    pub journal: Option<std::sync::Arc<journal::Journal>>,
    /// `check --resume DIR`: continue the journal in the report folder
    /// instead of starting it afresh.
    pub resume: bool,
    /// Where keyed chunks are compared: hashed in the database (pushdown)
    /// or shipped (client).
    pub mode: crate::config::CheckMode,
}

/// One table pair to check, with all a check of it needs: what the keyed
/// and the keyless paths (and any later chunk reader) are handed.
pub(crate) struct TableCheck<'a> {
    pub sides: &'a Sides,
    pub pair: &'a TablePair,
    pub source_map: &'a Mapping,
    pub target_map: &'a Mapping,
    pub opts: &'a EngineOptions,
    pub progress: Option<&'a indicatif::ProgressBar>,
}

/// Checks one table pair; never fails: errors become an `error` row.
pub async fn check_table(
    sides: &Sides,
    pair: &TablePair,
    source_map: &Mapping,
    target_map: &Mapping,
    opts: &EngineOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> TableResult {
    let started = Instant::now();
    let mut result = TableResult::for_pair(pair);
    let check = TableCheck {
        sides,
        pair,
        source_map,
        target_map,
        opts,
        progress,
    };
    // Issue 6: a pair without a key (only `backup` plans one) is a multiset.
    // Issue 15: a shard reads a multiset whole, or not at all.
    let checked = if pair.key.is_empty()
        && opts
            .shard
            .is_some_and(|s| !s.owns_table(&pair.source.qualified_name()))
    {
        Ok(())
    } else if pair.key.is_empty() {
        result.mode = "client".into();
        multiset::check(&check, &mut result).await
    } else {
        keyed::check(&check, &mut result).await
    };
    if let Err(e) = checked {
        result.status = Status::Error;
        let mut msg = crate::ui::error_line(&e);
        // Issue 10: a locked table names the lock and who holds it.
        for (snap, t) in [(&sides.source, &pair.source), (&sides.target, &pair.target)] {
            if let Some(note) = snap.lock_note(&e, t.schema.as_deref(), &t.name).await {
                msg = format!("{note}: {msg}");
                break;
            }
        }
        result.error = Some(msg);
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}

/// Checks every pair of a plan in turn, calling `on_table` with each
/// result as it is settled (the caller prints its line) and then
/// `after_each` with the results so far (so reports can be rewritten).
#[allow(clippy::too_many_arguments)]
pub async fn check_pairs(
    sides: &Sides,
    pairs: &[&TablePair],
    source_map: &Mapping,
    target_map: &Mapping,
    opts: &EngineOptions,
    ui: &crate::ui::Ui,
    on_table: &dyn Fn(&TableResult),
    mut after_each: impl FnMut(&[TableResult]) -> Result<()>,
) -> Result<Vec<TableResult>> {
    let multi = ui.bars().then(indicatif::MultiProgress::new);
    let mut results = Vec::new();
    for pair in pairs {
        let bar = multi.as_ref().map(|m| {
            let pb = m.add(indicatif::ProgressBar::new_spinner());
            pb.set_style(crate::ui::counting_style());
            pb.enable_steady_tick(Duration::from_millis(120));
            pb.set_prefix(pair.name());
            pb
        });
        let mut r = check_table(sides, pair, source_map, target_map, opts, bar.as_ref()).await;
        r.mark_truncated(opts.max_differences);
        if let Some(pb) = bar {
            crate::ui::finish_at_count(&pb);
        }
        on_table(&r);
        if let Some(e) = &r.error {
            ui.warn(format!("{}: {e}", r.source_table));
        }
        results.push(r);
        after_each(&results)?;
    }
    Ok(results)
}
