//! `parity backup`: a restored copy against the database it came from
//! (`--source`), or against a manifest (`--manifest`).
//!
//! With `--source`, both live catalogs are the two mappings (exact
//! database values), paired by `plan` (keyless tables allowed: they are
//! multisets) and checked by the same engine as `check`. With
//! `--manifest`, the target is read with the manifest's chunk boundaries.
//! Either way the catalog fingerprints and sequences are compared into
//! `catalog.csv`, beside `check`'s reports.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{BackupArgs, GlobalArgs};
use crate::config::{CheckSettings, DbUrl};
use crate::db::catalog::read_catalog;
use crate::db::fingerprint::{self, Filter};
use crate::db::{ConnectOptions, Db, Snapshot};
use crate::engine::{self, EngineOptions, multiset};
use crate::exit;
use crate::manifest::findings::{self, CatalogFinding, SequenceRule};
use crate::manifest::scan::{self, ChunkFinding, ScanOptions};
use crate::pipeline::{self, reader_connections, report_for, rewrite_after_each, session_options};
use crate::plan::{self, BuildOptions, Selection};
use crate::report::{self, RunReport, SideInfo, console};
use crate::ui::Ui;

pub async fn run(args: BackupArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let target = match args.target.as_deref() {
        Some(t) => DbUrl::from_arg(t, "--target")?,
        None => anyhow::bail!("--target is required: the restored copy to check"),
    };
    // backup reads no config's [check]: the built-in settings, and the flags.
    let opts = args
        .read
        .check_options(global.jobs)
        .resolve(&CheckSettings::default());
    let filter = Filter {
        schemas: args.catalog.schemas.clone(),
        exclude: args.catalog.exclude.clone(),
    };
    let prometheus = args.prometheus.prometheus.as_deref();
    match (&args.source, &args.manifest) {
        (Some(_), Some(_)) => {
            anyhow::bail!("give --source (a database) or --manifest (a file), not both")
        }
        (None, None) => anyhow::bail!(
            "give --source URL (the database the backup came from) or --manifest FILE (written by `parity manifest`)"
        ),
        (Some(source), None) => {
            let source = DbUrl::from_arg(source, "--source")?;
            // Issue 10: two live databases read now cannot agree on
            // sequences (not transactional); the manifest rule applies
            // unless --strict-sequences.
            let rule = if args.strict_sequences {
                SequenceRule::Exact
            } else {
                SequenceRule::AtLeast
            };
            let check = SourceCheck {
                filter: &filter,
                opts: &opts,
                rule,
                prometheus,
            };
            against_source(&source, &target, &check, global, &ui).await
        }
        (None, Some(path)) => {
            let opts = ScanOptions {
                jobs: opts.jobs,
                chunk_rows: opts.chunk_rows,
                row_hashes: false,
                max_differences: opts.max_differences,
                filter,
            };
            against_manifest(path, &target, &opts, global, &ui, prometheus).await
        }
    }
}

fn side(name: &str, database: String) -> SideInfo {
    SideInfo {
        name: name.into(),
        orm: "catalog".into(),
        database,
    }
}

/// The final exit code: the tables' (2 on any error, 1 on differences),
/// raised to 1 by any catalog or chunk finding.
fn final_code(
    tables: &[engine::TableResult],
    catalog: &[CatalogFinding],
    chunks: &[ChunkFinding],
) -> i32 {
    let findings = catalog.iter().any(CatalogFinding::is_problem) || !chunks.is_empty();
    let code = engine::exit_code(tables);
    exit::of(code == exit::ERROR, code == exit::DIFFERENCES || findings)
}

/// A pool for one side, named `what` in errors.
async fn connect(url: &DbUrl, jobs: usize, what: &str, base: &ConnectOptions) -> Result<Db> {
    pipeline::connect(url, reader_connections(jobs), base, || {
        format!("{what} database")
    })
    .await
}

