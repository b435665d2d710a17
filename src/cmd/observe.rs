//! `parity observe`: Prisma against Drizzle on production traffic, from the
//! database's own statement statistics (`pg_stat_statements`) over a window:
//! `--for DURATION` (two reads), `--save FILE` (one read, kept for later) or
//! `--since FILE` (a saved read against now). Read-only, a handful of
//! statements in all.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cli::{GlobalArgs, ObserveArgs};
use crate::config::{self, DbUrl};
use crate::db::stats::{self, StatsSession};
use crate::mapping::Dialect;
use crate::pipeline::{report_for, side_info};
use crate::report::{self, RunReport, SideInfo, console};
use crate::timing::observe::{self as obs, ObserveOptions, ObserveSection, StatementKey};
use crate::timing::{self, Operation, ops};
use crate::ui::Ui;

pub async fn run(args: ObserveArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let started = Instant::now();
    let config = config::load_optional(global.config.as_deref())?;
    let url: DbUrl = match (
        &args.url,
        config.as_ref().and_then(|c| c.source.url.clone()),
    ) {
        (Some(u), _) => DbUrl::from_arg(u, "--url")?,
        (None, Some(u)) => u,
        (None, None) => bail!(
            "no database to observe; pass --url URL (or the name of a variable holding it), or a config whose [source] has a url"
        ),
    };
    if args.save.is_none() && args.since.is_none() && args.for_.is_none() {
        bail!(
            "say which window to observe: --for DURATION (e.g. --for 10m), --since FILE (a snapshot from --save), or --save FILE to take one now"
        );
    }
    if !(0.0..=1.0).contains(&args.min_share) {
        bail!(
            "--min-share {} is out of range; use a fraction such as 0.01 for 1%",
            args.min_share
        );
    }
    let wait = match &args.for_ {
        Some(d) => Some(config::parse_duration_seconds(d).with_context(|| {
            format!("--for \"{d}\" is not a duration; write e.g. 25s, 10m or 1h")
        })?),
        None => None,
    };
    let before_file = match &args.since {
        Some(p) => Some(stats::load_snapshot(p)?),
        None => None,
    };

    let mut session = StatsSession::open(&url).await?;
    if let Some(path) = &args.save {
        let snap = session.snapshot().await?;
        session.close().await;
        let text = serde_json::to_vec_pretty(&snap)?;
        report::write_atomic(path, &text)
            .with_context(|| format!("cannot save the snapshot to {}", path.display()))?;
        println!(
            "snapshot of {} statements at {} saved to {}; compare later with `parity observe --since {}`",
            snap.entries.len(),
            snap.taken_at,
            path.display(),
            path.display()
        );
        return Ok(crate::exit::OK);
    }
    if let Some(b) = &before_file
        && b.database != session.database
    {
        bail!(
            "the snapshot {} was taken of {}, not of {}; observe the database it came from",
            args.since
                .as_deref()
                .unwrap_or(std::path::Path::new("?"))
                .display(),
            b.database,
            session.database
        );
    }

    let source_role = match &args.source_role {
        Some(r) => Some(session.role_oid(r).await?),
        None => None,
    };
    let target_role = match &args.target_role {
        Some(r) => Some(session.role_oid(r).await?),
        None => None,
    };
    let ops = select(&args, config.as_ref())?;
    if ops.is_empty() {
        bail!(
            "no PostgreSQL operations to attribute statements to; add queries/<repository>/<operation>.toml files (set queries = \"…\" in [[repository]] or pass --queries)"
        );
    }
    // Query ids first, so the EXPLAINs fall before a --for window.
    let mut keys: BTreeMap<(usize, obs::StatementSide, usize), StatementKey> = BTreeMap::new();
    let mut notes = Vec::new();
    for (i, side, k, sql, arity) in obs::statements_to_identify(&ops) {
        match session.query_id(&sql, arity).await {
            Ok(id) => {
                keys.insert(
                    (i, side, k),
                    StatementKey {
                        queryid: Some(id),
                        text: String::new(),
                    },
                );
            }
            Err(e) => notes.push(format!(
                "{}: {} statement {} has no query id here ({e}); it is matched by its text",
                ops[i].id(),
                if side == obs::StatementSide::Source {
                    "source"
                } else {
                    "target"
                },
                k + 1
            )),
        }
    }
    let before = match before_file {
        Some(b) => b,
        None => session.snapshot().await?,
    };
    if let Some(secs) = wait {
        ui.info(format!("observing {} for {secs} s", session.database));
        tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
    }
    let after = session.snapshot().await?;
    session.close().await;

    let (entries, window_notes) = obs::window(&before, &after);
    notes.extend(window_notes);
    let max_slowdown = args
        .max_slowdown
        .or(config.as_ref().map(|c| c.timing.max_slowdown))
        .unwrap_or(0.10);
    let opts = ObserveOptions {
        max_slowdown,
        min_calls: args.min_calls,
        min_share: args.min_share,
        source_role,
        target_role,
    };
    let (mut operations, unmatched, totals) = obs::attribute(&ops, &keys, &entries, &opts);
    if let Some(path) = &args.staging {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the staging report {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a report.json ({e}); pass the report.json of `parity timing` or `parity run`",
                path.display()
            )
        })?;
        let staging = obs::staging_from_report(&json);
        for o in &mut operations {
            o.staging = staging
                .get(&(o.repository.clone(), o.operation.clone()))
                .cloned();
        }
    }
    if !after.track_planning {
        notes
            .push("planning time is not recorded (pg_stat_statements.track_planning = off)".into());
    }
    let section = ObserveSection {
        dialect: "postgresql".into(),
        database: after.database.clone(),
        from: before.taken_at.clone(),
        to: after.taken_at.clone(),
        window_seconds: after.taken_at_unix - before.taken_at_unix,
        max_slowdown,
        min_calls: args.min_calls,
        min_share: args.min_share,
        operations,
        unmatched,
        unmatched_count: totals.unmatched_count,
        unmatched_share: totals.unmatched_share,
        statements: totals.statements,
        calls: totals.calls,
        total_ms: totals.total_ms,
        parity_calls: totals.parity_calls,
        notes,
    };
    let code = section.exit_code();
    // Without a config the sides are the two ORMs, on the one database.
    let side = |name: &str| SideInfo {
        name: name.into(),
        orm: name.into(),
        database: section.database.clone(),
    };
    let (source, target) = match &config {
        Some(c) => (side_info(&c.source), side_info(&c.target)),
        None => (side("prisma"), side("drizzle")),
    };
    let run = RunReport {
        in_progress: false,
        exit_code: Some(code),
        observe: Some(section),
        ..report_for("observe", source, target)
    };
    let out = report::prepare_out_dir(global.out.as_deref())?;
    report::write_all(&report::observe::observe_writers(), &run, &out)?;
    if let Some(p) = &args.prometheus.prometheus {
        let extras = report::prometheus::Extras {
            duration_seconds: started.elapsed().as_secs_f64(),
            finished_unix: report::prometheus::now_unix(),
            ..Default::default()
        };
        report::prometheus::write(p, &run, &extras)?;
    }
    let obs = run.observe.as_ref().expect("set above");
    console::print(&report::observe::text_table(obs))?;
    for u in obs.unmatched.iter().filter(|u| u.kind == "query") {
        ui.warn(format!(
            "unmatched statement ({} calls, {:.1}% of time): {}",
            u.calls,
            u.share * 100.0,
            one_line(&u.query, 160)
        ));
    }
    ui.info(format!("reports: {}", out.display()));
    Ok(code)
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

