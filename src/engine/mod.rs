//! Chunk scheduling, parallel reads, hashing and the merge-join compare.
//!
//! Owns: turning a [`TablePair`] into read specs and per-side codecs,
//! splitting the key space into chunks, reading each chunk on both sides
//! inside their snapshots (`--jobs` sessions per side, one retry on a lost
//! connection), digesting rows on rayon, and merge-joining the digests into
//! counts and named differences. Memory is bounded by `jobs × chunk size`:
//! nothing holds a whole table. It does not render reports.

pub mod digest;
pub mod multiset;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::canon::{self, Canon, ColumnCanon, Tolerance};
use crate::db::{Boundary, ChunkData, LiveColumn, ReadSpec, Snapshot, Wire, Worker};
use crate::mapping::Mapping;
use crate::plan::{ShapeRisk, TablePair};
use digest::{Digest, SideCodec};

/// How one table pair came out.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TableResult {
    /// Rollout phase (`[[repository]]`), when the config names one.
    pub repository: Option<String>,
    pub source_table: String,
    pub target_table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Rows present on both sides with equal values.
    pub matched: u64,
    pub missing_in_target: u64,
    pub extra_in_target: u64,
    /// Rows present on both sides whose values differ.
    pub different: u64,
    pub status: Status,
    /// Time spent reading the source side (sum over chunks).
    pub source_seconds: f64,
    pub target_seconds: f64,
    /// Wall-clock time for the whole table.
    pub wall_seconds: f64,
    pub chunks: usize,
    /// True when both mappings were read from one scan of the same table
    /// in the same snapshot.
    pub shared_read: bool,
    /// Chunk reads retried after a lost connection.
    pub retries: u64,
    /// Source column → number of rows where it differs.
    pub columns_differing: BTreeMap<String, u64>,
    /// The first `max_differences` row differences.
    pub differences: Vec<RowDifference>,
    /// Shape differences from the mapping plan, per column.
    pub shapes: Vec<ColumnShape>,
    /// Columns compared (source physical names) and those ignored by config.
    pub columns_compared: Vec<String>,
    pub columns_ignored: Vec<String>,
    pub error: Option<String>,
    /// True when `differences` (and `differences.csv`) stop at
    /// `--max-differences` while more rows differ; the counts above are
    /// always the true ones.
    pub differences_truncated: bool,
    /// Rows present on both sides with at least one cell that one side's
    /// ORM cannot read at all (its read throws): counted apart from
    /// `different`, so `matched + different + unreadable` is the number of
    /// rows present on both sides. A cell unreadable identically on both
    /// sides is not counted (both ORMs fail alike).
    pub unreadable: u64,
    /// Source column → number of rows where one side cannot read it.
    pub columns_unreadable: BTreeMap<String, u64>,
    /// How the rows were paired when the mappings name no primary key (a
    /// unique criterion used as the key, or a keyless multiset); `None` for
    /// a primary key.
    pub key_note: Option<String>,
}

