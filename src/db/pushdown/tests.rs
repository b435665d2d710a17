//! The pushdown decision per column type, and, for every pair of readings
//! it hashes raw, the proof by the canon rules themselves: inside the
//! region [`Agree`] names, both sides encode every sample value alike.

use super::*;
use crate::canon::{Raw, encode};
use crate::mapping::{Orm, ReadMode as M};

fn cc(read: M, orm: Orm) -> ColumnCanon {
    ColumnCanon::from_read(read).with_orm(orm)
}

fn one(s: &ColumnCanon, t: &ColumnCanon, ty: &str) -> Pushdown {
    decide(&[PdColumn {
        name: "c",
        source: s,
        target: t,
        source_type: ty,
        target_type: ty,
        source_declared: ty,
        target_declared: ty,
        labels: &[],
        delivery: crate::db::Wire::for_pg(ty, "b").0.delivery(),
    }])
}

fn agree_of(s: M, t: M, ty: &str) -> Option<Agree> {
    match one(&cc(s, Orm::Prisma), &cc(t, Orm::Drizzle), ty) {
        Pushdown::Exact(a) => Some(a[0].clone()),
        Pushdown::No(_) => None,
    }
}

/// Whether a sample lies in the region (the SQL predicate's mirror).
fn inside(agree: &Agree, raw: &Raw<'_>) -> bool {
    const SAFE: i64 = (1 << 53) - 1;
    // 0100-01-01 and 10000-01-01 in µs since 1970.
    const LO: i64 = -59_011_459_200_000_000;
    const HI: i64 = 253_402_300_800_000_000;
    // 0001-01-01 and 9999-12-31 in days since 1970.
    const DAY_LO: i32 = -719_162;
    const DAY_HI: i32 = 2_932_896;
    match (agree, *raw) {
        (Agree::Always | Agree::ByValue, _) => true,
        (Agree::Day, Raw::Date(d)) => (DAY_LO..=DAY_HI).contains(&d),
        (Agree::Labels(l), Raw::Text(t)) => l.iter().any(|l| l == t),
        (Agree::SafeInteger, Raw::Int(v)) => (-SAFE..=SAFE).contains(&v),
        (Agree::WholeMillis, Raw::Timestamp(us) | Raw::TimestampTz(us)) => {
            us % 1000 == 0 && (LO..HI).contains(&us)
        }
        _ => false,
    }
}

fn enc(raw: &Raw<'_>, c: &ColumnCanon) -> Vec<u8> {
    let mut out = Vec::new();
    encode(raw, c, &mut out);
    out
}

