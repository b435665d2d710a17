//! A manifest as CSV files, for people and spreadsheets: `tables.csv`,
//! `chunks.csv`, `rows.csv` (with row hashes), `catalog.csv` and
//! `sequences.csv`. The binary file stays the reference; this is a view.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Manifest;
use super::format::{self, BoundValue};
use crate::db::Wire;

/// The wire a key column's type decodes with, from its manifest type name
/// (only the types that share a key tag need telling apart).
fn wire_of(type_name: &str) -> Wire {
    match type_name {
        "time without time zone" | "time" => Wire::Time,
        "timestamp with time zone" | "timestamptz" => Wire::TimestampTz,
        _ => Wire::Timestamp,
    }
}

fn bound(key: &[String], b: Option<&Vec<BoundValue>>) -> String {
    match b {
        None => String::new(),
        Some(vals) => serde_json::Value::Object(
            key.iter()
                .zip(vals)
                .map(|(k, v)| (k.clone(), v.json()))
                .collect(),
        )
        .to_string(),
    }
}

/// Writes the CSV files into `dir`; returns their paths.
pub fn export_csv(m: &Manifest, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    let mut file = |name: &str| -> Result<csv::Writer<std::fs::File>> {
        let p = dir.join(name);
        written.push(p.clone());
        csv::Writer::from_path(&p).with_context(|| format!("cannot write {}", p.display()))
    };

    let mut w = file("tables.csv")?;
    w.write_record([
        "table", "key", "columns", "rows", "chunks", "multiset", "seconds",
    ])?;
    for t in &m.tables {
        let cols: Vec<String> = t
            .header
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.type_name))
            .collect();
        w.write_record([
            t.header.qualified_name(),
            t.header.key.join(";"),
            cols.join(";"),
            t.end.rows.to_string(),
            t.chunks.len().to_string(),
            t.end.multiset.clone().unwrap_or_default(),
            format!("{:.3}", t.end.seconds),
        ])?;
    }
    w.flush()?;

    let mut w = file("chunks.csv")?;
    w.write_record(["table", "chunk", "after", "through", "rows", "blake3"])?;
    for t in &m.tables {
        let h = &t.header;
        for (i, c) in t.chunks.iter().enumerate() {
            w.write_record([
                h.qualified_name(),
                i.to_string(),
                bound(&h.key, i.checked_sub(1).and_then(|j| h.boundaries.get(j))),
                bound(&h.key, h.boundaries.get(i)),
                c.rows.to_string(),
                hex::encode(c.hash),
            ])?;
        }
    }
    w.flush()?;

    if m.header.row_hashes {
        let mut w = file("rows.csv")?;
        w.write_record(["table", "chunk", "key", "row_hash"])?;
        for (ti, t) in m.tables.iter().enumerate() {
            let h = &t.header;
            let wires: Vec<Wire> = h.columns[..h.key.len()]
                .iter()
                .map(|c| wire_of(&c.type_name))
                .collect();
            for ci in 0..t.chunks.len() {
                let Some(bytes) = m.chunk_rows(ti, ci)? else {
                    continue;
                };
                for row in format::rows(&bytes) {
                    let (key, hash) = row.context("malformed row hashes")?;
                    let key = format::key_json(&h.key, &wires, key)
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| hex::encode(key));
                    w.write_record([h.qualified_name(), ci.to_string(), key, hex::encode(hash)])?;
                }
            }
        }
        w.flush()?;
    }

    let mut w = file("catalog.csv")?;
    w.write_record(["kind", "object", "definition"])?;
    for i in &m.fingerprint.items {
        w.write_record([&i.kind, &i.object, &i.definition])?;
    }
    w.flush()?;

    let mut w = file("sequences.csv")?;
    w.write_record(["sequence", "last_value", "is_called"])?;
    for s in &m.sequences {
        w.write_record([
            s.name.clone(),
            s.last_value.to_string(),
            s.is_called.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(written)
}
