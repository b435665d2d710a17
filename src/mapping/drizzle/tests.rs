//! Unit tests of the Drizzle loader: snapshots, exporter JSON, both merged,
//! and the one-line errors for files it cannot use.

use super::*;
use crate::mapping::ReadMode;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SNAP_PG7: &str = r#"{
  "id": "x", "prevId": "y", "version": "7", "dialect": "postgresql",
  "tables": {
    "public.users": {
      "name": "users", "schema": "",
      "columns": {
        "id": {"name": "id", "type": "text", "primaryKey": true, "notNull": true},
        "created_at": {"name": "created_at", "type": "timestamp (3)", "primaryKey": false, "notNull": true, "default": "now()"},
        "role": {"name": "role", "type": "role", "typeSchema": "public", "primaryKey": false, "notNull": true},
        "points": {"name": "points", "type": "bigint", "primaryKey": false, "notNull": false}
      },
      "indexes": {}, "foreignKeys": {},
      "compositePrimaryKeys": {},
      "uniqueConstraints": {"users_email_unique": {"name": "users_email_unique", "columns": ["id"], "nullsNotDistinct": false}}
    },
    "public.repair_events": {
      "name": "repair_events", "schema": "",
      "columns": {
        "repair_id": {"name": "repair_id", "type": "text", "primaryKey": false, "notNull": true},
        "seq": {"name": "seq", "type": "integer", "primaryKey": false, "notNull": true}
      },
      "indexes": {}, "foreignKeys": {},
      "compositePrimaryKeys": {"repair_events_repair_id_seq_pk": {"name": "repair_events_repair_id_seq_pk", "columns": ["repair_id", "seq"]}},
      "uniqueConstraints": {}
    }
  },
  "enums": {"public.role": {"name": "role", "schema": "public", "values": ["ADMIN", "CLERK"]}},
  "schemas": {}, "sequences": {}, "_meta": {"columns": {}, "schemas": {}, "tables": {}}
}"#;

const EXPORT: &str = r#"{
  "format": "parity-drizzle-mapping", "version": 1, "dialect": "postgresql",
  "tables": [
    {"name": "users", "schema": null, "export": "users", "primaryKey": ["id"], "columns": [
      {"name": "id", "key": "id", "columnType": "PgText", "dataType": "string", "mode": null, "sqlType": "text", "notNull": true, "primary": true, "hasDefault": true, "enumValues": null, "isUpdatedAt": false},
      {"name": "created_at", "key": "createdAt", "columnType": "PgTimestamp", "dataType": "date", "mode": "date", "sqlType": "timestamp(3)", "notNull": true, "primary": false, "hasDefault": true, "enumValues": null, "isUpdatedAt": false},
      {"name": "role", "key": "role", "columnType": "PgEnumColumn", "dataType": "string", "mode": null, "sqlType": "role", "notNull": true, "primary": false, "hasDefault": false, "enumValues": ["ADMIN", "CLERK"], "isUpdatedAt": false},
      {"name": "points", "key": "points", "columnType": "PgBigInt64", "dataType": "bigint", "mode": "bigint", "sqlType": "bigint", "notNull": false, "primary": false, "hasDefault": false, "enumValues": null, "isUpdatedAt": false}
    ]},
    {"name": "repair_events", "schema": null, "export": "repairEvents", "primaryKey": ["repair_id", "seq"], "columns": [
      {"name": "repair_id", "key": "repairId", "columnType": "PgText", "dataType": "string", "sqlType": "text", "notNull": true, "primary": false, "hasDefault": false, "isUpdatedAt": false},
      {"name": "seq", "key": "seq", "columnType": "PgInteger", "dataType": "number", "sqlType": "integer", "notNull": true, "primary": false, "hasDefault": false, "isUpdatedAt": false}
    ]}
  ],
  "enums": [{"name": "role", "schema": null, "values": ["ADMIN", "CLERK"]}]
}"#;

#[test]
fn snapshot_alone_assumes_pull_modes() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "0001_snapshot.json", SNAP_PG7);
    let m = load_path(&p).unwrap();
    assert_eq!(m.orm, Orm::Drizzle);
    assert_eq!(m.dialect, Dialect::Postgres);
    let users = m.table("users").unwrap();
    assert_eq!(users.primary_key, vec!["id"]);
    let created = users.column("created_at").unwrap();
    assert_eq!(created.db_type, "timestamp(3)");
    assert_eq!(created.read, ReadMode::DateTimeString);
    assert!(created.has_default && !created.nullable);
    assert_eq!(users.column("points").unwrap().read, ReadMode::BigIntNumber);
    let role = users.column("role").unwrap();
    assert_eq!(role.enum_name.as_deref(), Some("role"));
    assert_eq!(role.read, ReadMode::EnumLabel);
    assert_eq!(m.enum_def("role").unwrap().values.len(), 2);
    let ev = m.table("public.repair_events").unwrap();
    assert_eq!(ev.primary_key, vec!["repair_id", "seq"]);
    assert!(m.notes.iter().any(|n| n.contains("pull defaults")));
}

