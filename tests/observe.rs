//! `parity observe` against a private PostgreSQL cluster that the test
//! starts with `pg_stat_statements` preloaded and `compute_query_id` on, on
//! its own port and data directory under the test's temp dir (the shared
//! server is left alone). `pgbench` replays the shipped operations' captured
//! SQL for both ORMs in a 90/10 Prisma/Drizzle mix for a few seconds; then
//! `observe` must attribute every statement, count exactly pgbench's
//! transactions per script, call identical-cost operations `same` and an
//! operation whose Drizzle SQL lost its index `slower`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use parity::timing::ops::{self, Operation, ParamRef, Piece};
use serde_json::Value;
use sqlx::{Connection, Row};

use crate::support::{self, block_on, parity};

/// A PostgreSQL cluster of our own, stopped and removed on drop.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
}

fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().expect(
        "no initdb under /usr/lib/postgresql/*/bin; run scripts/services.sh to install PostgreSQL",
    )
}

fn is_root() -> bool {
    String::from_utf8_lossy(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0"
}

/// Runs a server binary, as the `postgres` user when we are root
/// (initdb and postgres refuse root).
fn as_pg(bin: &Path, args: &[&str]) -> std::process::Output {
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin)
            .args(args)
            .output()
    } else {
        Command::new(bin).args(args).output()
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Cluster {
    pub fn start() -> Cluster {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = dir.path().join("data");
        as_pg(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements \
             -c compute_query_id=on -c pg_stat_statements.track=top -c shared_buffers=32MB -c max_connections=30 \
             -c fsync=off -c synchronous_commit=off",
            dir.path().display()
        );
        as_pg(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                dir.path().join("server.log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        Cluster { dir, port, bin }
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn exec(&self, db: &str, sql: &str) {
        let url = self.url(db);
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        });
    }

    pub fn text(&self, db: &str, sql: &str) -> Vec<String> {
        let url = self.url(db);
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql)
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    r.try_get::<Option<String>, _>(0)
                        .unwrap()
                        .unwrap_or_default()
                })
                .collect()
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&pg_ctl)
                .args(args)
                .output()
        } else {
            Command::new(&pg_ctl).args(args).output()
        };
    }
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
        let row = cluster.text(
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
                                    let values = cluster.text(
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

/// Runs pgbench, `per_client` transactions on each of 2 clients in one
/// thread; returns transactions per script, in script order. (pgbench 15's
/// threads add to the per-script counts without a lock, so with `-j 2` one
/// can come out a transaction short of what the server ran.)
fn pgbench(cluster: &Cluster, db: &str, scripts: &Scripts, per_client: u32) -> Vec<u64> {
    let mut cmd = Command::new("pgbench");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port.to_string(),
        "-U",
        "postgres",
    ])
    .args([
        "-n",
        "-M",
        "extended",
        "-c",
        "2",
        "-j",
        "1",
        "-t",
        &per_client.to_string(),
    ]);
    for (k, v) in &scripts.vars {
        cmd.arg("-D").arg(format!("{k}={v}"));
    }
    for (f, w, _, _) in &scripts.files {
        cmd.arg("-f").arg(format!("{}@{w}", f.display()));
    }
    cmd.arg(db);
    let out = cmd
        .output()
        .expect("pgbench (postgresql-contrib) is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_eq!(
        counts.iter().sum::<u64>(),
        2 * per_client as u64,
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
    let mut cmd = Command::new("pgbench");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port.to_string(),
        "-U",
        user,
    ])
    .args(["-n", "-M", "extended", "-t", &transactions.to_string()]);
    for (k, v) in &scripts.vars {
        cmd.arg("-D").arg(format!("{k}={v}"));
    }
    cmd.arg("-f").arg(file).arg(db);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pgbench as {user}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .unwrap_or_else(|| panic!("pgbench output: {text}"));
    line.split('/').next().unwrap().trim().parse().unwrap()
}

