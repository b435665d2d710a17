//! Consistent chunked reads: one [`Snapshot`] of a database per side for a
//! whole run, [`Worker`] sessions reading inside it, and what a read is
//! asked for ([`ReadSpec`]) and finds ([`LiveColumn`]). Each backend's file
//! does the work; this is the one face the engine talks to.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::{Db, mysql, postgres, sqlite};

/// A chunk boundary: one value per key column. Chunk i holds keys in
/// `(boundary[i-1], boundary[i]]`; the first and last are open-ended.
pub type Boundary = Vec<OwnedRaw>;

/// What to read from one physical table.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    pub schema: Option<String>,
    pub table: String,
    /// Physical columns, key columns first (in key order), then the rest.
    pub columns: Vec<String>,
    /// Physical key columns, in key order.
    pub key: Vec<String>,
    pub where_clause: Option<String>,
}

/// A column as the live database has it.
#[derive(Debug, Clone)]
pub struct LiveColumn {
    pub name: String,
    /// Backend type name (`pg_type.typname`, SQLite declared type).
    pub type_name: String,
    /// The type to cast key literals to (PostgreSQL `format_type`).
    pub cast_type: String,
    /// The declared type with its modifiers: PostgreSQL `format_type` with
    /// the column's typmod (`numeric(12,2)`, `character(3)`), MySQL
    /// `COLUMN_TYPE`, SQLite's declared type.
    pub declared: String,
    pub wire: Wire,
    pub cast_to_text: bool,
    pub not_null: bool,
}

/// One consistent view of a database for a whole run.
pub enum Snapshot {
    Postgres(postgres::PgSnapshot),
    Sqlite(Arc<sqlite::SqliteSnapshot>),
    Mysql(mysql::MySnapshot),
}

/// One chunk to read: the table's read, its live columns and their wire
/// forms, and the keys in `(lower, upper]`.
#[derive(Clone, Copy)]
pub struct ChunkRead<'a> {
    pub spec: &'a ReadSpec,
    pub live: &'a [LiveColumn],
    pub wires: &'a Arc<[Wire]>,
    pub lower: Option<&'a Boundary>,
    pub upper: Option<&'a Boundary>,
    /// Bytes to reserve for the rows up front (PostgreSQL: the last chunk's
    /// size, so a read does not grow its buffer by doubling, whose copies
    /// were the peaks of parity's memory); 0 for a default.
    pub capacity: usize,
}

/// A session reading inside a [`Snapshot`].
pub enum Worker {
    Postgres(postgres::PgTx),
    Sqlite(Arc<sqlite::SqliteSnapshot>),
    Mysql(mysql::MyWorker),
}

impl Snapshot {
    /// Opens the snapshot: PostgreSQL exports one from a REPEATABLE READ
    /// READ ONLY transaction; SQLite holds one read transaction.
    pub async fn begin(db: &Db) -> Result<Snapshot> {
        match db {
            Db::Postgres(pool) => Ok(Snapshot::Postgres(postgres::PgSnapshot::begin(pool).await?)),
            Db::Sqlite(pool) => Ok(Snapshot::Sqlite(Arc::new(
                sqlite::SqliteSnapshot::begin(pool).await?,
            ))),
            // Every pooled session but one (the coordinator's while the lock
            // is held; a spare for re-reads afterwards) starts inside the
            // shared view.
            Db::Mysql(pool) => Ok(Snapshot::Mysql(
                mysql::MySnapshot::begin(
                    pool,
                    (pool.options().get_max_connections() as usize)
                        .saturating_sub(1)
                        .max(1),
                )
                .await?,
            )),
        }
    }

    /// MySQL/MariaDB: how the readers share a view (reported).
    pub fn mysql_mode(&self) -> Option<mysql::SnapshotMode> {
        match self {
            Snapshot::Mysql(s) => Some(s.mode),
            _ => None,
        }
    }

    /// MySQL/MariaDB: the binary-log position of the view (see `db::mysql`).
    pub fn mysql_position(&self) -> Option<&str> {
        match self {
            Snapshot::Mysql(s) => Some(&s.position),
            _ => None,
        }
    }

