//! The merge-join on plain chunks: composite keys, key order, one side
//! empty, the cap, values, and summing chunks into a table's result.

use super::*;
use crate::canon::ColumnCanon;
use crate::db::OwnedRaw::{self, Int, Null, Text};
use crate::engine::digest::{HashCol, HashMode};
use crate::mapping::ReadMode;

/// A codec for rows `(k1, k2, name, qty)`: a composite key of the first
/// two columns, the last two compared, all read raw.
fn codec() -> SideCodec {
    SideCodec {
        key_idx: vec![0, 1],
        cols: vec![
            (2, ColumnCanon::from_read(ReadMode::Raw)),
            (3, ColumnCanon::from_read(ReadMode::Raw)),
        ],
        hash: (0..2)
            .map(|c| HashCol {
                idx: c + 2,
                col: c,
                mode: HashMode::Canonical,
            })
            .collect(),
    }
}

fn row(k1: i64, k2: &str, name: &str, qty: Option<i64>) -> Vec<OwnedRaw> {
    vec![
        Int(k1),
        Text(k2.into()),
        Text(name.into()),
        qty.map_or(Null, Int),
    ]
}

/// Merge-joins two chunks of `(k1, k2, name, qty)` rows.
fn join(
    source: Vec<Vec<OwnedRaw>>,
    target: Vec<Vec<OwnedRaw>>,
    cap: usize,
    show_values: bool,
) -> ChunkOutcome {
    let (s, t) = (
        ChunkData::Values { rows: source },
        ChunkData::Values { rows: target },
    );
    let (sc, tc) = (codec(), codec());
    let (sd, td) = (
        digest::digest_for_compare(&s, &sc),
        digest::digest_for_compare(&t, &tc),
    );
    let compared = Compared {
        names: vec!["name".into(), "qty".into()],
        tolerances: vec![None, None],
    };
    merge_join(MergeInput {
        schunk: &s,
        tchunk: &t,
        scodec: &sc,
        tcodec: &tc,
        sd: &sd,
        td: &td,
        compared: &compared,
        key_names: &["k1".into(), "k2".into()],
        cap,
        show_values,
    })
}

fn counts(o: &ChunkOutcome) -> [u64; 6] {
    [
        o.source_rows,
        o.target_rows,
        o.matched,
        o.missing,
        o.extra,
        o.different,
    ]
}

fn named(o: &ChunkOutcome) -> Vec<(String, DiffKind, Vec<String>)> {
    o.diffs
        .iter()
        .map(|(_, d)| (d.key.to_string(), d.kind, d.columns.clone()))
        .collect()
}

#[test]
fn merge_by_key_pairs_equal_keys_and_keeps_the_rest_in_order() {
    let joined: Vec<_> = merge_by_key([1, 3, 4, 7], [2, 3, 7, 8, 9], |a, b| a.cmp(b)).collect();
    use Joined::*;
    assert_eq!(
        joined,
        vec![
            SourceOnly(1),
            TargetOnly(2),
            Both(3, 3),
            SourceOnly(4),
            Both(7, 7),
            TargetOnly(8),
            TargetOnly(9)
        ]
    );
    let empty: Vec<i32> = Vec::new();
    assert_eq!(
        merge_by_key(empty.clone(), empty.clone(), |a, b| a.cmp(b)).count(),
        0
    );
    assert_eq!(
        merge_by_key(empty, [5], |a: &i32, b| a.cmp(b)).collect::<Vec<_>>(),
        vec![TargetOnly(5)]
    );
}

#[test]
fn identical_chunks_all_match() {
    let rows = || {
        vec![
            row(1, "a", "x", Some(1)),
            row(1, "b", "y", None),
            row(2, "a", "z", Some(3)),
        ]
    };
    let o = join(rows(), rows(), 10, false);
    assert_eq!(counts(&o), [3, 3, 3, 0, 0, 0]);
    assert!(o.diffs.is_empty());
    let o = join(Vec::new(), Vec::new(), 10, false);
    assert_eq!(counts(&o), [0; 6], "an empty chunk on both sides");
}

