//! `parity check` end to end: the real binary against real PostgreSQL and
//! SQLite databases that each test creates and drops.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use parity::seed::data::{self, Generator, Table, Val};
use serde_json::Value;
use sqlx::Connection;

use crate::support::{PgDb, block_on, parity, root, seed};

fn write_config(
    dir: &Path,
    source_url: &str,
    target_url: &str,
    source: &str,
    target: &str,
    extra: &str,
) -> PathBuf {
    let fx = root().join("fixtures/bikeshop");
    let side = |kind: &str, url: &str| -> String {
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
            "sqlite-prisma" => format!(
                "orm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n",
                fx.join("sqlite/prisma/schema.prisma").display()
            ),
            other => format!("{other}\nurl = \"{url}\"\n"),
        }
    };
    let text = format!(
        "[source]\nname = \"source\"\n{}\n[target]\nname = \"target\"\n{}\n{extra}\n",
        side(source, source_url),
        side(target, target_url)
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

fn check(config: &Path, out: &Path, args: &[&str]) -> Outcome {
    let o = parity()
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    check_outcome_from(out, o)
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

/// kind → keys, for one table.
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

fn assert_drift_found(o: &Outcome, drift: &Value) {
    assert_eq!(o.code, 1, "differences exit 1; stderr: {}", o.stderr);
    let t = row(o, "transactions");
    assert_eq!(num(t, "different"), 10);
    assert_eq!(num(t, "missing_in_target"), 5);
    assert_eq!(num(t, "extra_in_target"), 7);
    assert_eq!(num(t, "source_rows") + 7 - 5, num(t, "target_rows"));
    assert_eq!(num(t, "matched"), num(t, "source_rows") - 15);
    assert_eq!(t["status"], "differs");
    assert_eq!(keys_by_kind(o, "transactions"), planted(drift));
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
}

#[test]
fn drift_gives_exact_counts_and_keys_on_postgres() {
    let a = PgDb::new("a");
    let b = PgDb::new("b");
    seed(&a.url, 3000, None);
    let drift = seed(&b.url, 3000, Some("changed:10,deleted:5,inserted:7"));
    let dir = tempfile::tempdir().unwrap();
    // Several chunks per table and two sessions per side.
    let cfg = write_config(
        dir.path(),
        &a.url,
        &b.url,
        "prisma",
        "prisma",
        "[check]\nchunk_rows = 700\njobs = 2\n",
    );
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_drift_found(&o, &drift);
    assert!(o.report["tables"][0]["chunks"].as_u64().unwrap() >= 1);
}

#[test]
fn drift_gives_exact_counts_and_keys_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let a = format!("sqlite:{}", dir.path().join("a.db").display());
    let b = format!("sqlite:{}", dir.path().join("b.db").display());
    seed(&a, 3000, None);
    let drift = seed(&b, 3000, Some("changed:10,deleted:5,inserted:7"));
    let cfg = write_config(
        dir.path(),
        &a,
        &b,
        "sqlite-prisma",
        "sqlite-prisma",
        "[check]\nchunk_rows = 700\n",
    );
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_drift_found(&o, &drift);
}

/// The keys where the PostgreSQL fixture's Prisma and Drizzle readings must
/// differ, from the seed's values and the ORM rules alone.
fn predicted_pg(rows: u64) -> BTreeMap<(String, String), BTreeSet<String>> {
    let g = Generator::new(7, rows);
    let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut add = |t: &str, c: &str, k: String| {
        m.entry((t.into(), c.into())).or_default().insert(k);
    };
    let col = |t: Table, name: &str| t.columns().iter().position(|c| *c == name).unwrap();
    let mut vals = Vec::new();
    for id in 1..=rows {
        // Prisma cuts to milliseconds; Drizzle's mode 'string' keeps µs.
        if data::has_sub_ms_micros(id) {
            add("transactions", "occurred_at", format!("{{\"id\":{id}}}"));
        }
        // Drizzle bigint mode 'number' holds the f64-rounded integer.
        g.row(Table::Transactions, id - 1, &mut vals);
        if let Val::Int(v) = vals[col(Table::Transactions, "external_ref")]
            && (v as f64) as i128 != v as i128
        {
            add("transactions", "external_ref", format!("{{\"id\":{id}}}"));
        }
    }
    for c in 0..g.count(Table::Customers) {
        g.row(Table::Customers, c, &mut vals);
        if let Val::Int(v) = vals[col(Table::Customers, "loyalty_points")]
            && (v as f64) as i128 != v as i128
        {
            add(
                "customers",
                "loyalty_points",
                format!("{{\"id\":{}}}", c + 1),
            );
        }
    }
    // Drizzle numeric mode 'number': Number() keeps ~15-17 significant digits.
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

/// An exact decimal without trailing zeros.
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

#[test]
fn same_database_both_mappings_differ_only_where_orm_semantics_predict() {
    let db = PgDb::new("same");
    seed(&db.url, 2500, None);
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/parity.toml", "--out"])
        .arg(dir.path())
        .args(["check", "--jobs", "2", "--chunk-rows", "600"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut r = csv::Reader::from_path(dir.path().join("differences.csv")).unwrap();
    let mut found: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[3], "different", "no row is missing or extra: {rec:?}");
        for c in rec[4].split(';') {
            found
                .entry((rec[0].to_string(), c.to_string()))
                .or_default()
                .insert(rec[2].to_string());
        }
    }
    let expected = predicted_pg(2500);
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
}

#[test]
fn a_check_during_concurrent_writes_reports_no_false_differences() {
    let db = PgDb::new("live");
    seed(&db.url, 4000, None);
    let dir = tempfile::tempdir().unwrap();
    // The same mapping on both sides, each side read separately: only one
    // shared snapshot keeps them equal while rows change underneath.
    let cfg = write_config(
        dir.path(),
        &db.url,
        &db.url,
        "prisma",
        "prisma",
        "[check]\nchunk_rows = 300\njobs = 3\nshare_reads = false\n",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let url = db.url.clone();
        std::thread::spawn(move || {
            block_on(async move {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    sqlx::raw_sql(
                        "INSERT INTO transactions (id, customer_id, kind, amount, currency, occurred_at, created_at, updated_at) \
                         SELECT max(id) + 1, 1, 'SALE', 1.00, 'EUR', now(), now(), now() FROM transactions; \
                         UPDATE transactions SET amount = amount + 1 WHERE id = (SELECT min(id) FROM transactions) + (random() * 3000)::int; \
                         UPDATE customers SET phone = md5(random()::text) WHERE id = 1 + (random() * 100)::int;",
                    )
                    .execute(&mut c)
                    .await
                    .unwrap();
                    n += 1;
                }
                n
            })
        })
    };
    // Let the writer get going before the snapshot is taken.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let o = check(&cfg, &dir.path().join("out"), &[]);
    stop.store(true, Ordering::SeqCst);
    let writes = writer.join().unwrap();
    assert!(writes > 0);
    assert_eq!(o.code, 0, "{}\n{:?}", o.stderr, o.differences);
    let t = row(&o, "transactions");
    assert_eq!(t["source_rows"], t["target_rows"]);
    assert_eq!(num(t, "matched"), num(t, "source_rows"));
    assert!(o.differences.is_empty());
}

#[test]
fn a_reader_killed_mid_table_is_retried_and_counts_stay_right() {
    let a = PgDb::new("ka");
    let b = PgDb::new("kb");
    seed(&a.url, 3000, None);
    let drift = seed(&b.url, 3000, Some("changed:10,deleted:5,inserted:7"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &a.url,
        &b.url,
        "prisma",
        "prisma",
        "[check]\nchunk_rows = 500\njobs = 2\n",
    );
    // The hook terminates the reading session of chunk 2 from another
    // session (pg_terminate_backend) right before it reads.
    let o = {
        let out = dir.path().join("out");
        let res = parity()
            .env("PARITY_FAULT_KILL_READER_AT_CHUNK", "2")
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .args(["check", "--tables", "transactions"])
            .output()
            .unwrap();
        check_outcome_from(&out, res)
    };
    assert_eq!(o.code, 1, "{}", o.stderr);
    let t = &o.report["tables"][0];
    assert_eq!(t["retries"], 1, "exactly one chunk read was retried");
    assert_eq!(t["different"], 10);
    assert_eq!(t["missing_in_target"], 5);
    assert_eq!(t["extra_in_target"], 7);
    assert_eq!(keys_by_kind(&o, "transactions"), planted(&drift));
}

fn check_outcome_from(out: &Path, res: std::process::Output) -> Outcome {
    let read_csv = |name: &str| -> Vec<BTreeMap<String, String>> {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
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
    };
    Outcome {
        code: res.status.code().unwrap_or(-1),
        parity: read_csv("parity.csv"),
        differences: read_csv("differences.csv"),
        report: serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap(),
        stderr: String::from_utf8_lossy(&res.stderr).into_owned(),
    }
}

const EDGE_SCHEMA: &str = r#"
datasource db {
  provider = "postgresql"
}

model Pair {
  a     Int
  b     String
  note  String?
  price Decimal? @db.Decimal(10, 3)
  seen  DateTime? @db.Timestamp(6)
  stamp DateTime? @db.Timestamp(6)

  @@id([a, b])
  @@map("pairs")
}

model Doc {
  id   String @id @db.Uuid
  body String

  @@map("docs")
}

model Empty {
  id Int @id

  @@map("empty")
}
"#;

const EDGE_DDL: &str = r#"
CREATE TABLE pairs (a int, b text, note text, price numeric(10,3), seen timestamp(6), stamp timestamp(6), PRIMARY KEY (a, b));
CREATE TABLE docs (id uuid PRIMARY KEY, body text NOT NULL);
CREATE TABLE empty (id int PRIMARY KEY);
"#;

#[test]
fn composite_and_string_keys_nulls_tolerance_ignore_and_empty_tables() {
    let a = PgDb::new("ea").create();
    let b = PgDb::new("eb").create();
    a.exec(EDGE_DDL);
    b.exec(EDGE_DDL);
    a.exec(
        "INSERT INTO pairs VALUES
           (1,'x','',1.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (1,'y',NULL,2.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (2,'x','same',3.000,'2024-01-01 00:00:00.000','2024-01-01 00:00:00'),
           (2,'y','same',4.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (3,'z','same',5.000,'2024-01-01 00:00:00','2024-01-01 00:00:00');
         INSERT INTO docs SELECT md5(i::text)::uuid, 'body ' || i FROM generate_series(1, 50) i;",
    );
    b.exec(
        "INSERT INTO pairs VALUES
           (1,'x',NULL,1.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),      -- '' vs NULL: differs
           (1,'y','',2.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),        -- NULL vs '': differs
           (2,'x','same',3.004,'2024-01-01 00:00:00.001','2024-01-01 00:00:00'), -- within tolerances
           (2,'y','same',4.000,'2024-01-01 00:00:00','2031-01-01 00:00:00'),    -- ignored column only
           (3,'z','same',5.010,'2024-01-01 00:00:00','2024-01-01 00:00:00');    -- beyond the tolerance
         INSERT INTO docs SELECT md5(i::text)::uuid, 'changed ' || i FROM generate_series(1, 50) i;",
    );
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(&schema, EDGE_SCHEMA).unwrap();
    let side = |url: &str| {
        format!(
            "orm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n",
            schema.display()
        )
    };
    let cfg = dir.path().join("parity.toml");
    std::fs::write(
        &cfg,
        format!(
            "[source]\n{}\n[target]\n{}\n[[table]]\nname = \"pairs\"\nignore = [\"stamp\"]\ntolerance = {{ price = 0.005, seen = \"1ms\" }}\n[check]\nchunk_rows = 2\n",
            side(&a.url),
            side(&b.url)
        ),
    )
    .unwrap();
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let pairs = row(&o, "pairs");
    assert_eq!((num(pairs, "matched"), num(pairs, "different")), (2, 3));
    let diffs: BTreeMap<String, String> = o
        .differences
        .iter()
        .filter(|d| d["source_table"] == "pairs")
        .map(|d| (d["key"].clone(), d["columns"].clone()))
        .collect();
    assert_eq!(
        diffs,
        BTreeMap::from([
            (r#"{"a":1,"b":"x"}"#.to_string(), "note".to_string()),
            (r#"{"a":1,"b":"y"}"#.to_string(), "note".to_string()),
            (r#"{"a":3,"b":"z"}"#.to_string(), "price".to_string()),
        ])
    );
    // Every row of a uuid-keyed table differs.
    let docs = row(&o, "docs");
    assert_eq!((num(docs, "matched"), num(docs, "different")), (0, 50));
    assert!(
        o.differences
            .iter()
            .any(|d| d["key"].starts_with("{\"id\":\"") && d["columns"] == "body")
    );
    // An empty table is at parity.
    let empty = row(&o, "empty");
    assert_eq!(
        (num(empty, "source_rows"), empty["status"].as_str()),
        (0, "ok")
    );
    // Values only appear when asked for.
    assert!(!o.report.to_string().contains("changed 1"));
    let shown = check(
        &cfg,
        &dir.path().join("out2"),
        &["--show-values", "--tables", "docs"],
    );
    assert!(shown.report.to_string().contains("changed 1"));
}

#[test]
fn a_missing_table_is_an_error_row_and_the_batch_goes_on() {
    let a = PgDb::new("ma").create();
    let b = PgDb::new("mb").create();
    a.exec(EDGE_DDL);
    b.exec("CREATE TABLE docs (id uuid PRIMARY KEY, body text NOT NULL); CREATE TABLE empty (id int PRIMARY KEY);");
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(&schema, EDGE_SCHEMA).unwrap();
    let side = |url: &str| {
        format!(
            "orm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n",
            schema.display()
        )
    };
    let cfg = dir.path().join("parity.toml");
    std::fs::write(
        &cfg,
        format!("[source]\n{}\n[target]\n{}\n", side(&a.url), side(&b.url)),
    )
    .unwrap();
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_eq!(o.code, 2, "an error row makes the run exit 2");
    assert_eq!(row(&o, "pairs")["status"], "error");
    assert_eq!(row(&o, "docs")["status"], "ok");
    assert_eq!(row(&o, "empty")["status"], "ok");
}

#[test]
fn bad_urls_and_configs_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "postgres://nobody:secretpw@127.0.0.1:1/none",
        "postgres://nobody:secretpw@127.0.0.1:1/none",
        "prisma",
        "prisma",
        "",
    );
    let o = parity()
        .env("PARITY_CONNECT_TIMEOUT", "1")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("secretpw"), "never print a password: {err}");
    // A config file named explicitly that does not exist.
    let o = parity()
        .args(["--config", "/nonexistent/parity.toml", "check"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A mysql:// database that does not exist: a clear error.
    let cfg = write_config(
        dir.path(),
        "mysql://root@127.0.0.1:3306/x",
        "mysql://root@127.0.0.1:3306/x",
        "prisma",
        "prisma",
        "",
    );
    let o = parity()
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("o3"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