    /// A session in a fresh snapshot of its own, for re-reading chunks that
    /// readers without a shared view (MySQL) or a shard (issue 15) found
    /// different. SQLite's one read transaction is the only view it has.
    pub async fn fresh_worker(&self) -> Result<Worker> {
        match self {
            Snapshot::Mysql(s) => Ok(Worker::Mysql(s.fresh_worker().await?)),
            Snapshot::Postgres(s) => Ok(Worker::Postgres(s.fresh_worker().await?)),
            Snapshot::Sqlite(_) => self.worker().await,
        }
    }

    pub async fn worker(&self) -> Result<Worker> {
        match self {
            Snapshot::Postgres(s) => Ok(Worker::Postgres(s.worker().await?)),
            Snapshot::Sqlite(s) => Ok(Worker::Sqlite(s.clone())),
            Snapshot::Mysql(s) => Ok(Worker::Mysql(s.worker().await?)),
        }
    }

    /// Ends the snapshot: its transactions only read, so they roll back.
    /// The pool stays open (its owner may read on; see [`Snapshot::close`]).
    pub async fn end(self) {
        match self {
            Snapshot::Postgres(s) => s.end().await,
            Snapshot::Sqlite(s) => {
                if let Ok(s) = Arc::try_unwrap(s) {
                    s.end().await
                }
            }
            Snapshot::Mysql(s) => s.end().await,
        }
    }

    /// Ends the snapshot and closes its pool's sessions cleanly (each gets
    /// a Terminate message), so the server logs neither an open transaction
    /// nor an unexpected EOF: for the owner of both, when a command or the
    /// engine is done with this side. Every [`Worker`] must be closed or
    /// dropped first (closing waits for checked-out sessions). A SQLite
    /// snapshot a reader still shares is left to that reader.
    pub async fn close(self) {
        let pool = self.db();
        let owned = !matches!(&self, Snapshot::Sqlite(s) if Arc::strong_count(s) > 1);
        self.end().await;
        if owned {
            pool.close().await;
        }
    }

    /// The pool this snapshot reads through.
    pub fn db(&self) -> Db {
        match self {
            Snapshot::Postgres(s) => Db::Postgres(s.pool.clone()),
            Snapshot::Sqlite(s) => Db::Sqlite(s.pool.clone()),
            Snapshot::Mysql(s) => Db::Mysql(s.pool.clone()),
        }
    }

    /// Why a table could not be read, when another session's lock is the
    /// reason: the lock and who holds it (PostgreSQL), else `None`.
    pub async fn lock_note(
        &self,
        e: &anyhow::Error,
        schema: Option<&str>,
        table: &str,
    ) -> Option<String> {
        let Snapshot::Postgres(s) = self else {
            return None;
        };
        if !postgres::is_lock_timeout(e) {
            return None;
        }
        let holders = postgres::lock_holders(&s.pool, schema, table).await;
        Some(format!(
            "table {table} is locked by another session{}; parity gave up after lock_timeout \
             (set [check] lock_timeout_seconds to wait longer)",
            holders.map(|h| format!(": {h}")).unwrap_or_default()
        ))
    }

    /// The exported snapshot id (PostgreSQL), for `pg_dump --snapshot`.
    pub fn exported_id(&self) -> Option<&str> {
        match self {
            Snapshot::Postgres(s) => Some(&s.id),
            Snapshot::Sqlite(_) | Snapshot::Mysql(_) => None,
        }
    }
}

impl Worker {
    /// Ends this reader's transaction now rather than when it is dropped:
    /// a PostgreSQL reader rolls back (it only read) and its session goes
    /// back to the pool idle; a MySQL reader that shares the locked view
    /// goes back to the snapshot (ended with it), any other rolls back; a
    /// SQLite reader is the snapshot's own session.
    pub async fn close(self) {
        match self {
            Worker::Postgres(tx) => {
                let _ = tx.rollback().await;
            }
            Worker::Mysql(w) => w.close().await,
            Worker::Sqlite(_) => {}
        }
    }

