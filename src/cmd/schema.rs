//! `parity schema`: both mappings against each other, each against the live
//! catalog, the migration tables, the shape differences and the server time
//! zone; human text on stdout, `schema.json` and `schema.md` in the out dir.
//!
//! Wiring only: mappings come from `plan::load`, pairing and findings
//! from `plan`, catalog/migration/time-zone reads from `db`. [`inspect`] is
//! the reusable part (`parity run` calls it); [`run`] adds the output.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{GlobalArgs, SchemaArgs};
use crate::config::{self, Config, Side};
use crate::db::{ConnectOptions, Db, catalog, migrations};
use crate::exit;
use crate::mapping::{Dialect, Mapping, Orm, load};
use crate::plan::findings::{self, Finding, Severity};
use crate::plan::{self, Plan, Selection};
use crate::report::{self, SideInfo};
use crate::ui::Ui;

/// What `parity schema` found; `schema.json` is this, serialised.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaReport {
    pub format_version: u32,
    pub command: String,
    pub generated_at: String,
    pub source: SideInfo,
    pub target: SideInfo,
    /// Table pairs checked (qualified source names).
    pub tables: Vec<String>,
    pub only_source_tables: Vec<String>,
    pub only_target_tables: Vec<String>,
    /// Views both mappings have: checked against the catalog, never read.
    pub views: Vec<String>,
    /// The server default TimeZone each side's database gives a client that sets none.
    pub source_server_timezone: Option<String>,
    pub target_server_timezone: Option<String>,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    pub summary: Summary,
    /// Per side with a `migrations` folder: migrations found there and how
    /// many of them the database records as applied.
    pub migrations: Vec<plan::migrations::MigrationCount>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    /// Shape findings (also counted in `warnings`).
    pub shapes: usize,
    /// Findings listed in `[schema] allow`.
    pub allowed: usize,
    pub strict: bool,
    pub exit_code: i32,
}

pub async fn run(args: SchemaArgs, global: &GlobalArgs, ui: Ui) -> Result<i32> {
    if let Some(path) = &args.show_mapping {
        return show_mapping(path, args.json);
    }
    let config = config::load_required(global.config.as_deref())?;
    let selection = Selection {
        tables: args.select.tables.clone(),
        repository: args.select.repository.clone(),
    };
    let report = inspect(&config, &selection, args.strict, &ui).await?;
    let out = report::prepare_out_dir(global.out.as_deref())?;
    write_reports(&report, &out)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(render_text(&report).as_bytes())?;
    stdout.flush()?;
    ui.info(format!("reports: {}", out.display()));
    Ok(report.summary.exit_code)
}

