//! drizzle-kit snapshot JSON and the exporter's read-mode JSON into a [`Mapping`].
//!
//! Owns: reading drizzle-kit snapshots (pg v5 with `"dialect": "pg"`, pg v6
//! and v7 with `"postgresql"`, mysql v5, sqlite v5/v6), reading the JSON that
//! `scripts/drizzle-mapping.mjs` exports from the TypeScript schema
//! (`getTableConfig` → `columnType`, `mode`, …), and merging the two: the
//! snapshot gives the structure (types, keys, uniques, enums), the exporter
//! JSON gives the read modes a snapshot cannot record.
//!
//! With a snapshot alone the read modes are the ones `drizzle-kit pull`
//! writes (timestamp/date as strings, bigint as number, numeric as string),
//! and the mapping says so in its `notes`. It does not pair mappings (`plan`)
//! and does no database I/O.

mod exporter;
mod modes;
mod snapshot;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::mapping::{Dialect, EnumDef, EnumValue, Mapping, Orm, schema_matches};

pub use modes::{default_read_mode, read_mode_for_column_type};

/// Why a Drizzle mapping could not be read. Each renders as one line that
/// names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum DrizzleError {
    #[error(
        "cannot read the Drizzle mapping {path}: {reason}; check the mapping path in parity.toml"
    )]
    Read { path: PathBuf, reason: String },
    #[error(
        "{path} is not valid JSON ({reason}); regenerate it (drizzle-kit generate, or scripts/drizzle-mapping.mjs)"
    )]
    Json { path: PathBuf, reason: String },
    #[error(
        "{path}: drizzle-kit snapshot version \"{version}\" for dialect \"{dialect}\" is not supported; parity reads pg v5 (dialect \"pg\"), postgresql v6/v7, mysql v5 and sqlite v5/v6 (run `drizzle-kit up` to upgrade older snapshots)"
    )]
    UnsupportedVersion {
        path: PathBuf,
        version: String,
        dialect: String,
    },
    #[error(
        "{path}: unknown drizzle-kit dialect \"{dialect}\"; parity reads postgresql, mysql and sqlite snapshots"
    )]
    UnknownDialect { path: PathBuf, dialect: String },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error(
        "{path} is a drizzle-kit journal, not a snapshot; point mapping at the snapshot (meta/NNNN_snapshot.json) and/or the exporter's mapping.json"
    )]
    Journal { path: PathBuf },
    #[error(
        "{path} is neither a drizzle-kit snapshot nor parity's exporter JSON (format \"parity-drizzle-mapping\"); point mapping at meta/NNNN_snapshot.json and/or the output of scripts/drizzle-mapping.mjs"
    )]
    UnknownFile { path: PathBuf },
    #[error(
        "{snapshot} has column {table}.{column} but {exporter} does not; re-run scripts/drizzle-mapping.mjs on the current schema, or use the snapshot that matches it"
    )]
    ColumnMissingInExporter {
        snapshot: PathBuf,
        exporter: PathBuf,
        table: String,
        column: String,
    },
    #[error(
        "{snapshot} has table {table} but {exporter} does not; re-run scripts/drizzle-mapping.mjs on the current schema, or use the snapshot that matches it"
    )]
    TableMissingInExporter {
        snapshot: PathBuf,
        exporter: PathBuf,
        table: String,
    },
    #[error(
        "{a} is for {dialect_a} but {b} is for {dialect_b}; give the snapshot and exporter JSON of one database"
    )]
    DialectMismatch {
        a: PathBuf,
        dialect_a: &'static str,
        b: PathBuf,
        dialect_b: &'static str,
    },
    #[error("{message}")]
    Files { message: String },
}

/// What a Drizzle mapping file is, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `drizzle/meta/NNNN_snapshot.json`.
    Snapshot,
    /// `drizzle/meta/_journal.json`.
    Journal,
    /// The exporter's `{"format": "parity-drizzle-mapping"}`.
    Exporter,
}

