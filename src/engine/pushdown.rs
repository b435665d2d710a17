//! Pushdown mode for a keyed pair (issue 13): each chunk is hashed inside
//! both databases (`db::pushdown`), and only a chunk whose count or hash
//! differs is read and compared row by row, by the client path's own
//! per-chunk job, so column-level results stay exact.
//!
//! Owns: choosing the mode of a table ([`plan`]: the `[check] mode`, both
//! sides PostgreSQL, and `db::pushdown::decide`), and the per-chunk job
//! the one scheduler runs in that mode ([`Hashing::run`]).

use std::time::Instant;

use anyhow::Result;

use super::compare::ChunkOutcome;
use super::digest::SideCodec;
use super::keyed::{ChunkJob, Lane};
use super::read::TableRead;
use super::schedule::Chunk;
use super::{TableCheck, TableResult};
use crate::config::CheckMode;
use crate::db::pushdown::{self, Agree, PdColumn, Pushdown};
use crate::db::{Snapshot, Worker};
use crate::mapping::{Column, Mapping};

/// How one table's chunks are hashed: each side's compared columns (in
/// its projection's names) with the region both readings agree in.
pub(super) struct Hashing<'a> {
    source: &'a TableRead,
    target: &'a TableRead,
    source_cols: Vec<(&'a str, Agree)>,
    target_cols: Vec<(&'a str, Agree)>,
}

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
    let (s, t) = codecs;
    let live = |read: &'a TableRead, name: &str| read.live.iter().find(|l| l.name == name);
    let type_of = |read: &'a TableRead, name: &str| {
        live(read, name).map_or(String::new(), |l| l.type_name.clone())
    };
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
    let types: Vec<(String, String)> = names
        .iter()
        .map(|(sn, tn)| (type_of(source, sn), type_of(target, tn)))
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
    let cols: Vec<PdColumn<'_>> = names
        .iter()
        .zip(&types)
        .zip(s.cols.iter().zip(&t.cols))
        .zip(&labels)
        .map(
            |((((sn, _), (st, tt)), ((_, scc), (_, tcc))), labels)| PdColumn {
                name: sn,
                source: scc,
                target: tcc,
                source_type: st,
                target_type: tt,
                labels,
                delivery: live(source, sn)
                    .map_or(crate::canon::Delivery::Loose, |l| l.wire.delivery()),
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
            let side = |pick: fn(&(&'a str, &'a str)) -> &'a str| {
                names.iter().map(pick).zip(agree.iter().cloned()).collect()
            };
            Some(Hashing {
                source,
                target,
                source_cols: side(|n| n.0),
                target_cols: side(|n| n.1),
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
    /// Hashes `chunk` on both sides (the lane's two sessions, at once);
    /// equal counts and hashes settle it as matched, else the client
    /// path's job reads and compares it.
    pub async fn run(
        &self,
        job: &ChunkJob<'_>,
        chunk: Chunk<'_>,
        lane: &mut Lane,
        attempt: u32,
    ) -> Result<Hashed> {
        let (s, t) = (&job.sides.source, &job.sides.target);
        if attempt == 0 && job.kill_at == Some(chunk.index) {
            lane.source.open(s).await?.kill_for_test(s).await?;
        }
        let sql = |read: &TableRead, cols: &[(&str, Agree)], side: char| {
            pushdown::chunk_hash_sql(&read.spec, &read.live, cols, side, chunk.lower, chunk.upper)
        };
        let ssql = sql(self.source, &self.source_cols, 's')?;
        let tsql = sql(self.target, &self.target_cols, 't')?;
        let Lane { source, target } = lane;
        let timed = async |w: Result<&mut Worker>, q: &str| {
            let started = Instant::now();
            let h = pushdown::chunk_hash(w?, q).await?;
            anyhow::Ok((h, started.elapsed()))
        };
        let (sh, th) = tokio::join!(async { timed(source.open(s).await, &ssql).await }, async {
            timed(target.open(t).await, &tsql).await
        });
        let ((sh, sd), (th, td)) = (sh?, th?);
        let bytes = sh.bytes() + th.bytes();
        if sh == th {
            let rows = sh.rows as u64;
            return Ok(Hashed {
                outcome: ChunkOutcome {
                    source_rows: rows,
                    target_rows: rows,
                    matched: rows,
                    source_read: sd,
                    target_read: td,
                    bytes_received: bytes,
                    ..ChunkOutcome::default()
                },
                drilled: false,
            });
        }
        let mut outcome = job.run(chunk, lane, attempt).await?;
        outcome.bytes_received += bytes;
        outcome.source_read += sd;
        outcome.target_read += td;
        Ok(Hashed {
            outcome,
            drilled: true,
        })
    }
}
