//! MySQL and MariaDB: one consistent view across reader sessions.
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

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use sqlx::mysql::{MySql, MySqlConnection};
use sqlx::pool::PoolConnection;
use sqlx::{Executor, MySqlPool, Row};

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

    /// A reader that shares the locked view goes back to the snapshot
    /// (which rolls it back when it ends); any other rolls its own
    /// snapshot back now, so its session returns to the pool idle.
    pub async fn close(mut self) {
        if self.stash.is_none()
            && !self.broken
            && let Some(c) = self.conn.as_mut()
        {
            let _ = c.execute("ROLLBACK").await;
        }
    }
}

async fn session_setup(conn: &mut MySqlConnection) -> Result<()> {
    for (sql, failed) in [
        // A pooled session may still be inside an earlier transaction.
        ("ROLLBACK", "cannot reset a reader session"),
        (
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "cannot set REPEATABLE READ",
        ),
    ] {
        conn.execute(sql).await.context(failed)?;
    }
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
