//! One side's row read of one table, chunk by chunk: the projection, the
//! live columns and their wire forms, and reading one chunk on a lane's
//! session. This is the chunk reader the scheduler's jobs use today; a
//! reader that asks the server for a chunk's hash instead (pushdown) would
//! sit beside it, on the same [`Session`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::schedule::Chunk;
use crate::db::{Boundary, ChunkData, ChunkRead, LiveColumn, ReadSpec, Snapshot, Wire, Worker};

/// A lane's session on one snapshot, opened on first use. The retry rule
/// drops the lane's sessions, so a retry opens a fresh one in the same
/// snapshot.
#[derive(Default)]
pub struct Session(Option<Worker>);

impl Session {
    pub async fn open(&mut self, snapshot: &Snapshot) -> Result<&mut Worker> {
        if self.0.is_none() {
            self.0 = Some(snapshot.worker().await?);
        }
        Ok(self.0.as_mut().expect("a session just opened"))
    }

    /// Whether what this session read is in the view every shared reader
    /// of its snapshot has (see [`Worker::in_shared_view`]); true before
    /// it is opened.
    pub fn in_shared_view(&self) -> bool {
        self.0.as_ref().is_none_or(Worker::in_shared_view)
    }
}

/// What one side reads of one table, and how its columns arrive.
pub struct TableRead {
    pub spec: ReadSpec,
    /// The table's columns as the snapshot has them (plus, for a keyless
    /// table, the row address it is chunked by).
    pub live: Vec<LiveColumn>,
    /// The wire form of each projected column.
    pub wires: Arc<[Wire]>,
    /// The largest chunk read so far, in bytes, plus an eighth: what the
    /// next read reserves ([`ChunkRead::capacity`]).
    reserve: AtomicUsize,
}

impl TableRead {
    /// Fails naming a projected column the live table lacks.
    pub fn new(spec: ReadSpec, live: Vec<LiveColumn>) -> Result<TableRead> {
        let wires = wires_of(&spec, &live)?;
        Ok(TableRead {
            spec,
            live,
            wires,
            reserve: AtomicUsize::new(0),
        })
    }

    /// The same read of only the rows that also meet `cond` (an SQL
    /// condition on this table), AND'ed to the spec's own filter.
    pub fn narrowed(&self, cond: &str) -> TableRead {
        let mut spec = self.spec.clone();
        spec.where_clause = Some(match spec.where_clause.take() {
            Some(w) => format!("({w}) AND {cond}"),
            None => cond.to_string(),
        });
        TableRead {
            spec,
            live: self.live.clone(),
            wires: self.wires.clone(),
            reserve: AtomicUsize::new(0),
        }
    }

    /// Reads one chunk on the lane's session, and says how long the read
    /// took (opening the session left out).
    pub async fn read(
        &self,
        snapshot: &Snapshot,
        session: &mut Session,
        chunk: &Chunk<'_>,
    ) -> Result<(ChunkData, Duration)> {
        let worker = session.open(snapshot).await?;
        let started = Instant::now();
        let rows = self.read_on(worker, chunk.lower, chunk.upper).await?;
        Ok((rows, started.elapsed()))
    }

    /// Reads the keys in `(lower, upper]` on `worker`.
    pub async fn read_on(
        &self,
        worker: &mut Worker,
        lower: Option<&Boundary>,
        upper: Option<&Boundary>,
    ) -> Result<ChunkData> {
        let read = ChunkRead {
            spec: &self.spec,
            live: &self.live,
            wires: &self.wires,
            lower,
            upper,
            capacity: self.reserve.load(Ordering::Relaxed),
        };
        let rows = worker.read_chunk(read).await?;
        let bytes = rows.bytes();
        self.reserve.fetch_max(bytes + bytes / 8, Ordering::Relaxed);
        Ok(rows)
    }

    /// The chunk boundaries of this read, and the planner's row estimate.
    pub async fn boundaries(
        &self,
        worker: &mut Worker,
        chunk_rows: usize,
    ) -> Result<(Vec<Boundary>, u64)> {
        worker.boundaries(&self.spec, chunk_rows).await
    }
}

