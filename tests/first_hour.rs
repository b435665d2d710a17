//! Issue #11, the release engineer's first hour: the verdict first, every
//! message true, nothing silently cut. The real binary on the real fixture
//! (PostgreSQL); snapshot tests (insta) pin the exact text of `check`'s
//! console summary, `summary.md` and `run`'s verdict lines, with timings,
//! times and database names normalised.

use std::path::{Path, PathBuf};

use crate::support::{Backend, Run, TempDb, assert_contains, config, parity};

/// The fixture's config with absolute paths, in `dir`, plus `extra` TOML.
fn fixture_config(dir: &Path, extra: &str) -> PathBuf {
    config::file(
        dir,
        "parity.toml",
        &format!("{}\n{extra}\n", config::fixture_text()),
    )
}

fn parity_in(db: &TempDb, config: &Path, out: &Path, args: &[&str]) -> Run {
    parity()
        .env("DATABASE_URL", &db.url)
        .config(config)
        .out(out)
        .args(args)
        .run()
}

/// A database seeded with `rows`, and a temp folder.
fn seeded(tag: &str, rows: u64) -> (TempDb, tempfile::TempDir) {
    (
        TempDb::seeded(Backend::Postgres, tag, rows, None).0,
        tempfile::tempdir().unwrap(),
    )
}

