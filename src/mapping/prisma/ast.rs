//! The untyped syntax tree of a `.prisma` file, as the [`parser`](super::parser)
//! builds it and the resolver reads it: blocks, fields, attributes and
//! their argument expressions, each with its position.

use super::lexer::Pos;

/// One parsed `.prisma` file.
#[derive(Debug, Clone, Default)]
pub struct SchemaAst {
    pub tops: Vec<Top>,
}

#[derive(Debug, Clone)]
pub enum Top {
    Datasource(ConfigBlock),
    Generator(ConfigBlock),
    /// `model`, `view` and composite `type` blocks share one shape.
    Model(ModelBlock),
    Enum(EnumBlock),
    /// The pre-Prisma-3 `type Name = String @db.Text` alias.
    TypeAlias(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct ConfigBlock {
    pub name: Ident,
    pub props: Vec<Property>,
}

#[derive(Debug, Clone)]
pub struct Property {
    pub key: Ident,
    pub value: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Model,
    View,
    /// A composite type (MongoDB only).
    Type,
}

impl BlockKind {
    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Model => "model",
            BlockKind::View => "view",
            BlockKind::Type => "type",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelBlock {
    pub kind: BlockKind,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Required,
    Optional,
    List,
}

#[derive(Debug, Clone)]
pub enum TypeRef {
    Named(Ident),
    /// `Unsupported("circle")`.
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeRef,
    pub arity: Arity,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct EnumBlock {
    pub name: Ident,
    pub values: Vec<EnumValueDecl>,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct EnumValueDecl {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
}

/// `@name(args)` or `@@name(args)`; `name` keeps dots (`db.VarChar`).
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// Position of the `@` / `@@`.
    pub pos: Pos,
    pub args: Vec<Arg>,
}

impl Attribute {
    /// The first positional argument, or the named one called `name`.
    pub fn arg(&self, name: &str) -> Option<&Expr> {
        self.named(name).or_else(|| {
            self.args
                .iter()
                .find(|a| a.name.is_none())
                .map(|a| &a.value)
        })
    }

    pub fn named(&self, name: &str) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
            .map(|a| &a.value)
    }

    pub fn positional(&self) -> impl Iterator<Item = &Expr> {
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| &a.value)
    }
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Str(String, Pos),
    /// A number as written.
    Num(String, Pos),
    /// A bare name: `true`, `Cascade`, an enum value, a field name.
    Const(String, Pos),
    Func {
        name: String,
        args: Vec<Arg>,
        pos: Pos,
    },
    Array(Vec<Expr>, Pos),
}

impl Expr {
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Str(_, p) | Expr::Num(_, p) | Expr::Const(_, p) | Expr::Array(_, p) => *p,
            Expr::Func { pos, .. } => *pos,
        }
    }

    /// How the expression is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Expr::Str(s, _) => format!("the string {s:?}"),
            Expr::Num(n, _) => format!("the number {n}"),
            Expr::Const(c, _) => format!("\"{c}\""),
            Expr::Func { name, .. } => format!("the function {name}()"),
            Expr::Array(..) => "a list".into(),
        }
    }
}
