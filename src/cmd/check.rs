//! `parity check`: every paired table read through both mappings.

use anyhow::{Context, Result};

use crate::cli::{CheckArgs, GlobalArgs};
use crate::config::{self, Config};
use crate::engine::{self, EngineOptions};
use crate::mapping::Mapping;
use crate::plan::{self, Plan, Selection};
use crate::report::{self, RunReport, SideInfo};
use crate::ui::Ui;

pub async fn run(args: CheckArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let config = config::load_required(global.config.as_deref())?;
    let selection = Selection {
        tables: args.select.tables.clone(),
        repository: args.select.repository.clone(),
    };
    let prepared = Prepared::load(&config, &selection)?;
    let opts = EngineOptions {
        jobs: global.jobs.unwrap_or(config.check.jobs).max(1),
        chunk_rows: args.chunk_rows.unwrap_or(config.check.chunk_rows).max(1),
        max_differences: args.max_differences.unwrap_or(config.check.max_differences),
        show_values: args.show_values,
        share_reads: config.check.share_reads,
    };
    let out = report::prepare_out_dir(global.out.as_deref())?;
    let mut run = prepared.run_report("check", &config);
    let code = check_into(&config, &prepared, &opts, &ui, &out, &mut run).await?;
    print_summary(&run);
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}

/// Both mappings and the plan, loaded once for `check`, `run` and `timing`.
pub struct Prepared {
    pub source: Mapping,
    pub target: Mapping,
    pub plan: Plan,
}

impl Prepared {
    pub fn load(config: &Config, selection: &Selection) -> Result<Prepared> {
        let source = crate::mapping::load::load_side(&config.source)
            .with_context(|| format!("source mapping ({})", config.source.name))?;
        let target = crate::mapping::load::load_side(&config.target)
            .with_context(|| format!("target mapping ({})", config.target.name))?;
        let plan = plan::build(&source, &target, Some(config), selection)?;
        Ok(Prepared {
            source,
            target,
            plan,
        })
    }

    pub fn run_report(&self, command: &str, config: &Config) -> RunReport {
        RunReport {
            format_version: 1,
            command: command.to_string(),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            source: side_info(&config.source),
            target: side_info(&config.target),
            only_source_tables: self.plan.only_source.clone(),
            only_target_tables: self.plan.only_target.clone(),
            notes: self.plan.notes.clone(),
            in_progress: true,
            ..RunReport::default()
        }
    }
}

pub fn side_info(side: &config::Side) -> SideInfo {
    SideInfo {
        name: side.name.clone(),
        orm: side.orm.as_str().to_string(),
        database: side
            .url
            .as_ref()
            .map(|u| u.redacted())
            .unwrap_or_else(|| "(no url)".into()),
    }
}

/// Runs the data check of a prepared plan into `run`, rewriting the
/// reports in `out` after each table. Returns the exit code.
pub async fn check_into(
    config: &Config,
    prepared: &Prepared,
    opts: &EngineOptions,
    ui: &Ui,
    out: &std::path::Path,
    run: &mut RunReport,
) -> Result<i32> {
    let surl = config.source.url.as_ref().context(
        "[source] has no url; set url = \"${DATABASE_URL}\" in the config and export DATABASE_URL",
    )?;
    let turl = config.target.url.as_ref().context(
        "[target] has no url; set url = \"${DATABASE_URL}\" in the config and export DATABASE_URL",
    )?;
    let writers = report::check_writers();
    report::write_all(&writers, run, out)?;
    let sides = engine::open_sides(surl, turl, opts.jobs).await?;
    run.notes.extend(sides.snapshot_notes());
    let pairs: Vec<_> = prepared
        .plan
        .pairs
        .iter()
        .filter(|p| !p.source.is_view && !p.target.is_view)
        .collect();
    let base = run.clone();
    let results = engine::check_pairs(
        &sides,
        &pairs,
        &prepared.source,
        &prepared.target,
        opts,
        ui,
        |so_far| {
            let mut r = base.clone();
            r.tables = so_far.to_vec();
            report::write_all(&writers, &r, out)
        },
    )
    .await;
    let notes = sides.snapshot_notes();
    sides.close().await;
    let results = results?;
    // The re-read count is known only now (MySQL without a shared view).
    run.notes.retain(|n| !n.contains("snapshot: "));
    run.notes.extend(notes);
    let code = engine::exit_code(&results);
    run.tables = results;
    run.in_progress = false;
    run.exit_code = Some(code);
    report::write_all(&writers, run, out)?;
    Ok(code)
}

/// The data on stdout: one line per table.
pub fn print_summary(run: &RunReport) {
    use std::io::Write;
    let mut s = String::new();
    s.push_str(&format!(
        "{:<32} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10}  status\n",
        "table", "source", "target", "matched", "missing", "extra", "different"
    ));
    for t in &run.tables {
        s.push_str(&format!(
            "{:<32} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10}  {}\n",
            t.source_table,
            t.source_rows,
            t.target_rows,
            t.matched,
            t.missing_in_target,
            t.extra_in_target,
            t.different,
            t.status.as_str()
        ));
    }
    let _ = std::io::stdout().write_all(s.as_bytes());
}
