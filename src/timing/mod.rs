//! Paired query timing: each ORM's captured SQL for the same repository
//! operation, run interleaved against the database, with a result-parity
//! check and a statistical verdict.
//!
//! The flow, one module per stage:
//! `ops` (queries/ files → [`ops::Operation`]) → `exec` (sessions, binding,
//! rows as [`value::Val`]) → `runner` (parity pass, warm-up, interleaved
//! rounds, plans) → `rows` (rows → canonical entities through each side's
//! mapping, compared as sets and in order) → `stats` (percentiles, MAD,
//! hierarchical bootstrap over blocks, verdict). `clock` makes the
//! measurements injectable. `observe` does the same arithmetic for
//! production statement statistics.
//!
//! Returns data: the [`TimingSection`] in `result` (and `observe`'s
//! `ObserveSection`), which `report` renders (timing.csv,
//! timing-compare.csv, summary.md, report.json, report.html, junit.xml and
//! the EXPLAIN files `--explain` captures). It does not load mappings
//! (`mapping`) and writes no file: it never imports `report`.
//!
//! Library entry points, shared by `parity timing` and `parity run`:
//! [`TimingOptions::resolve`], [`select_operations`] and
//! [`run_operations`]; `report::timing` renders the result.

pub mod clock;
pub mod exec;
pub mod explain_mask;
pub mod mysql;
pub mod observe;
pub mod ops;
pub mod result;
pub mod rows;
pub mod runner;
pub mod stats;
pub mod value;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use clock::{Clock, MockClock, SystemClock};
pub use ops::{CompareMode, Operation};
pub use result::{OperationResult, ResultMismatch, SideResult, TimingSection};
pub use stats::{Comparison, LatencySummary, TimingVerdict};

use crate::config::{Config, TimingSettings};
use crate::db::{ConnectOptions, Db};
use crate::mapping::{Dialect, Mapping};
use crate::ui::Ui;

/// Resolved timing settings: config `[timing]` overridden by flags.
#[derive(Debug, Clone)]
pub struct TimingOptions {
    /// Measured iterations per side (at least; rounded up to whole rounds of
    /// `concurrency` clients).
    pub iterations: usize,
    /// Unmeasured warm-up rounds.
    pub warmup: usize,
    /// Keep measuring until this much time has passed per operation.
    pub min_time_seconds: f64,
    /// Concurrent clients per side.
    pub concurrency: usize,
    /// `slower` when the interval's lower bound exceeds 1 + this.
    pub max_slowdown: f64,
    /// Capture the plans of each side's median iteration (`--explain`):
    /// handed back in [`SideResult::explain`] for `report` to write.
    pub explain: bool,
    /// Statement timeout per session.
    pub statement_timeout_seconds: u64,
    /// Independent blocks per operation (at most one per round): the
    /// measured rounds are split evenly between them, and each opens
    /// fresh sessions and runs its own `warmup` rounds.
    pub blocks: usize,
}

impl TimingOptions {
    /// Config settings with flag overrides (`None` keeps the config value).
    pub fn resolve(
        settings: &TimingSettings,
        iterations: Option<usize>,
        warmup: Option<usize>,
        min_time: Option<&str>,
        concurrency: Option<usize>,
        max_slowdown: Option<f64>,
    ) -> Result<TimingOptions> {
        let min_time_seconds = match min_time {
            Some(s) => crate::config::parse_duration_seconds(s).with_context(|| {
                format!("--min-time \"{s}\" is not a duration; write e.g. 5s or 500ms")
            })?,
            None => settings.min_time_seconds,
        };
        let iterations = iterations.unwrap_or(settings.iterations);
        if iterations == 0 {
            bail!("--iterations must be at least 1");
        }
        let concurrency = concurrency.unwrap_or(settings.concurrency);
        if concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        Ok(TimingOptions {
            iterations,
            warmup: warmup.unwrap_or(settings.warmup),
            min_time_seconds,
            concurrency,
            max_slowdown: max_slowdown.unwrap_or(settings.max_slowdown),
            explain: false,
            statement_timeout_seconds: 600,
            blocks: settings.blocks.max(1),
        })
    }

    /// `--blocks N` over the config's `[timing] blocks`.
    pub fn with_blocks(mut self, blocks: Option<usize>) -> Result<TimingOptions> {
        if let Some(b) = blocks {
            if b == 0 {
                bail!("--blocks must be at least 1");
            }
            self.blocks = b;
        }
        Ok(self)
    }

