//! `parity observe`'s files: `observe.csv` (one row per operation and
//! side), `observe-unmatched.csv` (statements no operation accounts for),
//! `summary.md`, and the production section that `report.html` and
//! `junit.xml` include. Renders the [`ObserveSection`] it is handed.
//!
//! `observe.csv` columns, in this order (new ones are only ever appended):
//! `repository,operation,side,orm,calls,mean_ms,stddev_ms,rows_per_call,
//! shared_blks_hit,shared_blks_read,ratio,ci_low,ci_high,verdict,temp_blks,
//! plan_ms,total_ms,matched_by,staging_ratio_p50,staging_verdict`.
//! `side` is `source` or `target`, `orm` the operation file's ORM; calls
//! are the operation's executions in the window; times are per execution,
//! in milliseconds; `rows_per_call`, the block counts and `temp_blks`
//! (read + written) are per execution too; `plan_ms` is empty unless
//! planning is tracked. `ratio,ci_low,ci_high,verdict` (target mean over
//! source mean, 95% Welch interval; `slower`, `faster`, `same`,
//! `not_enough_traffic` or `indistinguishable`) repeat on both rows of an
//! operation. `matched_by` is `query_id`, `text` or `query_id;text`. The
//! `staging_*` columns hold `parity timing`'s p50 ratio and verdict for the
//! same operation when `--staging` names its `report.json`.

use std::fmt::Write as _;

use anyhow::Result;

use super::csv::table;
use super::html::{esc, note_list};
use super::markdown::bullets;
use super::{Rendered, RunReport, Writers};
use crate::timing::observe::{ObserveSection, ObserveVerdict, ObservedOperation, ObservedSide};

pub const OBSERVE: Rendered = Rendered::new(&["observe.csv"], observe_csv);

pub const UNMATCHED: Rendered = Rendered::new(&["observe-unmatched.csv"], unmatched_csv);

pub const SUMMARY: Rendered = Rendered::new(&["summary.md"], |run| {
    Ok(run.observe.as_ref().map(|o| summary(run, o).into_bytes()))
});

pub const OBSERVE_HEADER: [&str; 20] = [
    "repository",
    "operation",
    "side",
    "orm",
    "calls",
    "mean_ms",
    "stddev_ms",
    "rows_per_call",
    "shared_blks_hit",
    "shared_blks_read",
    "ratio",
    "ci_low",
    "ci_high",
    "verdict",
    "temp_blks",
    "plan_ms",
    "total_ms",
    "matched_by",
    "staging_ratio_p50",
    "staging_verdict",
];

pub const UNMATCHED_HEADER: [&str; 6] = ["queryid", "kind", "calls", "total_ms", "share", "query"];

/// Every writer of `parity observe`.
pub fn observe_writers() -> Writers {
    vec![
        Box::new(OBSERVE),
        Box::new(UNMATCHED),
        Box::new(SUMMARY),
        Box::new(super::json::JSON),
        Box::new(super::html::HTML),
        Box::new(super::junit::JUNIT),
    ]
}

fn f(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        String::new()
    }
}

fn side_row(o: &ObservedOperation, label: &str, s: &ObservedSide) -> Vec<String> {
    vec![
        o.repository.clone(),
        o.operation.clone(),
        label.to_string(),
        s.orm.clone(),
        s.calls.to_string(),
        f(s.mean_ms),
        f(s.stddev_ms),
        f(s.rows_per_call),
        f(s.shared_blks_hit),
        f(s.shared_blks_read),
        f(o.ratio),
        f(o.ci_low),
        f(o.ci_high),
        o.verdict.as_str().to_string(),
        f(s.temp_blks),
        s.plan_ms.map(f).unwrap_or_default(),
        f(s.total_ms),
        s.matched_by.join(";"),
        o.staging
            .as_ref()
            .map(|t| f(t.ratio_p50))
            .unwrap_or_default(),
        o.staging
            .as_ref()
            .map(|t| t.verdict.clone())
            .unwrap_or_default(),
    ]
}

fn observe_csv(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let Some(obs) = &run.observe else {
        return Ok(None);
    };
    let rows = obs.operations.iter().flat_map(|o| {
        [
            side_row(o, "source", &o.source),
            side_row(o, "target", &o.target),
        ]
    });
    table(&OBSERVE_HEADER, rows).map(Some)
}

fn unmatched_csv(run: &RunReport) -> Result<Option<Vec<u8>>> {
    let Some(obs) = &run.observe else {
        return Ok(None);
    };
    let rows = obs.unmatched.iter().map(|u| {
        [
            u.queryid.to_string(),
            u.kind.clone(),
            u.calls.to_string(),
            f(u.total_ms),
            format!("{:.6}", u.share),
            u.query.clone(),
        ]
    });
    table(&UNMATCHED_HEADER, rows).map(Some)
}

/// `summary.md` of `parity observe`.
fn summary(run: &RunReport, obs: &ObserveSection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# parity observe\n");
    let _ = writeln!(
        s,
        "- database: {}\n- window: {} → {} ({:.1} s)\n- statements: {} ({} calls, {:.1} ms); parity's own calls: {}\n",
        obs.database,
        obs.from,
        obs.to,
        obs.window_seconds,
        obs.statements,
        obs.calls,
        obs.total_ms,
        obs.parity_calls
    );
    s.push_str(&text_table(obs));
    if !obs.unmatched.is_empty() {
        let _ = writeln!(s, "\n## Unmatched statements\n");
        let _ = writeln!(
            s,
            "| kind | calls | ms | share | query |\n|---|---:|---:|---:|---|"
        );
        for u in &obs.unmatched {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {:.1}% | `{}` |",
                u.kind,
                u.calls,
                u.total_ms,
                u.share * 100.0,
                u.query.replace('|', "\\|").replace('\n', " ")
            );
        }
    }
    let notes: Vec<&String> = obs.notes.iter().chain(&run.notes).collect();
    if !notes.is_empty() {
        s.push('\n');
        bullets(&mut s, "Notes", &notes);
    }
    s
}

