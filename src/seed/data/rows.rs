//! Each table's row builder: every column's value from the row's random
//! stream, following the [`rules`](super::rules).

use super::Val;
use super::generator::{
    Generator, RepairCore, S_BIKE, S_CUSTOMER, S_EVENT, S_ITEM, S_REPAIR, S_TXN, S_USER, SHOP_OPEN,
    SHOP_SPAN,
};
use super::rules::*;
use super::words::*;
use crate::seed::rng::Rng;
use crate::seed::time::{US_PER_MS, US_PER_S, days_from_civil, floor_ms, micros};

impl Generator {
    pub(super) fn event_with(&self, core: &RepairCore, r: u64, seq: u64, out: &mut Vec<Val>) {
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

    pub(super) fn user(&self, u: u64, out: &mut Vec<Val>) {
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
        let updated = later(&mut g, created, 0, 400 * 86_400);
        out.push(Val::Timestamp(updated));
    }

    pub(super) fn customer(&self, id: u64, out: &mut Vec<Val>) {
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
        out.push(Val::Timestamp(touched(
            &mut g,
            created,
            0.6,
            1,
            700 * 86_400,
        )));
    }

    pub(super) fn item(&self, id: u64, out: &mut Vec<Val>) {
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

    pub(super) fn bike(&self, b: u64, out: &mut Vec<Val>) {
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
        let created = later(
            &mut g,
            floor_ms(self.customer_created_us(owner)),
            0,
            60 * 86_400,
        );
        out.push(Val::Timestamp(created));
    }

    pub(super) fn repair(&self, r: u64, out: &mut Vec<Val>) {
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
        let completed = later(&mut g, floor_ms(core.received_us), 2 * 3600, 21 * 86_400);
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

    pub(super) fn transaction(&self, id: u64, out: &mut Vec<Val>) {
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
            later(&mut g, micros(1960, 1, 1, 0, 0, 0), 0, 10 * 365 * 86_400)
        } else {
            let planned = SHOP_OPEN + (SHOP_SPAN / n) * (id as i64 - 1);
            later(&mut g, planned, -12 * 3600, 12 * 3600)
        };
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
        out.push(Val::Timestamp(touched(
            &mut g,
            created,
            0.9,
            60,
            30 * 86_400,
        )));
    }
}

/// Index into a list of `n`, favouring the front (a few common names, a few
/// regular customers).
fn skewed(g: &mut Rng, n: usize) -> usize {
    let u = g.unit();
    ((u * u * n as f64) as usize).min(n - 1)
}

/// `from` plus whole seconds in `lo_s..=hi_s` plus 0–999 ms (drawn in
/// that order).
fn later(g: &mut Rng, from: i64, lo_s: i64, hi_s: i64) -> i64 {
    from + g.range(lo_s, hi_s) * US_PER_S + g.range(0, 999) * US_PER_MS
}

/// A later `updated_at`: `created` itself with probability `unchanged`,
/// else [`later`] by `lo_s..=hi_s` seconds.
fn touched(g: &mut Rng, created: i64, unchanged: f64, lo_s: i64, hi_s: i64) -> i64 {
    if g.chance(unchanged) {
        created
    } else {
        later(g, created, lo_s, hi_s)
    }
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
