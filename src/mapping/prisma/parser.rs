//! The Prisma schema grammar: tokens into an untyped syntax tree.
//!
//! Owns: the blocks (`datasource`, `generator`, `model`, `view`, `enum`,
//! `type`), fields with their type and arity, `@`/`@@` attributes and their
//! arguments (positional, named, arrays, function calls). It checks syntax
//! only: whether `User` names a model, or `@relation` has sensible arguments,
//! is `resolve`'s business. Errors stop at the first problem in a file and
//! say what was expected.

use super::ast::*;
use super::lexer::{LexError, Pos, Token, TokenKind, lex};

/// A syntax error at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl From<LexError> for SyntaxError {
    fn from(e: LexError) -> Self {
        SyntaxError {
            pos: e.pos,
            message: e.message,
        }
    }
}

type PResult<T> = Result<T, SyntaxError>;

/// Parses one file. `file` is the index the positions carry.
pub fn parse(file: u32, text: &str) -> PResult<SchemaAst> {
    let tokens = lex(file, text)?;
    Parser {
        tokens,
        at: 0,
        depth: 0,
    }
    .schema()
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Nesting of lists and calls, bounded so hostile input cannot blow the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> &TokenKind {
        &self.tokens[self.at].kind
    }

    fn peek_at(&self, ahead: usize) -> &TokenKind {
        let i = (self.at + ahead).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn pos(&self) -> Pos {
        self.tokens[self.at].pos
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn skip_newlines(&mut self) {
        while *self.peek() == TokenKind::Newline {
            self.bump();
        }
    }

    /// Between line items (top level, inside a block): newlines and block
    /// comments, which Prisma accepts wherever a line item may start.
    fn skip_blank(&mut self) {
        while matches!(
            self.peek(),
            TokenKind::Newline | TokenKind::BlockComment { .. }
        ) {
            self.bump();
        }
    }

    fn error<T>(&self, expected: impl std::fmt::Display) -> PResult<T> {
        self.fail(format!("expected {expected}, found {}", self.peek()))
    }

    /// A syntax error at the current token.
    fn fail<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(SyntaxError {
            pos: self.pos(),
            message: message.into(),
        })
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<()> {
        if self.eat(&kind) {
            Ok(())
        } else {
            self.error(what)
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => {
                let pos = self.bump().pos;
                Ok(Ident { name, pos })
            }
            _ => self.error(what),
        }
    }

    /// After a declaration: a newline, or the block's `}` on the same line.
    /// One block comment may end the line (Prisma's get_dmmf accepts
    /// `id Int @id /* c */`, and rejects a second one or a `//` after it).
    fn end_of_line(&mut self, what: &str) -> PResult<()> {
        if *self.peek()
            == (TokenKind::BlockComment {
                then_line_comment: false,
            })
        {
            self.bump();
        }
        match self.peek() {
            TokenKind::Newline => {
                self.bump();
                Ok(())
            }
            TokenKind::RBrace => Ok(()),
            _ => self.error(what),
        }
    }

    fn schema(&mut self) -> PResult<SchemaAst> {
        let mut ast = SchemaAst::default();
        loop {
            self.skip_blank();
            let keyword = match self.peek() {
                TokenKind::Eof => return Ok(ast),
                TokenKind::Ident(k) => k.clone(),
                _ => return self.error(TOP_EXPECTED),
            };
            const KEYWORDS: [&str; 6] =
                ["datasource", "generator", "model", "view", "enum", "type"];
            if !KEYWORDS.contains(&keyword.as_str()) {
                return self.error(TOP_EXPECTED);
            }
            self.bump();
            let top = match keyword.as_str() {
                "datasource" => Top::Datasource(self.config_block("datasource")?),
                "generator" => Top::Generator(self.config_block("generator")?),
                "model" => Top::Model(self.model_block(BlockKind::Model)?),
                "view" => Top::Model(self.model_block(BlockKind::View)?),
                "enum" => Top::Enum(self.enum_block()?),
                // `type`: an alias (`type Name = String`) or a composite type.
                _ if *self.peek_at(1) == TokenKind::Eq => {
                    let name = self.ident("a type alias name after \"type\"")?;
                    self.bump();
                    self.field_type(&name)?;
                    self.attributes(false)?;
                    self.end_of_line("the end of the line after the type alias")?;
                    Top::TypeAlias(name)
                }
                _ => Top::Model(self.model_block(BlockKind::Type)?),
            };
            ast.tops.push(top);
        }
    }

    fn block_open(&mut self, keyword: &str) -> PResult<Ident> {
        let name = self.ident(&format!("a name after \"{keyword}\""))?;
        if !self.eat(&TokenKind::LBrace) {
            return self.error(format!("\"{{\" after \"{keyword} {}\"", name.name));
        }
        Ok(name)
    }

    fn config_block(&mut self, keyword: &str) -> PResult<ConfigBlock> {
        let name = self.block_open(keyword)?;
        let mut props = Vec::new();
        loop {
            self.skip_blank();
            if self.eat(&TokenKind::RBrace) {
                return Ok(ConfigBlock { name, props });
            }
            let key = self.ident(&format!(
                "a property name or \"}}\" in {keyword} \"{}\"",
                name.name
            ))?;
            if !self.eat(&TokenKind::Eq) {
                return self.error(format!("\"=\" after \"{}\"", key.name));
            }
            let value = self.expr()?;
            self.end_of_line(&format!(
                "the end of the line after property \"{}\"",
                key.name
            ))?;
            props.push(Property { key, value });
        }
    }

    fn model_block(&mut self, kind: BlockKind) -> PResult<ModelBlock> {
        let name = self.block_open(kind.keyword())?;
        let mut fields = Vec::new();
        let expected = format!(
            "a field name, \"@@\" or \"}}\" in {} \"{}\"",
            kind.keyword(),
            name.name
        );
        let attrs = self.block_body(
            |p| {
                fields.push(p.field()?);
                Ok(())
            },
            |token| match token {
                TokenKind::At => format!("{expected} (block attributes start with \"@@\")"),
                _ => expected.clone(),
            },
        )?;
        Ok(ModelBlock {
            kind,
            name,
            fields,
            attrs,
        })
    }

    /// The body of a model or enum block after its `{`, through its `}`:
    /// `@@` attributes (returned) and items, each read by `item` at its
    /// first identifier. `expected` says what else may stand where another
    /// token does.
    fn block_body(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<()>,
        expected: impl Fn(&TokenKind) -> String,
    ) -> PResult<Vec<Attribute>> {
        let mut attrs = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                TokenKind::RBrace => {
                    self.bump();
                    return Ok(attrs);
                }
                TokenKind::AtAt => {
                    attrs.push(self.attribute()?);
                    self.end_of_line("the end of the line after a block attribute")?;
                }
                TokenKind::Ident(_) => item(self)?,
                other => return self.error(expected(other)),
            }
        }
    }

    fn field(&mut self) -> PResult<FieldDecl> {
        let name = self.ident("a field name")?;
        if *self.peek() == TokenKind::Colon {
            return self.fail(format!(
                "field declarations take no colon: write \"{} Type\", not \"{}: Type\"",
                name.name, name.name
            ));
        }
        let (ty, arity) = self.field_type(&name)?;
        let attrs = self.attributes(false)?;
        self.end_of_line(&format!(
            "an attribute (\"@…\") or the end of the line after field \"{}\"",
            name.name
        ))?;
        Ok(FieldDecl {
            name,
            ty,
            arity,
            attrs,
        })
    }

    fn field_type(&mut self, name: &Ident) -> PResult<(TypeRef, Arity)> {
        let ty = match self.peek().clone() {
            TokenKind::Ident(t) => {
                let pos = self.bump().pos;
                if t == "Unsupported" && *self.peek() == TokenKind::LParen {
                    self.bump();
                    let inner = match self.peek().clone() {
                        TokenKind::Str(s) => {
                            self.bump();
                            s
                        }
                        _ => return self.error("a string inside Unsupported(…)"),
                    };
                    self.expect(TokenKind::RParen, "\")\" after Unsupported(\"…\"")?;
                    TypeRef::Unsupported(inner)
                } else {
                    TypeRef::Named(Ident { name: t, pos })
                }
            }
            _ => return self.error(format!("a field type after \"{}\"", name.name)),
        };
        let arity = if self.eat(&TokenKind::LBracket) {
            self.expect(TokenKind::RBracket, "\"]\" after \"[\" in a list type")?;
            if *self.peek() == TokenKind::Question {
                return self.fail(format!(
                    "field \"{}\": optional lists (\"[]?\") are not supported",
                    name.name
                ));
            }
            Arity::List
        } else if self.eat(&TokenKind::Question) {
            if *self.peek() == TokenKind::LBracket {
                return self.fail(format!(
                    "field \"{}\": write a list type as \"Type[]\", not \"Type?[]\"",
                    name.name
                ));
            }
            Arity::Optional
        } else {
            Arity::Required
        };
        Ok((ty, arity))
    }

    /// Field (or enum value) attributes up to the end of the line.
    fn attributes(&mut self, block_ok: bool) -> PResult<Vec<Attribute>> {
        let mut attrs = Vec::new();
        loop {
            match self.peek() {
                TokenKind::At => attrs.push(self.attribute()?),
                TokenKind::AtAt if !block_ok => {
                    return self.fail("block attributes (\"@@…\") go on their own line");
                }
                _ => return Ok(attrs),
            }
        }
    }

    /// `@name`, `@db.Name`, each with an optional argument list.
    fn attribute(&mut self) -> PResult<Attribute> {
        let pos = self.pos();
        let sigil = if self.eat(&TokenKind::AtAt) {
            "@@"
        } else {
            "@"
        };
        if sigil == "@" {
            self.bump();
        }
        let mut name = self
            .ident(&format!("an attribute name after \"{sigil}\""))?
            .name;
        while self.eat(&TokenKind::Dot) {
            name.push('.');
            name.push_str(&self.ident(&format!("a name after \"{sigil}{name}\""))?.name);
        }
        let args = if *self.peek() == TokenKind::LParen {
            self.bump();
            self.args(&format!("{sigil}{name}"))?
        } else {
            Vec::new()
        };
        Ok(Attribute { name, pos, args })
    }

    /// Arguments after `(` up to and including `)`. Newlines are free inside.
    fn args(&mut self, owner: &str) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        loop {
            self.skip_newlines();
            if self.eat(&TokenKind::RParen) {
                return Ok(args);
            }
            let name = match (self.peek().clone(), self.peek_at(1)) {
                (TokenKind::Ident(n), TokenKind::Colon) => {
                    let pos = self.bump().pos;
                    self.bump();
                    self.skip_newlines();
                    Some(Ident { name: n, pos })
                }
                _ => None,
            };
            let value = self.expr()?;
            args.push(Arg { name, value });
            self.skip_newlines();
            if !self.eat(&TokenKind::Comma) && *self.peek() != TokenKind::RParen {
                return self.error(format!("\",\" or \")\" in the arguments of {owner}"));
            }
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        if self.depth >= MAX_DEPTH {
            return self.fail(format!(
                "values are nested more than {MAX_DEPTH} levels deep"
            ));
        }
        self.depth += 1;
        let e = self.expr_inner();
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        match self.peek().clone() {
            TokenKind::Str(s) => {
                self.bump();
                Ok(Expr::Str(s, pos))
            }
            TokenKind::Num(n) => {
                self.bump();
                Ok(Expr::Num(n, pos))
            }
            TokenKind::LBracket => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_newlines();
                    if self.eat(&TokenKind::RBracket) {
                        return Ok(Expr::Array(items, pos));
                    }
                    items.push(self.expr()?);
                    self.skip_newlines();
                    if !self.eat(&TokenKind::Comma) && *self.peek() != TokenKind::RBracket {
                        return self.error("\",\" or \"]\" in a list");
                    }
                }
            }
            TokenKind::Ident(first) => {
                self.bump();
                let mut name = first;
                while *self.peek() == TokenKind::Dot {
                    self.bump();
                    name.push('.');
                    name.push_str(&self.ident(&format!("a name after \"{name}\""))?.name);
                }
                if *self.peek() == TokenKind::LParen {
                    self.bump();
                    let args = self.args(&format!("{name}()"))?;
                    Ok(Expr::Func { name, args, pos })
                } else {
                    Ok(Expr::Const(name, pos))
                }
            }
            _ => self.error("a value (a string, number, list, name or function call)"),
        }
    }

    fn enum_block(&mut self) -> PResult<EnumBlock> {
        let name = self.block_open("enum")?;
        let mut values = Vec::new();
        let attrs = self.block_body(
            |p| {
                let name = p.ident("an enum value")?;
                let attrs = p.attributes(false)?;
                p.end_of_line(&format!(
                    "an attribute (\"@…\") or the end of the line after enum value \"{}\"",
                    name.name
                ))?;
                values.push(EnumValueDecl { name, attrs });
                Ok(())
            },
            |_| format!("an enum value, \"@@\" or \"}}\" in enum \"{}\"", name.name),
        )?;
        Ok(EnumBlock {
            name,
            values,
            attrs,
        })
    }
}

