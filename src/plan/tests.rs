//! Pairing, keys, selection and shapes on plain data.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::config::{
    CheckSettings, Config, PairOverride, Repository, SchemaSettings, Side, TableOverride,
    TimingSettings,
};
use crate::mapping::{EnumDef, EnumValue};

fn col(name: &str, field: &str, ty: &str, read: ReadMode) -> Column {
    Column {
        name: name.into(),
        field: field.into(),
        db_type: ty.into(),
        nullable: false,
        is_list: false,
        enum_name: None,
        read,
        has_default: false,
        is_updated_at: false,
    }
}

fn table(name: &str, pk: &[&str], columns: Vec<Column>) -> Table {
    Table {
        schema: None,
        name: name.into(),
        logical: name.into(),
        is_view: false,
        columns,
        primary_key: pk.iter().map(|s| s.to_string()).collect(),
        uniques: vec![],
    }
}

fn mapping(orm: Orm, tables: Vec<Table>) -> Mapping {
    Mapping {
        orm,
        dialect: Dialect::Postgres,
        tables,
        enums: vec![],
        notes: vec![],
    }
}

fn side(orm: Orm) -> Side {
    Side {
        name: orm.as_str().into(),
        orm,
        url: None,
        mapping: vec![],
        migrations: None,
        allow_writes: false,
    }
}

fn config() -> Config {
    Config {
        path: PathBuf::from("parity.toml"),
        dir: PathBuf::from("."),
        source: side(Orm::Prisma),
        target: side(Orm::Drizzle),
        repositories: vec![],
        tables: vec![],
        pairs: vec![],
        check: CheckSettings::default(),
        timing: TimingSettings::default(),
        schema: SchemaSettings::default(),
        global_flag: None,
        locations: Default::default(),
    }
}

fn prisma() -> Mapping {
    use ReadMode::*;
    let mut m = mapping(
        Orm::Prisma,
        vec![
            table(
                "User",
                &["id"],
                vec![
                    col("id", "id", "text", Text),
                    col("createdAt", "createdAt", "timestamp(3)", DateTime),
                    col("role", "role", "Role", EnumName),
                ],
            ),
            table(
                "transactions",
                &["id"],
                vec![
                    col("id", "id", "bigint", BigInt),
                    col("amount", "amount", "numeric(12,2)", Decimal),
                    col("occurred_at", "occurredAt", "timestamp(6)", DateTime),
                    col("external_ref", "externalRef", "bigint", BigInt),
                    col("legacy", "legacy", "text", Text),
                ],
            ),
            table(
                "repair_events",
                &["repair_id", "seq"],
                vec![
                    col("repair_id", "repairId", "text", Text),
                    col("seq", "seq", "integer", Int),
                ],
            ),
            table("logs", &[], vec![col("line", "line", "text", Text)]),
        ],
    );
    m.tables[0].columns[2].enum_name = Some("Role".into());
    m.enums.push(EnumDef {
        name: "Role".into(),
        db_name: "Role".into(),
        schema: None,
        values: vec![
            EnumValue {
                name: "ADMIN".into(),
                db_name: "ADMIN".into(),
            },
            EnumValue {
                name: "WAITING_FOR_PARTS".into(),
                db_name: "waiting_parts".into(),
            },
        ],
    });
    m
}

fn drizzle() -> Mapping {
    use ReadMode::*;
    mapping(
        Orm::Drizzle,
        vec![
            table(
                "users",
                &["id"],
                vec![
                    col("id", "id", "text", Text),
                    col("created_at", "createdAt", "timestamp(3)", DateTimeString),
                    col("role", "role", "Role", EnumLabel),
                ],
            ),
            table(
                "transactions",
                &["id"],
                vec![
                    col("id", "id", "bigint", BigInt),
                    col("amount", "amount", "numeric(12,2)", DecimalString),
                    col("occurred_at", "occurredAt", "timestamp(6)", DateTimeString),
                    col("external_ref", "externalRef", "bigint", BigIntNumber),
                    col("extra", "extra", "text", Text),
                ],
            ),
            table(
                "repair_events",
                &[],
                vec![
                    col("repair_id", "repairId", "text", Text),
                    col("seq", "seq", "integer", Int),
                ],
            ),
            table("logs", &[], vec![col("line", "line", "text", Text)]),
            table("drizzle_only", &["id"], vec![col("id", "id", "text", Text)]),
        ],
    )
}

