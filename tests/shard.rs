//! Sharded runs, merge and resume (issue 15): a Kubernetes Indexed Job
//! played locally as N processes with `JOB_COMPLETION_INDEX`, merged, and
//! held against one unsharded run of the same databases.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::check::{planted, prisma_both};
use crate::support::{Backend, Row, Run, TempDb, check, config, parity};

const DRIFT: &str = "changed:10,deleted:5,inserted:7";

/// Several chunks per table, two readers per side.
const SETTINGS: &str = "[check]\nchunk_rows = 300\njobs = 2\n";

/// The fixture's Prisma schema on both sides of `urls`, plus `extra`.
fn both(dir: &Path, urls: [&str; 2], extra: &str) -> PathBuf {
    let schema = config::prisma_schema(Backend::Postgres);
    prisma_both(dir, &schema, urls, extra)
}

/// Plays an Indexed Job: `n` processes at once, each `--shards n` with its
/// `JOB_COMPLETION_INDEX`, each writing `out/shard-i`. The runs, in index
/// order.
fn indexed_job(cfg: &Path, out: &Path, n: usize, args: &[&str]) -> Vec<Run> {
    let started = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|i| {
            parity()
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .config(cfg)
                .out(out.join(format!("shard-{i}")))
                .arg("check")
                .args(["--shards", &n.to_string()])
                .args(args)
                .spawn()
        })
        .collect();
    children
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let o = c.wait_with_output().unwrap();
            Run::from_output(o, &out.join(format!("shard-{i}")), started)
        })
        .collect()
}

/// `parity merge DIRS… --out OUT`.
fn merge(dirs: &[PathBuf], out: &Path) -> Run {
    parity().out(out).arg("merge").args(dirs).run()
}

fn shard_dirs(out: &Path, which: &[usize]) -> Vec<PathBuf> {
    which
        .iter()
        .map(|i| out.join(format!("shard-{i}")))
        .collect()
}

/// `parity.csv` without its timing columns.
fn counts(run: &Run) -> Vec<Row> {
    let mut rows = run.csv("parity.csv");
    for r in &mut rows {
        r.remove("source_seconds");
        r.remove("target_seconds");
    }
    rows
}

#[test]
fn four_shards_merged_equal_one_run_on_the_drift_fixture() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "sha", 3000, None);
    let (b, drift) = TempDb::seeded(Backend::Postgres, "shb", 3000, Some(DRIFT));
    let dir = tempfile::tempdir().unwrap();
    let cfg = both(dir.path(), [&a.url, &b.url], SETTINGS);
    let whole = check(&cfg, &dir.path().join("whole"), &[]);
    whole.expect(1);
    assert!(
        whole.report()["partial"].is_null(),
        "a full run is not partial"
    );

    let shards = indexed_job(&cfg, dir.path(), 4, &[]);
    let mut read = Vec::new();
    for (i, s) in shards.iter().enumerate() {
        assert!(matches!(s.code, 0 | 1), "shard {i}: {}", s.stderr);
        let p = &s.report()["partial"];
        assert_eq!(
            (p["shard"].as_u64(), p["shards"].as_u64()),
            (Some(i as u64), Some(4))
        );
        read.push(p["chunks"].as_array().unwrap().len());
    }
    // transactions alone has 10 chunks: every shard reads some.
    assert!(read.iter().all(|n| *n > 0), "chunks per shard: {read:?}");

    let merged = merge(
        &shard_dirs(dir.path(), &[2, 0, 3, 1]),
        &dir.path().join("merged"),
    );
    merged.expect(whole.code);
    assert_eq!(counts(&merged), counts(&whole));
    assert_eq!(
        merged.text("differences.csv"),
        whole.text("differences.csv")
    );
    assert_eq!(merged.keys_by_kind("transactions"), planted(&drift));
    for f in ["summary.md", "report.html", "junit.xml"] {
        assert!(!merged.text(f).is_empty(), "{f}");
    }
    let (m, w) = (merged.report(), whole.report());
    assert!(m["partial"].is_null(), "the merged report is whole");
    assert_eq!(m["exit_code"], w["exit_code"]);
    assert_eq!(m["verdict"], w["verdict"]);
    for (mt, wt) in m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .zip(w["tables"].as_array().unwrap())
    {
        for k in [
            "chunks",
            "differences",
            "columns_differing",
            "status",
            "differences_truncated",
        ] {
            assert_eq!(mt[k], wt[k], "{k} of {}", wt["source_table"]);
        }
    }

    // A cap that cuts: the merge lists the same first rows as one run.
    let cap = ["--max-differences", "8"];
    let whole8 = check(&cfg, &dir.path().join("whole8"), &cap);
    let out8 = dir.path().join("capped");
    for s in indexed_job(&cfg, &out8, 4, &cap) {
        assert!(matches!(s.code, 0 | 1), "{}", s.stderr);
    }
    let merged8 = merge(
        &shard_dirs(&out8, &[0, 1, 2, 3]),
        &dir.path().join("merged8"),
    );
    merged8.expect(1);
    assert_eq!(merged8.csv("differences.csv").len(), 8);
    assert_eq!(
        merged8.text("differences.csv"),
        whole8.text("differences.csv")
    );
    assert_eq!(
        merged8.report_table("transactions")["differences_truncated"],
        true
    );
}

