//! Name resolution and validation: parsed files into the DMMF-shaped
//! [`Resolved`] datamodel.
//!
//! Owns: the datasource (provider, `schemas`), type names (scalar, enum,
//! model, view), attributes (`@id`, `@unique`, `@default`, `@map`, `@db.*`,
//! `@relation`, `@@id`, `@@unique`, `@@map`, `@@schema`, `@@ignore` …),
//! relation pairing and naming, DMMF's default-value representation, and the
//! checks Prisma itself makes that a mapping depends on (views cannot have
//! primary keys, relations need an opposite field, …). It collects every
//! problem rather than stopping at the first. Physical types and read modes
//! are `lower`'s.
//!
//! Files: the resolver, datasource and enums here; models and fields
//! ([`fields`]), default values ([`defaults`]), relations and cross-model
//! checks ([`relations`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::ast::{
    Arg, Arity, Attribute, BlockKind, ConfigBlock, EnumBlock, Expr, FieldDecl, Ident, ModelBlock,
    SchemaAst, Top, TypeRef,
};
use super::dmmf::{DEnum, DEnumValue, DField, DModel, DPrimaryKey, Datamodel, Resolved};
use super::lexer::Pos;
use super::native::{self, Provider, SCALARS};

mod defaults;
mod fields;
mod relations;

/// A validation problem at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
}

const DATASOURCE_PROPS: [&str; 8] = [
    "provider",
    "url",
    "directUrl",
    "shadowDatabaseUrl",
    "relationMode",
    "referentialIntegrity",
    "extensions",
    "schemas",
];

const URL_PROPS: [&str; 3] = ["url", "directUrl", "shadowDatabaseUrl"];

/// Resolves the parsed files (`names[i]` is file `i`'s display name).
pub fn resolve<'n>(
    names: &'n [String],
    asts: &'n [SchemaAst],
) -> Result<(Resolved, Provider), Vec<Problem>> {
    let mut r = Resolver {
        names,
        problems: Vec::new(),
        notes: Vec::new(),
        provider: Provider::Postgres,
        native_prefix: "db.".into(),
    };
    let out = r.run(asts);
    match out {
        Some(out) if r.problems.is_empty() => Ok(out),
        _ => {
            r.problems.sort_by_key(|p| p.pos);
            r.problems.dedup();
            Err(r.problems)
        }
    }
}

struct Resolver<'n> {
    names: &'n [String],
    problems: Vec<Problem>,
    notes: Vec<String>,
    provider: Provider,
    /// Native type attributes are `@<datasource name>.Type` (usually `db`).
    native_prefix: String,
}

/// The datasource block's content that matters here.
struct DatasourceInfo {
    /// As written (`postgresql`, `postgres`, …).
    provider: String,
    schemas: Vec<(String, Pos)>,
    /// `url`, `directUrl`, `shadowDatabaseUrl` when present.
    url_props: Vec<String>,
}

/// A relation between two models (names sorted) with its explicit name.
type RelationKey = (String, String, Option<String>);

/// What a type name in a field declaration refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decl {
    Model(usize),
    Enum(usize),
    Composite,
    Alias,
}

#[derive(Debug, Clone)]
enum FieldKind {
    Scalar(&'static str),
    Enum(usize),
    /// Index of the target model.
    Relation(usize),
}

struct FieldDraft<'a> {
    decl: &'a FieldDecl,
    kind: FieldKind,
    db_name: Option<String>,
    is_id: bool,
    is_unique: bool,
    updated_at: bool,
    has_default: bool,
    default: Option<Value>,
    native: Option<(String, Vec<String>)>,
    relation: Option<&'a Attribute>,
    relation_name: Option<String>,
    from_fields: Option<Vec<String>>,
    to_fields: Option<Vec<String>>,
}

struct ModelDraft<'a> {
    block: &'a ModelBlock,
    ignored: bool,
    db_name: Option<String>,
    schema: Option<(String, Pos)>,
    fields: Vec<FieldDraft<'a>>,
    /// Every declared field name, including ignored and Unsupported ones.
    declared: HashSet<&'a str>,
    primary_key: Option<(Option<String>, Vec<String>)>,
    block_uniques: Vec<Vec<String>>,
}

impl ModelDraft<'_> {
    fn name(&self) -> &str {
        &self.block.name.name
    }

    fn field(&self, name: &str) -> Option<&FieldDraft<'_>> {
        self.fields.iter().find(|f| f.decl.name.name == name)
    }
}

