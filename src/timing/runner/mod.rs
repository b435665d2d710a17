//! Runs operations: parameter sets, the result-parity pass, warm-up, the
//! interleaved measured rounds, statistics and plans.
//!
//! A round runs every client of one side (C concurrent sessions, each with
//! its own parameter set), then every client of the other side with the
//! same sets; the side that goes first alternates by round, so drift in the
//! machine's speed lands on both. The sides never run at the same time: a
//! side's load is its own C clients. When both mappings read one database,
//! both sides run on the same C sessions, so a backend that shares a core
//! with something busy slows both sides alike (with separate sessions that
//! showed up as a stable, false 1.7× on a loaded two-core machine). Latency is the whole statement list of
//! one client, round trips included; a write's outer BEGIN/ROLLBACK is
//! framing and is not timed (the ORM's own BEGIN/COMMIT, as savepoints, is).
//!
//! Here: one operation end to end. `execute` runs one side's statements
//! once and samples parameter sets; `explain` captures the plans of the
//! median iteration. Everything comes back as data in the
//! [`OperationResult`]; nothing is written here.

mod execute;
mod explain;

use std::collections::BTreeSet;

use anyhow::{Context, Result};

use super::TimingOptions;
use super::clock::Clock;
use super::exec::{Catalog, Session, StmtResult};
use super::ops::{CompareMode, Operation, SideOps};
use super::result::{OperationResult, ResultMismatch};
use super::rows::order::{self, OrderedList};
use super::rows::{self, Entity, SideView};
use super::stats::{self, LatencySummary, SplitMix64, TimingVerdict};
use crate::db::Db;
use crate::mapping::Mapping;
use crate::ui::Ui;
use execute::{ParamSet, execute, parameter_sets, with_generated};

/// One side's database, sessions and mapping during a timing run. When
/// both sides read the same database, the target's `sessions` is empty and
/// it runs on the source's sessions: every client then executes both sides'
/// SQL on one backend, so a backend that lands on a busy core slows both
/// alike.
pub struct TimingSide<'a> {
    pub label: &'static str,
    pub db: Db,
    pub sessions: Vec<Session>,
    pub mapping: &'a Mapping,
    pub catalog: Catalog,
}

impl TimingSide<'_> {
    /// How this side reads the results of `sql`'s statements.
    fn view<'v>(&'v self, sql: &'v SideOps) -> SideView<'v> {
        SideView {
            mapping: self.mapping,
            catalog: &self.catalog,
            rename: &sql.rename,
            dialect: self.db.dialect(),
        }
    }
}

/// The sessions a side runs on (the source's when the target shares them).
fn sessions<'s>(
    source: &'s mut TimingSide<'_>,
    target: &'s mut TimingSide<'_>,
    is_source: bool,
) -> &'s mut Vec<Session> {
    if is_source || target.sessions.is_empty() {
        &mut source.sessions
    } else {
        &mut target.sessions
    }
}

/// The label and the captured SQL of one side of `op`.
fn side_of(op: &Operation, is_source: bool) -> (&'static str, &SideOps) {
    if is_source {
        ("source", &op.source)
    } else {
        ("target", &op.target)
    }
}

/// Runs one operation end to end; never fails: errors become an `error`
/// verdict.
pub async fn run_operation<'m>(
    op: &Operation,
    source: &mut TimingSide<'m>,
    target: &mut TimingSide<'m>,
    opts: &TimingOptions,
    clock: &dyn Clock,
    ui: &Ui,
) -> OperationResult {
    let mut res = OperationResult::new(op);
    match measure(op, source, target, opts, clock, &mut res).await {
        Ok(()) => ui.info(format!(
            "timing {}: p50 {:.3} ms → {:.3} ms ({:.2}×) {}",
            op.id(),
            res.source.stats.p50_ms,
            res.target.stats.p50_ms,
            res.comparison.ratio_p50,
            res.verdict.as_str()
        )),
        Err(e) => {
            res.verdict = TimingVerdict::Error;
            res.error = Some(format!("{e:#}"));
        }
    }
    res
}

