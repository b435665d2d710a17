//! The resolved datamodel into the shared [`Mapping`]: tables, columns,
//! physical types, read modes, keys and the implicit many-to-many join
//! tables.
//!
//! Owns: the step from "what Prisma's datamodel says" to "how parity reads
//! the database through Prisma". It works the same for both inputs (native
//! parser and DMMF JSON); it does not validate (that is `resolve`).

use super::dmmf::{DField, DModel, Resolved, join_tables};
use super::native::{self, Provider};
use crate::mapping::{Column, EnumDef, EnumValue, Mapping, Orm, Table};

pub fn to_mapping(r: &Resolved, p: Provider) -> Mapping {
    let dm = &r.datamodel;
    let enum_db_name = |name: &str| {
        dm.enums
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.db_name.clone().unwrap_or_else(|| e.name.clone()))
            .unwrap_or_else(|| name.to_string())
    };
    let column = |f: &DField| {
        let native = f
            .native_type
            .as_ref()
            .map(|(n, a)| (n.as_str(), a.as_slice()));
        let (db_type, read, enum_name) = if f.kind == "enum" {
            (
                enum_db_name(&f.type_name),
                crate::mapping::ReadMode::EnumName,
                Some(f.type_name.clone()),
            )
        } else {
            (
                native::db_type(p, &f.type_name, native),
                native::read_mode(p, &f.type_name, native.map(|n| n.0)),
                None,
            )
        };
        Column {
            name: f.column().to_string(),
            field: f.name.clone(),
            db_type: if f.is_list {
                format!("{db_type}[]")
            } else {
                db_type
            },
            nullable: !f.is_required,
            is_list: f.is_list,
            enum_name,
            read,
            has_default: f.has_default_value,
            is_updated_at: f.is_updated_at,
        }
    };
    let mut tables: Vec<Table> = dm
        .models
        .iter()
        .map(|m| {
            let primary_key: Vec<String> = m
                .primary_key_fields()
                .map(|(_, fields)| fields.iter().map(|f| m.column_of(f).to_string()).collect())
                .unwrap_or_default();
            let uniques = uniques(m)
                .into_iter()
                .filter(|u| *u != primary_key)
                .collect();
            Table {
                schema: m.schema.clone(),
                name: m.table_name().to_string(),
                logical: m.name.clone(),
                is_view: m.is_view,
                columns: m
                    .fields
                    .iter()
                    .filter(|f| f.is_column())
                    .map(column)
                    .collect(),
                primary_key,
                uniques,
            }
        })
        .collect();
    let mut notes = r.notes.clone();
    for j in join_tables(dm) {
        let side = |s: &super::dmmf::JoinSide<'_>, col: &str| {
            s.id.map(|id| Column {
                name: col.to_string(),
                field: col.to_string(),
                nullable: false,
                is_list: false,
                has_default: false,
                is_updated_at: false,
                ..column(id)
            })
        };
        match (side(&j.a, "A"), side(&j.b, "B")) {
            (Some(a), Some(b)) => tables.push(Table {
                schema: j.schema().map(str::to_string),
                name: j.table.clone(),
                logical: j.relation_name.clone(),
                is_view: false,
                columns: vec![a, b],
                // Prisma 6+ gives the join table PRIMARY KEY ("A","B") on
                // PostgreSQL and a unique (A, B) index elsewhere: either way
                // (A, B) identifies a row, which is what a key is for here.
                primary_key: vec!["A".into(), "B".into()],
                uniques: vec![vec!["A".into(), "B".into()]],
            }),
            _ => notes.push(format!(
                "join table {} skipped: one side of relation \"{}\" has no single-field @id",
                j.table, j.relation_name
            )),
        }
    }
    let enums = dm
        .enums
        .iter()
        .map(|e| EnumDef {
            name: e.name.clone(),
            db_name: e.db_name.clone().unwrap_or_else(|| e.name.clone()),
            schema: e.schema.clone(),
            values: e
                .values
                .iter()
                .map(|v| EnumValue {
                    name: v.name.clone(),
                    db_name: v.db_name.clone().unwrap_or_else(|| v.name.clone()),
                })
                .collect(),
        })
        .collect();
    Mapping {
        orm: Orm::Prisma,
        dialect: p.dialect(),
        tables,
        enums,
        notes,
    }
}

/// Physical columns of each unique constraint: `@unique` fields, then
/// `@@unique` blocks, without repeats (a single-field `@@unique` also marks
/// its field unique). The caller drops the one equal to the primary key.
fn uniques(m: &DModel) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let singles = m
        .fields
        .iter()
        .filter(|f| f.is_unique)
        .map(|f| vec![f.name.clone()]);
    for fields in singles.chain(m.unique_fields.iter().cloned()) {
        let cols: Vec<String> = fields.iter().map(|f| m.column_of(f).to_string()).collect();
        if !out.contains(&cols) {
            out.push(cols);
        }
    }
    out
}
