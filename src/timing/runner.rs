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

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::clock::Clock;
use super::exec::{Catalog, Session, StmtResult};
use super::ops::{
    self, Binding, CompareMode, Control, Generator, Operation, ParamRef, ParamSource, SideOps,
};
use super::order::{self, OrderedList};
use super::result::{self, Entity, SideView};
use super::stats::{self, SplitMix64, Summary, Verdict};
use super::value::Val;
use super::{OperationResult, ResultMismatch, TimingOptions};
use crate::db::Db;
use crate::mapping::{Dialect, Mapping};
use crate::ui::Ui;

pub type ParamSet = BTreeMap<String, Val>;

/// One side's database, sessions and mapping. When both sides read the
/// same database, the target's `sessions` is empty and it runs on the
/// source's sessions: every client then executes both sides' SQL on one
/// backend, so a backend that lands on a busy core slows both alike.
pub struct Side<'a> {
    pub label: &'static str,
    pub db: Db,
    pub sessions: Vec<Session>,
    pub mapping: &'a Mapping,
    pub catalog: Catalog,
}

impl Side<'_> {
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }
}

/// The sessions a side runs on (the source's when the target shares them).
fn sessions<'s>(
    source: &'s mut Side<'_>,
    target: &'s mut Side<'_>,
    is_source: bool,
) -> &'s mut Vec<Session> {
    if is_source || target.sessions.is_empty() {
        &mut source.sessions
    } else {
        &mut target.sessions
    }
}

/// What one execution of a side's statements did.
struct Exec {
    ns: u64,
    round_trips: usize,
    rows: usize,
    results: Vec<(String, StmtResult)>,
}

/// Executes a side's statements once. `keep` keeps the results (parity pass,
/// plans); measured iterations only count them.
async fn execute(
    session: &mut Session,
    side: &SideOps,
    set: &ParamSet,
    writes: bool,
    clock: &dyn Clock,
    keep: bool,
) -> Result<Exec> {
    // Issue 10: on PostgreSQL a read runs in BEGIN READ ONLY … ROLLBACK
    // (framing, not timed, like a write's), so nothing it sends can commit;
    // the ORM's own BEGIN/COMMIT become savepoints inside it.
    let framed = writes || session.is_postgres();
    if writes {
        session.begin_write().await?;
    } else if framed {
        session.control("BEGIN READ ONLY").await?;
    }
    let t0 = clock.now_ns();
    let r = statements(session, side, set, framed, keep).await;
    let t1 = clock.now_ns();
    if framed {
        let rb = if writes {
            session.rollback_write().await
        } else {
            session.control("ROLLBACK").await
        };
        if r.is_ok() {
            rb?;
        }
    }
    let (round_trips, rows, results) = r?;
    Ok(Exec {
        ns: t1.saturating_sub(t0),
        round_trips,
        rows,
        results,
    })
}

type Ran = (usize, usize, Vec<(String, StmtResult)>);

async fn statements(
    session: &mut Session,
    side: &SideOps,
    set: &ParamSet,
    in_savepoints: bool,
    keep: bool,
) -> Result<Ran> {
    let mut results: Vec<StmtResult> = Vec::with_capacity(side.statements.len());
    let mut kept = Vec::new();
    let mut depth = 0usize;
    let (mut rtt, mut rows) = (0, 0);
    for (i, st) in side.statements.iter().enumerate() {
        if in_savepoints && let Some(ctl) = st.control {
            let sql = savepoint_sql(ctl, &mut depth);
            session
                .exec(&sql, &[])
                .await
                .with_context(|| format!("statement {} ({sql})", i + 1))?;
            rtt += 1;
            results.push(StmtResult::default());
            continue;
        }
        let rendered = ops::render(st, &|stmt, col| list_values(&results, stmt, col));
        let Some((sql, binds)) = rendered else {
            // An empty IN list: the ORM skips the query.
            results.push(StmtResult::default());
            continue;
        };
        let params = binds
            .iter()
            .map(|b| match b {
                Binding::Param(k) => bind_value(&st.params[*k], set, &results),
                Binding::Value(v) => Ok(v.clone()),
            })
            .collect::<Result<Vec<Val>>>()
            .with_context(|| format!("statement {}", i + 1))?;
        let r = session
            .exec(&sql, &params)
            .await
            .with_context(|| format!("statement {}: {}", i + 1, snippet(&sql)))?;
        rtt += 1;
        rows += r.rows.len();
        if keep {
            kept.push((sql.into_owned(), r.clone()));
        }
        results.push(r);
    }
    Ok((rtt, rows, kept))
}

