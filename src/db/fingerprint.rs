//! The catalog fingerprint and sequence values of a database, read inside a
//! snapshot: what `backup` and `manifest` compare besides the rows.
//!
//! Owns the SQL that lists, per object, a definition that survives a dump
//! and restore unchanged: tables and views, columns (position among live
//! columns, type, nullability, default, identity, generated, collation),
//! constraints (`pg_get_constraintdef`), indexes (`pg_get_indexdef`),
//! triggers, enum and domain types, sequence definitions; and the current
//! value of each sequence (`pg_sequences.last_value`; SQLite's
//! `sqlite_sequence`). Owners, privileges, OIDs and storage are left out:
//! a restore may legitimately change them. It does not compare: that is
//! `manifest::findings`.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::Worker;
use crate::mapping::split_qualified;

/// One catalog object and its definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Item {
    /// `table`, `view`, `column`, `constraint`, `index`, `trigger`, `type`, `sequence`.
    pub kind: String,
    /// Qualified name (`public` left out), e.g. `bikes`, `bikes.id`, `bikes.bikes_pkey`.
    pub object: String,
    pub definition: String,
}

/// Every object of the selected schemas, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub items: Vec<Item>,
}

impl Fingerprint {
    /// blake3 over every item, hex: equal fingerprints have equal hashes.
    pub fn hash(&self) -> String {
        let mut h = blake3::Hasher::new();
        for i in &self.items {
            for part in [&i.kind, &i.object, &i.definition] {
                h.update(&(part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        h.finalize().to_hex().to_string()
    }
}

/// A sequence's current state, as `SELECT last_value, is_called FROM seq`
/// gives it (SQLite: `sqlite_sequence.seq`, always called).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceValue {
    pub name: String,
    pub last_value: i64,
    /// False after `setval(…, false)` or before the first `nextval`: the
    /// next value handed out is `last_value` itself.
    pub is_called: bool,
}

impl SequenceValue {
    /// Orders states by progress for ascending sequences: a called value
    /// is past the same value not yet called.
    pub fn progress(&self) -> (i64, bool) {
        (self.last_value, self.is_called)
    }

    pub fn display(&self) -> String {
        if self.is_called {
            self.last_value.to_string()
        } else {
            format!("{} (not called)", self.last_value)
        }
    }
}

/// What to leave out: tables by name (bare, or schema-qualified).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub schemas: Vec<String>,
    pub exclude: Vec<String>,
}

impl Filter {
    /// Whether `table` (schema, name) is excluded.
    pub fn excludes(&self, schema: Option<&str>, table: &str) -> bool {
        self.exclude.iter().any(|e| {
            let (s, t) = split_qualified(e);
            (t == table && crate::mapping::schema_matches(schema, s)) || e == table
        })
    }
}

fn qualified(schema: &str, name: &str) -> String {
    if schema == "public" || schema.is_empty() {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

/// Reads the fingerprint and the sequences through a session of a snapshot.
pub async fn read(
    worker: &mut Worker,
    filter: &Filter,
) -> Result<(Fingerprint, Vec<SequenceValue>)> {
    let (mut items, seqs) = match worker {
        Worker::Postgres(c) => read_pg(c, filter).await,
        Worker::Sqlite(s) => read_sqlite(&mut **s.conn.lock().await, filter).await,
        Worker::Mysql(w) => super::mysql::fingerprint::read(w.conn(), filter).await,
    }
    .context("cannot read the catalog fingerprint")?;
    items.sort();
    items.dedup();
    Ok((Fingerprint { items }, seqs))
}

async fn read_pg(
    conn: &mut sqlx::PgConnection,
    filter: &Filter,
) -> Result<(Vec<Item>, Vec<SequenceValue>)> {
    let schemas: Vec<String> = if filter.schemas.is_empty() {
        vec!["public".to_string()]
    } else {
        filter.schemas.clone()
    };
    let mut items = Vec::new();
    let keep = |schema: &str, table: &str| {
        let s = (schema != "public").then_some(schema);
        !filter.excludes(s, table)
    };

    let rows = super::catalog::catalog_rows(
        &mut *conn,
        "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text,
                CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                COALESCE(pg_get_partkeydef(c.oid), '')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        &schemas,
        "pg_class",
    )
    .await?;
    for r in rows {
        let (schema, rel): (String, String) = (r.get(0), r.get(1));
        if !keep(&schema, &rel) {
            continue;
        }
        let kind: String = r.get(2);
        let view: Option<String> = r.get(4);
        let partkey: String = r.get(5);
        let (k, def) = match kind.as_str() {
            "v" => ("view", view.unwrap_or_default()),
            "m" => ("view", format!("materialized {}", view.unwrap_or_default())),
            "p" => ("table", format!("partitioned {partkey}")),
            "f" => ("table", "foreign".to_string()),
            _ => (
                "table",
                if r.get::<String, _>(3) == "u" {
                    "unlogged"
                } else {
                    ""
                }
                .to_string(),
            ),
        };
        items.push(Item {
            kind: k.into(),
            object: qualified(&schema, &rel),
            definition: squeeze(&def),
        });
    }

    let rows = super::catalog::catalog_rows(
        &mut *conn,
        "SELECT n.nspname::text, c.relname::text, a.attname::text,
                row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)::int8,
                format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
                CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           LEFT JOIN pg_collation co ON co.oid = a.attcollation
          WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            AND a.attnum > 0 AND NOT a.attisdropped",
        &schemas,
        "pg_attribute",
    )
    .await?;
    for r in rows {
        let (schema, rel, col): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        if !keep(&schema, &rel) {
            continue;
        }
        let position: i64 = r.get(3);
        let ty: String = r.get(4);
        let mut def = format!("#{position} {ty}");
        if r.get::<bool, _>(5) {
            def.push_str(" not null");
        }
        let default: Option<String> = r.get(6);
        let identity: String = r.get(7);
        let generated: String = r.get(8);
        let collation: Option<String> = r.get(9);
        match (generated.as_str(), default) {
            ("s", Some(e)) => def.push_str(&format!(" generated always as ({e}) stored")),
            (_, Some(e)) => def.push_str(&format!(" default {e}")),
            _ => {}
        }
        match identity.as_str() {
            "a" => def.push_str(" generated always as identity"),
            "d" => def.push_str(" generated by default as identity"),
            _ => {}
        }
        if let Some(c) = collation {
            def.push_str(&format!(" collate {c}"));
        }
        items.push(Item {
            kind: "column".into(),
            object: format!("{}.{col}", qualified(&schema, &rel)),
            definition: def,
        });
    }

    // Objects of a table: (its catalog, its name, its definition, how it
    // joins its table `c`, what else narrows it).
    for (kind, catalog, name, definition, join, only) in [
        (
            "constraint",
            "pg_constraint",
            "con.conname",
            "pg_get_constraintdef(con.oid)",
            "pg_constraint con JOIN pg_class c ON c.oid = con.conrelid",
            "",
        ),
        (
            "index",
            "pg_index",
            "i.relname",
            // A failed CREATE INDEX CONCURRENTLY leaves an index nothing uses.
            "pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' (INVALID)' END",
            "pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid",
            "",
        ),
        (
            "trigger",
            "pg_trigger",
            "tg.tgname",
            "pg_get_triggerdef(tg.oid) || ' (enabled ' || tg.tgenabled::text || ')'",
            "pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid",
            " AND NOT tg.tgisinternal",
        ),
    ] {
        let sql = format!(
            "SELECT n.nspname::text, c.relname::text, {name}::text, {definition}
               FROM {join} JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1){only}"
        );
        for r in super::catalog::catalog_rows(&mut *conn, &sql, &schemas, catalog).await? {
            let (schema, rel, name): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            if keep(&schema, &rel) {
                items.push(Item {
                    kind: kind.into(),
                    object: format!("{}.{name}", qualified(&schema, &rel)),
                    definition: r.get(3),
                });
            }
        }
    }

    let rows = super::catalog::catalog_rows(&mut *conn, "SELECT n.nspname::text, t.typname::text,
                CASE t.typtype
                  WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(e.enumlabel::text), ', ' ORDER BY e.enumsortorder)
                                            FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                  ELSE 'domain ' || format_type(t.typbasetype, t.typtypmod)
                       || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                END
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = ANY($1) AND t.typtype IN ('e', 'd')", &schemas, "pg_type").await?;
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        items.push(Item {
            kind: "type".into(),
            object: qualified(&schema, &name),
            definition: r.get::<Option<String>, _>(2).unwrap_or_default(),
        });
    }

    let rows = super::catalog::catalog_rows(
        &mut *conn,
        "SELECT schemaname::text, sequencename::text, format_type(data_type, NULL),
                start_value, min_value, max_value, increment_by, cycle
           FROM pg_sequences
          WHERE schemaname = ANY($1)
          ORDER BY 1, 2",
        &schemas,
        "pg_sequences",
    )
    .await?;
    let mut seqs = Vec::new();
    for r in rows {
        let name = qualified(&r.get::<String, _>(0), &r.get::<String, _>(1));
        items.push(Item {
            kind: "sequence".into(),
            object: name.clone(),
            definition: format!(
                "{} start {} min {} max {} increment {}{}",
                r.get::<String, _>(2),
                r.get::<i64, _>(3),
                r.get::<i64, _>(4),
                r.get::<i64, _>(5),
                r.get::<i64, _>(6),
                if r.get::<bool, _>(7) { " cycle" } else { "" }
            ),
        });
        // Read from the sequence itself: not transactional, so this is the
        // value at this moment, not at the snapshot's (pg_sequences would
        // hide a value set with `setval(…, false)`).
        let schema: String = r.get(0);
        let seq: String = r.get(1);
        let (last_value, is_called): (i64, bool) = sqlx::query_as(&format!(
            "SELECT last_value, is_called FROM {}",
            super::postgres::table_ref(Some(&schema), &seq)
        ))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("reading sequence {name}"))?;
        seqs.push(SequenceValue {
            name,
            last_value,
            is_called,
        });
    }
    Ok((items, seqs))
}

