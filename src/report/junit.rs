//! `junit.xml` for CI systems: a testsuite per repository (rollout phase),
//! a testcase per table check and per timed operation. A failure carries
//! the counts and the first differing keys; a check that could not run is
//! an `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Rendered, RunReport};
use crate::engine::{Status, TableResult};
use crate::timing::result::MismatchKind;
use crate::timing::{OperationResult, TimingVerdict};

pub const JUNIT: Rendered = Rendered::new(&["junit.xml"], |run| Ok(Some(render(run).into_bytes())));

/// Escapes text for XML content and attributes; drops characters XML 1.0
/// cannot carry.
pub fn esc(s: &str) -> String {
    super::html::escape_markup(s, "&apos;", true)
}

enum Outcome {
    Pass,
    Failure {
        kind: String,
        message: String,
        body: String,
    },
    Error {
        message: String,
    },
}

struct Case {
    classname: String,
    name: String,
    seconds: f64,
    outcome: Outcome,
    out: Option<String>,
}

fn table_case(suite: &str, t: &TableResult) -> Case {
    let name = format!("data {}", super::verdict::pair_name(t));
    let [source, target, matched, missing, extra, different] = super::verdict::row_counts(t);
    let counts = format!(
        "source {source} rows, target {target} rows: {matched} matched, {missing} missing in target, \
         {extra} extra in target, {different} different, {} unreadable",
        t.unreadable
    );
    let outcome = match t.status {
        Status::Ok => Outcome::Pass,
        Status::Error | Status::Incomplete => Outcome::Error {
            message: t.error.clone().unwrap_or_else(|| {
                if t.status == Status::Error {
                    "failed"
                } else {
                    "incomplete: the run was stopped"
                }
                .into()
            }),
        },
        Status::Differs => {
            let keys: Vec<String> = t
                .differences
                .iter()
                .take(5)
                .map(|d| format!("{} {}", d.kind.as_str(), d.key))
                .collect();
            let mut body = counts.clone();
            for (what, cols) in [
                ("columns differing", &t.columns_differing),
                (
                    "columns unreadable (an ORM's read throws)",
                    &t.columns_unreadable,
                ),
            ] {
                if !cols.is_empty() {
                    let cols: Vec<String> =
                        cols.iter().map(|(c, n)| format!("{c} ({n})")).collect();
                    let _ = write!(body, "\n{what}: {}", cols.join(", "));
                }
            }
            if !keys.is_empty() {
                let _ = write!(body, "\nfirst differing keys:\n{}", keys.join("\n"));
            }
            Outcome::Failure {
                kind: "differs".into(),
                message: counts.clone(),
                body,
            }
        }
    };
    Case {
        classname: format!("parity.{suite}.data"),
        name,
        seconds: t.wall_seconds,
        outcome,
        out: Some(counts),
    }
}

fn op_case(o: &OperationResult) -> Case {
    let c = &o.comparison;
    let summary = format!(
        "p50 {:.3} ms → {:.3} ms (ratio {:.2}, 95% CI [{:.2}, {:.2}]), p95 ratio {:.2}, n {}/{}",
        o.source.stats.p50_ms,
        o.target.stats.p50_ms,
        c.ratio_p50,
        c.ci_low,
        c.ci_high,
        c.ratio_p95,
        o.source.stats.n,
        o.target.stats.n
    );
    let outcome = match o.verdict {
        TimingVerdict::Same | TimingVerdict::Faster => Outcome::Pass,
        TimingVerdict::Error => Outcome::Error {
            message: o.error.clone().unwrap_or_else(|| "failed".into()),
        },
        TimingVerdict::Slower => Outcome::Failure {
            kind: "slower".into(),
            message: format!("target slower: {summary}"),
            body: summary.clone(),
        },
        TimingVerdict::Mismatch => {
            let (message, body) = match &o.mismatch {
                Some(m) if m.detail.kind == MismatchKind::Order => (
                    format!(
                        "results differ for parameter set {}: {}",
                        m.parameter_set,
                        m.detail.describe()
                    ),
                    format!(
                        "same rows, different order in {}: the sequences part at position {}\nsource row there: {}\ntarget row there: {}",
                        m.detail.table,
                        m.detail.position.unwrap_or(0),
                        m.detail.first_keys.first().map_or("?", String::as_str),
                        m.detail.first_keys.get(1).map_or("?", String::as_str)
                    ),
                ),
                Some(m) => (
                    format!(
                        "results differ for parameter set {} in {}: {} rows from source, {} from target",
                        m.parameter_set, m.detail.table, m.detail.source_rows, m.detail.target_rows
                    ),
                    format!(
                        "{} only from source, {} only from target\nfirst differing keys:\n{}",
                        m.detail.only_in_source,
                        m.detail.only_in_target,
                        m.detail.first_keys.join("\n")
                    ),
                ),
                None => ("results differ".into(), String::new()),
            };
            Outcome::Failure {
                kind: "mismatch".into(),
                message,
                body,
            }
        }
    };
    Case {
        classname: format!("parity.{}.timing", o.repository),
        name: format!("timing {}", o.operation),
        // `+ 0.0`: an empty sum is -0.0, which would print as `-0.000`.
        seconds: (o.source.samples_ms.iter().sum::<f64>()
            + o.target.samples_ms.iter().sum::<f64>())
            / 1000.0
            + 0.0,
        outcome,
        out: Some(format!("{summary}; verdict {}", o.verdict.as_str())),
    }
}

