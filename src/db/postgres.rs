//! PostgreSQL: exported snapshots, live column types, key-quantile chunk
//! boundaries from a block sample, and chunk reads through
//! `COPY (SELECT …) TO STDOUT (FORMAT binary)`.

use anyhow::{Context, Result, bail};
use futures::TryStreamExt;
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, Row};

use super::buffer::Buf;
use super::chunk::{ChunkData, OwnedRaw, Wire};
use super::sql::{self, Quote};
use super::{Boundary, ChunkRead, LiveColumn, ReadSpec};

const Q: Quote = Quote::Ansi;

/// Quotes an identifier: `"a""b"`.
pub fn ident(name: &str) -> String {
    Q.ident(name)
}

/// `"schema"."table"`, or just `"table"` for the default schema.
pub fn table_ref(schema: Option<&str>, table: &str) -> String {
    Q.table_ref(schema, table)
}

pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A session inside its own transaction. sqlx rolls it back when it is
/// dropped (before the connection goes back to the pool), so a session
/// never leaves a transaction open and parity never sends a ROLLBACK
/// outside one (issue 10: no "there is no transaction in progress").
pub type PgTx = sqlx::Transaction<'static, Postgres>;

/// Every read-only transaction parity opens on PostgreSQL: READ ONLY in
/// the BEGIN itself, so nothing sent inside can commit a write.
pub const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The coordinating transaction that owns the exported snapshot. It stays
/// open (idle) until the run ends; workers import its snapshot id.
pub struct PgSnapshot {
    pub pool: PgPool,
    coord: PgTx,
    pub id: String,
}

impl PgSnapshot {
    pub async fn begin(pool: &PgPool) -> Result<PgSnapshot> {
        let mut coord = crate::db::pg_begin(pool, BEGIN_SNAPSHOT)
            .await
            .context("cannot start the snapshot transaction")?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *coord)
            .await
            .context("cannot export the snapshot (pg_export_snapshot)")?;
        Ok(PgSnapshot {
            pool: pool.clone(),
            coord,
            id,
        })
    }

    /// A worker session in the same snapshot.
    /// A reader in a snapshot of its own, taken now (not the exported
    /// one): what a sharded run re-reads a differing chunk in.
    pub async fn fresh_worker(&self) -> Result<PgTx> {
        crate::db::pg_begin(&self.pool, BEGIN_SNAPSHOT)
            .await
            .context("cannot start a reader transaction")
    }

    pub async fn worker(&self) -> Result<PgTx> {
        let mut conn = crate::db::pg_begin(&self.pool, BEGIN_SNAPSHOT)
            .await
            .context("cannot start a reader transaction")?;
        conn.execute(format!("SET TRANSACTION SNAPSHOT {}", literal(&self.id)).as_str())
            .await
            .context("cannot import the exported snapshot")?;
        Ok(conn)
    }

    /// Ends the snapshot; the transaction only read, so rolling back is exact.
    pub async fn end(self) {
        let _ = self.coord.rollback().await;
    }

    /// Backend pid of the coordinating session (keeps the snapshot alive).
    pub async fn coordinator_pid(&mut self) -> Result<i32> {
        Ok(sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *self.coord)
            .await?)
    }
}

