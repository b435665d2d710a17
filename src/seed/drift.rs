//! Planted differences (`--drift`): which rows of one table are changed,
//! deleted or inserted, chosen deterministically from the seed, and the SQL
//! that applies them after the base data is loaded.
//!
//! A drifted database is the drift-free one plus exactly these edits:
//! - changed: one non-key column altered (`transactions.amount + 1`,
//!   `customers.loyalty_points + 1`, `items.stock + 1`, `bikes.year + 1`
//!   (NULL → 2001), `repairs.description || ' (edited)'`, `users.active`
//!   flipped, `repair_events.message || ' (edited)'`);
//! - deleted: the rows are removed. Rows of other tables that reference a
//!   deleted row go the way Prisma's referential actions would take them if
//!   the delete cascaded: optional references (`transactions.repair_id`,
//!   `repairs.mechanic_id`) become NULL, required ones are deleted too;
//! - inserted: new keys, generated like base rows at indexes past the base
//!   count (transactions: ids `N+1…`; repair_events: `seq` 5+ of existing
//!   repairs; `_ItemToRepair`: pairs not linked before).
//!
//! The changed and deleted keys are disjoint, and inserted keys are new.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::data::{Generator, Table};
use super::encode::mysql_quote;
use super::rng::Rng;
use crate::mapping::Dialect;

const EXPECTED: &str = "expected kind:N[,kind:N…][,table:NAME] with kind changed|deleted|inserted and N a count or N% \
     (e.g. changed:10,deleted:5,inserted:1%,table:customers)";

/// A count or a percentage of the table's base rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    Count(u64),
    Percent(f64),
}

impl Amount {
    fn resolve(self, rows: u64) -> u64 {
        match self {
            Amount::Count(n) => n,
            Amount::Percent(p) => (rows as f64 * p / 100.0).round() as u64,
        }
    }
}

/// A parsed `--drift` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftSpec {
    pub table: Table,
    pub changed: Amount,
    pub deleted: Amount,
    pub inserted: Amount,
}

impl DriftSpec {
    pub fn parse(spec: &str) -> Result<DriftSpec> {
        let bad = |why: String| anyhow::anyhow!("invalid --drift \"{spec}\": {why}; {EXPECTED}");
        let mut d = DriftSpec {
            table: Table::Transactions,
            changed: Amount::Count(0),
            deleted: Amount::Count(0),
            inserted: Amount::Count(0),
        };
        let mut seen = BTreeSet::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((kind, value)) = part.split_once(':') else {
                return Err(bad(format!("\"{part}\" has no ':'")));
            };
            let (kind, value) = (kind.trim(), value.trim());
            if !seen.insert(kind.to_string()) {
                return Err(bad(format!("\"{kind}\" is given twice")));
            }
            if kind == "table" {
                d.table = Table::from_name(value).ok_or_else(|| {
                    bad(format!(
                        "unknown table \"{value}\" (the fixture has {})",
                        Table::ALL.map(|t| t.name()).join(", ")
                    ))
                })?;
                continue;
            }
            let amount = if let Some(p) = value.strip_suffix('%') {
                match p.trim().parse::<f64>() {
                    Ok(p) if (0.0..=100.0).contains(&p) => Amount::Percent(p),
                    _ => {
                        return Err(bad(format!(
                            "\"{value}\" is not a percentage between 0% and 100%"
                        )));
                    }
                }
            } else {
                Amount::Count(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad(format!("\"{value}\" is not a count")))?,
                )
            };
            match kind {
                "changed" => d.changed = amount,
                "deleted" => d.deleted = amount,
                "inserted" => d.inserted = amount,
                other => return Err(bad(format!("unknown kind \"{other}\""))),
            }
        }
        if seen.iter().all(|k| k == "table") {
            return Err(bad("no kind given".into()));
        }
        Ok(d)
    }
}

/// One key value, as printed in the drift JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPart {
    Int(i64),
    Text(String),
}

