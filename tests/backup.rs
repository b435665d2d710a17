//! `parity backup` and `parity manifest` end to end (issue 6): the real
//! binary and the real scripts against real PostgreSQL (`pg_dump`,
//! `pg_restore`) and SQLite databases that each test creates and drops.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{
    Backend, Run, TempDb, assert_contains, backup, bin, parity, root, seed, tool,
};

const PG: Backend = Backend::Postgres;

/// An empty PostgreSQL database with the restored `dump` in it.
fn restored(tag: &str, dump: &Path) -> TempDb {
    let db = TempDb::pg(tag).create();
    let mut restore = Command::new("pg_restore");
    restore.args([
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--dbname",
    ]);
    tool(restore.arg(&db.url).arg(dump));
    db
}

/// `pg_dump --format=custom ARGS --file DUMP URL`.
fn pg_dump(url: &str, dump: &Path, args: &[&str]) {
    tool(
        Command::new("pg_dump")
            .arg("--format=custom")
            .args(args)
            .arg("--file")
            .arg(dump)
            .arg(url),
    );
}

fn seeded(tag: &str, rows: u64) -> TempDb {
    let db = TempDb::pg(tag);
    seed(&db.url, rows, None);
    db
}

/// The fixture has no keyless table; backups must handle them.
const KEYLESS: &str = "CREATE TABLE audit_log (at text NOT NULL, message text);
    INSERT INTO audit_log VALUES ('2025-01-01', 'opened'), ('2025-01-01', 'opened'), ('2025-01-02', NULL);";

fn script(name: &str) -> Command {
    let mut c = Command::new("bash");
    c.arg(root().join("scripts").join(name))
        .env("PARITY", bin())
        .env("NO_COLOR", "1")
        .env("PARITY_SCRATCH_URL", PG.server())
        .env_remove("DATABASE_URL");
    c
}

fn manifest(url: &str, path: &Path, extra: &[&str]) {
    parity()
        .args(["manifest", "--url", url, "--manifest"])
        .arg(path)
        .args(extra)
        .run()
        .expect(0);
}

/// Seed, scripts/backup.sh, scripts/backup-check.sh: proven, exit 0, and
/// the scratch database is gone afterwards.
#[test]
fn round_trip_through_the_scripts_is_proven() {
    let src = seeded("backup_rt", 400);
    src.exec(KEYLESS);
    let dir = tempfile::tempdir().unwrap();
    let backup_dir = dir.path().join("backup");
    let o = script("backup.sh")
        .args([
            "--url",
            &src.url,
            "--row-hashes",
            "--timeout",
            "120",
            "--out",
        ])
        .arg(&backup_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "backup.sh: {stderr}");
    assert!(backup_dir.join("dump.pgdump").is_file());
    assert!(backup_dir.join("manifest.parity").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&backup_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // The final path, never the temporary one (#11).
    assert!(!stderr.contains(".backup."), "a temporary path: {stderr}");
    assert!(
        stderr.contains(&backup_dir.join("manifest.parity").display().to_string()),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.trim_end(),
        backup_dir.display().to_string(),
        "backup.sh prints the backup folder"
    );
    // A truncated manifest fails before anything is restored (#11).
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(backup_dir.join("dump.pgdump"), cut.join("dump.pgdump")).unwrap();
    let bytes = std::fs::read(backup_dir.join("manifest.parity")).unwrap();
    std::fs::write(cut.join("manifest.parity"), &bytes[..bytes.len() / 2]).unwrap();
    let o = script("backup-check.sh")
        .args(["--timeout", "120", "--backup"])
        .arg(&cut)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for says in ["is truncated", "nothing restored"] {
        assert!(err.contains(says), "{err}");
    }
    assert!(
        !err.contains("restoring"),
        "restored before verifying: {err}"
    );

    let reports = dir.path().join("reports");
    let o = script("backup-check.sh")
        .args(["--timeout", "120", "--backup"])
        .arg(&backup_dir)
        .arg("--out")
        .arg(&reports)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "backup-check.sh: {stderr}");
    assert!(stderr.contains("PROVEN"), "{stderr}");
    let run = Run {
        code: 0,
        stdout: String::new(),
        stderr: stderr.clone(),
        out: reports,
        took: Duration::ZERO,
    };
    run.expect_table("transactions", &[("status", "ok"), ("matched", "400")]);
    run.expect_table("audit_log", &[("status", "ok")]);
    run.expect_finding("fingerprint", "catalog", "ok");
    let scratch = stderr
        .split("into ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the scratch database is named on stderr");
    let left = PG.admin(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{scratch}'"
    ));
    assert_eq!(left, [[Some("0".to_string())]], "{scratch} was not dropped");
}

