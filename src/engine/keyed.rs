//! A keyed table pair, checked chunk by chunk: both sides' reads and codecs
//! from the plan, the chunks from the source's key boundaries, and the
//! per-chunk job the scheduler runs (read both sides, digest and merge-join
//! them on rayon, re-read in one fresh snapshot when the readers did not
//! share a view). Memory is bounded by `jobs × chunk size`: nothing holds a
//! whole table.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Result, anyhow};

use super::compare::{ChunkOutcome, Compared, MergeInput, merge_join};
use super::digest::{self, SideCodec};
use super::read::{Session, TableRead};
use super::schedule::{self, Chunk, Schedule};
use super::shard::ChunkRange;
use super::{EngineOptions, Sides, TableCheck, TableResult};
use crate::canon::{self, ColumnCanon};
use crate::db::{ChunkData, ReadSpec, Worker};
use crate::mapping::{Column, Mapping, Table};
use crate::plan::{ColumnPair, TablePair};

/// One side's compared columns (ignored ones left out), each with the
/// canonicaliser of that side's mapping; `side` picks the side's column.
pub(super) fn canon_columns(
    pair: &TablePair,
    map: &Mapping,
    side: fn(&ColumnPair) -> &Column,
) -> Vec<(String, ColumnCanon)> {
    pair.columns
        .iter()
        .filter(|c| !c.ignore)
        .map(|c| (side(c).name.clone(), ColumnCanon::new(side(c), map)))
        .collect()
}

/// One side's view of a table pair: what to read and how to decode it.
struct SidePlan {
    spec: ReadSpec,
    codec: SideCodec,
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
    let tolerances = compared
        .iter()
        .map(|c| {
            c.tolerance
                .as_ref()
                .map(|v| {
                    canon::parse_tolerance(v)
                        .map_err(|e| anyhow!("tolerance for {}: {e}", c.source.name))
                })
                .transpose()
        })
        .collect::<Result<Vec<_>>>()?;
    let s_keys: Vec<String> = pair.key.iter().map(|(s, _)| s.clone()).collect();
    let t_keys: Vec<String> = pair.key.iter().map(|(_, t)| t.clone()).collect();
    let s_cols = canon_columns(pair, source_map, |c| &c.source);
    let t_cols = canon_columns(pair, target_map, |c| &c.target);
    let (s, t) = if shared {
        // One projection: the source's, extended with what only the target reads.
        let extra: Vec<String> = t_cols
            .iter()
            .map(|(n, _)| n.clone())
            .chain(t_keys.iter().cloned())
            .collect();
        let s = side_plan(pair, &pair.source, s_keys, s_cols, &extra);
        let projection = &s.spec.columns;
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
            side_plan(pair, &pair.source, s_keys, s_cols, &[]),
            side_plan(pair, &pair.target, t_keys, t_cols, &[]),
        )
    };
    let names = compared.iter().map(|c| c.source.name.clone()).collect();
    Ok((s, t, Compared { names, tolerances }))
}