fn codes(p: &ColumnPair) -> Vec<&str> {
    p.shapes.iter().map(|s| s.code.as_str()).collect()
}

#[test]
fn pairs_by_name_then_override_then_field() {
    let mut c = config();
    c.pairs.push(PairOverride {
        source: "User".into(),
        target: "users".into(),
        columns: BTreeMap::new(),
    });
    c.tables.push(TableOverride {
        name: "logs".into(),
        key: vec!["line".into()],
        ..TableOverride::default()
    });
    let plan = build(&prisma(), &drizzle(), Some(&c), &Selection::default()).unwrap();
    let names: Vec<String> = plan.pairs.iter().map(|p| p.name()).collect();
    assert_eq!(names, vec!["User", "transactions", "repair_events", "logs"]);
    let users = &plan.pairs[0];
    assert_eq!(users.target.name, "users");
    // createdAt ↔ created_at through the shared field name.
    assert_eq!(users.columns[1].target.name, "created_at");
    assert_eq!(users.key, vec![("id".to_string(), "id".to_string())]);
    let tx = &plan.pairs[1];
    assert_eq!(tx.only_source_columns, vec!["legacy"]);
    assert_eq!(tx.only_target_columns, vec!["extra"]);
    // Composite key from the source when the target has none.
    assert_eq!(plan.pairs[2].key.len(), 2);
    assert_eq!(plan.pairs[3].key, vec![("line".into(), "line".into())]);
    assert_eq!(plan.only_target, vec!["drizzle_only"]);
    assert!(plan.only_source.is_empty());
}

#[test]
fn shapes_per_column() {
    let mut c = config();
    c.pairs.push(PairOverride {
        source: "User".into(),
        target: "users".into(),
        columns: BTreeMap::new(),
    });
    c.tables.push(TableOverride {
        name: "logs".into(),
        key: vec!["line".into()],
        ..TableOverride::default()
    });
    let plan = build(&prisma(), &drizzle(), Some(&c), &Selection::default()).unwrap();
    let users = &plan.pairs[0];
    assert_eq!(codes(&users.columns[0]), Vec::<&str>::new());
    // timestamp(3): Date vs string, no precision loss.
    assert_eq!(codes(&users.columns[1]), vec!["SHAPE_DATE_VS_STRING"]);
    assert!(
        users.columns[1].shapes[0]
            .message
            .starts_with("Prisma gives Date, Drizzle gives string")
    );
    // One value is @map'd: names and labels differ.
    assert_eq!(codes(&users.columns[2]), vec!["SHAPE_ENUM_NAME_VS_LABEL"]);
    let tx = &plan.pairs[1];
    assert_eq!(codes(&tx.columns[0]), Vec::<&str>::new());
    assert_eq!(codes(&tx.columns[1]), vec!["SHAPE_DECIMAL_VS_STRING"]);
    assert_eq!(
        codes(&tx.columns[2]),
        vec!["SHAPE_DATE_VS_STRING", "SHAPE_TIMESTAMP_PRECISION"]
    );
    // Issue 17: a risk note, the shape is stated once (SHAPE_DATE_VS_STRING).
    assert_eq!(tx.columns[2].shapes[1].risk, ShapeRisk::Note);
    assert_eq!(codes(&tx.columns[3]), vec!["SHAPE_BIGINT_NUMBER"]);
    assert!(
        tx.columns[3].shapes[0]
            .message
            .contains("Drizzle mode 'number' loses integers above 2^53")
    );
    assert_eq!(tx.columns[3].shapes[0].risk, ShapeRisk::Value);
}

