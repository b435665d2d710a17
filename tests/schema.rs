//! `parity schema` end to end: the real binary.
//!
//! Bad input must give one clear line on stderr and exit 2, never a panic:
//! those tests need no database (mappings and the plan are checked before
//! connecting). The fixture tests run against real PostgreSQL: each creates
//! its own database (`parity_t_schema_<pid>_<n>`) and drops it afterwards,
//! even on failure. Server: `$PARITY_TEST_PG_URL` (default
//! postgres://postgres@127.0.0.1:5432).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use serde_json::Value;
use sqlx::Connection;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("fixtures/bikeshop")
}

fn parity() -> Command {
    let mut c = Command::cargo_bin("parity").unwrap();
    c.env_remove("PARITY_CONFIG")
        .env_remove("PARITY_OUT")
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    c
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut c: Command) -> Outcome {
    let out = c.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Exit 2 with exactly one error line on stderr, containing every `needle`.
fn assert_one_line_error(o: &Outcome, needles: &[&str]) {
    assert_eq!(o.code, 2, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{}", o.stderr);
    assert!(lines[0].starts_with("parity: error: "), "{}", lines[0]);
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} not in: {}", lines[0]);
    }
}

/// A config in a temp folder; paths in it are absolute.
fn write_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("parity.toml");
    std::fs::write(&p, body).unwrap();
    p
}

/// `[source]` prisma + `[target]` drizzle over the fixture, with overrides.
fn config_text(source_mapping: &str, target_mapping: &str, extra: &str) -> String {
    format!(
        r#"
[source]
name = "prisma"
orm = "prisma"
url = "${{DATABASE_URL}}"
mapping = {source_mapping}

[target]
name = "drizzle"
orm = "drizzle"
url = "${{DATABASE_URL}}"
mapping = {target_mapping}
{extra}
"#
    )
}

fn q(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

fn fixture_prisma() -> String {
    q(&fixture().join("prisma/schema.prisma"))
}

fn fixture_drizzle() -> String {
    format!(
        "[{}, {}]",
        q(&fixture().join("drizzle/meta/0001_snapshot.json")),
        q(&fixture().join("drizzle/mapping.json"))
    )
}

/// Runs `parity schema` on a config; the URL points nowhere: bad input must
/// be caught before connecting.
fn schema_with(config: &Path) -> Outcome {
    let mut c = parity();
    c.args(["schema", "--config"])
        .arg(config)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused");
    run(c)
}

// ---- bad input --------------------------------------------------------------

#[test]
fn malformed_schema_prisma_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("schema.prisma");
    std::fs::write(&bad, "datasource db {\n  provider = \"postgresql\"\n}\n\nmodel User {\n  id Int @id\n  email String @@@\n").unwrap();
    let cfg = write_config(dir.path(), &config_text(&q(&bad), &fixture_drizzle(), ""));
    assert_one_line_error(&schema_with(&cfg), &["schema.prisma"]);
}

#[test]
fn unknown_snapshot_version_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture().join("drizzle/meta/0001_snapshot.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["version"] = Value::String("99".into());
    let snap = dir.path().join("0001_snapshot.json");
    std::fs::write(&snap, v.to_string()).unwrap();
    let cfg = write_config(
        dir.path(),
        &config_text(&fixture_prisma(), &format!("[{}]", q(&snap)), ""),
    );
    assert_one_line_error(
        &schema_with(&cfg),
        &["version \"99\"", "0001_snapshot.json"],
    );
}

#[test]
fn snapshot_for_another_dialect_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = fixture().join("sqlite/drizzle/meta/0001_snapshot.json");
    let cfg = write_config(dir.path(), &config_text(&fixture_prisma(), &q(&sqlite), ""));
    assert_one_line_error(&schema_with(&cfg), &["is for sqlite", "postgresql"]);
}

