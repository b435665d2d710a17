//! Every report format, pinned: the fixture runs (`fixtures`) rendered by
//! each command's writers into a temp dir and compared with the insta
//! snapshots in `src/report/snapshots/` (one per file; `report.html` by
//! its outline: headings, sections, lists and table rows, not the bytes).
//! The clock is fixed, so no snapshot holds a wall-clock time, and the
//! temp dir's path appears in none.

use std::path::Path;

use super::fixtures::{
    FINISHED_UNIX, check_run, gate_run, observe_run, timing_full_run, timing_run,
};
use super::prometheus::{Extras, Gate};
use super::{RunReport, Writers};

/// Every file `writers` write for `run`, by path under the out dir.
fn rendered(writers: &Writers, run: &RunReport) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    for w in writers {
        w.write(run, dir.path()).unwrap();
    }
    let mut files = Vec::new();
    collect(dir.path(), dir.path(), &mut files);
    files.sort();
    files
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// Snapshots every file of `run` as `{prefix}__{file}`; returns the names.
fn snapshot_files(prefix: &str, writers: &Writers, run: &RunReport) -> Vec<String> {
    let mut names = Vec::new();
    for (file, text) in rendered(writers, run) {
        let text = if file.ends_with(".html") {
            outline(&text)
        } else {
            text
        };
        insta::assert_snapshot!(format!("{prefix}__{}", file.replace(['/', '.'], "_")), text);
        names.push(file);
    }
    names
}

#[test]
fn check_reports() {
    let files = snapshot_files("check", &super::check_writers(), &check_run());
    assert_eq!(
        files,
        [
            "differences.csv",
            "parity.csv",
            "report.html",
            "report.json",
            "summary.md"
        ]
    );
}

#[test]
fn timing_reports() {
    let files = snapshot_files(
        "timing",
        &super::timing::timing_writers(),
        &timing_full_run(),
    );
    assert_eq!(
        files,
        [
            "explain/repair/create-repair.source.json",
            "explain/repair/create-repair.target.json",
            "junit.xml",
            "report.html",
            "report.json",
            "summary.md",
            "timing-compare.csv",
            "timing.csv"
        ]
    );
}

#[test]
fn run_reports() {
    let files = snapshot_files("run", &super::timing::run_writers(), &gate_run());
    assert_eq!(files.len(), 10, "{files:?}");
}

#[test]
fn observe_reports() {
    let run = observe_run();
    let files = snapshot_files("observe", &super::observe::observe_writers(), &run);
    assert_eq!(
        files,
        [
            "junit.xml",
            "observe-unmatched.csv",
            "observe.csv",
            "report.html",
            "report.json",
            "summary.md"
        ]
    );
    let console = super::observe::text_table(run.observe.as_ref().unwrap());
    insta::assert_snapshot!("observe__console", console);
}

#[test]
fn prometheus_text() {
    let check = check_run();
    let check_text = super::prometheus::render(&check, &Extras::finished_at(&check, FINISHED_UNIX));
    insta::assert_snapshot!("prometheus__check", check_text);
    let gate = gate_run();
    let extras = Extras {
        gates: vec![
            Gate {
                repository: "user".into(),
                flag: "drizzle_user_repo".into(),
                ready: false,
            },
            Gate {
                repository: "repair".into(),
                flag: "drizzle_repair_repo".into(),
                ready: false,
            },
        ],
        ..Extras::finished_at(&gate, FINISHED_UNIX)
    };
    insta::assert_snapshot!("prometheus__run", super::prometheus::render(&gate, &extras));
    let observe = observe_run();
    let observe_text =
        super::prometheus::render(&observe, &Extras::finished_at(&observe, FINISHED_UNIX));
    insta::assert_snapshot!("prometheus__observe", observe_text);
    let backup = RunReport {
        command: "backup".into(),
        exit_code: Some(0),
        ..check_run()
    };
    let extras = Extras {
        backup_proven: Some(true),
        ..Extras::finished_at(&backup, FINISHED_UNIX)
    };
    let text = super::prometheus::render(&backup, &extras);
    assert!(text.contains("parity_last_run_duration_seconds{command=\"backup\"} 90\n"));
    assert!(text.contains("parity_backup_proven 1\n"), "{text}");
}

