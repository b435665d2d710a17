//! `parity check` end to end: the real binary against real PostgreSQL and
//! SQLite databases that each test creates and drops. The scenarios take
//! the backend: tests/mysql.rs runs them on MariaDB.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use parity::seed::data::{self, Generator, Table, Val};
use serde_json::Value;

use crate::support::{Backend, Run, TempDb, check, config, fixture_run, parity};

const DRIFT: &str = "changed:10,deleted:5,inserted:7";

/// One Prisma schema on both sides (named source and target), plus `extra`.
pub fn prisma_both(dir: &Path, schema: &Path, urls: [&str; 2], extra: &str) -> PathBuf {
    let schema = [schema.to_path_buf()];
    let sides = [("source", urls[0]), ("target", urls[1])];
    let [a, b] = sides.map(|(name, url)| config::side(name, "prisma", url, &schema));
    config::write(dir, &a, &b, extra)
}

/// The fixture's Prisma schema of `backend` on both sides.
fn fixture_both(dir: &Path, backend: Backend, urls: [&str; 2], extra: &str) -> PathBuf {
    prisma_both(dir, &config::prisma_schema(backend), urls, extra)
}

/// kind → `{"id":N}` keys that `parity seed --drift` planted.
pub fn planted(drift: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let kinds = [
        ("changed", "different"),
        ("deleted", "missing_in_target"),
        ("inserted", "extra_in_target"),
    ];
    for (kind, name) in kinds {
        let keys = drift[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| format!("{{\"id\":{k}}}"));
        m.entry(name.into()).or_default().extend(keys);
    }
    m
}

/// A seeded database against a drifted copy: exact counts and keys in
/// `transactions`, every other table at parity.
/// `also` makes the backend's own checks on the run.
pub fn drift_gives_exact_counts_and_keys(backend: Backend, settings: &str, also: &dyn Fn(&Run)) {
    let (a, _) = TempDb::seeded(backend, "a", 3000, None);
    let (b, drift) = TempDb::seeded(backend, "b", 3000, Some(DRIFT));
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_both(dir.path(), backend, [&a.url, &b.url], settings);
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_eq!(o.code, 1, "differences exit 1; stderr: {}", o.stderr);
    let t = o.table("transactions");
    let num = |col: &str| t[col].parse::<u64>().unwrap();
    assert_eq!(num("different"), 10);
    assert_eq!(num("missing_in_target"), 5);
    assert_eq!(num("extra_in_target"), 7);
    assert_eq!(num("source_rows") + 7 - 5, num("target_rows"));
    assert_eq!(num("matched"), num("source_rows") - 15);
    assert_eq!(t["status"], "differs");
    assert_eq!(o.keys_by_kind("transactions"), planted(&drift));
    for d in o.csv("differences.csv") {
        assert!(
            d["kind"] != "different" || d["columns"] == "amount",
            "drift changes amount only: {d:?}"
        );
    }
    for r in o.csv("parity.csv") {
        assert!(
            r["source_table"] == "transactions" || r["status"] == "ok",
            "{r:?}"
        );
    }
    also(&o);
}

#[test]
fn drift_gives_exact_counts_and_keys_on_postgres() {
    // Several chunks per table and two sessions per side.
    let settings = "[check]\nchunk_rows = 700\njobs = 2\n";
    drift_gives_exact_counts_and_keys(Backend::Postgres, settings, &|o| {
        assert!(o.report()["tables"][0]["chunks"].as_u64().unwrap() >= 1);
    });
}

#[test]
fn drift_gives_exact_counts_and_keys_on_sqlite() {
    drift_gives_exact_counts_and_keys(Backend::Sqlite, "[check]\nchunk_rows = 700\n", &|_| {});
}

