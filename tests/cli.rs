//! The CLI contract users' scripts rely on: commands, global options in
//! either position, exit codes, config errors.

use crate::support::parity;

#[test]
fn help_shows_the_contract() {
    let o = parity().arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for cmd in [
        "schema", "check", "timing", "backup", "manifest", "run", "seed", "demo",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd} in --help:\n{help}"
        );
    }
    for opt in ["--config", "--out", "--quiet", "--color", "--jobs"] {
        assert!(help.contains(opt), "{opt} in --help");
    }
    assert!(
        help.contains("PARITY_CONFIG"),
        "flags come from the environment too"
    );
}

#[test]
fn usage_errors_exit_2_and_print_nothing_on_stdout() {
    let o = parity().arg("frobnicate").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let o = parity().args(["check", "--jobs", "many"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_bad_config_names_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("parity.toml");
    std::fs::write(
        &cfg,
        "[source]\norm = \"prisma\"\nmapping = \"x.prisma\"\n[target]\norm = \"drizle\"\nmapping = \"y.json\"\n",
    )
    .unwrap();
    // Global options after the subcommand work too.
    let o = parity()
        .arg("check")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("parity.toml:5:7"), "{err}");
    assert!(
        err.contains("use \"prisma\", \"drizzle\" or \"catalog\""),
        "{err}"
    );
}

#[test]
fn a_missing_default_config_is_fine_for_commands_that_need_none() {
    let dir = tempfile::tempdir().unwrap();
    // `schema --show-mapping` runs without any parity.toml.
    let schema = crate::support::root().join("fixtures/bikeshop/prisma/schema.prisma");
    let o = parity()
        .current_dir(dir.path())
        .args(["schema", "--show-mapping"])
        .arg(&schema)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["provider"], "postgresql");
    // `check` needs one: exit 2 and say how to give it.
    let o = parity()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--config"));
}

#[test]
fn demo_finds_exactly_what_it_planted_and_what_the_semantics_predict() {
    let dir = tempfile::tempdir().unwrap();
    let o = parity()
        .current_dir(dir.path())
        .args(["demo", "--rows", "1200"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("exactly the rows the ORM semantics predict"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "10 changed, 5 deleted, 7 inserted found in transactions; exactly the planted keys"
        ),
        "{stdout}"
    );
    // Reports land under reports/latest in the working directory.
    assert!(
        dir.path()
            .join("reports/latest/mappings/parity.csv")
            .exists()
    );
    assert!(
        dir.path()
            .join("reports/latest/drift/differences.csv")
            .exists()
    );
}