/// The shipped PostgreSQL read operations, plus one whose Drizzle SQL needs
/// an index on lower(email) that the test drops.
fn replay_queries(dir: &Path) -> PathBuf {
    let q = dir.join("queries");
    for repo in ["bike", "user", "transaction"] {
        std::fs::create_dir_all(q.join(repo)).unwrap();
        for e in std::fs::read_dir(support::root().join("queries").join(repo)).unwrap() {
            let p = e.unwrap().path();
            let op = ops::load_file(&p).unwrap();
            if !op.writes {
                std::fs::copy(&p, q.join(repo).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::create_dir_all(q.join("customer")).unwrap();
    std::fs::write(
        q.join("customer/find-customer-by-email.toml"),
        r#"name = "find-customer-by-email"
repository = "customer"
description = "A customer by e-mail: Prisma's findUnique against a case-insensitive Drizzle lookup that needs an index on lower(email)."
dialect = "postgresql"
params_from = "SELECT email FROM customers ORDER BY id DESC LIMIT 1"

[source]
orm = "prisma"
statements = ["SELECT \"public\".\"customers\".\"id\", \"public\".\"customers\".\"email\" FROM \"public\".\"customers\" WHERE (\"public\".\"customers\".\"email\" = $1 AND 1=1) LIMIT $2 OFFSET $3"]
params = ["email", 1, 0]

[target]
orm = "drizzle"
statements = ["select \"id\", \"email\" from \"customers\" where lower(\"customers\".\"email\") = lower($1) limit $2"]
params = ["email", 1]
"#,
    )
    .unwrap();
    // Identical cost, told apart by the order of the selected columns.
    std::fs::write(
        q.join("customer/find-customer-by-id.toml"),
        r#"name = "find-customer-by-id"
repository = "customer"
description = "A customer by id: the same index lookup on both sides."
dialect = "postgresql"
params_from = "SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET 7"

[source]
orm = "prisma"
statements = ["SELECT \"public\".\"customers\".\"id\", \"public\".\"customers\".\"email\" FROM \"public\".\"customers\" WHERE \"public\".\"customers\".\"id\" = $1 LIMIT $2"]
params = ["id", 1]

[target]
orm = "drizzle"
statements = ["select \"email\", \"id\" from \"customers\" where \"customers\".\"id\" = $1 limit $2"]
params = ["id", 1]
"#,
    )
    .unwrap();
    q
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn observe_attributes_pgbench_traffic_per_operation_and_orm() {
    let cluster = Cluster::start();
    cluster.exec("postgres", "CREATE DATABASE shop");
    let url = cluster.url("shop");
    support::seed(&url, 10_000, None);
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
    let out = parity()
        .args(["observe", "--url", &url, "--save"])
        .arg(&before)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let started = std::time::Instant::now();
    let counts = pgbench(&cluster, "shop", &scripts, 3000);
    println!("pgbench: {:.1} s", started.elapsed().as_secs_f64());

    // A staging result of `parity timing` for one operation, shown beside.
    let staging = tmp.join("staging.json");
    std::fs::write(
        &staging,
        r#"{"timing": {"operations": [{"repository": "user", "operation": "find-user-by-email",
            "comparison": {"ratio_p50": 0.97, "ratio_p95": 1.0, "ci_low": 0.9, "ci_high": 1.05}, "verdict": "same"}]}}"#,
    )
    .unwrap();
    let reports = tmp.join("reports");
    let prom = tmp.join("observe.prom");
    let out = parity()
        // The replayed statements take 10–50 µs: on a shared CI machine a
        // margin of 25% keeps scheduling noise from deciding `same` (the
        // slowed operation is over 10× slower).
        .args([
            "observe",
            "--url",
            &url,
            "--min-calls",
            "20",
            "--max-slowdown",
            "0.25",
            "--since",
        ])
        .arg(&before)
        .arg("--queries")
        .arg(&queries)
        .arg("--out")
        .arg(&reports)
        .arg("--prometheus")
        .arg(&prom)
        .arg("--staging")
        .arg(&staging)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // The report the coordinator asked for: the observe output of this traffic.
    println!("pgbench transactions per script:");
    for ((f, w, id, side), n) in scripts.files.iter().zip(&counts) {
        println!(
            "  {id} {side} (@{w}, {}): {n}",
            f.file_name().unwrap().to_string_lossy()
        );
    }
    println!("{stdout}{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "one operation is slower: {stdout}{stderr}"
    );

    let rows = csv_rows(&reports.join("observe.csv"));
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
        if r["verdict"] == "indistinguishable" {
            continue;
        }
        assert_eq!(
            calls(id, side),
            *n,
            "{id} {side}: observe's calls against pgbench's transactions"
        );
    }
    // The shipped monthly report's two forms are one query tree
    // ($1::timestamp against an inferred timestamp, GROUP BY 1 against the
    // expression): PostgreSQL records them under one query id, so the sides
    // cannot be split, only their sum is exact.
    let monthly = "transaction/monthly-revenue-report";
    assert_eq!(row(monthly, "source")["verdict"], "indistinguishable");
    let pgbench_monthly: u64 = scripts
        .files
        .iter()
        .zip(&counts)
        .filter(|((_, _, id, _), _)| id == monthly)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        calls(monthly, "source") + calls(monthly, "target"),
        pgbench_monthly
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let obs = &json["observe"];
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
        assert_eq!(verdict(same), "same", "{same}: {stdout}");
    }

    let user = row("user/find-user-by-email", "target");
    assert_eq!(
        (
            user["staging_ratio_p50"].as_str(),
            user["staging_verdict"].as_str()
        ),
        ("0.9700", "same")
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(
        junit.contains("name=\"observe find-customer-by-email\""),
        "{junit}"
    );
    assert!(junit.contains("target slower: production mean"), "{junit}");
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
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
    let out = parity()
        .args(["observe", "--url", &url, "--save"])
        .arg(&before_roles)
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = |side: &str| {
        let (f, ..) = scripts
            .files
            .iter()
            .find(|(_, _, id, s)| id == monthly && *s == side)
            .unwrap();
        f.clone()
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
    let reports_roles = tmp.join("reports-roles");
    let out = parity()
        .args(["observe", "--url", &url, "--min-calls", "5", "--since"])
        .arg(&before_roles)
        .arg("--queries")
        .arg(&queries)
        .args(["--operations", "monthly-revenue-report"])
        .args([
            "--source-role",
            "prisma_app",
            "--target-role",
            "drizzle_app",
            "--out",
        ])
        .arg(&reports_roles)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    println!("with a role per ORM:\n{stdout}");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{stdout}"
    );
    let rows = csv_rows(&reports_roles.join("observe.csv"));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["calls"], prisma_calls.to_string(), "{stdout}");
    assert_eq!(rows[1]["calls"], drizzle_calls.to_string(), "{stdout}");
    assert_ne!(rows[0]["verdict"], "indistinguishable", "{stdout}");

    // A statement no operation file has is reported, over any share.
    let before2 = tmp.join("before2.json");
    let out = parity()
        .args(["observe", "--url", &url, "--save"])
        .arg(&before2)
        .output()
        .unwrap();
    assert!(out.status.success());
    for _ in 0..5 {
        cluster.exec("shop", "SELECT count(*) FROM bikes WHERE color = 'red'");
    }
    let reports2 = tmp.join("reports2");
    let out = parity()
        .args(["observe", "--url", &url, "--min-share", "0", "--since"])
        .arg(&before2)
        .arg("--queries")
        .arg(&queries)
        .arg("--out")
        .arg(&reports2)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let unmatched = csv_rows(&reports2.join("observe-unmatched.csv"));
    let row = unmatched
        .iter()
        .find(|r| r["query"].contains("color"))
        .unwrap_or_else(|| panic!("the new query shape is listed: {unmatched:?}"));
    assert_eq!(row["kind"], "query");
    assert_eq!(row["calls"], "5");
    assert!(stderr.contains("unmatched statement (5 calls"), "{stderr}");
    let html = std::fs::read_to_string(reports2.join("report.html")).unwrap();
    assert!(html.contains("Production traffic (observe)") && html.contains("color"));
    let csv = std::fs::read_to_string(reports2.join("observe.csv")).unwrap();
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
    let cluster = Cluster::start();
    cluster.exec("postgres", "CREATE DATABASE quiet");
    cluster.exec(
        "quiet",
        "CREATE EXTENSION pg_stat_statements; CREATE TABLE users (id int, email text)",
    );
    let tmp = cluster.dir.path().to_path_buf();
    let out = parity()
        .args([
            "observe",
            "--url",
            &cluster.url("quiet"),
            "--for",
            "1s",
            "--queries",
        ])
        .arg(support::root().join("queries/user"))
        .arg("--out")
        .arg(tmp.join("r"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("user/find-user-by-email"), "{stdout}");
    assert!(stdout.contains("not_enough_traffic"), "{stdout}");

    // Preloaded, but the extension was never created in this database.
    cluster.exec("postgres", "CREATE DATABASE bare");
    let out = parity()
        .args(["observe", "--url", &cluster.url("bare"), "--for", "1s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "loaded but not installed in database bare: run CREATE EXTENSION pg_stat_statements;"
        ),
        "{stderr}"
    );
}

#[test]
fn a_database_without_pg_stat_statements_gets_one_line_saying_how_to_enable_it() {
    // The shared server has no pg_stat_statements preloaded or installed.
    let db = support::PgDb::new("observe_nopgss").create();
    let out = parity()
        .args(["observe", "--url", &db.url, "--for", "1s", "--queries"])
        .arg(support::root().join("queries"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("shared_preload_libraries = 'pg_stat_statements'")
            && stderr.contains("CREATE EXTENSION pg_stat_statements"),
        "{stderr}"
    );
    assert!(!stderr.contains("postgres@"), "no full URL: {stderr}");
}

/// `promtool check metrics` on a file (Debian's `prometheus` package;
/// scripts/test.sh installs it and sets PARITY_REQUIRE_PROMTOOL).
pub fn promtool_check_metrics(path: &Path) {
    let out = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(path).unwrap())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            // scripts/test.sh installs promtool and sets this.
            assert!(
                std::env::var_os("PARITY_REQUIRE_PROMTOOL").is_none(),
                "promtool: {e}"
            );
            eprintln!(
                "promtool not installed ({e}): metrics not linted; scripts/test.sh installs it"
            );
            return;
        }
    };
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