/// One side's projection: its key columns first, then each compared column
/// once, then `extra` (what a shared read also needs for the other side).
fn side_plan(
    pair: &TablePair,
    table: &Table,
    keys: Vec<String>,
    cols: Vec<(String, ColumnCanon)>,
    extra: &[String],
) -> SidePlan {
    let mut projection: Vec<String> = keys.clone();
    let mut pos = |name: &str| match projection.iter().position(|p| p == name) {
        Some(i) => i,
        None => {
            projection.push(name.to_string());
            projection.len() - 1
        }
    };
    let key_idx = keys.iter().map(|k| pos(k)).collect();
    let cols = cols
        .into_iter()
        .map(|(name, cc)| (pos(&name), cc))
        .collect();
    for e in extra {
        pos(e);
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
}

/// One side's read of `table`, as `worker`'s snapshot has it.
async fn open_read(
    worker: &mut Worker,
    spec: ReadSpec,
    table: &Table,
    side: &str,
) -> Result<TableRead> {
    let live = worker.columns(spec.schema.as_deref(), &spec.table).await?;
    if live.is_empty() {
        anyhow::bail!(
            "table {} does not exist in the {side} database; run `parity schema`",
            table.qualified_name()
        );
    }
    TableRead::new(spec, live)
}

/// Checks a keyed pair into `result`.
pub(super) async fn check(c: &TableCheck<'_>, result: &mut TableResult) -> Result<()> {
    let (sides, pair, opts) = (c.sides, c.pair, c.opts);
    let shared = opts.share_reads
        && sides.same_database
        && crate::mapping::schema_matches(
            pair.source.schema.as_deref(),
            pair.target.schema.as_deref(),
        )
        && pair.source.name == pair.target.name;
    result.shared_read = shared;
    let (splan, tplan, compared) = side_plans(pair, c.source_map, c.target_map, shared)?;
    let mut first = sides.source.worker().await?;
    let source = open_read(&mut first, splan.spec, &pair.source, "source").await?;
    // A shared read reads the source's projection once for both sides.
    let target = match shared {
        true => None,
        false => Some(
            open_read(
                &mut sides.target.worker().await?,
                tplan.spec,
                &pair.target,
                "target",
            )
            .await?,
        ),
    };
    let target_read = target.as_ref().unwrap_or(&source);
    if sides.source.mysql_mode().is_some() && sides.target.mysql_mode().is_some() {
        crate::db::mysql::check_key_collations(
            &pair.name(),
            &pair.key,
            &source.live,
            &target_read.live,
        )?;
    }
    let (mut scodec, mut tcodec) = (splan.codec, tplan.codec);
    (scodec.hash, tcodec.hash) =
        digest::hash_plan(&scodec, &tcodec, &source.wires, &target_read.wires, shared);
    let hashing = super::pushdown::plan(c, &source, target_read, (&scodec, &tcodec), result);
    let (bounds, estimated) = source.boundaries(&mut first, opts.chunk_rows).await?;
    drop(first);
    if let Some(pb) = c.progress {
        // The planner's row estimate: marked `~` until the reads finish.
        pb.set_style(crate::ui::rows_style(true));
        pb.disable_steady_tick();
        pb.set_length(estimated);
    }
    let name = pair.name();
    let chunks = schedule::chunks(&name, &bounds);
    result.chunks = chunks.len();
    let job = ChunkJob {
        sides,
        source: &source,
        target: target_read,
        shared,
        scodec: Arc::new(scodec),
        tcodec: Arc::new(tcodec),
        compared: Arc::new(compared),
        key_names: source.spec.key.clone().into(),
        opts,
        kill_at: std::env::var("PARITY_FAULT_KILL_READER_AT_CHUNK")
            .ok()
            .and_then(|v| v.parse().ok()),
        delay: std::env::var("PARITY_FAULT_CHUNK_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis),
    };
    let mut total = ChunkOutcome::default();
    // Issue 15: a shard takes its own chunks only (recording each range and
    // each difference's chunk for the merge); a resumed run also skips the
    // chunks its journal records as done, and folds their outcomes in.
    let journal = opts.journal.as_deref();
    let owns = |c: &Chunk<'_>| opts.shard.is_none_or(|s| s.owns(c.table, c.index));
    let todo = |c: &Chunk<'_>| owns(c) && journal.is_none_or(|j| !j.is_done(c.table, c.index));
    let schedule = Schedule {
        take: Some(&todo),
        ..Schedule::new(opts.jobs)
    };
    let mut covered = Vec::new();
    let mut add = |chunk: Chunk<'_>, out: ChunkOutcome| {
        if let Some(pb) = c.progress {
            crate::ui::advance(pb, out.source_rows);
        }
        if let Some(j) = journal {
            j.record(&chunk, &out)?;
        }
        fold(&mut total, &mut covered, chunk, out, opts);
        Ok(())
    };
    // Issue 13: hashed in both databases first (pushdown), or read whole.
    let ran = match &hashing {
        None => {
            let run = async |chunk, lane: &mut Lane, attempt| job.run(chunk, lane, attempt).await;
            schedule::run(&chunks, &schedule, run, &mut add).await?
        }
        Some(h) => {
            let (mut hashed, mut drilled) = (0, 0);
            let run =
                async |chunk, lane: &mut Lane, attempt| h.run(&job, chunk, lane, attempt).await;
            let ran = schedule::run(&chunks, &schedule, run, |chunk, out| {
                hashed += 1;
                drilled += usize::from(out.drilled);
                add(chunk, out.outcome)
            })
            .await?;
            (result.chunks_hashed, result.chunks_read_after_hashing) = (hashed, drilled);
            ran
        }
    };
    // The chunks a resumed run found done, as their journal lines say.
    for chunk in chunks.iter().filter(|c| owns(c)) {
        if let Some(out) = journal.map(|j| j.take_done(chunk)).transpose()?.flatten() {
            fold(&mut total, &mut covered, *chunk, out, opts);
        }
    }
    covered.sort_by_key(|c| c.index);
    result.covered = covered;
    total.fill(result);
    result.retries = ran.retries;
    Ok(())
}

/// Adds one chunk's outcome to the table's; a shard also records the
/// chunk's range and tags its differences with it, for the merge.
fn fold(
    total: &mut ChunkOutcome,
    covered: &mut Vec<ChunkRange>,
    chunk: Chunk<'_>,
    mut out: ChunkOutcome,
    opts: &EngineOptions,
) {
    if opts.shard.is_some() {
        covered.push(ChunkRange::new(
            chunk.table,
            chunk.index,
            chunk.lower,
            chunk.upper,
        ));
        for (sort_key, d) in &mut out.diffs {
            d.chunk = Some(chunk.index);
            d.sort_key = Some(sort_key.iter().map(|b| format!("{b:02x}")).collect());
        }
    }
    total.merge(out, opts.max_differences);
}

/// A lane's two sessions (only `source` for a shared read).
#[derive(Default)]
pub(super) struct Lane {
    pub source: Session,
    pub target: Session,
}

/// What every chunk of one keyed pair needs.
pub(super) struct ChunkJob<'a> {
    pub sides: &'a Sides,
    source: &'a TableRead,
    target: &'a TableRead,
    shared: bool,
    scodec: Arc<SideCodec>,
    tcodec: Arc<SideCodec>,
    compared: Arc<Compared>,
    key_names: Arc<[String]>,
    opts: &'a EngineOptions,
    /// Test hook (`PARITY_FAULT_KILL_READER_AT_CHUNK`): the source reader
    /// of this chunk loses its connection before its first try.
    pub kill_at: Option<usize>,
    /// Test hook (`PARITY_FAULT_CHUNK_DELAY_MS`): each chunk waits this long
    /// first, so a test can kill a run mid-table.
    pub delay: Option<std::time::Duration>,
}

