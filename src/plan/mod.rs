//! Two [`Mapping`]s → the work: table pairs, keys, column pairs with each
//! side's read semantics, and the shape differences that follow from the
//! mappings alone.
//!
//! Owns pairing (by physical name, then `[[pair]]` overrides, then logical
//! field names), key selection (primary key or config `key`), per-column
//! `ignore`/tolerance, and shape classification. Pure: it never touches a
//! database. It does not decide chunk boundaries (that needs data: `engine`).
//! [`findings`] compares a mapping with the live catalog's mapping and
//! [`migrations`] a migrations folder with the applied rows (also pure: the
//! catalog and the rows are read by `db`). [`load`] reads one config side's
//! mapping files, the only input of a plan that comes from disk.

pub mod findings;
mod keys;
pub mod load;
pub mod migrations;
mod shapes;
mod types;

use std::collections::BTreeMap;

use crate::config::{Config, PairOverride, Repository};
use crate::mapping::{Column, Mapping, Table, schema_matches, split_qualified};
pub use shapes::{Shape, ShapeRisk, classify, orm_label, reconcile, time_precision};
use types::known_names;
pub use types::{ColumnPair, Plan, PlanError, Selection, TablePair, Unpaired, unknown_repository};

/// Pairs two mappings into the plan. `config` brings `[[pair]]`,
/// `[[table]]` and `[[repository]]`; without it, tables pair by name only.
pub fn build(
    source: &Mapping,
    target: &Mapping,
    config: Option<&Config>,
    selection: &Selection,
) -> Result<Plan, PlanError> {
    build_with(source, target, config, selection, BuildOptions::default())
}

/// How [`build_with`] treats what `check` must refuse.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Pair a table without any key with an empty `key`: the engine then
    /// compares it as a multiset. Since issue 9 every command does this (a
    /// table keyed by nothing never stops the others, `check` says so in a
    /// note), so the flag only documents the caller's intent.
    pub allow_keyless: bool,
}

