//! `parity run`: the pre-deployment gate. Runs `schema`, `check` and
//! `timing` for the whole config or one rollout phase, writes everything
//! into one out dir, and gives a verdict per repository that names its
//! feature flag. Exit 0 only when every selected repository is READY.

use std::collections::BTreeSet;

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, RunArgs};
use crate::cmd::check::{Prepared, check_into};
use crate::cmd::schema;
use crate::config::{self, Config};
use crate::engine::{EngineOptions, Status, TableResult};
use crate::plan::Selection;
use crate::plan::findings::{Finding, Severity};
use crate::report;
use crate::timing::{self, OperationResult, SystemClock, TimingOptions, TimingSection, Verdict};
use crate::ui::Ui;

pub async fn run(args: RunArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let config = config::load_required(global.config.as_deref())?;
    let selection = Selection {
        tables: Vec::new(),
        repository: args.repository.clone(),
    };
    let out = report::prepare_out_dir(global.out.as_deref())?;

    ui.info("== schema");
    let schema_report = schema::inspect(&config, &selection, args.strict, &ui).await?;
    schema::write_reports(&schema_report, &out)?;

    ui.info("== data");
    let prepared = Prepared::load(&config, &selection)?;
    let opts = EngineOptions {
        jobs: global.jobs.unwrap_or(config.check.jobs).max(1),
        chunk_rows: config.check.chunk_rows.max(1),
        max_differences: config.check.max_differences,
        show_values: false,
        share_reads: config.check.share_reads,
    };
    let mut run = prepared.run_report("run", &config);
    check_into(&config, &prepared, &opts, &ui, &out, &mut run).await?;

    ui.info("== timing");
    let url = config.source.url.as_ref().context("[source] has no url")?;
    let dialect = crate::db::dialect_of(url)?;
    let mut topts =
        TimingOptions::resolve(&config.timing, args.iterations, args.warmup, None, None)?;
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
                timing::render_into(&mut r, s.clone(), &out_dir)
            },
        )
        .await?
    };
    section.notes.extend(notes);

    // Verdicts per repository, in config order.
    let repos: Vec<&crate::config::Repository> = config
        .repositories
        .iter()
        .filter(|r| args.repository.as_deref().is_none_or(|n| n == r.name))
        .collect();
    let mut lines = Vec::new();
    let mut all_ready = true;
    let mut any_error = false;
    for repo in &repos {
        let v = verdict(
            &config,
            repo,
            &schema_report.findings,
            &run.tables,
            &section.operations,
        );
        all_ready &= v.ready;
        any_error |= v.error;
        lines.push(v.line);
    }
    if repos.is_empty() {
        // No rollout phases in the config: one verdict for everything.
        let errors = schema_errors(&schema_report.findings, None);
        let data_ok = run.tables.iter().all(|t| t.status == Status::Ok);
        let timing_ok = section.operations.iter().all(|o| !o.verdict.fails());
        let ready = errors == 0 && data_ok && timing_ok;
        all_ready = ready;
        any_error = run.tables.iter().any(|t| t.status == Status::Error)
            || section
                .operations
                .iter()
                .any(|o| o.verdict == Verdict::Error);
        lines.push(format!(
            "all tables: schema {} · data {} · timing {} → {}",
            if errors == 0 { "ok" } else { "FAIL" },
            if data_ok { "ok" } else { "FAIL" },
            if timing_ok { "ok" } else { "FAIL" },
            if ready { "READY" } else { "NOT READY" }
        ));
    }
    run.notes.extend(lines.iter().map(|l| format!("gate: {l}")));
    run.in_progress = false;
    let code = if any_error {
        crate::exit::ERROR
    } else if all_ready {
        crate::exit::OK
    } else {
        crate::exit::DIFFERENCES
    };
    run.exit_code = Some(code);
    timing::render_into(&mut run, section, &out)?;
    for l in &lines {
        println!("{l}");
    }
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}

struct RepoVerdict {
    line: String,
    ready: bool,
    error: bool,
}

/// Schema errors that count against a repository: findings on its tables,
/// plus findings on no table (migrations, time zone) which concern every
/// phase.
fn schema_errors(findings: &[Finding], tables: Option<&BTreeSet<String>>) -> usize {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error && !f.allowed)
        .filter(|f| match (&f.table, tables) {
            (_, None) | (None, _) => true,
            (Some(t), Some(ts)) => ts.contains(bare(t)),
        })
        .count()
}

