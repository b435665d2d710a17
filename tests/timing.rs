//! `parity timing` end to end (issue 5): the real binary and the shipped
//! `queries/` against real PostgreSQL and SQLite databases that each test
//! creates and drops. Iterations are kept small: these tests check
//! verdicts and reports, not speed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use serde_json::Value;
use sqlx::{Connection, Row};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pg_server() -> String {
    let base = std::env::var("PARITY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => base,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A PostgreSQL database that exists for one test (`parity seed` creates it).
struct PgDb {
    name: String,
    url: String,
}

impl PgDb {
    fn seeded(tag: &str, rows: u64) -> PgDb {
        let name = format!(
            "parity_t_timing_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let url = format!("{}/{name}", pg_server());
        let db = PgDb { name, url };
        seed(&db.url, rows);
        db
    }

    /// Row count and a content hash per table; sequences are not tables, so
    /// a rolled-back insert that advanced one does not show.
    fn snapshot(&self) -> BTreeMap<String, (i64, String)> {
        let url = self.url.clone();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            let mut out = BTreeMap::new();
            for t in tables {
                let row = sqlx::query(&format!(
                    "SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM \"{t}\" x"
                ))
                .fetch_one(&mut c)
                .await
                .unwrap();
                out.insert(t, (row.get::<i64, _>(0), row.get::<String, _>(1)));
            }
            out
        })
    }

    fn query_strings(&self, sql: &str) -> Vec<String> {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(&sql).fetch_all(&mut c).await.unwrap()
        })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        block_on(async move {
            if let Ok(mut c) =
                sqlx::PgConnection::connect(&format!("{}/postgres", pg_server())).await
            {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        });
    }
}

fn parity() -> Command {
    let mut c = Command::cargo_bin("parity").unwrap();
    c.env_remove("PARITY_CONFIG")
        .env_remove("PARITY_TEST_CLOCK_STEP_NS")
        .env("NO_COLOR", "1");
    c
}

