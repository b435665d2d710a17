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
use crate::report::verdict::{
    GlobalFlagVerdict, RepositoryVerdict, Verdict as RunVerdict, table_items,
};
use crate::timing::{
    self, OperationResult, SystemClock, TimingOptions, TimingSection, TimingVerdict,
};
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
                report::timing::render_into(&mut r, s.clone(), &out_dir)
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
    let mut verdicts = Vec::new();
    let mut gates = Vec::new();
    let mut all_ready = true;
    let mut any_error = false;
    for repo in &repos {
        let v = verdict(
            &config,
            &prepared.plan.views,
            repo,
            &schema_report.findings,
            &run.tables,
            &section.operations,
        );
        all_ready &= v.verdict.ready;
        any_error |= v.error;
        gates.push(report::prometheus::Gate {
            repository: repo.name.clone(),
            flag: repo.flag.clone().unwrap_or_default(),
            ready: v.verdict.ready,
        });
        lines.push(v.verdict.line.clone());
        verdicts.push(v.verdict);
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
                .any(|o| o.verdict == TimingVerdict::Error);
        gates.push(report::prometheus::Gate {
            repository: "all".into(),
            flag: String::new(),
            ready,
        });
        let line = format!(
            "all tables: schema {} · data {} · timing {} → {}",
            if errors == 0 { "ok" } else { "FAIL" },
            if data_ok { "ok" } else { "FAIL" },
            if timing_ok { "ok" } else { "FAIL" },
            if ready { "READY" } else { "NOT READY" }
        );
        let mut why = Vec::new();
        if errors > 0 {
            why.push(format!("schema: {errors} error(s)"));
        }
        let items: Vec<String> = run.tables.iter().flat_map(table_items).collect();
        if !items.is_empty() {
            why.push(format!("data: {}", items.join(", ")));
        }
        if !timing_ok {
            why.push(format!(
                "timing: {}",
                failing_ops(&section.operations.iter().collect::<Vec<_>>())
            ));
        }
        lines.push(line.clone());
        verdicts.push(RepositoryVerdict {
            repository: "all tables".into(),
            flag: None,
            label: if ready { "READY" } else { "NOT READY" }.into(),
            ready,
            why: if why.is_empty() {
                "schema, data and timing ok".into()
            } else {
                why.join("; ")
            },
            line,
        });
    }
    // The global flag flips once every repository is READY: judged only
    // when the run covered them all.
    let global_flag = match (&config.global_flag, &args.repository) {
        (Some(flag), None) if !config.repositories.is_empty() => {
            let g = GlobalFlagVerdict::judge(flag, &verdicts);
            lines.push(g.line.clone());
            Some(g)
        }
        _ => None,
    };
    run.notes.extend(lines.iter().map(|l| format!("gate: {l}")));
    run.schema_findings = Some(schema_report.findings.clone());
    run.in_progress = false;
    let code = if any_error {
        crate::exit::ERROR
    } else if all_ready {
        crate::exit::OK
    } else {
        crate::exit::DIFFERENCES
    };
    run.exit_code = Some(code);
    run.verdict = Some(RunVerdict {
        scope: "gate".into(),
        repositories: verdicts,
        global_flag,
        summary: lines.last().cloned().unwrap_or_default(),
    });
    report::timing::render_into(&mut run, section, &out)?;
    if let Some(p) = &args.prometheus {
        let extras = report::prometheus::Extras {
            gates,
            ..report::prometheus::Extras::finished_now(&run)
        };
        report::prometheus::write(p, &run, &extras)?;
    }
    for l in &lines {
        println!("{l}");
    }
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}

struct RepoVerdict {
    verdict: RepositoryVerdict,
    error: bool,
}

