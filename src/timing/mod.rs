//! Paired query timing: each ORM's captured SQL for the same repository
//! operation, run interleaved against the database, with a result-parity
//! check and a statistical verdict.
//!
//! The flow, one file per stage:
//! `ops` (queries/ files → [`ops::Operation`]) → `exec` (sessions, binding,
//! rows as [`value::Val`]) → `runner` (parity pass, warm-up, interleaved
//! rounds, plans) → `result` (rows → canonical entities through each side's
//! mapping, compared) → `order` (lists in their order, compared) → `stats`
//! (percentiles, MAD, hierarchical bootstrap over blocks, verdict).
//! `clock` makes the measurements injectable.
//!
//! Owns the [`TimingSection`] that `report` renders (timing.csv,
//! timing-compare.csv, summary.md, report.json, report.html, junit.xml).
//! It does not load mappings (`mapping`) or write reports (`report`), apart
//! from the EXPLAIN files `--explain` asks for, which are data it captures.
//!
//! Library entry points, shared by `parity timing` and `parity run`:
//! [`TimingOptions::resolve`], [`select_operations`], [`run_operations`]
//! and [`render_into`].

pub mod clock;
pub mod exec;
pub mod explain_mask;
pub mod mysql;
pub mod observe;
pub mod ops;
pub mod order;
pub mod result;
pub mod runner;
pub mod stats;
pub mod value;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

pub use clock::{Clock, MockClock, SystemClock};
pub use ops::{CompareMode, Operation};
pub use stats::{Comparison, Summary, Verdict};

use crate::config::{Config, TimingSettings};
use crate::db::{ConnectOptions, Db};
use crate::mapping::{Dialect, Mapping};
use crate::report::RunReport;
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
    /// Write EXPLAIN files of the median iteration under this folder
    /// (the out dir) when set.
    pub explain_dir: Option<PathBuf>,
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
            max_slowdown: settings.max_slowdown,
            explain_dir: None,
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

/// The timing part of a run. Field docs are the `report.json` schema.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TimingSection {
    /// Measured iterations asked for per side, warm-up rounds, clients per side.
    pub iterations: usize,
    pub warmup: usize,
    pub concurrency: usize,
    pub min_time_seconds: f64,
    /// The verdict threshold: `slower` when the CI's lower bound > 1 + this.
    pub max_slowdown: f64,
    /// One entry per operation, in the order they ran.
    pub operations: Vec<OperationResult>,
    /// Selection notes (operations skipped for another dialect, …).
    pub notes: Vec<String>,
    /// Independent blocks per operation (fresh sessions and a warm-up
    /// each); `warmup` is per block.
    pub blocks: usize,
}

impl TimingSection {
    /// 0 all same/faster, 1 any slower or mismatch, 2 any operation failed.
    pub fn exit_code(&self) -> i32 {
        if self.operations.iter().any(|o| o.verdict == Verdict::Error) {
            crate::exit::ERROR
        } else if self.operations.iter().any(|o| o.verdict.fails()) {
            crate::exit::DIFFERENCES
        } else {
            crate::exit::OK
        }
    }
}

/// How one operation came out.
#[derive(Debug, Clone, Serialize)]
pub struct OperationResult {
    pub repository: String,
    pub operation: String,
    pub description: Option<String>,
    /// The operation file.
    pub file: String,
    pub writes: bool,
    /// `rows`, `entities` or `count`, and the file's reason for it.
    pub compare: CompareMode,
    pub compare_reason: Option<String>,
    /// Parameter sets the result check ran (each on both sides).
    pub parameter_sets: usize,
    pub source: SideResult,
    pub target: SideResult,
    /// target/source ratios and the 95% bootstrap CI of the median ratio.
    pub comparison: Comparison,
    pub verdict: Verdict,
    /// The first parameter set whose results differ.
    pub mismatch: Option<ResultMismatch>,
    /// What the result check set aside (columns or tables one side lacks).
    pub notes: Vec<String>,
    pub error: Option<String>,
    /// One line on how the two sides' results were brought to one shape
    /// before comparing (see `result_hash`).
    pub reconciled: String,
}

