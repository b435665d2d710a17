//! The database's own statement statistics, for `parity observe`: a
//! read-only session, one cumulative snapshot of PostgreSQL's
//! `pg_stat_statements`, and the query identifier PostgreSQL computes for a
//! captured statement.
//!
//! Owns every piece of SQL `observe` sends. It sends nothing that writes:
//! the session starts with `default_transaction_read_only = on`, so every
//! statement runs in a read-only transaction without a `BEGIN`/`COMMIT`
//! pair that would itself show up in the statistics. Each statement it
//! sends carries the comment [`MARKER`] after its first keyword, which
//! `pg_stat_statements` keeps in the recorded text, so `observe` can tell
//! its own statements from the application's.
//!
//! The window arithmetic and the attribution live in `timing::observe`.

use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions as _, Connection, Row};

use crate::config::DbUrl;

/// Written into every statement `observe` sends.
pub const MARKER: &str = "/* parity:observe */";

/// What to do when the statistics are not there: one line, the whole fix.
pub const ENABLE_HINT: &str = "add shared_preload_libraries = 'pg_stat_statements' and compute_query_id = on to postgresql.conf, restart the server, then run CREATE EXTENSION pg_stat_statements; in this database (the role needs pg_read_all_stats to see other roles' statements)";

/// A statistics snapshot file (`observe --save`), also the in-memory form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatSnapshot {
    /// Always `parity-observe-snapshot`.
    pub format: String,
    pub version: u32,
    /// `postgresql`.
    pub dialect: String,
    /// Redacted location: scheme, host, port, database.
    pub database: String,
    /// The server's clock when the snapshot was read, RFC 3339, and as Unix seconds.
    pub taken_at: String,
    pub taken_at_unix: f64,
    /// `pg_stat_statements_info.stats_reset` (PostgreSQL 14+): a reset
    /// between two snapshots makes the window meaningless.
    pub stats_reset: Option<String>,
    pub server_version_num: i32,
    /// Whether planning time is recorded (`pg_stat_statements.track_planning`).
    pub track_planning: bool,
    pub entries: Vec<StatEntry>,
}

/// One row of `pg_stat_statements` (cumulative since the entry was made).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatEntry {
    pub queryid: i64,
    pub userid: i64,
    pub toplevel: bool,
    /// The normalised text PostgreSQL recorded (constants as `$n`; never values).
    pub query: String,
    pub calls: i64,
    pub total_exec_ms: f64,
    pub mean_exec_ms: f64,
    /// Population standard deviation, as `pg_stat_statements` keeps it.
    pub stddev_exec_ms: f64,
    pub rows: i64,
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
    pub temp_blks_read: i64,
    pub temp_blks_written: i64,
    pub plans: i64,
    pub total_plan_ms: f64,
}

/// A read-only session on the observed database.
pub struct StatsSession {
    conn: PgConnection,
    pub database: String,
    pub server_version_num: i32,
    pub track_planning: bool,
}

