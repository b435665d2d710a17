//! `--prometheus FILE` on `check`, `run` and `backup` (`observe` is in
//! tests/observe.rs): the text format node_exporter's textfile collector
//! reads, checked with `promtool check metrics`.

use crate::support::{Backend, TempDb, parity, promtool_check_metrics};

#[test]
fn check_run_and_backup_write_metrics_that_promtool_accepts() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "prom", 1500, None);
    let dir = tempfile::tempdir().unwrap();
    // Each command writes its metrics: they must say `says` and lint clean.
    let backup = format!("backup --source {url} --target {url}", url = db.url);
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "check",
            "check --repository user",
            &[
                "parity_table_differing_rows{command=\"check\",repository=\"user\",table=\"users\",kind=\"different\"} 0",
                "parity_last_run_success{command=\"check\"} 1",
            ],
        ),
        (
            "run",
            "run --repository user --iterations 5 --warmup 1",
            &[
                "parity_gate_ready{repository=\"user\",flag=\"drizzle_user_repo\"} 1",
                "parity_timing_ratio_p50{command=\"run\",repository=\"user\",operation=\"find-user-by-email\"}",
                "parity_last_run_finished_timestamp_seconds{command=\"run\"}",
            ],
        ),
        ("backup", &backup, &["parity_backup_proven 1"]),
    ];
    for (name, args, says) in cases {
        let prom = dir.path().join(format!("{name}.prom"));
        let mut cmd = parity();
        if name != "backup" {
            // A 10× timing margin: the gate's metrics are tested, not timing.
            cmd.fixture(Backend::Postgres, &db.url)
                .env("PARITY_MAX_SLOWDOWN", "10");
        }
        cmd.out(dir.path().join(name))
            .words(args)
            .arg("--prometheus")
            .arg(&prom)
            .run()
            .expect(0);
        let text = std::fs::read_to_string(&prom).unwrap();
        for s in says {
            assert!(text.contains(s), "{name}: {s} not in {text}");
        }
        assert!(!text.contains("postgres@"), "no URL in metrics");
        promtool_check_metrics(&prom);
    }
    // Nothing half-written is left beside the files.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