impl TableResult {
    /// Sets [`TableResult::differences_truncated`]: the listed differences
    /// hit the cap while more rows differ (a keyless table names no rows at
    /// all, which is not a cut).
    pub fn mark_truncated(&mut self, max_differences: usize) {
        let total =
            self.missing_in_target + self.extra_in_target + self.different + self.unreadable;
        let listed = self.differences.len() as u64;
        self.differences_truncated =
            self.status == Status::Differs && listed >= max_differences as u64 && total > listed;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Ok,
    Differs,
    Error,
    /// The run was stopped (Ctrl-C, SIGTERM) before this table was checked.
    Incomplete,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Differs => "differs",
            Status::Error => "error",
            Status::Incomplete => "incomplete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    MissingInTarget,
    ExtraInTarget,
    Different,
    /// The source mapping's ORM throws reading these cells.
    UnreadableInSource,
    /// The target mapping's ORM throws reading these cells.
    UnreadableInTarget,
}

impl DiffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::MissingInTarget => "missing_in_target",
            DiffKind::ExtraInTarget => "extra_in_target",
            DiffKind::Different => "different",
            DiffKind::UnreadableInSource => "unreadable_in_source",
            DiffKind::UnreadableInTarget => "unreadable_in_target",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RowDifference {
    /// `{physical key column: value}`, integers as exact JSON numbers.
    pub key: serde_json::Value,
    pub kind: DiffKind,
    /// Source physical names of the differing columns (`different`), or of
    /// the unreadable cells (`unreadable_in_source` / `unreadable_in_target`).
    pub columns: Vec<String>,
    /// Only with `--show-values`: each differing column's two readings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<ValueDifference>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueDifference {
    pub column: String,
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnShape {
    pub column: String,
    pub code: String,
    pub risk: ShapeRisk,
    pub message: String,
}

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
}

/// The two snapshots a run reads. When source and target are the same
/// database, both are the same snapshot and same-table pairs are read once.
pub struct Sides {
    pub source: Arc<Snapshot>,
    pub target: Arc<Snapshot>,
    pub same_database: bool,
    /// Chunks re-read in one fresh snapshot because their readers did not
    /// share a view (MySQL without a global lock, or a replaced reader).
    pub rechecked: AtomicUsize,
}

/// One side's view of a table pair: what to read and how to decode it.
struct SidePlan {
    spec: ReadSpec,
    codec: SideCodec,
}

/// The compared columns, parallel to `SideCodec::cols`.
struct Compared {
    names: Vec<String>,
    tolerances: Vec<Option<Tolerance>>,
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
    // Issue 6: a pair without a key (only `backup` plans one) is a multiset.
    if pair.key.is_empty() {
        return multiset::check_table(sides, pair, source_map, target_map, opts, progress).await;
    }
    let started = Instant::now();
    let mut result = empty_result(pair);
    if let Err(e) = run_table(
        sides,
        pair,
        source_map,
        target_map,
        opts,
        progress,
        &mut result,
    )
    .await
    {
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

/// A blank result, for unit tests of result arithmetic.
#[cfg(test)]
pub(crate) fn empty_result_for_tests() -> TableResult {
    TableResult {
        source_table: "t".into(),
        target_table: "t".into(),
        ..TableResult::default()
    }
}

pub(crate) fn empty_result(pair: &TablePair) -> TableResult {
    let shapes = pair
        .columns
        .iter()
        .flat_map(|c| {
            c.shapes.iter().map(|s| ColumnShape {
                column: c.source.name.clone(),
                code: s.code.clone(),
                risk: s.risk,
                message: s.message.clone(),
            })
        })
        .collect();
    TableResult {
        repository: pair.repository.clone(),
        source_table: pair.source.qualified_name(),
        target_table: pair.target.qualified_name(),
        shapes,
        columns_compared: pair
            .columns
            .iter()
            .filter(|c| !c.ignore)
            .map(|c| c.source.name.clone())
            .collect(),
        columns_ignored: pair
            .columns
            .iter()
            .filter(|c| c.ignore)
            .map(|c| c.source.name.clone())
            .collect(),
        key_note: pair.key_note.clone(),
        ..TableResult::default()
    }
}

/// Builds the read projection and codec for each side. With `shared`, one
/// projection serves both sides.
fn side_plans(
    pair: &TablePair,
    source_map: &Mapping,
    target_map: &Mapping,
    shared: bool,
) -> Result<(SidePlan, SidePlan, Compared)> {
    let compared: Vec<_> = pair.columns.iter().filter(|c| !c.ignore).collect();
    let mut tolerances = Vec::new();
    for c in &compared {
        tolerances.push(match &c.tolerance {
            Some(v) => Some(
                canon::parse_tolerance(v)
                    .map_err(|e| anyhow!("tolerance for {}: {e}", c.source.name))?,
            ),
            None => None,
        });
    }
    let build = |table: &crate::mapping::Table,
                 keys: Vec<String>,
                 cols: Vec<(String, ColumnCanon)>,
                 extra: &[String]|
     -> SidePlan {
        let mut projection: Vec<String> = keys.clone();
        let pos = |name: &str, projection: &mut Vec<String>| -> usize {
            match projection.iter().position(|p| p == name) {
                Some(i) => i,
                None => {
                    projection.push(name.to_string());
                    projection.len() - 1
                }
            }
        };
        let key_idx = keys.iter().map(|k| pos(k, &mut projection)).collect();
        let cols = cols
            .into_iter()
            .map(|(name, cc)| (pos(&name, &mut projection), cc))
            .collect();
        for e in extra {
            pos(e, &mut projection);
        }
        SidePlan {
            spec: ReadSpec {
                schema: table.schema.clone(),
                table: table.name.clone(),
                columns: projection,
                key: keys,
                where_clause: pair.where_clause.clone(),
            },
            codec: SideCodec {
                key_idx,
                cols,
                hash: Vec::new(),
            },
        }
    };
    let s_keys: Vec<String> = pair.key.iter().map(|(s, _)| s.clone()).collect();
    let t_keys: Vec<String> = pair.key.iter().map(|(_, t)| t.clone()).collect();
    let s_cols = compared
        .iter()
        .map(|c| {
            (
                c.source.name.clone(),
                ColumnCanon::new(&c.source, source_map),
            )
        })
        .collect();
    let t_cols: Vec<(String, ColumnCanon)> = compared
        .iter()
        .map(|c| {
            (
                c.target.name.clone(),
                ColumnCanon::new(&c.target, target_map),
            )
        })
        .collect();
    let (s, t) = if shared {
        // One projection: the source's, extended with what only the target reads.
        let extra: Vec<String> = t_cols
            .iter()
            .map(|(n, _)| n.clone())
            .chain(t_keys.iter().cloned())
            .collect();
        let s = build(&pair.source, s_keys.clone(), s_cols, &extra);
        let projection = s.spec.columns.clone();
        let idx = |n: &str| projection.iter().position(|p| p == n).unwrap_or(0);
        let t = SidePlan {
            spec: s.spec.clone(),
            codec: SideCodec {
                key_idx: t_keys.iter().map(|k| idx(k)).collect(),
                cols: t_cols.into_iter().map(|(n, cc)| (idx(&n), cc)).collect(),
                hash: Vec::new(),
            },
        };
        (s, t)
    } else {
        (
            build(&pair.source, s_keys, s_cols, &[]),
            build(&pair.target, t_keys, t_cols, &[]),
        )
    };
    Ok((
        s,
        t,
        Compared {
            names: compared.iter().map(|c| c.source.name.clone()).collect(),
            tolerances,
        },
    ))
}

#[allow(clippy::too_many_arguments)]
async fn run_table(
    sides: &Sides,
    pair: &TablePair,
    source_map: &Mapping,
    target_map: &Mapping,
    opts: &EngineOptions,
    progress: Option<&indicatif::ProgressBar>,
    result: &mut TableResult,
) -> Result<()> {
    let shared = opts.share_reads
        && sides.same_database
        && crate::mapping::schema_matches(
            pair.source.schema.as_deref(),
            pair.target.schema.as_deref(),
        )
        && pair.source.name == pair.target.name;
    result.shared_read = shared;
    let (splan, tplan, compared) = side_plans(pair, source_map, target_map, shared)?;

    let mut first = sides.source.worker().await?;
    let slive = first
        .columns(splan.spec.schema.as_deref(), &splan.spec.table)
        .await?;
    if slive.is_empty() {
        anyhow::bail!(
            "table {} does not exist in the source database; run `parity schema`",
            pair.source.qualified_name()
        );
    }
    let swires = multiset::wires_of(&splan.spec, &slive)?;
    let (tlive, twires) = if shared {
        (slive.clone(), swires.clone())
    } else {
        let mut w = sides.target.worker().await?;
        let live = w
            .columns(tplan.spec.schema.as_deref(), &tplan.spec.table)
            .await?;
        if live.is_empty() {
            anyhow::bail!(
                "table {} does not exist in the target database; run `parity schema`",
                pair.target.qualified_name()
            );
        }
        let wires = multiset::wires_of(&tplan.spec, &live)?;
        (live, wires)
    };
    if sides.source.mysql_mode().is_some() && sides.target.mysql_mode().is_some() {
        crate::db::mysql::check_key_collations(&pair.name(), &pair.key, &slive, &tlive)?;
    }
    // The spec is all the readers need; the codecs move to the hashing pool.
    let SidePlan {
        spec: sspec,
        codec: mut scodec,
    } = splan;
    let SidePlan {
        spec: tspec,
        codec: mut tcodec,
    } = tplan;
    (scodec.hash, tcodec.hash) = digest::hash_plan(&scodec, &tcodec, &swires, &twires, shared);
    let (scodec, tcodec) = (Arc::new(scodec), Arc::new(tcodec));
    let (bounds, estimated) = first.boundaries(&sspec, opts.chunk_rows).await?;
    drop(first);
    if let Some(pb) = progress {
        // The planner's row estimate: marked `~` until the reads finish.
        pb.set_style(crate::ui::rows_style(true));
        pb.disable_steady_tick();
        pb.set_length(estimated);
    }
    let chunks = bounds.len() + 1;
    result.chunks = chunks;
    let next = AtomicUsize::new(0);
    let kill_at: Option<usize> = std::env::var("PARITY_FAULT_KILL_READER_AT_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok());
    let compared = Arc::new(compared);
    let ctx = ChunkCtx {
        sides,
        sspec: &sspec,
        tspec: &tspec,
        scodec,
        tcodec,
        slive: &slive,
        tlive: &tlive,
        swires: &swires,
        twires: &twires,
        bounds: &bounds,
        shared,
        compared: compared.clone(),
        opts,
        kill_at,
    };
    let workers = opts.jobs.max(1).min(chunks);
    let outcomes = futures::future::join_all((0..workers).map(|_| async {
        let mut acc = ChunkOutcome::default();
        let mut sw: Option<Worker> = None;
        let mut tw: Option<Worker> = None;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= chunks {
                break;
            }
            let out = ctx.run_chunk(i, &mut sw, &mut tw).await?;
            if let Some(pb) = progress {
                crate::ui::advance(pb, out.source_rows);
            }
            acc.merge(out, opts.max_differences);
        }
        Ok::<_, anyhow::Error>(acc)
    }))
    .await;
    let mut total = ChunkOutcome::default();
    for o in outcomes {
        total.merge(o?, opts.max_differences);
    }
    result.source_rows = total.source_rows;
    result.target_rows = total.target_rows;
    result.matched = total.matched;
    result.missing_in_target = total.missing;
    result.extra_in_target = total.extra;
    result.different = total.different;
    result.unreadable = total.unreadable;
    result.columns_unreadable = total.unreadable_columns;
    result.source_seconds = total.source_read.as_secs_f64();
    result.target_seconds = total.target_read.as_secs_f64();
    result.columns_differing = total.columns;
    result.retries = total.retries;
    total.diffs.sort_by(|a, b| a.0.cmp(&b.0));
    result.differences = total.diffs.into_iter().map(|(_, d)| d).collect();
    result.status = if total.missing + total.extra + total.different + total.unreadable > 0 {
        Status::Differs
    } else {
        Status::Ok
    };
    Ok(())
}

#[derive(Default)]
struct ChunkOutcome {
    source_rows: u64,
    target_rows: u64,
    matched: u64,
    missing: u64,
    extra: u64,
    different: u64,
    unreadable: u64,
    unreadable_columns: BTreeMap<String, u64>,
    source_read: Duration,
    target_read: Duration,
    retries: u64,
    columns: BTreeMap<String, u64>,
    /// (sort key, difference), capped at max_differences.
    diffs: Vec<(Vec<u8>, RowDifference)>,
}

impl ChunkOutcome {
    fn merge(&mut self, o: ChunkOutcome, cap: usize) {
        self.source_rows += o.source_rows;
        self.target_rows += o.target_rows;
        self.matched += o.matched;
        self.missing += o.missing;
        self.extra += o.extra;
        self.different += o.different;
        self.unreadable += o.unreadable;
        for (k, v) in o.unreadable_columns {
            *self.unreadable_columns.entry(k).or_default() += v;
        }
        self.source_read += o.source_read;
        self.target_read += o.target_read;
        self.retries += o.retries;
        for (k, v) in o.columns {
            *self.columns.entry(k).or_default() += v;
        }
        self.diffs.extend(o.diffs);
        if self.diffs.len() > cap {
            self.diffs.sort_by(|a, b| a.0.cmp(&b.0));
            self.diffs.truncate(cap);
        }
    }
}

struct ChunkCtx<'a> {
    sides: &'a Sides,
    sspec: &'a ReadSpec,
    tspec: &'a ReadSpec,
    scodec: Arc<SideCodec>,
    tcodec: Arc<SideCodec>,
    slive: &'a [LiveColumn],
    tlive: &'a [LiveColumn],
    swires: &'a Arc<[Wire]>,
    twires: &'a Arc<[Wire]>,
    bounds: &'a [Boundary],
    shared: bool,
    compared: Arc<Compared>,
    opts: &'a EngineOptions,
    kill_at: Option<usize>,
}

impl ChunkCtx<'_> {
    async fn run_chunk(
        &self,
        i: usize,
        sw: &mut Option<Worker>,
        tw: &mut Option<Worker>,
    ) -> Result<ChunkOutcome> {
        let lower = if i == 0 { None } else { self.bounds.get(i - 1) };
        let upper = self.bounds.get(i);
        let fault = self.kill_at == Some(i);
        let (schunk, sdur, tchunk, tdur, retries) = if self.shared {
            let c = read_with_retry(
                &self.sides.source,
                sw,
                self.sspec,
                self.slive,
                self.swires,
                lower,
                upper,
                fault,
            )
            .await?;
            (Arc::new(c.0), c.1, None, c.1, c.2)
        } else {
            let (s, t) = tokio::join!(
                read_with_retry(
                    &self.sides.source,
                    sw,
                    self.sspec,
                    self.slive,
                    self.swires,
                    lower,
                    upper,
                    fault,
                ),
                read_with_retry(
                    &self.sides.target,
                    tw,
                    self.tspec,
                    self.tlive,
                    self.twires,
                    lower,
                    upper,
                    false,
                )
            );
            let (s, sd, sr) = s?;
            let (t, td, tr) = t?;
            (Arc::new(s), sd, Some(Arc::new(t)), td, sr + tr)
        };
        // Readers outside one shared view (MySQL without the global lock,
        // or a reader that replaced a lost connection) can see different
        // moments: a chunk they find different is read again on both sides
        // in one fresh snapshot, and only what persists counts.
        let consistent = self.shared
            || (sw.as_ref().is_none_or(Worker::in_shared_view)
                && tw.as_ref().is_none_or(Worker::in_shared_view));
        let mut out = self.compare(schunk, tchunk).await?;
        if !consistent && out.missing + out.extra + out.different > 0 {
            let (s, t) = self.reread(lower, upper).await?;
            out = self.compare(Arc::new(s), Some(Arc::new(t))).await?;
            self.sides.rechecked.fetch_add(1, Ordering::Relaxed);
        }
        out.source_read = sdur;
        out.target_read = tdur;
        out.retries = retries;
        Ok(out)
    }

