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

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::dmmf::{DEnum, DEnumValue, DField, DModel, DPrimaryKey, Datamodel, Resolved};
use super::lexer::Pos;
use super::native::{self, Provider, SCALARS};
use super::parser::{
    Arg, Arity, Attribute, BlockKind, ConfigBlock, EnumBlock, Expr, FieldDecl, Ident, ModelBlock,
    SchemaAst, Top, TypeRef,
};

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

    fn model(
        &mut self,
        m: &'n ModelBlock,
        names: &HashMap<&str, (Decl, Pos, &'static str)>,
        enums: &[DEnum],
        models: &[&ModelBlock],
        schemas: &[(String, Pos)],
    ) -> ModelDraft<'n> {
        let what = m.kind.keyword();
        let model_name = m.name.name.as_str();
        let is_view = m.kind == BlockKind::View;
        let mut d = ModelDraft {
            block: m,
            ignored: m.attrs.iter().any(|a| a.name == "ignore"),
            db_name: None,
            schema: None,
            fields: Vec::new(),
            declared: m.fields.iter().map(|f| f.name.name.as_str()).collect(),
            primary_key: None,
            block_uniques: Vec::new(),
        };
        // Fields first: block attributes refer to them.
        let mut seen = HashMap::new();
        for f in &m.fields {
            if let Some(first) = seen.insert(f.name.name.as_str(), f.name.pos) {
                let msg = format!(
                    "field \"{}\" is already defined in {what} \"{model_name}\"",
                    f.name.name
                );
                self.err_first_at(f.name.pos, msg, first);
                continue;
            }
            if let Some(fd) = self.field(m, f, names, enums, models) {
                d.fields.push(fd);
            }
        }
        for a in &m.attrs {
            match a.name.as_str() {
                "map" => d.db_name = self.string_arg(a, "name").map(|(s, _)| s),
                "ignore" | "schema" => {}
                "id" => {
                    if is_view {
                        self.err(a.pos, format!("Views cannot have primary keys: remove @@id from view \"{model_name}\""));
                    }
                    if let Some(fields) = self.field_list(a.arg("fields"), a) {
                        let fields = self.known_fields(&d, fields, a, true);
                        let name = match a.named("name") {
                            Some(Expr::Str(s, _)) => Some(s.clone()),
                            _ => None,
                        };
                        d.primary_key = Some((name, fields));
                    }
                }
                "unique" => {
                    if let Some(fields) = self.field_list(a.arg("fields"), a) {
                        let fields = self.known_fields(&d, fields, a, true);
                        d.block_uniques.push(fields);
                    }
                }
                "index" | "fulltext" => {
                    if let Some(fields) = self.field_list(a.arg("fields"), a) {
                        self.known_fields(&d, fields, a, false);
                    }
                }
                "shardKey" => {}
                other => self.err(
                    a.pos,
                    format!("unknown attribute @@{other} on {what} \"{model_name}\""),
                ),
            }
        }
        self.duplicate_attrs(&m.attrs, &["unique", "index", "fulltext"], "@@");
        d.schema = self.schema_attr(&m.attrs, what, &m.name, schemas);
        let single_id = d.fields.iter().filter(|f| f.is_id).count();
        if d.primary_key.is_some() && single_id > 0 {
            self.err(
                m.name.pos,
                format!("{what} \"{model_name}\" has both @id and @@id: keep one primary key"),
            );
        } else if single_id > 1 {
            self.err(
                m.name.pos,
                format!("{what} \"{model_name}\" marks several fields @id: use @@id([a, b]) for a compound key"),
            );
        }
        // DMMF marks a single-field @@id / @@unique on the field itself.
        if let Some((_, pk)) = &d.primary_key
            && let [only] = pk.as_slice()
            && let Some(f) = d.fields.iter_mut().find(|f| &f.decl.name.name == only)
        {
            f.is_id = true;
        }
        for u in &d.block_uniques {
            if let [only] = u.as_slice()
                && let Some(f) = d.fields.iter_mut().find(|f| &f.decl.name.name == only)
            {
                f.is_unique = true;
            }
        }
        if d.ignored {
            self.notes.push(format!(
                "{what} {model_name} is marked @@ignore: Prisma does not read table {}, so parity skips it",
                d.db_name.as_deref().unwrap_or(model_name)
            ));
        }
        d
    }

    /// Checks that the named fields exist; returns their names.
    fn known_fields(
        &mut self,
        d: &ModelDraft<'_>,
        fields: Vec<(String, Pos)>,
        attr: &Attribute,
        scalar_only: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (name, pos) in fields {
            if !d.declared.contains(name.as_str()) {
                let msg = format!(
                    "@@{} refers to \"{name}\", which is not a field of {} \"{}\"",
                    attr.name,
                    d.block.kind.keyword(),
                    d.name()
                );
                self.err(pos, msg);
            } else if scalar_only
                && let Some(f) = d.field(&name)
                && matches!(f.kind, FieldKind::Relation(_))
            {
                let msg = format!(
                    "@@{} refers to relation field \"{name}\": list the scalar fields that hold the key instead",
                    attr.name
                );
                self.err(pos, msg);
            }
            out.push(name);
        }
        out
    }

    /// One field declaration. `None` for fields DMMF leaves out (`@ignore`,
    /// `Unsupported(...)`) and for fields that failed to resolve.
    fn field(
        &mut self,
        m: &'n ModelBlock,
        f: &'n FieldDecl,
        names: &HashMap<&str, (Decl, Pos, &'static str)>,
        enums: &[DEnum],
        models: &[&ModelBlock],
    ) -> Option<FieldDraft<'n>> {
        let model_name = &m.name.name;
        let fname = &f.name.name;
        let ignored = f.attrs.iter().any(|a| a.name == "ignore");
        let kind = match &f.ty {
            TypeRef::Unsupported(t) => {
                self.notes.push(format!(
                    "field {model_name}.{fname} has type Unsupported(\"{t}\"): Prisma does not read it, so parity skips it"
                ));
                return None;
            }
            TypeRef::Named(t) => {
                if let Some(s) = SCALARS.iter().find(|s| **s == t.name) {
                    FieldKind::Scalar(s)
                } else {
                    match names.get(t.name.as_str()).map(|x| x.0) {
                        Some(Decl::Enum(i)) => FieldKind::Enum(i),
                        Some(Decl::Model(i)) => FieldKind::Relation(i),
                        Some(Decl::Composite) => {
                            self.err(
                                t.pos,
                                format!(
                                    "field \"{fname}\" has composite type \"{}\": composite types only exist on MongoDB",
                                    t.name
                                ),
                            );
                            return None;
                        }
                        Some(Decl::Alias) => return None,
                        None => {
                            let hint = SCALARS
                                .iter()
                                .copied()
                                .chain(names.keys().copied())
                                .find(|n| {
                                    n.eq_ignore_ascii_case(&t.name)
                                        || (t.name.len() >= 4 && edit_distance(n, &t.name) <= 2)
                                })
                                .map(|n| format!(" (did you mean \"{n}\"?)"))
                                .unwrap_or_default();
                            self.err(
                                t.pos,
                                format!(
                                    "unknown type \"{}\" for field \"{fname}\" in {} \"{model_name}\": not a scalar type, model, view or enum{hint}",
                                    t.name,
                                    m.kind.keyword()
                                ),
                            );
                            return None;
                        }
                    }
                }
            }
        };
        if ignored {
            self.notes.push(format!(
                "field {model_name}.{fname} is marked @ignore: Prisma does not read it, so parity skips it"
            ));
            return None;
        }
        let is_relation = matches!(kind, FieldKind::Relation(_));
        if f.arity == Arity::List && !is_relation && !self.provider.supports_lists() {
            self.err(
                f.name.pos,
                format!(
                    "field \"{fname}\" in \"{model_name}\" is a list, but {} has no scalar lists",
                    self.provider_name()
                ),
            );
        }
        let mut d = FieldDraft {
            decl: f,
            kind: kind.clone(),
            db_name: None,
            is_id: false,
            is_unique: false,
            updated_at: false,
            has_default: false,
            default: None,
            native: None,
            relation: None,
            relation_name: None,
            from_fields: None,
            to_fields: None,
        };
        for a in &f.attrs {
            let name = a.name.as_str();
            if is_relation && name != "relation" && name != "ignore" {
                self.err(
                    a.pos,
                    format!(
                        "relation field \"{fname}\" cannot carry @{name}: put it on the scalar field that holds the key"
                    ),
                );
                continue;
            }
            match name {
                "map" => d.db_name = self.string_arg(a, "name").map(|(s, _)| s),
                "id" => {
                    if m.kind == BlockKind::View {
                        self.err(a.pos, format!("Views cannot have primary keys: remove @id from \"{model_name}.{fname}\""));
                    }
                    if f.arity != Arity::Required {
                        self.err(a.pos, format!("field \"{fname}\" is marked @id, so it must be required (no \"?\" or \"[]\")"));
                    }
                    d.is_id = true;
                }
                "unique" => d.is_unique = true,
                "updatedAt" => {
                    if !matches!(kind, FieldKind::Scalar("DateTime")) {
                        self.err(
                            a.pos,
                            format!("@updatedAt needs a DateTime field; \"{fname}\" is not one"),
                        );
                    }
                    d.updated_at = true;
                }
                "default" => {
                    d.has_default = true;
                    d.default = self.default_value(f, &kind, a, enums);
                }
                "relation" if is_relation => {}
                "relation" => {
                    self.err(
                        a.pos,
                        format!("@relation belongs on a field whose type is a model; \"{fname}\" is not one"),
                    );
                }
                "ignore" => {}
                n if n.starts_with(self.native_prefix.as_str()) => {
                    let native_name = &n[self.native_prefix.len()..];
                    let args: Vec<String> = a.args.iter().map(|x| native_arg(&x.value)).collect();
                    let scalar = match kind {
                        FieldKind::Scalar(s) => s,
                        _ => "enum",
                    };
                    if let Err(msg) =
                        native::check_native(self.provider, native_name, args.len(), scalar)
                    {
                        self.err(a.pos, format!("field \"{fname}\": {msg}"));
                    }
                    d.native = Some((native_name.to_string(), args));
                }
                other => {
                    let hint = match other.split_once('.') {
                        Some((prefix, _)) => format!(
                            " (native types are written @{}Type after the datasource's name, not @{prefix}.)",
                            self.native_prefix
                        ),
                        None => String::new(),
                    };
                    self.err(
                        a.pos,
                        format!("unknown attribute @{other} on field \"{fname}\"{hint}"),
                    );
                }
            }
        }
        if is_relation {
            d.relation = f.attrs.iter().find(|a| a.name == "relation");
            if let FieldKind::Relation(target) = kind
                && models[target].attrs.iter().any(|a| a.name == "ignore")
                && !m.attrs.iter().any(|a| a.name == "ignore")
            {
                self.err(
                    f.name.pos,
                    format!(
                        "relation field \"{fname}\" points at model \"{}\", which is marked @@ignore: mark the field @ignore too",
                        models[target].name.name
                    ),
                );
            }
        }
        self.duplicate_attrs(&f.attrs, &[], "@");
        Some(d)
    }

    fn provider_name(&self) -> &'static str {
        match self.provider {
            Provider::Postgres => "postgresql",
            Provider::Cockroach => "cockroachdb",
            Provider::Mysql => "mysql",
            Provider::Sqlite => "sqlite",
        }
    }

    /// `@default(...)` in DMMF's representation: literals as JSON values
    /// (BigInt as a string, DateTime in RFC 3339), enum values by name,
    /// functions as `{name, args}` with Prisma's implicit version arguments
    /// (`uuid()` is version 4, `cuid()` version 1).
    fn default_value(
        &mut self,
        f: &FieldDecl,
        kind: &FieldKind,
        attr: &Attribute,
        enums: &[DEnum],
    ) -> Option<Value> {
        let fname = &f.name.name;
        let Some(expr) = attr.positional().next().or_else(|| attr.named("value")) else {
            self.err(attr.pos, format!("@default on \"{fname}\" needs a value"));
            return None;
        };
        if let Expr::Func { name, args, pos } = expr {
            return self.default_function(fname, kind, name, args, *pos);
        }
        match (f.arity == Arity::List, expr) {
            (true, Expr::Array(items, _)) => {
                let vals: Option<Vec<Value>> = items
                    .iter()
                    .map(|it| self.default_literal(fname, kind, it, enums))
                    .collect();
                vals.map(Value::Array)
            }
            (true, other) => {
                self.err(
                    other.pos(),
                    format!(
                        "\"{fname}\" is a list, so its default must be a list such as [] or [a, b]"
                    ),
                );
                None
            }
            (false, Expr::Array(_, pos)) => {
                self.err(
                    *pos,
                    format!("\"{fname}\" is not a list, so its default cannot be a list"),
                );
                None
            }
            (false, other) => self.default_literal(fname, kind, other, enums),
        }
    }

    fn default_function(
        &mut self,
        fname: &str,
        kind: &FieldKind,
        name: &str,
        args: &[Arg],
        pos: Pos,
    ) -> Option<Value> {
        let scalar = match kind {
            FieldKind::Scalar(s) => *s,
            FieldKind::Enum(_) => "enum",
            FieldKind::Relation(_) => "relation",
        };
        let allowed: &[&str] = match name {
            "autoincrement" | "sequence" => &["Int", "BigInt"],
            "now" => &["DateTime"],
            "uuid" | "cuid" | "ulid" | "nanoid" => &["String"],
            "dbgenerated" => &[],
            "auto" => {
                self.err(
                    pos,
                    "auto() is MongoDB-only: use autoincrement(), uuid() or dbgenerated(\"…\")",
                );
                return None;
            }
            other => {
                self.err(
                    pos,
                    format!(
                        "unknown function {other}() in @default: Prisma knows autoincrement(), now(), uuid(), cuid(), ulid(), nanoid(), sequence() and dbgenerated()"
                    ),
                );
                return None;
            }
        };
        if !allowed.is_empty() && !allowed.contains(&scalar) {
            self.err(
                pos,
                format!(
                    "{name}() cannot be the default of \"{fname}\" ({scalar}): it is for {}",
                    allowed.join(" or ")
                ),
            );
        }
        let mut vals: Vec<Value> = Vec::new();
        for a in args {
            match &a.value {
                Expr::Num(n, p) => match num_json(n) {
                    Some(v) => vals.push(v),
                    None => self.err(*p, format!("malformed number {n}")),
                },
                Expr::Str(s, _) => vals.push(Value::String(s.clone())),
                Expr::Const(c, _) => vals.push(Value::String(c.clone())),
                other => self.err(
                    other.pos(),
                    format!("unexpected {} in {name}()", other.describe()),
                ),
            }
        }
        match (name, vals.as_slice()) {
            ("uuid", []) => vals.push(Value::from(4)),
            ("cuid", []) => vals.push(Value::from(1)),
            ("uuid", [v]) if v != &Value::from(4) && v != &Value::from(7) => {
                self.err(pos, "uuid() takes version 4 or 7")
            }
            ("cuid", [v]) if v != &Value::from(1) && v != &Value::from(2) => {
                self.err(pos, "cuid() takes version 1 or 2")
            }
            _ => {}
        }
        Some(serde_json::json!({"name": name, "args": vals}))
    }

    fn default_literal(
        &mut self,
        fname: &str,
        kind: &FieldKind,
        expr: &Expr,
        enums: &[DEnum],
    ) -> Option<Value> {
        let mismatch = |this: &mut Self, want: &str| {
            this.err_found(expr, format!("the default of \"{fname}\" must be {want}"));
            None
        };
        match kind {
            FieldKind::Scalar(s) => match (*s, expr) {
                ("Int", Expr::Num(n, _)) => match n.parse::<i64>() {
                    Ok(i) => Some(Value::from(i)),
                    Err(_) => mismatch(self, "an integer"),
                },
                ("BigInt", Expr::Num(n, _)) => match n.parse::<i64>() {
                    Ok(i) => Some(Value::String(i.to_string())),
                    Err(_) => mismatch(self, "an integer"),
                },
                ("Float" | "Decimal", Expr::Num(n, _)) => match num_json(n) {
                    Some(v) => Some(v),
                    None => mismatch(self, "a number"),
                },
                ("Boolean", Expr::Const(c, _)) if c == "true" || c == "false" => {
                    Some(Value::Bool(c == "true"))
                }
                ("String" | "Json" | "Bytes", Expr::Str(v, _)) => Some(Value::String(v.clone())),
                ("DateTime", Expr::Str(v, _)) => match chrono::DateTime::parse_from_rfc3339(v) {
                    Ok(t) => Some(Value::String(t.to_rfc3339())),
                    Err(_) => mismatch(
                        self,
                        "an RFC 3339 date-time string such as \"2024-01-01T00:00:00Z\"",
                    ),
                },
                ("Int" | "BigInt", _) => mismatch(self, "an integer"),
                ("Float" | "Decimal", _) => mismatch(self, "a number"),
                ("Boolean", _) => mismatch(self, "true or false"),
                ("DateTime", _) => mismatch(self, "now() or a date-time string"),
                _ => mismatch(self, "a string"),
            },
            FieldKind::Enum(i) => {
                let e = &enums[*i];
                match expr {
                    Expr::Const(c, pos) => {
                        if !e.values.iter().any(|v| &v.name == c) {
                            self.err(
                                *pos,
                                format!("\"{c}\" is not a value of enum \"{}\"", e.name),
                            );
                        }
                        Some(Value::String(c.clone()))
                    }
                    _ => mismatch(self, &format!("a value of enum \"{}\"", e.name)),
                }
            }
            FieldKind::Relation(_) => None,
        }
    }

    /// Pairs relation fields, names each relation (explicit name, or
    /// `<A>To<B>` with the model names sorted) and checks each pair's shape.
    fn relations(&mut self, drafts: &mut [ModelDraft<'_>]) {
        // (model, field) of every relation field, grouped by relation key.
        let mut groups: BTreeMap<RelationKey, Vec<(usize, usize)>> = BTreeMap::new();
        for (mi, d) in drafts.iter().enumerate() {
            if d.ignored {
                continue;
            }
            for (fi, f) in d.fields.iter().enumerate() {
                let FieldKind::Relation(ti) = f.kind else {
                    continue;
                };
                if drafts[ti].ignored {
                    continue;
                }
                let name = f.relation.and_then(|a| match a.arg("name") {
                    Some(Expr::Str(s, _)) => Some(s.clone()),
                    _ => None,
                });
                let (a, b) = (d.name().to_string(), drafts[ti].name().to_string());
                let key = if a <= b { (a, b, name) } else { (b, a, name) };
                groups.entry(key).or_default().push((mi, fi));
            }
        }
        for ((a, b, name), members) in groups {
            let relation_name = name.clone().unwrap_or_else(|| format!("{a}To{b}"));
            let pair = if a == b {
                members.clone()
            } else {
                let on_a: Vec<_> = members
                    .iter()
                    .copied()
                    .filter(|(mi, _)| drafts[*mi].name() == a)
                    .collect();
                let on_b: Vec<_> = members
                    .iter()
                    .copied()
                    .filter(|(mi, _)| drafts[*mi].name() == b)
                    .collect();
                if on_a.len() > 1 || on_b.len() > 1 {
                    let (side, other) = if on_a.len() > 1 {
                        (&on_a, &b)
                    } else {
                        (&on_b, &a)
                    };
                    for (mi, fi) in side.iter().skip(1) {
                        let f = &drafts[*mi].fields[*fi];
                        let msg = format!(
                            "ambiguous relation: \"{}\" has several relation fields to \"{other}\"{}; give each relation a distinct name with @relation(\"…\") on both sides",
                            drafts[*mi].name(),
                            name.as_ref()
                                .map(|n| format!(" named \"{n}\""))
                                .unwrap_or_default()
                        );
                        self.err(f.decl.name.pos, msg);
                    }
                    continue;
                }
                members.clone()
            };
            if pair.len() != 2 {
                if pair.len() == 1 {
                    let (mi, fi) = pair[0];
                    let f = &drafts[mi].fields[fi];
                    let target = if drafts[mi].name() == a { &b } else { &a };
                    let msg = format!(
                        "relation field \"{}\" on \"{}\" is missing an opposite relation field on \"{target}\"{}: add it (`prisma format` writes it for you)",
                        f.decl.name.name,
                        drafts[mi].name(),
                        name.as_ref()
                            .map(|n| format!(" with @relation(\"{n}\")"))
                            .unwrap_or_default()
                    );
                    self.err(f.decl.name.pos, msg);
                } else {
                    for (mi, fi) in pair.iter().skip(2) {
                        let f = &drafts[*mi].fields[*fi];
                        let msg = format!(
                            "ambiguous self-relation on \"{}\": give each relation a distinct name with @relation(\"…\") on both sides",
                            drafts[*mi].name()
                        );
                        self.err(f.decl.name.pos, msg);
                    }
                }
                continue;
            }
            self.check_pair(drafts, pair[0], pair[1], &relation_name);
        }
    }

    fn check_pair(
        &mut self,
        drafts: &mut [ModelDraft<'_>],
        x: (usize, usize),
        y: (usize, usize),
        rel: &str,
    ) {
        let mut parsed = Vec::new();
        for (mi, fi) in [x, y] {
            let f = &drafts[mi].fields[fi];
            let list = |this: &mut Self, key: &str| -> Option<Vec<(String, Pos)>> {
                let a = f.relation?;
                let e = a.named(key)?;
                match e {
                    Expr::Array(items, _) => Some(
                        items
                            .iter()
                            .filter_map(|i| match i {
                                Expr::Const(n, p) => Some((n.clone(), *p)),
                                other => {
                                    this.err(
                                        other.pos(),
                                        format!("@relation({key}: …) takes field names"),
                                    );
                                    None
                                }
                            })
                            .collect(),
                    ),
                    other => {
                        this.err(
                            other.pos(),
                            format!("@relation({key}: …) takes a list of field names"),
                        );
                        None
                    }
                }
            };
            let fields = list(self, "fields");
            let refs = list(self, "references");
            parsed.push((mi, fi, fields, refs));
        }
        let describe = |d: &[ModelDraft<'_>], mi: usize, fi: usize| {
            format!("\"{}.{}\"", d[mi].name(), d[mi].fields[fi].decl.name.name)
        };
        let is_list =
            |d: &[ModelDraft<'_>], mi: usize, fi: usize| d[mi].fields[fi].decl.arity == Arity::List;
        let (xm, xf, ..) = parsed[0];
        let (ym, yf, ..) = parsed[1];
        let has_fields: Vec<bool> = parsed
            .iter()
            .map(|p| p.2.is_some() || p.3.is_some())
            .collect();
        let (xl, yl) = (is_list(drafts, xm, xf), is_list(drafts, ym, yf));
        let pos_x = drafts[xm].fields[xf].decl.name.pos;
        if xl && yl {
            if has_fields.iter().any(|h| *h) {
                self.err(
                    pos_x,
                    format!(
                        "implicit many-to-many relation \"{rel}\" ({} and {}) takes no fields/references: remove them, or model the join table explicitly",
                        describe(drafts, xm, xf),
                        describe(drafts, ym, yf)
                    ),
                );
            }
            for (mi, ..) in [parsed[0].clone(), parsed[1].clone()] {
                let d = &drafts[mi];
                let single = d.fields.iter().filter(|f| f.is_id).count() == 1
                    && d.primary_key.as_ref().is_none_or(|(_, f)| f.len() == 1);
                if !single {
                    let pos = d.block.name.pos;
                    let msg = format!(
                        "model \"{}\" needs a single-field @id to take part in the implicit many-to-many relation \"{rel}\"",
                        d.name()
                    );
                    self.err(pos, msg);
                }
            }
        } else {
            let holders: Vec<usize> = (0..2).filter(|i| has_fields[*i]).collect();
            match holders.as_slice() {
                [] => self.err(
                    pos_x,
                    format!(
                        "relation \"{rel}\" between {} and {} needs `fields` and `references` on the side that holds the foreign key",
                        describe(drafts, xm, xf),
                        describe(drafts, ym, yf)
                    ),
                ),
                [i] => {
                    let (mi, fi) = (parsed[*i].0, parsed[*i].1);
                    if is_list(drafts, mi, fi) {
                        self.err(
                            drafts[mi].fields[fi].decl.name.pos,
                            format!(
                                "list field {} cannot hold `fields`/`references`: put them on the other side of relation \"{rel}\"",
                                describe(drafts, mi, fi)
                            ),
                        );
                    }
                }
                _ => {
                    let (mi, fi) = (parsed[1].0, parsed[1].1);
                    self.err(
                        drafts[mi].fields[fi].decl.name.pos,
                        format!(
                            "only one side of relation \"{rel}\" may define `fields`/`references`: remove them from {}",
                            describe(drafts, mi, fi)
                        ),
                    );
                }
            }
        }
        // Argument checks: the named fields exist, and match in number.
        for (i, (mi, fi, fields, refs)) in parsed.iter().enumerate() {
            let (om, _, _, _) = parsed[1 - i];
            if let Some(fields) = fields {
                for (n, p) in fields {
                    let d = &drafts[*mi];
                    if !d.declared.contains(n.as_str()) {
                        let msg = format!(
                            "@relation(fields: …) names \"{n}\", which is not a field of \"{}\"",
                            d.name()
                        );
                        self.err(*p, msg);
                    } else if d
                        .field(n)
                        .is_some_and(|f| matches!(f.kind, FieldKind::Relation(_)))
                    {
                        let msg = format!(
                            "@relation(fields: …) names relation field \"{n}\": list the scalar fields that hold the key"
                        );
                        self.err(*p, msg);
                    }
                }
            }
            if let Some(refs) = refs {
                for (n, p) in refs {
                    if !drafts[om].declared.contains(n.as_str()) {
                        self.err(*p, format!("@relation(references: …) names \"{n}\", which is not a field of \"{}\"", drafts[om].name()));
                    }
                }
            }
            let problem = match (fields, refs) {
                (Some(f), Some(r)) if f.len() != r.len() => {
                    Some("`fields` and `references` must have the same length")
                }
                (Some(_), None) | (None, Some(_)) => Some("give both `fields` and `references`"),
                _ => None,
            };
            if let Some(problem) = problem {
                let pos = drafts[*mi].fields[*fi].decl.name.pos;
                let on = describe(drafts, *mi, *fi);
                self.err(pos, format!("@relation on {on}: {problem}"));
            }
            let f = &mut drafts[*mi].fields[*fi];
            f.relation_name = Some(rel.to_string());
            f.from_fields = Some(fields.iter().flatten().map(|(n, _)| n.clone()).collect());
            f.to_fields = Some(refs.iter().flatten().map(|(n, _)| n.clone()).collect());
        }
    }

    /// Checks across a model: a unique criterion, physical name clashes.
    fn model_checks(&mut self, drafts: &[ModelDraft<'_>]) {
        let mut tables: HashMap<(Option<&str>, &str), Pos> = HashMap::new();
        for d in drafts.iter().filter(|d| !d.ignored) {
            let what = d.block.kind.keyword();
            if d.block.kind == BlockKind::Model {
                let required =
                    |n: &str| d.field(n).is_some_and(|f| f.decl.arity == Arity::Required);
                let ok = d.primary_key.is_some()
                    || d.fields.iter().any(|f| f.is_id)
                    || d.fields
                        .iter()
                        .any(|f| f.is_unique && f.decl.arity == Arity::Required)
                    || d.block_uniques
                        .iter()
                        .any(|u| !u.is_empty() && u.iter().all(|n| required(n)));
                if !ok {
                    self.err(
                        d.block.name.pos,
                        format!(
                            "model \"{}\" has no unique criterion: mark a required field @id or @unique, add @@id([…]) or @@unique([…]), or mark the model @@ignore",
                            d.name()
                        ),
                    );
                }
            }
            let table = d.db_name.as_deref().unwrap_or(d.name());
            let schema = d.schema.as_ref().map(|(s, _)| s.as_str());
            if let Some(first) = tables.insert((schema, table), d.block.name.pos) {
                let msg = format!(
                    "{what} \"{}\" maps to table \"{table}\", which the model at {} already uses",
                    d.name(),
                    self.loc(first)
                );
                self.err(d.block.name.pos, msg);
            }
            let mut cols: HashMap<&str, &str> = HashMap::new();
            for f in d
                .fields
                .iter()
                .filter(|f| !matches!(f.kind, FieldKind::Relation(_)))
            {
                let col = f.db_name.as_deref().unwrap_or(&f.decl.name.name);
                if let Some(other) = cols.insert(col, &f.decl.name.name) {
                    self.err(
                        f.decl.name.pos,
                        format!(
                            "fields \"{other}\" and \"{}\" of \"{}\" both map to column \"{col}\"",
                            f.decl.name.name,
                            d.name()
                        ),
                    );
                }
            }
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A `@db.*` argument as DMMF lists it: the literal's text.
fn native_arg(e: &Expr) -> String {
    match e {
        Expr::Str(s, _) | Expr::Num(s, _) | Expr::Const(s, _) => s.clone(),
        Expr::Func { name, .. } => format!("{name}()"),
        Expr::Array(..) => "[]".into(),
    }
}

/// A number literal as a JSON number, integral values as integers (DMMF
/// goes through an f64 and JavaScript prints `1.0` as `1`).
fn num_json(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    let f: f64 = text.parse().ok()?;
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
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