#[test]
fn missing_mapping_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("drizzle/meta/0009_snapshot.json");
    let cfg = write_config(
        dir.path(),
        &config_text(&fixture_prisma(), &q(&missing), ""),
    );
    assert_one_line_error(&schema_with(&cfg), &["0009_snapshot.json"]);

    let missing = dir.path().join("nope.prisma");
    let cfg = write_config(
        dir.path(),
        &config_text(&q(&missing), &fixture_drizzle(), ""),
    );
    assert_one_line_error(&schema_with(&cfg), &["nope.prisma does not exist"]);

    let mut c = parity();
    c.args(["schema", "--show-mapping"])
        .arg(dir.path().join("gone.json"));
    assert_one_line_error(&run(c), &["gone.json does not exist"]);

    let mut c = parity();
    c.args(["schema", "--config"])
        .arg(dir.path().join("absent.toml"));
    assert_one_line_error(&run(c), &["absent.toml"]);
}

#[test]
fn table_keyed_only_by_a_unique_criterion_needs_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let prisma = dir.path().join("schema.prisma");
    std::fs::write(
        &prisma,
        "datasource db {\n  provider = \"postgresql\"\n}\n\nmodel Log {\n  line String\n  at   DateTime\n\n  @@unique([line, at])\n  @@map(\"logs\")\n}\n",
    )
    .unwrap();
    let exported = dir.path().join("mapping.json");
    std::fs::write(
        &exported,
        r#"{"format":"parity-drizzle-mapping","version":1,"dialect":"postgresql","tables":[{"name":"logs","schema":null,"export":"logs","primaryKey":[],"columns":[
          {"name":"line","key":"line","columnType":"PgText","dataType":"string","mode":null,"sqlType":"text","notNull":true,"primary":false,"hasDefault":false,"enumValues":null,"isUpdatedAt":false},
          {"name":"at","key":"at","columnType":"PgTimestamp","dataType":"date","mode":"date","sqlType":"timestamp(3)","notNull":true,"primary":false,"hasDefault":false,"enumValues":null,"isUpdatedAt":false}]}],"enums":[]}"#,
    )
    .unwrap();
    // Issue 9: @@unique([line, at]) with required fields is the key, so the
    // plan is made without config (and the run gets as far as connecting).
    let cfg = write_config(dir.path(), &config_text(&q(&prisma), &q(&exported), ""));
    assert_one_line_error(&schema_with(&cfg), &["cannot open the prisma database"]);
    // With a key in the config too.
    let cfg = write_config(
        dir.path(),
        &config_text(
            &q(&prisma),
            &q(&exported),
            "[[table]]\nname = \"logs\"\nkey = [\"line\", \"at\"]\n",
        ),
    );
    assert_one_line_error(&schema_with(&cfg), &["cannot open the prisma database"]);
}

#[test]
fn pair_naming_a_missing_table_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config_text(
            &fixture_prisma(),
            &fixture_drizzle(),
            "[[pair]]\nsource = \"Customer\"\ntarget = \"customers\"\n",
        ),
    );
    assert_one_line_error(&schema_with(&cfg), &["[[pair]] source = \"Customer\""]);

    let cfg = write_config(
        dir.path(),
        &config_text(
            &fixture_prisma(),
            &fixture_drizzle(),
            "[[pair]]\nsource = \"customers\"\ntarget = \"clients\"\n",
        ),
    );
    assert_one_line_error(&schema_with(&cfg), &["[[pair]] target = \"clients\""]);

    // --tables / --repository naming nothing.
    let cfg = write_config(
        dir.path(),
        &config_text(&fixture_prisma(), &fixture_drizzle(), ""),
    );
    let mut c = parity();
    c.args(["schema", "--tables", "refunds", "--config"])
        .arg(&cfg)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused");
    assert_one_line_error(&run(c), &["--tables names \"refunds\""]);
    let mut c = parity();
    c.args(["schema", "--repository", "refund", "--config"])
        .arg(&cfg)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused");
    assert_one_line_error(&run(c), &["--repository \"refund\""]);
}