fn savepoint_sql(ctl: Control, depth: &mut usize) -> String {
    match ctl {
        Control::Begin => {
            *depth += 1;
            format!("SAVEPOINT parity_sp{depth}")
        }
        Control::Commit => {
            let s = format!("RELEASE SAVEPOINT parity_sp{}", (*depth).max(1));
            *depth = depth.saturating_sub(1);
            s
        }
        Control::Rollback => {
            let s = format!("ROLLBACK TO SAVEPOINT parity_sp{}", (*depth).max(1));
            *depth = depth.saturating_sub(1);
            s
        }
    }
}

fn snippet(sql: &str) -> String {
    let s: String = sql.chars().take(80).collect();
    if s.len() < sql.len() {
        format!("{s}…")
    } else {
        s
    }
}

fn list_values(results: &[StmtResult], stmt: usize, col: &str) -> Vec<Val> {
    let Some(r) = results.get(stmt) else {
        return Vec::new();
    };
    let Some(i) = r.column(col) else {
        return Vec::new();
    };
    let mut out: Vec<Val> = Vec::new();
    for row in &r.rows {
        if !out.contains(&row[i]) {
            out.push(row[i].clone());
        }
    }
    out
}

fn bind_value(p: &ParamRef, set: &ParamSet, results: &[StmtResult]) -> Result<Val> {
    match p {
        ParamRef::Named(n) => set.get(n).cloned().ok_or_else(|| {
            anyhow!(
                "parameter \"{n}\" is not in the parameter set (it has: {}); name it in params_from or [[params]]",
                set.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }),
        ParamRef::Literal(v) => Ok(v.clone()),
        ParamRef::Now => {
            let ms = chrono::Utc::now().timestamp_millis();
            Ok(Val::TimestampTz(ms * 1000))
        }
        ParamRef::Ref { stmt, column } => {
            let r = results
                .get(*stmt)
                .ok_or_else(|| anyhow!("{{{{stmt{}.{column}}}}} has not run", stmt + 1))?;
            let i = r.column(column).ok_or_else(|| {
                anyhow!(
                    "statement {} returns no column \"{column}\" for {{{{stmt{}.{column}}}}}",
                    stmt + 1,
                    stmt + 1
                )
            })?;
            r.rows.first().map(|row| row[i].clone()).ok_or_else(|| {
                anyhow!(
                    "statement {} returned no rows for {{{{stmt{}.{column}}}}}",
                    stmt + 1,
                    stmt + 1
                )
            })
        }
    }
}

/// The seed `params_from` samples with on PostgreSQL (`setseed`).
const PARAMS_SEED: f64 = 0.1818;

/// The parameter sets: literal, or sampled by `params_from` on the source
/// database (a read-only session). On PostgreSQL the session's `random()`
/// is seeded first, so `ORDER BY random() LIMIT n` picks the same sample of
/// the same database on every run: runs compare the same work, and the
/// verdict does not move with the sample (SQLite's `random()` cannot be
/// seeded).
async fn parameter_sets(op: &Operation, session: &mut Session) -> Result<Vec<ParamSet>> {
    match &op.params {
        None => Ok(vec![ParamSet::new()]),
        Some(ParamSource::Sets(s)) => Ok(s.clone()),
        Some(ParamSource::Query(q)) => {
            // Issue 10: in a read-only transaction, like every read; seeded
            // so that one database gives the same parameter sets every run.
            let framed = session.is_postgres();
            if framed {
                session.control("BEGIN READ ONLY").await?;
                session
                    .exec(&format!("SELECT setseed({PARAMS_SEED})"), &[])
                    .await
                    .context("cannot seed random() for params_from")?;
            }
            let r = session.exec(q, &[]).await;
            if framed {
                session.control("ROLLBACK").await?;
            }
            let r = r.with_context(|| format!("params_from query failed: {}", snippet(q)))?;
            if r.rows.is_empty() {
                bail!(
                    "params_from returned no rows; the database has nothing to sample (is it seeded?)"
                );
            }
            Ok(r.rows
                .iter()
                .map(|row| {
                    r.columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.name.clone(), v.clone()))
                        .collect()
                })
                .collect())
        }
    }
}

