//! `--prometheus FILE`: a run's results in the Prometheus text exposition
//! format, for node_exporter's textfile collector (point FILE into its
//! `--collector.textfile.directory`, one file per command, e.g.
//! `parity-run.prom`). The file is written to a temporary name and renamed,
//! so the collector never reads half of it. Renders what it is handed.
//!
//! Every metric is a gauge. Each carries `command` where several commands
//! write it, so files of different commands can sit in one directory:
//!
//! | metric | labels | value |
//! |---|---|---|
//! | `parity_last_run_exit_code` | command | 0 OK, 1 differences, 2 error |
//! | `parity_last_run_success` | command | 1 when the exit code is 0 |
//! | `parity_last_run_duration_seconds` | command | wall time of the run |
//! | `parity_last_run_finished_timestamp_seconds` | command | Unix time the run ended |
//! | `parity_table_rows` | command, repository, table, side | rows read |
//! | `parity_table_differing_rows` | command, repository, table, kind | `missing_in_target`, `extra_in_target`, `different` |
//! | `parity_table_ok` | command, repository, table | 1 when the table matched |
//! | `parity_gate_ready` | repository, flag | `run`: 1 READY, 0 NOT READY |
//! | `parity_timing_ratio_p50` | command, repository, operation | staging ratio of medians |
//! | `parity_timing_slower` | command, repository, operation | 1 on `slower` or `mismatch` |
//! | `parity_backup_proven` | | `backup`: 1 proven |
//! | `parity_observe_calls` | repository, operation, side, orm | executions in the window |
//! | `parity_observe_mean_seconds`, `parity_observe_stddev_seconds` | same | per execution |
//! | `parity_observe_ratio`, `…_ratio_ci_low`, `…_ratio_ci_high` | repository, operation | target mean / source mean and its interval |
//! | `parity_observe_threshold_ratio` | repository, operation | 1 + max_slowdown |
//! | `parity_observe_verdict` | repository, operation, verdict | 1 for the verdict, 0 for the others |
//! | `parity_observe_unmatched_statements`, `parity_observe_unmatched_time_ratio` | | statements no operation accounts for, and their share of time |
//! | `parity_observe_window_seconds` | | the window's length |
//!
//! Ratios without enough traffic are left out (Prometheus has no "no
//! value" other than absence).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::RunReport;
use crate::timing::observe::ObserveVerdict;

/// A gate verdict of `parity run`.
#[derive(Debug, Clone)]
pub struct Gate {
    pub repository: String,
    /// The feature flag, or empty when the config names none.
    pub flag: String,
    pub ready: bool,
}

/// What a run knows beyond its [`RunReport`].
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub gates: Vec<Gate>,
    /// `backup`: whether the backup was proven.
    pub backup_proven: Option<bool>,
    pub duration_seconds: f64,
    pub finished_unix: f64,
}

#[derive(Default)]
struct Family {
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

#[derive(Default)]
struct Metrics {
    order: Vec<&'static str>,
    families: BTreeMap<&'static str, Family>,
}

impl Metrics {
    fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        value: f64,
    ) {
        if !value.is_finite() {
            return;
        }
        let fam = self.families.entry(name).or_insert_with(|| {
            self.order.push(name);
            Family {
                help,
                samples: Vec::new(),
            }
        });
        fam.samples.push((labels, value));
    }