async fn read_sqlite(
    conn: &mut sqlx::SqliteConnection,
    filter: &Filter,
) -> Result<(Vec<Item>, Vec<SequenceValue>)> {
    let rows = sqlx::query(
        "SELECT type, name, tbl_name, sql FROM sqlite_master
          WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .fetch_all(&mut *conn)
    .await
    .context("reading sqlite_master")?;
    let mut items = Vec::new();
    let mut tables = Vec::new();
    for r in rows {
        let (kind, name, table): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        if filter.excludes(None, &table) {
            continue;
        }
        let sql: Option<String> = r.get(3);
        let object = if kind == "table" || kind == "view" {
            name.clone()
        } else {
            format!("{table}.{name}")
        };
        if kind == "table" {
            tables.push(name.clone());
        }
        items.push(Item {
            kind,
            object,
            definition: sql
                .map(|s| squeeze(&s))
                .unwrap_or_else(|| "(automatic)".into()),
        });
    }
    for t in &tables {
        let cols = sqlx::query(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
        )
        .bind(t)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("reading PRAGMA table_info({t})"))?;
        for c in cols {
            let name: String = c.get(1);
            let mut def = format!("#{} {}", c.get::<i64, _>(0) + 1, c.get::<String, _>(2));
            if c.get::<i64, _>(3) != 0 {
                def.push_str(" not null");
            }
            if let Some(d) = c.get::<Option<String>, _>(4) {
                def.push_str(&format!(" default {d}"));
            }
            let pk: i64 = c.get(5);
            if pk > 0 {
                def.push_str(&format!(" primary key #{pk}"));
            }
            items.push(Item {
                kind: "column".into(),
                object: format!("{t}.{name}"),
                definition: def,
            });
        }
    }
    let has_seq: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut seqs = Vec::new();
    if has_seq > 0 {
        let rows = sqlx::query("SELECT name, seq FROM sqlite_sequence ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .context("reading sqlite_sequence")?;
        for r in rows {
            let name: String = r.get(0);
            if !filter.excludes(None, &name) {
                seqs.push(SequenceValue {
                    name,
                    last_value: r.get(1),
                    is_called: true,
                });
            }
        }
    }
    Ok((items, seqs))
}

/// Collapses runs of whitespace, so reformatted but equal SQL compares equal.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_match_bare_and_qualified_names() {
        let f = Filter {
            schemas: vec![],
            exclude: vec!["audit".into(), "shop.logs".into()],
        };
        assert!(f.excludes(None, "audit"));
        assert!(f.excludes(Some("shop"), "logs"));
        assert!(!f.excludes(None, "logs"));
        assert!(!f.excludes(None, "bikes"));
    }

    #[test]
    fn the_hash_depends_on_every_field() {
        let item = |k: &str, o: &str, d: &str| Item {
            kind: k.into(),
            object: o.into(),
            definition: d.into(),
        };
        let a = Fingerprint {
            items: vec![item("index", "t.i", "x")],
        };
        let b = Fingerprint {
            items: vec![item("index", "t.i", "y")],
        };
        let c = Fingerprint {
            items: vec![item("index", "t.ix", "")],
        };
        assert_ne!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.hash(), a.clone().hash());
    }
}
