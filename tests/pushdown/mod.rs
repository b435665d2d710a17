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

/// A config reading database `a` against `b` through one Prisma schema.
fn prisma_pair(dir: &Path, schema: &str, a: &TempDb, b: &TempDb) -> std::path::PathBuf {
    let prisma = config::file(dir, "schema.prisma", schema);
    let side =
        |name: &str, url: &str| config::side(name, "prisma", url, std::slice::from_ref(&prisma));
    config::write(dir, &side("source", &a.url), &side("target", &b.url), "")
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
    // Chunks too big for their packed row hashes to fit one value: client,
    // with the reason.
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(
        &db,
        dir.path(),
        "check --mode pushdown --chunk-rows 16000001",
    );
    o.expect_verdict();
    assert!(pushed(&o).is_empty(), "{:?}", pushed(&o));
    for r in o.csv("parity.csv") {
        assert!(
            r["mode_reason"].contains("chunk_rows is above 16000000"),
            "{r:?}"
        );
    }
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
    let cfg = prisma_pair(dir.path(), schema, &a, &b);
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

#[test]
fn no_difference_hides_in_the_chunk_hash_and_identical_enums_hash_alike() {
    // Each field goes into the row hash by its type's own hash where that
    // is value identity (db::pushdown::hash_field). Differences that a
    // coarser hash, or a sum of linear row hashes, would not see, one
    // table (one chunk) each: two rows swapping a value (`s`), 'a' against
    // 'A' under a case-insensitive collation (`ci`), 0 against -0 (`z`).
    // And an enum's hash must not be its label's OID, which differs
    // between databases: identical enum rows hash alike (`e`).
    let schema = r#"datasource db {
  provider = "postgresql"
}

enum Mood {
  happy
  sad
}

model S {
  id Int  @id
  b  Int?

  @@map("s")
}

model Ci {
  id Int     @id
  a  String?

  @@map("ci")
}

model Z {
  id Int    @id
  f  Float?

  @@map("z")
}

model E {
  id   Int  @id
  mood Mood

  @@map("e")
}

model J {
  id Int   @id
  j  Json?

  @@map("j")
}

model N {
  id Int      @id
  d  Decimal?

  @@map("n")
}

model F {
  id Int      @id
  d  Decimal? @db.Decimal(6, 2)
  c  String?  @db.Char(3)

  @@map("f")
}
"#;
    let make = |tag: &str, rows: [&str; 6], shift_oids: bool| {
        let db = TempDb::pg(tag).create();
        let shift = if shift_oids {
            "CREATE TYPE shift AS ENUM ('x', 'y', 'z'); CREATE TABLE pad (s shift);"
        } else {
            ""
        };
        db.exec(&format!(
            "CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false); \
             {shift} CREATE TYPE \"Mood\" AS ENUM ('happy', 'sad'); \
             CREATE TABLE s (id int PRIMARY KEY, b int); INSERT INTO s VALUES {}; \
             CREATE TABLE ci (id int PRIMARY KEY, a text COLLATE ci); INSERT INTO ci VALUES {}; \
             CREATE TABLE z (id int PRIMARY KEY, f float8); INSERT INTO z VALUES {}; \
             CREATE TABLE j (id int PRIMARY KEY, j jsonb); INSERT INTO j VALUES {}; \
             CREATE TABLE n (id int PRIMARY KEY, d numeric); INSERT INTO n VALUES {}; \
             CREATE TABLE f (id int PRIMARY KEY, d numeric(6,2), c char(3)); INSERT INTO f VALUES {}; \
             CREATE TABLE e (id int PRIMARY KEY, mood \"Mood\" NOT NULL); \
             INSERT INTO e SELECT i, CASE WHEN i % 3 = 0 THEN 'sad' ELSE 'happy' END::\"Mood\" FROM generate_series(1, 50) i;",
            rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]
        ));
        db
    };
    let a = make(
        "pdhide_a",
        [
            "(1, 10), (2, 20), (3, 30)",
            "(1, 'a'), (2, 'b')",
            "(1, 0), (2, 1)",
            r#"(1, '{"a": 1.0, "b": [1, 2]}'), (2, '{"x": "y"}'), (3, NULL)"#,
            "(1, 1.5), (2, 2), (3, NULL)",
            "(1, 1.5, 'ab'), (2, 2, 'x'), (3, NULL, NULL)",
        ],
        false,
    );
    let b = make(
        "pdhide_b",
        [
            "(1, 20), (2, 10), (3, 30)",
            "(1, 'A'), (2, 'b')",
            "(1, '-0'), (2, 1)",
            r#"(1, '{"b": [1, 2], "a": 1.00}'), (2, '{"x": "y"}'), (3, NULL)"#,
            "(1, 1.50), (2, 2.000), (3, NULL)",
            "(1, 1.50, 'ab '), (2, 2, 'xy'), (3, NULL, NULL)",
        ],
        true,
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = prisma_pair(dir.path(), schema, &a, &b);
    let (client, pushdown) = both(dir.path(), |out, mode| check(&cfg, out, &["--mode", mode]));
    client.expect(1);
    same_results(&client, &pushdown);
    let get = |name: &str| {
        let t = pushdown.report_table(name);
        let n = |k: &str| t[k].as_u64().unwrap();
        assert_eq!(t["mode"], "pushdown", "{t}");
        (n("different"), n("chunks_read_after_hashing"))
    };
    assert_eq!(get("s"), (2, 1), "a swapped value between two rows");
    assert_eq!(
        get("ci"),
        (1, 1),
        "'a' against 'A' under a case-insensitive collation"
    );
    // Whatever the client path makes of -0 (same_results holds it to
    // that), the hash must send the chunk to it.
    assert_eq!(get("z").1, 1, "0 against -0");
    assert_eq!(
        get("e"),
        (0, 0),
        "identical enum rows in two databases hash alike"
    );
    // jsonb both sides parse is hashed as jsonb: `1.0` and `1.00`, and key
    // order, are one reading and one hash (the client path agrees).
    assert_eq!(get("j"), (0, 0), "equal jsonb values hash alike");
    // So is a numeric both sides read as a Decimal: `1.5` and `1.50`.
    assert_eq!(
        get("n"),
        (0, 0),
        "equal numerics read as Decimal hash alike"
    );
    // numeric(6,2) and char(3) declared alike on both sides are hashed by
    // value, char(3) without its octet length: 'ab' stored padded is 'ab ',
    // and 'x' against 'xy' is still found.
    assert_eq!(get("f"), (1, 1), "numeric(6,2) and char(3) by value");
}

