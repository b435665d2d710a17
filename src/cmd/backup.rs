//! `parity backup`: a restored copy against the database it came from
//! (`--source`), or against a manifest (`--manifest`); the checks are
//! `pipeline::backup`. Prints the tables and the catalog findings.

use anyhow::Result;

use crate::cli::{BackupArgs, GlobalArgs};
use crate::config::{CheckSettings, DbUrl};
use crate::db::fingerprint::Filter;
use crate::exit;
use crate::manifest::findings::{CatalogFinding, SequenceRule};
use crate::manifest::scan::ScanOptions;
use crate::pipeline::backup::{SourceCheck, against_manifest, against_source};
use crate::pipeline::session_options;
use crate::report::{self, console};
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
    let out = global.out.as_deref();
    let checked = match (&args.source, &args.manifest) {
        (Some(_), Some(_)) => {
            anyhow::bail!("give --source (a database) or --manifest (a file), not both")
        }
        (None, None) => anyhow::bail!(
            "give --source URL (the database the backup came from) or --manifest FILE (written by `parity manifest`)"
        ),
        (Some(source), None) => {
            let source = DbUrl::from_arg(source, "--source")?;
            let session = session_options(global.config.as_deref())?;
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
                session: &session,
            };
            against_source(&source, &target, &check, out, &ui).await?
        }
        (None, Some(path)) => {
            let scan = ScanOptions {
                jobs: opts.jobs,
                chunk_rows: opts.chunk_rows,
                row_hashes: false,
                max_differences: opts.max_differences,
                filter,
            };
            let session = session_options(global.config.as_deref())?;
            against_manifest(path, &target, &scan, &session, out, &ui).await?
        }
    };
    let code = checked.run.exit_code.unwrap_or(exit::ERROR);
    if let Some(p) = &args.prometheus.prometheus {
        let extras = report::prometheus::Extras {
            backup_proven: Some(code == exit::OK),
            ..report::prometheus::Extras::finished_now(&checked.run)
        };
        report::prometheus::write(p, &checked.run, &extras)?;
    }
    console::print_summary(&checked.run);
    let problems = checked.problems();
    print_catalog(&problems);
    ui.info(format!("reports: {}", checked.out.display()));
    ui.info(match code {
        exit::OK => "backup proven: every table, index, constraint and sequence matches".to_string(),
        exit::DIFFERENCES => format!(
            "backup NOT proven: {} catalog finding(s), {} differing chunk(s); see summary.md, differences.csv and catalog.csv",
            problems.len(),
            checked.chunks.len()
        ),
        _ => "backup check failed: some tables could not be read (exit 2)".to_string(),
    });
    Ok(code)
}

/// The catalog findings on stdout, after the table lines. A closed stdout
/// is not an error here.
fn print_catalog(problems: &[&CatalogFinding]) {
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
    let _ = console::print(&s);
}
