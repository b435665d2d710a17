//! A table pair's row key when no config `key` names one: the primary key
//! mapped across the sides, else a required unique criterion.

use super::PlanError;
use crate::mapping::Table;

/// The paired columns of one table pair: `matched[si]` is the target
/// column source column `si` pairs with.
struct Paired<'a> {
    s: &'a Table,
    t: &'a Table,
    matched: &'a [Option<usize>],
}

impl Paired<'_> {
    /// The (source, target) column indexes of a column named on one side.
    fn pair_of(&self, on_source: bool, name: &str) -> Option<(usize, usize)> {
        if on_source {
            let si = self.s.columns.iter().position(|c| c.name == name)?;
            Some((si, self.matched[si]?))
        } else {
            let ti = self.t.columns.iter().position(|c| c.name == name)?;
            let si = self.matched.iter().position(|m| *m == Some(ti))?;
            Some((si, ti))
        }
    }

    fn names(&self, (si, ti): (usize, usize)) -> (String, String) {
        (
            self.s.columns[si].name.clone(),
            self.t.columns[ti].name.clone(),
        )
    }

    /// Each side's table, source first, with its side flag.
    fn sides(&self) -> [(bool, &Table); 2] {
        [(true, self.s), (false, self.t)]
    }
}

/// The rows' key when neither side has a primary key: the first composite
/// unique criterion (Prisma `@@unique`) whose columns are all required and
/// paired, else a required single-column one (`@unique`). Source side
/// first, then the target's. Returns the key and what it is, for the note.
pub(super) fn unique_key(
    s: &Table,
    t: &Table,
    matched: &[Option<usize>],
) -> Option<(Vec<(String, String)>, &'static str)> {
    let p = Paired { s, t, matched };
    let usable = |on_source: bool, u: &[String]| -> Option<Vec<(String, String)>> {
        u.iter()
            .map(|k| {
                let (si, ti) = p.pair_of(on_source, k)?;
                let list = if on_source {
                    s.columns[si].is_list
                } else {
                    t.columns[ti].is_list
                };
                (!s.columns[si].nullable && !t.columns[ti].nullable && !list)
                    .then(|| p.names((si, ti)))
            })
            .collect()
    };
    for composite in [true, false] {
        let how = if composite {
            "composite unique criterion"
        } else {
            "unique column"
        };
        for (on_source, table) in p.sides() {
            for u in table.uniques.iter().filter(|u| (u.len() > 1) == composite) {
                if let Some(k) = usable(on_source, u) {
                    return Some((k, how));
                }
            }
        }
    }
    None
}

/// The source's primary key mapped onto the target, else the target's
/// mapped back. `Ok(None)` when neither side has one.
pub(super) fn primary_key(
    s: &Table,
    t: &Table,
    matched: &[Option<usize>],
) -> Result<Option<Vec<(String, String)>>, PlanError> {
    let p = Paired { s, t, matched };
    let mut unpaired = None;
    for (on_source, table) in p.sides() {
        if table.primary_key.is_empty() {
            continue;
        }
        let key: Result<Vec<_>, String> = table
            .primary_key
            .iter()
            .map(|k| p.pair_of(on_source, k).map(|x| p.names(x)).ok_or(k.clone()))
            .collect();
        match key {
            Ok(k) => return Ok(Some(k)),
            Err(c) => unpaired = unpaired.or(Some(c)),
        }
    }
    match unpaired {
        Some(column) => Err(PlanError::KeyUnpaired {
            table: s.qualified_name(),
            column,
        }),
        None => Ok(None),
    }
}
