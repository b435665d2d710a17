//! One execution of one side's captured statements on one session, with
//! the framing that keeps it from committing anything, and the parameter
//! sets an operation runs with (literal, sampled by `params_from`, plus the
//! values generated fresh per iteration).

use std::borrow::Cow;
use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};

use crate::timing::clock::Clock;
use crate::timing::exec::{Session, StmtResult};
use crate::timing::ops::{
    self, Binding, Control, Generator, Operation, ParamRef, ParamSource, SideOps, Statement,
};
use crate::timing::stats::SplitMix64;
use crate::timing::value::Val;

/// Named parameters of one execution.
pub type ParamSet = BTreeMap<String, Val>;

/// What one execution of a side's statements did.
pub(super) struct Exec {
    pub ns: u64,
    pub round_trips: usize,
    pub rows: usize,
    pub results: Vec<(String, StmtResult)>,
}

/// Executes a side's statements once. `keep` keeps the results (parity pass,
/// plans); measured iterations only count them.
pub(super) async fn execute(
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
        let Some((sql, params)) =
            bound(st, set, &results).with_context(|| format!("statement {}", i + 1))?
        else {
            // An empty IN list: the ORM skips the query.
            results.push(StmtResult::default());
            continue;
        };
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

/// One statement rendered for this execution with its parameter values;
/// `None` when it expands an empty list (the ORM skips such a query).
pub(super) fn bound<'s>(
    st: &'s Statement,
    set: &ParamSet,
    results: &[StmtResult],
) -> Result<Option<(Cow<'s, str>, Vec<Val>)>> {
    let Some((sql, binds)) = ops::render(st, &|stmt, col| list_values(results, stmt, col)) else {
        return Ok(None);
    };
    let params = binds
        .iter()
        .map(|b| match b {
            Binding::Param(k) => bind_value(&st.params[*k], set, results),
            Binding::Value(v) => Ok(v.clone()),
        })
        .collect::<Result<Vec<Val>>>()?;
    Ok(Some((sql, params)))
}

pub(super) fn savepoint_sql(ctl: Control, depth: &mut usize) -> String {
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
pub(super) async fn parameter_sets(op: &Operation, session: &mut Session) -> Result<Vec<ParamSet>> {
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
pub(super) fn with_generated(base: &ParamSet, op: &Operation, rng: &mut SplitMix64) -> ParamSet {
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
