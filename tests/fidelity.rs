//! Issues #9 (section 1) and #17: the cells an ORM reads differently or
//! cannot read at all, end to end with the real binary on real PostgreSQL
//! and SQLite databases. Every expectation below was observed with the real
//! ORMs (Prisma 7.10 with adapter-pg / adapter-better-sqlite3, drizzle-orm
//! 0.45.4), see `orm-semantics.md` and the oracle's FACTS.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Backend, Run, TempDb, assert_contains, config, fixture_run, seed};

fn check(config: &Path, out: &Path) -> Run {
    crate::support::check(config, out, &["--show-values"])
}

/// (kind, key, columns) of one table's differences.
fn diffs(o: &Run, table: &str) -> BTreeSet<(String, String, String)> {
    let rows = o
        .csv("differences.csv")
        .into_iter()
        .filter(|d| d["source_table"] == table);
    rows.map(|d| (d["kind"].clone(), d["key"].clone(), d["columns"].clone()))
        .collect()
}

fn d(kind: &str, key: &str, columns: &str) -> (String, String, String) {
    (kind.into(), key.into(), columns.into())
}

/// (column, source, target) of the values shown for one table's differences.
fn values(o: &Run, table: &str) -> Vec<(String, String, String)> {
    let t = o.report_table(table);
    let values = t["differences"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["values"].as_array().cloned().unwrap_or_default());
    let text = |v: &Value, k: &str| v[k].as_str().unwrap().to_string();
    values
        .map(|v| (text(&v, "column"), text(&v, "source"), text(&v, "target")))
        .collect()
}

/// Drizzle on both sides over `url`: `source` and `target` mapping files.
fn drizzle_both(dir: &Path, url: &str, mappings: [&Path; 2]) -> PathBuf {
    let side = |name: &str, m: &Path| config::side(name, "drizzle", url, &[m.to_path_buf()]);
    config::write(dir, &side("a", mappings[0]), &side("b", mappings[1]), "")
}

const PRISMA: &str = r#"datasource db {
  provider = "postgresql"
}

/* A block comment at the top level, as a real public schema has. */
/** And a doc block. */
enum Color {
  RED @map("red")
  GREEN
}

model Thing {
  id    Int      @id /* end of a field line */
  /** before a field */
  tags  String[]
  nums  Int[]
  at    DateTime @db.Timestamp(3)
  atz   DateTime @db.Timestamptz(6)
  day   DateTime @db.Date
  color Color?

  @@map("things")
}

model Pair {
  a    String
  b    Int
  note String

  @@unique([a, b])
  @@map("pairs")
}
"#;

fn col(name: &str, ty: &str, sql: &str, mode: Option<&str>, not_null: bool) -> Value {
    serde_json::json!({"name": name, "key": name, "columnType": ty, "dataType": "string", "mode": mode,
        "sqlType": sql, "notNull": not_null, "primary": false, "hasDefault": false,
        "enumValues": null, "isUpdatedAt": false})
}

fn drizzle_mapping() -> Value {
    let mut id = col("id", "PgInteger", "integer", None, true);
    id["primary"] = true.into();
    let mut tags = col("tags", "PgArray", "text[]", None, false);
    tags["baseColumn"] = col("tags", "PgText", "text", None, false);
    let mut nums = col("nums", "PgArray", "integer[]", None, false);
    nums["baseColumn"] = col("nums", "PgInteger", "integer", None, false);
    let mut color = col("color", "PgEnumColumn", "\"Color\"", None, false);
    color["enumValues"] = serde_json::json!(["red", "GREEN"]);
    serde_json::json!({"format": "parity-drizzle-mapping", "version": 1, "dialect": "postgresql",
      "tables": [
        {"name": "things", "schema": null, "export": "things", "primaryKey": ["id"], "columns": [
          id, tags, nums,
          col("at", "PgTimestampString", "timestamp(3)", Some("string"), true),
          col("atz", "PgTimestamp", "timestamp(6) with time zone", Some("date"), true),
          col("day", "PgDateString", "date", Some("string"), true),
          color]},
        {"name": "pairs", "schema": null, "export": "pairs", "primaryKey": [], "columns": [
          col("a", "PgText", "text", None, true),
          col("b", "PgInteger", "integer", None, true),
          col("note", "PgText", "text", None, false)]}
      ],
      "enums": [{"name": "Color", "schema": null, "values": ["red", "GREEN"]}]})
}

