//! MySQL/MariaDB end to end (issue 12): `check`, `backup`, `timing` and
//! `run` on `mysql://` URLs against the real MariaDB server. The check
//! scenarios are tests/check.rs's, run on MariaDB. Each test creates its
//! own databases and drops them. The ORM read rules themselves are
//! re-checked against the real ORMs by `scripts/oracle-mariadb/run.sh` (a
//! step of `scripts/test.sh`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::check;
use crate::support::{
    Backend, Run, TempDb, assert_contains, assert_rows_agree, backup, config, fixture_run, parity,
    tool,
};

const MARIADB: Backend = Backend::Mariadb;

fn notes(o: &Run) -> String {
    o.report()["notes"].to_string()
}

/// The report says how the view was taken: `snapshot: HOW`.
fn snapshot(how: &'static str) -> impl Fn(&Run) {
    move |o| assert_contains(&notes(o), &[&format!("snapshot: {how}")])
}

#[test]
fn mariadb_drift_gives_exact_counts_and_keys() {
    // Root may take the lock.
    let settings = "[check]\nchunk_rows = 500\njobs = 2\n";
    check::drift_gives_exact_counts_and_keys(MARIADB, settings, &snapshot("locked"));
}

#[test]
fn mariadb_same_database_differs_only_where_the_orms_predict() {
    check::same_database_differs_only_where_the_orms_predict(MARIADB);
}

const WRITES: &str = "INSERT INTO transactions (customer_id, kind, amount, currency, occurred_at, created_at, updated_at) \
     VALUES (1, 'SALE', 1.00, 'EUR', NOW(6), NOW(3), NOW(3)); \
     UPDATE transactions SET amount = amount + 1 WHERE id = 1 + FLOOR(RAND() * 3000); \
     UPDATE customers SET phone = MD5(RAND()) WHERE id = 1 + FLOOR(RAND() * 100);";

#[test]
fn mariadb_concurrent_writes_give_no_false_differences_under_the_lock() {
    check::concurrent_writes_give_no_false_differences(MARIADB, WRITES, &[], &snapshot("locked"));
}

#[test]
fn mariadb_concurrent_writes_give_no_false_differences_without_the_lock() {
    // As a user without RELOAD: every reader has its own snapshot, and
    // chunks that differ are re-read in one fresh snapshot.
    let no_lock = [("PARITY_MYSQL_NO_LOCK", "1")];
    check::concurrent_writes_give_no_false_differences(
        MARIADB,
        WRITES,
        &no_lock,
        &snapshot("per-worker"),
    );
}

#[test]
fn mariadb_a_killed_reader_is_retried_and_counts_stay_right() {
    // MariaDB: KILL CONNECTION from another session.
    check::a_killed_reader_is_retried_and_counts_stay_right(MARIADB);
}

/// Two empty databases with `sql` run in each, `schema` (a schema.prisma
/// text) on both sides.
fn own_tables(dir: &Path, schema: &str, sql: [&str; 2], extra: &str) -> (Run, [TempDb; 2]) {
    let dbs = sql.map(|sql| {
        let db = TempDb::mariadb("own").create();
        db.exec(sql);
        db
    });
    let schema = config::file(
        dir,
        "schema.prisma",
        &format!("datasource db {{\n  provider = \"mysql\"\n}}\n{schema}"),
    );
    let cfg = check::prisma_both(dir, &schema, [&dbs[0].url, &dbs[1].url], extra);
    (crate::support::check(&cfg, &dir.join("out"), &[]), dbs)
}

