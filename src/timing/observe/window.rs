//! The window between two cumulative `pg_stat_statements` snapshots: per
//! statement, the differences of its counters.

use std::collections::BTreeMap;

use crate::db::stats::{StatEntry, StatSnapshot};

/// One statement's numbers over the window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowEntry {
    pub queryid: i64,
    /// The role that ran it (`pg_roles.oid`).
    pub userid: i64,
    pub query: String,
    pub calls: f64,
    pub total_ms: f64,
    /// Sum of squared execution times, ms².
    pub sumsq: f64,
    pub rows: f64,
    pub shared_blks_hit: f64,
    pub shared_blks_read: f64,
    pub temp_blks: f64,
    pub plans: f64,
    pub plan_ms: f64,
}

fn sumsq(e: &StatEntry) -> f64 {
    e.calls as f64 * (e.stddev_exec_ms * e.stddev_exec_ms + e.mean_exec_ms * e.mean_exec_ms)
}

/// The differences between two cumulative snapshots, per statement with
/// calls in the window. Notes say what could not be taken as a difference.
pub fn window(before: &StatSnapshot, after: &StatSnapshot) -> (Vec<WindowEntry>, Vec<String>) {
    let mut notes = Vec::new();
    if before.stats_reset != after.stats_reset {
        notes.push(format!(
            "pg_stat_statements was reset during the window (at {}): statements count from the reset",
            after.stats_reset.as_deref().unwrap_or("?")
        ));
    }
    let key = |e: &StatEntry| (e.userid, e.queryid, e.toplevel);
    let old: BTreeMap<_, &StatEntry> = before.entries.iter().map(|e| (key(e), e)).collect();
    let mut out = Vec::new();
    let mut restarted = 0usize;
    for e in &after.entries {
        let base = old.get(&key(e)).copied().filter(|b| b.calls <= e.calls);
        if old.contains_key(&key(e)) && base.is_none() {
            restarted += 1;
        }
        let w = delta(e, base);
        if w.calls > 0.0 {
            out.push(w);
        }
    }
    if restarted > 0 {
        notes.push(format!(
            "{restarted} statement(s) were evicted or reset during the window and count from then on (raise pg_stat_statements.max if this repeats)"
        ));
    }
    (out, notes)
}

/// `e`'s counters less `base`'s: the window's share of a statement, or all
/// of it when it has no base (new in the window, or reset in between).
fn delta(e: &StatEntry, base: Option<&StatEntry>) -> WindowEntry {
    let less = |f: fn(&StatEntry) -> f64| f(e) - base.map_or(0.0, f);
    WindowEntry {
        queryid: e.queryid,
        userid: e.userid,
        query: e.query.clone(),
        calls: less(|x| x.calls as f64),
        total_ms: less(|x| x.total_exec_ms),
        sumsq: less(sumsq),
        rows: less(|x| x.rows as f64),
        shared_blks_hit: less(|x| x.shared_blks_hit as f64),
        shared_blks_read: less(|x| x.shared_blks_read as f64),
        temp_blks: less(|x| (x.temp_blks_read + x.temp_blks_written) as f64),
        plans: less(|x| x.plans as f64),
        plan_ms: less(|x| x.total_plan_ms),
    }
}