/// Each kind of tampering with a restored copy is detected, named, exit 1.
#[test]
fn tampering_with_the_restored_copy_is_detected_and_named() {
    let src = seeded("backup_tamper", 300);
    src.exec(KEYLESS);
    let first = src.query("SELECT repair_id, seq FROM repair_events ORDER BY 1, 2 LIMIT 1");
    let [repair_id, seq] = [0, 1].map(|i| first[0][i].clone().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (m, m_plain) = (dir.path().join("m.parity"), dir.path().join("plain.parity"));
    manifest(&src.url, &m, &["--row-hashes", "--chunk-rows", "100"]);
    manifest(&src.url, &m_plain, &["--chunk-rows", "100"]);
    let dump = dir.path().join("d.pgdump");
    pg_dump(&src.url, &dump, &[]);
    let restored = restored("backup_restored", &dump);

    // Untouched, it verifies clean both ways; each tampered copy below is
    // checked against the manifest (`m`) or the live source (`src`).
    let (m_arg, plain_arg) = (m.to_str().unwrap(), m_plain.to_str().unwrap());
    let against = |out: &str, reference: &str, target: &TempDb| {
        let reference = match reference {
            "m" => ["--manifest", m_arg],
            "plain" => ["--manifest", plain_arg],
            _ => ["--source", src.url.as_str()],
        };
        let args = [&reference[..], &["--target", &target.url]].concat();
        backup(&dir.path().join(out), &args)
    };
    against("clean", "m", &restored).expect(0);
    against("clean-src", "src", &restored).expect(0);
    let tamper = |sql: &str| {
        let copy = TempDb::copy_of(&restored, "backup_tampered");
        copy.exec(sql);
        copy
    };

    // 1. An updated row: named by key (and by column against a live source).
    let t = tamper("UPDATE transactions SET amount = amount + 1 WHERE id = 17");
    let r = against("upd", "m", &t);
    r.expect(1);
    r.expect_table("transactions", &[("different", "1")]);
    let key17 = r#"{"id":17}"#;
    let named = [
        ("source_table", "transactions"),
        ("key", key17),
        ("kind", "different"),
    ];
    r.expect_row("differences.csv", &named);
    assert_eq!(r.csv("chunks.csv").len(), 1, "one chunk differs");
    let r = against("upd-src", "src", &t);
    r.expect(1);
    r.expect_row("differences.csv", &[("key", key17), ("columns", "amount")]);
    // Without row hashes the chunk is named, not the row.
    let r = against("upd-plain", "plain", &t);
    r.expect(1);
    let chunks = r.csv("chunks.csv");
    assert_eq!(chunks.len(), 1, "{chunks:?}");
    assert_eq!(chunks[0]["table"], "transactions");
    drop(t);

    // 2. A deleted row, composite key.
    let t = tamper(&format!(
        "DELETE FROM repair_events WHERE repair_id = '{repair_id}' AND seq = {seq}"
    ));
    let r = against("del", "m", &t);
    r.expect(1);
    r.expect_table("repair_events", &[("missing_in_target", "1")]);
    let key = format!(r#"{{"repair_id":"{repair_id}","seq":{seq}}}"#);
    r.expect_row(
        "differences.csv",
        &[("key", key.as_str()), ("kind", "missing_in_target")],
    );
    drop(t);

    // 3. A row inserted into a keyless table: detected as a multiset.
    let t = tamper("INSERT INTO audit_log VALUES ('2025-01-01', 'opened')");
    for (out, reference) in [("ins", "m"), ("ins-src", "src")] {
        let r = against(out, reference, &t);
        r.expect(1);
        r.expect_table("audit_log", &[("status", "differs"), ("target_rows", "4")]);
        assert!(r.stdout.contains("audit_log"), "{out}");
        // The note explains the multiset.
        assert_contains(&r.text("summary.md"), &["multiset"]);
    }
    drop(t);

    // 4. A dropped index.
    let t = tamper("DROP INDEX bikes_customer_id_idx");
    let r = against("idx", "m", &t);
    r.expect(1);
    r.expect_finding("index", "bikes.bikes_customer_id_idx", "missing_in_target");
    // The rows are intact.
    r.expect_table("bikes", &[("status", "ok")]);
    drop(t);

    // 5. A sequence set back; one ahead of the manifest passes: it is not
    // transactional.
    let sequences = [(5, "seq", 1, "behind"), (100000, "seq-ahead", 0, "ahead")];
    for (value, out, code, finding) in sequences {
        let t = tamper(&format!("SELECT setval('transactions_id_seq', {value})"));
        let r = against(out, "m", &t);
        r.expect(code);
        r.expect_finding("sequence_value", "transactions_id_seq", finding);
        if code == 1 {
            against("seq-src", "src", &t).expect(1);
        }
    }
}

/// A manifest taken with --export-snapshot while another connection writes,
/// and a pg_dump in that snapshot: the restored dump verifies clean.
#[test]
fn a_live_database_dumped_in_the_manifest_snapshot_verifies_clean() {
    let src = seeded("backup_live", 500);
    let writer = src.writer(
        "INSERT INTO transactions (customer_id, kind, amount, currency, occurred_at, updated_at)
           SELECT id, 'SALE', 9.99, 'EUR', now(), now() FROM customers ORDER BY id LIMIT 1;
         UPDATE customers SET loyalty_points = loyalty_points + 1 WHERE id = (SELECT min(id) FROM customers);",
        Duration::from_millis(5),
    );
    writer.wait_for(5);

    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("live.parity");
    let mut cmd = parity();
    cmd.words("--quiet manifest --export-snapshot --row-hashes --chunk-rows 128 --url")
        .arg(&src.url);
    let mut child = cmd.arg("--manifest").arg(&m).spawn();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let snapshot = line.trim().to_string();
    assert!(
        !snapshot.is_empty() && snapshot.contains('-'),
        "snapshot id: {line:?}"
    );
    let before = writer.count();
    let dump = dir.path().join("live.pgdump");
    pg_dump(&src.url, &dump, &[&format!("--snapshot={snapshot}")]);
    // Let the writer run on past the dump, then release the snapshot.
    writer.wait_for(before + 5);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "manifest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.stop();

    let restored = restored("backup_live_restored", &dump);
    let m_arg = m.to_str().unwrap();
    let r = backup(
        &dir.path().join("verify"),
        &["--manifest", m_arg, "--target", &restored.url],
    );
    r.expect(0);
    let in_manifest: i64 = r.table("transactions")["source_rows"].parse().unwrap();
    let now: i64 = src
        .one("SELECT count(*) FROM transactions")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        now > in_manifest,
        "the source kept changing after the snapshot"
    );
    for f in r.csv("catalog.csv") {
        if f["kind"] == "sequence_value" {
            assert!(matches!(f["finding"].as_str(), "ok" | "ahead"), "{f:?}");
        }
    }
    // The live source itself no longer matches the manifest.
    backup(
        &dir.path().join("drifted"),
        &["--manifest", m_arg, "--target", &src.url],
    )
    .expect(1);
}

fn sqlite3(db: &Path, sql: &str) {
    tool(Command::new("sqlite3").arg(db).arg(sql));
}

/// Truncated, corrupted, foreign and version-skewed manifests: exit 2 with
/// a message that says what is wrong.
#[test]
fn damaged_and_skewed_manifests_are_clear_errors() {
    let (db, _) = TempDb::seeded(Backend::Sqlite, "shop", 200, None);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parity");
    manifest(&db.url, &good, &["--row-hashes"]);
    let bytes = std::fs::read(&good).unwrap();
    assert_eq!(&bytes[..8], b"PARITYMF");
    backup(
        &dir.path().join("ok"),
        &["--manifest", good.to_str().unwrap(), "--target", &db.url],
    )
    .expect(0);

    // The CSV view of a good manifest.
    let csv_dir = dir.path().join("csv");
    parity()
        .args(["manifest", "--manifest"])
        .arg(&good)
        .arg("--export-csv")
        .arg(&csv_dir)
        .run()
        .expect(0);
    let rows = std::fs::read_to_string(csv_dir.join("rows.csv")).unwrap();
    let first = r#"transactions,0,"{""id"":1}""#;
    assert!(rows.contains(first), "{}", &rows[..rows.len().min(400)]);
    let tables = std::fs::read_to_string(csv_dir.join("tables.csv")).unwrap();
    let transactions = tables
        .lines()
        .any(|l| l.starts_with("transactions,id,") && l.contains(",200,"));
    assert!(transactions, "{tables}");

    let mut corrupted = bytes.clone();
    corrupted[bytes.len() / 2] ^= 0x40;
    // Version skew both ways: a newer file for this parity, an older one.
    let with_version = |v: u32| [&bytes[..8], &v.to_le_bytes(), &bytes[12..]].concat();
    let foreign = b"PGDMP\x01\x0e\x00 not a manifest at all, but long enough to look".to_vec();
    let cases = [
        (
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
            "is truncated",
        ),
        ("tiny", bytes[..5].to_vec(), "is truncated"),
        ("empty", Vec::new(), "not a parity manifest"),
        ("corrupted", corrupted, "is corrupted"),
        ("foreign", foreign, "not a parity manifest"),
        (
            "newer",
            with_version(2),
            "newer than this parity reads (version 1); upgrade parity",
        ),
        ("older", with_version(0), "no longer reads"),
    ];
    for (name, content, expect) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        let r = backup(
            &dir.path().join(format!("out-{name}")),
            &["--manifest", p.to_str().unwrap(), "--target", &db.url],
        );
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: errors never go to stdout");
    }
    // A failed write leaves no manifest behind.
    let never = dir.path().join("never.parity");
    parity()
        .words("manifest --url sqlite:/nonexistent/x.db --manifest")
        .arg(&never)
        .run()
        .expect(2);
    assert!(!never.exists());
}

