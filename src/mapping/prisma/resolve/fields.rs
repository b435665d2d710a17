//! Models and their fields: type names, field attributes (`@id`,
//! `@unique`, `@map`, `@db.*`, `@updatedAt`, `@relation`, …) and block
//! attributes (`@@id`, `@@unique`, `@@map`, `@@schema`, `@@ignore`, …).

use super::*;

impl<'n> Resolver<'n> {
    pub(super) fn model(
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

    pub(super) fn provider_name(&self) -> &'static str {
        match self.provider {
            Provider::Postgres => "postgresql",
            Provider::Cockroach => "cockroachdb",
            Provider::Mysql => "mysql",
            Provider::Sqlite => "sqlite",
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
