//! Conformance: parity's native `schema.prisma` reader against Prisma's own
//! reading of the schema corpus (`shared/corpus/prisma`, see its README).
//!
//! For every `*.prisma` in the corpus, `show_mapping_json` must equal the
//! `*.tables.json` that `@prisma/prisma-schema-wasm` produced (ignoring
//! `file`, `producedBy` and `normalized`), and a schema Prisma rejects
//! (`*.error.txt`) must be rejected. The mapping read from the `.dmmf.json`
//! must equal the one read from the schema text. The corpus folder is
//! `$PARITY_CORPUS`, else `<crate>/../shared/corpus`; a missing corpus fails.

use std::path::{Path, PathBuf};
use std::time::Instant;

use parity::mapping::prisma::{from_dmmf, load_path, show_mapping_json};
use serde_json::Value;

use crate::support::{corpus, read_json};

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn strip(mut v: Value, keys: &[&str]) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    v
}

/// A short label for an array element: its name-like key when it has one.
fn label(v: &Value, i: usize) -> String {
    for k in ["model", "field", "name", "table"] {
        if let Some(s) = v.get(k).and_then(Value::as_str) {
            return format!("[{s}]");
        }
    }
    format!("[{i}]")
}

/// Collects up to `max` differences as `path: expected …, got …`.
fn diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>, max: usize) {
    if out.len() >= max || want == got {
        return;
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(&format!("{path}.{k}"), wv, gv, out, max),
                    None => out.push(format!("{path}.{k}: missing (expected {wv})")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: unexpected key"));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff(&format!("{path}{}", label(wv, i)), wv, gv, out, max);
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            let names = |a: &[Value]| {
                a.iter()
                    .enumerate()
                    .map(|(i, v)| label(v, i))
                    .collect::<Vec<_>>()
                    .join("")
            };
            out.push(format!(
                "{path}: expected {} items {}, got {} items {}",
                w.len(),
                names(w),
                g.len(),
                names(g)
            ));
        }
        _ => out.push(format!("{path}: expected {want}, got {got}")),
    }
}

/// The mapping as JSON, minus what only the schema text can tell (views,
/// enum schemas) and the notes, tables in name order (DMMF lists views last).
fn comparable_mapping(m: &parity::mapping::Mapping) -> Value {
    let mut v = serde_json::to_value(m).expect("mapping serialises");
    let o = v.as_object_mut().expect("object");
    o.remove("notes");
    let tables = o["tables"].as_array_mut().expect("tables");
    tables.sort_by_key(|t| (t["schema"].to_string(), t["name"].to_string()));
    for t in tables {
        t.as_object_mut().expect("table").remove("is_view");
    }
    for e in o["enums"].as_array_mut().expect("enums") {
        e.as_object_mut().expect("enum").remove("schema");
    }
    v
}

#[test]
fn prisma_corpus_agrees_with_prisma() {
    let (_, files) = corpus("prisma", ".prisma");
    let ignored = ["producedBy", "normalized", "file"];
    let (mut agree, mut total, mut rejected, mut to_reject) = (0, 0, 0, 0);
    let (mut dmmf_agree, mut dmmf_total) = (0, 0);
    let mut failures = Vec::new();
    let mut largest: Option<(usize, PathBuf)> = None;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let error_txt = sibling(path, ".error.txt");
        if error_txt.exists() {
            to_reject += 1;
            // Prisma's report names each offending line as `-->  file:LINE`.
            let prisma = std::fs::read_to_string(&error_txt).expect("error.txt readable");
            let lines: Vec<&str> = prisma
                .lines()
                .filter_map(|l| l.trim().strip_prefix("-->"))
                .filter_map(|l| l.trim().rsplit(':').next())
                .collect();
            match show_mapping_json(path) {
                Err(e) => {
                    let ours = e.to_string();
                    let missed: Vec<&str> = lines
                        .iter()
                        .copied()
                        .filter(|l| !ours.contains(&format!(":{l}:")))
                        .collect();
                    if missed.is_empty() {
                        rejected += 1;
                        println!("rejected  {name}: {}", ours.replace('\n', " | "));
                    } else {
                        failures.push(format!(
                            "{name}: rejected, but not at Prisma's line(s) {}:\n    {ours}",
                            missed.join(", ")
                        ));
                    }
                }
                Ok(_) => failures.push(format!(
                    "{name}: Prisma rejects this schema, parity accepted it"
                )),
            }
            continue;
        }
        total += 1;
        let want = strip(read_json(&sibling(path, ".tables.json")), &ignored);
        match show_mapping_json(path) {
            Ok(got) => {
                let got = strip(got, &ignored);
                let mut d = Vec::new();
                diff("", &want, &got, &mut d, 8);
                if d.is_empty() {
                    agree += 1;
                    let models = want["models"].as_array().map_or(0, Vec::len);
                    if largest.as_ref().is_none_or(|(n, _)| models > *n) {
                        largest = Some((models, path.clone()));
                    }
                } else {
                    failures.push(format!(
                        "{name}: differs from Prisma:\n    {}",
                        d.join("\n    ")
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{name}: parity rejected a schema Prisma accepts:\n    {e}"
            )),
        }
        // The DMMF route must give the same mapping as the schema text.
        let dmmf = sibling(path, ".dmmf.json");
        if dmmf.exists() {
            dmmf_total += 1;
            let provider = want["provider"].as_str().unwrap_or("postgresql");
            let text = std::fs::read_to_string(&dmmf).expect("dmmf readable");
            match (load_path(path), from_dmmf(&text, provider)) {
                (Ok(a), Ok(b)) => {
                    let mut d = Vec::new();
                    diff(
                        "",
                        &comparable_mapping(&a),
                        &comparable_mapping(&b),
                        &mut d,
                        5,
                    );
                    if d.is_empty() {
                        dmmf_agree += 1;
                    } else {
                        failures.push(format!(
                            "{name}: DMMF mapping differs from the schema's:\n    {}",
                            d.join("\n    ")
                        ));
                    }
                }
                (_, Err(e)) => failures.push(format!("{name}: DMMF not read: {e}")),
                (Err(_), _) => {}
            }
        }
    }
    for f in &failures {
        println!("MISMATCH  {f}");
    }
    println!(
        "prisma corpus: {agree}/{total} agree, {rejected}/{to_reject} rejected as Prisma rejects it, {dmmf_agree}/{dmmf_total} DMMF mappings match"
    );
    if let Some((models, path)) = &largest {
        let runs = 20;
        let start = Instant::now();
        for _ in 0..runs {
            load_path(path).expect("largest schema loads");
        }
        let per = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!(
            "largest schema {} ({models} models): parse+resolve {per:.2} ms (mean of {runs}, {} build)",
            path.file_name().unwrap().to_string_lossy(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "optimised"
            }
        );
    }
    assert!(
        failures.is_empty(),
        "{} corpus mismatches (see output above)",
        failures.len()
    );
    assert_eq!(agree, total);
    assert_eq!(rejected, to_reject);
}