/// Classifies parsed JSON as a snapshot, journal or exporter file.
pub fn file_kind(v: &Value) -> Option<FileKind> {
    if v.get("format").and_then(Value::as_str) == Some(exporter::FORMAT) {
        return Some(FileKind::Exporter);
    }
    if v.get("entries").is_some_and(Value::is_array) && v.get("tables").is_none() {
        return Some(FileKind::Journal);
    }
    if v.get("tables").is_some_and(Value::is_object) && v.get("dialect").is_some() {
        return Some(FileKind::Snapshot);
    }
    None
}

/// Reads a JSON file into a `Value`, with errors that name the file.
pub fn read_json(path: &Path) -> Result<Value, DrizzleError> {
    let text = crate::mapping::load::read_text(path).map_err(|e| DrizzleError::Read {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "no such file".to_string()
        } else {
            e.to_string()
        },
    })?;
    serde_json::from_str(&text).map_err(|e| DrizzleError::Json {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Loads one file, or a drizzle folder (its latest `meta/NNNN_snapshot.json`
/// plus `mapping.json` beside it when present).
pub fn load_path(path: &Path) -> Result<Mapping, DrizzleError> {
    load_paths(&[path.to_path_buf()])
}

/// Loads a snapshot, an exporter JSON, or both (structure from the snapshot,
/// read modes from the exporter JSON). A folder stands for its latest
/// snapshot plus `mapping.json` when it has one.
pub fn load_paths(paths: &[PathBuf]) -> Result<Mapping, DrizzleError> {
    let files = expand_paths(paths)?;
    let mut snapshot: Option<(PathBuf, Value)> = None;
    let mut export: Option<(PathBuf, Value)> = None;
    for path in files {
        let v = read_json(&path)?;
        match file_kind(&v) {
            Some(FileKind::Snapshot) => keep_one(
                &mut snapshot,
                (path, v),
                "drizzle-kit snapshots",
                "list only the latest snapshot",
            )?,
            Some(FileKind::Exporter) => {
                keep_one(&mut export, (path, v), "exporter files", "list one")?
            }
            Some(FileKind::Journal) => return Err(DrizzleError::Journal { path }),
            None => return Err(DrizzleError::UnknownFile { path }),
        }
    }
    match (snapshot, export) {
        (Some((sp, sv)), None) => {
            let mut m = snapshot::parse(&sp, &sv)?;
            m.notes.push(format!(
                "Drizzle read modes assumed from drizzle-kit pull defaults (timestamp and date as string, bigint as number, numeric as string): {} has no read modes and no exporter JSON was given; add the output of scripts/drizzle-mapping.mjs to the mapping list",
                sp.display()
            ));
            Ok(m)
        }
        (None, Some((ep, ev))) => exporter::parse(&ep, &ev).map(|e| e.mapping),
        (Some((sp, sv)), Some((ep, ev))) => {
            let snap = snapshot::parse(&sp, &sv)?;
            let exp = exporter::parse(&ep, &ev)?;
            merge(snap, &sp, exp, &ep)
        }
        (None, None) => Err(DrizzleError::Files {
            message: "no Drizzle mapping file given; set mapping = [\"drizzle/meta/NNNN_snapshot.json\", \"drizzle/mapping.json\"]".into(),
        }),
    }
}

/// Puts `file` in `slot`, or says that two files of one kind were given.
fn keep_one(
    slot: &mut Option<(PathBuf, Value)>,
    file: (PathBuf, Value),
    kind: &str,
    fix: &str,
) -> Result<(), DrizzleError> {
    if let Some((first, _)) = slot {
        return Err(DrizzleError::Files {
            message: format!(
                "two {kind} given ({} and {}); {fix}",
                first.display(),
                file.0.display()
            ),
        });
    }
    *slot = Some(file);
    Ok(())
}

/// A folder → its latest snapshot (in `meta/` or the folder itself) and
/// `mapping.json` when present; files pass through.
fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DrizzleError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let meta = if p.join("meta").is_dir() {
            p.join("meta")
        } else {
            p.clone()
        };
        let mut snaps: Vec<PathBuf> = std::fs::read_dir(&meta)
            .map_err(|e| DrizzleError::Read {
                path: meta.clone(),
                reason: e.to_string(),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with("_snapshot.json"))
            })
            .collect();
        snaps.sort();
        let Some(latest) = snaps.pop() else {
            return Err(DrizzleError::Files {
                message: format!(
                    "{} has no drizzle-kit snapshot (meta/NNNN_snapshot.json); run drizzle-kit generate or point mapping at the files",
                    p.display()
                ),
            });
        };
        out.push(latest);
        let exported = p.join("mapping.json");
        if exported.is_file() {
            out.push(exported);
        }
    }
    Ok(out)
}

