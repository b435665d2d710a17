//! `@default(...)` in DMMF's representation.

use super::*;

impl<'n> Resolver<'n> {
    /// `@default(...)` in DMMF's representation: literals as JSON values
    /// (BigInt as a string, DateTime in RFC 3339), enum values by name,
    /// functions as `{name, args}` with Prisma's implicit version arguments
    /// (`uuid()` is version 4, `cuid()` version 1).
    pub(super) fn default_value(
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
