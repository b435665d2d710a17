//! Live catalog → [`crate::mapping::Mapping`] with raw database semantics,
//! and the server's default time zone.
//!
//! Owns the catalog SQL of each backend: PostgreSQL's `pg_catalog`
//! (`format_type()`, `pg_index`, `pg_enum`), MySQL's `information_schema`
//! (`COLUMN_TYPE`, `STATISTICS`) and SQLite's `PRAGMA table_info` /
//! `index_list`. Types are normalised like the mappings' so they compare
//! directly. Every read runs in a read-only transaction. It does not judge
//! what it reads: `plan::findings` compares.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use sqlx::Row;

use super::Db;
use crate::mapping::drizzle::normalize_column_type;
use crate::mapping::{Column, Dialect, EnumDef, EnumValue, Mapping, Orm, ReadMode, Table};

/// The rows of a catalog query with one bound argument (PostgreSQL: the
/// schemas as `$1`; MySQL: the database as `?`); the error names `what` it
/// read. The one catalog row loop every backend's catalog reads share.
pub(super) async fn catalog_rows<'c, E, A>(
    conn: E,
    sql: &'c str,
    arg: A,
    what: &str,
) -> Result<Vec<<E::Database as sqlx::Database>::Row>>
where
    E: sqlx::Executor<'c>,
    A: 'c + sqlx::Encode<'c, E::Database> + sqlx::Type<E::Database> + Send,
    <E::Database as sqlx::Database>::Arguments<'c>: sqlx::IntoArguments<'c, E::Database>,
{
    sqlx::query::<E::Database>(sql)
        .bind(arg)
        .fetch_all(conn)
        .await
        .with_context(|| format!("reading {what}"))
}

/// Reads tables, views, columns, keys, uniques and enums of `schemas`
/// (PostgreSQL schemas, MySQL databases; empty means the connection's
/// default: `public` / `DATABASE()`; ignored on SQLite).
pub async fn read_catalog(db: &Db, schemas: &[String]) -> Result<Mapping> {
    let m = match db {
        Db::Postgres(pool) => read_pg(pool, schemas).await,
        Db::Mysql(pool) => read_mysql(pool, schemas).await,
        Db::Sqlite(pool) => read_sqlite(pool).await,
    };
    m.context("cannot read the database catalog")
}

fn catalog_column(name: String, db_type: String, nullable: bool, has_default: bool) -> Column {
    Column {
        field: name.clone(),
        name,
        is_list: db_type.ends_with("[]"),
        db_type,
        nullable,
        enum_name: None,
        read: ReadMode::Raw,
        has_default,
        is_updated_at: false,
    }
}

fn new_table(schema: Option<String>, name: String, is_view: bool) -> Table {
    Table {
        schema,
        logical: name.clone(),
        name,
        is_view,
        columns: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
    }
}

/// Where table (schema, name) sits in `m.tables`, added when first seen.
fn table_at(
    m: &mut Mapping,
    index: &mut Tables,
    schema: Option<String>,
    name: String,
    is_view: bool,
) -> usize {
    *index
        .entry((schema.clone(), name.clone()))
        .or_insert_with(|| {
            m.tables.push(new_table(schema, name, is_view));
            m.tables.len() - 1
        })
}

/// Tables seen so far, by (schema, name).
type Tables = BTreeMap<(Option<String>, String), usize>;

fn empty(dialect: Dialect) -> Mapping {
    Mapping {
        orm: Orm::Catalog,
        dialect,
        tables: Vec::new(),
        enums: Vec::new(),
        notes: Vec::new(),
    }
}

/// `public` is the default schema: tables there are unqualified, as in the
/// ORM mappings.
fn pg_schema(s: String) -> Option<String> {
    if s == "public" { None } else { Some(s) }
}

