//! `parity seed` end to end: the real binary against real PostgreSQL,
//! MariaDB and SQLite. Each test creates its own database
//! (`parity_t_seed_<pid>_<n>`) and drops it afterwards, even on failure.
//! Servers: `$PARITY_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres)
//! and `$PARITY_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/mysql).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use parity::mapping::Dialect;
use parity::seed::data::{
    self, Generator, Table, Val, big_int_for, customer_phone_kind, has_sub_ms_micros,
    metadata_has_big_int, repair_status,
};
use parity::seed::fixture::{flavour, sha256_hex};
use serde_json::Value;
use sqlx::{Connection, Row};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    format!(
        "parity_t_seed_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `base` with its database replaced by `name`.
fn with_db(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let host_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &head[..host_end])
}

fn pg_base() -> String {
    std::env::var("PARITY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn mysql_base() -> String {
    std::env::var("PARITY_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

/// A test database, dropped when the guard goes out of scope.
struct TempDb {
    url: String,
    dialect: Dialect,
    name: String,
}

impl TempDb {
    fn pg() -> TempDb {
        let name = unique_name();
        TempDb {
            url: with_db(&pg_base(), &name),
            dialect: Dialect::Postgres,
            name,
        }
    }

    fn mysql() -> TempDb {
        let name = unique_name();
        TempDb {
            url: with_db(&mysql_base(), &name),
            dialect: Dialect::Mysql,
            name,
        }
    }

    /// All values come back as text (`NULL` as `None`), so casts live in the SQL.
    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        block_on(async {
            match self.dialect {
                Dialect::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    let rows = sqlx::query(sql)
                        .fetch_all(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    rows.iter()
                        .map(|r| (0..r.columns().len()).map(|i| r.get(i)).collect())
                        .collect()
                }
                Dialect::Mysql => {
                    let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                    let rows = sqlx::query(sql)
                        .fetch_all(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    // CAST(… AS CHAR) can come back typed as a blob; the bytes are UTF-8.
                    let text = |r: &sqlx::mysql::MySqlRow, i: usize| -> Option<String> {
                        r.try_get::<Option<String>, _>(i).unwrap_or_else(|_| {
                            r.get::<Option<Vec<u8>>, _>(i)
                                .map(|b| String::from_utf8(b).unwrap())
                        })
                    };
                    rows.iter()
                        .map(|r| (0..r.columns().len()).map(|i| text(r, i)).collect())
                        .collect()
                }
                Dialect::Sqlite => unreachable!(),
            }
        })
    }

    fn one(&self, sql: &str) -> Option<String> {
        self.query(sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten()
    }

    fn exec(&self, sql: &str) {
        block_on(async {
            match self.dialect {
                Dialect::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    sqlx::query(sql)
                        .execute(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                _ => {
                    let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                    sqlx::query(sql)
                        .execute(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
            }
        })
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dialect = self.dialect;
        block_on(async move {
            match dialect {
                Dialect::Postgres => {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&pg_base()).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                }
                _ => {
                    if let Ok(mut c) = sqlx::MySqlConnection::connect(&mysql_base()).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
                            .execute(&mut c)
                            .await;
                    }
                }
            }
        });
    }
}

fn parity() -> Command {
    let mut c = Command::cargo_bin("parity").unwrap();
    c.env_remove("PARITY_URL")
        .env_remove("PARITY_DRIFT")
        .env("NO_COLOR", "1");
    c
}

/// Runs `parity seed` and returns stdout; panics unless it exits 0.
fn seed(url: &str, extra: &[&str]) -> String {
    let out = parity()
        .args(["seed", "--url", url])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed {extra:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn first_matching(n: u64, pred: impl Fn(u64) -> bool) -> u64 {
    (1..=n).find(|&id| pred(id)).expect("a row under the rule")
}

fn expected_counts(seed: u64, rows: u64) -> BTreeMap<&'static str, u64> {
    let g = Generator::new(seed, rows);
    Table::ALL.iter().map(|&t| (t.name(), g.count(t))).collect()
}

fn q(d: Dialect, t: &str) -> String {
    if d == Dialect::Mysql {
        format!("`{t}`")
    } else {
        format!("\"{t}\"")
    }
}

fn assert_counts(db: &TempDb, seed: u64, rows: u64) {
    for (t, n) in expected_counts(seed, rows) {
        let sql = match db.dialect {
            Dialect::Mysql => format!("SELECT CAST(COUNT(*) AS CHAR) FROM {}", q(db.dialect, t)),
            _ => format!("SELECT count(*)::text FROM {}", q(db.dialect, t)),
        };
        let got = db.one(&sql);
        assert_eq!(got.as_deref(), Some(n.to_string().as_str()), "rows in {t}");
    }
}

fn text(v: &Val) -> String {
    match v {
        Val::Text(s) | Val::Decimal(s) | Val::Uuid(s) | Val::Json(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn postgres_seed_reads_back_the_tricky_values() {
    let db = TempDb::pg();
    let (seed_, rows) = (11u64, 2000u64);
    seed(&db.url, &["--rows", "2000", "--seed", "11"]);
    assert_counts(&db, seed_, rows);
    let g = Generator::new(seed_, rows);

    // Sub-millisecond microseconds exactly on the documented rows.
    let wrong = db.one(
        "SELECT count(*)::text FROM transactions \
         WHERE (extract(microseconds FROM occurred_at)::bigint % 1000 <> 0) <> (id % 97 = 0)",
    );
    assert_eq!(wrong.as_deref(), Some("0"));
    let id = first_matching(rows, has_sub_ms_micros);
    let us = db
        .one(&format!(
            "SELECT to_char(occurred_at, 'US') FROM transactions WHERE id = {id}"
        ))
        .unwrap();
    assert_ne!(us.parse::<u32>().unwrap() % 1000, 0);
    assert_eq!(
        db.one("SELECT (occurred_at < '1970-01-01')::text FROM transactions WHERE id = 499")
            .as_deref(),
        Some("true")
    );

    // Bigints beyond 2^53 and at the i64 limits, exact.
    assert_eq!(
        db.one("SELECT external_ref::text FROM transactions WHERE id = 101")
            .unwrap(),
        big_int_for(101).to_string()
    );
    assert_eq!(
        db.one("SELECT external_ref::text FROM transactions WHERE id = 7")
            .as_deref(),
        Some("9223372036854775807")
    );
    assert_eq!(
        db.one("SELECT external_ref::text FROM transactions WHERE id = 8")
            .as_deref(),
        Some("-9223372036854775808")
    );
    assert_eq!(
        db.one("SELECT count(*)::text FROM transactions WHERE id % 101 = 0 AND external_ref <> 9007199254740993 + 2 * id")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.one("SELECT (external_ref IS NULL)::text FROM transactions WHERE id = 5")
            .as_deref(),
        Some("true")
    );

    // numeric(12,2) keeps trailing zeros; numeric(65,30) keeps 30 digits.
    assert!(
        db.one("SELECT amount::text FROM transactions WHERE id = 10")
            .unwrap()
            .ends_with(".00")
    );
    let mut row = Vec::new();
    g.row(Table::Repairs, 13, &mut row);
    let cost = text(&row[5]);
    assert_eq!(cost.split('.').nth(1).unwrap().len(), 30);
    assert_eq!(
        db.one(&format!(
            "SELECT estimated_cost::text FROM repairs WHERE id = '{}'",
            g.repair_id(13)
        ))
        .unwrap(),
        cost
    );

    // JSON with integers above 2^53, kept exactly by jsonb.
    let id = first_matching(rows, metadata_has_big_int);
    assert_eq!(
        db.one(&format!(
            "SELECT metadata->>'ledger_id' FROM transactions WHERE id = {id}"
        ))
        .unwrap(),
        big_int_for(id).to_string()
    );
    assert_eq!(
        db.one("SELECT preferences->>'referral_code' FROM customers WHERE id = 7")
            .unwrap(),
        big_int_for(7).to_string()
    );

    // Mapped enum labels.
    let waiting = (0..g.sizes.repairs)
        .filter(|&r| repair_status(r) == "waiting_parts")
        .count();
    assert_eq!(
        db.one("SELECT count(*)::text FROM repairs WHERE status = 'waiting_parts'")
            .unwrap(),
        waiting.to_string()
    );
    assert_eq!(
        db.one("SELECT kind::text FROM transactions WHERE id = 4")
            .as_deref(),
        Some("repair_payment")
    );

    // Unicode and NULL vs empty string, exactly as generated.
    g.row(Table::Customers, 2, &mut row);
    let name = text(&row[1]);
    assert!(name.ends_with('🚲'));
    assert_eq!(
        db.one("SELECT first_name FROM customers WHERE id = 3")
            .unwrap(),
        name
    );
    assert_eq!(customer_phone_kind(5), data::PhoneKind::Null);
    assert_eq!(
        db.query("SELECT (phone IS NULL)::text, (phone = '')::text FROM customers WHERE id IN (5, 6) ORDER BY id"),
        vec![vec![Some("true".into()), None], vec![Some("false".into()), Some("true".into())]]
    );
    assert_eq!(
        db.one("SELECT (birth_date < '1970-01-01')::text FROM customers WHERE id = 4")
            .as_deref(),
        Some("true")
    );

    // Migration tables as the migrators write them.
    let f = flavour(Dialect::Postgres);
    assert_eq!(
        db.query("SELECT migration_name, checksum, applied_steps_count::text, (logs IS NULL)::text, (finished_at > started_at)::text FROM _prisma_migrations"),
        vec![vec![
            Some(f.prisma[0].name.into()),
            Some(sha256_hex(f.prisma[0].sql)),
            Some("1".into()),
            Some("true".into()),
            Some("true".into())
        ]]
    );
    let drizzle =
        db.query("SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id");
    let expected: Vec<Vec<Option<String>>> = f
        .drizzle
        .iter()
        .map(|m| {
            vec![
                Some(sha256_hex(m.sql)),
                Some(f.drizzle_when(m.tag).unwrap().to_string()),
            ]
        })
        .collect();
    assert_eq!(drizzle, expected);

    // Sequences continue after the seeded ids.
    db.exec("INSERT INTO customers (first_name, last_name, updated_at) VALUES ('New', 'Customer', now())");
    assert_eq!(
        db.one("SELECT max(id)::text FROM customers").unwrap(),
        (g.sizes.customers + 1).to_string()
    );

    // A non-empty database is refused without --force, reseeded with it.
    let out = parity()
        .args(["seed", "--url", &db.url, "--rows", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already has") && err.contains("--force"),
        "{err}"
    );
    assert!(
        !err.contains("postgres@"),
        "the URL's user info leaked: {err}"
    );
    seed(&db.url, &["--rows", "100", "--force"]);
    assert_counts(&db, 1, 100);
}

fn pg_table_hashes(db: &TempDb) -> BTreeMap<String, String> {
    let mut tables: Vec<String> = Table::ALL
        .iter()
        .map(|t| format!("\"{}\"", t.name()))
        .collect();
    tables.push("_prisma_migrations".into());
    tables.push("drizzle.__drizzle_migrations".into());
    tables
        .into_iter()
        .map(|t| {
            let h = db
                .one(&format!(
                    "SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) FROM {t} x"
                ))
                .unwrap();
            (t, h)
        })
        .collect()
}

fn pg_row_hashes(db: &TempDb) -> BTreeMap<i64, String> {
    db.query("SELECT id::text, md5(t::text) FROM transactions t")
        .into_iter()
        .map(|r| {
            (
                r[0].as_ref().unwrap().parse().unwrap(),
                r[1].clone().unwrap(),
            )
        })
        .collect()
}

fn ids(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn postgres_same_seed_same_content_and_drift_differs_in_exactly_the_planted_rows() {
    let (a, b, c) = (TempDb::pg(), TempDb::pg(), TempDb::pg());
    seed(&a.url, &["--rows", "1500", "--seed", "7"]);
    seed(&b.url, &["--rows", "1500", "--seed", "7"]);
    let out = seed(
        &c.url,
        &[
            "--rows",
            "1500",
            "--seed",
            "7",
            "--drift",
            "changed:10,deleted:5,inserted:7",
        ],
    );
    assert_eq!(pg_table_hashes(&a), pg_table_hashes(&b));

    let drift: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(drift["table"], "transactions");
    let (changed, deleted, inserted) = (
        ids(&drift["changed"]),
        ids(&drift["deleted"]),
        ids(&drift["inserted"]),
    );
    assert_eq!((changed.len(), deleted.len(), inserted.len()), (10, 5, 7));
    assert_eq!(inserted, (1501..=1507).collect::<Vec<i64>>());

    let (base, drifted) = (pg_row_hashes(&a), pg_row_hashes(&c));
    let mut got_changed: Vec<i64> = base
        .iter()
        .filter(|(k, h)| drifted.get(k).is_some_and(|d| d != *h))
        .map(|(k, _)| *k)
        .collect();
    let mut got_deleted: Vec<i64> = base
        .keys()
        .filter(|k| !drifted.contains_key(k))
        .copied()
        .collect();
    let mut got_inserted: Vec<i64> = drifted
        .keys()
        .filter(|k| !base.contains_key(k))
        .copied()
        .collect();
    got_changed.sort();
    got_deleted.sort();
    got_inserted.sort();
    assert_eq!(got_changed, changed);
    assert_eq!(got_deleted, deleted);
    assert_eq!(got_inserted, inserted);
    // Only `amount` changed on the changed rows.
    let list = changed
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let sum = |db: &TempDb| {
        db.one(&format!(
            "SELECT sum(amount)::text FROM transactions WHERE id IN ({list})"
        ))
        .unwrap()
    };
    let (x, y): (f64, f64) = (sum(&a).parse().unwrap(), sum(&c).parse().unwrap());
    assert!((y - x - 10.0).abs() < 1e-9);
    // The other tables are untouched.
    let (ha, hc) = (pg_table_hashes(&a), pg_table_hashes(&c));
    for (t, h) in &ha {
        if t != "\"transactions\"" {
            assert_eq!(Some(h), hc.get(t), "{t}");
        }
    }
}

#[test]
fn mariadb_seed_reads_back_the_tricky_values_and_drift() {
    let db = TempDb::mysql();
    let (seed_, rows) = (3u64, 1000u64);
    seed(
        &db.url,
        &["--rows", "1000", "--seed", "3", "--migrations", "0000_init"],
    );
    assert_counts(&db, seed_, rows);
    let g = Generator::new(seed_, rows);

    assert_eq!(
        db.one("SELECT CAST(COUNT(*) AS CHAR) FROM transactions WHERE (MICROSECOND(occurred_at) % 1000 <> 0) <> (id % 97 = 0)")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.one("SELECT CAST(external_ref AS CHAR) FROM transactions WHERE id = 7")
            .as_deref(),
        Some("9223372036854775807")
    );
    assert_eq!(
        db.one("SELECT CAST(external_ref AS CHAR) FROM transactions WHERE id = 101")
            .unwrap(),
        big_int_for(101).to_string()
    );
    assert_eq!(
        db.one("SELECT CAST(occurred_at AS CHAR) FROM transactions WHERE id = 499")
            .unwrap()
            .get(..3),
        Some("196")
    );
    let mut row = Vec::new();
    g.row(Table::Repairs, 13, &mut row);
    assert_eq!(
        db.one(&format!(
            "SELECT CAST(estimated_cost AS CHAR) FROM repairs WHERE id = '{}'",
            g.repair_id(13)
        ))
        .unwrap(),
        text(&row[5])
    );
    let id = first_matching(rows, metadata_has_big_int);
    assert_eq!(
        db.one(&format!(
            "SELECT JSON_VALUE(metadata, '$.ledger_id') FROM transactions WHERE id = {id}"
        ))
        .unwrap(),
        big_int_for(id).to_string()
    );
    assert_eq!(
        db.one("SELECT CAST(kind AS CHAR) FROM transactions WHERE id = 4")
            .as_deref(),
        Some("repair_payment")
    );
    g.row(Table::Customers, 2, &mut row);
    assert_eq!(
        db.one("SELECT first_name FROM customers WHERE id = 3")
            .unwrap(),
        text(&row[1])
    );
    assert_eq!(
        db.query("SELECT CAST(phone IS NULL AS CHAR), CAST(phone = '' AS CHAR) FROM customers WHERE id IN (5, 6) ORDER BY id"),
        vec![vec![Some("1".into()), None], vec![Some("0".into()), Some("1".into())]]
    );

    // --migrations 0000_init: Prisma's migration and Drizzle's baseline only.
    let f = flavour(Dialect::Mysql);
    assert_eq!(
        db.one("SELECT checksum FROM _prisma_migrations").unwrap(),
        sha256_hex(f.prisma[0].sql)
    );
    assert_eq!(
        db.query("SELECT hash, CAST(created_at AS CHAR) FROM __drizzle_migrations"),
        vec![vec![
            Some(sha256_hex(f.drizzle[0].sql)),
            Some(f.drizzle_when(f.drizzle[0].tag).unwrap().to_string())
        ]]
    );

    // AUTO_INCREMENT continues after the seeded ids.
    db.exec("INSERT INTO items (sku, name, price) VALUES ('NEW-1', 'new', 1.00)");
    assert_eq!(
        db.one("SELECT CAST(MAX(id) AS CHAR) FROM items").unwrap(),
        (g.sizes.items + 1).to_string()
    );

    // Drift on a parent table: the cascade keeps every foreign key valid.
    let out = seed(
        &db.url,
        &[
            "--rows",
            "1000",
            "--seed",
            "3",
            "--force",
            "--drift",
            "changed:4,deleted:3,inserted:2,table:customers",
        ],
    );
    let drift: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(drift["table"], "customers");
    let deleted = ids(&drift["deleted"]);
    let list = deleted
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        db.one(&format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM customers WHERE id IN ({list})"
        ))
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        db.one("SELECT CAST(COUNT(*) AS CHAR) FROM customers")
            .unwrap(),
        (g.sizes.customers - 3 + 2).to_string()
    );
    assert_eq!(
        db.one(&format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM bikes WHERE customer_id IN ({list})"
        ))
        .as_deref(),
        Some("0")
    );
}

#[test]
fn sqlite_seed_works_from_any_directory_with_drift_and_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let url = format!("sqlite:{}", path.display());
    let out = parity()
        .current_dir(dir.path())
        .args([
            "seed",
            "--url",
            &url,
            "--rows",
            "1500",
            "--seed",
            "5",
            "--drift",
            "changed:10,deleted:5,inserted:7,table:repair_events",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drift: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(drift["changed"].as_array().unwrap().len(), 10);
    assert!(drift["deleted"][0]["repair_id"].is_string() && drift["deleted"][0]["seq"].is_i64());

    let g = Generator::new(5, 1500);
    block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let count = |t: &str| format!("SELECT count(*) FROM \"{t}\"");
        for t in Table::ALL {
            let n: i64 = sqlx::query_scalar(&count(t.name()))
                .fetch_one(&mut c)
                .await
                .unwrap();
            let want = g.count(t) + if t == Table::RepairEvents { 7 - 5 } else { 0 };
            assert_eq!(n as u64, want, "{}", t.name());
        }
        // The planted keys, checked with SQL.
        for (kind, edited, present) in [("changed", 1, 1), ("deleted", 0, 0), ("inserted", 0, 1)] {
            for k in drift[kind].as_array().unwrap() {
                let (rid, seq) = (k["repair_id"].as_str().unwrap(), k["seq"].as_i64().unwrap());
                let (n, e): (i64, i64) = sqlx::query_as(
                    "SELECT count(*), coalesce(sum(message LIKE '% (edited)'), 0) FROM repair_events WHERE repair_id = ? AND seq = ?",
                )
                .bind(rid)
                .bind(seq)
                .fetch_one(&mut c)
                .await
                .unwrap();
                assert_eq!((n, e), (present, edited), "{kind} {k}");
            }
        }
        let edited: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM repair_events WHERE message LIKE '% (edited)'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(edited, 10);

        // Values as Prisma 7's SQLite adapter stores them.
        let (ts, ext, big): (String, i64, i64) = sqlx::query_as(
            "SELECT (SELECT occurred_at FROM transactions WHERE id = 97), \
                    (SELECT external_ref FROM transactions WHERE id = 8), \
                    (SELECT external_ref FROM transactions WHERE id = 202)",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(
            ts.ends_with("+00:00")
                && ts.contains('T')
                && ts.len() == "2016-06-27T16:42:48.305552+00:00".len(),
            "{ts}"
        );
        assert_eq!(ext, i64::MIN);
        assert_eq!(big, big_int_for(202));
        let (phone_null, phone_empty): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT (SELECT phone FROM customers WHERE id = 5), (SELECT phone FROM customers WHERE id = 6)")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!((phone_null, phone_empty.as_deref()), (None, Some("")));

        let f = flavour(Dialect::Sqlite);
        let (checksum,): (String,) = sqlx::query_as("SELECT checksum FROM _prisma_migrations")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(checksum, sha256_hex(f.prisma[0].sql));
        let hashes: Vec<(String, i64)> =
            sqlx::query_as("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert_eq!(hashes.len(), f.drizzle.len());
        assert_eq!(hashes[1].0, sha256_hex(f.drizzle[1].sql));
    });

    // Not empty: refused without --force.
    let out = parity()
        .args(["seed", "--url", &url, "--rows", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --force"));

    // --migrations none: no migration tables at all.
    seed(&url, &["--rows", "10", "--force", "--migrations", "none"]);
    block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE '%migrations'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn bad_arguments_exit_2_before_touching_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("never.db").display());
    for (args, needle) in [
        (vec!["--drift", "changed:ten"], "expected kind:N"),
        (vec!["--drift", "moved:3"], "expected kind:N"),
        (vec!["--drift", "changed:1,table:nope"], "unknown table"),
        (
            vec!["--migrations", "0099_nope"],
            "0001_transactions_occurred_at_idx",
        ),
    ] {
        let out = parity()
            .args(["seed", "--url", &url])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert!(!dir.path().join("never.db").exists());
}
