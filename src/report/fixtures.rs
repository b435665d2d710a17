//! Runs built from constructed result values, for the renderers' tests: no
//! database, no clock (every run starts at [`STARTED_AT`]), no path of the
//! machine the tests run on. Statistics come from `timing::stats` over
//! fixed samples, so the numbers agree with each other as a real run's do.

use super::verdict::tests::table;
use super::verdict::{GlobalFlagVerdict, RepositoryVerdict, Verdict, data_verdict};
use super::{RunReport, SideInfo};
use crate::engine::{ColumnShape, DiffKind, RowDifference, Status, ValueDifference};
use crate::plan::ShapeRisk;
use crate::plan::findings::{Finding, Severity};
use crate::timing::observe::{
    ObserveSection, ObserveVerdict, ObservedOperation, ObservedSide, StagingTiming, Unmatched,
};
use crate::timing::result::{Mismatch, MismatchKind};
use crate::timing::{
    CompareMode, Comparison, LatencySummary, OperationResult, ResultMismatch, SideResult,
    TimingSection, TimingVerdict, stats,
};

/// When every fixture run started.
pub const STARTED_AT: &str = "2024-01-01T00:00:00Z";
/// 90 seconds after [`STARTED_AT`], in Unix seconds.
pub const FINISHED_UNIX: f64 = 1_704_067_290.0;

/// A run of `command` between the fixture's two databases.
fn run(command: &str) -> RunReport {
    let side = |name: &str, orm: &str| SideInfo {
        name: name.into(),
        orm: orm.into(),
        database: "postgresql://127.0.0.1:5432/bikeshop".into(),
    };
    RunReport {
        format_version: 1,
        command: command.into(),
        started_at: STARTED_AT.into(),
        source: side("prisma", "prisma"),
        target: side("drizzle", "drizzle"),
        ..RunReport::default()
    }
}

/// One slower operation with three samples a side: the smallest timing run.
pub fn timing_run() -> RunReport {
    let side = |p50: f64| SideResult {
        stats: LatencySummary::of(&[p50 - 0.1, p50, p50 + 0.1]),
        statements: 1,
        rows: 1.0,
        round_trips: 1.0,
        result_hash: "00112233aabbccdd".into(),
        samples_ms: vec![p50 - 0.1, p50, p50 + 0.1],
        block_p50_ms: vec![p50 - 0.05, p50 + 0.05],
        ..SideResult::default()
    };
    let mut op = operation("user", "find-user-by-email", CompareMode::Rows);
    op.description = Some("lookup".into());
    op.parameter_sets = 3;
    op.source = side(1.0);
    op.target = side(1.2);
    op.comparison = Comparison {
        ratio_p50: 1.2,
        ratio_p95: 1.2,
        ci_low: 1.15,
        ci_high: 1.25,
        blocks: 2,
        block_ratios: vec![1.1, 1.3],
        block_ratio_min: 1.1,
        block_ratio_max: 1.3,
    };
    op.verdict = TimingVerdict::Slower;
    op.reconciled = "rows compared".into();
    RunReport {
        timing: Some(TimingSection {
            iterations: 3,
            warmup: 1,
            concurrency: 1,
            max_slowdown: 0.1,
            operations: vec![op],
            ..TimingSection::default()
        }),
        ..run("timing")
    }
}

fn operation(repository: &str, name: &str, compare: CompareMode) -> OperationResult {
    OperationResult {
        repository: repository.into(),
        operation: name.into(),
        description: None,
        file: format!("queries/{repository}/{name}.toml"),
        writes: false,
        compare,
        compare_reason: None,
        parameter_sets: 1,
        source: SideResult::default(),
        target: SideResult::default(),
        comparison: Comparison::default(),
        verdict: TimingVerdict::Same,
        mismatch: None,
        notes: Vec::new(),
        error: None,
        reconciled: "each side's rows decoded through its mapping and compared as canonical values in sorted order".into(),
    }
}

/// `n` latencies from `base` to `base + spread` ms, in a fixed shuffle.
fn latencies(base: f64, spread: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| base + spread * ((i * 7 % 11) as f64 / 10.0))
        .collect()
}

