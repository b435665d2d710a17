//! Conformance: parity's drizzle-kit snapshot reader against the real
//! snapshots of the schema corpus (`shared/corpus/drizzle`, see its README).
//!
//! Every `*_snapshot.json` must load; its table and per-table column counts
//! must equal the JSON's (views with columns count as tables); a composite
//! primary key and an enum are spot-checked. The corpus folder is
//! `$PARITY_CORPUS`, else `<crate>/../shared/corpus`; a missing corpus fails.

use parity::mapping::drizzle::load_path;
use parity::mapping::{Dialect, ReadMode};
use serde_json::Value;

use crate::support::{corpus, read_json};

/// (qualified name, column count) of every table and view with columns.
fn expected(v: &Value) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for section in ["tables", "views"] {
        let Some(obj) = v.get(section).and_then(Value::as_object) else {
            continue;
        };
        for t in obj.values() {
            let n = t
                .get("columns")
                .and_then(Value::as_object)
                .map(|c| c.len())
                .unwrap_or(0);
            if section == "views" && n == 0 {
                continue;
            }
            let name = t["name"].as_str().unwrap().to_string();
            let qualified = match t.get("schema").and_then(Value::as_str) {
                None | Some("") | Some("public") => name,
                Some(s) => format!("{s}.{name}"),
            };
            out.push((qualified, n));
        }
    }
    out
}

#[test]
fn every_snapshot_loads_with_the_json_counts() {
    let (_, files) = corpus("drizzle", "_snapshot.json");
    let mut loaded = 0;
    let mut failures = Vec::new();
    for f in &files {
        let v = read_json(f);
        match load_path(f) {
            Ok(m) => {
                let want = expected(&v);
                if m.tables.len() != want.len() {
                    failures.push(format!(
                        "{}: {} tables, the JSON has {}",
                        f.display(),
                        m.tables.len(),
                        want.len()
                    ));
                    continue;
                }
                let mut ok = true;
                for (name, n) in &want {
                    match m.table(name) {
                        Some(t) if t.columns.len() == *n => {}
                        Some(t) => {
                            ok = false;
                            failures.push(format!(
                                "{}: table {name} has {} columns, the JSON has {n}",
                                f.display(),
                                t.columns.len()
                            ));
                        }
                        None => {
                            ok = false;
                            failures.push(format!("{}: table {name} not loaded", f.display()));
                        }
                    }
                }
                // Pull defaults are assumed and said so.
                if !m.notes.iter().any(|n| n.contains("pull defaults")) {
                    ok = false;
                    failures.push(format!("{}: no note about assumed read modes", f.display()));
                }
                if ok {
                    loaded += 1;
                }
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    println!("drizzle corpus: {loaded}/{} snapshots load", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn composite_keys_enums_and_schemas() {
    let (dir, _) = corpus("drizzle", "_snapshot.json");

    // pg v7: composite primary key from compositePrimaryKeys.
    let m = load_path(&dir.join("vercel__ai-chatbot__0008_snapshot.json")).unwrap();
    assert_eq!(m.dialect, Dialect::Postgres);
    let doc = m.table("Document").expect("Document");
    assert_eq!(doc.primary_key, vec!["id", "createdAt"]);
    assert!(!doc.column("createdAt").unwrap().nullable);
    assert_eq!(
        doc.column("createdAt").unwrap().read,
        ReadMode::DateTimeString
    );

    // pg v7 enums: a column typed by an enum, with its labels.
    let m = load_path(&dir.join("Dokploy__dokploy__0185_snapshot.json")).unwrap();
    let e = m.enum_def("buildType").expect("enum buildType");
    let labels: Vec<&str> = e.values.iter().map(|v| v.db_name.as_str()).collect();
    assert_eq!(
        &labels[..4],
        [
            "dockerfile",
            "heroku_buildpacks",
            "paketo_buildpacks",
            "nixpacks"
        ]
    );
    let uses = m
        .tables
        .iter()
        .flat_map(|t| &t.columns)
        .find(|c| c.enum_name.as_deref() == Some("buildType"))
        .expect("a buildType column");
    assert_eq!(uses.read, ReadMode::EnumLabel);
    assert_eq!(uses.db_type, "buildType");

    // Named schemas stay qualified.
    let m = load_path(&dir.join("triggerdotdev__trigger.dev__0005_snapshot.json")).unwrap();
    let t = m
        .table("trigger_dashboard_agent.agent_message_usage")
        .expect("qualified table");
    assert_eq!(t.primary_key, vec!["organization_id", "period"]);
    assert!(m.table("agent_message_usage").is_none());

    // dittofeed writes `timestamp (3)` and `timestamp(3)`: one normal form.
    let m = load_path(&dir.join("dittofeed__dittofeed__0010_snapshot.json")).unwrap();
    assert!(
        m.tables
            .iter()
            .flat_map(|t| &t.columns)
            .all(|c| !c.db_type.contains(' '))
    );

    // pg v5 (`"dialect": "pg"`).
    let m = load_path(&dir.join("sadmann7__skateshop__pg5__0003_snapshot.json")).unwrap();
    assert_eq!(m.dialect, Dialect::Postgres);
    assert!(
        m.tables
            .iter()
            .flat_map(|t| &t.columns)
            .any(|c| c.db_type == "numeric(10,2)" && c.read == ReadMode::DecimalString)
    );

    // MySQL: the key lives in compositePrimaryKeys even for one column;
    // inline enums keep their labels.
    let m = load_path(&dir.join("unkeyed__unkey__0001_snapshot.json")).unwrap();
    assert_eq!(m.dialect, Dialect::Mysql);
    assert_eq!(m.table("apis").unwrap().primary_key, vec!["id"]);
    assert!(
        m.tables.iter().flat_map(|t| &t.columns).any(|c| c.db_type
            == "enum('free','pro','enterprise')"
            && c.read == ReadMode::EnumLabel)
    );

    // SQLite v5 and v6 composite keys.
    let m = load_path(&dir.join("ajnart__homarr__0001_snapshot.json")).unwrap();
    assert_eq!(m.dialect, Dialect::Sqlite);
    assert_eq!(
        m.table("account").unwrap().primary_key,
        vec!["provider", "providerAccountId"]
    );
    let m = load_path(&dir.join("homarr-labs__homarr__sqlite__0041_snapshot.json")).unwrap();
    assert_eq!(
        m.table("account").unwrap().primary_key,
        vec!["provider", "provider_account_id"]
    );
}