/// A row's primary key: one part, or named parts for composite keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(pub Vec<KeyPart>);

impl Key {
    fn to_json(&self, t: Table) -> Value {
        let part = |p: &KeyPart| match p {
            KeyPart::Int(i) => Value::from(*i),
            KeyPart::Text(s) => Value::from(s.clone()),
        };
        if self.0.len() == 1 {
            part(&self.0[0])
        } else {
            let mut m = Map::new();
            for (name, p) in t.key().iter().zip(&self.0) {
                m.insert(name.to_string(), part(p));
            }
            Value::Object(m)
        }
    }
}

/// Rows the load appends to the drift table.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// Row indexes past the base count of an indexed table.
    Indexes(std::ops::Range<u64>),
    /// `(repair index, seq)` of new repair_events.
    Events(Vec<(u64, u64)>),
    /// `(item id, repair index)` of new `_ItemToRepair` links.
    Links(Vec<(u64, u64)>),
}

/// The resolved drift: the keys of each kind and the rows to insert.
#[derive(Debug, Clone)]
pub struct DriftPlan {
    pub table: Table,
    pub changed: Vec<Key>,
    pub deleted: Vec<Key>,
    pub inserted: Vec<Key>,
    pub rows: Inserted,
}

const S_DRIFT: u64 = 0xd71f7;

impl DriftPlan {
    pub fn new(g: &Generator, spec: &DriftSpec) -> Result<DriftPlan> {
        let t = spec.table;
        let base = g.count(t);
        let c = spec.changed.resolve(base);
        let d = spec.deleted.resolve(base);
        let i = spec.inserted.resolve(base);
        if c > 0 && t == Table::ItemToRepair {
            bail!(
                "--drift: _ItemToRepair has no non-key column to change; use deleted or inserted"
            );
        }
        if c + d > base {
            bail!(
                "--drift asks for {c} changed + {d} deleted rows but {} has only {base}",
                t.name()
            );
        }
        let mut rng = Rng::new(g.seed, S_DRIFT, t as u64);
        // Floyd's sampling: c+d distinct positions, then a seeded shuffle
        // splits them between the kinds.
        let k = c + d;
        let mut chosen = BTreeSet::new();
        for j in base - k..base {
            let x = rng.below(j + 1);
            if !chosen.insert(x) {
                chosen.insert(j);
            }
        }
        let mut positions: Vec<u64> = chosen.into_iter().collect();
        for n in (1..positions.len()).rev() {
            positions.swap(n, rng.below(n as u64 + 1) as usize);
        }
        let (ch, de) = positions.split_at(c as usize);
        let changed = keys_at(g, t, ch);
        let deleted = keys_at(g, t, de);
        let (rows, mut inserted) = new_rows(g, t, i, &mut rng)?;
        let mut changed = changed;
        let mut deleted = deleted;
        changed.sort();
        deleted.sort();
        inserted.sort();
        Ok(DriftPlan {
            table: t,
            changed,
            deleted,
            inserted,
            rows,
        })
    }

    /// `{"table":…,"changed":[…],"deleted":[…],"inserted":[…]}`.
    pub fn to_json(&self) -> Value {
        let list =
            |keys: &[Key]| Value::Array(keys.iter().map(|k| k.to_json(self.table)).collect());
        let mut m = Map::new();
        m.insert("table".into(), Value::from(self.table.name()));
        m.insert("changed".into(), list(&self.changed));
        m.insert("deleted".into(), list(&self.deleted));
        m.insert("inserted".into(), list(&self.inserted));
        Value::Object(m)
    }