/// The PostgreSQL tables of out-of-range dates, lists, enums and unique
/// keys, read by Prisma (source) and Drizzle (target): the database and
/// the config (also run in both modes by the pushdown test).
pub fn postgres_fidelity(dir: &Path) -> (TempDb, PathBuf) {
    let db = TempDb::pg("fidelity").create();
    db.exec(
        r#"CREATE TYPE "Color" AS ENUM ('red', 'GREEN', 'blue');
        CREATE TABLE things (id int PRIMARY KEY, tags text[], nums int[], at timestamp(3) NOT NULL,
          atz timestamptz(6) NOT NULL, day date NOT NULL, color "Color");
        CREATE TABLE pairs (a text NOT NULL, b int NOT NULL, note text, UNIQUE (a, b));
        INSERT INTO things VALUES
          (1, NULL, '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:00.123456+00', '2024-01-01', 'red'),
          (2, '{}', '{1,2}', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', '2024-01-01', 'GREEN'),
          (3, '{a,NULL}', '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', '2024-01-01', NULL),
          (4, '{x}', '{}', 'infinity', 'infinity', '2024-01-01', NULL),
          (5, '{x}', '{}', '0044-03-15 12:00:00 BC', '2024-01-01 00:00:00+00', '10000-01-01', NULL),
          (6, '{x}', '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', '2024-01-01', 'blue'),
          (7, '{x}', '{}', '2024-01-01 00:00:00', '0001-06-01 00:00:00+00', '2024-01-01', NULL);
        INSERT INTO pairs VALUES ('x', 1, 'n'), ('y', 2, NULL);"#,
    );
    let prisma = config::file(dir, "schema.prisma", PRISMA);
    let mapping = config::file(dir, "mapping.json", &drizzle_mapping().to_string());
    let source = config::side("prisma", "prisma", &db.url, &[prisma]);
    let config = config::write(
        dir,
        &source,
        &config::side("drizzle", "drizzle", &db.url, &[mapping]),
        "",
    );
    (db, config)
}

#[test]
fn postgres_lists_out_of_range_dates_unreadable_cells_and_unique_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, config) = postgres_fidelity(dir.path());
    let o = check(&config, &dir.path().join("out"));
    assert_eq!(
        o.code, 1,
        "unreadable cells and differences exit 1: {}",
        o.stderr
    );

    let counts = [
        ("different", "4"),
        ("unreadable", "2"),
        ("matched", "1"),
        ("status", "differs"),
    ];
    o.expect_table("things", &counts);
    assert_eq!(
        diffs(&o, "things"),
        BTreeSet::from([
            // SQL NULL list: Prisma [], Drizzle null.
            d("different", r#"{"id":1}"#, "tags"),
            // A NULL element: Prisma's findMany throws.
            d("unreadable_in_source", r#"{"id":3}"#, "tags"),
            // infinity: Prisma Invalid Date, Drizzle's string "infinity";
            // timestamptz infinity is an Invalid Date on both.
            d("different", r#"{"id":4}"#, "at"),
            // BC and year 10000: Invalid Date against the text.
            d("different", r#"{"id":5}"#, "at;day"),
            // A label the Prisma enum does not know: Prisma throws.
            d("unreadable_in_source", r#"{"id":6}"#, "color"),
            // Year 1: Prisma's Date holds it, Drizzle mode 'date' reads 2001.
            d("different", r#"{"id":7}"#, "atz"),
        ])
    );
    let table = o.report_table("things");
    assert_eq!(table["unreadable"], 2);
    assert_eq!(table["columns_unreadable"]["tags"], 1);
    let shown = values(&o, "things");
    assert!(shown.contains(&d("tags", "[]", "NULL")), "{shown:?}");
    assert!(
        shown.contains(&d("at", "Invalid Date", "infinity")),
        "{shown:?}"
    );

    // The table keyed only by @@unique([a, b]) is checked, and says so; the
    // NULL in `note`, which Prisma declares required, is no throw (Prisma 7
    // hands null) and no difference.
    o.expect_table("pairs", &[("status", "ok"), ("matched", "2")]);
    let note = o.report_table("pairs")["key_note"].to_string();
    assert_contains(&note, &["composite unique criterion (a, b)"]);
    let says = "unreadable (an ORM's read throws): `color` (1 rows), `tags` (1 rows)";
    o.expect_in("summary.md", &[says]);
}

/// Issue 17: the SQLite fixture read by Prisma 7's better-sqlite3 adapter and
/// by Drizzle, with values a real app can store through either ORM.
#[test]
fn sqlite_reads_as_the_better_sqlite3_adapter_does() {
    let db = TempDb::sqlite("shop");
    seed(&db.url, 50, None);
    db.exec(
        "UPDATE items SET stock = 2.5 WHERE id = 1;
         UPDATE items SET stock = 9007199254740994 WHERE id = 2;
         UPDATE items SET active = 2 WHERE id = 3;
         UPDATE items SET price = 9007199254740993 WHERE id = 4;
         UPDATE customers SET loyalty_points = 25.3 WHERE id = 1;
         UPDATE repairs SET estimated_cost = 9007199254740993
           WHERE id = (SELECT min(id) FROM repairs);
         UPDATE transactions SET occurred_at = '2024-03-05T10:11:12.123000789Z' WHERE id = 1;",
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Backend::Sqlite;
    let config = config::write(
        dir.path(),
        &config::prisma(sqlite, &db.url),
        &config::drizzle(sqlite, &db.url),
        "",
    );
    let o = check(&config, &dir.path().join("out"));
    o.expect(1);
    let expected = [
        // REAL 2.5 in an Int: Prisma 2, Drizzle 2.5.
        ("items", d("different", r#"{"id":1}"#, "stock")),
        // Int above 2^53: Prisma's findMany throws.
        ("items", d("unreadable_in_source", r#"{"id":2}"#, "stock")),
        // Boolean holding 2: Prisma false, Drizzle's plain integer() 2.
        ("items", d("different", r#"{"id":3}"#, "active")),
        // Decimal as INTEGER against Drizzle's numeric() string: `String(number)`.
        ("items", d("different", r#"{"id":4}"#, "price")),
        // BigInt holding 25.3: Prisma 25n, Drizzle's number 25.3.
        ("customers", d("different", r#"{"id":1}"#, "loyalty_points")),
    ];
    for (table, diff) in expected {
        let found = diffs(&o, table);
        assert!(found.contains(&diff), "{table}: {diff:?} not in {found:?}");
    }
    o.expect_table("items", &[("unreadable", "1")]);
    // ns timestamps: Prisma cuts to ms, Drizzle's string keeps them.
    let tx = diffs(&o, "transactions");
    let ns = tx
        .iter()
        .any(|(k, key, c)| k == "different" && key == r#"{"id":1}"# && c.contains("occurred_at"));
    assert!(ns, "{tx:?}");
    // Decimal as INTEGER: Prisma's exact Decimal against Drizzle mode 'number'.
    let repairs = diffs(&o, "repairs");
    assert!(
        repairs
            .iter()
            .any(|(k, _, c)| k == "different" && c.contains("estimated_cost")),
        "{repairs:?}"
    );
    // Each side shows what its ORM hands, on its own side.
    let shown = [
        (
            "repairs",
            "estimated_cost",
            "9007199254740993",
            "9007199254740992",
        ),
        ("items", "stock", "2", "2.5"),
        ("items", "price", "9007199254740993", "9007199254740992"),
        ("customers", "loyalty_points", "25", "25.3"),
        ("items", "active", "false", "2"),
    ];
    for (table, column, source, target) in shown {
        assert!(
            values(&o, table).contains(&d(column, source, target)),
            "{table}.{column}"
        );
    }
    let csv = o.text("differences.csv");
    assert!(
        csv.contains(r#"items,items,"{""id"":1}",different,stock,"[""2""]","[""2.5""]""#),
        "{csv}"
    );
    // Shapes say what each ORM really hands.
    let shapes = |t: &str, c: &str| -> Vec<(String, String)> {
        let table = o.report_table(t);
        let of_column = table["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["column"] == c);
        let text = |s: &Value, k: &str| s[k].as_str().unwrap().to_string();
        of_column
            .map(|s| {
                (
                    text(s, "code"),
                    format!("{} {}", text(s, "risk"), text(s, "message")),
                )
            })
            .collect()
    };
    let cost = shapes("repairs", "estimated_cost");
    let decimal = cost.iter().any(|(code, says)| {
        code == "SHAPE_DECIMAL_NUMBER" && says.contains("Prisma gives Decimal")
    });
    assert!(decimal, "{cost:?}");
    let created = shapes("users", "created_at");
    assert!(
        created.iter().all(|(_, says)| says.starts_with("note ")),
        "users.created_at: both hand a Date, so only a risk note: {created:?}"
    );
}

/// The gate names unreadable rows and is NOT READY: a label the Prisma enum
/// does not know makes Prisma's reads of `users` throw.
#[test]
fn gate_is_not_ready_on_unreadable_cells() {
    let (db, _) = TempDb::seeded(Backend::Postgres, "fidelity_gate", 300, None);
    db.exec(r#"ALTER TYPE "Role" ADD VALUE 'OWNER'"#);
    db.exec(r#"UPDATE users SET role = 'OWNER' WHERE id = (SELECT min(id) FROM users)"#);
    let dir = tempfile::tempdir().unwrap();
    let o = fixture_run(
        &db,
        dir.path(),
        "run --repository user --iterations 5 --warmup 1",
    );
    o.expect(1);
    o.verdict_line(
        &["data 1 of 1 tables differ (1 rows, 1 unreadable)"],
        "NOT READY",
    );
    let says = [
        ("report.html", "<th>unreadable</th>"),
        ("report.html", "unreadable in 1 row(s)"),
        ("junit.xml", "1 unreadable"),
        ("junit.xml", "unreadable_in_source"),
        ("differences.csv", "unreadable_in_source,role"),
    ];
    for (file, text) in says {
        assert_contains(&o.text(file), &[text]);
    }
}

/// A table with no key and no unique criterion no longer stops the run: it is
/// compared as a keyless multiset, with a note, and the others are checked.
#[test]
fn keyless_table_is_a_multiset_with_a_note_and_never_stops_the_run() {
    let db = TempDb::pg("fidelity_keyless").create();
    db.exec(
        "CREATE TABLE events (msg text NOT NULL, n int);
         CREATE TABLE tags (id int PRIMARY KEY, label text);
         INSERT INTO events VALUES ('a', 1), ('a', 1), ('b', NULL);
         INSERT INTO tags VALUES (1, 'x');",
    );
    let mapping = serde_json::json!({"format": "parity-drizzle-mapping", "version": 1, "dialect": "postgresql",
      "tables": [
        {"name": "events", "schema": null, "export": "events", "primaryKey": [], "columns": [
          col("msg", "PgText", "text", None, true), col("n", "PgInteger", "integer", None, false)]},
        {"name": "tags", "schema": null, "export": "tags", "primaryKey": ["id"], "columns": [
          col("id", "PgInteger", "integer", None, true), col("label", "PgText", "text", None, false)]}
      ], "enums": []});
    let dir = tempfile::tempdir().unwrap();
    let m = config::file(dir.path(), "mapping.json", &mapping.to_string());
    let same = drizzle_both(dir.path(), &db.url, [&m, &m]);
    let o = check(&same, &dir.path().join("out"));
    o.expect(0);
    o.expect_table("events", &[("matched", "3")]);
    o.expect_table("tags", &[("status", "ok")]);
    let events = o.report_table("events");
    assert!(
        events["key_note"]
            .as_str()
            .unwrap()
            .contains("compared as a multiset"),
        "{events}"
    );

    // A keyless table whose target reading throws: Drizzle's bigint mode
    // 'bigint' on a text column holding "x" (`BigInt("x")` throws). The
    // cells are counted, not named.
    let mut t = mapping.clone();
    t["tables"][0]["columns"][0] = col("msg", "PgBigInt64", "bigint", Some("bigint"), true);
    let m2 = config::file(dir.path(), "mapping-bigint.json", &t.to_string());
    let throws = drizzle_both(dir.path(), &db.url, [&m, &m2]);
    let o = check(&throws, &dir.path().join("out2"));
    o.expect(1);
    o.expect_table("events", &[("unreadable", "3")]);
    let found = diffs(&o, "events");
    assert!(
        found.contains(&d("unreadable_in_target", "{}", "msg")),
        "{found:?}"
    );
}
