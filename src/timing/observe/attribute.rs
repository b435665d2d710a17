//! Attribution: each window statement to the operation sides whose
//! captured SQL it is (by query id, else by normalised text), each side's
//! executions and statistics, Welch's interval for the ratio of means, and
//! the verdict.

use std::collections::{BTreeMap, BTreeSet};

use super::normalize::{is_control, normalize_sql, statement_text};
use super::{
    ObserveVerdict, ObservedOperation, ObservedSide, StatementKey, StatementSide, Unmatched,
    WindowEntry,
};
use crate::db::stats::MARKER;
use crate::timing::ops::Operation;

/// Settings of one attribution.
#[derive(Debug, Clone)]
pub struct ObserveOptions {
    pub max_slowdown: f64,
    pub min_calls: u64,
    pub min_share: f64,
    /// The database roles (`pg_roles.oid`) each ORM connects as, when they
    /// differ: a statement is then attributed only to the side of the role
    /// that ran it, which separates sides PostgreSQL records under one
    /// query id.
    pub source_role: Option<i64>,
    pub target_role: Option<i64>,
}

type Slot = (usize, StatementSide, usize);
type OpSide = (usize, StatementSide);

#[derive(Default, Clone)]
struct Acc {
    calls: f64,
    total_ms: f64,
    var_weighted: f64,
    rows: f64,
    hit: f64,
    read: f64,
    temp: f64,
    plans: f64,
    plan_ms: f64,
    queryids: BTreeSet<i64>,
    by: BTreeSet<&'static str>,
}

