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
use std::time::{Duration, Instant};

use crate::support::{
    Backend, Parity, Run, TempDb, all_files, assert_contains, block_on, config, root,
    temp_leftovers,
};

pub fn bin() -> PathBuf {
    match std::env::var_os("PARITY_FAULTS_BIN") {
        Some(p) => PathBuf::from(p),
        None => crate::support::bin(),
    }
}

pub fn parity() -> Parity {
    let mut c = Parity::at(&bin());
    c.env("PARITY_CONNECT_TIMEOUT", "3");
    c
}

/// The fixture's PostgreSQL config over `url`, plus `extra`.
pub fn fixture_config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    config::fixture_pair(dir, Backend::Postgres, url, extra)
}

/// A database seeded with `rows` and the fixture's config over it.
fn seeded(tag: &str, rows: u64, extra: &str) -> (TempDb, tempfile::TempDir, PathBuf) {
    let (db, _) = TempDb::seeded(Backend::Postgres, tag, rows, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &db.url, extra);
    (db, dir, cfg)
}

fn run_with(cfg: &Path, out: &Path, args: &str) -> Run {
    parity().config(cfg).out(out).words(args).run()
}

// ---- 1. false green -------------------------------------------------------

/// A snapshot with `tables: {}`.
fn empty_snapshot(dir: &Path) -> PathBuf {
    let mut snap: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&config::drizzle_files(Backend::Postgres)[0]).unwrap(),
    )
    .unwrap();
    snap["tables"] = serde_json::json!({});
    snap["enums"] = serde_json::json!({});
    config::file(
        dir,
        "empty_snapshot.json",
        &serde_json::to_string_pretty(&snap).unwrap(),
    )
}

#[test]
fn checking_zero_tables_is_an_error_and_schema_finds_the_unpaired_tables() {
    let (db, dir, _) = seeded("f_zero", 50, "");
    let no_models = config::file(
        dir.path(),
        "empty.prisma",
        "datasource db {\n  provider = \"postgresql\"\n}\n\ngenerator client {\n  provider = \"prisma-client\"\n  output = \"./gen\"\n}\n",
    );
    let pg = Backend::Postgres;
    let configs = [
        (
            config::side("prisma", "prisma", &db.url, &[no_models]),
            config::drizzle(pg, &db.url),
        ),
        (
            config::prisma(pg, &db.url),
            config::side("drizzle", "drizzle", &db.url, &[empty_snapshot(dir.path())]),
        ),
    ];
    for (source, target) in configs {
        let c = config::write(dir.path(), &source, &target, "");
        let o = run_with(&c, &dir.path().join("out"), "check");
        assert_eq!(o.code, 2, "check of nothing: {}", o.stderr);
        assert!(o.stderr.contains("nothing to check"), "{}", o.stderr);
        // `schema` reads no data: the unpaired tables are findings (exit 1).
        let o = run_with(&c, &dir.path().join("schema"), "schema");
        o.expect(1);
        let report = o.json("schema.json");
        let errors = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error");
        let codes: Vec<&str> = errors.filter_map(|f| f["code"].as_str()).collect();
        assert!(
            codes.iter().any(|c| c.starts_with("TABLE_ONLY_IN_")),
            "{codes:?}"
        );
    }
}

