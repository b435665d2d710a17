//! The real-ORM oracle against parity (issue #9 section 2, #17's SQLite run).
//!
//! Four cases: the PostgreSQL bike shop (seeded, then tricky rows, an enum
//! label Prisma lacks and a NULL in a required column), two larger public
//! schemas from ../shared/corpus (langfuse, 71 models; documenso, 51 models;
//! `fixtures/<name>/`, made by `scripts/oracle/gen-corpus.sh`), and the SQLite
//! bike shop (#17's values). Each test builds a database, writes tricky values into every column
//! (`scripts/oracle/fill-pg.mjs` / `fill-sqlite.mjs`), reads every table with
//! the real Prisma 7 client and the real drizzle-orm (`scripts/oracle/oracle.mjs`),
//! runs the real `parity check --show-values` on it, and compares cell by cell
//! (`scripts/oracle/compare.mjs`): any miss, false positive, shape difference or
//! unchecked table fails, printed with both values, unless it is listed in
//! `scripts/oracle/known-failures.txt` (the documented list of cases still being
//! fixed; a listed case that passes is printed as STALE).
//!
//! They need the npm tools (`fixtures/bikeshop/node_modules`, `scripts/oracle/
//! node_modules`), so they are `#[ignore]`d in a plain `cargo test` and run by
//! `scripts/test-oracle.sh` (hooked into `scripts/test.sh` after the npm install).
//! Generated Prisma clients are cached under `target/oracle-cache`. Each run's
//! files land in `target/oracle-reports/<schema>/` (cells.json, parity's
//! report, compare.txt, summary.json with the counts).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Backend, TempDb, config, parity, root};

fn node_modules() -> PathBuf {
    let nm = root().join("fixtures/bikeshop/node_modules");
    assert!(
        nm.join("@prisma/client").exists() && nm.join("better-sqlite3").exists(),
        "fixtures/bikeshop/node_modules is missing: run scripts/test-node.sh (npm ci) first"
    );
    let own = root().join("scripts/oracle/node_modules/@prisma/prisma-schema-wasm");
    assert!(
        own.exists(),
        "scripts/oracle/node_modules is missing: run `npm ci` in scripts/oracle (scripts/test-oracle.sh does)"
    );
    nm
}