impl OperationResult {
    pub fn new(op: &Operation) -> OperationResult {
        OperationResult {
            repository: op.repository.clone(),
            operation: op.name.clone(),
            description: op.description.clone(),
            file: op.file.display().to_string(),
            writes: op.writes,
            compare: op.compare,
            compare_reason: op.reason.clone(),
            parameter_sets: 0,
            source: SideResult::new(op.source.statements.len()),
            target: SideResult::new(op.target.statements.len()),
            comparison: Comparison::default(),
            verdict: Verdict::Same,
            mismatch: None,
            notes: Vec::new(),
            error: None,
            reconciled: reconciliation(op),
        }
    }
}

/// How an operation's two results are brought to one shape, in one line.
pub fn reconciliation(op: &Operation) -> String {
    let mut s = match op.compare {
        CompareMode::Rows => {
            "each side's rows decoded through its mapping, Drizzle's json_agg rows unnested per table, and compared as canonical values in sorted order; rows per execution differ when one side nests what the other returns flat".to_string()
        }
        CompareMode::Entities => {
            "each side's rows unnested into entities per table (Drizzle's json_agg rows included), merged by primary key, and compared as canonical values; rows per execution differ when one side joins and the other runs separate queries".to_string()
        }
        CompareMode::Count => "row counts per table compared".to_string(),
    };
    s.push_str("; columns only one side returns are left out");
    if !op.tolerance.is_empty() {
        let cols: Vec<String> = op
            .tolerance
            .iter()
            .map(|(c, _)| match &c.table {
                Some(t) => format!("{t}.{}", c.column),
                None => c.column.clone(),
            })
            .collect();
        s.push_str(&format!(
            "; {} compared within tolerance and left out of the hash",
            cols.join(", ")
        ));
    }
    s
}

/// One side of one operation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SideResult {
    /// Latency statistics in milliseconds.
    #[serde(flatten)]
    pub stats: Summary,
    /// Statements in the captured list.
    pub statements: usize,
    /// Rows returned per execution (mean over the parameter sets).
    pub rows: f64,
    /// Round trips per execution (mean over the parameter sets).
    pub round_trips: f64,
    /// blake3 (first 8 bytes, hex) of the compared (canonical) results of
    /// every parameter set: each side's rows turned into entities through
    /// its mapping, Drizzle's `json_agg` rows unnested, duplicates merged by
    /// key in `entities` mode, columns only one side returns and columns
    /// compared within a tolerance left out. Equal on both sides when the
    /// results match.
    pub result_hash: String,
    /// Every measured latency, in run order (pairs with the other side's).
    pub samples_ms: Vec<f64>,
    /// The EXPLAIN file in the out dir (`--explain`).
    pub explain_file: Option<String>,
    /// The median latency of each block, in run order (ms).
    pub block_p50_ms: Vec<f64>,
}

impl SideResult {
    fn new(statements: usize) -> SideResult {
        SideResult {
            statements,
            ..SideResult::default()
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultMismatch {
    /// 1-based index of the parameter set.
    pub parameter_set: usize,
    #[serde(flatten)]
    pub detail: result::Mismatch,
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
    if let Some(w) = writers.first() {
        for side in [&config.source, &config.target] {
            if !side.allow_writes {
                let which = if std::ptr::eq(side, &config.source) {
                    "source"
                } else {
                    "target"
                };
                bail!(
                    "operation {} writes (rolled back, always), but [{which}] does not allow writes; \
                     set allow_writes = true in [{which}] of {} for a database you may write to, \
                     or leave the operation out with --operations",
                    w.id(),
                    config.path.display()
                );
            }
        }
    }
    let surl = config.source.url.as_ref().context(
        "[source] has no url; set url = \"${DATABASE_URL}\" in the config and export DATABASE_URL",
    )?;
    let turl = config.target.url.as_ref().context(
        "[target] has no url; set url = \"${DATABASE_URL}\" in the config and export DATABASE_URL",
    )?;
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
        runner::Side {
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
) -> Result<runner::Side<'a>> {
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
    Ok(runner::Side {
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

/// Puts `section` into `run` and rewrites the report files in `out`:
/// timing.csv, timing-compare.csv, summary.md, report.json, report.html and
/// junit.xml, plus parity.csv and differences.csv when `run` also checked
/// tables (`parity run`).
pub fn render_into(run: &mut RunReport, section: TimingSection, out: &Path) -> Result<()> {
    run.timing = Some(section);
    let writers = if run.tables.is_empty() {
        crate::report::timing_csv::timing_writers()
    } else {
        crate::report::timing_csv::run_writers()
    };
    crate::report::write_all(&writers, run, out)
}