#[test]
fn a_named_table_only_one_mapping_has_is_a_finding_and_not_ready() {
    let (db, dir, _) = seeded("f_named", 50, "");
    // The target snapshot without `customers`.
    let snapshot = &config::drizzle_files(Backend::Postgres)[0];
    let mut snap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snapshot).unwrap()).unwrap();
    let tables = snap["tables"].as_object_mut().unwrap();
    let key = tables
        .keys()
        .find(|k| k.ends_with("customers"))
        .cloned()
        .unwrap();
    tables.remove(&key);
    let snapshot = config::file(dir.path(), "snapshot.json", &snap.to_string());
    let target = config::side("drizzle", "drizzle", &db.url, &[snapshot]) + config::WRITES;
    let source = config::prisma(Backend::Postgres, &db.url) + config::WRITES;
    let cfg = config::write(dir.path(), &source, &target, &config::repositories());
    let run = |args: &str, out: &str| run_with(&cfg, &dir.path().join(out), args);
    // Only the one-sided table named: nothing else to check → exit 2.
    let o = run("check --tables customers", "a");
    o.expect(2);
    assert!(
        o.stderr.contains("nothing to check") && o.stderr.contains("customers"),
        "{}",
        o.stderr
    );
    // Named with another table that pairs: a finding (exit 1).
    let o = run("check --tables customers,bikes", "b");
    o.expect(1);
    o.expect_table("customers", &[("status", "differs")]);
    // The gate: the repository whose table is one-sided is NOT READY.
    let o = run("run --repository customer --iterations 3 --warmup 1", "c");
    assert_eq!(
        o.code, 2,
        "only customers in that repository: {}{}",
        o.stdout, o.stderr
    );
    let o = run("run --iterations 3 --warmup 1", "d");
    assert_ne!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let line = o
        .stdout
        .lines()
        .find(|l| l.starts_with("customer "))
        .unwrap_or_else(|| panic!("{}{}", o.stdout, o.stderr));
    assert!(line.ends_with("NOT READY"), "{line}");
    assert!(line.contains("NOT CHECKED"), "{line}");
}

// ---- 2. read-only -------------------------------------------------------------

/// A queries file whose read operation turns read-only off and updates.
const SNEAKY: &str = r#"name = "sneaky"
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
"#;

#[test]
fn a_read_operation_cannot_commit_a_write_and_is_an_error() {
    let (db, dir, cfg) = seeded("f_ro", 50, "");
    let q = dir.path().join("queries");
    config::file(&q, "sneaky.toml", SNEAKY);
    let o = parity()
        .config(&cfg)
        .out(dir.path().join("out"))
        .words("timing --iterations 3 --warmup 1 --queries")
        .arg(&q)
        .run();
    o.expect(2);
    assert_eq!(o.report()["timing"]["operations"][0]["verdict"], "error");
    let pwned = db.one("SELECT count(*)::text FROM users WHERE name LIKE 'pwned%'");
    assert_eq!(
        pwned.as_deref(),
        Some("0"),
        "a read operation committed a write"
    );
}

// ---- 3. leaks -----------------------------------------------------------------