    /// Measured rounds per operation: `iterations` rounded up to whole
    /// rounds of `concurrency` clients.
    pub fn rounds(&self) -> usize {
        self.iterations.div_ceil(self.concurrency.max(1)).max(1)
    }

    /// The blocks an operation is measured in: at most one per round.
    pub fn effective_blocks(&self) -> usize {
        self.blocks.clamp(1, self.rounds())
    }
}

/// The operations to time: from `queries` when given, else from the
/// `queries` folders of the config's repositories (only `repository` when
/// given), else `queries/` beside the config. Narrowed to `names` when
/// non-empty and to operations written for `dialect`. Returns the
/// operations and notes on what was skipped.
pub fn select_operations(
    config: &Config,
    repository: Option<&str>,
    queries: Option<&Path>,
    names: &[String],
    dialect: Dialect,
) -> Result<(Vec<Operation>, Vec<String>)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(q) = queries {
        dirs.push(q.to_path_buf());
    } else {
        if let Some(r) = repository
            && config.repository(r).is_none()
        {
            bail!(
                "no [[repository]] named \"{r}\" in {}; add one or drop --repository",
                config.path.display()
            );
        }
        for r in &config.repositories {
            if repository.is_some_and(|x| x != r.name) {
                continue;
            }
            if let Some(q) = &r.queries
                && !dirs.contains(q)
            {
                dirs.push(q.clone());
            }
        }
        if dirs.is_empty() {
            let d = config.dir.join("queries");
            if d.is_dir() {
                dirs.push(d);
            }
        }
    }
    let mut ops: Vec<Operation> = Vec::new();
    let mut notes = Vec::new();
    for d in &dirs {
        // A repository may name its queries folder before it has any.
        if queries.is_none() && !d.exists() {
            notes.push(format!(
                "{} does not exist: no operations timed from it",
                d.display()
            ));
            continue;
        }
        for op in ops::load_dir(d)? {
            if !ops.iter().any(|o| o.file == op.file) {
                ops.push(op);
            }
        }
    }
    if let Some(r) = repository {
        ops.retain(|o| o.repository == r);
    }
    if !names.is_empty() {
        for n in names {
            if !ops.iter().any(|o| &o.name == n || &o.id() == n) {
                bail!("no operation named \"{n}\" in {}", show_dirs(&dirs));
            }
        }
        ops.retain(|o| names.iter().any(|n| n == &o.name || n == &o.id()));
    }
    let before = ops.len();
    ops.retain(|o| o.dialect.is_none_or(|d| d == dialect));
    if ops.len() < before {
        notes.push(format!(
            "{} operation file(s) written for another database than {} were skipped",
            before - ops.len(),
            dialect.as_str()
        ));
    }
    Ok((ops, notes))
}

