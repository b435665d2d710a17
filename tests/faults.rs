//! Issue 10: trustworthy verdicts under hostile input and faults. Every
//! case of the issue has a test here: hostile inputs (config, URLs,
//! schemas, snapshots, manifests, queries files, CLI values and env vars)
//! each exit 2 with one clear line; checking nothing is never green;
//! nothing commits a write; no value or password leaks; locks, timeouts
//! and connection limits say what happened at once; SIGTERM marks every
//! report incomplete; no temp file survives; live-against-live sequences.
//!
//! `PARITY_FAULTS_BIN=/path/to/parity` runs the hostile-input table against
//! another binary (`hostile_inputs_table`, ignored by default, prints each
//! case's exit code and first stderr line: the before/after note).

mod audit;
mod hostile;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::support::{PgDb, block_on, pg_server, root, seed};

pub fn bin() -> PathBuf {
    match std::env::var_os("PARITY_FAULTS_BIN") {
        Some(p) => PathBuf::from(p),
        None => assert_cmd::cargo::cargo_bin("parity"),
    }
}

pub fn parity() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("PARITY_CONFIG")
        .env("NO_COLOR", "1")
        .env("PARITY_CONNECT_TIMEOUT", "3");
    c
}

/// The fixture's PostgreSQL config over `url`, plus `extra`.
pub fn fixture_config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let fx = root().join("fixtures/bikeshop");
    let text = format!(
        "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\nallow_writes = true\n\n\
         [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{}\", \"{}\"]\nallow_writes = true\n\n{extra}\n",
        fx.join("prisma/schema.prisma").display(),
        fx.join("drizzle/meta/0001_snapshot.json").display(),
        fx.join("drizzle/mapping.json").display()
    );
    let p = dir.join("parity.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
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

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn temp_leftovers(dir: &Path) -> Vec<PathBuf> {
    all_files(dir)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".tmp") || n.ends_with(".partial")
        })
        .collect()
}

// ---- 1. false green -------------------------------------------------------

/// A snapshot with `tables: {}`, and a Prisma schema with no models.
fn empty_mappings(dir: &Path) -> (PathBuf, PathBuf) {
    let snap_text =
        std::fs::read_to_string(root().join("fixtures/bikeshop/drizzle/meta/0001_snapshot.json"))
            .unwrap();
    let mut snap: serde_json::Value = serde_json::from_str(&snap_text).unwrap();
    snap["tables"] = serde_json::json!({});
    snap["enums"] = serde_json::json!({});
    let snapshot = dir.join("empty_snapshot.json");
    std::fs::write(&snapshot, serde_json::to_vec_pretty(&snap).unwrap()).unwrap();
    let prisma = dir.join("empty.prisma");
    std::fs::write(
        &prisma,
        "datasource db {\n  provider = \"postgresql\"\n}\n\ngenerator client {\n  provider = \"prisma-client\"\n  output = \"./gen\"\n}\n",
    )
    .unwrap();
    (snapshot, prisma)
}

#[test]
fn checking_zero_tables_is_an_error_and_schema_finds_the_unpaired_tables() {
    let db = PgDb::new("f_zero");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, prisma) = empty_mappings(dir.path());
    let fx = root().join("fixtures/bikeshop");
    let cfg = |name: &str, source: &Path, target: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n\n\
                 [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = {target}\n",
                source.display(),
                url = db.url
            ),
        )
        .unwrap();
        p
    };
    let full_drizzle = format!(
        "[\"{}\", \"{}\"]",
        fx.join("drizzle/meta/0001_snapshot.json").display(),
        fx.join("drizzle/mapping.json").display()
    );
    let no_models = cfg("no_models.toml", &prisma, &full_drizzle);
    let no_tables = cfg(
        "no_tables.toml",
        &fx.join("prisma/schema.prisma"),
        &format!("\"{}\"", snapshot.display()),
    );
    for c in [&no_models, &no_tables] {
        let o = parity()
            .arg("--config")
            .arg(c)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("check")
            .output()
            .unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "check of nothing: {err}");
        assert!(err.contains("nothing to check"), "{err}");
        // `schema` reads no data: the unpaired tables are findings (exit 1).
        let o = parity()
            .arg("--config")
            .arg(c)
            .arg("--out")
            .arg(dir.path().join("schema"))
            .arg("schema")
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "schema: {out}{err}");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("schema/schema.json")).unwrap())
                .unwrap();
        let codes: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(
            codes.iter().any(|c| c.starts_with("TABLE_ONLY_IN_")),
            "{codes:?}"
        );
    }
}