/// SQLite: a `.backup` copy against the original, directly and through a
/// manifest; keyless tables included.
#[test]
fn sqlite_backup_copy_checks_against_the_original() {
    let (a, b) = (TempDb::sqlite("a"), TempDb::sqlite("b"));
    seed(&a.url, 300, None);
    sqlite3(
        &a.path(),
        "CREATE TABLE notes (body TEXT, n INTEGER); INSERT INTO notes VALUES ('x', 1), ('x', 1), (NULL, 2);",
    );
    sqlite3(&a.path(), &format!(".backup '{}'", b.path().display()));
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("a.parity");
    manifest(&a.url, &m, &["--row-hashes", "--chunk-rows", "64"]);
    let m = m.to_str().unwrap();
    let (direct, through_manifest) = (["--source", &a.url], ["--manifest", m]);
    let against = |out: &str, reference: [&str; 2]| {
        let args = [&reference[..], &["--target", &b.url]].concat();
        backup(&dir.path().join(out), &args)
    };
    let r = against("same", direct);
    r.expect(0);
    r.expect_table("notes", &[("status", "ok")]);
    r.expect_finding("fingerprint", "catalog", "ok");
    against("same-m", through_manifest).expect(0);

    sqlite3(
        &b.path(),
        "UPDATE transactions SET amount = amount + 1 WHERE id = 3; INSERT INTO notes VALUES ('x', 1); DROP INDEX IF EXISTS transactions_occurred_at_idx;",
    );
    let r = against("changed", direct);
    r.expect(1);
    r.expect_row(
        "differences.csv",
        &[("key", r#"{"id":3}"#), ("kind", "different")],
    );
    r.expect_table("notes", &[("status", "differs")]);
    let r = against("changed-m", through_manifest);
    r.expect(1);
    r.expect_row("differences.csv", &[("key", r#"{"id":3}"#)]);
}

/// Usage mistakes are exit 2 with the fix in the message.
#[test]
fn backup_needs_a_target_and_one_reference() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("--target sqlite:x.db", "--source URL"),
        (
            "--source sqlite:a.db --manifest m --target sqlite:b",
            "not both",
        ),
        (
            "--source NOT_SET_ANYWHERE_X --target sqlite:b",
            "neither a database URL",
        ),
    ];
    for (args, says) in cases {
        let r = parity().out(dir.path()).arg("backup").words(args).run();
        r.expect(2);
        assert!(r.stderr.contains(says), "{}", r.stderr);
    }
}