/// `name slower, name mismatch`.
fn failing_ops(ops: &[&OperationResult]) -> String {
    ops.iter()
        .filter(|o| o.verdict.fails())
        .map(|o| failing_op(o))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operation with the largest finite p95 ratio (target/source).
fn worst_p95<'a>(ops: &[&'a OperationResult]) -> Option<&'a OperationResult> {
    ops.iter()
        .copied()
        .filter(|o| o.comparison.ratio_p95.is_finite() && o.comparison.ratio_p95 > 0.0)
        .max_by(|a, b| a.comparison.ratio_p95.total_cmp(&b.comparison.ratio_p95))
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
    views: &[String],
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
    // Issue 10: READY only when every table of the repository was paired
    // and checked (views are never read by data checks).
    let not_checked: Vec<&str> = repo
        .tables
        .iter()
        .map(|n| bare(n))
        .filter(|n| !views.iter().any(|v| bare(v) == *n))
        .filter(|n| {
            !mine.iter().any(|t| {
                t.status == Status::Ok
                    && (bare(&t.source_table) == *n || bare(&t.target_table) == *n)
            }) && !mine.iter().any(|t| {
                t.status != Status::Ok
                    && !t.source_table.is_empty()
                    && !t.target_table.is_empty()
                    && (bare(&t.source_table) == *n || bare(&t.target_table) == *n)
            })
        })
        .collect();
    let data_bad = mine
        .iter()
        .filter(|t| {
            t.status != Status::Ok && !t.source_table.is_empty() && !t.target_table.is_empty()
        })
        .count();
    let my_ops: Vec<&OperationResult> = ops.iter().filter(|o| o.repository == repo.name).collect();
    let timing_bad = my_ops.iter().filter(|o| o.verdict.fails()).count();
    let worst = worst_p95(&my_ops);
    let ready = errors == 0 && data_bad == 0 && timing_bad == 0 && not_checked.is_empty();
    let error = mine.iter().any(|t| t.status == Status::Error)
        || my_ops.iter().any(|o| o.verdict == TimingVerdict::Error);
    let schema = if errors == 0 {
        "schema ok".to_string()
    } else {
        format!("schema {errors} error(s)")
    };
    let checked = mine
        .iter()
        .filter(|t| !t.source_table.is_empty() && !t.target_table.is_empty())
        .count();
    let data = if !not_checked.is_empty() {
        format!(
            "data NOT CHECKED: {} (in one mapping only or not paired)",
            not_checked.join(", ")
        )
    } else if data_bad == 0 {
        format!("data ok ({checked} tables, {})", human_rows(rows))
    } else {
        let differing: u64 = mine
            .iter()
            .map(|t| t.missing_in_target + t.extra_in_target + t.different + t.unreadable)
            .sum();
        let unreadable: u64 = mine.iter().map(|t| t.unreadable).sum();
        if unreadable > 0 {
            format!(
                "data {data_bad} of {} tables differ ({differing} rows, {unreadable} unreadable)",
                checked
            )
        } else {
            format!(
                "data {data_bad} of {} tables differ ({differing} rows)",
                checked
            )
        }
    };
    let timing = if my_ops.is_empty() {
        "timing: no operations".to_string()
    } else {
        let verdict = if timing_bad == 0 {
            "ok".to_string()
        } else {
            failing_ops(&my_ops)
        };
        // The worst operation, not an average: one slow operation is what
        // a rollout has to know about.
        match worst {
            Some(o) => format!(
                "timing {verdict} ({} ops, worst p95 ratio {:.2} {})",
                my_ops.len(),
                o.comparison.ratio_p95,
                o.operation
            ),
            None => format!("timing {verdict} ({} ops)", my_ops.len()),
        }
    };
    let mut why = Vec::new();
    if errors > 0 {
        let codes: Vec<String> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && !f.allowed)
            .filter(|f| f.table.as_deref().is_none_or(|t| names.contains(bare(t))))
            .map(|f| f.code.clone())
            .collect();
        why.push(format!("schema: {}", codes.join(", ")));
    }
    if !not_checked.is_empty() {
        why.push(format!("data not checked: {}", not_checked.join(", ")));
    }
    let items: Vec<String> = mine.iter().flat_map(|t| table_items(t)).collect();
    if !items.is_empty() {
        why.push(format!("data: {}", items.join(", ")));
    }
    if timing_bad > 0 {
        why.push(format!("timing: {}", failing_ops(&my_ops)));
    }
    let why = if why.is_empty() {
        format!("{schema} · {data} · {timing}")
    } else {
        why.join("; ")
    };
    let flag = repo
        .flag
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    let label = if ready { "READY" } else { "NOT READY" };
    RepoVerdict {
        verdict: RepositoryVerdict {
            repository: repo.name.clone(),
            flag: repo.flag.clone(),
            label: label.into(),
            ready,
            why,
            line: format!(
                "{}{flag}: {schema} · {data} · {timing} → {label}",
                repo.name
            ),
        },
        error,
    }
}

/// What made a repository NOT READY, one operation: its verdict with the
/// ratio and interval the verdict rests on, and for a mismatch what kind.
fn failing_op(o: &OperationResult) -> String {
    let c = &o.comparison;
    let what = match (&o.mismatch, o.verdict) {
        (Some(m), TimingVerdict::Mismatch)
            if m.detail.kind == crate::timing::result::MismatchKind::Order =>
        {
            "same rows, different order; ".to_string()
        }
        (Some(_), TimingVerdict::Mismatch) => "rows differ; ".to_string(),
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
}