#[test]
fn a_named_table_only_one_mapping_has_is_a_finding_and_not_ready() {
    let db = PgDb::new("f_named");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    // The target snapshot without `customers`.
    let fx = root().join("fixtures/bikeshop");
    let mut snap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.join("drizzle/meta/0001_snapshot.json")).unwrap())
            .unwrap();
    let tables = snap["tables"].as_object_mut().unwrap();
    let key = tables
        .keys()
        .find(|k| k.ends_with("customers"))
        .cloned()
        .unwrap();
    tables.remove(&key);
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, serde_json::to_vec(&snap).unwrap()).unwrap();
    let cfg = dir.path().join("parity.toml");
    let repos = std::fs::read_to_string(fx.join("parity.toml")).unwrap();
    let repos = &repos[repos.find("[[repository]]").unwrap()..];
    // queries = paths in the fixture config are relative to it.
    let repos = repos.replace(
        "queries = \"../../",
        &format!("queries = \"{}/", root().display()),
    );
    std::fs::write(
        &cfg,
        format!(
            "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\nallow_writes = true\n\n\
             [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = \"{}\"\nallow_writes = true\n\n{repos}",
            fx.join("prisma/schema.prisma").display(),
            snapshot.display(),
            url = db.url
        ),
    )
    .unwrap();
    let run = |args: &[&str], out: &str| {
        let o = parity()
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(args)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&o);
        (o.status.code().unwrap_or(-1), stdout, stderr)
    };
    // Only the one-sided table named: nothing else to check → exit 2.
    let (code, _, err) = run(&["check", "--tables", "customers"], "a");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nothing to check") && err.contains("customers"),
        "{err}"
    );
    // Named with another table that pairs: a finding (exit 1).
    let (code, _, err) = run(&["check", "--tables", "customers,bikes"], "b");
    assert_eq!(code, 1, "{err}");
    let rows = csv_rows(&dir.path().join("b/parity.csv"));
    assert!(
        rows.iter()
            .any(|r| r["source_table"] == "customers" && r["status"] == "differs"),
        "{rows:?}"
    );
    // The gate: the repository whose table is one-sided is NOT READY.
    let (code, out, err) = run(
        &[
            "run",
            "--repository",
            "customer",
            "--iterations",
            "3",
            "--warmup",
            "1",
        ],
        "c",
    );
    assert_eq!(code, 2, "only customers in that repository: {out}{err}");
    let (code, out, err) = run(&["run", "--iterations", "3", "--warmup", "1"], "d");
    assert_ne!(code, 0, "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("customer "))
        .unwrap_or_else(|| panic!("{out}{err}"));
    assert!(line.ends_with("NOT READY"), "{line}");
    assert!(line.contains("NOT CHECKED"), "{line}");
}

// ---- 2. read-only -------------------------------------------------------------

/// A queries file whose read operation turns read-only off and updates.
fn hostile_queries(dir: &Path) -> PathBuf {
    let q = dir.join("queries");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(
        q.join("sneaky.toml"),
        r#"name = "sneaky"
repository = "user"
dialect = "postgresql"

[source]
orm = "prisma"
statements = ["SET default_transaction_read_only = off", "UPDATE users SET name = 'pwned' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 10)", "SELECT id FROM users ORDER BY id LIMIT 3"]
params = []

[target]
orm = "drizzle"
statements = ["SET transaction_read_only = off", "UPDATE users SET name = 'pwned2' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 10)", "SELECT id FROM users ORDER BY id LIMIT 3"]
params = []
"#,
    )
    .unwrap();
    q
}