#[test]
fn explain_files_hold_no_parameter_values() {
    let (db, dir, cfg) = seeded("f_explain", 50, "");
    let out = dir.path().join("out");
    let o = parity()
        .config(&cfg)
        .out(&out)
        .words(
            "timing --iterations 3 --warmup 1 --explain --operations find-user-by-email --queries",
        )
        .arg(root().join("queries/user"))
        .run();
    assert!(o.code != 2, "{}{}", o.stdout, o.stderr);
    let emails = db.column("SELECT email FROM users");
    let files = all_files(&out);
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().contains("explain")),
        "no explain files: {}",
        o.stderr
    );
    for f in files {
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
        use sqlx::Connection;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let sql = format!(
            "SET application_name = 'fault-locker'; BEGIN; LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE"
        );
        let url = url.to_string();
        let done = std::thread::spawn(move || {
            block_on(async move {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
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

#[test]
fn a_locked_table_is_an_error_row_that_names_the_lock() {
    let (db, dir, cfg) = seeded("f_lock", 50, "[check]\nlock_timeout_seconds = 1\n");
    let _lock = Locker::hold(&db.url, "bikes");
    let o = run_with(&cfg, &dir.path().join("out"), "check --tables bikes,users");
    o.expect(2);
    assert!(o.took < Duration::from_secs(30), "waited {:?}", o.took);
    o.expect_table("bikes", &[("status", "error")]);
    // The batch goes on.
    o.expect_table("users", &[("status", "ok")]);
    let report = o.text("report.json");
    for says in [
        "is locked by another session",
        "AccessExclusiveLock",
        "fault-locker",
    ] {
        assert!(report.contains(says), "{report}");
    }
    // `backup` honours the timeouts of a config named with --config.
    let o = parity()
        .config(&cfg)
        .out(dir.path().join("backup"))
        .args(["backup", "--source", &db.url, "--target", &db.url])
        .run();
    o.expect(2);
    assert!(o.took < Duration::from_secs(30));
    let report = o.text("report.json");
    assert!(
        report.contains("is locked by another session") || o.stderr.contains("lock timeout"),
        "{}{report}",
        o.stderr
    );
}

/// `check --tables bikes` while `bikes` is locked, with `settings`: exit 2
/// within 20 s, for a statement timeout.
fn a_statement_timeout_holds(db: &TempDb, settings: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(
        dir.path(),
        &db.url,
        &format!("[check]\n{settings}lock_timeout_seconds = 0\n"),
    );
    let _lock = Locker::hold(&db.url, "bikes");
    let o = run_with(&cfg, &dir.path().join("out"), "check --tables bikes");
    o.expect(2);
    assert!(
        o.took < Duration::from_secs(20),
        "the limit held: {:?}",
        o.took
    );
    let report = o.text("report.json");
    assert!(report.contains("statement timeout"), "{report}");
}

#[test]
fn the_configs_statement_timeout_holds_in_check() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "f_stmt", 50, None);
    a_statement_timeout_holds(&db, "statement_timeout_seconds = 1\n");
}

#[test]
fn a_stricter_database_statement_timeout_is_kept() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "f_role_stmt", 50, None);
    // The DBA's setting for this database (a role's works the same way):
    // 1 s, under the config's 600 s.
    Backend::Postgres.admin(&format!(
        "ALTER DATABASE \"{}\" SET statement_timeout = '1s'",
        db.name
    ));
    a_statement_timeout_holds(&db, "statement_timeout_seconds = 600\n");
}

#[test]
fn connection_errors_say_what_the_server_or_os_said_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A refused port.
    let cfg = fixture_config(dir.path(), "postgres://nobody:pw@127.0.0.1:1/none", "");
    let o = run_with(&cfg, &dir.path().join("o1"), "check");
    o.expect(2);
    let err = &o.stderr;
    assert!(
        err.contains("cannot connect to postgres://127.0.0.1:1/none:"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(o.took < Duration::from_secs(5), "at once, not {:?}", o.took);
    // A role whose connection limit is below the pool size.
    let (db, _) = TempDb::seeded(Backend::Postgres, "f_limit", 20, None);
    let role = format!("parity_t_lim_{}", std::process::id());
    let pg = Backend::Postgres;
    pg.admin(&format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CONNECTION LIMIT 2; GRANT ALL ON DATABASE \"{}\" TO {role}", db.name));
    db.exec(&format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; GRANT USAGE ON SCHEMA public TO {role}"));
    let server = pg.server();
    let (scheme, rest) = server.split_once("://").unwrap();
    let host = rest.rsplit('@').next().unwrap();
    let cfg = fixture_config(
        dir.path(),
        &format!("{scheme}://{role}@{host}/{}", db.name),
        "",
    );
    let o = run_with(&cfg, &dir.path().join("o2"), "check --jobs 4");
    drop(db);
    pg.admin(&format!("DROP ROLE IF EXISTS {role}"));
    o.expect(2);
    assert!(
        o.stderr.contains("too many connections for role"),
        "{}",
        o.stderr
    );
    assert!(o.took < Duration::from_secs(8), "at once, not {:?}", o.took);
}

// ---- 6. stopping ----------------------------------------------------------------

/// How a stopping test stops: the signal, and when to send it.
#[cfg(unix)]
struct Stop<'a> {
    signal: i32,
    /// Sent once this holds of the report folder (30 s at most)…
    ready: &'a dyn Fn(&Path) -> bool,
    /// …and this much later.
    settle_ms: u64,
}

/// A seeded database with `table` locked, so a run waits on it; `parity
/// ARGS` started on it (config: `[check] lock_timeout_seconds = 0` and
/// `extra`) and stopped as `stop` says; the run and its folder.
#[cfg(unix)]
fn interrupted(table: &str, extra: &str, args: &str, stop: Stop) -> (Run, tempfile::TempDir) {
    let (db, dir, cfg) = seeded(
        "f_term",
        50,
        &format!("[check]\nlock_timeout_seconds = 0\n{extra}"),
    );
    let _lock = Locker::hold(&db.url, table);
    let out = dir.path().join("out");
    let child = parity().config(&cfg).out(&out).words(args).spawn();
    let t0 = Instant::now();
    while !(stop.ready)(&out) && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(stop.settle_ms));
    // SAFETY: a plain kill(2) of our own child.
    unsafe {
        libc::kill(child.id() as i32, stop.signal);
    }
    let run = Run::from_output(child.wait_with_output().unwrap(), &out, t0);
    assert!(temp_leftovers(&out).is_empty());
    (run, dir)
}

