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
        let st = statement(&sql, params.as_ref(), i)
            .map_err(|e| format!("[{label}] statement {}: {e}", i + 1))?;
        statements.push(st);
    }
    Ok(SideOps {
        orm: raw.orm,
        statements,
        rename: raw.rename,
    })
}

fn statement(sql: &str, params: Option<&toml::Value>, index: usize) -> Result<Statement, String> {
    let params = match params {
        None => Vec::new(),
        Some(toml::Value::Array(list)) => list
            .iter()
            .map(|v| param_ref(v, index))
            .collect::<Result<_, _>>()?,
        Some(toml::Value::Table(t)) => {
            let mut by_pos: BTreeMap<usize, ParamRef> = BTreeMap::new();
            for (k, v) in t {
                let pos: usize = k
                    .trim_start_matches(['$', '?'])
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        format!(
                            "params key \"{k}\" is not a placeholder number like \"1\" or \"$1\""
                        )
                    })?;
                by_pos.insert(pos, param_ref(v, index)?);
            }
            let n = by_pos.keys().max().copied().unwrap_or(0);
            (1..=n)
                .map(|i| {
                    by_pos
                        .remove(&i)
                        .ok_or_else(|| format!("params has no entry for placeholder {i}"))
                })
                .collect::<Result<_, _>>()?
        }
        Some(other) => return Err(format!("params must be a list or a table, not {other}")),
    };
    let tokens = scan(sql);
    let style = if tokens.iter().any(|t| matches!(t, Tok::Dollar(_))) {
        Style::Dollar
    } else {
        Style::Question
    };
    let mut needed = 0usize;
    let mut question = 0usize;
    let mut has_list = false;
    for t in &tokens {
        match t {
            Tok::Dollar(n) => needed = needed.max(*n),
            Tok::Question(Some(n)) => needed = needed.max(*n),
            Tok::Question(None) => {
                question += 1;
                needed = needed.max(question);
            }
            Tok::List { stmt, .. } => {
                has_list = true;
                if *stmt >= index {
                    return Err(format!(
                        "{{{{stmt{}…}}}} refers to a statement that has not run yet",
                        stmt + 1
                    ));
                }
            }
            Tok::Text(_) => {}
        }
    }
    if needed > params.len() {
        return Err(format!(
            "the SQL uses {needed} placeholder(s) but params lists {}; map each placeholder to a named parameter",
            params.len()
        ));
    }
    let pieces = has_list.then(|| {
        let mut q = 0usize;
        tokens
            .iter()
            .map(|t| match t {
                Tok::Text(s) => Piece::Text(s.clone()),
                Tok::Dollar(n) | Tok::Question(Some(n)) => Piece::Param(n - 1),
                Tok::Question(None) => {
                    q += 1;
                    Piece::Param(q - 1)
                }
                Tok::List { stmt, column } => Piece::List {
                    stmt: *stmt,
                    column: column.clone(),
                },
            })
            .collect()
    });
    Ok(Statement {
        sql: sql.to_string(),
        params,
        control: control_of(sql),
        style,
        arity: needed,
        pieces,
    })
}

fn param_ref(v: &toml::Value, index: usize) -> Result<ParamRef, String> {
    Ok(match v {
        toml::Value::String(s) => match s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
            Some("now") => ParamRef::Now,
            Some(inner) => {
                let (stmt, column) = parse_stmt_ref(inner)
                    .ok_or_else(|| format!("\"{s}\" is not {{{{now}}}} or {{{{stmtN.column}}}}"))?;
                if stmt >= index {
                    return Err(format!(
                        "\"{s}\" refers to statement {} but only earlier statements can be referenced",
                        stmt + 1
                    ));
                }
                ParamRef::Ref { stmt, column }
            }
            None => ParamRef::Named(s.clone()),
        },
        toml::Value::Table(t) if t.get("null").and_then(|v| v.as_bool()) == Some(true) => {
            ParamRef::Literal(Val::Null)
        }
        toml::Value::Table(t) => match t.get("value") {
            Some(v) => ParamRef::Literal(
                Val::from_toml(v).ok_or_else(|| format!("literal {v} is not a scalar"))?,
            ),
            None => return Err("a parameter table needs `value = …` or `null = true`".into()),
        },
        other => ParamRef::Literal(
            Val::from_toml(other).ok_or_else(|| format!("parameter {other} is not a scalar"))?,
        ),
    })
}

