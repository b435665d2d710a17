//! Canonical JSON: what `JSON.parse` leaves of a document, printed one way.
//!
//! Owns: a strict JSON parser (RFC 8259, as `JSON.parse` accepts it) and a
//! printer with sorted object keys, no whitespace, duplicate keys resolved
//! last-wins and every number turned into an f64 and printed as JavaScript
//! does. Numbers are parsed here rather than by serde_json so that no crate
//! feature (`arbitrary_precision`, `preserve_order`) can change the result.

use std::borrow::Cow;

use super::decimal::push_js_number;

/// Deeper documents are reported unreadable rather than risking the stack.
const MAX_DEPTH: usize = 512;

/// A parsed value. Strings are WTF-8 bytes: UTF-8, except that an unpaired
/// `\uD800`–`\uDFFF` escape (legal in JSON, kept by `JSON.parse`) is held as
/// its 3-byte generalised encoding and printed back as the same escape.
enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, [u8]>),
    Arr(Vec<Val<'a>>),
    Obj(Vec<(Cow<'a, [u8]>, Val<'a>)>),
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// The items of an array or the members of an object, the opening
    /// bracket first: `item` reads each, up to `close`.
    #[inline]
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.eat(&[close]).is_some() {
            return Some(out);
        }
        loop {
            out.push(item(self)?);
            self.ws();
            match *self.b.get(self.i)? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Val<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let v = match *self.b.get(self.i)? {
            b'n' => self.eat(b"null").map(|_| Val::Null)?,
            b't' => self.eat(b"true").map(|_| Val::Bool(true))?,
            b'f' => self.eat(b"false").map(|_| Val::Bool(false))?,
            b'"' => Val::Str(self.string()?),
            b'[' => Val::Arr(self.items(b']', |p| p.value(depth + 1))?),
            b'{' => {
                let mut members = self.items(b'}', |p| {
                    p.ws();
                    if p.b.get(p.i) != Some(&b'"') {
                        return None;
                    }
                    let k = p.string()?;
                    p.ws();
                    p.eat(b":")?;
                    Some((k, p.value(depth + 1)?))
                })?;
                // Sorted keys make key order irrelevant; reversing first and
                // sorting stably lets `dedup` keep the LAST duplicate, as
                // `JSON.parse` does.
                members.reverse();
                members.sort_by(|a, b| a.0.cmp(&b.0));
                members.dedup_by(|later, earlier| later.0 == earlier.0);
                Val::Obj(members)
            }
            _ => Val::Num(self.number()?),
        };
        Some(v)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` → the f64 JavaScript
    /// gets (correctly rounded; overflow is ±Infinity as in `JSON.parse`).
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        let b = self.b;
        let run = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = run(i),
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            let j = run(i + 1);
            if j == i + 1 {
                return None;
            }
            i = j;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let j = run(i);
            if j == i {
                return None;
            }
            i = j;
        }
        self.i = i;
        std::str::from_utf8(&b[start..i]).ok()?.parse().ok()
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let mut v = 0;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        self.i += 4;
        Some(v)
    }

    /// A string literal; borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, [u8]>> {
        self.i += 1; // opening quote
        let start = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    let s = &self.b[start..self.i];
                    self.i += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let mut s = self.b[start..self.i].to_vec();
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(s));
                }
                b'\\' => {
                    self.i += 1;
                    let c = *self.b.get(self.i)?;
                    self.i += 1;
                    match c {
                        b'"' | b'\\' | b'/' => s.push(c),
                        b'b' => s.push(0x08),
                        b'f' => s.push(0x0c),
                        b'n' => s.push(b'\n'),
                        b'r' => s.push(b'\r'),
                        b't' => s.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.b[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            push_wtf8(&mut s, cp);
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                c => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// UTF-8 encoding generalised to lone surrogates.
fn push_wtf8(s: &mut Vec<u8>, cp: u32) {
    match cp {
        0..0x80 => s.push(cp as u8),
        0x80..0x800 => s.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]),
        0x800..0x10000 => s.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
        _ => s.extend_from_slice(&[
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_u_escape(out: &mut Vec<u8>, cp: u32) {
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((cp >> shift) & 0xF) as usize]);
    }
}

/// A string as `JSON.stringify` writes it.
fn print_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..0x20 => push_u_escape(out, u32::from(c)),
            0xED if s.get(i + 1).is_some_and(|&n| n >= 0xA0) && i + 2 < s.len() => {
                let cp = 0xD000 | (u32::from(s[i + 1] & 0x3F) << 6) | u32::from(s[i + 2] & 0x3F);
                push_u_escape(out, cp);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out.push(b'"');
}

fn print(out: &mut Vec<u8>, v: &Val<'_>) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        // `JSON.stringify(Infinity)` is `null`.
        Val::Num(f) if !f.is_finite() => out.extend_from_slice(b"null"),
        Val::Num(f) => push_js_number(out, *f),
        Val::Str(s) => print_str(out, s),
        Val::Arr(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                print(out, item);
            }
            out.push(b']');
        }
        Val::Obj(members) => {
            out.push(b'{');
            for (n, (k, item)) in members.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                print_str(out, k);
                out.push(b':');
                print(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Appends the canonical form of the JSON document `text` to `out`, or
/// returns `false` (having written nothing) when `JSON.parse` would throw.
pub(super) fn canonicalize(text: &str, out: &mut Vec<u8>) -> bool {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
    };
    let Some(v) = p.value(0) else {
        return false;
    };
    p.ws();
    if p.i != p.b.len() {
        return false;
    }
    print(out, &v);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Option<String> {
        let mut out = Vec::new();
        canonicalize(s, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canon(r#" { "b" : [1, 2, {"z": null, "a": true}], "a": "x" } "#).unwrap(),
            r#"{"a":"x","b":[1,2,{"a":true,"z":null}]}"#
        );
        assert_eq!(canon(r#"{"b":1,"a":2}"#), canon(r#"{"a":2,"b":1}"#));
    }

    #[test]
    fn numbers_become_what_javascript_holds() {
        assert_eq!(
            canon("[1.10, 1e2, -0, 0.5e-7]").unwrap(),
            "[1.1,100,0,5e-8]"
        );
        assert_eq!(
            canon("12345678901234567890").unwrap(),
            "12345678901234567000"
        );
        assert_eq!(canon("9007199254740993"), canon("9007199254740992"));
        assert_eq!(canon("1e400").unwrap(), "null");
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        assert_eq!(canon(r#"{"a":1,"b":0,"a":2}"#).unwrap(), r#"{"a":2,"b":0}"#);
    }

    #[test]
    fn strings_are_unescaped_then_printed_one_way() {
        assert_eq!(canon(r#""\u0041\/\n\u00e9é""#).unwrap(), "\"A/\\né\u{e9}\"");
        assert_eq!(canon(r#""\ud83d\ude00""#).unwrap(), "\"\u{1F600}\"");
        assert_eq!(canon(r#""\uD800x""#).unwrap(), r#""\ud800x""#);
        assert_eq!(canon(r#""\u001F""#).unwrap(), r#""\u001f""#);
        assert_eq!(canon(r#"{"\u0061":1}"#), canon(r#"{"a":1}"#));
    }

    #[test]
    fn rejects_what_json_parse_rejects() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "+1",
            "NaN",
            "'a'",
            "\"\t\"",
            "[1] x",
            "{a:1}",
            "tru",
            "\"\\x\"",
        ] {
            assert_eq!(canon(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(canon(&deep), None);
    }
}