/// Keys equal under a collation but different in bytes: `a`/`A` (case),
/// `x`/`x ` (PAD SPACE), `é`/`e` (accent), on enough rows for many chunks.
#[test]
fn mariadb_text_keys_under_each_collation_are_exact() {
    let collations = ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_bin"];
    let mut sql = [String::new(), String::new()];
    let mut schema = String::new();
    for (i, coll) in collations.iter().enumerate() {
        let filler: Vec<String> = (0..120)
            .map(|n| format!("('{}{n:03}', {n})", if n % 2 == 0 { "k" } else { "K_" }))
            .collect();
        let common = format!(
            "CREATE TABLE k{i} (k VARCHAR(20) COLLATE {coll} NOT NULL PRIMARY KEY, v INT NOT NULL);\
             INSERT INTO k{i} VALUES {};",
            filler.join(", ")
        );
        let own = [
            "('a', 1), ('x', 2), ('é', 3), ('Zed', 4), ('ß', 5)",
            "('A', 1), ('x ', 2), ('e', 3), ('Zed', 40), ('ß', 5)",
        ];
        for side in 0..2 {
            sql[side] += &format!("{common}INSERT INTO k{i} VALUES {};", own[side]);
        }
        schema += &format!(
            "model K{i} {{\n  k String @id @db.VarChar(20)\n  v Int\n  @@map(\"k{i}\")\n}}\n"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (o, _dbs) = own_tables(
        dir.path(),
        &schema,
        [&sql[0], &sql[1]],
        "[check]\nchunk_rows = 7\njobs = 2\n",
    );
    o.expect(1);
    let keys = |ks: &[&str]| -> BTreeSet<String> {
        ks.iter()
            .map(|k| serde_json::json!({ "k": k }).to_string())
            .collect()
    };
    for (i, coll) in collations.iter().enumerate() {
        let t = format!("k{i}");
        let r = o.table(&t);
        assert!(r["matched"] == "121", "{t}: {r:?}");
        let want = BTreeMap::from([
            ("missing_in_target".to_string(), keys(&["a", "x", "é"])),
            ("extra_in_target".to_string(), keys(&["A", "x ", "e"])),
            ("different".to_string(), keys(&["Zed"])),
        ]);
        assert_eq!(o.keys_by_kind(&t), want, "{t} ({coll})");
    }
}

#[test]
fn mariadb_key_collations_that_differ_between_sides_are_an_error_row() {
    let dir = tempfile::tempdir().unwrap();
    let ddl = ["utf8mb4_general_ci", "utf8mb4_bin"]
        .map(|c| format!("CREATE TABLE t (k VARCHAR(10) COLLATE {c} PRIMARY KEY, v INT);"));
    let schema = "model T {\n  k String @id @db.VarChar(10)\n  v Int?\n  @@map(\"t\")\n}\n";
    let (o, _dbs) = own_tables(dir.path(), schema, [&ddl[0], &ddl[1]], "");
    o.expect(2);
    o.expect_table("t", &[("status", "error")]);
    assert!(o.stderr.contains("collation"), "{}", o.stderr);
}

#[test]
fn mariadb_bad_inputs_exit_2_with_one_clear_line() {
    // Wrong password (never printed), and nothing listening.
    let server = MARIADB.server();
    let host = server
        .rsplit('@')
        .next()
        .unwrap()
        .trim_start_matches("mysql://");
    let wrong = format!("mysql://nobody:secretpw@{host}/nothere");
    let cases: [(&str, &[&str]); 2] = [
        (&wrong, &["cannot connect"]),
        ("mysql://root@127.0.0.1:1/x", &["cannot connect"]),
    ];
    check::connection_failures_exit_2(MARIADB, &cases);
    // A PostgreSQL mapping on a mysql:// URL.
    let db = TempDb::mariadb("mbad").create();
    let dir = tempfile::tempdir().unwrap();
    let pg = config::prisma_schema(Backend::Postgres);
    let cfg = check::prisma_both(dir.path(), &pg, [&db.url, &db.url], "");
    let o = crate::support::check(&cfg, &dir.path().join("o3"), &[]);
    o.expect(2);
    assert!(o.stderr.contains("is for postgresql"), "{}", o.stderr);
}

/// `mariadb-dump --single-transaction` of `from` restored into `into`.
fn dump_and_restore(from: &TempDb, into: &TempDb, dir: &Path) {
    let server = MARIADB.server();
    let rest = server.trim_start_matches("mysql://");
    let (user, hostport) = rest.split_once('@').unwrap_or(("root", rest));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let client = |program: &str| {
        let mut c = std::process::Command::new(program);
        c.args(["--protocol=tcp", "-h", host, "-P", port, "-u", user]);
        c
    };
    let dump = dir.join(format!("{}.sql", from.name));
    let mut c = client("mariadb-dump");
    c.args([
        "--single-transaction",
        "--triggers",
        "--routines",
        "--hex-blob",
    ]);
    std::fs::write(&dump, tool(c.arg(&from.name)).stdout).unwrap();
    tool(
        client("mariadb")
            .arg(&into.name)
            .stdin(std::fs::File::open(&dump).unwrap()),
    );
}

#[test]
fn mariadb_backup_round_trip_through_mariadb_dump_is_proven_and_tampering_found() {
    let (src, _) = TempDb::seeded(MARIADB, "mbk", 1500, None);
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.parity");
    let manifest = parity()
        .args(["manifest", "--url", &src.url])
        .words("--chunk-rows 400 --row-hashes --manifest")
        .arg(&m)
        .run();
    manifest.expect(0);
    let restored = TempDb::mariadb("mrs").create();
    dump_and_restore(&src, &restored, dir.path());
    let m_arg = m.to_str().unwrap();
    let manifest_args = ["--manifest", m_arg, "--target", &restored.url];
    let against_manifest = |out: &str| backup(&dir.path().join(out), &manifest_args);

    let clean = against_manifest("clean");
    clean.expect(0);
    // The report says what the proof rests on (binary logging is off here,
    // or the position to compare with the dump's).
    let notes = notes(&clean);
    assert!(notes.contains("cannot share a snapshot"), "{notes}");
    clean.expect_finding("sequence_value", "transactions.auto_increment", "ok");
    let live = ["--source", &src.url, "--target", &restored.url];
    backup(&dir.path().join("live"), &live).expect(0);

    // An AUTO_INCREMENT ahead of the manifest passes; a deleted row, a
    // changed value and a dropped index are each named.
    restored.exec(
        "INSERT INTO items (sku, name, price, stock, active) VALUES ('zz-new', 'x', 1.00, 1, 1); \
         DELETE FROM items WHERE sku = 'zz-new';",
    );
    let ahead = against_manifest("ahead");
    ahead.expect(0);
    ahead.expect_finding("sequence_value", "items.auto_increment", "ahead");
    restored.exec(
        "DELETE FROM transactions WHERE id = 17; UPDATE transactions SET amount = amount + 1 WHERE id = 23; \
         DROP INDEX bikes_brand_serial_number_key ON bikes;",
    );
    let bad = against_manifest("bad");
    bad.expect(1);
    bad.expect_table(
        "transactions",
        &[("missing_in_target", "1"), ("different", "1")],
    );
    let keys: BTreeSet<String> = bad
        .csv("differences.csv")
        .into_iter()
        .map(|d| d["key"].clone())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([17, 23].map(|id| format!("{{\"id\":{id}}}")))
    );
    bad.expect_finding(
        "index",
        "bikes.bikes_brand_serial_number_key",
        "missing_in_target",
    );
}

/// `CHECKSUM TABLE` of the tables a write operation touches.
fn checksums(db: &TempDb) -> Vec<Vec<Option<String>>> {
    db.query("CHECKSUM TABLE repairs, `_ItemToRepair`, items")
}

#[test]
fn mariadb_timing_runs_the_captured_operations_and_rolls_writes_back() {
    let (db, _) = TempDb::seeded(MARIADB, "mtime", 800, None);
    let before = checksums(&db);
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(
        &db,
        dir.path(),
        "timing --iterations 6 --warmup 1 --explain",
    );
    o.expect_verdict();
    let report = o.report();
    let ops = report["timing"]["operations"].as_array().unwrap();
    let names: BTreeSet<&str> = ops
        .iter()
        .map(|o| o["operation"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(crate::timing::SHIPPED));
    for op in ops {
        // Both ORMs' SQL return the same rows (speed is not asserted).
        assert_rows_agree(op);
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
    let (db, _) = TempDb::seeded(MARIADB, "mmis", 400, None);
    let dir = tempfile::tempdir().unwrap();
    // The Drizzle side loses its WHERE term: other customers' bikes.
    let q = crate::timing::edited_op(dir.path(), "mariadb/bike/list-customer-bikes.toml", &|t| {
        t.replace(
            "where `bikes`.`customer_id` = ? order by",
            "where `bikes`.`customer_id` >= ? order by",
        )
    });
    let args = format!("timing --iterations 4 --warmup 1 --queries {}", q.display());
    let o = fixture_run(&db, &dir.path().join("out"), &args);
    assert_eq!(
        o.expect(1).operation("list-customer-bikes")["verdict"],
        "mismatch"
    );
}

#[test]
fn mariadb_run_gates_each_repository() {
    let (db, _) = TempDb::seeded(MARIADB, "mrun", 600, None);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = parity();
    // A 10× margin: this tests the gate, not the timing verdict.
    cmd.env("PARITY_ITERATIONS", "4")
        .env("PARITY_MAX_SLOWDOWN", "10")
        .fixture(MARIADB, &db.url)
        .out(dir.path());
    let o = cmd.words("run --repository bike").run();
    o.expect(0);
    assert_contains(&o.stdout, &["bike (drizzle_bike_repo)", "READY"]);
}