async fn read_pg(pool: &sqlx::PgPool, schemas: &[String]) -> Result<Mapping> {
    let schemas: Vec<String> = if schemas.is_empty() {
        vec!["public".to_string()]
    } else {
        schemas.to_vec()
    };
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    let mut m = empty(Dialect::Postgres);

    let rows = catalog_rows(
        &mut *tx,
        "SELECT n.nspname::text AS schema, t.typname::text AS name, e.enumlabel::text AS label
           FROM pg_enum e
           JOIN pg_type t ON t.oid = e.enumtypid
           JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = ANY($1)
          ORDER BY n.nspname, t.typname, e.enumsortorder",
        &schemas,
        "pg_enum",
    )
    .await?;
    for r in rows {
        let schema = pg_schema(r.try_get("schema")?);
        let name: String = r.try_get("name")?;
        let label: String = r.try_get("label")?;
        let value = EnumValue {
            name: label.clone(),
            db_name: label,
        };
        match m
            .enums
            .iter_mut()
            .find(|e| e.name == name && e.schema == schema)
        {
            Some(e) => e.values.push(value),
            None => m.enums.push(EnumDef {
                name: name.clone(),
                db_name: name,
                schema,
                values: vec![value],
            }),
        }
    }

    let rows = catalog_rows(
        &mut *tx,
        "SELECT n.nspname::text AS schema, c.relname::text AS tbl, c.relkind::text AS kind,
                a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS fmt,
                a.attnotnull AS notnull,
                (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS has_default,
                t.typtype::text AS typtype, t.typname::text AS typname,
                et.typtype::text AS elem_typtype, et.typname::text AS elem_typname
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY($1)
            AND NOT c.relispartition
          ORDER BY n.nspname, c.relname, a.attnum",
        &schemas,
        "pg_attribute",
    )
    .await?;
    let mut index = Tables::new();
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let i = table_at(
            &mut m,
            &mut index,
            pg_schema(r.try_get("schema")?),
            r.try_get("tbl")?,
            kind == "v" || kind == "m",
        );
        let fmt: String = r.try_get("fmt")?;
        let typtype: String = r.try_get("typtype")?;
        let typname: String = r.try_get("typname")?;
        let elem_typtype: Option<String> = r.try_get("elem_typtype")?;
        let elem_typname: Option<String> = r.try_get("elem_typname")?;
        let notnull: bool = r.try_get("notnull")?;
        let mut c = catalog_column(
            r.try_get("col")?,
            normalize_column_type(&fmt),
            !notnull,
            r.try_get("has_default")?,
        );
        if typtype == "e" {
            c.db_type = typname.clone();
            c.enum_name = Some(typname);
        } else if elem_typtype.as_deref() == Some("e")
            && let Some(elem) = elem_typname
        {
            c.db_type = format!("{elem}[]");
            c.is_list = true;
            c.enum_name = Some(elem);
        }
        m.tables[i].columns.push(c);
    }

    let rows = catalog_rows(
        &mut *tx,
        "SELECT n.nspname::text AS schema, c.relname::text AS tbl, i.indisprimary AS is_pk,
                ARRAY(SELECT a.attname::text
                        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                       WHERE k.ord <= i.indnkeyatts
                       ORDER BY k.ord) AS cols,
                (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AS partial
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE (i.indisprimary OR i.indisunique) AND n.nspname = ANY($1)
          ORDER BY n.nspname, c.relname, i.indisprimary DESC, i.indexrelid",
        &schemas,
        "pg_index",
    )
    .await?;
    for r in rows {
        let schema = pg_schema(r.try_get("schema")?);
        let tbl: String = r.try_get("tbl")?;
        let Some(&i) = index.get(&(schema, tbl)) else {
            continue;
        };
        let cols: Vec<String> = r.try_get("cols")?;
        let partial: bool = r.try_get("partial")?;
        if r.try_get::<bool, _>("is_pk")? {
            m.tables[i].primary_key = cols;
        } else if !partial && !cols.is_empty() && !m.tables[i].uniques.contains(&cols) {
            m.tables[i].uniques.push(cols);
        }
    }
    tx.commit().await?;
    Ok(m)
}

async fn read_mysql(pool: &sqlx::MySqlPool, schemas: &[String]) -> Result<Mapping> {
    let mut tx = pool.begin_with("START TRANSACTION READ ONLY").await?;
    let current: Option<String> = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
        .fetch_one(&mut *tx)
        .await?;
    let current = current.unwrap_or_default();
    let schemas = super::mysql::databases(schemas, &current);
    let schema_of = |s: String| if s == current { None } else { Some(s) };
    let mut m = empty(Dialect::Mysql);
    let mut index = Tables::new();
    for db_name in &schemas {
        let rows = catalog_rows(
            &mut *tx,
            "SELECT CAST(c.TABLE_SCHEMA AS CHAR) AS sch, CAST(c.TABLE_NAME AS CHAR) AS tbl,
                    CAST(t.TABLE_TYPE AS CHAR) AS kind, CAST(c.COLUMN_NAME AS CHAR) AS col,
                    CAST(c.COLUMN_TYPE AS CHAR) AS ty, CAST(c.IS_NULLABLE AS CHAR) AS nullable,
                    CAST((c.COLUMN_DEFAULT IS NOT NULL AND c.COLUMN_DEFAULT <> 'NULL')
                         OR c.EXTRA LIKE '%auto_increment%'
                         OR c.EXTRA LIKE '%GENERATED%' AS SIGNED) AS has_default
               FROM information_schema.COLUMNS c
               JOIN information_schema.TABLES t
                 ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
              WHERE c.TABLE_SCHEMA = ?
              ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
            db_name,
            "information_schema.COLUMNS",
        )
        .await?;
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let i = table_at(
                &mut m,
                &mut index,
                schema_of(r.try_get("sch")?),
                r.try_get("tbl")?,
                kind.contains("VIEW"),
            );
            let ty: String = r.try_get("ty")?;
            let nullable: String = r.try_get("nullable")?;
            let has_default: i64 = r.try_get("has_default")?;
            m.tables[i].columns.push(catalog_column(
                r.try_get("col")?,
                normalize_column_type(&ty),
                nullable == "YES",
                has_default != 0,
            ));
        }
        let rows = catalog_rows(
            &mut *tx,
            "SELECT CAST(TABLE_SCHEMA AS CHAR) AS sch, CAST(TABLE_NAME AS CHAR) AS tbl,
                    CAST(INDEX_NAME AS CHAR) AS idx, CAST(NON_UNIQUE AS SIGNED) AS non_unique,
                    CAST(COLUMN_NAME AS CHAR) AS col
               FROM information_schema.STATISTICS
              WHERE TABLE_SCHEMA = ?
              ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            db_name,
            "information_schema.STATISTICS",
        )
        .await?;
        let mut indexes: BTreeMap<(usize, String), (bool, Vec<String>)> = BTreeMap::new();
        for r in rows {
            let schema = schema_of(r.try_get("sch")?);
            let tbl: String = r.try_get("tbl")?;
            let Some(&i) = index.get(&(schema, tbl)) else {
                continue;
            };
            let non_unique: i64 = r.try_get("non_unique")?;
            if non_unique != 0 {
                continue;
            }
            let idx: String = r.try_get("idx")?;
            // Functional key parts have no column name.
            let col: Option<String> = r.try_get("col")?;
            let entry = indexes
                .entry((i, idx.clone()))
                .or_insert_with(|| (idx == "PRIMARY", Vec::new()));
            match col {
                Some(c) => entry.1.push(c),
                None => entry.1.push(String::new()),
            }
        }
        for ((i, _), (primary, cols)) in indexes {
            if cols.iter().any(String::is_empty) {
                continue;
            }
            if primary {
                m.tables[i].primary_key = cols;
            } else if !m.tables[i].uniques.contains(&cols) {
                m.tables[i].uniques.push(cols);
            }
        }
    }
    tx.commit().await?;
    Ok(m)
}