    pub async fn columns(&mut self, schema: Option<&str>, table: &str) -> Result<Vec<LiveColumn>> {
        match self {
            Worker::Postgres(c) => postgres::columns(c, schema, table).await,
            Worker::Sqlite(s) => sqlite::columns(&mut *s.conn.lock().await, table).await,
            Worker::Mysql(w) => mysql::columns(w.conn(), schema, table).await,
        }
    }

    /// Chunk boundaries and the estimated row count.
    pub async fn boundaries(
        &mut self,
        spec: &ReadSpec,
        chunk_rows: usize,
    ) -> Result<(Vec<Boundary>, u64)> {
        match self {
            Worker::Postgres(c) => postgres::boundaries(c, spec, chunk_rows).await,
            Worker::Sqlite(s) => {
                sqlite::boundaries(&mut *s.conn.lock().await, spec, chunk_rows).await
            }
            Worker::Mysql(w) => mysql::boundaries(w.conn(), spec, chunk_rows).await,
        }
    }

    pub async fn read_chunk(&mut self, read: ChunkRead<'_>) -> Result<ChunkData> {
        let ChunkRead {
            spec,
            live,
            lower,
            upper,
            capacity,
            ..
        } = read;
        match self {
            Worker::Postgres(c) => postgres::read_chunk(c, read).await,
            Worker::Sqlite(s) => {
                sqlite::read_chunk(&mut *s.conn.lock().await, spec, lower, upper).await
            }
            Worker::Mysql(w) => {
                let r = mysql::read_chunk(w.conn(), spec, live, lower, upper, capacity).await;
                if r.as_ref().is_err_and(is_connection_lost) {
                    // Never hand a dead session back to the shared stash.
                    w.broken = true;
                }
                r
            }
        }
    }

    /// Whether this reader reads in the view every shared reader of its
    /// snapshot has (always, except MySQL readers outside the locked view).
    pub fn in_shared_view(&self) -> bool {
        match self {
            Worker::Mysql(w) => w.shared,
            _ => true,
        }
    }

    /// Test hook (`PARITY_FAULT_KILL_READER=1`): terminate this reader's
    /// backend from another session before its next read.
    pub async fn kill_for_test(&mut self, snapshot: &Snapshot) -> Result<()> {
        match (self, snapshot) {
            (Worker::Postgres(c), Snapshot::Postgres(s)) => postgres::terminate_backend(&s.pool, c)
                .await
                .context("fault hook"),
            (Worker::Mysql(w), Snapshot::Mysql(s)) => mysql::kill_connection(&s.pool, w.conn())
                .await
                .context("fault hook"),
            _ => Ok(()),
        }
    }
}

/// Is this a lost connection, worth one retry of the chunk?
pub fn is_connection_lost(e: &anyhow::Error) -> bool {
    postgres::is_connection_lost(e) || mysql::is_connection_lost(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ConnectOptions;
    use crate::db::testdb::TestDb;
    use crate::mapping::Dialect;

    /// After a reader and its snapshot are closed, the pool is closed and
    /// the server holds no session of parity's in the database.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_ends_transactions_and_sessions() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let t = TestDb::new(dialect);
            t.exec("CREATE TABLE t (id integer PRIMARY KEY, v text)");
            let db = Db::connect(&t.url, &ConnectOptions::default())
                .await
                .unwrap();
            let snapshot = Snapshot::begin(&db).await.unwrap();
            let mut w = snapshot.worker().await.unwrap();
            assert_eq!(w.columns(None, "t").await.unwrap().len(), 2);
            w.close().await;
            assert!(
                t.sessions().is_none_or(|n| n > 0),
                "{dialect:?}: sessions open"
            );
            snapshot.close().await;
            assert_eq!(db.sessions(), 0, "{dialect:?}: the pool holds no session");
            // The server notices a Terminate at once, but give it a moment.
            let mut left = t.sessions();
            for _ in 0..50 {
                if left.is_none_or(|n| n == 0) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                left = t.sessions();
            }
            assert!(
                left.is_none_or(|n| n == 0),
                "{dialect:?}: {left:?} sessions left"
            );
        }
    }
}
