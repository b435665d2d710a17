//! Tokens of the Prisma schema language.
//!
//! Owns: turning one file's text into tokens with 1-based line:column
//! positions, unescaping string literals and dropping `//` / `///` comments.
//! Block comments (`/* … */`, `/** … */`) become [`TokenKind::BlockComment`]
//! tokens: Prisma accepts them only where a line item may start or end, and
//! the parser knows where that is.
//! Newlines are tokens, because Prisma's grammar is line-oriented (one field
//! per line); the parser decides where they matter. It knows nothing of
//! blocks or attributes (that is `parser`).

use std::fmt;

/// A place in one of the schema files: `file` indexes the loader's file list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// Identifier or keyword: `model`, `String`, `db`, `Cascade`, `true`.
    Ident(String),
    /// String literal, already unescaped.
    Str(String),
    /// Numeric literal as written (`10`, `-1`, `0.05`).
    Num(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Eq,
    Question,
    /// `@`
    At,
    /// `@@`
    AtAt,
    Dot,
    Newline,
    /// `/* … */` or `/** … */` (may span lines). `then_line_comment`: a
    /// `//` comment follows on the same line (Prisma then rejects it at the
    /// end of a field line).
    BlockComment {
        then_line_comment: bool,
    },
    Eof,
}

impl fmt::Display for TokenKind {
    /// How a token is named in "expected …, found …" messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(s) => write!(f, "\"{s}\""),
            TokenKind::Str(s) => {
                let short: String = s.chars().take(30).collect();
                let dots = if short.len() < s.len() { "…" } else { "" };
                write!(f, "the string {:?}", format!("{short}{dots}"))
            }
            TokenKind::Num(s) => write!(f, "the number {s}"),
            TokenKind::LBrace => f.write_str("\"{\""),
            TokenKind::RBrace => f.write_str("\"}\""),
            TokenKind::LParen => f.write_str("\"(\""),
            TokenKind::RParen => f.write_str("\")\""),
            TokenKind::LBracket => f.write_str("\"[\""),
            TokenKind::RBracket => f.write_str("\"]\""),
            TokenKind::Comma => f.write_str("\",\""),
            TokenKind::Colon => f.write_str("\":\""),
            TokenKind::Eq => f.write_str("\"=\""),
            TokenKind::Question => f.write_str("\"?\""),
            TokenKind::At => f.write_str("\"@\""),
            TokenKind::AtAt => f.write_str("\"@@\""),
            TokenKind::Dot => f.write_str("\".\""),
            TokenKind::Newline => f.write_str("the end of the line"),
            TokenKind::BlockComment { .. } => f.write_str("a block comment \"/* … */\""),
            TokenKind::Eof => f.write_str("the end of the file"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub pos: Pos,
}

/// A lexical error: where, and what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub pos: Pos,
    pub message: String,
}

struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    file: u32,
    line: u32,
    col: u32,
}

