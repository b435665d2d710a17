//! Result order: which lists an operation returns in a defined order, and
//! whether the two sides return the same rows in the same order.
//!
//! Owns reading a statement's top-level `ORDER BY` into a sort key of
//! result columns (`ORDER BY 1`, a column, or an expression the select list
//! names), the sequence of rows each top-level list returned, and comparing
//! the two sides' sequences (issue 18):
//! - a list is compared in order when both sides' statements for its table
//!   have a top-level `ORDER BY` on the same columns. The directions may
//!   differ: `desc` against `asc` is exactly what the app would show the
//!   other way round. When the sides share only leading sort columns, the
//!   order is compared on those (with a note);
//! - rows whose sort keys are equal may come in either order: the sequences
//!   of sort-key values are compared, not the rows themselves;
//! - nested relations (Prisma's include as a second `IN (…)` query without
//!   `ORDER BY`, Drizzle's `json_agg` without `ORDER BY`) compare as sets:
//!   only a statement's top-level list is ordered, and a list only one side
//!   returns at top level has nothing to be compared with;
//! - `ordered = false` in the operation file turns order off; `ordered =
//!   true` requires it, on the sort key either side has, else on whole rows.
//!
//! Pure apart from what it is handed: no I/O.

use std::collections::BTreeSet;

use super::compare::render_key;
use super::sql::{self, Tok, order_items, select_items, show, unqualified};
use super::{Entity, Outcome, SideView, Target};
use crate::timing::exec::StmtResult;
use crate::timing::ops::ColumnRef;
use crate::timing::result::{Mismatch, MismatchKind};

/// One column of a sort key: the table column (table "" for an expression
/// column) a result is sorted by, and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortColumn {
    pub table: String,
    pub column: String,
    pub desc: bool,
}

impl SortColumn {
    fn same_column(&self, other: &SortColumn) -> bool {
        self.table == other.table && self.column == other.column
    }

    fn show(&self) -> String {
        let dir = if self.desc { "desc" } else { "asc" };
        if self.table.is_empty() {
            format!("{} {dir}", self.column)
        } else {
            format!("{}.{} {dir}", self.table, self.column)
        }
    }
}

/// The rows one top-level statement returned, in the order it returned them.
#[derive(Debug, Clone)]
pub struct OrderedList {
    /// The table whose rows the list holds ("" for expression columns).
    pub table: String,
    /// The statement's top-level `ORDER BY`: `None` when it has none,
    /// `Err(why)` when it has one that does not name returned columns.
    pub order_by: Option<Result<Vec<SortColumn>, String>>,
    pub rows: Vec<ListRow>,
}

/// One row of a list: the entity of the list's table, and every returned
/// cell as canonical bytes under (table, column).
#[derive(Debug, Clone)]
pub struct ListRow {
    pub entity: Entity,
    cells: Vec<(String, String, Vec<u8>)>,
}

impl ListRow {
    fn cell(&self, c: &SortColumn) -> Option<&[u8]> {
        self.cells
            .iter()
            .find(|(t, col, _)| *t == c.table && *col == c.column)
            .map(|(_, _, v)| v.as_slice())
    }
}