fn seed(url: &str, rows: u64) {
    let out = parity()
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
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixture's two mappings over one database.
fn write_config(dir: &Path, url: &str, sqlite: bool, allow_writes: bool) -> PathBuf {
    write_config2(dir, url, url, sqlite, allow_writes)
}

fn write_config2(
    dir: &Path,
    url: &str,
    target_url: &str,
    sqlite: bool,
    allow_writes: bool,
) -> PathBuf {
    let fx = root().join("fixtures/bikeshop");
    let (prisma, drizzle) = if sqlite {
        (
            fx.join("sqlite/prisma/schema.prisma"),
            format!(
                "[\"{}\", \"{}\"]",
                fx.join("sqlite/drizzle/meta/0001_snapshot.json").display(),
                fx.join("sqlite/drizzle/mapping.json").display()
            ),
        )
    } else {
        (
            fx.join("prisma/schema.prisma"),
            format!(
                "[\"{}\", \"{}\"]",
                fx.join("drizzle/meta/0001_snapshot.json").display(),
                fx.join("drizzle/mapping.json").display()
            ),
        )
    };
    let text = format!(
        "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\nallow_writes = {allow_writes}\n\n\
         [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{target_url}\"\nmapping = {drizzle}\nallow_writes = {allow_writes}\n",
        prisma.display()
    );
    let p = dir.join("parity.toml");
    std::fs::write(&p, text).unwrap();
    p
}

struct Run {
    code: i32,
    report: Value,
    stderr: String,
    stdout: String,
}

impl Run {
    fn op(&self, name: &str) -> &Value {
        self.report["timing"]["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["operation"] == name)
            .unwrap_or_else(|| panic!("no operation {name}: {}", self.stdout))
    }
}

fn timing(config: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = parity();
    cmd.arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("timing")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    let report = std::fs::read(out.join("report.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    Run {
        code: o.status.code().unwrap_or(-1),
        report,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// A copy of one shipped operation file, edited, alone in a folder.
fn edited_op(dir: &Path, shipped: &str, edit: &dyn Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("queries").join(shipped)).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing in {shipped}");
    let q = dir.join("queries");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join(Path::new(shipped).file_name().unwrap()), edited).unwrap();
    q
}

/// Checks well-formedness (every tag closed in order) and returns each
/// element's name with its attributes, in document order.
fn parse_xml(x: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = x;
    while let Some(i) = rest.find('<') {
        assert!(!rest[..i].contains('>'), "stray '>' in text");
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().unwrap().to_string();
        let mut attrs = BTreeMap::new();
        let mut a = &tag[name.len()..];
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq].trim().to_string();
            let close = a[eq + 2..].find('"').expect("unclosed attribute") + eq + 2;
            let val = a[eq + 2..close].to_string();
            assert!(!val.contains('<'), "raw '<' in attribute {key}");
            attrs.insert(key, val);
            a = &a[close + 1..];
        }
        if !self_closing {
            stack.push(name.clone());
        }
        out.push((name, attrs));
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    out
}

#[test]
fn captured_pairs_return_the_same_rows_on_postgres() {
    let db = PgDb::seeded("pairs", 800);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, true);
    let queries = root().join("queries");
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            queries.to_str().unwrap(),
            "--iterations",
            "6",
            "--warmup",
            "1",
        ],
        &[],
    );
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    let ops = r.report["timing"]["operations"].as_array().unwrap();
    for name in [
        "find-user-by-email",
        "list-customer-bikes",
        "list-customer-bikes-with-repairs",
        "create-repair-with-items",
        "customer-transaction-total",
        "monthly-revenue-report",
    ] {
        let op = r.op(name);
        assert!(
            op["verdict"] != "mismatch" && op["verdict"] != "error",
            "{name}: {} {}",
            op["verdict"],
            serde_json::to_string_pretty(&op["mismatch"]).unwrap() + &op["error"].to_string()
        );
        assert!(op["parameter_sets"].as_u64().unwrap() >= 2, "{name}");
        assert_eq!(op["source"]["n"], 6, "{name}");
    }
    assert_eq!(ops.len(), 6);
    // Exact result matches hash alike on both sides (no tolerance involved).
    for name in [
        "find-user-by-email",
        "list-customer-bikes",
        "customer-transaction-total",
    ] {
        let op = r.op(name);
        assert_eq!(
            op["source"]["result_hash"], op["target"]["result_hash"],
            "{name}"
        );
    }
    // Prisma's include is two round trips, Drizzle's relational query one.
    let with = r.op("list-customer-bikes-with-repairs");
    assert_eq!(with["source"]["round_trips"], 2.0);
    assert_eq!(with["target"]["round_trips"], 1.0);
    // Exit code agrees with the verdicts.
    let fails = ops
        .iter()
        .any(|o| o["verdict"] == "slower" || o["verdict"] == "mismatch");
    assert_eq!(r.code, i32::from(fails));
    // The report files are there, with the documented CSV headers.
    let out = dir.path().join("out");
    let csv = std::fs::read_to_string(out.join("timing.csv")).unwrap();
    assert!(csv.starts_with("repository,operation,side,n,min_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,mean_ms,stddev_ms,rows,round_trips,result_hash,blocks,block_p50_min_ms,block_p50_max_ms\n"));
    assert_eq!(csv.lines().count(), 1 + 2 * 6);
    let cmp = std::fs::read_to_string(out.join("timing-compare.csv")).unwrap();
    assert!(cmp.starts_with("repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n"));
    // Ten blocks by default, at most one per iteration: six blocks of one
    // iteration here, their spread in the report.
    let with = r.op("list-customer-bikes-with-repairs");
    assert_eq!(with["comparison"]["blocks"], 6, "{with}");
    assert_eq!(
        with["comparison"]["block_ratios"].as_array().unwrap().len(),
        6
    );
    assert_eq!(with["source"]["block_p50_ms"].as_array().unwrap().len(), 6);
    let lo = with["comparison"]["block_ratio_min"].as_f64().unwrap();
    let hi = with["comparison"]["block_ratio_max"].as_f64().unwrap();
    assert!(0.0 < lo && lo <= hi, "{with}");
    assert_eq!(r.report["timing"]["blocks"], 6);
    assert!(
        std::fs::read_to_string(out.join("summary.md"))
            .unwrap()
            .contains("## Query timing")
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg class=\"hist\"").count(), 6);
}