    /// Reads a chunk of both sides again in one fresh snapshot: one session
    /// for both when they are one database, else a fresh one per side.
    async fn reread(
        &self,
        lower: Option<&Boundary>,
        upper: Option<&Boundary>,
    ) -> Result<(ChunkData, ChunkData)> {
        let mut sw = self.sides.source.fresh_worker().await?;
        if self.sides.same_database {
            let s = sw
                .read_chunk(self.sspec, self.slive, self.swires, lower, upper)
                .await?;
            let t = sw
                .read_chunk(self.tspec, self.tlive, self.twires, lower, upper)
                .await?;
            return Ok((s, t));
        }
        let mut tw = self.sides.target.fresh_worker().await?;
        let (s, t) = tokio::join!(
            sw.read_chunk(self.sspec, self.slive, self.swires, lower, upper),
            tw.read_chunk(self.tspec, self.tlive, self.twires, lower, upper)
        );
        Ok((s?, t?))
    }

    /// Digests both chunks on the hashing pool and merge-joins them.
    async fn compare(
        &self,
        schunk: Arc<ChunkData>,
        tchunk: Option<Arc<ChunkData>>,
    ) -> Result<ChunkOutcome> {
        let scodec = self.scodec.clone();
        let tcodec = self.tcodec.clone();
        let compared = self.compared.clone();
        let cap = self.opts.max_differences;
        let show_values = self.opts.show_values;
        let key_names: Vec<String> = self.sspec.key.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            let tchunk_ref: &ChunkData = tchunk.as_deref().unwrap_or(&schunk);
            let (sd, td) = rayon::join(
                || digest::digest_for_compare(&schunk, &scodec),
                || digest::digest_for_compare(tchunk_ref, &tcodec),
            );
            let out = merge_join(MergeInput {
                schunk: &schunk,
                tchunk: tchunk_ref,
                scodec: &scodec,
                tcodec: &tcodec,
                sd: &sd,
                td: &td,
                compared: &compared,
                key_names: &key_names,
                cap,
                show_values,
            });
            let _ = tx.send(out);
        });
        rx.await.context("the hashing pool stopped")
    }
}