/// The keys where the fixture's Prisma and Drizzle readings must differ,
/// from the seed's values and the ORM rules alone (the oracle established
/// them; PostgreSQL and MariaDB alike).
fn predicted(rows: u64) -> BTreeMap<(String, String), BTreeSet<String>> {
    let g = Generator::new(7, rows);
    let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut add = |t: &str, c: &str, k: String| {
        m.entry((t.into(), c.into())).or_default().insert(k);
    };
    let col = |t: Table, name: &str| t.columns().iter().position(|c| *c == name).unwrap();
    // Drizzle bigint mode 'number' holds the f64-rounded integer.
    let lossy = |v: &Val| matches!(v, Val::Int(v) if (*v as f64) as i128 != *v as i128);
    let mut vals = Vec::new();
    for id in 1..=rows {
        // Prisma cuts to milliseconds; Drizzle's mode 'string' keeps µs.
        if data::has_sub_ms_micros(id) {
            add("transactions", "occurred_at", format!("{{\"id\":{id}}}"));
        }
        g.row(Table::Transactions, id - 1, &mut vals);
        if lossy(&vals[col(Table::Transactions, "external_ref")]) {
            add("transactions", "external_ref", format!("{{\"id\":{id}}}"));
        }
    }
    for c in 0..g.count(Table::Customers) {
        g.row(Table::Customers, c, &mut vals);
        if lossy(&vals[col(Table::Customers, "loyalty_points")]) {
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
    match d.split_once('.') {
        Some((i, f)) if f.trim_end_matches('0').is_empty() => i.to_string(),
        Some((i, f)) => format!("{i}.{}", f.trim_end_matches('0')),
        None => d.to_string(),
    }
}

/// One database read through the fixture's own config (Prisma against
/// Drizzle): only the predicted cells differ.
pub fn same_database_differs_only_where_the_orms_predict(backend: Backend) {
    let (db, _) = TempDb::seeded(backend, "same", 2500, None);
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(&db, dir.path(), "check --jobs 2 --chunk-rows 600");
    o.expect(1);
    let mut found: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for d in o.csv("differences.csv") {
        assert_eq!(d["kind"], "different", "no row is missing or extra: {d:?}");
        for c in d["columns"].split(';') {
            found
                .entry((d["source_table"].clone(), c.to_string()))
                .or_default()
                .insert(d["key"].clone());
        }
    }
    let expected = predicted(2500);
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
}

#[test]
fn same_database_both_mappings_differ_only_where_orm_semantics_predict() {
    same_database_differs_only_where_the_orms_predict(Backend::Postgres);
}

/// An `Int` / `integer()` column widened to int8 in the database: both ORMs
/// read it as a JS number, so a raw-value shortcut would call every cell
/// equal; beyond 2^53 Prisma throws where Drizzle rounds. Only those cells differ.
#[test]
fn an_int8_column_both_read_as_number_differs_beyond_2_pow_53() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "wide", 300, None);
    db.exec("ALTER TABLE bikes ALTER COLUMN year TYPE bigint");
    let ids = db.column("SELECT id::text FROM bikes ORDER BY id LIMIT 3");
    db.exec(&format!(
        "UPDATE bikes SET year = 9007199254740993 WHERE id = '{}';
         UPDATE bikes SET year = -9007199254740995 WHERE id = '{}';
         UPDATE bikes SET year = 9007199254740991 WHERE id = '{}';",
        ids[0], ids[1], ids[2]
    ));
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(&db, dir.path(), "check --jobs 2 --chunk-rows 50");
    o.expect(1);
    let wide: BTreeSet<String> = o
        .csv("differences.csv")
        .into_iter()
        .filter(|d| d["source_table"] == "bikes" && d["columns"].split(';').any(|c| c == "year"))
        .map(|d| d["key"].clone())
        .collect();
    let expected: BTreeSet<String> = ids[..2]
        .iter()
        .map(|k| format!("{{\"id\":\"{k}\"}}"))
        .collect();
    assert_eq!(wide, expected, "{:?}", o.csv("differences.csv"));
}

/// The same mapping on both sides, each side read separately, while a
/// writer changes `transactions` and `customers`: only one shared
/// snapshot keeps them equal.
pub fn concurrent_writes_give_no_false_differences(
    backend: Backend,
    writes: &str,
    env: &[(&str, &str)],
    also: &dyn Fn(&Run),
) {
    let (db, _) = TempDb::seeded(backend, "live", 4000, None);
    let dir = tempfile::tempdir().unwrap();
    let settings = "[check]\nchunk_rows = 300\njobs = 3\nshare_reads = false\n";
    let cfg = fixture_both(dir.path(), backend, [&db.url, &db.url], settings);
    let writer = db.writer(writes, Duration::ZERO);
    // Let the writer get going before the snapshot is taken.
    std::thread::sleep(Duration::from_millis(200));
    let o = parity()
        .envs(env)
        .config(&cfg)
        .out(dir.path().join("out"))
        .arg("check")
        .run();
    assert!(writer.stop() > 0);
    assert_eq!(o.code, 0, "{}\n{:?}", o.stderr, o.csv("differences.csv"));
    let t = o.table("transactions");
    assert_eq!(t["source_rows"], t["target_rows"]);
    assert_eq!(t["matched"], t["source_rows"]);
    assert!(o.csv("differences.csv").is_empty());
    also(&o);
}