#[test]
fn source_and_target_on_separate_databases() {
    // Two databases seeded alike: the Prisma side reads one, the Drizzle
    // side the other, each with its own sessions.
    let a = PgDb::seeded("sep_a", 300);
    let b = PgDb::seeded("sep_b", 300);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config2(dir.path(), &a.url, &b.url, false, false);
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            root().join("queries").to_str().unwrap(),
            "--operations",
            "find-user-by-email,list-customer-bikes-with-repairs",
            "--iterations",
            "4",
            "--warmup",
            "1",
            "--concurrency",
            "2",
        ],
        &[],
    );
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    for name in ["find-user-by-email", "list-customer-bikes-with-repairs"] {
        let op = r.op(name);
        assert!(
            op["verdict"] != "mismatch" && op["verdict"] != "error",
            "{op}"
        );
        assert_eq!(op["target"]["n"], 4);
    }
}

#[test]
fn a_missing_where_term_is_a_mismatch_and_junit_says_so() {
    let db = PgDb::seeded("where", 800);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    // The target forgets the upper bound of the date range.
    let q = edited_op(
        dir.path(),
        "transaction/monthly-revenue-report.toml",
        &|t| {
            t.replace(r#" and \"transactions\".\"occurred_at\" < $2)"#, ")")
                .rsplit_once("params = [\"from_ts\", \"to_ts\"]")
                .map(|(a, b)| format!("{a}params = [\"from_ts\"]{b}"))
                .unwrap()
        },
    );
    let out = dir.path().join("out");
    let r = timing(
        &config,
        &out,
        &[
            "--queries",
            q.to_str().unwrap(),
            "--iterations",
            "4",
            "--warmup",
            "0",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let op = r.op("monthly-revenue-report");
    assert_eq!(op["verdict"], "mismatch", "{op}");
    let m = &op["mismatch"];
    assert!(m["target_rows"].as_u64() > m["source_rows"].as_u64(), "{m}");
    assert!(!m["first_keys"].as_array().unwrap().is_empty(), "{m}");
    assert!(r.stdout.contains("mismatch"), "{}", r.stdout);

    let x = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let elems = parse_xml(&x);
    let (_, root_attrs) = &elems[0];
    assert_eq!(elems[0].0, "testsuites");
    assert_eq!(root_attrs["tests"], "1");
    assert_eq!(root_attrs["failures"], "1");
    assert_eq!(root_attrs["errors"], "0");
    let suites: Vec<_> = elems.iter().filter(|(n, _)| n == "testsuite").collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].1["name"], "transaction");
    assert_eq!(suites[0].1["failures"], "1");
    let failure = elems
        .iter()
        .find(|(n, _)| n == "failure")
        .expect("a failure");
    assert_eq!(failure.1["type"], "mismatch");
    assert!(
        failure.1["message"].contains("120 from target")
            || failure.1["message"].contains("from target"),
        "{:?}",
        failure.1
    );
    assert!(x.contains("first differing keys"), "{x}");
}

#[test]
fn a_target_slowed_by_pg_sleep_is_slower() {
    let db = PgDb::seeded("sleep", 300);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    let q = edited_op(dir.path(), "user/find-user-by-email.toml", &|t| {
        t.replace(
            r#"where \"users\".\"email\" = $1 limit $2"#,
            r#"where \"users\".\"email\" = $1 and pg_sleep(0.02)::text = '' limit $2"#,
        )
    });
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            q.to_str().unwrap(),
            "--iterations",
            "12",
            "--warmup",
            "1",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let op = r.op("find-user-by-email");
    assert_eq!(op["verdict"], "slower", "{op}");
    assert!(op["comparison"]["ci_low"].as_f64().unwrap() > 1.1);
    assert!(op["target"]["p50_ms"].as_f64().unwrap() >= 20.0);
}

#[test]
fn write_operations_leave_the_database_unchanged() {
    let db = PgDb::seeded("write", 600);
    let before = db.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, true);
    let out = dir.path().join("out");
    let r = timing(
        &config,
        &out,
        &[
            "--queries",
            root().join("queries").to_str().unwrap(),
            "--operations",
            "create-repair-with-items",
            "--iterations",
            "10",
            "--warmup",
            "1",
            "--concurrency",
            "2",
            "--explain",
        ],
        &[],
    );
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    let op = r.op("create-repair-with-items");
    assert!(
        op["verdict"] != "error" && op["verdict"] != "mismatch",
        "{op}"
    );
    // Prisma's nested create is 9 statements, Drizzle's transaction 5.
    assert_eq!(op["source"]["round_trips"], 9.0);
    assert_eq!(op["target"]["round_trips"], 5.0);
    assert_eq!(op["source"]["n"], 10);
    assert_eq!(
        db.snapshot(),
        before,
        "a rolled-back write changed the data"
    );
    // --explain: the plan of the median iteration per side.
    for side in ["source", "target"] {
        let rel = op[side]["explain_file"].as_str().expect("explain file");
        let doc: Value = serde_json::from_slice(&std::fs::read(out.join(rel)).unwrap()).unwrap();
        let stmts = doc["statements"].as_array().unwrap();
        assert!(!stmts.is_empty());
        assert!(stmts[0]["plan"][0]["Plan"].is_object(), "{doc}");
    }
    assert_eq!(db.snapshot(), before, "EXPLAIN ANALYZE changed the data");
}

