//! `parity check`: every paired table read through both mappings.

use anyhow::{Context, Result, bail};

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
    // The results print once, as the table on stdout: no per-table lines.
    let quiet_tables = ui.without_result_lines();
    let code = check_into(&config, &prepared, &opts, &quiet_tables, &out, &mut run).await?;
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(console_summary(&run).as_bytes())?;
        stdout.flush()?;
    }
    if let Some(p) = &args.prometheus {
        report::prometheus::write(p, &run, &report::prometheus::Extras::finished_now(&run))?;
    }
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}

/// What `check` prints on stdout: the table, what `--max-differences` cut,
/// and one closing line.
pub fn console_summary(run: &RunReport) -> String {
    let mut s = summary_table(run);
    let closing = run
        .verdict
        .as_ref()
        .map(|v| v.summary.clone())
        .unwrap_or_else(|| report::verdict::closing_line(&run.tables, run.exit_code.unwrap_or(0)));
    s.push_str(&closing);
    s.push('\n');
    s
}

/// The repositories of a config with their flags, in config order.
pub fn repositories_of(config: &Config) -> Vec<(String, Option<String>)> {
    config
        .repositories
        .iter()
        .map(|r| (r.name.clone(), r.flag.clone()))
        .collect()
}

/// Both mappings and the plan, loaded once for `check`, `run` and `timing`.
pub struct Prepared {
    pub source: Mapping,
    pub target: Mapping,
    pub plan: Plan,
}

impl Prepared {
    pub fn load(config: &Config, selection: &Selection) -> Result<Prepared> {
        let source = crate::plan::load::load_side(&config.source)
            .with_context(|| format!("source mapping ({})", config.source.name))?;
        let target = crate::plan::load::load_side(&config.target)
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
    let pairs: Vec<_> = prepared
        .plan
        .pairs
        .iter()
        .filter(|p| !p.source.is_view && !p.target.is_view)
        .collect();
    // Issue 10: checking nothing is never a pass; it takes precedence over
    // any finding.
    if pairs.is_empty() {
        bail!("{}", nothing_to_check(prepared, config));
    }
    run.planned = pairs
        .iter()
        .map(|p| {
            (
                p.repository.clone(),
                p.source.qualified_name(),
                p.target.qualified_name(),
            )
        })
        .collect();
    let unpaired = unpaired_rows(prepared, config);
    for u in &unpaired {
        ui.warn(u.error.clone().unwrap_or_default());
    }
    let writers = report::check_writers();
    report::write_all(&writers, run, out)?;
    let sides = engine::open_sides_with(surl, turl, opts.jobs, &connect_options(config)).await?;
    run.notes.extend(sides.snapshot_notes());
    let base = run.clone();
    let results = engine::check_pairs(
        &sides,
        &pairs,
        &prepared.source,
        &prepared.target,
        opts,
        ui,
        &|r| ui.result_line(report::verdict::result_line(r)),
        |so_far| {
            let mut r = base.clone();
            r.tables = so_far.to_vec();
            r.tables.extend(unpaired.iter().cloned());
            report::write_all(&writers, &r, out)
        },
    )
    .await;
    let notes = sides.snapshot_notes();
    sides.close().await;
    let mut results = results?;
    results.extend(unpaired);
    // The re-read count is known only now (MySQL without a shared view).
    run.notes.retain(|n| !n.contains("snapshot: "));
    run.notes.extend(notes);
    let code = engine::exit_code(&results);
    run.tables = results;
    run.in_progress = false;
    run.exit_code = Some(code);
    run.verdict = Some(report::verdict::data_verdict(run, &repositories_of(config)));
    report::write_all(&writers, run, out)?;
    Ok(code)
}

/// The data on stdout: one line per table, then one line per table whose
/// differences.csv was cut.
pub fn print_summary(run: &RunReport) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(summary_table(run).as_bytes());
}

