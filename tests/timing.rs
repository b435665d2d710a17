//! `parity timing` end to end (issue 5): the real binary and the shipped
//! `queries/` against real PostgreSQL and SQLite databases that each test
//! creates and drops. Iterations are kept small: these tests check
//! verdicts and reports, not speed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{
    Backend, Run, TempDb, assert_contains, assert_rows_agree, config, parity, root,
};

/// The operations captured from the bike-shop app, per flavour.
pub const SHIPPED: [&str; 6] = [
    "find-user-by-email",
    "list-customer-bikes",
    "list-customer-bikes-with-repairs",
    "create-repair-with-items",
    "customer-transaction-total",
    "monthly-revenue-report",
];

const PG: Backend = Backend::Postgres;

/// A database, a temp folder, and the fixture's two mappings in a config
/// there (the Drizzle side on `target` when it is another database).
struct Setup {
    db: TempDb,
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn setup(db: TempDb, target: Option<&str>, allow_writes: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let writes = format!("allow_writes = {allow_writes}\n");
    let source = config::prisma(db.backend, &db.url) + &writes;
    let target = config::drizzle(db.backend, target.unwrap_or(&db.url)) + &writes;
    let config = config::write(dir.path(), &source, &target, "");
    Setup { db, dir, config }
}

/// A seeded PostgreSQL database with its setup.
fn seeded(tag: &str, rows: u64, allow_writes: bool) -> Setup {
    let (db, _) = TempDb::seeded(PG, &format!("timing_{tag}"), rows, None);
    setup(db, None, allow_writes)
}

impl Setup {
    /// `parity timing --queries QUERIES ARGS` (ARGS split at spaces), its
    /// reports in the folder `out`.
    fn timing(&self, out: &str, queries: &Path, args: &str) -> Run {
        self.timing_env(out, queries, args, &[])
    }

    fn timing_env(&self, out: &str, queries: &Path, args: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = parity();
        cmd.envs(env)
            .config(&self.config)
            .out(self.dir.path().join(out));
        cmd.arg("timing")
            .arg("--queries")
            .arg(queries)
            .words(args)
            .run()
    }

    /// A copy of one shipped operation file, edited, alone in a folder.
    fn edited(&self, shipped: &str, edit: &dyn Fn(String) -> String) -> PathBuf {
        edited_op(self.dir.path(), shipped, edit)
    }
}

/// The operation's mismatch (exit 1, verdict `mismatch`).
fn mismatch(r: &Run, name: &str) -> Value {
    r.expect(1);
    let op = r.operation(name);
    assert_eq!(op["verdict"], "mismatch", "{op}");
    op["mismatch"].clone()
}

/// A copy of one shipped operation file, edited, alone in a folder.
pub fn edited_op(dir: &Path, shipped: &str, edit: &dyn Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("queries").join(shipped)).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing in {shipped}");
    let q = dir.join("queries");
    config::file(
        &q,
        Path::new(shipped).file_name().unwrap().to_str().unwrap(),
        &edited,
    );
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
    let t = seeded("pairs", 800, true);
    let r = t.timing("out", &root().join("queries"), "--iterations 6 --warmup 1");
    r.expect_verdict();
    let report = r.report();
    let ops = report["timing"]["operations"].as_array().unwrap();
    for name in SHIPPED {
        let op = r.operation(name);
        assert_rows_agree(&op);
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
        let op = r.operation(name);
        assert_eq!(
            op["source"]["result_hash"], op["target"]["result_hash"],
            "{name}"
        );
    }
    // Prisma's include is two round trips, Drizzle's relational query one.
    let with = r.operation("list-customer-bikes-with-repairs");
    assert_eq!(
        [
            &with["source"]["round_trips"],
            &with["target"]["round_trips"]
        ],
        [2.0, 1.0]
    );
    // Exit code agrees with the verdicts.
    let fails = ops
        .iter()
        .any(|o| o["verdict"] == "slower" || o["verdict"] == "mismatch");
    assert_eq!(r.code, i32::from(fails));
    // The report files are there, with the documented CSV headers.
    let csv = r.text("timing.csv");
    assert!(csv.starts_with("repository,operation,side,n,min_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,mean_ms,stddev_ms,rows,round_trips,result_hash,blocks,block_p50_min_ms,block_p50_max_ms\n"));
    assert_eq!(csv.lines().count(), 1 + 2 * 6);
    let cmp = r.text("timing-compare.csv");
    assert!(cmp.starts_with("repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n"));
    // Ten blocks by default, at most one per iteration: six blocks of one
    // iteration here, their spread in the report.
    let cmp = &with["comparison"];
    assert_eq!(cmp["blocks"], 6, "{with}");
    assert_eq!(cmp["block_ratios"].as_array().unwrap().len(), 6);
    assert_eq!(with["source"]["block_p50_ms"].as_array().unwrap().len(), 6);
    let ratio = |k: &str| cmp[k].as_f64().unwrap();
    let (lo, hi) = (ratio("block_ratio_min"), ratio("block_ratio_max"));
    assert!(0.0 < lo && lo <= hi, "{with}");
    assert_eq!(report["timing"]["blocks"], 6);
    assert!(r.text("summary.md").contains("## Query timing"));
    assert_eq!(
        r.text("report.html").matches("<svg class=\"hist\"").count(),
        6
    );
}

