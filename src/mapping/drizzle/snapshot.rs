//! drizzle-kit snapshot JSON → [`Mapping`] (structure; read modes are the
//! `drizzle-kit pull` defaults until the exporter JSON overrides them).

use std::path::Path;

use serde_json::{Map, Value};

use super::{DrizzleError, empty, labelled_enum, modes, normalize_column_type, schema_of};
use crate::mapping::{Column, Dialect, EnumDef, Mapping, Table, json_strings, split_qualified};

/// Which snapshot versions this reader understands, per dialect.
fn dialect_of(path: &Path, v: &Value) -> Result<Dialect, DrizzleError> {
    let dialect = v
        .get("dialect")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let version = match v.get("version") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let (d, ok) = match dialect.as_str() {
        "pg" => (Dialect::Postgres, version == "5"),
        "postgresql" => (
            Dialect::Postgres,
            matches!(version.as_str(), "5" | "6" | "7"),
        ),
        "mysql" => (Dialect::Mysql, version == "5"),
        "sqlite" | "turso" => (Dialect::Sqlite, matches!(version.as_str(), "5" | "6")),
        _ => {
            return Err(DrizzleError::UnknownDialect {
                path: path.to_path_buf(),
                dialect,
            });
        }
    };
    if !ok {
        return Err(DrizzleError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
            dialect,
        });
    }
    Ok(d)
}

fn malformed(path: &Path, message: impl Into<String>) -> DrizzleError {
    DrizzleError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// An entry's name and schema: its own `name` and `schema`, else the parts
/// of its key (`schema.name`).
fn name_and_schema(key: &str, v: &Value) -> (String, Option<String>) {
    let (key_schema, key_name) = split_qualified(key);
    let name = v.get("name").and_then(Value::as_str).unwrap_or(key_name);
    let schema = v.get("schema").and_then(Value::as_str).or(key_schema);
    (name.to_string(), schema_of(schema))
}

pub(super) fn parse(path: &Path, v: &Value) -> Result<Mapping, DrizzleError> {
    let dialect = dialect_of(path, v)?;
    let mut m = empty(dialect);
    m.enums = parse_enums(path, v.get("enums"))?;
    let tables = v.get("tables").and_then(Value::as_object).ok_or_else(|| {
        malformed(
            path,
            "no \"tables\" object; is this a drizzle-kit snapshot?",
        )
    })?;
    for (key, t) in tables {
        m.tables
            .push(parse_table(dialect, path, key, t, &m.enums, false)?);
    }
    if let Some(views) = v.get("views").and_then(Value::as_object) {
        for (key, t) in views {
            // `.existing()` views have no columns: nothing to compare.
            if t.get("columns")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
            {
                continue;
            }
            m.tables
                .push(parse_table(dialect, path, key, t, &m.enums, true)?);
        }
    }
    Ok(m)
}

fn parse_enums(path: &Path, v: Option<&Value>) -> Result<Vec<EnumDef>, DrizzleError> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, e) in obj {
        let (name, schema) = name_and_schema(key, e);
        // v7 writes a list; pg v5 wrote `{"label": "label"}`.
        let labels: Vec<String> = match e.get("values") {
            Some(a @ Value::Array(_)) => json_strings(Some(a)),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| v.as_str().unwrap_or(k).to_string())
                .collect(),
            _ => return Err(malformed(path, format!("enum {key} has no \"values\""))),
        };
        out.push(labelled_enum(name, schema, labels));
    }
    Ok(out)
}