#[cfg(unix)]
fn exists(file: &'static str) -> impl Fn(&Path) -> bool {
    move |out| out.join(file).exists()
}

#[cfg(unix)]
#[test]
fn sigterm_stops_like_ctrl_c_and_marks_every_report_incomplete() {
    // The lock keeps `bikes` waiting, so the signal lands mid-run: once
    // users is done and bikes is waiting.
    let users_done = |out: &Path| {
        let csv = std::fs::read_to_string(out.join("parity.csv")).unwrap_or_default();
        csv.contains("\n,users,") || csv.contains("users,users")
    };
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "Ctrl-C")] {
        let stop = Stop {
            signal,
            ready: &users_done,
            settle_ms: 300,
        };
        let (o, _dir) = interrupted("bikes", "", "check --tables users,bikes,items", stop);
        assert_eq!(o.code, 2, "{name}: {}", o.stderr);
        assert_contains(&o.stderr, &[name, "incomplete"]);
        o.expect_row("parity.csv", &[("status", "incomplete")]);
        o.expect_table("users", &[("status", "ok")]);
        o.expect_in("report.json", &["\"incomplete\""]);
        o.expect_in("summary.md", &["INCOMPLETE"]);
    }
}

#[cfg(unix)]
#[test]
fn sigterm_during_run_gives_an_error_testcase_in_junit() {
    let bike = "\n[[repository]]\nname = \"bike\"\ntables = [\"bikes\"]\n";
    let stop = Stop {
        signal: libc::SIGTERM,
        ready: &exists("parity.csv"),
        settle_ms: 500,
    };
    let (o, _dir) = interrupted("bikes", bike, "run --repository bike", stop);
    o.expect(2);
    o.expect_row("parity.csv", &[("status", "incomplete")]);
    o.expect_in("junit.xml", &["<error", "incomplete"]);
}

#[cfg(unix)]
#[test]
fn sigterm_during_timing_marks_junit_and_json_incomplete() {
    // params_from reads users: the lock keeps the operation waiting.
    let stop = Stop {
        signal: libc::SIGTERM,
        ready: &exists("junit.xml"),
        settle_ms: 500,
    };
    let args = format!("timing --queries {}", root().join("queries/user").display());
    let (o, _dir) = interrupted("users", "", &args, stop);
    o.expect(2);
    o.expect_in("junit.xml", &["<error", "incomplete"]);
    o.expect_in("report.json", &["\"incomplete\""]);
}

// ---- no temp file survives ------------------------------------------------------