/// [`build`], with [`BuildOptions`].
pub fn build_with(
    source: &Mapping,
    target: &Mapping,
    config: Option<&Config>,
    selection: &Selection,
    options: BuildOptions,
) -> Result<Plan, PlanError> {
    let no_pairs: Vec<PairOverride> = Vec::new();
    let overrides = config.map(|c| &c.pairs).unwrap_or(&no_pairs);
    let no_repos: Vec<Repository> = Vec::new();
    let repositories = config.map(|c| &c.repositories).unwrap_or(&no_repos);

    // 1. Table pairs: [[pair]] overrides first, then the same physical name.
    let mut table_pairs: Vec<(&Table, &Table, Option<&PairOverride>)> = Vec::new();
    let mut used_target = vec![false; target.tables.len()];
    let mut used_source = vec![false; source.tables.len()];
    for o in overrides {
        let si = find_table(source, &o.source).ok_or_else(|| PlanError::PairTable {
            side: "source",
            table: o.source.clone(),
        })?;
        let ti = find_table(target, &o.target).ok_or_else(|| PlanError::PairTable {
            side: "target",
            table: o.target.clone(),
        })?;
        used_source[si] = true;
        used_target[ti] = true;
        table_pairs.push((&source.tables[si], &target.tables[ti], Some(o)));
    }
    for (si, s) in source.tables.iter().enumerate() {
        if used_source[si] {
            continue;
        }
        let hit = target.tables.iter().enumerate().position(|(ti, t)| {
            !used_target[ti]
                && t.name == s.name
                && schema_matches(t.schema.as_deref(), s.schema.as_deref())
        });
        if let Some(ti) = hit {
            used_source[si] = true;
            used_target[ti] = true;
            table_pairs.push((s, &target.tables[ti], None));
        }
    }
    // Keep source order whatever the override order was.
    table_pairs.sort_by_key(|(s, _, _)| {
        source
            .tables
            .iter()
            .position(|x| std::ptr::eq(x, *s))
            .unwrap_or(usize::MAX)
    });

    let known = |name: &str| -> bool {
        find_table(source, name).is_some() || find_table(target, name).is_some()
    };

    // 2. Config names must exist somewhere: a typo must not silently narrow the check.
    if let Some(c) = config {
        for r in &c.repositories {
            for t in &r.tables {
                if !known(t) {
                    return Err(PlanError::RepositoryTable {
                        repository: r.name.clone(),
                        table: t.clone(),
                        at: c.location_of_repository_table(&r.name, t),
                        file: c.file_name(),
                    });
                }
            }
        }
        for t in &c.tables {
            if !known(&t.name) {
                return Err(PlanError::ConfigTable {
                    table: t.name.clone(),
                    at: c.location_of_table(&t.name),
                    file: c.file_name(),
                });
            }
        }
    }

    // 3. The selection.
    let mut wanted: Option<Vec<String>> = None;
    if let Some(name) = &selection.repository {
        let repo = repositories
            .iter()
            .find(|r| &r.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = repositories.iter().map(|r| r.name.as_str()).collect();
                PlanError::UnknownRepository {
                    name: name.clone(),
                    known: known_names(&names),
                    file: config
                        .map(|c| c.file_name())
                        .unwrap_or_else(|| "parity.toml".into()),
                }
            })?;
        wanted = Some(repo.tables.clone());
    }
    for t in &selection.tables {
        if !known(t) {
            return Err(PlanError::UnknownTable { name: t.clone() });
        }
    }
    let selected = |s: Option<&Table>, t: Option<&Table>| -> bool {
        let matches = |names: &[String]| {
            names.iter().any(|n| {
                s.is_some_and(|x| name_matches(x, n)) || t.is_some_and(|x| name_matches(x, n))
            })
        };
        let by_repo = wanted.as_deref().is_none_or(matches);
        let by_tables = selection.tables.is_empty() || matches(&selection.tables);
        by_repo && by_tables
    };

    // 4. Each pair: columns, key, config.
    let mut plan = Plan {
        pairs: Vec::new(),
        only_source: Vec::new(),
        only_target: Vec::new(),
        notes: source.notes.iter().chain(&target.notes).cloned().collect(),
        views: Vec::new(),
        named_unpaired: Vec::new(),
    };
    for (s, t, o) in table_pairs {
        if !selected(Some(s), Some(t)) {
            continue;
        }
        if s.is_view || t.is_view {
            plan.views.push(s.qualified_name());
            continue;
        }
        let pair = pair_tables(
            source,
            target,
            s,
            t,
            o,
            config,
            repositories,
            options.allow_keyless,
        )?;
        if let Some(n) = &pair.key_note {
            plan.notes.push(n.clone());
        }
        plan.pairs.push(pair);
    }
    for (i, s) in source.tables.iter().enumerate() {
        if !used_source[i] && selected(Some(s), None) {
            plan.only_source.push(s.qualified_name());
        }
    }
    for (i, t) in target.tables.iter().enumerate() {
        if !used_target[i] && selected(None, Some(t)) {
            plan.only_target.push(t.qualified_name());
        }
    }

    // 5. Named tables that pair with nothing (issue 10): findings, never a
    // silent narrowing of the check.
    let mut named: Vec<(Option<String>, String, String)> = Vec::new();
    for t in &selection.tables {
        named.push((None, t.clone(), "--tables".into()));
    }
    for r in repositories {
        if selection.repository.as_ref().is_none_or(|n| n == &r.name) {
            for t in &r.tables {
                named.push((
                    Some(r.name.clone()),
                    t.clone(),
                    format!("[[repository]] \"{}\"", r.name),
                ));
            }
        }
    }
    if let Some(c) = config {
        for t in &c.tables {
            named.push((None, t.name.clone(), "[[table]]".into()));
        }
    }
    for (repository, name, named_by) in named {
        let (side, table) = match (find_table(source, &name), find_table(target, &name)) {
            (Some(i), _) if !used_source[i] => ("source", &source.tables[i]),
            (_, Some(i)) if !used_target[i] => ("target", &target.tables[i]),
            _ => continue,
        };
        if !selected(
            (side == "source").then_some(table),
            (side == "target").then_some(table),
        ) {
            continue;
        }
        let table = table.qualified_name();
        if plan
            .named_unpaired
            .iter()
            .any(|u| u.table == table && u.side == side)
        {
            continue;
        }
        // A repository's table keeps its repository even when named first elsewhere.
        let repository = repository.or_else(|| {
            repositories
                .iter()
                .find(|r| r.tables.iter().any(|n| n == &name))
                .map(|r| r.name.clone())
        });
        plan.named_unpaired.push(Unpaired {
            repository,
            table,
            side,
            named_by,
        });
    }
    Ok(plan)
}

/// A table by physical name (qualified or not); also `"Model"` style names
/// are physical for Prisma models without `@@map`, so nothing else is tried.
fn find_table(m: &Mapping, name: &str) -> Option<usize> {
    let (schema, table) = split_qualified(name);
    m.tables
        .iter()
        .position(|t| t.name == table && schema_matches(t.schema.as_deref(), schema))
        // A name with a dot may be a table whose name has a dot in it.
        .or_else(|| m.tables.iter().position(|t| t.name == name))
}

fn name_matches(t: &Table, name: &str) -> bool {
    let (schema, table) = split_qualified(name);
    (t.name == table && schema_matches(t.schema.as_deref(), schema)) || t.name == name
}

