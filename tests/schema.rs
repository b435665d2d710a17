//! `parity schema` end to end: the real binary.
//!
//! Bad input must give one clear line on stderr and exit 2, never a panic:
//! those tests need no database (mappings and the plan are checked before
//! connecting). The fixture tests run against real PostgreSQL: each creates
//! its own database (`parity_t_schema_<pid>_<n>`) and drops it afterwards,
//! even on failure. Server: `$PARITY_TEST_PG_URL` (default
//! postgres://postgres@127.0.0.1:5432).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Backend, Run, TempDb, config, parity};

const PG: Backend = Backend::Postgres;

/// `[source]` prisma + `[target]` drizzle over `${DATABASE_URL}`, with
/// these mapping files, plus `extra`.
fn write_config(dir: &Path, source: &[PathBuf], target: &[PathBuf], extra: &str) -> PathBuf {
    let url = "${DATABASE_URL}";
    let source = config::side("prisma", "prisma", url, source);
    config::write(
        dir,
        &source,
        &config::side("drizzle", "drizzle", url, target),
        extra,
    )
}

fn fixture_prisma() -> Vec<PathBuf> {
    vec![config::prisma_schema(PG)]
}

/// `parity schema ARGS`; the URL points nowhere: bad input must be caught
/// before connecting.
fn schema(args: &[&str], config: &Path) -> Run {
    let mut c = parity();
    c.arg("schema").args(args).config(config);
    c.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused")
        .run()
}

/// Exit 2 with exactly one error line on stderr, containing every `want`.
fn assert_one_line_error(o: &Run, want: &[&str]) {
    o.expect_one_line_error(want);
    assert!(
        o.stderr.trim_start().starts_with("parity: error: "),
        "{}",
        o.stderr
    );
}

// ---- bad input --------------------------------------------------------------

const DATASOURCE: &str = "datasource db {\n  provider = \"postgresql\"\n}\n\n";
const MALFORMED: &str = "model User {\n  id Int @id\n  email String @@@\n";
/// Keyed only by a unique criterion.
const LOGS: &str =
    "model Log {\n  line String\n  at   DateTime\n\n  @@unique([line, at])\n  @@map(\"logs\")\n}\n";

#[test]
fn malformed_schema_prisma_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = config::file(
        dir.path(),
        "schema.prisma",
        &format!("{DATASOURCE}{MALFORMED}"),
    );
    let cfg = write_config(dir.path(), &[bad], &config::drizzle_files(PG), "");
    assert_one_line_error(&schema(&[], &cfg), &["schema.prisma"]);
}

#[test]
fn unknown_snapshot_version_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&config::drizzle_files(PG)[0]).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["version"] = Value::String("99".into());
    let snap = config::file(dir.path(), "0001_snapshot.json", &v.to_string());
    let cfg = write_config(dir.path(), &fixture_prisma(), &[snap], "");
    assert_one_line_error(
        &schema(&[], &cfg),
        &["version \"99\"", "0001_snapshot.json"],
    );
}

#[test]
fn snapshot_for_another_dialect_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = config::drizzle_files(Backend::Sqlite).remove(0);
    let cfg = write_config(dir.path(), &fixture_prisma(), &[sqlite], "");
    assert_one_line_error(&schema(&[], &cfg), &["is for sqlite", "postgresql"]);
}

#[test]
fn missing_mapping_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("drizzle/meta/0009_snapshot.json");
    let cfg = write_config(dir.path(), &fixture_prisma(), &[missing], "");
    assert_one_line_error(&schema(&[], &cfg), &["0009_snapshot.json"]);

    let cfg = write_config(
        dir.path(),
        &[dir.path().join("nope.prisma")],
        &config::drizzle_files(PG),
        "",
    );
    assert_one_line_error(&schema(&[], &cfg), &["nope.prisma does not exist"]);

    let o = parity()
        .args(["schema", "--show-mapping"])
        .arg(dir.path().join("gone.json"))
        .run();
    assert_one_line_error(&o, &["gone.json does not exist"]);

    let o = parity()
        .arg("schema")
        .config(dir.path().join("absent.toml"))
        .run();
    assert_one_line_error(&o, &["absent.toml"]);
}

