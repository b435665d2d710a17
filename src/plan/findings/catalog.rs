//! (2) One mapping against the live catalog's mapping: missing tables and
//! columns, types (with the equivalences ORMs and catalogs disagree on),
//! nullability, primary keys and enum labels. Pure: `db::catalog` reads
//! the catalog.

use super::{Finding, Severity};
use crate::mapping::drizzle::parse_inline_enum;
use crate::mapping::{Column, Dialect, Mapping};

/// (2) One mapping against the live catalog: missing tables and columns,
/// types, nullability and enum labels. `tables`: only these mapping tables
/// (qualified names); empty means all.
pub fn against_catalog(
    side: &str,
    mapping: &Mapping,
    catalog: &Mapping,
    tables: &[String],
) -> Vec<Finding> {
    let orm = mapping.orm.as_str();
    let mut out = Vec::new();
    let mut enums_checked: Vec<String> = Vec::new();
    for t in &mapping.tables {
        let qn = t.qualified_name();
        if !tables.is_empty() && !tables.iter().any(|n| n == &qn) {
            continue;
        }
        let Some(live) = catalog.table(&qn) else {
            let what = if t.is_view { "view" } else { "table" };
            out.push(
                Finding::new(
                    "TABLE_MISSING",
                    Severity::Error,
                    format!(
                        "the {side} mapping ({orm}) has {what} {qn} but the database does not; apply the migrations or fix the mapping"
                    ),
                )
                .side(side)
                .table(qn.clone()),
            );
            continue;
        };
        for c in &t.columns {
            let Some(lc) = live.column(&c.name) else {
                out.push(
                    Finding::new(
                        "COLUMN_MISSING",
                        Severity::Error,
                        format!(
                            "the {side} mapping ({orm}) has column {qn}.{} but the database does not; apply the migrations or fix the mapping",
                            c.name
                        ),
                    )
                    .of_column(side, &qn, &c.name),
                );
                continue;
            };
            if !types_compatible(mapping.dialect, c, lc) {
                out.push(
                    Finding::new(
                        "TYPE_MISMATCH",
                        Severity::Error,
                        format!(
                            "{qn}.{}: the {side} mapping ({orm}) says {} but the database has {}",
                            c.name,
                            shown_type(c),
                            shown_type(lc)
                        ),
                    )
                    .of_column(side, &qn, &c.name),
                );
            } else if let Some(f) =
                enum_labels(side, mapping, c, catalog, lc, &qn, &mut enums_checked)
            {
                out.push(f);
            }
            if c.nullable != lc.nullable && !t.is_view {
                let message = if lc.nullable {
                    format!(
                        "{qn}.{}: the {side} mapping ({orm}) says NOT NULL but the database allows NULL; a NULL row reads as a value the application does not expect",
                        c.name
                    )
                } else {
                    format!(
                        "{qn}.{}: the {side} mapping ({orm}) says nullable but the database column is NOT NULL",
                        c.name
                    )
                };
                out.push(
                    Finding::new("NULLABILITY_MISMATCH", Severity::Warning, message)
                        .of_column(side, &qn, &c.name),
                );
            }
        }
        if !t.is_view
            && !t.primary_key.is_empty()
            && !live.primary_key.is_empty()
            && t.primary_key != live.primary_key
        {
            out.push(
                Finding::new(
                    "PRIMARY_KEY_MISMATCH",
                    Severity::Warning,
                    format!(
                        "{qn}: the {side} mapping ({orm}) has primary key ({}) but the database has ({})",
                        t.primary_key.join(", "),
                        live.primary_key.join(", ")
                    ),
                )
                .side(side)
                .table(qn.clone()),
            );
        }
    }
    out
}

fn shown_type(c: &Column) -> String {
    if c.is_list && !c.db_type.ends_with("[]") {
        format!("{}[]", c.db_type)
    } else {
        c.db_type.clone()
    }
}

/// A type split into what compatibility looks at.
#[derive(Debug, PartialEq)]
struct TypeParts {
    base: String,
    args: Vec<String>,
    array: bool,
    unsigned: bool,
}

