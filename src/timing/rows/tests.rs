//! Result parity on plain data: Drizzle's nested SQL, unnesting, and the
//! comparison modes.

use std::collections::BTreeMap;

use super::compare::{Outcome, compare};
use super::sql::drizzle_nested;
use super::*;
use crate::canon::{self, Tolerance};
use crate::timing::exec::{Catalog, ColumnMeta, StmtResult};
use crate::timing::ops::{ColumnRef, CompareMode};
use crate::timing::value::{Val, oid};

const DRIZZLE_WITH: &str = r#"select "bikes"."id", "bikes"."customer_id", "bikes_repairs"."data" as "repairs" from "bikes" "bikes" left join lateral (select coalesce(json_agg(json_build_array("bikes_repairs"."id", "bikes_repairs"."status", "bikes_repairs_items"."data")), '[]'::json) as "data" from "repairs" "bikes_repairs" left join lateral (select coalesce(json_agg(json_build_array("bikes_repairs_items"."id", "bikes_repairs_items"."sku")), '[]'::json) as "data" from "items" "bikes_repairs_items") "bikes_repairs_items" on true where "bikes_repairs"."bike_id" = "bikes"."id") "bikes_repairs" on true where "bikes"."customer_id" = $1"#;

const DRIZZLE_SQLITE_WITH: &str = r#"select "id", "customer_id", (select coalesce(json_group_array(json_array("id", "status", (select coalesce(json_group_array(json_array("id", "sku")), json_array()) as "data" from "items" "bikes_repairs_items"))), json_array()) as "data" from "repairs" "bikes_repairs" where "bikes_repairs"."bike_id" = "bikes"."id") as "repairs" from "bikes" "bikes" where "bikes"."customer_id" = ?"#;

fn columns(names: &[&str]) -> Vec<NestedField> {
    names
        .iter()
        .map(|c| NestedField::Column(c.to_string()))
        .collect()
}

/// The one relation a Drizzle query nests, `repairs`, over table `repairs`.
fn repairs_of(sql: &str) -> NestedSpec {
    let n = drizzle_nested(sql);
    assert_eq!(n.len(), 1, "{n:?}");
    let spec = n.get("repairs").expect("repairs").clone();
    assert_eq!(spec.table, "repairs");
    spec
}

