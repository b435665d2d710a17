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

/// `path` differs from what it should be: up to `max` differences.
fn differences(want: &Value, got: &Value, max: usize) -> Result<(), String> {
    let mut d = Vec::new();
    diff("", want, got, &mut d, max);
    match d.is_empty() {
        true => Ok(()),
        false => Err(d.join("\n    ")),
    }
}

/// A schema Prisma rejects: parity rejects it too, at Prisma's line(s)
/// (its report names each as `-->  file:LINE`); our message.
fn rejected_like_prisma(path: &Path, prisma: &str) -> Result<String, String> {
    let lines = prisma.lines().filter_map(|l| l.trim().strip_prefix("-->"));
    let lines: Vec<&str> = lines.filter_map(|l| l.trim().rsplit(':').next()).collect();
    let Err(e) = show_mapping_json(path) else {
        return Err("Prisma rejects this schema, parity accepted it".into());
    };
    let ours = e.to_string();
    let missed: Vec<&str> = lines
        .into_iter()
        .filter(|l| !ours.contains(&format!(":{l}:")))
        .collect();
    match missed.is_empty() {
        true => Ok(ours),
        false => Err(format!(
            "rejected, but not at Prisma's line(s) {}:\n    {ours}",
            missed.join(", ")
        )),
    }
}

/// A schema Prisma accepts: parity's mapping JSON is Prisma's `want`.
fn read_like_prisma(path: &Path, want: &Value, ignored: &[&str]) -> Result<(), String> {
    let got = show_mapping_json(path)
        .map_err(|e| format!("parity rejected a schema Prisma accepts:\n    {e}"))?;
    differences(want, &strip(got, ignored), 8).map_err(|d| format!("differs from Prisma:\n    {d}"))
}

/// The DMMF route gives the same mapping as the schema text; false when
/// the schema itself did not load (counted above).
fn dmmf_agrees(path: &Path, dmmf: &Path, provider: &str) -> Result<bool, String> {
    let text = std::fs::read_to_string(dmmf).expect("dmmf readable");
    let from_dmmf = from_dmmf(&text, provider).map_err(|e| format!("DMMF not read: {e}"))?;
    let Ok(from_schema) = load_path(path) else {
        return Ok(false);
    };
    let (a, b) = (
        comparable_mapping(&from_schema),
        comparable_mapping(&from_dmmf),
    );
    differences(&a, &b, 5)
        .map_err(|d| format!("DMMF mapping differs from the schema's:\n    {d}"))?;
    Ok(true)
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
        let mut fail = |e: String| failures.push(format!("{name}: {e}"));
        let error_txt = sibling(path, ".error.txt");
        if error_txt.exists() {
            to_reject += 1;
            let prisma = std::fs::read_to_string(&error_txt).expect("error.txt readable");
            match rejected_like_prisma(path, &prisma) {
                Ok(ours) => {
                    rejected += 1;
                    println!("rejected  {name}: {}", ours.replace('\n', " | "));
                }
                Err(e) => fail(e),
            }
            continue;
        }
        total += 1;
        let want = strip(read_json(&sibling(path, ".tables.json")), &ignored);
        match read_like_prisma(path, &want, &ignored) {
            Ok(()) => {
                agree += 1;
                let models = want["models"].as_array().map_or(0, Vec::len);
                if largest.as_ref().is_none_or(|(n, _)| models > *n) {
                    largest = Some((models, path.clone()));
                }
            }
            Err(e) => fail(e),
        }
        let dmmf = sibling(path, ".dmmf.json");
        if dmmf.exists() {
            dmmf_total += 1;
            let provider = want["provider"].as_str().unwrap_or("postgresql");
            match dmmf_agrees(path, &dmmf, provider) {
                Ok(same) => dmmf_agree += usize::from(same),
                Err(e) => fail(e),
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
        let build = if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimised"
        };
        let file = path.file_name().unwrap().to_string_lossy();
        println!(
            "largest schema {file} ({models} models): parse+resolve {per:.2} ms (mean of {runs}, {build} build)"
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
