//! `parity observe`'s arithmetic: the window between two cumulative
//! statement-statistics snapshots, the attribution of each statement to an
//! operation and an ORM through the captured SQL in `queries/`, the
//! per-operation statistics of each side, Welch's interval for the ratio of
//! means, and the verdict.
//!
//! Owns [`ObserveSection`], which `report` renders (observe.csv, the
//! production section of report.html, junit.xml, report.json and the
//! Prometheus metrics). It reads no database (`db::stats` does) and renders
//! nothing.
//!
//! **Window.** Per statement, calls, time, rows and blocks are the
//! differences of the two cumulative snapshots; the window's variance comes
//! from the difference of the sums of squares (`calls × (stddev² + mean²)`,
//! `pg_stat_statements` keeps the population deviation). A statement whose
//! calls went down was reset or evicted in between: its second snapshot
//! counts whole, and a note says so.
//!
//! **Attribution.** A statement belongs to the operation sides whose captured
//! SQL has its query id (computed by the database from the captured text),
//! or failing that, its normalised text (literals and placeholders as `?`,
//! lists of them folded, unquoted words lower-cased, comments dropped). A
//! statement several operations send (Prisma's `findMany` of bikes is also
//! the first query of its include) is split between them: an operation's
//! executions are the calls of its first statement no other operation sends,
//! and the shared statement's remaining calls go to the others. Transaction
//! control (`BEGIN`, `COMMIT`, …) cannot be attributed by its text and is
//! listed as `control`; statements parity itself sent are counted apart.
//! When each ORM connects as its own database role (`--source-role`,
//! `--target-role`), a statement goes only to the side of the role that ran
//! it, which also separates statements both sides spell as one query tree.
//!
//! **Per operation side.** `calls` are its executions; `mean_ms` the
//! execution time of all its statements per execution; `stddev_ms` the
//! square root of the sum of its statements' variances (weighted by their
//! calls per execution: independent statements); rows, blocks and planning
//! time are per execution.
//!
//! **Verdict.** The ratio is Drizzle's (target's) mean over Prisma's
//! (source's), with a 95% Welch interval on the log ratio (delta method,
//! Welch–Satterthwaite degrees of freedom). `slower` when the interval lies
//! above `1 + max_slowdown`, `faster` when it lies below `1 − max_slowdown`,
//! else `same`; a side with fewer than `min_calls` executions gets
//! `not_enough_traffic`. An operation whose two sides send the very same
//! statements, or statements PostgreSQL records under one query id (the
//! same query tree spelled differently: `$1::timestamp` against an inferred
//! timestamp, `GROUP BY 1` against the expression), cannot be told apart
//! in `pg_stat_statements`: `indistinguishable`, with the calls split evenly.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::ops::{Operation, Piece, Statement};
use crate::db::stats::{MARKER, StatEntry, StatSnapshot};

/// The outcome for one observed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObserveVerdict {
    /// The interval lies above 1 + max_slowdown.
    Slower,
    /// The interval lies below 1 − max_slowdown.
    Faster,
    Same,
    /// A side had fewer than `min_calls` executions in the window.
    NotEnoughTraffic,
    /// Both sides' statements are recorded as one (same SQL, or same query
    /// id): their traffic cannot be split.
    Indistinguishable,
}

impl ObserveVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ObserveVerdict::Slower => "slower",
            ObserveVerdict::Faster => "faster",
            ObserveVerdict::Same => "same",
            ObserveVerdict::NotEnoughTraffic => "not_enough_traffic",
            ObserveVerdict::Indistinguishable => "indistinguishable",
        }
    }
}

/// One side of one operation over the window. Field docs are the
/// `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ObservedSide {
    /// `prisma` or `drizzle` (from the operation file).
    pub orm: String,
    /// Executions of the operation in the window.
    pub calls: u64,
    /// Execution time of all its statements per execution, ms.
    pub mean_ms: f64,
    /// Standard deviation of that time (sample), ms.
    pub stddev_ms: f64,
    /// Rows returned or affected per execution.
    pub rows_per_call: f64,
    /// Shared buffer hits and reads per execution.
    pub shared_blks_hit: f64,
    pub shared_blks_read: f64,
    /// Temp blocks read + written per execution.
    pub temp_blks: f64,
    /// Planning time per execution, ms; `None` unless
    /// `pg_stat_statements.track_planning` is on.
    pub plan_ms: Option<f64>,
    /// Total execution time attributed to this side in the window, ms.
    pub total_ms: f64,
    /// Query ids of the statements attributed to this side.
    pub queryids: Vec<i64>,
    /// How the statements were matched: `query_id`, `text` or both.
    pub matched_by: Vec<String>,
}

