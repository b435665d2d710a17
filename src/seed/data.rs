//! The deterministic bike-shop generator: every value of every row, as a
//! pure function of `(seed, table, row index)`.
//!
//! Nothing here reads the clock or relies on a database default: ids
//! (integers, cuid-like strings, uuids), `created_at`/`updated_at` and every
//! other column are written explicitly, so two databases seeded alike hold
//! identical data. Values are produced backend-neutral ([`Val`]); the writers
//! decide how each is spelled for PostgreSQL, MariaDB or SQLite.
//!
//! # Sizes
//! `N = --rows` transactions (`id` 1..=N). Customers `max(10, N/20)` (`id`
//! 1..=C); bikes 1–3 per customer; users `5 + N/10000`; items
//! `50 + N/1000` (`id` 1..=I); repairs `N/5`; repair_events 0–4 per repair
//! (`seq` 1..=k); `_ItemToRepair` 0–3 distinct items per repair.
//! Users, bikes and repairs are numbered by a 0-based index `u`, `b`, `r`
//! whose key is [`Generator::user_id`], [`Generator::bike_id`],
//! [`Generator::repair_id`].
//!
//! # The values that stress ORM semantics (exact, documented subsets)
//! `transactions` (by `id`):
//! - `occurred_at` (timestamp(6)) has sub-millisecond microseconds
//!   (`µs % 1000 != 0`) exactly when `id % 97 == 0` ([`has_sub_ms_micros`]);
//!   every other row is on a whole millisecond.
//! - `occurred_at` is before 1970 (1960–1969) exactly when `id % 1000 == 499`
//!   ([`occurred_before_1970`]).
//! - `external_ref` (bigint), first matching rule wins:
//!   `id % 101 == 0` → `9007199254740993 + 2·id` (above 2^53, odd, so not a
//!   double) ([`external_ref_above_2_53`]);
//!   `id % 1000 == 7` → `i64::MAX − id/1000`, `id % 1000 == 8` →
//!   `i64::MIN + id/1000` ([`external_ref_near_i64_limit`]);
//!   `id % 10 == 5` → NULL ([`external_ref_is_null`]);
//!   otherwise `1 ..= 2^53 − 1`. [`special_external_ref`] gives the exact value.
//! - `amount` (numeric(12,2)): `id % 10 == 0` → whole (`56.00`);
//!   `id % 10 == 1` → one trailing zero (`12.50`); otherwise the last digit is
//!   non-zero ([`amount_trailing_zeros`]). REFUNDs are negative.
//! - `kind`: `id % 5 == 4` → `repair_payment` (the `@map`'d REPAIR_PAYMENT,
//!   with a `repair_id`) while repairs exist; `id % 25 == 3` → REFUND;
//!   else SALE ([`transaction_kind`]).
//! - `metadata` (jsonb): NULL when `id % 4 == 1` ([`metadata_is_null`]);
//!   otherwise an object with unsorted keys, a nested object/array and
//!   `"tax_rate"` with a trailing zero (`0.190`); it carries
//!   `"ledger_id": 9007199254740993 + 2·id` (> 2^53) when `id % 89 == 0`
//!   and not NULL ([`metadata_has_big_int`]).
//! - `currency` (char(3)): `id % 50` = 7 → USD, 17 → GBP, 27 → CHF, else EUR.
//!
//! `customers` (by `id`):
//! - `phone`: NULL when `id % 5 == 0`, the empty string when `id % 5 == 1`
//!   ([`customer_phone_kind`]).
//! - `last_name` is the empty string when `id % 50 == 7`
//!   ([`customer_last_name_is_empty`]); `first_name` ends in an emoji
//!   (`" 🚲"`) when `id % 40 == 3` ([`customer_name_has_emoji`]); names come
//!   from lists with accents, CJK, Cyrillic, Greek and apostrophes.
//! - `email`: NULL when `id % 9 == 0`.
//! - `birth_date` (date): NULL when `id % 6 == 1`; else before 1970
//!   (1940–1969) when `id % 4 == 0` ([`born_before_1970`]), 1970–2007 otherwise.
//! - `preferences` (jsonb): NULL when `id % 3 == 2`; carries
//!   `"referral_code": 9007199254740993 + 2·id` when `id % 7 == 0` and not NULL
//!   ([`preferences_has_big_int`]).
//! - `loyalty_points` (bigint): small, `0` when `id % 3 == 0`, else `0..20000`.
//!
//! `repairs` (by index `r`):
//! - `status`: `r % 10` = 3 → `waiting_parts` (WAITING_FOR_PARTS),
//!   6/7/8 → `picked_up` (PICKED_UP), 0/1 → DONE, 2 → IN_PROGRESS,
//!   else RECEIVED ([`repair_status`]).
//! - `estimated_cost` (numeric(65,30)), first matching rule wins:
//!   `r % 11 == 5` → NULL; `r % 500 == 250` → `≥ 1e21`; `r % 500 == 251` →
//!   `< 1e-7` (both print in exponent form through decimal.js);
//!   `r % 13 == 0` → 30 significant fractional digits (full scale);
//!   else two decimals ([`estimated_cost_kind`]).
//! - `description` is the empty string when `r % 50 == 0`; others include
//!   emoji, CJK, a quote, a tab, a newline and a backslash.
//! - `received_at` (timestamptz(6)) has random microseconds (sub-ms digits on
//!   all but ~0.1% of rows).
//!
//! `users` (by index `u`): `name` NULL when `u % 5 == 3`, empty when
//! `u % 5 == 4`. `bikes` (by index `b`): `color` NULL when `b % 8 == 0`,
//! empty when `b % 8 == 1`; `year` NULL when `b % 10 == 9`.

