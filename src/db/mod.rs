//! Database access, one file per backend: connect, consistent snapshots,
//! chunk boundaries, streaming a chunk, and catalog queries.
//!
//! Owns every piece of backend-specific SQL. Sessions are read-only and run
//! in UTC with a statement timeout and `application_name = parity`. It knows
//! nothing about ORMs: values leave here as `canon::Raw`.
//!
//! [`Db`] is a pool; [`Snapshot`] and [`Worker`] read inside one consistent
//! view; `connect` opens, `close` on each ends its transactions and
//! sessions cleanly.

pub mod buffer;
pub mod catalog;
pub mod chunk;
mod connect;
pub mod fingerprint;
pub mod migrations;
pub mod mysql;
pub mod postgres;
pub mod pushdown;
mod snapshot;
pub mod sql;
pub mod sqlite;
pub mod stats;
#[cfg(test)]
pub(crate) mod testdb;

use sqlx::{MySqlPool, PgPool, SqlitePool};

use crate::mapping::Dialect;

pub use chunk::{ChunkData, OwnedRaw, Wire};
pub use connect::{
    ConnectOptions, DEFAULT_LOCK_TIMEOUT_SECONDS, DbError, dialect_of, pg_begin, pg_duration_ms,
    scrub, sqlite_path,
};
pub use snapshot::{
    Boundary, ChunkRead, LiveColumn, ReadSpec, Snapshot, Worker, is_connection_lost,
};

/// A connection pool to one database.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    Mysql(MySqlPool),
    Sqlite(SqlitePool),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::Mysql(_) => Dialect::Mysql,
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Closes every session of the pool cleanly (a Terminate message, so
    /// the server logs no "unexpected EOF"). Waits for sessions still
    /// checked out (close or drop every [`Worker`] first).
    pub async fn close(&self) {
        // sqlx's close can miss a session that was on its way back to the
        // pool (a reader just rolled back) and lands in the idle queue after
        // close last looked: it would stay open until the pool is dropped.
        // Look again, briefly, until the pool holds no session.
        for _ in 0..100 {
            match self {
                Db::Postgres(p) => p.close().await,
                Db::Mysql(p) => p.close().await,
                Db::Sqlite(p) => p.close().await,
            }
            if self.sessions() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Sessions the pool holds, idle or in use.
    pub fn sessions(&self) -> u32 {
        match self {
            Db::Postgres(p) => p.size(),
            Db::Mysql(p) => p.size(),
            Db::Sqlite(p) => p.size(),
        }
    }
}
