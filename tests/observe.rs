//! `parity observe` against a private PostgreSQL cluster that the test
//! starts with `pg_stat_statements` preloaded and `compute_query_id` on, on
//! its own port and data directory under the test's temp dir (the shared
//! server is left alone). `pgbench` replays the shipped operations' captured
//! SQL for both ORMs in a 90/10 Prisma/Drizzle mix for a few seconds; then
//! `observe` must attribute every statement, count exactly pgbench's
//! transactions per script, call identical-cost operations `same` and an
//! operation whose Drizzle SQL lost its index `slower`.

use std::path::{Path, PathBuf};
use std::process::Command;

use parity::timing::ops::{self, Operation, ParamRef, Piece};
use serde_json::Value;

use crate::support::cluster::Cluster;
use crate::support::{TempDb, config, parity, promtool_check_metrics, root, seed};

/// A private cluster with pg_stat_statements preloaded.
fn cluster() -> Cluster {
    let settings = [
        "shared_preload_libraries=pg_stat_statements",
        "compute_query_id=on",
        "pg_stat_statements.track=top",
        "shared_buffers=32MB",
        "max_connections=30",
        "synchronous_commit=off",
    ];
    Cluster::start(&settings).expect(
        "no initdb under /usr/lib/postgresql/*/bin; run scripts/services.sh to install PostgreSQL",
    )
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// `$n` outside quotes and identifiers replaced by `f(n)`.
fn replace_placeholders(sql: &str, f: &dyn Fn(usize) -> String) -> String {
    let b: Vec<char> = sql.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '\'' || c == '"' {
            let q = c;
            out.push(c);
            i += 1;
            while i < b.len() {
                out.push(b[i]);
                if b[i] == q {
                    i += 1;
                    break;
                }
                i += 1;
            }
        } else if c == '$' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = b[i + 1..j].iter().collect::<String>().parse().unwrap();
            out.push_str(&f(n));
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// One pgbench script per operation side, and the `-D` variables it needs.
struct Scripts {
    /// (file, weight, operation id, side)
    files: Vec<(PathBuf, u32, String, &'static str)>,
    vars: Vec<(String, String)>,
}

fn param_value(p: &ParamRef, set: &serde_json::Map<String, Value>) -> String {
    match p {
        ParamRef::Named(n) => match set.get(n).unwrap_or_else(|| panic!("no {n} in the set")) {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        },
        ParamRef::Literal(v) => v.to_text().expect("no NULL literals in read operations"),
        other => panic!("unsupported in the replay: {other:?}"),
    }
}

fn build_scripts(cluster: &Cluster, db: &str, ops: &[Operation], dir: &Path) -> Scripts {
    let mut files = Vec::new();
    let mut vars = Vec::new();
    for (oi, op) in ops.iter().enumerate() {
        let Some(ops::ParamSource::Query(q)) = &op.params else {
            panic!("{}: the replay samples params_from", op.id());
        };
        let row = cluster.column(
            db,
            &format!("SELECT row_to_json(t)::text FROM ({q}) t LIMIT 1"),
        );
        let set: serde_json::Map<String, Value> = serde_json::from_str(&row[0]).unwrap();
        for (side, s, weight) in [("source", &op.source, 9), ("target", &op.target, 1)] {
            let mut script = String::new();
            // Literal renderings of earlier statements, for expanded lists.
            let mut literal: Vec<String> = Vec::new();
            for (si, st) in s.statements.iter().enumerate() {
                let var = |n: usize| format!("o{oi}{side}s{si}p{n}");
                let value = |n: usize| param_value(&st.params[n - 1], &set);
                let (text, lit) = match &st.pieces {
                    None => {
                        for n in 1..=st.arity {
                            vars.push((var(n), value(n)));
                        }
                        (
                            replace_placeholders(&st.sql, &|n| format!(":{}", var(n))),
                            replace_placeholders(&st.sql, &|n| quote(&value(n))),
                        )
                    }
                    Some(pieces) => {
                        let (mut text, mut lit) = (String::new(), String::new());
                        for p in pieces {
                            match p {
                                Piece::Text(t) => {
                                    text.push_str(t);
                                    lit.push_str(t);
                                }
                                Piece::Param(i) => {
                                    vars.push((var(i + 1), value(i + 1)));
                                    text.push_str(&format!(":{}", var(i + 1)));
                                    lit.push_str(&quote(&value(i + 1)));
                                }
                                Piece::List { stmt, column } => {
                                    let values = cluster.column(
                                        db,
                                        &format!(
                                            "SELECT (t.\"{column}\")::text FROM ({}) t",
                                            literal[*stmt]
                                        ),
                                    );
                                    assert!(!values.is_empty(), "{}: empty list", op.id());
                                    let names: Vec<String> = values
                                        .iter()
                                        .enumerate()
                                        .map(|(k, v)| {
                                            let name = format!("o{oi}{side}s{si}l{k}");
                                            vars.push((name.clone(), v.clone()));
                                            format!(":{name}")
                                        })
                                        .collect();
                                    text.push_str(&names.join(", "));
                                    let quoted: Vec<String> =
                                        values.iter().map(|v| quote(v)).collect();
                                    lit.push_str(&quoted.join(", "));
                                }
                            }
                        }
                        (text, lit)
                    }
                };
                literal.push(lit);
                script.push_str(&text.replace('\n', " "));
                script.push_str(";\n");
            }
            let file = dir.join(format!("{}-{}-{side}.sql", op.repository, op.name));
            std::fs::write(&file, script).unwrap();
            files.push((file, weight, op.id(), side));
        }
    }
    Scripts { files, vars }
}

/// `pgbench` against `db` as `user`, with the scripts' variables.
fn pgbench_cmd(cluster: &Cluster, db: &str, user: &str, scripts: &Scripts) -> Command {
    let mut cmd = Command::new("pgbench");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port.to_string(),
        "-U",
        user,
        "-n",
        "-M",
        "extended",
    ]);
    for (k, v) in &scripts.vars {
        cmd.arg("-D").arg(format!("{k}={v}"));
    }
    cmd.env("PGDATABASE", db);
    cmd
}

/// Runs a pgbench command; its stdout.
fn pgbench_run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .expect("pgbench (postgresql-contrib) is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{cmd:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Runs pgbench, `per_client` transactions on each of 2 clients in one
/// thread; returns transactions per script, in script order. (pgbench 15's
/// threads add to the per-script counts without a lock, so with `-j 2` one
/// can come out a transaction short of what the server ran.)
fn pgbench(cluster: &Cluster, db: &str, scripts: &Scripts, per_client: u32) -> Vec<u64> {
    let mut cmd = pgbench_cmd(cluster, db, "postgres", scripts);
    cmd.args(["-c", "2", "-j", "1", "-t", &per_client.to_string()]);
    for (f, w, _, _) in &scripts.files {
        cmd.arg("-f").arg(format!("{}@{w}", f.display()));
    }
    let text = pgbench_run(&mut cmd);
    assert!(
        text.contains("number of failed transactions: 0"),
        "pgbench had failures: {text}"
    );
    // " - 1234 transactions (45.1% of total, tps = …)" after each "SQL script N:" line.
    let mut counts = Vec::new();
    let mut in_script = false;
    for line in text.lines() {
        if line.starts_with("SQL script ") {
            in_script = true;
        } else if in_script
            && line.trim_start().starts_with("- ")
            && line.contains(" transactions (")
        {
            let n = line.trim_start()[2..].split(' ').next().unwrap();
            counts.push(n.parse().unwrap());
            in_script = false;
        }
    }
    assert_eq!(counts.len(), scripts.files.len(), "pgbench output: {text}");
    let total = 2 * per_client as u64;
    assert_eq!(
        counts.iter().sum::<u64>(),
        total,
        "pgbench's per-script counts add up: {text}"
    );
    counts
}

/// Runs one script as `user` for `transactions` transactions; returns the
/// count pgbench reports.
fn pgbench_as(
    cluster: &Cluster,
    db: &str,
    user: &str,
    file: &Path,
    scripts: &Scripts,
    transactions: u32,
) -> u64 {
    let mut cmd = pgbench_cmd(cluster, db, user, scripts);
    cmd.args(["-t", &transactions.to_string()])
        .arg("-f")
        .arg(file);
    let text = pgbench_run(&mut cmd);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .unwrap_or_else(|| panic!("pgbench output: {text}"));
    line.split('/').next().unwrap().trim().parse().unwrap()
}

/// The shipped PostgreSQL read operations, plus two of a `customer`
/// repository: one whose Drizzle SQL needs an index on lower(email) that
/// the test drops.
fn replay_queries(dir: &Path) -> PathBuf {
    let q = dir.join("queries");
    for repo in ["bike", "user", "transaction"] {
        std::fs::create_dir_all(q.join(repo)).unwrap();
        for e in std::fs::read_dir(root().join("queries").join(repo)).unwrap() {
            let p = e.unwrap().path();
            let op = ops::load_file(&p).unwrap();
            if !op.writes {
                std::fs::copy(&p, q.join(repo).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    // The two customer operations (tests/observe/customer/): one whose
    // Drizzle SQL needs an index on lower(email), one of identical cost,
    // told apart by the order of the selected columns.
    let customer = q.join("customer");
    std::fs::create_dir_all(&customer).unwrap();
    for e in std::fs::read_dir(root().join("tests/observe/customer")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, customer.join(p.file_name().unwrap())).unwrap();
    }
    q
}

/// `parity observe --url URL --save FILE`: the statistics before traffic.
fn save(url: &str, file: &Path) {
    parity()
        .args(["observe", "--url", url, "--save"])
        .arg(file)
        .run()
        .expect(0);
}

/// `parity observe --url URL --since BEFORE --queries QUERIES --out OUT ARGS`.
fn observe(
    url: &str,
    before: &Path,
    queries: &Path,
    out: &Path,
    args: &[&str],
) -> crate::support::Run {
    let mut cmd = parity();
    cmd.args(["observe", "--url", url, "--since"])
        .arg(before)
        .arg("--queries")
        .arg(queries);
    cmd.out(out).args(args).run()
}

#[test]
fn observe_attributes_pgbench_traffic_per_operation_and_orm() {
    let cluster = cluster();
    cluster.exec("postgres", "CREATE DATABASE shop");
    let url = cluster.url("shop");
    seed(&url, 10_000, None);
    cluster.exec(
        "shop",
        "CREATE EXTENSION pg_stat_statements; ANALYZE; \
         CREATE INDEX customers_email_lower ON customers (lower(email)); \
         DROP INDEX customers_email_lower;",
    );
    let tmp = cluster.dir.path().to_path_buf();
    let queries = replay_queries(&tmp);
    let ops = ops::load_dir(&queries).unwrap();
    let scripts = build_scripts(&cluster, "shop", &ops, &tmp);

    let before = tmp.join("before.json");
    save(&url, &before);
    let started = std::time::Instant::now();
    let counts = pgbench(&cluster, "shop", &scripts, 3000);
    println!("pgbench: {:.1} s", started.elapsed().as_secs_f64());

    // A staging result of `parity timing` for one operation, shown beside.
    let staging = config::file(
        &tmp,
        "staging.json",
        r#"{"timing": {"operations": [{"repository": "user", "operation": "find-user-by-email",
            "comparison": {"ratio_p50": 0.97, "ratio_p95": 1.0, "ci_low": 0.9, "ci_high": 1.05}, "verdict": "same"}]}}"#,
    );
    let prom = tmp.join("observe.prom");
    // The replayed statements take 10–50 µs: on a shared CI machine a
    // margin of 100% keeps scheduling noise (8 engineers' builds on 2 cores
    // turned a 25% margin's `same` into `slower` once) from deciding `same`
    // (the slowed operation is over 10× slower).
    let (prom_arg, staging_arg) = (prom.to_str().unwrap(), staging.to_str().unwrap());
    let args = [
        "--min-calls",
        "20",
        "--max-slowdown",
        "1.0",
        "--prometheus",
        prom_arg,
        "--staging",
        staging_arg,
    ];
    let o = observe(&url, &before, &queries, &tmp.join("reports"), &args);
    // The report the coordinator asked for: the observe output of this traffic.
    println!("pgbench transactions per script:");
    for ((f, w, id, side), n) in scripts.files.iter().zip(&counts) {
        println!(
            "  {id} {side} (@{w}, {}): {n}",
            f.file_name().unwrap().to_string_lossy()
        );
    }
    println!("{}{}", o.stdout, o.stderr);
    assert_eq!(
        o.code, 1,
        "one operation is slower: {}{}",
        o.stdout, o.stderr
    );

    let rows = o.csv("observe.csv");
    assert_eq!(rows.len(), 2 * ops.len());
    let row = |id: &str, side: &str| {
        let (repo, name) = id.split_once('/').unwrap();
        rows.iter()
            .find(|r| r["repository"] == repo && r["operation"] == name && r["side"] == side)
            .unwrap_or_else(|| panic!("no row for {id} {side}"))
    };
    let calls = |id: &str, side: &str| row(id, side)["calls"].parse::<u64>().unwrap();
    for ((_, _, id, side), n) in scripts.files.iter().zip(&counts) {
        let r = row(id, side);
        assert_eq!(
            r["orm"],
            if *side == "source" {
                "prisma"
            } else {
                "drizzle"
            }
        );
        if r["verdict"] != "indistinguishable" {
            assert_eq!(
                calls(id, side),
                *n,
                "{id} {side}: observe's calls against pgbench's transactions"
            );
        }
    }
    // The shipped monthly report's two forms are one query tree
    // ($1::timestamp against an inferred timestamp, GROUP BY 1 against the
    // expression): PostgreSQL records them under one query id, so the sides
    // cannot be split, only their sum is exact.
    let monthly = "transaction/monthly-revenue-report";
    assert_eq!(row(monthly, "source")["verdict"], "indistinguishable");
    let per_script = scripts.files.iter().zip(&counts);
    let pgbench_monthly: u64 = per_script
        .filter(|((_, _, id, _), _)| id == monthly)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        calls(monthly, "source") + calls(monthly, "target"),
        pgbench_monthly
    );
    let obs = &o.report()["observe"];
    assert_eq!(
        obs["unmatched_count"], 0,
        "every statement attributed: {obs:#}"
    );
    let verdict = |name: &str| {
        rows.iter()
            .find(|r| r["operation"] == name)
            .map(|r| r["verdict"].clone())
            .unwrap()
    };
    assert_eq!(verdict("find-customer-by-email"), "slower");
    for same in ["find-user-by-email", "find-customer-by-id"] {
        assert_eq!(verdict(same), "same", "{same}: {}", o.stdout);
    }

    let user = row("user/find-user-by-email", "target");
    let staged = (
        user["staging_ratio_p50"].as_str(),
        user["staging_verdict"].as_str(),
    );
    assert_eq!(staged, ("0.9700", "same"));
    let junit = o.text("junit.xml");
    assert!(
        junit.contains("name=\"observe find-customer-by-email\""),
        "{junit}"
    );
    assert!(junit.contains("target slower: production mean"), "{junit}");
    let html = o.text("report.html");
    assert!(html.contains("<table id=\"observe\">"), "{html}");
    assert!(
        html.contains("<td class=\"n\">0.97</td><td>same</td>"),
        "staging beside production: {html}"
    );

    // Metrics for the textfile collector.
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains(
        "parity_observe_verdict{repository=\"customer\",operation=\"find-customer-by-email\",verdict=\"slower\"} 1"
    ));
    assert!(text.contains("parity_last_run_exit_code{command=\"observe\"} 1"));
    promtool_check_metrics(&prom);

    // With a database role per ORM, the monthly report's two spellings of
    // one query tree are told apart by who ran them.
    cluster.exec(
        "shop",
        "CREATE ROLE prisma_app LOGIN; CREATE ROLE drizzle_app LOGIN; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO prisma_app, drizzle_app;",
    );
    let before_roles = tmp.join("before-roles.json");
    save(&url, &before_roles);
    let script = |side: &str| {
        let found = scripts
            .files
            .iter()
            .find(|(_, _, id, s)| id == monthly && *s == side);
        found.unwrap().0.clone()
    };
    let prisma_calls = pgbench_as(
        &cluster,
        "shop",
        "prisma_app",
        &script("source"),
        &scripts,
        90,
    );
    let drizzle_calls = pgbench_as(
        &cluster,
        "shop",
        "drizzle_app",
        &script("target"),
        &scripts,
        10,
    );
    let roles = "--min-calls 5 --operations monthly-revenue-report --source-role prisma_app --target-role drizzle_app";
    let roles: Vec<&str> = roles.split(' ').collect();
    let o = observe(
        &url,
        &before_roles,
        &queries,
        &tmp.join("reports-roles"),
        &roles,
    );
    println!("with a role per ORM:\n{}", o.stdout);
    o.expect_verdict();
    let rows = o.csv("observe.csv");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["calls"], prisma_calls.to_string(), "{}", o.stdout);
    assert_eq!(rows[1]["calls"], drizzle_calls.to_string(), "{}", o.stdout);
    assert_ne!(rows[0]["verdict"], "indistinguishable", "{}", o.stdout);

    // A statement no operation file has is reported, over any share.
    let before2 = tmp.join("before2.json");
    save(&url, &before2);
    for _ in 0..5 {
        cluster.exec("shop", "SELECT count(*) FROM bikes WHERE color = 'red'");
    }
    let o = observe(
        &url,
        &before2,
        &queries,
        &tmp.join("reports2"),
        &["--min-share", "0"],
    );
    o.expect(0);
    let unmatched = o.csv("observe-unmatched.csv");
    let row = unmatched
        .iter()
        .find(|r| r["query"].contains("color"))
        .unwrap_or_else(|| panic!("the new query shape is listed: {unmatched:?}"));
    assert_eq!(
        (row["kind"].as_str(), row["calls"].as_str()),
        ("query", "5")
    );
    assert!(
        o.stderr.contains("unmatched statement (5 calls"),
        "{}",
        o.stderr
    );
    let html = o.text("report.html");
    assert!(html.contains("Production traffic (observe)") && html.contains("color"));
    let csv = o.text("observe.csv");
    assert!(csv.starts_with(
        "repository,operation,side,orm,calls,mean_ms,stddev_ms,rows_per_call,shared_blks_hit,shared_blks_read,ratio,ci_low,ci_high,verdict,"
    ));
    assert!(
        csv.contains("not_enough_traffic"),
        "no traffic, no verdict: {csv}"
    );
}

