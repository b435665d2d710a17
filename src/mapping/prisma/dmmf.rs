//! The resolved datamodel, shaped like Prisma's DMMF (`get_dmmf`'s
//! `datamodel`), and the corpus `tables.json` view of it.
//!
//! Owns: the intermediate form both inputs meet in (the native resolver
//! builds it from `.prisma` text, a DMMF JSON file deserialises into it),
//! the implicit many-to-many join tables derived from it, and rendering it
//! as `tables.json`. It does not pick physical types or read modes (that is
//! `lower`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A resolved schema: the DMMF datamodel plus what DMMF leaves out.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The datasource provider as written (`postgresql`, `mysql`, …).
    pub provider: String,
    /// The datasource's `schemas` list.
    pub schemas: Vec<String>,
    pub datamodel: Datamodel,
    /// What the reader left out or assumed, for the report.
    pub notes: Vec<String>,
    /// Datasource properties present in the schema text (`url`, …).
    pub datasource_properties: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datamodel {
    #[serde(default)]
    pub enums: Vec<DEnum>,
    #[serde(default)]
    pub models: Vec<DModel>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DModel {
    pub name: String,
    #[serde(default)]
    pub db_name: Option<String>,
    #[serde(default)]
    pub schema: Option<String>,
    pub fields: Vec<DField>,
    #[serde(default)]
    pub primary_key: Option<DPrimaryKey>,
    /// Block-level (`@@unique`) unique constraints, by field name.
    #[serde(default)]
    pub unique_fields: Vec<Vec<String>>,
    /// Not in DMMF: a `view` block. False for DMMF input.
    #[serde(skip)]
    pub is_view: bool,
}

impl DModel {
    pub fn table_name(&self) -> &str {
        self.db_name.as_deref().unwrap_or(&self.name)
    }

    pub fn field(&self, name: &str) -> Option<&DField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The single `@id` field, if the key has exactly one field.
    pub fn id_field(&self) -> Option<&DField> {
        self.fields.iter().find(|f| f.is_id)
    }

    /// Field names of the primary key: `@@id`, else the `@id` field.
    pub fn primary_key_fields(&self) -> Option<(Option<&str>, Vec<&str>)> {
        if let Some(pk) = &self.primary_key {
            return Some((
                pk.name.as_deref(),
                pk.fields.iter().map(String::as_str).collect(),
            ));
        }
        self.id_field().map(|f| (None, vec![f.name.as_str()]))
    }

    /// Physical column name of a field (the field name when unknown).
    pub fn column_of<'a>(&'a self, field: &'a str) -> &'a str {
        self.field(field).map(DField::column).unwrap_or(field)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DPrimaryKey {
    #[serde(default)]
    pub name: Option<String>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DField {
    pub name: String,
    #[serde(default)]
    pub db_name: Option<String>,
    /// `scalar`, `enum` or `object` (relation).
    pub kind: String,
    #[serde(default)]
    pub is_list: bool,
    #[serde(default)]
    pub is_required: bool,
    #[serde(default)]
    pub is_unique: bool,
    #[serde(default)]
    pub is_id: bool,
    #[serde(default)]
    pub has_default_value: bool,
    /// Scalar name, enum name or related model name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `@db.Name(args)`: the name without `db.` and the arguments as written.
    #[serde(default)]
    pub native_type: Option<(String, Vec<String>)>,
    /// DMMF's default representation (see `resolve::default_value`).
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub is_updated_at: bool,
    #[serde(default)]
    pub relation_name: Option<String>,
    #[serde(default)]
    pub relation_from_fields: Option<Vec<String>>,
    #[serde(default)]
    pub relation_to_fields: Option<Vec<String>>,
}

impl DField {
    pub fn column(&self) -> &str {
        self.db_name.as_deref().unwrap_or(&self.name)
    }

    pub fn is_column(&self) -> bool {
        self.kind == "scalar" || self.kind == "enum"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DEnum {
    pub name: String,
    #[serde(default)]
    pub db_name: Option<String>,
    pub values: Vec<DEnumValue>,
    /// Not in Prisma 7's DMMF: the enum's `@@schema`.
    #[serde(default, skip_serializing)]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DEnumValue {
    pub name: String,
    #[serde(default)]
    pub db_name: Option<String>,
}

/// One side of an implicit many-to-many join table.
#[derive(Debug, Clone)]
pub struct JoinSide<'a> {
    pub model: &'a DModel,
    /// The relation field on this side.
    pub field: &'a DField,
    /// The model's single `@id` field, which the column references.
    pub id: Option<&'a DField>,
}

#[derive(Debug, Clone)]
pub struct JoinTable<'a> {
    pub relation_name: String,
    /// `_<relationName>`.
    pub table: String,
    pub a: JoinSide<'a>,
    pub b: JoinSide<'a>,
}

impl JoinTable<'_> {
    /// The join table lives in model A's schema.
    pub fn schema(&self) -> Option<&str> {
        self.a.model.schema.as_deref()
    }

    pub fn default_name(&self) -> bool {
        self.relation_name == format!("{}To{}", self.a.model.name, self.b.model.name)
    }
}

/// Implicit many-to-many relations, sorted by table name: the two relation
/// fields of one relation name are both lists and neither holds
/// `fields`/`references`. Column `A` goes to the model whose name sorts
/// first; for a self-relation, to the relation field whose name sorts first.
pub fn join_tables<'a>(dm: &'a Datamodel) -> Vec<JoinTable<'a>> {
    let mut by_relation: Vec<(&'a str, Vec<(&'a DModel, &'a DField)>)> = Vec::new();
    for m in &dm.models {
        for f in &m.fields {
            let Some(rel) = f.relation_name.as_deref() else {
                continue;
            };
            if f.kind != "object" || !dm.models.iter().any(|t| t.name == f.type_name) {
                continue;
            }
            match by_relation.iter_mut().find(|(n, _)| *n == rel) {
                Some((_, sides)) => sides.push((m, f)),
                None => by_relation.push((rel, vec![(m, f)])),
            }
        }
    }
    let empty = |v: &Option<Vec<String>>| v.as_ref().is_none_or(Vec::is_empty);
    let mut out = Vec::new();
    for (rel, mut sides) in by_relation {
        if sides.len() != 2
            || !sides.iter().all(|(_, f)| {
                f.is_list && empty(&f.relation_from_fields) && empty(&f.relation_to_fields)
            })
        {
            continue;
        }
        sides.sort_by(|x, y| x.0.name.cmp(&y.0.name).then(x.1.name.cmp(&y.1.name)));
        // Column A references the model owning the first relation field.
        let side = |(model, field): (&'a DModel, &'a DField)| JoinSide {
            model,
            field,
            id: model.id_field(),
        };
        let (a, b) = (side(sides[0]), side(sides[1]));
        out.push(JoinTable {
            relation_name: rel.to_string(),
            table: format!("_{rel}"),
            a,
            b,
        });
    }
    out.sort_by(|x, y| x.table.cmp(&y.table));
    out
}

/// The corpus `tables.json` for a resolved schema (see the corpus README):
/// models and enums sorted by name, scalar and enum fields in declaration
/// order, join tables sorted by table name.
pub fn tables_json(file: &str, produced_by: &str, r: &Resolved) -> Value {
    let dm = &r.datamodel;
    let mut models: Vec<&DModel> = dm.models.iter().collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let models: Vec<Value> = models
        .into_iter()
        .map(|m| {
            let columns: Vec<Value> = m
                .fields
                .iter()
                .filter(|f| f.is_column())
                .map(|f| {
                    json!({
                        "field": f.name,
                        "column": f.column(),
                        "kind": f.kind,
                        "type": f.type_name,
                        "nativeType": f.native_type.as_ref().map(|(n, a)| json!([n, a])),
                        "isList": f.is_list,
                        "isRequired": f.is_required,
                        "isId": f.is_id,
                        "isUnique": f.is_unique,
                        "isUpdatedAt": f.is_updated_at,
                        "default": if f.has_default_value { f.default.clone() } else { None },
                    })
                })
                .collect();
            let primary_key = m.primary_key_fields().map(|(name, fields)| {
                let cols: Vec<&str> = fields.iter().map(|f| m.column_of(f)).collect();
                json!({"name": name, "fields": fields, "columns": cols})
            });
            json!({
                "model": m.name,
                "table": m.table_name(),
                "schema": m.schema,
                "isView": m.is_view,
                "columns": columns,
                "primaryKey": primary_key,
            })
        })
        .collect();
    let mut enums: Vec<&DEnum> = dm.enums.iter().collect();
    enums.sort_by(|a, b| a.name.cmp(&b.name));
    let enums: Vec<Value> = enums
        .into_iter()
        .map(|e| {
            json!({
                "name": e.name,
                "dbName": e.db_name,
                "values": e.values.iter().map(|v| json!({"name": v.name, "dbName": v.db_name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let side = |s: &JoinSide<'_>, col: &str| {
        json!({
            "column": col,
            "model": s.model.name,
            "table": s.model.table_name(),
            "schema": s.model.schema,
            "references": s.id.map(|f| &f.name),
            "referencesColumn": s.id.map(DField::column),
            "type": s.id.map(|f| &f.type_name),
            "nativeType": s.id.and_then(|f| f.native_type.as_ref()).map(|(n, a)| json!([n, a])),
            "relationField": s.field.name,
        })
    };
    let joins: Vec<Value> = join_tables(dm)
        .iter()
        .map(|j| {
            json!({
                "table": j.table,
                "schema": j.schema(),
                "relationName": j.relation_name,
                "defaultName": j.default_name(),
                "A": side(&j.a, "A"),
                "B": side(&j.b, "B"),
            })
        })
        .collect();
    json!({
        "file": file,
        "producedBy": produced_by,
        "provider": r.provider,
        "schemas": r.schemas,
        "normalized": {"datasourceProperties": r.datasource_properties, "previewFeatures": []},
        "models": models,
        "enums": enums,
        "joinTables": joins,
    })
}