const TOP_EXPECTED: &str =
    "\"model\", \"view\", \"enum\", \"type\", \"datasource\" or \"generator\"";

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (u32, u32, String) {
        let e = parse(0, text).unwrap_err();
        (e.pos.line, e.pos.col, e.message)
    }

    #[test]
    fn parses_fields_attributes_and_arguments() {
        let ast = parse(
            0,
            r#"
/// doc
model Post {
  id      Int      @id @default(autoincrement())
  price   Decimal? @db.Decimal(10, 2)
  tags    String[] @default([])
  author  User     @relation(name: "x", fields: [authorId], references: [id], onDelete: Cascade)
  geo     Unsupported("point")?
  @@index([title(ops: raw("gin_trgm_ops"))], type: Gin)
  @@unique([
    a,
    b,
  ])
}
"#,
        )
        .unwrap();
        let Top::Model(m) = &ast.tops[0] else {
            panic!()
        };
        assert_eq!(m.fields.len(), 5);
        assert_eq!(m.fields[1].arity, Arity::Optional);
        assert_eq!(m.fields[1].attrs[0].name, "db.Decimal");
        assert_eq!(m.fields[1].attrs[0].args.len(), 2);
        assert_eq!(m.fields[2].arity, Arity::List);
        let rel = &m.fields[3].attrs[0];
        assert!(matches!(rel.named("fields"), Some(Expr::Array(v, _)) if v.len() == 1));
        assert!(matches!(rel.arg("name"), Some(Expr::Str(s, _)) if s == "x"));
        assert!(matches!(&m.fields[4].ty, TypeRef::Unsupported(s) if s == "point"));
        assert_eq!(m.attrs.len(), 2);
    }

    #[test]
    fn keywords_are_contextual() {
        let ast = parse(0, "model A {\n  view String\n  type Int\n  model Int?\n}\n").unwrap();
        let Top::Model(m) = &ast.tops[0] else {
            panic!()
        };
        assert_eq!(m.fields[0].name.name, "view");
    }

    #[test]
    fn missing_field_type_names_line_and_column() {
        let (line, col, msg) = err("model User {\n  id Int @id\n  email @unique\n}\n");
        assert_eq!((line, col), (3, 9));
        assert_eq!(msg, "expected a field type after \"email\", found \"@\"");
        let (line, col, msg) = err("model User {\n  email\n}\n");
        assert_eq!((line, col), (2, 8));
        assert!(msg.contains("found the end of the line"), "{msg}");
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        for (text, says) in [
            ("modle A {}", "expected \"model\""),
            ("model A {\n  id Int @id(\n}", "expected a value"),
            ("model A {\n  a Int @default(1 2)\n}", "\",\" or \")\""),
            ("model A {\n  a Int[]?\n}", "optional lists"),
            ("model A {\n  a: Int\n}", "no colon"),
            ("model A {\n  a Int @@id\n}", "own line"),
            ("model A {\n  a Int\n", "end of the file"),
            ("datasource db {\n  provider \"x\"\n}", "\"=\""),
        ] {
            let message = err(text).2;
            assert!(message.contains(says), "{text:?}: {message}");
        }
        let (line, col, _) = err("enum E {\n  A\n  B C\n}");
        assert_eq!((line, col), (3, 5));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("model A {{\n  a Int @default({})\n}}", "[".repeat(100_000));
        assert!(err(&text).2.contains("nested more than"));
    }

    #[test]
    fn never_panics_on_truncated_input() {
        let text = r#"datasource db { provider = "postgresql" }
model A { id Int @id @default(dbgenerated("x")) @db.VarChar(3)
  @@map("a") }
enum E { X @map("x") }"#;
        for end in 0..=text.len() {
            if text.is_char_boundary(end) {
                let _ = parse(0, &text[..end]);
            }
        }
    }
}
