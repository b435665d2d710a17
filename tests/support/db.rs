//! Temporary databases: one per test on the shared PostgreSQL and MariaDB
//! servers (`PARITY_TEST_PG_URL`, `PARITY_TEST_MYSQL_URL`; default the local
//! services), or a SQLite file in a folder of its own. Each is dropped when
//! its [`TempDb`] is, even when the test fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::{Connection, Row};

use super::block_on;

static NEXT: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Mariadb,
    Sqlite,
}

impl Backend {
    /// The shared server's URL with `db` as its database (its query
    /// string, if any, kept).
    pub fn url(self, db: &str) -> String {
        let (var, default) = match self {
            Backend::Postgres => ("PARITY_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432"),
            Backend::Mariadb => ("PARITY_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
            Backend::Sqlite => panic!("SQLite has no server"),
        };
        let base = std::env::var(var).unwrap_or_else(|_| default.into());
        let (head, query) = match base.split_once('?') {
            Some((h, q)) => (h, format!("?{q}")),
            None => (base.as_str(), String::new()),
        };
        let host_start = head.find("://").map_or(0, |i| i + 3);
        let host_end = head[host_start..]
            .find('/')
            .map_or(head.len(), |i| host_start + i);
        format!("{}/{db}{query}", &head[..host_end])
    }

    /// `scheme://user@host:port` of the shared server.
    pub fn server(self) -> String {
        let url = self.url("");
        url[..url.rfind('/').unwrap()].to_string()
    }

    /// Runs `sql` on the server's own database (`postgres`, `mysql`).
    pub fn admin(self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.try_admin(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn try_admin(self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        let db = if self == Backend::Mariadb {
            "mysql"
        } else {
            "postgres"
        };
        block_on(query(self, &self.url(db), sql))
    }

    /// Runs `sql` on the database at `url`; every cell as text.
    pub fn query(self, url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
        block_on(query(self, url, sql)).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A database that exists for one test.
pub struct TempDb {
    pub backend: Backend,
    /// The database's name on its server; for SQLite the file's.
    pub name: String,
    pub url: String,
    /// SQLite: the folder that holds the file.
    dir: Option<tempfile::TempDir>,
}

impl TempDb {
    /// A fresh name (`parity_t_<tag>_<pid>_<n>`, or a file in a new temp
    /// folder) that nothing has created yet: `parity seed` creates it.
    pub fn new(backend: Backend, tag: &str) -> TempDb {
        if backend == Backend::Sqlite {
            let dir = tempfile::tempdir().unwrap();
            let name = format!("{tag}.db");
            let url = format!("sqlite:{}", dir.path().join(&name).display());
            return TempDb {
                backend,
                name,
                url,
                dir: Some(dir),
            };
        }
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("parity_t_{tag}_{}_{n}", std::process::id());
        let url = backend.url(&name);
        TempDb {
            backend,
            name,
            url,
            dir: None,
        }
    }

    pub fn pg(tag: &str) -> TempDb {
        TempDb::new(Backend::Postgres, tag)
    }

    pub fn mariadb(tag: &str) -> TempDb {
        TempDb::new(Backend::Mariadb, tag)
    }

    pub fn sqlite(tag: &str) -> TempDb {
        TempDb::new(Backend::Sqlite, tag)
    }

    /// Seeded with the fixture (`rows`, seed 7); the drift JSON, if any.
    pub fn seeded(
        backend: Backend,
        tag: &str,
        rows: u64,
        drift: Option<&str>,
    ) -> (TempDb, serde_json::Value) {
        let db = TempDb::new(backend, tag);
        let drift = super::seed(&db.url, rows, drift);
        (db, drift)
    }

    /// Creates it empty (for tests that build their own tables).
    pub fn create(self) -> TempDb {
        let sql = match self.backend {
            Backend::Postgres => format!("CREATE DATABASE \"{}\" TEMPLATE template0", self.name),
            Backend::Mariadb => format!(
                "CREATE DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
                self.name
            ),
            Backend::Sqlite => {
                std::fs::File::create(self.path()).unwrap();
                return self;
            }
        };
        self.backend.admin(&sql);
        self
    }

    /// A PostgreSQL copy of `template` (`CREATE DATABASE … TEMPLATE`).
    pub fn copy_of(template: &TempDb, tag: &str) -> TempDb {
        let db = TempDb::pg(tag);
        let t = &template.name;
        Backend::Postgres.admin(&format!(
            "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = '{t}'"
        ));
        Backend::Postgres.admin(&format!("CREATE DATABASE \"{}\" TEMPLATE \"{t}\"", db.name));
        db
    }

    /// SQLite: the file.
    pub fn path(&self) -> PathBuf {
        self.dir
            .as_ref()
            .expect("a SQLite database")
            .path()
            .join(&self.name)
    }

    /// Runs statements; panics on an error.
    pub fn exec(&self, sql: &str) {
        self.query(sql);
    }

    /// Every cell as text (`NULL` as `None`).
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.backend.query(&self.url, sql)
    }

    /// The first cell of the first row.
    pub fn one(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten()
    }

    /// The first cell of every row.
    pub fn column(&self, sql: &str) -> Vec<String> {
        first_cells(self.query(sql))
    }

    /// Table → its row count and a hash of its content, for every table
    /// (sequences and AUTO_INCREMENT counters are not content).
    pub fn fingerprint(&self) -> BTreeMap<String, String> {
        let tables = match self.backend {
            Backend::Postgres => self.column(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' \
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                 AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1",
            ),
            Backend::Mariadb => self.column(
                "SELECT CONCAT('`', table_name, '`') FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
            ),
            Backend::Sqlite => self.column(
                "SELECT '\"' || name || '\"' FROM sqlite_master WHERE type = 'table' ORDER BY 1",
            ),
        };
        let content = |t: &str| {
            match self.backend {
            Backend::Postgres => self.query(&format!(
                "SELECT count(*)::text, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM {t} x"
            )),
            Backend::Mariadb => self.query(&format!("CHECKSUM TABLE {t}")),
            Backend::Sqlite => {
                let mut rows = self.query(&format!("SELECT * FROM {t}"));
                rows.sort();
                rows
            }
        }
        };
        tables
            .into_iter()
            .map(|t| (t.clone(), format!("{:?}", content(&t))))
            .collect()
    }

    /// Runs `sql` in a loop on its own connection until the writer is
    /// stopped or dropped, `pause` between runs.
    pub fn writer(&self, sql: &str, pause: Duration) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let (backend, url, sql) = (self.backend, self.url.clone(), sql.to_string());
        let handle = {
            let (stop, count) = (stop.clone(), count.clone());
            std::thread::spawn(move || {
                block_on(async move {
                    let mut c = Conn::open(backend, &url).await.unwrap();
                    while !stop.load(Ordering::SeqCst) {
                        c.fetch(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                        count.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(pause).await;
                    }
                })
            })
        };
        Writer {
            stop,
            count,
            handle: Some(handle),
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let sql = match self.backend {
            Backend::Postgres => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            Backend::Mariadb => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            Backend::Sqlite => return,
        };
        let _ = self.backend.try_admin(&sql);
    }
}

/// Concurrent writes from [`TempDb::writer`].
pub struct Writer {
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Loops done so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Blocks until at least `n` loops are done.
    pub fn wait_for(&self, n: usize) {
        while self.count() < n {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it; the loops it ran.
    pub fn stop(mut self) -> usize {
        self.halt().expect("the writer failed");
        self.count()
    }

    fn halt(&mut self) -> std::thread::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().map_or(Ok(()), |h| h.join())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// One connection to any of the three backends.
enum Conn {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

impl Conn {
    async fn open(backend: Backend, url: &str) -> Result<Conn, sqlx::Error> {
        Ok(match backend {
            Backend::Postgres => Conn::Pg(sqlx::PgConnection::connect(url).await?),
            Backend::Mariadb => Conn::My(sqlx::MySqlConnection::connect(url).await?),
            Backend::Sqlite => Conn::Lite(sqlx::SqliteConnection::connect(url).await?),
        })
    }

    /// Runs `sql` (one or more statements); every cell as text.
    async fn fetch(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        let q = sqlx::raw_sql(sql);
        Ok(match self {
            Conn::Pg(c) => q.fetch_all(c).await?.iter().map(cells).collect(),
            Conn::My(c) => q.fetch_all(c).await?.iter().map(cells).collect(),
            Conn::Lite(c) => q.fetch_all(c).await?.iter().map(cells).collect(),
        })
    }

    async fn close(self) {
        let _ = match self {
            Conn::Pg(c) => c.close().await,
            Conn::My(c) => c.close().await,
            Conn::Lite(c) => c.close().await,
        };
    }
}

async fn query(
    backend: Backend,
    url: &str,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
    let mut c = Conn::open(backend, url).await?;
    let rows = c.fetch(sql).await;
    c.close().await;
    rows
}

/// A row's cells as text, whatever their type: text as it is, numbers and
/// booleans printed, anything else as the server sent it (text formats:
/// `raw_sql` reads PostgreSQL and MariaDB in their text protocols), bytes
/// that are no UTF-8 as hex.
fn cells<R>(r: &R) -> Vec<Option<String>>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    fn shown<T: ToString>(v: Result<Option<T>, sqlx::Error>) -> Option<Option<String>> {
        v.ok().map(|v| v.map(|v| v.to_string()))
    }
    let cell = |i: usize| -> Option<String> {
        shown(r.try_get::<Option<String>, _>(i))
            .or_else(|| shown(r.try_get::<Option<i64>, _>(i)))
            .or_else(|| shown(r.try_get::<Option<i32>, _>(i)))
            .or_else(|| shown(r.try_get::<Option<f64>, _>(i)))
            .or_else(|| shown(r.try_get::<Option<bool>, _>(i)))
            .or_else(|| shown(r.try_get_unchecked::<Option<String>, _>(i)))
            .unwrap_or_else(|| {
                let bytes = r.try_get_unchecked::<Option<Vec<u8>>, _>(i);
                bytes
                    .unwrap_or_else(|e| panic!("column {i}: {e}"))
                    .map(hex::encode)
            })
    };
    (0..r.columns().len()).map(cell).collect()
}

/// The first cell of every row ('' for NULL).
pub fn first_cells(rows: Vec<Vec<Option<String>>>) -> Vec<String> {
    let firsts = rows.into_iter().map(|r| r.into_iter().next().flatten());
    firsts.map(Option::unwrap_or_default).collect()
}