#[test]
fn a_check_during_concurrent_writes_reports_no_false_differences() {
    let writes = "INSERT INTO transactions (id, customer_id, kind, amount, currency, occurred_at, created_at, updated_at) \
         SELECT max(id) + 1, 1, 'SALE', 1.00, 'EUR', now(), now(), now() FROM transactions; \
         UPDATE transactions SET amount = amount + 1 WHERE id = (SELECT min(id) FROM transactions) + (random() * 3000)::int; \
         UPDATE customers SET phone = md5(random()::text) WHERE id = 1 + (random() * 100)::int;";
    concurrent_writes_give_no_false_differences(Backend::Postgres, writes, &[], &|_| {});
}

/// The fault hook ends the reading session of chunk 2 from another session
/// right before it reads: that chunk is read again, the counts stay right.
pub fn a_killed_reader_is_retried_and_counts_stay_right(backend: Backend) {
    let (a, _) = TempDb::seeded(backend, "ka", 3000, None);
    let (b, drift) = TempDb::seeded(backend, "kb", 3000, Some(DRIFT));
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_both(
        dir.path(),
        backend,
        [&a.url, &b.url],
        "[check]\nchunk_rows = 500\njobs = 2\n",
    );
    let o = parity()
        .env("PARITY_FAULT_KILL_READER_AT_CHUNK", "2")
        .config(&cfg)
        .out(dir.path().join("out"))
        .words("check --tables transactions")
        .run();
    o.expect(1);
    let t = &o.report()["tables"][0];
    assert_eq!(t["retries"], 1, "exactly one chunk read was retried");
    assert_eq!(
        [
            &t["different"],
            &t["missing_in_target"],
            &t["extra_in_target"]
        ],
        [10, 5, 7]
    );
    assert_eq!(o.keys_by_kind("transactions"), planted(&drift));
}