impl<'a> ChunkJob<'a> {
    /// The same job reading `source` and `target` instead (a narrowed
    /// read: pushdown's drill-down to the keys whose row hashes differ).
    pub fn with_reads<'b>(&self, source: &'b TableRead, target: &'b TableRead) -> ChunkJob<'b>
    where
        'a: 'b,
    {
        ChunkJob {
            sides: self.sides,
            source,
            target,
            shared: self.shared,
            scodec: self.scodec.clone(),
            tcodec: self.tcodec.clone(),
            compared: self.compared.clone(),
            key_names: self.key_names.clone(),
            opts: self.opts,
            kill_at: None,
            delay: None,
        }
    }

    /// Whether both sides are read once, from the source (one table of
    /// one database).
    pub fn shared(&self) -> bool {
        self.shared
    }

    pub async fn run(
        &self,
        chunk: Chunk<'_>,
        lane: &mut Lane,
        attempt: u32,
    ) -> Result<ChunkOutcome> {
        let (s, t) = (&self.sides.source, &self.sides.target);
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        if attempt == 0 && self.kill_at == Some(chunk.index) {
            lane.source.open(s).await?.kill_for_test(s).await?;
        }
        let (schunk, sdur, tchunk, tdur) = if self.shared {
            let (c, d) = self.source.read(s, &mut lane.source, &chunk).await?;
            (Arc::new(c), d, None, d)
        } else {
            let (sr, tr) = tokio::join!(
                self.source.read(s, &mut lane.source, &chunk),
                self.target.read(t, &mut lane.target, &chunk)
            );
            let ((sc, sd), (tc, td)) = (sr?, tr?);
            (Arc::new(sc), sd, Some(Arc::new(tc)), td)
        };
        let schunk_bytes = schunk.bytes();
        let tchunk_bytes = tchunk.as_ref().map_or(0, |t| t.bytes());
        // Readers outside one shared view (MySQL without the global lock,
        // or a reader that replaced a lost connection) can see different
        // moments: a chunk they find different is read again on both sides
        // in one fresh snapshot, and only what persists counts.
        let consistent =
            self.shared || (lane.source.in_shared_view() && lane.target.in_shared_view());
        // Issue 15: a shard's snapshot is its own, not the other shards':
        // what it finds different is read again in a fresh snapshot too, and
        // a difference that vanishes was a write in flight.
        let sharded = self.opts.shard.is_some();
        let mut out = self.compare(schunk, tchunk).await?;
        if (!consistent || sharded) && out.missing + out.extra + out.different > 0 {
            let first = out.differing();
            let (s, t) = self.reread(&chunk).await?;
            out = self.compare(Arc::new(s), Some(Arc::new(t))).await?;
            out.in_flight = first.saturating_sub(out.differing());
            self.sides.rechecked.fetch_add(1, Ordering::Relaxed);
        }
        out.source_read = sdur;
        out.target_read = tdur;
        out.bytes_received = (schunk_bytes + tchunk_bytes) as u64;
        Ok(out)
    }