impl<'n> Resolver<'n> {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(Problem {
            pos,
            message: message.into(),
        });
    }

    /// An error at `found` saying what was `expected` there instead.
    fn err_found(&mut self, found: &Expr, expected: impl std::fmt::Display) {
        let message = format!("{expected}, found {}", found.describe());
        self.err(found.pos(), message);
    }

    /// An error at `pos` about a name first defined at `first`.
    fn err_first_at(&mut self, pos: Pos, message: String, first: Pos) {
        let message = format!("{message} at {}", self.loc(first));
        self.err(pos, message);
    }

    fn loc(&self, pos: Pos) -> String {
        let file = self
            .names
            .get(pos.file as usize)
            .map(String::as_str)
            .unwrap_or("?");
        format!("{file}:{}", pos.line)
    }

    fn run(&mut self, asts: &'n [SchemaAst]) -> Option<(Resolved, Provider)> {
        let mut datasources = Vec::new();
        let mut models: Vec<&ModelBlock> = Vec::new();
        let mut enums: Vec<&EnumBlock> = Vec::new();
        let mut names: HashMap<&str, (Decl, Pos, &'static str)> = HashMap::new();
        let mut generators: HashMap<&str, Pos> = HashMap::new();
        for top in asts.iter().flat_map(|a| &a.tops) {
            let (name, decl, what) = match top {
                Top::Datasource(d) => {
                    datasources.push(d);
                    continue;
                }
                Top::Generator(g) => {
                    if let Some(first) = generators.insert(g.name.name.as_str(), g.name.pos) {
                        let msg = format!("generator \"{}\" is already defined", g.name.name);
                        self.err_first_at(g.name.pos, msg, first);
                    }
                    continue;
                }
                Top::Model(m) if m.kind == BlockKind::Type => {
                    (&m.name, Decl::Composite, "composite type")
                }
                Top::Model(m) => {
                    models.push(m);
                    (&m.name, Decl::Model(models.len() - 1), m.kind.keyword())
                }
                Top::Enum(e) => {
                    enums.push(e);
                    (&e.name, Decl::Enum(enums.len() - 1), "enum")
                }
                Top::TypeAlias(name) => {
                    self.err(
                        name.pos,
                        format!(
                            "type alias \"{}\": type aliases were removed in Prisma 3; use the type directly",
                            name.name
                        ),
                    );
                    (name, Decl::Alias, "type alias")
                }
            };
            if SCALARS.contains(&name.name.as_str()) || name.name == "Unsupported" {
                self.err(
                    name.pos,
                    format!(
                        "{what} \"{}\" has the name of a built-in type: rename it",
                        name.name
                    ),
                );
            }
            if let Some((_, first, first_what)) = names.get(name.name.as_str()) {
                let msg = format!(
                    "{what} \"{}\" is already defined as a {first_what}",
                    name.name
                );
                self.err_first_at(name.pos, msg, *first);
            } else {
                names.insert(&name.name, (decl, name.pos, what));
            }
        }

        let DatasourceInfo {
            provider: provider_name,
            schemas,
            url_props,
        } = self.datasource(&datasources)?;
        let mut enum_defs = Vec::new();
        for e in &enums {
            enum_defs.push(self.enum_def(e, &schemas));
        }
        let mut drafts: Vec<ModelDraft<'_>> = Vec::new();
        for m in &models {
            let d = self.model(m, &names, &enum_defs, &models, &schemas);
            drafts.push(d);
        }
        self.relations(&mut drafts);
        self.model_checks(&drafts);

        let datamodel = Datamodel {
            enums: enum_defs,
            models: drafts
                .iter()
                .filter(|d| !d.ignored)
                .map(to_dmodel)
                .collect(),
        };
        let resolved = Resolved {
            provider: provider_name,
            schemas: schemas.into_iter().map(|(s, _)| s).collect(),
            datamodel,
            notes: std::mem::take(&mut self.notes),
            datasource_properties: url_props,
        };
        Some((resolved, self.provider))
    }

    /// The single datasource: provider, `schemas` and the URL properties seen.
    fn datasource(&mut self, blocks: &[&ConfigBlock]) -> Option<DatasourceInfo> {
        let Some(ds) = blocks.first() else {
            self.err(
                Pos::default(),
                "no datasource block: add `datasource db { provider = \"postgresql\" }` (or mysql, sqlite, cockroachdb)",
            );
            return None;
        };
        for extra in &blocks[1..] {
            let msg = format!(
                "a schema has exactly one datasource; \"{}\" is already defined",
                ds.name.name
            );
            self.err_first_at(extra.name.pos, msg, ds.name.pos);
        }
        self.native_prefix = format!("{}.", ds.name.name);
        let mut provider = None;
        let mut schemas = Vec::new();
        let mut urls = Vec::new();
        let mut seen = HashSet::new();
        for p in &ds.props {
            let key = p.key.name.as_str();
            if !seen.insert(key) {
                self.err(
                    p.key.pos,
                    format!(
                        "property \"{key}\" is set twice in datasource \"{}\"",
                        ds.name.name
                    ),
                );
            }
            if !DATASOURCE_PROPS.contains(&key) {
                self.err(p.key.pos, format!("unknown datasource property \"{key}\""));
            }
            if URL_PROPS.contains(&key) {
                urls.push(key.to_string());
            }
            match key {
                "provider" => match &p.value {
                    Expr::Str(s, pos) => provider = Some((s.clone(), *pos)),
                    other => self.err_found(
                        other,
                        "the datasource provider must be a string such as \"postgresql\"",
                    ),
                },
                "schemas" => match &p.value {
                    Expr::Array(items, _) => {
                        for it in items {
                            match it {
                                Expr::Str(s, pos) => schemas.push((s.clone(), *pos)),
                                other => self.err(
                                    other.pos(),
                                    "datasource `schemas` must be a list of strings",
                                ),
                            }
                        }
                    }
                    other => self.err(
                        other.pos(),
                        "datasource `schemas` must be a list of strings",
                    ),
                },
                _ => {}
            }
        }
        let Some((name, pos)) = provider else {
            if self.problems.is_empty() {
                self.err(
                    ds.name.pos,
                    format!("datasource \"{}\" has no provider", ds.name.name),
                );
            }
            return None;
        };
        match Provider::parse(&name) {
            Ok(p) => self.provider = p,
            Err(msg) => {
                self.err(pos, msg);
                return None;
            }
        }
        if !schemas.is_empty() && self.provider == Provider::Sqlite {
            self.err(schemas[0].1, "`schemas` is not supported on sqlite");
        }
        Some(DatasourceInfo {
            provider: name,
            schemas,
            url_props: urls,
        })
    }

    /// `@@schema("x")`: must name one of the datasource's schemas.
    fn schema_attr(
        &mut self,
        attrs: &[Attribute],
        what: &str,
        name: &Ident,
        schemas: &[(String, Pos)],
    ) -> Option<(String, Pos)> {
        let attr = attrs.iter().find(|a| a.name == "schema");
        let value = attr.and_then(|a| self.string_arg(a, "name"));
        match (&value, schemas.is_empty()) {
            (Some((s, pos)), true) => self.err(
                *pos,
                format!("@@schema(\"{s}\") needs the datasource to list its schemas: add `schemas = [\"{s}\"]`"),
            ),
            (Some((s, pos)), false) if !schemas.iter().any(|(x, _)| x == s) => self.err(
                *pos,
                format!("schema \"{s}\" is not in the datasource's `schemas` list"),
            ),
            (None, false) if attr.is_none() => self.err(
                name.pos,
                format!(
                    "{what} \"{}\" has no @@schema attribute, which the datasource's `schemas` list requires",
                    name.name
                ),
            ),
            _ => {}
        }
        value
    }

    /// A string argument, positional or named `name`.
    fn string_arg(&mut self, attr: &Attribute, name: &str) -> Option<(String, Pos)> {
        match attr.arg(name) {
            Some(Expr::Str(s, pos)) => Some((s.clone(), *pos)),
            Some(other) => {
                self.err_found(other, format!("@{} expects a string", attr.name));
                None
            }
            None => {
                self.err(attr.pos, format!("@{} needs a string argument", attr.name));
                None
            }
        }
    }

    fn duplicate_attrs(&mut self, attrs: &[Attribute], repeatable: &[&str], sigil: &str) {
        let mut seen = HashSet::new();
        for a in attrs {
            if !repeatable.contains(&a.name.as_str()) && !seen.insert(a.name.as_str()) {
                self.err(a.pos, format!("attribute {sigil}{} is given twice", a.name));
            }
        }
    }

    fn enum_def(&mut self, e: &EnumBlock, schemas: &[(String, Pos)]) -> DEnum {
        let mut db_name = None;
        for a in &e.attrs {
            match a.name.as_str() {
                "map" => db_name = self.string_arg(a, "name").map(|(s, _)| s),
                "schema" => {}
                other => self.err(
                    a.pos,
                    format!("unknown attribute @@{other} on enum \"{}\"", e.name.name),
                ),
            }
        }
        self.duplicate_attrs(&e.attrs, &[], "@@");
        let schema = self
            .schema_attr(&e.attrs, "enum", &e.name, schemas)
            .map(|(s, _)| s);
        if e.values.is_empty() {
            self.err(
                e.name.pos,
                format!(
                    "enum \"{}\" has no values: an enum needs at least one",
                    e.name.name
                ),
            );
        }
        let mut seen = HashSet::new();
        let mut values = Vec::new();
        for v in &e.values {
            if !seen.insert(v.name.name.as_str()) {
                self.err(
                    v.name.pos,
                    format!(
                        "value \"{}\" appears twice in enum \"{}\"",
                        v.name.name, e.name.name
                    ),
                );
            }
            let mut db = None;
            for a in &v.attrs {
                match a.name.as_str() {
                    "map" => db = self.string_arg(a, "name").map(|(s, _)| s),
                    other => self.err(
                        a.pos,
                        format!(
                            "unknown attribute @{other} on enum value \"{}\"",
                            v.name.name
                        ),
                    ),
                }
            }
            self.duplicate_attrs(&v.attrs, &[], "@");
            values.push(DEnumValue {
                name: v.name.name.clone(),
                db_name: db,
            });
        }
        DEnum {
            name: e.name.name.clone(),
            db_name,
            values,
            schema,
        }
    }

    /// Field names in `[a, b(sort: Desc)]` (or `fields: [...]`).
    fn field_list(&mut self, expr: Option<&Expr>, attr: &Attribute) -> Option<Vec<(String, Pos)>> {
        let Some(expr) = expr else {
            self.err(
                attr.pos,
                format!(
                    "@@{} needs a list of fields, e.g. @@{}([a, b])",
                    attr.name, attr.name
                ),
            );
            return None;
        };
        let items = match expr {
            Expr::Array(items, _) => items.as_slice(),
            // `@@index(userId)`: a single field without brackets.
            Expr::Const(..) | Expr::Func { .. } => std::slice::from_ref(expr),
            other => {
                self.err_found(other, format!("@@{} expects a list of fields", attr.name));
                return None;
            }
        };
        let mut out = Vec::new();
        for it in items {
            match it {
                Expr::Const(n, pos) | Expr::Func { name: n, pos, .. } => {
                    out.push((n.clone(), *pos))
                }
                other => self.err_found(other, format!("expected a field name in @@{}", attr.name)),
            }
        }
        Some(out)
    }
}

