//! Relation pairing and naming, and the checks Prisma makes across models
//! (views without keys, relations with an opposite field, …).

use super::*;

impl<'n> Resolver<'n> {
    /// Pairs relation fields, names each relation (explicit name, or
    /// `<A>To<B>` with the model names sorted) and checks each pair's shape.
    pub(super) fn relations(&mut self, drafts: &mut [ModelDraft<'_>]) {
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
    pub(super) fn model_checks(&mut self, drafts: &[ModelDraft<'_>]) {
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