    /// The UPDATE and DELETE statements (inserted rows are loaded with the
    /// base data), in an order that keeps foreign keys satisfied.
    pub fn statements(&self, d: Dialect) -> Vec<String> {
        let mut out = Vec::new();
        let t = self.table;
        for chunk in self.changed.chunks(500) {
            out.push(format!(
                "UPDATE {} SET {} WHERE {}",
                q(d, t.name()),
                change_expr(d, t),
                key_match(d, t, chunk)
            ));
        }
        for chunk in self.deleted.chunks(500) {
            let keys = key_match(d, t, chunk);
            let list = || in_list(d, chunk);
            // What references the deleted rows, child first.
            let repairs_of = |bikes: String| {
                format!(
                    "SELECT id FROM {} WHERE bike_id IN ({bikes})",
                    q(d, "repairs")
                )
            };
            let drop_repairs = |out: &mut Vec<String>, repairs: &str| {
                out.push(format!(
                    "DELETE FROM {} WHERE {} IN ({repairs})",
                    q(d, "_ItemToRepair"),
                    q(d, "B")
                ));
                out.push(format!(
                    "DELETE FROM {} WHERE repair_id IN ({repairs})",
                    q(d, "repair_events")
                ));
                out.push(format!(
                    "UPDATE {} SET repair_id = NULL WHERE repair_id IN ({repairs})",
                    q(d, "transactions")
                ));
            };
            match t {
                Table::Users => out.push(format!(
                    "UPDATE {} SET mechanic_id = NULL WHERE mechanic_id IN ({})",
                    q(d, "repairs"),
                    list()
                )),
                Table::Items => out.push(format!(
                    "DELETE FROM {} WHERE {} IN ({})",
                    q(d, "_ItemToRepair"),
                    q(d, "A"),
                    list()
                )),
                Table::Repairs => drop_repairs(&mut out, &list()),
                Table::Bikes => {
                    drop_repairs(&mut out, &repairs_of(list()));
                    out.push(format!(
                        "DELETE FROM {} WHERE bike_id IN ({})",
                        q(d, "repairs"),
                        list()
                    ));
                }
                Table::Customers => {
                    let bikes = format!(
                        "SELECT id FROM {} WHERE customer_id IN ({})",
                        q(d, "bikes"),
                        list()
                    );
                    out.push(format!(
                        "DELETE FROM {} WHERE customer_id IN ({})",
                        q(d, "transactions"),
                        list()
                    ));
                    drop_repairs(&mut out, &repairs_of(bikes.clone()));
                    out.push(format!(
                        "DELETE FROM {} WHERE bike_id IN ({bikes})",
                        q(d, "repairs")
                    ));
                    out.push(format!(
                        "DELETE FROM {} WHERE customer_id IN ({})",
                        q(d, "bikes"),
                        list()
                    ));
                }
                Table::Transactions | Table::RepairEvents | Table::ItemToRepair => {}
            }
            out.push(format!("DELETE FROM {} WHERE {keys}", q(d, t.name())));
        }
        out
    }
}

fn q(d: Dialect, ident: &str) -> String {
    match d {
        Dialect::Mysql => format!("`{ident}`"),
        _ => format!("\"{ident}\""),
    }
}

fn change_expr(d: Dialect, t: Table) -> String {
    let concat = |col: &str| match d {
        Dialect::Mysql => format!("{col} = CONCAT({col}, ' (edited)')"),
        _ => format!("{col} = {col} || ' (edited)'"),
    };
    match t {
        Table::Transactions => "amount = amount + 1".into(),
        Table::Customers => "loyalty_points = loyalty_points + 1".into(),
        Table::Items => "stock = stock + 1".into(),
        Table::Bikes => "year = COALESCE(year + 1, 2001)".into(),
        Table::Users => "active = NOT active".into(),
        Table::Repairs => concat("description"),
        Table::RepairEvents => concat("message"),
        Table::ItemToRepair => unreachable!("rejected when planning"),
    }
}

fn literal(p: &KeyPart) -> String {
    match p {
        KeyPart::Int(i) => i.to_string(),
        KeyPart::Text(s) => {
            let mut out = String::new();
            mysql_quote(&mut out, s);
            out
        }
    }
}

