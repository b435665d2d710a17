//! Issue 13, pushdown hashing: `check --mode pushdown` against `--mode
//! client` on the same databases must give the same `differences.csv`
//! and the same `parity.csv` apart from timing and mode columns: on the
//! drift fixture, on the ORM-semantics fixture (Prisma against Drizzle on
//! one database) and on the fidelity tables (lists, enums, out-of-range
//! dates). And pushdown really pushes down: an identical table reads no
//! chunk after hashing, a changed chunk is read.

use std::path::Path;

use crate::support::{Backend, Run, TempDb, check, config, fixture_run};

const DRIFT: &str = "changed:10,deleted:5,inserted:7";

/// parity.csv without the columns that may differ between modes.
fn verdicts(o: &Run) -> Vec<Vec<(String, String)>> {
    o.csv("parity.csv")
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "source_seconds" | "target_seconds" | "mode" | "mode_reason"
                    )
                })
                .collect()
        })
        .collect()
}

/// Both runs reached the same verdict, table by table and row by row.
fn same_results(client: &Run, pushdown: &Run) {
    client.expect_verdict();
    pushdown.expect(client.code);
    assert_eq!(
        pushdown.text("differences.csv"),
        client.text("differences.csv"),
        "differences.csv differs between modes"
    );
    assert_eq!(verdicts(pushdown), verdicts(client));
    for r in client.csv("parity.csv") {
        assert_eq!(r["mode"], "client", "{r:?}");
    }
}

/// Runs `run` with `--mode client`, then with `--mode pushdown`.
fn both(dir: &Path, run: impl Fn(&Path, &str) -> Run) -> (Run, Run) {
    (
        run(&dir.join("client"), "client"),
        run(&dir.join("pushdown"), "pushdown"),
    )
}

/// The tables that ran pushdown, by name.
fn pushed(o: &Run) -> Vec<String> {
    o.csv("parity.csv")
        .into_iter()
        .filter(|r| r["mode"] == "pushdown")
        .map(|r| r["source_table"].clone())
        .collect()
}

#[test]
fn drift_fixture_gives_the_same_results_in_both_modes() {
    let (a, _) = TempDb::seeded(Backend::Postgres, "pda", 3000, None);
    let (b, _) = TempDb::seeded(Backend::Postgres, "pdb", 3000, Some(DRIFT));
    let dir = tempfile::tempdir().unwrap();
    let schema = [config::prisma_schema(Backend::Postgres)];
    let side = |name: &str, url: &str| config::side(name, "prisma", url, &schema);
    let cfg = config::write(
        dir.path(),
        &side("source", &a.url),
        &side("target", &b.url),
        "[check]\nchunk_rows = 500\njobs = 2\n",
    );
    let (client, pushdown) = both(dir.path(), |out, mode| {
        check(&cfg, out, &["--mode", mode, "--show-values"])
    });
    client.expect(1);
    same_results(&client, &pushdown);
    // Prisma on both sides: every table pushes down.
    let all: Vec<String> = client
        .csv("parity.csv")
        .into_iter()
        .map(|r| r["source_table"].clone())
        .collect();
    assert_eq!(pushed(&pushdown), all);

    // An identical table reads nothing after hashing; the changed one
    // reads only the chunks its changes fall in.
    let report = |name: &str| pushdown.report_table(name);
    let n = |t: &serde_json::Value, k: &str| t[k].as_u64().unwrap();
    let customers = report("customers");
    assert!(n(&customers, "chunks_hashed") >= 1, "{customers}");
    assert_eq!(n(&customers, "chunks_read_after_hashing"), 0, "{customers}");
    let tx = report("transactions");
    let (hashed, read) = (n(&tx, "chunks_hashed"), n(&tx, "chunks_read_after_hashing"));
    assert!(hashed >= 4 && read >= 1 && read <= hashed, "{tx}");
    // Bytes: hashes only for the identical table, far below the rows.
    let client_bytes = n(&client.report_table("customers"), "bytes_received");
    let pushed_bytes = n(&customers, "bytes_received");
    assert!(
        pushed_bytes > 0 && pushed_bytes * 10 < client_bytes,
        "pushdown {pushed_bytes} B, client {client_bytes} B"
    );
}