/// The wire of each projected column, or which one the live table lacks.
pub fn wires_of(spec: &ReadSpec, live: &[LiveColumn]) -> Result<Arc<[Wire]>> {
    spec.columns
        .iter()
        .map(|c| {
            live.iter()
                .find(|l| &l.name == c)
                .map(|l| l.wire)
                .with_context(|| {
                    format!(
                        "column {c} of {} is missing from the live table; run `parity schema` to see the drift",
                        spec.table
                    )
                })
        })
        .collect::<Result<Vec<_>>>()
        .map(Into::into)
}

#[cfg(test)]
mod tests {
    //! The row reader under the scheduler, on real databases: every row
    //! read once, in key order, whatever the bounds; empty chunks; and the
    //! retry rule against a session the server really killed.

    use super::*;
    use crate::canon::Raw;
    use crate::config::DbUrl;
    use crate::db::{ConnectOptions, Db, OwnedRaw};
    use crate::engine::schedule::{self, Ran, Schedule};
    use sqlx::Connection;

    type Key = (i64, String);

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// 60 rows under a composite key: `a` in 0..20, `b` in x, y, z.
    fn table_sql(int: &str) -> String {
        let rows: Vec<String> = (0..20)
            .flat_map(|a| ["x", "y", "z"].map(|b| format!("({a}, '{b}', 'v{a}{b}')")))
            .collect();
        format!(
            "CREATE TABLE t (a {int} NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b)); \
             INSERT INTO t VALUES {};",
            rows.join(", ")
        )
    }

    fn all_keys() -> Vec<Key> {
        (0..20)
            .flat_map(|a| ["x", "y", "z"].map(|b| (a, b.to_string())))
            .collect()
    }

    fn bound(a: i64, b: &str) -> Boundary {
        vec![OwnedRaw::Int(a), OwnedRaw::Text(b.into())]
    }

    /// A boundary as a key (PostgreSQL hands boundaries back as text).
    fn key_of(b: &Boundary) -> Key {
        match (&b[0], &b[1]) {
            (OwnedRaw::Int(a), OwnedRaw::Text(s)) => (*a, s.clone()),
            (OwnedRaw::Text(a), OwnedRaw::Text(s)) => (a.parse().unwrap(), s.clone()),
            other => panic!("not a test key: {other:?}"),
        }
    }

    /// The test table's read, and its bounds in chunks of 7 rows.
    async fn open_read(snapshot: &Snapshot) -> (TableRead, Vec<Boundary>) {
        let mut w = snapshot.worker().await.unwrap();
        let live = w.columns(None, "t").await.unwrap();
        let spec = ReadSpec {
            schema: None,
            table: "t".into(),
            columns: vec!["a".into(), "b".into(), "v".into()],
            key: vec!["a".into(), "b".into()],
            where_clause: None,
        };
        let read = TableRead::new(spec, live).unwrap();
        let (bounds, _) = read.boundaries(&mut w, 7).await.unwrap();
        assert!(
            bounds.len() >= 7,
            "60 rows in chunks of 7: {}",
            bounds.len()
        );
        (read, bounds)
    }

    /// Reads every chunk at `bounds`; `kill(chunk, attempt)` kills the
    /// lane's session on the server before that read. Returns each chunk's
    /// keys as handed back.
    async fn read_all(
        snapshot: &Snapshot,
        read: &TableRead,
        bounds: &[Boundary],
        jobs: usize,
        kill: impl Fn(usize, u32) -> bool,
    ) -> Result<(Vec<Vec<Key>>, Ran)> {
        let mut got = Vec::new();
        let ran = schedule::run(
            &schedule::chunks("t", bounds),
            &Schedule::new(jobs),
            async |chunk, lane: &mut Session, attempt| {
                if kill(chunk.index, attempt) {
                    lane.open(snapshot).await?.kill_for_test(snapshot).await?;
                }
                let (rows, _) = read.read(snapshot, lane, &chunk).await?;
                let mut row = Vec::new();
                Ok((0..rows.len())
                    .map(|i| {
                        rows.row(i, &mut row);
                        match (row[0], row[1]) {
                            (Raw::Int(a), Raw::Text(b)) => (a, b.to_string()),
                            other => panic!("unexpected key {other:?}"),
                        }
                    })
                    .collect())
            },
            |_, keys| {
                got.push(keys);
                Ok(())
            },
        )
        .await?;
        Ok((got, ran))
    }

