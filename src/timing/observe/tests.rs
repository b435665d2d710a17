//! Observe's arithmetic on constructed snapshots: normalising, Welch's
//! interval, the window and the attribution.

use super::*;
use crate::db::stats::{MARKER, StatEntry, StatSnapshot};
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