fn count_where(url: &str, sql: &str) -> i64 {
    let (url, sql) = (url.to_string(), sql.to_string());
    block_on(async move {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap();
        let _ = c.close().await;
        n
    })
}

#[test]
fn a_read_operation_cannot_commit_a_write_and_is_an_error() {
    let db = PgDb::new("f_ro");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &db.url, "");
    let q = hostile_queries(dir.path());
    let o = parity()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["timing", "--iterations", "3", "--warmup", "1", "--queries"])
        .arg(&q)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["timing"]["operations"][0]["verdict"], "error");
    assert_eq!(
        count_where(
            &db.url,
            "SELECT count(*) FROM users WHERE name LIKE 'pwned%'"
        ),
        0,
        "a read operation committed a write"
    );
}

// ---- 3. leaks -----------------------------------------------------------------

#[test]
fn explain_files_hold_no_parameter_values() {
    let db = PgDb::new("f_explain");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &db.url, "");
    let o = parity()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args([
            "timing",
            "--iterations",
            "3",
            "--warmup",
            "1",
            "--explain",
            "--operations",
            "find-user-by-email",
            "--queries",
        ])
        .arg(root().join("queries/user"))
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.code() != Some(2), "{out}{err}");
    let emails: Vec<String> = {
        let url = db.url.clone();
        block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let v: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
                .fetch_all(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
            v
        })
    };
    let explains: Vec<PathBuf> = all_files(&dir.path().join("out"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("explain"))
        .collect();
    assert!(!explains.is_empty(), "no explain files: {err}");
    for f in all_files(&dir.path().join("out")) {
        let t = std::fs::read_to_string(&f).unwrap_or_default();
        for e in &emails {
            assert!(!t.contains(e.as_str()), "{} holds {e}", f.display());
        }
    }
}

// ---- 5. timeouts, locks, connections ------------------------------------------

/// Holds `ACCESS EXCLUSIVE` on `table` until dropped.
struct Locker {
    stop: std::sync::mpsc::Sender<()>,
    done: Option<std::thread::JoinHandle<()>>,
}

impl Locker {
    fn hold(url: &str, table: &str) -> Locker {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let (url, table) = (url.to_string(), table.to_string());
        let done = std::thread::spawn(move || {
            block_on(async move {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(&format!(
                    "SET application_name = 'fault-locker'; BEGIN; LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                ready_tx.send(()).unwrap();
                let _ = tokio::task::spawn_blocking(move || rx.recv()).await;
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut c).await;
                let _ = c.close().await;
            })
        });
        ready_rx.recv().unwrap();
        Locker {
            stop: tx,
            done: Some(done),
        }
    }
}

impl Drop for Locker {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(d) = self.done.take() {
            let _ = d.join();
        }
    }
}

fn check_with(cfg: &Path, out: &Path, args: &[&str]) -> (i32, String, String, Duration) {
    let t0 = Instant::now();
    let o = parity()
        .arg("--config")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    let (a, b) = text(&o);
    (o.status.code().unwrap_or(-1), a, b, t0.elapsed())
}

