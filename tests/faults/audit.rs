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

use super::{fixture_config, parity};
use crate::support::cluster::Cluster;
use crate::support::{config, seed};

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
    let settings = [
        "log_line_prefix='%p|'",
        "log_min_messages=warning",
        "logging_collector=off",
    ];
    let Some(cluster) = Cluster::start(&settings) else {
        eprintln!("skipped: no initdb/pg_ctl on this machine (install PostgreSQL server binaries)");
        return;
    };
    let db = "audit";
    cluster.exec("postgres", &format!("CREATE DATABASE {db}"));
    let url = cluster.url(db);
    seed(&url, 120, None);
    // From here on, every statement sent to the scratch database is logged.
    cluster.exec(
        "postgres",
        &format!("ALTER DATABASE {db} SET log_statement = 'all'"),
    );
    let log_start = std::fs::metadata(cluster.log())
        .map(|m| m.len())
        .unwrap_or(0);

    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture_config(dir.path(), &url, &config::repositories());
    let m = dir.path().join("m.parity").display().to_string();
    let m2 = dir.path().join("m2.parity").display().to_string();
    let runs = [
        ("schema", "schema".to_string()),
        ("check", "check".to_string()),
        (
            "run",
            "run --repository user --iterations 3 --warmup 1".to_string(),
        ),
        (
            "timing with writes",
            "timing --iterations 3 --warmup 1 --explain --repository repair".to_string(),
        ),
        ("backup", format!("backup --source {url} --target {url}")),
        (
            "manifest",
            format!("manifest --url {url} --manifest {m} --row-hashes"),
        ),
        (
            "backup --manifest",
            format!("backup --manifest {m} --target {url}"),
        ),
        (
            "manifest --export-snapshot",
            format!("manifest --url {url} --manifest {m2} --export-snapshot"),
        ),
    ];
    for (name, args) in &runs {
        let out = dir.path().join(name.replace(' ', "_"));
        parity()
            .config(&cfg)
            .out(out)
            .words(args)
            .run()
            .expect_verdict();
    }
    // Let the last sessions' Terminate reach the server log.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = std::fs::read(cluster.log()).unwrap();
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