fn parts(t: &str, is_list: bool) -> TypeParts {
    let mut s = t.trim().to_ascii_lowercase();
    let mut array = is_list;
    while let Some(x) = s.strip_suffix("[]") {
        s = x.to_string();
        array = true;
    }
    let unsigned = s.contains("unsigned");
    let s = s.replace("unsigned", "").replace("zerofill", "");
    let s = s.trim().trim_matches('"').to_string();
    let (base, args) = match s.split_once('(') {
        Some((b, rest)) => {
            let inner = rest.split(')').next().unwrap_or("");
            (
                b.trim().to_string(),
                inner
                    .split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect(),
            )
        }
        None => (s.trim().to_string(), Vec::new()),
    };
    // A schema-qualified enum type (`auth."Role"`) compares by its name.
    let base = base
        .rsplit('.')
        .next()
        .unwrap_or(&base)
        .trim_matches('"')
        .to_string();
    TypeParts {
        base,
        args,
        array,
        unsigned,
    }
}

/// Aliases the drivers and ORMs spell differently for the same storage.
fn canonical_base(dialect: Dialect, base: &str, args: &[String]) -> String {
    let b = match base {
        "int" | "int4" | "serial" | "serial4" => "integer",
        "int8" | "bigserial" | "serial8" => "bigint",
        "int2" | "smallserial" | "serial2" => "smallint",
        "bool" => "boolean",
        "decimal" => "numeric",
        "double" | "doubleprecision" | "float8" if dialect != Dialect::Sqlite => "float8",
        "float4" if dialect == Dialect::Postgres => "real",
        "character" | "bpchar" => "char",
        "charactervarying" => "varchar",
        // MariaDB stores JSON as LONGTEXT with a CHECK.
        "longtext" if dialect == Dialect::Mysql => "json|longtext",
        "json" if dialect == Dialect::Mysql => "json|longtext",
        // MySQL's BOOLEAN is TINYINT(1).
        "tinyint" if dialect == Dialect::Mysql && args == ["1"] => "boolean",
        other => other,
    };
    b.to_string()
}

/// Whether a mapping's column type matches the live one, with the
/// equivalences ORMs and catalogs disagree on: `serial` ≈ `integer`, a type
/// without arguments matches any arguments (`varchar` ≈ `varchar(255)`),
/// enums by name, arrays by element.
pub fn types_compatible(dialect: Dialect, mapped: &Column, live: &Column) -> bool {
    let a = parts(&mapped.db_type, mapped.is_list);
    let b = parts(&live.db_type, live.is_list);
    if dialect == Dialect::Sqlite {
        return sqlite_compatible(mapped, live);
    }
    if a.array != b.array {
        return false;
    }
    let a_enum = mapped.enum_name.is_some() || a.base == "enum";
    let b_enum = live.enum_name.is_some() || b.base == "enum";
    if a_enum || b_enum {
        if !(a_enum && b_enum) {
            return false;
        }
        // MySQL inline enums have no name; their labels are checked apart.
        if a.base == "enum" || b.base == "enum" {
            return true;
        }
        let live_name = live.enum_name.as_deref().unwrap_or(&b.base);
        return a.base == live_name.to_ascii_lowercase()
            || a.base == b.base
            || mapped
                .enum_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(live_name));
    }
    let ab = canonical_base(dialect, &a.base, &a.args);
    let bb = canonical_base(dialect, &b.base, &b.args);
    if ab != bb || a.unsigned != b.unsigned {
        return false;
    }
    let widths_only = dialect == Dialect::Mysql
        && matches!(
            ab.as_str(),
            "integer" | "bigint" | "smallint" | "tinyint" | "mediumint"
        );
    if ab == "boolean" || ab == "json|longtext" || widths_only {
        // Display widths (`int(11)`) and the tinyint(1) spelling carry no storage meaning.
        return true;
    }
    a.args.is_empty() || b.args.is_empty() || a.args == b.args
}

