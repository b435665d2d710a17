//! `parity schema`'s findings as people and CI read them: [`SchemaReport`]
//! (serialised, it is `schema.json`), `schema.md`, the text on stdout, and
//! `--show-mapping`'s text for one resolved mapping. Renders what it is
//! handed; the inspection itself is `pipeline::schema`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::exit;
use crate::plan::ShapeRisk;
use crate::plan::findings::{Finding, Severity};
use crate::plan::migrations::MigrationCount;
use crate::report::{SideInfo, write_atomic};

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
    pub summary: SchemaSummary,
    /// Per side with a `migrations` folder: migrations found there and how
    /// many of them the database records as applied.
    pub migrations: Vec<MigrationCount>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SchemaSummary {
    pub errors: usize,
    pub warnings: usize,
    /// Shape findings (also counted in `warnings`).
    pub shapes: usize,
    /// Findings listed in `[schema] allow`.
    pub allowed: usize,
    pub strict: bool,
    pub exit_code: i32,
}

impl SchemaSummary {
    /// The counts of `findings`; the exit code is 1 when they fail the
    /// check (`strict`: shape differences too), else 0.
    pub fn of(findings: &[Finding], strict: bool) -> SchemaSummary {
        let count = |keep: Keep| findings.iter().filter(|f| keep(f)).count();
        SchemaSummary {
            errors: count(is_error),
            warnings: count(|f| f.severity == Severity::Warning),
            shapes: count(Finding::is_shape),
            allowed: count(|f| f.allowed),
            strict,
            exit_code: exit::of(false, crate::plan::findings::fails(findings, strict)),
        }
    }
}

