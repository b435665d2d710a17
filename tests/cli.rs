//! The CLI contract users' scripts rely on: commands, global options in
//! either position, exit codes, config errors.

use crate::support::{config, parity};

#[test]
fn help_shows_the_contract() {
    let o = parity().arg("--help").run();
    o.expect(0);
    for cmd in "schema check timing backup manifest run seed demo".split(' ') {
        let listed = o.stdout.lines().any(|l| l.trim_start().starts_with(cmd));
        assert!(listed, "{cmd} in --help:\n{}", o.stdout);
    }
    for opt in ["--config", "--out", "--quiet", "--color", "--jobs"] {
        assert!(o.stdout.contains(opt), "{opt} in --help");
    }
    assert!(
        o.stdout.contains("PARITY_CONFIG"),
        "flags come from the environment too"
    );
}

#[test]
fn usage_errors_exit_2_and_print_nothing_on_stdout() {
    let o = parity().arg("frobnicate").run();
    o.expect(2);
    assert!(o.stdout.is_empty());
    parity().words("check --jobs many").run().expect(2);
}

#[test]
fn a_bad_config_names_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let side = |orm: &str, mapping: &str| format!("orm = \"{orm}\"\nmapping = \"{mapping}\"");
    let cfg = config::write(
        dir.path(),
        &side("prisma", "x.prisma"),
        &side("drizle", "y.json"),
        "",
    );
    // Global options after the subcommand work too.
    let o = parity().arg("check").config(&cfg).run();
    o.expect(2);
    assert_eq!(o.stderr.lines().count(), 1, "one line: {}", o.stderr);
    assert!(o.stderr.contains("parity.toml:5:7"), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("use \"prisma\", \"drizzle\" or \"catalog\""),
        "{}",
        o.stderr
    );
}

#[test]
fn a_missing_default_config_is_fine_for_commands_that_need_none() {
    let dir = tempfile::tempdir().unwrap();
    // `schema --show-mapping` runs without any parity.toml.
    let schema = config::prisma_schema(crate::support::Backend::Postgres);
    let o = parity()
        .current_dir(dir.path())
        .args(["schema", "--show-mapping"])
        .arg(&schema)
        .arg("--json")
        .run();
    o.expect(0);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["provider"], "postgresql");
    // `check` needs one: exit 2 and say how to give it.
    let o = parity().current_dir(dir.path()).arg("check").run();
    o.expect(2);
    assert!(o.stderr.contains("--config"));
}

#[test]
fn demo_finds_exactly_what_it_planted_and_what_the_semantics_predict() {
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .current_dir(dir.path())
        .words("demo --rows 1200")
        .run();
    o.expect(0);
    let says = [
        "exactly the rows the ORM semantics predict",
        "10 changed, 5 deleted, 7 inserted found in transactions; exactly the planted keys",
    ];
    for s in says {
        assert!(o.stdout.contains(s), "{}", o.stdout);
    }
    // Reports land under reports/latest in the working directory.
    for f in [
        "reports/latest/mappings/parity.csv",
        "reports/latest/drift/differences.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}
