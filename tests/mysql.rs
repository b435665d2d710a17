//! MySQL/MariaDB end to end (issue 12): `check` on `mysql://` URLs against
//! the real MariaDB server. Each test creates its own databases and drops
//! them. The ORM read rules themselves are re-checked against the real
//! ORMs by `scripts/oracle-mariadb/run.sh` (a step of `scripts/test.sh`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use parity::seed::data::{self, Generator, Table, Val};
use serde_json::Value;
use sqlx::Connection;

use crate::support::{block_on, parity, root, seed};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// `mysql://user@host:port`, without a database.
pub fn my_server() -> String {
    let base = std::env::var("PARITY_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => base,
    }
}

/// A MariaDB database that exists for one test.
pub struct MyDb {
    pub name: String,
    pub url: String,
}

impl MyDb {
    pub fn new(tag: &str) -> MyDb {
        let name = format!(
            "parity_t_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let url = format!("{}/{name}", my_server());
        MyDb { name, url }
    }

    /// Creates it empty (for tests that build their own tables).
    pub fn create(self) -> MyDb {
        let name = self.name.clone();
        block_on(async move {
            let mut c = sqlx::MySqlConnection::connect(&format!("{}/mysql", my_server()))
                .await
                .unwrap();
            sqlx::raw_sql(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ))
            .execute(&mut c)
            .await
            .unwrap();
        });
        self
    }

