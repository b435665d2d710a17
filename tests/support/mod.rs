//! What every integration test module shares: the real binary ([`parity`],
//! a run's [`Run`] with its report files), temporary databases on the
//! shared PostgreSQL and MariaDB servers or in SQLite files ([`db`]),
//! parity.toml texts over the bike-shop fixture ([`config`]), a private
//! PostgreSQL cluster ([`cluster`]) and the checks several modules make.
//!
//! Crate internals (`parity::…`) are used only where a test needs the
//! fixture generator's values (check, seed), a mapping reader (corpus_*),
//! the operation loader (observe) or the timing session (timing's ignored
//! probe): those paths move with the code, so the binary is driven
//! everywhere else.

pub mod cluster;
pub mod config;
pub mod db;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use db::{Backend, TempDb};

/// One CSV row: header → value.
pub type Row = BTreeMap<String, String>;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("parity")
}

/// `parity` with a clean environment: no `PARITY_*` setting or
/// `DATABASE_URL` of the shell that runs the tests, no colour.
pub fn parity() -> Parity {
    Parity::at(&bin())
}

/// A command line for the binary, run to its end ([`Parity::run`]) or
/// spawned ([`Parity::spawn`]).
pub struct Parity {
    cmd: Command,
    out: PathBuf,
    timeout: Option<Duration>,
}