#[allow(clippy::too_many_arguments)]
fn pair_tables(
    sm: &Mapping,
    tm: &Mapping,
    s: &Table,
    t: &Table,
    o: Option<&PairOverride>,
    config: Option<&Config>,
    repositories: &[Repository],
    _allow_keyless: bool,
) -> Result<TablePair, PlanError> {
    let table_name = s.qualified_name();
    // Columns: [[pair]].columns, then physical name, then the ORM field name.
    let mut matched: Vec<Option<usize>> = vec![None; s.columns.len()];
    let mut used = vec![false; t.columns.len()];
    if let Some(o) = o {
        for (sc, tc) in &o.columns {
            let find = |table: &Table, side: &'static str, name: &String| {
                table
                    .columns
                    .iter()
                    .position(|c| &c.name == name)
                    .ok_or_else(|| PlanError::PairColumn {
                        source_table: o.source.clone(),
                        target_table: o.target.clone(),
                        side,
                        column: name.clone(),
                    })
            };
            let si = find(s, "source", sc)?;
            let ti = find(t, "target", tc)?;
            matched[si] = Some(ti);
            used[ti] = true;
        }
    }
    let by_name = |a: &Column, b: &Column| a.name == b.name;
    let by_field = |a: &Column, b: &Column| a.field == b.field;
    for same in [&by_name as &dyn Fn(&Column, &Column) -> bool, &by_field] {
        for (si, sc) in s.columns.iter().enumerate() {
            if matched[si].is_some() {
                continue;
            }
            if let Some(ti) = t
                .columns
                .iter()
                .enumerate()
                .position(|(ti, tc)| !used[ti] && same(tc, sc))
            {
                matched[si] = Some(ti);
                used[ti] = true;
            }
        }
    }

    let table_cfg = config.and_then(|c| {
        c.table_override(&s.qualified_name())
            .or_else(|| c.table_override(&s.name))
            .or_else(|| c.table_override(&t.qualified_name()))
            .or_else(|| c.table_override(&t.name))
    });
    // A config column name may be either side's physical name or the field.
    let resolve = |name: &str| -> Option<usize> {
        s.columns
            .iter()
            .enumerate()
            .position(|(si, c)| matched[si].is_some() && c.name == name)
            .or_else(|| {
                s.columns
                    .iter()
                    .enumerate()
                    .position(|(si, _)| matched[si].is_some_and(|ti| t.columns[ti].name == name))
            })
            .or_else(|| {
                s.columns
                    .iter()
                    .enumerate()
                    .position(|(si, c)| matched[si].is_some() && c.field == name)
            })
    };

    let mut columns = Vec::new();
    for (si, sc) in s.columns.iter().enumerate() {
        if let Some(ti) = matched[si] {
            let tc = &t.columns[ti];
            let shapes = classify(sc, sm, tc, tm);
            let (mut source, mut target) = (sc.clone(), tc.clone());
            reconcile(&mut source, &mut target);
            columns.push(ColumnPair {
                source,
                target,
                ignore: false,
                tolerance: None,
                shapes,
            });
        }
    }
    // Index into `columns` for a source column index.
    let pos_of = |si: usize| -> usize { matched[..si].iter().filter(|m| m.is_some()).count() };

    let mut key = Vec::new();
    let mut where_clause = None;
    if let Some(cfg) = table_cfg {
        let configured = |what: &'static str, column: &String| {
            resolve(column).ok_or_else(|| PlanError::ConfigColumn {
                table: cfg.name.clone(),
                what,
                column: column.clone(),
            })
        };
        for k in &cfg.key {
            let si = configured("key", k)?;
            key.push((
                s.columns[si].name.clone(),
                t.columns[matched[si].unwrap_or(0)].name.clone(),
            ));
        }
        for c in &cfg.ignore {
            let si = configured("ignore", c)?;
            columns[pos_of(si)].ignore = true;
        }
        let tolerance: &BTreeMap<String, toml::Value> = &cfg.tolerance;
        for (c, v) in tolerance {
            let si = configured("tolerance", c)?;
            columns[pos_of(si)].tolerance = Some(v.clone());
        }
        where_clause = cfg.where_clause.clone();
    }
    if key.is_empty() {
        key = keys::primary_key(s, t, &matched)?.unwrap_or_default();
    }
    let mut key_note = None;
    if key.is_empty()
        && let Some((k, how)) = keys::unique_key(s, t, &matched)
    {
        key_note = Some(format!(
            "{table_name} has no primary key: rows paired by its {how} ({}), whose columns are all required",
            k.iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        key = k;
    }
    if key.is_empty() {
        // Issue 9: a table without any usable key is compared as a keyless
        // multiset (`backup` asks for exactly that; `check` too, with a
        // note), so one table never stops the others.
        key_note = Some(keyless_note(&table_name));
    }

    let repository = repositories
        .iter()
        .find(|r| {
            r.tables
                .iter()
                .any(|n| name_matches(s, n) || name_matches(t, n))
        })
        .map(|r| r.name.clone());

    Ok(TablePair {
        repository,
        only_source_columns: s
            .columns
            .iter()
            .enumerate()
            .filter(|(si, _)| matched[*si].is_none())
            .map(|(_, c)| c.name.clone())
            .collect(),
        only_target_columns: t
            .columns
            .iter()
            .enumerate()
            .filter(|(ti, _)| !used[*ti])
            .map(|(_, c)| c.name.clone())
            .collect(),
        source: s.clone(),
        target: t.clone(),
        key,
        columns,
        where_clause,
        key_note,
    })
}

#[cfg(test)]
mod tests;

/// The note every report carries for a table compared as a keyless
/// multiset.
pub fn keyless_note(table: &str) -> String {
    format!(
        "{table} has no primary key: compared as a multiset (row count and sum of row hashes); a difference is detected but its rows cannot be named"
    )
}
