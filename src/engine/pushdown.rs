//! Pushdown mode for a keyed pair (issue 13): each chunk is hashed inside
//! both databases (`db::pushdown`), and only a chunk whose count or hash
//! differs is drilled into. The drill-down asks both databases for the
//! chunk's per-row hashes (key and 64-bit hash, a few bytes a row), and
//! reads and compares only the rows whose hashes differ or whose key one
//! side lacks, by the client path's own per-chunk job on a read narrowed
//! to those keys, so column-level results stay exact. Where most chunks
//! differ (changes spread over the whole table), the chunk sums stop
//! paying for themselves: chunks go straight to per-row hashes until
//! fewer than half of the comparisons so far have differed.
//!
//! Owns: choosing the mode of a table ([`plan`]: the `[check] mode`, both
//! sides PostgreSQL, and `db::pushdown::decide`), and the per-chunk job
//! the one scheduler runs in that mode ([`Hashing::run`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::compare::ChunkOutcome;
use super::digest::SideCodec;
use super::keyed::{ChunkJob, Lane};
use super::read::TableRead;
use super::schedule::Chunk;
use super::{TableCheck, TableResult};
use crate::config::CheckMode;
use crate::db::pushdown::{self, Agree, Hashes, PdColumn, Pushdown};
use crate::db::{LiveColumn, Snapshot};
use crate::mapping::{Column, Mapping};