/// `stmt2.id` → (1, "id").
fn parse_stmt_ref(s: &str) -> Option<(usize, String)> {
    let (stmt, col) = s.trim().split_once('.')?;
    let n: usize = stmt.strip_prefix("stmt")?.parse().ok()?;
    (n >= 1 && !col.is_empty()).then(|| (n - 1, col.to_string()))
}

fn control_of(sql: &str) -> Option<Control> {
    let s = sql.trim().trim_end_matches(';').trim().to_ascii_uppercase();
    let first = s.split_whitespace().next().unwrap_or("");
    match first {
        "BEGIN" | "START" if s.starts_with("BEGIN") || s.starts_with("START TRANSACTION") => {
            Some(Control::Begin)
        }
        "COMMIT" | "END" => Some(Control::Commit),
        "ROLLBACK" | "ABORT" if !s.contains(" TO ") => Some(Control::Rollback),
        _ => None,
    }
}

#[derive(Debug, PartialEq)]
enum Tok {
    Text(String),
    Dollar(usize),
    Question(Option<usize>),
    List { stmt: usize, column: String },
}

/// Splits SQL into text and placeholders, leaving string literals, quoted
/// identifiers and comments alone.
fn scan(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let flush = |text: &mut String, out: &mut Vec<Tok>| {
        if !text.is_empty() {
            out.push(Tok::Text(std::mem::take(text)));
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let end = b[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .map(|p| i + 1 + p + 1)
                    .unwrap_or(b.len());
                text.push_str(&sql[i..end]);
                i = end;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map(|p| i + p)
                    .unwrap_or(b.len());
                text.push_str(&sql[i..end]);
                i = end;
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = b[i + 1..]
                    .iter()
                    .position(|x| !x.is_ascii_digit())
                    .map(|p| i + 1 + p)
                    .unwrap_or(b.len());
                flush(&mut text, &mut out);
                out.push(Tok::Dollar(sql[i + 1..end].parse().unwrap_or(0)));
                i = end;
            }
            b'?' => {
                let end = b[i + 1..]
                    .iter()
                    .position(|x| !x.is_ascii_digit())
                    .map(|p| i + 1 + p)
                    .unwrap_or(b.len());
                flush(&mut text, &mut out);
                out.push(Tok::Question(sql[i + 1..end].parse().ok()));
                i = end;
            }
            b'{' if sql[i..].starts_with("{{") => {
                let close = sql[i..].find("}}").map(|p| i + p);
                let parsed = close.and_then(|c| {
                    let inner = &sql[i + 2..c];
                    let inner = inner.strip_suffix("[]")?;
                    parse_stmt_ref(inner).map(|r| (r, c + 2))
                });
                match parsed {
                    Some(((stmt, column), end)) => {
                        flush(&mut text, &mut out);
                        out.push(Tok::List { stmt, column });
                        i = end;
                    }
                    None => {
                        text.push('{');
                        i += 1;
                    }
                }
            }
            _ => {
                let ch = sql[i..].chars().next().unwrap_or(' ');
                text.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    flush(&mut text, &mut out);
    out
}

/// Splits a SQL file into statements at `;` outside quotes and comments.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            cur.push('\n');
                            break;
                        }
                    }
                }
                ';' => {
                    let s = cur.trim().to_string();
                    if !s.is_empty() {
                        out.push(s);
                    }
                    cur.clear();
                }
                _ => cur.push(c),
            },
        }
    }
    let s = cur.trim().to_string();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// The SQL and parameter list for one execution. `list` gives the values of