use super::rng::Rng;
use super::time::{US_PER_DAY, US_PER_MS, US_PER_S, days_from_civil, floor_ms, micros};

/// One generated value, backend-neutral.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    /// Exact decimal text, e.g. `"56.00"`.
    Decimal(String),
    /// Timestamp without time zone: µs since the epoch, read as UTC wall time.
    Timestamp(i64),
    /// An instant, µs since the epoch.
    TimestampTz(i64),
    /// Days since 1970-01-01.
    Date(i64),
    /// JSON text.
    Json(String),
    Uuid(String),
    /// An enum value's database label.
    Enum(&'static str),
}

/// The fixture's tables, in an order that satisfies foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Users,
    Customers,
    Items,
    Bikes,
    Repairs,
    RepairEvents,
    ItemToRepair,
    Transactions,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Table::Users,
        Table::Customers,
        Table::Items,
        Table::Bikes,
        Table::Repairs,
        Table::RepairEvents,
        Table::ItemToRepair,
        Table::Transactions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Customers => "customers",
            Table::Items => "items",
            Table::Bikes => "bikes",
            Table::Repairs => "repairs",
            Table::RepairEvents => "repair_events",
            Table::ItemToRepair => "_ItemToRepair",
            Table::Transactions => "transactions",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        let bare = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
        Table::ALL.into_iter().find(|t| t.name() == bare)
    }

    /// Column names in the order [`Generator`] produces values.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Users => &[
                "id",
                "email",
                "name",
                "role",
                "password_hash",
                "active",
                "created_at",
                "updated_at",
            ],
            Table::Customers => &[
                "id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "loyalty_points",
                "preferences",
                "birth_date",
                "created_at",
                "updated_at",
            ],
            Table::Items => &[
                "id",
                "sku",
                "name",
                "price",
                "stock",
                "weight_grams",
                "active",
            ],
            Table::Bikes => &[
                "id",
                "customer_id",
                "brand",
                "model",
                "serial_number",
                "year",
                "color",
                "created_at",
            ],
            Table::Repairs => &[
                "id",
                "bike_id",
                "mechanic_id",
                "status",
                "description",
                "estimated_cost",
                "received_at",
                "completed_at",
                "created_at",
                "updated_at",
            ],
            Table::RepairEvents => &["repair_id", "seq", "message", "logged_at"],
            Table::ItemToRepair => &["A", "B"],
            Table::Transactions => &[
                "id",
                "customer_id",
                "repair_id",
                "kind",
                "amount",
                "currency",
                "external_ref",
                "occurred_at",
                "metadata",
                "created_at",
                "updated_at",
            ],
        }
    }

    /// The primary key columns (a prefix of [`Table::columns`]'s positions is
    /// not assumed; see [`Table::key_positions`]).
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Table::RepairEvents => &["repair_id", "seq"],
            Table::ItemToRepair => &["A", "B"],
            _ => &["id"],
        }
    }

    /// Positions of the key columns in a generated row.
    pub fn key_positions(self) -> &'static [usize] {
        match self {
            Table::RepairEvents | Table::ItemToRepair => &[0, 1],
            _ => &[0],
        }
    }

    /// Whether rows are numbered by their own index (true) or generated per
    /// repair (repair_events, _ItemToRepair).
    pub fn is_indexed(self) -> bool {
        !matches!(self, Table::RepairEvents | Table::ItemToRepair)
    }
}

/// Row counts of the indexed tables for `N` transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub transactions: u64,
    pub customers: u64,
    pub users: u64,
    pub items: u64,
    pub repairs: u64,
}

impl Sizes {
    pub fn for_rows(n: u64) -> Sizes {
        Sizes {
            transactions: n,
            customers: (n / 20).max(10),
            users: 5 + n / 10_000,
            items: 50 + n / 1_000,
            repairs: n / 5,
        }
    }
}

// ---- the documented rules, as predicates the tests can call ----

/// `transactions.occurred_at` has sub-millisecond microseconds.
pub fn has_sub_ms_micros(id: u64) -> bool {
    id.is_multiple_of(97)
}

/// `transactions.occurred_at` lies in 1960–1969.
pub fn occurred_before_1970(id: u64) -> bool {
    id % 1000 == 499
}

/// `transactions.external_ref` is `9007199254740993 + 2·id`.
pub fn external_ref_above_2_53(id: u64) -> bool {
    id.is_multiple_of(101)
}

/// `transactions.external_ref` is within `id/1000` of `i64::MAX` or `i64::MIN`.
pub fn external_ref_near_i64_limit(id: u64) -> bool {
    !external_ref_above_2_53(id) && matches!(id % 1000, 7 | 8)
}

/// `transactions.external_ref` is NULL.
pub fn external_ref_is_null(id: u64) -> bool {
    !external_ref_above_2_53(id) && id % 10 == 5
}

/// The exact `external_ref` of the rows under the two big-value rules.
pub fn special_external_ref(id: u64) -> Option<i64> {
    if external_ref_above_2_53(id) {
        Some(big_int_for(id))
    } else if external_ref_near_i64_limit(id) {
        let d = (id / 1000) as i64;
        Some(if id % 1000 == 7 {
            i64::MAX - d
        } else {
            i64::MIN + d
        })
    } else {
        None
    }
}

