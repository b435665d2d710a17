//! `parity run`: the pre-deployment gate. Runs `schema`, `check` and
//! `timing` for the whole config or one rollout phase, writes everything
//! into one out dir, and gives a verdict per repository that names its
//! feature flag (`pipeline::gate`). Exit 0 only when every selected
//! repository is READY.

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, RunArgs};
use crate::config;
use crate::pipeline::{CheckOptions, Prepared, gate, schema::inspect};
use crate::plan::Selection;
use crate::report;
use crate::timing::{self, SystemClock, TimingOptions, TimingSection};
use crate::ui::Ui;

pub async fn run(args: RunArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let config = config::load_required(global.config.as_deref())?;
    let selection = Selection {
        tables: Vec::new(),
        repository: args.repository.clone(),
    };
    // A misspelled --repository is a usage error before anything runs.
    if let Some(name) = &args.repository
        && config.repository(name).is_none()
    {
        return Err(crate::plan::unknown_repository(&config, name).into());
    }
    let out = report::prepare_out_dir(global.out.as_deref())?;

    ui.info("== schema");
    let schema_report = inspect(&config, &selection, args.strict, &ui).await?;
    report::schema::write_reports(&schema_report, &out)?;

    ui.info("== data");
    let prepared = Prepared::load(&config, &selection)?;
    let opts = CheckOptions {
        jobs: global.jobs,
        ..CheckOptions::default()
    }
    .resolve(&config.check);
    let mut run = prepared.check(&config, &opts, &ui, &out, "run").await?;

    ui.info("== timing");
    let url = config.source.url.as_ref().context("[source] has no url")?;
    let dialect = crate::db::dialect_of(url)?;
    let mut topts = TimingOptions::resolve(
        &config.timing,
        args.iterations.iterations,
        args.iterations.warmup,
        None,
        None,
        args.iterations.max_slowdown,
    )?;
    topts.statement_timeout_seconds = config.check.statement_timeout_seconds;
    let (ops, notes) =
        timing::select_operations(&config, args.repository.as_deref(), None, &[], dialect)?;
    let clock = SystemClock::new();
    let mut section = if ops.is_empty() {
        TimingSection::default()
    } else {
        let base = run.clone();
        let out_dir = out.clone();
        timing::run_operations(
            &config,
            &prepared.source,
            &prepared.target,
            &ops,
            &topts,
            &clock,
            &ui,
            &mut |s: &TimingSection| {
                let mut r = base.clone();
                report::timing::render_into(&mut r, s.clone(), &out_dir)
            },
        )
        .await?
    };
    section.notes.extend(notes);

    let gate = gate::judge(
        &config,
        args.repository.as_deref(),
        &prepared.plan.views,
        &schema_report.findings,
        &run.tables,
        &section.operations,
    );
    run.notes
        .extend(gate.lines.iter().map(|l| format!("gate: {l}")));
    run.schema_findings = Some(schema_report.findings.clone());
    run.in_progress = false;
    run.exit_code = Some(gate.code);
    run.verdict = Some(gate.verdict());
    report::timing::render_into(&mut run, section, &out)?;
    if let Some(p) = &args.prometheus.prometheus {
        let extras = report::prometheus::Extras {
            gates: gate.gates,
            ..report::prometheus::Extras::finished_now(&run)
        };
        report::prometheus::write(p, &run, &extras)?;
    }
    report::console::print(&(gate.lines.join("\n") + "\n"))?;
    ui.info(format!("reports: {}", out.display()));
    Ok(gate.code)
}