/// A stopped run's timing CSVs end with a row that says so; the columns are
/// exactly the documented ones.
#[test]
fn timing_csv_columns_and_the_stopped_row() {
    let csv = |run: &RunReport, file: &str| {
        let files = rendered(&super::timing::timing_writers(), run);
        files.into_iter().find(|(f, _)| f == file).unwrap().1
    };
    let run = timing_run();
    let t = csv(&run, "timing.csv");
    let mut lines = t.lines();
    assert_eq!(
        lines.next().unwrap(),
        "repository,operation,side,n,min_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,mean_ms,stddev_ms,rows,round_trips,result_hash,blocks,block_p50_min_ms,block_p50_max_ms"
    );
    assert_eq!(
        lines.next().unwrap(),
        "user,find-user-by-email,source,3,0.9000,1.0000,1.0800,1.0900,1.0980,1.1000,1.0000,0.1000,1,1,00112233aabbccdd,2,0.9500,1.0500"
    );
    assert_eq!(lines.count(), 1);
    assert_eq!(
        csv(&run, "timing-compare.csv"),
        "repository,operation,source_p50_ms,target_p50_ms,ratio_p50,ci_low,ci_high,ratio_p95,verdict,blocks,block_ratio_min,block_ratio_max\n\
         user,find-user-by-email,1.0000,1.2000,1.2000,1.1500,1.2500,1.2000,slower,2,1.1000,1.3000\n"
    );
    let md = super::timing::summary::render(&run);
    assert!(md.contains("| user/find-user-by-email | 1.000 | 1.200 | 1.20 | [1.15, 1.25] | 1.20 | 1/1 | 1/1 | **slower** | 1.10–1.30 (2 blocks) |"), "{md}");
    let stopped = RunReport {
        incomplete: Some("the run was stopped by SIGTERM".into()),
        ..timing_run()
    };
    let t = csv(&stopped, "timing.csv");
    assert_eq!(t.lines().last().unwrap(), ",,incomplete,,,,,,,,,,,,,,,");
    let c = csv(&stopped, "timing-compare.csv");
    assert_eq!(c.lines().last().unwrap(), ",,,,,,,,incomplete,,,");
}

/// The outline of a page: one line per heading, paragraph, list item, table
/// row and chart, indented by the sections, headers, lists and tables
/// around it, with the element's id and class; text flattened, cells joined
/// by ` | `, a chart by what it draws.
fn outline(html: &str) -> String {
    const CONTAINERS: [&str; 4] = ["header", "section", "ul", "table"];
    const LEAVES: [&str; 7] = ["h1", "h2", "h3", "p", "li", "tr", "div"];
    let body = html.find("<body>").map_or(html, |i| &html[i + 6..]);
    let toks = markup(body);
    let mut out = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Markup::Open(name, attrs) if CONTAINERS.contains(&name.as_str()) => {
                line(&mut out, depth, name, attrs, "");
                depth += 1;
            }
            Markup::Close(name) if CONTAINERS.contains(&name.as_str()) => {
                depth = depth.saturating_sub(1);
            }
            Markup::Open(name, attrs) if LEAVES.contains(&name.as_str()) || name == "svg" => {
                let end = (i + 1..toks.len())
                    .find(|&j| matches!(&toks[j], Markup::Close(n) if n == name))
                    .unwrap_or(toks.len());
                let inner = &toks[i + 1..end];
                let text = if name == "svg" {
                    let count = |tag: &str| {
                        inner
                            .iter()
                            .filter(|t| matches!(t, Markup::Open(n, _) if n == tag))
                            .count()
                    };
                    format!(
                        "{} rects, {} lines, {} labels",
                        count("rect"),
                        count("line"),
                        count("text")
                    )
                } else {
                    flatten(inner)
                };
                line(&mut out, depth, name, attrs, &text);
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn line(out: &mut String, depth: usize, name: &str, attrs: &str, text: &str) {
    let mut s = format!("{}{name}", "  ".repeat(depth));
    for key in ["id", "class", "data-ready"] {
        if let Some(v) = attr(attrs, key) {
            s.push_str(&format!(" {key}={v}"));
        }
    }
    if !text.is_empty() {
        s.push_str(": ");
        s.push_str(text);
    }
    out.push_str(s.trim_end());
    out.push('\n');
}

fn attr<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let at = attrs.find(&format!(" {key}=\""))? + key.len() + 3;
    let len = attrs[at..].find('"')?;
    Some(&attrs[at..at + len])
}

/// The text of some markup, whitespace collapsed; table cells apart.
fn flatten(toks: &[Markup]) -> String {
    let mut s = String::new();
    let mut cells = 0;
    for t in toks {
        match t {
            Markup::Open(n, _) if n == "td" || n == "th" => {
                if cells > 0 {
                    s.push_str(" | ");
                }
                cells += 1;
            }
            // Spans (badges, legend entries) stand apart from their neighbours.
            Markup::Open(n, _) | Markup::Close(n) if n == "span" => s.push(' '),
            Markup::Text(x) => s.push_str(x),
            _ => {}
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug)]
enum Markup {
    Open(String, String),
    Close(String),
    Text(String),
}

fn markup(html: &str) -> Vec<Markup> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        if lt > 0 {
            out.push(Markup::Text(rest[..lt].to_string()));
        }
        let gt = rest[lt..].find('>').map_or(rest.len(), |g| lt + g);
        let tag = &rest[lt + 1..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        out.push(if tag.starts_with('/') {
            Markup::Close(name)
        } else {
            Markup::Open(name, tag.to_string())
        });
        rest = &rest[(gt + 1).min(rest.len())..];
    }
    if !rest.is_empty() {
        out.push(Markup::Text(rest.to_string()));
    }
    out
}

/// The page's and junit.xml's own checks.
mod html {
    use crate::report::RunReport;
    use crate::report::html::*;

    #[test]
    fn one_file_no_network_a_chart_per_operation_and_a_junit_suite() {
        let run = crate::report::fixtures::timing_run();
        let html = render(&run);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg class=\"hist\"").count(), 1);
        assert!(html.contains("class=\"source\"") && html.contains("class=\"target\""));
        for banned in ["http://", "https://", "<script", "<link", "@import", "url("] {
            let hits: Vec<_> = html
                .match_indices(banned)
                .filter(|(i, _)| !html[..*i].ends_with("xmlns=\""))
                .collect();
            assert!(hits.is_empty(), "{banned} in the page");
        }
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        // junit.xml: suites per repository, with failures.
        let x = crate::report::junit::render(&run);
        assert!(x.starts_with("<?xml"));
        assert!(x.contains(
            "<testsuites name=\"parity timing\" tests=\"1\" failures=\"1\" errors=\"0\""
        ));
        assert!(x.contains("<testsuite name=\"user\" tests=\"1\" failures=\"1\""));
        assert!(x.contains("<failure type=\"slower\""));
        assert_eq!(
            crate::report::junit::esc("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;"
        );
    }

    #[test]
    fn the_verdict_banner_comes_first_and_value_risks_stand_out() {
        use crate::plan::ShapeRisk;
        use crate::report::verdict::tests::table;
        let mut repairs = table("repair", "repairs", 20, 3, &[("estimated_cost", 3)]);
        repairs.shapes.push(crate::engine::ColumnShape {
            column: "estimated_cost".into(),
            code: "SHAPE_DECIMAL_NUMBER".into(),
            risk: ShapeRisk::Value,
            message: "digits lost".into(),
        });
        repairs.shapes.push(crate::engine::ColumnShape {
            column: "received_at".into(),
            code: "SHAPE_DATE_VS_STRING".into(),
            risk: ShapeRisk::Shape,
            message: "Date vs string".into(),
        });
        let mut run = RunReport {
            command: "check".into(),
            tables: vec![table("user", "users", 10, 0, &[]), repairs],
            exit_code: Some(1),
            ..RunReport::default()
        };
        run.verdict = Some(crate::report::verdict::data_verdict(
            &run,
            &[
                ("user".into(), Some("drizzle_user_repo".into())),
                ("repair".into(), Some("drizzle_repair_repo".into())),
            ],
        ));
        let html = render(&run);
        let body = &html[html.find("<body>").unwrap() + 6..];
        assert!(
            body.trim_start()
                .starts_with("<header id=\"verdict\" class=\"not-ready\">")
        );
        let banner = &body[..body.find("</header>").unwrap()];
        assert!(
            banner.contains("<h1>parity check: NOT READY</h1>"),
            "{banner}"
        );
        assert!(banner.contains(
            "<span class=\"badge v-not-ready\">NOT READY</span> <b>repair</b> <code class=\"flag\">drizzle_repair_repo</code> — data differs: repairs.estimated_cost (3 rows)"
        ), "{banner}");
        assert!(
            banner.contains("2 tables differ") || banner.contains("1 of 2 tables differs"),
            "{banner}"
        );
        // The schema section, value risks first and marked.
        let schema = &html[html.find("<h2 id=\"schema\">").unwrap()..];
        let value = schema.find("<tr class=\"value-risk\">").unwrap();
        let shape = schema.find("risk-shape").unwrap();
        assert!(value < shape);
        assert!(
            html.find("<h2 id=\"schema\">").unwrap() < html.find("<h2>Data parity</h2>").unwrap()
        );
    }
}