#[test]
fn writes_are_refused_without_allow_writes() {
    let db = PgDb::seeded("refuse", 200);
    let before = db.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            root().join("queries/repair").to_str().unwrap(),
            "--iterations",
            "2",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("allow_writes = true"), "{}", r.stderr);
    assert_eq!(db.snapshot(), before);
}

#[test]
fn a_mock_clock_makes_reports_deterministic() {
    let db = PgDb::seeded("clock", 200);
    let emails = db.query_strings("SELECT email FROM users ORDER BY email LIMIT 2");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    let q = edited_op(dir.path(), "user/find-user-by-email.toml", &|t| {
        let from = t
            .lines()
            .find(|l| l.starts_with("params_from"))
            .unwrap()
            .to_string();
        let sets: String = emails
            .iter()
            .map(|e| {
                format!(
                    "\n[[params]]\nemail = {}\n",
                    serde_json::to_string(e).unwrap()
                )
            })
            .collect();
        t.replace(&from, "")
            .replace("\n[source]", &format!("{sets}\n[source]"))
    });
    let run = |n: &str| {
        let out = dir.path().join(n);
        let r = timing(
            &config,
            &out,
            &[
                "--queries",
                q.to_str().unwrap(),
                "--iterations",
                "5",
                "--warmup",
                "1",
            ],
            &[("PARITY_TEST_CLOCK_STEP_NS", "1000000")],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        (
            std::fs::read_to_string(out.join("timing.csv")).unwrap(),
            std::fs::read_to_string(out.join("timing-compare.csv")).unwrap(),
            std::fs::read_to_string(out.join("junit.xml")).unwrap(),
        )
    };
    let a = run("a");
    let b = run("b");
    assert_eq!(a, b);
    assert_eq!(
        a.1,
        "repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n\
         user,find-user-by-email,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,same,5,1.0000,1.0000\n"
    );
    // --min-time keeps going past --iterations until the (mock) clock says so.
    let r = timing(
        &config,
        &dir.path().join("c"),
        &[
            "--queries",
            q.to_str().unwrap(),
            "--iterations",
            "2",
            "--warmup",
            "0",
            "--min-time",
            "40ms",
        ],
        &[("PARITY_TEST_CLOCK_STEP_NS", "1000000")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.op("find-user-by-email")["source"]["n"].as_u64().unwrap() > 2);
    let line = a.0.lines().nth(1).unwrap();
    assert!(
        line.starts_with("user,find-user-by-email,source,5,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,0.0000,1,1,"),
        "{line}"
    );
}

/// The SQLite flavour, when its captured operations are present.
#[test]
fn captured_pairs_return_the_same_rows_on_sqlite() {
    let queries = root().join("queries/sqlite");
    if !queries.is_dir() {
        eprintln!("no queries/sqlite: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let url = format!("sqlite:{}", path.display());
    seed(&url, 600);
    let config = write_config(dir.path(), &url, true, true);
    let counts = || {
        let url = url.clone();
        block_on(async move {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let mut out = Vec::new();
            for t in ["repairs", "_ItemToRepair", "users", "bikes", "transactions"] {
                let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{t}\""))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                out.push(n);
            }
            out
        })
    };
    let before = counts();
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            queries.to_str().unwrap(),
            "--iterations",
            "6",
            "--warmup",
            "1",
        ],
        &[],
    );
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    let ops = r.report["timing"]["operations"].as_array().unwrap();
    assert!(ops.len() >= 5, "{}", r.stdout);
    for op in ops {
        assert!(
            op["verdict"] != "mismatch" && op["verdict"] != "error",
            "{}: {} {} {}",
            op["operation"],
            op["verdict"],
            op["mismatch"],
            op["error"]
        );
    }
    // The write operation ran, and was rolled back.
    let write = r.op("create-repair-with-items");
    assert_eq!(write["source"]["round_trips"], 9.0);
    assert_eq!(counts(), before);
}