#[test]
fn composite_keys_classify_rows_in_key_order() {
    // The target misses (1,"b"), adds (2,"b") and (3,"a"), changes qty
    // of (2,"a") and both columns of (1,"c"). The database handed the
    // target's rows out of key order: the join does not care.
    let source = vec![
        row(1, "a", "x", Some(1)),
        row(1, "b", "y", Some(2)),
        row(1, "c", "w", Some(5)),
        row(2, "a", "z", Some(3)),
    ];
    let target = vec![
        row(3, "a", "n", None),
        row(2, "a", "z", Some(4)),
        row(1, "a", "x", Some(1)),
        row(2, "b", "m", Some(9)),
        row(1, "c", "v", None),
    ];
    let o = join(source, target, 10, false);
    assert_eq!(counts(&o), [4, 5, 1, 1, 2, 2]);
    assert_eq!(
        named(&o),
        vec![
            (
                r#"{"k1":1,"k2":"b"}"#.into(),
                DiffKind::MissingInTarget,
                vec![]
            ),
            (
                r#"{"k1":1,"k2":"c"}"#.into(),
                DiffKind::Different,
                vec!["name".into(), "qty".into()]
            ),
            (
                r#"{"k1":2,"k2":"a"}"#.into(),
                DiffKind::Different,
                vec!["qty".into()]
            ),
            (
                r#"{"k1":2,"k2":"b"}"#.into(),
                DiffKind::ExtraInTarget,
                vec![]
            ),
            (
                r#"{"k1":3,"k2":"a"}"#.into(),
                DiffKind::ExtraInTarget,
                vec![]
            ),
        ]
    );
    assert_eq!(
        o.columns,
        BTreeMap::from([("name".into(), 1), ("qty".into(), 2)])
    );
    assert!(o.diffs.iter().all(|(_, d)| d.values.is_none()));
}

#[test]
fn one_side_empty_is_all_missing_or_all_extra() {
    let rows = || vec![row(1, "a", "x", Some(1)), row(2, "a", "y", Some(2))];
    let o = join(rows(), Vec::new(), 10, false);
    assert_eq!(counts(&o), [2, 0, 0, 2, 0, 0]);
    let o = join(Vec::new(), rows(), 10, false);
    assert_eq!(counts(&o), [0, 2, 0, 0, 2, 0]);
    assert!(
        o.diffs
            .iter()
            .all(|(_, d)| d.kind == DiffKind::ExtraInTarget)
    );
}

#[test]
fn the_cap_limits_names_not_counts() {
    let source: Vec<_> = (0..10).map(|i| row(i, "a", "x", Some(i))).collect();
    let target: Vec<_> = (0..10).map(|i| row(i, "a", "x", Some(i + 1))).collect();
    let o = join(source, target, 3, false);
    assert_eq!(o.different, 10);
    assert_eq!(o.diffs.len(), 3);
    assert_eq!(o.diffs[0].1.key, serde_json::json!({"k1": 0, "k2": "a"}));
}

#[test]
fn show_values_carries_both_readings_of_the_differing_columns() {
    let o = join(
        vec![row(1, "a", "x", Some(1))],
        vec![row(1, "a", "x", Some(2))],
        10,
        true,
    );
    let values = o.diffs[0]
        .1
        .values
        .as_ref()
        .expect("values with --show-values");
    assert_eq!(values.len(), 1);
    assert_eq!(
        (
            values[0].column.as_str(),
            values[0].source.as_str(),
            values[0].target.as_str()
        ),
        ("qty", "1", "2")
    );
}

#[test]
fn outcomes_sum_over_chunks_and_keep_the_first_differences_in_key_order() {
    let chunk = |lo: i64| {
        join(
            vec![row(lo, "a", "x", Some(1)), row(lo + 1, "a", "x", Some(1))],
            Vec::new(),
            10,
            false,
        )
    };
    let mut total = ChunkOutcome::default();
    // Chunks may be summed in any order.
    for lo in [20, 0, 10] {
        total.merge(chunk(lo), 4);
    }
    assert_eq!(total.missing, 6);
    let mut r = TableResult::new(None, "t", "t");
    total.fill(&mut r);
    assert_eq!(
        (r.missing_in_target, r.source_rows, r.status),
        (6, 6, super::super::Status::Differs)
    );
    let keys: Vec<_> = r
        .differences
        .iter()
        .map(|d| d.key["k1"].as_i64().unwrap())
        .collect();
    assert_eq!(keys, vec![0, 1, 10, 11]);
}