async fn read_sqlite(pool: &sqlx::SqlitePool) -> Result<Mapping> {
    let mut tx = pool.begin().await?;
    let mut m = empty(Dialect::Sqlite);
    let tables = sqlx::query(
        "SELECT name, type FROM sqlite_master
          WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'
          ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await
    .context("reading sqlite_master")?;
    for t in tables {
        let name: String = t.try_get("name")?;
        let kind: String = t.try_get("type")?;
        let mut table = new_table(None, name.clone(), kind == "view");
        let cols = sqlx::query(
            "SELECT name, type, \"notnull\" AS nn, dflt_value IS NOT NULL AS has_default, pk
               FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *tx)
        .await
        .with_context(|| format!("reading PRAGMA table_info({name})"))?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in cols {
            let cname: String = c.try_get("name")?;
            let ty: String = c.try_get("type")?;
            let nn: i64 = c.try_get("nn")?;
            let p: i64 = c.try_get("pk")?;
            let has_default: bool = c.try_get("has_default")?;
            if p > 0 {
                pk.push((p, cname.clone()));
            }
            let integer_pk = p > 0 && ty.eq_ignore_ascii_case("integer");
            table.columns.push(catalog_column(
                cname,
                normalize_column_type(&ty),
                nn == 0 && p == 0,
                has_default || integer_pk,
            ));
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        if kind == "table" {
            let idx = sqlx::query(
                "SELECT name, \"unique\" AS uq, origin, partial FROM pragma_index_list(?)",
            )
            .bind(&name)
            .fetch_all(&mut *tx)
            .await
            .with_context(|| format!("reading PRAGMA index_list({name})"))?;
            for i in idx {
                let iname: String = i.try_get("name")?;
                let uq: i64 = i.try_get("uq")?;
                let origin: String = i.try_get("origin")?;
                let partial: i64 = i.try_get("partial")?;
                if uq == 0 || origin == "pk" || partial != 0 {
                    continue;
                }
                let cols: Vec<Option<String>> =
                    sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                        .bind(&iname)
                        .fetch_all(&mut *tx)
                        .await?;
                if cols.iter().any(Option::is_none) || cols.is_empty() {
                    continue;
                }
                let cols: Vec<String> = cols.into_iter().flatten().collect();
                if !table.uniques.contains(&cols) {
                    table.uniques.push(cols);
                }
            }
        }
        m.tables.push(table);
    }
    tx.commit().await?;
    Ok(m)
}

/// The time zone a client gets when it sets none: what Prisma's adapter
/// reads `timestamptz` in. `None` when unknown or not applicable.
///
/// parity's own sessions run in UTC (a startup option), so `pg_settings`
/// shows that; the server default comes from, in PostgreSQL's precedence,
/// a per-role-and-database setting, a per-role one, a per-database one,
/// the configuration file, and the built-in default.
pub async fn server_default_timezone(db: &Db) -> Option<String> {
    match db {
        Db::Postgres(pool) => pg_default_timezone(pool).await.ok().flatten(),
        Db::Mysql(pool) => {
            let mut tx = pool.begin_with("START TRANSACTION READ ONLY").await.ok()?;
            let tz: Option<String> = sqlx::query_scalar(
                "SELECT CAST(IF(@@global.time_zone = 'SYSTEM', @@system_time_zone, @@global.time_zone) AS CHAR)",
            )
            .fetch_one(&mut *tx)
            .await
            .ok()?;
            let _ = tx.commit().await;
            tz
        }
        Db::Sqlite(_) => None,
    }
}

async fn pg_default_timezone(pool: &sqlx::PgPool) -> Result<Option<String>> {
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    let row =
        sqlx::query("SELECT reset_val, source, boot_val FROM pg_settings WHERE name = 'TimeZone'")
            .fetch_one(&mut *tx)
            .await?;
    let reset_val: String = row.try_get("reset_val")?;
    let source: String = row.try_get("source")?;
    let boot_val: String = row.try_get("boot_val")?;
    if !matches!(source.as_str(), "client" | "session") {
        // Nothing of ours overrides it: this is what every client gets.
        tx.commit().await?;
        return Ok(Some(reset_val));
    }
    let per_role_db: Option<String> = sqlx::query_scalar(
        "SELECT split_part(cfg, '=', 2)
           FROM pg_db_role_setting s, unnest(s.setconfig) AS cfg
          WHERE lower(split_part(cfg, '=', 1)) = 'timezone'
            AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
            AND (s.setrole = 0 OR s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user))
          ORDER BY (s.setdatabase <> 0 AND s.setrole <> 0) DESC, (s.setrole <> 0) DESC
          LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(tz) = per_role_db {
        tx.commit().await?;
        return Ok(Some(tz));
    }
    // pg_file_settings needs pg_read_all_settings; without it the default is unknown.
    let file: Result<Option<String>, _> = sqlx::query_scalar(
        "SELECT setting FROM pg_file_settings
          WHERE lower(name) = 'timezone' AND applied
          ORDER BY seqno DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await;
    let _ = tx.rollback().await;
    match file {
        Ok(Some(tz)) => Ok(Some(tz)),
        Ok(None) => Ok(Some(boot_val)),
        Err(_) => Ok(None),
    }
}