impl Cursor<'_> {
    fn pos(&self) -> Pos {
        Pos {
            file: self.file,
            line: self.line,
            col: self.col,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn bump_if(&mut self, want: char) -> bool {
        if self.peek() == Some(want) {
            self.bump();
            true
        } else {
            false
        }
    }
}

/// Identifiers are ASCII: a letter or `_` first, then letters, digits, `_`
/// and `-` (Prisma allows dashes inside names).
fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Splits `text` into tokens. The last token is always [`TokenKind::Eof`].
pub fn lex(file: u32, text: &str) -> Result<Vec<Token>, LexError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cur = Cursor {
        chars: text.chars().peekable(),
        file,
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    while let Some(c) = cur.peek() {
        let pos = cur.pos();
        let kind = match c {
            ' ' | '\t' | '\r' | '\u{c}' => {
                cur.bump();
                continue;
            }
            '\n' => {
                cur.bump();
                TokenKind::Newline
            }
            '/' => {
                cur.bump();
                if cur.bump_if('*') {
                    let mut prev = '\0';
                    loop {
                        match cur.bump() {
                            None => {
                                return Err(LexError {
                                    pos,
                                    message: "unterminated block comment: close it with \"*/\""
                                        .into(),
                                });
                            }
                            Some('/') if prev == '*' => break,
                            Some(c) => prev = c,
                        }
                    }
                    // Is a `//` comment next on this line?
                    let mut ahead = cur.chars.clone();
                    let mut then_line_comment = false;
                    while let Some(c) = ahead.next() {
                        match c {
                            ' ' | '\t' | '\r' => continue,
                            '/' => then_line_comment = ahead.next() == Some('/'),
                            _ => {}
                        }
                        break;
                    }
                    out.push(Token {
                        kind: TokenKind::BlockComment { then_line_comment },
                        pos,
                    });
                    continue;
                }
                if !cur.bump_if('/') {
                    return Err(LexError {
                        pos,
                        message: "unexpected \"/\": comments start with \"//\" or \"/*\"".into(),
                    });
                }
                while let Some(c) = cur.peek() {
                    if c == '\n' {
                        break;
                    }
                    cur.bump();
                }
                continue;
            }
            '"' => {
                cur.bump();
                TokenKind::Str(lex_string(&mut cur, pos)?)
            }
            '{' => single(&mut cur, TokenKind::LBrace),
            '}' => single(&mut cur, TokenKind::RBrace),
            '(' => single(&mut cur, TokenKind::LParen),
            ')' => single(&mut cur, TokenKind::RParen),
            '[' => single(&mut cur, TokenKind::LBracket),
            ']' => single(&mut cur, TokenKind::RBracket),
            ',' => single(&mut cur, TokenKind::Comma),
            ':' => single(&mut cur, TokenKind::Colon),
            '=' => single(&mut cur, TokenKind::Eq),
            '?' => single(&mut cur, TokenKind::Question),
            '.' => single(&mut cur, TokenKind::Dot),
            '@' => {
                cur.bump();
                if cur.bump_if('@') {
                    TokenKind::AtAt
                } else {
                    TokenKind::At
                }
            }
            c if c.is_ascii_digit() || c == '-' => TokenKind::Num(lex_number(&mut cur, pos)?),
            c if ident_start(c) => {
                let mut s = String::new();
                while let Some(c) = cur.peek() {
                    if !ident_continue(c) {
                        break;
                    }
                    s.push(c);
                    cur.bump();
                }
                TokenKind::Ident(s)
            }
            other => {
                return Err(LexError {
                    pos,
                    message: format!("unexpected character {other:?}"),
                });
            }
        };
        out.push(Token { kind, pos });
    }
    out.push(Token {
        kind: TokenKind::Eof,
        pos: cur.pos(),
    });
    Ok(out)
}

fn single(cur: &mut Cursor<'_>, kind: TokenKind) -> TokenKind {
    cur.bump();
    kind
}

/// `-?digits(.digits)?([eE][+-]?digits)?`
fn lex_number(cur: &mut Cursor<'_>, pos: Pos) -> Result<String, LexError> {
    let mut s = String::new();
    if cur.bump_if('-') {
        s.push('-');
    }
    let digits = |cur: &mut Cursor<'_>, s: &mut String| {
        let mut n = 0;
        while let Some(c) = cur.peek().filter(char::is_ascii_digit) {
            s.push(c);
            cur.bump();
            n += 1;
        }
        n
    };
    let bad = |s: &str| LexError {
        pos,
        message: format!("malformed number \"{s}\""),
    };
    if digits(cur, &mut s) == 0 {
        return Err(bad(&s));
    }
    if cur.bump_if('.') {
        s.push('.');
        if digits(cur, &mut s) == 0 {
            return Err(bad(&s));
        }
    }
    if let Some(e) = cur.peek().filter(|c| *c == 'e' || *c == 'E') {
        s.push(e);
        cur.bump();
        if let Some(sign) = cur.peek().filter(|c| *c == '+' || *c == '-') {
            s.push(sign);
            cur.bump();
        }
        if digits(cur, &mut s) == 0 {
            return Err(bad(&s));
        }
    }
    if let Some(c) = cur.peek().filter(|c| ident_continue(*c)) {
        s.push(c);
        return Err(bad(&s));
    }
    Ok(s)
}

