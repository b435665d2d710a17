//! `parity backup` and `parity manifest` end to end (issue 6): the real
//! binary and the real scripts against real PostgreSQL (`pg_dump`,
//! `pg_restore`) and SQLite databases that each test creates and drops.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use assert_cmd::Command;
use sqlx::Connection;

use crate::support::{block_on, pg_server, root};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("parity")
}

/// A PostgreSQL database that exists for one test.
struct PgDb {
    name: String,
    url: String,
}

impl PgDb {
    fn named(tag: &str) -> PgDb {
        let name = format!(
            "parity_t_backup_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let url = format!("{}/{name}", pg_server());
        PgDb { name, url }
    }

    /// Creates it empty, or as a copy of `template`.
    fn create(tag: &str, template: Option<&PgDb>) -> PgDb {
        let db = PgDb::named(tag);
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{}\" TEMPLATE \"{}\"", db.name, t.name),
            None => format!("CREATE DATABASE \"{}\" TEMPLATE template0", db.name),
        };
        admin(&sql);
        db
    }

    fn exec(&self, sql: &str) {
        let (url, sql) = (self.url.clone(), sql.to_string());
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
            let _ = c.close().await;
        });
    }

    fn scalar(&self, sql: &str) -> i64 {
        let (url, sql) = (self.url.clone(), sql.to_string());
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let v: i64 = sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap();
            let _ = c.close().await;
            v
        })
    }

    fn restore(&self, dump: &Path) {
        let o = Std::new("pg_restore")
            .args([
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--dbname",
            ])
            .arg(&self.url)
            .arg(dump)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pg_restore: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = try_admin(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

fn try_admin(sql: &str) -> Result<(), sqlx::Error> {
    let sql = sql.to_string();
    block_on(async move {
        let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server())).await?;
        sqlx::query(&sql).execute(&mut c).await?;
        let _ = c.close().await;
        Ok(())
    })
}

fn admin(sql: &str) {
    try_admin(sql).unwrap();
}

fn database_exists(name: &str) -> bool {
    let name = name.to_string();
    block_on(async move {
        let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server()))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut c)
            .await
            .unwrap();
        n > 0
    })
}

fn parity() -> Command {
    let mut c = Command::cargo_bin("parity").unwrap();
    c.env_remove("PARITY_CONFIG")
        .env_remove("PARITY_SOURCE_URL")
        .env_remove("PARITY_TARGET_URL")
        .env_remove("PARITY_MANIFEST")
        .env("NO_COLOR", "1");
    c
}