fn in_list(_d: Dialect, keys: &[Key]) -> String {
    keys.iter()
        .map(|k| literal(&k.0[0]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_match(d: Dialect, t: Table, keys: &[Key]) -> String {
    let cols = t.key();
    if cols.len() == 1 {
        return format!("{} IN ({})", q(d, cols[0]), in_list(d, keys));
    }
    keys.iter()
        .map(|k| {
            let conds: Vec<String> = cols
                .iter()
                .zip(&k.0)
                .map(|(c, p)| format!("{} = {}", q(d, c), literal(p)))
                .collect();
            format!("({})", conds.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn indexed_key(g: &Generator, t: Table, index: u64) -> Key {
    Key(vec![match t {
        Table::Users => KeyPart::Text(g.user_id(index)),
        Table::Bikes => KeyPart::Text(g.bike_id(index)),
        Table::Repairs => KeyPart::Text(g.repair_id(index)),
        _ => KeyPart::Int(index as i64 + 1),
    }])
}

/// Keys of the rows at `positions` (generation order) of `t`.
fn keys_at(g: &Generator, t: Table, positions: &[u64]) -> Vec<Key> {
    if t.is_indexed() {
        return positions.iter().map(|&p| indexed_key(g, t, p)).collect();
    }
    let mut wanted: Vec<u64> = positions.to_vec();
    wanted.sort_unstable();
    let mut out = Vec::with_capacity(wanted.len());
    let mut next = wanted.iter().peekable();
    let mut pos = 0u64;
    for r in 0..g.sizes.repairs {
        if next.peek().is_none() {
            break;
        }
        let (n, items) = match t {
            Table::RepairEvents => (g.event_count(r), Vec::new()),
            _ => {
                let items = g.linked_items(r);
                (items.len() as u64, items)
            }
        };
        while let Some(&&p) = next.peek() {
            if p >= pos + n {
                break;
            }
            let within = p - pos;
            out.push(match t {
                Table::RepairEvents => Key(vec![
                    KeyPart::Text(g.repair_id(r)),
                    KeyPart::Int(within as i64 + 1),
                ]),
                _ => Key(vec![
                    KeyPart::Int(items[within as usize] as i64),
                    KeyPart::Text(g.repair_id(r)),
                ]),
            });
            next.next();
        }
        pos += n;
    }
    out
}

fn new_rows(g: &Generator, t: Table, n: u64, rng: &mut Rng) -> Result<(Inserted, Vec<Key>)> {
    if t.is_indexed() {
        let base = g.base_rows(t).unwrap_or(0);
        let keys = (base..base + n).map(|i| indexed_key(g, t, i)).collect();
        return Ok((Inserted::Indexes(base..base + n), keys));
    }
    let repairs = g.sizes.repairs;
    if n > 0 && repairs == 0 {
        bail!(
            "--drift: no repairs at this --rows, so no {} rows can be inserted",
            t.name()
        );
    }
    let mut keys = Vec::new();
    match t {
        Table::RepairEvents => {
            let mut extra: std::collections::HashMap<u64, u64> = Default::default();
            let mut rows = Vec::new();
            for _ in 0..n {
                let r = rng.below(repairs);
                let e = extra.entry(r).or_insert(0);
                *e += 1;
                // Base events stop at seq 4; new ones start at 5.
                let seq = 4 + *e;
                rows.push((r, seq));
                keys.push(Key(vec![
                    KeyPart::Text(g.repair_id(r)),
                    KeyPart::Int(seq as i64),
                ]));
            }
            Ok((Inserted::Events(rows), keys))
        }
        _ => {
            let items = g.sizes.items;
            if n > items * repairs / 2 {
                bail!("--drift: cannot insert {n} new _ItemToRepair links at this --rows");
            }
            let mut seen = std::collections::HashSet::new();
            let mut rows = Vec::new();
            while (rows.len() as u64) < n {
                let r = rng.below(repairs);
                let item = 1 + rng.below(items);
                if g.linked_items(r).contains(&item) || !seen.insert((item, r)) {
                    continue;
                }
                rows.push((item, r));
                keys.push(Key(vec![
                    KeyPart::Int(item as i64),
                    KeyPart::Text(g.repair_id(r)),
                ]));
            }
            Ok((Inserted::Links(rows), keys))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_spec() {
        let d = DriftSpec::parse("changed:10,deleted:5,inserted:7").unwrap();
        assert_eq!(d.table, Table::Transactions);
        assert_eq!(d.changed, Amount::Count(10));
        let d = DriftSpec::parse("changed:1%, table:customers").unwrap();
        assert_eq!(d.table, Table::Customers);
        assert_eq!(d.changed, Amount::Percent(1.0));
        assert_eq!(d.deleted, Amount::Count(0));
        for bad in [
            "",
            "changed",
            "changed:x",
            "moved:3",
            "changed:1,changed:2",
            "table:nope",
            "changed:120%",
            "table:users",
        ] {
            let e = DriftSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected kind:N"), "{bad}: {e}");
        }
    }

    #[test]
    fn plans_are_deterministic_disjoint_and_sized() {
        let g = Generator::new(5, 2000);
        let spec = DriftSpec::parse("changed:10,deleted:5,inserted:7").unwrap();
        let a = DriftPlan::new(&g, &spec).unwrap();
        let b = DriftPlan::new(&g, &spec).unwrap();
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(
            (a.changed.len(), a.deleted.len(), a.inserted.len()),
            (10, 5, 7)
        );
        assert!(a.changed.iter().all(|k| !a.deleted.contains(k)));
        assert_eq!(a.inserted[0], Key(vec![KeyPart::Int(2001)]));
        assert_eq!(a.rows, Inserted::Indexes(2000..2007));
        let other = DriftPlan::new(&Generator::new(6, 2000), &spec).unwrap();
        assert_ne!(a.to_json(), other.to_json());
        let json = a.to_json().to_string();
        assert!(
            json.starts_with("{\"table\":\"transactions\",\"changed\":["),
            "{json}"
        );
    }

    #[test]
    fn composite_keys_print_as_objects_and_exist() {
        let g = Generator::new(5, 2000);
        let spec = DriftSpec::parse("changed:3,deleted:2,inserted:4,table:repair_events").unwrap();
        let p = DriftPlan::new(&g, &spec).unwrap();
        let mut existing = BTreeSet::new();
        g.for_each(Table::RepairEvents, &mut |r| {
            if let (super::super::data::Val::Text(id), super::super::data::Val::Int(seq)) =
                (&r[0], &r[1])
            {
                existing.insert(Key(vec![KeyPart::Text(id.clone()), KeyPart::Int(*seq)]));
            }
        });
        assert!(
            p.changed
                .iter()
                .chain(&p.deleted)
                .all(|k| existing.contains(k))
        );
        assert!(p.inserted.iter().all(|k| !existing.contains(k)));
        let j = p.to_json();
        assert!(j["changed"][0]["repair_id"].is_string() && j["changed"][0]["seq"].is_number());
        let stmts = p.statements(Dialect::Postgres);
        assert!(stmts[0].starts_with(
            "UPDATE \"repair_events\" SET message = message || ' (edited)' WHERE (\"repair_id\" = '"
        ));

        let spec = DriftSpec::parse("deleted:2,inserted:3,table:_ItemToRepair").unwrap();
        let p = DriftPlan::new(&g, &spec).unwrap();
        assert!(p.to_json()["inserted"][0]["A"].is_number());
        assert!(
            DriftPlan::new(
                &g,
                &DriftSpec::parse("changed:1,table:_ItemToRepair").unwrap()
            )
            .is_err()
        );
        assert!(DriftPlan::new(&g, &DriftSpec::parse("deleted:20000").unwrap()).is_err());
    }
}
