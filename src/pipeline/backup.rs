//! `backup`'s two checks of a restored copy: against the live database
//! it came from, or against a manifest. Either way the catalog
//! fingerprints and sequences are compared into `catalog.csv`, beside
//! `check`'s reports, and any catalog or chunk finding fails the proof.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::DbUrl;
use crate::db::fingerprint::{self, Filter};
use crate::db::{ConnectOptions, Db, Snapshot, catalog::read_catalog};
use crate::engine::{self, EngineOptions, TableResult, multiset};
use crate::exit;
use crate::manifest::findings::{self, CatalogFinding, SequenceRule};
use crate::manifest::scan::{self, ChunkFinding, ScanOptions};
use crate::plan::{self, BuildOptions, Selection};
use crate::report::{self, ReportWriter, RunReport, SideInfo};
use crate::ui::Ui;

use super::{reader_connections, report_for, rewrite_after_each};

/// What a backup check found; `run` is finished, its exit code set.
pub struct BackupCheck {
    pub run: RunReport,
    pub catalog: Vec<CatalogFinding>,
    pub chunks: Vec<ChunkFinding>,
    /// The report folder.
    pub out: PathBuf,
}

impl BackupCheck {
    /// The catalog findings that fail the proof.
    pub fn problems(&self) -> Vec<&CatalogFinding> {
        self.catalog.iter().filter(|f| f.is_problem()).collect()
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
fn final_code(tables: &[TableResult], catalog: &[CatalogFinding], chunks: &[ChunkFinding]) -> i32 {
    let findings = catalog.iter().any(CatalogFinding::is_problem) || !chunks.is_empty();
    let code = engine::exit_code(tables);
    exit::of(code == exit::ERROR, code == exit::DIFFERENCES || findings)
}

/// A pool for one side, named `what` in errors.
async fn connect(url: &DbUrl, jobs: usize, what: &str, base: &ConnectOptions) -> Result<Db> {
    super::connect(url, reader_connections(jobs), base, || {
        format!("{what} database")
    })
    .await
}

/// What a live-against-live backup check compares, and how.
pub struct SourceCheck<'a> {
    /// The schemas read, and the tables left out.
    pub filter: &'a Filter,
    pub opts: &'a EngineOptions,
    /// How the target's sequences must stand to the source's.
    pub rule: SequenceRule,
    /// Session settings (statement and lock timeouts).
    pub session: &'a ConnectOptions,
}

/// A restored copy against the live database it came from: both catalogs
/// are the mappings, paired by `plan` (keyless tables allowed: they are
/// multisets) and read by the engine; fingerprints and sequences compared
/// into `catalog.csv`. The reports go to `out` (or a new report folder).
pub async fn against_source(
    source: &DbUrl,
    target: &DbUrl,
    check: &SourceCheck<'_>,
    out: Option<&Path>,
    ui: &Ui,
) -> Result<BackupCheck> {
    let SourceCheck {
        filter,
        opts,
        rule,
        session,
    } = *check;
    let sdb = connect(source, opts.jobs, "source", session).await?;
    let tdb = connect(target, opts.jobs, "target", session).await?;
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
    let out = report::prepare_out_dir(out)?;
    let mut run = report_for(
        "backup",
        side("source", source.redacted()),
        side("target", target.redacted()),
    );
    run.only_source_tables = plan.only_source.clone();
    run.only_target_tables = plan.only_target.clone();
    let writers = report::check_writers();
    report::write_all(&writers, &run, &out)?;

    let sides = engine::open_sides_with(source, target, opts.jobs, session).await?;
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
    let on_table = |r: &TableResult| ui.result_line(report::verdict::result_line(r));
    let results =
        engine::check_pairs(&sides, &pairs, &smap, &tmap, opts, ui, &on_table, rewrite).await;
    sides.close().await;
    let results = results?;
    finish(run, results, catalog, Vec::new(), &writers, out)
}

/// A restored copy against a manifest (`parity manifest`): the target read
/// with the manifest's chunk boundaries, differing chunks into
/// `chunks.csv`, fingerprints and sequences into `catalog.csv`.
pub async fn against_manifest(
    path: &Path,
    target: &DbUrl,
    opts: &ScanOptions,
    session: &ConnectOptions,
    out: Option<&Path>,
    ui: &Ui,
) -> Result<BackupCheck> {
    let manifest = crate::manifest::read::open(path)?;
    let mut opts = opts.clone();
    // The manifest decides what is in scope; the flags cannot widen it.
    opts.filter = Filter {
        schemas: manifest.header.schemas.clone(),
        exclude: manifest.header.exclude.clone(),
    };
    let tdb = connect(target, opts.jobs, "target", session).await?;
    let out = report::prepare_out_dir(out)?;
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
        catalog,
        verified.chunks,
        &writers,
        out,
    )
}

/// The finished report: catalog and chunk findings lead the notes, the
/// exit code set, the files written a last time.
fn finish(
    mut run: RunReport,
    tables: Vec<TableResult>,
    catalog: Vec<CatalogFinding>,
    chunks: Vec<ChunkFinding>,
    writers: &[Box<dyn ReportWriter + Send + Sync>],
    out: PathBuf,
) -> Result<BackupCheck> {
    let code = final_code(&tables, &catalog, &chunks);
    // Catalog and chunk findings lead the notes: they are what a reader of
    // summary.md needs first.
    let mut notes = findings::notes(&catalog, &chunks);
    notes.extend(run.notes.drain(..).filter(|n| !n.starts_with("catalog: ")));
    run.notes = notes;
    run.tables = tables;
    run.in_progress = false;
    run.exit_code = Some(code);
    report::write_all(writers, &run, &out)?;
    Ok(BackupCheck {
        run,
        catalog,
        chunks,
        out,
    })
}