/// What a live-against-live backup check compares, and how.
struct SourceCheck<'a> {
    filter: &'a Filter,
    opts: &'a EngineOptions,
    rule: SequenceRule,
    prometheus: Option<&'a Path>,
}

async fn against_source(
    source: &DbUrl,
    target: &DbUrl,
    check: &SourceCheck<'_>,
    global: &GlobalArgs,
    ui: &Ui,
) -> Result<i32> {
    let SourceCheck {
        filter,
        opts,
        rule,
        prometheus,
    } = *check;
    let session = session_options(global.config.as_deref())?;
    let sdb = connect(source, opts.jobs, "source", &session).await?;
    let tdb = connect(target, opts.jobs, "target", &session).await?;
    let keep = |mut m: crate::mapping::Mapping| {
        m.tables
            .retain(|t| !filter.excludes(t.schema.as_deref(), &t.name));
        m
    };
    let smap = keep(
        read_catalog(&sdb, &filter.schemas)
            .await
            .context("source database")?,
    );
    let tmap = keep(
        read_catalog(&tdb, &filter.schemas)
            .await
            .context("target database")?,
    );
    // The snapshots below open their own sessions.
    sdb.close().await;
    tdb.close().await;
    let plan = plan::build_with(
        &smap,
        &tmap,
        None,
        &Selection::default(),
        BuildOptions {
            allow_keyless: true,
        },
    )?;
    let out = report::prepare_out_dir(global.out.as_deref())?;
    let mut run = report_for(
        "backup",
        side("source", source.redacted()),
        side("target", target.redacted()),
    );
    run.only_source_tables = plan.only_source.clone();
    run.only_target_tables = plan.only_target.clone();
    let writers = report::check_writers();
    report::write_all(&writers, &run, &out)?;

    let sides = engine::open_sides_with(source, target, opts.jobs, &session).await?;
    // The catalogs as the snapshots see them.
    let catalog = async {
        let (sfp, sseq) = fingerprint::read(&mut sides.source.worker().await?, filter)
            .await
            .context("source database")?;
        let (tfp, tseq) = fingerprint::read(&mut sides.target.worker().await?, filter)
            .await
            .context("target database")?;
        let mut f = findings::compare_fingerprints(&sfp, &tfp);
        f.extend(findings::compare_sequences(&sseq, &tseq, rule));
        Ok::<_, anyhow::Error>(f)
    }
    .await;
    let catalog = match catalog {
        Ok(c) => c,
        Err(e) => {
            sides.close().await;
            return Err(e);
        }
    };
    findings::write_catalog_csv(&out, &catalog)?;
    run.notes.extend(findings::notes(&catalog, &[]));
    run.notes.extend(sides.snapshot_notes());
    for p in plan.pairs.iter().filter(|p| p.key.is_empty()) {
        run.notes.push(multiset::note(&p.name()));
    }
    let pairs: Vec<_> = plan.pairs.iter().collect();
    let rewrite = rewrite_after_each(&writers, &run, &[], &out);
    let results = engine::check_pairs(&sides, &pairs, &smap, &tmap, opts, ui, rewrite).await;
    sides.close().await;
    let results = results?;
    finish(run, results, &catalog, &[], &writers, &out, ui, prometheus)
}