#[test]
fn unmapped_enums_and_bytes_are_not_shapes() {
    use ReadMode::*;
    let mut a = mapping(Orm::Prisma, vec![]);
    let mut b = mapping(Orm::Drizzle, vec![]);
    a.enums.push(EnumDef {
        name: "Role".into(),
        db_name: "Role".into(),
        schema: None,
        values: vec![EnumValue {
            name: "ADMIN".into(),
            db_name: "ADMIN".into(),
        }],
    });
    b.enums = a.enums.clone();
    let mut x = col("r", "r", "Role", EnumName);
    x.enum_name = Some("Role".into());
    let mut y = col("r", "r", "Role", EnumLabel);
    y.enum_name = Some("Role".into());
    assert!(classify(&x, &a, &y, &b).is_empty());
    assert!(
        classify(
            &col("b", "b", "bytea", Bytes),
            &a,
            &col("b", "b", "bytea", Bytes),
            &b
        )
        .is_empty()
    );
    let d = classify(
        &col("d", "d", "numeric(65,30)", Decimal),
        &a,
        &col("d", "d", "numeric(65,30)", DecimalNumber),
        &b,
    );
    assert_eq!(d[0].code, "SHAPE_DECIMAL_NUMBER");
    assert_eq!(d[0].risk, ShapeRisk::Value);
    let dd = classify(
        &col("d", "d", "date", Date),
        &a,
        &col("d", "d", "date", DateString),
        &b,
    );
    assert_eq!(dd[0].code, "SHAPE_DATE_VS_STRING");
    assert_eq!(dd.len(), 1);
}

#[test]
fn table_without_any_key_is_a_keyless_multiset_with_a_note() {
    // Issue 9: one table never stops the others.
    let plan = build(&prisma(), &drizzle(), None, &Selection::default()).unwrap();
    let logs = plan.pairs.iter().find(|p| p.name() == "logs").unwrap();
    assert!(logs.key.is_empty());
    let note = logs.key_note.as_deref().unwrap();
    assert!(note.contains("compared as a multiset"), "{note}");
    assert!(plan.notes.iter().any(|n| n == note));
}

#[test]
fn table_keyed_by_its_required_unique_criterion() {
    use ReadMode::*;
    let (mut a, mut b) = (prisma(), drizzle());
    for m in [&mut a, &mut b] {
        let logs = m.tables.iter_mut().find(|t| t.name == "logs").unwrap();
        logs.columns.push(col("at", "at", "timestamp(3)", DateTime));
        logs.columns.push(col("n", "n", "integer", Int));
    }
    let logs = a.tables.iter_mut().find(|t| t.name == "logs").unwrap();
    // An optional unique column is no key; the composite one comes first.
    logs.columns[2].nullable = true;
    logs.uniques = vec![vec!["n".into()], vec!["line".into(), "at".into()]];
    let plan = build(&a, &b, None, &Selection::default()).unwrap();
    let p = plan.pairs.iter().find(|p| p.name() == "logs").unwrap();
    assert_eq!(
        p.key,
        vec![
            ("line".to_string(), "line".to_string()),
            ("at".to_string(), "at".to_string())
        ]
    );
    assert!(
        p.key_note
            .as_deref()
            .unwrap()
            .contains("composite unique criterion (line, at)")
    );
    // Without the composite one, a required single unique column.
    let logs = a.tables.iter_mut().find(|t| t.name == "logs").unwrap();
    logs.columns[2].nullable = false;
    logs.uniques = vec![vec!["n".into()]];
    let plan = build(&a, &b, None, &Selection::default()).unwrap();
    let p = plan.pairs.iter().find(|p| p.name() == "logs").unwrap();
    assert_eq!(p.key, vec![("n".to_string(), "n".to_string())]);
    assert!(p.key_note.as_deref().unwrap().contains("unique column (n)"));
}

