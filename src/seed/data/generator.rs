//! The generator's state and its public face: sizes, keys and the facts
//! one table's rows take from another's (a bike's owner, a repair's id and
//! times), and the walk over a table's rows. The rows themselves are built
//! in `rows`.

use super::{Sizes, Table, Val};
use crate::seed::rng::Rng;
use crate::seed::time::{US_PER_DAY, US_PER_MS, US_PER_S, floor_ms, micros};

/// The shop's timeline: opened early January 2016, data up to the end of 2025.
pub(super) const SHOP_OPEN: i64 = micros(2016, 1, 4, 8, 0, 0);
pub(super) const SHOP_SPAN: i64 = micros(2025, 12, 31, 18, 0, 0) - SHOP_OPEN;

// Stream tags: one per table and per independently addressable attribute.
pub(super) const S_USER: u64 = 1;
pub(super) const S_CUSTOMER: u64 = 2;
pub(super) const S_ITEM: u64 = 3;
pub(super) const S_BIKE: u64 = 4;
pub(super) const S_BIKE_COUNT: u64 = 5;
pub(super) const S_REPAIR: u64 = 6;
pub(super) const S_REPAIR_CORE: u64 = 7;
pub(super) const S_EVENT: u64 = 8;
pub(super) const S_EVENT_COUNT: u64 = 9;
pub(super) const S_LINK: u64 = 10;
pub(super) const S_TXN: u64 = 11;
pub(super) const S_CUSTOMER_CORE: u64 = 12;
pub(super) const S_USER_CORE: u64 = 13;
pub(super) const S_BIKE_CORE: u64 = 14;

/// Generates every row of the fixture for one `(seed, N)`.
#[derive(Debug, Clone)]
pub struct Generator {
    pub seed: u64,
    pub sizes: Sizes,
    /// Customer id of each base bike, in bike index order (bikes are
    /// numbered customer by customer).
    bike_owner: Vec<u32>,
}

/// What other tables need to know about a repair.
#[derive(Debug, Clone)]
pub struct RepairCore {
    pub id: String,
    pub bike: u64,
    pub received_us: i64,
    pub created_us: i64,
}

impl Generator {
    pub fn new(seed: u64, rows: u64) -> Generator {
        let sizes = Sizes::for_rows(rows);
        let mut bike_owner = Vec::with_capacity((sizes.customers * 2) as usize);
        for c in 1..=sizes.customers {
            let n = 1 + Rng::new(seed, S_BIKE_COUNT, c).below(3);
            for _ in 0..n {
                bike_owner.push(c as u32);
            }
        }
        Generator {
            seed,
            sizes,
            bike_owner,
        }
    }

    pub fn bikes(&self) -> u64 {
        self.bike_owner.len() as u64
    }

    /// Base row count of an indexed table (`None` for the per-repair tables).
    pub fn base_rows(&self, t: Table) -> Option<u64> {
        let s = &self.sizes;
        match t {
            Table::Users => Some(s.users),
            Table::Customers => Some(s.customers),
            Table::Items => Some(s.items),
            Table::Bikes => Some(self.bikes()),
            Table::Repairs => Some(s.repairs),
            Table::Transactions => Some(s.transactions),
            Table::RepairEvents | Table::ItemToRepair => None,
        }
    }

    /// Base row count of any table (walks the repairs for the per-repair
    /// tables, which is cheap: no rows are built).
    pub fn count(&self, t: Table) -> u64 {
        match self.base_rows(t) {
            Some(n) => n,
            None => (0..self.sizes.repairs)
                .map(|r| match t {
                    Table::RepairEvents => self.event_count(r),
                    _ => self.linked_items(r).len() as u64,
                })
                .sum(),
        }
    }

    pub(super) fn rng(&self, stream: u64, index: u64) -> Rng {
        Rng::new(self.seed, stream, index)
    }

    // ---- keys and cross-table facts ----

    pub(super) fn user_core(&self, u: u64) -> (String, i64) {
        let mut r = self.rng(S_USER_CORE, u);
        let created = SHOP_OPEN - 45 * US_PER_DAY
            + (u as i64) * 11 * US_PER_DAY
            + r.range(0, 8 * 3600 * 1000) * US_PER_MS;
        (cuid(&mut r, created), created)
    }

    /// The cuid-like key of user index `u`.
    pub fn user_id(&self, u: u64) -> String {
        self.user_core(u).0
    }

