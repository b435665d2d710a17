//! `parity timing`: paired query timing from `queries/`.

use anyhow::{Context, Result, bail};

use crate::cli::{GlobalArgs, TimingArgs};
use crate::config;
use crate::pipeline::{load_mappings, new_report};
use crate::report::{self, RunReport, console};
use crate::timing::{self, Clock, MockClock, SystemClock, TimingOptions, TimingSection};
use crate::ui::Ui;

pub async fn run(args: TimingArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    // Test hook: a mock clock makes every measured latency this many ns, so
    // report snapshots are byte-for-byte stable.
    let clock: Box<dyn Clock> = match std::env::var("PARITY_TEST_CLOCK_STEP_NS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(step) => Box::new(MockClock::new(step)),
        None => Box::new(SystemClock::new()),
    };
    run_with_clock(args, global, ui, clock.as_ref()).await
}

pub async fn run_with_clock(
    args: TimingArgs,
    global: &GlobalArgs,
    ui: Ui,
    clock: &dyn Clock,
) -> Result<i32> {
    let config = config::load_required(global.config.as_deref())?;
    let url = config.source.url.as_ref().context(
        "[source] has no url; set url = \"${DATABASE_URL}\" in the config and export DATABASE_URL",
    )?;
    let dialect = crate::db::dialect_of(url)?;
    let mut opts = TimingOptions::resolve(
        &config.timing,
        args.iterations.iterations,
        args.iterations.warmup,
        args.min_time.as_deref(),
        args.concurrency,
        args.iterations.max_slowdown,
    )?
    .with_blocks(args.blocks)?;
    opts.statement_timeout_seconds = config.check.statement_timeout_seconds;
    let (ops, notes) = timing::select_operations(
        &config,
        args.select.repository.as_deref(),
        args.ops.queries.as_deref(),
        &args.ops.operations,
        dialect,
    )?;
    if ops.is_empty() {
        bail!(
            "no operations to time for {}; add queries/<repository>/<operation>.toml files \
             (set queries = \"…\" in [[repository]] or pass --queries)",
            dialect.as_str()
        );
    }
    let (source, target) = load_mappings(&config)?;
    let out = report::prepare_out_dir(global.out.as_deref())?;
    opts.explain = args.explain;
    let mut run = RunReport {
        started_at: clock.utc_rfc3339(),
        notes: source.notes.iter().chain(&target.notes).cloned().collect(),
        ..new_report("timing", &config)
    };
    let writers = report::timing::timing_writers();
    let mut empty = TimingSection {
        iterations: opts.iterations,
        warmup: opts.warmup,
        concurrency: opts.concurrency,
        min_time_seconds: opts.min_time_seconds,
        max_slowdown: opts.max_slowdown,
        blocks: opts.effective_blocks(),
        ..TimingSection::default()
    };
    empty.notes = notes.clone();
    run.timing = Some(empty);
    report::write_all(&writers, &run, &out)?;
    let base = run.clone();
    let mut section = timing::run_operations(
        &config,
        &source,
        &target,
        &ops,
        &opts,
        clock,
        &ui,
        &mut |s| {
            let mut r = base.clone();
            let mut s = s.clone();
            s.notes = notes.clone();
            r.timing = Some(s);
            report::write_all(&writers, &r, &out)
        },
    )
    .await?;
    section.notes = notes;
    let code = section.exit_code();
    console::print(&console::timing_table(&section))?;
    for o in &section.operations {
        if let Some(e) = &o.error {
            ui.warn(format!("{}/{} failed: {e}", o.repository, o.operation));
        }
    }
    run.in_progress = false;
    run.exit_code = Some(code);
    report::timing::render_into(&mut run, section, &out)?;
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}
