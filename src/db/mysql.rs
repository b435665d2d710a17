//! MySQL and MariaDB: one consistent view across reader sessions, live
//! columns with their collations, exact key quantiles as chunk boundaries,
//! and chunk reads over the text protocol decoded into typed values.
//!
//! # One consistent view
//!
//! MySQL cannot hand a snapshot to another session, so parity does what the
//! dump tools do. The coordinator takes a short global lock (`BACKUP STAGE
//! START` + `BACKUP STAGE BLOCK_COMMIT` on MariaDB, `FLUSH TABLES WITH READ
//! LOCK` on MySQL or when BACKUP STAGE is refused); every reader session then
//! runs `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`; the lock is
//! released. All readers see the same committed state ([`SnapshotMode::Locked`]).
//!
//! Without the privilege for the lock (RELOAD), each reader takes its own
//! snapshot ([`SnapshotMode::PerWorker`]). A chunk read by readers that do not
//! share a snapshot, and that shows differences, is read again on both sides
//! in one fresh snapshot (one session when both sides are one database), and
//! only what persists is reported (`engine` does the re-read). A reader that
//! replaces a lost connection is in the same position in either mode.
//!
//! # Collations
//!
//! Chunk boundaries and chunk membership use the key's own collation, so
//! the primary-key index serves every chunk; both sides must then have the
//! same collation on each text key column ([`check_key_collations`]). Rows
//! are merge-joined in byte order (`engine::digest` sorts each chunk by its
//! exact key bytes), so keys that are equal under a case-, accent- or
//! pad-insensitive collation but differ in bytes (`'a'`/`'A'`, `'x'`/`'x '`)
//! land in the same chunk on both sides and are reported as a missing and an
//! extra row, never merged.
//!
//! # Values
//!
//! Chunks are read over the text protocol (what `mysql2`'s `query` uses) and
//! each field is typed from the live column: integers as `Int` (BIGINT
//! UNSIGNED above 2^63-1 as exact decimal text), DECIMAL as `Numeric`,
//! FLOAT/DOUBLE as `Float`, DATETIME as a wall-clock `Timestamp`, TIMESTAMP
//! as an instant (sessions run with `time_zone = '+00:00'`), DATE, TIME,
//! JSON (MySQL's type, or MariaDB's LONGTEXT with a `json_valid` check) as
//! `Json`, binary strings as `Bytes`, everything else as `Text`. Zero dates
//! (`0000-00-00`) and out-of-range TIME values stay `Text`, so a reading that
//! needs a date calls them unreadable.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use futures::TryStreamExt;
use sqlx::mysql::{MySql, MySqlConnection, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Executor, MySqlPool, Row};

use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::{Boundary, LiveColumn, ReadSpec};

/// The pseudo key column of a keyless table: read in one chunk.
pub const NO_KEY: &str = "";

/// Quotes an identifier: `` `a``b` ``.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

pub fn table_ref(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) if !s.is_empty() => format!("{}.{}", ident(s), ident(table)),
        _ => ident(table),
    }
}

/// How the readers of one side came to share (or not) a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// A global lock was held while every reader started its snapshot.
    Locked(LockKind),
    /// Each reader has its own snapshot; differences are re-read.
    PerWorker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    BackupStage,
    FlushTables,
}

impl SnapshotMode {
    /// For reports.
    pub fn describe(self) -> &'static str {
        match self {
            SnapshotMode::Locked(LockKind::BackupStage) => {
                "locked (BACKUP STAGE BLOCK_COMMIT while every reader started START TRANSACTION WITH CONSISTENT SNAPSHOT): all readers share one view"
            }
            SnapshotMode::Locked(LockKind::FlushTables) => {
                "locked (FLUSH TABLES WITH READ LOCK while every reader started START TRANSACTION WITH CONSISTENT SNAPSHOT): all readers share one view"
            }
            SnapshotMode::PerWorker => {
                "per-worker (no privilege for a global lock): each reader has its own snapshot; chunks with differences were re-read in one fresh snapshot and only persisting differences kept"
            }
        }
    }
}

