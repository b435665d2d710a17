//! Issues #9 (section 1) and #17: the cells an ORM reads differently or
//! cannot read at all, end to end with the real binary on real PostgreSQL
//! and SQLite databases. Every expectation below was observed with the real
//! ORMs (Prisma 7.10 with adapter-pg / adapter-better-sqlite3, drizzle-orm
//! 0.45.4), see `orm-semantics.md` and the oracle's FACTS.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use sqlx::Connection;

use crate::support::{PgDb, block_on, parity, root, seed};

struct Outcome {
    code: i32,
    parity: Vec<BTreeMap<String, String>>,
    differences: Vec<BTreeMap<String, String>>,
    report: Value,
    stderr: String,
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
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

fn check(config: &Path, out: &Path) -> Outcome {
    let o = parity()
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("check")
        .arg("--show-values")
        .output()
        .unwrap();
    Outcome {
        code: o.status.code().unwrap_or(-1),
        parity: csv_rows(&out.join("parity.csv")),
        differences: csv_rows(&out.join("differences.csv")),
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

/// (kind, key, columns) of one table's differences.
fn diffs(o: &Outcome, table: &str) -> BTreeSet<(String, String, String)> {
    o.differences
        .iter()
        .filter(|d| d["source_table"] == table)
        .map(|d| (d["kind"].clone(), d["key"].clone(), d["columns"].clone()))
        .collect()
}

fn d(kind: &str, key: &str, columns: &str) -> (String, String, String) {
    (kind.into(), key.into(), columns.into())
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

#[test]
fn postgres_lists_out_of_range_dates_unreadable_cells_and_unique_keys() {
    let db = PgDb::new("fidelity").create();
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
    let dir = tempfile::tempdir().unwrap();
    let prisma = dir.path().join("schema.prisma");
    std::fs::write(&prisma, PRISMA).unwrap();
    let mapping = dir.path().join("mapping.json");
    std::fs::write(&mapping, drizzle_mapping().to_string()).unwrap();
    let config = dir.path().join("parity.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n\n\
             [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{}\"]\n",
            prisma.display(),
            mapping.display(),
            url = db.url
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = check(&config, &out);
    assert_eq!(
        o.code, 1,
        "unreadable cells and differences exit 1: {}",
        o.stderr
    );

    let things = row(&o, "things");
    assert_eq!(things["different"], "4", "{things:?}");
    assert_eq!(things["unreadable"], "2", "{things:?}");
    assert_eq!(things["matched"], "1", "{things:?}");
    assert_eq!(things["status"], "differs");
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
    let table = o.report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "things")
        .unwrap();
    assert_eq!(table["unreadable"], 2);
    assert_eq!(table["columns_unreadable"]["tags"], 1);
    let shown: Vec<String> = table["differences"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["values"].as_array().cloned().unwrap_or_default())
        .map(|v| {
            format!(
                "{}={}|{}",
                v["column"].as_str().unwrap(),
                v["source"].as_str().unwrap(),
                v["target"].as_str().unwrap()
            )
        })
        .collect();
    assert!(shown.contains(&"tags=[]|NULL".to_string()), "{shown:?}");
    assert!(
        shown.contains(&"at=Invalid Date|infinity".to_string()),
        "{shown:?}"
    );

    // The table keyed only by @@unique([a, b]) is checked, and says so; the
    // NULL in `note`, which Prisma declares required, is no throw (Prisma 7
    // hands null) and no difference.
    let pairs = row(&o, "pairs");
    assert_eq!(pairs["status"], "ok", "{pairs:?}");
    assert_eq!(pairs["matched"], "2");
    let note = o.report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "pairs")
        .unwrap()["key_note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("composite unique criterion (a, b)"), "{note}");
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("unreadable (an ORM's read throws): `color` (1 rows), `tags` (1 rows)"),
        "{summary}"
    );
}

/// Issue 17: the SQLite fixture read by Prisma 7's better-sqlite3 adapter and
/// by Drizzle, with values a real app can store through either ORM.
#[test]
fn sqlite_reads_as_the_better_sqlite3_adapter_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.db");
    let url = format!("sqlite:{}", file.display());
    seed(&url, 50, None);
    let f = file.clone();
    block_on(async move {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}", f.display()))
            .await
            .unwrap();
        sqlx::raw_sql(
            "UPDATE items SET stock = 2.5 WHERE id = 1;
             UPDATE items SET stock = 9007199254740994 WHERE id = 2;
             UPDATE items SET active = 2 WHERE id = 3;
             UPDATE items SET price = 9007199254740993 WHERE id = 4;
             UPDATE customers SET loyalty_points = 25.3 WHERE id = 1;
             UPDATE repairs SET estimated_cost = 9007199254740993
               WHERE id = (SELECT min(id) FROM repairs);
             UPDATE transactions SET occurred_at = '2024-03-05T10:11:12.123000789Z' WHERE id = 1;",
        )
        .execute(&mut c)
        .await
        .unwrap();
    });
    let fx = root().join("fixtures/bikeshop/sqlite");
    let config = dir.path().join("parity.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{}\"\n\n\
             [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{}\", \"{}\"]\n",
            fx.join("prisma/schema.prisma").display(),
            fx.join("drizzle/meta/0001_snapshot.json").display(),
            fx.join("drizzle/mapping.json").display(),
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = check(&config, &out);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let items = diffs(&o, "items");
    // REAL 2.5 in an Int: Prisma 2, Drizzle 2.5.
    assert!(
        items.contains(&d("different", r#"{"id":1}"#, "stock")),
        "{items:?}"
    );
    // Int above 2^53: Prisma's findMany throws.
    assert!(
        items.contains(&d("unreadable_in_source", r#"{"id":2}"#, "stock")),
        "{items:?}"
    );
    // Boolean holding 2: Prisma false, Drizzle's plain integer() 2.
    assert!(
        items.contains(&d("different", r#"{"id":3}"#, "active")),
        "{items:?}"
    );
    // Decimal as INTEGER against Drizzle's numeric() string: `String(number)`.
    assert!(
        items.contains(&d("different", r#"{"id":4}"#, "price")),
        "{items:?}"
    );
    assert_eq!(row(&o, "items")["unreadable"], "1");
    // BigInt holding 25.3: Prisma 25n, Drizzle's number 25.3.
    let customers = diffs(&o, "customers");
    assert!(
        customers.contains(&d("different", r#"{"id":1}"#, "loyalty_points")),
        "{customers:?}"
    );
    // ns timestamps: Prisma cuts to ms, Drizzle's string keeps them.
    let tx = diffs(&o, "transactions");
    assert!(
        tx.iter().any(|(k, key, c)| k == "different"
            && key == r#"{"id":1}"#
            && c.contains("occurred_at")),
        "{tx:?}"
    );
    // Decimal as INTEGER: Prisma's exact Decimal against Drizzle mode 'number'.
    let repairs = diffs(&o, "repairs");
    assert!(
        repairs
            .iter()
            .any(|(k, _, c)| k == "different" && c.contains("estimated_cost")),
        "{repairs:?}"
    );
    let tables = o.report["tables"].as_array().unwrap();
    let values = |table: &str, column: &str| -> Vec<(String, String)> {
        tables.iter().find(|t| t["source_table"] == table).unwrap()["differences"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["values"].as_array().cloned().unwrap_or_default())
            .filter(|v| v["column"] == column)
            .map(|v| {
                (
                    v["source"].as_str().unwrap().to_string(),
                    v["target"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Each side shows what its ORM hands, on its own side.
    assert!(
        values("repairs", "estimated_cost")
            .contains(&("9007199254740993".into(), "9007199254740992".into()))
    );
    assert!(values("items", "stock").contains(&("2".into(), "2.5".into())));
    assert!(
        values("items", "price").contains(&("9007199254740993".into(), "9007199254740992".into()))
    );
    assert!(values("customers", "loyalty_points").contains(&("25".into(), "25.3".into())));
    assert!(values("items", "active").contains(&("false".into(), "2".into())));
    let csv = std::fs::read_to_string(out.join("differences.csv")).unwrap();
    assert!(
        csv.contains(r#"items,items,"{""id"":1}",different,stock,"[""2""]","[""2.5""]""#),
        "{csv}"
    );
    // Shapes say what each ORM really hands.
    let shapes: Vec<(String, String, String, String)> = tables
        .iter()
        .flat_map(|t| {
            let name = t["source_table"].as_str().unwrap().to_string();
            t["shapes"].as_array().unwrap().iter().map(move |s| {
                (
                    name.clone(),
                    s["column"].as_str().unwrap().to_string(),
                    s["code"].as_str().unwrap().to_string(),
                    format!(
                        "{} {}",
                        s["risk"].as_str().unwrap(),
                        s["message"].as_str().unwrap()
                    ),
                )
            })
        })
        .collect();
    let shape = |t: &str, c: &str| {
        shapes
            .iter()
            .filter(|s| s.0 == t && s.1 == c)
            .collect::<Vec<_>>()
    };
    let cost = shape("repairs", "estimated_cost");
    assert!(
        cost.iter()
            .any(|s| s.2 == "SHAPE_DECIMAL_NUMBER" && s.3.contains("Prisma gives Decimal")),
        "{cost:?}"
    );
    let created = shape("users", "created_at");
    assert!(
        created.iter().all(|s| s.3.starts_with("note ")),
        "users.created_at: both hand a Date, so only a risk note: {created:?}"
    );
}

/// The gate names unreadable rows and is NOT READY: a label the Prisma enum
/// does not know makes Prisma's reads of `users` throw.
#[test]
fn gate_is_not_ready_on_unreadable_cells() {
    let db = PgDb::new("fidelity_gate");
    seed(&db.url, 300, None);
    db.exec(r#"ALTER TYPE "Role" ADD VALUE 'OWNER'"#);
    db.exec(r#"UPDATE users SET role = 'OWNER' WHERE id = (SELECT min(id) FROM users)"#);
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .current_dir(root())
        .env("DATABASE_URL", &db.url)
        .args(["--config", "fixtures/bikeshop/parity.toml", "--out"])
        .arg(dir.path())
        .args([
            "run",
            "--repository",
            "user",
            "--iterations",
            "5",
            "--warmup",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = stdout.lines().next().unwrap_or_default();
    assert!(
        line.contains("data 1 of 1 tables differ (1 rows, 1 unreadable)"),
        "{line}"
    );
    assert!(line.ends_with("→ NOT READY"), "{line}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<th>unreadable</th>"), "{html}");
    assert!(html.contains("unreadable in 1 row(s)"), "{html}");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains("1 unreadable"), "{junit}");
    assert!(junit.contains("unreadable_in_source"), "{junit}");
    let differences = std::fs::read_to_string(dir.path().join("differences.csv")).unwrap();
    assert!(
        differences.contains("unreadable_in_source,role"),
        "{differences}"
    );
}

/// A table with no key and no unique criterion no longer stops the run: it is
/// compared as a keyless multiset, with a note, and the others are checked.
#[test]
fn keyless_table_is_a_multiset_with_a_note_and_never_stops_the_run() {
    let db = PgDb::new("fidelity_keyless").create();
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
    let m = dir.path().join("mapping.json");
    std::fs::write(&m, mapping.to_string()).unwrap();
    let config = dir.path().join("parity.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nname = \"a\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{m}\"]\n\n\
             [target]\nname = \"b\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{m}\"]\n",
            url = db.url,
            m = m.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = check(&config, &out);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(row(&o, "events")["matched"], "3");
    assert_eq!(row(&o, "tags")["status"], "ok");
    let events = o.report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "events")
        .unwrap();
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
    let m2 = dir.path().join("mapping-bigint.json");
    std::fs::write(&m2, t.to_string()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[source]\nname = \"a\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{m}\"]\n\n\
             [target]\nname = \"b\"\norm = \"drizzle\"\nurl = \"{url}\"\nmapping = [\"{m2}\"]\n",
            url = db.url,
            m = m.display(),
            m2 = m2.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out2");
    let o = check(&config, &out);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let events = row(&o, "events");
    assert_eq!(events["unreadable"], "3", "{events:?}");
    assert!(
        diffs(&o, "events").contains(&d("unreadable_in_target", "{}", "msg")),
        "{:?}",
        diffs(&o, "events")
    );
}
