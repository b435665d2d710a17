//! The documented value rules of the fixture (see the [`data`](super)
//! module docs), as predicates the generator follows and tests call.

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