#[test]
fn merge_refuses_a_missing_a_doubled_and_a_foreign_shard() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "shm", 1000, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = both(dir.path(), [&a.url, &a.url], SETTINGS);
    let out = dir.path().join("run");
    for s in indexed_job(&cfg, &out, 3, &["--tables", "transactions"]) {
        s.expect(0);
    }
    let merged = dir.path().join("merged");
    let missing = merge(&shard_dirs(&out, &[0, 2]), &merged);
    missing.expect(2);
    missing.expect_one_line_error(&["shard 1/3 missing"]);
    assert!(!merged.join("parity.csv").exists(), "nothing merged");

    let twice = merge(&shard_dirs(&out, &[0, 1, 2, 1]), &merged);
    twice.expect(2);
    twice.expect_one_line_error(&["shard 1/3 given twice", "shard-1"]);

    // Another config (another chunk size): its shard is foreign.
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    let other = both(
        &dir.path().join("other"),
        [&a.url, &a.url],
        "[check]\nchunk_rows = 200\n",
    );
    let foreign_out = dir.path().join("foreign");
    parity()
        .config(&other)
        .out(&foreign_out)
        .words("check --tables transactions --shard 1/3")
        .run()
        .expect(0);
    // Given first, the odd folder is still the one named.
    let mut dirs = vec![foreign_out.clone()];
    dirs.extend(shard_dirs(&out, &[0, 2]));
    let foreign = merge(&dirs, &merged);
    foreign.expect(2);
    foreign.expect_one_line_error(&["foreign is from another config than", "shard-0"]);
    assert!(
        !foreign.stderr.contains("shard-2 is from"),
        "{}",
        foreign.stderr
    );

    // Another plan (other tables).
    let plan_out = dir.path().join("plan");
    parity()
        .config(&cfg)
        .out(&plan_out)
        .words("check --tables customers --shard 1/3")
        .run()
        .expect(0);
    let mut dirs = shard_dirs(&out, &[0, 2]);
    dirs.push(plan_out);
    merge(&dirs, &merged).expect_one_line_error(&["plan", "another plan"]);

    // A full run is not a shard; bad shard flags are usage errors.
    let full = check(
        &cfg,
        &dir.path().join("full"),
        &["--tables", "transactions"],
    );
    merge(std::slice::from_ref(&full.out), &merged).expect_one_line_error(&["not a shard"]);
    let bad = check(&cfg, &dir.path().join("bad"), &["--shard", "3/3"]);
    bad.expect(2);
    bad.expect_one_line_error(&["I/N"]);
    let no_index = check(&cfg, &dir.path().join("bad"), &["--shards", "3"]);
    no_index.expect(2);
    no_index.expect_one_line_error(&["JOB_COMPLETION_INDEX"]);
}

#[test]
fn concurrent_writes_during_a_sharded_run_give_no_false_differences() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "shw", 3000, None);
    let dir = tempfile::tempdir().unwrap();
    // Each side read on its own: only a snapshot (or the re-read) keeps
    // the sides equal while rows change.
    let settings = "[check]\nchunk_rows = 300\njobs = 2\nshare_reads = false\n";
    let cfg = both(dir.path(), [&db.url, &db.url], settings);
    // Updates only: inserts would move chunk boundaries between the
    // shards' starts, which the merge refuses (see README).
    let writer = db.writer(
        "UPDATE transactions SET amount = amount + 1 WHERE id = 1 + (random() * 2900)::int; \
         UPDATE customers SET phone = md5(random()::text) WHERE id = 1 + (random() * 100)::int;",
        Duration::ZERO,
    );
    writer.wait_for(20);
    let out = dir.path().join("run");
    let shards = indexed_job(&cfg, &out, 4, &[]);
    assert!(writer.stop() > 20);
    for s in &shards {
        s.expect(0);
    }
    let merged = merge(&shard_dirs(&out, &[0, 1, 2, 3]), &dir.path().join("merged"));
    merged.expect(0);
    assert!(merged.csv("differences.csv").is_empty());
    for r in merged.csv("parity.csv") {
        assert_eq!(r["status"], "ok", "{r:?}");
        assert_eq!(r["matched"], r["source_rows"], "{r:?}");
    }
}