#[test]
fn table_keyed_only_by_a_unique_criterion_needs_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let prisma = config::file(dir.path(), "schema.prisma", &format!("{DATASOURCE}{LOGS}"));
    let exported = config::file(
        dir.path(),
        "mapping.json",
        r#"{"format":"parity-drizzle-mapping","version":1,"dialect":"postgresql","tables":[{"name":"logs","schema":null,"export":"logs","primaryKey":[],"columns":[
          {"name":"line","key":"line","columnType":"PgText","dataType":"string","mode":null,"sqlType":"text","notNull":true,"primary":false,"hasDefault":false,"enumValues":null,"isUpdatedAt":false},
          {"name":"at","key":"at","columnType":"PgTimestamp","dataType":"date","mode":"date","sqlType":"timestamp(3)","notNull":true,"primary":false,"hasDefault":false,"enumValues":null,"isUpdatedAt":false}]}],"enums":[]}"#,
    );
    // Issue 9: @@unique([line, at]) with required fields is the key, so the
    // plan is made without config (and the run gets as far as connecting);
    // with a key in the config too.
    for extra in ["", "[[table]]\nname = \"logs\"\nkey = [\"line\", \"at\"]\n"] {
        let (prisma, exported) = (
            std::slice::from_ref(&prisma),
            std::slice::from_ref(&exported),
        );
        let cfg = write_config(dir.path(), prisma, exported, extra);
        assert_one_line_error(&schema(&[], &cfg), &["cannot open the prisma database"]);
    }
}

#[test]
fn pair_naming_a_missing_table_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &[],
            "[[pair]]\nsource = \"Customer\"\ntarget = \"customers\"\n",
            "[[pair]] source = \"Customer\"",
        ),
        (
            &[],
            "[[pair]]\nsource = \"customers\"\ntarget = \"clients\"\n",
            "[[pair]] target = \"clients\"",
        ),
        // --tables / --repository naming nothing.
        (&["--tables", "refunds"], "", "--tables names \"refunds\""),
        (&["--repository", "refund"], "", "--repository \"refund\""),
    ];
    for (args, extra, want) in cases {
        let cfg = write_config(
            dir.path(),
            &fixture_prisma(),
            &config::drizzle_files(PG),
            extra,
        );
        assert_one_line_error(&schema(args, &cfg), &[want]);
    }
}

#[test]
fn show_mapping_needs_no_config() {
    let drizzle = config::fixture_dir(PG).join("drizzle");
    let o = parity()
        .current_dir(std::env::temp_dir())
        .words("schema --json --show-mapping")
        .arg(drizzle)
        .run();
    o.expect(0);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["orm"], "drizzle");
    let find = |list: &Value, key: &str, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|x| x[key] == name)
            .cloned()
            .unwrap()
    };
    let ext = find(
        &find(&v["models"], "table", "transactions")["columns"],
        "column",
        "external_ref",
    );
    assert_eq!(ext["read"], "big_int_number");
    assert_eq!(ext["isRequired"], false);

    let o = parity()
        .args(["schema", "--show-mapping"])
        .arg(config::prisma_schema(PG))
        .run();
    o.expect(0);
    assert!(
        o.stdout.contains("Transaction → transactions"),
        "{}",
        o.stdout
    );
}

// ---- PostgreSQL end to end ---------------------------------------------------

/// `parity seed --rows 300 --migrations MIGRATIONS` (`--force` to reseed).
fn seed(db: &TempDb, migrations: &str, force: bool) {
    let force = if force { "--force" } else { "" };
    let args = format!("--rows 300 --migrations {migrations} {force}");
    crate::support::seed_with(&db.url, &args.split_whitespace().collect::<Vec<_>>());
}

/// `parity schema` on the database; the run and its schema.json.
fn schema_of(db: &TempDb, config: &Path, extra: &[&str]) -> (Run, Value) {
    let out = tempfile::tempdir().unwrap();
    let mut c = parity();
    c.arg("schema").config(config).out(out.path()).args(extra);
    let o = c.env("DATABASE_URL", &db.url).run();
    let json = std::fs::read_to_string(out.path().join("schema.json"));
    let json = json
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    if o.code != 2 {
        assert!(out.path().join("schema.md").is_file(), "schema.md missing");
    }
    (o, json)
}

