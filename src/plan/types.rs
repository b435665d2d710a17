//! What a plan is made of ([`Plan`], [`TablePair`], [`ColumnPair`], what the
//! user selected) and why one cannot be made ([`PlanError`]).

use serde::Serialize;

use super::Shape;
use crate::config::Config;
use crate::mapping::{Column, Table};

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
    /// Views both mappings have: listed, never read by data checks.
    pub views: Vec<String>,
    /// Tables the user named (`--tables`, `[[repository]]`, `[[table]]`)
    /// that only one mapping has: never checked, so each is a finding.
    pub named_unpaired: Vec<Unpaired>,
}

/// A named table only one mapping has.
#[derive(Debug, Clone, Serialize)]
pub struct Unpaired {
    /// The `[[repository]]` that lists it, if any.
    pub repository: Option<String>,
    /// Its qualified physical name.
    pub table: String,
    /// `source` or `target`: the mapping that has it.
    pub side: &'static str,
    /// Where the user named it: `--tables`, `[[repository]] "x"`, `[[table]]`.
    pub named_by: String,
}

impl Unpaired {
    /// One line: what is wrong and what to do.
    pub fn message(&self, source: &str, target: &str) -> String {
        let (has, lacks) = if self.side == "source" {
            (source, target)
        } else {
            (target, source)
        };
        format!(
            "table {} is named by {} but only the {has} mapping has it, so it was not checked; \
             add it to the {lacks} mapping or pair it with [[pair]] in parity.toml",
            self.table, self.named_by
        )
    }
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
    /// Set when no primary key (nor config `key`) pairs the rows: says which
    /// unique criterion became the key, or that the table is compared as a
    /// keyless multiset (`key` is then empty). Reported with the table.
    pub key_note: Option<String>,
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

impl TablePair {
    pub fn name(&self) -> String {
        self.source.qualified_name()
    }
}

/// What the user narrowed the run to (`--tables`, `--repository`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Physical table names, optionally schema-qualified; either side's name.
    pub tables: Vec<String>,
    /// A `[[repository]]` name from the config.
    pub repository: Option<String>,
}

/// Why no plan could be made: each is one line that names the table and the
/// fix. They stop the run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "table \"{table}\" has no primary key; add `key = [...]` for it in parity.toml under [[table]]"
    )]
    NoKey { table: String },
    #[error(
        "--tables names \"{name}\", which neither mapping has; use a physical table name (parity schema --show-mapping FILE lists them)"
    )]
    UnknownTable { name: String },
    #[error("--repository \"{name}\" is not a [[repository]] in {file}{known}")]
    UnknownRepository {
        name: String,
        known: String,
        /// The config file's name.
        file: String,
    },
    #[error(
        "{at}: [[repository]] \"{repository}\" lists table \"{table}\", which neither mapping has; fix its tables = [...] in {file}"
    )]
    RepositoryTable {
        repository: String,
        table: String,
        /// `file:line:col` of the table name in the config.
        at: String,
        file: String,
    },
    #[error(
        "[[pair]] {side} = \"{table}\" names a table the {side} mapping does not have; fix the [[pair]] in parity.toml"
    )]
    PairTable { side: &'static str, table: String },
    #[error(
        "[[pair]] {source_table} → {target_table} maps column \"{column}\", which the {side} table does not have; fix its columns in parity.toml"
    )]
    PairColumn {
        source_table: String,
        target_table: String,
        side: &'static str,
        column: String,
    },
    #[error(
        "{at}: [[table]] \"{table}\" names a table neither mapping has; fix its name in {file}"
    )]
    ConfigTable {
        table: String,
        /// `file:line:col` of the name in the config.
        at: String,
        file: String,
    },
    #[error(
        "[[table]] \"{table}\" {what} names column \"{column}\", which is not a column both mappings have; fix it in parity.toml"
    )]
    ConfigColumn {
        table: String,
        what: &'static str,
        column: String,
    },
    #[error(
        "table \"{table}\": primary key column \"{column}\" has no counterpart in the other mapping; pair it with [[pair]] columns or set `key = [...]` under [[table]] in parity.toml"
    )]
    KeyUnpaired { table: String, column: String },
}

/// `; known: a, b` for [`PlanError::UnknownRepository`], or how to add one.
pub(super) fn known_names(names: &[&str]) -> String {
    if names.is_empty() {
        "; add one, or leave out --repository".to_string()
    } else {
        format!("; known: {}", names.join(", "))
    }
}

/// [`PlanError::UnknownRepository`] for `name`, which `config` lacks.
pub fn unknown_repository(config: &Config, name: &str) -> PlanError {
    let names: Vec<&str> = config
        .repositories
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    PlanError::UnknownRepository {
        name: name.to_string(),
        known: known_names(&names),
        file: config.file_name(),
    }
}
