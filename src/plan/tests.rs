//! Pairing, keys, selection and shapes on plain data.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::config::{
    CheckSettings, Config, PairOverride, Repository, SchemaSettings, Side, TableOverride,
    TimingSettings,
};
use crate::mapping::{Dialect, EnumDef, EnumValue, Orm, ReadMode};

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

/// A fixture column: its Prisma name, Drizzle name (empty: that mapping
/// lacks it), field, type, and each ORM's read.
type FixtureColumn = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<ReadMode>,
    Option<ReadMode>,
);

/// The fixture's tables, both mappings at once: Prisma name and primary
/// key, Drizzle name and primary key (an empty name: that mapping lacks it).
type FixtureTable = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
    &'static [FixtureColumn],
);

const FIXTURE: &[FixtureTable] = {
    use ReadMode::*;
    &[
        (
            "User",
            &["id"],
            "users",
            &["id"],
            &[
                ("id", "id", "id", "text", Some(Text), Some(Text)),
                (
                    "createdAt",
                    "created_at",
                    "createdAt",
                    "timestamp(3)",
                    Some(DateTime),
                    Some(DateTimeString),
                ),
                (
                    "role",
                    "role",
                    "role",
                    "Role",
                    Some(EnumName),
                    Some(EnumLabel),
                ),
            ],
        ),
        (
            "transactions",
            &["id"],
            "transactions",
            &["id"],
            &[
                ("id", "id", "id", "bigint", Some(BigInt), Some(BigInt)),
                (
                    "amount",
                    "amount",
                    "amount",
                    "numeric(12,2)",
                    Some(Decimal),
                    Some(DecimalString),
                ),
                (
                    "occurred_at",
                    "occurred_at",
                    "occurredAt",
                    "timestamp(6)",
                    Some(DateTime),
                    Some(DateTimeString),
                ),
                (
                    "external_ref",
                    "external_ref",
                    "externalRef",
                    "bigint",
                    Some(BigInt),
                    Some(BigIntNumber),
                ),
                ("legacy", "", "legacy", "text", Some(Text), None),
                ("", "extra", "extra", "text", None, Some(Text)),
            ],
        ),
        (
            "repair_events",
            &["repair_id", "seq"],
            "repair_events",
            &[],
            &[
                (
                    "repair_id",
                    "repair_id",
                    "repairId",
                    "text",
                    Some(Text),
                    Some(Text),
                ),
                ("seq", "seq", "seq", "integer", Some(Int), Some(Int)),
            ],
        ),
        (
            "logs",
            &[],
            "logs",
            &[],
            &[("line", "line", "line", "text", Some(Text), Some(Text))],
        ),
        (
            "",
            &[],
            "drizzle_only",
            &["id"],
            &[("", "id", "id", "text", None, Some(Text))],
        ),
    ]
};

/// One ORM's side of [`FIXTURE`].
fn fixture(orm: Orm) -> Mapping {
    let prisma = orm == Orm::Prisma;
    let tables = FIXTURE
        .iter()
        .map(|&(pn, pk, dn, dk, cols)| {
            if prisma {
                (pn, pk, cols)
            } else {
                (dn, dk, cols)
            }
        })
        .filter(|(name, _, _)| !name.is_empty())
        .map(|(name, pk, cols)| {
            let columns = cols
                .iter()
                .filter_map(|&(pn, dn, field, ty, pr, dr)| {
                    let (name, read) = if prisma { (pn, pr) } else { (dn, dr) };
                    Some(col(name, field, ty, read?))
                })
                .collect();
            table(name, pk, columns)
        })
        .collect();
    mapping(orm, tables)
}

fn prisma() -> Mapping {
    let mut m = fixture(Orm::Prisma);
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
    fixture(Orm::Drizzle)
}

fn codes(p: &ColumnPair) -> Vec<&str> {
    p.shapes.iter().map(|s| s.code.as_str()).collect()
}

/// `[[pair]] source → target`, with renamed columns.
fn pair(c: &mut Config, source: &str, target: &str, columns: &[(&str, &str)]) {
    c.pairs.push(PairOverride {
        source: source.into(),
        target: target.into(),
        columns: columns
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect(),
    });
}

/// `[[table]] logs` keyed by its line (it has no primary key).
fn key_logs(c: &mut Config) {
    c.tables.push(TableOverride {
        name: "logs".into(),
        key: vec!["line".into()],
        ..TableOverride::default()
    });
}

/// A config that pairs User → users and keys `logs` by its line.
fn config_with_keys() -> Config {
    let mut c = config();
    pair(&mut c, "User", "users", &[]);
    key_logs(&mut c);
    c
}

fn plan_of(c: &Config) -> Plan {
    build(&prisma(), &drizzle(), Some(c), &Selection::default()).unwrap()
}