/// Tests, failures, errors and seconds of some test cases.
fn tally<'a>(cases: impl IntoIterator<Item = &'a Case>) -> (usize, usize, usize, f64) {
    let mut t = (0, 0, 0, 0.0);
    for c in cases {
        t.0 += 1;
        match c.outcome {
            Outcome::Pass => {}
            Outcome::Failure { .. } => t.1 += 1,
            Outcome::Error { .. } => t.2 += 1,
        }
        t.3 += c.seconds;
    }
    t
}

pub fn render(run: &RunReport) -> String {
    let mut suites: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for t in &run.tables {
        let suite = t.repository.clone().unwrap_or_else(|| "tables".into());
        let case = table_case(&suite, t);
        suites.entry(suite).or_default().push(case);
    }
    if let Some(timing) = &run.timing {
        for o in &timing.operations {
            suites
                .entry(o.repository.clone())
                .or_default()
                .push(op_case(o));
        }
    }
    // `parity run`: the verdicts themselves, in a `gate` suite.
    if let Some(v) = run.verdict.as_ref().filter(|v| v.scope == "gate") {
        let gate = suites.entry("gate".into()).or_default();
        for r in &v.repositories {
            gate.push(Case {
                classname: "parity.gate".into(),
                name: match &r.flag {
                    Some(f) => format!("verdict {} ({f})", r.repository),
                    None => format!("verdict {}", r.repository),
                },
                seconds: 0.0,
                outcome: if r.ready {
                    Outcome::Pass
                } else {
                    Outcome::Failure {
                        kind: "not_ready".into(),
                        message: format!("{}: NOT READY: {}", r.repository, r.why),
                        body: r.line.clone(),
                    }
                },
                out: Some(r.line.clone()),
            });
        }
        if let Some(g) = &v.global_flag {
            gate.push(Case {
                classname: "parity.gate".into(),
                name: format!("global flag {}", g.flag),
                seconds: 0.0,
                outcome: if g.ready {
                    Outcome::Pass
                } else {
                    Outcome::Failure {
                        kind: "not_ready".into(),
                        message: g.line.clone(),
                        body: g.line.clone(),
                    }
                },
                out: Some(g.line.clone()),
            });
        }
    }
    if let Some(obs) = &run.observe {
        for (classname, name, failure, summary) in super::observe::junit_cases(obs) {
            let suite = classname
                .strip_prefix("parity.")
                .and_then(|c| c.strip_suffix(".observe"))
                .unwrap_or("observe")
                .to_string();
            suites.entry(suite).or_default().push(Case {
                classname,
                name,
                seconds: 0.0,
                outcome: match failure {
                    Some(message) => Outcome::Failure {
                        kind: "slower".into(),
                        message,
                        body: summary.clone(),
                    },
                    None => Outcome::Pass,
                },
                out: Some(summary),
            });
        }
    }
    // A stopped run (Ctrl-C, SIGTERM) must never read as a complete one.
    if let Some(reason) = &run.incomplete {
        suites.entry("run".into()).or_default().push(Case {
            classname: "parity.run".into(),
            name: "run complete".into(),
            seconds: 0.0,
            outcome: Outcome::Error {
                message: format!("incomplete: {reason}"),
            },
            out: None,
        });
    }
    let (tests, failures, errors, time) = tally(suites.values().flatten());
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"parity {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">",
        esc(&run.command)
    );
    for (name, cases) in &suites {
        let (n, f, e, secs) = tally(cases);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\" time=\"{secs:.3}\" timestamp=\"{}\">",
            esc(name),
            esc(run.started_at.trim_end_matches('Z'))
        );
        for c in cases {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                esc(&c.classname),
                esc(&c.name),
                c.seconds
            );
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Failure {
                    kind,
                    message,
                    body,
                } => {
                    let _ = write!(
                        s,
                        "\n      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        esc(kind),
                        esc(message),
                        esc(body)
                    );
                }
                Outcome::Error { message } => {
                    let _ = write!(
                        s,
                        "\n      <error type=\"error\" message=\"{}\">{}</error>",
                        esc(message),
                        esc(message)
                    );
                }
            }
            if let Some(out) = &c.out {
                let _ = write!(s, "\n      <system-out>{}</system-out>", esc(out));
            }
            s.push_str("\n    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}
