//! `parity seed`: creates the bike-shop fixture schema in a database and
//! fills it deterministically. The only part of parity that writes.
//!
//! Owns: the embedded fixture migrations ([`fixture`]) and what the
//! migrators record ([`record`]), the deterministic data ([`data`], rules
//! documented there), planted differences ([`drift`]), and one bulk writer
//! per backend ([`Backend`]: PostgreSQL `COPY`, MariaDB multi-row `INSERT`,
//! SQLite bound multi-row `INSERT` in one transaction) behind one row loop.
//! It does not read through any ORM mapping.
//!
//! The flow: validate everything that can fail without a database (drift
//! spec, migration tag) → connect, creating the database if missing →
//! refuse a non-empty database unless `--force` → tables and enums → load
//! each table (a blocking generator thread streams bounded batches to the
//! writer) → secondary indexes and foreign keys → drift edits → migration
//! rows → sequences and statistics.

pub mod data;
pub mod drift;
pub mod encode;
pub mod fixture;
mod mysql;
mod postgres;
pub mod record;
pub mod rng;
mod sqlite;
pub mod time;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::config::DbUrl;
use crate::db::{dialect_of, scrub};
use crate::mapping::Dialect;
use crate::ui::Ui;
use data::{Generator, Table, Val};
use drift::{DriftPlan, DriftSpec, Inserted};
use fixture::{Flavour, MigrationSelection};

/// Everything `seed` needs, validated.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub url: DbUrl,
    /// Transactions; the other tables scale with it.
    pub rows: u64,
    pub seed: u64,
    pub drift: Option<DriftSpec>,
    pub migrations: MigrationSelection,
    /// Drop the fixture's tables first when the database is not empty.
    pub force: bool,
}

/// What was seeded.
#[derive(Debug, Clone)]
pub struct SeedSummary {
    /// Rows per table after drift, in load order.
    pub rows: Vec<(Table, u64)>,
    pub drift: Option<DriftPlan>,
    pub seconds: f64,
}

impl SeedSummary {
    pub fn rows_of(&self, t: Table) -> u64 {
        self.rows
            .iter()
            .find(|(x, _)| *x == t)
            .map_or(0, |(_, n)| *n)
    }
}

/// A connection the seed runs statements on: any sqlx connection.
pub(crate) trait Conn {
    async fn exec(&mut self, sql: &str) -> Result<()>;
    /// The number a `SELECT count(*) …` returns.
    async fn count(&mut self, sql: &str) -> Result<u64>;
}

impl<C> Conn for C
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
    i64: sqlx::Type<C::Database> + for<'r> sqlx::Decode<'r, C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
{
    async fn exec(&mut self, sql: &str) -> Result<()> {
        sqlx::Executor::execute(self, sql)
            .await
            .with_context(|| format!("statement failed: {}", first_line(sql)))?;
        Ok(())
    }

    async fn count(&mut self, sql: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(self).await?;
        Ok(n as u64)
    }
}

/// One bulk writer: a connection to one backend. Each backend file
/// implements it; `seed` drives them all the same way, and [`load`] is the
/// one row loop they share.
pub(crate) trait Backend: Conn {
    const DIALECT: Dialect;
    /// `SELECT count(*)` of the tables in the database (all schemas but the
    /// system ones).
    const COUNT_TABLES: &'static str;
    /// Spells rows into batches, on the generator's thread.
    type Encoder: Encoder;
    /// Where one table's batches go.
    type Sink<'a>: Sink<Batch = <Self::Encoder as Encoder>::Batch>
    where
        Self: 'a;

    /// Drops the fixture's tables and types and both migration tables.
    async fn drop_fixture(&mut self, f: &Flavour) -> Result<()>;
    /// Session set-up before DDL and loading (and a transaction where DDL
    /// is transactional, so a failed seed leaves nothing behind).
    async fn start(&mut self) -> Result<()>;
    /// Starts loading `t`: the sink its batches go to, and their encoder.
    async fn open(&mut self, t: Table) -> Result<(Self::Sink<'_>, Self::Encoder)>;
    /// Sequences past the loaded ids, statistics, commit.
    async fn finish(&mut self) -> Result<()>;

    async fn count_tables(&mut self) -> Result<u64> {
        self.count(Self::COUNT_TABLES).await
    }

    async fn count_rows(&mut self, t: Table) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM {}", ident(Self::DIALECT, t.name()));
        self.count(&sql).await
    }
}