async fn measure<'m>(
    op: &Operation,
    source: &mut TimingSide<'m>,
    target: &mut TimingSide<'m>,
    opts: &TimingOptions,
    clock: &dyn Clock,
    res: &mut OperationResult,
) -> Result<()> {
    let sets = parameter_sets(op, &mut source.sessions[0]).await?;
    res.parameter_sets = sets.len();
    let mut rng = SplitMix64(0x7A11_0000 ^ fxhash(&op.id()));
    let mut run = Run {
        op,
        source,
        target,
        sets: &sets,
        rng: &mut rng,
        clock,
    };
    run.check_results(res).await?;
    let (blocks, set_of) = run.blocks(opts).await?;

    // Statistics and the verdict.
    let s_ms: Vec<f64> = blocks.iter().flat_map(|b| b.0.iter().copied()).collect();
    let t_ms: Vec<f64> = blocks.iter().flat_map(|b| b.1.iter().copied()).collect();
    res.source.stats = LatencySummary::of(&s_ms);
    res.target.stats = LatencySummary::of(&t_ms);
    res.source.block_p50_ms = blocks.iter().map(|b| stats::median(&b.0)).collect();
    res.target.block_p50_ms = blocks.iter().map(|b| stats::median(&b.1)).collect();
    res.comparison = stats::compare_blocks(&blocks);
    res.verdict = stats::verdict(res.mismatch.is_none(), &res.comparison, opts.max_slowdown);
    res.source.samples_ms = s_ms;
    res.target.samples_ms = t_ms;

    if opts.explain {
        let iterations = explain::Iterations {
            sets: &sets,
            set_of: &set_of,
        };
        explain::median_plans(op, run.source, run.target, iterations, run.rng, res).await?;
    }
    Ok(())
}

/// One operation's run: its two sides, parameter sets and generator.
struct Run<'r, 'm> {
    op: &'r Operation,
    source: &'r mut TimingSide<'m>,
    target: &'r mut TimingSide<'m>,
    sets: &'r [ParamSet],
    rng: &'r mut SplitMix64,
    clock: &'r dyn Clock,
}

impl Run<'_, '_> {
    /// Result parity: one execution per parameter set and side, compared
    /// (rows, then their order) and hashed.
    async fn check_results(&mut self, res: &mut OperationResult) -> Result<()> {
        let op = self.op;
        let (mut hs, mut ht) = (blake3::Hasher::new(), blake3::Hasher::new());
        let mut notes = BTreeSet::new();
        let (mut s_rows, mut t_rows, mut s_rtt, mut t_rtt) = (0usize, 0usize, 0usize, 0usize);
        for (k, base) in self.sets.iter().enumerate() {
            let set = with_generated(base, op, self.rng);
            let mut ran = Vec::with_capacity(2);
            for is_source in [true, false] {
                let (label, sql) = side_of(op, is_source);
                let session = &mut sessions(self.source, self.target, is_source)[0];
                let e = execute(session, sql, &set, op.writes, self.clock, true)
                    .await
                    .with_context(|| format!("{label}, parameter set {}", k + 1))?;
                ran.push(e);
            }
            let (a, b) = (&ran[0], &ran[1]);
            s_rows += a.rows;
            t_rows += b.rows;
            s_rtt += a.round_trips;
            t_rtt += b.round_trips;
            let (vs, vt) = (self.source.view(&op.source), self.target.view(&op.target));
            let es = entities_of(&vs, &a.results, op);
            let et = entities_of(&vt, &b.results, op);
            let mapping = self.source.mapping;
            let key_of = |table: &str| {
                mapping
                    .table(table)
                    .map(|t| t.primary_key.clone())
                    .unwrap_or_default()
            };
            let outcome = rows::compare(
                op.compare,
                es,
                et,
                &op.tolerance,
                &key_of,
                (&mut hs, &mut ht),
            );
            notes.extend(outcome.notes);
            // Same rows: then the same order, where both sides define one.
            let mut mismatch = outcome.mismatch;
            if mismatch.is_none() && order_applies(op) {
                let o = order::compare(
                    op.ordered,
                    &lists_of(&vs, &a.results, op),
                    &lists_of(&vt, &b.results, op),
                    &key_of,
                );
                notes.extend(o.notes);
                mismatch = o.mismatch;
            }
            if let Some(m) = mismatch
                && res.mismatch.is_none()
            {
                res.mismatch = Some(ResultMismatch {
                    parameter_set: k + 1,
                    detail: m,
                });
            }
        }
        let n = self.sets.len().max(1) as f64;
        res.source.rows = s_rows as f64 / n;
        res.target.rows = t_rows as f64 / n;
        res.source.round_trips = s_rtt as f64 / n;
        res.target.round_trips = t_rtt as f64 / n;
        res.source.result_hash = hex::encode(&hs.finalize().as_bytes()[..8]);
        res.target.result_hash = hex::encode(&ht.finalize().as_bytes()[..8]);
        res.notes = notes.into_iter().collect();
        Ok(())
    }