#[test]
fn source_and_target_on_separate_databases() {
    // Two databases seeded alike: the Prisma side reads one, the Drizzle
    // side the other, each with its own sessions.
    let (b, _) = TempDb::seeded(PG, "timing_sep_b", 300, None);
    let t = setup(
        TempDb::seeded(PG, "timing_sep_a", 300, None).0,
        Some(&b.url),
        false,
    );
    let ops = "find-user-by-email,list-customer-bikes-with-repairs";
    let args = format!("--operations {ops} --iterations 4 --warmup 1 --concurrency 2");
    let r = t.timing("out", &root().join("queries"), &args);
    r.expect_verdict();
    for name in ops.split(',') {
        let op = r.operation(name);
        assert_rows_agree(&op);
        assert_eq!(op["target"]["n"], 4);
    }
}

#[test]
fn a_missing_where_term_is_a_mismatch_and_junit_says_so() {
    let t = seeded("where", 800, false);
    // The target forgets the upper bound of the date range.
    let q = t.edited("transaction/monthly-revenue-report.toml", &|t| {
        let t = t.replace(r#" and \"transactions\".\"occurred_at\" < $2)"#, ")");
        let (a, b) = t.rsplit_once("params = [\"from_ts\", \"to_ts\"]").unwrap();
        format!("{a}params = [\"from_ts\"]{b}")
    });
    let r = t.timing("out", &q, "--iterations 4 --warmup 0");
    let m = mismatch(&r, "monthly-revenue-report");
    assert!(m["target_rows"].as_u64() > m["source_rows"].as_u64(), "{m}");
    assert!(!m["first_keys"].as_array().unwrap().is_empty(), "{m}");
    assert!(r.stdout.contains("mismatch"), "{}", r.stdout);

    let x = r.text("junit.xml");
    let elems = parse_xml(&x);
    let attrs = |name: &str| {
        elems
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, a)| a)
            .collect::<Vec<_>>()
    };
    assert_eq!(elems[0].0, "testsuites");
    let root_attrs = &elems[0].1;
    let counts = ["tests", "failures", "errors"].map(|k| root_attrs[k].as_str());
    assert_eq!(counts, ["1", "1", "0"]);
    let suites = attrs("testsuite");
    assert_eq!(suites.len(), 1);
    assert_eq!(
        [&suites[0]["name"], &suites[0]["failures"]],
        ["transaction", "1"]
    );
    let failure = *attrs("failure").first().expect("a failure");
    assert_eq!(failure["type"], "mismatch");
    let message = &failure["message"];
    assert!(
        message.contains("120 from target") || message.contains("from target"),
        "{failure:?}"
    );
    assert!(x.contains("first differing keys"), "{x}");
}

/// find-user-by-email with a 20 ms sleep on the target side.
fn slowed(t: &Setup) -> PathBuf {
    t.edited("user/find-user-by-email.toml", &|t| {
        t.replace(
            r#"where \"users\".\"email\" = $1 limit $2"#,
            r#"where \"users\".\"email\" = $1 and pg_sleep(0.02)::text = '' limit $2"#,
        )
    })
}