/// A parameter set with this iteration's generated values.
fn with_generated(base: &ParamSet, op: &Operation, rng: &mut SplitMix64) -> ParamSet {
    let mut set = base.clone();
    for (name, g) in &op.generate {
        let v = match g {
            Generator::Cuid => {
                const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
                let mut s = String::from("c");
                for _ in 0..24 {
                    s.push(A[rng.below(36)] as char);
                }
                Val::Text(s)
            }
            Generator::Uuid => {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
                b[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
                b[6] = (b[6] & 0x0F) | 0x40;
                b[8] = (b[8] & 0x3F) | 0x80;
                Val::Uuid(b)
            }
            Generator::Now => Val::TimestampTz(chrono::Utc::now().timestamp_millis() * 1000),
        };
        set.insert(name.clone(), v);
    }
    set
}

fn entities_of(
    side: &Side<'_>,
    sql: &SideOps,
    results: &[(String, StmtResult)],
    op: &Operation,
) -> Vec<Entity> {
    let view = SideView {
        mapping: side.mapping,
        catalog: &side.catalog,
        rename: &sql.rename,
        dialect: side.dialect(),
    };
    let mut out = Vec::new();
    for (text, r) in results {
        result::entities(&view, text, r, &op.ignore, &mut out);
    }
    out
}

/// Closes every session of both sides and opens as many new ones: a block
/// starts on fresh backends, with nothing prepared or cached in the session.
async fn renew_sessions<'m>(source: &mut Side<'m>, target: &mut Side<'m>) -> Result<()> {
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

/// The top-level list each statement returned, in its order.
fn lists_of(
    side: &Side<'_>,
    sql: &SideOps,
    results: &[(String, StmtResult)],
    op: &Operation,
) -> Vec<OrderedList> {
    let view = SideView {
        mapping: side.mapping,
        catalog: &side.catalog,
        rename: &sql.rename,
        dialect: side.dialect(),
    };
    results
        .iter()
        .filter_map(|(text, r)| order::list(&view, text, r, &op.ignore))
        .collect()
}

/// Runs one operation end to end; never fails: errors become an `error`
/// verdict.
pub async fn run_operation<'m>(
    op: &Operation,
    source: &mut Side<'m>,
    target: &mut Side<'m>,
    opts: &TimingOptions,
    clock: &dyn Clock,
    ui: &Ui,
) -> OperationResult {
    let mut res = OperationResult::new(op);
    if let Err(e) = measure(op, source, target, opts, clock, ui, &mut res).await {
        res.verdict = Verdict::Error;
        res.error = Some(format!("{e:#}"));
    }
    res
}