/// The list one statement returned, with its sort key. `None` when the
/// statement returns nothing to order (no columns, or only nested JSON).
pub fn list(
    view: &SideView<'_>,
    sql: &str,
    res: &StmtResult,
    ignore: &[ColumnRef],
) -> Option<OrderedList> {
    if res.columns.is_empty() {
        return None;
    }
    let targets = super::resolve(view, sql, &res.columns);
    let toks = sql::tokens(sql);
    let order_by = order_items(&toks).map(|items| {
        items
            .iter()
            .map(|(expr, desc)| {
                let i = result_column(expr, &toks, &targets, res).ok_or_else(|| {
                    format!("ORDER BY {} is not among the returned columns", show(expr))
                })?;
                match &targets[i] {
                    Target::Field { table, column, .. } => Ok(SortColumn {
                        table: table.clone(),
                        column: column.clone(),
                        desc: *desc,
                    }),
                    Target::Expr { name, .. } => Ok(SortColumn {
                        table: String::new(),
                        column: name.clone(),
                        desc: *desc,
                    }),
                    Target::Nested(_) => Err(format!(
                        "ORDER BY {} sorts by a nested relation",
                        show(expr)
                    )),
                }
            })
            .collect::<Result<Vec<_>, String>>()
    });
    let table = match &order_by {
        Some(Ok(k)) if !k.is_empty() => k[0].table.clone(),
        _ => targets.iter().find_map(|t| match t {
            Target::Field { table, .. } => Some(table.clone()),
            Target::Expr { .. } => Some(String::new()),
            Target::Nested(_) => None,
        })?,
    };
    let mut buf = Vec::new();
    let rows = res
        .rows
        .iter()
        .map(|row| {
            let mut cells = Vec::new();
            let mut values = Vec::new();
            for (val, target) in row.iter().zip(&targets) {
                let (t, c, canon) = match target {
                    Target::Field {
                        table,
                        column,
                        canon,
                    } => (table.as_str(), column.as_str(), canon),
                    Target::Expr { name, canon } => ("", name.as_str(), canon),
                    Target::Nested(_) => continue,
                };
                buf.clear();
                crate::canon::encode(&val.as_raw(), canon, &mut buf);
                if t == table && !ignore.iter().any(|r| r.matches(t, c)) {
                    values.push((c.to_string(), buf.clone()));
                }
                cells.push((t.to_string(), c.to_string(), buf.clone()));
            }
            values.sort();
            ListRow {
                entity: Entity {
                    table: table.clone(),
                    values,
                },
                cells,
            }
        })
        .collect();
    Some(OrderedList {
        table,
        order_by,
        rows,
    })
}

/// The index of the result column an `ORDER BY` item sorts by.
fn result_column(expr: &[Tok], all: &[Tok], targets: &[Target], res: &StmtResult) -> Option<usize> {
    // `ORDER BY 2`: the second result column.
    if let [Tok::Num(n)] = expr {
        let n: usize = n.parse().ok()?;
        return (1..=targets.len()).contains(&n).then(|| n - 1);
    }
    // `"schema"."table"."column"`, `"alias"."column"` or `"column"`.
    let is_name = |t: &Tok| matches!(t, Tok::Ident(_) | Tok::Word(_));
    let path = expr.len() % 2 == 1
        && expr.iter().enumerate().all(|(i, t)| {
            if i % 2 == 0 {
                is_name(t)
            } else {
                *t == Tok::Sym('.')
            }
        });
    if path {
        let name = |t: &Tok| match t {
            Tok::Ident(s) | Tok::Word(s) => s.clone(),
            _ => String::new(),
        };
        let column = name(&expr[expr.len() - 1]);
        let qualifier = (expr.len() >= 3).then(|| name(&expr[expr.len() - 3]));
        let field = |want_table: bool| {
            targets.iter().position(|t| match t {
                Target::Field {
                    table, column: c, ..
                } => {
                    *c == column
                        && (!want_table
                            || qualifier.as_deref().is_none_or(|q| {
                                table == q || crate::mapping::split_qualified(table).1 == q
                            }))
                }
                _ => false,
            })
        };
        return field(true)
            .or_else(|| field(false))
            .or_else(|| res.columns.iter().position(|c| c.name == column));
    }
    // An expression the select list names: `ORDER BY date_trunc(…)` for
    // `date_trunc(…) AS "month"`, qualifiers aside.
    let want = unqualified(expr);
    let name = select_items(all)
        .into_iter()
        .find(|(e, _)| unqualified(e) == want)?
        .1?;
    res.columns.iter().position(|c| c.name == name)
}