/// SQLite's type affinity of a declared type (the rules of "Datatypes In
/// SQLite", section 3.1).
fn sqlite_affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.is_empty() || t.contains("BLOB") {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// SQLite stores any value in any column; declared types only choose an
/// affinity, and Prisma and drizzle-kit declare the same storage
/// differently (`DATETIME` vs `numeric`, `BOOLEAN` vs `integer`). Only
/// affinities that convert values differently are incompatible; NUMERIC
/// and BLOB (none) keep what they are given. Enums are TEXT.
fn sqlite_compatible(mapped: &Column, live: &Column) -> bool {
    let aff = |c: &Column| {
        if c.enum_name.is_some() || c.db_type.starts_with("enum(") {
            "TEXT"
        } else {
            sqlite_affinity(c.db_type.trim_end_matches("[]"))
        }
    };
    let (a, b) = (aff(mapped), aff(live));
    a == b || matches!(a, "NUMERIC" | "BLOB") || matches!(b, "NUMERIC" | "BLOB")
}

/// The labels a column's enum allows, from its mapping.
fn labels_of(m: &Mapping, c: &Column) -> Option<(String, Vec<String>)> {
    if let Some(name) = c.enum_name.as_deref()
        && let Some(e) = m.enum_def(name)
    {
        return Some((
            e.db_name.clone(),
            e.values.iter().map(|v| v.db_name.clone()).collect(),
        ));
    }
    parse_inline_enum(&c.db_type).map(|l| (c.db_type.clone(), l))
}

fn enum_labels(
    side: &str,
    mapping: &Mapping,
    c: &Column,
    catalog: &Mapping,
    lc: &Column,
    qn: &str,
    checked: &mut Vec<String>,
) -> Option<Finding> {
    let (name, mine) = labels_of(mapping, c)?;
    let (_, live) = labels_of(catalog, lc)?;
    // A named (PostgreSQL) enum is reported once, not per column.
    let inline = c.enum_name.is_none();
    if !inline {
        if checked.contains(&name) {
            return None;
        }
        checked.push(name.clone());
    }
    let missing: Vec<&String> = mine.iter().filter(|l| !live.contains(l)).collect();
    let extra: Vec<&String> = live.iter().filter(|l| !mine.contains(l)).collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let quoted = |labels: &[&String]| {
        labels
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("the database lacks {}", quoted(&missing)));
    }
    if !extra.is_empty() {
        parts.push(format!(
            "the mapping lacks {} (rows holding them read as values the application does not know)",
            quoted(&extra)
        ));
    }
    let what = if inline {
        format!("{qn}.{}", c.name)
    } else {
        format!("enum {name} (used by {qn}.{})", c.name)
    };
    let f = Finding::new(
        "ENUM_LABELS_DIFFER",
        Severity::Error,
        format!(
            "{what}: the {side} mapping ({}) and the database disagree on its labels: {}",
            mapping.orm.as_str(),
            parts.join("; ")
        ),
    )
    .of_column(side, qn, &c.name);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{EnumDef, EnumValue, Orm, ReadMode, Table};
    use crate::plan::findings::{fails, timezone_findings};

    fn col(name: &str, ty: &str) -> Column {
        Column {
            name: name.into(),
            field: name.into(),
            db_type: ty.into(),
            nullable: false,
            is_list: false,
            enum_name: None,
            read: ReadMode::Raw,
            has_default: false,
            is_updated_at: false,
        }
    }

    #[test]
    fn type_equivalences() {
        use Dialect::{Mysql, Postgres, Sqlite};
        // (dialect, mapped type, live type, compatible)
        for (dialect, a, b, want) in [
            (Postgres, "integer", "integer", true),
            (Postgres, "serial", "integer", true),
            (Postgres, "varchar", "varchar(255)", true),
            (Postgres, "numeric(10,2)", "numeric(10,2)", true),
            (Postgres, "numeric(10,2)", "numeric(12,2)", false),
            (Postgres, "timestamp(3)", "timestamp(6)", false),
            (Postgres, "timestamp(3)", "timestamptz(3)", false),
            (Postgres, "text[]", "text[]", true),
            (Postgres, "text[]", "text", false),
            (Postgres, "text", "integer", false),
            (Mysql, "boolean", "tinyint(1)", true),
            (Mysql, "integer", "integer(11)", true),
            (Mysql, "json", "longtext", true),
            (Mysql, "bigintunsigned", "bigint(20)unsigned", true),
            (Mysql, "bigint", "bigint(20)unsigned", false),
            (Mysql, "varchar(191)", "varchar(191)", true),
            (Mysql, "varchar(191)", "varchar(255)", false),
            (Sqlite, "numeric", "datetime", true),
            (Sqlite, "integer", "bigint", true),
            (Sqlite, "integer", "boolean", true),
            (Sqlite, "text", "jsonb", true),
            (Sqlite, "text", "integer", false),
            (Sqlite, "real", "text", false),
        ] {
            let got = types_compatible(dialect, &col("c", a), &col("c", b));
            assert_eq!(got, want, "{dialect:?}: {a} vs {b}");
        }
        let mut e1 = col("s", "RepairStatus");
        e1.enum_name = Some("RepairStatus".into());
        let e2 = e1.clone();
        assert!(types_compatible(Postgres, &e1, &e2));
        assert!(!types_compatible(Postgres, &e1, &col("s", "text")));
        assert!(types_compatible(Sqlite, &e1, &col("s", "text")));
    }

    fn mapping(orm: Orm, tables: Vec<Table>, enums: Vec<EnumDef>) -> Mapping {
        Mapping {
            orm,
            dialect: Dialect::Postgres,
            tables,
            enums,
            notes: vec![],
        }
    }

    fn enum_def(name: &str, db_name: &str, values: &[(&str, &str)]) -> EnumDef {
        EnumDef {
            name: name.into(),
            db_name: db_name.into(),
            schema: None,
            values: values
                .iter()
                .map(|(n, d)| EnumValue {
                    name: (*n).into(),
                    db_name: (*d).into(),
                })
                .collect(),
        }
    }

    fn table(name: &str, cols: Vec<Column>) -> Table {
        Table {
            schema: None,
            name: name.into(),
            logical: name.into(),
            is_view: false,
            primary_key: vec![cols[0].name.clone()],
            columns: cols,
            uniques: vec![],
        }
    }

    #[test]
    fn catalog_findings() {
        let mut status = col("status", "repair_status");
        status.enum_name = Some("RepairStatus".into());
        let m = mapping(
            Orm::Prisma,
            vec![
                table(
                    "repairs",
                    vec![
                        col("id", "text"),
                        status.clone(),
                        col("gone", "text"),
                        col("at", "timestamptz(6)"),
                    ],
                ),
                table("ghost", vec![col("id", "text")]),
            ],
            vec![enum_def(
                "RepairStatus",
                "repair_status",
                &[("DONE", "DONE"), ("WAITING", "waiting_parts")],
            )],
        );
        let mut live_status = col("status", "repair_status");
        live_status.enum_name = Some("repair_status".into());
        let mut at = col("at", "timestamp(3)");
        at.nullable = true;
        let live = mapping(
            Orm::Catalog,
            vec![table("repairs", vec![col("id", "text"), live_status, at])],
            vec![enum_def(
                "repair_status",
                "repair_status",
                &[("DONE", "DONE"), ("picked_up", "picked_up")],
            )],
        );
        let f = against_catalog("source", &m, &live, &[]);
        let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "ENUM_LABELS_DIFFER",
                "COLUMN_MISSING",
                "TYPE_MISMATCH",
                "NULLABILITY_MISMATCH",
                "TABLE_MISSING"
            ],
            "{f:#?}"
        );
        assert!(f[0].message.contains("'waiting_parts'") && f[0].message.contains("'picked_up'"));
        assert!(fails(&f, false));

        let tz = timezone_findings("source", &m, Some("Europe/Paris"), &[]);
        assert_eq!(tz.len(), 1);
        assert_eq!(tz[0].code, "TIMEZONE_NOT_UTC");
        assert!(timezone_findings("source", &m, Some("Etc/UTC"), &[]).is_empty());
    }
}
