//! The catalog fingerprint of a MySQL/MariaDB database, from
//! `information_schema`: tables and views, columns (position, type,
//! nullability, default, extra, collation), constraints (primary, unique,
//! foreign with their rules, CHECK), indexes (columns, prefix lengths,
//! uniqueness, type), triggers; and `AUTO_INCREMENT` counters in place of
//! sequences (`last_value` = the next value − 1, always "called"), which
//! `manifest::findings` holds to the sequence rule: a finding only when
//! the restored counter is behind.
//!
//! "public" (the default schema name) means the URL's database.

use anyhow::{Context, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{Executor, MySqlConnection, Row};

use crate::db::catalog::catalog_rows;
use crate::db::fingerprint::{Filter, Item, SequenceValue};

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The databases a filter names: "public" or none means the URL's.
async fn schemas(conn: &mut MySqlConnection, filter: &Filter) -> Result<Vec<String>> {
    let current: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await?;
    let current = current.context("the URL names no database; add /DATABASE to it")?;
    Ok(super::databases(&filter.schemas, &current))
}

fn qualified(schema: &str, current: &str, name: &str) -> String {
    if schema == current {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

fn text(r: &MySqlRow, i: usize) -> String {
    r.try_get::<Option<String>, _>(i)
        .ok()
        .flatten()
        .unwrap_or_default()
}

pub async fn read(
    conn: &mut MySqlConnection,
    filter: &Filter,
) -> Result<(Vec<Item>, Vec<SequenceValue>)> {
    // MySQL 8 caches table statistics (AUTO_INCREMENT among them) for a day.
    let _ = conn
        .execute("SET SESSION information_schema_stats_expiry = 0")
        .await;
    let dbs = schemas(conn, filter).await?;
    let current = dbs[0].clone();
    let mut items = Vec::new();
    let mut seqs = Vec::new();
    for db in &dbs {
        let keep = |t: &str| {
            let s = (db != &current).then_some(db.as_str());
            !filter.excludes(s, t)
        };
        let q = |o: &str| qualified(db, &current, o);

        for r in catalog_rows(&mut *conn, TABLES, db, "information_schema.TABLES").await? {
            let name = text(&r, 0);
            if !keep(&name) {
                continue;
            }
            let (kind, def) = if text(&r, 1).contains("VIEW") {
                ("view", squeeze(&text(&r, 4)))
            } else {
                (
                    "table",
                    format!("engine {} collation {}", text(&r, 2), text(&r, 3)),
                )
            };
            items.push(Item {
                kind: kind.into(),
                object: q(&name),
                definition: def,
            });
            if let Ok(next) = text(&r, 5).parse::<i64>() {
                seqs.push(SequenceValue {
                    name: format!("{}.auto_increment", q(&name)),
                    last_value: next - 1,
                    is_called: true,
                });
            }
        }

        for (kind, sql, view, definition) in PER_TABLE {
            for r in
                catalog_rows(&mut *conn, sql, db, &format!("information_schema.{view}")).await?
            {
                let t = text(&r, 0);
                if keep(&t) {
                    items.push(Item {
                        kind: kind.into(),
                        object: q(&format!("{t}.{}", text(&r, 1))),
                        definition: definition(&r),
                    });
                }
            }
        }
    }
    seqs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((items, seqs))
}

/// Everything but tables and views is an object of a table, read as rows
/// of (table, name, …): its kind, query, `information_schema` view and
/// definition.
type PerTable = (
    &'static str,
    &'static str,
    &'static str,
    fn(&MySqlRow) -> String,
);

const PER_TABLE: [PerTable; 4] = [
    ("column", COLUMNS, "COLUMNS", column_def),
    (
        "constraint",
        CONSTRAINTS,
        "TABLE_CONSTRAINTS",
        constraint_def,
    ),
    ("index", INDEXES, "STATISTICS", index_def),
    ("trigger", TRIGGERS, "TRIGGERS", trigger_def),
];

const TABLES: &str = "SELECT CAST(t.TABLE_NAME AS CHAR), CAST(t.TABLE_TYPE AS CHAR), CAST(t.ENGINE AS CHAR), \
        CAST(t.TABLE_COLLATION AS CHAR), CAST(v.VIEW_DEFINITION AS CHAR), \
        CAST(t.AUTO_INCREMENT AS CHAR) \
   FROM information_schema.TABLES t \
   LEFT JOIN information_schema.VIEWS v \
     ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME \
  WHERE t.TABLE_SCHEMA = ?";

const COLUMNS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), ORDINAL_POSITION, \
        CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), \
        CAST(EXTRA AS CHAR), CAST(COLLATION_NAME AS CHAR), CAST(GENERATION_EXPRESSION AS CHAR) \
   FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?";

fn column_def(r: &MySqlRow) -> String {
    let pos: i64 = r.try_get::<u64, _>(2).map(|v| v as i64).unwrap_or(0);
    let mut def = format!("#{pos} {}", text(r, 3));
    if text(r, 4) == "NO" {
        def.push_str(" not null");
    }
    if let Some(d) = r.try_get::<Option<String>, _>(5).ok().flatten() {
        def.push_str(&format!(" default {d}"));
    }
    for (label, i) in [("", 6), ("collate ", 7), ("generated ", 8)] {
        let v = text(r, i);
        if !v.is_empty() {
            def.push_str(&format!(" {label}{}", squeeze(&v)));
        }
    }
    def
}

/// Constraints: type, columns, and for foreign keys the target and rules.
const CONSTRAINTS: &str = "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.CONSTRAINT_NAME AS CHAR), CAST(c.CONSTRAINT_TYPE AS CHAR), \
        CAST((SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION) \
           FROM information_schema.KEY_COLUMN_USAGE k \
          WHERE k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
            AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME) AS CHAR), \
        CAST((SELECT CONCAT(MAX(k.REFERENCED_TABLE_NAME), '(', GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION), ')') \
           FROM information_schema.KEY_COLUMN_USAGE k \
          WHERE k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
            AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND k.REFERENCED_TABLE_NAME IS NOT NULL) AS CHAR), \
        CAST(rc.UPDATE_RULE AS CHAR), CAST(rc.DELETE_RULE AS CHAR), CAST(ck.CHECK_CLAUSE AS CHAR) \
   FROM information_schema.TABLE_CONSTRAINTS c \
   LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc \
     ON rc.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND rc.TABLE_NAME = c.TABLE_NAME \
    AND rc.CONSTRAINT_NAME = c.CONSTRAINT_NAME \
   LEFT JOIN information_schema.CHECK_CONSTRAINTS ck \
     ON ck.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND ck.TABLE_NAME = c.TABLE_NAME \
    AND ck.CONSTRAINT_NAME = c.CONSTRAINT_NAME \
  WHERE c.CONSTRAINT_SCHEMA = ?";