#[allow(clippy::too_many_arguments)]
async fn measure<'m>(
    op: &Operation,
    source: &mut Side<'m>,
    target: &mut Side<'m>,
    opts: &TimingOptions,
    clock: &dyn Clock,
    ui: &Ui,
    res: &mut OperationResult,
) -> Result<()> {
    let sets = parameter_sets(op, &mut source.sessions[0]).await?;
    res.parameter_sets = sets.len();
    let mut rng = SplitMix64(0x7A11_0000 ^ fxhash(&op.id()));

    // 1. Result parity, one execution per parameter set and side.
    let (mut hs, mut ht) = (blake3::Hasher::new(), blake3::Hasher::new());
    let mut notes = std::collections::BTreeSet::new();
    let (mut s_rows, mut t_rows, mut s_rtt, mut t_rtt) = (0usize, 0usize, 0usize, 0usize);
    for (k, base) in sets.iter().enumerate() {
        let set = with_generated(base, op, &mut rng);
        let a = execute(
            &mut source.sessions[0],
            &op.source,
            &set,
            op.writes,
            clock,
            true,
        )
        .await
        .with_context(|| format!("source, parameter set {}", k + 1))?;
        let b = execute(
            &mut sessions(source, target, false)[0],
            &op.target,
            &set,
            op.writes,
            clock,
            true,
        )
        .await
        .with_context(|| format!("target, parameter set {}", k + 1))?;
        s_rows += a.rows;
        t_rows += b.rows;
        s_rtt += a.round_trips;
        t_rtt += b.round_trips;
        let es = entities_of(source, &op.source, &a.results, op);
        let et = entities_of(target, &op.target, &b.results, op);
        let key_of = |table: &str| {
            source
                .mapping
                .table(table)
                .map(|t| t.primary_key.clone())
                .unwrap_or_default()
        };
        let outcome = result::compare(
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
                &lists_of(source, &op.source, &a.results, op),
                &lists_of(target, &op.target, &b.results, op),
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
    let n = sets.len().max(1) as f64;
    res.source.rows = s_rows as f64 / n;
    res.target.rows = t_rows as f64 / n;
    res.source.round_trips = s_rtt as f64 / n;
    res.target.round_trips = t_rtt as f64 / n;
    res.source.result_hash = hex::encode(&hs.finalize().as_bytes()[..8]);
    res.target.result_hash = hex::encode(&ht.finalize().as_bytes()[..8]);
    res.notes = notes.into_iter().collect();

    // 2. Blocks, each: fresh sessions, warm-up, its share of the measured
    // rounds, sides interleaved.
    let c = opts.concurrency.max(1);
    let blocks = opts.effective_blocks();
    let mut s_blocks: Vec<Vec<f64>> = Vec::with_capacity(blocks);
    let mut t_blocks: Vec<Vec<f64>> = Vec::with_capacity(blocks);
    let mut round_sets: Vec<usize> = Vec::new();
    let started = clock.now_ns();
    let min_ns = (opts.min_time_seconds * 1e9) as u64;
    const MAX_ROUNDS: usize = 1_000_000;
    for block in 0..blocks {
        // Every block on new backends, the first too: the sessions of the
        // parity pass above have run other SQL (measured: on them the
        // json_agg side ran ~15% slower than on any fresh session).
        renew_sessions(source, target).await?;
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
                && clock.now_ns().saturating_sub(started) >= block_min_ns
                || round >= MAX_ROUNDS
            {
                break;
            }
            // Every block times the same parameter sets in the same order
            // (from the first, cycling when there are fewer sets than
            // rounds), so blocks differ only in what the machine did.
            let base = if warm { round } else { measured };
            let idx: Vec<usize> = (0..c).map(|k| (base * c + k) % sets.len()).collect();
            let round_params: Vec<ParamSet> = idx
                .iter()
                .map(|&i| with_generated(&sets[i], op, &mut rng))
                .collect();
            let order: [bool; 2] = if round.is_multiple_of(2) {
                [true, false]
            } else {
                [false, true]
            };
            for is_source in order {
                let (label, sql) = if is_source {
                    (source.label, &op.source)
                } else {
                    (target.label, &op.target)
                };
                let futs = sessions(source, target, is_source)
                    .iter_mut()
                    .zip(&round_params)
                    .map(|(s, p)| execute(s, sql, p, op.writes, clock, false));
                let out = futures::future::join_all(futs).await;
                for r in out {
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
                round_sets.extend(&idx);
                measured += 1;
            }
            round += 1;
        }
        s_blocks.push(s_ms);
        t_blocks.push(t_ms);
    }

    // 4. Statistics and the verdict.
    let pairs: Vec<stats::Block> = s_blocks.into_iter().zip(t_blocks).collect();
    let s_ms: Vec<f64> = pairs.iter().flat_map(|b| b.0.iter().copied()).collect();
    let t_ms: Vec<f64> = pairs.iter().flat_map(|b| b.1.iter().copied()).collect();
    res.source.stats = Summary::of(&s_ms);
    res.target.stats = Summary::of(&t_ms);
    res.source.block_p50_ms = pairs.iter().map(|b| stats::median(&b.0)).collect();
    res.target.block_p50_ms = pairs.iter().map(|b| stats::median(&b.1)).collect();
    res.comparison = stats::compare_blocks(&pairs);
    res.verdict = stats::verdict(res.mismatch.is_none(), &res.comparison, opts.max_slowdown);
    res.source.samples_ms = s_ms;
    res.target.samples_ms = t_ms;

    // 5. Plans of the iteration nearest each side's median.
    if let Some(dir) = &opts.explain_dir {
        for is_source in [true, false] {
            let (label, sql, r) = if is_source {
                (source.label, &op.source, &mut res.source)
            } else {
                (target.label, &op.target, &mut res.target)
            };
            let p50 = r.stats.p50_ms;
            let Some(i) = r
                .samples_ms
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - p50).abs().total_cmp(&(b.1 - p50).abs()))
                .map(|(i, _)| i)
            else {
                continue;
            };
            let set = with_generated(&sets[round_sets[i]], op, &mut rng);
            let plans = explain(
                &mut sessions(source, target, is_source)[0],
                sql,
                &set,
                op.writes,
            )
            .await
            .with_context(|| format!("{label}: explain"))?;
            let rel = format!("explain/{}/{}.{}.json", op.repository, op.name, label);
            let doc = serde_json::json!({
                "operation": op.id(),
                "side": label,
                "iteration": i + 1,
                "latency_ms": r.samples_ms[i],
                "parameter_set": round_sets[i] + 1,
                "statements": plans,
            });
            write_explain(dir, &rel, &doc)?;
            r.explain_file = Some(rel);
        }
    }
    ui.info(format!(
        "timing {}: p50 {:.3} ms → {:.3} ms ({:.2}×) {}",
        op.id(),
        res.source.stats.p50_ms,
        res.target.stats.p50_ms,
        res.comparison.ratio_p50,
        res.verdict.as_str()
    ));
    Ok(())
}

