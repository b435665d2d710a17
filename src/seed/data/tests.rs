//! Unit tests of the generator: purity, the documented rules, unique keys.

use super::*;
use crate::seed::rng::Rng;

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
    assert_eq!(Rng::new(1, 1, 1).uuid_v4().len(), 36);
}
