//! The server-log write audit (issue 10): a private PostgreSQL cluster
//! (its own port, under the test's temp dir, never the shared server) logs
//! every statement of a scratch database (`ALTER DATABASE … SET
//! log_statement = 'all'`); every command runs against it; the log must show
//! no statement that could change data outside a rolled-back transaction:
//! outside a transaction only SET and SHOW, and every transaction either
//! READ ONLY in its BEGIN or ended by ROLLBACK. The log must also be free
//! of "there is no transaction in progress" and "unexpected EOF … open
//! transaction" (transactions and connections closed cleanly).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use super::{fixture_config, parity};
use crate::support::{block_on, root, seed};

/// A throwaway PostgreSQL cluster; stopped and removed on drop.
struct Cluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

fn find_bin() -> Option<PathBuf> {
    let from_path = Std::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(p) = from_path {
        return p.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

impl Cluster {
    fn cmd(&self, tool: &str) -> Std {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Std::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Std::new(exe)
        }
    }

    fn start() -> Option<Cluster> {
        let bin = find_bin()?;
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = tempfile::tempdir().ok()?;
        if as_postgres {
            // initdb and postgres refuse root: the cluster belongs to `postgres`.
            let st = Std::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .ok()?;
            if !st.success() {
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let c = Cluster {
            data: dir.path().join("data"),
            log: dir.path().join("server.log"),
            _dir: dir,
            port,
            bin,
            as_postgres,
        };
        let init = c
            .cmd("initdb")
            .arg("-D")
            .arg(&c.data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output()
            .ok()?;
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c log_line_prefix='%p|' \
             -c log_min_messages=warning -c logging_collector=off",
            c.data.display()
        );
        let start = c
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&c.data)
            .arg("-l")
            .arg(&c.log)
            .args(["-o", &opts, "-w", "start"])
            .output()
            .ok()?;
        assert!(
            start.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&start.stdout),
            std::fs::read_to_string(&c.log).unwrap_or_default()
        );
        Some(c)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn admin(&self, sql: &str) {
        let (url, sql) = (self.url("postgres"), sql.to_string());
        block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
            let _ = c.close().await;
        });
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// One logged statement of one backend.
#[derive(Debug)]
struct Logged {
    pid: String,
    sql: String,
}

/// Statements from a log written with `log_line_prefix = '%p|'`;
/// continuation lines of a multi-line statement are joined.
fn statements(log: &str) -> (Vec<Logged>, Vec<String>) {
    let mut out: Vec<Logged> = Vec::new();
    let mut other = Vec::new();
    for line in log.lines() {
        let prefixed = line
            .split_once('|')
            .filter(|(p, _)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        match prefixed {
            Some((pid, rest)) => {
                let rest = rest.trim_start();
                let sql = rest.strip_prefix("LOG:  statement: ").or_else(|| {
                    rest.strip_prefix("LOG:  execute ")
                        .and_then(|r| r.split_once(": ").map(|x| x.1))
                });
                match sql {
                    Some(sql) => out.push(Logged {
                        pid: pid.to_string(),
                        sql: sql.to_string(),
                    }),
                    None => other.push(rest.to_string()),
                }
            }
            None => {
                if let Some(last) = out.last_mut() {
                    last.sql.push('\n');
                    last.sql.push_str(line);
                }
            }
        }
    }
    (out, other)
}

/// Statements that could change data outside a rolled-back transaction.
fn violations(stmts: &[Logged]) -> Vec<String> {
    struct Tx {
        read_only: bool,
        body: Vec<String>,
    }
    let mut open: HashMap<&str, Tx> = HashMap::new();
    let mut bad = Vec::new();
    for s in stmts {
        let up = s.sql.trim().to_ascii_uppercase();
        let first = up.split_whitespace().next().unwrap_or("");
        let is_begin = first == "BEGIN" || up.starts_with("START TRANSACTION");
        let is_commit = first == "COMMIT" || first == "END";
        let is_rollback = (first == "ROLLBACK" || first == "ABORT") && !up.contains(" TO ");
        if is_begin {
            if open.contains_key(s.pid.as_str()) {
                bad.push(format!("{}: nested BEGIN: {}", s.pid, s.sql));
            }
            open.insert(
                &s.pid,
                Tx {
                    read_only: up.contains("READ ONLY"),
                    body: Vec::new(),
                },
            );
        } else if is_rollback {
            open.remove(s.pid.as_str());
        } else if is_commit {
            match open.remove(s.pid.as_str()) {
                Some(tx) if !tx.read_only => bad.push(format!(
                    "{}: a read-write transaction committed: {:?}",
                    s.pid, tx.body
                )),
                _ => {}
            }
        } else if let Some(tx) = open.get_mut(s.pid.as_str()) {
            tx.body.push(s.sql.clone());
        } else if !(first == "SET" || first == "SHOW") {
            bad.push(format!("{}: outside a transaction: {}", s.pid, s.sql));
        }
    }
    bad
}

#[test]
fn the_log_parser_catches_writes_outside_rolled_back_transactions() {
    let log = "1|LOG:  statement: SET x = 1\n\
               1|LOG:  statement: BEGIN READ ONLY\n\
               1|LOG:  execute sqlx_s_1: SELECT 1\n\
               1|LOG:  statement: COMMIT\n\
               2|LOG:  statement: BEGIN READ WRITE\n\
               2|LOG:  execute <unnamed>: UPDATE t\n   SET a = 1\n\
               2|LOG:  statement: ROLLBACK\n\
               3|LOG:  execute <unnamed>: SELECT 2\n\
               4|LOG:  statement: BEGIN\n\
               4|LOG:  statement: DELETE FROM t\n\
               4|LOG:  statement: COMMIT\n";
    let (s, _) = statements(log);
    assert_eq!(s.len(), 11);
    assert!(s[5].sql.contains("SET a = 1"));
    let v = violations(&s);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].contains("outside a transaction: SELECT 2"));
    assert!(v[1].contains("committed"));
}

#[test]
fn every_command_leaves_the_data_alone_per_the_server_log() {
    let Some(cluster) = Cluster::start() else {
        eprintln!("skipped: no initdb/pg_ctl on this machine (install PostgreSQL server binaries)");
        return;
    };
    let db = "audit";
    cluster.admin(&format!("CREATE DATABASE {db}"));
    let url = cluster.url(db);
    seed(&url, 120, None);
    // From here on, every statement sent to the scratch database is logged.
    cluster.admin(&format!("ALTER DATABASE {db} SET log_statement = 'all'"));
    let log_start = std::fs::metadata(&cluster.log)
        .map(|m| m.len())
        .unwrap_or(0);

    let dir = tempfile::tempdir().unwrap();
    let repos = std::fs::read_to_string(root().join("fixtures/bikeshop/parity.toml")).unwrap();
    let repos = repos[repos.find("[[repository]]").unwrap()..].replace(
        "queries = \"../../",
        &format!("queries = \"{}/", root().display()),
    );
    let cfg = fixture_config(dir.path(), &url, &repos);
    let out = |n: &str| dir.path().join(n);
    let manifest = dir.path().join("m.parity");
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("schema", vec!["schema".into()]),
        ("check", vec!["check".into()]),
        (
            "run",
            vec![
                "run",
                "--repository",
                "user",
                "--iterations",
                "3",
                "--warmup",
                "1",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        ),
        (
            "timing with writes",
            vec![
                "timing",
                "--iterations",
                "3",
                "--warmup",
                "1",
                "--explain",
                "--repository",
                "repair",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        ),
        (
            "backup",
            vec![
                "backup".into(),
                "--source".into(),
                url.clone(),
                "--target".into(),
                url.clone(),
            ],
        ),
        (
            "manifest",
            vec![
                "manifest".into(),
                "--url".into(),
                url.clone(),
                "--manifest".into(),
                manifest.display().to_string(),
                "--row-hashes".into(),
            ],
        ),
        (
            "backup --manifest",
            vec![
                "backup".into(),
                "--manifest".into(),
                manifest.display().to_string(),
                "--target".into(),
                url.clone(),
            ],
        ),
        (
            "manifest --export-snapshot",
            vec![
                "manifest".into(),
                "--url".into(),
                url.clone(),
                "--manifest".into(),
                dir.path().join("m2.parity").display().to_string(),
                "--export-snapshot".into(),
            ],
        ),
    ];
    for (name, args) in &runs {
        let o = parity()
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(out(&name.replace(' ', "_")))
            .args(args)
            .write_stdin("")
            .output()
            .unwrap();
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "{name}: exit {:?}: {}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Let the last sessions' Terminate reach the server log.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = std::fs::read(&cluster.log).unwrap();
    let log = String::from_utf8_lossy(&log[log_start as usize..]).into_owned();
    let (stmts, other) = statements(&log);
    assert!(
        stmts.len() > 100,
        "the log holds the commands' statements: {}",
        stmts.len()
    );
    let bad = violations(&stmts);
    let noisy: Vec<&String> = other
        .iter()
        .filter(|l| l.contains("no transaction in progress") || l.contains("unexpected EOF"))
        .collect();
    eprintln!(
        "audit: {} statements logged, {} violations, {} noisy lines",
        stmts.len(),
        bad.len(),
        noisy.len()
    );
    assert!(
        bad.is_empty(),
        "{} violations:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(noisy.is_empty(), "{noisy:#?}");
}