#[test]
fn pairs_by_name_then_override_then_field() {
    let plan = plan_of(&config_with_keys());
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
    let plan = plan_of(&config_with_keys());
    let (users, tx) = (&plan.pairs[0], &plan.pairs[1]);
    let none: &[&str] = &[];
    for (columns, i, want) in [
        (&users.columns, 0, none),
        // timestamp(3): Date vs string, no precision loss.
        (&users.columns, 1, &["SHAPE_DATE_VS_STRING"]),
        // One value is @map'd: names and labels differ.
        (&users.columns, 2, &["SHAPE_ENUM_NAME_VS_LABEL"]),
        (&tx.columns, 0, none),
        (&tx.columns, 1, &["SHAPE_DECIMAL_VS_STRING"]),
        (
            &tx.columns,
            2,
            &["SHAPE_DATE_VS_STRING", "SHAPE_TIMESTAMP_PRECISION"],
        ),
        (&tx.columns, 3, &["SHAPE_BIGINT_NUMBER"]),
    ] {
        assert_eq!(codes(&columns[i]), want, "{}", columns[i].source.name);
    }
    assert!(
        users.columns[1].shapes[0]
            .message
            .starts_with("Prisma gives Date, Drizzle gives string")
    );
    // Issue 17: a risk note, the shape is stated once (SHAPE_DATE_VS_STRING).
    assert_eq!(tx.columns[2].shapes[1].risk, ShapeRisk::Note);
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
    // (type, source read, target read) → the shapes' codes and first risk.
    for (ty, ra, rb, want, risk) in [
        ("bytea", Bytes, Bytes, &[][..], None),
        (
            "numeric(65,30)",
            Decimal,
            DecimalNumber,
            &["SHAPE_DECIMAL_NUMBER"][..],
            Some(ShapeRisk::Value),
        ),
        (
            "date",
            Date,
            DateString,
            &["SHAPE_DATE_VS_STRING"][..],
            None,
        ),
    ] {
        let got = classify(&col("c", "c", ty, ra), &a, &col("c", "c", ty, rb), &b);
        let codes: Vec<&str> = got.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, want, "{ty}");
        if let Some(risk) = risk {
            assert_eq!(got[0].risk, risk, "{ty}");
        }
    }
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
    // An optional unique column is no key; the composite one comes first.
    // Without the composite one, a required single unique column.
    // (unique column optional, uniques, the key, the note)
    type Case = (
        bool,
        &'static [&'static [&'static str]],
        &'static [&'static str],
        &'static str,
    );
    let cases: [Case; 2] = [
        (
            true,
            &[&["n"], &["line", "at"]],
            &["line", "at"],
            "composite unique criterion (line, at)",
        ),
        (false, &[&["n"]], &["n"], "unique column (n)"),
    ];
    for (optional_n, uniques, key, note) in cases {
        let logs = a.tables.iter_mut().find(|t| t.name == "logs").unwrap();
        logs.columns[2].nullable = optional_n;
        logs.uniques = uniques
            .iter()
            .map(|u| u.iter().map(|c| c.to_string()).collect())
            .collect();
        let plan = build(&a, &b, None, &Selection::default()).unwrap();
        let p = plan.pairs.iter().find(|p| p.name() == "logs").unwrap();
        let want: Vec<(String, String)> =
            key.iter().map(|k| (k.to_string(), k.to_string())).collect();
        assert_eq!(p.key, want);
        assert!(p.key_note.as_deref().unwrap().contains(note), "{note}");
    }
}

#[test]
fn selection_and_config_names_must_exist() {
    let mut c = config();
    key_logs(&mut c);
    c.repositories.push(Repository {
        name: "transaction".into(),
        flag: Some("drizzle_transaction_repo".into()),
        tables: vec!["transactions".into()],
        queries: None,
    });
    let select = |tables: &[&str], repository: Option<&str>| Selection {
        tables: tables.iter().map(|t| t.to_string()).collect(),
        repository: repository.map(str::to_string),
    };
    let plan = build(
        &prisma(),
        &drizzle(),
        Some(&c),
        &select(&[], Some("transaction")),
    )
    .unwrap();
    assert_eq!(plan.pairs.len(), 1);
    assert_eq!(plan.pairs[0].repository.as_deref(), Some("transaction"));

    let sel = select(&["public.repair_events"], None);
    let plan = build(&prisma(), &drizzle(), Some(&c), &sel).unwrap();
    assert_eq!(plan.pairs.len(), 1);
    assert!(plan.only_target.is_empty());

    // (what breaks the config or the selection, the error it must give)
    type Breaks<'a> = &'a dyn Fn(&mut Config, &mut Selection);
    let cases: [(Breaks, &str); 5] = [
        (
            &|_, s| *s = select(&["nope"], None),
            "--tables names \"nope\"",
        ),
        (
            &|_, s| *s = select(&[], Some("bikes")),
            "known: transaction",
        ),
        (
            &|c, _| pair(c, "Customer", "customers", &[]),
            "[[pair]] source = \"Customer\"",
        ),
        (
            &|c, _| c.repositories[0].tables.push("refunds".into()),
            "lists table \"refunds\"",
        ),
        (
            &|c, _| c.tables[0].ignore = vec!["nope".into()],
            "ignore names column \"nope\"",
        ),
    ];
    for (breaks, want) in cases {
        let (mut bad, mut sel) = (c.clone(), Selection::default());
        breaks(&mut bad, &mut sel);
        let e = build(&prisma(), &drizzle(), Some(&bad), &sel).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[test]
fn ignore_tolerance_and_pair_columns() {
    let mut c = config();
    key_logs(&mut c);
    let mut tol = BTreeMap::new();
    tol.insert("amount".to_string(), toml::Value::Float(0.005));
    c.tables.push(TableOverride {
        name: "transactions".into(),
        ignore: vec!["occurredAt".into()],
        tolerance: tol,
        where_clause: Some("id > 0".into()),
        ..TableOverride::default()
    });
    pair(
        &mut c,
        "transactions",
        "transactions",
        &[("legacy", "extra")],
    );
    pair(&mut c, "User", "users", &[]);
    let plan = plan_of(&c);
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
    for (dialect, ty, want) in [
        (Dialect::Postgres, "timestamp", Some(6)),
        (Dialect::Postgres, "timestamptz(3)", Some(3)),
        (Dialect::Mysql, "datetime", Some(0)),
        (Dialect::Postgres, "text", None),
    ] {
        assert_eq!(time_precision(dialect, ty), want, "{ty}");
    }
}