fn write_explain(dir: &Path, rel: &str, doc: &serde_json::Value) -> Result<()> {
    let path = dir.join(rel);
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    // Issue 10: no parameter value in the output folder.
    let mut doc = doc.clone();
    super::explain_mask::mask(&mut doc);
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    crate::report::write_atomic(&path, &bytes)
}

/// Each statement's plan, inside a transaction that is rolled back; each
/// EXPLAIN ANALYZE in its own savepoint, then the statement itself runs so
/// later statements see its effects and results.
async fn explain(
    session: &mut Session,
    side: &SideOps,
    set: &ParamSet,
    writes: bool,
) -> Result<Vec<serde_json::Value>> {
    if writes || !session.is_postgres() {
        session.begin_write().await?;
    } else {
        session.control("BEGIN READ ONLY").await?;
    }
    let r = explain_inner(session, side, set).await;
    let rb = if writes || !session.is_postgres() {
        session.rollback_write().await
    } else {
        session.control("ROLLBACK").await
    };
    let out = r?;
    rb?;
    Ok(out)
}

async fn explain_inner(
    session: &mut Session,
    side: &SideOps,
    set: &ParamSet,
) -> Result<Vec<serde_json::Value>> {
    let mut results: Vec<StmtResult> = Vec::new();
    let mut plans = Vec::new();
    let mut depth = 0usize;
    for st in &side.statements {
        if let Some(ctl) = st.control {
            session.exec(&savepoint_sql(ctl, &mut depth), &[]).await?;
            results.push(StmtResult::default());
            continue;
        }
        let Some((sql, binds)) = ops::render(st, &|stmt, col| list_values(&results, stmt, col))
        else {
            results.push(StmtResult::default());
            continue;
        };
        let params = binds
            .iter()
            .map(|b| match b {
                Binding::Param(k) => bind_value(&st.params[*k], set, &results),
                Binding::Value(v) => Ok(v.clone()),
            })
            .collect::<Result<Vec<Val>>>()?;
        let postgres = session.is_postgres();
        if postgres {
            session.exec("SAVEPOINT parity_explain", &[]).await?;
        }
        let plan = session.explain(&sql, &params).await;
        if postgres {
            session
                .exec("ROLLBACK TO SAVEPOINT parity_explain", &[])
                .await?;
        }
        plans.push(serde_json::json!({ "sql": sql, "plan": plan? }));
        results.push(session.exec(&sql, &params).await?);
    }
    Ok(plans)
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