/// How one table's chunks are hashed: each side's compared columns (in
/// its projection's names) with the region both readings agree in.
pub(super) struct Hashing<'a> {
    source: &'a TableRead,
    target: &'a TableRead,
    source_cols: Vec<(&'a str, Agree)>,
    target_cols: Vec<(&'a str, Agree)>,
    /// Chunks whose hashes were compared, and of those, the ones that
    /// differed: while most differ, chunks skip the sums (see the module
    /// doc).
    compared: AtomicUsize,
    differed: AtomicUsize,
    /// The largest per-row hashes answer so far, in bytes: what the next
    /// one reserves.
    largest: AtomicUsize,
}

/// Hash comparisons (a chunk's sums, then its row hashes, count one
/// each) made before the share of differing ones decides anything.
const DENSE_AFTER: usize = 4;

/// A drill-down reads the listed keys only while they are at most this
/// share of the chunk's rows (and this many); past it, the whole chunk.
const NARROW_SHARE: usize = 4;
const NARROW_MAX: usize = 5_000;

/// The mode of a keyed pair, written to `result` (`mode`, `mode_reason`):
/// `Some` to hash its chunks in the databases, `None` to read them.
pub(super) fn plan<'a>(
    c: &TableCheck<'_>,
    source: &'a TableRead,
    target: &'a TableRead,
    codecs: (&SideCodec, &SideCodec),
    result: &mut TableResult,
) -> Option<Hashing<'a>> {
    result.mode = "client".into();
    if c.opts.mode == CheckMode::Client {
        return None;
    }
    let sides = (&*c.sides.source, &*c.sides.target);
    if !matches!(sides, (Snapshot::Postgres(_), Snapshot::Postgres(_))) {
        result.mode_reason = "pushdown runs on PostgreSQL only".into();
        return None;
    }
    if c.opts.chunk_rows > pushdown::PACKED_MAX_ROWS {
        result.mode_reason = format!(
            "chunk_rows is above {}: a chunk's row hashes would not fit one value",
            pushdown::PACKED_MAX_ROWS
        );
        return None;
    }
    let (s, t) = codecs;
    let live = |read: &'a TableRead, name: &str| read.live.iter().find(|l| l.name == name);
    let names: Vec<(&str, &str)> = s
        .cols
        .iter()
        .zip(&t.cols)
        .map(|((si, _), (ti, _))| {
            (
                source.spec.columns[*si].as_str(),
                target.spec.columns[*ti].as_str(),
            )
        })
        .collect();
    let lives: Vec<_> = names
        .iter()
        .map(|(sn, tn)| (live(source, sn), live(target, tn)))
        .collect();
    let labels: Vec<Vec<String>> = c
        .pair
        .columns
        .iter()
        .filter(|p| !p.ignore)
        .map(|p| {
            let mut l = enum_labels(&p.source, c.source_map);
            l.extend(enum_labels(&p.target, c.target_map));
            l.sort();
            l.dedup();
            l
        })
        .collect();
    let type_name = |l: Option<&'a LiveColumn>| l.map_or("", |l| l.type_name.as_str());
    let declared = |l: Option<&'a LiveColumn>| l.map_or("", |l| l.declared.as_str());
    let cols: Vec<PdColumn<'_>> = names
        .iter()
        .zip(&lives)
        .zip(s.cols.iter().zip(&t.cols))
        .zip(&labels)
        .map(
            |((((sn, _), &(sl, tl)), ((_, scc), (_, tcc))), labels)| PdColumn {
                name: sn,
                source: scc,
                target: tcc,
                source_type: type_name(sl),
                target_type: type_name(tl),
                source_declared: declared(sl),
                target_declared: declared(tl),
                labels,
                delivery: sl.map_or(crate::canon::Delivery::Loose, |l| l.wire.delivery()),
            },
        )
        .collect();
    match pushdown::decide(&cols) {
        Pushdown::No(why) => {
            result.mode_reason = why;
            None
        }
        Pushdown::Exact(agree) => {
            result.mode = "pushdown".into();
            // A column that is the key at the same place on both sides and
            // hashes raw is already in the row hash, as the key.
            let keyed = |&(sn, tn): &(&str, &str)| {
                let at = |spec: &crate::db::ReadSpec, n: &str| spec.key.iter().position(|k| k == n);
                at(&source.spec, sn).is_some_and(|i| at(&target.spec, tn) == Some(i))
            };
            let side = |pick: fn(&(&'a str, &'a str)) -> &'a str| {
                names
                    .iter()
                    .zip(agree.iter())
                    .filter(|(n, a)| !(**a == Agree::Always && keyed(n)))
                    .map(|(n, a)| (pick(n), a.clone()))
                    .collect()
            };
            Some(Hashing {
                source,
                target,
                source_cols: side(|n| n.0),
                target_cols: side(|n| n.1),
                compared: AtomicUsize::new(0),
                differed: AtomicUsize::new(0),
                largest: AtomicUsize::new(0),
            })
        }
    }
}

/// The database labels of a column's enum, as `map` defines it.
fn enum_labels(column: &Column, map: &Mapping) -> Vec<String> {
    let name = column.enum_name.as_deref().unwrap_or(&column.db_type);
    map.enum_def(name)
        .map(|d| d.values.iter().map(|v| v.db_name.clone()).collect())
        .unwrap_or_default()
}

/// What one chunk came to in pushdown mode.
pub(super) struct Hashed {
    pub outcome: ChunkOutcome,
    /// Whether its hashes differed, so it was read and compared.
    pub drilled: bool,
}