/// Spells generated rows into one backend's batches (COPY text, an INSERT
/// statement, bound values). Runs on the generator thread.
pub(crate) trait Encoder: Send + 'static {
    type Batch: Send + 'static;
    fn empty(&self) -> Self::Batch;
    /// Appends one row; true when the batch is full.
    fn push(&mut self, batch: &mut Self::Batch, row: &[Val]) -> bool;
}

/// One table's load in progress on a backend's connection.
pub(crate) trait Sink {
    type Batch;
    async fn write(&mut self, batch: Self::Batch) -> Result<()>;
    /// Ends a load that failed, as far as it can: the caller reports the
    /// failure's own error.
    async fn abandon(self, why: &str);
    async fn complete(self) -> Result<()>;
}

/// The rows of one table: the base rows, then drift's inserted rows.
pub(crate) struct RowSource {
    pub generator: Arc<Generator>,
    pub table: Table,
    pub inserted: Option<Inserted>,
}

/// A batch of encoded rows.
pub(crate) struct Batch<B> {
    pub data: B,
    pub rows: u64,
}

/// Batches in flight per table: bounds memory whatever `--rows` is.
const QUEUE: usize = 4;

impl RowSource {
    /// Generates on a blocking thread, `encoder` filling the batches.
    pub fn spawn<E: Encoder>(
        self,
        mut encoder: E,
    ) -> (mpsc::Receiver<Batch<E::Batch>>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = tokio::task::spawn_blocking(move || {
            let mut batch = Batch {
                data: encoder.empty(),
                rows: 0,
            };
            let mut closed = false;
            let mut emit = |row: &[Val]| {
                if closed {
                    return;
                }
                batch.rows += 1;
                if encoder.push(&mut batch.data, row) {
                    let empty = Batch {
                        data: encoder.empty(),
                        rows: 0,
                    };
                    let full = std::mem::replace(&mut batch, empty);
                    closed = tx.blocking_send(full).is_err();
                }
            };
            let g = &self.generator;
            g.for_each(self.table, &mut emit);
            let mut buf = Vec::with_capacity(12);
            match &self.inserted {
                None => {}
                Some(Inserted::Indexes(range)) => {
                    for i in range.clone() {
                        g.row(self.table, i, &mut buf);
                        emit(&buf);
                    }
                }
                Some(Inserted::Events(list)) => {
                    for (r, seq) in list.iter().copied() {
                        g.event(r, seq, &mut buf);
                        emit(&buf);
                    }
                }
                Some(Inserted::Links(list)) => {
                    for (item, r) in list.iter().copied() {
                        buf.clear();
                        buf.push(Val::Int(item as i64));
                        buf.push(Val::Text(g.repair_id(r)));
                        emit(&buf);
                    }
                }
            }
            if !closed && batch.rows > 0 {
                let _ = tx.blocking_send(batch);
            }
        });
        (rx, handle)
    }
}

/// Loads one table: the generator thread encodes batches while the sink
/// writes them. A panic in the generator is an error, not a silently short
/// table.
async fn load<B: Backend>(b: &mut B, src: RowSource) -> Result<u64> {
    let t = src.table;
    let (mut sink, encoder) = b.open(t).await?;
    let (mut rx, handle) = src.spawn(encoder);
    let mut n = 0u64;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = sink.write(batch.data).await {
            drop(rx);
            sink.abandon("send failed").await;
            return Err(e);
        }
        n += batch.rows;
    }
    if let Err(e) = handle
        .await
        .with_context(|| format!("generating {} failed", t.name()))
    {
        sink.abandon("generator failed").await;
        return Err(e);
    }
    sink.complete().await?;
    Ok(n)
}

