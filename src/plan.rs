//! Two [`Mapping`]s → the work: table pairs, keys, column pairs with each
//! side's read semantics, and the shape differences that follow from the
//! mappings alone.
//!
//! Owns pairing (by physical name, then `[[pair]]` overrides, then logical
//! field names), key selection (primary key or config `key`), per-column
//! `ignore`/tolerance, and shape classification. Pure: it never touches a
//! database. It does not decide chunk boundaries (that needs data: `engine`).

use serde::Serialize;

use crate::mapping::{Column, Mapping, Table};

/// Everything `check`, `schema` and `timing` need to know before reading.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub pairs: Vec<TablePair>,
    /// Tables only the source mapping has (qualified physical names).
    pub only_source: Vec<String>,
    /// Tables only the target mapping has.
    pub only_target: Vec<String>,
    /// Loader notes from both mappings (e.g. assumed Drizzle read modes).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TablePair {
    /// The rollout phase this table belongs to, from `[[repository]]`.
    pub repository: Option<String>,
    pub source: Table,
    pub target: Table,
    /// Key columns in key order, as (source physical, target physical).
    pub key: Vec<(String, String)>,
    /// Every paired column, key columns included, in source order.
    pub columns: Vec<ColumnPair>,
    /// Columns only one side maps (physical names).
    pub only_source_columns: Vec<String>,
    pub only_target_columns: Vec<String>,
    /// Per-table `where` filter from config, applied on both sides.
    pub where_clause: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnPair {
    pub source: Column,
    pub target: Column,
    /// Config `ignore`: read, but never compared.
    pub ignore: bool,
    /// Config tolerance, as written (`0.005`, `"1%"`, `"1ms"`).
    pub tolerance: Option<toml::Value>,
    pub shapes: Vec<Shape>,
}

/// A difference in the JavaScript form the two ORMs give for a column.
#[derive(Debug, Clone, Serialize)]
pub struct Shape {
    /// Stable code, e.g. `SHAPE_DATE_VS_STRING`, `SHAPE_BIGINT_NUMBER`.
    pub code: String,
    /// `shape` (same information, different form) or `value` (the read can
    /// lose information for some rows, e.g. bigint mode 'number').
    pub risk: ShapeRisk,
    /// One human line, e.g. "Prisma gives Date, Drizzle gives string (mode 'string')".
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeRisk {
    Shape,
    Value,
}

impl TablePair {
    pub fn name(&self) -> String {
        self.source.qualified_name()
    }
}

/// Silences unused warnings until the planner lands.
#[allow(dead_code)]
fn _uses(_: &Mapping) {}