/// Live columns of a table, in ordinal order.
pub async fn columns(
    conn: &mut PgConnection,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<LiveColumn>> {
    let rows = sqlx::query(
        "SELECT a.attname::text, t.typname::text, t.typtype::text, \
                format_type(a.atttypid, NULL) AS cast_type, a.attnotnull, \
                format_type(a.atttypid, a.atttypmod) \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind(table_ref(schema, table))
    .fetch_all(&mut *conn)
    .await;
    sql::live_columns(rows, table, |r| {
        let typname: String = r.get(1);
        let typtype: String = r.get(2);
        let (wire, cast_to_text) = Wire::for_pg(&typname, &typtype);
        LiveColumn {
            name: r.get(0),
            type_name: typname,
            cast_type: r.get(3),
            declared: r.get(5),
            wire,
            cast_to_text,
            not_null: r.get(4),
        }
    })
}

/// Chunk boundaries from a block sample of the key, in the snapshot:
/// quantiles of the real key distribution, so string, sparse and composite
/// keys split evenly. Returns the boundaries and the estimated row count.
pub async fn boundaries(
    conn: &mut PgConnection,
    spec: &ReadSpec,
    chunk_rows: usize,
) -> Result<(Vec<Boundary>, u64)> {
    let tref = table_ref(spec.schema.as_deref(), &spec.table);
    let (pages, tid_ranges): (i64, bool) = sqlx::query_as(
        "SELECT COALESCE(pg_relation_size(to_regclass($1)) / current_setting('block_size')::bigint, 0), \
         current_setting('server_version_num')::int >= 140000",
    )
    .bind(&tref)
    .fetch_one(&mut *conn)
    .await
    .with_context(|| format!("cannot size {}", spec.table))?;
    let key_list = Q.list(&spec.key);
    // Aliased, so ORDER BY binds to the typed column, not the text (an
    // output column named like the input would sort "10" before "9").
    let key_text = spec
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{}::text AS parity_k{i}", ident(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = sql::filter(spec);
    // Small tables: every key. Larger ones: first a pilot of SAMPLE_PAGES
    // pages to estimate the rows, then (when the table needs more)
    // PAGES_PER_CHUNK pages for each chunk, read as one run of consecutive
    // pages per chunk, the runs evenly spaced over the heap (TID range
    // scans, PostgreSQL 14+; random pages, a block sample, before). A table
    // loaded in key order puts a page's keys side by side, so a boundary
    // can only fall where a page was read: random pages made chunks of
    // 11k to 34k rows at 20M rows (17 to 220,000 with 600 pages), and the
    // largest chunk decides a lane's memory. Evenly spaced runs cut such a
    // table at even distances; a table in random key order gets the same
    // number of sampled keys as before.
    const SAMPLE_PAGES: i64 = 600;
    const PAGES_PER_CHUNK: i64 = 32;
    // At most this many runs (UNION ALL branches) in one statement; a
    // larger table gets longer runs.
    const MAX_RUNS: i64 = 4096;
    // At most about this many keys come back from a sample.
    const MAX_SAMPLED_KEYS: f64 = 2_000_000.0;
    // Keys kept from the sample for the quantile cuts (about 1 MiB).
    const KEPT_KEYS: f64 = 16_384.0;
    let sample = |want: i64| {
        if pages <= want {
            (
                format!("SELECT {key_text} FROM {tref}{filter} ORDER BY {key_list}"),
                1.0,
            )
        } else {
            let pct = (want as f64 * 100.0 / pages as f64).clamp(0.0001, 100.0);
            (
                format!(
                    "SELECT {key_text} FROM {tref} TABLESAMPLE SYSTEM ({pct:.6}) REPEATABLE (7){filter} ORDER BY {key_list}"
                ),
                pct / 100.0,
            )
        }
    };
    // `runs` consecutive pages each `pages / runs` apart, `want` pages in
    // all: the SELECT and the fraction of the heap it reads.
    // `n <= want <= pages`: runs never overlap. `jitter` moves each run to
    // a fixed pseudo-random place inside its stretch (a stratified sample:
    // evenly spaced pages alias with a periodic row width, and the pilot's
    // row estimate was 10% high on such a table); cuts at run starts need
    // the runs exactly spaced, so only the pilot jitters.
    let runs = |want: i64, chunks: i64, jitter: bool| {
        let n = chunks.clamp(1, MAX_RUNS).min(want);
        let len = (want / n).max(1);
        let branch = |j: i64| {
            let slack = (pages / n - len).max(0) as u64;
            let mixed = (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
            let off = if jitter {
                (mixed % (slack + 1)) as i64
            } else {
                0
            };
            let start = j * pages / n + off;
            let range = format!(
                "ctid >= '({start},0)'::tid AND ctid < '({},0)'::tid",
                start + len
            );
            format!(
                "SELECT {key_text}, {j}::int4 AS parity_run, {key_list} FROM {tref}{}",
                sql::where_all(spec, [range])
            )
        };
        let all: Vec<String> = (0..n).map(branch).collect();
        (
            format!(
                "SELECT * FROM ({}) parity_runs ORDER BY {key_list}",
                all.join(" UNION ALL ")
            ),
            ((n * len) as f64 / pages as f64).min(1.0),
        )
    };
    let nkeys = spec.key.len();
    // Streams a sample, keeping every `stride`-th key (a few per chunk are
    // enough), so a large sample costs little memory. Rows of `runs` carry
    // their run's number after the keys: while those come in run order
    // (a table in key order), the first key of each run is kept too.
    // Returns the keys kept, their runs when in run order, and how many
    // rows the sample held.
    let fetch = async |conn: &mut PgConnection, sql: String, stride: usize| {
        // Flat, `nkeys` values a key: no allocation per key but its text.
        let mut kept: Vec<Option<String>> = Vec::new();
        let mut runs: Option<Vec<i32>> = Some(Vec::new());
        let mut last: Option<i32> = None;
        let mut seen = 0usize;
        let mut stream = sqlx::query(&sql).fetch(&mut *conn);
        while let Some(r) = stream
            .try_next()
            .await
            .with_context(|| format!("cannot sample the key of {}", spec.table))?
        {
            let run = r.try_get::<i32, _>(nkeys).ok();
            if run.is_none() || run < last {
                runs = None;
            }
            let starts_run = runs.is_some() && run != last;
            if seen.is_multiple_of(stride) || starts_run {
                kept.extend((0..nkeys).map(|c| r.try_get::<Option<String>, _>(c).ok().flatten()));
                if let (Some(runs), Some(run)) = (runs.as_mut(), run) {
                    runs.push(run);
                }
            }
            last = run;
            seen += 1;
        }
        anyhow::Ok((Kept { flat: kept, nkeys }, runs, seen))
    };
    // The pilot reads SAMPLE_PAGES single pages, one in each stretch of
    // the heap, so its fraction of the heap is known exactly: a random
    // block sample's row estimate was 7% short at 20M rows, and every chunk
    // 7% larger.
    let runs_fit = tid_ranges && pages > SAMPLE_PAGES;
    // JIT would compile every branch of the runs' UNION ALL, for seconds;
    // this transaction's setting is put back after.
    let jit: Option<String> = if runs_fit {
        Some(
            sqlx::query_scalar("SELECT current_setting('jit'), set_config('jit', 'off', true)")
                .fetch_one(&mut *conn)
                .await
                .context("cannot turn JIT off for the key sample")?,
        )
    } else {
        None
    };
    let (sql, mut fraction) = if runs_fit {
        runs(SAMPLE_PAGES, SAMPLE_PAGES, true)
    } else {
        sample(SAMPLE_PAGES)
    };
    let (mut keys, _, mut seen) = fetch(&mut *conn, sql, 1).await?;
    let mut in_run_order = None;
    let chunks_of = |n: usize, fraction: f64| {
        let estimated = (n as f64 / fraction).round() as u64;
        (
            estimated,
            estimated.div_ceil(chunk_rows.max(1) as u64).max(1),
        )
    };
    let (_, chunks) = chunks_of(seen, fraction);
    let mut aligned = false;
    if pages > SAMPLE_PAGES && seen > 0 {
        let keys_per_page = seen as f64 / (fraction * pages as f64);
        let cap = (MAX_SAMPLED_KEYS / keys_per_page.max(1.0)) as i64;
        let want = (PAGES_PER_CHUNK * chunks as i64).min(cap).min(pages);
        if want > SAMPLE_PAGES {
            // Keep about 64 keys per chunk, but no more than KEPT_KEYS in
            // all while 16 a chunk fit in it (past 256 chunks, fewer a
            // chunk): memory flat in table size up to 1,024 chunks.
            let expected = keys_per_page * want as f64;
            let keep = (64.0 * chunks as f64).min(KEPT_KEYS.max(16.0 * chunks as f64));
            let stride = ((expected / keep) as usize).max(1);
            // A table wanted whole is read whole (`sample` scans it all).
            let (sql, f) = if runs_fit && want < pages {
                // One run per chunk: the runs' starts are the cuts.
                aligned = chunks as i64 <= MAX_RUNS.min(want);
                runs(want, chunks as i64, false)
            } else {
                sample(want)
            };
            (keys, in_run_order, seen) = fetch(&mut *conn, sql, stride).await?;
            fraction = f;
        }
    }
    if let Some(jit) = jit {
        sqlx::query("SELECT set_config('jit', $1, true)")
            .bind(&jit)
            .execute(&mut *conn)
            .await
            .context("cannot put JIT back after the key sample")?;
    }
    let (estimated, resampled) = chunks_of(seen, fraction);
    // With one run per chunk, the cuts fall at the runs' starts only if
    // the chunk count stays the runs' count.
    let chunks = if aligned { chunks } else { resampled } as usize;
    let mut out: Vec<Boundary> = Vec::new();
    match in_run_order.filter(|_| aligned) {
        // Keys in run order: cut at each run's first key, evenly spaced
        // over the heap.
        Some(runs) => {
            for i in 1..chunks as i32 {
                let idx = runs.partition_point(|&r| r < i);
                if idx < keys.len() {
                    sql::push_boundary(&mut out, keys.get(idx));
                }
            }
        }
        None if chunks > 1 && !keys.is_empty() => {
            for i in 1..chunks {
                let idx = (i * keys.len()) / chunks;
                sql::push_boundary(&mut out, keys.get(idx.min(keys.len() - 1)));
            }
        }
        None => {}
    }
    Ok((out, estimated))
}

/// Sampled keys, kept flat: `nkeys` values each.
struct Kept {
    flat: Vec<Option<String>>,
    nkeys: usize,
}

impl Kept {
    fn len(&self) -> usize {
        self.flat.len() / self.nkeys.max(1)
    }

    fn is_empty(&self) -> bool {
        self.flat.is_empty()
    }

    /// The `i`-th key as a boundary.
    fn get(&self, i: usize) -> Boundary {
        self.flat[i * self.nkeys..(i + 1) * self.nkeys]
            .iter()
            .map(|v| v.clone().map_or(OwnedRaw::Null, OwnedRaw::Text))
            .collect()
    }
}

/// The SELECT for one chunk: key columns first, then the rest, ordered by key.
pub fn chunk_select(read: &ChunkRead<'_>) -> Result<String> {
    let ChunkRead {
        spec,
        live,
        lower,
        upper,
        ..
    } = *read;
    let find = |name: &str| sql::live_column(live, spec, name, "column");
    let mut cols = Vec::with_capacity(spec.columns.len());
    for name in &spec.columns {
        let c = find(name)?;
        cols.push(if c.cast_to_text {
            format!("{}::text", ident(name))
        } else {
            ident(name)
        });
    }
    Ok(format!(
        "SELECT {}{} ORDER BY {}",
        cols.join(", "),
        chunk_from(spec, live, lower, upper)?,
        Q.list(&spec.key)
    ))
}

/// ` FROM table WHERE …` for the keys in `(lower, upper]` (and the pair's
/// filter): what a chunk's read and a chunk's hash (pushdown) select from.
pub fn chunk_from(
    spec: &ReadSpec,
    live: &[LiveColumn],
    lower: Option<&Boundary>,
    upper: Option<&Boundary>,
) -> Result<String> {
    let find = |name: &str| sql::live_column(live, spec, name, "column");
    let key_types = spec
        .key
        .iter()
        .map(|k| find(k).map(|c| c.cast_type.clone()))
        .collect::<Result<Vec<_>>>()?;
    let key_list = Q.list(&spec.key);
    let key_tuple = format!("({key_list})");
    let lit_tuple = |b: &Boundary| -> Result<String> {
        let mut parts = Vec::new();
        for (v, ty) in b.iter().zip(&key_types) {
            match v {
                OwnedRaw::Text(t) => parts.push(format!("{}::{ty}", literal(t))),
                OwnedRaw::Int(i) => parts.push(format!("{i}::{ty}")),
                other => bail!("unsupported chunk boundary value {other:?}"),
            }
        }
        Ok(format!("({})", parts.join(", ")))
    };
    let mut bounds = Vec::new();
    if let Some(l) = lower {
        bounds.push(format!("{key_tuple} > {}", lit_tuple(l)?));
    }
    if let Some(u) = upper {
        bounds.push(format!("{key_tuple} <= {}", lit_tuple(u)?));
    }
    Ok(format!(
        " FROM {}{}",
        table_ref(spec.schema.as_deref(), &spec.table),
        sql::where_all(spec, bounds)
    ))
}

/// Reads one chunk with COPY binary.
pub async fn read_chunk(conn: &mut PgConnection, read: ChunkRead<'_>) -> Result<ChunkData> {
    let ChunkRead {
        spec,
        wires,
        capacity,
        ..
    } = read;
    let select = chunk_select(&read)?;
    let copy = format!("COPY ({select}) TO STDOUT (FORMAT binary)");
    let capacity = if capacity > 0 { capacity } else { 1 << 20 };
    let buf = copy_out(conn, &copy, capacity)
        .await
        .with_context(|| format!("cannot read {}", spec.table))?;
    ChunkData::from_pg_copy(buf, wires.clone()).with_context(|| format!("reading {}", spec.table))
}

/// Runs `COPY … TO STDOUT` and collects what it sends, reserving
/// `capacity` bytes first. COPY sends a message a row, so the connection's
/// own read buffer grows only to the largest row, whatever the result's
/// size (pushdown's packed row hashes are one row of 16 bytes a chunk
/// row).
pub async fn copy_out(conn: &mut PgConnection, copy: &str, capacity: usize) -> Result<Buf> {
    let mut buf = Buf::with_capacity(capacity);
    let mut stream = conn.copy_out_raw(copy).await?;
    while let Some(bytes) = stream.try_next().await? {
        buf.extend_from_slice(&bytes);
    }
    Ok(buf)
}

/// Is this error a lost connection worth one retry?
pub fn is_connection_lost(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        if let Some(sx) = c.downcast_ref::<sqlx::Error>() {
            match sx {
                sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                    return true;
                }
                sqlx::Error::Database(db) => {
                    // 57P01 admin_shutdown (pg_terminate_backend), 57P02/57P03, 08xxx.
                    return db
                        .code()
                        .is_some_and(|c| c.starts_with("57P") || c.starts_with("08"));
                }
                _ => {}
            }
        }
        let msg = c.to_string().to_ascii_lowercase();
        msg.contains("connection reset")
            || msg.contains("terminating connection")
            || msg.contains("broken pipe")
            || msg.contains("unexpected end of file")
    })
}