/// Every sample inside the region encodes alike on both sides.
fn proves(s: M, t: M, ty: &str, samples: &[Raw<'_>]) {
    let agree = agree_of(s, t, ty).unwrap_or_else(|| panic!("{s:?}/{t:?} on {ty} pushed down"));
    let (sc, tc) = (cc(s, Orm::Prisma), cc(t, Orm::Drizzle));
    let mut checked = 0;
    for raw in samples {
        if inside(&agree, raw) {
            assert_eq!(enc(raw, &sc), enc(raw, &tc), "{s:?}/{t:?} on {ty}: {raw:?}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no sample inside {agree:?}");
}

#[test]
fn same_readings_hash_raw_on_every_plain_type() {
    for (read, ty) in [
        (M::Text, "text"),
        (M::Text, "varchar"),
        (M::Text, "bpchar"),
        (M::Boolean, "bool"),
        (M::Int, "int4"),
        (M::Int, "int2"),
        (M::Float, "float8"),
        (M::Decimal, "numeric"),
        (M::BigInt, "int8"),
        (M::DateTimeString, "timestamp"),
        (M::DateString, "date"),
        (M::Json, "jsonb"),
        (M::Json, "json"),
        (M::Bytes, "bytea"),
        (M::EnumLabel, "status"),
    ] {
        let want = match (read, ty) {
            (M::Json, "jsonb") | (M::Decimal, "numeric") => Agree::ByValue,
            _ => Agree::Always,
        };
        assert_eq!(agree_of(read, read, ty), Some(want), "{read:?} on {ty}");
    }
    // jsonb read as text keeps its text: `1.0` and `1.00` read apart.
    assert_eq!(agree_of(M::Text, M::Text, "jsonb"), Some(Agree::Always));
    assert_eq!(
        field_hashes("c", "jsonb", &Agree::Always, 1),
        ["COALESCE(hashtextextended(c::text COLLATE \"C\", 1), -1)"]
    );
    assert_eq!(
        field_hashes("c", "jsonb", &Agree::ByValue, 1),
        ["COALESCE(jsonb_hash_extended(c, 1), -1)"]
    );
    // numeric read as a string keeps its scale: hashed as text.
    assert_eq!(
        agree_of(M::DecimalString, M::DecimalString, "numeric"),
        Some(Agree::Always)
    );
    assert_eq!(
        field_hashes("c", "numeric", &Agree::Always, 1),
        ["COALESCE(hashtextextended(c::text COLLATE \"C\", 1), -1)"]
    );
    assert_eq!(
        field_hashes("c", "numeric", &Agree::ByValue, 1),
        ["COALESCE(hash_numeric_extended(c, 1), -1)"]
    );
    assert_eq!(
        field_hashes("c", "json", &Agree::Always, 1),
        ["COALESCE(hashtextextended(c::text COLLATE \"C\", 1), -1)"]
    );
}

#[test]
fn number_readings_of_wide_columns_are_not_alike_across_orms() {
    // Prisma Int throws beyond 2^53, Drizzle integer() rounds: only safe
    // integers hash raw on int8; Float on numeric has no SQL form.
    assert_eq!(agree_of(M::Int, M::Int, "int8"), Some(Agree::SafeInteger));
    assert_eq!(agree_of(M::Float, M::Float, "numeric"), None);
    assert_eq!(
        agree_of(M::DecimalNumber, M::DecimalNumber, "numeric"),
        None
    );
    // The same ORM reads its own way alike everywhere.
    let d = cc(M::BigIntNumber, Orm::Drizzle);
    assert_eq!(one(&d, &d, "int8"), Pushdown::Exact(vec![Agree::Always]));
}

#[test]
fn known_pairs_of_readings_agree_inside_their_region() {
    let ints: Vec<Raw<'_>> = [
        0,
        1,
        -1,
        (1 << 53) - 1,
        -(1 << 53) + 1,
        1 << 53,
        (1 << 53) + 1,
        i64::MAX,
        i64::MIN,
    ]
    .into_iter()
    .map(Raw::Int)
    .chain([Raw::Null])
    .collect();
    proves(M::BigInt, M::BigIntNumber, "int8", &ints);
    proves(M::BigIntNumber, M::BigInt, "int8", &ints);
    proves(M::Int, M::Int, "int8", &ints);
    let stamps: Vec<i64> = vec![
        0,
        1,
        999,
        1000,
        -1,
        -1000,
        1_709_633_472_123_000,
        1_709_633_472_123_456,
        -62_135_596_800_000_000,
        -59_011_459_200_000_000,
        253_402_300_799_999_000,
        i64::MAX,
        i64::MIN,
    ];
    for wrap in [Raw::Timestamp as fn(i64) -> Raw<'static>, Raw::TimestampTz] {
        let raws: Vec<Raw<'_>> = stamps.iter().map(|&us| wrap(us)).collect();
        proves(M::DateTime, M::DateTimeString, "timestamp", &raws);
        proves(M::DateTimeString, M::DateTime, "timestamptz", &raws);
        proves(M::DateTime, M::DateTime, "timestamptz", &raws);
    }
    let decimals: Vec<Raw<'_>> = ["0", "1.50", "-0.000", "NaN", "123456789012345678901234.5"]
        .into_iter()
        .map(Raw::Numeric)
        .collect();
    proves(M::Decimal, M::DecimalString, "numeric", &decimals);
    let days: Vec<Raw<'_>> = [
        0, -1, 19_723, -719_162, -719_163, 2_932_896, 2_932_897, -700_000,
    ]
    .into_iter()
    .map(Raw::Date)
    .chain([Raw::Date(i32::MAX), Raw::Date(i32::MIN)])
    .collect();
    proves(M::Date, M::DateString, "date", &days);
    proves(M::DateString, M::Date, "date", &days);
    proves(M::Date, M::Date, "date", &days);
}

#[test]
fn an_enum_name_and_its_label_agree_on_the_labels_the_name_side_knows() {
    let side = |read: M, orm: Orm| {
        let (column, mapping) = crate::canon::tests::values::status_column_of(read, orm);
        ColumnCanon::new(&column, &mapping)
    };
    let (p, d) = (
        side(M::EnumName, Orm::Prisma),
        side(M::EnumLabel, Orm::Drizzle),
    );
    // The database holds a label the Prisma schema lacks.
    let labels: Vec<String> = ["OPEN", "on_hold", "waiting_parts"]
        .map(String::from)
        .into();
    for (s, t) in [(&p, &d), (&d, &p)] {
        let got = decide(&[PdColumn {
            name: "status",
            source: s,
            target: t,
            source_type: "ticket_status",
            target_type: "ticket_status",
            source_declared: "ticket_status",
            target_declared: "ticket_status",
            labels: &labels,
            delivery: crate::canon::Delivery::Loose,
        }]);
        let known = Agree::Labels(vec!["OPEN".into(), "waiting_parts".into()]);
        assert_eq!(got, Pushdown::Exact(vec![known.clone()]));
        for l in &labels {
            let raw = Raw::Text(l);
            let alike = enc(&raw, s) == enc(&raw, t);
            assert_eq!(inside(&known, &raw), alike, "{l}");
        }
    }
}

#[test]
fn what_sql_cannot_express_goes_through_the_client_path() {
    // JSON against text, dates read as instants, lossy decimals.
    for (s, t, ty) in [
        (M::Float, M::Decimal, "numeric"),
        (M::Json, M::Text, "jsonb"),
        (M::DateTime, M::DateTimeString, "date"),
        (M::Decimal, M::DecimalNumber, "numeric"),
    ] {
        assert_eq!(agree_of(s, t, ty), None, "{s:?}/{t:?} on {ty}");
    }
    let t = cc(M::Text, Orm::Prisma);
    let cols = [
        PdColumn {
            name: "a",
            source: &t,
            target: &t,
            source_type: "text",
            target_type: "text",
            source_declared: "text",
            target_declared: "text",
            labels: &[],
            delivery: crate::db::Wire::Text.delivery(),
        },
        PdColumn {
            name: "b",
            source: &t,
            target: &t,
            source_type: "text",
            target_type: "bpchar",
            source_declared: "text",
            target_declared: "bpchar",
            labels: &[],
            delivery: crate::db::Wire::Text.delivery(),
        },
    ];
    match decide(&cols) {
        Pushdown::No(why) => assert_eq!(why, "column b: types differ (text against bpchar)"),
        other => panic!("pushed down: {other:?}"),
    }
    // A list reads per ORM (a NULL list): only alike within one ORM.
    let (pl, dl) = (
        cc(M::Text, Orm::Prisma).as_list(),
        cc(M::Text, Orm::Drizzle).as_list(),
    );
    assert!(matches!(one(&pl, &dl, "_text"), Pushdown::No(_)));
}

#[test]
fn the_row_is_a_record_with_a_side_marker_outside_the_regions() {
    let live = |name: &str, ty: &str| LiveColumn {
        name: name.into(),
        type_name: ty.into(),
        cast_type: ty.into(),
        declared: ty.into(),
        wire: crate::db::Wire::Text,
        cast_to_text: false,
        not_null: false,
    };
    let spec = ReadSpec {
        schema: None,
        table: "t".into(),
        columns: vec!["id".into(), "at".into(), "n".into()],
        key: vec!["id".into()],
        where_clause: None,
    };
    let lives = [
        live("id", "int4"),
        live("at", "timestamptz"),
        live("n", "text"),
    ];
    let cols = [("at", Agree::WholeMillis), ("n", Agree::Always)];
    let sql = hash_sql(Hashes::Chunk, &spec, &lives, &cols, 's', None, None).unwrap();
    assert!(
        sql.contains(
            "(COALESCE(hashint4extended(\"id\", 1), -1) \
             # COALESCE(timestamp_hash_extended(\"at\" AT TIME ZONE 'UTC', 3), -3) \
             # COALESCE(hashtextextended(\"n\" COLLATE \"C\", 5), -5) \
             # CASE WHEN NOT (\"at\" IS NULL OR (\"at\" >= '0100-01-01'"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("THEN hashtextextended('s', 0) ELSE 0 END), 0)), 0)::text"),
        "{sql}"
    );
    assert!(
        sql.starts_with("SELECT count(*)::int8, COALESCE(sum(hashint8extended(("),
        "{sql}"
    );
    assert!(sql.ends_with("FROM \"t\""), "{sql}");
    // Without a region, no marker; the seeds follow the columns passed.
    let plain = hash_sql(Hashes::Chunk, &spec, &lives, &cols[1..], 't', None, None).unwrap();
    assert!(
        plain.contains(
            "(COALESCE(hashint4extended(\"id\", 1), -1) \
             # COALESCE(hashtextextended(\"n\" COLLATE \"C\", 3), -3)), 0)"
        ),
        "{plain}"
    );
    // Rows: a nullable key is hashed; one NOT NULL integer key is its own
    // key hash, and narrows by value (through its index).
    let rows = hash_sql(Hashes::Rows, &spec, &lives, &cols[1..], 't', None, None).unwrap();
    assert!(
        rows.starts_with(
            "COPY (SELECT string_agg(int8send((COALESCE(hashint4extended(\"id\", 1), -1))) \
             || int8send(("
        ),
        "{rows}"
    );
    assert!(rows.ends_with(" TO STDOUT (FORMAT binary)"), "{rows}");
    let mut lives = lives;
    lives[0].not_null = true;
    let rows = hash_sql(Hashes::Rows, &spec, &lives, &cols[1..], 't', None, None).unwrap();
    assert!(
        rows.starts_with("COPY (SELECT string_agg(int8send(\"id\"::int8) || int8send(("),
        "{rows}"
    );
    assert_eq!(
        key_hash_in(&spec, &lives, &[3, -4]).unwrap(),
        "\"id\" = ANY('{3,-4}'::int8[])"
    );
    // A column the live table lacks is named.
    let e = hash_sql(Hashes::Chunk, &spec, &lives[..1], &cols, 's', None, None).unwrap_err();
    assert!(e.to_string().contains("at"), "{e}");
}

#[test]
fn row_hashes_parse_from_one_packed_bytea() {
    // COPY binary of one row of one bytea field (NULL: `None`).
    let copy = |field: Option<&[u8]>| {
        let mut d = b"PGCOPY\n\xff\r\n\0".to_vec();
        d.extend([0, 0, 0, 0, 0, 0, 0, 0]);
        d.extend(1i16.to_be_bytes());
        match field {
            Some(f) => {
                d.extend((f.len() as i32).to_be_bytes());
                d.extend(f);
            }
            None => d.extend((-1i32).to_be_bytes()),
        }
        d.extend((-1i16).to_be_bytes());
        ChunkData::from_pg_copy(d, [Wire::Bytes].into()).unwrap()
    };
    let mut packed = Vec::new();
    for v in [7i64, -1, -3, i64::MAX] {
        packed.extend(v.to_be_bytes());
    }
    assert_eq!(
        pairs(&copy(Some(&packed))).unwrap(),
        [(7, -1), (-3, i64::MAX)]
    );
    // An empty chunk aggregates to NULL: no pairs.
    assert_eq!(pairs(&copy(None)).unwrap(), []);
    // A length that is not whole pairs is refused, not read short.
    let e = pairs(&copy(Some(&packed[..24]))).unwrap_err();
    assert!(e.to_string().contains("24 bytes"), "{e}");
}

#[test]
fn a_modifier_declared_alike_on_both_sides_lets_numeric_and_char_hash_by_value() {
    let decl = |ty: &'static str, s: &'static str, t: &'static str, read: M| {
        let c = cc(read, Orm::Prisma);
        match decide(&[PdColumn {
            name: "c",
            source: &c,
            target: &c,
            source_type: ty,
            target_type: ty,
            source_declared: s,
            target_declared: t,
            labels: &[],
            delivery: crate::db::Wire::for_pg(ty, "b").0.delivery(),
        }]) {
            Pushdown::Exact(a) => a[0].clone(),
            Pushdown::No(why) => panic!("{why}"),
        }
    };
    // numeric(12,2) on both sides: the scale is fixed, so equal values have
    // equal text, whatever reads them (a decimal string keeps the scale).
    let n = "numeric(12,2)";
    assert_eq!(decl("numeric", n, n, M::DecimalString), Agree::ByValue);
    // Scales that differ (1.50 against 1.500), or none: hashed as text.
    for (s, t) in [(n, "numeric(12,3)"), ("numeric", "numeric"), (n, "numeric")] {
        assert_eq!(decl("numeric", s, t, M::DecimalString), Agree::Always);
    }
    // character(3) on both sides pads alike: no octet length beside the hash.
    let c3 = "character(3)";
    assert_eq!(decl("bpchar", c3, c3, M::Text), Agree::ByValue);
    assert_eq!(
        field_hashes("c", "bpchar", &Agree::ByValue, 1),
        ["COALESCE(hashbpcharextended(c COLLATE \"C\", 1), -1)"]
    );
    // Padded to different lengths ('ab ' against 'ab  ' read apart), or
    // unpadded `bpchar`: the length goes beside the hash.
    for (s, t) in [(c3, "character(4)"), ("bpchar", "bpchar")] {
        assert_eq!(decl("bpchar", s, t, M::Text), Agree::Always);
    }
    assert_eq!(field_hashes("c", "bpchar", &Agree::Always, 1).len(), 2);
}