/// Attributes the window's statements to `ops` (`keys[i]` = per side, per
/// statement) and computes each operation's statistics and verdict.
pub fn attribute(
    ops: &[Operation],
    keys: &BTreeMap<Slot, StatementKey>,
    entries: &[WindowEntry],
    opts: &ObserveOptions,
) -> (Vec<ObservedOperation>, Vec<Unmatched>, WindowTotals) {
    // Every slot's key: the computed id where there is one, the text always.
    let mut slots: Vec<(Slot, StatementKey)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (side, s) in [
            (StatementSide::Source, &op.source),
            (StatementSide::Target, &op.target),
        ] {
            for (k, st) in s.statements.iter().enumerate() {
                if st.control.is_some() {
                    continue;
                }
                let key = keys.get(&(i, side, k)).cloned().unwrap_or_default();
                slots.push((
                    (i, side, k),
                    StatementKey {
                        queryid: key.queryid,
                        text: normalize_sql(&statement_text(st)),
                    },
                ));
            }
        }
    }
    // A slot is exclusive when no other operation side's slot shares its id or text.
    let exclusive = |slot: &Slot, key: &StatementKey| {
        !slots.iter().any(|(o, k)| {
            (o.0, o.1) != (slot.0, slot.1)
                && (k.text == key.text || (k.queryid.is_some() && k.queryid == key.queryid))
        })
    };
    // Groups: window entries by the set of slots they match.
    let mut totals = WindowTotals::default();
    let mut groups: BTreeMap<Vec<Slot>, (Vec<&WindowEntry>, &'static str)> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for e in entries {
        if e.query.contains(MARKER) {
            totals.parity_calls += e.calls as u64;
            continue;
        }
        totals.statements += 1;
        totals.calls += e.calls as u64;
        totals.total_ms += e.total_ms;
        let role_allows = |slot: &Slot| {
            let role = match slot.1 {
                StatementSide::Source => opts.source_role,
                StatementSide::Target => opts.target_role,
            };
            role.is_none_or(|r| r == e.userid)
        };
        let by_id: Vec<Slot> = slots
            .iter()
            .filter(|(s, k)| k.queryid == Some(e.queryid) && e.queryid != 0 && role_allows(s))
            .map(|(s, _)| *s)
            .collect();
        let (matched, how) = if !by_id.is_empty() {
            (by_id, "query_id")
        } else {
            let t = normalize_sql(&e.query);
            (
                slots
                    .iter()
                    .filter(|(s, k)| k.text == t && role_allows(s))
                    .map(|(s, _)| *s)
                    .collect(),
                "text",
            )
        };
        if matched.is_empty() {
            unmatched.push(Unmatched {
                queryid: e.queryid,
                kind: if is_control(&e.query) {
                    "control".into()
                } else {
                    "query".into()
                },
                calls: e.calls as u64,
                total_ms: e.total_ms,
                share: 0.0,
                query: e.query.clone(),
            });
        } else {
            groups.entry(matched).or_insert((Vec::new(), how)).0.push(e);
        }
    }
    // Executions per operation side: the calls of its first exclusive statement.
    let mut n: BTreeMap<OpSide, f64> = BTreeMap::new();
    let mut ambiguous: BTreeSet<OpSide> = BTreeSet::new();
    let group_calls = |g: &[&WindowEntry]| g.iter().map(|e| e.calls).sum::<f64>();
    for (slot, key) in &slots {
        let os = (slot.0, slot.1);
        if n.contains_key(&os) || !exclusive(slot, key) {
            continue;
        }
        let calls: f64 = groups
            .iter()
            .filter(|(set, _)| set.iter().all(|s| (s.0, s.1) == os) && set.contains(slot))
            .map(|(set, (g, _))| group_calls(g) / set.len() as f64)
            .sum();
        n.insert(os, calls);
    }
    // Operation sides with no exclusive statement: what the shared ones leave.
    let all_os: BTreeSet<OpSide> = slots.iter().map(|(s, _)| (s.0, s.1)).collect();
    loop {
        let mut progress = false;
        for (set, (g, _)) in &groups {
            let mult: BTreeMap<OpSide, f64> = set.iter().fold(BTreeMap::new(), |mut m, s| {
                *m.entry((s.0, s.1)).or_insert(0.0) += 1.0;
                m
            });
            let open: Vec<&OpSide> = mult.keys().filter(|os| !n.contains_key(os)).collect();
            if open.len() == 1 {
                let known: f64 = mult
                    .iter()
                    .filter_map(|(os, m)| n.get(os).map(|x| x * m))
                    .sum();
                let os = *open[0];
                n.insert(os, ((group_calls(g) - known) / mult[&os]).max(0.0));
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    // Still open: sides whose statements are all recorded together with
    // another undetermined side's. Split evenly, in whole calls that add up.
    for (set, (g, _)) in &groups {
        let open: BTreeSet<OpSide> = set
            .iter()
            .map(|s| (s.0, s.1))
            .filter(|os| !n.contains_key(os))
            .collect();
        if open.is_empty() {
            continue;
        }
        let known: f64 = set.iter().filter_map(|s| n.get(&(s.0, s.1))).sum();
        let rest = (group_calls(g) - known).max(0.0).round() as u64;
        let k = open.len() as u64;
        for (j, os) in open.iter().enumerate() {
            ambiguous.insert(*os);
            let extra = u64::from((j as u64) < rest % k);
            n.insert(*os, (rest / k + extra) as f64);
        }
    }
    for os in &all_os {
        n.entry(*os).or_insert(0.0);
    }
    // Split each group between its operation sides by expected calls.
    let mut acc: BTreeMap<OpSide, Acc> = BTreeMap::new();
    for (set, (g, how)) in &groups {
        let mut mult: BTreeMap<OpSide, f64> = BTreeMap::new();
        for s in set {
            *mult.entry((s.0, s.1)).or_insert(0.0) += 1.0;
        }
        let weight: f64 = mult.iter().map(|(os, m)| m * n[os]).sum();
        for (os, m) in &mult {
            let share = if weight > 0.0 {
                m * n[os] / weight
            } else {
                1.0 / mult.len() as f64
            };
            let a = acc.entry(*os).or_default();
            for e in g {
                let calls = e.calls * share;
                a.calls += calls;
                a.total_ms += e.total_ms * share;
                let mean = e.total_ms / e.calls;
                let var = if e.calls > 1.0 {
                    ((e.sumsq - e.calls * mean * mean) / (e.calls - 1.0)).max(0.0)
                } else {
                    0.0
                };
                a.var_weighted += calls * var;
                a.rows += e.rows * share;
                a.hit += e.shared_blks_hit * share;
                a.read += e.shared_blks_read * share;
                a.temp += e.temp_blks * share;
                a.plans += e.plans * share;
                a.plan_ms += e.plan_ms * share;
                a.queryids.insert(e.queryid);
                a.by.insert(how);
            }
        }
    }
    let side_of = |os: OpSide, orm: Option<&str>, default: &str| -> ObservedSide {
        let execs = n.get(&os).copied().unwrap_or(0.0);
        let a = acc.get(&os).cloned().unwrap_or_default();
        let per = |x: f64| if execs > 0.0 { x / execs } else { 0.0 };
        ObservedSide {
            orm: orm.unwrap_or(default).to_string(),
            calls: execs.round() as u64,
            mean_ms: per(a.total_ms),
            stddev_ms: per(a.var_weighted).sqrt(),
            rows_per_call: per(a.rows),
            shared_blks_hit: per(a.hit),
            shared_blks_read: per(a.read),
            temp_blks: per(a.temp),
            plan_ms: (a.plans > 0.0).then(|| per(a.plan_ms)),
            total_ms: a.total_ms,
            queryids: a.queryids.into_iter().collect(),
            matched_by: a.by.into_iter().map(String::from).collect(),
        }
    };
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let source = side_of(
            (i, StatementSide::Source),
            op.source.orm.as_deref(),
            "prisma",
        );
        let target = side_of(
            (i, StatementSide::Target),
            op.target.orm.as_deref(),
            "drizzle",
        );
        let mut notes = Vec::new();
        let same_sql = {
            let texts = |side: StatementSide| -> BTreeSet<String> {
                slots
                    .iter()
                    .filter(|(s, _)| s.0 == i && s.1 == side)
                    .map(|(_, k)| k.text.clone())
                    .collect()
            };
            texts(StatementSide::Source) == texts(StatementSide::Target)
        };
        let mut split = false;
        for (os, label) in [
            ((i, StatementSide::Source), "source"),
            ((i, StatementSide::Target), "target"),
        ] {
            if ambiguous.contains(&os) {
                split = true;
                notes.push(format!(
                    "{label}: PostgreSQL records its statements under the same query id as another operation side's (same query tree, different text), so its calls cannot be told apart and are an even share; a database role per ORM (--source-role, --target-role) separates them"
                ));
            }
        }
        let (ratio, ci_low, ci_high) = welch_ratio(
            (source.mean_ms, source.stddev_ms, source.calls),
            (target.mean_ms, target.stddev_ms, target.calls),
        );
        let verdict = if same_sql {
            notes.push("both ORMs send the same SQL: the two sides cannot be told apart".into());
            ObserveVerdict::Indistinguishable
        } else if split {
            ObserveVerdict::Indistinguishable
        } else if source.calls < opts.min_calls.max(2) || target.calls < opts.min_calls.max(2) {
            notes.push(format!(
                "not enough traffic: {} source and {} target executions in the window (at least {} each needed)",
                source.calls,
                target.calls,
                opts.min_calls.max(2)
            ));
            ObserveVerdict::NotEnoughTraffic
        } else if ci_low > 1.0 + opts.max_slowdown {
            ObserveVerdict::Slower
        } else if ci_high < 1.0 - opts.max_slowdown {
            ObserveVerdict::Faster
        } else {
            ObserveVerdict::Same
        };
        out.push(ObservedOperation {
            repository: op.repository.clone(),
            operation: op.name.clone(),
            source,
            target,
            ratio,
            ci_low,
            ci_high,
            verdict,
            notes,
            staging: None,
        });
    }
    for u in &mut unmatched {
        u.share = if totals.total_ms > 0.0 {
            u.total_ms / totals.total_ms
        } else {
            0.0
        };
    }
    unmatched.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    totals.unmatched_count = unmatched.iter().filter(|u| u.kind == "query").count() as u64;
    totals.unmatched_share = unmatched
        .iter()
        .filter(|u| u.kind == "query")
        .map(|u| u.share)
        .sum::<f64>()
        + 0.0;
    unmatched.retain(|u| u.share >= opts.min_share);
    (out, unmatched, totals)
}

/// Window-wide counts.
#[derive(Debug, Clone, Default)]
pub struct WindowTotals {
    pub statements: u64,
    pub calls: u64,
    pub total_ms: f64,
    pub parity_calls: u64,
    pub unmatched_count: u64,
    pub unmatched_share: f64,
}

/// Target mean over source mean with a 95% Welch interval on the log
/// ratio: `se² = s_t²/(n_t m_t²) + s_s²/(n_s m_s²)`, degrees of freedom by
/// Welch–Satterthwaite, bounds `ratio × exp(±t·se)`. NaN without data.
pub fn welch_ratio(source: (f64, f64, u64), target: (f64, f64, u64)) -> (f64, f64, f64) {
    let (ms, ss, ns) = source;
    let (mt, st, nt) = target;
    if ns < 2 || nt < 2 || ms <= 0.0 || mt <= 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let ratio = mt / ms;
    let a = st * st / (nt as f64 * mt * mt);
    let b = ss * ss / (ns as f64 * ms * ms);
    let se2 = a + b;
    if se2 <= 0.0 {
        return (ratio, ratio, ratio);
    }
    let df = se2 * se2 / (a * a / (nt as f64 - 1.0) + b * b / (ns as f64 - 1.0));
    let t = t_975(df);
    let half = t * se2.sqrt();
    (ratio, ratio * (-half).exp(), ratio * half.exp())
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom
/// (Cornish–Fisher expansion around the normal quantile; exact to 3
/// decimals from 3 degrees of freedom, conservative below).
pub fn t_975(df: f64) -> f64 {
    if !df.is_finite() || df > 1e7 {
        return 1.959_963_984_540_054;
    }
    let df = df.max(1.0);
    if df < 3.0 {
        // 1 and 2 degrees of freedom, exact; between them the larger.
        return if df < 2.0 {
            12.706_204_736
        } else {
            4.302_652_730
        };
    }
    let z: f64 = 1.959_963_984_540_054;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    let z9 = z.powi(9);
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * df.powi(4))
}
