//! What the captured SQL says, read from its tokens: the mapping's tables
//! it names, the nested rows Drizzle's relational queries return as JSON,
//! and the top-level `ORDER BY` and select list. A scanner, not a parser:
//! it follows parentheses and a few keywords, nothing else.

use std::collections::HashMap;

use super::{NestedField, NestedSpec};
use crate::mapping::Mapping;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Word(String),
    Sym(char),
    /// A run of digits (`ORDER BY 1`).
    Num(String),
    Other,
}

pub(super) fn tokens(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'`' {
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == c {
                    if b.get(j + 1) == Some(&c) {
                        s.push(c as char);
                        j += 2;
                        continue;
                    }
                    break;
                }
                let ch = sql[j..].chars().next().unwrap_or(' ');
                s.push(ch);
                j += ch.len_utf8();
            }
            out.push(Tok::Ident(s));
            i = j + 1;
        } else if c == b'\'' {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push(Tok::Other);
            i = j + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let j = b[i..]
                .iter()
                .position(|x| !(x.is_ascii_alphanumeric() || *x == b'_' || *x == b'$'))
                .map_or(b.len(), |p| i + p);
            out.push(Tok::Word(sql[i..j].to_ascii_lowercase()));
            i = j;
        } else if c.is_ascii_digit() {
            let j = b[i..]
                .iter()
                .position(|x| !x.is_ascii_digit())
                .map_or(b.len(), |p| i + p);
            out.push(Tok::Num(sql[i..j].to_string()));
            i = j;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if matches!(c, b'(' | b')' | b',' | b'.') {
            out.push(Tok::Sym(c as char));
            i += 1;
        } else {
            out.push(Tok::Other);
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// The mapping's tables the SQL names: those after a top-level FROM or JOIN
/// first (the tables the outer select reads), then the rest in order of
/// first mention. Unqualified result columns resolve to the first that has
/// the column.
pub(super) fn referenced_tables(mapping: &Mapping, sql: &str) -> Vec<String> {
    let t = tokens(sql);
    let mut top: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    let mut depth = 0i32;
    for (i, tok) in t.iter().enumerate() {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') => depth -= 1,
            Tok::Ident(name) | Tok::Word(name) => {
                let Some(table) = mapping.table(name) else {
                    continue;
                };
                let q = table.qualified_name();
                // `from "t"`, `from "schema"."t"`, `join "t"`.
                let after_from = (1..=3).any(|k| {
                    i >= k
                        && matches!(&t[i - k], Tok::Word(w) if w == "from" || w == "join")
                        && t[i - k + 1..i]
                            .iter()
                            .all(|x| matches!(x, Tok::Ident(_) | Tok::Sym('.')))
                });
                if depth == 0 && after_from {
                    if !top.contains(&q) {
                        top.push(q);
                    }
                } else if !rest.contains(&q) {
                    rest.push(q);
                }
            }
            _ => {}
        }
    }
    rest.retain(|x| !top.contains(x));
    top.extend(rest);
    top
}

/// Drizzle's relational queries: result column → the nested rows it holds.
/// Two shapes are parsed, drizzle-orm's (0.3x–0.45):
/// - PostgreSQL: `"bikes_repairs"."data" as "repairs"` in the outer select
///   list, over a lateral subquery selecting
///   `coalesce(json_agg(json_build_array("bikes_repairs"."id", …)), '[]'::json)`
///   from `"repairs" "bikes_repairs"`; a nested relation is another
///   `"…"."data"` among the parent's arguments.
/// - SQLite: `(select coalesce(json_group_array(json_array("id", …)),
///   json_array()) as "data" from "repairs" "bikes_repairs" where …) as
///   "repairs"`; a nested relation is such a subquery among the arguments.
/// - MySQL (`mode: 'planetscale'`): ``coalesce((select json_arrayagg(json_array(`id`, …))
///   from `repairs` `bikes_repairs` where …), json_array()) as `repairs` ``.
pub(super) fn drizzle_nested(sql: &str) -> HashMap<String, NestedSpec> {
    if !sql.contains("json_build_array") && !sql.contains("json_array") {
        return HashMap::new();
    }
    let t = tokens(sql);
    // Matching parentheses.
    let mut close_of = vec![usize::MAX; t.len()];
    let mut stack = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        match tok {
            Tok::Sym('(') => stack.push(i),
            Tok::Sym(')') => {
                if let Some(o) = stack.pop() {
                    close_of[o] = i;
                }
            }
            _ => {}
        }
    }
    struct Build {
        at: usize,
        end: usize,
        args: Vec<(usize, usize)>,
        table: String,
        alias: Option<String>,
        output: Option<String>,
    }
    let mut builds: Vec<Build> = Vec::new();
    for i in 0..t.len() {
        let is_call = matches!(&t[i], Tok::Word(w) if w == "json_build_array" || w == "json_array")
            && t.get(i + 1) == Some(&Tok::Sym('('))
            && t.get(i + 2) != Some(&Tok::Sym(')'));
        if !is_call || close_of[i + 1] == usize::MAX {
            continue;
        }
        let end = close_of[i + 1];
        let mut args = Vec::new();
        let mut start = i + 2;
        let mut depth = 0;
        for (j, tok) in t.iter().enumerate().take(end).skip(i + 2) {
            match tok {
                Tok::Sym('(') => depth += 1,
                Tok::Sym(')') => depth -= 1,
                Tok::Sym(',') if depth == 0 => {
                    args.push((start, j));
                    start = j + 1;
                }
                _ => {}
            }
        }
        args.push((start, end));
        // The table: the first `from` after the call, at the call's level.
        let mut j = end + 1;
        let mut depth = 0i32;
        let mut from = None;
        while j < t.len() {
            match &t[j] {
                Tok::Sym('(') => depth += 1,
                Tok::Sym(')') => depth -= 1,
                Tok::Word(w) if w == "from" && depth <= 0 => {
                    from = Some(j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(f) = from else { continue };
        let mut k = f + 1;
        let mut table = match t.get(k) {
            Some(Tok::Ident(s)) => s.clone(),
            _ => continue,
        };
        if t.get(k + 1) == Some(&Tok::Sym('.'))
            && let Some(Tok::Ident(s)) = t.get(k + 2)
        {
            table = s.clone();
            k += 2;
        }
        k += 1;
        if t.get(k) == Some(&Tok::Word("as".into())) {
            k += 1;
        }
        let alias = match t.get(k) {
            Some(Tok::Ident(a)) => Some(a.clone()),
            _ => None,
        };
        // SQLite: `(select … from "t" "a" …) as "out"` around the call.
        let mut output = None;
        if let Some(open) = (0..i).rev().find(|&o| {
            t[o] == Tok::Sym('(')
                && close_of[o] > end
                && t.get(o + 1) == Some(&Tok::Word("select".into()))
        }) {
            let mut c = close_of[open];
            // MySQL: `coalesce((select json_arrayagg(…) from …), json_array()) as "out"`.
            if open >= 2
                && t[open - 1] == Tok::Sym('(')
                && t[open - 2] == Tok::Word("coalesce".into())
                && close_of[open - 1] != usize::MAX
            {
                c = close_of[open - 1];
            }
            if t.get(c + 1) == Some(&Tok::Word("as".into()))
                && let Some(Tok::Ident(out)) = t.get(c + 2)
                && out != "data"
            {
                output = Some(out.clone());
            }
        }
        builds.push(Build {
            at: i,
            end,
            args,
            table,
            alias,
            output,
        });
    }
    // PostgreSQL: `"alias"."data" as "out"`.
    let mut outputs: Vec<(String, usize)> = Vec::new();
    for i in 0..t.len() {
        if let Tok::Ident(a) = &t[i]
            && t.get(i + 1) == Some(&Tok::Sym('.'))
            && t.get(i + 2) == Some(&Tok::Ident("data".into()))
            && t.get(i + 3) == Some(&Tok::Word("as".into()))
            && let Some(Tok::Ident(out)) = t.get(i + 4)
            && out != "data"
            && let Some(b) = builds.iter().position(|b| b.alias.as_deref() == Some(a))
        {
            outputs.push((out.clone(), b));
        }
    }
    let inside_another = |b: &Build| builds.iter().any(|o| o.at < b.at && b.at < o.end);
    for (k, b) in builds.iter().enumerate() {
        if let Some(out) = &b.output
            && !inside_another(b)
        {
            outputs.push((out.clone(), k));
        }
    }
    fn spec(t: &[Tok], builds: &[Build], k: usize, depth: usize) -> NestedSpec {
        let b = &builds[k];
        let fields = b
            .args
            .iter()
            .map(|&(s, e)| match &t[s..e] {
                [Tok::Ident(c)] => NestedField::Column(c.clone()),
                [Tok::Ident(a), Tok::Sym('.'), Tok::Ident(c)]
                    if c != "data" || b.alias.as_deref() == Some(a) =>
                {
                    NestedField::Column(c.clone())
                }
                [Tok::Ident(a), Tok::Sym('.'), Tok::Ident(_)] => {
                    match builds.iter().position(|x| x.alias.as_deref() == Some(a)) {
                        Some(n) if depth < 8 => NestedField::Nested(spec(t, builds, n, depth + 1)),
                        _ => NestedField::Skip,
                    }
                }
                _ => match builds.iter().position(|x| s <= x.at && x.at < e) {
                    Some(n) if depth < 8 => NestedField::Nested(spec(t, builds, n, depth + 1)),
                    _ => NestedField::Skip,
                },
            })
            .collect();
        NestedSpec {
            table: b.table.clone(),
            fields,
        }
    }
    outputs
        .into_iter()
        .map(|(out, k)| (out, spec(&t, &builds, k, 0)))
        .collect()
}

/// The items of the statement's top-level `ORDER BY` (outside every
/// parenthesis), each with whether it is descending.
pub(super) fn order_items(t: &[Tok]) -> Option<Vec<(Vec<Tok>, bool)>> {
    let mut depth = 0i32;
    let mut start = None;
    for i in 0..t.len() {
        match &t[i] {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') => depth -= 1,
            Tok::Word(w) if depth == 0 && w == "order" && t.get(i + 1) == Some(&word("by")) => {
                start = Some(i + 2);
            }
            _ => {}
        }
    }
    let start = start?;
    let mut items = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    let mut depth = 0i32;
    for tok in &t[start..] {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') if depth == 0 => break,
            Tok::Sym(')') => depth -= 1,
            Tok::Sym(',') if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            Tok::Word(w)
                if depth == 0 && matches!(w.as_str(), "limit" | "offset" | "fetch" | "for") =>
            {
                break;
            }
            _ => {}
        }
        cur.push(tok.clone());
    }
    items.push(cur);
    Some(
        items
            .into_iter()
            .filter(|i| !i.is_empty())
            .map(|mut item| {
                if item.len() >= 2
                    && item[item.len() - 2] == word("nulls")
                    && matches!(&item[item.len() - 1], Tok::Word(w) if w == "first" || w == "last")
                {
                    item.truncate(item.len() - 2);
                }
                let mut desc = false;
                if let Some(Tok::Word(w)) = item.last()
                    && (w == "asc" || w == "desc")
                {
                    desc = w == "desc";
                    item.pop();
                }
                (item, desc)
            })
            .collect(),
    )
}

pub(super) fn word(w: &str) -> Tok {
    Tok::Word(w.to_string())
}

pub(super) fn show(expr: &[Tok]) -> String {
    expr.iter()
        .map(|t| match t {
            Tok::Ident(s) | Tok::Word(s) | Tok::Num(s) => s.clone(),
            Tok::Sym(c) => c.to_string(),
            Tok::Other => "…".to_string(),
        })
        .collect::<Vec<_>>()
        .join("")
}

/// Drops `x.` qualifiers, so `"t"."c"` and `"c"` read alike.
pub(super) fn unqualified(t: &[Tok]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if matches!(t[i], Tok::Ident(_) | Tok::Word(_)) && t.get(i + 1) == Some(&Tok::Sym('.')) {
            i += 2;
            continue;
        }
        out.push(t[i].clone());
        i += 1;
    }
    out
}

/// The top-level select list: each item's expression and output name.
pub(super) fn select_items(t: &[Tok]) -> Vec<(Vec<Tok>, Option<String>)> {
    let Some(start) = t.iter().position(|x| *x == word("select")) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    let mut depth = 0i32;
    for tok in &t[start + 1..] {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') => depth -= 1,
            Tok::Sym(',') if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            Tok::Word(w) if depth == 0 && w == "from" => break,
            _ => {}
        }
        cur.push(tok.clone());
    }
    items.push(cur);
    items
        .into_iter()
        .map(|mut item| {
            let n = item.len();
            if n >= 2
                && item[n - 2] == word("as")
                && let Tok::Ident(a) | Tok::Word(a) = &item[n - 1]
            {
                let a = a.clone();
                item.truncate(n - 2);
                return (item, Some(a));
            }
            let name = match item.last() {
                Some(Tok::Ident(a) | Tok::Word(a)) => Some(a.clone()),
                _ => None,
            };
            (item, name)
        })
        .collect()
}