impl StatsSession {
    /// Connects read-only and checks that `pg_stat_statements` can be read;
    /// if not, the error says how to enable it.
    pub async fn open(url: &DbUrl) -> Result<StatsSession> {
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            bail!(
                "observe reads PostgreSQL's pg_stat_statements; {} is not a PostgreSQL URL (MariaDB/MySQL is not supported by observe yet)",
                url.redacted()
            );
        }
        let opts = PgConnectOptions::from_str(url.expose())
            .map_err(|e| {
                anyhow::anyhow!(
                    "invalid database URL {}: {}",
                    url.redacted(),
                    crate::db::scrub(&e.to_string(), url)
                )
            })?
            .application_name("parity")
            .options([
                ("default_transaction_read_only", "on"),
                ("statement_timeout", "60000"),
                ("TimeZone", "UTC"),
            ])
            .disable_statement_logging();
        let mut conn = PgConnection::connect_with(&opts).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to {}: {}",
                url.redacted(),
                crate::db::scrub(&e.to_string(), url)
            )
        })?;
        let row = sqlx::raw_sql(&format!(
            "SELECT {MARKER} current_setting('server_version_num')::int, \
             EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'), \
             coalesce(current_setting('pg_stat_statements.track_planning', true), 'off'), \
             current_setting('compute_query_id'), current_database()::text, \
             current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'"
        ))
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("cannot read the settings of {}", url.redacted()))?;
        let server_version_num: i32 = row.try_get(0)?;
        let installed: bool = row.try_get(1)?;
        let track_planning: String = row.try_get(2)?;
        let compute_query_id: String = row.try_get(3)?;
        let name: String = row.try_get(4)?;
        let preloaded: bool = row.try_get(5)?;
        if server_version_num < 130000 {
            bail!(
                "observe needs PostgreSQL 13 or later ({} runs {}); upgrade, or compare with `parity timing` in staging",
                url.redacted(),
                server_version_num
            );
        }
        if !installed && preloaded {
            bail!(
                "pg_stat_statements is loaded but not installed in database {name}: run CREATE EXTENSION pg_stat_statements; in that database (the role needs pg_read_all_stats to see other roles' statements)"
            );
        }
        if !installed {
            bail!("pg_stat_statements is not installed in database {name}: {ENABLE_HINT}");
        }
        if compute_query_id == "off" {
            bail!(
                "compute_query_id is off on {}: statements have no query id; set compute_query_id = on (or auto with pg_stat_statements preloaded)",
                url.redacted()
            );
        }
        let mut s = StatsSession {
            conn,
            database: url.redacted(),
            server_version_num,
            track_planning: track_planning == "on",
        };
        // The view errors when the library is not preloaded.
        if let Err(e) = sqlx::raw_sql(&format!(
            "SELECT {MARKER} count(*) FROM pg_stat_statements LIMIT 1"
        ))
        .execute(&mut s.conn)
        .await
        {
            bail!(
                "pg_stat_statements cannot be read in database {name} ({}): {ENABLE_HINT}",
                first_line(&e.to_string())
            );
        }
        Ok(s)
    }

    /// One cumulative snapshot of this database's statements.
    pub async fn snapshot(&mut self) -> Result<StatSnapshot> {
        let toplevel = if self.server_version_num >= 140000 {
            "s.toplevel"
        } else {
            "true"
        };
        let reset = if self.server_version_num >= 140000 {
            "(SELECT stats_reset::text FROM pg_stat_statements_info)"
        } else {
            "NULL::text"
        };
        let sql = format!(
            "SELECT {MARKER} coalesce(s.queryid, 0)::int8, s.userid::int8, {toplevel}, coalesce(s.query, ''), \
             s.calls::int8, s.total_exec_time::float8, s.mean_exec_time::float8, s.stddev_exec_time::float8, \
             s.rows::int8, s.shared_blks_hit::int8, s.shared_blks_read::int8, s.temp_blks_read::int8, \
             s.temp_blks_written::int8, s.plans::int8, s.total_plan_time::float8, \
             to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
             extract(epoch FROM now())::float8, {reset} \
             FROM pg_stat_statements s \
             WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        );
        let rows = sqlx::raw_sql(&sql)
            .fetch_all(&mut self.conn)
            .await
            .context("cannot read pg_stat_statements")?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut taken_at = String::new();
        let mut taken_at_unix = 0.0;
        let mut stats_reset = None;
        for r in &rows {
            taken_at = r.try_get(15)?;
            taken_at_unix = r.try_get(16)?;
            stats_reset = r.try_get(17)?;
            entries.push(StatEntry {
                queryid: r.try_get(0)?,
                userid: r.try_get(1)?,
                toplevel: r.try_get(2)?,
                query: r.try_get(3)?,
                calls: r.try_get(4)?,
                total_exec_ms: r.try_get(5)?,
                mean_exec_ms: r.try_get(6)?,
                stddev_exec_ms: r.try_get(7)?,
                rows: r.try_get(8)?,
                shared_blks_hit: r.try_get(9)?,
                shared_blks_read: r.try_get(10)?,
                temp_blks_read: r.try_get(11)?,
                temp_blks_written: r.try_get(12)?,
                plans: r.try_get(13)?,
                total_plan_ms: r.try_get(14)?,
            });
        }
        if rows.is_empty() {
            let r = sqlx::raw_sql(&format!(
                "SELECT {MARKER} to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), extract(epoch FROM now())::float8"
            ))
            .fetch_one(&mut self.conn)
            .await?;
            taken_at = r.try_get(0)?;
            taken_at_unix = r.try_get(1)?;
        }
        Ok(StatSnapshot {
            format: "parity-observe-snapshot".into(),
            version: 1,
            dialect: "postgresql".into(),
            database: self.database.clone(),
            taken_at,
            taken_at_unix,
            stats_reset,
            server_version_num: self.server_version_num,
            track_planning: self.track_planning,
            entries,
        })
    }

    /// The query identifier PostgreSQL gives `sql` (placeholders `$1…$arity`,
    /// their types inferred as for a client that sends untyped parameters,
    /// as node-postgres does): `PREPARE` it and read `Query Identifier` from
    /// `EXPLAIN (VERBOSE) EXECUTE` (PostgreSQL 15 has no `GENERIC_PLAN`).
    /// Nothing is executed. `Err` carries PostgreSQL's reason.
    pub async fn query_id(&mut self, sql: &str, arity: usize) -> Result<i64, String> {
        let name = "parity_observe_q";
        let _ = sqlx::raw_sql(&format!("DEALLOCATE {name}"))
            .execute(&mut self.conn)
            .await;
        sqlx::raw_sql(&format!("PREPARE {name} AS {sql}"))
            .execute(&mut self.conn)
            .await
            .map_err(|e| first_line(&e.to_string()))?;
        let args = if arity == 0 {
            String::new()
        } else {
            format!("({})", vec!["NULL"; arity].join(", "))
        };
        let plan = sqlx::raw_sql(&format!(
            "EXPLAIN {MARKER} (VERBOSE, COSTS OFF) EXECUTE {name}{args}"
        ))
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| first_line(&e.to_string()));
        let _ = sqlx::raw_sql(&format!("DEALLOCATE {name}"))
            .execute(&mut self.conn)
            .await;
        let lines = plan?;
        for r in &lines {
            let line: String = r.try_get(0).map_err(|e| e.to_string())?;
            if let Some(id) = line.trim().strip_prefix("Query Identifier:") {
                return id
                    .trim()
                    .parse()
                    .map_err(|_| format!("unreadable query identifier {id:?}"));
            }
        }
        Err("EXPLAIN printed no Query Identifier (is compute_query_id on?)".into())
    }

    /// The oid of a role, for attributing statements by who ran them.
    pub async fn role_oid(&mut self, role: &str) -> Result<i64> {
        let rows = sqlx::raw_sql(&format!(
            "SELECT {MARKER} oid::int8 FROM pg_roles WHERE rolname = '{}'",
            role.replace('\'', "''")
        ))
        .fetch_all(&mut self.conn)
        .await
        .context("cannot read pg_roles")?;
        match rows.first() {
            Some(r) => Ok(r.try_get(0)?),
            None => bail!(
                "there is no role \"{role}\" on {}; pass the role the ORM connects as (SELECT rolname FROM pg_roles lists them)",
                self.database
            ),
        }
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// Reads a snapshot file written by `observe --save`.
pub fn load_snapshot(path: &std::path::Path) -> Result<StatSnapshot> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the snapshot file {}", path.display()))?;
    let s: StatSnapshot = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a parity observe snapshot ({e}); take one with `parity observe --save FILE`",
            path.display()
        )
    })?;
    if s.format != "parity-observe-snapshot" || s.version != 1 {
        bail!(
            "{} is a {} version {} file, not a parity observe snapshot version 1; take a new one with `parity observe --save FILE`",
            path.display(),
            s.format,
            s.version
        );
    }
    Ok(s)
}
