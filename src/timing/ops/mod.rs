//! The `queries/` format: one operation per TOML file, the SQL each ORM
//! sends for it, and how its placeholders map to shared named parameters.
//!
//! Owns parsing and validating operation files into [`Operation`]s, and
//! rendering a statement for one execution (placeholders bound to values,
//! `{{stmtN.col[]}}` lists expanded). It runs nothing.
//!
//! ```toml
//! name = "find-user-by-email"
//! repository = "user"
//! description = "…"                 # optional
//! dialect = "postgresql"            # optional: only run against this database kind
//! writes = false                    # true: rolled back, needs allow_writes = true
//! compare = "rows"                  # rows | entities | count (count needs `reason`)
//! reason = "…"
//! ordered = true                    # optional: compare lists in order (true) or as sets
//!                                   # (false); default: inferred from both sides' ORDER BY
//! ignore = ["repairs.created_at"]   # table.column or column
//! tolerance = { "occurred_at" = "1ms" }
//! params_from = "SELECT email FROM users ORDER BY random() LIMIT 100"
//! generate = { repair_id = "cuid" } # cuid | uuid | now, fresh per iteration
//! # or literal parameter sets:
//! # [[params]]
//! # email = "ann@shop.test"
//!
//! [source]
//! statements = ["SELECT … WHERE email = $1 LIMIT $2 OFFSET $3"]
//! params = ["email", 1, 0]          # $1 = email, $2 = literal 1, $3 = literal 0
//! # params = { "1" = "email", "2" = 1, "3" = 0 } says the same
//!
//! [target]
//! sql_file = "find-user.target.sql" # statements separated by `;`
//! params = ["email", 1]
//! ```
//!
//! A parameter entry is a named parameter (`"email"`), a literal (a TOML
//! number or boolean, `{ value = "text" }`, `{ null = true }`), the first
//! row's column of an earlier statement (`"{{stmt2.id}}"`), or the client's
//! clock (`"{{now}}"`). Inside the SQL, `{{stmt1.id[]}}` expands to one
//! placeholder per value of that column in statement 1's rows: Prisma's
//! `IN ($1,$2,…)` for an include. A multi-statement side may instead be an
//! array of tables: `[[source.statements]]` with `sql` and `params` each.
//!
//! Here: the file format and loading; `statement` reads one statement's
//! placeholders and renders it for an execution.

mod statement;
#[cfg(test)]
mod tests;

pub use statement::{Binding, render, split_statements};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::value::Val;
use crate::canon::{self, Tolerance};
use crate::mapping::Dialect;

/// An operation file that cannot be used, and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct OpsError {
    pub file: String,
    pub message: String,
}

/// How the two sides' results are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CompareMode {
    /// The multisets of rows (per table, nested JSON rows unnested) are equal.
    #[default]
    Rows,
    /// The distinct entities (by primary key) of the tables both sides
    /// return are equal: for writes whose read-backs differ in shape.
    Entities,
    /// Only the row counts per table are compared (needs a `reason`).
    Count,
}

impl CompareMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareMode::Rows => "rows",
            CompareMode::Entities => "entities",
            CompareMode::Count => "count",
        }
    }
}

/// `table.column` or a bare `column` (any table, or an expression column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub table: Option<String>,
    pub column: String,
}

impl ColumnRef {
    pub fn parse(s: &str) -> ColumnRef {
        match s.rsplit_once('.') {
            Some((t, c)) => ColumnRef {
                table: Some(t.to_string()),
                column: c.to_string(),
            },
            None => ColumnRef {
                table: None,
                column: s.to_string(),
            },
        }
    }

    pub fn matches(&self, table: &str, column: &str) -> bool {
        self.column == column
            && self
                .table
                .as_deref()
                .is_none_or(|t| t == table || crate::mapping::split_qualified(table).1 == t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    Cuid,
    Uuid,
    Now,
}

#[derive(Debug, Clone)]
pub enum ParamSource {
    /// Literal parameter sets.
    Sets(Vec<BTreeMap<String, Val>>),
    /// A query sampling real values; its column names are the parameter names.
    Query(String),
}

/// What one placeholder is bound to.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamRef {
    Named(String),
    Literal(Val),
    /// The client's clock, cut to milliseconds like a JS `Date`.
    Now,
    /// Column of the first row of an earlier statement (0-based index).
    Ref {
        stmt: usize,
        column: String,
    },
}

/// Transaction control an ORM sent; inside parity's outer transaction of a
/// write it becomes a savepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Begin,
    Commit,
    Rollback,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// A placeholder bound to `params[i]`.
    Param(usize),
    /// One placeholder per value of `column` in statement `stmt`'s rows.
    List {
        stmt: usize,
        column: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `$1`, `$2` (PostgreSQL).
    Dollar,
    /// `?` or `?NNN` (SQLite, MySQL).
    Question,
}

#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL as captured.
    pub sql: String,
    pub params: Vec<ParamRef>,
    pub control: Option<Control>,
    pub style: Style,
    /// Placeholders in the SQL (the highest `$n`, or the number of `?`).
    pub arity: usize,
    /// Set when the SQL holds `{{stmtN.col[]}}`: rendered per execution.
    pub pieces: Option<Vec<Piece>>,
}

