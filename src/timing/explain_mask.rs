//! Masks parameter and row values in saved query plans (issue 10).
//!
//! `--explain` saves `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` output. With
//! custom plans the server inlines each parameter into the plan's
//! conditions (`(email = 'ana@example.com'::text)`); PostgreSQL 15 has no
//! `GENERIC_PLAN`, so the values are masked in the saved JSON instead:
//! every quoted literal becomes `'…'` and every bare number in an
//! expression `?`. Plan shape, node types, costs, timings and row counts
//! (numbers as JSON numbers, not text) are kept. Owns nothing else.

use serde_json::Value;

/// Plan keys whose text is an expression that may hold inlined values.
const EXPRESSION_KEYS: &[&str] = &[
    "Filter",
    "Index Cond",
    "Recheck Cond",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "One-Time Filter",
    "TID Cond",
    "Output",
    "Sort Key",
    "Group Key",
    "Presorted Key",
    "Cache Key",
    "Repeatable Seed",
    "Sampling Parameters",
    "Function Call",
    "Table Function Call",
    "Conflict Filter",
    "Run Condition",
];

/// Masks values in a saved plan document in place.
pub fn mask(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if EXPRESSION_KEYS.contains(&k.as_str()) {
                    mask_all_strings(v);
                } else {
                    mask(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

fn mask_all_strings(v: &mut Value) {
    match v {
        Value::String(s) => *s = mask_literals(s),
        Value::Array(items) => items.iter_mut().for_each(mask_all_strings),
        Value::Object(map) => map.values_mut().for_each(mask_all_strings),
        _ => {}
    }
}

/// The index just past the SQL string literal that opens at `chars[open]`
/// (`''` escapes a quote inside it; an unterminated one runs to the end).
pub fn after_quoted(chars: &[char], open: usize) -> usize {
    let mut i = open + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            break;
        }
        i += 1;
    }
    i + 1
}

/// `(a.email = 'x@y'::text) AND (id > 42)` → `(a.email = '…'::text) AND (id > ?)`.
pub fn mask_literals(expr: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i = after_quoted(&chars, i);
            out.push_str("'…'");
            continue;
        }
        let prev = if i == 0 { ' ' } else { chars[i - 1] };
        let starts_number = c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit) && !word(prev));
        if starts_number && !word(prev) && prev != '$' {
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            out.push('?');
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '"'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_values_are_masked_and_the_shape_is_kept() {
        let mut plan = serde_json::json!([{
            "Plan": {
                "Node Type": "Index Scan",
                "Index Cond": "(users.email = 'ana.o''brien@example.com'::text)",
                "Filter": "((t1.total > 42.50) AND (t1.id <> -7) AND (c2 = $1))",
                "Actual Rows": 1,
                "Plans": [{"Node Type": "Seq Scan", "Filter": "(name ~~ '%ana%'::text)"}]
            }
        }]);
        mask(&mut plan);
        let text = plan.to_string();
        assert!(!text.contains("ana"), "{text}");
        assert!(!text.contains("42.50") && !text.contains("-7"), "{text}");
        assert!(text.contains("(users.email = '…'::text)"), "{text}");
        assert!(text.contains("(t1.total > ?)"), "{text}");
        assert!(text.contains("(c2 = $1)"), "{text}");
        assert_eq!(plan[0]["Plan"]["Actual Rows"], 1);
    }
}