fn codes(v: &Value, severity: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn shapes(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("SHAPE_"))
        .map(|f| {
            (
                format!(
                    "{}.{}",
                    f["table"].as_str().unwrap(),
                    f["column"].as_str().unwrap()
                ),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn fixture_reports_the_unapplied_migration_then_passes() {
    let db = TempDb::pg("schema");
    let config = config::fixture_dir(PG).join("parity.toml");

    // Drizzle's 0001 is not recorded: exactly that finding fails the run.
    seed(&db, "0000_init", false);
    let (o, v) = schema_of(&db, &config, &[]);
    assert_eq!(o.code, 1, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert_eq!(
        codes(&v, "error"),
        vec!["MIGRATION_NOT_APPLIED"],
        "{}",
        o.stdout
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "error")
        .unwrap();
    assert_eq!(f["side"], "drizzle");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("0001_transactions_occurred_at_idx"),
        "{f}"
    );
    assert!(o.stdout.contains("MIGRATION_NOT_APPLIED"), "{}", o.stdout);
    assert_eq!(v["summary"]["exit_code"], 1);

    // Everything applied: exit 0, and the fixture's shape differences listed.
    seed(&db, "all", true);
    let (o, v) = schema_of(&db, &config, &[]);
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(codes(&v, "error").is_empty(), "{}", o.stdout);
    let got = shapes(&v);
    for (col, code) in [
        ("customers.created_at", "SHAPE_DATE_VS_STRING"),
        ("customers.birth_date", "SHAPE_DATE_VS_STRING"),
        ("customers.loyalty_points", "SHAPE_BIGINT_NUMBER"),
        ("transactions.external_ref", "SHAPE_BIGINT_NUMBER"),
        ("transactions.occurred_at", "SHAPE_DATE_VS_STRING"),
        ("transactions.occurred_at", "SHAPE_TIMESTAMP_PRECISION"),
        ("transactions.amount", "SHAPE_DECIMAL_VS_STRING"),
        ("items.price", "SHAPE_DECIMAL_VS_STRING"),
        ("repairs.estimated_cost", "SHAPE_DECIMAL_NUMBER"),
        ("repairs.status", "SHAPE_ENUM_NAME_VS_LABEL"),
        ("transactions.kind", "SHAPE_ENUM_NAME_VS_LABEL"),
    ] {
        assert!(
            got.contains(&(col.to_string(), code.to_string())),
            "{col} {code} missing from {got:?}"
        );
    }
    // Same reading on both sides: no shape.
    for col in [
        "users.created_at",
        "repairs.received_at",
        "users.role",
        "transactions.id",
        "customers.preferences",
    ] {
        assert!(
            !got.iter().any(|(c, _)| c == col),
            "{col} should have no shape difference: {got:?}"
        );
    }
    assert!(o.stdout.contains("shape differences"), "{}", o.stdout);
    assert!(o.stdout.contains("schema parity holds"), "{}", o.stdout);

    // --strict turns shape differences into a failure.
    let (o, _) = schema_of(&db, &config, &["--strict"]);
    assert_eq!(o.code, 1, "{}", o.stdout);

    // --repository narrows the check to a rollout phase.
    let (o, v) = schema_of(&db, &config, &["--repository", "transaction"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(v["tables"], serde_json::json!(["transactions"]));
    assert!(
        shapes(&v)
            .iter()
            .all(|(c, _)| c.starts_with("transactions."))
    );
}

#[test]
fn live_drift_timezone_and_allow() {
    let db = TempDb::pg("schema");
    seed(&db, "all", false);
    let dir = tempfile::tempdir().unwrap();
    let migrations = format!(
        "migrations = \"{}\"\n",
        config::fixture_dir(PG).join("prisma/migrations").display()
    );
    let cfg = write_config(
        dir.path(),
        &fixture_prisma(),
        &config::drizzle_files(PG),
        "",
    );
    let body = std::fs::read_to_string(&cfg).unwrap().replacen(
        "mapping = ",
        &format!("{migrations}mapping = "),
        1,
    );
    std::fs::write(&cfg, &body).unwrap();

    // The database drifts from both mappings.
    db.exec(
        "ALTER TABLE items DROP COLUMN weight_grams;
         ALTER TABLE bikes ALTER COLUMN color TYPE varchar(20);
         ALTER TABLE customers ALTER COLUMN first_name DROP NOT NULL;
         ALTER TYPE \"RepairStatus\" ADD VALUE 'cancelled';
         ALTER DATABASE CURRENT_DATABASE_PLACEHOLDER SET timezone = 'Europe/Paris';"
            .replace("CURRENT_DATABASE_PLACEHOLDER", &format!("\"{}\"", db.name))
            .as_str(),
    );
    let (o, v) = schema_of(&db, &cfg, &[]);
    assert_eq!(o.code, 1, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    let errors = codes(&v, "error");
    assert_eq!(
        errors.iter().filter(|c| *c == "COLUMN_MISSING").count(),
        2,
        "both mappings have items.weight_grams: {errors:?}"
    );
    assert_eq!(
        errors.iter().filter(|c| *c == "TYPE_MISMATCH").count(),
        2,
        "{errors:?}"
    );
    assert_eq!(
        errors.iter().filter(|c| *c == "ENUM_LABELS_DIFFER").count(),
        2,
        "{errors:?}"
    );
    let warnings = codes(&v, "warning");
    assert!(
        warnings.contains(&"NULLABILITY_MISMATCH".to_string()),
        "{warnings:?}"
    );
    let tz: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "TIMEZONE_NOT_UTC")
        .collect();
    assert_eq!(tz.len(), 1, "{}", o.stdout);
    assert_eq!(tz[0]["table"], "repairs");
    assert_eq!(tz[0]["column"], "received_at");
    assert_eq!(v["source_server_timezone"], "Europe/Paris");

    // Allowed codes are reported but do not fail.
    let allowed = format!(
        "{body}\n[schema]\nallow = [\"COLUMN_MISSING\", \"TYPE_MISMATCH\", \"ENUM_LABELS_DIFFER\"]\n"
    );
    std::fs::write(&cfg, allowed).unwrap();
    let (o, v) = schema_of(&db, &cfg, &[]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert_eq!(v["summary"]["allowed"], 6);
    assert!(o.stdout.contains("(allowed)"));
}