#[test]
fn a_locked_table_is_an_error_row_that_names_the_lock() {
    let db = PgDb::new("f_lock");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &db.url, "[check]\nlock_timeout_seconds = 1\n");
    let _lock = Locker::hold(&db.url, "bikes");
    let out = dir.path().join("out");
    let (code, stdout, err, took) = check_with(&cfg, &out, &["--tables", "bikes,users"]);
    assert_eq!(code, 2, "{stdout}{err}");
    assert!(took < Duration::from_secs(30), "waited {took:?}");
    let rows = csv_rows(&out.join("parity.csv"));
    let bikes = rows.iter().find(|r| r["source_table"] == "bikes").unwrap();
    assert_eq!(bikes["status"], "error");
    assert_eq!(
        rows.iter().find(|r| r["source_table"] == "users").unwrap()["status"],
        "ok",
        "the batch goes on"
    );
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("is locked by another session"), "{report}");
    assert!(report.contains("AccessExclusiveLock"), "{report}");
    assert!(report.contains("fault-locker"), "{report}");
    // `backup` honours the timeouts of a config named with --config.
    let t0 = Instant::now();
    let o = parity()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("backup"))
        .args(["backup", "--source", &db.url, "--target", &db.url])
        .output()
        .unwrap();
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stdout}{err}");
    assert!(t0.elapsed() < Duration::from_secs(30));
    let report = std::fs::read_to_string(dir.path().join("backup/report.json")).unwrap();
    assert!(
        report.contains("is locked by another session") || err.contains("lock timeout"),
        "{err}{report}"
    );
}

#[test]
fn the_configs_statement_timeout_holds_in_check() {
    let db = PgDb::new("f_stmt");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(
        dir.path(),
        &db.url,
        "[check]\nstatement_timeout_seconds = 1\nlock_timeout_seconds = 0\n",
    );
    let _lock = Locker::hold(&db.url, "bikes");
    let out = dir.path().join("out");
    let (code, stdout, err, took) = check_with(&cfg, &out, &["--tables", "bikes"]);
    assert_eq!(code, 2, "{stdout}{err}");
    assert!(took < Duration::from_secs(20), "waited {took:?}");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("statement timeout"), "{report}");
}

#[test]
fn a_stricter_database_statement_timeout_is_kept() {
    let db = PgDb::new("f_role_stmt");
    seed(&db.url, 50, None);
    // The DBA's setting for this database (a role's works the same way).
    crate::support::block_on({
        let name = db.name.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server()))
                .await
                .unwrap();
            sqlx::raw_sql(&format!(
                "ALTER DATABASE \"{name}\" SET statement_timeout = '1s'"
            ))
            .execute(&mut c)
            .await
            .unwrap();
            let _ = c.close().await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(
        dir.path(),
        &db.url,
        "[check]\nstatement_timeout_seconds = 600\nlock_timeout_seconds = 0\n",
    );
    let _lock = Locker::hold(&db.url, "bikes");
    let out = dir.path().join("out");
    let (code, stdout, err, took) = check_with(&cfg, &out, &["--tables", "bikes"]);
    assert_eq!(code, 2, "{stdout}{err}");
    assert!(
        took < Duration::from_secs(20),
        "the 1 s limit held: {took:?}"
    );
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("statement timeout"), "{report}");
}

#[test]
fn connection_errors_say_what_the_server_or_os_said_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A refused port.
    let cfg = fixture_config(dir.path(), "postgres://nobody:pw@127.0.0.1:1/none", "");
    let (code, _, err, took) = check_with(&cfg, &dir.path().join("o1"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot connect to postgres://127.0.0.1:1/none:"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(took < Duration::from_secs(5), "at once, not {took:?}");
    // A role whose connection limit is below the pool size.
    let db = PgDb::new("f_limit");
    seed(&db.url, 20, None);
    let role = format!("parity_t_lim_{}", std::process::id());
    let admin = |sql: String| {
        block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server()))
                .await
                .unwrap();
            let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
            let _ = c.close().await;
        })
    };
    admin(format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CONNECTION LIMIT 2; \
         GRANT ALL ON DATABASE \"{}\" TO {role}",
        db.name
    ));
    db.exec(&format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; GRANT USAGE ON SCHEMA public TO {role}"
    ));
    let server = pg_server();
    let (scheme, rest) = server.split_once("://").unwrap();
    let host = rest.rsplit('@').next().unwrap();
    let url = format!("{scheme}://{role}@{host}/{}", db.name);
    let cfg = fixture_config(dir.path(), &url, "");
    let (code, _, err, took) = check_with(&cfg, &dir.path().join("o2"), &["--jobs", "4"]);
    drop(db);
    admin(format!("DROP ROLE IF EXISTS {role}"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("too many connections for role"), "{err}");
    assert!(took < Duration::from_secs(8), "at once, not {took:?}");
}