#[derive(Debug, Clone, Default)]
pub struct SideOps {
    /// The ORM that sent this SQL (informational).
    pub orm: Option<String>,
    pub statements: Vec<Statement>,
    /// Result column → the name it is compared under (e.g. Prisma's
    /// `_sum$amount` → `sum`).
    pub rename: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub file: PathBuf,
    pub name: String,
    pub repository: String,
    pub description: Option<String>,
    pub dialect: Option<Dialect>,
    pub writes: bool,
    pub compare: CompareMode,
    pub reason: Option<String>,
    pub ignore: Vec<ColumnRef>,
    pub tolerance: Vec<(ColumnRef, Tolerance)>,
    pub params: Option<ParamSource>,
    pub generate: Vec<(String, Generator)>,
    pub source: SideOps,
    pub target: SideOps,
    /// `ordered = true | false`: compare top-level lists in order or as
    /// sets; `None` infers it from both sides' `ORDER BY` (`timing::order`).
    pub ordered: Option<bool>,
}

impl Operation {
    /// `repository/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.repository, self.name)
    }
}

// ---- raw file shape ---------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOp {
    name: String,
    repository: Option<String>,
    description: Option<String>,
    dialect: Option<String>,
    #[serde(default)]
    writes: bool,
    #[serde(default)]
    compare: CompareMode,
    reason: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    tolerance: BTreeMap<String, toml::Value>,
    params: Option<Vec<BTreeMap<String, toml::Value>>>,
    params_from: Option<String>,
    #[serde(default)]
    generate: BTreeMap<String, String>,
    ordered: Option<bool>,
    source: RawSide,
    target: RawSide,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    orm: Option<String>,
    statements: Option<Vec<RawStatement>>,
    sql_file: Option<String>,
    params: Option<toml::Value>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStatement {
    Sql(String),
    Full {
        sql: String,
        params: Option<toml::Value>,
    },
}

/// Reads one operation file.
pub fn load_file(path: &Path) -> Result<Operation, OpsError> {
    let err = |message: String| OpsError {
        file: path.display().to_string(),
        message,
    };
    let text = crate::mapping::load::read_text(path)
        .map_err(|e| err(format!("cannot read the operation file ({e})")))?;
    parse(path, &text)
}