/// One operation, both sides.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedOperation {
    pub repository: String,
    pub operation: String,
    pub source: ObservedSide,
    pub target: ObservedSide,
    /// target mean / source mean (Drizzle over Prisma); NaN without traffic.
    pub ratio: f64,
    /// 95% Welch interval of the ratio.
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: ObserveVerdict,
    /// Why the verdict is what it is, when not obvious.
    pub notes: Vec<String>,
    /// `parity timing`'s staging result for the same operation, when
    /// `--staging` named its report.json.
    pub staging: Option<StagingTiming>,
}

/// A staging timing result (`parity timing` / `run`) beside production.
#[derive(Debug, Clone, Serialize)]
pub struct StagingTiming {
    /// Ratio of medians, target over source, and its bootstrap interval.
    pub ratio_p50: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: String,
}

/// Staging results by (repository, operation) from a `report.json` of
/// `parity timing` or `parity run`.
pub fn staging_from_report(
    report: &serde_json::Value,
) -> BTreeMap<(String, String), StagingTiming> {
    let mut out = BTreeMap::new();
    let ops = report
        .get("timing")
        .and_then(|t| t.get("operations"))
        .and_then(|o| o.as_array());
    for o in ops.into_iter().flatten() {
        let s = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let c = |k: &str| {
            o.get("comparison")
                .and_then(|c| c.get(k))
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        out.insert(
            (s("repository"), s("operation")),
            StagingTiming {
                ratio_p50: c("ratio_p50"),
                ci_low: c("ci_low"),
                ci_high: c("ci_high"),
                verdict: s("verdict"),
            },
        );
    }
    out
}

/// A statement in the window that no operation's SQL accounts for.
#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub queryid: i64,
    /// `query` (a statement no operation file has: a new query shape) or
    /// `control` (transaction control, which text cannot attribute).
    pub kind: String,
    pub calls: u64,
    pub total_ms: f64,
    /// Share of the window's total execution time (parity's own excluded).
    pub share: f64,
    /// The normalised text PostgreSQL recorded (no values).
    pub query: String,
}

/// Everything `observe` found. Field docs are the `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ObserveSection {
    /// `postgresql`.
    pub dialect: String,
    pub database: String,
    /// The window: the two snapshots' server times and the seconds between.
    pub from: String,
    pub to: String,
    pub window_seconds: f64,
    pub max_slowdown: f64,
    pub min_calls: u64,
    /// Unmatched statements below this share of total time are only counted.
    pub min_share: f64,
    /// One entry per operation, in `queries/` order.
    pub operations: Vec<ObservedOperation>,
    /// Unmatched statements at or above `min_share`, by time, largest first.
    pub unmatched: Vec<Unmatched>,
    /// All unmatched statements (kind `query`), and their share of total time.
    pub unmatched_count: u64,
    pub unmatched_share: f64,
    /// Statements and calls in the window (parity's own excluded), total ms.
    pub statements: u64,
    pub calls: u64,
    pub total_ms: f64,
    /// Calls of the statements parity itself sent in the window.
    pub parity_calls: u64,
    pub notes: Vec<String>,
}

impl ObserveSection {
    /// 1 when an operation is `slower`, else 0.
    pub fn exit_code(&self) -> i32 {
        if self
            .operations
            .iter()
            .any(|o| o.verdict == ObserveVerdict::Slower)
        {
            crate::exit::DIFFERENCES
        } else {
            crate::exit::OK
        }
    }
}

/// Which side of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Source,
    Target,
}

/// How one captured statement is recognised.
#[derive(Debug, Clone, Default)]
pub struct StatementKey {
    /// The database's query id, when it could be computed.
    pub queryid: Option<i64>,
    pub text: String,
}

/// The captured statements to compute query ids for: (operation index,
/// side, statement index, SQL with `$n` placeholders, arity). Transaction
/// control and statements with expanded lists (`{{stmtN.col[]}}`: their id
/// changes with the list's length) are left to text matching.
pub fn statements_to_identify(ops: &[Operation]) -> Vec<(usize, Side, usize, String, usize)> {
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (side, s) in [(Side::Source, &op.source), (Side::Target, &op.target)] {
            for (k, st) in s.statements.iter().enumerate() {
                if st.control.is_none() && st.pieces.is_none() {
                    out.push((i, side, k, st.sql.clone(), st.arity));
                }
            }
        }
    }
    out
}