fn show_dirs(dirs: &[PathBuf]) -> String {
    if dirs.is_empty() {
        "(no queries folder: set queries = \"…\" in a [[repository]] or pass --queries)".into()
    } else {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `ops` against the config's two databases, each side's results read
/// through its mapping. Calls `on_progress` after each operation (to rewrite
/// the reports). Refuses write operations unless both sides allow writes.
/// One failing operation does not stop the batch: it gets an `error`
/// verdict.
#[allow(clippy::too_many_arguments)]
pub async fn run_operations(
    config: &Config,
    source_map: &Mapping,
    target_map: &Mapping,
    ops: &[Operation],
    opts: &TimingOptions,
    clock: &dyn Clock,
    ui: &Ui,
    on_progress: &mut (dyn FnMut(&TimingSection) -> Result<()> + Send),
) -> Result<TimingSection> {
    let mut section = TimingSection {
        iterations: opts.iterations,
        warmup: opts.warmup,
        concurrency: opts.concurrency,
        min_time_seconds: opts.min_time_seconds,
        max_slowdown: opts.max_slowdown,
        operations: Vec::new(),
        notes: Vec::new(),
        blocks: opts.effective_blocks(),
    };
    if ops.is_empty() {
        return Ok(section);
    }
    let writers: Vec<&Operation> = ops.iter().filter(|o| o.writes).collect();
    let sides = [("source", &config.source), ("target", &config.target)];
    if let Some(w) = writers.first()
        && let Some((which, _)) = sides.iter().find(|(_, side)| !side.allow_writes)
    {
        bail!(
            "operation {} writes (rolled back, always), but [{which}] does not allow writes; \
             set allow_writes = true in [{which}] of {} for a database you may write to, \
             or leave the operation out with --operations",
            w.id(),
            config.path.display()
        );
    }
    let [surl, turl] = sides.map(|(which, side)| {
        side.url.as_ref().with_context(|| {
            format!(
                "[{which}] has no url; set url = \"${{DATABASE_URL}}\" in the config and export DATABASE_URL"
            )
        })
    });
    let (surl, turl) = (surl?, turl?);
    let connect = |writes: bool| ConnectOptions {
        max_connections: opts.concurrency as u32 + 1,
        statement_timeout: std::time::Duration::from_secs(opts.statement_timeout_seconds),
        lock_timeout: std::time::Duration::from_secs(config.check.lock_timeout_seconds),
        read_only: !writes,
        ..ConnectOptions::default()
    };
    let any_writes = !writers.is_empty();
    let (source_map, target_map) = reconciled(source_map, target_map, config);
    let sdb = Db::connect(surl, &connect(any_writes))
        .await
        .context("source database")?;
    let mut source = open_side("source", sdb, &source_map, opts.concurrency).await?;
    // One database for both mappings (the usual case): the target shares the
    // source's sessions, so both sides' SQL runs on the same backends.
    let mut target = if surl == turl {
        runner::TimingSide {
            label: "target",
            db: source.db.clone(),
            sessions: Vec::new(),
            mapping: &target_map,
            catalog: source.catalog.clone(),
        }
    } else {
        let tdb = Db::connect(turl, &connect(any_writes))
            .await
            .context("target database")?;
        open_side("target", tdb, &target_map, opts.concurrency).await?
    };
    for op in ops {
        let r = runner::run_operation(op, &mut source, &mut target, opts, clock, ui).await;
        section.operations.push(r);
        on_progress(&section)?;
    }
    drop(source.sessions);
    drop(target.sessions);
    close(&source.db).await;
    close(&target.db).await;
    Ok(section)
}

/// Both mappings with the plan's read-mode reconciliation applied to every
/// column the two sides share (`plan::reconcile`): a SQLite DATETIME one
/// ORM reads as a `Date` and the other as its text compares as a timestamp,
/// exactly as `check` compares it. Tables pair by physical name or
/// `[[pair]]`.
fn reconciled(source: &Mapping, target: &Mapping, config: &Config) -> (Mapping, Mapping) {
    let mut s = source.clone();
    let mut t = target.clone();
    for st in &mut s.tables {
        let over = config
            .pairs
            .iter()
            .find(|p| p.source == st.name || p.source == st.qualified_name());
        let tname = over.map_or(st.qualified_name(), |p| p.target.clone());
        let Some(tt) = t.tables.iter_mut().find(|x| {
            x.qualified_name() == tname
                || crate::mapping::split_qualified(&tname).1 == x.name
                    && crate::mapping::schema_matches(x.schema.as_deref(), st.schema.as_deref())
        }) else {
            continue;
        };
        for sc in &mut st.columns {
            let tcol = over
                .and_then(|p| p.columns.get(&sc.name))
                .cloned()
                .unwrap_or_else(|| sc.name.clone());
            if let Some(tc) = tt.columns.iter_mut().find(|c| c.name == tcol) {
                crate::plan::reconcile(sc, tc);
            }
        }
    }
    (s, t)
}

async fn open_side<'a>(
    label: &'static str,
    db: Db,
    mapping: &'a Mapping,
    clients: usize,
) -> Result<runner::TimingSide<'a>> {
    let mut sessions = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        sessions.push(
            exec::Session::open(&db)
                .await
                .with_context(|| format!("{label} database"))?,
        );
    }
    let catalog = exec::Catalog::load(&db)
        .await
        .with_context(|| format!("{label} database"))?;
    Ok(runner::TimingSide {
        label,
        db,
        sessions,
        mapping,
        catalog,
    })
}

async fn close(db: &Db) {
    match db {
        Db::Postgres(p) => p.close().await,
        Db::Sqlite(p) => p.close().await,
        Db::Mysql(p) => p.close().await,
    }
}