#[test]
fn parses_drizzle_relational_sql_per_dialect() {
    // MySQL (`mode: 'planetscale'`): one flat relation.
    let mysql = "select `id`, coalesce((select json_arrayagg(json_array(`id`, `status`)) from `repairs` `bikes_repairs` where `bikes_repairs`.`bike_id` = `bikes`.`id`), json_array()) as `repairs` from `bikes` `bikes` where `bikes`.`customer_id` = ?";
    assert_eq!(repairs_of(mysql).fields, columns(&["id", "status"]));
    // PostgreSQL and SQLite: items nested in repairs.
    for sql in [DRIZZLE_WITH, DRIZZLE_SQLITE_WITH] {
        let spec = repairs_of(sql);
        assert_eq!(spec.fields[..2], columns(&["id", "status"]), "{sql}");
        match &spec.fields[2] {
            NestedField::Nested(inner) => {
                assert_eq!(inner.table, "items");
                assert_eq!(inner.fields, columns(&["id", "sku"]));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(drizzle_nested("select 1").is_empty());
}

fn mapping() -> Mapping {
    let col = |name: &str, read: ReadMode| crate::mapping::Column {
        name: name.into(),
        field: name.into(),
        db_type: "text".into(),
        nullable: true,
        is_list: false,
        enum_name: None,
        read,
        has_default: false,
        is_updated_at: false,
    };
    let table = |name: &str, cols: Vec<crate::mapping::Column>| crate::mapping::Table {
        schema: None,
        name: name.into(),
        logical: name.into(),
        is_view: false,
        columns: cols,
        primary_key: vec!["id".into()],
        uniques: vec![],
    };
    Mapping {
        orm: crate::mapping::Orm::Drizzle,
        dialect: Dialect::Postgres,
        tables: vec![
            table(
                "bikes",
                vec![col("id", ReadMode::Text), col("customer_id", ReadMode::Int)],
            ),
            table(
                "repairs",
                vec![
                    col("id", ReadMode::Text),
                    col("status", ReadMode::EnumLabel),
                    col("estimated_cost", ReadMode::DecimalNumber),
                ],
            ),
            table(
                "items",
                vec![col("id", ReadMode::Int), col("sku", ReadMode::Text)],
            ),
        ],
        enums: vec![],
        notes: vec![],
    }
}

#[test]
fn unnests_json_rows_into_entities() {
    let m = mapping();
    let cat = Catalog::default();
    let rename = BTreeMap::new();
    let view = SideView {
        mapping: &m,
        catalog: &cat,
        rename: &rename,
        dialect: Dialect::Postgres,
    };
    let cols = std::sync::Arc::new(vec![
        ColumnMeta {
            name: "id".into(),
            type_oid: oid::TEXT,
            relation: None,
        },
        ColumnMeta {
            name: "customer_id".into(),
            type_oid: oid::INT4,
            relation: None,
        },
        ColumnMeta {
            name: "repairs".into(),
            type_oid: oid::JSON,
            relation: None,
        },
    ]);
    let res = StmtResult {
        columns: cols,
        rows: vec![
            vec![
                Val::Text("b1".into()),
                Val::Int(7),
                Val::Json(
                    r#"[["r1","DONE",[[1,"SKU1"],[2,"SKU2"]]],["r2","waiting_parts",[]]]"#.into(),
                ),
            ],
            vec![Val::Text("b2".into()), Val::Int(7), Val::Json("[]".into())],
        ],
    };
    let mut out = Vec::new();
    entities(&view, DRIZZLE_WITH, &res, &[], &mut out);
    let tables: Vec<&str> = out.iter().map(|e| e.table.as_str()).collect();
    assert_eq!(tables.iter().filter(|t| **t == "repairs").count(), 2);
    assert_eq!(tables.iter().filter(|t| **t == "items").count(), 2);
    assert_eq!(tables.iter().filter(|t| **t == "bikes").count(), 2);
    assert!(out.iter().all(|e| !e.values.is_empty()));
    // The bike row carries its two columns, the JSON column is gone.
    let bike = out.iter().find(|e| e.table == "bikes").unwrap();
    assert_eq!(bike.values.len(), 2);
}

fn ent(table: &str, vals: &[(&str, i64)]) -> Entity {
    let mut values: Vec<(String, Vec<u8>)> = vals
        .iter()
        .map(|(c, v)| {
            let mut b = Vec::new();
            canon::encode(
                &canon::Raw::Int(*v),
                &ColumnCanon::from_read(ReadMode::Int),
                &mut b,
            );
            (c.to_string(), b)
        })
        .collect();
    values.sort();
    Entity {
        table: table.into(),
        values,
    }
}

fn cmp(
    mode: CompareMode,
    s: Vec<Entity>,
    t: Vec<Entity>,
    tol: &[(ColumnRef, Tolerance)],
) -> Outcome {
    let (mut a, mut b) = (blake3::Hasher::new(), blake3::Hasher::new());
    compare(mode, s, t, tol, &|_| vec!["id".into()], (&mut a, &mut b))
}

#[test]
fn compares_multisets_entities_and_counts() {
    let row = |id, v| ent("t", &[("id", id), ("v", v)]);
    let s = vec![row(1, 10), row(2, 20)];
    let tol = [(ColumnRef::parse("t.v"), Tolerance::Absolute(1.0))];
    // Whether target rows `t` differ from `s` under `mode` and `tol`.
    let differs = |mode, t: Vec<Entity>, tol: &[(ColumnRef, Tolerance)]| {
        cmp(mode, s.clone(), t, tol).mismatch.is_some()
    };
    let (rows, count) = (CompareMode::Rows, CompareMode::Count);
    assert!(
        !differs(rows, vec![row(2, 20), row(1, 10)], &[]),
        "same rows, other order"
    );
    assert!(
        differs(rows, vec![row(2, 21), row(1, 10)], &[]),
        "a value differs"
    );
    assert!(
        !differs(rows, vec![row(2, 21), row(1, 10)], &tol),
        "within tolerance"
    );
    assert!(
        !differs(count, vec![row(3, 30), row(4, 40)], &[]),
        "only counts matter"
    );
    assert!(differs(count, vec![], &[]), "the counts differ");
    // A missing row is a mismatch naming its key.
    let m = cmp(CompareMode::Rows, s.clone(), vec![row(2, 20)], &[])
        .mismatch
        .unwrap();
    assert_eq!((m.only_in_source, m.only_in_target), (1, 0));
    assert_eq!(m.first_keys, vec!["t(id=1)"]);
    // Entities: duplicate readings merge by key, extra tables are notes.
    let s3 = vec![
        ent("t", &[("id", 1)]),
        ent("t", &[("id", 1), ("v", 10)]),
        ent("u", &[("id", 5)]),
    ];
    let t3 = vec![ent("t", &[("id", 1), ("v", 10)])];
    let o = cmp(CompareMode::Entities, s3, t3, &[]);
    assert!(o.mismatch.is_none());
    assert!(o.notes.iter().any(|n| n.starts_with("u:")), "{:?}", o.notes);
}

#[test]
fn matching_sides_hash_alike() {
    let s = vec![ent("t", &[("id", 1), ("v", 10), ("only_s", 3)])];
    let t = vec![ent("t", &[("id", 1), ("v", 10)])];
    let (mut a, mut b) = (blake3::Hasher::new(), blake3::Hasher::new());
    let o = compare(CompareMode::Rows, s, t, &[], &|_| vec![], (&mut a, &mut b));
    assert!(o.mismatch.is_none());
    assert_eq!(a.finalize(), b.finalize());
    assert!(o.notes.iter().any(|n| n.contains("only_s")));
}