/// Compares the order of the lists both sides return for the same table.
/// `ordered`: the operation file's override (`None`: infer from the SQL).
/// `key_of(table)` names a row in a mismatch (the primary key).
pub fn compare(
    ordered: Option<bool>,
    source: &[OrderedList],
    target: &[OrderedList],
    key_of: &dyn Fn(&str) -> Vec<String>,
) -> Outcome {
    let mut out = Outcome::default();
    if ordered == Some(false) {
        return out;
    }
    let forced = ordered == Some(true);
    let mut seen = BTreeSet::new();
    for s in source {
        if !seen.insert(s.table.clone()) {
            continue;
        }
        let Some(t) = target.iter().find(|t| t.table == s.table) else {
            continue;
        };
        let label = if s.table.is_empty() {
            "(expression columns)".to_string()
        } else {
            s.table.clone()
        };
        let shown = |k: &[SortColumn]| {
            k.iter()
                .map(SortColumn::show)
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The sort key compared on; `None`: whole rows (forced only).
        let key: Option<Vec<SortColumn>> = match (&s.order_by, &t.order_by) {
            (Some(Ok(ks)), Some(Ok(kt))) => {
                let common: Vec<SortColumn> = ks
                    .iter()
                    .zip(kt)
                    .take_while(|(a, b)| a.same_column(b))
                    .map(|(a, _)| a.clone())
                    .collect();
                if common.is_empty() {
                    if !forced {
                        out.notes.insert(format!(
                            "{label}: the sides sort by different columns (source {}, target {}); \
                             order not compared (ordered = true compares whole rows)",
                            shown(ks),
                            shown(kt)
                        ));
                        continue;
                    }
                    None
                } else {
                    if common.len() < ks.len().max(kt.len()) {
                        out.notes.insert(format!(
                            "{label}: order compared on the sort columns both sides share ({}); \
                             source sorts by {}, target by {}",
                            common
                                .iter()
                                .map(|c| c.column.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            shown(ks),
                            shown(kt)
                        ));
                    }
                    Some(common)
                }
            }
            (Some(Err(why)), _) | (_, Some(Err(why))) => {
                if !forced {
                    out.notes
                        .insert(format!("{label}: order not compared: {why}"));
                    continue;
                }
                None
            }
            (Some(Ok(k)), None) | (None, Some(Ok(k))) => {
                if !forced {
                    out.notes.insert(format!(
                        "{label}: only the {} sorts its rows ({}); order not compared \
                         (ordered = true requires it)",
                        if s.order_by.is_some() {
                            "source"
                        } else {
                            "target"
                        },
                        shown(k)
                    ));
                    continue;
                }
                Some(k.clone())
            }
            (None, None) => {
                if !forced {
                    continue;
                }
                None
            }
        };
        // A key column one side does not return: compare whole rows.
        let key = key.filter(|k| {
            let has =
                |l: &OrderedList| l.rows.iter().all(|r| k.iter().all(|c| r.cell(c).is_some()));
            has(s) && has(t)
        });
        let common_cols: BTreeSet<&str> = {
            fn cols(l: &OrderedList) -> BTreeSet<&str> {
                l.rows
                    .first()
                    .map(|r| r.entity.values.iter().map(|(c, _)| c.as_str()).collect())
                    .unwrap_or_default()
            }
            let (a, b) = (cols(s), cols(t));
            a.intersection(&b).copied().collect()
        };
        let row_key = |r: &ListRow| -> Vec<Vec<u8>> {
            match &key {
                Some(k) => k
                    .iter()
                    .map(|c| r.cell(c).unwrap_or_default().to_vec())
                    .collect(),
                None => r
                    .entity
                    .values
                    .iter()
                    .filter(|(c, _)| common_cols.contains(c.as_str()))
                    .map(|(_, v)| v.clone())
                    .collect(),
            }
        };
        let n = s.rows.len().max(t.rows.len());
        let parted = (0..n).find(|&i| match (s.rows.get(i), t.rows.get(i)) {
            (Some(a), Some(b)) => row_key(a) != row_key(b),
            _ => true,
        });
        if let Some(i) = parted
            && out.mismatch.is_none()
        {
            let pk = key_of(&s.table);
            let at = |l: &OrderedList| {
                l.rows
                    .get(i)
                    .map_or("(no row)".to_string(), |r| render_key(&r.entity, &pk))
            };
            out.mismatch = Some(Mismatch {
                table: label,
                source_rows: s.rows.len(),
                target_rows: t.rows.len(),
                only_in_source: 0,
                only_in_target: 0,
                first_keys: vec![at(s), at(t)],
                columns: key.iter().flatten().map(|c| c.column.clone()).collect(),
                kind: MismatchKind::Order,
                position: Some(i + 1),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sql: &str) -> Vec<(String, bool)> {
        order_items(&sql::tokens(sql))
            .unwrap_or_default()
            .into_iter()
            .map(|(e, d)| (show(&e), d))
            .collect()
    }

    #[test]
    fn reads_the_top_level_order_by() {
        // Prisma: qualified columns, OFFSET after.
        assert_eq!(
            items(
                r#"SELECT "public"."bikes"."id" FROM "public"."bikes" WHERE x = $1 ORDER BY "public"."bikes"."created_at" DESC, "public"."bikes"."id" ASC OFFSET $2"#
            ),
            vec![
                ("public.bikes.created_at".into(), true),
                ("public.bikes.id".into(), false)
            ]
        );
        // An ORDER BY inside a subquery or an aggregate is not the list's.
        assert!(
            items(
                r#"select "id", (select json_agg(x order by y) from t) from "bikes" where a = $1"#
            )
            .is_empty()
        );
        assert_eq!(
            items("SELECT a FROM (SELECT a FROM t ORDER BY b) s ORDER BY 1 NULLS LAST LIMIT 5"),
            vec![("1".into(), false)]
        );
        assert_eq!(
            items(
                "select date_trunc('month', \"t\".\"at\") as \"month\" from t group by 1 order by date_trunc('month', \"t\".\"at\") desc nulls first"
            ),
            vec![("date_trunc(…,t.at)".into(), true)]
        );
    }

    #[test]
    fn an_expression_sorts_by_the_column_the_select_list_names_it() {
        let sql = "select date_trunc('month', \"occurred_at\") as \"month\", sum(\"amount\") as \"revenue\" from \"transactions\" group by 1 order by date_trunc('month', \"transactions\".\"occurred_at\")";
        let t = sql::tokens(sql);
        let sel = select_items(&t);
        assert_eq!(sel.len(), 2);
        assert_eq!(sel[0].1.as_deref(), Some("month"));
        let (expr, _) = &order_items(&t).unwrap()[0];
        assert_eq!(unqualified(expr), unqualified(&sel[0].0));
        assert_ne!(unqualified(expr), unqualified(&sel[1].0));
    }

    fn row(cells: &[(&str, &str, u8)]) -> ListRow {
        ListRow {
            entity: Entity {
                table: "t".into(),
                values: cells
                    .iter()
                    .filter(|(t, _, _)| *t == "t")
                    .map(|(_, c, v)| (c.to_string(), vec![*v]))
                    .collect(),
            },
            cells: cells
                .iter()
                .map(|(t, c, v)| (t.to_string(), c.to_string(), vec![*v]))
                .collect(),
        }
    }

    fn list(order_by: Option<Vec<SortColumn>>, rows: &[(u8, u8)]) -> OrderedList {
        OrderedList {
            table: "t".into(),
            order_by: order_by.map(Ok),
            rows: rows
                .iter()
                .map(|(id, k)| row(&[("t", "id", *id), ("t", "k", *k)]))
                .collect(),
        }
    }

    fn by_k(desc: bool) -> Option<Vec<SortColumn>> {
        Some(vec![SortColumn {
            table: "t".into(),
            column: "k".into(),
            desc,
        }])
    }

    fn cmp1(ordered: Option<bool>, s: &OrderedList, t: &OrderedList) -> Outcome {
        let key = |_: &str| vec!["id".to_string()];
        compare(
            ordered,
            std::slice::from_ref(s),
            std::slice::from_ref(t),
            &key,
        )
    }

    #[test]
    fn sequences_compare_by_sort_key_with_ties_free() {
        // Ties (k = 1) in another order: the same.
        let s = list(by_k(false), &[(1, 1), (2, 1), (3, 2)]);
        let t = list(by_k(false), &[(2, 1), (1, 1), (3, 2)]);
        assert!(cmp1(None, &s, &t).mismatch.is_none());
        // Reversed: parts at position 1, named by key.
        let r = list(by_k(true), &[(3, 2), (1, 1), (2, 1)]);
        let m = cmp1(None, &s, &r).mismatch.unwrap();
        assert_eq!((m.kind, m.position), (MismatchKind::Order, Some(1)));
        assert_eq!(m.first_keys.len(), 2);
        assert!(
            m.describe().starts_with("same rows, different order in t"),
            "{}",
            m.describe()
        );
        // ordered = false: sets.
        assert!(cmp1(Some(false), &s, &r).mismatch.is_none());
        // Only one side sorts: not inferred, a note; ordered = true requires it.
        let unsorted = list(None, &[(3, 2), (1, 1), (2, 1)]);
        let o = cmp1(None, &s, &unsorted);
        assert!(o.mismatch.is_none());
        assert!(
            o.notes.iter().any(|n| n.contains("only the source sorts")),
            "{:?}",
            o.notes
        );
        let o = cmp1(Some(true), &s, &unsorted);
        assert_eq!(o.mismatch.unwrap().position, Some(1));
        // Neither sorts: nothing to compare unless forced (then whole rows).
        let a = list(None, &[(1, 1), (2, 1)]);
        let b = list(None, &[(2, 1), (1, 1)]);
        assert!(cmp1(None, &a, &b).mismatch.is_none());
        assert!(cmp1(Some(true), &a, &b).mismatch.is_some());
    }
}
