//! One captured statement: its placeholders (`$n`, `?`, `?NNN`,
//! `{{stmtN.col[]}}` lists) and what each is bound to, whether it is
//! transaction control, and the SQL and bindings of one execution.

use std::collections::BTreeMap;

use super::{Control, ParamRef, Piece, Statement, Style};
use crate::timing::value::Val;

pub(super) fn statement(
    sql: &str,
    params: Option<&toml::Value>,
    index: usize,
) -> Result<Statement, String> {
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

pub(super) fn control_of(sql: &str) -> Option<Control> {
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
pub(super) enum Tok {
    Text(String),
    Dollar(usize),
    Question(Option<usize>),
    List { stmt: usize, column: String },
}

/// Splits SQL into text and placeholders, leaving string literals, quoted
/// identifiers and comments alone.
pub(super) fn scan(sql: &str) -> Vec<Tok> {
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
            // `$n`, `?` and `?NNN`: the digits after the sign number it.
            b'$' | b'?' if c == b'?' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = b[i + 1..]
                    .iter()
                    .position(|x| !x.is_ascii_digit())
                    .map_or(b.len(), |p| i + 1 + p);
                let n = sql[i + 1..end].parse().ok();
                flush(&mut text, &mut out);
                out.push(if c == b'$' {
                    Tok::Dollar(n.unwrap_or(0))
                } else {
                    Tok::Question(n)
                });
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