    /// Every chunk holds only keys in `(lower, upper]`, and all chunks
    /// together hold every row once, in key order.
    fn assert_partition(chunks: &[Vec<Key>], bounds: &[Boundary]) {
        for (i, keys) in chunks.iter().enumerate() {
            let lower = i.checked_sub(1).map(|j| key_of(&bounds[j]));
            let upper = bounds.get(i).map(key_of);
            for k in keys {
                assert!(lower.as_ref().is_none_or(|l| k > l), "{k:?} in chunk {i}");
                assert!(upper.as_ref().is_none_or(|u| k <= u), "{k:?} in chunk {i}");
            }
        }
        assert_eq!(chunks.concat(), all_keys());
    }

    /// Reads every chunk; asserts every chunk ran, `retries` were needed,
    /// and the chunks partition the table.
    async fn assert_reads_all(
        snapshot: &Snapshot,
        read: &TableRead,
        bounds: &[Boundary],
        jobs: usize,
        kill: impl Fn(usize, u32) -> bool,
        retries: u64,
    ) {
        let (chunks, ran) = read_all(snapshot, read, bounds, jobs, kill).await.unwrap();
        let expected = Ran {
            chunks: bounds.len() + 1,
            retries,
        };
        assert_eq!(ran, expected);
        assert_partition(&chunks, bounds);
    }