    /// Reads a chunk of both sides again in one fresh snapshot: one session
    /// for both when they are one database, else a fresh one per side.
    async fn reread(&self, chunk: &Chunk<'_>) -> Result<(ChunkData, ChunkData)> {
        let (lower, upper) = (chunk.lower, chunk.upper);
        let mut sw = self.sides.source.fresh_worker().await?;
        if self.sides.same_database {
            let s = self.source.read_on(&mut sw, lower, upper).await?;
            let t = self.target.read_on(&mut sw, lower, upper).await?;
            return Ok((s, t));
        }
        let mut tw = self.sides.target.fresh_worker().await?;
        let (s, t) = tokio::join!(
            self.source.read_on(&mut sw, lower, upper),
            self.target.read_on(&mut tw, lower, upper)
        );
        Ok((s?, t?))
    }

    /// Digests both chunks on the hashing pool and merge-joins them (a
    /// shared read compares the one chunk with itself, through each side's
    /// codec).
    async fn compare(
        &self,
        schunk: Arc<ChunkData>,
        tchunk: Option<Arc<ChunkData>>,
    ) -> Result<ChunkOutcome> {
        let (scodec, tcodec) = (self.scodec.clone(), self.tcodec.clone());
        let (compared, key_names) = (self.compared.clone(), self.key_names.clone());
        let (cap, show_values) = (self.opts.max_differences, self.opts.show_values);
        schedule::on_rayon(move || {
            let tchunk: &ChunkData = tchunk.as_deref().unwrap_or(&schunk);
            let (sd, td) = rayon::join(
                || digest::digest_for_compare(&schunk, &scodec),
                || digest::digest_for_compare(tchunk, &tcodec),
            );
            merge_join(MergeInput {
                schunk: &schunk,
                tchunk,
                scodec: &scodec,
                tcodec: &tcodec,
                sd: &sd,
                td: &td,
                compared: &compared,
                key_names: &key_names,
                cap,
                show_values,
            })
        })
        .await
    }
}
