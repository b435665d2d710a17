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
//!
//! Files: the documented rules as predicates ([`rules`]), keys and
//! cross-table facts ([`Generator`]), the row builders (`rows`), and the
//! word lists they draw from (`words`).

mod generator;
mod rows;
pub mod rules;
mod words;

pub use generator::{Generator, RepairCore};
pub use rules::*;

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

#[cfg(test)]
mod tests;
