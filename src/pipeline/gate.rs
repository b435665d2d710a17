//! `parity run`'s gate: from the schema findings, the checked tables and
//! the timed operations, a verdict per repository (READY / NOT READY, its
//! flag, and why), the global flag's verdict, and the exit code.

use std::collections::BTreeSet;

use crate::config::{Config, Repository};
use crate::engine::{Status, TableResult};
use crate::exit;
use crate::plan::findings::{Finding, Severity};
use crate::report::prometheus;
use crate::report::verdict::{
    GlobalFlagVerdict, RepositoryVerdict, Verdict as RunVerdict, table_items,
};
use crate::timing::result::MismatchKind;
use crate::timing::{OperationResult, TimingVerdict};

/// What the gate concluded.
pub struct Gate {
    /// One per selected repository in config order, or one for all tables
    /// when the config has no rollout phases.
    pub verdicts: Vec<RepositoryVerdict>,
    /// Judged only when the run covered every repository.
    pub global_flag: Option<GlobalFlagVerdict>,
    /// The verdict lines, as printed: one per repository, then the global flag's.
    pub lines: Vec<String>,
    /// Per repository, for the Prometheus metrics.
    pub gates: Vec<prometheus::Gate>,
    /// 2 when anything could not be checked, 0 when every repository is
    /// READY, else 1.
    pub code: i32,
}

impl Gate {
    /// The gate's verdict as `report.json` carries it.
    pub fn verdict(&self) -> RunVerdict {
        RunVerdict {
            scope: "gate".into(),
            repositories: self.verdicts.clone(),
            global_flag: self.global_flag.clone(),
            summary: self.lines.last().cloned().unwrap_or_default(),
        }
    }
}

/// The gate over what `run` found, for the repository `only` or all of them.
pub fn judge(
    config: &Config,
    only: Option<&str>,
    views: &[String],
    findings: &[Finding],
    tables: &[TableResult],
    ops: &[OperationResult],
) -> Gate {
    let repos: Vec<&Repository> = config
        .repositories
        .iter()
        .filter(|r| only.is_none_or(|n| n == r.name))
        .collect();
    let judged: Vec<RepoVerdict> = if repos.is_empty() {
        // No rollout phases in the config: one verdict for everything.
        vec![all_tables(findings, tables, ops)]
    } else {
        repos
            .iter()
            .map(|repo| verdict(views, repo, findings, tables, ops))
            .collect()
    };
    let any_error = judged.iter().any(|v| v.error);
    let all_ready = judged.iter().all(|v| v.verdict.ready);
    let gates = judged
        .iter()
        .map(|v| prometheus::Gate {
            repository: v.gate_name.clone(),
            flag: v.verdict.flag.clone().unwrap_or_default(),
            ready: v.verdict.ready,
        })
        .collect();
    let verdicts: Vec<RepositoryVerdict> = judged.into_iter().map(|v| v.verdict).collect();
    let mut lines: Vec<String> = verdicts.iter().map(|v| v.line.clone()).collect();
    // The global flag flips once every repository is READY: judged only
    // when the run covered them all.
    let global_flag = match (&config.global_flag, only) {
        (Some(flag), None) if !config.repositories.is_empty() => {
            let g = GlobalFlagVerdict::judge(flag, &verdicts);
            lines.push(g.line.clone());
            Some(g)
        }
        _ => None,
    };
    Gate {
        verdicts,
        global_flag,
        lines,
        gates,
        code: exit::of(any_error, !all_ready),
    }
}

struct RepoVerdict {
    verdict: RepositoryVerdict,
    /// How the Prometheus metrics name it (`all` for all tables).
    gate_name: String,
    error: bool,
}

fn label(ready: bool) -> &'static str {
    if ready { "READY" } else { "NOT READY" }
}

fn ok_or_fail(ok: bool) -> &'static str {
    if ok { "ok" } else { "FAIL" }
}