fn to_dmodel(d: &ModelDraft<'_>) -> DModel {
    let fields = d
        .fields
        .iter()
        .map(|f| {
            let (kind, type_name) = match &f.kind {
                FieldKind::Scalar(s) => ("scalar", s.to_string()),
                FieldKind::Enum(_) | FieldKind::Relation(_) => (
                    if matches!(f.kind, FieldKind::Enum(_)) {
                        "enum"
                    } else {
                        "object"
                    },
                    match &f.decl.ty {
                        TypeRef::Named(t) => t.name.clone(),
                        TypeRef::Unsupported(_) => String::new(),
                    },
                ),
            };
            DField {
                name: f.decl.name.name.clone(),
                db_name: f.db_name.clone(),
                kind: kind.into(),
                is_list: f.decl.arity == Arity::List,
                is_required: f.decl.arity != Arity::Optional,
                // DMMF does not repeat the primary key as a unique field.
                is_unique: f.is_unique && !f.is_id,
                is_id: f.is_id,
                has_default_value: f.has_default,
                type_name,
                native_type: f.native.clone(),
                default: f.default.clone(),
                is_updated_at: f.updated_at,
                relation_name: f.relation_name.clone(),
                relation_from_fields: f.from_fields.clone(),
                relation_to_fields: f.to_fields.clone(),
            }
        })
        .collect();
    DModel {
        name: d.name().to_string(),
        db_name: d.db_name.clone(),
        schema: d.schema.as_ref().map(|(s, _)| s.clone()),
        fields,
        primary_key: d.primary_key.as_ref().map(|(name, fields)| DPrimaryKey {
            name: name.clone(),
            fields: fields.clone(),
        }),
        unique_fields: d.block_uniques.clone(),
        is_view: d.block.kind == BlockKind::View,
    }
}