/// Loads both mappings, builds the plan, connects read-only and collects
/// every finding. Errors (exit 2) are what stops the check itself.
pub async fn inspect(
    config: &Config,
    selection: &Selection,
    strict: bool,
    ui: &Ui,
) -> Result<SchemaReport> {
    // Mapping files and the plan first: their mistakes need no database.
    let source_files = load_files(&config.source)?;
    let target_files = load_files(&config.target)?;
    if let (Some(s), Some(t)) = (&source_files, &target_files) {
        plan::build(s, t, Some(config), selection)?;
    }
    let source_db = connect(&config.source, config).await?;
    let target_db = if config.target.url == config.source.url {
        source_db.clone()
    } else {
        connect(&config.target, config).await?
    };
    let source = match source_files {
        Some(m) => m,
        None => catalog::read_catalog(&source_db, &[]).await?,
    };
    let target = match target_files {
        Some(m) => m,
        None => catalog::read_catalog(&target_db, &[]).await?,
    };
    let plan = plan::build(&source, &target, Some(config), selection)?;
    ui.info(format!(
        "schema: {} table pairs, {} views",
        plan.pairs.len(),
        plan.views.len()
    ));

    let mut found = findings::mapping_differences(&plan, &config.source.name, &config.target.name);
    let mut tz = [None, None];
    let mut counts = Vec::new();
    for (i, (side, mapping, db)) in [
        (&config.source, &source, &source_db),
        (&config.target, &target, &target_db),
    ]
    .into_iter()
    .enumerate()
    {
        let narrowed = if selection.tables.is_empty() && selection.repository.is_none() {
            Vec::new()
        } else {
            findings::selected_tables(mapping, &plan, i == 0)
        };
        if mapping.orm != Orm::Catalog {
            let live = catalog::read_catalog(db, &schemas_of(mapping))
                .await
                .with_context(|| format!("{} database ({})", side.name, redacted(side)))?;
            if !(selection.tables.is_empty() && selection.repository.is_none())
                && narrowed.is_empty()
            {
                // The selection names nothing on this side: nothing to check.
            } else {
                found.extend(findings::against_catalog(
                    &side.name, mapping, &live, &narrowed,
                ));
            }
        }
        if let Some(folder) = &side.migrations {
            let ctx = || format!("{} migrations ({})", side.name, folder.display());
            let local = plan::migrations::Local::read(side.orm, folder).with_context(ctx)?;
            let applied = migrations::read_applied(db, side.orm)
                .await
                .with_context(ctx)?;
            let (f, count) = local.check(&side.name, &applied);
            found.extend(f);
            counts.push(count);
        }
        // Every PostgreSQL side reports its server's zone (only Prisma's
        // reads depend on it; see `timezone_findings`).
        tz[i] = if mapping.dialect == Dialect::Postgres {
            catalog::server_default_timezone(db).await
        } else {
            None
        };
        found.extend(findings::timezone_findings(
            &side.name,
            mapping,
            tz[i].as_deref(),
            &narrowed,
        ));
    }
    found.extend(findings::shape_findings(&plan));
    findings::apply_allow(&mut found, &config.schema.allow);

    let fails = findings::fails(&found, strict);
    let summary = Summary {
        errors: found
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        warnings: found
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
        shapes: found.iter().filter(|f| f.is_shape()).count(),
        allowed: found.iter().filter(|f| f.allowed).count(),
        strict,
        exit_code: if fails { exit::DIFFERENCES } else { exit::OK },
    };
    source_db.close().await;
    target_db.close().await;
    let [source_tz, target_tz] = tz;
    Ok(SchemaReport {
        format_version: 1,
        command: "schema".into(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: side_info(&config.source),
        target: side_info(&config.target),
        tables: plan.pairs.iter().map(|p| p.name()).collect(),
        only_source_tables: plan.only_source.clone(),
        only_target_tables: plan.only_target.clone(),
        views: plan.views.clone(),
        source_server_timezone: source_tz,
        target_server_timezone: target_tz,
        findings: found,
        notes: plan_notes(&plan),
        summary,
        migrations: counts,
    })
}

fn plan_notes(plan: &Plan) -> Vec<String> {
    let mut notes = plan.notes.clone();
    notes.dedup();
    notes
}

fn redacted(side: &Side) -> String {
    side.url
        .as_ref()
        .map(|u| u.redacted())
        .unwrap_or_else(|| "(no url)".into())
}

fn side_info(side: &Side) -> SideInfo {
    SideInfo {
        name: side.name.clone(),
        orm: side.orm.as_str().to_string(),
        database: redacted(side),
    }
}

async fn connect(side: &Side, config: &Config) -> Result<Db> {
    let Some(url) = &side.url else {
        bail!(
            "the {} side has no url; set url = \"${{DATABASE_URL}}\" under [{}] in parity.toml",
            side.name,
            side.name
        );
    };
    let opts = ConnectOptions {
        max_connections: 2,
        ..crate::cmd::check::connect_options(config)
    };
    Db::connect(url, &opts).await.with_context(|| {
        format!(
            "cannot open the {} database; check its url in parity.toml and that the server is running",
            side.name
        )
    })
}

/// The side's mapping files, loaded; `None` for `orm = "catalog"`, whose
/// mapping is the live catalog.
fn load_files(side: &Side) -> Result<Option<Mapping>> {
    if side.orm == Orm::Catalog {
        return Ok(None);
    }
    plan::load::load_side(side).map(Some)
}

/// The database schemas a mapping's tables live in (`public` for unqualified
/// PostgreSQL tables; the connection's database on MySQL).
fn schemas_of(m: &Mapping) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in &m.tables {
        let s = match (&t.schema, m.dialect) {
            (Some(s), _) => s.clone(),
            (None, Dialect::Postgres) => "public".to_string(),
            (None, _) => continue,
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if m.dialect == Dialect::Postgres && out.is_empty() {
        out.push("public".into());
    }
    out
}

/// Writes `schema.json` and `schema.md`.
pub fn write_reports(r: &SchemaReport, dir: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(r)?;
    report::write_atomic(&dir.join("schema.json"), &json)?;
    report::write_atomic(&dir.join("schema.md"), render_markdown(r).as_bytes())?;
    Ok(())
}

fn location(f: &Finding) -> String {
    match (&f.table, &f.column) {
        (Some(t), Some(c)) => format!("{t}.{c}"),
        (Some(t), None) => t.clone(),
        _ => f.side.clone().unwrap_or_else(|| "-".into()),
    }
}

/// The human text `parity schema` prints on stdout.
pub fn render_text(r: &SchemaReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "parity schema: {} ({}) vs {} ({}) on {}",
        r.source.name, r.source.orm, r.target.name, r.target.orm, r.source.database
    );
    let _ = writeln!(
        s,
        "  {} table pairs, {} only in {}, {} only in {}, {} views",
        r.tables.len(),
        r.only_source_tables.len(),
        r.source.name,
        r.only_target_tables.len(),
        r.target.name,
        r.views.len()
    );
    for line in migration_lines(r) {
        let _ = writeln!(s, "  {line}");
    }
    let groups: [(&str, Keep); 3] = [
        ("errors", is_error),
        ("warnings", is_plain_warning),
        ("shape differences", Finding::is_shape),
    ];
    for (title, keep) in groups.iter() {
        let list: Vec<&Finding> = r.findings.iter().filter(|f| keep(f)).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title} ({})", list.len());
        for f in list {
            let risk = match f.risk {
                Some(plan::ShapeRisk::Value) => " [value risk]",
                Some(plan::ShapeRisk::Note) => " [risk note]",
                _ => "",
            };
            let allowed = if f.allowed { " (allowed)" } else { "" };
            let _ = writeln!(
                s,
                "  {:<28} {:<36} {}{risk}{allowed}",
                f.code,
                location(f),
                f.message
            );
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\nnotes");
        for n in &r.notes {
            let _ = writeln!(s, "  {n}");
        }
    }
    let verdict = if r.summary.exit_code == exit::OK {
        "schema parity holds"
    } else {
        "schema differences found"
    };
    let _ = writeln!(
        s,
        "\n{verdict}: {}, {} ({}), {} allowed{}",
        count(r.summary.errors, "error"),
        count(r.summary.warnings, "warning"),
        count(r.summary.shapes, "shape difference"),
        r.summary.allowed,
        if r.summary.strict { ", --strict" } else { "" }
    );
    s
}

/// Which findings a report section lists.
type Keep = fn(&Finding) -> bool;

fn is_error(f: &Finding) -> bool {
    f.severity == Severity::Error
}

fn is_plain_warning(f: &Finding) -> bool {
    f.severity == Severity::Warning && !f.is_shape()
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `schema.md`: the same findings as tables.
pub fn render_markdown(r: &SchemaReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# parity schema\n");
    let _ = writeln!(
        s,
        "- source: **{}** ({}) on `{}`\n- target: **{}** ({}) on `{}`\n- generated: {}\n- result: **{}** — {} errors, {} warnings ({} shape differences), {} allowed{}\n",
        r.source.name,
        r.source.orm,
        r.source.database,
        r.target.name,
        r.target.orm,
        r.target.database,
        r.generated_at,
        if r.summary.exit_code == exit::OK {
            "pass"
        } else {
            "fail"
        },
        r.summary.errors,
        r.summary.warnings,
        r.summary.shapes,
        r.summary.allowed,
        if r.summary.strict { " (strict)" } else { "" }
    );
    let _ = writeln!(
        s,
        "{} table pairs; only in {}: {}; only in {}: {}; views: {}.\n",
        r.tables.len(),
        r.source.name,
        list_or_none(&r.only_source_tables),
        r.target.name,
        list_or_none(&r.only_target_tables),
        list_or_none(&r.views)
    );
    let lines = migration_lines(r);
    if !lines.is_empty() {
        let _ = writeln!(s, "## Migrations\n");
        for line in lines {
            let _ = writeln!(s, "- {}", md_escape(&line));
        }
        s.push('\n');
    }
    let sections: [(&str, Keep); 3] = [
        ("Errors", is_error),
        ("Warnings", is_plain_warning),
        ("Shape differences", Finding::is_shape),
    ];
    for (title, keep) in sections {
        let list: Vec<&Finding> = r.findings.iter().filter(|f| keep(f)).collect();
        if title == "Warnings" && r.summary.shapes > 0 {
            // The result line counts shape differences as warnings; they
            // have their own section below.
            let _ = writeln!(
                s,
                "## {title} ({} besides the {} shape differences below)\n",
                list.len(),
                r.summary.shapes
            );
        } else {
            let _ = writeln!(s, "## {title} ({})\n", list.len());
        }
        if list.is_empty() {
            let _ = writeln!(s, "None.\n");
            continue;
        }
        let _ = writeln!(s, "| code | where | side | risk | message |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for f in list {
            let risk = match f.risk {
                Some(plan::ShapeRisk::Value) => "value",
                Some(plan::ShapeRisk::Shape) => "shape",
                Some(plan::ShapeRisk::Note) => "note",
                None => "",
            };
            let _ = writeln!(
                s,
                "| `{}`{} | {} | {} | {} | {} |",
                f.code,
                if f.allowed { " (allowed)" } else { "" },
                md_escape(&location(f)),
                f.side.as_deref().unwrap_or(""),
                risk,
                md_escape(&f.message)
            );
        }
        let _ = writeln!(s);
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "## Notes\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {}", md_escape(n));
        }
    }
    s
}

