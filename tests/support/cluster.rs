//! A private PostgreSQL cluster for one test: its own data directory under
//! a temp folder and its own port, started with the settings the test
//! needs (server log format, preloaded libraries), stopped and removed on
//! drop. The shared server is left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::Backend;
use super::db::first_cells;

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    /// initdb and postgres refuse root: then the cluster is `postgres`'s.
    as_postgres: bool,
}

/// The newest PostgreSQL server binaries: initdb's folder on PATH, else
/// /usr/lib/postgresql/*/bin.
fn server_bin() -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok();
    let on_path = on_path.filter(|o| o.status.success());
    if let Some(o) = on_path {
        return Path::new(String::from_utf8_lossy(&o.stdout).trim())
            .parent()
            .map(Path::to_path_buf);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

impl Cluster {
    /// Starts one with `-c` `settings`; None when the server binaries are
    /// not installed.
    pub fn start(settings: &[&str]) -> Option<Cluster> {
        let bin = server_bin()?;
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let st = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status();
            assert!(st.unwrap().success(), "chown of the cluster's folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Cluster {
            dir,
            port,
            bin,
            as_postgres,
        };
        let data = c.dir.path().join("data");
        c.run(c.tool("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]));
        let mut opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            c.dir.path().display()
        );
        for s in settings {
            opts.push_str(&format!(" -c {s}"));
        }
        let log = c.log();
        c.run(
            c.tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &opts, "-w", "start"]),
        );
        Some(c)
    }

    /// The server's log file.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn exec(&self, db: &str, sql: &str) {
        Backend::Postgres.query(&self.url(db), sql);
    }

    /// The first cell of every row, as text.
    pub fn column(&self, db: &str, sql: &str) -> Vec<String> {
        first_cells(Backend::Postgres.query(&self.url(db), sql))
    }

    /// A server program, run as `postgres` when we are root.
    fn tool(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        if !self.as_postgres {
            return Command::new(exe);
        }
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    }

    fn run(&self, cmd: &mut Command) -> Output {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
