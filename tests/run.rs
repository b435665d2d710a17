//! `parity run`: the per-repository gate over schema, data and timing.

use crate::support::{Run, TempDb, assert_contains, fixture_run};

/// `run --repository REPO` through the fixture's config on a database
/// seeded with 1500 rows (`None`: never created).
fn gate(rows: Option<u64>, repo: &str, out: &std::path::Path) -> Run {
    let db = TempDb::pg("run");
    if let Some(rows) = rows {
        crate::support::seed(&db.url, rows, None);
    }
    fixture_run(
        &db,
        out,
        &format!("run --repository {repo} --iterations 20 --warmup 3"),
    )
}

#[test]
fn repair_phase_is_not_ready_because_of_its_decimal_mode_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let o = gate(Some(1500), "repair", dir.path());
    o.expect(1);
    // repairs.estimated_cost is numeric mode 'number' on the Drizzle side:
    // the full-scale decimals lose digits.
    let line = o.verdict_line(&["data 1 of 3 tables differ"], "NOT READY");
    assert!(
        line.starts_with("repair (drizzle_repair_repo): schema ok"),
        "{line}"
    );
    let files = "parity.csv differences.csv schema.json timing.csv timing-compare.csv report.html junit.xml summary.md report.json";
    for f in files.split(' ') {
        assert!(dir.path().join(f).exists(), "{f} written");
    }
    let junit = o.text("junit.xml");
    // Three tables and the one write operation; the differing table fails
    // and names its first key. The gate suite adds the repository's verdict
    // (NOT READY: a failure); no global flag line for one repository.
    assert_eq!(junit.matches("<testcase").count(), 5, "{junit}");
    assert_eq!(junit.matches("<failure").count(), 2, "{junit}");
    let names = [
        "<testsuite name=\"repair\"",
        "name=\"verdict repair (drizzle_repair_repo)\"",
        "estimated_cost",
    ];
    assert_contains(&junit, &names);
    assert!(!junit.contains("global flag"), "{junit}");
}

#[test]
fn a_phase_at_parity_is_ready_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let o = gate(Some(1500), "user", dir.path());
    o.expect(0);
    let ready = "user (drizzle_user_repo): schema ok · data ok (1 tables";
    assert!(o.stdout.starts_with(ready), "{}", o.stdout);
    assert!(o.stdout.trim_end().ends_with("→ READY"), "{}", o.stdout);
}

#[test]
fn an_unknown_repository_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = gate(None, "nope", dir.path());
    o.expect(2);
    assert!(o.stderr.contains("nope"), "{}", o.stderr);
}