#[test]
fn a_reader_killed_mid_table_is_retried_and_counts_stay_right() {
    // PostgreSQL: pg_terminate_backend.
    a_killed_reader_is_retried_and_counts_stay_right(Backend::Postgres);
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

/// Two databases with `sql` run in each, and a config over them with
/// EDGE_SCHEMA on both sides.
fn edge_pair(dir: &Path, sql: [&str; 2], extra: &str) -> (PathBuf, [TempDb; 2]) {
    let dbs = sql.map(|sql| {
        let db = TempDb::pg("edge").create();
        db.exec(sql);
        db
    });
    let schema = config::file(dir, "schema.prisma", EDGE_SCHEMA);
    (
        prisma_both(dir, &schema, [&dbs[0].url, &dbs[1].url], extra),
        dbs,
    )
}

#[test]
fn composite_and_string_keys_nulls_tolerance_ignore_and_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    let a = format!(
        "{EDGE_DDL}INSERT INTO pairs VALUES
           (1,'x','',1.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (1,'y',NULL,2.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (2,'x','same',3.000,'2024-01-01 00:00:00.000','2024-01-01 00:00:00'),
           (2,'y','same',4.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),
           (3,'z','same',5.000,'2024-01-01 00:00:00','2024-01-01 00:00:00');
         INSERT INTO docs SELECT md5(i::text)::uuid, 'body ' || i FROM generate_series(1, 50) i;"
    );
    let b = format!(
        "{EDGE_DDL}INSERT INTO pairs VALUES
           (1,'x',NULL,1.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),      -- '' vs NULL: differs
           (1,'y','',2.000,'2024-01-01 00:00:00','2024-01-01 00:00:00'),        -- NULL vs '': differs
           (2,'x','same',3.004,'2024-01-01 00:00:00.001','2024-01-01 00:00:00'), -- within tolerances
           (2,'y','same',4.000,'2024-01-01 00:00:00','2031-01-01 00:00:00'),    -- ignored column only
           (3,'z','same',5.010,'2024-01-01 00:00:00','2024-01-01 00:00:00');    -- beyond the tolerance
         INSERT INTO docs SELECT md5(i::text)::uuid, 'changed ' || i FROM generate_series(1, 50) i;"
    );
    let extra = "[[table]]\nname = \"pairs\"\nignore = [\"stamp\"]\ntolerance = { price = 0.005, seen = \"1ms\" }\n[check]\nchunk_rows = 2\n";
    let (cfg, _dbs) = edge_pair(dir.path(), [&a, &b], extra);
    let o = check(&cfg, &dir.path().join("out"), &[]);
    o.expect(1);
    let counts = |t: &str, cols: [&str; 2]| cols.map(|c| o.table(t)[c].parse::<u64>().unwrap());
    assert_eq!(counts("pairs", ["matched", "different"]), [2, 3]);
    let diffs: BTreeMap<String, String> = o
        .csv("differences.csv")
        .into_iter()
        .filter(|d| d["source_table"] == "pairs")
        .map(|d| (d["key"].clone(), d["columns"].clone()))
        .collect();
    let want = [
        (r#"{"a":1,"b":"x"}"#, "note"),
        (r#"{"a":1,"b":"y"}"#, "note"),
        (r#"{"a":3,"b":"z"}"#, "price"),
    ];
    assert_eq!(
        diffs,
        BTreeMap::from(want.map(|(k, c)| (k.to_string(), c.to_string())))
    );
    // Every row of a uuid-keyed table differs.
    assert_eq!(counts("docs", ["matched", "different"]), [0, 50]);
    let d = o.csv("differences.csv");
    assert!(
        d.iter()
            .any(|d| d["key"].starts_with("{\"id\":\"") && d["columns"] == "body")
    );
    // An empty table is at parity.
    let empty = o.table("empty");
    assert_eq!(
        (empty["source_rows"].as_str(), empty["status"].as_str()),
        ("0", "ok")
    );
    // Values only appear when asked for.
    assert!(!o.report().to_string().contains("changed 1"));
    let shown = check(
        &cfg,
        &dir.path().join("out2"),
        &["--show-values", "--tables", "docs"],
    );
    assert!(shown.report().to_string().contains("changed 1"));
}

#[test]
fn a_missing_table_is_an_error_row_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let b = "CREATE TABLE docs (id uuid PRIMARY KEY, body text NOT NULL); CREATE TABLE empty (id int PRIMARY KEY);";
    let (cfg, _dbs) = edge_pair(dir.path(), [EDGE_DDL, b], "");
    let o = check(&cfg, &dir.path().join("out"), &[]);
    assert_eq!(o.code, 2, "an error row makes the run exit 2");
    for (table, status) in [("pairs", "error"), ("docs", "ok"), ("empty", "ok")] {
        o.expect_table(table, &[("status", status)]);
    }
}

/// Each URL on both sides: `check` exits 2, says each `want`, and never
/// prints the password.
pub fn connection_failures_exit_2(backend: Backend, cases: &[(&str, &[&str])]) {
    let dir = tempfile::tempdir().unwrap();
    for (i, (url, want)) in cases.iter().enumerate() {
        let cfg = fixture_both(dir.path(), backend, [url, url], "");
        let o = parity()
            .env("PARITY_CONNECT_TIMEOUT", "1")
            .config(&cfg)
            .out(dir.path().join(format!("o{i}")))
            .arg("check")
            .run();
        assert_eq!(o.code, 2, "{url}: {}", o.stderr);
        for w in *want {
            assert!(o.stderr.contains(w), "{url}: {w:?} not in {}", o.stderr);
        }
        assert!(
            !o.stderr.contains("secretpw"),
            "never print a password: {}",
            o.stderr
        );
    }
}

#[test]
fn bad_urls_and_configs_exit_2_with_one_line() {
    connection_failures_exit_2(
        Backend::Postgres,
        &[
            (
                "postgres://nobody:secretpw@127.0.0.1:1/none",
                &["cannot connect"],
            ),
            // A mysql:// database that does not exist: a clear error.
            ("mysql://root@127.0.0.1:3306/x", &[]),
        ],
    );
    // A config file named explicitly that does not exist.
    parity()
        .words("--config /nonexistent/parity.toml check")
        .run()
        .expect(2);
}
