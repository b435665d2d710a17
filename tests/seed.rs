//! `parity seed` end to end: the real binary against real PostgreSQL,
//! MariaDB and SQLite. Each test creates its own database
//! (`parity_t_seed_<pid>_<n>`) and drops it afterwards, even on failure.
//! Servers: `$PARITY_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres)
//! and `$PARITY_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/mysql).

use std::collections::BTreeMap;

use parity::mapping::Dialect;
use parity::seed::data::{
    self, Generator, Table, Val, big_int_for, customer_phone_kind, has_sub_ms_micros,
    metadata_has_big_int, repair_status,
};
use parity::seed::fixture::{flavour, sha256_hex};
use serde_json::Value;

use crate::support::{Backend, TempDb, assert_contains, parity, seed_with as seed};

fn first_matching(n: u64, pred: impl Fn(u64) -> bool) -> u64 {
    (1..=n).find(|&id| pred(id)).expect("a row under the rule")
}

fn expected_counts(seed: u64, rows: u64) -> BTreeMap<&'static str, u64> {
    let g = Generator::new(seed, rows);
    Table::ALL.iter().map(|&t| (t.name(), g.count(t))).collect()
}

fn assert_counts(db: &TempDb, seed: u64, rows: u64) {
    for (t, n) in expected_counts(seed, rows) {
        let t = if db.backend == Backend::Mariadb {
            format!("`{t}`")
        } else {
            format!("\"{t}\"")
        };
        let got = db.one(&format!("SELECT COUNT(*) FROM {t}"));
        assert_eq!(got.as_deref(), Some(n.to_string().as_str()), "rows in {t}");
    }
}