#[test]
fn orm_semantics_fixture_gives_the_same_results_in_both_modes() {
    // Prisma against Drizzle on one database: the readings differ where
    // the ORMs do; columns SQL cannot express send their table client.
    let (db, _) = TempDb::seeded(Backend::Postgres, "pdsame", 2500, None);
    let dir = tempfile::tempdir().unwrap();
    let (client, pushdown) = both(dir.path(), |out, mode| {
        fixture_run(
            &db,
            out,
            &format!("check --jobs 2 --chunk-rows 600 --show-values --mode {mode}"),
        )
    });
    client.expect(1);
    same_results(&client, &pushdown);
    assert!(!pushed(&pushdown).is_empty(), "some table pushes down");
    for r in pushdown.csv("parity.csv") {
        eprintln!("{}: {} {}", r["source_table"], r["mode"], r["mode_reason"]);
    }
    for r in pushdown.csv("parity.csv") {
        let why = &r["mode_reason"];
        assert_eq!(r["mode"] == "client", !why.is_empty(), "{r:?}");
    }
}

#[test]
fn fidelity_tables_give_the_same_results_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, cfg) = crate::fidelity::postgres_fidelity(dir.path());
    let (client, pushdown) = both(dir.path(), |out, mode| {
        check(&cfg, out, &["--mode", mode, "--show-values"])
    });
    client.expect(1);
    same_results(&client, &pushdown);
    // A list reads per ORM (Prisma [] for NULL): that table runs client.
    pushdown.expect_table("things", &[("mode", "client")]);
    assert!(
        pushdown.table("things")["mode_reason"].contains("tags"),
        "{:?}",
        pushdown.table("things")
    );
    pushdown.expect_table("pairs", &[("mode", "pushdown")]);
}

#[test]
fn auto_pushes_down_on_postgres_and_reads_sqlite() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "pdauto", 300, None);
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(&db, dir.path(), "check");
    o.expect_verdict();
    assert!(!pushed(&o).is_empty(), "auto is the default");
    let (lite, _) = TempDb::seeded(Backend::Sqlite, "pdlite", 300, None);
    let dir = tempfile::tempdir().unwrap();
    let schema = [config::prisma_schema(Backend::Sqlite)];
    let side = |name: &str| config::side(name, "prisma", &lite.url, &schema);
    let cfg = config::write(dir.path(), &side("source"), &side("target"), "");
    let o = check(&cfg, &dir.path().join("out"), &["--mode", "pushdown"]);
    o.expect_verdict();
    for r in o.csv("parity.csv") {
        assert_eq!(
            (r["mode"].as_str(), r["mode_reason"].as_str()),
            ("client", "pushdown runs on PostgreSQL only"),
            "{r:?}"
        );
    }
}

#[test]
fn no_value_forges_another_row_in_the_hash() {
    // Rows that would read alike if the row text were a plain join of the
    // values: a separator moved between columns, NULL against '', quotes
    // and padding. Each must hash differently, be read, and be reported.
    let schema = r#"datasource db {
  provider = "postgresql"
}

model T {
  id Int     @id
  a  String?
  b  String?
  c  String? @db.Char(3)

  @@map("t")
}
"#;
    let rows_a = r#"(1, 'x,y', 'z', 'a'), (2, NULL, 'q', 'b'), (3, 'he said "hi"', '', 'c'),
        (4, '(', ')', 'd'), (5, 'same', 'same', 'e')"#;
    let rows_b = r#"(1, 'x', 'y,z', 'a'), (2, '', 'q', 'b'), (3, 'he said "hi"', NULL, 'c'),
        (4, '(', ')', 'd  '), (5, 'same', 'same', 'e')"#;
    let make = |tag: &str, rows: &str| {
        let db = TempDb::pg(tag).create();
        db.exec(&format!(
            "CREATE TABLE t (id int PRIMARY KEY, a text, b text, c char(3)); INSERT INTO t VALUES {rows};"
        ));
        db
    };
    let (a, b) = (make("pdforge_a", rows_a), make("pdforge_b", rows_b));
    let dir = tempfile::tempdir().unwrap();
    let prisma = config::file(dir.path(), "schema.prisma", schema);
    let side =
        |name: &str, url: &str| config::side(name, "prisma", url, std::slice::from_ref(&prisma));
    let cfg = config::write(
        dir.path(),
        &side("source", &a.url),
        &side("target", &b.url),
        "",
    );
    let (client, pushdown) = both(dir.path(), |out, mode| check(&cfg, out, &["--mode", mode]));
    client.expect(1);
    same_results(&client, &pushdown);
    pushdown.expect_table(
        "t",
        &[("mode", "pushdown"), ("different", "3"), ("matched", "2")],
    );
    let t = pushdown.report_table("t");
    assert_eq!(t["chunks_read_after_hashing"], 1, "{t}");
}