/// Test hook: a separate session terminates a reader's backend, the way
/// an operator or a failover would, at a deterministic point.
pub async fn terminate_backend(pool: &PgPool, victim: &mut PgConnection) -> Result<()> {
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *victim)
        .await?;
    let mut other = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut other)
        .await?;
    let _ = other.close().await;
    Ok(())
}

/// A statement that gave up waiting for a lock (`lock_timeout`, 55P03).
pub fn is_lock_timeout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sqlx::Error>().is_some_and(
            |sx| matches!(sx, sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03")),
        )
    })
}

/// Who holds a lock on a table, for the error row of a table that could
/// not be read: `AccessExclusiveLock held by pid 4242 (psql, idle in
/// transaction)`. Read in its own read-only transaction.
pub async fn lock_holders(pool: &PgPool, schema: Option<&str>, table: &str) -> Option<String> {
    let mut tx = crate::db::pg_begin(pool, "BEGIN READ ONLY").await.ok()?;
    let rows: Vec<(String, i32, String, String)> = sqlx::query_as(
        "SELECT l.mode, l.pid, COALESCE(a.application_name, ''), COALESCE(a.state, '') \
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.granted \
           AND l.pid <> pg_backend_pid() ORDER BY l.pid",
    )
    .bind(table_ref(schema, table))
    .fetch_all(&mut *tx)
    .await
    .ok()?;
    let _ = tx.rollback().await;
    let held: Vec<String> = rows
        .iter()
        .filter(|(mode, ..)| mode != "AccessShareLock")
        .map(|(mode, pid, app, state)| {
            let who: Vec<&str> = [app.as_str(), state.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            if who.is_empty() {
                format!("{mode} held by pid {pid}")
            } else {
                format!("{mode} held by pid {pid} ({})", who.join(", "))
            }
        })
        .collect();
    (!held.is_empty()).then(|| held.join("; "))
}