/// Seeds the database at `opts.url`. Progress goes to `ui` (stderr).
pub async fn seed(opts: &SeedOptions, ui: &Ui) -> Result<SeedSummary> {
    let started = Instant::now();
    let dialect = dialect_of(&opts.url)?;
    let flavour = fixture::flavour(dialect);
    let recorded = flavour.select(&opts.migrations)?;
    let generator = Arc::new(Generator::new(opts.seed, opts.rows));
    let plan = match &opts.drift {
        Some(spec) => Some(DriftPlan::new(&generator, spec)?),
        None => None,
    };
    match dialect {
        Dialect::Postgres => {
            let mut b = postgres::connect(&opts.url, ui).await?;
            run(
                &mut b, flavour, recorded, &generator, plan, opts, ui, started,
            )
            .await
        }
        Dialect::Mysql => {
            let mut b = mysql::connect(&opts.url, ui).await?;
            run(
                &mut b, flavour, recorded, &generator, plan, opts, ui, started,
            )
            .await
        }
        Dialect::Sqlite => {
            let mut b = sqlite::connect(&opts.url).await?;
            run(
                &mut b, flavour, recorded, &generator, plan, opts, ui, started,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<B: Backend>(
    b: &mut B,
    flavour: &Flavour,
    recorded: fixture::Recorded,
    generator: &Arc<Generator>,
    plan: Option<DriftPlan>,
    opts: &SeedOptions,
    ui: &Ui,
    started: Instant,
) -> Result<SeedSummary> {
    let redacted = opts.url.redacted();
    let existing = b.count_tables().await?;
    if existing > 0 {
        if !opts.force {
            anyhow::bail!(
                "database {redacted} already has {existing} tables; pass --force to drop the fixture's tables and reseed"
            );
        }
        ui.info(format!(
            "dropping the fixture's tables in {redacted} (--force)"
        ));
        b.drop_fixture(flavour).await?;
    }
    b.start().await?;
    let ddl = flavour.ddl();
    for s in &ddl.before_load {
        b.exec(s).await.context("creating the fixture schema")?;
    }
    ui.info(format!(
        "seeding {redacted}: {} transactions, seed {}",
        opts.rows, opts.seed
    ));
    let mut rows = Vec::new();
    for t in Table::ALL {
        let t0 = Instant::now();
        let inserted = plan
            .as_ref()
            .filter(|p| p.table == t)
            .map(|p| p.rows.clone());
        let src = RowSource {
            generator: generator.clone(),
            table: t,
            inserted,
        };
        let n = load(b, src)
            .await
            .with_context(|| format!("loading {}", t.name()))?;
        ui.info(format!(
            "  {:<14} {:>10} rows  {:>6.1}s",
            t.name(),
            n,
            t0.elapsed().as_secs_f64()
        ));
        rows.push((t, n));
    }
    let t0 = Instant::now();
    for s in &ddl.after_load {
        b.exec(s)
            .await
            .context("creating indexes and foreign keys")?;
    }
    ui.info(format!(
        "  indexes and foreign keys  {:.1}s",
        t0.elapsed().as_secs_f64()
    ));
    if let Some(p) = &plan {
        for s in p.statements(flavour.dialect) {
            b.exec(&s).await.context("applying --drift")?;
        }
        if !p.deleted.is_empty() {
            for (t, n) in rows.iter_mut() {
                *n = b.count_rows(*t).await?;
            }
        }
    }
    for s in record::statements(flavour, recorded, opts.seed)? {
        b.exec(&s).await.context("recording migrations")?;
    }
    b.finish().await?;
    Ok(SeedSummary {
        rows,
        drift: plan,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Quotes an identifier for `d`.
pub(crate) fn ident(d: Dialect, name: &str) -> String {
    match d {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `"a", "b", …` for a table's columns.
pub(crate) fn column_list(d: Dialect, t: Table) -> String {
    t.columns()
        .iter()
        .map(|c| ident(d, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first line of a statement, for error messages.
pub(crate) fn first_line(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or("");
    if line.len() > 120 {
        let mut end = 120;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &line[..end])
    } else {
        line.to_string()
    }
}

/// `{what} scheme://host:port/db: …` with the URL's secrets scrubbed from
/// the driver's message.
pub(crate) fn url_error(what: &str, url: &DbUrl, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{what} {}: {}", url.redacted(), scrub(&e.to_string(), url))
}

/// Creates a missing database over `admin` (a connection to another
/// database of the server), then closes it. `shown` is the name as messages
/// quote it.
pub(crate) async fn create_database<C>(mut admin: C, sql: &str, shown: &str, ui: &Ui) -> Result<()>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    ui.info(format!("creating database {shown}"));
    sqlx::Executor::execute(&mut admin, sql)
        .await
        .with_context(|| format!("cannot create database {shown}"))?;
    let _ = admin.close().await;
    Ok(())
}

/// Retries a refused connection with backoff for up to 10 s (a database
/// still starting up), then gives up with the last error.
pub(crate) async fn with_retry<T, F, Fut>(mut f: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let started = Instant::now();
    let mut delay = std::time::Duration::from_millis(100);
    loop {
        match f().await {
            Err(sqlx::Error::Io(e))
                if started.elapsed() + delay < std::time::Duration::from_secs(10)
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                    ) =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(2));
            }
            other => return other,
        }
    }
}
