//! Judging the catalog: two fingerprints and two sets of sequence values
//! → findings, and the `catalog.csv` / `chunks.csv` files that list them.
//! Pure apart from writing those two files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::scan::ChunkFinding;
use crate::db::fingerprint::{Fingerprint, SequenceValue};
use crate::report::write_atomic;

/// One line of `catalog.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogFinding {
    /// `fingerprint`, `table`, `column`, `index`, `constraint`, `sequence_value`, …
    pub kind: String,
    pub object: String,
    /// `ok`, `ahead` (a sequence past the expected value: fine),
    /// `missing_in_target`, `extra_in_target`, `different`, `behind`.
    pub finding: String,
    /// The source's (or manifest's) definition or value.
    pub source: String,
    pub target: String,
}

impl CatalogFinding {
    /// Whether this finding makes the backup unproven.
    pub fn is_problem(&self) -> bool {
        !matches!(self.finding.as_str(), "ok" | "ahead")
    }
}

/// Compares two fingerprints object by object. The first finding is the
/// fingerprint itself (both hashes); then one per differing object.
pub fn compare_fingerprints(source: &Fingerprint, target: &Fingerprint) -> Vec<CatalogFinding> {
    let (sh, th) = (source.hash(), target.hash());
    let mut out = vec![CatalogFinding {
        kind: "fingerprint".into(),
        object: "catalog".into(),
        finding: if sh == th { "ok" } else { "different" }.into(),
        source: sh,
        target: th,
    }];
    let index = |f: &Fingerprint| -> BTreeMap<(String, String), String> {
        f.items
            .iter()
            .map(|i| ((i.kind.clone(), i.object.clone()), i.definition.clone()))
            .collect()
    };
    let (s, t) = (index(source), index(target));
    for ((kind, object), def) in &s {
        match t.get(&(kind.clone(), object.clone())) {
            None => out.push(CatalogFinding {
                kind: kind.clone(),
                object: object.clone(),
                finding: "missing_in_target".into(),
                source: def.clone(),
                target: String::new(),
            }),
            Some(other) if other != def => out.push(CatalogFinding {
                kind: kind.clone(),
                object: object.clone(),
                finding: "different".into(),
                source: def.clone(),
                target: other.clone(),
            }),
            Some(_) => {}
        }
    }
    for ((kind, object), def) in &t {
        if !s.contains_key(&(kind.clone(), object.clone())) {
            out.push(CatalogFinding {
                kind: kind.clone(),
                object: object.clone(),
                finding: "extra_in_target".into(),
                source: String::new(),
                target: def.clone(),
            });
        }
    }
    out
}

/// How a restored sequence must relate to the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceRule {
    /// Two databases read now: equal.
    Exact,
    /// A manifest: sequences are not transactional, so the dump taken with
    /// the manifest's snapshot may have seen a later value. At or above passes.
    AtLeast,
}

/// One finding per sequence, ok or not.
pub fn compare_sequences(
    source: &[SequenceValue],
    target: &[SequenceValue],
    rule: SequenceRule,
) -> Vec<CatalogFinding> {
    let t: BTreeMap<&str, &SequenceValue> = target.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut out = Vec::new();
    for s in source {
        let finding = match t.get(s.name.as_str()) {
            None => "missing_in_target",
            Some(tv) => match (s.progress().cmp(&tv.progress()), rule) {
                (std::cmp::Ordering::Equal, _) => "ok",
                (std::cmp::Ordering::Less, SequenceRule::AtLeast) => "ahead",
                (std::cmp::Ordering::Less, SequenceRule::Exact) => "different",
                (std::cmp::Ordering::Greater, _) => "behind",
            },
        };
        out.push(CatalogFinding {
            kind: "sequence_value".into(),
            object: s.name.clone(),
            finding: finding.into(),
            source: s.display(),
            target: t
                .get(s.name.as_str())
                .map(|v| v.display())
                .unwrap_or_default(),
        });
    }
    let known: std::collections::BTreeSet<&str> = source.iter().map(|s| s.name.as_str()).collect();
    for s in target {
        if !known.contains(s.name.as_str()) {
            out.push(CatalogFinding {
                kind: "sequence_value".into(),
                object: s.name.clone(),
                finding: "extra_in_target".into(),
                source: String::new(),
                target: s.display(),
            });
        }
    }
    out
}