impl Hashing<'_> {
    /// Whether most chunks so far differed: go straight to row hashes.
    fn dense(&self) -> bool {
        let compared = self.compared.load(Ordering::Relaxed);
        compared >= DENSE_AFTER && 2 * self.differed.load(Ordering::Relaxed) >= compared
    }

    fn count(&self, differed: bool) {
        self.compared.fetch_add(1, Ordering::Relaxed);
        self.differed
            .fetch_add(usize::from(differed), Ordering::Relaxed);
    }

    /// Both sides' hash queries `what` of `chunk`.
    fn queries(&self, what: Hashes, chunk: &Chunk<'_>) -> Result<(String, String)> {
        let sql = |read: &TableRead, cols: &[(&str, Agree)], side: char| {
            let (lower, upper) = (chunk.lower, chunk.upper);
            pushdown::hash_sql(what, &read.spec, &read.live, cols, side, lower, upper)
        };
        Ok((
            sql(self.source, &self.source_cols, 's')?,
            sql(self.target, &self.target_cols, 't')?,
        ))
    }

    /// Hashes `chunk` on both sides (the lane's two sessions, at once);
    /// equal counts and hashes settle it as matched, else it is drilled
    /// into ([`Hashing::drill`]).
    pub async fn run(
        &self,
        job: &ChunkJob<'_>,
        chunk: Chunk<'_>,
        lane: &mut Lane,
        attempt: u32,
    ) -> Result<Hashed> {
        let (s, t) = (&job.sides.source, &job.sides.target);
        if let Some(d) = job.delay {
            tokio::time::sleep(d).await;
        }
        if attempt == 0 && job.kill_at == Some(chunk.index) {
            lane.source.open(s).await?.kill_for_test(s).await?;
        }
        let mut spent = Spent::default();
        if !self.dense() {
            let (ssql, tsql) = self.queries(Hashes::Chunk, &chunk)?;
            let Lane { source, target } = &mut *lane;
            let (sh, th) = tokio::join!(
                timed(async { pushdown::chunk_hash(source.open(s).await?, &ssql).await }),
                timed(async { pushdown::chunk_hash(target.open(t).await?, &tsql).await })
            );
            let ((sh, sd), (th, td)) = (sh?, th?);
            spent.add(sh.bytes() + th.bytes(), sd, td);
            self.count(sh != th);
            if sh == th {
                return Ok(Hashed {
                    outcome: spent.onto(all_matched(sh.rows as u64)),
                    drilled: false,
                });
            }
        }
        let (outcome, drilled) = self.drill(job, chunk, lane, attempt, &mut spent).await?;
        Ok(Hashed {
            outcome: spent.onto(outcome),
            drilled,
        })
    }

    /// Compares `chunk` row by row through its per-row hashes: rows whose
    /// hashes are equal are matched; the rest (hash differs, or one side
    /// lacks the key) are read and compared by the client path's job, on
    /// a read narrowed to their keys, or on the whole chunk when they are
    /// many or a key holds a NULL. Says whether any row was read.
    async fn drill(
        &self,
        job: &ChunkJob<'_>,
        chunk: Chunk<'_>,
        lane: &mut Lane,
        attempt: u32,
        spent: &mut Spent,
    ) -> Result<(ChunkOutcome, bool)> {
        let (s, t) = (&job.sides.source, &job.sides.target);
        let (ssql, tsql) = self.queries(Hashes::Rows, &chunk)?;
        let Lane { source, target } = &mut *lane;
        let cap = self.largest.load(Ordering::Relaxed);
        let (sh, th) = tokio::join!(
            timed(async { pushdown::row_hashes(source.open(s).await?, &ssql, cap).await }),
            timed(async { pushdown::row_hashes(target.open(t).await?, &tsql, cap).await })
        );
        let (((sh, sb), sd), ((th, tb), td)) = (sh?, th?);
        self.largest
            .fetch_max(sb.max(tb) as usize, Ordering::Relaxed);
        spent.add(sb + tb, sd, td);
        let Some((equal, listed)) = differing_keys(&sh, &th) else {
            // Two keys of one side share a hash: read the chunk whole.
            self.count(true);
            return Ok((job.run(chunk, lane, attempt).await?, true));
        };
        self.count(!listed.is_empty());
        if listed.is_empty() {
            return Ok((all_matched(equal), false));
        }
        let rows = sh.len().max(th.len());
        if listed.len() * NARROW_SHARE > rows || listed.len() > NARROW_MAX {
            return Ok((job.run(chunk, lane, attempt).await?, true));
        }
        let narrow = |read: &TableRead| {
            pushdown::key_hash_in(&read.spec, &read.live, &listed).map(|c| read.narrowed(&c))
        };
        let sread = narrow(self.source)?;
        let tread = match job.shared() {
            true => None,
            false => Some(narrow(self.target)?),
        };
        let narrowed = job.with_reads(&sread, tread.as_ref().unwrap_or(&sread));
        let mut out = narrowed.run(chunk, lane, attempt).await?;
        out.source_rows += equal;
        out.target_rows += equal;
        out.matched += equal;
        Ok((out, true))
    }
}

