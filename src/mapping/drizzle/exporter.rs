//! The exporter's JSON (`scripts/drizzle-mapping.mjs`, format
//! `parity-drizzle-mapping` v1) → [`Mapping`]: what `getTableConfig` says
//! about each column, read modes included.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{DrizzleError, empty, labelled_enum, modes, normalize_column_type, schema_of};
use crate::mapping::{Column, Dialect, Mapping, ReadMode, Table};

pub(super) const FORMAT: &str = "parity-drizzle-mapping";

#[derive(Deserialize)]
struct File {
    version: u32,
    dialect: String,
    tables: Vec<ExTable>,
    #[serde(default)]
    enums: Vec<ExEnum>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExTable {
    name: String,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    export: Option<String>,
    #[serde(default)]
    primary_key: Vec<String>,
    columns: Vec<ExColumn>,
    #[serde(default)]
    is_view: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExColumn {
    name: String,
    #[serde(default)]
    key: Option<String>,
    column_type: String,
    #[serde(default)]
    data_type: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    sql_type: String,
    #[serde(default)]
    not_null: bool,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    has_default: bool,
    #[serde(default)]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    is_updated_at: bool,
    /// For `PgArray`: the element column, when the exporter gives it.
    #[serde(default)]
    base_column: Option<Box<ExColumn>>,
}

#[derive(Deserialize)]
struct ExEnum {
    name: String,
    #[serde(default)]
    schema: Option<String>,
    values: Vec<String>,
}

pub(super) struct Exported {
    pub mapping: Mapping,
}

pub(super) fn parse(path: &Path, v: &Value) -> Result<Exported, DrizzleError> {
    let file: File = serde_json::from_value(v.clone()).map_err(|e| DrizzleError::Malformed {
        path: path.to_path_buf(),
        message: format!(
            "not in the parity-drizzle-mapping v1 shape ({e}); re-run scripts/drizzle-mapping.mjs"
        ),
    })?;
    if file.version != 1 {
        return Err(DrizzleError::Malformed {
            path: path.to_path_buf(),
            message: format!(
                "parity-drizzle-mapping version {} is not supported (this parity reads version 1); re-run the scripts/drizzle-mapping.mjs shipped with this parity",
                file.version
            ),
        });
    }
    let dialect = match file.dialect.as_str() {
        "postgresql" | "pg" | "postgres" => Dialect::Postgres,
        "mysql" => Dialect::Mysql,
        "sqlite" | "turso" => Dialect::Sqlite,
        other => {
            return Err(DrizzleError::UnknownDialect {
                path: path.to_path_buf(),
                dialect: other.to_string(),
            });
        }
    };
    let mut m = empty(dialect);
    for e in &file.enums {
        let schema = schema_of(e.schema.as_deref());
        m.enums
            .push(labelled_enum(e.name.clone(), schema, e.values.clone()));
    }
    for t in &file.tables {
        let mut columns = Vec::new();
        for c in &t.columns {
            columns.push(column(dialect, c, &mut m));
        }
        let mut primary_key: Vec<String> = t
            .primary_key
            .iter()
            .map(|k| {
                // Accept TypeScript keys as well as physical names.
                t.columns
                    .iter()
                    .find(|c| &c.name == k || c.key.as_deref() == Some(k))
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| k.clone())
            })
            .collect();
        if primary_key.is_empty() {
            primary_key = t
                .columns
                .iter()
                .filter(|c| c.primary)
                .map(|c| c.name.clone())
                .collect();
        }
        for k in &primary_key {
            if !columns.iter().any(|c: &Column| &c.name == k) {
                return Err(DrizzleError::Malformed {
                    path: path.to_path_buf(),
                    message: format!(
                        "table {}: primary key column {k} is not among its columns",
                        t.name
                    ),
                });
            }
        }
        for c in &mut columns {
            if primary_key.contains(&c.name) {
                c.nullable = false;
            }
        }
        m.tables.push(Table {
            schema: schema_of(t.schema.as_deref()),
            name: t.name.clone(),
            logical: t.export.clone().unwrap_or_else(|| t.name.clone()),
            is_view: t.is_view,
            columns,
            primary_key,
            uniques: Vec::new(),
        });
    }
    Ok(Exported { mapping: m })
}

fn column(dialect: Dialect, c: &ExColumn, m: &mut Mapping) -> Column {
    let mut base_sql = c.sql_type.trim();
    let mut dims = 0;
    while let Some(b) = base_sql.strip_suffix("[]") {
        base_sql = b.trim_end();
        dims += 1;
    }
    let elem = c.base_column.as_deref().unwrap_or(c);
    let is_enum_class = matches!(
        elem.column_type.as_str(),
        "PgEnumColumn" | "PgEnumObjectColumn"
    );
    let enum_name = if is_enum_class {
        let name = base_sql.trim_matches('"').to_string();
        let name = crate::mapping::split_qualified(&name).1.to_string();
        if m.enum_def(&name).is_none() {
            let labels = elem.enum_values.clone().unwrap_or_default();
            m.enums.push(labelled_enum(name.clone(), None, labels));
        }
        Some(name)
    } else {
        None
    };
    let db_type = match &enum_name {
        Some(e) => format!("{e}{}", "[]".repeat(dims)),
        None => normalize_column_type(&c.sql_type),
    };
    let read = if c.column_type == "PgArray" && c.base_column.is_none() {
        m.notes.push(format!(
            "column {} ({}): the exporter did not give the array's element class; read mode assumed from drizzle-kit pull defaults",
            c.name, c.sql_type
        ));
        modes::default_read_mode(dialect, base_sql)
    } else if elem.column_type.ends_with("CustomColumn") {
        // customType: the driver's value, as pull would type the SQL.
        modes::default_read_mode(dialect, base_sql)
    } else {
        match modes::read_mode_for_column_type(
            &elem.column_type,
            elem.mode.as_deref(),
            elem.data_type.as_deref(),
        ) {
            Some(r) => r,
            None => {
                m.notes.push(format!(
                    "column {}: drizzle class {} is not known to parity; read mode assumed from its SQL type {}",
                    c.name, elem.column_type, c.sql_type
                ));
                modes::default_read_mode(dialect, base_sql)
            }
        }
    };
    let read = if enum_name.is_some() {
        ReadMode::EnumLabel
    } else {
        read
    };
    Column {
        name: c.name.clone(),
        field: c.key.clone().unwrap_or_else(|| c.name.clone()),
        db_type,
        nullable: !c.not_null && !c.primary,
        is_list: dims > 0,
        enum_name,
        read,
        has_default: c.has_default,
        is_updated_at: c.is_updated_at,
    }
}
