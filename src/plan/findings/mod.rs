//! Schema findings: a mapping against the other mapping and against the
//! live catalog's mapping. Pure: the catalog, migration rows and server
//! time zone are read by `db` and handed in.
//!
//! Every finding has a stable code, a severity, the table/column and one
//! human line. Codes CI accepts (`[schema] allow`) are still reported.

use serde::Serialize;

use super::{Plan, Shape, ShapeRisk};
use crate::mapping::{Dialect, Mapping, Table};

mod catalog;
pub use catalog::{against_catalog, types_compatible};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One schema finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `COLUMN_MISSING`, `MIGRATION_NOT_APPLIED`, `SHAPE_BIGINT_NUMBER`.
    pub code: String,
    pub severity: Severity,
    /// Which config side it concerns (`source`/`target` name), when one.
    pub side: Option<String>,
    /// Qualified physical table name, when it concerns a table.
    pub table: Option<String>,
    /// Physical column name, when it concerns a column.
    pub column: Option<String>,
    /// One human line.
    pub message: String,
    /// For shape findings: `shape` or `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<ShapeRisk>,
    /// Listed in `[schema] allow`: reported, but does not fail the run.
    pub allowed: bool,
}

impl Finding {
    pub fn new(code: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity,
            side: None,
            table: None,
            column: None,
            message: message.into(),
            risk: None,
            allowed: false,
        }
    }
    pub fn side(mut self, side: &str) -> Finding {
        self.side = Some(side.to_string());
        self
    }
    pub fn table(mut self, table: impl Into<String>) -> Finding {
        self.table = Some(table.into());
        self
    }
    pub fn column(mut self, column: impl Into<String>) -> Finding {
        self.column = Some(column.into());
        self
    }
    /// A finding about one column of one side's table.
    pub fn of_column(self, side: &str, table: &str, column: &str) -> Finding {
        self.side(side).table(table).column(column)
    }
    /// Shape findings are the kind `--strict` turns into failures.
    pub fn is_shape(&self) -> bool {
        self.code.starts_with("SHAPE_")
    }
}

/// (1) Tables and columns one mapping has and the other lacks.
pub fn mapping_differences(plan: &Plan, source: &str, target: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (code, tables, has, lacks) in [
        ("TABLE_ONLY_IN_SOURCE", &plan.only_source, source, target),
        ("TABLE_ONLY_IN_TARGET", &plan.only_target, target, source),
    ] {
        for t in tables {
            out.push(
                Finding::new(
                    code,
                    // Issue 10: a table that pairs with nothing is never checked;
                    // a finding, so a mapping that lost its tables is not green.
                    Severity::Error,
                    format!("table {t} is in the {has} mapping but not in the {lacks} mapping"),
                )
                .table(t.clone()),
            );
        }
    }
    for p in &plan.pairs {
        for (code, columns, table, has, lacks) in [
            (
                "COLUMN_ONLY_IN_SOURCE",
                &p.only_source_columns,
                p.name(),
                source,
                target,
            ),
            (
                "COLUMN_ONLY_IN_TARGET",
                &p.only_target_columns,
                p.target.qualified_name(),
                target,
                source,
            ),
        ] {
            for c in columns {
                out.push(
                    Finding::new(
                        code,
                        Severity::Warning,
                        format!(
                            "column {table}.{c} is in the {has} mapping but not in the {lacks} mapping; it is not compared"
                        ),
                    )
                    .table(p.name())
                    .column(c.clone()),
                );
            }
        }
    }
    out
}

/// (4) Shape differences per column pair, with their risk.
pub fn shape_findings(plan: &Plan) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &plan.pairs {
        for c in &p.columns {
            for Shape {
                code,
                risk,
                message,
            } in &c.shapes
            {
                let mut f = Finding::new(code, Severity::Warning, message.clone())
                    .table(p.name())
                    .column(c.source.name.clone());
                f.risk = Some(*risk);
                out.push(f);
            }
        }
    }
    out
}

/// (5) Prisma reads `timestamptz` through an adapter that replaces the
/// offset without converting: under a non-UTC default TimeZone its instants
/// are shifted (prisma/orm#26786).
pub fn timezone_findings(
    side: &str,
    mapping: &Mapping,
    server_timezone: Option<&str>,
    tables: &[String],
) -> Vec<Finding> {
    let Some(tz) = server_timezone else {
        return Vec::new();
    };
    if mapping.orm != crate::mapping::Orm::Prisma
        || mapping.dialect != Dialect::Postgres
        || is_utc(tz)
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for t in &mapping.tables {
        let qn = t.qualified_name();
        if !tables.is_empty() && !tables.iter().any(|n| n == &qn) {
            continue;
        }
        for c in &t.columns {
            if c.db_type.starts_with("timestamptz") {
                out.push(
                    Finding::new(
                        "TIMEZONE_NOT_UTC",
                        Severity::Warning,
                        format!(
                            "{qn}.{}: Prisma reads this timestamptz column, and the server's default TimeZone is {tz}: its adapter replaces the offset without converting, so the application sees shifted instants; set timezone = 'UTC' for the database (ALTER DATABASE … SET timezone = 'UTC') or in the connection options",
                            c.name
                        ),
                    )
                    .of_column(side, &qn, &c.name),
                );
            }
        }
    }
    out
}

/// Time zone names that mean UTC.
pub fn is_utc(tz: &str) -> bool {
    let t = tz.trim().trim_start_matches(':').to_ascii_lowercase();
    let t = t.strip_prefix("etc/").unwrap_or(&t);
    matches!(
        t,
        "utc"
            | "uct"
            | "universal"
            | "zulu"
            | "gmt"
            | "gmt0"
            | "gmt+0"
            | "gmt-0"
            | "greenwich"
            | "z"
            | "+00"
            | "+00:00"
            | "00:00"
            | "-00"
    )
}

/// Marks findings CI accepts, from `[schema] allow`.
pub fn apply_allow(findings: &mut [Finding], allow: &[String]) {
    for f in findings {
        f.allowed = allow.iter().any(|a| a == &f.code);
    }
}

/// Whether the findings fail the run (exit 1): an unallowed error, or with
/// `strict` any unallowed shape finding.
pub fn fails(findings: &[Finding], strict: bool) -> bool {
    findings
        .iter()
        .any(|f| !f.allowed && (f.severity == Severity::Error || (strict && f.is_shape())))
}

/// Tables of a mapping narrowed to a plan's selection (for catalog checks).
pub fn selected_tables(m: &Mapping, plan: &Plan, source_side: bool) -> Vec<String> {
    let mut out: Vec<String> = plan
        .pairs
        .iter()
        .map(|p| {
            if source_side {
                p.source.qualified_name()
            } else {
                p.target.qualified_name()
            }
        })
        .collect();
    out.extend(plan.views.iter().cloned());
    let only = if source_side {
        &plan.only_source
    } else {
        &plan.only_target
    };
    out.extend(only.iter().cloned());
    out.retain(|n| m.tables.iter().any(|t: &Table| &t.qualified_name() == n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_and_strict() {
        let mut f = vec![
            Finding::new("TYPE_MISMATCH", Severity::Error, "x"),
            Finding::new("SHAPE_DATE_VS_STRING", Severity::Warning, "y"),
        ];
        assert!(fails(&f, false));
        apply_allow(&mut f, &["TYPE_MISMATCH".to_string()]);
        assert!(!fails(&f, false));
        assert!(fails(&f, true));
        assert!(is_utc("UTC") && is_utc("Etc/UTC") && is_utc("GMT") && !is_utc("Europe/Paris"));
    }
}