impl Parity {
    pub fn at(bin: &Path) -> Parity {
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PARITY_") {
                cmd.env_remove(k);
            }
        }
        cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
        Parity {
            cmd,
            out: PathBuf::new(),
            timeout: None,
        }
    }

    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I: IntoIterator<Item: AsRef<OsStr>>>(&mut self, args: I) -> &mut Self {
        self.cmd.args(args);
        self
    }

    /// Arguments written as one string, split at spaces (none has one).
    pub fn words(&mut self, line: &str) -> &mut Self {
        self.args(line.split_whitespace())
    }

    pub fn env(&mut self, k: &str, v: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    pub fn envs(&mut self, vars: &[(&str, &str)]) -> &mut Self {
        self.cmd.envs(vars.iter().copied());
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn config(&mut self, path: impl AsRef<OsStr>) -> &mut Self {
        self.arg("--config").arg(path)
    }

    /// `--out DIR`; the run's report files are read from there.
    pub fn out(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out = dir.as_ref().to_path_buf();
        self.arg("--out").arg(dir.as_ref())
    }

    /// The fixture's own parity.toml for `backend` over `url`
    /// (`DATABASE_URL`), run from the crate root as the README does.
    pub fn fixture(&mut self, backend: Backend, url: &str) -> &mut Self {
        let toml = config::fixture_dir(backend).join("parity.toml");
        let rel = toml.strip_prefix(root()).unwrap().to_path_buf();
        self.current_dir(root())
            .env("DATABASE_URL", url)
            .config(rel)
    }

    pub fn timeout(&mut self, d: Duration) -> &mut Self {
        self.timeout = Some(d);
        self
    }

    /// Runs to the end (no stdin) and collects what it said.
    pub fn run(&mut self) -> Run {
        let t0 = Instant::now();
        let cmd = std::mem::replace(&mut self.cmd, Command::new("true"));
        let mut cmd = assert_cmd::Command::from_std(cmd);
        if let Some(t) = self.timeout {
            cmd.timeout(t);
        }
        Run::from_output(cmd.output().unwrap(), &self.out, t0)
    }

    /// Starts it with stdin, stdout and stderr piped.
    pub fn spawn(&mut self) -> Child {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// `parity --config CONFIG --out OUT check ARGS…`.
pub fn check(config: &Path, out: &Path, args: &[&str]) -> Run {
    parity()
        .config(config)
        .out(out)
        .arg("check")
        .args(args)
        .run()
}

/// `parity --out OUT ARGS…` (split at spaces) through the fixture's own
/// config over `db`.
///
/// The gate's timing margin is set to 10×: these runs test schema and data
/// verdicts, and a few iterations on a loaded 2-core machine must not turn
/// an identical operation `slower` (the timing tests test the margin).
pub fn fixture_run(db: &TempDb, out: &Path, args: &str) -> Run {
    parity()
        .env("PARITY_MAX_SLOWDOWN", "10")
        .fixture(db.backend, &db.url)
        .out(out)
        .words(args)
        .run()
}

/// `parity --out OUT backup ARGS…`.
pub fn backup(out: &Path, args: &[&str]) -> Run {
    parity().out(out).arg("backup").args(args).run()
}

/// What one run of the binary did, and the report files it left in `out`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub out: PathBuf,
    pub took: Duration,
}

impl Run {
    /// A finished process that wrote its reports to `out`.
    pub fn from_output(o: Output, out: &Path, started: Instant) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            out: out.to_path_buf(),
            took: started.elapsed(),
        }
    }

    /// The first line on stdout.
    pub fn first_line(&self) -> &str {
        self.stdout.lines().next().unwrap_or_default()
    }

    /// `run`'s first line (the first repository's verdict): it holds every
    /// `says` and ends with `→ ending`.
    pub fn verdict_line(&self, says: &[&str], ending: &str) -> &str {
        let line = self.first_line();
        assert_contains(line, says);
        assert!(line.ends_with(&format!("→ {ending}")), "{line}");
        line
    }

    /// Asserts the exit code, showing both streams when it is wrong.
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Exit 0 or 1: the command ran to a verdict.
    pub fn expect_verdict(&self) -> &Run {
        let (out, code) = (self.out.display(), self.code);
        let ran = matches!(code, 0 | 1);
        assert!(
            ran,
            "{out}: exit {code}; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn text(&self, file: &str) -> String {
        std::fs::read_to_string(self.out.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}\n{}", self.stderr))
    }

    /// Asserts that a report file holds every one of `needles`.
    pub fn expect_in(&self, file: &str, needles: &[&str]) {
        assert_contains(&self.text(file), needles);
    }

    pub fn json(&self, file: &str) -> Value {
        serde_json::from_str(&self.text(file)).unwrap()
    }

    /// `report.json`.
    pub fn report(&self) -> Value {
        self.json("report.json")
    }

    pub fn csv(&self, file: &str) -> Vec<Row> {
        csv_rows(&self.out.join(file))
    }

    /// The `parity.csv` row of one source table.
    pub fn table(&self, name: &str) -> Row {
        let rows = self.csv("parity.csv");
        let found = rows.iter().find(|r| r["source_table"] == name).cloned();
        found.unwrap_or_else(|| panic!("no parity.csv row for {name}: {rows:?}"))
    }

    /// Asserts cells of one source table's `parity.csv` row.
    pub fn expect_table(&self, name: &str, cells: &[(&str, &str)]) {
        let row = self.table(name);
        let got: Vec<(&str, &str)> = cells.iter().map(|(k, _)| (*k, row[*k].as_str())).collect();
        assert_eq!(got, cells, "{name}: {row:?}");
    }

    /// Asserts `catalog.csv`'s finding on one object.
    pub fn expect_finding(&self, kind: &str, object: &str, finding: &str) {
        let got = self.finding(kind, object);
        assert_eq!(
            got.as_deref(),
            Some(finding),
            "{kind} {object}: {:?}",
            self.csv("catalog.csv")
        );
    }

    /// `report.json`'s entry for one source table.
    pub fn report_table(&self, name: &str) -> Value {
        let report = self.report();
        let tables = report["tables"].as_array().unwrap();
        let found = tables.iter().find(|t| t["source_table"] == name).cloned();
        found.unwrap_or_else(|| panic!("no table {name} in report.json"))
    }

    /// kind → keys of one table's rows in `differences.csv`.
    pub fn keys_by_kind(&self, table: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in self.csv("differences.csv") {
            if d["source_table"] == table {
                m.entry(d["kind"].clone())
                    .or_default()
                    .insert(d["key"].clone());
            }
        }
        m
    }

    /// The first row of `file` (a CSV) with every (column, value) given.
    pub fn row_with(&self, file: &str, cells: &[(&str, &str)]) -> Option<Row> {
        let rows = self.csv(file);
        rows.into_iter()
            .find(|r| cells.iter().all(|(k, v)| r[*k] == *v))
    }

    /// Asserts that `file` (a CSV) has a row with every (column, value).
    pub fn expect_row(&self, file: &str, cells: &[(&str, &str)]) {
        let found = self.row_with(file, cells);
        assert!(
            found.is_some(),
            "no {cells:?} in {file}: {:?}",
            self.csv(file)
        );
    }

    /// `catalog.csv`'s finding on one object.
    pub fn finding(&self, kind: &str, object: &str) -> Option<String> {
        self.csv("catalog.csv")
            .into_iter()
            .find(|r| r["kind"] == kind && r["object"] == object)
            .map(|r| r["finding"].clone())
    }

    /// `report.json`'s timing entry of one operation.
    pub fn operation(&self, name: &str) -> Value {
        let report = self.report();
        let ops = report["timing"]["operations"].as_array().unwrap();
        let found = ops.iter().find(|o| o["operation"] == name).cloned();
        found.unwrap_or_else(|| panic!("no operation {name}: {}", self.stdout))
    }

    /// Why this run is not one clear error (exit 2, one stderr line, no
    /// panic, every `want`, no `never`); empty when it is.
    pub fn error_problems(&self, want: &[&str], never: &[&str]) -> Vec<String> {
        let err = &self.stderr;
        let lines = err.lines().filter(|l| !l.trim().is_empty()).count();
        let mut why = Vec::new();
        if self.code != 2 {
            why.push(format!("exit {}", self.code));
        }
        if lines != 1 {
            why.push(format!("{lines} lines"));
        }
        if err.contains("panicked") {
            why.push("panic".into());
        }
        why.extend(
            want.iter()
                .filter(|w| !err.contains(*w))
                .map(|w| format!("missing {w:?}")),
        );
        why.extend(
            never
                .iter()
                .filter(|n| err.contains(*n))
                .map(|n| format!("leaks {n:?}")),
        );
        why
    }

    /// Exit 2 with exactly one line on stderr holding every `want`.
    pub fn expect_one_line_error(&self, want: &[&str]) {
        let why = self.error_problems(want, &[]);
        assert!(
            why.is_empty(),
            "{}: {}{}",
            why.join(", "),
            self.stdout,
            self.stderr
        );
    }
}

pub fn csv_rows(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let cells = headers.iter().zip(rec.iter());
            cells.map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

/// Runs `parity seed` with `args` after the URL; panics unless it exits 0;
/// returns stdout.
pub fn seed_with(url: &str, args: &[&str]) -> String {
    let r = parity().args(["seed", "--url", url]).args(args).run();
    assert_eq!(r.code, 0, "seed {args:?} failed: {}", r.stderr);
    r.stdout
}

/// Seeds `url` with `rows` rows and seed 7; returns the drift JSON printed
/// on stdout (or Null).
pub fn seed(url: &str, rows: u64, drift: Option<&str>) -> Value {
    let rows = rows.to_string();
    let mut args = vec!["--rows", &rows, "--seed", "7"];
    args.extend(drift.iter().flat_map(|d| ["--drift", d]));
    serde_json::from_str(&seed_with(url, &args)).unwrap_or(Value::Null)
}

/// Every file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Files a writer left half-done under `dir` (`.tmp`, `.partial`).
pub fn temp_leftovers(dir: &Path) -> Vec<PathBuf> {
    all_files(dir)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".tmp") || n.ends_with(".partial")
        })
        .collect()
}

