//! The query-timing section of `report.html`: the operations table, then
//! per operation its facts, how its results were reconciled, and a latency
//! histogram of source against target (inline SVG) with each side's
//! statistics.

use std::fmt::Write as _;

use super::{block_spread, figures, method, num};
use crate::report::html::{badge, esc, note_list, number_cells};
use crate::timing::stats::percentile_sorted;
use crate::timing::{CompareMode, OperationResult, TimingSection, TimingVerdict};

const SOURCE_COLOR: &str = "#2f6fb5";
const TARGET_COLOR: &str = "#d9822b";

pub(crate) fn section(s: &mut String, t: &TimingSection) {
    let _ = writeln!(s, "<h2>Query timing</h2>");
    let _ = writeln!(
        s,
        "<p class=\"meta\">{}</p>",
        method(t, |w| format!("<b>{w}</b>"))
    );
    let _ = writeln!(
        s,
        "<table id=\"timing\">\n<tr><th>operation</th><th>source p50 ms</th><th>target p50 ms</th><th>ratio p50</th>\
         <th>95% CI</th><th>ratio p95</th><th>round trips</th><th>verdict</th><th>ratio per block</th></tr>"
    );
    for o in &t.operations {
        let cells = number_cells(&figures(o));
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#op-{}\">{}/{}</a></td>{cells}\
             <td class=\"n\">{} / {}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            anchor(o),
            esc(&o.repository),
            esc(&o.operation),
            num(o.source.round_trips),
            num(o.target.round_trips),
            badge(o.verdict.as_str()),
            esc(&block_spread(&o.comparison))
        );
    }
    let _ = writeln!(s, "</table>");
    for o in &t.operations {
        operation(s, o);
    }
    note_list(s, t.notes.iter().map(|n| esc(n)));
}

fn anchor(o: &OperationResult) -> String {
    format!("{}-{}", o.repository, o.operation)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn operation(s: &mut String, o: &OperationResult) {
    let _ = writeln!(
        s,
        "<section class=\"op\" id=\"op-{}\">\n<h3>{}/{} {}</h3>",
        anchor(o),
        esc(&o.repository),
        esc(&o.operation),
        badge(o.verdict.as_str())
    );
    if let Some(d) = &o.description {
        let _ = writeln!(s, "<p>{}</p>", esc(d));
    }
    let _ = writeln!(
        s,
        "<p class=\"meta\">{} statement(s) / {} round trip(s) from the source, {} / {} from the target · \
         {} parameter set(s) checked{}{}</p>",
        o.source.statements,
        num(o.source.round_trips),
        o.target.statements,
        num(o.target.round_trips),
        o.parameter_sets,
        if o.writes {
            " · write, rolled back"
        } else {
            ""
        },
        if o.compare != CompareMode::Rows {
            format!(
                " · compares {}{}",
                o.compare.as_str(),
                o.compare_reason
                    .as_deref()
                    .map(|r| format!(": {}", esc(r)))
                    .unwrap_or_default()
            )
        } else {
            String::new()
        }
    );
    if !o.reconciled.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"meta reconciled\">Compared: {}. Hash of the compared result: source <code>{}</code>, target <code>{}</code>{}.</p>",
            esc(&o.reconciled),
            esc(&o.source.result_hash),
            esc(&o.target.result_hash),
            if o.source.result_hash == o.target.result_hash {
                " (equal)"
            } else {
                ""
            }
        );
    }
    if let Some(e) = &o.error {
        let _ = writeln!(s, "<p><b>Error:</b> {}</p>", esc(e));
    }
    if let Some(m) = &o.mismatch
        && m.detail.kind == crate::timing::result::MismatchKind::Order
    {
        let _ = writeln!(
            s,
            "<p><b>Results differ</b> for parameter set {}: {}</p>",
            m.parameter_set,
            esc(&m.detail.describe())
        );
    } else if let Some(m) = &o.mismatch {
        let _ = writeln!(
            s,
            "<p><b>Results differ</b> for parameter set {} in <code>{}</code>: {} rows from the source, {} from the target; \
             {} only from the source, {} only from the target. First: <code>{}</code></p>",
            m.parameter_set,
            esc(&m.detail.table),
            m.detail.source_rows,
            m.detail.target_rows,
            m.detail.only_in_source,
            m.detail.only_in_target,
            esc(&m.detail.first_keys.join(" "))
        );
    }
    if o.verdict != TimingVerdict::Error && !o.source.samples_ms.is_empty() {
        s.push_str(&histogram(o));
        stats_table(s, o);
    }
    note_list(s, o.notes.iter().map(|n| esc(n)));
    let _ = writeln!(s, "</section>");
}