/// The SQL of a statement as text to match (lists as one placeholder).
fn statement_text(st: &Statement) -> String {
    match &st.pieces {
        None => st.sql.clone(),
        Some(pieces) => {
            let mut s = String::new();
            for p in pieces {
                match p {
                    Piece::Text(t) => s.push_str(t),
                    Piece::Param(_) | Piece::List { .. } => s.push_str("$1"),
                }
            }
            s
        }
    }
}

/// Normalised SQL for matching: comments dropped, string and number
/// literals and placeholders as `?`, runs of `?, ?, …` and `(?), (?)`
/// folded to one, unquoted words lower-cased, quoted identifiers unquoted
/// when that changes nothing, whitespace collapsed.
pub fn normalize_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i = super::explain_mask::after_quoted(&chars, i);
            toks.push("?".into());
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        s.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !s.starts_with(|c: char| c.is_ascii_digit());
            toks.push(if plain { s } else { format!("\"{s}\"") });
        } else if c == '$' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            toks.push("?".into());
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            toks.push("?".into());
        } else if c.is_alphabetic() || c == '_' {
            let mut s = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                s.extend(chars[i].to_lowercase());
                i += 1;
            }
            toks.push(s);
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            toks.push("::".into());
            i += 2;
        } else {
            toks.push(c.to_string());
            i += 1;
        }
    }
    // Fold `? , ? , …` and `( ? ) , ( ? )` runs.
    let mut folded: Vec<String> = Vec::with_capacity(toks.len());
    for t in toks {
        folded.push(t);
        loop {
            let n = folded.len();
            if n >= 3 && folded[n - 1] == "?" && folded[n - 2] == "," && folded[n - 3] == "?" {
                folded.truncate(n - 2);
                continue;
            }
            if n >= 7
                && folded[n - 1] == ")"
                && folded[n - 2] == "?"
                && folded[n - 3] == "("
                && folded[n - 4] == ","
                && folded[n - 5] == ")"
                && folded[n - 6] == "?"
                && folded[n - 7] == "("
            {
                folded.truncate(n - 4);
                continue;
            }
            break;
        }
    }
    folded.join(" ")
}

/// Whether a statement is transaction or session control.
fn is_control(query: &str) -> bool {
    let first = normalize_sql(query);
    let word = first.split(' ').next().unwrap_or("");
    matches!(
        word,
        "begin"
            | "start"
            | "commit"
            | "end"
            | "rollback"
            | "savepoint"
            | "release"
            | "set"
            | "reset"
            | "show"
            | "deallocate"
            | "discard"
            | "listen"
            | "unlisten"
            | "prepare"
    )
}

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
        let w = match base {
            Some(b) => WindowEntry {
                queryid: e.queryid,
                userid: e.userid,
                query: e.query.clone(),
                calls: (e.calls - b.calls) as f64,
                total_ms: e.total_exec_ms - b.total_exec_ms,
                sumsq: sumsq(e) - sumsq(b),
                rows: (e.rows - b.rows) as f64,
                shared_blks_hit: (e.shared_blks_hit - b.shared_blks_hit) as f64,
                shared_blks_read: (e.shared_blks_read - b.shared_blks_read) as f64,
                temp_blks: ((e.temp_blks_read + e.temp_blks_written)
                    - (b.temp_blks_read + b.temp_blks_written)) as f64,
                plans: (e.plans - b.plans) as f64,
                plan_ms: e.total_plan_ms - b.total_plan_ms,
            },
            None => WindowEntry {
                queryid: e.queryid,
                userid: e.userid,
                query: e.query.clone(),
                calls: e.calls as f64,
                total_ms: e.total_exec_ms,
                sumsq: sumsq(e),
                rows: e.rows as f64,
                shared_blks_hit: e.shared_blks_hit as f64,
                shared_blks_read: e.shared_blks_read as f64,
                temp_blks: (e.temp_blks_read + e.temp_blks_written) as f64,
                plans: e.plans as f64,
                plan_ms: e.total_plan_ms,
            },
        };
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