/// The body of a string literal after its opening quote. Escapes follow
/// JSON (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX` with
/// surrogate pairs), which is what Prisma's own parser accepts.
fn lex_string(cur: &mut Cursor<'_>, start: Pos) -> Result<String, LexError> {
    let mut s = String::new();
    loop {
        let pos = cur.pos();
        match cur.bump() {
            None | Some('\n') => {
                return Err(LexError {
                    pos: start,
                    message: "unterminated string: add the closing '\"' on the same line".into(),
                });
            }
            Some('"') => return Ok(s),
            Some('\\') => {
                let esc = cur.bump();
                match esc {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('/') => s.push('/'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let hi = hex4(cur, pos)?;
                        let c = if (0xD800..0xDC00).contains(&hi) {
                            // A high surrogate must be followed by `\uDC00`-`\uDFFF`.
                            let lo_ok = cur.bump() == Some('\\') && cur.bump() == Some('u');
                            let lo = if lo_ok { hex4(cur, pos)? } else { 0 };
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(LexError {
                                    pos,
                                    message: "unpaired surrogate in \\u escape".into(),
                                });
                            }
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        } else {
                            char::from_u32(hi)
                        };
                        match c {
                            Some(c) => s.push(c),
                            None => {
                                return Err(LexError {
                                    pos,
                                    message: "invalid \\u escape".into(),
                                });
                            }
                        }
                    }
                    other => {
                        let shown = other
                            .map(|c| format!("\\{c}"))
                            .unwrap_or_else(|| "\\".into());
                        return Err(LexError {
                            pos,
                            message: format!("unknown escape sequence \"{shown}\" in string"),
                        });
                    }
                }
            }
            Some(c) => s.push(c),
        }
    }
}

fn hex4(cur: &mut Cursor<'_>, pos: Pos) -> Result<u32, LexError> {
    let mut v = 0u32;
    for _ in 0..4 {
        let d = cur
            .bump()
            .and_then(|c| c.to_digit(16))
            .ok_or_else(|| LexError {
                pos,
                message: "\\u escape needs four hex digits".into(),
            })?;
        v = v * 16 + d;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(0, text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_attributes_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("id Int @id // c\n/// doc\n@@map(\"x\")"),
            vec![
                Ident("id".into()),
                Ident("Int".into()),
                At,
                Ident("id".into()),
                Newline,
                Newline,
                AtAt,
                Ident("map".into()),
                LParen,
                Str("x".into()),
                RParen,
                Eof
            ]
        );
    }

    #[test]
    fn unescapes_strings() {
        assert_eq!(
            kinds(r#""{\"a\": 1}\n\u00e9\ud83d\udcd9""#)[0],
            TokenKind::Str("{\"a\": 1}\n\u{e9}\u{1f4d9}".into())
        );
    }

    #[test]
    fn numbers_and_positions() {
        let toks = lex(0, "a\n  @default(-1.5)").unwrap();
        assert_eq!(
            toks[2].pos,
            Pos {
                file: 0,
                line: 2,
                col: 3
            }
        );
        assert_eq!(toks[5].kind, TokenKind::Num("-1.5".into()));
    }

    #[test]
    fn reports_errors_with_positions() {
        let e = lex(0, "model A {\n  x String @default(\"abc\n}").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (2, 21));
        assert!(e.message.contains("unterminated string"), "{}", e.message);
        let e = lex(0, "a $").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 3));
        let e = lex(0, r#""\q""#).unwrap_err();
        assert!(e.message.contains("\\q"), "{}", e.message);
    }
}