// ---- 6. stopping ----------------------------------------------------------------

#[cfg(unix)]
#[test]
fn sigterm_stops_like_ctrl_c_and_marks_every_report_incomplete() {
    let db = PgDb::new("f_term");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    // The lock keeps `bikes` waiting, so the signal lands mid-run.
    let cfg = fixture_config(dir.path(), &db.url, "[check]\nlock_timeout_seconds = 0\n");
    let _lock = Locker::hold(&db.url, "bikes");
    let out = dir.path().join("out");
    for (sig, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "Ctrl-C")] {
        let _ = std::fs::remove_dir_all(&out);
        let child = std::process::Command::new(bin())
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .args(["check", "--tables", "users,bikes,items"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until users is done and bikes is waiting.
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            let done = std::fs::read_to_string(out.join("parity.csv"))
                .map(|t| t.contains("\n,users,") || t.contains("users,users"))
                .unwrap_or(false);
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: a plain kill(2) of our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let o = child.wait_with_output().unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains("incomplete"), "{err}");
        let rows = csv_rows(&out.join("parity.csv"));
        assert!(
            rows.iter().any(|r| r["status"] == "incomplete"),
            "{name}: {rows:?}"
        );
        assert_eq!(
            rows.iter().find(|r| r["source_table"] == "users").unwrap()["status"],
            "ok"
        );
        let junit_or_json = std::fs::read_to_string(out.join("report.json")).unwrap();
        assert!(junit_or_json.contains("\"incomplete\""), "{junit_or_json}");
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("INCOMPLETE"), "{md}");
        assert!(temp_leftovers(&out).is_empty());
    }
}

#[cfg(unix)]
#[test]
fn sigterm_during_run_gives_an_error_testcase_in_junit() {
    let db = PgDb::new("f_term_run");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(
        dir.path(),
        &db.url,
        "[check]\nlock_timeout_seconds = 0\n\n[[repository]]\nname = \"bike\"\ntables = [\"bikes\"]\n",
    );
    let _lock = Locker::hold(&db.url, "bikes");
    let out = dir.path().join("out");
    let child = std::process::Command::new(bin())
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .args(["run", "--repository", "bike"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !out.join("parity.csv").exists() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: a plain kill(2) of our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let o = child.wait_with_output().unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let csv = csv_rows(&out.join("parity.csv"));
    assert!(csv.iter().any(|r| r["status"] == "incomplete"), "{csv:?}");
    let x = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(x.contains("<error") && x.contains("incomplete"), "{x}");
}

// ---- no temp file survives ------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_temp_file() {
    let db = PgDb::new("f_full");
    seed(&db.url, 300, None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // RLIMIT_FSIZE stands in for a full disk: writes past 2 KiB fail (EFBIG).
    let script = format!(
        "trap '' XFSZ; ulimit -f 4; exec \"{}\" manifest --url \"{}\" --manifest \"{}\" --row-hashes",
        bin().display(),
        db.url,
        out.join("m.parity").display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(temp_leftovers(&out).is_empty(), "{:?}", all_files(&out));
    assert!(!out.join("m.parity").exists());
    // Reports too: the check's CSVs outgrow 2 KiB.
    let cfg = fixture_config(dir.path(), &db.url, "");
    let script = format!(
        "trap '' XFSZ; ulimit -f 2; exec \"{}\" --config \"{}\" --out \"{}\" check",
        bin().display(),
        cfg.display(),
        out.display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(temp_leftovers(&out).is_empty(), "{:?}", all_files(&out));
}

// ---- 7. live against live --------------------------------------------------------

#[test]
fn backup_between_live_databases_applies_the_sequence_rule() {
    let a = PgDb::new("f_seq_a");
    seed(&a.url, 30, None);
    let b = PgDb::new("f_seq_b");
    // A copy of a; then b's sequence moves on (ahead), as a live database's does.
    block_on({
        let (an, bn) = (a.name.clone(), b.name.clone());
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server()))
                .await
                .unwrap();
            sqlx::raw_sql(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{an}'"
            ))
            .execute(&mut c)
            .await
            .unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE \"{bn}\" TEMPLATE \"{an}\""))
                .execute(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
        }
    });
    let seq = "SELECT nextval(pg_get_serial_sequence('transactions', 'id'))";
    b.exec(seq);
    let dir = tempfile::tempdir().unwrap();
    let backup = |src: &str, dst: &str, strict: bool, out: &str| {
        let mut c = parity();
        c.arg("--out")
            .arg(dir.path().join(out))
            .args(["backup", "--source", src, "--target", dst]);
        if strict {
            c.arg("--strict-sequences");
        }
        let o = c.output().unwrap();
        let (s, e) = text(&o);
        (o.status.code().unwrap_or(-1), format!("{s}{e}"))
    };
    let (code, all) = backup(&a.url, &b.url, false, "ahead");
    assert_eq!(code, 0, "target ahead is not a finding: {all}");
    let (code, all) = backup(&a.url, &b.url, true, "strict");
    assert_eq!(code, 1, "--strict-sequences: {all}");
    let (code, all) = backup(&b.url, &a.url, false, "behind");
    assert_eq!(code, 1, "target behind is a finding: {all}");
    // One database against itself.
    let (code, all) = backup(&a.url, &a.url, false, "self");
    assert_eq!(code, 0, "{all}");
}