/// `op` measured: `source` and `target` split into `blocks` equal blocks,
/// the statistics and verdict as the runner computes them.
fn measured(
    mut op: OperationResult,
    source: Vec<f64>,
    target: Vec<f64>,
    blocks: usize,
) -> OperationResult {
    let per = source.len() / blocks;
    let pairs: Vec<stats::Block> = (0..blocks)
        .map(|b| {
            let r = b * per..(b + 1) * per;
            (source[r.clone()].to_vec(), target[r].to_vec())
        })
        .collect();
    for (side, ms, pick) in [(&mut op.source, &source, 0), (&mut op.target, &target, 1)] {
        side.stats = LatencySummary::of(ms);
        side.statements = 1;
        side.rows = 2.0;
        side.round_trips = 1.0;
        side.result_hash = "5eed0123abcd4567".into();
        side.samples_ms = ms.clone();
        side.block_p50_ms = pairs
            .iter()
            .map(|b| stats::median(if pick == 0 { &b.0 } else { &b.1 }))
            .collect();
    }
    op.comparison = stats::compare_blocks(&pairs);
    op.verdict = stats::verdict(op.mismatch.is_none(), &op.comparison, 0.1);
    op
}

/// Four operations, one per verdict that needs words: slower, mismatch (in
/// order), a write compared as entities with its plans captured, and one
/// that failed.
pub fn timing_section() -> TimingSection {
    let slower = measured(
        operation("user", "find-user-by-email", CompareMode::Rows),
        latencies(1.0, 0.2, 12),
        latencies(1.3, 0.2, 12),
        3,
    );
    let mut listed = operation("bike", "list-customer-bikes", CompareMode::Rows);
    listed.description = Some("a customer's bikes, newest first".into());
    listed.parameter_sets = 5;
    listed.mismatch = Some(ResultMismatch {
        parameter_set: 2,
        detail: Mismatch {
            table: "bikes".into(),
            source_rows: 3,
            target_rows: 3,
            only_in_source: 0,
            only_in_target: 0,
            first_keys: vec!["bikes(id=7)".into(), "bikes(id=9)".into()],
            columns: vec!["created_at".into()],
            kind: MismatchKind::Order,
            position: Some(1),
        },
    });
    listed.notes =
        vec!["bikes: order compared on the sort columns both sides share (created_at)".into()];
    let listed = measured(listed, latencies(2.0, 0.5, 12), latencies(2.0, 0.5, 12), 3);
    let mut write = operation("repair", "create-repair", CompareMode::Entities);
    write.writes = true;
    write.compare_reason = Some("Drizzle reads the repair back in a second query".into());
    // One slow outlier among the source's samples.
    let mut slow = latencies(3.0, 0.4, 12);
    slow[5] = 30.0;
    let mut write = measured(write, slow, latencies(2.2, 0.3, 12), 3);
    for (side, label) in [(&mut write.source, "source"), (&mut write.target, "target")] {
        side.explain_file = Some(format!("explain/repair/create-repair.{label}.json"));
        side.explain = Some(serde_json::json!({
            "operation": "repair/create-repair",
            "side": label,
            "iteration": 6,
            "statements": [{
                "sql": "insert into \"repairs\" (\"id\", \"status\") values ($1, $2)",
                "plan": [{"Plan": {"Node Type": "ModifyTable", "Actual Rows": 0}}],
            }],
        }));
    }
    let mut failed = operation("transaction", "monthly-revenue", CompareMode::Count);
    failed.compare_reason = Some("the sides group by different expressions".into());
    failed.verdict = TimingVerdict::Error;
    failed.error = Some(
        "source, parameter set 1: statement 1: relation \"transactions\" does not exist".into(),
    );
    TimingSection {
        iterations: 12,
        warmup: 5,
        concurrency: 1,
        min_time_seconds: 0.0,
        max_slowdown: 0.1,
        operations: vec![slower, listed, write, failed],
        notes: vec![
            "1 operation file(s) written for another database than postgresql were skipped".into(),
        ],
        blocks: 3,
    }
}

/// `parity timing`, finished.
pub fn timing_full_run() -> RunReport {
    RunReport {
        timing: Some(timing_section()),
        exit_code: Some(2),
        ..run("timing")
    }
}