/// `promtool check metrics` on a file (Debian's `prometheus` package;
/// scripts/test.sh installs it and sets PARITY_REQUIRE_PROMTOOL).
pub fn promtool_check_metrics(path: &Path) {
    let run = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(path).unwrap())
        .output();
    let out = match run {
        Ok(out) => out,
        Err(e) => {
            let required = std::env::var_os("PARITY_REQUIRE_PROMTOOL").is_some();
            assert!(!required, "promtool: {e}");
            eprintln!(
                "promtool not installed ({e}): metrics not linted; scripts/test.sh installs it"
            );
            return;
        }
    };
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A timing operation whose two sides returned the same rows.
pub fn assert_rows_agree(op: &Value) {
    let verdict = &op["verdict"];
    assert!(verdict != "mismatch" && verdict != "error", "{op}");
}

/// The `kind` folder of the schema conformance corpus (`$PARITY_CORPUS`,
/// else `<crate>/../shared/corpus`; a missing corpus fails) and its files
/// whose names end with `suffix`, sorted.
pub fn corpus(kind: &str, suffix: &str) -> (PathBuf, Vec<PathBuf>) {
    let base = std::env::var_os("PARITY_CORPUS")
        .map_or_else(|| root().join("../shared/corpus"), PathBuf::from);
    let dir = base.join(kind);
    assert!(
        dir.is_dir(),
        "the {kind} conformance corpus is missing: looked for {} (set PARITY_CORPUS to the corpus folder)",
        dir.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable corpus folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *{suffix} in {}", dir.display());
    (dir, files)
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that `text` holds every one of `needles`.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{n:?} not in:\n{text}");
    }
}

/// Runs a helper program (pg_dump, sqlite3, a script…); panics with its
/// stderr unless it exits 0.
pub fn tool(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "{:?}: {}{err}",
        cmd.get_program(),
        String::from_utf8_lossy(&o.stdout)
    );
    o
}