/// The table [`print_summary`] prints, within 80 columns for names up to
/// 14 characters (longer names widen the first column).
pub fn summary_table(run: &RunReport) -> String {
    let width = run
        .tables
        .iter()
        .map(|t| t.source_table.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    // The unreadable column shows only when some table has such rows, so
    // the usual table stays within 80 columns.
    let any_unreadable = run.tables.iter().any(|t| t.unreadable > 0);
    let mut s = String::new();
    s.push_str(&format!(
        "{:<width$} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}  status{}\n",
        "table",
        "source",
        "target",
        "matched",
        "missing",
        "extra",
        "different",
        if any_unreadable { "   unreadable" } else { "" }
    ));
    for t in &run.tables {
        s.push_str(&format!(
            "{:<width$} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}  {}{}\n",
            t.source_table,
            t.source_rows,
            t.target_rows,
            t.matched,
            t.missing_in_target,
            t.extra_in_target,
            t.different,
            t.status.as_str(),
            if any_unreadable {
                format!(
                    "{:>13}",
                    t.unreadable.to_string()
                        + &" ".repeat(7usize.saturating_sub(t.status.as_str().len()))
                )
            } else {
                String::new()
            }
        ));
    }
    for l in report::verdict::truncation_lines(&run.tables) {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// Session settings from `[check]`: every command's statement and lock
/// timeouts (issue 10).
pub fn connect_options(config: &Config) -> crate::db::ConnectOptions {
    crate::db::ConnectOptions {
        statement_timeout: std::time::Duration::from_secs(config.check.statement_timeout_seconds),
        lock_timeout: std::time::Duration::from_secs(config.check.lock_timeout_seconds),
        ..crate::db::ConnectOptions::default()
    }
}

/// Session settings for a command that needs no config (`backup`,
/// `manifest`): the `[check]` timeouts of a config named with `--config`,
/// else the defaults.
pub fn session_options(global: &GlobalArgs) -> Result<crate::db::ConnectOptions> {
    Ok(match global.config.as_deref() {
        Some(path) => connect_options(&config::load(path)?),
        None => crate::db::ConnectOptions::default(),
    })
}

/// Named tables only one mapping has, as `differs` rows: a finding that
/// keeps their repository from READY.
pub fn unpaired_rows(prepared: &Prepared, config: &Config) -> Vec<engine::TableResult> {
    prepared
        .plan
        .named_unpaired
        .iter()
        .map(|u| {
            let (s, t) = if u.side == "source" {
                (u.table.clone(), String::new())
            } else {
                (String::new(), u.table.clone())
            };
            engine::TableResult {
                repository: u.repository.clone(),
                source_table: s,
                target_table: t,
                status: engine::Status::Differs,
                error: Some(u.message(&config.source.name, &config.target.name)),
                ..engine::TableResult::default()
            }
        })
        .collect()
}

/// Why a check has no table pair to read, and what to do.
pub fn nothing_to_check(prepared: &Prepared, config: &Config) -> String {
    let (s, t) = (&config.source.name, &config.target.name);
    let why = if let Some(u) = prepared.plan.named_unpaired.first() {
        u.message(s, t)
    } else if prepared.source.tables.is_empty() || prepared.target.tables.is_empty() {
        format!(
            "the {s} mapping has {} table(s) and the {t} mapping {}; check that each mapping file is the right one",
            prepared.source.tables.len(),
            prepared.target.tables.len()
        )
    } else if !prepared.plan.views.is_empty() && prepared.plan.pairs.is_empty() {
        "the selection holds only views, which data checks do not read; select tables".to_string()
    } else {
        format!(
            "no table of the {s} mapping ({}) pairs with one of the {t} mapping ({}); pair them with [[pair]] in parity.toml",
            prepared.source.tables.len(),
            prepared.target.tables.len()
        )
    };
    format!("nothing to check: no table pair to read; {why}")
}