#[allow(clippy::too_many_arguments)]
async fn read_with_retry(
    snapshot: &Snapshot,
    worker: &mut Option<Worker>,
    spec: &ReadSpec,
    live: &[LiveColumn],
    wires: &Arc<[Wire]>,
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
    fault: bool,
) -> Result<(ChunkData, Duration, u64)> {
    let mut attempt = 0;
    loop {
        if worker.is_none() {
            *worker = Some(snapshot.worker().await?);
        }
        let w = worker.as_mut().expect("worker present");
        if fault && attempt == 0 {
            w.kill_for_test(snapshot).await?;
        }
        let started = Instant::now();
        match w.read_chunk(spec, live, wires, lower, upper).await {
            Ok(c) => return Ok((c, started.elapsed(), attempt)),
            Err(e) if attempt == 0 && crate::db::is_connection_lost(&e) => {
                // One lost connection is retried on a fresh session in the
                // same snapshot.
                *worker = None;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

struct MergeInput<'a> {
    schunk: &'a ChunkData,
    tchunk: &'a ChunkData,
    scodec: &'a SideCodec,
    tcodec: &'a SideCodec,
    sd: &'a Digest,
    td: &'a Digest,
    compared: &'a Compared,
    key_names: &'a [String],
    cap: usize,
    show_values: bool,
}

/// Walks both digests in key order and classifies every row.
fn merge_join(m: MergeInput<'_>) -> ChunkOutcome {
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
    let (mut i, mut j) = (0, 0);
    let mut srow = Vec::new();
    let mut trow = Vec::new();
    while i < m.sd.order.len() || j < m.td.order.len() {
        let s = m.sd.order.get(i).copied();
        let t = m.td.order.get(j).copied();
        let ord = match (s, t) {
            (Some(s), Some(t)) => m.sd.key(s).cmp(m.td.key(t)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                let s = s.unwrap();
                out.missing += 1;
                one_sided(&mut out, &m, Side::Source, s, &mut srow);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let t = t.unwrap();
                out.extra += 1;
                one_sided(&mut out, &m, Side::Target, t, &mut trow);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (s, t) = (s.unwrap(), t.unwrap());
                if m.sd.encoding(s) == m.td.encoding(t) {
                    out.matched += 1;
                } else {
                    m.schunk.row(s as usize, &mut srow);
                    m.tchunk.row(t as usize, &mut trow);
                    let cd = column_diff(&m, &srow, &trow);
                    let sort_key = m.sd.key(s);
                    if cd.cols.is_empty()
                        && cd.unreadable_source.is_empty()
                        && cd.unreadable_target.is_empty()
                    {
                        // Every difference was within tolerance.
                        out.matched += 1;
                    } else {
                        if cd.unreadable_source.is_empty() && cd.unreadable_target.is_empty() {
                            out.different += 1;
                        } else {
                            out.unreadable += 1;
                        }
                        for c in &cd.cols {
                            *out.columns.entry(c.clone()).or_default() += 1;
                        }
                        let mut seen = std::collections::BTreeSet::new();
                        for c in cd.unreadable_source.iter().chain(&cd.unreadable_target) {
                            if seen.insert(c) {
                                *out.unreadable_columns.entry(c.clone()).or_default() += 1;
                            }
                        }
                        let key = key_object(m.key_names, &m.scodec.key_idx, &srow);
                        let ColumnDiff {
                            cols,
                            values,
                            unreadable_source,
                            unreadable_target,
                        } = cd;
                        for (kind, columns) in [
                            (DiffKind::UnreadableInSource, unreadable_source),
                            (DiffKind::UnreadableInTarget, unreadable_target),
                            (DiffKind::Different, cols),
                        ] {
                            if columns.is_empty() || out.diffs.len() >= m.cap {
                                continue;
                            }
                            let vals = m.show_values.then(|| {
                                values
                                    .iter()
                                    .filter(|v| columns.contains(&v.column))
                                    .cloned()
                                    .collect()
                            });
                            out.diffs.push((
                                sort_key.to_vec(),
                                RowDifference {
                                    key: key.clone(),
                                    kind,
                                    columns,
                                    values: vals,
                                },
                            ));
                        }
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Side {
    Source,
    Target,
}

/// Records a row only one side has (missing or extra in the target).
fn one_sided<'a>(
    out: &mut ChunkOutcome,
    m: &MergeInput<'a>,
    side: Side,
    r: u32,
    row: &mut Vec<canon::Raw<'a>>,
) {
    if out.diffs.len() >= m.cap {
        return;
    }
    let (chunk, codec, digest, kind) = match side {
        Side::Source => (m.schunk, m.scodec, m.sd, DiffKind::MissingInTarget),
        Side::Target => (m.tchunk, m.tcodec, m.td, DiffKind::ExtraInTarget),
    };
    chunk.row(r as usize, row);
    out.diffs.push((
        digest.key(r).to_vec(),
        RowDifference {
            key: key_object(m.key_names, &codec.key_idx, row),
            kind,
            columns: Vec::new(),
            values: None,
        },
    ));
}

fn key_object(names: &[String], idx: &[usize], row: &[canon::Raw<'_>]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (n, &k) in names.iter().zip(idx) {
        map.insert(n.clone(), digest::key_json(&row[k]));
    }
    serde_json::Value::Object(map)
}

/// How one row pair's compared columns came out.
struct ColumnDiff {
    /// Readable on both sides, and different beyond tolerance.
    cols: Vec<String>,
    /// With `--show-values`: both readings of every column named above.
    values: Vec<ValueDifference>,
    /// Cells the source side's ORM cannot read (its read throws).
    unreadable_source: Vec<String>,
    unreadable_target: Vec<String>,
}

/// Which compared columns differ for one row pair, honouring tolerances;
/// a cell one side cannot read is unreadable, never within a tolerance.
fn column_diff(m: &MergeInput<'_>, srow: &[canon::Raw<'_>], trow: &[canon::Raw<'_>]) -> ColumnDiff {
    let mut out = ColumnDiff {
        cols: Vec::new(),
        values: Vec::new(),
        unreadable_source: Vec::new(),
        unreadable_target: Vec::new(),
    };
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

/// Opens both sides' databases and snapshots. Equal URLs share one pool and
/// one snapshot, so both mappings read the same database state.
pub async fn open_sides(
    source: &crate::config::DbUrl,
    target: &crate::config::DbUrl,
    jobs: usize,
) -> Result<Sides> {
    open_sides_with(source, target, jobs, &crate::db::ConnectOptions::default()).await
}

/// [`open_sides`] with session settings (statement and lock timeouts).
pub async fn open_sides_with(
    source: &crate::config::DbUrl,
    target: &crate::config::DbUrl,
    jobs: usize,
    base: &crate::db::ConnectOptions,
) -> Result<Sides> {
    use crate::db::{ConnectOptions, Db};
    let same = source == target;
    let opts = ConnectOptions {
        // coordinator + a reader per job per side, + one for retries/hooks.
        max_connections: (2 * jobs + 2) as u32,
        ..base.clone()
    };
    let sdb = Db::connect(source, &opts)
        .await
        .context("source database")?;
    let snapshot = Arc::new(Snapshot::begin(&sdb).await.context("source database")?);
    if same {
        return Ok(Sides {
            source: snapshot.clone(),
            target: snapshot,
            same_database: true,
            rechecked: AtomicUsize::new(0),
        });
    }
    let tdb = Db::connect(target, &opts)
        .await
        .context("target database")?;
    let tsnap = Arc::new(Snapshot::begin(&tdb).await.context("target database")?);
    Ok(Sides {
        source: snapshot,
        target: tsnap,
        same_database: false,
        rechecked: AtomicUsize::new(0),
    })
}

impl Sides {
    /// For MySQL/MariaDB sides: which consistent-view mode ran, and how many
    /// chunks were re-read (report notes).
    pub fn snapshot_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (name, snap) in [("source", &self.source), ("target", &self.target)] {
            if self.same_database && name == "target" {
                break;
            }
            if let Some(mode) = snap.mysql_mode() {
                notes.push(format!(
                    "{name} snapshot: {}; view at {}",
                    mode.describe(),
                    snap.mysql_position().unwrap_or("?")
                ));
            }
        }
        let n = self.rechecked.load(Ordering::Relaxed);
        if n > 0 {
            notes.push(format!(
                "{n} chunk(s) with differences were re-read in one fresh snapshot; only persisting differences are reported"
            ));
        }
        notes
    }

    /// Ends both snapshots.
    pub async fn close(self) {
        let Sides { source, target, .. } = self;
        // Equal URLs share one snapshot: drop the second handle first.
        let target = if Arc::ptr_eq(&source, &target) {
            drop(target);
            None
        } else {
            Some(target)
        };
        for s in std::iter::once(source).chain(target) {
            if let Ok(s) = Arc::try_unwrap(s) {
                s.end_and_close().await;
            }
        }
    }
}

/// Checks every pair of a plan in turn (views are skipped), calling
/// `after_each` with the results so far so reports can be rewritten.
pub async fn check_pairs(
    sides: &Sides,
    pairs: &[&TablePair],
    source_map: &Mapping,
    target_map: &Mapping,
    opts: &EngineOptions,
    ui: &crate::ui::Ui,
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
        ui.result_line(crate::report::verdict::result_line(&r));
        if let Some(e) = &r.error {
            ui.warn(format!("{}: {e}", r.source_table));
        }
        results.push(r);
        after_each(&results)?;
    }
    Ok(results)
}

/// 0 when every table is at parity, 1 when any row differs, 2 on any error.
pub fn exit_code(results: &[TableResult]) -> i32 {
    if results
        .iter()
        .any(|r| matches!(r.status, Status::Error | Status::Incomplete))
    {
        crate::exit::ERROR
    } else if results.iter().any(|r| r.status == Status::Differs) {
        crate::exit::DIFFERENCES
    } else {
        crate::exit::OK
    }
}