/// Reader sessions that started their snapshots under the lock, waiting to
/// be handed out; a reader goes back here when dropped.
type Stash = Arc<Mutex<Vec<PoolConnection<MySql>>>>;

pub struct MySnapshot {
    pub pool: MySqlPool,
    pub mode: SnapshotMode,
    /// The binary-log position of the view, read while the lock was held
    /// (without the lock: at the start, approximate), or `binary logging
    /// off`. A dump that records the same position holds the same data.
    pub position: String,
    stash: Stash,
    /// Chunks re-read in a fresh snapshot (reported).
    pub rechecked: std::sync::atomic::AtomicU64,
}

/// A reader session. `shared` is true when it reads in the snapshot every
/// other shared reader has.
pub struct MyWorker {
    conn: Option<PoolConnection<MySql>>,
    stash: Option<Stash>,
    pub shared: bool,
    pub broken: bool,
}

impl Drop for MyWorker {
    fn drop(&mut self) {
        if let (Some(c), Some(stash), false) = (self.conn.take(), &self.stash, self.broken)
            && let Ok(mut s) = stash.lock()
        {
            s.push(c);
        }
    }
}

impl MyWorker {
    pub fn conn(&mut self) -> &mut MySqlConnection {
        self.conn.as_mut().expect("a live reader session")
    }
}

async fn session_setup(conn: &mut MySqlConnection) -> Result<()> {
    // A pooled session may still be inside an earlier transaction.
    conn.execute("ROLLBACK")
        .await
        .context("cannot reset a reader session")?;
    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .context("cannot set REPEATABLE READ")?;
    // Best effort: MariaDB's and MySQL's statement timeouts differ.
    let _ = conn.execute("SET SESSION max_statement_time = 600").await;
    Ok(())
}

async fn start_snapshot(conn: &mut MySqlConnection) -> Result<()> {
    conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .await
        .context("cannot start a consistent-snapshot transaction")?;
    Ok(())
}

fn is_mariadb(version: &str) -> bool {
    version.to_ascii_lowercase().contains("mariadb")
}

impl MySnapshot {
    /// Opens `readers` sessions in one view (see the module docs).
    /// `PARITY_MYSQL_NO_LOCK=1` skips the lock, as a user without RELOAD.
    pub async fn begin(pool: &MySqlPool, readers: usize) -> Result<MySnapshot> {
        let mut coord = pool
            .acquire()
            .await
            .context("cannot open the coordinating session")?;
        let version: String = sqlx::query_scalar("SELECT VERSION()")
            .fetch_one(&mut *coord)
            .await
            .context("cannot read the server version")?;
        let no_lock = std::env::var("PARITY_MYSQL_NO_LOCK").is_ok_and(|v| v == "1");
        let mut lock = None;
        if !no_lock {
            if is_mariadb(&version)
                && coord.execute("BACKUP STAGE START").await.is_ok()
                && coord.execute("BACKUP STAGE BLOCK_COMMIT").await.is_ok()
            {
                lock = Some(LockKind::BackupStage);
            } else {
                let _ = coord.execute("BACKUP STAGE END").await;
                if coord.execute("FLUSH TABLES WITH READ LOCK").await.is_ok() {
                    lock = Some(LockKind::FlushTables);
                }
            }
        }
        let position = binlog_position(&mut coord, &version).await;
        let mut sessions = Vec::new();
        let opened: Result<()> = async {
            for _ in 0..readers.max(1) {
                let mut c = pool
                    .acquire()
                    .await
                    .context("cannot open a reader session")?;
                session_setup(&mut c).await?;
                if lock.is_some() {
                    start_snapshot(&mut c).await?;
                }
                sessions.push(c);
            }
            Ok(())
        }
        .await;
        match lock {
            Some(LockKind::BackupStage) => {
                let _ = coord.execute("BACKUP STAGE END").await;
            }
            Some(LockKind::FlushTables) => {
                let _ = coord.execute("UNLOCK TABLES").await;
            }
            None => {}
        }
        opened?;
        drop(coord);
        Ok(MySnapshot {
            pool: pool.clone(),
            position: if lock.is_some() {
                position
            } else {
                format!("{position} (approximate: no lock held)")
            },
            mode: match lock {
                Some(k) => SnapshotMode::Locked(k),
                None => SnapshotMode::PerWorker,
            },
            stash: Arc::new(Mutex::new(if lock.is_some() {
                sessions
            } else {
                Vec::new()
            })),
            rechecked: Default::default(),
        })
    }