#[test]
fn snapshot_plus_exporter_takes_modes_from_the_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "0001_snapshot.json", SNAP_PG7);
    let e = write(dir.path(), "mapping.json", EXPORT);
    let m = load_paths(&[s, e]).unwrap();
    let users = m.table("users").unwrap();
    assert_eq!(users.column("created_at").unwrap().read, ReadMode::DateTime);
    assert_eq!(users.column("created_at").unwrap().field, "createdAt");
    assert_eq!(users.column("points").unwrap().read, ReadMode::BigInt);
    assert_eq!(m.table("repair_events").unwrap().logical, "repairEvents");
    assert!(!m.notes.iter().any(|n| n.contains("pull defaults")));
    // A folder stands for its latest snapshot plus mapping.json.
    let m2 = load_path(dir.path()).unwrap();
    assert_eq!(
        m2.table("users").unwrap().column("points").unwrap().read,
        ReadMode::BigInt
    );
}

#[test]
fn exporter_alone_is_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let e = write(dir.path(), "mapping.json", EXPORT);
    let m = load_path(&e).unwrap();
    let users = m.table("users").unwrap();
    assert_eq!(users.primary_key, vec!["id"]);
    assert_eq!(users.column("created_at").unwrap().db_type, "timestamp(3)");
    assert_eq!(
        users.column("role").unwrap().enum_name.as_deref(),
        Some("role")
    );
}

#[test]
fn exporter_missing_a_column_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "0001_snapshot.json", SNAP_PG7);
    let mut v: Value = serde_json::from_str(EXPORT).unwrap();
    v["tables"][1]["columns"].as_array_mut().unwrap().pop();
    v["tables"][1]["primaryKey"] = json!(["repair_id"]);
    let broken = v.to_string();
    let e = write(dir.path(), "mapping.json", &broken);
    let err = load_paths(&[s, e]).unwrap_err().to_string();
    assert!(err.contains("0001_snapshot.json"), "{err}");
    assert!(err.contains("mapping.json"), "{err}");
    assert!(err.contains("repair_events.seq"), "{err}");
}

#[test]
fn bad_files_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = load_path(&dir.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope.json") && missing.contains("no such file"),
        "{missing}"
    );
    let v = write(
        dir.path(),
        "v9.json",
        &SNAP_PG7.replace(r#""version": "7""#, r#""version": "9""#),
    );
    let e = load_path(&v).unwrap_err().to_string();
    assert!(e.contains("version \"9\""), "{e}");
    let d = write(
        dir.path(),
        "d.json",
        &SNAP_PG7.replace(r#""dialect": "postgresql""#, r#""dialect": "singlestore""#),
    );
    let e = load_path(&d).unwrap_err().to_string();
    assert!(
        e.contains("unknown drizzle-kit dialect \"singlestore\""),
        "{e}"
    );
    let j = write(dir.path(), "bad.json", "{ \"version\": ");
    let e = load_path(&j).unwrap_err().to_string();
    assert!(e.contains("bad.json is not valid JSON"), "{e}");
    let jr = write(
        dir.path(),
        "_journal.json",
        r#"{"version":"7","dialect":"postgresql","entries":[]}"#,
    );
    let e = load_path(&jr).unwrap_err().to_string();
    assert!(e.contains("journal"), "{e}");
    assert!(!missing.contains('\n'));
}

#[test]
fn old_string_forms_and_object_enum_values() {
    let snap = r#"{
      "id": "x", "prevId": "y", "version": "5", "dialect": "pg",
      "tables": {
        "t": {"name": "t", "schema": "", "columns": {
            "a": {"name": "a", "type": "integer", "primaryKey": false, "notNull": true},
            "b": {"name": "b", "type": "mood", "primaryKey": false, "notNull": true}
          },
          "indexes": {}, "foreignKeys": {},
          "compositePrimaryKeys": {"t_a_b_pk": "a,b"},
          "uniqueConstraints": {"t_b_unique": "t_b_unique;b"}
        }
      },
      "enums": {"mood": {"name": "mood", "values": {"sad": "sad", "ok": "ok"}}},
      "schemas": {}, "_meta": {"columns": {}, "schemas": {}, "tables": {}}
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "0000_snapshot.json", snap);
    let m = load_path(&p).unwrap();
    let t = m.table("t").unwrap();
    assert_eq!(t.primary_key, vec!["a", "b"]);
    assert_eq!(t.uniques, vec![vec!["b".to_string()]]);
    let e = m.enum_def("mood").unwrap();
    let labels: Vec<&str> = e.values.iter().map(|v| v.db_name.as_str()).collect();
    assert_eq!(labels, vec!["sad", "ok"]);
    assert_eq!(t.column("b").unwrap().enum_name.as_deref(), Some("mood"));
}

#[test]
fn inline_enums_keep_their_labels() {
    assert_eq!(
        normalize_column_type("ENUM('Active', 'it''s')"),
        "enum('Active','it''s')"
    );
    assert_eq!(
        parse_inline_enum("enum('a','b c')").unwrap(),
        vec!["a".to_string(), "b c".to_string()]
    );
    assert_eq!(normalize_column_type("timestamp (3)"), "timestamp(3)");
}
