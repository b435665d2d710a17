//! Two sides' entities compared for one parameter set: as multisets
//! (`rows`), merged by primary key (`entities`) or by count, with the
//! tolerances the operation file allows; and the hash of the compared form
//! that `result_hash` reports.

use std::collections::{BTreeMap, BTreeSet};

use super::Entity;
use crate::canon::{self, Tolerance};
use crate::timing::ops::{ColumnRef, CompareMode};
use crate::timing::result::{Mismatch, MismatchKind};

/// What one comparison of a parameter set found (of the rows, or of their
/// order).
#[derive(Debug, Default)]
pub struct Outcome {
    /// The first difference.
    pub mismatch: Option<Mismatch>,
    /// Things the comparison set aside (columns or tables one side lacks).
    pub notes: BTreeSet<String>,
}

/// Compares one parameter set's entities. `key_of(table)` gives a table's
/// primary-key columns from the mapping. Feeds the compared form into the
/// two hashers so that sides whose results match hash alike.
pub fn compare(
    mode: CompareMode,
    source: Vec<Entity>,
    target: Vec<Entity>,
    tolerance: &[(ColumnRef, Tolerance)],
    key_of: &dyn Fn(&str) -> Vec<String>,
    hashers: (&mut blake3::Hasher, &mut blake3::Hasher),
) -> Outcome {
    let mut out = Outcome::default();
    let mut tables: BTreeMap<String, (Vec<Entity>, Vec<Entity>)> = BTreeMap::new();
    for e in source {
        tables.entry(e.table.clone()).or_default().0.push(e);
    }
    for e in target {
        tables.entry(e.table.clone()).or_default().1.push(e);
    }
    let (hs, ht) = hashers;
    for (table, (mut s, mut t)) in tables {
        let label = if table.is_empty() {
            "(expression columns)".to_string()
        } else {
            table.clone()
        };
        let key = key_of(&table);
        if mode == CompareMode::Entities {
            if s.is_empty() || t.is_empty() {
                out.notes.insert(format!(
                    "{label}: only the {} reads it back; not compared",
                    if s.is_empty() { "target" } else { "source" }
                ));
                continue;
            }
            s = dedupe(s, &key);
            t = dedupe(t, &key);
        }
        // Compare the columns both sides return for this table.
        let cols = |v: &[Entity]| -> BTreeSet<String> {
            v.iter()
                .flat_map(|e| e.values.iter().map(|(c, _)| c.clone()))
                .collect()
        };
        let (cs, ct) = (cols(&s), cols(&t));
        if !s.is_empty() && !t.is_empty() {
            for c in cs.symmetric_difference(&ct) {
                out.notes.insert(format!(
                    "{label}.{c}: only the {} returns it; not compared",
                    if cs.contains(c) { "source" } else { "target" }
                ));
            }
            let common: BTreeSet<&String> = cs.intersection(&ct).collect();
            for e in s.iter_mut().chain(t.iter_mut()) {
                e.values.retain(|(c, _)| common.contains(c));
            }
        }
        s.sort();
        t.sort();
        // The hashes are of the compared form: columns compared within a
        // tolerance are left out (their bits may differ while they match).
        let tolerated = |c: &str| tolerance.iter().any(|(r, _)| r.matches(&table, c));
        hash_compared(hs, &s, &tolerated);
        hash_compared(ht, &t, &tolerated);
        if mode == CompareMode::Count {
            if s.len() != t.len() && out.mismatch.is_none() {
                out.mismatch = Some(Mismatch {
                    table: label.clone(),
                    source_rows: s.len(),
                    target_rows: t.len(),
                    only_in_source: s.len().saturating_sub(t.len()),
                    only_in_target: t.len().saturating_sub(s.len()),
                    first_keys: Vec::new(),
                    columns: Vec::new(),
                    kind: MismatchKind::Rows,
                    position: None,
                });
            }
            continue;
        }
        let (ls, lt) = unmatched(&s, &t, &table, tolerance);
        if (!ls.is_empty() || !lt.is_empty()) && out.mismatch.is_none() {
            let first_keys = ls
                .iter()
                .chain(lt.iter())
                .take(3)
                .map(|e| render_key(e, &key))
                .collect();
            // Same key on both sides: name the columns that differ.
            let mut columns = BTreeSet::new();
            for a in &ls {
                let ka: Vec<Option<&[u8]>> = key.iter().map(|k| a.get(k)).collect();
                if key.is_empty() || ka.iter().any(Option::is_none) {
                    continue;
                }
                if let Some(b) = lt
                    .iter()
                    .find(|b| key.iter().map(|k| b.get(k)).collect::<Vec<_>>() == ka)
                {
                    for (c, v) in &a.values {
                        if b.get(c) != Some(v.as_slice()) {
                            columns.insert(c.clone());
                        }
                    }
                }
            }
            out.mismatch = Some(Mismatch {
                table: label,
                source_rows: s.len(),
                target_rows: t.len(),
                only_in_source: ls.len(),
                only_in_target: lt.len(),
                first_keys,
                columns: columns.into_iter().collect(),
                kind: MismatchKind::Rows,
                position: None,
            });
        }
    }
    out
}