/// One report note per problem (capped), for `summary.md` and `report.json`.
pub fn notes(findings: &[CatalogFinding], chunks: &[ChunkFinding]) -> Vec<String> {
    const MAX: usize = 50;
    let problems: Vec<&CatalogFinding> = findings.iter().filter(|f| f.is_problem()).collect();
    let mut out: Vec<String> = problems
        .iter()
        .take(MAX)
        .map(|f| {
            let detail = match f.finding.as_str() {
                "different" | "behind" => format!(" (source {}, target {})", f.source, f.target),
                _ => String::new(),
            };
            format!("catalog: {} {} {}{detail}", f.kind, f.object, f.finding)
        })
        .collect();
    if problems.len() > MAX {
        out.push(format!(
            "catalog: {} more findings in catalog.csv",
            problems.len() - MAX
        ));
    }
    for c in chunks.iter().take(MAX) {
        out.push(format!(
            "chunk {} of {} differs (keys after {} through {}): manifest {} rows, target {} rows",
            c.chunk, c.table, c.after, c.through, c.manifest_rows, c.target_rows
        ));
    }
    if chunks.len() > MAX {
        out.push(format!(
            "{} more differing chunks in chunks.csv",
            chunks.len() - MAX
        ));
    }
    out
}

pub fn write_catalog_csv(dir: &Path, findings: &[CatalogFinding]) -> Result<()> {
    let header = ["kind", "object", "finding", "source", "target"];
    let rows = findings
        .iter()
        .map(|f| [&f.kind, &f.object, &f.finding, &f.source, &f.target]);
    write_csv(&dir.join("catalog.csv"), header, rows)
}

pub fn write_chunks_csv(dir: &Path, chunks: &[ChunkFinding]) -> Result<()> {
    let header = [
        "table",
        "chunk",
        "after",
        "through",
        "manifest_rows",
        "target_rows",
        "manifest_hash",
        "target_hash",
    ];
    let rows = chunks.iter().map(|c| {
        [
            c.table.clone(),
            c.chunk.to_string(),
            c.after.to_string(),
            c.through.to_string(),
            c.manifest_rows.to_string(),
            c.target_rows.to_string(),
            c.manifest_hash.clone(),
            c.target_hash.clone(),
        ]
    });
    write_csv(&dir.join("chunks.csv"), header, rows)
}

/// Writes a CSV file atomically: the header, then a record per row.
fn write_csv<const N: usize, T: AsRef<[u8]>>(
    path: &Path,
    header: [&str; N],
    rows: impl Iterator<Item = [T; N]>,
) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(row)?;
    }
    write_atomic(path, &w.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::fingerprint::Item;

    fn fp(items: &[(&str, &str, &str)]) -> Fingerprint {
        Fingerprint {
            items: items
                .iter()
                .map(|(k, o, d)| Item {
                    kind: k.to_string(),
                    object: o.to_string(),
                    definition: d.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_dropped_index_and_a_changed_column_are_findings() {
        let a = fp(&[
            ("column", "bikes.id", "#1 integer not null"),
            ("index", "bikes.bikes_customer_id_idx", "CREATE INDEX …"),
        ]);
        let b = fp(&[
            ("column", "bikes.id", "#1 bigint not null"),
            ("index", "bikes.extra_idx", "CREATE INDEX x"),
        ]);
        let f = compare_fingerprints(&a, &b);
        assert_eq!(f[0].finding, "different");
        let got: Vec<(&str, &str)> = f[1..]
            .iter()
            .map(|f| (f.object.as_str(), f.finding.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bikes.id", "different"),
                ("bikes.bikes_customer_id_idx", "missing_in_target"),
                ("bikes.extra_idx", "extra_in_target"),
            ]
        );
        let same = compare_fingerprints(&a, &a.clone());
        assert_eq!(same.len(), 1);
        assert!(!same[0].is_problem());
    }

    #[test]
    fn sequences_pass_at_or_above_only_against_a_manifest() {
        let s = |v: i64, called: bool| {
            vec![SequenceValue {
                name: "t_id_seq".into(),
                last_value: v,
                is_called: called,
            }]
        };
        let judge = |a: Vec<SequenceValue>, b: Vec<SequenceValue>, rule| {
            compare_sequences(&a, &b, rule)[0].finding.clone()
        };
        for (source, target, rule, finding) in [
            ((5, true), (5, true), SequenceRule::Exact, "ok"),
            ((5, true), (7, true), SequenceRule::AtLeast, "ahead"),
            ((5, true), (7, true), SequenceRule::Exact, "different"),
            ((5, true), (3, true), SequenceRule::AtLeast, "behind"),
            ((5, false), (5, true), SequenceRule::AtLeast, "ahead"),
            ((5, true), (5, false), SequenceRule::AtLeast, "behind"),
        ] {
            let got = judge(s(source.0, source.1), s(target.0, target.1), rule);
            assert_eq!(got, finding, "{source:?} {target:?} {rule:?}");
        }
        let missing = compare_sequences(&s(1, true), &[], SequenceRule::AtLeast);
        assert_eq!(missing[0].finding, "missing_in_target");
        assert!(missing[0].is_problem());
    }
}
