//! `parity manifest`: one database, one snapshot → a manifest file.
//!
//! With `--export-snapshot` it prints the snapshot id as its first line on
//! stdout (flushed), then writes the manifest in that snapshot, then holds
//! the snapshot's transaction open until stdin closes, so that
//! `pg_dump --snapshot=ID` dumps exactly the data the manifest describes.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, ManifestArgs};
use crate::config::{CheckSettings, DbUrl};
use crate::db::catalog::read_catalog;
use crate::db::fingerprint::{self, Filter};
use crate::db::{Db, Snapshot};
use crate::exit;
use crate::manifest::scan::{self, ScanOptions};
use crate::manifest::{Header, VERSION, Writer};
use crate::pipeline::{self, CheckOptions, reader_connections, session_options};
use crate::ui::Ui;

pub async fn run(args: ManifestArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    if args.verify {
        // Version, trailer checksum over the whole file, records: the same
        // reading `backup --manifest` does first, without a database.
        let m = crate::manifest::read::open(&args.manifest)?;
        println!(
            "{}: sound (format {}, {} tables, {} bytes, taken {} from {})",
            args.manifest.display(),
            m.header.version,
            m.tables.len(),
            m.bytes,
            m.header.created_at,
            m.header.database
        );
        return Ok(exit::OK);
    }
    if let Some(dir) = &args.export_csv {
        let m = crate::manifest::read::open(&args.manifest)?;
        for p in crate::manifest::export::export_csv(&m, dir)? {
            println!("{}", p.display());
        }
        return Ok(exit::OK);
    }
    if args.manifest.is_dir() {
        anyhow::bail!(
            "--manifest {} is a directory; give the manifest's file path, e.g. {}",
            args.manifest.display(),
            args.manifest.join("manifest.parity").display()
        );
    }
    let url = DbUrl::from_arg(args.url.as_deref().unwrap_or_default(), "--url")?;
    // manifest reads no config's [check]: the built-in settings, and the flags.
    let read = CheckOptions {
        jobs: global.jobs,
        chunk_rows: args.chunk_rows,
        ..CheckOptions::default()
    }
    .resolve(&CheckSettings::default());
    let opts = ScanOptions {
        jobs: read.jobs,
        chunk_rows: read.chunk_rows,
        row_hashes: args.row_hashes,
        max_differences: read.max_differences,
        filter: Filter {
            schemas: args.catalog.schemas.clone(),
            exclude: args.catalog.exclude.clone(),
        },
    };
    let session = session_options(global.config.as_deref())?;
    let connections = reader_connections(opts.jobs);
    let db = pipeline::connect(&url, connections, &session, || "database".into()).await?;
    let code = describe(&args, &url, &db, &opts, &ui).await;
    db.close().await;
    code
}

async fn describe(
    args: &ManifestArgs,
    url: &DbUrl,
    db: &Db,
    opts: &ScanOptions,
    ui: &Ui,
) -> Result<i32> {
    let db = db.clone();
    if args.export_snapshot && !matches!(db, Db::Postgres(_)) {
        anyhow::bail!(
            "--export-snapshot needs PostgreSQL (it is for pg_dump --snapshot); leave it out for {}",
            url.redacted()
        );
    }
    let snapshot = Snapshot::begin(&db)
        .await
        .context("cannot open the snapshot")?;
    // Sequences are read now, before anyone can be told the snapshot id:
    // the dump made in that snapshot then sees values at or above these.
    let (fp, seqs) = {
        let mut w = snapshot.worker().await?;
        fingerprint::read(&mut w, &opts.filter).await?
    };
    if args.export_snapshot {
        let id = snapshot.exported_id().unwrap_or_default().to_string();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    let catalog = read_catalog(&db, &args.catalog.schemas).await?;
    let header = Header {
        format: "parity-manifest".into(),
        version: VERSION,
        parity_version: env!("CARGO_PKG_VERSION").into(),
        created_at: pipeline::now_rfc3339(),
        database: url.redacted(),
        dialect: db.dialect().as_str().into(),
        snapshot: snapshot.exported_id().map(str::to_string),
        chunk_rows: opts.chunk_rows,
        row_hashes: opts.row_hashes,
        schemas: args.catalog.schemas.clone(),
        exclude: args.catalog.exclude.clone(),
        position: snapshot.mysql_position().map(str::to_string),
    };
    if let Some(p) = &header.position {
        ui.info(format!("manifest view at {p}"));
    }
    let started = std::time::Instant::now();
    let mut writer = Writer::create(&args.manifest, &header)?;
    writer.catalog(&fp, &seqs)?;
    let tables = scan::write_tables(&snapshot, &catalog, &mut writer, opts, ui).await?;
    let bytes = writer.finish()?;
    ui.info(format!(
        "manifest {}: {} tables, {} rows, {} bytes{} in {:.1}s",
        args.manifest.display(),
        tables.len(),
        tables.iter().map(|t| t.rows).sum::<u64>(),
        bytes,
        if opts.row_hashes {
            " (with row hashes)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    ));
    if args.export_snapshot {
        ui.info("manifest written; holding the snapshot until stdin closes");
        hold_until_stdin_closes().await;
    }
    snapshot.end().await;
    Ok(exit::OK)
}

/// Returns when stdin reaches end of file (or fails).
async fn hold_until_stdin_closes() {
    let _ = tokio::task::spawn_blocking(|| {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        let mut stdin = std::io::stdin().lock();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}