/// Hashes entities as compared: without the tolerated columns, in sorted
/// order, so that sides whose results match hash alike.
fn hash_compared(h: &mut blake3::Hasher, v: &[Entity], tolerated: &dyn Fn(&str) -> bool) {
    let mut projected: Vec<Entity> = v
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.values.retain(|(c, _)| !tolerated(c));
            e
        })
        .collect();
    projected.sort();
    for e in &projected {
        hash_entity(h, e);
    }
}

fn hash_entity(h: &mut blake3::Hasher, e: &Entity) {
    h.update(e.table.as_bytes());
    h.update(&[0xFF]);
    for (c, v) in &e.values {
        h.update(c.as_bytes());
        h.update(&[0xFE]);
        h.update(v);
    }
    h.update(&[0xFD]);
}

/// One entity per key, later readings filling in columns earlier ones lack.
fn dedupe(v: Vec<Entity>, key: &[String]) -> Vec<Entity> {
    let mut by: BTreeMap<Vec<Vec<u8>>, Entity> = BTreeMap::new();
    for e in v {
        let k: Option<Vec<Vec<u8>>> = if key.is_empty() {
            None
        } else {
            key.iter().map(|c| e.get(c).map(<[u8]>::to_vec)).collect()
        };
        let k = k.unwrap_or_else(|| e.values.iter().map(|(_, v)| v.clone()).collect());
        match by.get_mut(&k) {
            Some(have) => {
                for (c, val) in e.values {
                    match have.values.binary_search_by(|(x, _)| x.cmp(&c)) {
                        Ok(i) => have.values[i].1 = val,
                        Err(i) => have.values.insert(i, (c, val)),
                    }
                }
            }
            None => {
                by.insert(k, e);
            }
        }
    }
    by.into_values().collect()
}

/// The rows of sorted `s` and `t` that find no partner, exactly or within
/// the tolerances.
fn unmatched<'a>(
    s: &'a [Entity],
    t: &'a [Entity],
    table: &str,
    tolerance: &[(ColumnRef, Tolerance)],
) -> (Vec<&'a Entity>, Vec<&'a Entity>) {
    let (mut i, mut j) = (0, 0);
    let mut ls = Vec::new();
    let mut lt = Vec::new();
    while i < s.len() && j < t.len() {
        match s[i].cmp(&t[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                ls.push(&s[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                lt.push(&t[j]);
                j += 1;
            }
        }
    }
    ls.extend(&s[i..]);
    lt.extend(&t[j..]);
    if tolerance.is_empty() || ls.is_empty() || lt.is_empty() {
        return (ls, lt);
    }
    let tol_of = |c: &str| {
        tolerance
            .iter()
            .find(|(r, _)| r.matches(table, c))
            .map(|(_, t)| *t)
    };
    let close = |a: &Entity, b: &Entity| {
        a.values.len() == b.values.len()
            && a.values.iter().zip(&b.values).all(|((ca, va), (cb, vb))| {
                ca == cb
                    && (va == vb
                        || tol_of(ca).is_some_and(|tol| {
                            match (canon::decode(va), canon::decode(vb)) {
                                (Some((x, _)), Some((y, _))) => {
                                    canon::within_tolerance(&x, &y, &tol)
                                }
                                _ => false,
                            }
                        }))
            })
    };
    let mut left_t: Vec<Option<&Entity>> = lt.into_iter().map(Some).collect();
    let mut still = Vec::new();
    for a in ls {
        match left_t.iter_mut().find(|b| b.is_some_and(|b| close(a, b))) {
            Some(slot) => *slot = None,
            None => still.push(a),
        }
    }
    (still, left_t.into_iter().flatten().collect())
}

pub(super) fn render_key(e: &Entity, key: &[String]) -> String {
    let cols: Vec<&(String, Vec<u8>)> = if key.is_empty() || key.iter().any(|k| e.get(k).is_none())
    {
        e.values.iter().take(3).collect()
    } else {
        e.values.iter().filter(|(c, _)| key.contains(c)).collect()
    };
    let parts: Vec<String> = cols
        .iter()
        .map(|(c, v)| {
            let shown = canon::decode(v)
                .map(|(x, _)| x.to_string())
                .unwrap_or_else(|| "?".into());
            format!("{c}={shown}")
        })
        .collect();
    let table = if e.table.is_empty() {
        ""
    } else {
        e.table.as_str()
    };
    if table.is_empty() {
        parts.join(",")
    } else {
        format!("{table}({})", parts.join(","))
    }
}
