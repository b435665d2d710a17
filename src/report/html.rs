//! `report.html`: one self-contained page for a browser — inline CSS and
//! inline SVG, no scripts, no network assets. It opens with the verdict
//! banner (each repository READY / NOT READY with its flag and why, the
//! global flag, the closing line, anything cut), then the schema findings
//! with value-risk shapes marked, the data-check tables when the run
//! checked tables, and per timed operation a latency histogram of source
//! against target. Sections are functions of the [`RunReport`]: a new kind
//! of result is a new function called from [`render`].

use std::fmt::Write as _;

use super::{Rendered, RunReport};

pub const HTML: Rendered =
    Rendered::new(&["report.html"], |run| Ok(Some(render(run).into_bytes())));

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    escape_markup(s, "&#39;", false)
}

/// `&`, `<`, `>`, `"` and `'` as entities (`'` as `apos`); `xml` also drops
/// the control characters XML 1.0 cannot carry.
pub(super) fn escape_markup(s: &str, apos: &str, xml: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apos),
            '\t' | '\n' | '\r' => out.push(c),
            c if xml && (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// Table cells of numbers (right-aligned).
pub(super) fn number_cells<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| format!("<td class=\"n\">{v}</td>"))
        .collect()
}

/// `<ul class="notes">` with one `<li>` per item (HTML the caller has
/// escaped); nothing when there are none.
pub(super) fn note_list(s: &mut String, items: impl IntoIterator<Item = String>) {
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return;
    }
    let _ = writeln!(s, "<ul class=\"notes\">");
    for i in items {
        let _ = writeln!(s, "<li>{i}</li>");
    }
    let _ = writeln!(s, "</ul>");
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1080px; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #dde1e8; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e6e9ef; padding: .3rem .5rem; text-align: left; }
th { background: #f4f6f9; font-weight: 600; }
td.n { text-align: right; }
.meta { color: #59627a; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: .7rem; font-size: .8rem; font-weight: 600; color: #fff; }
.v-same, .v-ok { background: #5b7083; } .v-faster { background: #2e8540; } .v-slower, .v-differs { background: #c0392b; }
.v-mismatch { background: #8e44ad; } .v-error { background: #111; }
.op { border: 1px solid #e6e9ef; border-radius: .4rem; padding: .2rem 1rem 1rem; margin: 1rem 0; }
.legend span { margin-right: 1rem; } .sw { display: inline-block; width: .8rem; height: .8rem; vertical-align: -1px; margin-right: .3rem; }
code { background: #f4f6f9; padding: 0 .2rem; border-radius: .2rem; }
ul.notes { color: #59627a; }
#verdict { border: 2px solid #5b7083; border-radius: .5rem; padding: .6rem 1.2rem .8rem; margin: 0 0 1rem; background: #f7f9fb; }
#verdict.not-ready { border-color: #c0392b; background: #fdf3f2; }
#verdict.ready { border-color: #2e8540; background: #f1f8f3; }
#verdict h1 { margin: .2rem 0 .5rem; }
#verdict ul { list-style: none; padding: 0; margin: .3rem 0; }
#verdict li { margin: .25rem 0; font-size: 1rem; }
#verdict .closing { font-weight: 600; margin: .5rem 0 .2rem; }
#verdict .global { font-size: 1.1rem; font-weight: 700; margin: .4rem 0; }
.v-ready { background: #2e8540; } .v-not-ready { background: #c0392b; } .v-data-ok { background: #5b7083; }
.truncated { color: #8a4b00; font-weight: 600; }
.risk { display: inline-block; white-space: nowrap; padding: 0 .4rem; border-radius: .3rem; font-size: .8rem; font-weight: 700; }
.risk-value { background: #c0392b; color: #fff; } .risk-shape { background: #e6e9ef; color: #59627a; }
tr.value-risk td { background: #fdf3f2; }
.sev-error { color: #c0392b; font-weight: 700; }
"#;

pub fn render(run: &RunReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>parity {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&run.command)
    );
    banner(&mut s, run);
    let _ = writeln!(
        s,
        "<p class=\"meta\">source <b>{}</b> ({}, {}) · target <b>{}</b> ({}, {}) · started {}{}{}</p>",
        esc(&run.source.name),
        esc(&run.source.orm),
        esc(&run.source.database),
        esc(&run.target.name),
        esc(&run.target.orm),
        esc(&run.target.database),
        esc(&run.started_at),
        if run.in_progress {
            " · <b>in progress</b>"
        } else {
            ""
        },
        run.exit_code
            .map(|c| format!(" · exit code {c}"))
            .unwrap_or_default()
    );
    if let Some(reason) = &run.incomplete {
        let _ = writeln!(
            s,
            "<p class=\"meta\"><b>INCOMPLETE: {}; these results are partial.</b></p>",
            esc(reason)
        );
    }
    schema_section(&mut s, run);
    if !run.tables.is_empty() {
        data_section(&mut s, run);
    }
    if let Some(t) = &run.timing {
        super::timing::html::section(&mut s, t);
    }
    if let Some(o) = &run.observe {
        super::observe::html_section(&mut s, o);
    }
    if !run.notes.is_empty() {
        let _ = writeln!(s, "<h2>Notes</h2>");
        note_list(&mut s, run.notes.iter().map(|n| esc(n)));
    }
    s.push_str("</body>\n</html>\n");
    s
}

pub(super) fn badge(v: &str) -> String {
    format!("<span class=\"badge v-{v}\">{v}</span>")
}

/// Escapes `s` and turns Markdown code spans (`` `x` ``) into `<code>`.
fn esc_code(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `READY` → `ready`, `NOT READY` → `not-ready`, for CSS classes.
fn class_of(label: &str) -> String {
    label.to_ascii_lowercase().replace(' ', "-")
}

/// The verdict banner, first on the page: the title with the overall
/// verdict, one line per repository (label, flag, why), the global flag,
/// the closing line and what `--max-differences` cut.
fn banner(s: &mut String, run: &RunReport) {
    // `check` and `run` judge repositories; other commands (`backup`,
    // `timing`) have their exit code and the closing line.
    let verdict = run.verdict.as_ref();
    let overall = match (verdict, run.in_progress) {
        (_, true) => "IN PROGRESS".to_string(),
        (Some(v), false) if v.scope == "gate" => {
            if v.repositories.iter().all(|r| r.ready) && !v.repositories.is_empty() {
                "READY".into()
            } else {
                "NOT READY".into()
            }
        }
        (Some(v), false) => {
            if v.repositories.iter().all(|r| r.ready) {
                "DATA OK".into()
            } else {
                "NOT READY".into()
            }
        }
        (None, false) => match run.exit_code {
            Some(0) => "OK".into(),
            Some(_) => "NOT OK".into(),
            None => String::new(),
        },
    };
    let class = match overall.as_str() {
        "READY" | "OK" => "ready",
        "NOT READY" | "NOT OK" => "not-ready",
        _ => "neutral",
    };
    let _ = writeln!(s, "<header id=\"verdict\" class=\"{class}\">");
    let _ = writeln!(
        s,
        "<h1>parity {}{}</h1>",
        esc(&run.command),
        if overall.is_empty() {
            String::new()
        } else {
            format!(": {}", esc(&overall))
        }
    );
    if let Some(v) = verdict {
        let _ = writeln!(s, "<ul class=\"repositories\">");
        for r in &v.repositories {
            let _ = writeln!(
                s,
                "<li class=\"repository\" data-ready=\"{}\"><span class=\"badge v-{}\">{}</span> <b>{}</b>{} — {}</li>",
                r.ready,
                class_of(&r.label),
                esc(&r.label),
                esc(&r.repository),
                r.flag
                    .as_deref()
                    .map(|f| format!(" <code class=\"flag\">{}</code>", esc(f)))
                    .unwrap_or_default(),
                esc_code(&r.why)
            );
        }
        let _ = writeln!(s, "</ul>");
        if let Some(g) = &v.global_flag {
            let _ = writeln!(
                s,
                "<p class=\"global\" data-ready=\"{}\"><span class=\"badge v-{}\">{}</span> {}</p>",
                g.ready,
                if g.ready { "ready" } else { "not-ready" },
                if g.ready { "READY" } else { "NOT READY" },
                esc(&g.line)
            );
        }
        if !v.summary.is_empty() && v.scope != "gate" {
            let _ = writeln!(s, "<p class=\"closing\">{}</p>", esc(&v.summary));
        } else if !run.tables.is_empty() {
            let _ = writeln!(
                s,
                "<p class=\"closing\">Data: {}</p>",
                esc(&super::verdict::data_line(&run.tables))
            );
        }
    } else if run.in_progress {
        let _ = writeln!(
            s,
            "<p class=\"closing\">{} tables checked so far; the verdict comes when the run ends.</p>",
            run.tables.len()
        );
    } else if !run.tables.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"closing\">{}</p>",
            esc(&super::verdict::closing_line(
                &run.tables,
                run.exit_code.unwrap_or(0)
            ))
        );
    }
    for l in super::verdict::truncation_lines(&run.tables) {
        let _ = writeln!(s, "<p class=\"truncated\">{}</p>", esc(&l));
    }
    let _ = writeln!(s, "</header>");
}

/// `value risk` (can lose information) stands out; `shape only` does not.
fn risk_mark(risk: crate::plan::ShapeRisk) -> &'static str {
    match risk {
        crate::plan::ShapeRisk::Value => {
            "<span class=\"risk risk-value\" title=\"can lose information\">value risk</span>"
        }
        crate::plan::ShapeRisk::Shape => "<span class=\"risk risk-shape\">shape only</span>",
        crate::plan::ShapeRisk::Note => {
            "<span class=\"risk risk-note\" title=\"same JS type; some values may be cut\">risk note</span>"
        }
    }
}

/// Schema findings: `parity run`'s findings (errors, warnings, shapes), or
/// for a data check the mappings' shape differences of the checked tables.
fn schema_section(s: &mut String, run: &RunReport) {
    struct Row {
        severity: String,
        code: String,
        place: String,
        risk: Option<crate::plan::ShapeRisk>,
        message: String,
        allowed: bool,
    }
    let rows: Vec<Row> = match &run.schema_findings {
        Some(f) => f
            .iter()
            .map(|f| Row {
                severity: f.severity.as_str().into(),
                code: f.code.clone(),
                place: match (&f.table, &f.column) {
                    (Some(t), Some(c)) => format!("{t}.{c}"),
                    (Some(t), None) => t.clone(),
                    _ => f.side.clone().unwrap_or_default(),
                },
                risk: f.risk,
                message: f.message.clone(),
                allowed: f.allowed,
            })
            .collect(),
        None => run
            .tables
            .iter()
            .flat_map(|t| {
                t.shapes.iter().map(|sh| Row {
                    severity: "warning".into(),
                    code: sh.code.clone(),
                    place: format!("{}.{}", t.source_table, sh.column),
                    risk: Some(sh.risk),
                    message: sh.message.clone(),
                    allowed: false,
                })
            })
            .collect(),
    };
    if run.schema_findings.is_none() && rows.is_empty() {
        return;
    }
    let value = rows
        .iter()
        .filter(|r| r.risk == Some(crate::plan::ShapeRisk::Value))
        .count();
    let _ = writeln!(s, "<h2 id=\"schema\">Schema findings</h2>");
    let _ = writeln!(
        s,
        "<p class=\"meta\">{} finding(s); {value} shape(s) can lose information (<b>value risk</b>).{}</p>",
        rows.len(),
        if run.schema_findings.is_none() {
            " The mappings' shape differences of the checked tables; <code>parity schema</code> checks the catalog and migrations too."
        } else {
            ""
        }
    );
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "<p>None: the mappings agree with each other and with the database.</p>"
        );
        return;
    }
    let _ = writeln!(
        s,
        "<table id=\"schema-findings\">\n<tr><th>severity</th><th>code</th><th>where</th><th>risk</th><th>message</th></tr>"
    );
    // Errors first, then value risks, then the rest.
    let rank = |r: &Row| {
        if r.severity == "error" {
            0
        } else if r.risk == Some(crate::plan::ShapeRisk::Value) {
            1
        } else {
            2
        }
    };
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| rank(r));
    for r in sorted {
        let _ = writeln!(
            s,
            "<tr{}><td class=\"sev-{}\">{}</td><td><code>{}</code>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            if r.risk == Some(crate::plan::ShapeRisk::Value) {
                " class=\"value-risk\""
            } else {
                ""
            },
            esc(&r.severity),
            esc(&r.severity),
            esc(&r.code),
            if r.allowed { " (allowed)" } else { "" },
            esc(&r.place),
            r.risk.map(risk_mark).unwrap_or(""),
            esc(&r.message)
        );
    }
    let _ = writeln!(s, "</table>");
}

fn data_section(s: &mut String, run: &RunReport) {
    let _ = writeln!(s, "<h2>Data parity</h2>");
    let _ = writeln!(
        s,
        "<table id=\"data\">\n<tr><th>repository</th><th>table</th><th>source rows</th><th>target rows</th>\
         <th>matched</th><th>missing in target</th><th>extra in target</th><th>different</th><th>status</th><th>unreadable</th></tr>"
    );
    for t in &run.tables {
        let counts = number_cells(&super::verdict::row_counts(t));
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td><code>{}</code></td>{counts}<td>{}</td><td class=\"n\">{}</td></tr>",
            esc(t.repository.as_deref().unwrap_or("")),
            esc(&super::verdict::pair_name(t)),
            badge(t.status.as_str()),
            t.unreadable
        );
    }
    let _ = writeln!(s, "</table>");
    let mut items = Vec::new();
    for t in &run.tables {
        if let Some(e) = &t.error {
            items.push(format!(
                "<b>{}</b> failed: {}",
                esc(&t.source_table),
                esc(e)
            ));
        }
        for (c, n) in &t.columns_differing {
            items.push(format!(
                "<b>{}.{}</b> differs in {n} row(s)",
                esc(&t.source_table),
                esc(c)
            ));
        }
        if t.differences_truncated {
            items.push(format!(
                "<span class=\"truncated\">{}</span>",
                esc(&super::verdict::truncation_lines(std::slice::from_ref(t)).join(""))
            ));
        }
        for (c, n) in &t.columns_unreadable {
            items.push(format!(
                "<b>{}.{}</b> unreadable in {n} row(s): an ORM's read throws",
                esc(&t.source_table),
                esc(c)
            ));
        }
        if let Some(n) = &t.key_note {
            items.push(format!("<b>{}</b> key: {}", esc(&t.source_table), esc(n)));
        }
        if t.in_flight > 0 {
            items.push(format!(
                "<b>{}</b> {}",
                esc(&t.source_table),
                esc(&super::markdown::in_flight_line(t.in_flight))
            ));
        }
        for d in t.differences.iter().filter(|d| d.values.is_some()).take(20) {
            for v in d.values.iter().flatten() {
                items.push(format!(
                    "<b>{}.{}</b> {} at <code>{}</code>: source <code>{}</code>, target <code>{}</code>",
                    esc(&t.source_table),
                    esc(&v.column),
                    d.kind.as_str(),
                    esc(&d.key.to_string()),
                    esc(&v.source),
                    esc(&v.target)
                ));
            }
        }
        if let Some(d) = t.differences.first() {
            items.push(format!(
                "<b>{}</b> first difference: {} at key <code>{}</code>",
                esc(&t.source_table),
                d.kind.as_str(),
                esc(&d.key.to_string())
            ));
        }
        for sh in &t.shapes {
            items.push(format!(
                "<b>{}.{}</b> shape <code>{}</code> {}: {}",
                esc(&t.source_table),
                esc(&sh.column),
                esc(&sh.code),
                risk_mark(sh.risk),
                esc(&sh.message)
            ));
        }
    }
    note_list(s, items);
}