fn seed(url: &str, rows: u64) {
    let o = parity()
        .args([
            "seed",
            "--url",
            url,
            "--rows",
            &rows.to_string(),
            "--seed",
            "7",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "seed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The fixture has no keyless table; backups must handle them.
const KEYLESS: &str = "CREATE TABLE audit_log (at text NOT NULL, message text);
    INSERT INTO audit_log VALUES ('2025-01-01', 'opened'), ('2025-01-01', 'opened'), ('2025-01-02', NULL);";

fn script(name: &str) -> Std {
    let mut c = Std::new("bash");
    c.arg(root().join("scripts").join(name))
        .env("PARITY", bin())
        .env("NO_COLOR", "1")
        .env("PARITY_SCRATCH_URL", pg_server())
        .env_remove("DATABASE_URL");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    out: PathBuf,
}

impl Run {
    fn csv(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let mut r = csv::Reader::from_path(self.out.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", self.stderr));
        let headers = r.headers().unwrap().clone();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    fn table(&self, name: &str) -> BTreeMap<String, String> {
        self.csv("parity.csv")
            .into_iter()
            .find(|r| r["source_table"] == name)
            .unwrap_or_else(|| panic!("no row for {name} in parity.csv"))
    }

    fn finding(&self, kind: &str, object: &str) -> Option<String> {
        self.csv("catalog.csv")
            .into_iter()
            .find(|r| r["kind"] == kind && r["object"] == object)
            .map(|r| r["finding"].clone())
    }
}

fn backup(out: &Path, args: &[&str]) -> Run {
    let o = parity()
        .arg("--out")
        .arg(out)
        .arg("backup")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out: out.to_path_buf(),
    }
}

fn manifest(url: &str, path: &Path, extra: &[&str]) {
    let o = parity()
        .args(["manifest", "--url", url, "--manifest"])
        .arg(path)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "manifest: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Seed, scripts/backup.sh, scripts/backup-check.sh: proven, exit 0, and
/// the scratch database is gone afterwards.
#[test]
fn round_trip_through_the_scripts_is_proven() {
    let src = PgDb::create("rt", None);
    seed(&src.url, 400);
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
    assert!(
        o.status.success(),
        "backup.sh: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(backup_dir.join("dump.pgdump").is_file());
    assert!(backup_dir.join("manifest.parity").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&backup_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // The final path, never the temporary one (#11).
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains(".backup."), "a temporary path: {stderr}");
    assert!(
        stderr.contains(&format!("{}", backup_dir.join("manifest.parity").display())),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
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
    assert!(err.contains("is truncated"), "{err}");
    assert!(err.contains("nothing restored"), "{err}");
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
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "backup-check.sh: {stderr}");
    assert!(stderr.contains("PROVEN"), "{stderr}");
    let run = Run {
        code: 0,
        stdout: String::new(),
        stderr: stderr.to_string(),
        out: reports,
    };
    assert_eq!(run.table("transactions")["status"], "ok");
    assert_eq!(run.table("transactions")["matched"], "400");
    assert_eq!(run.table("audit_log")["status"], "ok");
    assert_eq!(run.finding("fingerprint", "catalog").as_deref(), Some("ok"));
    let scratch = stderr
        .split("into ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the scratch database is named on stderr");
    assert!(!database_exists(scratch), "{scratch} was not dropped");
}

/// Each kind of tampering with a restored copy is detected, named, exit 1.
#[test]
fn tampering_with_the_restored_copy_is_detected_and_named() {
    let src = PgDb::create("tamper", None);
    seed(&src.url, 300);
    src.exec(KEYLESS);
    let (repair_id, seq): (String, i32) = {
        let url = src.url.clone();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query_as("SELECT repair_id, seq FROM repair_events ORDER BY 1, 2 LIMIT 1")
                .fetch_one(&mut c)
                .await
                .unwrap()
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.parity");
    let m_plain = dir.path().join("plain.parity");
    manifest(&src.url, &m, &["--row-hashes", "--chunk-rows", "100"]);
    manifest(&src.url, &m_plain, &["--chunk-rows", "100"]);
    let dump = dir.path().join("d.pgdump");
    let o = Std::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&src.url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let restored = PgDb::create("restored", None);
    restored.restore(&dump);

    // Untouched, it verifies clean both ways.
    let m_arg = m.to_str().unwrap();
    let clean = backup(
        &dir.path().join("clean"),
        &["--manifest", m_arg, "--target", &restored.url],
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let clean = backup(
        &dir.path().join("clean-src"),
        &["--source", &src.url, "--target", &restored.url],
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);

    let tamper = |tag: &str, sql: &str| -> PgDb {
        let copy = PgDb::create(tag, Some(&restored));
        copy.exec(sql);
        copy
    };

    // 1. An updated row: named by key (and by column against a live source).
    let t = tamper(
        "upd",
        "UPDATE transactions SET amount = amount + 1 WHERE id = 17",
    );
    let r = backup(
        &dir.path().join("upd"),
        &["--manifest", m_arg, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.table("transactions")["different"], "1");
    let d = r.csv("differences.csv");
    assert!(
        d.iter().any(|x| x["source_table"] == "transactions"
            && x["key"] == r#"{"id":17}"#
            && x["kind"] == "different"),
        "{d:?}"
    );
    assert_eq!(r.csv("chunks.csv").len(), 1, "one chunk differs");
    let r = backup(
        &dir.path().join("upd-src"),
        &["--source", &src.url, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let d = r.csv("differences.csv");
    assert!(
        d.iter()
            .any(|x| x["key"] == r#"{"id":17}"# && x["columns"] == "amount"),
        "{d:?}"
    );
    // Without row hashes the chunk is named, not the row.
    let r = backup(
        &dir.path().join("upd-plain"),
        &["--manifest", m_plain.to_str().unwrap(), "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let chunks = r.csv("chunks.csv");
    assert_eq!(chunks.len(), 1, "{chunks:?}");
    assert_eq!(chunks[0]["table"], "transactions");
    drop(t);

    // 2. A deleted row, composite key.
    let t = tamper(
        "del",
        &format!("DELETE FROM repair_events WHERE repair_id = '{repair_id}' AND seq = {seq}"),
    );
    let r = backup(
        &dir.path().join("del"),
        &["--manifest", m_arg, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.table("repair_events")["missing_in_target"], "1");
    let key = format!(r#"{{"repair_id":"{repair_id}","seq":{seq}}}"#);
    let d = r.csv("differences.csv");
    assert!(
        d.iter()
            .any(|x| x["key"] == key && x["kind"] == "missing_in_target"),
        "{d:?}"
    );
    drop(t);

    // 3. A row inserted into a keyless table: detected as a multiset.
    let t = tamper(
        "ins",
        "INSERT INTO audit_log VALUES ('2025-01-01', 'opened')",
    );
    for (tag, args) in [
        ("ins", vec!["--manifest", m_arg]),
        ("ins-src", vec!["--source", src.url.as_str()]),
    ] {
        let mut args = args;
        args.extend(["--target", t.url.as_str()]);
        let r = backup(&dir.path().join(tag), &args);
        assert_eq!(r.code, 1, "{tag}: {}", r.stderr);
        let row = r.table("audit_log");
        assert_eq!(
            (row["status"].as_str(), row["target_rows"].as_str()),
            ("differs", "4"),
            "{tag}"
        );
        assert!(r.stdout.contains("audit_log"), "{tag}");
        let report = std::fs::read_to_string(r.out.join("summary.md")).unwrap();
        assert!(
            report.contains("multiset"),
            "{tag}: the note explains the multiset"
        );
    }
    drop(t);

    // 4. A dropped index.
    let t = tamper("idx", "DROP INDEX bikes_customer_id_idx");
    let r = backup(
        &dir.path().join("idx"),
        &["--manifest", m_arg, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.finding("index", "bikes.bikes_customer_id_idx").as_deref(),
        Some("missing_in_target")
    );
    assert_eq!(r.table("bikes")["status"], "ok", "the rows are intact");
    drop(t);

    // 5. A sequence set back.
    let t = tamper("seq", "SELECT setval('transactions_id_seq', 5)");
    let r = backup(
        &dir.path().join("seq"),
        &["--manifest", m_arg, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.finding("sequence_value", "transactions_id_seq")
            .as_deref(),
        Some("behind")
    );
    let r = backup(
        &dir.path().join("seq-src"),
        &["--source", &src.url, "--target", &t.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    drop(t);

    // A sequence ahead of the manifest passes: it is not transactional.
    let t = tamper("seq-ahead", "SELECT setval('transactions_id_seq', 100000)");
    let r = backup(
        &dir.path().join("seq-ahead"),
        &["--manifest", m_arg, "--target", &t.url],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.finding("sequence_value", "transactions_id_seq")
            .as_deref(),
        Some("ahead")
    );
}

/// A manifest taken with --export-snapshot while another connection writes,
/// and a pg_dump in that snapshot: the restored dump verifies clean.
#[test]
fn a_live_database_dumped_in_the_manifest_snapshot_verifies_clean() {
    let src = PgDb::create("live", None);
    seed(&src.url, 500);
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (url, stop, writes) = (src.url.clone(), stop.clone(), writes.clone());
        std::thread::spawn(move || {
            block_on(async move {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                while !stop.load(Ordering::SeqCst) {
                    sqlx::raw_sql(
                        "INSERT INTO transactions (customer_id, kind, amount, currency, occurred_at, updated_at)
                           SELECT id, 'SALE', 9.99, 'EUR', now(), now() FROM customers ORDER BY id LIMIT 1;
                         UPDATE customers SET loyalty_points = loyalty_points + 1 WHERE id = (SELECT min(id) FROM customers);",
                    )
                    .execute(&mut c)
                    .await
                    .unwrap();
                    writes.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            })
        })
    };
    while writes.load(Ordering::SeqCst) < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("live.parity");
    let mut child = Std::new(bin())
        .args([
            "--quiet",
            "manifest",
            "--export-snapshot",
            "--row-hashes",
            "--chunk-rows",
            "128",
            "--url",
        ])
        .arg(&src.url)
        .arg("--manifest")
        .arg(&m)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let snapshot = line.trim().to_string();
    assert!(
        !snapshot.is_empty() && snapshot.contains('-'),
        "snapshot id: {line:?}"
    );
    let before = writes.load(Ordering::SeqCst);
    let dump = dir.path().join("live.pgdump");
    let o = Std::new("pg_dump")
        .args([
            "--format=custom",
            &format!("--snapshot={snapshot}"),
            "--file",
        ])
        .arg(&dump)
        .arg(&src.url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Let the writer run on past the dump, then release the snapshot.
    while writes.load(Ordering::SeqCst) < before + 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "manifest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();

    let restored = PgDb::create("live_restored", None);
    restored.restore(&dump);
    let r = backup(
        &dir.path().join("verify"),
        &["--manifest", m.to_str().unwrap(), "--target", &restored.url],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let in_manifest: i64 = r.table("transactions")["source_rows"].parse().unwrap();
    assert!(
        src.scalar("SELECT count(*) FROM transactions") > in_manifest,
        "the source kept changing after the snapshot"
    );
    for f in r.csv("catalog.csv") {
        if f["kind"] == "sequence_value" {
            assert!(matches!(f["finding"].as_str(), "ok" | "ahead"), "{f:?}");
        }
    }
    // The live source itself no longer matches the manifest.
    let r = backup(
        &dir.path().join("drifted"),
        &["--manifest", m.to_str().unwrap(), "--target", &src.url],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

fn sqlite_url(p: &Path) -> String {
    format!("sqlite:{}", p.display())
}

fn sqlite3(db: &Path, sql: &str) {
    let o = Std::new("sqlite3").arg(db).arg(sql).output().unwrap();
    assert!(
        o.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Truncated, corrupted, foreign and version-skewed manifests: exit 2 with
/// a message that says what is wrong.
#[test]
fn damaged_and_skewed_manifests_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    seed(&sqlite_url(&db), 200);
    let good = dir.path().join("good.parity");
    manifest(&sqlite_url(&db), &good, &["--row-hashes"]);
    let bytes = std::fs::read(&good).unwrap();
    assert_eq!(&bytes[..8], b"PARITYMF");
    let target = sqlite_url(&db);
    let ok = backup(
        &dir.path().join("ok"),
        &["--manifest", good.to_str().unwrap(), "--target", &target],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    // The CSV view of a good manifest.
    let csv_dir = dir.path().join("csv");
    let o = parity()
        .args(["manifest", "--manifest"])
        .arg(&good)
        .arg("--export-csv")
        .arg(&csv_dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = std::fs::read_to_string(csv_dir.join("rows.csv")).unwrap();
    assert!(
        rows.contains(r#"transactions,0,"{""id"":1}""#),
        "{}",
        &rows[..rows.len().min(400)]
    );
    let tables = std::fs::read_to_string(csv_dir.join("tables.csv")).unwrap();
    assert!(
        tables
            .lines()
            .any(|l| l.starts_with("transactions,id,") && l.contains(",200,")),
        "{tables}"
    );

    let case = |name: &str, content: Vec<u8>, expect: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        let r = backup(
            &dir.path().join(format!("out-{name}")),
            &["--manifest", p.to_str().unwrap(), "--target", &target],
        );
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: errors never go to stdout");
    };
    case(
        "truncated",
        bytes[..bytes.len() / 2].to_vec(),
        "is truncated",
    );
    case("tiny", bytes[..5].to_vec(), "is truncated");
    case("empty", Vec::new(), "not a parity manifest");
    let mut corrupted = bytes.clone();
    let mid = corrupted.len() / 2;
    corrupted[mid] ^= 0x40;
    case("corrupted", corrupted, "is corrupted");
    case(
        "foreign",
        b"PGDMP\x01\x0e\x00 not a manifest at all, but long enough to look".to_vec(),
        "not a parity manifest",
    );
    // Version skew both ways: a newer file for this parity, an older one.
    let with_version = |v: u32| {
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&v.to_le_bytes());
        b
    };
    case(
        "newer",
        with_version(2),
        "newer than this parity reads (version 1); upgrade parity",
    );
    case("older", with_version(0), "no longer reads");
    // A failed write leaves no manifest behind.
    let o = parity()
        .args([
            "manifest",
            "--url",
            "sqlite:/nonexistent/x.db",
            "--manifest",
        ])
        .arg(dir.path().join("never.parity"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("never.parity").exists());
}

/// SQLite: a `.backup` copy against the original, directly and through a
/// manifest; keyless tables included.
#[test]
fn sqlite_backup_copy_checks_against_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    seed(&sqlite_url(&a), 300);
    sqlite3(
        &a,
        "CREATE TABLE notes (body TEXT, n INTEGER); INSERT INTO notes VALUES ('x', 1), ('x', 1), (NULL, 2);",
    );
    sqlite3(&a, &format!(".backup '{}'", b.display()));
    let (sa, sb) = (sqlite_url(&a), sqlite_url(&b));
    let r = backup(
        &dir.path().join("same"),
        &["--source", &sa, "--target", &sb],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.table("notes")["status"], "ok");
    assert_eq!(r.finding("fingerprint", "catalog").as_deref(), Some("ok"));
    let m = dir.path().join("a.parity");
    manifest(&sa, &m, &["--row-hashes", "--chunk-rows", "64"]);
    let r = backup(
        &dir.path().join("same-m"),
        &["--manifest", m.to_str().unwrap(), "--target", &sb],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    sqlite3(
        &b,
        "UPDATE transactions SET amount = amount + 1 WHERE id = 3; INSERT INTO notes VALUES ('x', 1); DROP INDEX IF EXISTS transactions_occurred_at_idx;",
    );
    let r = backup(
        &dir.path().join("changed"),
        &["--source", &sa, "--target", &sb],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let d = r.csv("differences.csv");
    assert!(
        d.iter()
            .any(|x| x["key"] == r#"{"id":3}"# && x["kind"] == "different"),
        "{d:?}"
    );
    assert_eq!(r.table("notes")["status"], "differs");
    let r = backup(
        &dir.path().join("changed-m"),
        &["--manifest", m.to_str().unwrap(), "--target", &sb],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let d = r.csv("differences.csv");
    assert!(d.iter().any(|x| x["key"] == r#"{"id":3}"#), "{d:?}");
}

/// Usage mistakes are exit 2 with the fix in the message.
#[test]
fn backup_needs_a_target_and_one_reference() {
    let dir = tempfile::tempdir().unwrap();
    let r = backup(dir.path(), &["--target", "sqlite:x.db"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--source URL"), "{}", r.stderr);
    let r = backup(
        dir.path(),
        &[
            "--source",
            "sqlite:a.db",
            "--manifest",
            "m",
            "--target",
            "sqlite:b",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not both"), "{}", r.stderr);
    let r = backup(
        dir.path(),
        &["--source", "NOT_SET_ANYWHERE_X", "--target", "sqlite:b"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("neither a database URL"), "{}", r.stderr);
}