/// The (table, index) of each chunk line of a journal, in file order.
fn journal_chunks(path: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["table"].as_str().unwrap().to_string(),
                v["index"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_check_killed_mid_table_and_resumed_ends_as_an_uninterrupted_run() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "ska", 3000, None);
    let (b, drift) = TempDb::seeded(Backend::Postgres, "skb", 3000, Some(DRIFT));
    let dir = tempfile::tempdir().unwrap();
    let cfg = both(
        dir.path(),
        [&a.url, &b.url],
        "[check]\nchunk_rows = 100\njobs = 1\n",
    );
    let args = ["--tables", "transactions"];
    let whole = check(&cfg, &dir.path().join("whole"), &args);
    whole.expect(1);
    let chunks = whole.report_table("transactions")["chunks"]
        .as_u64()
        .unwrap();
    assert!(chunks >= 20, "{chunks} chunks");

    // SIGKILL once a few chunks are journaled.
    let out = dir.path().join("killed");
    let journal = out.join("journal.jsonl");
    let mut child = parity()
        .env("PARITY_FAULT_CHUNK_DELAY_MS", "150")
        .config(&cfg)
        .out(&out)
        .arg("check")
        .args(args)
        .spawn();
    let t0 = Instant::now();
    while journal_chunks(&journal).len() < 5 {
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = journal_chunks(&journal);
    assert!(
        (before.len() as u64) < chunks,
        "killed mid-table: {before:?}"
    );
    // A line torn by the kill is ignored.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"table\":\"transactions\",\"ind");
    std::fs::write(&journal, text).unwrap();

    // Another config is refused, and the journal kept.
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    let other = both(
        &dir.path().join("other"),
        [&a.url, &b.url],
        "[check]\nchunk_rows = 50\njobs = 1\n",
    );
    let refused = parity()
        .config(&other)
        .arg("check")
        .args(args)
        .arg("--resume")
        .arg(&out)
        .run();
    refused.expect_one_line_error(&["cannot resume", "another config"]);
    assert_eq!(journal_chunks(&journal), before);

    let mut resumed = parity()
        .config(&cfg)
        .arg("check")
        .args(args)
        .arg("--resume")
        .arg(&out)
        .run();
    resumed.out = out.clone();
    resumed.expect(1);
    assert_eq!(
        resumed.text("differences.csv"),
        whole.text("differences.csv")
    );
    assert_eq!(counts(&resumed), counts(&whole));
    assert_eq!(resumed.keys_by_kind("transactions"), planted(&drift));
    // Each chunk journaled once: the resumed run read only the others.
    let after = journal_chunks(&journal);
    assert_eq!(after.len() as u64, chunks, "{after:?}");
    let unique: std::collections::BTreeSet<_> = after.iter().collect();
    assert_eq!(unique.len(), after.len(), "a chunk read twice: {after:?}");
    assert!(before.iter().all(|c| after.contains(c)));
    assert!(
        resumed
            .stderr
            .contains(&format!("resuming: {} chunk(s)", before.len())),
        "{}",
        resumed.stderr
    );

    // A folder without a journal starts fresh.
    let fresh = dir.path().join("fresh");
    let mut first = parity()
        .config(&cfg)
        .arg("check")
        .args(args)
        .arg("--resume")
        .arg(&fresh)
        .run();
    first.out = fresh.clone();
    first.expect(1);
    assert_eq!(first.text("differences.csv"), whole.text("differences.csv"));
    assert_eq!(
        journal_chunks(&fresh.join("journal.jsonl")).len() as u64,
        chunks
    );
}

#[test]
fn the_kubernetes_and_actions_examples_parse_and_agree() {
    // No cluster here: the examples are parsed and cross-checked offline.
    let script = crate::support::root().join("scripts/k8s/validate.py");
    let o = crate::support::tool(std::process::Command::new("python3").arg(script));
    assert!(String::from_utf8_lossy(&o.stdout).contains("agree (4 shards)"));
}

#[test]
fn a_difference_that_vanishes_at_the_re_read_is_in_flight_not_a_difference() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "sia", 3000, None);
    let (b, _) = TempDb::seeded(Backend::Postgres, "sib", 3000, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = both(
        dir.path(),
        [&a.url, &b.url],
        "[check]\nchunk_rows = 300\njobs = 1\n",
    );
    // A write in flight: the target differs when the shard's snapshot is
    // taken, and is repaired before the last chunk is read again.
    b.exec("UPDATE transactions SET amount = amount + 1 WHERE id = 2990");
    let out = dir.path().join("run");
    let child = parity()
        .env("PARITY_FAULT_CHUNK_DELAY_MS", "200")
        .config(&cfg)
        .out(&out)
        .words("check --tables transactions --shard 0/1")
        .spawn();
    let t0 = Instant::now();
    while journal_chunks(&out.join("journal.jsonl")).is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    b.exec("UPDATE transactions SET amount = amount - 1 WHERE id = 2990");
    let o = Run::from_output(child.wait_with_output().unwrap(), &out, t0);
    o.expect(0);
    o.expect_table("transactions", &[("different", "0"), ("in_flight", "1")]);
    assert!(o.csv("differences.csv").is_empty());
    assert_eq!(o.report_table("transactions")["in_flight"], 1);
    // The human reports say so too.
    for file in ["summary.md", "report.html"] {
        assert!(
            o.text(file)
                .contains("in flight: 1 row(s) differed at the first read"),
            "{file} names the row in flight"
        );
    }
}