#[test]
fn show_mapping_needs_no_config() {
    let mut c = parity();
    c.current_dir(std::env::temp_dir())
        .args(["schema", "--json", "--show-mapping"])
        .arg(fixture().join("drizzle"));
    let o = run(c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["orm"], "drizzle");
    let tx = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["table"] == "transactions")
        .unwrap();
    let ext = tx["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "external_ref")
        .unwrap();
    assert_eq!(ext["read"], "big_int_number");
    assert_eq!(ext["isRequired"], false);

    let mut c = parity();
    c.args(["schema", "--show-mapping"])
        .arg(fixture().join("prisma/schema.prisma"));
    let o = run(c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("Transaction → transactions"),
        "{}",
        o.stdout
    );
}

// ---- PostgreSQL end to end ---------------------------------------------------

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn pg_base() -> String {
    std::env::var("PARITY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// `base` (with or without a database) pointed at `db`.
fn with_db(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let host_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &head[..host_end])
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A database of its own, dropped when the guard goes out of scope.
struct TempDb {
    name: String,
    url: String,
}

impl TempDb {
    fn new() -> TempDb {
        let name = format!(
            "parity_t_schema_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let admin = with_db(&pg_base(), "postgres");
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .unwrap();
        });
        TempDb {
            url: with_db(&pg_base(), &name),
            name,
        }
    }

    fn exec(&self, sql: &str) {
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        });
    }

    fn seed(&self, migrations: &str, force: bool) {
        let mut c = parity();
        c.args([
            "seed",
            "--rows",
            "300",
            "--migrations",
            migrations,
            "--url",
            &self.url,
        ]);
        if force {
            c.arg("--force");
        }
        let o = run(c);
        assert_eq!(o.code, 0, "seed failed: {}", o.stderr);
    }

    fn schema(&self, config: &Path, extra: &[&str]) -> (Outcome, Value) {
        let out = tempfile::tempdir().unwrap();
        let mut c = parity();
        c.args(["schema", "--config"])
            .arg(config)
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .env("DATABASE_URL", &self.url);
        let o = run(c);
        let json = std::fs::read_to_string(out.path().join("schema.json"))
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null);
        if o.code != 2 {
            assert!(out.path().join("schema.md").is_file(), "schema.md missing");
        }
        (o, json)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let admin = with_db(&pg_base(), "postgres");
        let name = self.name.clone();
        let _ = std::panic::catch_unwind(|| {
            block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                }
            })
        });
    }
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
    let db = TempDb::new();
    let config = fixture().join("parity.toml");

    // Drizzle's 0001 is not recorded: exactly that finding fails the run.
    db.seed("0000_init", false);
    let (o, v) = db.schema(&config, &[]);
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
    db.seed("all", true);
    let (o, v) = db.schema(&config, &[]);
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
    let (o, _) = db.schema(&config, &["--strict"]);
    assert_eq!(o.code, 1, "{}", o.stdout);

    // --repository narrows the check to a rollout phase.
    let (o, v) = db.schema(&config, &["--repository", "transaction"]);
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
    let db = TempDb::new();
    db.seed("all", false);
    let dir = tempfile::tempdir().unwrap();
    let migrations = format!("migrations = {}\n", q(&fixture().join("prisma/migrations")));
    let body = config_text(&fixture_prisma(), &fixture_drizzle(), "").replacen(
        "mapping = ",
        &format!("{migrations}mapping = "),
        1,
    );
    let cfg = write_config(dir.path(), &body);

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
    let (o, v) = db.schema(&cfg, &[]);
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
    let cfg = write_config(dir.path(), &allowed);
    let (o, v) = db.schema(&cfg, &[]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert_eq!(v["summary"]["allowed"], 6);
    assert!(o.stdout.contains("(allowed)"));
}
