//! SQL text every backend writes alike: quoted identifiers and table
//! names, column lists, the WHERE of a chunk read, the exact-quantile
//! boundary query (MySQL and SQLite), and finding a live column by name.
//! Only text: nothing here sends a statement.

use anyhow::{Context, Result};

use super::{Boundary, LiveColumn, OwnedRaw, ReadSpec};

/// How a backend quotes identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// `"a""b"`: PostgreSQL and SQLite.
    Ansi,
    /// `` `a``b` ``: MySQL and MariaDB.
    Backtick,
}

impl Quote {
    pub fn ident(self, name: &str) -> String {
        match self {
            Quote::Ansi => format!("\"{}\"", name.replace('"', "\"\"")),
            Quote::Backtick => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// `schema.table`, or just `table` for the default schema.
    pub fn table_ref(self, schema: Option<&str>, table: &str) -> String {
        match schema {
            Some(s) if !s.is_empty() => format!("{}.{}", self.ident(s), self.ident(table)),
            _ => self.ident(table),
        }
    }

    /// `a, b, c`, each quoted.
    pub fn list(self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// ` WHERE (filter)` for the spec's own filter, or nothing.
pub fn filter(spec: &ReadSpec) -> String {
    spec.where_clause
        .as_deref()
        .map(|w| format!(" WHERE ({w})"))
        .unwrap_or_default()
}

/// ` WHERE (filter) AND c1 AND c2`: the spec's filter, then `conds` (a
/// chunk's bounds); nothing when there is neither.
pub fn where_all(spec: &ReadSpec, conds: impl IntoIterator<Item = String>) -> String {
    let all: Vec<String> = spec
        .where_clause
        .iter()
        .map(|w| format!("({w})"))
        .chain(conds)
        .collect();
    if all.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", all.join(" AND "))
    }
}

/// Exact quantiles of the key in its own order: every `chunk_rows`-th key
/// of the `count` rows of `table` (already quoted), via `ROW_NUMBER()`
/// over the key index.
pub fn quantiles(q: Quote, spec: &ReadSpec, table: &str, chunk_rows: usize, count: i64) -> String {
    let keys = q.list(&spec.key);
    format!(
        "SELECT {keys} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {keys}) AS parity_rn FROM {table}{}) parity_q \
         WHERE parity_rn % {chunk_rows} = 0 AND parity_rn < {count} ORDER BY parity_rn",
        filter(spec)
    )
}

/// The live columns a catalog query found, one per row; the error names
/// the table.
pub fn live_columns<R>(
    rows: Result<Vec<R>, sqlx::Error>,
    table: &str,
    column: impl Fn(&R) -> LiveColumn,
) -> Result<Vec<LiveColumn>> {
    let rows = rows.with_context(|| format!("cannot read the columns of {table}"))?;
    Ok(rows.iter().map(column).collect())
}

/// Adds a sampled boundary unless it repeats the last one or holds a NULL
/// (a NULL key bounds nothing).
pub fn push_boundary(out: &mut Vec<Boundary>, b: Boundary) {
    if out.last() != Some(&b) && b.iter().all(|v| *v != OwnedRaw::Null) {
        out.push(b);
    }
}

/// A column of the spec's table as the live database has it; `what` names
/// the column's role in the error (`column`, `key column`).
pub fn live_column<'a>(
    live: &'a [LiveColumn],
    spec: &ReadSpec,
    name: &str,
    what: &str,
) -> Result<&'a LiveColumn> {
    live.iter().find(|c| c.name == name).with_context(|| {
        format!(
            "{what} {name} of {} is missing from the live table",
            spec.table
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(where_clause: Option<&str>) -> ReadSpec {
        ReadSpec {
            schema: None,
            table: "t".into(),
            columns: vec!["a".into(), "b".into()],
            key: vec!["a".into(), "b".into()],
            where_clause: where_clause.map(str::to_string),
        }
    }

    #[test]
    fn quoting_and_where() {
        assert_eq!(Quote::Ansi.ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Quote::Backtick.ident("a`b"), "`a``b`");
        assert_eq!(Quote::Ansi.table_ref(Some("s"), "t"), "\"s\".\"t\"");
        assert_eq!(Quote::Backtick.table_ref(Some(""), "t"), "`t`");
        assert_eq!(Quote::Backtick.list(&spec(None).key), "`a`, `b`");
        assert_eq!(where_all(&spec(None), []), "");
        assert_eq!(
            where_all(&spec(Some("x > 1")), ["a > 2".to_string()]),
            " WHERE (x > 1) AND a > 2"
        );
        assert_eq!(filter(&spec(Some("x"))), " WHERE (x)");
        assert_eq!(
            quantiles(Quote::Ansi, &spec(None), "\"t\"", 10, 95),
            "SELECT \"a\", \"b\" FROM (SELECT \"a\", \"b\", ROW_NUMBER() OVER (ORDER BY \"a\", \"b\") AS parity_rn FROM \"t\") parity_q \
             WHERE parity_rn % 10 = 0 AND parity_rn < 95 ORDER BY parity_rn"
        );
    }
}
