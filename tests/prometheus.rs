//! `--prometheus FILE` on `check`, `run` and `backup` (`observe` is in
//! tests/observe.rs): the text format node_exporter's textfile collector
//! reads, checked with `promtool check metrics`.

use crate::observe::promtool_check_metrics;
use crate::support::{PgDb, parity, root, seed};

fn with_config(db: &PgDb, out: &std::path::Path) -> assert_cmd::Command {
    let mut c = parity();
    c.current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/parity.toml", "--out"])
        .arg(out);
    c
}

#[test]
fn check_run_and_backup_write_metrics_that_promtool_accepts() {
    let db = PgDb::new("prom");
    seed(&db.url, 1500, None);
    let dir = tempfile::tempdir().unwrap();

    let check = dir.path().join("check.prom");
    let o = with_config(&db, &dir.path().join("c"))
        .args(["check", "--repository", "user", "--prometheus"])
        .arg(&check)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&check).unwrap();
    assert!(
        text.contains("parity_table_differing_rows{command=\"check\",repository=\"user\",table=\"users\",kind=\"different\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("parity_last_run_success{command=\"check\"} 1"),
        "{text}"
    );
    promtool_check_metrics(&check);

    let run = dir.path().join("run.prom");
    let o = with_config(&db, &dir.path().join("r"))
        .args([
            "run",
            "--repository",
            "user",
            "--iterations",
            "5",
            "--warmup",
            "1",
            "--prometheus",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&run).unwrap();
    assert!(
        text.contains("parity_gate_ready{repository=\"user\",flag=\"drizzle_user_repo\"} 1"),
        "{text}"
    );
    assert!(text.contains("parity_timing_ratio_p50{command=\"run\",repository=\"user\",operation=\"find-user-by-email\"}"), "{text}");
    assert!(text.contains("parity_last_run_finished_timestamp_seconds{command=\"run\"}"));
    promtool_check_metrics(&run);

    let backup = dir.path().join("backup.prom");
    let o = parity()
        .args(["backup", "--source", &db.url, "--target", &db.url, "--out"])
        .arg(dir.path().join("b"))
        .arg("--prometheus")
        .arg(&backup)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(text.contains("parity_backup_proven 1"), "{text}");
    assert!(!text.contains("postgres@"), "no URL in metrics");
    promtool_check_metrics(&backup);
    // Nothing half-written is left beside the file.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