fn bare(name: &str) -> &str {
    crate::mapping::split_qualified(name).1
}

fn verdict(
    _config: &Config,
    repo: &crate::config::Repository,
    findings: &[Finding],
    tables: &[TableResult],
    ops: &[OperationResult],
) -> RepoVerdict {
    let names: BTreeSet<String> = repo.tables.iter().map(|t| bare(t).to_string()).collect();
    let errors = schema_errors(findings, Some(&names));
    let mine: Vec<&TableResult> = tables
        .iter()
        .filter(|t| t.repository.as_deref() == Some(repo.name.as_str()))
        .collect();
    let rows: u64 = mine.iter().map(|t| t.source_rows).sum();
    let data_bad = mine.iter().filter(|t| t.status != Status::Ok).count();
    let my_ops: Vec<&OperationResult> = ops.iter().filter(|o| o.repository == repo.name).collect();
    let timing_bad = my_ops.iter().filter(|o| o.verdict.fails()).count();
    let p95 = geometric_mean(
        my_ops
            .iter()
            .map(|o| o.comparison.ratio_p95)
            .filter(|r| r.is_finite() && *r > 0.0),
    );
    let ready = errors == 0 && data_bad == 0 && timing_bad == 0;
    let error = mine.iter().any(|t| t.status == Status::Error)
        || my_ops.iter().any(|o| o.verdict == Verdict::Error);
    let schema = if errors == 0 {
        "schema ok".to_string()
    } else {
        format!("schema {errors} error(s)")
    };
    let data = if data_bad == 0 {
        format!("data ok ({} tables, {})", mine.len(), human_rows(rows))
    } else {
        let differing: u64 = mine
            .iter()
            .map(|t| t.missing_in_target + t.extra_in_target + t.different)
            .sum();
        format!(
            "data {data_bad} of {} tables differ ({differing} rows)",
            mine.len()
        )
    };
    let timing = if my_ops.is_empty() {
        "timing: no operations".to_string()
    } else {
        let verdict = if timing_bad == 0 {
            "ok".to_string()
        } else {
            let names: Vec<String> = my_ops
                .iter()
                .filter(|o| o.verdict.fails())
                .map(|o| failing_op(o))
                .collect();
            names.join(", ")
        };
        match p95 {
            Some(r) => format!("timing {verdict} ({} ops, p95 ratio {r:.2})", my_ops.len()),
            None => format!("timing {verdict} ({} ops)", my_ops.len()),
        }
    };
    let flag = repo
        .flag
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    RepoVerdict {
        line: format!(
            "{}{flag}: {schema} · {data} · {timing} → {}",
            repo.name,
            if ready { "READY" } else { "NOT READY" }
        ),
        ready,
        error,
    }
}

/// What made a repository NOT READY, one operation: its verdict with the
/// ratio and interval the verdict rests on, and for a mismatch what kind.
fn failing_op(o: &OperationResult) -> String {
    let c = &o.comparison;
    let what = match (&o.mismatch, o.verdict) {
        (Some(m), Verdict::Mismatch)
            if m.detail.kind == crate::timing::result::MismatchKind::Order =>
        {
            "same rows, different order; ".to_string()
        }
        (Some(_), Verdict::Mismatch) => "rows differ; ".to_string(),
        _ => String::new(),
    };
    format!(
        "{} {} ({what}ratio {:.2}, 95% CI [{:.2}, {:.2}])",
        o.operation,
        o.verdict.as_str(),
        c.ratio_p50,
        c.ci_low,
        c.ci_high
    )
}

fn geometric_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values {
        sum += v.ln();
        n += 1;
    }
    (n > 0).then(|| (sum / n as f64).exp())
}

fn human_rows(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M rows", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0}k rows", n as f64 / 1e3),
        n => format!("{n} rows"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_like_a_person_writes_them() {
        assert_eq!(human_rows(1_200_000), "1.2M rows");
        assert_eq!(human_rows(45_000), "45k rows");
        assert_eq!(human_rows(999), "999 rows");
    }

    #[test]
    fn geometric_mean_of_ratios() {
        let g = geometric_mean([0.5, 2.0].into_iter()).unwrap();
        assert!((g - 1.0).abs() < 1e-12);
        assert!(geometric_mean(std::iter::empty()).is_none());
    }
}