/// The one verdict of a config without `[[repository]]`.
fn all_tables(
    findings: &[Finding],
    tables: &[TableResult],
    ops: &[OperationResult],
) -> RepoVerdict {
    let errors = schema_errors(findings, None);
    let data_ok = tables.iter().all(|t| t.status == Status::Ok);
    let timing_ok = ops.iter().all(|o| !o.verdict.fails());
    let ready = errors == 0 && data_ok && timing_ok;
    let error = tables.iter().any(|t| t.status == Status::Error)
        || ops.iter().any(|o| o.verdict == TimingVerdict::Error);
    let line = format!(
        "all tables: schema {} · data {} · timing {} → {}",
        ok_or_fail(errors == 0),
        ok_or_fail(data_ok),
        ok_or_fail(timing_ok),
        label(ready)
    );
    let mut why = Vec::new();
    if errors > 0 {
        why.push(format!("schema: {errors} error(s)"));
    }
    let items: Vec<String> = tables.iter().flat_map(table_items).collect();
    if !items.is_empty() {
        why.push(format!("data: {}", items.join(", ")));
    }
    if !timing_ok {
        why.push(format!(
            "timing: {}",
            failing_ops(&ops.iter().collect::<Vec<_>>())
        ));
    }
    RepoVerdict {
        verdict: RepositoryVerdict {
            repository: "all tables".into(),
            flag: None,
            label: label(ready).into(),
            ready,
            why: if why.is_empty() {
                "schema, data and timing ok".into()
            } else {
                why.join("; ")
            },
            line,
        },
        gate_name: "all".into(),
        error,
    }
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

/// Whether a result row is a checked pair (not a table one mapping lacks).
fn paired(t: &TableResult) -> bool {
    !t.source_table.is_empty() && !t.target_table.is_empty()
}

/// Whether a result row is about the table `name` (on either side).
fn names(t: &TableResult, name: &str) -> bool {
    bare(&t.source_table) == name || bare(&t.target_table) == name
}

fn verdict(
    views: &[String],
    repo: &Repository,
    findings: &[Finding],
    tables: &[TableResult],
    ops: &[OperationResult],
) -> RepoVerdict {
    let table_names: BTreeSet<String> = repo.tables.iter().map(|t| bare(t).to_string()).collect();
    let errors = schema_errors(findings, Some(&table_names));
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
            !mine
                .iter()
                .any(|t| names(t, n) && (t.status == Status::Ok || paired(t)))
        })
        .collect();
    let data_bad = mine
        .iter()
        .filter(|t| t.status != Status::Ok && paired(t))
        .count();
    let my_ops: Vec<&OperationResult> = ops.iter().filter(|o| o.repository == repo.name).collect();
    let timing_bad = my_ops.iter().filter(|o| o.verdict.fails()).count();
    let ready = errors == 0 && data_bad == 0 && timing_bad == 0 && not_checked.is_empty();
    let error = mine.iter().any(|t| t.status == Status::Error)
        || my_ops.iter().any(|o| o.verdict == TimingVerdict::Error);
    let schema = if errors == 0 {
        "schema ok".to_string()
    } else {
        format!("schema {errors} error(s)")
    };
    let checked = mine.iter().filter(|t| paired(t)).count();
    let data = if !not_checked.is_empty() {
        format!(
            "data NOT CHECKED: {} (in one mapping only or not paired)",
            not_checked.join(", ")
        )
    } else if data_bad == 0 {
        format!(
            "data ok ({checked} tables, {} rows)",
            crate::ui::human_count(rows as f64)
        )
    } else {
        let differing: u64 = mine
            .iter()
            .map(|t| t.missing_in_target + t.extra_in_target + t.different + t.unreadable)
            .sum();
        let unreadable: u64 = mine.iter().map(|t| t.unreadable).sum();
        let unreadable = if unreadable > 0 {
            format!(", {unreadable} unreadable")
        } else {
            String::new()
        };
        format!("data {data_bad} of {checked} tables differ ({differing} rows{unreadable})")
    };
    let timing = timing_part(&my_ops, timing_bad);
    let mut why = Vec::new();
    if errors > 0 {
        let codes: Vec<String> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && !f.allowed)
            .filter(|f| {
                f.table
                    .as_deref()
                    .is_none_or(|t| table_names.contains(bare(t)))
            })
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
    let label = label(ready);
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
        gate_name: repo.name.clone(),
        error,
    }
}

/// `timing ok (2 ops, worst p95 ratio 1.04 list-customer-bikes)`: the
/// worst operation, not an average, since one slow operation is what a
/// rollout has to know about.
fn timing_part(ops: &[&OperationResult], failing: usize) -> String {
    if ops.is_empty() {
        return "timing: no operations".to_string();
    }
    let verdict = if failing == 0 {
        "ok".to_string()
    } else {
        failing_ops(ops)
    };
    match worst_p95(ops) {
        Some(o) => format!(
            "timing {verdict} ({} ops, worst p95 ratio {:.2} {})",
            ops.len(),
            o.comparison.ratio_p95,
            o.operation
        ),
        None => format!("timing {verdict} ({} ops)", ops.len()),
    }
}

/// What made a repository NOT READY, one operation: its verdict with the
/// ratio and interval the verdict rests on, and for a mismatch what kind.
fn failing_op(o: &OperationResult) -> String {
    let c = &o.comparison;
    let what = match (&o.mismatch, o.verdict) {
        (Some(m), TimingVerdict::Mismatch) if m.detail.kind == MismatchKind::Order => {
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