/// Structure from the snapshot, read modes and TypeScript names from the
/// exporter JSON.
fn merge(
    mut snap: Mapping,
    snap_path: &Path,
    exp: exporter::Exported,
    exp_path: &Path,
) -> Result<Mapping, DrizzleError> {
    if snap.dialect != exp.mapping.dialect {
        return Err(DrizzleError::DialectMismatch {
            a: snap_path.to_path_buf(),
            dialect_a: snap.dialect.as_str(),
            b: exp_path.to_path_buf(),
            dialect_b: exp.mapping.dialect.as_str(),
        });
    }
    for table in &mut snap.tables {
        let Some(et) = exp.mapping.tables.iter().find(|t| {
            t.name == table.name && schema_matches(t.schema.as_deref(), table.schema.as_deref())
        }) else {
            if table.is_view {
                // getTableConfig does not cover views: keep the pull defaults.
                snap.notes.push(format!(
                    "view {} is not in {}: its read modes are drizzle-kit pull defaults",
                    table.qualified_name(),
                    exp_path.display()
                ));
                continue;
            }
            return Err(DrizzleError::TableMissingInExporter {
                snapshot: snap_path.to_path_buf(),
                exporter: exp_path.to_path_buf(),
                table: table.qualified_name(),
            });
        };
        table.logical = et.logical.clone();
        let qualified = table.qualified_name();
        for col in &mut table.columns {
            let Some(ec) = et.column(&col.name) else {
                return Err(DrizzleError::ColumnMissingInExporter {
                    snapshot: snap_path.to_path_buf(),
                    exporter: exp_path.to_path_buf(),
                    table: qualified.clone(),
                    column: col.name.clone(),
                });
            };
            col.field = ec.field.clone();
            col.read = ec.read;
            col.has_default |= ec.has_default;
            col.is_updated_at = ec.is_updated_at;
        }
    }
    for et in &exp.mapping.tables {
        if snap.table(&et.qualified_name()).is_none() {
            snap.notes.push(format!(
                "{} has table {} that {} lacks: the snapshot is older than the schema; run drizzle-kit generate",
                exp_path.display(),
                et.qualified_name(),
                snap_path.display()
            ));
        }
    }
    snap.notes.extend(exp.mapping.notes);
    Ok(snap)
}

/// Normalises a column type like [`crate::mapping::normalize_type`], but
/// keeps the labels of a MySQL inline `enum('a','b')` as written (they are
/// data, not type names).
pub fn normalize_column_type(raw: &str) -> String {
    let t = raw.trim();
    if t.len() >= 5 && t[..5].eq_ignore_ascii_case("enum(") {
        let labels = parse_inline_enum(t).unwrap_or_default();
        let quoted: Vec<String> = labels
            .iter()
            .map(|l| format!("'{}'", l.replace('\'', "''")))
            .collect();
        return format!("enum({})", quoted.join(","));
    }
    crate::mapping::normalize_type(t)
}

/// The labels of a MySQL `enum('a','b')` column type, unescaped.
pub fn parse_inline_enum(t: &str) -> Option<Vec<String>> {
    let t = t.trim();
    if t.len() < 5 || !t[..5].eq_ignore_ascii_case("enum(") {
        return None;
    }
    let inner = t[5..].strip_suffix(')')?;
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some('\'') => {
                let mut label = String::new();
                loop {
                    match chars.next() {
                        None => return None,
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            label.push('\'');
                        }
                        Some('\'') => break,
                        Some('\\') => {
                            if let Some(c) = chars.next() {
                                label.push(c);
                            }
                        }
                        Some(c) => label.push(c),
                    }
                }
                labels.push(label);
            }
            Some(_) => return None,
        }
    }
    Some(labels)
}