/// `9007199254740993 + 2·id`: above 2^53 and odd, so no double holds it.
pub fn big_int_for(id: u64) -> i64 {
    9_007_199_254_740_993 + 2 * id as i64
}

/// Trailing zeros of `transactions.amount`: 2 (`56.00`), 1 (`12.50`) or 0.
pub fn amount_trailing_zeros(id: u64) -> u32 {
    match id % 10 {
        0 => 2,
        1 => 1,
        _ => 0,
    }
}

/// `transactions.kind` as its database label, given whether repairs exist.
pub fn transaction_kind(id: u64, repairs_exist: bool) -> &'static str {
    if id % 5 == 4 && repairs_exist {
        "repair_payment"
    } else if id % 25 == 3 {
        "REFUND"
    } else {
        "SALE"
    }
}

pub fn metadata_is_null(id: u64) -> bool {
    id % 4 == 1
}

/// `transactions.metadata` carries `"ledger_id": big_int_for(id)`.
pub fn metadata_has_big_int(id: u64) -> bool {
    id.is_multiple_of(89) && !metadata_is_null(id)
}

/// How `customers.phone` is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    Null,
    Empty,
    Number,
}

pub fn customer_phone_kind(id: u64) -> PhoneKind {
    match id % 5 {
        0 => PhoneKind::Null,
        1 => PhoneKind::Empty,
        _ => PhoneKind::Number,
    }
}

pub fn customer_last_name_is_empty(id: u64) -> bool {
    id % 50 == 7
}

pub fn customer_name_has_emoji(id: u64) -> bool {
    id % 40 == 3
}

pub fn customer_email_is_null(id: u64) -> bool {
    id.is_multiple_of(9)
}

pub fn birth_date_is_null(id: u64) -> bool {
    id % 6 == 1
}

pub fn born_before_1970(id: u64) -> bool {
    !birth_date_is_null(id) && id.is_multiple_of(4)
}

pub fn preferences_is_null(id: u64) -> bool {
    id % 3 == 2
}

/// `customers.preferences` carries `"referral_code": big_int_for(id)`.
pub fn preferences_has_big_int(id: u64) -> bool {
    id.is_multiple_of(7) && !preferences_is_null(id)
}

/// `repairs.status` of repair index `r`, as its database label.
pub fn repair_status(r: u64) -> &'static str {
    match r % 10 {
        3 => "waiting_parts",
        6..=8 => "picked_up",
        0 | 1 => "DONE",
        2 => "IN_PROGRESS",
        _ => "RECEIVED",
    }
}

/// How `repairs.estimated_cost` of repair index `r` is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostKind {
    Null,
    /// At least 1e21: decimal.js prints it in exponent form.
    Huge,
    /// Below 1e-7: decimal.js prints it in exponent form.
    Tiny,
    /// 30 significant fractional digits, the last one non-zero.
    FullScale,
    /// Two decimals.
    Cents,
}

pub fn estimated_cost_kind(r: u64) -> CostKind {
    if r % 11 == 5 {
        CostKind::Null
    } else if r % 500 == 250 {
        CostKind::Huge
    } else if r % 500 == 251 {
        CostKind::Tiny
    } else if r.is_multiple_of(13) {
        CostKind::FullScale
    } else {
        CostKind::Cents
    }
}

pub fn repair_description_is_empty(r: u64) -> bool {
    r.is_multiple_of(50)
}

// ---- the generator ----

/// The shop's timeline: opened early January 2016, data up to the end of 2025.
const SHOP_OPEN: i64 = micros(2016, 1, 4, 8, 0, 0);
const SHOP_SPAN: i64 = micros(2025, 12, 31, 18, 0, 0) - SHOP_OPEN;