/// `bash -c "trap '' XFSZ; ulimit -f BLOCKS; exec parity ARGS"` (ARGS
/// split at spaces): RLIMIT_FSIZE stands in for a full disk (writes past
/// it fail, EFBIG); no temp file may be left in `out`.
#[cfg(unix)]
fn leaves_no_temp_file(blocks: u32, args: &str, out: &Path) {
    let quoted: Vec<String> = args.split(' ').map(|a| format!("\"{a}\"")).collect();
    let exec = format!("exec \"{}\" {}", bin().display(), quoted.join(" "));
    let mut bash = std::process::Command::new("bash");
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; {exec}");
    let o = bash
        .arg("-c")
        .arg(&script)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run::from_output(o, out, Instant::now()).expect(2);
    assert!(temp_leftovers(out).is_empty(), "{:?}", all_files(out));
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_temp_file() {
    let (db, dir, cfg) = seeded("f_full", 300, "");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let m = out.join("m.parity");
    let manifest = format!(
        "manifest --url {} --manifest {} --row-hashes",
        db.url,
        m.display()
    );
    leaves_no_temp_file(4, &manifest, &out);
    assert!(!m.exists());
    // Reports too: the check's CSVs outgrow 2 KiB.
    leaves_no_temp_file(
        2,
        &format!("--config {} --out {} check", cfg.display(), out.display()),
        &out,
    );
}

// ---- 7. live against live --------------------------------------------------------

#[test]
fn backup_between_live_databases_applies_the_sequence_rule() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "f_seq_a", 30, None);
    // A copy of a; then b's sequence moves on (ahead), as a live database's does.
    let b = TempDb::copy_of(&a, "f_seq_b");
    b.exec("SELECT nextval(pg_get_serial_sequence('transactions', 'id'))");
    let dir = tempfile::tempdir().unwrap();
    let backup = |src: &str, dst: &str, extra: &[&str], out: &str| {
        let o = parity()
            .out(dir.path().join(out))
            .args(["backup", "--source", src, "--target", dst])
            .args(extra)
            .run();
        (o.code, format!("{}{}", o.stdout, o.stderr))
    };
    let (code, all) = backup(&a.url, &b.url, &[], "ahead");
    assert_eq!(code, 0, "target ahead is not a finding: {all}");
    let (code, all) = backup(&a.url, &b.url, &["--strict-sequences"], "strict");
    assert_eq!(code, 1, "--strict-sequences: {all}");
    let (code, all) = backup(&b.url, &a.url, &[], "behind");
    assert_eq!(code, 1, "target behind is a finding: {all}");
    // One database against itself.
    let (code, all) = backup(&a.url, &a.url, &[], "self");
    assert_eq!(code, 0, "{all}");
}

// ---- 8. smaller things ------------------------------------------------------------

#[test]
fn a_table_name_with_a_pipe_does_not_break_summary_md() {
    let [a, b] = ["x", "z"].map(|v| {
        let db = TempDb::pg("f_pipe").create();
        db.exec(&format!("CREATE TABLE \"we|ird\" (id int PRIMARY KEY, v text); INSERT INTO \"we|ird\" VALUES (1, 'x'), (2, '{v}');"));
        db
    });
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .out(dir.path())
        .args(["backup", "--source", &a.url, "--target", &b.url])
        .run();
    o.expect(1);
    let md = o.text("summary.md");
    let line = |pred: &dyn Fn(&str) -> bool| {
        md.lines()
            .find(|l| pred(l))
            .unwrap_or_else(|| panic!("{md}"))
    };
    let row = line(&|l| l.contains("ird") && l.starts_with('|') && l.contains("differs"));
    assert!(row.contains("we\\|ird"), "{row}");
    // Unescaped pipes only as cell separators: as many as the table's
    // header row has.
    let header = line(&|l| l.starts_with("| table | source rows"));
    let bars = row.replace("\\|", "").matches('|').count();
    assert_eq!(bars, header.matches('|').count(), "{row}");
}

#[test]
fn orm_catalog_in_check_says_what_to_do_instead() {
    let dir = tempfile::tempdir().unwrap();
    let side = "orm = \"catalog\"\nurl = \"postgres://x@127.0.0.1:1/db\"\n";
    let p = config::write(dir.path(), side, side, "");
    let o = parity().config(&p).arg("check").run();
    o.expect(2);
    assert_eq!(o.stderr.trim().lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("parity backup --source URL --target URL"),
        "{}",
        o.stderr
    );
}