/// Not a check: prints the per-statement latency of the timing session on
/// a current-thread and a multi-thread runtime, for comparing with pgbench
/// (`PARITY_PROBE_URL=postgres://… cargo test --release --test timing probe -- --ignored --nocapture`).
#[test]
#[ignore]
fn probe_session_overhead() {
    let Ok(url) = std::env::var("PARITY_PROBE_URL") else {
        return;
    };
    let sql = r#"select "id", "email", "name", "role", "password_hash", "active", "created_at", "updated_at" from "users" where "users"."email" = $1 limit $2"#;
    let email = std::env::var("PARITY_PROBE_EMAIL").unwrap_or_default();
    let run = |rt: tokio::runtime::Runtime, label: &str| {
        rt.block_on(async {
            use parity::timing::value::Val;
            let db = parity::db::Db::connect(
                &parity::config::DbUrl::new(url.clone()),
                &parity::db::ConnectOptions::default(),
            )
            .await
            .unwrap();
            let mut a = parity::timing::exec::Session::open(&db).await.unwrap();
            let mut b = parity::timing::exec::Session::open(&db).await.unwrap();
            let params = [Val::Text(email.clone()), Val::Int(1)];
            // One session in a loop (as pgbench), then two alternating (as
            // the interleaved runner).
            for alternate in [false, true] {
                let mut v = Vec::new();
                for i in 0..2200 {
                    let s = if alternate && i % 2 == 1 {
                        &mut b
                    } else {
                        &mut a
                    };
                    let t = std::time::Instant::now();
                    s.exec(sql, &params).await.unwrap();
                    if i >= 200 {
                        v.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
                v.sort_by(f64::total_cmp);
                eprintln!(
                    "{label}, {}: p50 {:.4} ms",
                    if alternate {
                        "two sessions alternating"
                    } else {
                        "one session"
                    },
                    v[v.len() / 2]
                );
            }
        })
    };
    run(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        "current-thread",
    );
    run(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap(),
        "multi-thread",
    );
}

// ---- order (issue 18) -----------------------------------------------------------

/// `[[params]]` sets in place of an operation's `params_from`.
fn with_literal_params(text: &str, name: &str, values: &[String]) -> String {
    let from = text
        .lines()
        .find(|l| l.starts_with("params_from"))
        .unwrap()
        .to_string();
    let sets: String = values
        .iter()
        .map(|v| format!("\n[[params]]\n{name} = {v}\n"))
        .collect();
    text.replace(&from, "")
        .replace("\n[source]", &format!("{sets}\n[source]"))
}

#[test]
fn a_desc_to_asc_swap_is_an_order_mismatch() {
    // The issue's experiment: Drizzle's `order by created_at desc` turned
    // into `asc`. Same rows, the opposite order for the app.
    let db = PgDb::seeded("order", 800);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    let q = edited_op(dir.path(), "bike/list-customer-bikes.toml", &|t| {
        t.replace(
            r#"order by \"bikes\".\"created_at\" desc"#,
            r#"order by \"bikes\".\"created_at\" asc"#,
        )
    });
    let out = dir.path().join("out");
    let r = timing(
        &config,
        &out,
        &[
            "--queries",
            q.to_str().unwrap(),
            "--iterations",
            "4",
            "--warmup",
            "0",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let op = r.op("list-customer-bikes");
    assert_eq!(op["verdict"], "mismatch", "{op}");
    let m = &op["mismatch"];
    assert_eq!(m["kind"], "order", "{m}");
    assert_eq!(m["table"], "bikes", "{m}");
    assert_eq!(m["only_in_source"], 0, "{m}");
    assert_eq!(m["only_in_target"], 0, "{m}");
    assert_eq!(m["source_rows"], m["target_rows"], "{m}");
    // Position 1 already parts (newest first against oldest first), and the
    // rows there are named by key.
    assert_eq!(m["position"], 1, "{m}");
    let keys = m["first_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{m}");
    assert!(keys[0].as_str().unwrap().starts_with("bikes(id="), "{m}");
    assert_ne!(keys[0], keys[1], "{m}");
    assert!(
        r.stdout.contains("same rows, different order") && r.stdout.contains("position 1"),
        "{}",
        r.stdout
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("same rows, different order"), "{md}");
    let x = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(x.contains("same rows, different order"), "{x}");

    // ordered = false in the file: the same SQL compares as a set.
    let q2 = edited_op(dir.path(), "bike/list-customer-bikes.toml", &|t| {
        t.replace(
            r#"order by \"bikes\".\"created_at\" desc"#,
            r#"order by \"bikes\".\"created_at\" asc"#,
        )
        .replace("\n[source]", "\nordered = false\n\n[source]")
    });
    let r = timing(
        &config,
        &dir.path().join("out2"),
        &[
            "--queries",
            q2.to_str().unwrap(),
            "--iterations",
            "2",
            "--warmup",
            "0",
        ],
        &[],
    );
    let op = r.op("list-customer-bikes");
    assert!(
        op["verdict"] != "mismatch" && op["verdict"] != "error",
        "{op}"
    );
}

#[test]
fn ties_in_the_sort_key_may_come_in_either_order() {
    let db = PgDb::seeded("ties", 800);
    // A customer with several bikes: sorted by customer_id alone, all of
    // them tie.
    let customer = db.query_strings(
        "SELECT customer_id::text FROM bikes GROUP BY customer_id HAVING count(*) >= 2 ORDER BY 1 LIMIT 1",
    );
    assert_eq!(
        customer.len(),
        1,
        "the fixture has no customer with two bikes"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    // Both sides sort by customer_id only; the source hands the tied rows
    // over in id order, the target in reverse id order.
    let source_sql = r#"SELECT b.id, b.customer_id, b.brand FROM (SELECT * FROM bikes WHERE customer_id = $1 ORDER BY id ASC) b ORDER BY b.customer_id"#;
    let target_sql = r#"select "b"."id", "b"."customer_id", "b"."brand" from (select * from "bikes" where "customer_id" = $1 order by "id" desc) "b" order by "b"."customer_id""#;
    let ids = |sql: &str| -> Vec<String> {
        let url = db.url.clone();
        let sql = sql
            .replace("SELECT b.id,", "SELECT b.id::text,")
            .replace(r#"select "b"."id","#, r#"select "b"."id"::text,"#);
        let c: i32 = customer[0].parse().unwrap();
        block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&sql)
                .bind(c)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        })
    };
    let (a, b) = (ids(source_sql), ids(target_sql));
    assert_ne!(
        a, b,
        "the two sides must really return the ties in different orders"
    );
    let mut sa = a.clone();
    let mut sb = b.clone();
    sa.sort();
    sb.sort();
    assert_eq!(sa, sb);
    let text = format!(
        "name = \"ties\"\nrepository = \"bike\"\n[[params]]\ncustomer_id = {}\n\
         [source]\nstatements = [{}]\nparams = [\"customer_id\"]\n\
         [target]\nstatements = [{}]\nparams = [\"customer_id\"]\n",
        customer[0],
        serde_json::to_string(source_sql).unwrap(),
        serde_json::to_string(target_sql).unwrap()
    );
    let q = dir.path().join("queries");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join("ties.toml"), &text).unwrap();
    let args = [
        "--queries",
        q.to_str().unwrap(),
        "--iterations",
        "2",
        "--warmup",
        "0",
    ];
    let r = timing(&config, &dir.path().join("out"), &args, &[]);
    let op = r.op("ties");
    assert!(
        op["verdict"] != "mismatch" && op["verdict"] != "error",
        "{op}\n{}",
        r.stderr
    );
    // Sorting the target by id as well makes it a different order, caught.
    std::fs::write(
        q.join("ties.toml"),
        text.replace(
            r#"order by \"b\".\"customer_id\""#,
            r#"order by \"b\".\"customer_id\", \"b\".\"id\" desc"#,
        )
        .replace("ORDER BY b.customer_id", "ORDER BY b.customer_id, b.id ASC"),
    )
    .unwrap();
    let r = timing(&config, &dir.path().join("out2"), &args, &[]);
    let op = r.op("ties");
    assert_eq!(op["verdict"], "mismatch", "{op}");
    assert_eq!(op["mismatch"]["kind"], "order", "{op}");
}

#[test]
fn a_nested_relation_without_order_by_compares_as_a_set() {
    let db = PgDb::seeded("nested", 800);
    // A customer with a bike that has at least two repairs.
    let customers = db.query_strings(
        "SELECT b.customer_id::text FROM bikes b JOIN repairs r ON r.bike_id = b.id \
         GROUP BY b.customer_id, b.id HAVING count(*) >= 2 ORDER BY 1 LIMIT 20",
    );
    assert!(!customers.is_empty(), "no bike with two repairs");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    // Prisma's include query now returns the repairs newest id first;
    // Drizzle's json_agg has no ORDER BY and aggregates in scan order.
    let q = edited_op(
        dir.path(),
        "bike/list-customer-bikes-with-repairs.toml",
        &|t| {
            let t = with_literal_params(&t, "customer_id", &customers);
            t.replace(
                r#"IN ({{stmt1.id[]}}) OFFSET $1"#,
                r#"IN ({{stmt1.id[]}}) ORDER BY \"public\".\"repairs\".\"id\" DESC OFFSET $1"#,
            )
        },
    );
    // Check that the orders really differ somewhere: Drizzle's nested ids
    // against the same ids sorted descending.
    let text = std::fs::read_to_string(q.join("list-customer-bikes-with-repairs.toml")).unwrap();
    let op_toml: toml::Value = toml::from_str(&text).unwrap();
    let target_sql = op_toml["target"]["statements"][0]
        .as_str()
        .unwrap()
        .to_string();
    let url = db.url.clone();
    let differs = block_on(async move {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut any = false;
        for cust in &customers {
            let sql = format!(
                "SELECT x.\"repairs\"::text FROM ({}) x",
                target_sql.replace("$1", cust)
            );
            let rows = sqlx::query(&sql).fetch_all(&mut c).await.unwrap();
            for row in rows {
                let j: serde_json::Value = serde_json::from_str(&row.get::<String, _>(0)).unwrap();
                let got: Vec<String> = j
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r[0].as_str().unwrap().to_string())
                    .collect();
                let mut desc = got.clone();
                desc.sort_by(|a, b| b.cmp(a));
                any |= got != desc;
            }
        }
        any
    });
    assert!(
        differs,
        "the nested repairs come in the same order on both sides: no test"
    );
    let r = timing(
        &config,
        &dir.path().join("out"),
        &[
            "--queries",
            q.to_str().unwrap(),
            "--iterations",
            "2",
            "--warmup",
            "0",
        ],
        &[],
    );
    let op = r.op("list-customer-bikes-with-repairs");
    assert!(
        op["verdict"] != "mismatch" && op["verdict"] != "error",
        "{op}\n{}",
        r.stderr
    );
    // The bikes themselves are still compared in order.
    let notes = op["notes"].as_array().unwrap();
    assert!(
        !notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("bikes:")),
        "{notes:?}"
    );
}

#[test]
fn the_gate_names_the_operation_that_made_a_phase_not_ready() {
    let db = PgDb::seeded("gate", 300);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db.url, false, false);
    let q = edited_op(dir.path(), "user/find-user-by-email.toml", &|t| {
        t.replace(
            r#"where \"users\".\"email\" = $1 limit $2"#,
            r#"where \"users\".\"email\" = $1 and pg_sleep(0.02)::text = '' limit $2"#,
        )
    });
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[repository]]\nname = \"user\"\nflag = \"drizzle_user_repo\"\ntables = [\"users\"]\nqueries = \"{}\"\n",
        q.display()
    ));
    std::fs::write(&config, text).unwrap();
    let o = parity()
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args([
            "run",
            "--repository",
            "user",
            "--iterations",
            "10",
            "--warmup",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = stdout.lines().next().unwrap_or_default();
    assert!(line.starts_with("user (drizzle_user_repo):"), "{line}");
    assert!(
        line.contains("timing find-user-by-email slower (ratio ") && line.contains("95% CI ["),
        "{line}"
    );
    assert!(line.ends_with("→ NOT READY"), "{line}");
}