/// Writes `schema.json` and `schema.md`.
pub fn write_reports(r: &SchemaReport, dir: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(r)?;
    write_atomic(&dir.join("schema.json"), &json)?;
    write_atomic(&dir.join("schema.md"), render_markdown(r).as_bytes())?;
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
    for (title, list) in sections(r) {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{} ({})", title.to_lowercase(), list.len());
        for f in list {
            let risk = match f.risk {
                Some(ShapeRisk::Value) => " [value risk]",
                Some(ShapeRisk::Note) => " [risk note]",
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

/// The sections both renderings list, in order, titled as `schema.md`
/// titles them.
const SECTIONS: [(&str, Keep); 3] = [
    ("Errors", is_error),
    ("Warnings", is_plain_warning),
    ("Shape differences", Finding::is_shape),
];

/// Each section's title and findings.
fn sections(r: &SchemaReport) -> impl Iterator<Item = (&'static str, Vec<&Finding>)> {
    SECTIONS
        .into_iter()
        .map(|(title, keep)| (title, r.findings.iter().filter(|f| keep(f)).collect()))
}

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
    for (title, list) in sections(r) {
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
                Some(ShapeRisk::Value) => "value",
                Some(ShapeRisk::Shape) => "shape",
                Some(ShapeRisk::Note) => "note",
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

/// `v[key]` as a string, `""` when absent.
fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The elements of the array `v[key]` (none when absent).
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// The strings of an array value (none when absent).
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// Whether `v[key]` is `true`.
fn is(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(true)
}

/// Human text for a `tables.json`-shaped mapping (Prisma's or Drizzle's).
pub fn render_mapping_text(v: &Value) -> String {
    let mut s = String::new();
    let orm = v.get("orm").and_then(Value::as_str);
    let _ = writeln!(
        s,
        "{} ({}{})",
        str_of(v, "file"),
        str_of(v, "provider"),
        orm.map(|o| format!(", {o}")).unwrap_or_default()
    );
    for m in items(v, "models") {
        let schema = m
            .get("schema")
            .and_then(Value::as_str)
            .map(|s| format!("{s}."))
            .unwrap_or_default();
        let view = if is(m, "isView") { " (view)" } else { "" };
        let _ = writeln!(
            s,
            "\n{} → {schema}{}{view}",
            str_of(m, "model"),
            str_of(m, "table")
        );
        let pk = strings(m.get("primaryKey").and_then(|p| p.get("columns")));
        for c in items(m, "columns") {
            let _ = writeln!(s, "{}", column_line(c, &pk));
        }
    }
    let enums: Vec<&Value> = items(v, "enums").collect();
    if !enums.is_empty() {
        let _ = writeln!(s, "\nenums");
        for e in enums {
            let values: Vec<String> = items(e, "values")
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
    for n in items(v, "notes").filter_map(Value::as_str) {
        let _ = writeln!(s, "\nnote: {n}");
    }
    s
}

/// One column of a mapping's model: field, column, type, and what it is.
fn column_line(c: &Value, pk: &[String]) -> String {
    let mut ty = str_of(c, "type");
    if let Some(native) = c.get("nativeType").and_then(Value::as_array)
        && let Some(name) = native.first().and_then(Value::as_str)
    {
        let args = strings(native.get(1));
        ty = if args.is_empty() {
            format!("{ty} @db.{name}")
        } else {
            format!("{ty} @db.{name}({})", args.join(", "))
        };
    }
    if is(c, "isList") {
        ty.push_str("[]");
    }
    let column = str_of(c, "column");
    let mut flags = Vec::new();
    if is(c, "isId") || pk.contains(&column) {
        flags.push("key".to_string());
    }
    if is(c, "isUnique") {
        flags.push("unique".to_string());
    }
    if let Some(read) = c.get("read").and_then(Value::as_str) {
        flags.push(format!("read {read}"));
    }
    format!(
        "  {:<24} {:<24} {:<28} {}{}",
        str_of(c, "field"),
        column,
        ty,
        if is(c, "isRequired") {
            "required"
        } else {
            "optional"
        },
        if flags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", flags.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_shapes_as_warnings_and_fails_on_errors_or_strict_shapes() {
        let mut allowed = Finding::new("COLUMN_MISSING", Severity::Error, "allowed");
        allowed.allowed = true;
        let findings = vec![
            Finding::new("SHAPE_BIGINT_NUMBER", Severity::Warning, "a shape"),
            Finding::new("TIMEZONE_NOT_UTC", Severity::Warning, "a warning"),
            allowed,
        ];
        let s = SchemaSummary::of(&findings, false);
        assert_eq!((s.errors, s.warnings, s.shapes, s.allowed), (1, 2, 1, 1));
        assert_eq!(s.exit_code, exit::OK, "an allowed error does not fail");
        assert_eq!(
            SchemaSummary::of(&findings, true).exit_code,
            exit::DIFFERENCES
        );
        let error = [Finding::new("TABLE_MISSING", Severity::Error, "e")];
        assert_eq!(
            SchemaSummary::of(&error, false).exit_code,
            exit::DIFFERENCES
        );
    }

    #[test]
    fn a_mapping_reads_as_models_columns_and_enums() {
        let v: Value = serde_json::from_str(
            r#"{"file": "schema.prisma", "provider": "postgresql", "orm": "prisma",
                "models": [{"model": "User", "table": "users", "schema": "app",
                  "primaryKey": {"columns": ["id"]},
                  "columns": [
                    {"field": "id", "column": "id", "type": "Int", "isRequired": true},
                    {"field": "cost", "column": "cost", "type": "Decimal",
                     "nativeType": ["Decimal", ["10", "2"]], "isUnique": true, "read": "string"}]}],
                "enums": [{"name": "Role", "values": [{"name": "ADMIN", "dbName": "admin"}, {"name": "USER"}]}],
                "notes": ["one note"]}"#,
        )
        .unwrap();
        let text = render_mapping_text(&v);
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(lines[0], "schema.prisma (postgresql, prisma)");
        assert_eq!(lines[2], "User → app.users");
        assert!(lines[3].starts_with("  id ") && lines[3].ends_with("required  [key]"));
        assert!(
            lines[4].contains("Decimal @db.Decimal(10, 2)"),
            "{}",
            lines[4]
        );
        assert!(lines[4].ends_with("optional  [unique, read string]"));
        assert!(
            text.contains("\nenums\n  Role: ADMIN=\"admin\", USER\n"),
            "{text}"
        );
        assert!(text.ends_with("\nnote: one note\n"), "{text}");
    }
}