#[test]
fn a_target_slowed_by_pg_sleep_is_slower() {
    let t = seeded("sleep", 300, false);
    let r = t.timing("out", &slowed(&t), "--iterations 12 --warmup 1");
    r.expect(1);
    let op = r.operation("find-user-by-email");
    assert_eq!(op["verdict"], "slower", "{op}");
    assert!(op["comparison"]["ci_low"].as_f64().unwrap() > 1.1);
    assert!(op["target"]["p50_ms"].as_f64().unwrap() >= 20.0);
}

#[test]
fn write_operations_leave_the_database_unchanged() {
    let t = seeded("write", 600, true);
    let before = t.db.fingerprint();
    let args = "--operations create-repair-with-items --iterations 10 --warmup 1 --concurrency 2 --explain";
    let r = t.timing("out", &root().join("queries"), args);
    r.expect_verdict();
    let op = r.operation("create-repair-with-items");
    assert_rows_agree(&op);
    // Prisma's nested create is 9 statements, Drizzle's transaction 5.
    assert_eq!(
        [&op["source"]["round_trips"], &op["target"]["round_trips"]],
        [9.0, 5.0]
    );
    assert_eq!(op["source"]["n"], 10);
    assert_eq!(
        t.db.fingerprint(),
        before,
        "a rolled-back write changed the data"
    );
    // --explain: the plan of the median iteration per side.
    for side in ["source", "target"] {
        let doc = r.json(op[side]["explain_file"].as_str().expect("explain file"));
        let stmts = doc["statements"].as_array().unwrap();
        assert!(!stmts.is_empty());
        assert!(stmts[0]["plan"][0]["Plan"].is_object(), "{doc}");
    }
    assert_eq!(
        t.db.fingerprint(),
        before,
        "EXPLAIN ANALYZE changed the data"
    );
}

#[test]
fn writes_are_refused_without_allow_writes() {
    let t = seeded("refuse", 200, false);
    let before = t.db.fingerprint();
    let r = t.timing("out", &root().join("queries/repair"), "--iterations 2");
    r.expect(2);
    assert!(r.stderr.contains("allow_writes = true"), "{}", r.stderr);
    assert_eq!(t.db.fingerprint(), before);
}

/// `[[params]]` sets in place of an operation's `params_from`.
fn with_literal_params(text: &str, name: &str, values: &[String]) -> String {
    let from = text.lines().find(|l| l.starts_with("params_from")).unwrap();
    let sets: String = values
        .iter()
        .map(|v| format!("\n[[params]]\n{name} = {v}\n"))
        .collect();
    text.replace(from, "")
        .replace("\n[source]", &format!("{sets}\n[source]"))
}

#[test]
fn a_mock_clock_makes_reports_deterministic() {
    let t = seeded("clock", 200, false);
    let emails =
        t.db.column("SELECT email FROM users ORDER BY email LIMIT 2");
    let emails: Vec<String> = emails
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let q = t.edited("user/find-user-by-email.toml", &|t| {
        with_literal_params(&t, "email", &emails)
    });
    let clock = [("PARITY_TEST_CLOCK_STEP_NS", "1000000")];
    let run = |out: &str, args: &str| t.timing_env(out, &q, args, &clock);
    let files = |r: &Run| ["timing.csv", "timing-compare.csv", "junit.xml"].map(|f| r.text(f));
    let (a, b) = (
        run("a", "--iterations 5 --warmup 1"),
        run("b", "--iterations 5 --warmup 1"),
    );
    a.expect(0);
    b.expect(0);
    let a = files(&a);
    assert_eq!(a, files(&b));
    assert_eq!(
        a[1],
        "repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n\
         user,find-user-by-email,1.0000,1.0000,1.0000,1.0000,1.0000,1.0000,same,5,1.0000,1.0000\n"
    );
    // --min-time keeps going past --iterations until the (mock) clock says so.
    let r = run("c", "--iterations 2 --warmup 0 --min-time 40ms");
    r.expect(0);
    assert!(
        r.operation("find-user-by-email")["source"]["n"]
            .as_u64()
            .unwrap()
            > 2
    );
    let line = a[0].lines().nth(1).unwrap();
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
    let t = setup(
        TempDb::seeded(Backend::Sqlite, "shop", 600, None).0,
        None,
        true,
    );
    let before = t.db.fingerprint();
    let r = t.timing("out", &queries, "--iterations 6 --warmup 1");
    r.expect_verdict();
    let ops = r.report()["timing"]["operations"]
        .as_array()
        .unwrap()
        .clone();
    assert!(ops.len() >= 5, "{}", r.stdout);
    ops.iter().for_each(assert_rows_agree);
    // The write operation ran, and was rolled back.
    assert_eq!(
        r.operation("create-repair-with-items")["source"]["round_trips"],
        9.0
    );
    assert_eq!(t.db.fingerprint(), before);
}