/// a `{{stmtN.col[]}}` column (empty when that statement returned no rows).
/// Returns `None` when a list is empty: the ORM skips such a query.
pub fn render<'a>(
    st: &'a Statement,
    list: &dyn Fn(usize, &str) -> Vec<Val>,
) -> Option<(std::borrow::Cow<'a, str>, Vec<Binding>)> {
    let Some(pieces) = &st.pieces else {
        return Some((
            std::borrow::Cow::Borrowed(st.sql.as_str()),
            (0..st.arity).map(Binding::Param).collect(),
        ));
    };
    let mut sql = String::with_capacity(st.sql.len() + 16);
    let mut binds = Vec::new();
    let next = |sql: &mut String, binds: &mut Vec<Binding>, b: Binding| {
        binds.push(b);
        match st.style {
            Style::Dollar => sql.push_str(&format!("${}", binds.len())),
            Style::Question => sql.push('?'),
        }
    };
    for p in pieces {
        match p {
            Piece::Text(t) => sql.push_str(t),
            Piece::Param(i) => next(&mut sql, &mut binds, Binding::Param(*i)),
            Piece::List { stmt, column } => {
                let vals = list(*stmt, column);
                if vals.is_empty() {
                    return None;
                }
                for (k, v) in vals.into_iter().enumerate() {
                    if k > 0 {
                        sql.push(',');
                    }
                    next(&mut sql, &mut binds, Binding::Value(v));
                }
            }
        }
    }
    Some((std::borrow::Cow::Owned(sql), binds))
}

/// What to bind at one placeholder of a rendered statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// `Statement::params[i]`.
    Param(usize),
    Value(Val),
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

#[cfg(test)]
mod tests {
    use super::*;

    const FIND: &str = r#"
name = "find-user-by-email"
repository = "user"
params_from = "SELECT email FROM users LIMIT 10"

[source]
statements = ["SELECT \"id\" FROM \"users\" WHERE (\"email\" = $1 AND 1=1) LIMIT $2 OFFSET $3"]
params = ["email", 1, 0]

[target]
statements = ["select \"id\" from \"users\" where \"users\".\"email\" = $1 limit $2"]
params = { "$1" = "email", "2" = 1 }
"#;

    #[test]
    fn parses_a_single_statement_operation() {
        let op = parse(Path::new("queries/user/find.toml"), FIND).unwrap();
        assert_eq!(op.id(), "user/find-user-by-email");
        assert!(matches!(op.params, Some(ParamSource::Query(_))));
        let s = &op.source.statements[0];
        assert_eq!(s.style, Style::Dollar);
        assert_eq!(
            s.params,
            vec![
                ParamRef::Named("email".into()),
                ParamRef::Literal(Val::Int(1)),
                ParamRef::Literal(Val::Int(0))
            ]
        );
        assert_eq!(op.target.statements[0].params.len(), 2);
        assert!(s.pieces.is_none());
        assert_eq!(op.compare, CompareMode::Rows);
    }

    #[test]
    fn multi_statement_sides_refs_and_controls() {
        let text = r#"
name = "create"
repository = "repair"
writes = true
compare = "entities"
generate = { repair_id = "cuid" }
ignore = ["repairs.created_at", "updated_at"]
tolerance = { "received_at" = "1s" }

[[params]]
bike_id = "b1"

[[source.statements]]
sql = "BEGIN"

[[source.statements]]
sql = "INSERT INTO repairs (id, bike_id, created_at) VALUES ($1, $2, $3) RETURNING id"
params = ["repair_id", "bike_id", "{{now}}"]

[[source.statements]]
sql = "SELECT * FROM items WHERE repair_id IN ({{stmt2.id[]}}) OFFSET $1"
params = [{ value = "0" }]

[[source.statements]]
sql = "SELECT $1::text"
params = ["{{stmt2.id}}"]

[[source.statements]]
sql = "COMMIT"

[target]
statements = ["insert into repairs (id, bike_id) values (?, ?)"]
params = ["repair_id", "bike_id"]
"#;
        let op = parse(Path::new("q/r/c.toml"), text).unwrap();
        assert!(op.writes);
        assert_eq!(op.source.statements[0].control, Some(Control::Begin));
        assert_eq!(op.source.statements[4].control, Some(Control::Commit));
        assert_eq!(op.source.statements[1].params[2], ParamRef::Now);
        assert_eq!(
            op.source.statements[3].params[0],
            ParamRef::Ref {
                stmt: 1,
                column: "id".into()
            }
        );
        assert!(op.ignore[0].matches("repairs", "created_at"));
        assert!(op.ignore[1].matches("anything", "updated_at"));
        assert_eq!(op.target.statements[0].style, Style::Question);
        // Rendering the list: IN ($1,$2) OFFSET $3, in textual order.
        let st = &op.source.statements[2];
        let (sql, binds) = render(st, &|stmt, col| {
            assert_eq!((stmt, col), (1, "id"));
            vec![Val::Text("a".into()), Val::Text("b".into())]
        })
        .unwrap();
        assert_eq!(
            sql,
            "SELECT * FROM items WHERE repair_id IN ($1,$2) OFFSET $3"
        );
        assert_eq!(
            binds,
            vec![
                Binding::Value(Val::Text("a".into())),
                Binding::Value(Val::Text("b".into())),
                Binding::Param(0)
            ]
        );
        assert!(render(st, &|_, _| Vec::new()).is_none());
    }