#[test]
fn observe_for_a_window_without_traffic_gives_no_verdict() {
    let cluster = cluster();
    cluster.exec("postgres", "CREATE DATABASE quiet");
    cluster.exec(
        "quiet",
        "CREATE EXTENSION pg_stat_statements; CREATE TABLE users (id int, email text)",
    );
    let tmp = cluster.dir.path().to_path_buf();
    let mut cmd = parity();
    cmd.args([
        "observe",
        "--url",
        &cluster.url("quiet"),
        "--for",
        "1s",
        "--queries",
    ])
    .arg(root().join("queries/user"));
    let o = cmd.out(tmp.join("r")).run();
    o.expect(0);
    assert!(o.stdout.contains("user/find-user-by-email"), "{}", o.stdout);
    assert!(o.stdout.contains("not_enough_traffic"), "{}", o.stdout);

    // Preloaded, but the extension was never created in this database.
    cluster.exec("postgres", "CREATE DATABASE bare");
    let o = parity()
        .args(["observe", "--url", &cluster.url("bare"), "--for", "1s"])
        .run();
    o.expect_one_line_error(&[
        "loaded but not installed in database bare: run CREATE EXTENSION pg_stat_statements;",
    ]);
}

#[test]
fn a_database_without_pg_stat_statements_gets_one_line_saying_how_to_enable_it() {
    // The shared server has no pg_stat_statements preloaded or installed.
    let db = TempDb::pg("observe_nopgss").create();
    let o = parity()
        .args(["observe", "--url", &db.url, "--for", "1s", "--queries"])
        .arg(root().join("queries"))
        .run();
    let how = [
        "shared_preload_libraries = 'pg_stat_statements'",
        "CREATE EXTENSION pg_stat_statements",
    ];
    o.expect_one_line_error(&how);
    assert!(!o.stderr.contains("postgres@"), "no full URL: {}", o.stderr);
}