fn text(v: &Val) -> String {
    match v {
        Val::Text(s) | Val::Decimal(s) | Val::Uuid(s) | Val::Json(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// Each query's one cell against the value the generator promises.
fn expect_values(db: &TempDb, cases: &[(String, String)]) {
    for (sql, want) in cases {
        assert_eq!(db.one(sql).as_deref(), Some(want.as_str()), "{sql}");
    }
}

/// The generated text of one cell: `table`'s row `index`, column `col`.
fn generated(g: &Generator, table: Table, index: u64, col: usize) -> String {
    let mut row = Vec::new();
    g.row(table, index, &mut row);
    text(&row[col])
}

/// The generator's tricky values, read back from `db` (PostgreSQL or
/// MariaDB) seeded with `seed` and `rows`: the checks both dialects share.
fn tricky_values_read_back(db: &TempDb, seed: u64, rows: u64) -> Generator {
    assert_counts(db, seed, rows);
    let g = Generator::new(seed, rows);
    let pg = db.backend == Backend::Postgres;
    let text = |expr: &str| {
        if pg {
            format!("({expr})::text")
        } else {
            format!("CAST({expr} AS CHAR)")
        }
    };
    let (micros, ledger) = match pg {
        true => (
            "extract(microseconds FROM occurred_at)::bigint",
            "metadata->>'ledger_id'",
        ),
        false => (
            "MICROSECOND(occurred_at)",
            "JSON_VALUE(metadata, '$.ledger_id')",
        ),
    };
    let tx =
        |expr: &str, id: u64| format!("SELECT {} FROM transactions WHERE id = {id}", text(expr));
    let json_id = first_matching(rows, metadata_has_big_int);
    let cost = format!(
        "SELECT {} FROM repairs WHERE id = '{}'",
        text("estimated_cost"),
        g.repair_id(13)
    );
    let values = [
        // Sub-millisecond microseconds exactly on the documented rows.
        (
            format!(
                "SELECT count(*) FROM transactions WHERE ({micros} % 1000 <> 0) <> (id % 97 = 0)"
            ),
            "0".into(),
        ),
        // Bigints beyond 2^53 and at the i64 limits, exact.
        (tx("external_ref", 7), "9223372036854775807".into()),
        (tx("external_ref", 101), big_int_for(101).to_string()),
        // numeric(65,30) keeps its 30 digits.
        (cost, generated(&g, Table::Repairs, 13, 5)),
        // JSON with integers above 2^53, kept exactly.
        (
            format!("SELECT {ledger} FROM transactions WHERE id = {json_id}"),
            big_int_for(json_id).to_string(),
        ),
        // Mapped enum labels.
        (tx("kind", 4), "repair_payment".into()),
        // Unicode exactly as generated.
        (
            "SELECT first_name FROM customers WHERE id = 3".into(),
            generated(&g, Table::Customers, 2, 1),
        ),
    ];
    expect_values(db, &values);
    // NULL against the empty string.
    assert_eq!(customer_phone_kind(5), data::PhoneKind::Null);
    let (null, empty) = (text("phone IS NULL"), text("phone = ''"));
    let phones = db.query(&format!(
        "SELECT {null}, {empty} FROM customers WHERE id IN (5, 6) ORDER BY id"
    ));
    let (t, f) = if pg { ("true", "false") } else { ("1", "0") };
    assert_eq!(
        phones,
        [[Some(t), None], [Some(f), Some(t)]].map(|r| r.map(|c| c.map(String::from)))
    );
    g
}

#[test]
fn postgres_seed_reads_back_the_tricky_values() {
    let db = TempDb::pg("seed");
    let rows = 2000u64;
    seed(&db.url, &["--rows", "2000", "--seed", "11"]);
    let g = tricky_values_read_back(&db, 11, rows);
    let id = first_matching(rows, has_sub_ms_micros);
    let us = db.one(&format!(
        "SELECT to_char(occurred_at, 'US') FROM transactions WHERE id = {id}"
    ));
    assert_ne!(us.unwrap().parse::<u32>().unwrap() % 1000, 0);
    // numeric(12,2) keeps trailing zeros.
    assert!(
        db.one("SELECT amount::text FROM transactions WHERE id = 10")
            .unwrap()
            .ends_with(".00")
    );
    assert_eq!(
        generated(&g, Table::Repairs, 13, 5)
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        30
    );
    assert!(generated(&g, Table::Customers, 2, 1).ends_with('🚲'));
    let waiting = (0..g.sizes.repairs)
        .filter(|&r| repair_status(r) == "waiting_parts")
        .count();
    let before_1970 = |t: &str, c: &str, id: u64| {
        format!("SELECT ({c} < '1970-01-01')::text FROM {t} WHERE id = {id}")
    };
    let values = [
        (before_1970("transactions", "occurred_at", 499), "true".into()),
        ("SELECT external_ref::text FROM transactions WHERE id = 8".into(), "-9223372036854775808".into()),
        ("SELECT count(*) FROM transactions WHERE id % 101 = 0 AND external_ref <> 9007199254740993 + 2 * id".into(), "0".into()),
        ("SELECT (external_ref IS NULL)::text FROM transactions WHERE id = 5".into(), "true".into()),
        ("SELECT preferences->>'referral_code' FROM customers WHERE id = 7".into(), big_int_for(7).to_string()),
        ("SELECT count(*) FROM repairs WHERE status = 'waiting_parts'".into(), waiting.to_string()),
        (before_1970("customers", "birth_date", 4), "true".into()),
    ];
    expect_values(&db, &values);

    // Migration tables as the migrators write them.
    let f = flavour(Dialect::Postgres);
    let prisma = db.query("SELECT migration_name, checksum, applied_steps_count::text, (logs IS NULL)::text, (finished_at > started_at)::text FROM _prisma_migrations");
    let want = [
        f.prisma[0].name.to_string(),
        sha256_hex(f.prisma[0].sql),
        "1".into(),
        "true".into(),
        "true".into(),
    ];
    assert_eq!(prisma, [want.map(Some)]);
    let drizzle =
        db.query("SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id");
    let when = |tag| f.drizzle_when(tag).unwrap().to_string();
    let expected: Vec<[Option<String>; 2]> = f
        .drizzle
        .iter()
        .map(|m| [Some(sha256_hex(m.sql)), Some(when(m.tag))])
        .collect();
    assert_eq!(drizzle, expected);

    // Sequences continue after the seeded ids.
    db.exec("INSERT INTO customers (first_name, last_name, updated_at) VALUES ('New', 'Customer', now())");
    assert_eq!(
        db.one("SELECT max(id) FROM customers"),
        Some((g.sizes.customers + 1).to_string())
    );

    // A non-empty database is refused without --force, reseeded with it.
    let out = parity()
        .args(["seed", "--url", &db.url])
        .words("--rows 100")
        .run();
    out.expect(2);
    assert_contains(&out.stderr, &["already has", "--force"]);
    assert!(
        !out.stderr.contains("postgres@"),
        "the URL's user info leaked: {}",
        out.stderr
    );
    seed(&db.url, &["--rows", "100", "--force"]);
    assert_counts(&db, 1, 100);
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
    let [a, b, c] = ["a", "b", "c"].map(TempDb::pg);
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
    assert_eq!(a.fingerprint(), b.fingerprint());

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
    let (ha, hc) = (a.fingerprint(), c.fingerprint());
    assert!(
        ha.contains_key("public.transactions") && ha.contains_key("drizzle.__drizzle_migrations"),
        "{ha:?}"
    );
    for (t, h) in &ha {
        if t != "public.transactions" {
            assert_eq!(Some(h), hc.get(t), "{t}");
        }
    }
}

#[test]
fn mariadb_seed_reads_back_the_tricky_values_and_drift() {
    let db = TempDb::mariadb("seed");
    let rows = 1000u64;
    seed(
        &db.url,
        &["--rows", "1000", "--seed", "3", "--migrations", "0000_init"],
    );
    let g = tricky_values_read_back(&db, 3, rows);
    let born = db.one("SELECT CAST(occurred_at AS CHAR) FROM transactions WHERE id = 499");
    assert_eq!(born.unwrap().get(..3), Some("196"));

    // --migrations 0000_init: Prisma's migration and Drizzle's baseline only.
    let f = flavour(Dialect::Mysql);
    assert_eq!(
        db.one("SELECT checksum FROM _prisma_migrations"),
        Some(sha256_hex(f.prisma[0].sql))
    );
    let drizzle = db.query("SELECT hash, CAST(created_at AS CHAR) FROM __drizzle_migrations");
    let baseline = [
        sha256_hex(f.drizzle[0].sql),
        f.drizzle_when(f.drizzle[0].tag).unwrap().to_string(),
    ];
    assert_eq!(drizzle, [baseline.map(Some)]);

    // AUTO_INCREMENT continues after the seeded ids.
    db.exec("INSERT INTO items (sku, name, price) VALUES ('NEW-1', 'new', 1.00)");
    assert_eq!(
        db.one("SELECT MAX(id) FROM items"),
        Some((g.sizes.items + 1).to_string())
    );

    // Drift on a parent table: the cascade keeps every foreign key valid.
    let drift = "changed:4,deleted:3,inserted:2,table:customers";
    let out = seed(
        &db.url,
        &["--rows", "1000", "--seed", "3", "--force", "--drift", drift],
    );
    let drift: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(drift["table"], "customers");
    let deleted: Vec<String> = ids(&drift["deleted"]).iter().map(i64::to_string).collect();
    let list = deleted.join(",");
    let values = [
        (
            format!("SELECT COUNT(*) FROM customers WHERE id IN ({list})"),
            "0".into(),
        ),
        (
            "SELECT COUNT(*) FROM customers".into(),
            (g.sizes.customers - 3 + 2).to_string(),
        ),
        (
            format!("SELECT COUNT(*) FROM bikes WHERE customer_id IN ({list})"),
            "0".into(),
        ),
    ];
    expect_values(&db, &values);
}

#[test]
fn sqlite_seed_works_from_any_directory_with_drift_and_migrations() {
    let db = TempDb::sqlite("shop");
    let url = &db.url;
    let drift = "changed:10,deleted:5,inserted:7,table:repair_events";
    let out = parity()
        .current_dir(db.path().parent().unwrap())
        .args(["seed", "--url", url])
        .words("--rows 1500 --seed 5 --drift")
        .arg(drift)
        .run();
    out.expect(0);
    let drift: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(drift["changed"].as_array().unwrap().len(), 10);
    assert!(drift["deleted"][0]["repair_id"].is_string() && drift["deleted"][0]["seq"].is_i64());

    let g = Generator::new(5, 1500);
    for t in Table::ALL {
        let n = db
            .one(&format!("SELECT count(*) FROM \"{}\"", t.name()))
            .unwrap();
        let want = g.count(t) + if t == Table::RepairEvents { 7 - 5 } else { 0 };
        assert_eq!(n, want.to_string(), "{}", t.name());
    }
    // The planted keys, checked with SQL.
    for (kind, edited, present) in [("changed", 1, 1), ("deleted", 0, 0), ("inserted", 0, 1)] {
        for k in drift[kind].as_array().unwrap() {
            let (rid, seq) = (k["repair_id"].as_str().unwrap(), k["seq"].as_i64().unwrap());
            let found = db.query(&format!(
                "SELECT count(*), coalesce(sum(message LIKE '% (edited)'), 0) FROM repair_events WHERE repair_id = '{rid}' AND seq = {seq}"
            ));
            assert_eq!(
                found,
                [[Some(present.to_string()), Some(edited.to_string())]],
                "{kind} {k}"
            );
        }
    }
    let edited = db.one("SELECT count(*) FROM repair_events WHERE message LIKE '% (edited)'");
    assert_eq!(edited.as_deref(), Some("10"));

    // Values as Prisma 7's SQLite adapter stores them.
    let ts = db
        .one("SELECT occurred_at FROM transactions WHERE id = 97")
        .unwrap();
    assert!(
        ts.ends_with("+00:00")
            && ts.contains('T')
            && ts.len() == "2016-06-27T16:42:48.305552+00:00".len(),
        "{ts}"
    );
    let ext = |id: u64| {
        db.one(&format!(
            "SELECT external_ref FROM transactions WHERE id = {id}"
        ))
        .unwrap()
    };
    assert_eq!(ext(8), i64::MIN.to_string());
    assert_eq!(ext(202), big_int_for(202).to_string());
    let phones = db.query("SELECT phone FROM customers WHERE id IN (5, 6) ORDER BY id");
    assert_eq!(phones, [[None], [Some(String::new())]]);

    let f = flavour(Dialect::Sqlite);
    assert_eq!(
        db.one("SELECT checksum FROM _prisma_migrations"),
        Some(sha256_hex(f.prisma[0].sql))
    );
    let hashes = db.column("SELECT hash FROM __drizzle_migrations ORDER BY created_at");
    assert_eq!(hashes.len(), f.drizzle.len());
    assert_eq!(hashes[1], sha256_hex(f.drizzle[1].sql));

    // Not empty: refused without --force.
    let out = parity()
        .args(["seed", "--url", url])
        .words("--rows 10")
        .run();
    out.expect(2);
    assert!(out.stderr.contains("pass --force"));

    // --migrations none: no migration tables at all.
    seed(url, &["--rows", "10", "--force", "--migrations", "none"]);
    let n = db.one("SELECT count(*) FROM sqlite_master WHERE name LIKE '%migrations'");
    assert_eq!(n.as_deref(), Some("0"));
}

#[test]
fn bad_arguments_exit_2_before_touching_a_database() {
    let db = TempDb::sqlite("never");
    let cases = [
        ("--drift changed:ten", "expected kind:N"),
        ("--drift moved:3", "expected kind:N"),
        ("--drift changed:1,table:nope", "unknown table"),
        (
            "--migrations 0099_nope",
            "0001_transactions_occurred_at_idx",
        ),
    ];
    for (args, needle) in cases {
        let out = parity().args(["seed", "--url", &db.url]).words(args).run();
        assert_eq!(out.code, 2, "{args}");
        assert!(out.stderr.contains(needle), "{args}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert!(!db.path().exists());
}