/// Prints a snapshot or exporter JSON as resolved, in the shape of the
/// corpus `tables.json` (models → tables, columns with `column`, `type`,
/// `isRequired`, `isId`; enums), plus each column's read mode.
pub fn show_mapping_json(path: &Path) -> Result<Value, DrizzleError> {
    let m = load_path(path)?;
    Ok(tables_json(&m, path))
}

/// Any [`Mapping`] in the `tables.json`-like shape `--show-mapping` prints.
pub fn tables_json(m: &Mapping, file: &Path) -> Value {
    let mut tables: Vec<&crate::mapping::Table> = m.tables.iter().collect();
    tables.sort_by(|a, b| a.logical.cmp(&b.logical).then(a.name.cmp(&b.name)));
    let models: Vec<Value> = tables
        .iter()
        .map(|t| {
            let columns: Vec<Value> = t
                .columns
                .iter()
                .map(|c| {
                    let unique = t.uniques.iter().any(|u| u.len() == 1 && u[0] == c.name);
                    json!({
                        "field": c.field,
                        "column": c.name,
                        "kind": if c.enum_name.is_some() { "enum" } else { "scalar" },
                        "type": c.db_type,
                        "enum": c.enum_name,
                        "isList": c.is_list,
                        "isRequired": !c.nullable,
                        "isId": t.primary_key.len() == 1 && t.primary_key[0] == c.name,
                        "isUnique": unique,
                        "isUpdatedAt": c.is_updated_at,
                        "hasDefault": c.has_default,
                        "read": c.read,
                        "jsShape": c.read.js_shape(),
                    })
                })
                .collect();
            let pk = if t.primary_key.is_empty() {
                Value::Null
            } else {
                let fields: Vec<&str> = t
                    .primary_key
                    .iter()
                    .map(|k| t.column(k).map(|c| c.field.as_str()).unwrap_or(k))
                    .collect();
                json!({ "fields": fields, "columns": t.primary_key })
            };
            json!({
                "model": t.logical,
                "table": t.name,
                "schema": t.schema,
                "isView": t.is_view,
                "columns": columns,
                "primaryKey": pk,
                "uniques": t.uniques,
            })
        })
        .collect();
    let mut enums: Vec<&crate::mapping::EnumDef> = m.enums.iter().collect();
    enums.sort_by(|a, b| a.name.cmp(&b.name));
    let enums: Vec<Value> = enums
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "dbName": e.db_name,
                "schema": e.schema,
                "values": e.values.iter().map(|v| json!({"name": v.name, "dbName": v.db_name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "file": file.display().to_string(),
        "producedBy": format!("parity {} ({} loader)", env!("CARGO_PKG_VERSION"), m.orm.as_str()),
        "orm": m.orm.as_str(),
        "provider": m.dialect.as_str(),
        "models": models,
        "enums": enums,
        "notes": m.notes,
    })
}

/// `""` and `"public"` are the default schema.
fn schema_of(s: Option<&str>) -> Option<String> {
    match s {
        None | Some("") | Some("public") => None,
        Some(s) => Some(s.to_string()),
    }
}

/// An enum as Drizzle knows it: by its database name and labels, which
/// are all the names the TypeScript side has for it and its values.
fn labelled_enum(name: String, schema: Option<String>, labels: Vec<String>) -> EnumDef {
    EnumDef {
        db_name: name.clone(),
        name,
        schema,
        values: labels
            .into_iter()
            .map(|l| EnumValue {
                name: l.clone(),
                db_name: l,
            })
            .collect(),
    }
}

/// A fresh mapping for the Drizzle side.
fn empty(dialect: Dialect) -> Mapping {
    Mapping {
        orm: Orm::Drizzle,
        dialect,
        tables: Vec::new(),
        enums: Vec::new(),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
