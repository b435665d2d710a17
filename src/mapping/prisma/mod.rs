//! Native `schema.prisma` reader: lexer, parser and resolver into a [`Mapping`].
//!
//! Owns: reading a Prisma schema (one file, a folder of `.prisma` files, or
//! Prisma's DMMF JSON) into the shared mapping model, with the physical
//! types, read modes, keys and implicit many-to-many join tables Prisma 7
//! would use. No Prisma engine is linked: the grammar and the rules that
//! matter for the mapping are implemented here and checked against the
//! conformance corpus (`tests/corpus_prisma.rs`). It does not touch a
//! database and does not compare mappings (that is `plan`).
//!
//! Data flow: `lexer` → `parser` (an `ast` per file) → `resolve` (names,
//! attributes, relations; DMMF-shaped [`dmmf::Resolved`]) → `lower`
//! ([`Mapping`]). DMMF JSON input joins at `dmmf::Resolved`.

mod ast;
mod dmmf;
mod lexer;
mod lower;
mod native;
mod parser;
mod resolve;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::mapping::Mapping;
use dmmf::{Datamodel, Resolved};
use native::Provider;

/// A problem at a place in a schema file. `line` 0 means the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrismaError {
    /// The text is not valid Prisma schema syntax (first error of the file).
    #[error("{0}")]
    Syntax(Diagnostic),
    /// The schema parses but Prisma would reject it; every problem found.
    #[error("{}", render_invalid(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no .prisma files in this folder", .0.display())]
    NoSchemaFiles(PathBuf),
    #[error("{}: not a usable DMMF file: {message}", path.display())]
    Dmmf { path: PathBuf, message: String },
}

fn render_invalid(d: &[Diagnostic]) -> String {
    match d {
        [one] => one.to_string(),
        many => {
            let mut s = format!("the Prisma schema has {} errors:", many.len());
            for d in many {
                s.push_str("\n  ");
                s.push_str(&d.to_string());
            }
            s
        }
    }
}

/// Reads a mapping from `path`: a `.prisma` file, a folder of `.prisma`
/// files (recursively, merged in path order) or a DMMF `.json` file (the
/// whole `get_dmmf` output or its `datamodel`; provider from a top-level
/// `provider` key, else `postgresql`).
pub fn load_path(path: &Path) -> Result<Mapping, PrismaError> {
    let (r, p, _) = load_resolved(path)?;
    Ok(lower::to_mapping(&r, p))
}

/// Reads one schema file's text. `file_name` is only used in messages.
pub fn parse_str(file_name: &str, text: &str) -> Result<Mapping, PrismaError> {
    parse_files(&[(file_name.to_string(), text.to_string())])
}

/// Reads a multi-file schema given as `(file name, text)` pairs.
pub fn parse_files(files: &[(String, String)]) -> Result<Mapping, PrismaError> {
    let (r, p) = resolve_files(files)?;
    Ok(lower::to_mapping(&r, p))
}