/// The PostgreSQL operations to attribute to: the config's `queries/`
/// folders (or `--queries`), narrowed by `--repository` and `--operations`.
fn select(args: &ObserveArgs, config: Option<&config::Config>) -> Result<Vec<Operation>> {
    let ops = match config {
        Some(c) => {
            timing::select_operations(
                c,
                args.repository.as_deref(),
                args.ops.queries.as_deref(),
                &args.ops.operations,
                Dialect::Postgres,
            )?
            .0
        }
        None => {
            let dir = args
                .ops
                .queries
                .clone()
                .unwrap_or_else(|| std::path::PathBuf::from("queries"));
            let mut ops: Vec<Operation> = ops::load_dir(&dir)?
                .into_iter()
                .filter(|o| o.dialect.is_none_or(|d| d == Dialect::Postgres))
                .filter(|o| args.repository.as_ref().is_none_or(|r| &o.repository == r))
                .collect();
            if !args.ops.operations.is_empty() {
                for n in &args.ops.operations {
                    if !ops.iter().any(|o| &o.name == n || &o.id() == n) {
                        bail!("no operation named \"{n}\" in {}", dir.display());
                    }
                }
                ops.retain(|o| {
                    args.ops
                        .operations
                        .iter()
                        .any(|n| n == &o.name || n == &o.id())
                });
            }
            ops
        }
    };
    Ok(ops)
}