    pub fn exec(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql)
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        block_on(async move {
            if let Ok(mut c) =
                sqlx::MySqlConnection::connect(&format!("{}/mysql", my_server())).await
            {
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{name}`"))
                    .execute(&mut c)
                    .await;
            }
        });
    }
}

fn side(kind: &str, url: &str) -> String {
    let fx = root().join("fixtures/bikeshop/mariadb");
    match kind {
        "prisma" => format!(
            "orm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n",
            fx.join("prisma/schema.prisma").display()
        ),
        "drizzle" => format!(
            "orm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{}\", \"{}\"]\n",
            fx.join("drizzle/meta/0001_snapshot.json").display(),
            fx.join("drizzle/mapping.json").display()
        ),
        // A schema.prisma given as its text (tests' own tables).
        schema => {
            let path = std::env::temp_dir().join(format!(
                "parity_t_schema_{}_{}.prisma",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::write(&path, schema).unwrap();
            format!(
                "orm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n",
                path.display()
            )
        }
    }
}

fn write_config(dir: &Path, source: (&str, &str), target: (&str, &str), extra: &str) -> PathBuf {
    let text = format!(
        "[source]\nname = \"source\"\n{}\n[target]\nname = \"target\"\n{}\n{extra}\n",
        side(source.0, source.1),
        side(target.0, target.1)
    );
    let p = dir.join("parity.toml");
    std::fs::write(&p, text).unwrap();
    p
}

struct Outcome {
    code: i32,
    parity: Vec<BTreeMap<String, String>>,
    differences: Vec<BTreeMap<String, String>>,
    report: Value,
    stderr: String,
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
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

fn check_with(config: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = parity();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    Outcome {
        code: o.status.code().unwrap_or(-1),
        parity: read_csv(&out.join("parity.csv")),
        differences: read_csv(&out.join("differences.csv")),
        report: serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn row<'a>(o: &'a Outcome, table: &str) -> &'a BTreeMap<String, String> {
    o.parity
        .iter()
        .find(|r| r["source_table"] == table)
        .unwrap_or_else(|| panic!("no parity.csv row for {table}: {:?}", o.parity))
}

fn num(r: &BTreeMap<String, String>, col: &str) -> u64 {
    r[col].parse().unwrap()
}

fn keys_by_kind(o: &Outcome, table: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in o.differences.iter().filter(|d| d["source_table"] == table) {
        m.entry(d["kind"].clone())
            .or_default()
            .insert(d["key"].clone());
    }
    m
}

fn planted(drift: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (kind, name) in [
        ("changed", "different"),
        ("deleted", "missing_in_target"),
        ("inserted", "extra_in_target"),
    ] {
        for k in drift[kind].as_array().unwrap() {
            m.entry(name.into())
                .or_default()
                .insert(format!("{{\"id\":{k}}}"));
        }
    }
    m
}

fn notes(o: &Outcome) -> String {
    o.report["notes"].to_string()
}

#[test]
fn mariadb_drift_gives_exact_counts_and_keys() {
    let a = MyDb::new("ma");
    let b = MyDb::new("mb");
    seed(&a.url, 3000, None);
    let drift = seed(&b.url, 3000, Some("changed:10,deleted:5,inserted:7"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        ("prisma", &a.url),
        ("prisma", &b.url),
        "[check]\nchunk_rows = 500\njobs = 2\n",
    );
    let o = check_with(&cfg, &dir.path().join("out"), &[], &[]);
    assert_eq!(o.code, 1, "differences exit 1; stderr: {}", o.stderr);
    let t = row(&o, "transactions");
    assert_eq!(num(t, "different"), 10);
    assert_eq!(num(t, "missing_in_target"), 5);
    assert_eq!(num(t, "extra_in_target"), 7);
    assert_eq!(num(t, "source_rows") + 7 - 5, num(t, "target_rows"));
    assert_eq!(num(t, "matched"), num(t, "source_rows") - 15);
    assert_eq!(keys_by_kind(&o, "transactions"), planted(&drift));
    for d in o.differences.iter().filter(|d| d["kind"] == "different") {
        assert_eq!(d["columns"], "amount", "drift changes amount only");
    }
    for r in o
        .parity
        .iter()
        .filter(|r| r["source_table"] != "transactions")
    {
        assert_eq!(r["status"], "ok", "{r:?}");
    }
    // The report says how the view was taken (root may take the lock).
    assert!(notes(&o).contains("snapshot: locked"), "{}", notes(&o));
}

/// Where the MariaDB fixture's Prisma and Drizzle readings must differ, from
/// the seed's values and the rules the oracle established.
fn predicted(rows: u64) -> BTreeMap<(String, String), BTreeSet<String>> {
    let g = Generator::new(7, rows);
    let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut add = |t: &str, c: &str, k: String| {
        m.entry((t.into(), c.into())).or_default().insert(k);
    };
    let col = |t: Table, name: &str| t.columns().iter().position(|c| *c == name).unwrap();
    let lossy = |v: i64| (v as f64) as i128 != v as i128;
    let mut vals = Vec::new();
    for id in 1..=rows {
        // Prisma cuts DATETIME(6) to milliseconds; Drizzle's string keeps µs.
        if data::has_sub_ms_micros(id) {
            add("transactions", "occurred_at", format!("{{\"id\":{id}}}"));
        }
        g.row(Table::Transactions, id - 1, &mut vals);
        if let Val::Int(v) = vals[col(Table::Transactions, "external_ref")]
            && lossy(v)
        {
            add("transactions", "external_ref", format!("{{\"id\":{id}}}"));
        }
    }
    for c in 0..g.count(Table::Customers) {
        g.row(Table::Customers, c, &mut vals);
        if let Val::Int(v) = vals[col(Table::Customers, "loyalty_points")]
            && lossy(v)
        {
            add(
                "customers",
                "loyalty_points",
                format!("{{\"id\":{}}}", c + 1),
            );
        }
    }
    for r in 0..g.count(Table::Repairs) {
        g.row(Table::Repairs, r, &mut vals);
        if let Val::Decimal(d) = &vals[col(Table::Repairs, "estimated_cost")] {
            let f: f64 = d.parse().unwrap();
            if normalize(&format!("{f}")) != normalize(d) {
                add(
                    "repairs",
                    "estimated_cost",
                    format!("{{\"id\":\"{}\"}}", g.repair_id(r)),
                );
            }
        }
    }
    m
}

fn normalize(d: &str) -> String {
    let d = d.trim();
    if let Some((i, f)) = d.split_once('.') {
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            i.to_string()
        } else {
            format!("{i}.{f}")
        }
    } else {
        d.to_string()
    }
}

fn found_differences(o: &Outcome) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut found: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for d in &o.differences {
        assert_eq!(d["kind"], "different", "no row is missing or extra: {d:?}");
        for c in d["columns"].split(';') {
            found
                .entry((d["source_table"].clone(), c.to_string()))
                .or_default()
                .insert(d["key"].clone());
        }
    }
    found
}

#[test]
fn mariadb_same_database_differs_only_where_the_orms_predict() {
    let db = MyDb::new("msame");
    seed(&db.url, 2500, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        ("prisma", &db.url),
        ("drizzle", &db.url),
        "[check]\nchunk_rows = 600\njobs = 2\n",
    );
    let o = check_with(&cfg, &dir.path().join("out"), &[], &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let expected = predicted(2500);
    assert!(!expected.is_empty());
    assert_eq!(found_differences(&o), expected);
}

/// Writes to `transactions` and `customers` until stopped; returns the count.
fn writer(
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        block_on(async move {
            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                sqlx::raw_sql(
                    "INSERT INTO transactions (customer_id, kind, amount, currency, occurred_at, created_at, updated_at) \
                     VALUES (1, 'SALE', 1.00, 'EUR', NOW(6), NOW(3), NOW(3)); \
                     UPDATE transactions SET amount = amount + 1 WHERE id = 1 + FLOOR(RAND() * 3000); \
                     UPDATE customers SET phone = MD5(RAND()) WHERE id = 1 + FLOOR(RAND() * 100);",
                )
                .execute(&mut c)
                .await
                .unwrap();
                n += 1;
            }
            n
        })
    })
}

fn concurrent_check(env: &[(&str, &str)]) -> Outcome {
    let db = MyDb::new("mlive");
    seed(&db.url, 4000, None);
    let dir = tempfile::tempdir().unwrap();
    // The same mapping on both sides, each side read separately.
    let cfg = write_config(
        dir.path(),
        ("prisma", &db.url),
        ("prisma", &db.url),
        "[check]\nchunk_rows = 300\njobs = 3\nshare_reads = false\n",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let w = writer(db.url.clone(), stop.clone());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let o = check_with(&cfg, &dir.path().join("out"), &[], env);
    stop.store(true, Ordering::SeqCst);
    assert!(w.join().unwrap() > 0);
    assert_eq!(o.code, 0, "{}\n{:?}", o.stderr, o.differences);
    let t = row(&o, "transactions");
    assert_eq!(t["source_rows"], t["target_rows"]);
    assert_eq!(num(t, "matched"), num(t, "source_rows"));
    assert!(o.differences.is_empty());
    o
}

#[test]
fn mariadb_concurrent_writes_give_no_false_differences_under_the_lock() {
    let o = concurrent_check(&[]);
    assert!(notes(&o).contains("snapshot: locked"), "{}", notes(&o));
}

#[test]
fn mariadb_concurrent_writes_give_no_false_differences_without_the_lock() {
    // As a user without RELOAD: every reader has its own snapshot, and
    // chunks that differ are re-read in one fresh snapshot.
    let o = concurrent_check(&[("PARITY_MYSQL_NO_LOCK", "1")]);
    assert!(notes(&o).contains("snapshot: per-worker"), "{}", notes(&o));
}

#[test]
fn mariadb_a_killed_reader_is_retried_and_counts_stay_right() {
    let a = MyDb::new("mka");
    let b = MyDb::new("mkb");
    seed(&a.url, 3000, None);
    let drift = seed(&b.url, 3000, Some("changed:10,deleted:5,inserted:7"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        ("prisma", &a.url),
        ("prisma", &b.url),
        "[check]\nchunk_rows = 500\njobs = 2\n",
    );
    // The hook kills the reading session of chunk 2 (KILL CONNECTION from
    // another session) right before it reads.
    let o = check_with(
        &cfg,
        &dir.path().join("out"),
        &["--tables", "transactions"],
        &[("PARITY_FAULT_KILL_READER_AT_CHUNK", "2")],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let t = &o.report["tables"][0];
    assert_eq!(t["retries"], 1, "exactly one chunk read was retried");
    assert_eq!(t["different"], 10);
    assert_eq!(t["missing_in_target"], 5);
    assert_eq!(t["extra_in_target"], 7);
    assert_eq!(keys_by_kind(&o, "transactions"), planted(&drift));
}

/// Keys equal under a collation but different in bytes: `a`/`A` (case),
/// `x`/`x ` (PAD SPACE), `é`/`e` (accent), on enough rows for many chunks.
#[test]
fn mariadb_text_keys_under_each_collation_are_exact() {
    let a = MyDb::new("mca").create();
    let b = MyDb::new("mcb").create();
    let collations = ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_bin"];
    for (i, coll) in collations.iter().enumerate() {
        let ddl = format!(
            "CREATE TABLE k{i} (k VARCHAR(20) COLLATE {coll} NOT NULL PRIMARY KEY, v INT NOT NULL);"
        );
        let filler: Vec<String> = (0..120)
            .map(|n| format!("('{}{n:03}', {n})", if n % 2 == 0 { "k" } else { "K_" }))
            .collect();
        let common = format!("INSERT INTO k{i} VALUES {};", filler.join(", "));
        a.exec(&format!(
            "{ddl}{common}INSERT INTO k{i} VALUES ('a', 1), ('x', 2), ('é', 3), ('Zed', 4), ('ß', 5);"
        ));
        b.exec(&format!(
            "{ddl}{common}INSERT INTO k{i} VALUES ('A', 1), ('x ', 2), ('e', 3), ('Zed', 40), ('ß', 5);"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = (0..collations.len())
        .map(|i| {
            format!(
                "model K{i} {{\n  k String @id @db.VarChar(20)\n  v Int\n  @@map(\"k{i}\")\n}}\n"
            )
        })
        .collect::<String>();
    let schema = format!("datasource db {{\n  provider = \"mysql\"\n}}\n{schema}");
    let cfg = write_config(
        dir.path(),
        (&schema, &a.url),
        (&schema, &b.url),
        "[check]\nchunk_rows = 7\njobs = 2\n",
    );
    let o = check_with(&cfg, &dir.path().join("out"), &[], &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let key = |k: &str| serde_json::json!({ "k": k }).to_string();
    for (i, coll) in collations.iter().enumerate() {
        let t = format!("k{i}");
        let r = row(&o, &t);
        assert!(num(r, "matched") == 121, "{t}: {r:?}");
        let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        want.insert(
            "missing_in_target".into(),
            ["a", "x", "é"].iter().map(|k| key(k)).collect(),
        );
        want.insert(
            "extra_in_target".into(),
            ["A", "x ", "e"].iter().map(|k| key(k)).collect(),
        );
        want.insert("different".into(), [key("Zed")].into_iter().collect());
        assert_eq!(keys_by_kind(&o, &t), want, "{t} ({coll})");
    }
}

#[test]
fn mariadb_key_collations_that_differ_between_sides_are_an_error_row() {
    let a = MyDb::new("mda").create();
    let b = MyDb::new("mdb").create();
    a.exec("CREATE TABLE t (k VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT);");
    b.exec("CREATE TABLE t (k VARCHAR(10) COLLATE utf8mb4_bin PRIMARY KEY, v INT);");
    let dir = tempfile::tempdir().unwrap();
    let schema = "datasource db {\n  provider = \"mysql\"\n}\nmodel T {\n  k String @id @db.VarChar(10)\n  v Int?\n  @@map(\"t\")\n}\n";
    let cfg = write_config(dir.path(), (schema, &a.url), (schema, &b.url), "");
    let o = check_with(&cfg, &dir.path().join("out"), &[], &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(row(&o, "t")["status"], "error");
    assert!(o.stderr.contains("collation"), "{}", o.stderr);
}

#[test]
fn mariadb_bad_inputs_exit_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // Wrong password: never printed.
    let host = my_server().replace("mysql://", "");
    let host = host.rsplit('@').next().unwrap().to_string();
    let bad = format!("mysql://nobody:secretpw@{host}/nothere");
    let cfg = write_config(dir.path(), ("prisma", &bad), ("prisma", &bad), "");
    let o = parity()
        .env("PARITY_CONNECT_TIMEOUT", "1")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("o1"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("secretpw"), "never print a password: {err}");
    // Nothing listening.
    let cfg = write_config(
        dir.path(),
        ("prisma", "mysql://root@127.0.0.1:1/x"),
        ("prisma", "mysql://root@127.0.0.1:1/x"),
        "",
    );
    let o = parity()
        .env("PARITY_CONNECT_TIMEOUT", "1")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("o2"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot connect"));
    // A PostgreSQL mapping on a mysql:// URL.
    let db = MyDb::new("mbad").create();
    let pg_schema = root().join("fixtures/bikeshop/prisma/schema.prisma");
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            "[source]\norm = \"prisma\"\nurl = \"{u}\"\nmapping = \"{m}\"\n[target]\norm = \"prisma\"\nurl = \"{u}\"\nmapping = \"{m}\"\n",
            u = db.url,
            m = pg_schema.display()
        ),
    )
    .unwrap();
    let o = parity()
        .arg("--config")
        .arg(dir.path().join("p.toml"))
        .arg("--out")
        .arg(dir.path().join("o3"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is for postgresql"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

struct Run {
    code: i32,
    stderr: String,
    out: PathBuf,
}

impl Run {
    fn csv(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        read_csv(&self.out.join(name))
    }
    fn report(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.out.join("report.json")).unwrap()).unwrap()
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
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out: out.to_path_buf(),
    }
}

/// `mariadb-dump --single-transaction` of `from` restored into `into`.
fn dump_and_restore(from: &MyDb, into: &MyDb, dir: &Path) {
    let server = my_server();
    let rest = server.trim_start_matches("mysql://");
    let (user, hostport) = rest.split_once('@').unwrap_or(("root", rest));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let conn = |c: &mut std::process::Command| {
        c.args(["--protocol=tcp", "-h", host, "-P", port, "-u", user]);
    };
    let dump = dir.join(format!("{}.sql", from.name));
    let mut c = std::process::Command::new("mariadb-dump");
    conn(&mut c);
    let o = c
        .args([
            "--single-transaction",
            "--triggers",
            "--routines",
            "--hex-blob",
        ])
        .arg(&from.name)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "mariadb-dump: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&dump, &o.stdout).unwrap();
    let mut c = std::process::Command::new("mariadb");
    conn(&mut c);
    let o = c
        .arg(&into.name)
        .stdin(std::fs::File::open(&dump).unwrap())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn mariadb_backup_round_trip_through_mariadb_dump_is_proven_and_tampering_found() {
    let src = MyDb::new("mbk");
    seed(&src.url, 1500, None);
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.parity");
    let o = parity()
        .args([
            "manifest",
            "--url",
            &src.url,
            "--chunk-rows",
            "400",
            "--row-hashes",
            "--manifest",
        ])
        .arg(&m)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let restored = MyDb::new("mrs").create();
    dump_and_restore(&src, &restored, dir.path());
    let m_arg = m.to_str().unwrap();

    let clean = backup(
        &dir.path().join("clean"),
        &["--manifest", m_arg, "--target", &restored.url],
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    // The report says what the proof rests on (binary logging is off here,
    // or the position to compare with the dump's).
    let notes = clean.report()["notes"].to_string();
    assert!(notes.contains("cannot share a snapshot"), "{notes}");
    let seqs: Vec<_> = clean
        .csv("catalog.csv")
        .into_iter()
        .filter(|r| r["kind"] == "sequence_value")
        .collect();
    assert!(
        seqs.iter()
            .any(|r| r["object"] == "transactions.auto_increment" && r["finding"] == "ok"),
        "{seqs:?}"
    );
    let live = backup(
        &dir.path().join("live"),
        &["--source", &src.url, "--target", &restored.url],
    );
    assert_eq!(live.code, 0, "{}", live.stderr);

    // An AUTO_INCREMENT ahead of the manifest passes; a deleted row, a
    // changed value and a dropped index are each named.
    restored.exec(
        "INSERT INTO items (sku, name, price, stock, active) VALUES ('zz-new', 'x', 1.00, 1, 1); \
         DELETE FROM items WHERE sku = 'zz-new';",
    );
    let ahead = backup(
        &dir.path().join("ahead"),
        &["--manifest", m_arg, "--target", &restored.url],
    );
    assert_eq!(ahead.code, 0, "{}", ahead.stderr);
    assert!(
        ahead
            .csv("catalog.csv")
            .iter()
            .any(|r| r["object"] == "items.auto_increment" && r["finding"] == "ahead")
    );
    restored.exec(
        "DELETE FROM transactions WHERE id = 17; UPDATE transactions SET amount = amount + 1 WHERE id = 23; \
         DROP INDEX bikes_brand_serial_number_key ON bikes;",
    );
    let bad = backup(
        &dir.path().join("bad"),
        &["--manifest", m_arg, "--target", &restored.url],
    );
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    let t = bad
        .csv("parity.csv")
        .into_iter()
        .find(|r| r["source_table"] == "transactions")
        .unwrap();
    assert_eq!(t["missing_in_target"], "1", "{t:?}");
    assert_eq!(t["different"], "1", "{t:?}");
    let keys: BTreeSet<String> = bad
        .csv("differences.csv")
        .into_iter()
        .map(|d| d["key"].clone())
        .collect();
    assert_eq!(
        keys,
        ["{\"id\":17}", "{\"id\":23}"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let catalog = bad.csv("catalog.csv");
    assert!(
        catalog.iter().any(|r| r["kind"] == "index"
            && r["object"] == "bikes.bikes_brand_serial_number_key"
            && r["finding"] == "missing_in_target"),
        "{catalog:?}"
    );
}

/// `CHECKSUM TABLE` of the tables a write operation touches.
fn checksums(db: &MyDb) -> Vec<(String, Option<i64>)> {
    let url = db.url.clone();
    block_on(async move {
        let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
        let rows: Vec<(String, Option<i64>)> =
            sqlx::query_as("CHECKSUM TABLE repairs, `_ItemToRepair`, items")
                .fetch_all(&mut c)
                .await
                .unwrap();
        rows
    })
}

#[test]
fn mariadb_timing_runs_the_captured_operations_and_rolls_writes_back() {
    let db = MyDb::new("mtime");
    seed(&db.url, 800, None);
    let before = checksums(&db);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/mariadb/parity.toml", "--out"])
        .arg(&out)
        .args(["timing", "--iterations", "6", "--warmup", "1", "--explain"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}: {stderr}",
        o.status.code()
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let ops = report["timing"]["operations"].as_array().unwrap();
    let names: BTreeSet<&str> = ops
        .iter()
        .map(|o| o["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "find-user-by-email",
            "list-customer-bikes",
            "list-customer-bikes-with-repairs",
            "create-repair-with-items",
            "customer-transaction-total",
            "monthly-revenue-report"
        ]
        .into_iter()
        .collect()
    );
    for op in ops {
        // Both ORMs' SQL return the same rows (speed is not asserted).
        assert!(
            op["verdict"] != "mismatch" && op["verdict"] != "error",
            "{op}"
        );
        assert_eq!(op["source"]["n"], 6, "{op}");
    }
    assert_eq!(
        checksums(&db),
        before,
        "a rolled-back write changed the data"
    );
}

#[test]
fn mariadb_timing_finds_a_mismatch() {
    let db = MyDb::new("mmis");
    seed(&db.url, 400, None);
    let dir = tempfile::tempdir().unwrap();
    // The Drizzle side loses its WHERE term: other customers' bikes.
    let text =
        std::fs::read_to_string(root().join("queries/mariadb/bike/list-customer-bikes.toml"))
            .unwrap();
    let edited = text.replace(
        "where `bikes`.`customer_id` = ? order by",
        "where `bikes`.`customer_id` >= ? order by",
    );
    assert_ne!(edited, text);
    let q = dir.path().join("queries");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join("list-customer-bikes.toml"), edited).unwrap();
    let out = dir.path().join("out");
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/mariadb/parity.toml", "--out"])
        .arg(&out)
        .args(["timing", "--iterations", "4", "--warmup", "1", "--queries"])
        .arg(&q)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["timing"]["operations"][0]["verdict"], "mismatch");
}

#[test]
fn mariadb_run_gates_each_repository() {
    let db = MyDb::new("mrun");
    seed(&db.url, 600, None);
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/mariadb/parity.toml", "--out"])
        .arg(dir.path())
        .args(["run", "--repository", "bike"])
        .env("PARITY_ITERATIONS", "4")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("bike (drizzle_bike_repo)") && stdout.contains("READY"),
        "{stdout}"
    );
}