    /// A reader: one that started under the lock while any is left, else
    /// a fresh session with its own snapshot.
    pub async fn worker(&self) -> Result<MyWorker> {
        if let Some(c) = self.stash.lock().ok().and_then(|mut s| s.pop()) {
            return Ok(MyWorker {
                conn: Some(c),
                stash: Some(self.stash.clone()),
                shared: true,
                broken: false,
            });
        }
        self.fresh_worker().await
    }

    /// A session with its own, new snapshot (re-reads, replacements).
    pub async fn fresh_worker(&self) -> Result<MyWorker> {
        let mut c = self
            .pool
            .acquire()
            .await
            .context("cannot open a reader session")?;
        session_setup(&mut c).await?;
        start_snapshot(&mut c).await?;
        Ok(MyWorker {
            conn: Some(c),
            stash: None,
            shared: false,
            broken: false,
        })
    }

    pub async fn end(self) {
        let sessions: Vec<_> = self
            .stash
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for mut c in sessions {
            let _ = c.execute("ROLLBACK").await;
        }
    }
}

/// What a MySQL backup check against a manifest proves, for the report.
pub fn manifest_proof_note(position: &str) -> String {
    let tail = if position.starts_with("binary logging off") {
        "binary logging is off on the source, so the dump's position cannot be compared:          the proof holds only if no write committed between the manifest and the dump          (writes quiesced, or both taken from a stopped replica)"
    } else {
        "the proof holds for a dump that recorded the same binlog/GTID position          (mariadb-dump --single-transaction --master-data=2 writes it into the dump),          or with writes quiesced between the two"
    };
    format!(
        "MySQL/MariaDB: a manifest cannot share a snapshot with mariadb-dump; the manifest was read at {position}; {tail}"
    )
}

/// `binlog FILE:POS, gtid G`, or `binary logging off`.
async fn binlog_position(conn: &mut MySqlConnection, version: &str) -> String {
    let on: i64 = sqlx::query_scalar("SELECT CAST(@@log_bin AS SIGNED)")
        .fetch_one(&mut *conn)
        .await
        .unwrap_or(0);
    if on == 0 {
        return "binary logging off".to_string();
    }
    let file_pos = sqlx::query("SHOW MASTER STATUS")
        .fetch_optional(&mut *conn)
        .await
        .ok()
        .flatten()
        .map(|r| {
            let file: String = r.try_get(0).unwrap_or_default();
            let pos: u64 = r.try_get(1).unwrap_or_default();
            format!("{file}:{pos}")
        })
        .unwrap_or_else(|| "unknown".into());
    let gtid_var = if is_mariadb(version) {
        "@@gtid_current_pos"
    } else {
        "@@gtid_executed"
    };
    let gtid: String = sqlx::query_scalar(&format!("SELECT CAST({gtid_var} AS CHAR)"))
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_default();
    format!("binlog {file_pos}, gtid {gtid}")
}

