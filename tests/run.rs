//! `parity run`: the per-repository gate over schema, data and timing.

use crate::support::{PgDb, parity, root, seed};

fn gate(db: &PgDb, repo: &str, out: &std::path::Path) -> (i32, String, String) {
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/parity.toml", "--out"])
        .arg(out)
        .args([
            "run",
            "--repository",
            repo,
            "--iterations",
            "20",
            "--warmup",
            "3",
        ])
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn repair_phase_is_not_ready_because_of_its_decimal_mode_and_says_why() {
    let db = PgDb::new("run");
    seed(&db.url, 1500, None);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = gate(&db, "repair", dir.path());
    assert_eq!(code, 1, "{stderr}");
    let line = stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("repair (drizzle_repair_repo): schema ok"),
        "{line}"
    );
    // repairs.estimated_cost is numeric mode 'number' on the Drizzle side:
    // the full-scale decimals lose digits.
    assert!(line.contains("data 1 of 3 tables differ"), "{line}");
    assert!(line.ends_with("→ NOT READY"), "{line}");
    for f in [
        "parity.csv",
        "differences.csv",
        "schema.json",
        "timing.csv",
        "timing-compare.csv",
        "report.html",
        "junit.xml",
        "summary.md",
        "report.json",
    ] {
        assert!(dir.path().join(f).exists(), "{f} written");
    }
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"repair\""), "{junit}");
    // Three tables and the one write operation; the differing table fails
    // and names its first key. The gate suite adds the repository's verdict
    // (NOT READY: a failure); no global flag line for one repository.
    assert_eq!(junit.matches("<testcase").count(), 5, "{junit}");
    assert_eq!(junit.matches("<failure").count(), 2, "{junit}");
    assert!(
        junit.contains("name=\"verdict repair (drizzle_repair_repo)\""),
        "{junit}"
    );
    assert!(!junit.contains("global flag"), "{junit}");
    assert!(junit.contains("estimated_cost"), "{junit}");
}

#[test]
fn a_phase_at_parity_is_ready_and_exits_0() {
    let db = PgDb::new("run_ok");
    seed(&db.url, 1500, None);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = gate(&db, "user", dir.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("user (drizzle_user_repo): schema ok · data ok (1 tables"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("→ READY"), "{stdout}");
}

#[test]
fn an_unknown_repository_exits_2() {
    let db = PgDb::new("run_bad");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = gate(&db, "nope", dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("nope"), "{stderr}");
}