#[test]
fn a_drill_down_reads_only_the_rows_whose_hashes_differ() {
    // 2000 rows under a composite key (int, text), 20 chunks of 100. Every
    // chunk differs (each 10th row changed, 3 deleted, 2 inserted), so
    // after a few chunks the rest go straight to per-row hashes; one chunk has
    // 60 of its 100 rows changed and is read whole. Each side's wide
    // column makes a row cost far more to ship than its key and hash.
    // Rows 600..=799 are gone from the target: a whole chunk there is
    // empty, so its per-row hashes come back as none at all.
    let schema = r#"datasource db {
  provider = "postgresql"
}

model P {
  a Int
  b String
  v Int
  w String

  @@id([a, b])
  @@map("p")
}
"#;
    let make = |tag: &str, changes: &str| {
        let db = TempDb::pg(tag).create();
        db.exec(&format!(
            "CREATE TABLE p (a int, b text, v int NOT NULL, w text NOT NULL, PRIMARY KEY (a, b)); \
             INSERT INTO p SELECT i / 2, CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y,\"z' END, i, repeat('w', 300) \
             FROM generate_series(0, 1999) i; {changes}"
        ));
        db
    };
    let a = make("pddrill_a", "");
    let b = make(
        "pddrill_b",
        "UPDATE p SET v = v + 1 WHERE v % 10 = 3; \
         UPDATE p SET v = -v WHERE v BETWEEN 1500 AND 1559; \
         DELETE FROM p WHERE v IN (17, 905, 1999); \
         DELETE FROM p WHERE a BETWEEN 300 AND 399; \
         INSERT INTO p VALUES (5000, 'new', 1, 'n'), (-1, 'first', 2, 'f');",
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = prisma_pair(dir.path(), schema, &a, &b);
    let (client, pushdown) = both(dir.path(), |out, mode| {
        check(&cfg, out, &["--mode", mode, "--chunk-rows", "100"])
    });
    client.expect(1);
    same_results(&client, &pushdown);
    let (c, p) = (client.report_table("p"), pushdown.report_table("p"));
    assert_eq!(p["mode"], "pushdown", "{p}");
    // 200 changed, 60 negated (6 of them among those), 3 deleted (none
    // changed) and 200 more (20 of them changed), 2 inserted.
    let n = |t: &serde_json::Value, k: &str| t[k].as_u64().unwrap();
    assert_eq!(
        (
            n(&p, "different"),
            n(&p, "missing_in_target"),
            n(&p, "extra_in_target")
        ),
        (200 + 60 - 6 - 20, 3 + 200, 2),
        "{p}"
    );
    assert_eq!(n(&p, "matched"), 2000 - 203 - (200 + 60 - 6 - 20), "{p}");
    assert_eq!(
        n(&p, "chunks_read_after_hashing"),
        n(&p, "chunks_hashed"),
        "{p}"
    );
    // Narrowed reads: far fewer bytes than reading every row.
    assert!(
        3 * n(&p, "bytes_received") < n(&c, "bytes_received"),
        "pushdown {} bytes against client {}",
        p["bytes_received"],
        c["bytes_received"]
    );
}