fn stats_table(s: &mut String, o: &OperationResult) {
    let _ = writeln!(
        s,
        "<table class=\"stats\"><tr><th>side</th><th>n</th><th>min</th><th>p50</th><th>p90</th><th>p95</th>\
         <th>p99</th><th>max</th><th>mean</th><th>stddev</th><th>outliers</th><th>rows</th><th>result hash</th></tr>"
    );
    for (label, r) in [("source", &o.source), ("target", &o.target)] {
        let st = &r.stats;
        let _ = writeln!(
            s,
            "<tr><td>{label}</td><td class=\"n\">{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td>\
             <td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td>\
             <td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td><code>{}</code></td></tr>",
            st.n,
            st.min_ms,
            st.p50_ms,
            st.p90_ms,
            st.p95_ms,
            st.p99_ms,
            st.max_ms,
            st.mean_ms,
            st.stddev_ms,
            st.outliers,
            num(r.rows),
            esc(&r.result_hash)
        );
    }
    let _ = writeln!(s, "</table>");
}

/// Overlaid histograms of the two sides' latencies with their medians, on
/// a shared axis cut at 1.25 × the larger p95 (samples beyond fall in the
/// last bin) so a few outliers do not squash the picture.
fn histogram(o: &OperationResult) -> String {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    const L: f64 = 48.0;
    const R: f64 = 16.0;
    const T: f64 = 12.0;
    const B: f64 = 36.0;
    const BINS: usize = 40;
    let mut sorted_s = o.source.samples_ms.clone();
    let mut sorted_t = o.target.samples_ms.clone();
    sorted_s.sort_by(f64::total_cmp);
    sorted_t.sort_by(f64::total_cmp);
    let lo = sorted_s
        .first()
        .copied()
        .unwrap_or(0.0)
        .min(sorted_t.first().copied().unwrap_or(0.0));
    let max = sorted_s
        .last()
        .copied()
        .unwrap_or(0.0)
        .max(sorted_t.last().copied().unwrap_or(0.0));
    let hi = (1.25 * percentile_sorted(&sorted_s, 0.95).max(percentile_sorted(&sorted_t, 0.95)))
        .min(max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let width = (hi - lo) / BINS as f64;
    let bins = |v: &[f64]| {
        let mut b = [0usize; BINS];
        for x in v {
            let i = (((x - lo) / width).floor().max(0.0) as usize).min(BINS - 1);
            b[i] += 1;
        }
        b
    };
    let (bs, bt) = (bins(&sorted_s), bins(&sorted_t));
    // Fractions, so sides with different n are comparable.
    let frac = |b: &[usize; BINS], n: usize| -> Vec<f64> {
        b.iter().map(|c| *c as f64 / n.max(1) as f64).collect()
    };
    let (fs, ft) = (frac(&bs, sorted_s.len()), frac(&bt, sorted_t.len()));
    let ymax = fs.iter().chain(&ft).copied().fold(0.0, f64::max).max(1e-9);
    let pw = W - L - R;
    let ph = H - T - B;
    let x_of = |ms: f64| L + (ms - lo) / (hi - lo) * pw;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"latency distribution of {}/{}, source against target\">",
        esc(&o.repository),
        esc(&o.operation)
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{L}\" y=\"{T}\" width=\"{pw}\" height=\"{ph}\" fill=\"#fbfcfd\" stroke=\"#e6e9ef\"/>"
    );
    for (frac, color, class) in [(&fs, SOURCE_COLOR, "source"), (&ft, TARGET_COLOR, "target")] {
        let _ = writeln!(
            svg,
            "<g class=\"{class}\" fill=\"{color}\" fill-opacity=\"0.55\">"
        );
        for (i, f) in frac.iter().enumerate() {
            if *f <= 0.0 {
                continue;
            }
            let h = f / ymax * ph;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
                L + i as f64 * pw / BINS as f64,
                T + ph - h,
                (pw / BINS as f64 - 1.0).max(0.5),
                h
            );
        }
        let _ = writeln!(svg, "</g>");
    }
    for (p50, color, class) in [
        (o.source.stats.p50_ms, SOURCE_COLOR, "source"),
        (o.target.stats.p50_ms, TARGET_COLOR, "target"),
    ] {
        let x = x_of(p50.clamp(lo, hi));
        let _ = writeln!(
            svg,
            "<line class=\"median {class}\" x1=\"{x:.1}\" y1=\"{T}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>",
            T + ph
        );
    }
    // x axis: five ticks.
    for k in 0..=4 {
        let ms = lo + (hi - lo) * k as f64 / 4.0;
        let x = x_of(ms);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#8a93a6\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#59627a\">{}</text>",
            T + ph,
            T + ph + 4.0,
            T + ph + 16.0,
            fmt_ms(ms)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#59627a\">latency (ms); the last bin holds the slowest tail</text>",
        L + pw / 2.0,
        H - 4.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"12\" y=\"{:.1}\" font-size=\"11\" fill=\"#59627a\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">share of samples</text>",
        T + ph / 2.0,
        T + ph / 2.0
    );
    svg.push_str("</svg>\n");
    format!(
        "<div class=\"legend\"><span><i class=\"sw\" style=\"background:{SOURCE_COLOR}\"></i>source (p50 {:.3} ms, n={})</span>\
         <span><i class=\"sw\" style=\"background:{TARGET_COLOR}\"></i>target (p50 {:.3} ms, n={})</span>\
         <span>dashed lines: medians</span></div>\n{svg}",
        o.source.stats.p50_ms, o.source.stats.n, o.target.stats.p50_ms, o.target.stats.n
    )
}

fn fmt_ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}
