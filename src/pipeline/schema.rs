//! The schema inspection `schema` and `run` share: both mappings against
//! each other, each against its live catalog, its migration table and its
//! server's time zone, into one [`SchemaReport`]. Reads only.

use anyhow::{Context, Result, bail};

use crate::config::{Config, Side};
use crate::db::{Db, catalog, migrations};
use crate::mapping::{Dialect, Mapping, Orm};
use crate::plan::findings::{self, Finding};
use crate::plan::{self, Plan, Selection};
use crate::report::schema::{SchemaReport, SchemaSummary};
use crate::ui::Ui;

use super::{connect, connect_options, now_rfc3339, side_info};

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
    let source_db = open(&config.source, config).await?;
    let target_db = if config.target.url == config.source.url {
        source_db.clone()
    } else {
        open(&config.target, config).await?
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
    let narrowed = !(selection.tables.is_empty() && selection.repository.is_none());
    let mut sides = Vec::new();
    for (i, (side, mapping, db)) in [
        (&config.source, &source, &source_db),
        (&config.target, &target, &target_db),
    ]
    .into_iter()
    .enumerate()
    {
        let selected = if narrowed {
            findings::selected_tables(mapping, &plan, i == 0)
        } else {
            Vec::new()
        };
        let live = SideInspection::read(side, mapping, db, narrowed, &selected).await?;
        found.extend(live.findings.iter().cloned());
        sides.push(live);
    }
    found.extend(findings::shape_findings(&plan));
    findings::apply_allow(&mut found, &config.schema.allow);
    source_db.close().await;
    target_db.close().await;
    let [source_side, target_side] = <[SideInspection; 2]>::try_from(sides)
        .unwrap_or_else(|_| unreachable!("two sides were inspected"));
    Ok(SchemaReport {
        format_version: 1,
        command: "schema".into(),
        generated_at: now_rfc3339(),
        source: side_info(&config.source),
        target: side_info(&config.target),
        tables: plan.pairs.iter().map(|p| p.name()).collect(),
        only_source_tables: plan.only_source.clone(),
        only_target_tables: plan.only_target.clone(),
        views: plan.views.clone(),
        source_server_timezone: source_side.timezone,
        target_server_timezone: target_side.timezone,
        summary: SchemaSummary::of(&found, strict),
        findings: found,
        notes: plan_notes(&plan),
        migrations: [source_side.migrations, target_side.migrations]
            .into_iter()
            .flatten()
            .collect(),
    })
}

/// What one side's database says about its mapping.
struct SideInspection {
    findings: Vec<Finding>,
    migrations: Option<plan::migrations::MigrationCount>,
    /// The server's default time zone (PostgreSQL only).
    timezone: Option<String>,
}

impl SideInspection {
    /// The side's mapping against its live catalog (unless the mapping is
    /// the catalog, or a narrowed selection names nothing on this side),
    /// its migrations folder against the migration table, and the zone.
    async fn read(
        side: &Side,
        mapping: &Mapping,
        db: &Db,
        narrowed: bool,
        selected: &[String],
    ) -> Result<SideInspection> {
        let mut found = Vec::new();
        if mapping.orm != Orm::Catalog {
            let live = catalog::read_catalog(db, &schemas_of(mapping))
                .await
                .with_context(|| format!("{} database ({})", side.name, side.database()))?;
            if !(narrowed && selected.is_empty()) {
                found.extend(findings::against_catalog(
                    &side.name, mapping, &live, selected,
                ));
            }
        }
        let mut counted = None;
        if let Some(folder) = &side.migrations {
            let ctx = || format!("{} migrations ({})", side.name, folder.display());
            let local = plan::migrations::Local::read(side.orm, folder).with_context(ctx)?;
            let applied = migrations::read_applied(db, side.orm)
                .await
                .with_context(ctx)?;
            let (f, count) = local.check(&side.name, &applied);
            found.extend(f);
            counted = Some(count);
        }
        // Every PostgreSQL side reports its server's zone (only Prisma's
        // reads depend on it; see `timezone_findings`).
        let timezone = if mapping.dialect == Dialect::Postgres {
            catalog::server_default_timezone(db).await
        } else {
            None
        };
        found.extend(findings::timezone_findings(
            &side.name,
            mapping,
            timezone.as_deref(),
            selected,
        ));
        Ok(SideInspection {
            findings: found,
            migrations: counted,
            timezone,
        })
    }
}

fn plan_notes(plan: &Plan) -> Vec<String> {
    let mut notes = plan.notes.clone();
    notes.dedup();
    notes
}

/// A side's database, read-only, two connections.
async fn open(side: &Side, config: &Config) -> Result<Db> {
    let Some(url) = &side.url else {
        bail!(
            "the {} side has no url; set url = \"${{DATABASE_URL}}\" under [{}] in parity.toml",
            side.name,
            side.name
        );
    };
    connect(url, 2, &connect_options(config), || {
        format!(
            "cannot open the {} database; check its url in parity.toml and that the server is running",
            side.name
        )
    })
    .await
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