    #[test]
    fn sqlite_chunks_hold_every_row_once_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        block_on(async {
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            sqlx::raw_sql(&table_sql("INTEGER"))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
            let url = DbUrl::new(format!("sqlite://{}", path.display()));
            let db = Db::connect(&url, &ConnectOptions::default()).await.unwrap();
            let snapshot = Snapshot::begin(&db).await.unwrap();
            let (read, bounds) = open_read(&snapshot).await;
            for jobs in [1, 3] {
                assert_reads_all(&snapshot, &read, &bounds, jobs, |_, _| false, 0).await;
            }
            // Bounds inside the composite key: (5,y)..(5,yy] and past the
            // last row hold nothing, and are still chunks.
            let bounds = [bound(5, "x"), bound(5, "y"), bound(5, "yy"), bound(100, "")];
            let (chunks, _) = read_all(&snapshot, &read, &bounds, 2, |_, _| false)
                .await
                .unwrap();
            assert_eq!(
                chunks.iter().map(Vec::len).collect::<Vec<_>>(),
                [16, 1, 0, 43, 0]
            );
            assert_partition(&chunks, &bounds);
            snapshot.end().await;
            db.close().await;
        });
    }

    /// A PostgreSQL database for one test, dropped with it (also when
    /// the test fails).
    struct PgTemp {
        server: String,
        name: String,
    }

    impl PgTemp {
        fn create(sql: &str) -> PgTemp {
            PgTemp::named("schedule", sql)
        }

        fn named(tag: &str, sql: &str) -> PgTemp {
            let base = std::env::var("PARITY_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
            let server = format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest));
            let name = format!("parity_u_{tag}_{}", std::process::id());
            let pg = PgTemp { server, name };
            pg.admin(&format!("DROP DATABASE IF EXISTS {}", pg.name));
            pg.admin(&format!("CREATE DATABASE {}", pg.name));
            block_on(async {
                let mut t = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut t).await.unwrap();
            });
            pg
        }

        fn url(&self) -> String {
            format!("{}/{}", self.server, self.name)
        }

        fn admin(&self, sql: &str) {
            block_on(async {
                let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", self.server))
                    .await
                    .expect("PostgreSQL for the engine's unit tests (PARITY_TEST_PG_URL)");
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            });
        }
    }

    impl Drop for PgTemp {
        fn drop(&mut self) {
            self.admin(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }

    #[test]
    fn postgres_a_killed_session_is_retried_once_in_the_same_snapshot() {
        let pg = PgTemp::create(&table_sql("BIGINT"));
        block_on(async {
            let url = DbUrl::new(pg.url());
            let opts = ConnectOptions {
                max_connections: 8,
                ..ConnectOptions::default()
            };
            let db = Db::connect(&url, &opts).await.unwrap();
            let snapshot = Snapshot::begin(&db).await.unwrap();
            let (read, bounds) = open_read(&snapshot).await;
            // Killed once before chunk 2's first read: one retry, same rows.
            assert_reads_all(&snapshot, &read, &bounds, 2, |i, a| (i, a) == (2, 0), 1).await;
            // Killed before every try of chunk 1: the rule gives up after one
            // retry, with the lost connection as the error.
            let err = read_all(&snapshot, &read, &bounds, 2, |i, _| i == 1)
                .await
                .unwrap_err();
            assert!(crate::db::is_connection_lost(&err), "{err:#}");
            snapshot.close().await;
        });
    }

    /// Rows per chunk at PostgreSQL's sampled boundaries, for a table of
    /// 120k rows (about 4,000 pages, past the 600-page pilot sample) in
    /// chunks of `chunk_rows`.
    fn pg_chunk_rows(order: &str, chunk_rows: usize) -> (Vec<i64>, u64) {
        let pg = PgTemp::named(
            &format!("bounds_{}_{chunk_rows}", order.len()),
            &format!(
                "CREATE TABLE t (id BIGINT PRIMARY KEY, pad TEXT NOT NULL); \
                 SELECT setseed(0.5); \
                 INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 120000) g ORDER BY {order};"
            ),
        );
        block_on(async {
            let db = Db::connect(&DbUrl::new(pg.url()), &ConnectOptions::default())
                .await
                .unwrap();
            let snapshot = Snapshot::begin(&db).await.unwrap();
            let mut w = snapshot.worker().await.unwrap();
            let live = w.columns(None, "t").await.unwrap();
            let spec = ReadSpec {
                schema: None,
                table: "t".into(),
                columns: vec!["id".into(), "pad".into()],
                key: vec!["id".into()],
                where_clause: None,
            };
            let read = TableRead::new(spec, live).unwrap();
            let (bounds, estimated) = read.boundaries(&mut w, chunk_rows).await.unwrap();
            w.close().await;
            snapshot.close().await;
            let cuts: Vec<i64> = bounds
                .iter()
                .map(|b| match &b[0] {
                    OwnedRaw::Text(t) => t.parse().unwrap(),
                    OwnedRaw::Int(i) => *i,
                    other => panic!("not an integer bound: {other:?}"),
                })
                .collect();
            let mut sizes = Vec::new();
            let mut lower = 0;
            for upper in cuts.into_iter().chain([120000]) {
                sizes.push(upper - lower);
                lower = upper;
            }
            db.close().await;
            (sizes, estimated)
        })
    }

    /// A table loaded in key order is cut at even distances (one run of
    /// pages per chunk, evenly spaced): every chunk within 10% of 4,000
    /// rows. Random pages cut it only where a page was drawn, and their
    /// chunks ran from about half to twice the size (at 20M rows, 11k to
    /// 34k rows for chunks of 20k), the largest setting a lane's memory.
    /// A table in random key order keeps chunks within 25%.
    #[test]
    fn postgres_boundaries_cut_a_key_ordered_table_evenly() {
        // Chunks of 20 rows: more chunks than pages, so the whole table is
        // read (runs would overlap and count pages twice).
        for (order, chunk_rows, spread) in
            [("g", 4000, 0.10), ("random()", 4000, 0.25), ("g", 20, 0.10)]
        {
            let (sizes, estimated) = pg_chunk_rows(order, chunk_rows);
            assert!(
                (114_000..=126_000).contains(&estimated),
                "{order}: estimated {estimated} rows"
            );
            let chunks = 120_000 / chunk_rows;
            assert!(
                (chunks * 7 / 8..=chunks * 9 / 8).contains(&sizes.len()),
                "{order}: {} chunks",
                sizes.len()
            );
            let mean = 120_000.0 / sizes.len() as f64;
            for s in &sizes {
                assert!(
                    ((*s as f64 - mean) / mean).abs() <= spread,
                    "{order}: chunk of {s} rows, mean {mean:.0}"
                );
            }
        }
    }
}
