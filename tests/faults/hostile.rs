//! Hostile inputs (issue 10): config, URLs, schemas, snapshots, manifests,
//! queries files, CLI values and env vars. Each must exit 2 with exactly
//! one clear line on stderr, never panic, and never echo a password.
//! None of them needs a database: each fails before any connection, or
//! against a port nothing listens on.

use std::path::Path;

use super::parity;
use crate::support::{Run, root};

/// What a case writes into its temp dir before running.
enum File {
    Text(&'static str, String),
    Bytes(&'static str, Vec<u8>),
    Dir(&'static str),
}

struct Case {
    name: &'static str,
    files: Vec<File>,
    /// `{dir}` is the case's temp dir, `{fx}` the bike-shop fixture.
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    /// Substrings the one stderr line must hold.
    want: Vec<&'static str>,
    /// Substrings it must never hold (passwords).
    never: Vec<&'static str>,
}

const NOWHERE: &str = "postgres://nobody@127.0.0.1:1/none";

fn fx() -> String {
    root().join("fixtures/bikeshop").display().to_string()
}

/// A valid config over an unreachable server, plus `extra`.
fn config(extra: &str) -> String {
    config_with(NOWHERE, extra)
}

fn config_with(url: &str, extra: &str) -> String {
    let fx = fx();
    format!(
        "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{url}\"\nmapping = \"{fx}/prisma/schema.prisma\"\n\n\
         [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{url}\"\n\
         mapping = [\"{fx}/drizzle/meta/0001_snapshot.json\", \"{fx}/drizzle/mapping.json\"]\n\n{extra}\n"
    )
}

/// A config whose sides point at files in the case's dir.
fn config_files(source: &str, target: &str) -> String {
    format!(
        "[source]\nname = \"prisma\"\norm = \"prisma\"\nurl = \"{NOWHERE}\"\nmapping = \"{source}\"\n\n\
         [target]\nname = \"drizzle\"\norm = \"drizzle\"\nurl = \"{NOWHERE}\"\nmapping = \"{target}\"\n"
    )
}

fn cfg(text: String) -> Vec<File> {
    vec![File::Text("parity.toml", text)]
}

fn case(
    name: &'static str,
    files: Vec<File>,
    args: &[&'static str],
    want: &[&'static str],
) -> Case {
    Case {
        name,
        files,
        args: args.to_vec(),
        env: Vec::new(),
        want: want.to_vec(),
        never: Vec::new(),
    }
}

fn garbage() -> Vec<u8> {
    let mut b = b"model A {\n".to_vec();
    b.extend([0xff, 0xfe, 0x00, 0x9f, 0x80, 0xc3, 0x28]);
    b
}

const JOBS: &str = "jobs must be at least 1 and at most 100000";
const C: &str = "--config";
const CFG: &str = "{dir}/parity.toml";

fn cases() -> Vec<Case> {
    let fx = fx();
    let drizzle_snapshot = format!("{fx}/drizzle/meta/0001_snapshot.json");
    let prisma = format!("{fx}/prisma/schema.prisma");
    let mut v = vec![
        // ---- CLI values and env vars
        case("jobs 0", vec![], &["check", "--jobs", "0"], &[JOBS]),
        case("jobs -1", vec![], &["check", "--jobs", "-1"], &[JOBS]),
        case(
            "jobs i32::MAX",
            vec![],
            &["check", "--jobs", "2147483647"],
            &[JOBS],
        ),
        case(
            "backup jobs u32 wrap",
            vec![],
            &[
                "backup",
                "--jobs",
                "4294967293",
                "--source",
                NOWHERE,
                "--target",
                NOWHERE,
            ],
            &[JOBS],
        ),
        case(
            "manifest jobs u32 wrap",
            vec![],
            &[
                "manifest",
                "--jobs",
                "4294967293",
                "--url",
                NOWHERE,
                "--manifest",
                "{dir}/m",
            ],
            &[JOBS],
        ),
        case("jobs 100001", vec![], &["check", "-j", "100001"], &[JOBS]),
        case(
            "jobs word",
            vec![],
            &["check", "--jobs", "many"],
            &["jobs must be a whole number"],
        ),
        case(
            "jobs huge",
            vec![],
            &[
                "check",
                "--jobs",
                "999999999999999999999999999999999999999999",
            ],
            &[JOBS],
        ),
        case(
            "chunk-rows 0",
            vec![],
            &["check", "--chunk-rows", "0"],
            &["chunk-rows must be at least 1"],
        ),
        case(
            "chunk-rows -5",
            vec![],
            &["check", "--chunk-rows=-5"],
            &["chunk-rows must be at least 1"],
        ),
        case(
            "max-differences -1",
            vec![],
            &["check", "--max-differences", "-1"],
            &["max-differences must be at least 0"],
        ),
        case(
            "iterations 0",
            vec![],
            &["timing", "--iterations", "0"],
            &["iterations must be at least 1"],
        ),
        case(
            "warmup -3",
            vec![],
            &["timing", "--warmup", "-3"],
            &["warmup must be at least 0"],
        ),
        case(
            "concurrency 0",
            vec![],
            &["timing", "--concurrency", "0"],
            &["concurrency must be at least 1"],
        ),
        case(
            "concurrency 100000",
            vec![],
            &["timing", "--concurrency", "100000"],
            &["concurrency must be at least 1 and at most 10000"],
        ),
        case(
            "seed rows -1",
            vec![],
            &["seed", "--url", NOWHERE, "--rows", "-1"],
            &["rows must be at least 1"],
        ),
        case(
            "seed seed -1",
            vec![],
            &["seed", "--url", NOWHERE, "--seed", "-1"],
            &["seed must be at least 0"],
        ),
        case(
            "demo rows 0",
            vec![],
            &["demo", "--rows", "0"],
            &["rows must be at least 1"],
        ),
        case(
            "color sometimes",
            vec![],
            &["--color", "sometimes", "check"],
            &["sometimes"],
        ),
        case("unknown command", vec![], &["frobnicate"], &["frobnicate"]),
        case(
            "min-time nonsense",
            cfg(config("")),
            &[C, CFG, "timing", "--min-time", "soon"],
            &["soon"],
        ),
        // ---- config files
        case(
            "config binary garbage",
            vec![File::Bytes("parity.toml", garbage())],
            &[C, CFG, "check"],
            &["not UTF-8 text at byte 10"],
        ),
        case(
            "config is a directory",
            vec![File::Dir("cfgdir")],
            &[C, "{dir}/cfgdir", "check"],
            &["is a directory"],
        ),
        case(
            "config missing",
            vec![],
            &[C, "{dir}/nope.toml", "check"],
            &["cannot read the config file"],
        ),
        case(
            "config jobs 0",
            cfg(config("[check]\njobs = 0")),
            &[C, CFG, "check"],
            &["[check] jobs must be at least 1 and at most 100000"],
        ),
        case(
            "config jobs 100001",
            cfg(config("[check]\njobs = 100001")),
            &[C, CFG, "check"],
            &[JOBS],
        ),
        case(
            "config jobs -1",
            cfg(config("[check]\njobs = -1")),
            &[C, CFG, "check"],
            &[JOBS],
        ),
        case(
            "config chunk_rows 0",
            cfg(config("[check]\nchunk_rows = 0")),
            &[C, CFG, "check"],
            &["[check] chunk_rows must be at least 1"],
        ),
        case(
            "config concurrency 0",
            cfg(config("[timing]\nconcurrency = 0")),
            &[C, CFG, "timing"],
            &["[timing] concurrency must be at least 1"],
        ),
        case(
            "config lock timeout -1",
            cfg(config("[check]\nlock_timeout_seconds = -1")),
            &[C, CFG, "check"],
            &["[check] lock_timeout_seconds must be at least 0"],
        ),
        case(
            "config statement timeout huge",
            cfg(config("[check]\nstatement_timeout_seconds = 99999999999")),
            &[C, CFG, "check"],
            &["[check] statement_timeout_seconds must be at least 0"],
        ),
        case(
            "config unknown key",
            cfg(config("[check]\njobz = 3")),
            &[C, CFG, "check"],
            &["jobz"],
        ),
        case(
            "config bad toml",
            cfg("[source\norm = ".into()),
            &[C, CFG, "check"],
            &["parity.toml"],
        ),
        case(
            "config unknown orm",
            cfg(config("").replace("orm = \"drizzle\"", "orm = \"drizle\"")),
            &[C, CFG, "check"],
            &["use \"prisma\", \"drizzle\" or \"catalog\""],
        ),
        case(
            "config orm catalog in check",
            cfg(format!(
                "[source]\norm = \"catalog\"\nurl = \"{NOWHERE}\"\n[target]\norm = \"catalog\"\nurl = \"{NOWHERE}\"\n"
            )),
            &[C, CFG, "check"],
            &["parity backup --source URL --target URL"],
        ),
        case(
            "config unset variable",
            cfg(config("").replace(NOWHERE, "${PARITY_FAULTS_SURELY_UNSET}")),
            &[C, CFG, "check"],
            &["PARITY_FAULTS_SURELY_UNSET"],
        ),
        // ---- URLs
        Case {
            never: vec!["Hx7Qw", "role"],
            ..case(
                "password with #",
                vec![],
                &[
                    "backup",
                    "--source",
                    "postgres://role:Hx7Qw#pw@127.0.0.1:1/db",
                    "--target",
                    NOWHERE,
                ],
                &["postgres://"],
            )
        },
        Case {
            never: vec!["s3cr", "role"],
            ..case(
                "password with ?",
                vec![],
                &[
                    "backup",
                    "--source",
                    "postgres://role:s3cr?t@127.0.0.1:1/db",
                    "--target",
                    NOWHERE,
                ],
                &["postgres://"],
            )
        },
        Case {
            never: vec!["hunter2"],
            ..case(
                "password with / and @",
                vec![],
                &[
                    "backup",
                    "--source",
                    "postgres://role:hun/ter2@x@127.0.0.1:1/db",
                    "--target",
                    NOWHERE,
                ],
                &["postgres://"],
            )
        },
        Case {
            never: vec!["topsecret"],
            ..case(
                "password in a config url that fails to parse",
                cfg(config_with(
                    "postgres://admin:topsecret#1@127.0.0.1:99999/db",
                    "",
                )),
                &[C, CFG, "check"],
                &["postgres://"],
            )
        },
        Case {
            never: vec!["Hx7Qw", "role"],
            ..case(
                "url without a scheme",
                vec![],
                &[
                    "backup",
                    "--source",
                    "role:Hx7Qw@127.0.0.1/db",
                    "--target",
                    NOWHERE,
                ],
                &["unsupported database URL scheme"],
            )
        },
        case(
            "unsupported scheme",
            vec![],
            &["backup", "--source", "ftp://x/y", "--target", NOWHERE],
            &["unsupported database URL scheme \"ftp\""],
        ),
        case(
            "port out of range",
            vec![],
            &[
                "backup",
                "--source",
                "postgres://127.0.0.1:99999/db",
                "--target",
                NOWHERE,
            ],
            &["invalid database URL postgres://"],
        ),
        case(
            "refused port",
            vec![],
            &["backup", "--source", NOWHERE, "--target", NOWHERE],
            &["cannot connect to postgres://127.0.0.1:1/none:", "refused"],
        ),
        case(
            "missing sqlite file",
            vec![],
            &[
                "backup",
                "--source",
                "sqlite:{dir}/none.db",
                "--target",
                "sqlite:{dir}/none.db",
            ],
            &["does not exist"],
        ),
        case(
            "sqlite path is a directory",
            vec![File::Dir("d.db")],
            &[
                "backup",
                "--source",
                "sqlite:{dir}/d.db",
                "--target",
                "sqlite:{dir}/d.db",
            ],
            &["directory"],
        ),
        case(
            "url neither url nor variable",
            vec![],
            &[
                "backup",
                "--source",
                "PARITY_FAULTS_NOT_A_VAR",
                "--target",
                NOWHERE,
            ],
            &["neither a database URL nor a set environment variable"],
        ),
        Case {
            env: vec![("PARITY_JOBS", "0")],
            ..case("env jobs 0", vec![], &["check"], &[JOBS])
        },
        Case {
            env: vec![("PARITY_CHUNK_ROWS", "99999999999999999999999")],
            ..case(
                "env chunk rows huge",
                vec![],
                &["check"],
                &["chunk-rows must be at least 1"],
            )
        },
        Case {
            env: vec![("PARITY_ITERATIONS", "-2")],
            ..case(
                "env iterations -2",
                vec![],
                &["timing"],
                &["iterations must be at least 1"],
            )
        },
        // ---- schemas
        case(
            "schema binary garbage",
            vec![
                File::Bytes("schema.prisma", garbage()),
                File::Text(
                    "parity.toml",
                    config_files("{dir}/schema.prisma", &drizzle_snapshot),
                ),
            ],
            &[C, CFG, "check"],
            &["not UTF-8 text at byte 10"],
        ),
        case(
            "schema syntax error",
            vec![
                File::Text(
                    "schema.prisma",
                    "model User {\n  id Int @id\n  name String @@@\n".into(),
                ),
                File::Text(
                    "parity.toml",
                    config_files("{dir}/schema.prisma", &drizzle_snapshot),
                ),
            ],
            &[C, CFG, "check"],
            &["schema.prisma"],
        ),
        case(
            "schema missing",
            cfg(config_files("{dir}/nope.prisma", &drizzle_snapshot)),
            &[C, CFG, "check"],
            &["nope.prisma"],
        ),
        case(
            "show-mapping garbage",
            vec![File::Bytes("x.prisma", garbage())],
            &["schema", "--show-mapping", "{dir}/x.prisma"],
            &["not UTF-8 text"],
        ),
        case(
            "schema with no models checks nothing",
            vec![
                File::Text(
                    "schema.prisma",
                    "datasource db {\n  provider = \"postgresql\"\n}\n".into(),
                ),
                File::Text(
                    "parity.toml",
                    config("").replace(&prisma, "{dir}/schema.prisma"),
                ),
            ],
            &[C, CFG, "check"],
            &["nothing to check"],
        ),
        // ---- snapshots
        case(
            "snapshot not JSON",
            vec![
                File::Text("snap.json", "{ \"tables\": ".into()),
                File::Text("parity.toml", config_files(&prisma, "{dir}/snap.json")),
            ],
            &[C, CFG, "check"],
            &["snap.json"],
        ),
        case(
            "snapshot binary garbage",
            vec![
                File::Bytes("snap.json", garbage()),
                File::Text("parity.toml", config_files(&prisma, "{dir}/snap.json")),
            ],
            &[C, CFG, "check"],
            &["not UTF-8 text at byte 10"],
        ),
        case(
            "snapshot wrong shape",
            vec![
                File::Text("snap.json", "[1, 2, 3]".into()),
                File::Text("parity.toml", config_files(&prisma, "{dir}/snap.json")),
            ],
            &[C, CFG, "check"],
            &["snap.json"],
        ),
        // ---- manifests
        case(
            "manifest path is a directory (backup)",
            vec![File::Dir("mdir")],
            &["backup", "--manifest", "{dir}/mdir", "--target", NOWHERE],
            &["is a directory"],
        ),
        case(
            "manifest path is a directory (manifest)",
            vec![File::Dir("mdir")],
            &["manifest", "--url", NOWHERE, "--manifest", "{dir}/mdir"],
            &["is a directory"],
        ),
        case(
            "manifest garbage",
            vec![File::Bytes("m.parity", garbage())],
            &[
                "backup",
                "--manifest",
                "{dir}/m.parity",
                "--target",
                NOWHERE,
            ],
            &["not a parity manifest"],
        ),
        case(
            "manifest empty",
            vec![File::Bytes("m.parity", Vec::new())],
            &[
                "backup",
                "--manifest",
                "{dir}/m.parity",
                "--target",
                NOWHERE,
            ],
            &["m.parity"],
        ),
        case(
            "manifest truncated",
            vec![File::Bytes(
                "m.parity",
                b"PARITYMF\x01\x00\x00\x00H".to_vec(),
            )],
            &[
                "manifest",
                "--manifest",
                "{dir}/m.parity",
                "--export-csv",
                "{dir}/csv",
            ],
            &["m.parity"],
        ),
        // ---- queries files
        case(
            "queries file bad toml",
            vec![
                File::Text("q/user/x.toml", "name = \"x\"\nrepository = \n".into()),
                File::Text("parity.toml", config("")),
            ],
            &[C, CFG, "timing", "--queries", "{dir}/q"],
            &["x.toml"],
        ),
        case(
            "queries file binary garbage",
            vec![
                File::Bytes("q/user/x.toml", garbage()),
                File::Text("parity.toml", config("")),
            ],
            &[C, CFG, "timing", "--queries", "{dir}/q"],
            &["not UTF-8 text at byte 10"],
        ),
        case(
            "queries folder missing",
            cfg(config("")),
            &[C, CFG, "timing", "--queries", "{dir}/nowhere"],
            &["nowhere"],
        ),
        // ---- selections
        case(
            "tables unknown",
            cfg(config("")),
            &[C, CFG, "check", "--tables", "nosuch"],
            &["nosuch"],
        ),
        case(
            "repository unknown",
            cfg(config("")),
            &[C, CFG, "check", "--repository", "nosuch"],
            &["nosuch"],
        ),
    ];
    // Flag and env cases get a valid config, so a value that slips through
    // shows what it would do (a connection attempt) rather than a missing
    // config.
    for c in &mut v {
        let first = c.args.first().copied().unwrap_or("");
        if c.files.is_empty() && matches!(first, "check" | "timing") {
            c.files = cfg(config(""));
            c.args.splice(0..0, [C, CFG]);
        }
    }
    v
}

fn materialise(dir: &Path, files: &[File]) {
    for f in files {
        match f {
            File::Text(name, text) => {
                let p = dir.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text.replace("{dir}", &dir.display().to_string())).unwrap();
            }
            File::Bytes(name, bytes) => {
                let p = dir.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
            File::Dir(name) => std::fs::create_dir_all(dir.join(name)).unwrap(),
        }
    }
}

/// Runs one case in a temp dir of its own.
fn run(c: &Case) -> Run {
    let dir = tempfile::tempdir().unwrap();
    materialise(dir.path(), &c.files);
    let d = dir.path().display().to_string();
    let mut cmd = parity();
    cmd.current_dir(dir.path()).out(dir.path().join("out"));
    cmd.args(c.args.iter().map(|a| a.replace("{dir}", &d)));
    cmd.envs(&c.env)
        .timeout(std::time::Duration::from_secs(60))
        .run()
}

#[test]
fn hostile_inputs_exit_2_with_one_clear_line() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let o = run(c);
        let why = o.error_problems(&c.want, &c.never);
        if !why.is_empty() {
            failures.push(format!(
                "{}: {} — {}",
                c.name,
                why.join(", "),
                o.stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The before/after note: `PARITY_FAULTS_BIN=… cargo test --test tests
/// faults::hostile::hostile_inputs_table -- --ignored --nocapture`.
#[test]
#[ignore]
fn hostile_inputs_table() {
    for c in cases() {
        let o = run(&c);
        let lines: Vec<&str> = o.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let first: String = lines
            .first()
            .copied()
            .unwrap_or("")
            .chars()
            .take(220)
            .collect();
        println!("{}\t{}\t{}\t{first}", c.name, o.code, lines.len());
    }
}