/// `prisma: 3 migrations found, 3 applied (prisma/migrations)`, one per
/// side with a migrations folder.
pub fn migration_lines(r: &SchemaReport) -> Vec<String> {
    r.migrations
        .iter()
        .map(|m| {
            format!(
                "{} migrations ({}): {} found, {} applied{}",
                m.side,
                m.orm,
                m.found,
                m.applied,
                if m.found == m.applied {
                    ""
                } else {
                    " (see the errors)"
                }
            )
        })
        .collect()
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// `--show-mapping PATH [--json]`: one mapping as resolved; needs no config.
fn show_mapping(path: &Path, json: bool) -> Result<i32> {
    let v = load::show_mapping_json(path)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        out.write_all(render_mapping_text(&v).as_bytes())?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Human text for a `tables.json`-shaped mapping (Prisma's or Drizzle's).
pub fn render_mapping_text(v: &Value) -> String {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}{})",
        str_of(v, "file"),
        str_of(v, "provider"),
        v.get("orm")
            .and_then(Value::as_str)
            .map(|o| format!(", {o}"))
            .unwrap_or_default()
    );
    for m in v
        .get("models")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let schema = m
            .get("schema")
            .and_then(Value::as_str)
            .map(|s| format!("{s}."))
            .unwrap_or_default();
        let view = if m.get("isView").and_then(Value::as_bool) == Some(true) {
            " (view)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "\n{} → {schema}{}{view}",
            str_of(m, "model"),
            str_of(m, "table")
        );
        let pk: Vec<String> = m
            .get("primaryKey")
            .and_then(|p| p.get("columns"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for c in m
            .get("columns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut ty = str_of(c, "type");
            if let Some(native) = c.get("nativeType").and_then(Value::as_array)
                && let Some(name) = native.first().and_then(Value::as_str)
            {
                let args: Vec<String> = native
                    .get(1)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                ty = if args.is_empty() {
                    format!("{ty} @db.{name}")
                } else {
                    format!("{ty} @db.{name}({})", args.join(", "))
                };
            }
            if c.get("isList").and_then(Value::as_bool) == Some(true) {
                ty.push_str("[]");
            }
            let required = c.get("isRequired").and_then(Value::as_bool) == Some(true);
            let column = str_of(c, "column");
            let mut flags = Vec::new();
            if c.get("isId").and_then(Value::as_bool) == Some(true) || pk.contains(&column) {
                flags.push("key".to_string());
            }
            if c.get("isUnique").and_then(Value::as_bool) == Some(true) {
                flags.push("unique".to_string());
            }
            if let Some(read) = c.get("read").and_then(Value::as_str) {
                flags.push(format!("read {read}"));
            }
            let _ = writeln!(
                s,
                "  {:<24} {:<24} {:<28} {}{}",
                str_of(c, "field"),
                column,
                ty,
                if required { "required" } else { "optional" },
                if flags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", flags.join(", "))
                }
            );
        }
    }
    let enums: Vec<&Value> = v
        .get("enums")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    if !enums.is_empty() {
        let _ = writeln!(s, "\nenums");
        for e in enums {
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|x| {
                    let n = str_of(x, "name");
                    let d = str_of(x, "dbName");
                    if d.is_empty() || d == n {
                        n
                    } else {
                        format!("{n}=\"{d}\"")
                    }
                })
                .collect();
            let _ = writeln!(s, "  {}: {}", str_of(e, "name"), values.join(", "));
        }
    }
    for n in v
        .get("notes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(n) = n.as_str() {
            let _ = writeln!(s, "\nnote: {n}");
        }
    }
    s
}