    pub fn user_role(u: u64) -> &'static str {
        if u == 0 {
            "ADMIN"
        } else if u % 4 == 3 {
            "CLERK"
        } else {
            "MECHANIC"
        }
    }

    pub(super) fn customer_created_us(&self, id: u64) -> i64 {
        let mut r = self.rng(S_CUSTOMER_CORE, id);
        let c = self.sizes.customers.max(1) as i64;
        let base = SHOP_OPEN + (SHOP_SPAN / c) * (id as i64 - 1);
        base + r.range(0, 3 * 86_400_000) * US_PER_MS
    }

    /// The uuid key of bike index `b`.
    pub fn bike_id(&self, b: u64) -> String {
        self.rng(S_BIKE_CORE, b).uuid_v4()
    }

    /// The customer owning bike index `b` (bikes beyond the base count, from
    /// drift, get a deterministic random owner).
    pub fn bike_owner(&self, b: u64) -> u64 {
        match self.bike_owner.get(b as usize) {
            Some(&c) => c as u64,
            None => {
                1 + self
                    .rng(S_BIKE_COUNT, u64::MAX - b)
                    .below(self.sizes.customers)
            }
        }
    }

    pub fn repair_core(&self, r: u64) -> RepairCore {
        let mut g = self.rng(S_REPAIR_CORE, r);
        let n = self.sizes.repairs.max(1) as i64;
        let bike = g.below(self.bikes().max(1));
        let received_us = SHOP_OPEN
            + (SHOP_SPAN / n) * r as i64
            + g.range(0, 2 * 86_400) * US_PER_S
            + g.range(0, 999_999);
        let created_us = floor_ms(received_us) + g.range(0, 2_000) * US_PER_MS;
        let id = cuid(&mut g, created_us);
        RepairCore {
            id,
            bike,
            received_us,
            created_us,
        }
    }

    /// The cuid-like key of repair index `r`.
    pub fn repair_id(&self, r: u64) -> String {
        self.repair_core(r).id
    }

    /// Number of repair_events of repair `r` (0–4, `seq` 1..=k).
    pub fn event_count(&self, r: u64) -> u64 {
        self.rng(S_EVENT_COUNT, r).below(5)
    }

    /// Item ids linked to repair `r` in `_ItemToRepair` (0–3, distinct).
    pub fn linked_items(&self, r: u64) -> Vec<u64> {
        let mut g = self.rng(S_LINK, r);
        let k = g.below(4) as usize;
        let mut out: Vec<u64> = Vec::with_capacity(k);
        while out.len() < k.min(self.sizes.items as usize) {
            let item = 1 + g.below(self.sizes.items);
            if !out.contains(&item) {
                out.push(item);
            }
        }
        out
    }

    // ---- rows ----

    /// Row `index` (0-based) of an indexed table, into `out` (cleared first).
    /// Indexes beyond the base count are valid: drift inserts them.
    pub fn row(&self, t: Table, index: u64, out: &mut Vec<Val>) {
        out.clear();
        match t {
            Table::Users => self.user(index, out),
            Table::Customers => self.customer(index + 1, out),
            Table::Items => self.item(index + 1, out),
            Table::Bikes => self.bike(index, out),
            Table::Repairs => self.repair(index, out),
            Table::Transactions => self.transaction(index + 1, out),
            Table::RepairEvents | Table::ItemToRepair => {
                panic!("{} rows are generated per repair", t.name())
            }
        }
    }

    /// Every base row of `t`, in generation order.
    pub fn for_each(&self, t: Table, f: &mut dyn FnMut(&[Val])) {
        let mut buf = Vec::with_capacity(12);
        match t {
            Table::RepairEvents | Table::ItemToRepair => {
                for r in 0..self.sizes.repairs {
                    self.children(t, r, &mut buf, f);
                }
            }
            _ => {
                for i in 0..self.base_rows(t).unwrap_or(0) {
                    self.row(t, i, &mut buf);
                    f(&buf);
                }
            }
        }
    }

    /// The repair_events or _ItemToRepair rows of repair `r`.
    pub fn children(&self, t: Table, r: u64, buf: &mut Vec<Val>, f: &mut dyn FnMut(&[Val])) {
        match t {
            Table::RepairEvents => {
                let k = self.event_count(r);
                if k == 0 {
                    return;
                }
                let core = self.repair_core(r);
                for seq in 1..=k {
                    self.event_with(&core, r, seq, buf);
                    f(buf);
                }
            }
            Table::ItemToRepair => {
                let items = self.linked_items(r);
                if items.is_empty() {
                    return;
                }
                let id = self.repair_id(r);
                for item in items {
                    buf.clear();
                    buf.push(Val::Int(item as i64));
                    buf.push(Val::Text(id.clone()));
                    f(buf);
                }
            }
            _ => panic!("{} is not generated per repair", t.name()),
        }
    }

    /// Event `seq` of repair `r` (any `seq`; drift inserts ones past 4).
    pub fn event(&self, r: u64, seq: u64, out: &mut Vec<Val>) {
        let core = self.repair_core(r);
        self.event_with(&core, r, seq, out);
    }
}

/// A cuid-like id: `c`, the creation time in base 36 (8 digits), 16 random
/// base-36 digits. 25 characters, like Prisma's `cuid()`.
fn cuid(g: &mut Rng, created_us: i64) -> String {
    const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::with_capacity(25);
    s.push('c');
    let mut ms = created_us.div_euclid(US_PER_MS).max(0) as u64;
    let mut digits = [b'0'; 8];
    for d in digits.iter_mut().rev() {
        *d = B36[(ms % 36) as usize];
        ms /= 36;
    }
    s.extend(digits.iter().map(|&b| b as char));
    for _ in 0..2 {
        let mut v = g.next_u64();
        for _ in 0..8 {
            s.push(B36[(v % 36) as usize] as char);
            v /= 36;
        }
    }
    s
}