/// An operation's figures as the tables show them: calls and mean ms per
/// side, the ratio and its interval (`none` without enough traffic for
/// one).
fn figures(o: &ObservedOperation, none: &str) -> [String; 6] {
    let ratio = if o.ratio.is_finite() {
        format!("{:.2}", o.ratio)
    } else {
        none.to_string()
    };
    let ci = if o.ci_low.is_finite() {
        format!("[{:.2}, {:.2}]", o.ci_low, o.ci_high)
    } else {
        none.to_string()
    };
    [
        o.source.calls.to_string(),
        o.target.calls.to_string(),
        format!("{:.4}", o.source.mean_ms),
        format!("{:.4}", o.target.mean_ms),
        ratio,
        ci,
    ]
}

/// The stdout table: one line per operation.
pub fn text_table(obs: &ObserveSection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<44} {:>8} {:>8} {:>10} {:>10} {:>7} {:>16}  verdict",
        "operation", "calls", "calls", "source ms", "target ms", "ratio", "95% CI"
    );
    for o in &obs.operations {
        let [sc, tc, sm, tm, ratio, ci] = figures(o, "-");
        let _ = writeln!(
            s,
            "{:<44} {sc:>8} {tc:>8} {sm:>10} {tm:>10} {ratio:>7} {ci:>16}  {}",
            format!("{}/{}", o.repository, o.operation),
            o.verdict.as_str()
        );
    }
    let _ = writeln!(
        s,
        "unmatched: {} statement(s), {:.1}% of execution time{}",
        obs.unmatched_count,
        obs.unmatched_share * 100.0,
        if obs.unmatched.iter().any(|u| u.kind == "query") {
            " (see observe-unmatched.csv)"
        } else {
            ""
        }
    );
    s
}

/// The production section of report.html.
pub fn html_section(s: &mut String, obs: &ObserveSection) {
    let _ = writeln!(s, "<h2>Production traffic (observe)</h2>");
    let _ = writeln!(
        s,
        "<p class=\"meta\">{} · window {} → {} ({:.1} s) · {} statements, {} calls · Welch 95% interval, margin ±{:.0}%</p>",
        esc(&obs.database),
        esc(&obs.from),
        esc(&obs.to),
        obs.window_seconds,
        obs.statements,
        obs.calls,
        obs.max_slowdown * 100.0
    );
    let _ = writeln!(
        s,
        "<table id=\"observe\">\n<tr><th>operation</th><th>source calls</th><th>target calls</th>\
         <th>source mean ms</th><th>target mean ms</th><th>ratio</th><th>95% CI</th><th>verdict</th>\
         <th>staging p50 ratio</th><th>staging verdict</th></tr>"
    );
    for o in &obs.operations {
        let cells = super::html::number_cells(&figures(o, "–"));
        let _ = writeln!(
            s,
            "<tr><td><code>{}/{}</code></td>{cells}<td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&o.repository),
            esc(&o.operation),
            esc(o.verdict.as_str()),
            o.staging
                .as_ref()
                .map(|t| format!("{:.2}", t.ratio_p50))
                .unwrap_or_else(|| "–".into()),
            o.staging
                .as_ref()
                .map(|t| esc(&t.verdict))
                .unwrap_or_else(|| "–".into()),
        );
    }
    let _ = writeln!(s, "</table>");
    if !obs.unmatched.is_empty() {
        let _ = writeln!(
            s,
            "<h3>Unmatched statements</h3>\n<p class=\"meta\">{} statement(s) no operation file accounts for, {:.1}% of execution time</p>\n\
             <table id=\"unmatched\">\n<tr><th>kind</th><th>calls</th><th>ms</th><th>share</th><th>query</th></tr>",
            obs.unmatched_count,
            obs.unmatched_share * 100.0
        );
        for u in &obs.unmatched {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}%</td><td><code>{}</code></td></tr>",
                esc(&u.kind),
                u.calls,
                u.total_ms,
                u.share * 100.0,
                esc(&u.query)
            );
        }
        let _ = writeln!(s, "</table>");
    }
    let per_op = obs.operations.iter().flat_map(|o| {
        o.notes
            .iter()
            .map(|n| format!("<b>{}</b>: {}", esc(&o.operation), esc(n)))
    });
    note_list(s, obs.notes.iter().map(|n| esc(n)).chain(per_op));
}

/// One JUnit test case per observed operation: (classname, name, failure
/// message if `slower`, a one-line summary).
pub fn junit_cases(obs: &ObserveSection) -> Vec<(String, String, Option<String>, String)> {
    obs.operations
        .iter()
        .map(|o| {
            let summary = format!(
                "production mean {:.4} ms → {:.4} ms (ratio {}, 95% CI [{}, {}]), calls {}/{}; verdict {}",
                o.source.mean_ms,
                o.target.mean_ms,
                f(o.ratio),
                f(o.ci_low),
                f(o.ci_high),
                o.source.calls,
                o.target.calls,
                o.verdict.as_str()
            );
            let failure =
                (o.verdict == ObserveVerdict::Slower).then(|| format!("target slower: {summary}"));
            (
                format!("parity.{}.observe", o.repository),
                format!("observe {}", o.operation),
                failure,
                summary,
            )
        })
        .collect()
}