/// Replaces every match of `pattern` (a tiny glob: `#` one or more digits,
/// `.` a literal dot) — kept simple to need no regex crate.
fn normalise_numbers_after(text: &str, marker: &str, with: &str) -> String {
    // `marker` followed by a number like 12.345 or 12: the number becomes `with`.
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str(with);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn normalise_db(text: &str, db: &TempDb) -> String {
    text.replace(&db.name, "[db]")
}

/// summary.md without its varying parts: the start time, the database
/// name, and the read-timing figures.
fn normalise_summary(md: &str, db: &TempDb) -> String {
    let md = normalise_db(md, db);
    let mut out = Vec::new();
    let mut in_timing = false;
    for line in md.lines() {
        if line.starts_with("- started: ") {
            out.push("- started: [time]".to_string());
            continue;
        }
        if line.starts_with("## ") {
            in_timing = line == "## Read timing";
        }
        if in_timing && line.starts_with("| ") && !line.starts_with("| table ") {
            let name = line.split('|').nth(1).unwrap_or("").trim();
            out.push(format!("| {name} | [timing] |"));
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

#[test]
fn check_prints_its_table_once_and_one_closing_line_and_says_what_was_cut() {
    let (db, dir) = seeded("first_check", 1500);
    let config = fixture_config(dir.path(), "");
    let out = dir.path().join("out");
    let o = parity_in(&db, &config, &out, &["check", "--max-differences", "10"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    // The results once: no per-table result lines on stderr.
    assert!(
        !o.stderr.contains(" rows  "),
        "per-table lines on stderr: {}",
        o.stderr
    );
    let last = o.stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with("→ exit 1"), "{last}");
    assert!(last.contains(" tables differ: "), "{last}");
    insta::assert_snapshot!("check_console", o.stdout);
    for line in o.stdout.lines().filter(|l| !l.contains("tables differ")) {
        assert!(line.chars().count() <= 80, "wider than 80: {line}");
    }

    // The cut is said everywhere, with the word `truncated`.
    let cut = o
        .stdout
        .lines()
        .find(|l| l.contains("differences.csv truncated: 10 of "))
        .expect("the console says what --max-differences cut")
        .to_string();
    assert!(cut.ends_with(" rows (--max-differences)"), "{cut}");
    let md = o.text("summary.md");
    assert!(md.contains(&cut), "summary.md: {md}");
    let html = o.text("report.html");
    assert!(
        html.contains(&cut),
        "check writes report.html and says the cut"
    );
    let cut_table = cut.split(':').next().unwrap();
    let t = o.report_table(cut_table);
    assert_eq!(t["differences_truncated"], true);
    assert_eq!(t["differences"].as_array().unwrap().len(), 10);
    // Appended after every field the report had before (issue 11), so no
    // existing field moved.
    let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(
        pos("differences_truncated") > pos("error"),
        "appended at the end: {keys:?}"
    );
    let csv_rows = o
        .text("differences.csv")
        .lines()
        .filter(|l| l.starts_with(&format!("{cut_table},")))
        .count();
    assert_eq!(csv_rows, 10);

    // summary.md: the verdict first, within its first 15 lines.
    let head: Vec<&str> = md.lines().take(15).collect();
    assert!(head.contains(&"## Verdict"), "{md}");
    assert!(
        head.iter()
            .any(|l| l.starts_with("- **repair** (`drizzle_repair_repo`): **NOT READY**")),
        "{md}"
    );
    assert!(head.iter().any(|l| l.ends_with("→ exit 1")), "{md}");
    insta::assert_snapshot!("check_summary_md", normalise_summary(&md, &db));

    // report.html: the banner first, a schema section, value-risk marks.
    let body = &html[html.find("<body>").unwrap() + "<body>".len()..];
    assert!(
        body.trim_start().starts_with("<header id=\"verdict\""),
        "banner first"
    );
    assert!(html.contains("<h2 id=\"schema\">Schema findings</h2>"));
    assert!(
        html.contains("class=\"risk risk-value\""),
        "value-risk marks"
    );
    assert!(html.contains("<code class=\"flag\">drizzle_repair_repo</code>"));
}

#[test]
fn run_ends_with_the_global_flag_everywhere() {
    let (db, dir) = seeded("first_run", 1500);
    // A generous slowdown bound keeps a busy machine from flipping a
    // timing verdict: this test pins wording, not latency.
    let config = fixture_config(dir.path(), "[timing]\nmax_slowdown = 10.0\n");
    let out = dir.path().join("out");
    let o = parity_in(
        &db,
        &config,
        &out,
        &["run", "--iterations", "8", "--warmup", "2"],
    );
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let last = o.stdout.lines().last().unwrap_or_default();
    assert_eq!(last, "USE_DRIZZLE: NOT READY (repair, transaction)");
    // The worst operation's p95 ratio, named; no unlabelled mean.
    assert!(o.stdout.contains("worst p95 ratio "), "{}", o.stdout);
    let lines = normalise_worst(&o.stdout);
    insta::assert_snapshot!("run_verdict_lines", lines);

    let html = o.text("report.html");
    let body = &html[html.find("<body>").unwrap() + "<body>".len()..];
    assert!(body.trim_start().starts_with("<header id=\"verdict\""));
    let banner = &body[..body.find("</header>").unwrap()];
    assert!(
        banner.contains("USE_DRIZZLE: NOT READY (repair, transaction)"),
        "{banner}"
    );
    assert_eq!(
        banner.matches("<li class=\"repository\"").count(),
        6,
        "{banner}"
    );
    assert!(html.contains("<h2 id=\"schema\">Schema findings</h2>"));
    assert!(html.contains("<tr class=\"value-risk\">"));
    assert!(html.contains("Hash of the compared result"));

    let junit = o.text("junit.xml");
    assert!(junit.contains("<testsuite name=\"gate\""), "{junit}");
    assert!(
        junit.contains("name=\"global flag USE_DRIZZLE\""),
        "{junit}"
    );
    assert!(
        junit.contains("message=\"USE_DRIZZLE: NOT READY (repair, transaction)\""),
        "{junit}"
    );
    let json = o.report();
    assert_eq!(json["verdict"]["global_flag"]["not_ready"][0], "repair");
    assert!(json["schema_findings"].is_array());
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        &keys[keys.len() - 3..],
        &["verdict", "schema_findings", "partial"],
        "new fields at the end"
    );
    assert!(json["partial"].is_null(), "a full run is not a shard's");
    // Matching results hash alike: the hash is of the compared form.
    for op in json["timing"]["operations"].as_array().unwrap() {
        if op["verdict"] != "mismatch" && op["verdict"] != "error" {
            assert_eq!(
                op["source"]["result_hash"], op["target"]["result_hash"],
                "{}",
                op["operation"]
            );
            assert!(!op["reconciled"].as_str().unwrap().is_empty());
        }
    }
}

/// `worst p95 ratio 1.04 list-customer-bikes` → `worst p95 ratio [r] [op]`.
fn normalise_worst(text: &str) -> String {
    let t = normalise_numbers_after(text, "worst p95 ratio ", "[r]");
    t.lines()
        .map(|l| match l.find("[r] ") {
            Some(i) => {
                let rest = &l[i + 4..];
                let end = rest.find(')').unwrap_or(rest.len());
                format!("{}[r] [op]{}", &l[..i], &rest[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn a_misspelled_repository_fails_before_anything_runs() {
    let db = TempDb::pg("first_repo");
    let dir = tempfile::tempdir().unwrap();
    let config = fixture_config(dir.path(), "");
    let o = parity_in(
        &db,
        &config,
        &dir.path().join("out"),
        &["run", "--repository", "bikes"],
    );
    o.expect(2);
    assert!(!o.stderr.contains("== schema"), "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--repository \"bikes\" is not a [[repository]] in parity.toml; known: user"),
        "{}",
        o.stderr
    );
}

/// `check` with the config `text` written as `dir/name`: exit 2, and the
/// one error names `file:line:col` of the line holding `typo`, then `says`.
fn misspelling_is_named(
    db: &TempDb,
    dir: &Path,
    name: &str,
    text: &str,
    (typo, col): (&str, usize),
    says: &str,
) {
    let file = config::file(dir, name, text);
    let line = text.lines().position(|l| l.contains(typo)).unwrap() + 1;
    let o = parity_in(db, &file, &dir.join(format!("out-{name}")), &["check"]);
    o.expect(2);
    assert_contains(
        &o.stderr,
        &[&format!("{}:{line}:{col}: {says}", file.display())],
    );
}

#[test]
fn misspelled_config_tables_name_file_line_and_column() {
    let db = TempDb::pg("first_typo");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture_config(dir.path(), "")).unwrap();
    let table = format!("{text}[[table]]\nname = \"transactons\"\nkey = [\"id\"]\n");
    let says =
        "[[table]] \"transactons\" names a table neither mapping has; fix its name in typo5.toml";
    misspelling_is_named(
        &db,
        dir.path(),
        "typo5.toml",
        &table,
        ("\"transactons\"", 8),
        says,
    );

    // The same for a [[repository]]'s tables.
    let fixture =
        std::fs::read_to_string(config::fixture_dir(Backend::Postgres).join("parity.toml"))
            .unwrap();
    assert!(fixture.contains("tables = [\"bikes\"]"));
    let repository = text.replace("tables = [\"bikes\"]", "tables = [\"bikez\"]");
    let says = "[[repository]] \"bike\" lists table \"bikez\", which neither mapping has; fix its tables = [...] in typo6.toml";
    misspelling_is_named(
        &db,
        dir.path(),
        "typo6.toml",
        &repository,
        ("\"bikez\"", 11),
        says,
    );
}

#[test]
fn schema_counts_migrations_and_both_time_zones_even_when_all_is_well() {
    let (db, dir) = seeded("first_schema", 200);
    let config = fixture_config(dir.path(), "");
    let out = dir.path().join("out");
    let o = parity_in(&db, &config, &out, &["schema"]);
    assert!(o.code <= 1, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("prisma migrations (prisma): 1 found, 1 applied"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("drizzle migrations (drizzle): 2 found, 2 applied"),
        "{}",
        o.stdout
    );
    let md = o.text("schema.md");
    assert!(
        md.contains("## Migrations\n\n- prisma migrations (prisma): 1 found, 1 applied"),
        "{md}"
    );
    // The result line counts shape differences as warnings; the Warnings
    // heading must not contradict it.
    let shapes: usize = md
        .lines()
        .find_map(|l| l.strip_prefix("## Shape differences ("))
        .and_then(|r| r.trim_end_matches(')').parse().ok())
        .unwrap();
    assert!(shapes > 0);
    assert!(
        md.contains(&format!("besides the {shapes} shape differences below)")),
        "{md}"
    );
    let json = o.json("schema.json");
    assert!(json["source_server_timezone"].is_string(), "{json}");
    assert_eq!(
        json["source_server_timezone"],
        json["target_server_timezone"]
    );
    assert_eq!(json["migrations"][1]["applied"], 2);
}

#[test]
fn help_describes_every_flag_and_hides_what_does_not_apply() {
    let help = |args: &[&str]| -> String {
        let o = parity().args(args).arg("--help").run();
        o.expect(0);
        o.stdout
    };
    for (cmd, flags) in [
        (
            "backup",
            &["--max-differences", "--show-values", "--chunk-rows"][..],
        ),
        ("manifest", &["--schemas", "--exclude", "--chunk-rows"][..]),
        ("run", &["--iterations", "--warmup", "--strict"][..]),
    ] {
        let h = help(&[cmd]);
        for f in flags {
            let line = h
                .lines()
                .skip_while(|l| !l.trim_start().starts_with(f) && !l.contains(&format!(" {f} ")))
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            // A described flag has text after its value name (or on the next line).
            let words = line.split_whitespace().count();
            assert!(words >= 4, "{cmd} {f} has no description: {line:?}\n{h}");
        }
    }
    assert!(
        help(&["check"]).contains("[default: 1000"),
        "check --max-differences default"
    );
    for cmd in ["seed", "demo"] {
        let h = help(&[cmd]);
        assert!(!h.contains("--config"), "{cmd}: {h}");
        assert!(!h.contains("--jobs"), "{cmd}: {h}");
        assert!(!h.contains("Connections per side"), "{cmd}: {h}");
    }
    // Still accepted (and ignored) where a script passes them globally.
    parity().words("--jobs 2 seed --help").run().expect(0);
}

#[test]
fn the_sqlite_demo_says_what_drizzle_really_gives_for_birth_date() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = parity().out(&out).words("demo --rows 200").run();
    o.expect(0);
    let mappings = out.join("mappings").display().to_string();
    assert!(o.stdout.contains(&mappings), "{}", o.stdout);
    for report in ["mappings/report.html", "drift/report.html"] {
        assert!(out.join(report).exists(), "{report}");
    }
    let md = o.text("mappings/summary.md");
    let line = md
        .lines()
        .find(|l| l.contains("customers.birth_date"))
        .expect("birth_date's shape is reported");
    assert!(
        line.contains("Drizzle gives string (numeric mode 'string': the stored text)"),
        "{line}"
    );
    assert!(!line.contains("exact decimal"), "{line}");
}