fn parse_table(
    dialect: Dialect,
    path: &Path,
    key: &str,
    t: &Value,
    enums: &[EnumDef],
    is_view: bool,
) -> Result<Table, DrizzleError> {
    let (name, schema) = name_and_schema(key, t);
    let cols = t
        .get("columns")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(path, format!("table {key} has no \"columns\" object")))?;
    let mut columns = Vec::new();
    let mut flagged_pk = Vec::new();
    let mut uniques: Vec<Vec<String>> = Vec::new();
    for (ckey, c) in cols {
        let cname = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(ckey)
            .to_string();
        let raw_type = c
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(path, format!("column {key}.{cname} has no \"type\"")))?;
        if c.get("primaryKey").and_then(Value::as_bool) == Some(true) {
            flagged_pk.push(cname.clone());
        }
        if c.get("isUnique").and_then(Value::as_bool) == Some(true) {
            uniques.push(vec![cname.clone()]);
        }
        columns.push(parse_column(dialect, &cname, raw_type, c, enums));
    }
    let names: Vec<&str> = columns.iter().map(|c: &Column| c.name.as_str()).collect();
    let mut primary_key = Vec::new();
    if let Some(cpk) = t.get("compositePrimaryKeys").and_then(Value::as_object)
        && let Some(first) = cpk.values().next()
    {
        primary_key = constraint_columns(first, &names);
    }
    if primary_key.is_empty() {
        primary_key = flagged_pk;
    }
    for p in &primary_key {
        if !names.contains(&p.as_str()) {
            return Err(malformed(
                path,
                format!("table {key}: primary key column {p} is not among its columns"),
            ));
        }
    }
    if let Some(u) = t.get("uniqueConstraints").and_then(Value::as_object) {
        for c in u.values() {
            let cols = constraint_columns(c, &names);
            if !cols.is_empty() && !uniques.contains(&cols) {
                uniques.push(cols);
            }
        }
    }
    if let Some(ix) = t.get("indexes").and_then(Value::as_object) {
        for i in ix.values() {
            if i.get("isUnique").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let Some(list) = i.get("columns").and_then(Value::as_array) else {
                continue;
            };
            let mut cols = Vec::new();
            for c in list {
                match c {
                    Value::String(s) => cols.push(s.clone()),
                    Value::Object(o)
                        if o.get("isExpression").and_then(Value::as_bool) != Some(true) =>
                    {
                        if let Some(e) = o.get("expression").and_then(Value::as_str) {
                            cols.push(e.to_string());
                        }
                    }
                    _ => {
                        cols.clear();
                        break;
                    }
                }
            }
            if !cols.is_empty()
                && cols.iter().all(|c| names.contains(&c.as_str()))
                && !uniques.contains(&cols)
            {
                uniques.push(cols);
            }
        }
    }
    // A primary key column never holds NULL, whatever the flag says.
    for c in &mut columns {
        if primary_key.contains(&c.name) {
            c.nullable = false;
        }
    }
    Ok(Table {
        schema,
        logical: name.clone(),
        name,
        is_view,
        columns,
        primary_key,
        uniques,
    })
}

/// The columns of a key or unique constraint: `{"columns": [...]}`, or the
/// squashed strings older snapshots kept (`"a,b"`, `"a,b;name"`,
/// `"name;a,b"`): the part whose names are all columns wins.
fn constraint_columns(v: &Value, names: &[&str]) -> Vec<String> {
    match v {
        Value::Object(o) => json_strings(o.get("columns")),
        Value::String(s) => {
            let mut best: Vec<String> = Vec::new();
            for part in s.split(';') {
                let cols: Vec<String> = part
                    .split(',')
                    .map(|c| c.trim().trim_matches('"').to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                if !cols.is_empty()
                    && cols.iter().all(|c| names.contains(&c.as_str()))
                    && cols.len() > best.len()
                {
                    best = cols;
                }
            }
            best
        }
        _ => Vec::new(),
    }
}

fn parse_column(
    dialect: Dialect,
    name: &str,
    raw_type: &str,
    c: &Value,
    enums: &[EnumDef],
) -> Column {
    let mut base = raw_type.trim();
    let mut dims = 0;
    while let Some(b) = base.strip_suffix("[]") {
        base = b.trim_end();
        dims += 1;
    }
    let type_schema = c.get("typeSchema").and_then(Value::as_str);
    let enum_def = enums.iter().find(|e| {
        (e.name == base || e.db_name == base)
            && (type_schema.is_none()
                || crate::mapping::schema_matches(e.schema.as_deref(), type_schema))
    });
    let db_type = match enum_def {
        Some(e) => format!("{}{}", e.db_name, "[]".repeat(dims)),
        None => normalize_column_type(raw_type),
    };
    let read = if enum_def.is_some() {
        crate::mapping::ReadMode::EnumLabel
    } else {
        modes::default_read_mode(dialect, base)
    };
    let serial = {
        let l = base.to_ascii_lowercase();
        l.starts_with("serial") || l.starts_with("bigserial") || l.starts_with("smallserial")
    };
    let has_default = c.get("default").is_some()
        || c.get("autoincrement").and_then(Value::as_bool) == Some(true)
        || c.get("identity").is_some_and(|v| !v.is_null())
        || c.get("generated").is_some_and(|v| !v.is_null())
        || serial;
    Column {
        name: name.to_string(),
        field: name.to_string(),
        db_type,
        nullable: c.get("notNull").and_then(Value::as_bool) != Some(true),
        is_list: dims > 0,
        enum_name: enum_def.map(|e| e.name.clone()),
        read,
        has_default,
        is_updated_at: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squashed_constraints_pick_the_column_part() {
        let names = ["a", "b", "c"];
        let s = |x: &str| Value::String(x.to_string());
        assert_eq!(constraint_columns(&s("a,b"), &names), vec!["a", "b"]);
        assert_eq!(
            constraint_columns(&s("a,b;t_a_b_pk"), &names),
            vec!["a", "b"]
        );
        assert_eq!(
            constraint_columns(&s("t_a_b_pk;a,b"), &names),
            vec!["a", "b"]
        );
        assert_eq!(constraint_columns(&s("nope"), &names), Vec::<String>::new());
    }
}
