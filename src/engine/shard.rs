//! Sharded runs (issue 15): which chunks a shard takes, and what a shard's
//! report folder records so `parity merge` can put the shards back together.
//!
//! Owns: [`Shard`] (`I/N`, zero-based like Kubernetes'
//! `JOB_COMPLETION_INDEX`), the one assignment rule ([`Shard::owns`]: a
//! stable hash of the table name and chunk index, so every process assigns
//! the same way whatever order they start in, a large table spreads over
//! all shards and small tables are not all given to shard 0), the chunk
//! ranges a shard covered ([`ChunkRange`]) and the `partial` section of a
//! shard's `report.json` ([`Partial`]). It reads nothing: the scheduler's
//! `Schedule::take` asks it.

use serde::{Deserialize, Serialize};

use crate::db::{Boundary, OwnedRaw};

/// One shard of `count`: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `I/N`, zero-based: `0/4` … `3/4`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text:?}: write it as I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count).ok_or_else(bad)
    }

    /// Shard `index` of `count`, when `index < count`.
    pub fn new(index: usize, count: usize) -> Option<Shard> {
        (count > 0 && index < count).then_some(Shard { index, count })
    }

    /// True when chunk `index` of `table` is this shard's.
    pub fn owns(&self, table: &str, index: usize) -> bool {
        bucket(format!("{table}\0{index}").as_bytes(), self.count) == self.index
    }

    /// True when a table read whole (a keyless multiset) is this shard's.
    pub fn owns_table(&self, table: &str) -> bool {
        bucket(table.as_bytes(), self.count) == self.index
    }

    /// `I/N`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// A stable bucket in `0..n` (blake3, the same in every process and
/// version; std's hasher is seeded per process).
fn bucket(bytes: &[u8], n: usize) -> usize {
    let h = blake3::hash(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    (u64::from_le_bytes(first) % n.max(1) as u64) as usize
}

/// One chunk a shard read: the keys in `(lower, upper]` of `table`
/// (`null`: the start or end of the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkRange {
    pub table: String,
    pub index: usize,
    pub lower: Option<serde_json::Value>,
    pub upper: Option<serde_json::Value>,
}

impl ChunkRange {
    pub fn new(
        table: &str,
        index: usize,
        lower: Option<&Boundary>,
        upper: Option<&Boundary>,
    ) -> ChunkRange {
        ChunkRange {
            table: table.to_string(),
            index,
            lower: lower.map(boundary_json),
            upper: upper.map(boundary_json),
        }
    }
}

/// A chunk boundary as JSON: one value per key column.
pub fn boundary_json(b: &Boundary) -> serde_json::Value {
    use serde_json::Value;
    b.iter()
        .map(|v| match v {
            OwnedRaw::Null => Value::Null,
            OwnedRaw::Int(i) => Value::from(*i),
            OwnedRaw::Float(f) => Value::from(*f),
            OwnedRaw::Text(s) | OwnedRaw::Numeric(s) | OwnedRaw::Json(s) => Value::from(s.clone()),
            other => Value::from(format!("{other:?}")),
        })
        .collect()
}

/// `report.json`'s `partial` section: what a shard's report folder is part
/// of. `null` for a full run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Partial {
    /// This shard's index, from 0.
    pub shard: usize,
    /// How many shards the run has.
    pub shards: usize,
    /// The checked table pairs (names, keys, columns), hashed: every shard
    /// of one run has the same.
    pub plan_id: String,
    /// The config file and the resolved read settings (chunk size,
    /// differences listed), hashed.
    pub config_hash: String,
    pub parity_version: String,
    /// The chunks this shard read, in table and key order.
    pub chunks: Vec<ChunkRange>,
    /// Differences listed per table (`--max-differences`), for the merge.
    pub max_differences: usize,
    /// The config's repositories and their flags, for the merged verdict.
    pub repositories: Vec<(String, Option<String>)>,
}

/// A short stable hash of `bytes`, as `plan_id` and `config_hash` carry it.
pub fn short_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_zero_based_and_refuses_nonsense() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3/4 "), Ok(Shard { index: 3, count: 4 }));
        for bad in ["4/4", "1/0", "a/2", "1", "-1/2", ""] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.contains("I/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_chunk_goes_to_exactly_one_shard_and_all_shards_get_some() {
        let shards: Vec<Shard> = (0..4).map(|i| Shard::new(i, 4).unwrap()).collect();
        let mut per = [0usize; 4];
        for index in 0..400 {
            let owners: Vec<_> = shards.iter().filter(|s| s.owns("big", index)).collect();
            assert_eq!(owners.len(), 1, "chunk {index}");
            per[owners[0].index] += 1;
        }
        assert!(
            per.iter().all(|n| *n > 60),
            "a large table spreads: {per:?}"
        );
        // Small tables (one chunk each) are not all given to shard 0.
        let firsts: std::collections::BTreeSet<usize> = (0..20)
            .map(|t| {
                shards
                    .iter()
                    .find(|s| s.owns(&format!("t{t}"), 0))
                    .unwrap()
                    .index
            })
            .collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        // Stable: the same answer in every process.
        assert!(Shard::new(1, 4).unwrap().owns("big", 0) == (bucket(b"big\x000", 4) == 1));
    }
}
