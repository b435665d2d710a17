//! `parity demo`: zero setup. Builds the SQLite flavour of the bike-shop
//! fixture in a temp dir, checks it through the fixture's Prisma and Drizzle
//! mappings, then checks it against a drifted copy, and compares what was
//! found with what was planted and what the ORM semantics predict.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{DemoArgs, GlobalArgs};
use crate::config::{CheckSettings, Config, DbUrl, SchemaSettings, Side, TimingSettings};
use crate::engine::{EngineOptions, TableResult};
use crate::exit;
use crate::mapping::Orm;
use crate::pipeline::{CheckOptions, Prepared};
use crate::plan::Selection;
use crate::report;
use crate::seed::{self, SeedOptions, data, drift::DriftSpec, fixture::MigrationSelection};
use crate::ui::Ui;

const PRISMA_SCHEMA: &str = include_str!("../../fixtures/bikeshop/sqlite/prisma/schema.prisma");
const DRIZZLE_SNAPSHOT: &str =
    include_str!("../../fixtures/bikeshop/sqlite/drizzle/meta/0001_snapshot.json");
const DRIZZLE_MAPPING: &str = include_str!("../../fixtures/bikeshop/sqlite/drizzle/mapping.json");

const DRIFT: &str = "changed:10,deleted:5,inserted:7";
const SEED: u64 = 1;

pub async fn run(args: DemoArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    let tmp = tempfile::Builder::new()
        .prefix("parity-demo-")
        .tempdir()
        .context("cannot create a temp dir for the demo")?;
    let dir = tmp.path();
    let files = |name: &str, text: &str| -> Result<std::path::PathBuf> {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        Ok(p)
    };
    let prisma = files("schema.prisma", PRISMA_SCHEMA)?;
    let snapshot = files("0001_snapshot.json", DRIZZLE_SNAPSHOT)?;
    let mapping = files("mapping.json", DRIZZLE_MAPPING)?;
    let original = DbUrl::new(format!("sqlite:{}", dir.join("bikeshop.db").display()));
    let drifted = DbUrl::new(format!(
        "sqlite:{}",
        dir.join("bikeshop-drifted.db").display()
    ));

    ui.info(format!(
        "demo: seeding the SQLite bike shop ({} transactions) and a drifted copy ({DRIFT}) in {}",
        args.rows,
        dir.display()
    ));
    let quiet = Ui::silent();
    let seed_opts = |url: &DbUrl, drift: Option<DriftSpec>| SeedOptions {
        url: url.clone(),
        rows: args.rows,
        seed: SEED,
        drift,
        migrations: MigrationSelection::All,
        force: false,
    };
    seed::seed(&seed_opts(&original, None), &quiet).await?;
    let planted = seed::seed(&seed_opts(&drifted, Some(DriftSpec::parse(DRIFT)?)), &quiet)
        .await?
        .drift
        .context("the drifted copy has no drift plan")?;

    let out = report::prepare_out_dir(global.out.as_deref())?;
    let opts = CheckOptions {
        jobs: global.jobs,
        ..CheckOptions::default()
    }
    .resolve(&demo_settings());
    let prisma_side = |url: &DbUrl, name: &str| Side {
        name: name.to_string(),
        orm: Orm::Prisma,
        url: Some(url.clone()),
        mapping: vec![prisma.clone()],
        migrations: None,
        allow_writes: false,
    };
    let drizzle_side = Side {
        name: "drizzle".into(),
        orm: Orm::Drizzle,
        url: Some(original.clone()),
        mapping: vec![snapshot.clone(), mapping.clone()],
        migrations: None,
        allow_writes: false,
    };

    // 1. One database, both mappings.
    ui.info("\n1. the same database read through Prisma and through Drizzle");
    let config = demo_config(dir, prisma_side(&original, "prisma"), drizzle_side);
    let results1 = check(&config, &opts, &ui, &out.join("mappings"), "demo: mappings").await?;
    let expected1 = predicted_orm_differences(args.rows);
    let found1 = value_differences(&results1);
    let ok1 = found1 == expected1 && no_errors(&results1);

    // 2. Original against the drifted copy, through the same mapping.
    ui.info("\n2. the database against its drifted copy, both read through Prisma");
    let config = demo_config(
        dir,
        prisma_side(&original, "original"),
        prisma_side(&drifted, "drifted"),
    );
    let results2 = check(&config, &opts, &ui, &out.join("drift"), "demo: drift").await?;
    let expected2 = planted_differences(&planted.to_json());
    let found2 = drift_differences(&results2);
    let ok2 = found2 == expected2 && no_errors(&results2);

    println!();
    println!(
        "1. Prisma vs Drizzle, one SQLite database: {} rows compared in {} tables.",
        results1.iter().map(|r| r.source_rows).sum::<u64>(),
        results1.len()
    );
    for ((table, column), keys) in &found1 {
        println!(
            "   {table}.{column}: {} rows differ{}",
            keys.len(),
            explain(table, column)
        );
    }
    println!(
        "   {}",
        if ok1 {
            "exactly the rows the ORM semantics predict".to_string()
        } else {
            format!(
                "NOT what the ORM semantics predict: expected {}",
                describe(&expected1)
            )
        }
    );
    println!(
        "2. original vs drifted copy: {} changed, {} deleted, {} inserted found in transactions; {}",
        found2.get("different").map_or(0, BTreeSet::len),
        found2.get("missing_in_target").map_or(0, BTreeSet::len),
        found2.get("extra_in_target").map_or(0, BTreeSet::len),
        if ok2 {
            "exactly the planted keys"
        } else {
            "NOT the planted keys"
        }
    );
    // Without --out the newest run is reachable as reports/latest.
    let shown = if global.out.is_some() {
        out.clone()
    } else {
        std::path::PathBuf::from("reports").join("latest")
    };
    println!(
        "reports: {} and {} (each with report.html, summary.md, parity.csv, differences.csv, report.json)",
        shown.join("mappings").display(),
        shown.join("drift").display()
    );
    Ok(exit::of(false, !(ok1 && ok2)))
}