fn constraint_def(r: &MySqlRow) -> String {
    let mut def = format!("{} ({})", text(r, 2).to_ascii_lowercase(), text(r, 3));
    let refs = text(r, 4);
    if !refs.is_empty() {
        def.push_str(&format!(
            " references {refs} on update {} on delete {}",
            text(r, 5),
            text(r, 6)
        ));
    }
    let check = text(r, 7);
    if !check.is_empty() {
        def.push_str(&format!(" check {}", squeeze(&check)));
    }
    def
}

const INDEXES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), MAX(NON_UNIQUE), CAST(MAX(INDEX_TYPE) AS CHAR), \
        CAST(GROUP_CONCAT(CONCAT(COLUMN_NAME, IF(SUB_PART IS NULL, '', CONCAT('(', SUB_PART, ')')), \
                                 IF(COLLATION = 'D', ' desc', '')) ORDER BY SEQ_IN_INDEX) AS CHAR) \
   FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? GROUP BY TABLE_NAME, INDEX_NAME";

fn index_def(r: &MySqlRow) -> String {
    let non_unique: i64 = r.try_get::<i64, _>(2).unwrap_or(1);
    format!(
        "{}{} ({})",
        if non_unique == 0 { "unique " } else { "" },
        text(r, 3).to_ascii_lowercase(),
        text(r, 4)
    )
}

const TRIGGERS: &str = "SELECT CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(TRIGGER_NAME AS CHAR), CAST(ACTION_TIMING AS CHAR), \
        CAST(EVENT_MANIPULATION AS CHAR), CAST(ACTION_STATEMENT AS CHAR) \
   FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?";

fn trigger_def(r: &MySqlRow) -> String {
    format!(
        "{} {} {}",
        text(r, 2).to_ascii_lowercase(),
        text(r, 3).to_ascii_lowercase(),
        squeeze(&text(r, 4))
    )
}
