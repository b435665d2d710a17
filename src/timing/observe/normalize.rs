//! The text a statement is matched by when no query id matches: the
//! captured SQL and what `pg_stat_statements` recorded, both normalised
//! the same way.

use crate::timing::ops::{Piece, Statement};

/// The SQL of a statement as text to match (lists as one placeholder).
pub(super) fn statement_text(st: &Statement) -> String {
    match &st.pieces {
        None => st.sql.clone(),
        Some(pieces) => {
            let mut s = String::new();
            for p in pieces {
                match p {
                    Piece::Text(t) => s.push_str(t),
                    Piece::Param(_) | Piece::List { .. } => s.push_str("$1"),
                }
            }
            s
        }
    }
}

/// Normalised SQL for matching: comments dropped, string and number
/// literals and placeholders as `?`, runs of `?, ?, …` and `(?), (?)`
/// folded to one, unquoted words lower-cased, quoted identifiers unquoted
/// when that changes nothing, whitespace collapsed.
pub fn normalize_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i = crate::timing::explain_mask::after_quoted(&chars, i);
            toks.push("?".into());
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        s.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !s.starts_with(|c: char| c.is_ascii_digit());
            toks.push(if plain { s } else { format!("\"{s}\"") });
        } else if c == '$' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            toks.push("?".into());
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            toks.push("?".into());
        } else if c.is_alphabetic() || c == '_' {
            let mut s = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                s.extend(chars[i].to_lowercase());
                i += 1;
            }
            toks.push(s);
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            toks.push("::".into());
            i += 2;
        } else {
            toks.push(c.to_string());
            i += 1;
        }
    }
    // Fold `? , ? , …` and `( ? ) , ( ? )` runs.
    let mut folded: Vec<String> = Vec::with_capacity(toks.len());
    for t in toks {
        folded.push(t);
        loop {
            let n = folded.len();
            if n >= 3 && folded[n - 1] == "?" && folded[n - 2] == "," && folded[n - 3] == "?" {
                folded.truncate(n - 2);
                continue;
            }
            if n >= 7
                && folded[n - 1] == ")"
                && folded[n - 2] == "?"
                && folded[n - 3] == "("
                && folded[n - 4] == ","
                && folded[n - 5] == ")"
                && folded[n - 6] == "?"
                && folded[n - 7] == "("
            {
                folded.truncate(n - 4);
                continue;
            }
            break;
        }
    }
    folded.join(" ")
}

/// Whether a statement is transaction or session control.
pub(super) fn is_control(query: &str) -> bool {
    let first = normalize_sql(query);
    let word = first.split(' ').next().unwrap_or("");
    matches!(
        word,
        "begin"
            | "start"
            | "commit"
            | "end"
            | "rollback"
            | "savepoint"
            | "release"
            | "set"
            | "reset"
            | "show"
            | "deallocate"
            | "discard"
            | "listen"
            | "unlisten"
            | "prepare"
    )
}
