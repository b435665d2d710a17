//! `--explain`: the plans of the iteration nearest each side's median,
//! captured as data. Each statement's `EXPLAIN` runs inside a transaction
//! that is rolled back; the document is masked (`explain_mask`: no
//! parameter value leaves the database) and handed back in the
//! [`SideResult`]; `report` writes it to the file `explain_file` names.

use anyhow::{Context, Result};

use super::execute::{ParamSet, bound, savepoint_sql, with_generated};
use super::{TimingSide, sessions, side_of};
use crate::timing::exec::{Session, StmtResult};
use crate::timing::ops::{Operation, SideOps};
use crate::timing::result::{OperationResult, SideResult};
use crate::timing::stats::SplitMix64;

/// Where the measured iterations came from: `sets` and, per measured
/// iteration in run order, the index of its parameter set.
pub(super) struct Iterations<'a> {
    pub sets: &'a [ParamSet],
    pub set_of: &'a [usize],
}

/// Captures each side's plans at its median iteration into `res`.
pub(super) async fn median_plans<'m>(
    op: &Operation,
    source: &mut TimingSide<'m>,
    target: &mut TimingSide<'m>,
    iterations: Iterations<'_>,
    rng: &mut SplitMix64,
    res: &mut OperationResult,
) -> Result<()> {
    for is_source in [true, false] {
        let (label, sql) = side_of(op, is_source);
        let r: &mut SideResult = if is_source {
            &mut res.source
        } else {
            &mut res.target
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
        let set_index = iterations.set_of[i];
        let set = with_generated(&iterations.sets[set_index], op, rng);
        let plans = explain(
            &mut sessions(source, target, is_source)[0],
            sql,
            &set,
            op.writes,
        )
        .await
        .with_context(|| format!("{label}: explain"))?;
        let mut doc = serde_json::json!({
            "operation": op.id(),
            "side": label,
            "iteration": i + 1,
            "latency_ms": r.samples_ms[i],
            "parameter_set": set_index + 1,
            "statements": plans,
        });
        // Issue 10: no parameter value in the output folder.
        crate::timing::explain_mask::mask(&mut doc);
        r.explain_file = Some(format!(
            "explain/{}/{}.{}.json",
            op.repository, op.name, label
        ));
        r.explain = Some(doc);
    }
    Ok(())
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
    let write_framed = writes || !session.is_postgres();
    if write_framed {
        session.begin_write().await?;
    } else {
        session.control("BEGIN READ ONLY").await?;
    }
    let r = explain_inner(session, side, set).await;
    let rb = if write_framed {
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
        let Some((sql, params)) = bound(st, set, &results)? else {
            results.push(StmtResult::default());
            continue;
        };
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