    /// The measured blocks, each: fresh sessions, warm-up, its share of the
    /// measured rounds, sides interleaved. Returns each block's latencies
    /// (source, target) and, per measured iteration in run order, the index
    /// of its parameter set.
    async fn blocks(&mut self, opts: &TimingOptions) -> Result<(Vec<stats::Block>, Vec<usize>)> {
        const MAX_ROUNDS: usize = 1_000_000;
        let op = self.op;
        let c = opts.concurrency.max(1);
        let blocks = opts.effective_blocks();
        let mut out: Vec<stats::Block> = Vec::with_capacity(blocks);
        let mut set_of: Vec<usize> = Vec::new();
        let started = self.clock.now_ns();
        let min_ns = (opts.min_time_seconds * 1e9) as u64;
        for block in 0..blocks {
            // Every block on new backends, the first too: the sessions of the
            // parity pass above have run other SQL (measured: on them the
            // json_agg side ran ~15% slower than on any fresh session).
            renew_sessions(self.source, self.target).await?;
            let rounds = opts.rounds();
            let want_rounds = rounds / blocks + usize::from(block < rounds % blocks);
            // --min-time: each block ends no earlier than its share of it.
            let block_min_ns = min_ns / blocks as u64 * (block as u64 + 1);
            let (mut s_ms, mut t_ms) = (Vec::new(), Vec::new());
            let mut round = 0usize;
            let mut measured = 0usize;
            loop {
                let warm = round < opts.warmup;
                if !warm
                    && measured >= want_rounds
                    && self.clock.now_ns().saturating_sub(started) >= block_min_ns
                    || round >= MAX_ROUNDS
                {
                    break;
                }
                // Every block times the same parameter sets in the same order
                // (from the first, cycling when there are fewer sets than
                // rounds), so blocks differ only in what the machine did.
                let base = if warm { round } else { measured };
                let idx: Vec<usize> = (0..c).map(|k| (base * c + k) % self.sets.len()).collect();
                let round_params: Vec<ParamSet> = idx
                    .iter()
                    .map(|&i| with_generated(&self.sets[i], op, self.rng))
                    .collect();
                let order: [bool; 2] = if round.is_multiple_of(2) {
                    [true, false]
                } else {
                    [false, true]
                };
                for is_source in order {
                    let (label, sql) = side_of(op, is_source);
                    let clock = self.clock;
                    let futs = sessions(self.source, self.target, is_source)
                        .iter_mut()
                        .zip(&round_params)
                        .map(|(s, p)| execute(s, sql, p, op.writes, clock, false));
                    let ran = futures::future::join_all(futs).await;
                    for r in ran {
                        let e = r.with_context(|| {
                            format!("{label}, block {}, round {}", block + 1, round + 1)
                        })?;
                        if !warm {
                            let ms = e.ns as f64 / 1e6;
                            if is_source {
                                s_ms.push(ms);
                            } else {
                                t_ms.push(ms);
                            }
                        }
                    }
                }
                if !warm {
                    set_of.extend(&idx);
                    measured += 1;
                }
                round += 1;
            }
            out.push((s_ms, t_ms));
        }
        Ok((out, set_of))
    }
}

/// The entities a side's statements returned, read through its mapping.
fn entities_of(
    view: &SideView<'_>,
    results: &[(String, StmtResult)],
    op: &Operation,
) -> Vec<Entity> {
    let mut out = Vec::new();
    for (text, r) in results {
        rows::entities(view, text, r, &op.ignore, &mut out);
    }
    out
}

/// The top-level list each statement returned, in its order.
fn lists_of(
    view: &SideView<'_>,
    results: &[(String, StmtResult)],
    op: &Operation,
) -> Vec<OrderedList> {
    results
        .iter()
        .filter_map(|(text, r)| order::list(view, text, r, &op.ignore))
        .collect()
}

/// Whether results are compared in order: lists of rows (`compare =
/// "rows"`) unless the file says `ordered = false`; `entities` only when it
/// says `ordered = true`; never counts.
fn order_applies(op: &Operation) -> bool {
    match op.compare {
        CompareMode::Rows => op.ordered != Some(false),
        CompareMode::Entities => op.ordered == Some(true),
        CompareMode::Count => false,
    }
}

/// Closes every session of both sides and opens as many new ones: a block
/// starts on fresh backends, with nothing prepared or cached in the session.
async fn renew_sessions<'m>(
    source: &mut TimingSide<'m>,
    target: &mut TimingSide<'m>,
) -> Result<()> {
    for side in [source, target] {
        let n = side.sessions.len();
        if n == 0 {
            // The target on the source's sessions.
            continue;
        }
        for s in side.sessions.drain(..) {
            close_session(s).await;
        }
        for _ in 0..n {
            let s = Session::open(&side.db).await.with_context(|| {
                format!(
                    "{} database: a fresh session for the next block",
                    side.label
                )
            })?;
            side.sessions.push(s);
        }
    }
    Ok(())
}

/// Closes the connection itself rather than returning it to the pool, so
/// the next session is a new backend.
async fn close_session(s: Session) {
    match s {
        Session::Postgres { conn, .. } => {
            let _ = conn.close().await;
        }
        Session::Sqlite { conn, .. } => {
            let _ = conn.close().await;
        }
        Session::Mysql { conn } => {
            let _ = conn.close().await;
        }
    }
}

/// A stable 64-bit hash of a string (FNV-1a), to seed per-operation RNGs.
fn fxhash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