// ---- 8. smaller things ------------------------------------------------------------

#[test]
fn a_table_name_with_a_pipe_does_not_break_summary_md() {
    let a = PgDb::new("f_pipe").create();
    a.exec("CREATE TABLE \"we|ird\" (id int PRIMARY KEY, v text); INSERT INTO \"we|ird\" VALUES (1, 'x'), (2, 'y');");
    let b = PgDb::new("f_pipe2").create();
    b.exec("CREATE TABLE \"we|ird\" (id int PRIMARY KEY, v text); INSERT INTO \"we|ird\" VALUES (1, 'x'), (2, 'z');");
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .arg("--out")
        .arg(dir.path())
        .args(["backup", "--source", &a.url, "--target", &b.url])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let row = md
        .lines()
        .find(|l| l.contains("ird") && l.starts_with('|') && l.contains("differs"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains("we\\|ird"), "{row}");
    // Unescaped pipes only as cell separators: as many as the table's
    // header row has.
    let header = md
        .lines()
        .find(|l| l.starts_with("| table | source rows"))
        .unwrap_or_else(|| panic!("{md}"));
    let bars = row.replace("\\|", "").matches('|').count();
    assert_eq!(bars, header.matches('|').count(), "{row}");
}

#[test]
fn orm_catalog_in_check_says_what_to_do_instead() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("parity.toml");
    std::fs::write(
        &p,
        "[source]\norm = \"catalog\"\nurl = \"postgres://x@127.0.0.1:1/db\"\n[target]\norm = \"catalog\"\nurl = \"postgres://x@127.0.0.1:1/db\"\n",
    )
    .unwrap();
    let o = parity()
        .arg("--config")
        .arg(&p)
        .arg("check")
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("parity backup --source URL --target URL"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_during_timing_marks_junit_and_json_incomplete() {
    let db = PgDb::new("f_term_timing");
    seed(&db.url, 50, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &db.url, "[check]\nlock_timeout_seconds = 0\n");
    // params_from reads users: the lock keeps the operation waiting.
    let _lock = Locker::hold(&db.url, "users");
    let out = dir.path().join("out");
    let child = std::process::Command::new(bin())
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .args(["timing", "--queries"])
        .arg(root().join("queries/user"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !out.join("junit.xml").exists() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: a plain kill(2) of our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let o = child.wait_with_output().unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<error") && junit.contains("incomplete"),
        "{junit}"
    );
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(json.contains("\"incomplete\""), "{json}");
    assert!(temp_leftovers(&out).is_empty());
}