/// Live columns of a table, in ordinal order. `cast_type` holds the
/// collation of a text column (empty for other types).
pub async fn columns(
    conn: &mut MySqlConnection,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<LiveColumn>> {
    let rows = sqlx::query(
        "SELECT CAST(c.COLUMN_NAME AS CHAR), CAST(LOWER(c.DATA_TYPE) AS CHAR), \
                CAST(LOWER(c.COLUMN_TYPE) AS CHAR), CAST(COALESCE(c.COLLATION_NAME, '') AS CHAR), \
                c.IS_NULLABLE = 'NO', \
                EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k \
                        WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
                          AND REPLACE(LOWER(k.CHECK_CLAUSE), ' ', '') LIKE CONCAT('%json_valid(`', LOWER(c.COLUMN_NAME), '`)%')) \
         FROM information_schema.COLUMNS c \
         WHERE c.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND c.TABLE_NAME = ? \
         ORDER BY c.ORDINAL_POSITION",
    )
    .bind(schema.filter(|s| !s.is_empty()))
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .with_context(|| format!("cannot read the columns of {table}"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let data_type: String = r.get(1);
            let column_type: String = r.get(2);
            let is_json: bool = r.get::<i64, _>(5) != 0 || data_type == "json";
            LiveColumn {
                name: r.get(0),
                type_name: if is_json {
                    "json".to_string()
                } else {
                    column_type
                },
                cast_type: r.get(3),
                wire: Wire::Text,
                cast_to_text: false,
                not_null: r.get::<i64, _>(4) != 0,
            }
        })
        .collect())
}

/// The base type of a live column (`bigint unsigned` → `bigint`).
fn base_type(type_name: &str) -> &str {
    let t = type_name.split(['(', ' ']).next().unwrap_or(type_name);
    t.trim()
}

/// How a field of this column is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Decimal,
    Float,
    DateTime,
    Timestamp,
    Date,
    Time,
    Json,
    Bytes,
    Text,
}

pub fn kind_of(type_name: &str) -> Kind {
    match base_type(type_name) {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => Kind::Int,
        "decimal" | "numeric" => Kind::Decimal,
        "float" | "double" | "real" => Kind::Float,
        "datetime" => Kind::DateTime,
        "timestamp" => Kind::Timestamp,
        "date" => Kind::Date,
        "time" => Kind::Time,
        "json" => Kind::Json,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bit" => {
            Kind::Bytes
        }
        _ => Kind::Text,
    }
}

/// One text-protocol field as a typed value.
pub fn decode(kind: Kind, f: &[u8]) -> OwnedRaw {
    let text = || String::from_utf8_lossy(f).into_owned();
    let s = || std::str::from_utf8(f).unwrap_or("");
    match kind {
        Kind::Int => match s().parse::<i64>() {
            Ok(v) => OwnedRaw::Int(v),
            Err(_) => OwnedRaw::Numeric(text()),
        },
        Kind::Decimal => OwnedRaw::Numeric(text()),
        Kind::Float => match s().parse::<f64>() {
            Ok(v) => OwnedRaw::Float(v),
            Err(_) => OwnedRaw::Text(text()),
        },
        Kind::DateTime => {
            parse_datetime(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Timestamp)
        }
        Kind::Timestamp => {
            parse_datetime(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::TimestampTz)
        }
        Kind::Date => parse_date(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Date),
        Kind::Time => parse_time(s()).map_or_else(|| OwnedRaw::Text(text()), OwnedRaw::Time),
        Kind::Json => OwnedRaw::Json(text()),
        Kind::Bytes => OwnedRaw::Bytes(f.to_vec()),
        Kind::Text => OwnedRaw::Text(text()),
    }
}