/// Not a check: prints the per-statement latency of the timing session on
/// a current-thread and a multi-thread runtime, for comparing with pgbench
/// (`PARITY_PROBE_URL=postgres://… cargo test --release --test tests timing::probe -- --ignored --nocapture`).
/// It calls the timing session directly (`parity::db`, `parity::timing`).
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
            let options = parity::db::ConnectOptions::default();
            let db = parity::db::Db::connect(&parity::config::DbUrl::new(url.clone()), &options)
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
                let how = if alternate {
                    "two sessions alternating"
                } else {
                    "one session"
                };
                eprintln!("{label}, {how}: p50 {:.4} ms", v[v.len() / 2]);
            }
        })
    };
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    run(current.unwrap(), "current-thread");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    run(multi.unwrap(), "multi-thread");
}

// ---- order (issue 18) -----------------------------------------------------------

/// list-customer-bikes with Drizzle's `order by created_at desc` turned
/// into `asc`, plus `more` edits.
fn desc_to_asc(t: &Setup, more: &str) -> PathBuf {
    t.edited("bike/list-customer-bikes.toml", &|t| {
        t.replace(
            r#"order by \"bikes\".\"created_at\" desc"#,
            r#"order by \"bikes\".\"created_at\" asc"#,
        )
        .replace("\n[source]", &format!("\n{more}[source]"))
    })
}

#[test]
fn a_desc_to_asc_swap_is_an_order_mismatch() {
    // The issue's experiment: same rows, the opposite order for the app.
    let t = seeded("order", 800, false);
    let r = t.timing("out", &desc_to_asc(&t, ""), "--iterations 4 --warmup 0");
    let m = mismatch(&r, "list-customer-bikes");
    assert_eq!([&m["kind"], &m["table"]], ["order", "bikes"], "{m}");
    assert_eq!([&m["only_in_source"], &m["only_in_target"]], [0, 0], "{m}");
    assert_eq!(m["source_rows"], m["target_rows"], "{m}");
    // Position 1 already parts (newest first against oldest first), and the
    // rows there are named by key.
    assert_eq!(m["position"], 1, "{m}");
    let keys = m["first_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{m}");
    assert!(keys[0].as_str().unwrap().starts_with("bikes(id="), "{m}");
    assert_ne!(keys[0], keys[1], "{m}");
    assert_contains(&r.stdout, &["same rows, different order", "position 1"]);
    for file in ["summary.md", "junit.xml"] {
        assert_contains(&r.text(file), &["same rows, different order"]);
    }

    // ordered = false in the file: the same SQL compares as a set.
    let r = t.timing(
        "out2",
        &desc_to_asc(&t, "ordered = false\n\n"),
        "--iterations 2 --warmup 0",
    );
    assert_rows_agree(&r.operation("list-customer-bikes"));
}