#[test]
fn selection_and_config_names_must_exist() {
    let mut c = config();
    c.tables.push(TableOverride {
        name: "logs".into(),
        key: vec!["line".into()],
        ..TableOverride::default()
    });
    c.repositories.push(Repository {
        name: "transaction".into(),
        flag: Some("drizzle_transaction_repo".into()),
        tables: vec!["transactions".into()],
        queries: None,
    });
    let sel = Selection {
        tables: vec![],
        repository: Some("transaction".into()),
    };
    let plan = build(&prisma(), &drizzle(), Some(&c), &sel).unwrap();
    assert_eq!(plan.pairs.len(), 1);
    assert_eq!(plan.pairs[0].repository.as_deref(), Some("transaction"));

    let sel = Selection {
        tables: vec!["public.repair_events".into()],
        repository: None,
    };
    let plan = build(&prisma(), &drizzle(), Some(&c), &sel).unwrap();
    assert_eq!(plan.pairs.len(), 1);
    assert!(plan.only_target.is_empty());

    let sel = Selection {
        tables: vec!["nope".into()],
        repository: None,
    };
    let e = build(&prisma(), &drizzle(), Some(&c), &sel).unwrap_err();
    assert!(e.to_string().contains("--tables names \"nope\""), "{e}");

    let sel = Selection {
        tables: vec![],
        repository: Some("bikes".into()),
    };
    let e = build(&prisma(), &drizzle(), Some(&c), &sel).unwrap_err();
    assert!(e.to_string().contains("known: transaction"), "{e}");

    let mut bad = c.clone();
    bad.pairs.push(PairOverride {
        source: "Customer".into(),
        target: "customers".into(),
        columns: BTreeMap::new(),
    });
    let e = build(&prisma(), &drizzle(), Some(&bad), &Selection::default()).unwrap_err();
    assert!(
        e.to_string().contains("[[pair]] source = \"Customer\""),
        "{e}"
    );

    let mut bad = c.clone();
    bad.repositories[0].tables.push("refunds".into());
    let e = build(&prisma(), &drizzle(), Some(&bad), &Selection::default()).unwrap_err();
    assert!(e.to_string().contains("lists table \"refunds\""), "{e}");

    let mut bad = c.clone();
    bad.tables[0].ignore = vec!["nope".into()];
    let e = build(&prisma(), &drizzle(), Some(&bad), &Selection::default()).unwrap_err();
    assert!(
        e.to_string().contains("ignore names column \"nope\""),
        "{e}"
    );
}

#[test]
fn ignore_tolerance_and_pair_columns() {
    let mut c = config();
    c.tables.push(TableOverride {
        name: "logs".into(),
        key: vec!["line".into()],
        ..TableOverride::default()
    });
    let mut tol = BTreeMap::new();
    tol.insert("amount".to_string(), toml::Value::Float(0.005));
    c.tables.push(TableOverride {
        name: "transactions".into(),
        ignore: vec!["occurredAt".into()],
        tolerance: tol,
        where_clause: Some("id > 0".into()),
        ..TableOverride::default()
    });
    let mut cols = BTreeMap::new();
    cols.insert("legacy".to_string(), "extra".to_string());
    c.pairs.push(PairOverride {
        source: "transactions".into(),
        target: "transactions".into(),
        columns: cols,
    });
    c.pairs.push(PairOverride {
        source: "User".into(),
        target: "users".into(),
        columns: BTreeMap::new(),
    });
    let plan = build(&prisma(), &drizzle(), Some(&c), &Selection::default()).unwrap();
    let tx = plan
        .pairs
        .iter()
        .find(|p| p.name() == "transactions")
        .unwrap();
    assert!(tx.only_source_columns.is_empty() && tx.only_target_columns.is_empty());
    assert!(tx.columns[2].ignore);
    assert!(tx.columns[1].tolerance.is_some());
    assert_eq!(tx.where_clause.as_deref(), Some("id > 0"));
    assert_eq!(tx.columns[4].target.name, "extra");
}

#[test]
fn views_are_listed_not_paired() {
    let mut a = prisma();
    let mut b = drizzle();
    a.tables.retain(|t| t.name == "logs");
    b.tables.retain(|t| t.name == "logs");
    a.tables[0].is_view = true;
    let plan = build(&a, &b, None, &Selection::default()).unwrap();
    assert!(plan.pairs.is_empty());
    assert_eq!(plan.views, vec!["logs"]);
}

#[test]
fn precision_follows_the_dialect() {
    assert_eq!(time_precision(Dialect::Postgres, "timestamp"), Some(6));
    assert_eq!(time_precision(Dialect::Postgres, "timestamptz(3)"), Some(3));
    assert_eq!(time_precision(Dialect::Mysql, "datetime"), Some(0));
    assert_eq!(time_precision(Dialect::Postgres, "text"), None);
}