    #[test]
    fn mistakes_name_the_fix() {
        let bad = FIND.replace("params = [\"email\", 1, 0]", "params = [\"email\"]");
        let e = parse(Path::new("f.toml"), &bad).unwrap_err();
        assert!(e.message.contains("3 placeholder(s)"), "{e}");
        let bad = FIND.replace(
            "repository = \"user\"",
            "repository = \"user\"\ncompare = \"count\"",
        );
        let e = parse(Path::new("f.toml"), &bad).unwrap_err();
        assert!(e.message.contains("reason"), "{e}");
        let bad = FIND.replace("params_from", "paramz_from");
        let e = parse(Path::new("f.toml"), &bad).unwrap_err();
        assert!(e.message.contains("paramz_from"), "{e}");
        let bad = "name='x'\nrepository='r'\n[[params]]\na=1\n[source]\nstatements=['select $1']\nparams=['b']\n[target]\nstatements=['select 1']\n";
        let e = parse(Path::new("f.toml"), bad).unwrap_err();
        assert!(e.message.contains("\"b\""), "{e}");
        let bad = "name='x'\nrepository='r'\n[source]\nstatements=['select $1']\nparams=['{{stmt1.id}}']\n[target]\nstatements=['select 1']\n";
        let e = parse(Path::new("f.toml"), bad).unwrap_err();
        assert!(e.message.contains("earlier"), "{e}");
    }

    #[test]
    fn sql_files_and_per_statement_params() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.sql"),
            "BEGIN;\nINSERT INTO t (a) VALUES (?) RETURNING id;\nSELECT * FROM u WHERE t_id = ?;\nCOMMIT;\n",
        )
        .unwrap();
        let text = "name = 'x'\nrepository = 'r'\n[[params]]\na = 1\n\
                    [source]\nsql_file = 't.sql'\nparams = [[], ['a'], ['{{stmt2.id}}'], []]\n\
                    [target]\nstatements = ['select ?']\nparams = ['a']\n";
        let op = parse(&dir.path().join("op.toml"), text).unwrap();
        let s = &op.source.statements;
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].control, Some(Control::Begin));
        assert_eq!(s[1].params, vec![ParamRef::Named("a".into())]);
        assert_eq!(
            s[2].params,
            vec![ParamRef::Ref {
                stmt: 1,
                column: "id".into()
            }]
        );
        assert_eq!(s[2].arity, 1);
    }

    #[test]
    fn placeholders_inside_literals_are_text() {
        let t = scan("select '$1', \"?\" from t where a = $2 -- $9\n and b = ?");
        assert_eq!(
            t.iter().filter(|t| !matches!(t, Tok::Text(_))).count(),
            2,
            "{t:?}"
        );
        assert_eq!(
            split_statements("select ';'; -- c;\nselect 2;"),
            vec!["select ';'", "select 2"]
        );
        assert_eq!(control_of("begin"), Some(Control::Begin));
        assert_eq!(control_of("ROLLBACK TO SAVEPOINT a"), None);
        assert_eq!(control_of("select 1"), None);
    }
}