/// The tables of a data check: one at parity, one whose values differ
/// (with `--show-values` readings, shapes and an unreadable cell), one cut
/// by `--max-differences`, and one that failed outside any repository.
fn tables() -> Vec<crate::engine::TableResult> {
    let users = table("user", "users", 10, 0, &[]);
    let mut repairs = table("repair", "repairs", 20, 2, &[("estimated_cost", 2)]);
    for (i, d) in repairs.differences.iter_mut().enumerate() {
        d.values = Some(vec![ValueDifference {
            column: "estimated_cost".into(),
            source: format!("{}.10", 100 + i),
            target: format!("{}.1", 100 + i),
        }]);
    }
    repairs.unreadable = 1;
    repairs.columns_unreadable.insert("received_at".into(), 1);
    repairs.differences.push(RowDifference {
        key: serde_json::json!({ "id": 17 }),
        kind: DiffKind::UnreadableInTarget,
        columns: vec!["received_at".into()],
        values: None,
        chunk: None,
        sort_key: None,
    });
    repairs.shapes = vec![
        ColumnShape {
            column: "estimated_cost".into(),
            code: "SHAPE_DECIMAL_NUMBER".into(),
            risk: ShapeRisk::Value,
            message: "Prisma reads Decimal, Drizzle a JS number: digits beyond 15 are lost".into(),
        },
        ColumnShape {
            column: "received_at".into(),
            code: "SHAPE_DATE_VS_STRING".into(),
            risk: ShapeRisk::Shape,
            message: "Prisma reads a Date, Drizzle a string".into(),
        },
    ];
    repairs.columns_ignored = vec!["updated_at".into()];
    let mut transactions = table(
        "transaction",
        "transactions",
        3000,
        1200,
        &[("occurred_at", 1200)],
    );
    // As if `--max-differences 3` had cut it.
    transactions.differences.truncate(3);
    transactions.key_note =
        Some("no primary key; keyed by (id, occurred_at) from [[table]]".into());
    let mut audit = table("audit", "audit_log", 0, 0, &[]);
    audit.repository = None;
    audit.target_table = "audit_events".into();
    audit.status = Status::Error;
    audit.error = Some("relation \"audit_events\" does not exist".into());
    vec![users, repairs, transactions, audit]
}

/// `parity check`, finished with one table failed (exit 2).
pub fn check_run() -> RunReport {
    let mut r = RunReport {
        tables: tables(),
        only_source_tables: vec!["_prisma_migrations".into()],
        only_target_tables: vec!["__drizzle_migrations".into()],
        notes: vec!["source mapping: enum `repair_status` read by its label".into()],
        exit_code: Some(2),
        ..run("check")
    };
    r.verdict = Some(data_verdict(
        &r,
        &[
            ("user".into(), Some("drizzle_user_repo".into())),
            ("repair".into(), Some("drizzle_repair_repo".into())),
            (
                "transaction".into(),
                Some("drizzle_transaction_repo".into()),
            ),
        ],
    ));
    r
}

/// `parity run`: schema findings, two repositories' tables and timing, the
/// gate verdicts and the global flag.
pub fn gate_run() -> RunReport {
    let mut timing = timing_section();
    timing
        .operations
        .retain(|o| o.repository == "user" || o.repository == "repair");
    let verdict = |repo: &str, flag: &str, ready: bool, why: &str| RepositoryVerdict {
        repository: repo.into(),
        flag: Some(flag.into()),
        label: if ready { "READY" } else { "NOT READY" }.into(),
        ready,
        why: why.into(),
        line: format!(
            "{repo} ({flag}): {why} → {}",
            if ready { "READY" } else { "NOT READY" }
        ),
    };
    let repositories = vec![
        verdict(
            "user",
            "drizzle_user_repo",
            false,
            "timing: find-user-by-email slower",
        ),
        verdict(
            "repair",
            "drizzle_repair_repo",
            false,
            "data: repairs.estimated_cost (2 rows)",
        ),
    ];
    let global_flag = GlobalFlagVerdict::judge("USE_DRIZZLE", &repositories);
    let column = |code: &str, severity: Severity, column: &str, message: &str| Finding {
        table: Some("repairs".into()),
        column: Some(column.into()),
        ..Finding::new(code, severity, message)
    };
    let missing = column(
        "COLUMN_MISSING",
        Severity::Error,
        "notes",
        "repairs.notes is in the Prisma schema but not in the database",
    );
    let shape = Finding {
        risk: Some(ShapeRisk::Value),
        allowed: true,
        ..column(
            "SHAPE_DECIMAL_NUMBER",
            Severity::Warning,
            "estimated_cost",
            "Prisma reads Decimal, Drizzle a JS number",
        )
    };
    let drift = Finding {
        side: Some("prisma".into()),
        ..Finding::new(
            "MIGRATION_NOT_APPLIED",
            Severity::Warning,
            "20240101_add_notes is not applied",
        )
    };
    RunReport {
        tables: tables().into_iter().take(2).collect(),
        timing: Some(timing),
        notes: repositories
            .iter()
            .map(|r| format!("gate: {}", r.line))
            .collect(),
        exit_code: Some(1),
        schema_findings: Some(vec![missing, shape, drift]),
        verdict: Some(Verdict {
            scope: "gate".into(),
            summary: global_flag.line.clone(),
            repositories,
            global_flag: Some(global_flag),
        }),
        ..run("run")
    }
}