    fn render(&self) -> String {
        let mut s = String::new();
        for name in &self.order {
            let fam = &self.families[name];
            let _ = writeln!(s, "# HELP {name} {}", fam.help);
            let _ = writeln!(s, "# TYPE {name} gauge");
            for (labels, v) in &fam.samples {
                let l = if labels.is_empty() {
                    String::new()
                } else {
                    let parts: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                        .collect();
                    format!("{{{}}}", parts.join(","))
                };
                let _ = writeln!(s, "{name}{l} {}", number(*v));
            }
        }
        s
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn b(x: bool) -> f64 {
    if x { 1.0 } else { 0.0 }
}

/// The text exposition of one run.
pub fn render(run: &RunReport, extras: &Extras) -> String {
    let mut m = Metrics::default();
    let cmd = || ("command", run.command.clone());
    let code = run.exit_code.unwrap_or(crate::exit::ERROR);
    m.add(
        "parity_last_run_exit_code",
        "Exit code of the last run: 0 OK, 1 differences or regression, 2 error.",
        vec![cmd()],
        code as f64,
    );
    m.add(
        "parity_last_run_success",
        "1 when the last run exited 0.",
        vec![cmd()],
        b(code == crate::exit::OK),
    );
    m.add(
        "parity_last_run_duration_seconds",
        "Wall time of the last run.",
        vec![cmd()],
        extras.duration_seconds,
    );
    m.add(
        "parity_last_run_finished_timestamp_seconds",
        "Unix time the last run finished.",
        vec![cmd()],
        extras.finished_unix,
    );
    for t in &run.tables {
        let repo = t.repository.clone().unwrap_or_default();
        let base = |extra: Option<(&'static str, String)>| {
            let mut l = vec![
                cmd(),
                ("repository", repo.clone()),
                ("table", t.source_table.clone()),
            ];
            l.extend(extra);
            l
        };
        m.add(
            "parity_table_rows",
            "Rows read per table and side.",
            base(Some(("side", "source".into()))),
            t.source_rows as f64,
        );
        m.add(
            "parity_table_rows",
            "Rows read per table and side.",
            base(Some(("side", "target".into()))),
            t.target_rows as f64,
        );
        for (kind, n) in [
            ("missing_in_target", t.missing_in_target),
            ("extra_in_target", t.extra_in_target),
            ("different", t.different),
        ] {
            m.add(
                "parity_table_differing_rows",
                "Rows that differ per table, by kind.",
                base(Some(("kind", kind.into()))),
                n as f64,
            );
        }
        m.add(
            "parity_table_ok",
            "1 when every row of the table matched.",
            base(None),
            b(t.status == crate::engine::Status::Ok),
        );
    }
    for g in &extras.gates {
        m.add(
            "parity_gate_ready",
            "Pre-deployment gate per repository and feature flag: 1 READY, 0 NOT READY.",
            vec![
                ("repository", g.repository.clone()),
                ("flag", g.flag.clone()),
            ],
            b(g.ready),
        );
    }
    if let Some(t) = &run.timing {
        for o in &t.operations {
            let l = || {
                vec![
                    cmd(),
                    ("repository", o.repository.clone()),
                    ("operation", o.operation.clone()),
                ]
            };
            m.add(
                "parity_timing_ratio_p50",
                "Staging timing: target median over source median.",
                l(),
                o.comparison.ratio_p50,
            );
            m.add(
                "parity_timing_slower",
                "Staging timing: 1 when the operation is slower or its results differ.",
                l(),
                b(o.verdict.fails()),
            );
        }
    }
    if let Some(p) = extras.backup_proven {
        m.add(
            "parity_backup_proven",
            "1 when the last backup check proved the restored copy identical.",
            vec![],
            b(p),
        );
    }
    if let Some(obs) = &run.observe {
        for o in &obs.operations {
            for (label, s) in [("source", &o.source), ("target", &o.target)] {
                let l = || {
                    vec![
                        ("repository", o.repository.clone()),
                        ("operation", o.operation.clone()),
                        ("side", label.to_string()),
                        ("orm", s.orm.clone()),
                    ]
                };
                m.add(
                    "parity_observe_calls",
                    "Executions of the operation per side in the observed window.",
                    l(),
                    s.calls as f64,
                );
                if s.calls > 0 {
                    m.add(
                        "parity_observe_mean_seconds",
                        "Mean execution time per operation execution in the observed window.",
                        l(),
                        s.mean_ms / 1000.0,
                    );
                    m.add(
                        "parity_observe_stddev_seconds",
                        "Standard deviation of the execution time per operation execution.",
                        l(),
                        s.stddev_ms / 1000.0,
                    );
                }
            }
            let l = || {
                vec![
                    ("repository", o.repository.clone()),
                    ("operation", o.operation.clone()),
                ]
            };
            let traffic = !matches!(
                o.verdict,
                ObserveVerdict::NotEnoughTraffic | ObserveVerdict::Indistinguishable
            );
            if traffic {
                m.add(
                    "parity_observe_ratio",
                    "Production: target (Drizzle) mean over source (Prisma) mean.",
                    l(),
                    o.ratio,
                );
                m.add(
                    "parity_observe_ratio_ci_low",
                    "Lower bound of the 95% Welch interval of the ratio.",
                    l(),
                    o.ci_low,
                );
                m.add(
                    "parity_observe_ratio_ci_high",
                    "Upper bound of the 95% Welch interval of the ratio.",
                    l(),
                    o.ci_high,
                );
            }
            m.add(
                "parity_observe_threshold_ratio",
                "The ratio above which an operation is slower (1 + max_slowdown).",
                l(),
                1.0 + obs.max_slowdown,
            );
            for v in [
                ObserveVerdict::Slower,
                ObserveVerdict::Faster,
                ObserveVerdict::Same,
                ObserveVerdict::NotEnoughTraffic,
                ObserveVerdict::Indistinguishable,
            ] {
                let mut labels = l();
                labels.push(("verdict", v.as_str().to_string()));
                m.add(
                    "parity_observe_verdict",
                    "1 for the operation's verdict, 0 for the others.",
                    labels,
                    b(o.verdict == v),
                );
            }
        }
        m.add(
            "parity_observe_unmatched_statements",
            "Statements in the window that no operation file accounts for.",
            vec![],
            obs.unmatched_count as f64,
        );
        m.add(
            "parity_observe_unmatched_time_ratio",
            "Share of the window's execution time spent in unmatched statements.",
            vec![],
            obs.unmatched_share,
        );
        m.add(
            "parity_observe_window_seconds",
            "Length of the observed window.",
            vec![],
            obs.window_seconds,
        );
    }
    m.render()
}

/// Renders and writes atomically (temporary file in the same folder, then
/// rename: the textfile collector only reads `*.prom`).
pub fn write(path: &Path, run: &RunReport, extras: &Extras) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder of {}", path.display()))?;
    }
    super::write_atomic(path, render(run, extras).as_bytes())
}

impl Extras {
    /// Finished now; the duration from the run's `started_at`.
    pub fn finished_now(run: &RunReport) -> Extras {
        Extras::finished_at(run, now_unix())
    }

    /// Finished at `finished_unix` (Unix seconds); the duration from the
    /// run's `started_at`. The clock is the caller's, so a fixed one
    /// renders the same text every time.
    pub fn finished_at(run: &RunReport, finished_unix: f64) -> Extras {
        let started = chrono::DateTime::parse_from_rfc3339(&run.started_at)
            .map(|t| t.timestamp_millis() as f64 / 1000.0)
            .unwrap_or(finished_unix);
        Extras {
            duration_seconds: (finished_unix - started).max(0.0),
            finished_unix,
            ..Extras::default()
        }
    }
}

/// Unix time now, in seconds.
pub fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