#[test]
fn ties_in_the_sort_key_may_come_in_either_order() {
    let t = seeded("ties", 800, false);
    // A customer with several bikes: sorted by customer_id alone, all of
    // them tie.
    let customer = t.db.column(
        "SELECT customer_id::text FROM bikes GROUP BY customer_id HAVING count(*) >= 2 ORDER BY 1 LIMIT 1",
    );
    assert_eq!(
        customer.len(),
        1,
        "the fixture has no customer with two bikes"
    );
    let c = &customer[0];
    // Both sides sort by customer_id only; the source hands the tied rows
    // over in id order, the target in reverse id order.
    let source_sql = r#"SELECT b.id, b.customer_id, b.brand FROM (SELECT * FROM bikes WHERE customer_id = $1 ORDER BY id ASC) b ORDER BY b.customer_id"#;
    let target_sql = r#"select "b"."id", "b"."customer_id", "b"."brand" from (select * from "bikes" where "customer_id" = $1 order by "id" desc) "b" order by "b"."customer_id""#;
    let ids = |sql: &str| t.db.column(&sql.replace("$1", c));
    let (a, b) = (ids(source_sql), ids(target_sql));
    assert_ne!(
        a, b,
        "the two sides must really return the ties in different orders"
    );
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(a), sorted(b));
    let text = format!(
        "name = \"ties\"\nrepository = \"bike\"\n[[params]]\ncustomer_id = {c}\n\
         [source]\nstatements = [{}]\nparams = [\"customer_id\"]\n\
         [target]\nstatements = [{}]\nparams = [\"customer_id\"]\n",
        serde_json::to_string(source_sql).unwrap(),
        serde_json::to_string(target_sql).unwrap()
    );
    let q = t.dir.path().join("queries");
    config::file(&q, "ties.toml", &text);
    let r = t.timing("out", &q, "--iterations 2 --warmup 0");
    assert_rows_agree(&r.operation("ties"));
    // Sorting the target by id as well makes it a different order, caught.
    let both = text
        .replace(
            r#"order by \"b\".\"customer_id\""#,
            r#"order by \"b\".\"customer_id\", \"b\".\"id\" desc"#,
        )
        .replace("ORDER BY b.customer_id", "ORDER BY b.customer_id, b.id ASC");
    config::file(&q, "ties.toml", &both);
    let r = t.timing("out2", &q, "--iterations 2 --warmup 0");
    let op = r.operation("ties");
    assert_eq!(
        [&op["verdict"], &op["mismatch"]["kind"]],
        ["mismatch", "order"],
        "{op}"
    );
}

#[test]
fn a_nested_relation_without_order_by_compares_as_a_set() {
    let t = seeded("nested", 800, false);
    // A customer with a bike that has at least two repairs.
    let customers = t.db.column(
        "SELECT b.customer_id::text FROM bikes b JOIN repairs r ON r.bike_id = b.id \
         GROUP BY b.customer_id, b.id HAVING count(*) >= 2 ORDER BY 1 LIMIT 20",
    );
    assert!(!customers.is_empty(), "no bike with two repairs");
    // Prisma's include query now returns the repairs newest id first;
    // Drizzle's json_agg has no ORDER BY and aggregates in scan order.
    let q = t.edited("bike/list-customer-bikes-with-repairs.toml", &|t| {
        with_literal_params(&t, "customer_id", &customers).replace(
            r#"IN ({{stmt1.id[]}}) OFFSET $1"#,
            r#"IN ({{stmt1.id[]}}) ORDER BY \"public\".\"repairs\".\"id\" DESC OFFSET $1"#,
        )
    });
    // Check that the orders really differ somewhere: Drizzle's nested ids
    // against the same ids sorted descending.
    let text = std::fs::read_to_string(q.join("list-customer-bikes-with-repairs.toml")).unwrap();
    let op_toml: toml::Value = toml::from_str(&text).unwrap();
    let target_sql = op_toml["target"]["statements"][0].as_str().unwrap();
    let differs = customers.iter().any(|cust| {
        let sql = format!(
            "SELECT x.\"repairs\"::text FROM ({}) x",
            target_sql.replace("$1", cust)
        );
        t.db.column(&sql).iter().any(|j| {
            let j: Value = serde_json::from_str(j).unwrap();
            let got: Vec<&str> = j
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[0].as_str().unwrap())
                .collect();
            let mut desc = got.clone();
            desc.sort_by(|a, b| b.cmp(a));
            got != desc
        })
    });
    assert!(
        differs,
        "the nested repairs come in the same order on both sides: no test"
    );
    let r = t.timing("out", &q, "--iterations 2 --warmup 0");
    let op = r.operation("list-customer-bikes-with-repairs");
    assert_rows_agree(&op);
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
    let t = seeded("gate", 300, false);
    let q = slowed(&t);
    let repository = "name = \"user\"\nflag = \"drizzle_user_repo\"\ntables = [\"users\"]";
    let queries = format!("queries = \"{}\"", q.display());
    let text = std::fs::read_to_string(&t.config).unwrap() + "\n[[repository]]\n" + repository;
    std::fs::write(&t.config, format!("{text}\n{queries}\n")).unwrap();
    let mut cmd = parity();
    cmd.config(&t.config).out(t.dir.path().join("out"));
    let o = cmd
        .words("run --repository user --iterations 10 --warmup 1")
        .run();
    o.expect(1);
    let slower = ["timing find-user-by-email slower (ratio ", "95% CI ["];
    let line = o.verdict_line(&slower, "NOT READY");
    assert!(line.starts_with("user (drizzle_user_repo):"), "{line}");
}