/// Parses operation text (`path` names it in errors and anchors `sql_file`).
pub fn parse(path: &Path, text: &str) -> Result<Operation, OpsError> {
    let err = |message: String| OpsError {
        file: path.display().to_string(),
        message,
    };
    let raw: RawOp = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            })
            .unwrap_or_default();
        err(format!(
            "{at}{}; fix the TOML there",
            e.message().trim_end()
        ))
    })?;
    let repository = match raw.repository {
        Some(r) => r,
        None => path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| err("no `repository`; add repository = \"NAME\"".into()))?,
    };
    let dialect = match raw.dialect.as_deref() {
        None => None,
        Some("postgresql" | "postgres") => Some(Dialect::Postgres),
        Some("sqlite") => Some(Dialect::Sqlite),
        Some("mysql" | "mariadb") => Some(Dialect::Mysql),
        Some(other) => {
            return Err(err(format!(
                "unknown dialect \"{other}\"; use \"postgresql\", \"sqlite\" or \"mysql\""
            )));
        }
    };
    if raw.compare == CompareMode::Count && raw.reason.is_none() {
        return Err(err(
            "compare = \"count\" needs a `reason` saying why the rows cannot be compared".into(),
        ));
    }
    let mut tolerance = Vec::new();
    for (col, v) in &raw.tolerance {
        let t = canon::parse_tolerance(v).map_err(|e| err(format!("tolerance for {col}: {e}")))?;
        tolerance.push((ColumnRef::parse(col), t));
    }
    let params = match (raw.params, raw.params_from) {
        (Some(_), Some(_)) => {
            return Err(err(
                "both [[params]] and params_from are given; keep one".into()
            ));
        }
        (Some(sets), None) => {
            let mut out = Vec::new();
            for (i, set) in sets.into_iter().enumerate() {
                let mut m = BTreeMap::new();
                for (k, v) in set {
                    let val = Val::from_toml(&v).ok_or_else(|| {
                        err(format!(
                            "parameter set {}: {k} must be a string, number or boolean",
                            i + 1
                        ))
                    })?;
                    m.insert(k, val);
                }
                out.push(m);
            }
            if out.is_empty() {
                return Err(err("params is an empty list; give at least one set".into()));
            }
            Some(ParamSource::Sets(out))
        }
        (None, Some(q)) => Some(ParamSource::Query(q)),
        (None, None) => None,
    };
    let mut generate = Vec::new();
    for (k, g) in raw.generate {
        let g = match g.as_str() {
            "cuid" => Generator::Cuid,
            "uuid" => Generator::Uuid,
            "now" => Generator::Now,
            other => {
                return Err(err(format!(
                    "generate.{k} = \"{other}\" is unknown; use \"cuid\", \"uuid\" or \"now\""
                )));
            }
        };
        generate.push((k, g));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let source = side(raw.source, "source", dir).map_err(err)?;
    let target = side(raw.target, "target", dir).map_err(err)?;
    // Named parameters must exist when the sets are literal.
    if let Some(ParamSource::Sets(sets)) = &params {
        let known: BTreeSet<&str> = sets[0]
            .keys()
            .map(String::as_str)
            .chain(generate.iter().map(|(k, _)| k.as_str()))
            .collect();
        for (label, s) in [("source", &source), ("target", &target)] {
            for (i, st) in s.statements.iter().enumerate() {
                for p in &st.params {
                    if let ParamRef::Named(n) = p
                        && !known.contains(n.as_str())
                    {
                        return Err(err(format!(
                            "[{label}] statement {} uses parameter \"{n}\", which no parameter set defines",
                            i + 1
                        )));
                    }
                }
            }
        }
    }
    Ok(Operation {
        file: path.to_path_buf(),
        name: raw.name,
        repository,
        description: raw.description,
        dialect,
        writes: raw.writes,
        compare: raw.compare,
        reason: raw.reason,
        ignore: raw.ignore.iter().map(|s| ColumnRef::parse(s)).collect(),
        tolerance,
        params,
        generate,
        source,
        target,
        ordered: raw.ordered,
    })
}

fn side(raw: RawSide, label: &str, dir: &Path) -> Result<SideOps, String> {
    let mut sqls: Vec<(String, Option<toml::Value>)> = match (raw.statements, raw.sql_file) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "[{label}] has both statements and sql_file; keep one"
            ));
        }
        (Some(list), None) => list
            .into_iter()
            .map(|s| match s {
                RawStatement::Sql(sql) => (sql, None),
                RawStatement::Full { sql, params } => (sql, params),
            })
            .collect(),
        (None, Some(f)) => {
            let p = dir.join(&f);
            let text = crate::mapping::load::read_text(&p)
                .map_err(|e| format!("[{label}] sql_file {}: {e}", p.display()))?;
            split_statements(&text)
                .into_iter()
                .map(|s| (s, None))
                .collect()
        }
        (None, None) => {
            return Err(format!(
                "[{label}] has no SQL; add statements = [\"…\"] or sql_file = \"…\""
            ));
        }
    };
    if sqls.is_empty() {
        return Err(format!("[{label}] has no statements"));
    }
    // Side-level params: one list for a single statement, or a list of lists.
    if let Some(p) = raw.params {
        let per_statement = match &p {
            toml::Value::Array(a) if a.iter().all(|x| x.is_array()) && !a.is_empty() => a.clone(),
            _ => vec![p.clone(); 1],
        };
        if per_statement.len() == 1 && sqls.len() > 1 {
            // One list for several statements: each takes it.
            for s in sqls.iter_mut() {
                s.1.get_or_insert_with(|| per_statement[0].clone());
            }
        } else {
            if per_statement.len() != sqls.len() {
                return Err(format!(
                    "[{label}] params lists {} statements' parameters but there are {} statements",
                    per_statement.len(),
                    sqls.len()
                ));
            }
            for (s, p) in sqls.iter_mut().zip(per_statement) {
                s.1.get_or_insert(p);
            }
        }
    }
    let mut statements = Vec::new();
    for (i, (sql, params)) in sqls.into_iter().enumerate() {
        let st = statement::statement(&sql, params.as_ref(), i)
            .map_err(|e| format!("[{label}] statement {}: {e}", i + 1))?;
        statements.push(st);
    }
    Ok(SideOps {
        orm: raw.orm,
        statements,
        rename: raw.rename,
    })
}

/// Every operation file under `dir` (recursively), sorted by path.
pub fn load_dir(dir: &Path) -> Result<Vec<Operation>, OpsError> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| OpsError {
        file: dir.display().to_string(),
        message: format!(
            "cannot read the queries folder ({e}); pass an existing folder with --queries"
        ),
    })?;
    files.sort();
    files.iter().map(|f| load_file(f)).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
    Ok(())
}