fn observed(orm: &str, calls: u64, mean_ms: f64) -> ObservedSide {
    ObservedSide {
        orm: orm.into(),
        calls,
        mean_ms,
        stddev_ms: mean_ms / 4.0,
        rows_per_call: 1.5,
        shared_blks_hit: 12.0,
        shared_blks_read: 0.25,
        temp_blks: 0.0,
        plan_ms: None,
        total_ms: calls as f64 * mean_ms,
        queryids: vec![-4_213_377_001, 77_310_001],
        matched_by: vec!["query_id".into()],
    }
}

/// `parity observe` over a ten-minute window: a slower operation with a
/// staging result beside it, one without enough traffic, and two
/// unmatched statements.
pub fn observe_run() -> RunReport {
    let slower = ObservedOperation {
        repository: "user".into(),
        operation: "find-user-by-email".into(),
        source: observed("prisma", 1200, 0.8),
        target: observed("drizzle", 1100, 1.1),
        ratio: 1.375,
        ci_low: 1.29,
        ci_high: 1.46,
        verdict: ObserveVerdict::Slower,
        notes: Vec::new(),
        staging: Some(StagingTiming {
            ratio_p50: 1.31,
            ci_low: 1.22,
            ci_high: 1.40,
            verdict: "slower".into(),
        }),
    };
    let quiet = ObservedOperation {
        repository: "repair".into(),
        operation: "create-repair".into(),
        source: observed("prisma", 1, 4.0),
        target: observed("drizzle", 0, 0.0),
        ratio: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        verdict: ObserveVerdict::NotEnoughTraffic,
        notes: vec!["not enough traffic: 1 source and 0 target executions in the window (at least 30 each needed)".into()],
        staging: None,
    };
    let unmatched = |queryid: i64, kind: &str, share: f64, query: &str| Unmatched {
        queryid,
        kind: kind.into(),
        calls: 40,
        total_ms: 2500.0 * share,
        share,
        query: query.into(),
    };
    RunReport {
        observe: Some(ObserveSection {
            dialect: "postgresql".into(),
            database: "postgresql://127.0.0.1:5432/bikeshop".into(),
            from: "2024-01-01T00:00:00Z".into(),
            to: "2024-01-01T00:10:00Z".into(),
            window_seconds: 600.0,
            max_slowdown: 0.1,
            min_calls: 30,
            min_share: 0.01,
            operations: vec![slower, quiet],
            unmatched: vec![
                unmatched(991, "query", 0.12, "select \"id\" from \"bikes\" where \"serial\" = $1 | x"),
                unmatched(0, "control", 0.02, "BEGIN"),
            ],
            unmatched_count: 1,
            unmatched_share: 0.12,
            statements: 14,
            calls: 2381,
            total_ms: 2500.0,
            parity_calls: 6,
            notes: vec!["pg_stat_statements was reset during the window (at 2024-01-01T00:05:00Z): statements count from the reset".into()],
        }),
        exit_code: Some(1),
        ..run("observe")
    }
}