/// Reads Prisma's DMMF JSON (whole output or its `datamodel`). DMMF does not
/// say which database it was made for, so `provider` does (`postgresql`,
/// `mysql`, `sqlite`, `cockroachdb`).
pub fn from_dmmf(json: &str, provider: &str) -> Result<Mapping, PrismaError> {
    let path = PathBuf::from("<dmmf>");
    let value: Value = serde_json::from_str(json).map_err(|e| PrismaError::Dmmf {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let (r, p) = resolve_dmmf(&path, &value, Some(provider))?;
    Ok(lower::to_mapping(&r, p))
}

/// The resolved schema at `path` in the conformance corpus's `tables.json`
/// format: `file`, `producedBy`, `provider`, `schemas`, `normalized`,
/// `models` (sorted by name, with `columns` and `primaryKey`), `enums` and
/// `joinTables`.
pub fn show_mapping_json(path: &Path) -> Result<Value, PrismaError> {
    let (r, _, file) = load_resolved(path)?;
    let produced_by = format!(
        "parity {} native schema.prisma reader",
        env!("CARGO_PKG_VERSION")
    );
    Ok(dmmf::tables_json(&file, &produced_by, &r))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PrismaError + '_ {
    move |source| PrismaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Resolves whatever `path` holds; also returns the name `tables.json` uses.
fn load_resolved(path: &Path) -> Result<(Resolved, Provider, String), PrismaError> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if path.is_dir() {
        let mut found = Vec::new();
        collect_prisma_files(path, &mut found)?;
        found.sort();
        if found.is_empty() {
            return Err(PrismaError::NoSchemaFiles(path.to_path_buf()));
        }
        let mut files = Vec::new();
        for f in found {
            let text = crate::mapping::load::read_text(&f).map_err(io_err(&f))?;
            files.push((f.display().to_string(), text));
        }
        let (r, p) = resolve_files(&files)?;
        return Ok((r, p, file));
    }
    let text = crate::mapping::load::read_text(path).map_err(io_err(path))?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let value: Value = serde_json::from_str(&text).map_err(|e| PrismaError::Dmmf {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let (r, p) = resolve_dmmf(path, &value, None)?;
        return Ok((r, p, file));
    }
    let (r, p) = resolve_files(&[(path.display().to_string(), text)])?;
    Ok((r, p, file))
}

fn collect_prisma_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PrismaError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let p = entry.map_err(io_err(dir))?.path();
        if p.is_dir() {
            collect_prisma_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "prisma") {
            out.push(p);
        }
    }
    Ok(())
}

fn resolve_files(files: &[(String, String)]) -> Result<(Resolved, Provider), PrismaError> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let mut asts = Vec::new();
    for (i, (name, text)) in files.iter().enumerate() {
        let ast = parser::parse(i as u32, text).map_err(|e| {
            PrismaError::Syntax(Diagnostic {
                file: name.clone(),
                line: e.pos.line,
                col: e.pos.col,
                message: e.message,
            })
        })?;
        asts.push(ast);
    }
    resolve::resolve(&names, &asts).map_err(|problems| {
        let single_file = names.len() == 1;
        PrismaError::Invalid(
            problems
                .into_iter()
                .map(|p| Diagnostic {
                    file: if p.pos.line == 0 && !single_file {
                        "the schema".into()
                    } else {
                        names.get(p.pos.file as usize).cloned().unwrap_or_default()
                    },
                    line: p.pos.line,
                    col: p.pos.col,
                    message: p.message,
                })
                .collect(),
        )
    })
}

/// DMMF JSON into the resolved form. Views cannot be told from tables and
/// enum schemas are not listed, which the notes say.
fn resolve_dmmf(
    path: &Path,
    value: &Value,
    provider: Option<&str>,
) -> Result<(Resolved, Provider), PrismaError> {
    let bad = |message: String| PrismaError::Dmmf {
        path: path.to_path_buf(),
        message,
    };
    let dm_value = match value.get("datamodel") {
        Some(dm) => dm,
        None if value.get("models").is_some() => value,
        None => return Err(bad("expected a `datamodel` or `models` key".into())),
    };
    let datamodel: Datamodel =
        serde_json::from_value(dm_value.clone()).map_err(|e| bad(e.to_string()))?;
    let provider_name = provider
        .map(str::to_string)
        .or_else(|| {
            value
                .get("provider")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "postgresql".to_string());
    let p = Provider::parse(&provider_name).map_err(bad)?;
    let schemas = crate::mapping::json_strings(value.get("schemas"));
    let mut notes = vec![format!(
        "read from Prisma DMMF ({}): views are read as tables and enum schemas are unknown",
        path.display()
    )];
    if provider.is_none() && value.get("provider").is_none() {
        notes.push("DMMF names no provider: assumed postgresql".into());
    }
    Ok((
        Resolved {
            provider: provider_name,
            schemas,
            datamodel,
            notes,
            datasource_properties: Vec::new(),
        },
        p,
    ))
}

#[cfg(test)]
mod tests;