/// `prometheus`'s own checks.
mod prometheus {
    use crate::report::RunReport;
    use crate::report::prometheus::*;

    #[test]
    fn text_format_with_help_type_and_escaped_labels() {
        let run = RunReport {
            command: "run".into(),
            exit_code: Some(1),
            ..RunReport::default()
        };
        let extras = Extras {
            gates: vec![
                Gate {
                    repository: "bike".into(),
                    flag: "drizzle_bike_repo".into(),
                    ready: true,
                },
                Gate {
                    repository: "odd\"name\\".into(),
                    flag: String::new(),
                    ready: false,
                },
            ],
            duration_seconds: 1.5,
            finished_unix: 1_700_000_000.0,
            ..Extras::default()
        };
        let text = render(&run, &extras);
        assert!(text.contains("# TYPE parity_gate_ready gauge\n"));
        assert!(
            text.contains("parity_gate_ready{repository=\"bike\",flag=\"drizzle_bike_repo\"} 1\n")
        );
        assert!(text.contains("parity_gate_ready{repository=\"odd\\\"name\\\\\",flag=\"\"} 0\n"));
        assert!(text.contains("parity_last_run_exit_code{command=\"run\"} 1\n"));
        assert!(text.contains("parity_last_run_duration_seconds{command=\"run\"} 1.5\n"));
        assert_eq!(text.matches("# HELP parity_gate_ready").count(), 1);
    }
}