fn node(args: &[&str]) -> std::process::Output {
    let tsx = root().join("fixtures/bikeshop/node_modules/tsx/dist/loader.mjs");
    Command::new("node")
        .arg("--import")
        .arg(tsx)
        .args(args)
        .current_dir(root())
        .env("NODE_NO_WARNINGS", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("node runs")
}

fn run_ok(what: &str, out: std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stderr}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

fn out_dir(schema: &str) -> PathBuf {
    let d = root().join("target/oracle-reports").join(schema);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the oracle, parity and the comparison; panics with the comparison's
/// output when it finds a failure that is not a documented known one.
fn oracle_vs_parity(schema: &str, fx: &Path, snapshot: &str, url: &str) {
    let prisma = &fx.join("prisma/schema.prisma");
    let drizzle = &fx.join("drizzle/schema.ts");
    let snapshot = fx.join(format!("drizzle/meta/{snapshot}_snapshot.json"));
    let mapping = [snapshot.as_path(), &fx.join("drizzle/mapping.json")];
    let nm = node_modules();
    let dir = out_dir(schema);
    let cells = dir.join("cells.json");
    let cache = root().join("target/oracle-cache");
    let s = |p: &Path| p.display().to_string();
    let log = run_ok(
        "oracle.mjs",
        node(&[
            "scripts/oracle/oracle.mjs",
            "--prisma",
            &s(prisma),
            "--drizzle",
            &s(drizzle),
            "--url",
            url,
            "--out",
            &s(&cells),
            "--node-modules",
            &s(&nm),
            "--cache",
            &s(&cache),
        ]),
    );
    eprint!("{log}");

    // Small chunks: boundaries fall between the tricky text keys (case, accents, emoji).
    let source = config::side("prisma", "prisma", url, &[prisma.to_path_buf()]);
    let target = config::side("drizzle", "drizzle", url, &mapping.map(Path::to_path_buf));
    let config = config::write(&dir, &source, &target, "[check]\nchunk_rows = 7\n");
    let report = dir.join("parity");
    let p = parity()
        .config(&config)
        .out(&report)
        .words("check --show-values --max-differences 1000000")
        .run();
    let code = p.code;
    assert!(
        report.join("report.json").exists(),
        "parity check wrote no report.json (exit {code}):\n{}",
        p.stderr
    );

    let cmp = node(&[
        "scripts/oracle/compare.mjs",
        "--oracle",
        &s(&cells),
        "--report",
        &s(&report.join("report.json")),
        "--schema",
        schema,
        "--known",
        "scripts/oracle/known-failures.txt",
        "--summary",
        &s(&dir.join("summary.json")),
    ]);
    let text = String::from_utf8_lossy(&cmp.stdout).to_string();
    std::fs::write(dir.join("compare.txt"), &text).unwrap();
    eprintln!("{}", text.lines().next_back().unwrap_or(""));
    assert!(
        cmp.status.success(),
        "the real ORMs and parity disagree on {schema} (parity check exit {code}; \
         known failures: scripts/oracle/known-failures.txt):\n{text}{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    // Differences exist in every fixture: parity must say so.
    assert_eq!(code, 1, "parity check must exit 1 on {schema}");

    // The comparison is not vacuous: the oracle found cells, and a report with
    // one of parity's differences taken out fails it, naming the miss.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert!(
        summary["oracle_cells"].as_u64().unwrap_or(0) > 0,
        "the oracle found no cell on {schema}: {summary}"
    );
    assert_eq!(
        summary["oracle_tables_unread"].as_u64(),
        Some(0),
        "the oracle left tables of {schema} unread (compare.txt says which): {summary}"
    );
    let mut planted: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let removed = planted["tables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find_map(|t| {
            let d = t["differences"].as_array_mut()?;
            (!d.is_empty()).then(|| d.remove(0))
        })
        .expect("parity listed differences");
    let planted_path = dir.join("report-planted.json");
    std::fs::write(&planted_path, serde_json::to_vec(&planted).unwrap()).unwrap();
    let cmp = node(&[
        "scripts/oracle/compare.mjs",
        "--oracle",
        &s(&cells),
        "--report",
        &s(&planted_path),
        "--schema",
        schema,
    ]);
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(
        !cmp.status.success() && text.contains("FAIL  miss"),
        "compare.mjs did not notice a difference taken out of parity's report ({removed}):\n{text}"
    );
}

/// A PostgreSQL database filled with tricky values by `fill-pg.mjs`, then
/// `after` (statements, one at a time); the oracle against parity on it.
fn postgres_agrees(fixture: &str, snapshot: &str, db: TempDb, after: &[&str]) {
    run_ok(
        "fill-pg.mjs",
        node(&["scripts/oracle/fill-pg.mjs", "--url", &db.url]),
    );
    after.iter().for_each(|sql| db.exec(sql));
    let fx = root().join("fixtures").join(fixture);
    oracle_vs_parity(&format!("{fixture}-pg"), &fx, snapshot, &db.url);
}

/// An empty PostgreSQL database with `first`, then the fixture's migration, run in it.
fn migrated(fixture: &str, first: &[&str]) -> TempDb {
    let db = TempDb::pg(&format!("oracle_{fixture}")).create();
    first.iter().for_each(|sql| db.exec(sql));
    let migration = root()
        .join("fixtures")
        .join(fixture)
        .join("prisma/migration.sql");
    db.exec(&std::fs::read_to_string(migration).unwrap());
    db
}

#[test]
#[ignore = "needs the npm tools: scripts/test-oracle.sh runs it"]
fn bikeshop_postgres_agrees_with_the_real_orms() {
    node_modules();
    let (db, _) = TempDb::seeded(Backend::Postgres, "oracle_bike", 40, None);
    // What a database migrated ahead of the Prisma schema holds: an enum label
    // Prisma's enum lacks, a NULL in a column both mappings declare required,
    // and an int column widened to int8 that both still read as a JS number
    // (`Int`, `integer()`): beyond 2^53 Prisma throws where Drizzle rounds.
    let ahead = "ALTER TYPE \"RepairStatus\" ADD VALUE 'on_hold';
         ALTER TABLE items ALTER COLUMN name DROP NOT NULL;
         ALTER TABLE bikes ALTER COLUMN year TYPE bigint;";
    let rows = "UPDATE repairs SET status = 'on_hold' WHERE id IN (SELECT id FROM repairs ORDER BY id LIMIT 2);
         UPDATE items SET name = NULL WHERE id IN (SELECT id FROM items ORDER BY id LIMIT 2);
         UPDATE bikes SET year = 9007199254740993 WHERE id IN (SELECT id FROM bikes ORDER BY id LIMIT 1);
         UPDATE bikes SET year = -9007199254740995 WHERE id IN (SELECT id FROM bikes ORDER BY id OFFSET 1 LIMIT 1);";
    postgres_agrees("bikeshop", "0001", db, &[ahead, rows]);
}

#[test]
#[ignore = "needs the npm tools: scripts/test-oracle.sh runs it"]
fn langfuse_postgres_agrees_with_the_real_orms() {
    node_modules();
    postgres_agrees("langfuse", "0000", migrated("langfuse", &[]), &[]);
}

/// documenso (51 models): Bytes, Decimal, BigInt, enum lists; its indexes need
/// pg_trgm, which its app creates in a hand-written migration.
#[test]
#[ignore = "needs the npm tools: scripts/test-oracle.sh runs it"]
fn documenso_postgres_agrees_with_the_real_orms() {
    node_modules();
    let db = migrated("documenso", &["CREATE EXTENSION IF NOT EXISTS pg_trgm"]);
    postgres_agrees("documenso", "0000", db, &[]);
}

#[test]
#[ignore = "needs the npm tools: scripts/test-oracle.sh runs it"]
fn bikeshop_sqlite_agrees_with_the_real_orms() {
    node_modules();
    let (db, _) = TempDb::seeded(Backend::Sqlite, "shop", 40, None);
    let fx = root().join("fixtures/bikeshop/sqlite");
    let (file, prisma) = (db.path(), fx.join("prisma/schema.prisma"));
    let (file, prisma) = (file.to_str().unwrap(), prisma.to_str().unwrap());
    let fill = [
        "scripts/oracle/fill-sqlite.mjs",
        "--file",
        file,
        "--prisma",
        prisma,
    ];
    run_ok("fill-sqlite.mjs", node(&fill));
    oracle_vs_parity("bikeshop-sqlite", &fx, "0001", &db.url);
}

/// The MariaDB bike shop as `parity seed` fills it: Prisma 7 through
/// `@prisma/adapter-mariadb`, drizzle-orm through mysql2, against parity's
/// MySQL rules, plus an int column widened to BIGINT beyond 2^53.
#[test]
#[ignore = "needs the npm tools: scripts/test-oracle.sh runs it"]
fn bikeshop_mariadb_agrees_with_the_real_orms() {
    node_modules();
    let (db, _) = TempDb::seeded(Backend::Mariadb, "oracle_shop", 400, None);
    db.exec("ALTER TABLE bikes MODIFY year BIGINT NULL");
    let ids = db.column("SELECT id FROM bikes ORDER BY id LIMIT 2");
    db.exec(&format!(
        "UPDATE bikes SET year = 9007199254740993 WHERE id = '{}'",
        ids[0]
    ));
    db.exec(&format!(
        "UPDATE bikes SET year = -9007199254740995 WHERE id = '{}'",
        ids[1]
    ));
    let fx = root().join("fixtures/bikeshop/mariadb");
    oracle_vs_parity("bikeshop-mariadb", &fx, "0001", &db.url);
}