// Stream tags: one per table and per independently addressable attribute.
const S_USER: u64 = 1;
const S_CUSTOMER: u64 = 2;
const S_ITEM: u64 = 3;
const S_BIKE: u64 = 4;
const S_BIKE_COUNT: u64 = 5;
const S_REPAIR: u64 = 6;
const S_REPAIR_CORE: u64 = 7;
const S_EVENT: u64 = 8;
const S_EVENT_COUNT: u64 = 9;
const S_LINK: u64 = 10;
const S_TXN: u64 = 11;
const S_CUSTOMER_CORE: u64 = 12;
const S_USER_CORE: u64 = 13;
const S_BIKE_CORE: u64 = 14;

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

    fn rng(&self, stream: u64, index: u64) -> Rng {
        Rng::new(self.seed, stream, index)
    }

    // ---- keys and cross-table facts ----

    fn user_core(&self, u: u64) -> (String, i64) {
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

    fn customer_created_us(&self, id: u64) -> i64 {
        let mut r = self.rng(S_CUSTOMER_CORE, id);
        let c = self.sizes.customers.max(1) as i64;
        let base = SHOP_OPEN + (SHOP_SPAN / c) * (id as i64 - 1);
        base + r.range(0, 3 * 86_400_000) * US_PER_MS
    }

    /// The uuid key of bike index `b`.
    pub fn bike_id(&self, b: u64) -> String {
        uuid(&mut self.rng(S_BIKE_CORE, b))
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

    fn event_with(&self, core: &RepairCore, r: u64, seq: u64, out: &mut Vec<Val>) {
        const MESSAGES: &[&str] = &[
            "received at the counter",
            "diagnosis: chain worn (0.75 %)",
            "waiting for parts — Shimano 105 cassette",
            "parts arrived 📦",
            "repair done ✅",
            "customer notified by SMS",
            "Kunde telefonisch informiert",
            "部品待ち",
            "test ride OK",
            "",
        ];
        out.clear();
        let mut g = self.rng(S_EVENT, r.wrapping_mul(64).wrapping_add(seq));
        let logged = floor_ms(core.received_us)
            + seq as i64 * g.range(600, 2 * 86_400) * US_PER_S
            + g.range(0, 999) * US_PER_MS;
        out.push(Val::Text(core.id.clone()));
        out.push(Val::Int(seq as i64));
        out.push(Val::Text(g.pick(MESSAGES).to_string()));
        out.push(Val::Timestamp(logged));
    }

    fn user(&self, u: u64, out: &mut Vec<Val>) {
        let (id, created) = self.user_core(u);
        let mut g = self.rng(S_USER, u);
        let (first, slug_f) = *g.pick(FIRST_NAMES);
        let (last, slug_l) = *g.pick(LAST_NAMES);
        out.push(Val::Text(id));
        out.push(Val::Text(format!(
            "staff{u}.{slug_f}.{slug_l}@bikeshop.example"
        )));
        out.push(match u % 5 {
            3 => Val::Null,
            4 => Val::Text(String::new()),
            _ => Val::Text(format!("{first} {last}")),
        });
        out.push(Val::Enum(Self::user_role(u)));
        let mut hash = String::with_capacity(60);
        hash.push_str("$2b$10$");
        for _ in 0..53 {
            hash.push(BCRYPT_ALPHABET[g.below(64) as usize] as char);
        }
        out.push(Val::Text(hash));
        out.push(Val::Bool(u % 6 != 5));
        out.push(Val::Timestamp(created));
        let updated = created + g.range(0, 400 * 86_400) * US_PER_S + g.range(0, 999) * US_PER_MS;
        out.push(Val::Timestamp(updated));
    }

    fn customer(&self, id: u64, out: &mut Vec<Val>) {
        let mut g = self.rng(S_CUSTOMER, id);
        let (first, slug_f) = FIRST_NAMES[skewed(&mut g, FIRST_NAMES.len())];
        let (last, slug_l) = LAST_NAMES[skewed(&mut g, LAST_NAMES.len())];
        out.push(Val::Int(id as i64));
        out.push(Val::Text(if customer_name_has_emoji(id) {
            format!("{first} 🚲")
        } else {
            first.to_string()
        }));
        let empty_last = customer_last_name_is_empty(id);
        out.push(Val::Text(if empty_last {
            String::new()
        } else {
            last.to_string()
        }));
        let domain = *g.pick(&[
            "example.com",
            "mail.example",
            "post.example.de",
            "example.co.jp",
        ]);
        out.push(if customer_email_is_null(id) {
            Val::Null
        } else if empty_last {
            Val::Text(format!("{slug_f}{id}@{domain}"))
        } else {
            Val::Text(format!("{slug_f}.{slug_l}{id}@{domain}"))
        });
        let phone = format!("+49 15{} {:07}", g.below(10), g.below(10_000_000));
        out.push(match customer_phone_kind(id) {
            PhoneKind::Null => Val::Null,
            PhoneKind::Empty => Val::Text(String::new()),
            PhoneKind::Number => Val::Text(phone),
        });
        let u = g.unit();
        out.push(Val::Int(if id.is_multiple_of(3) {
            0
        } else {
            (u * u * u * 20_000.0) as i64
        }));
        out.push(if preferences_is_null(id) {
            Val::Null
        } else {
            Val::Json(preferences_json(&mut g, id))
        });
        out.push(if birth_date_is_null(id) {
            Val::Null
        } else if id.is_multiple_of(4) {
            Val::Date(g.range(days_from_civil(1940, 1, 1), days_from_civil(1969, 12, 31)))
        } else {
            Val::Date(g.range(days_from_civil(1970, 1, 1), days_from_civil(2007, 12, 31)))
        });
        let created = self.customer_created_us(id);
        out.push(Val::Timestamp(created));
        let updated = if g.chance(0.6) {
            created
        } else {
            created + g.range(1, 700 * 86_400) * US_PER_S + g.range(0, 999) * US_PER_MS
        };
        out.push(Val::Timestamp(updated));
    }

    fn item(&self, id: u64, out: &mut Vec<Val>) {
        let mut g = self.rng(S_ITEM, id);
        let (prefix, names) = *g.pick(ITEM_CATALOG);
        out.push(Val::Int(id as i64));
        out.push(Val::Text(format!("{prefix}-{id:05}")));
        out.push(Val::Text(g.pick(names).to_string()));
        let u = g.unit();
        let euros = 2 + (u * u * u * 2_400.0) as i64;
        let cents = match id % 4 {
            0 => 0,
            1 => *g.pick(&[50, 90, 10]),
            _ => *g.pick(&[95, 99, 49, 45, 75, 29]),
        };
        out.push(Val::Decimal(format!("{euros}.{cents:02}")));
        out.push(Val::Int(if g.chance(0.08) { 0 } else { g.range(1, 200) }));
        out.push(if id.is_multiple_of(5) {
            Val::Null
        } else {
            Val::Float(g.range(50, 30_000) as f64 / 10.0)
        });
        out.push(Val::Bool(!id.is_multiple_of(17)));
    }

    fn bike(&self, b: u64, out: &mut Vec<Val>) {
        let mut g = self.rng(S_BIKE, b);
        let owner = self.bike_owner(b);
        let (brand, models) = BRANDS[skewed(&mut g, BRANDS.len())];
        out.push(Val::Uuid(self.bike_id(b)));
        out.push(Val::Int(owner as i64));
        out.push(Val::Text(brand.to_string()));
        out.push(Val::Text(g.pick(models).to_string()));
        let l1 = (b'A' + g.below(26) as u8) as char;
        let l2 = (b'A' + g.below(26) as u8) as char;
        out.push(Val::Text(format!("{l1}{l2}{b:08}{}", g.below(10))));
        out.push(if b % 10 == 9 {
            Val::Null
        } else {
            Val::Int(g.range(1998, 2025))
        });
        out.push(match b % 8 {
            0 => Val::Null,
            1 => Val::Text(String::new()),
            _ => Val::Text(g.pick(COLORS).to_string()),
        });
        let created = floor_ms(self.customer_created_us(owner))
            + g.range(0, 60 * 86_400) * US_PER_S
            + g.range(0, 999) * US_PER_MS;
        out.push(Val::Timestamp(created));
    }

    fn repair(&self, r: u64, out: &mut Vec<Val>) {
        let core = self.repair_core(r);
        let mut g = self.rng(S_REPAIR, r);
        let status = repair_status(r);
        out.push(Val::Text(core.id.clone()));
        out.push(Val::Uuid(self.bike_id(core.bike)));
        let mechanic = if status == "RECEIVED" && g.chance(0.5) {
            None
        } else {
            let users = self.sizes.users;
            let u = 1 + g.below(users - 1);
            Some(if Self::user_role(u) == "MECHANIC" {
                u
            } else {
                1
            })
        };
        out.push(match mechanic {
            Some(u) => Val::Text(self.user_id(u)),
            None => Val::Null,
        });
        out.push(Val::Enum(status));
        out.push(Val::Text(if repair_description_is_empty(r) {
            String::new()
        } else {
            g.pick(DESCRIPTIONS).to_string()
        }));
        out.push(match estimated_cost_kind(r) {
            CostKind::Null => Val::Null,
            CostKind::Huge => Val::Decimal(format!(
                "{}{:021}.5",
                1 + g.below(9),
                g.below(1_000_000_000_000_000_000)
            )),
            CostKind::Tiny => Val::Decimal(format!("0.0000000{}", 1 + g.below(99))),
            CostKind::FullScale => {
                let mut s = format!("{}.", g.range(10, 2_000));
                for _ in 0..29 {
                    s.push((b'0' + g.below(10) as u8) as char);
                }
                s.push((b'1' + g.below(9) as u8) as char);
                Val::Decimal(s)
            }
            CostKind::Cents => {
                let euros = g.range(15, 900);
                let cents = *g.pick(&[0, 0, 50, 90, 99, 45]);
                Val::Decimal(format!("{euros}.{cents:02}"))
            }
        });
        out.push(Val::TimestampTz(core.received_us));
        let done = matches!(status, "DONE" | "picked_up");
        let completed = floor_ms(core.received_us)
            + g.range(2 * 3600, 21 * 86_400) * US_PER_S
            + g.range(0, 999) * US_PER_MS;
        out.push(if done {
            Val::Timestamp(completed)
        } else {
            Val::Null
        });
        out.push(Val::Timestamp(core.created_us));
        let updated = if status == "picked_up" {
            completed + g.range(3600, 10 * 86_400) * US_PER_S
        } else if done {
            completed
        } else {
            core.created_us + g.range(0, 3 * 86_400) * US_PER_S
        };
        out.push(Val::Timestamp(updated));
    }

    fn transaction(&self, id: u64, out: &mut Vec<Val>) {
        let mut g = self.rng(S_TXN, id);
        let s = &self.sizes;
        let kind = transaction_kind(id, s.repairs > 0);
        let n = s.transactions.max(1) as i64;
        out.push(Val::Int(id as i64));
        let (customer, repair) = if kind == "repair_payment" {
            let centre = ((id - 1) as i128 * s.repairs as i128 / n as i128) as i64;
            let r = (centre + g.range(-20, 20)).clamp(0, s.repairs as i64 - 1) as u64;
            let core = self.repair_core(r);
            (self.bike_owner(core.bike), Some(core.id))
        } else {
            (1 + skewed(&mut g, s.customers as usize) as u64, None)
        };
        out.push(Val::Int(customer as i64));
        out.push(match repair {
            Some(id) => Val::Text(id),
            None => Val::Null,
        });
        out.push(Val::Enum(kind));
        let u = g.unit();
        let euros = match kind {
            "repair_payment" => 15 + (u * u * 600.0) as i64,
            _ => 1 + (u * u * u * u * 3_000.0) as i64,
        };
        let cents = match amount_trailing_zeros(id) {
            2 => 0,
            1 => 10 * g.range(1, 9),
            _ => {
                let c = g.range(1, 99);
                if c % 10 == 0 { c + 1 } else { c }
            }
        };
        let sign = if kind == "REFUND" { "-" } else { "" };
        out.push(Val::Decimal(format!("{sign}{euros}.{cents:02}")));
        out.push(Val::Text(
            match id % 50 {
                7 => "USD",
                17 => "GBP",
                27 => "CHF",
                _ => "EUR",
            }
            .to_string(),
        ));
        out.push(if let Some(v) = special_external_ref(id) {
            Val::Int(v)
        } else if external_ref_is_null(id) {
            Val::Null
        } else {
            Val::Int(1 + g.below((1u64 << 53) - 1) as i64)
        });
        let occurred = if occurred_before_1970(id) {
            micros(1960, 1, 1, 0, 0, 0) + g.range(0, 10 * 365 * 86_400) * US_PER_S
        } else {
            SHOP_OPEN
                + (SHOP_SPAN / n) * (id as i64 - 1)
                + g.range(-12 * 3600, 12 * 3600) * US_PER_S
        } + g.range(0, 999) * US_PER_MS;
        let occurred = if has_sub_ms_micros(id) {
            occurred + g.range(1, 999)
        } else {
            occurred
        };
        out.push(Val::Timestamp(occurred));
        out.push(if metadata_is_null(id) {
            Val::Null
        } else {
            Val::Json(metadata_json(&mut g, id, kind, s.items))
        });
        let created = floor_ms(occurred) + g.range(0, 5_000) * US_PER_MS;
        out.push(Val::Timestamp(created));
        let updated = if g.chance(0.9) {
            created
        } else {
            created + g.range(60, 30 * 86_400) * US_PER_S + g.range(0, 999) * US_PER_MS
        };
        out.push(Val::Timestamp(updated));
    }
}

/// Index into a list of `n`, favouring the front (a few common names, a few
/// regular customers).
fn skewed(g: &mut Rng, n: usize) -> usize {
    let u = g.unit();
    ((u * u * n as f64) as usize).min(n - 1)
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

/// A version-4 uuid, lowercase and hyphenated.
fn uuid(g: &mut Rng) -> String {
    let hi = (g.next_u64() & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (g.next_u64() & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    let h = format!("{hi:016x}{lo:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn preferences_json(g: &mut Rng, id: u64) -> String {
    let mut s = String::with_capacity(200);
    s.push_str("{\"newsletter\":");
    s.push_str(if g.chance(0.4) { "true" } else { "false" });
    s.push_str(",\"language\":");
    json_str(
        &mut s,
        g.pick::<&str>(&["de", "en", "fr", "ja", "tr", "pl"]),
    );
    s.push_str(",\"contact\":{\"sms\":");
    s.push_str(if g.chance(0.3) { "true" } else { "false" });
    s.push_str(",\"email\":");
    s.push_str(if g.chance(0.7) { "true" } else { "false" });
    s.push('}');
    if preferences_has_big_int(id) {
        s.push_str(&format!(",\"referral_code\":{}", big_int_for(id)));
    }
    s.push_str(&format!(
        ",\"sizes\":{{\"frame_cm\":{},\"wheel_in\":{}}}",
        g.range(44, 62),
        g.pick(&["26", "27.5", "28", "29"])
    ));
    if g.chance(0.3) {
        s.push_str(",\"favourite_shop\":");
        json_str(
            &mut s,
            g.pick::<&str>(&["Köln-Süd", "Mitte", "渋谷", "Gare du Nord 🚉"]),
        );
    }
    s.push('}');
    s
}

fn metadata_json(g: &mut Rng, id: u64, kind: &str, items: u64) -> String {
    let mut s = String::with_capacity(240);
    let source = match kind {
        "repair_payment" => "workshop",
        _ => {
            if g.chance(0.7) {
                "pos"
            } else {
                "web"
            }
        }
    };
    s.push_str("{\"source\":");
    json_str(&mut s, source);
    if source == "pos" {
        s.push_str(&format!(
            ",\"terminal\":{{\"id\":{},\"location\":",
            g.range(1, 4)
        ));
        json_str(
            &mut s,
            g.pick::<&str>(&["Laden Mitte", "Werkstatt Süd", "Pop-up ☀️"]),
        );
        s.push('}');
    }
    s.push_str(",\"cart\":[");
    for i in 0..g.range(1, 3) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"sku_id\":{},\"qty\":{}}}",
            1 + g.below(items),
            g.range(1, 3)
        ));
    }
    s.push(']');
    s.push_str(",\"tax_rate\":");
    s.push_str(match id % 50 {
        7 => "0.0",
        17 => "0.200",
        27 => "0.081",
        _ => "0.190",
    });
    if metadata_has_big_int(id) {
        s.push_str(&format!(",\"ledger_id\":{}", big_int_for(id)));
    }
    if g.chance(0.5) {
        s.push_str(",\"note\":");
        json_str(
            &mut s,
            g.pick::<&str>(&[
                "",
                "Geschenk 🎁",
                "paid in cash",
                "カード払い",
                "a \"quoted\" note",
                "path C:\\receipts",
            ]),
        );
    }
    s.push('}');
    s
}

const BCRYPT_ALPHABET: &[u8; 64] =
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// First names with an ASCII slug for e-mail addresses.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "anna"),
    ("Lukas", "lukas"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Ben", "ben"),
    ("Léa", "lea"),
    ("Søren", "soren"),
    ("Sofia", "sofia"),
    ("Jonas", "jonas"),
    ("Łukasz", "lukasz"),
    ("Chloé", "chloe"),
    ("Björn", "bjorn"),
    ("Hannah", "hannah"),
    ("Elias", "elias"),
    ("François", "francois"),
    ("Siobhán", "siobhan"),
    ("Priya", "priya"),
    ("Mohammed", "mohammed"),
    ("Fatma", "fatma"),
    ("Jürgen", "juergen"),
    ("Ngozi", "ngozi"),
    ("Иван", "ivan"),
    ("Αλέξανδρος", "alexandros"),
    ("翔太", "shota"),
    ("美咲", "misaki"),
    ("Chloë-Anne", "chloeanne"),
    ("D'Arcy", "darcy"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Müller", "mueller"),
    ("Schmidt", "schmidt"),
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Fischer", "fischer"),
    ("Weber", "weber"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Jansen", "jansen"),
    ("Kowalski", "kowalski"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Østergaard", "ostergaard"),
    ("Schäfer", "schaefer"),
    ("Novák", "novak"),
    ("Yılmaz", "yilmaz"),
    ("van der Berg", "vanderberg"),
    ("D'Angelo", "dangelo"),
    ("Papadopoulos", "papadopoulos"),
    ("Okafor", "okafor"),
    ("Kim", "kim"),
    ("佐藤", "sato"),
    ("李", "li"),
    ("Ødegård", "odegard"),
    ("Кузнецова", "kuznetsova"),
];

const BRANDS: &[(&str, &[&str])] = &[
    (
        "Cube",
        &["Kathmandu Hybrid", "Nuroad", "Aim SL", "Stereo 140"],
    ),
    ("Trek", &["FX 3", "Domane AL 2", "Marlin 7", "Allant+ 7"]),
    ("Gazelle", &["Ultimate C380", "Medeo T9", "Esprit"]),
    (
        "Specialized",
        &["Sirrus X 4.0", "Turbo Vado 4.0", "Rockhopper"],
    ),
    ("Canyon", &["Grail CF SL 7", "Pathlite:ON 7", "Spectral 29"]),
    ("Riese & Müller", &["Load4 75", "Charger4 GT", "Culture"]),
    ("Giant", &["Escape 2", "TCR Advanced", "Talon 29"]),
    (
        "Brompton",
        &["C Line Explore", "P Line Urban", "Electric C Line"],
    ),
    ("Kalkhoff", &["Endeavour 5.B", "Image 3.B"]),
    ("Bianchi", &["Via Nirone 7", "Oltre", "Impulso"]),
    ("VanMoof", &["S3", "A5"]),
    ("Batavus", &["Finez", "Dinsdag"]),
    ("Orbea", &["Orca M30", "Vibe H30"]),
    ("ブリヂストン", &["アルベルト", "ステップクルーズ"]),
];

const COLORS: &[&str] = &[
    "black",
    "matte black",
    "white",
    "red",
    "petrol blue",
    "silver",
    "bleu nuit",
    "grün",
    "orange",
    "sand",
];

const ITEM_CATALOG: &[(&str, &[&str])] = &[
    (
        "CHN",
        &[
            "Chain KMC X11 118 links",
            "Chain Shimano CN-HG701",
            "チェーンオイル 100ml",
        ],
    ),
    (
        "TIR",
        &[
            "Tyre Schwalbe Marathon Plus 28\"",
            "Pneu Michelin Wild Enduro 29×2.4",
            "Tube 700×25c Presta",
        ],
    ),
    (
        "BRK",
        &[
            "Brake pads Shimano L03A (resin)",
            "Bremsbeläge Magura 9.C",
            "Disc rotor 180 mm",
        ],
    ),
    (
        "CAS",
        &["Cassette Shimano 105 11-34", "Cassette SRAM PG-1130"],
    ),
    (
        "CAB",
        &["Brake cable 1700 mm", "Shift cable kit — stainless"],
    ),
    ("GRP", &["Ergon GP1 grips", "Bar tape Lizard Skins"]),
    ("LGT", &["Front light 70 lux", "Rücklicht B&M Toplight"]),
    ("SVC", &["Labour 15 min", "Wheel truing", "Annual service"]),
];

const DESCRIPTIONS: &[&str] = &[
    "Front brake squeals",
    "Rear derailleur out of tune; customer says it \"jumps\" in 3rd gear",
    "Platten hinten, Schlauch ersetzen",
    "Chaîne + cassette usées",
    "Wheel truing 🛠️ rear wheel",
    "Service annuel complet",
    "ブレーキ調整",
    "Headset play.\nCheck the fork too.",
    "Replace grips (L\\R)",
    "E-bike display error E-10 ⚡",
    "Tubeless setup 29×2.4",
    "Noise from bottom bracket 🤔",
    "Tyre\tand tube, front",
    "Inspection before a 1 000 km tour",
    "Kette springt — prüfen",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_scale_like_a_shop() {
        let s = Sizes::for_rows(1_000_000);
        assert_eq!(s.customers, 50_000);
        assert_eq!(s.users, 105);
        assert_eq!(s.items, 1_050);
        assert_eq!(s.repairs, 200_000);
        assert_eq!(Sizes::for_rows(10).customers, 10);
    }

    #[test]
    fn rows_are_pure_functions_of_seed_and_index() {
        let a = Generator::new(42, 1000);
        let b = Generator::new(42, 1000);
        let c = Generator::new(43, 1000);
        let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
        for t in Table::ALL.into_iter().filter(|t| t.is_indexed()) {
            a.row(t, 5, &mut x);
            b.row(t, 5, &mut y);
            c.row(t, 5, &mut z);
            assert_eq!(x, y, "{t:?}");
            assert_ne!(x, z, "{t:?}");
            assert_eq!(x.len(), t.columns().len(), "{t:?}");
        }
    }

    fn txn(g: &Generator, id: u64) -> Vec<Val> {
        let mut v = Vec::new();
        g.row(Table::Transactions, id - 1, &mut v);
        v
    }

    #[test]
    fn transaction_rules_hold() {
        let g = Generator::new(7, 5000);
        for id in 1..=5000u64 {
            let r = txn(&g, id);
            let Val::Timestamp(us) = r[7] else { panic!() };
            assert_eq!(us % 1000 != 0, has_sub_ms_micros(id), "id {id}");
            assert_eq!(us < 0, occurred_before_1970(id), "id {id}");
            match (&r[6], special_external_ref(id)) {
                (Val::Int(v), Some(s)) => assert_eq!(*v, s),
                (Val::Null, None) => assert!(external_ref_is_null(id)),
                (Val::Int(v), None) => assert!(*v > 0 && *v < (1 << 53), "id {id}"),
                other => panic!("id {id}: {other:?}"),
            }
            let Val::Decimal(a) = &r[4] else { panic!() };
            let zeros = a.len() - a.trim_end_matches('0').len();
            assert_eq!(zeros as u32, amount_trailing_zeros(id), "id {id}: {a}");
            assert_eq!(r[3], Val::Enum(transaction_kind(id, true)));
            assert_eq!(matches!(r[2], Val::Text(_)), id % 5 == 4);
            match &r[8] {
                Val::Null => assert!(metadata_is_null(id)),
                Val::Json(j) => {
                    let v: serde_json::Value = serde_json::from_str(j).unwrap();
                    assert!(v.is_object());
                    assert_eq!(j.contains("\"ledger_id\":"), metadata_has_big_int(id));
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(special_external_ref(7), Some(i64::MAX));
        assert_eq!(special_external_ref(8), Some(i64::MIN));
        assert_eq!(special_external_ref(101), Some(9_007_199_254_741_195));
    }

    #[test]
    fn customer_and_repair_rules_hold() {
        let g = Generator::new(3, 2000);
        let mut v = Vec::new();
        for id in 1..=g.sizes.customers {
            g.row(Table::Customers, id - 1, &mut v);
            match customer_phone_kind(id) {
                PhoneKind::Null => assert_eq!(v[4], Val::Null),
                PhoneKind::Empty => assert_eq!(v[4], Val::Text(String::new())),
                PhoneKind::Number => assert!(matches!(&v[4], Val::Text(s) if !s.is_empty())),
            }
            assert_eq!(
                v[2] == Val::Text(String::new()),
                customer_last_name_is_empty(id)
            );
            if let Val::Date(d) = v[7] {
                assert_eq!(d < 0, born_before_1970(id));
            } else {
                assert!(birth_date_is_null(id));
            }
            if let Val::Json(j) = &v[6] {
                serde_json::from_str::<serde_json::Value>(j).unwrap();
                assert_eq!(j.contains("referral_code"), preferences_has_big_int(id));
            }
        }
        let mut ids = std::collections::HashSet::new();
        for r in 0..g.sizes.repairs {
            g.row(Table::Repairs, r, &mut v);
            assert!(ids.insert(format!("{:?}", v[0])), "duplicate repair id");
            let Val::Text(id) = &v[0] else { panic!() };
            assert_eq!(id.len(), 25);
            match (&v[5], estimated_cost_kind(r)) {
                (Val::Null, CostKind::Null) => {}
                (Val::Decimal(d), CostKind::FullScale) => {
                    assert_eq!(d.split('.').nth(1).unwrap().len(), 30);
                    assert!(!d.ends_with('0'));
                }
                (Val::Decimal(d), CostKind::Huge) => {
                    assert!(d.split('.').next().unwrap().len() >= 22, "{d}")
                }
                (Val::Decimal(d), CostKind::Tiny) => assert!(d.starts_with("0.0000000")),
                (Val::Decimal(_), CostKind::Cents) => {}
                other => panic!("{r}: {other:?}"),
            }
            assert_eq!(v[3], Val::Enum(repair_status(r)));
            let Val::TimestampTz(_) = v[6] else { panic!() };
        }
    }

    #[test]
    fn unique_keys_and_child_rows() {
        let g = Generator::new(9, 3000);
        let mut emails = std::collections::HashSet::new();
        let mut bikes = std::collections::HashSet::new();
        g.for_each(Table::Customers, &mut |r| {
            if let Val::Text(e) = &r[3] {
                assert!(emails.insert(e.clone()));
            }
        });
        g.for_each(Table::Bikes, &mut |r| {
            assert!(bikes.insert(format!("{:?}{:?}", r[2], r[4])));
        });
        let mut events = std::collections::HashSet::new();
        g.for_each(Table::RepairEvents, &mut |r| {
            assert!(events.insert(format!("{:?}", &r[..2])));
        });
        let mut links = std::collections::HashSet::new();
        g.for_each(Table::ItemToRepair, &mut |r| {
            assert!(links.insert(format!("{:?}", &r[..2])));
        });
        assert!(!events.is_empty() && !links.is_empty());
        assert_eq!(uuid(&mut Rng::new(1, 1, 1)).len(), 36);
    }
}