async fn against_manifest(
    path: &Path,
    target: &DbUrl,
    opts: &ScanOptions,
    global: &GlobalArgs,
    ui: &Ui,
    prometheus: Option<&Path>,
) -> Result<i32> {
    let manifest = crate::manifest::read::open(path)?;
    let mut opts = opts.clone();
    // The manifest decides what is in scope; the flags cannot widen it.
    opts.filter = Filter {
        schemas: manifest.header.schemas.clone(),
        exclude: manifest.header.exclude.clone(),
    };
    let session = session_options(global.config.as_deref())?;
    let tdb = connect(target, opts.jobs, "target", &session).await?;
    let out = report::prepare_out_dir(global.out.as_deref())?;
    let mut run = report_for(
        "backup",
        side(
            "manifest",
            format!(
                "{} ({}, {})",
                manifest.header.database,
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                manifest.header.created_at
            ),
        ),
        side("target", target.redacted()),
    );
    let writers = report::check_writers();
    report::write_all(&writers, &run, &out)?;
    let snapshot = Snapshot::begin(&tdb).await.context("target database")?;
    let result = async {
        let (tfp, tseq) = fingerprint::read(&mut snapshot.worker().await?, &opts.filter).await?;
        let mut catalog = findings::compare_fingerprints(&manifest.fingerprint, &tfp);
        catalog.extend(findings::compare_sequences(
            &manifest.sequences,
            &tseq,
            SequenceRule::AtLeast,
        ));
        findings::write_catalog_csv(&out, &catalog)?;
        let base = run.clone();
        let verified = scan::verify_tables(&manifest, &snapshot, &opts, ui, |v| {
            let mut r = base.clone();
            r.tables = v.tables.clone();
            findings::write_chunks_csv(&out, &v.chunks)?;
            report::write_all(&writers, &r, &out)
        })
        .await?;
        Ok::<_, anyhow::Error>((catalog, verified))
    }
    .await;
    snapshot.end().await;
    tdb.close().await;
    let (catalog, verified) = result?;
    findings::write_chunks_csv(&out, &verified.chunks)?;
    run.notes.extend(verified.notes.iter().cloned());
    if let Some(p) = &manifest.header.position {
        run.notes.push(crate::db::mysql::manifest_proof_note(p));
    }
    finish(
        run,
        verified.tables,
        &catalog,
        &verified.chunks,
        &writers,
        &out,
        ui,
        prometheus,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    mut run: RunReport,
    tables: Vec<engine::TableResult>,
    catalog: &[CatalogFinding],
    chunks: &[ChunkFinding],
    writers: &[Box<dyn report::ReportWriter + Send + Sync>],
    out: &Path,
    ui: &Ui,
    prometheus: Option<&Path>,
) -> Result<i32> {
    let code = final_code(&tables, catalog, chunks);
    // Catalog and chunk findings lead the notes: they are what a reader of
    // summary.md needs first.
    let mut notes = findings::notes(catalog, chunks);
    notes.extend(run.notes.drain(..).filter(|n| !n.starts_with("catalog: ")));
    run.notes = notes;
    run.tables = tables;
    run.in_progress = false;
    run.exit_code = Some(code);
    report::write_all(writers, &run, out)?;
    if let Some(p) = prometheus {
        let extras = report::prometheus::Extras {
            backup_proven: Some(code == exit::OK),
            ..report::prometheus::Extras::finished_now(&run)
        };
        report::prometheus::write(p, &run, &extras)?;
    }
    console::print_summary(&run);
    let problems: Vec<&CatalogFinding> = catalog.iter().filter(|f| f.is_problem()).collect();
    print_catalog(&problems);
    ui.info(format!("reports: {}", out.display()));
    ui.info(match code {
        exit::OK => "backup proven: every table, index, constraint and sequence matches".to_string(),
        exit::DIFFERENCES => format!(
            "backup NOT proven: {} catalog finding(s), {} differing chunk(s); see summary.md, differences.csv and catalog.csv",
            problems.len(),
            chunks.len()
        ),
        _ => "backup check failed: some tables could not be read (exit 2)".to_string(),
    });
    Ok(code)
}

/// The catalog findings on stdout, after the table lines.
fn print_catalog(problems: &[&CatalogFinding]) {
    use std::io::Write;
    if problems.is_empty() {
        return;
    }
    let mut s = String::from("\ncatalog findings\n");
    for f in problems {
        s.push_str(&format!(
            "{:<16} {:<48} {:<18} source={} target={}\n",
            f.kind, f.object, f.finding, f.source, f.target
        ));
    }
    let _ = std::io::stdout().write_all(s.as_bytes());
}