/// The demo's `[check]`: small chunks over a small database, and every
/// difference listed, since the demo compares them all with its prediction.
fn demo_settings() -> CheckSettings {
    CheckSettings {
        jobs: 2,
        chunk_rows: 500,
        max_differences: 100_000,
        ..CheckSettings::default()
    }
}

fn demo_config(dir: &Path, source: Side, target: Side) -> Config {
    Config {
        path: dir.join("parity.toml"),
        dir: dir.to_path_buf(),
        source,
        target,
        repositories: Vec::new(),
        tables: Vec::new(),
        pairs: Vec::new(),
        check: demo_settings(),
        timing: TimingSettings::default(),
        schema: SchemaSettings::default(),
        global_flag: None,
        locations: Default::default(),
    }
}

async fn check(
    config: &Config,
    opts: &EngineOptions,
    ui: &Ui,
    out: &Path,
    command: &str,
) -> Result<Vec<TableResult>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let prepared = Prepared::load(config, &Selection::default())?;
    let run = prepared.check(config, opts, ui, out, command).await?;
    Ok(run.tables)
}

fn no_errors(results: &[TableResult]) -> bool {
    results.iter().all(|r| r.error.is_none())
}

type ColumnKeys = BTreeMap<(String, String), BTreeSet<String>>;

/// (table, column) → keys whose values differ.
fn value_differences(results: &[TableResult]) -> ColumnKeys {
    let mut out = ColumnKeys::new();
    for r in results {
        for d in &r.differences {
            for c in &d.columns {
                out.entry((r.source_table.clone(), c.clone()))
                    .or_default()
                    .insert(key_text(&d.key));
            }
        }
    }
    out
}

/// What the SQLite fixture's two mappings must disagree on, from the seed's
/// documented rules alone:
/// - `transactions.occurred_at`: Prisma cuts to milliseconds, Drizzle's
///   string keeps the microseconds of rows with sub-millisecond digits;
/// - `transactions.external_ref`: Drizzle's `integer()` is a JS number, so
///   values f64 cannot hold exactly come back rounded;
/// - `repairs.received_at`: stored with microseconds; Prisma cuts them,
///   Drizzle's string keeps them;
/// - `users.created_at`: Drizzle's `timestamp` mode reads seconds, which
///   misreads every ISO text Prisma 7 wrote.
fn predicted_orm_differences(rows: u64) -> ColumnKeys {
    let mut out = ColumnKeys::new();
    let mut add = |t: &str, c: &str, k: String| {
        out.entry((t.to_string(), c.to_string()))
            .or_default()
            .insert(k);
    };
    for id in 1..=rows {
        if data::has_sub_ms_micros(id) {
            add("transactions", "occurred_at", format!("{{\"id\":{id}}}"));
        }
        if let Some(v) = data::special_external_ref(id)
            && (v as f64) as i128 != v as i128
        {
            add("transactions", "external_ref", format!("{{\"id\":{id}}}"));
        }
    }
    let generator = data::Generator::new(SEED, rows);
    let received = data::Table::Repairs
        .columns()
        .iter()
        .position(|c| *c == "received_at")
        .unwrap_or(0);
    let mut vals = Vec::new();
    for r in 0..generator.count(data::Table::Repairs) {
        generator.row(data::Table::Repairs, r, &mut vals);
        if let Some(data::Val::TimestampTz(us) | data::Val::Timestamp(us)) = vals.get(received)
            && us.rem_euclid(1000) != 0
        {
            add(
                "repairs",
                "received_at",
                format!("{{\"id\":\"{}\"}}", generator.repair_id(r)),
            );
        }
    }
    for u in 0..generator.sizes.users {
        let key = generator.user_id(u);
        add("users", "created_at", format!("{{\"id\":\"{key}\"}}"));
    }
    out
}

fn explain(table: &str, column: &str) -> &'static str {
    match (table, column) {
        ("transactions", "occurred_at") | ("repairs", "received_at") => {
            " (Prisma cuts to milliseconds; Drizzle's string keeps microseconds)"
        }
        ("transactions", "external_ref") => {
            " (Drizzle's integer() is a JS number: values above 2^53 are rounded)"
        }
        ("users", "created_at") => {
            " (Drizzle's timestamp mode counts seconds: Prisma's ISO text reads as Invalid Date)"
        }
        _ => "",
    }
}

fn describe(expected: &ColumnKeys) -> String {
    expected
        .iter()
        .map(|((t, c), k)| format!("{t}.{c} in {} rows", k.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// kind → keys, for the drift check.
fn drift_differences(results: &[TableResult]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in results {
        for d in &r.differences {
            out.entry(d.kind.as_str().to_string())
                .or_default()
                .insert(format!("{}:{}", r.source_table, key_text(&d.key)));
        }
    }
    out
}

fn planted_differences(plan: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let table = plan["table"].as_str().unwrap_or("transactions");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (kind, name) in [
        ("changed", "different"),
        ("deleted", "missing_in_target"),
        ("inserted", "extra_in_target"),
    ] {
        for k in plan[kind].as_array().into_iter().flatten() {
            let key = if k.is_object() {
                k.to_string()
            } else {
                format!("{{\"id\":{k}}}")
            };
            out.entry(name.to_string())
                .or_default()
                .insert(format!("{table}:{key}"));
        }
    }
    out
}

fn key_text(key: &serde_json::Value) -> String {
    key.to_string()
}
