//! The data check every command that reads tables runs (`check`, `run`,
//! `demo`): both mappings and the plan loaded once ([`Prepared`]), the
//! paired tables read through both sides into one [`RunReport`], the
//! reports rewritten after each table.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::engine::journal::{Header, Journal};
use crate::engine::shard::{Partial, short_hash};
use crate::engine::{self, EngineOptions, Status, TableResult};
use crate::mapping::Mapping;
use crate::plan::{self, Plan, Selection, TablePair};
use crate::report::{self, ReportWriter, RunReport};
use crate::ui::Ui;

use super::{connect_options, report_for, side_info};

/// Both mappings and the plan, loaded once for `check`, `run` and `timing`.
pub struct Prepared {
    pub source: Mapping,
    pub target: Mapping,
    pub plan: Plan,
}

impl Prepared {
    pub fn load(config: &Config, selection: &Selection) -> Result<Prepared> {
        let (source, target) = load_mappings(config)?;
        let plan = plan::build(&source, &target, Some(config), selection)?;
        Ok(Prepared {
            source,
            target,
            plan,
        })
    }

    /// A report in progress for `command`: the sides, and what the plan
    /// leaves out or notes.
    pub fn run_report(&self, command: &str, config: &Config) -> RunReport {
        RunReport {
            only_source_tables: self.plan.only_source.clone(),
            only_target_tables: self.plan.only_target.clone(),
            notes: self.plan.notes.clone(),
            ..new_report(command, config)
        }
    }

    /// The data check as `command`: [`check_into`] a fresh report.
    pub async fn check(
        &self,
        config: &Config,
        opts: &EngineOptions,
        ui: &Ui,
        out: &Path,
        command: &str,
    ) -> Result<RunReport> {
        let mut run = self.run_report(command, config);
        check_into(config, self, opts, ui, out, &mut run).await?;
        Ok(run)
    }
}

/// Both sides' mappings, each error naming its side.
pub fn load_mappings(config: &Config) -> Result<(Mapping, Mapping)> {
    let source = crate::plan::load::load_side(&config.source)
        .with_context(|| format!("source mapping ({})", config.source.name))?;
    let target = crate::plan::load::load_side(&config.target)
        .with_context(|| format!("target mapping ({})", config.target.name))?;
    Ok((source, target))
}

/// An empty report in progress for `command` over the config's two sides.
pub fn new_report(command: &str, config: &Config) -> RunReport {
    report_for(
        command,
        side_info(&config.source),
        side_info(&config.target),
    )
}

/// The repositories of a config with their flags, in config order.
pub fn repositories_of(config: &Config) -> Vec<(String, Option<String>)> {
    config
        .repositories
        .iter()
        .map(|r| (r.name.clone(), r.flag.clone()))
        .collect()
}

/// Runs the data check of a prepared plan into `run`, rewriting the
/// reports in `out` after each table. Returns the exit code.
pub async fn check_into(
    config: &Config,
    prepared: &Prepared,
    opts: &EngineOptions,
    ui: &Ui,
    out: &Path,
    run: &mut RunReport,
) -> Result<i32> {
    let no_url = |which: &str| {
        format!(
            "[{which}] has no url; set url = \"${{DATABASE_URL}}\" in the config and export DATABASE_URL"
        )
    };
    let surl = config
        .source
        .url
        .as_ref()
        .with_context(|| no_url("source"))?;
    let turl = config
        .target
        .url
        .as_ref()
        .with_context(|| no_url("target"))?;
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
    let (plan_id, config_hash) = run_identity(config, &pairs, opts);
    run.partial = opts.shard.map(|s| Partial {
        shard: s.index,
        shards: s.count,
        plan_id: plan_id.clone(),
        config_hash: config_hash.clone(),
        parity_version: env!("CARGO_PKG_VERSION").to_string(),
        chunks: Vec::new(),
        max_differences: opts.max_differences,
        repositories: repositories_of(config),
    });
    // Issue 15: every check keeps a journal; a resumed one continues it.
    let header = Header {
        parity_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_id,
        config_hash,
        shard: opts.shard,
    };
    let journal = Journal::open(out, &header, opts.resume)?;
    if journal.resumed > 0 {
        ui.info(format!(
            "resuming: {} chunk(s) already checked in {}",
            journal.resumed,
            out.display()
        ));
    }
    let opts = &EngineOptions {
        journal: Some(std::sync::Arc::new(journal)),
        ..opts.clone()
    };
    let writers = report::check_writers();
    report::write_all(&writers, run, out)?;
    let sides = engine::open_sides_with(surl, turl, opts.jobs, &connect_options(config)).await?;
    run.notes.extend(sides.snapshot_notes());
    let results = engine::check_pairs(
        &sides,
        &pairs,
        &prepared.source,
        &prepared.target,
        opts,
        ui,
        &|r| ui.result_line(report::verdict::result_line(r)),
        rewrite_after_each(&writers, run, &unpaired, out),
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
    if let Some(p) = &mut run.partial {
        p.chunks = results.iter().flat_map(|r| r.covered.clone()).collect();
    }
    run.tables = results;
    run.in_progress = false;
    run.exit_code = Some(code);
    run.verdict = Some(report::verdict::data_verdict(run, &repositories_of(config)));
    report::write_all(&writers, run, out)?;
    Ok(code)
}

/// The engine's per-table hook: the reports rewritten with the tables so
/// far (then `extra`, rows the engine does not read) over `base`.
pub fn rewrite_after_each<'a>(
    writers: &'a [Box<dyn ReportWriter + Send + Sync>],
    base: &RunReport,
    extra: &'a [TableResult],
    out: &'a Path,
) -> impl FnMut(&[TableResult]) -> Result<()> + 'a {
    let base = base.clone();
    move |so_far| {
        let mut r = base.clone();
        r.tables = so_far.to_vec();
        r.tables.extend(extra.iter().cloned());
        report::write_all(writers, &r, out)
    }
}

/// Named tables only one mapping has, as `differs` rows: a finding that
/// keeps their repository from READY.
pub fn unpaired_rows(prepared: &Prepared, config: &Config) -> Vec<TableResult> {
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
            TableResult {
                repository: u.repository.clone(),
                source_table: s,
                target_table: t,
                status: Status::Differs,
                error: Some(u.message(&config.source.name, &config.target.name)),
                ..TableResult::default()
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

/// Which run this is, as a shard's `partial` section and the journal's
/// header name it: the plan id hashes the checked pairs; the config hash
/// the config file and the read settings that decide chunks and listings,
/// so shards or a resume with other chunking or caps are refused.
pub fn run_identity(
    config: &Config,
    pairs: &[&TablePair],
    opts: &EngineOptions,
) -> (String, String) {
    let plan = format!("{pairs:?}");
    let mut settings = std::fs::read(&config.path).unwrap_or_default();
    settings.extend(
        format!(
            "\0chunk_rows={} max_differences={} show_values={} share_reads={}",
            opts.chunk_rows, opts.max_differences, opts.show_values, opts.share_reads
        )
        .bytes(),
    );
    (short_hash(plan.as_bytes()), short_hash(&settings))
}