/// `YYYY-MM-DD` → days since 1970-01-01; None for zero dates (`0000-00-00`,
/// `2024-00-10`) and anything else MySQL allows but a calendar does not.
pub fn parse_date(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    if s.len() != 10 {
        return None;
    }
    Some((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` → µs since epoch, wall clock as UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let days = parse_date(s.get(..10)?)?;
    if s.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    let tod = parse_time(s.get(11..)?)?;
    if tod >= 86_400_000_000 {
        return None;
    }
    Some(i64::from(days) * 86_400_000_000 + tod)
}

/// `HH:MM:SS[.ffffff]` within a day → µs since midnight; negative and
/// 24h-or-more TIME values (MySQL's durations) are None.
pub fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut it = hms.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let sec: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || hms.starts_with('-') || !(0..24).contains(&h) || m > 59 || sec > 59 {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let us: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + us)
}

fn filter(spec: &ReadSpec) -> String {
    spec.where_clause
        .as_deref()
        .map(|w| format!(" WHERE ({w})"))
        .unwrap_or_default()
}

fn keyless(spec: &ReadSpec) -> bool {
    spec.key.is_empty() || spec.key.iter().all(|k| k == NO_KEY)
}

/// Exact quantiles of the key in its own order (the collation's for text):
/// every `chunk_rows`-th key, via `ROW_NUMBER()` over the key index.
pub async fn boundaries(
    conn: &mut MySqlConnection,
    spec: &ReadSpec,
    chunk_rows: usize,
) -> Result<(Vec<Boundary>, u64)> {
    let t = table_ref(spec.schema.as_deref(), &spec.table);
    let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}{}", filter(spec)))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("cannot count {}", spec.table))?;
    if keyless(spec) || count as usize <= chunk_rows {
        return Ok((Vec::new(), count as u64));
    }
    let live = columns(conn, spec.schema.as_deref(), &spec.table).await?;
    let kinds = key_kinds(spec, &live)?;
    let keys = spec
        .key
        .iter()
        .map(|k| ident(k))
        .collect::<Vec<_>>()
        .join(", ");
    // Integers come back as text on this protocol; the kinds type them.
    let sql = format!(
        "SELECT {keys} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {keys}) AS parity_rn FROM {t}{}) parity_q \
         WHERE parity_rn % {chunk_rows} = 0 AND parity_rn < {count} ORDER BY parity_rn",
        filter(spec)
    );
    let mut out = Vec::new();
    let mut stream = sqlx::raw_sql(&sql).fetch(&mut *conn);
    while let Some(r) = stream
        .try_next()
        .await
        .with_context(|| format!("cannot split {} into chunks", spec.table))?
    {
        let b: Boundary = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| match field(&r, i) {
                None => OwnedRaw::Null,
                Some(f) => match k {
                    Kind::Int => match std::str::from_utf8(f).ok().and_then(|s| s.parse().ok()) {
                        Some(v) => OwnedRaw::Int(v),
                        None => OwnedRaw::Text(String::from_utf8_lossy(f).into_owned()),
                    },
                    Kind::Bytes => OwnedRaw::Bytes(f.to_vec()),
                    _ => match std::str::from_utf8(f) {
                        Ok(s) => OwnedRaw::Text(s.to_string()),
                        Err(_) => OwnedRaw::Bytes(f.to_vec()),
                    },
                },
            })
            .collect();
        if out.last() != Some(&b) && b.iter().all(|v| *v != OwnedRaw::Null) {
            out.push(b);
        }
    }
    Ok((out, count as u64))
}

fn key_kinds(spec: &ReadSpec, live: &[LiveColumn]) -> Result<Vec<Kind>> {
    spec.key
        .iter()
        .map(|k| {
            live.iter()
                .find(|c| &c.name == k)
                .map(|c| kind_of(&c.type_name))
                .with_context(|| {
                    format!(
                        "key column {k} of {} is missing from the live table",
                        spec.table
                    )
                })
        })
        .collect()
}

fn field(r: &MySqlRow, i: usize) -> Option<&[u8]> {
    r.try_get_unchecked::<Option<&[u8]>, _>(i).ok().flatten()
}

/// A boundary value as an SQL literal that compares in the column's own
/// type and collation: integers bare, text as a hex string with the
/// utf8mb4 introducer (the column's collation wins: it is implicit, the
/// literal coercible), bytes as a hex literal.
fn literal(v: &OwnedRaw) -> Result<String> {
    Ok(match v {
        OwnedRaw::Int(i) => i.to_string(),
        OwnedRaw::Text(s) => format!("_utf8mb4 X'{}'", hex::encode(s.as_bytes())),
        OwnedRaw::Bytes(b) => format!("X'{}'", hex::encode(b)),
        OwnedRaw::Numeric(s)
            if s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
        {
            s.clone()
        }
        other => bail!("unsupported chunk boundary value {other:?}"),
    })
}

/// `(k1, k2) > (v1, v2)` expanded so the index serves it:
/// `k1 > v1 OR (k1 = v1 AND k2 > v2)`.
fn tuple_cmp(keys: &[String], b: &Boundary, op: &str) -> Result<String> {
    let lits = b.iter().map(literal).collect::<Result<Vec<_>>>()?;
    let mut ors = Vec::new();
    for i in 0..keys.len() {
        let mut ands: Vec<String> = (0..i)
            .map(|j| format!("{} = {}", ident(&keys[j]), lits[j]))
            .collect();
        let last = i + 1 == keys.len();
        let o = if last { op } else { &op[..1] };
        ands.push(format!("{} {o} {}", ident(&keys[i]), lits[i]));
        ors.push(format!("({})", ands.join(" AND ")));
    }
    Ok(format!("({})", ors.join(" OR ")))
}

/// The SELECT for one chunk: the projection, ordered by key.
pub fn chunk_select(
    spec: &ReadSpec,
    live: &[LiveColumn],
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<String> {
    // A FLOAT's text has six significant digits; `+ 0e0` widens the stored
    // f32 exactly to a DOUBLE, whose text round-trips.
    let cols = spec
        .columns
        .iter()
        .map(|c| {
            let float = live
                .iter()
                .any(|l| &l.name == c && base_type(&l.type_name) == "float");
            if float {
                format!("({} + 0e0)", ident(c))
            } else {
                ident(c)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut conds = Vec::new();
    if let Some(w) = &spec.where_clause {
        conds.push(format!("({w})"));
    }
    let keyed = !keyless(spec);
    if keyed {
        if let Some(l) = lower {
            conds.push(tuple_cmp(&spec.key, l, ">")?);
        }
        if let Some(u) = upper {
            conds.push(tuple_cmp(&spec.key, u, "<=")?);
        }
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let order = if keyed {
        format!(
            " ORDER BY {}",
            spec.key
                .iter()
                .map(|k| ident(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    Ok(format!(
        "SELECT {cols} FROM {}{where_sql}{order}",
        table_ref(spec.schema.as_deref(), &spec.table)
    ))
}

/// Reads one chunk over the text protocol, typing each field by its column.
pub async fn read_chunk(
    conn: &mut MySqlConnection,
    spec: &ReadSpec,
    live: &[LiveColumn],
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<ChunkData> {
    let kinds = spec
        .columns
        .iter()
        .map(|name| {
            live.iter()
                .find(|c| &c.name == name)
                .map(|c| kind_of(&c.type_name))
                .with_context(|| {
                    format!(
                        "column {name} of {} is missing from the live table",
                        spec.table
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let sql = chunk_select(spec, live, lower, upper)?;
    let mut rows = Vec::new();
    let mut stream = sqlx::raw_sql(&sql).fetch(&mut *conn);
    while let Some(r) = stream
        .try_next()
        .await
        .with_context(|| format!("reading {} failed", spec.table))?
    {
        rows.push(
            kinds
                .iter()
                .enumerate()
                .map(|(i, k)| field(&r, i).map_or(OwnedRaw::Null, |f| decode(*k, f)))
                .collect(),
        );
    }
    Ok(ChunkData::Values { rows })
}

/// Both sides must order a text key the same way for chunk boundaries
/// taken on one side to split the other exactly.
pub fn check_key_collations(
    table: &str,
    keys: &[(String, String)],
    source: &[LiveColumn],
    target: &[LiveColumn],
) -> Result<()> {
    for (s, t) in keys {
        let sc = source
            .iter()
            .find(|c| &c.name == s)
            .map(|c| c.cast_type.as_str());
        let tc = target
            .iter()
            .find(|c| &c.name == t)
            .map(|c| c.cast_type.as_str());
        if let (Some(a), Some(b)) = (sc, tc)
            && !a.eq_ignore_ascii_case(b)
        {
            bail!(
                "key column {s} of {table} has collation {} in the source and {} in the target; \
                 chunks would split differently on each side: give both the same collation \
                 (ALTER TABLE … MODIFY … COLLATE …) or compare a copy",
                if a.is_empty() { "(none)" } else { a },
                if b.is_empty() { "(none)" } else { b }
            );
        }
    }
    Ok(())
}

/// Is this a lost MySQL connection (KILL CONNECTION, server gone)?
pub fn is_connection_lost(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        if let Some(sqlx::Error::Database(db)) = c.downcast_ref::<sqlx::Error>()
            && let Some(m) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        {
            // ER_CONNECTION_KILLED, ER_QUERY_INTERRUPTED after KILL, CR_SERVER_GONE_ERROR, CR_SERVER_LOST.
            return matches!(m.number(), 1927 | 1053 | 2006 | 2013);
        }
        let msg = c.to_string().to_ascii_lowercase();
        msg.contains("connection was killed") || msg.contains("server has gone away")
    })
}

/// Test hook: another session kills a reader's connection
/// (`KILL CONNECTION`), as an operator or a failover would.
pub async fn kill_connection(pool: &MySqlPool, victim: &mut MySqlConnection) -> Result<()> {
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *victim)
        .await?;
    let mut other = MySqlConnection::connect_with(&pool.connect_options()).await?;
    sqlx::raw_sql(&format!("KILL CONNECTION {id}"))
        .execute(&mut other)
        .await?;
    let _ = other.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_protocol_fields() {
        assert_eq!(decode(Kind::Int, b"-12"), OwnedRaw::Int(-12));
        assert_eq!(
            decode(Kind::Int, b"18446744073709551615"),
            OwnedRaw::Numeric("18446744073709551615".into())
        );
        assert_eq!(
            decode(Kind::DateTime, b"1970-01-02 00:00:01.5"),
            OwnedRaw::Timestamp(86_401_500_000)
        );
        assert_eq!(
            decode(Kind::DateTime, b"0000-00-00 00:00:00.000"),
            OwnedRaw::Text("0000-00-00 00:00:00.000".into())
        );
        assert_eq!(decode(Kind::Date, b"1970-01-03"), OwnedRaw::Date(2));
        assert_eq!(
            decode(Kind::Date, b"2024-00-10"),
            OwnedRaw::Text("2024-00-10".into())
        );
        assert_eq!(
            decode(Kind::Time, b"01:00:00.25"),
            OwnedRaw::Time(3_600_250_000)
        );
        assert_eq!(
            decode(Kind::Time, b"-01:00:00"),
            OwnedRaw::Text("-01:00:00".into())
        );
        assert_eq!(
            decode(Kind::Time, b"25:00:00"),
            OwnedRaw::Text("25:00:00".into())
        );
    }

    #[test]
    fn composite_boundaries_expand_for_the_index() {
        let keys = vec!["a".to_string(), "b".to_string()];
        let b = vec![OwnedRaw::Int(1), OwnedRaw::Text("x".into())];
        assert_eq!(
            tuple_cmp(&keys, &b, ">").unwrap(),
            "((`a` > 1) OR (`a` = 1 AND `b` > _utf8mb4 X'78'))"
        );
        assert_eq!(
            tuple_cmp(&keys, &b, "<=").unwrap(),
            "((`a` < 1) OR (`a` = 1 AND `b` <= _utf8mb4 X'78'))"
        );
    }

    #[test]
    fn types_map_to_kinds() {
        assert_eq!(kind_of("bigint(20) unsigned"), Kind::Int);
        assert_eq!(kind_of("tinyint(1)"), Kind::Int);
        assert_eq!(kind_of("decimal(65,30)"), Kind::Decimal);
        assert_eq!(kind_of("datetime(6)"), Kind::DateTime);
        assert_eq!(kind_of("enum('a','b')"), Kind::Text);
        assert_eq!(kind_of("varbinary(16)"), Kind::Bytes);
        assert_eq!(kind_of("json"), Kind::Json);
    }
}