type Slot = (usize, Side, usize);
type OpSide = (usize, Side);

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
        for (side, s) in [(Side::Source, &op.source), (Side::Target, &op.target)] {
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
                Side::Source => opts.source_role,
                Side::Target => opts.target_role,
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
        let source = side_of((i, Side::Source), op.source.orm.as_deref(), "prisma");
        let target = side_of((i, Side::Target), op.target.orm.as_deref(), "drizzle");
        let mut notes = Vec::new();
        let same_sql = {
            let texts = |side: Side| -> BTreeSet<String> {
                slots
                    .iter()
                    .filter(|(s, _)| s.0 == i && s.1 == side)
                    .map(|(_, k)| k.text.clone())
                    .collect()
            };
            texts(Side::Source) == texts(Side::Target)
        };
        let mut split = false;
        for (os, label) in [((i, Side::Source), "source"), ((i, Side::Target), "target")] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timing::ops;
    use std::path::Path;

    #[test]
    fn normalised_text_matches_what_pg_stat_statements_records() {
        let captured = "SELECT \"public\".\"users\".\"id\" FROM \"public\".\"users\" WHERE (\"public\".\"users\".\"email\" = $1 AND 1=1) LIMIT $2 OFFSET $3";
        let recorded = "SELECT \"public\".\"users\".\"id\" FROM \"public\".\"users\" WHERE (\"public\".\"users\".\"email\" = $1 AND $4=$5) LIMIT $2 OFFSET $3";
        assert_eq!(normalize_sql(captured), normalize_sql(recorded));
        assert_eq!(
            normalize_sql("select x from t where id in ($1, $2, $3) offset $4"),
            normalize_sql("SELECT x FROM t WHERE id IN ($1) OFFSET $2")
        );
        assert_eq!(
            normalize_sql("insert into t values ($1,$2),($3,$4) -- c"),
            normalize_sql("INSERT INTO t VALUES ($1, $2)")
        );
        assert_ne!(
            normalize_sql("select a from t where b = $1"),
            normalize_sql("select a from t where c = $1")
        );
        assert_ne!(
            normalize_sql("select \"A\" from t"),
            normalize_sql("select a from t")
        );
        assert_eq!(
            normalize_sql("select 'it''s', 1.5e3::int"),
            "select ? :: int"
        );
    }

    #[test]
    fn t_quantiles_by_the_table() {
        for (df, t) in [
            (3.0, 3.182),
            (5.0, 2.571),
            (10.0, 2.228),
            (30.0, 2.042),
            (1000.0, 1.962),
        ] {
            assert!(
                (t_975(df) - t).abs() < 0.01,
                "df {df}: {} vs {t}",
                t_975(df)
            );
        }
    }

    #[test]
    fn welch_interval_narrows_with_calls_and_brackets_the_ratio() {
        let (r, lo, hi) = welch_ratio((1.0, 0.5, 100), (1.2, 0.5, 100));
        assert!((r - 1.2).abs() < 1e-12 && lo < r && r < hi);
        let (_, lo2, hi2) = welch_ratio((1.0, 0.5, 10_000), (1.2, 0.5, 10_000));
        assert!(hi2 - lo2 < (hi - lo) / 5.0);
        assert!(welch_ratio((1.0, 0.5, 1), (1.0, 0.5, 10)).0.is_nan());
    }

    fn entry(queryid: i64, calls: i64, total: f64, mean: f64, sd: f64) -> StatEntry {
        StatEntry {
            queryid,
            userid: 10,
            toplevel: true,
            query: format!("q{queryid}"),
            calls,
            total_exec_ms: total,
            mean_exec_ms: mean,
            stddev_exec_ms: sd,
            rows: calls,
            shared_blks_hit: 3 * calls,
            shared_blks_read: 0,
            temp_blks_read: 0,
            temp_blks_written: 0,
            plans: 0,
            total_plan_ms: 0.0,
        }
    }

    fn snap(entries: Vec<StatEntry>) -> StatSnapshot {
        StatSnapshot {
            format: "parity-observe-snapshot".into(),
            version: 1,
            dialect: "postgresql".into(),
            database: "postgres://h:1/d".into(),
            taken_at: String::new(),
            taken_at_unix: 0.0,
            stats_reset: None,
            server_version_num: 150000,
            track_planning: false,
            entries,
        }
    }

    #[test]
    fn window_variance_from_two_cumulative_snapshots() {
        // Before: 2 calls of 1 and 3 ms. After: plus 3 calls of 2, 2, 5 ms.
        let pop = |xs: &[f64]| {
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            (
                m,
                (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt(),
            )
        };
        let (m1, s1) = pop(&[1.0, 3.0]);
        let (m2, s2) = pop(&[1.0, 3.0, 2.0, 2.0, 5.0]);
        let before = snap(vec![entry(7, 2, 4.0, m1, s1), entry(8, 5, 5.0, 1.0, 0.0)]);
        let after = snap(vec![
            entry(7, 5, 13.0, m2, s2),
            entry(8, 5, 5.0, 1.0, 0.0),
            entry(9, 1, 1.0, 1.0, 0.0),
        ]);
        let (w, notes) = window(&before, &after);
        assert!(notes.is_empty());
        assert_eq!(
            w.len(),
            2,
            "an entry without calls in the window is left out"
        );
        let e = &w[0];
        assert_eq!(e.calls, 3.0);
        assert!((e.total_ms - 9.0).abs() < 1e-9);
        let mean = e.total_ms / e.calls;
        let var = (e.sumsq - e.calls * mean * mean) / (e.calls - 1.0);
        assert!(
            (var - 3.0).abs() < 1e-9,
            "sample variance of 2,2,5 is 3: {var}"
        );
        assert_eq!(w[1].calls, 1.0, "a new entry counts whole");
    }

    fn op(text: &str) -> Operation {
        ops::parse(Path::new("queries/bike/x.toml"), text).unwrap()
    }

    #[test]
    fn a_shared_statement_is_split_by_the_other_operations_own_statements() {
        let list = op(r#"
name = "list"
repository = "bike"
[source]
orm = "prisma"
statements = ["SELECT id FROM bikes WHERE customer_id = $1 OFFSET $2"]
params = ["c", 0]
[target]
orm = "drizzle"
statements = ["select id from bikes where customer_id = $1"]
params = ["c"]
"#);
        let with = op(r#"
name = "with"
repository = "bike"
[source]
orm = "prisma"
[[source.statements]]
sql = "SELECT id FROM bikes WHERE customer_id = $1 OFFSET $2"
params = ["c", 0]
[[source.statements]]
sql = "SELECT id FROM repairs WHERE bike_id IN ({{stmt1.id[]}}) OFFSET $1"
params = [0]
[target]
orm = "drizzle"
statements = ["select id, (select 1) from bikes where customer_id = $1"]
params = ["c"]
"#);
        let ops = vec![list, with];
        let w = |q: &str, calls: f64, mean: f64| WindowEntry {
            queryid: 0,
            query: q.into(),
            calls,
            total_ms: calls * mean,
            sumsq: calls * mean * mean,
            rows: calls,
            ..WindowEntry::default()
        };
        let entries = vec![
            // 90 + 30 Prisma executions of the shared statement.
            w(
                "SELECT id FROM bikes WHERE customer_id = $1 OFFSET $2",
                120.0,
                1.0,
            ),
            w(
                "SELECT id FROM repairs WHERE bike_id IN ($1, $2, $3) OFFSET $4",
                20.0,
                2.0,
            ),
            w(
                "SELECT id FROM repairs WHERE bike_id IN ($1) OFFSET $2",
                10.0,
                2.0,
            ),
            w("select id from bikes where customer_id = $1", 50.0, 1.0),
            w(
                "select id, (select $2) from bikes where customer_id = $1",
                40.0,
                4.0,
            ),
            w("select brand from bikes", 5.0, 10.0),
            w("BEGIN", 5.0, 0.01),
            w(&format!("SELECT {MARKER} 1"), 3.0, 1.0),
        ];
        let opts = ObserveOptions {
            max_slowdown: 0.1,
            min_calls: 10,
            min_share: 0.0,
            source_role: None,
            target_role: None,
        };
        let (out, unmatched, totals) = attribute(&ops, &BTreeMap::new(), &entries, &opts);
        assert_eq!(out[0].source.calls, 90);
        assert_eq!(out[1].source.calls, 30);
        assert_eq!(out[0].target.calls, 50);
        assert_eq!(out[1].target.calls, 40);
        // "with"/prisma: 1 ms bikes + 2 ms repairs per execution.
        assert!((out[1].source.mean_ms - 3.0).abs() < 1e-9);
        assert!((out[0].source.mean_ms - 1.0).abs() < 1e-9);
        assert_eq!(out[0].verdict, ObserveVerdict::Same);
        assert_eq!(out[1].verdict, ObserveVerdict::Slower, "{:?}", out[1]);
        assert_eq!(totals.parity_calls, 3);
        assert_eq!(unmatched.len(), 2);
        assert_eq!(unmatched[0].kind, "query");
        assert_eq!(unmatched[0].query, "select brand from bikes");
        assert_eq!(unmatched[1].kind, "control");
        assert_eq!(totals.unmatched_count, 1);
    }
}