/// Pairs two sides' sorted (key hash, row hash) lists: the number of keys
/// whose row hashes are equal, and the key hashes to read (row hash
/// differs, or one side lacks the key), sorted. `None` when a key hash
/// repeats within one side (two keys share a hash): the pairing would not
/// be exact.
fn differing_keys(s: &[(i64, i64)], t: &[(i64, i64)]) -> Option<(u64, Vec<i64>)> {
    let repeats = |v: &[(i64, i64)]| v.windows(2).any(|w| w[0].0 == w[1].0);
    if repeats(s) || repeats(t) {
        return None;
    }
    let (mut i, mut j, mut equal, mut listed) = (0, 0, 0u64, Vec::new());
    while i < s.len() || j < t.len() {
        match (s.get(i), t.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                if a.1 == b.1 {
                    equal += 1;
                } else {
                    listed.push(a.0);
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                listed.push(a.0);
                i += 1;
            }
            (Some(a), None) => {
                listed.push(a.0);
                i += 1;
            }
            (_, Some(b)) => {
                listed.push(b.0);
                j += 1;
            }
            (None, None) => unreachable!("the loop ends first"),
        }
    }
    Some((equal, listed))
}

/// A chunk of `rows` rows on each side, all matched.
fn all_matched(rows: u64) -> ChunkOutcome {
    ChunkOutcome {
        source_rows: rows,
        target_rows: rows,
        matched: rows,
        ..ChunkOutcome::default()
    }
}

/// What the hash queries of one chunk cost: payload bytes, and each
/// side's time.
#[derive(Default)]
struct Spent {
    bytes: u64,
    source: Duration,
    target: Duration,
}

impl Spent {
    fn add(&mut self, bytes: u64, source: Duration, target: Duration) {
        self.bytes += bytes;
        self.source += source;
        self.target += target;
    }

    /// `outcome` with these costs added.
    fn onto(&self, mut outcome: ChunkOutcome) -> ChunkOutcome {
        outcome.bytes_received += self.bytes;
        outcome.source_read += self.source;
        outcome.target_read += self.target;
        outcome
    }
}

/// Runs `f`, and says how long it took.
async fn timed<T>(f: impl Future<Output = Result<T>>) -> Result<(T, Duration)> {
    let started = Instant::now();
    let out = f.await?;
    Ok((out, started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::differing_keys;

    #[test]
    fn row_hash_lists_pair_by_key_hash() {
        // Keys 1..=6: 2 differs, 3 only in the source, 5 only in the
        // target, the rest equal.
        let s = [(1, 10), (2, 20), (3, 30), (4, 40), (6, 60)];
        let t = [(1, 10), (2, 21), (4, 40), (5, 50), (6, 60)];
        assert_eq!(differing_keys(&s, &t), Some((3, vec![2, 3, 5])));
        assert_eq!(differing_keys(&s, &[]), Some((0, vec![1, 2, 3, 4, 6])));
        assert_eq!(differing_keys(&[], &t), Some((0, vec![1, 2, 4, 5, 6])));
        assert_eq!(differing_keys(&s, &s), Some((5, vec![])));
        // Two keys sharing a hash on one side: no exact pairing.
        assert_eq!(differing_keys(&[(1, 10), (1, 11)], &[(1, 10)]), None);
        assert_eq!(differing_keys(&[(1, 10)], &[(1, 10), (1, 11)]), None);
    }
}
