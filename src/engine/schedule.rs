//! The one chunk scheduler. Every chunked read runs through [`run`]: both
//! sides of a keyed check, a keyless table's multiset, a manifest written
//! or verified.
//!
//! Owns: what a chunk is ([`Chunk`]: table, index in key order, bounds,
//! the same in every process whoever runs it), running a per-chunk async
//! job over a list of chunks with at most `jobs` at once, the one retry
//! rule ([`Retry`]), and handing each result back in chunk order. It does
//! not know what a job does: read rows and compare them, hash them, or
//! (later) ask the server for a chunk's hash are all jobs.
//!
//! Seams for what comes next: [`Schedule::take`] picks the chunks this run
//! takes (a shard's share, less the chunks a journal says are done), and
//! `on_done` sees every finished chunk, in chunk order, on the calling task
//! (where a journal line is appended).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use tokio::sync::Semaphore;

use crate::db::Boundary;

/// One chunk of a table: the keys in `(lower, upper]`.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The table it belongs to (for a pair, the source table).
    pub table: &'a str,
    /// Its place in key order, from 0.
    pub index: usize,
    /// The key it starts after; `None`: the start of the table.
    pub lower: Option<&'a Boundary>,
    /// The last key it holds; `None`: the end of the table.
    pub upper: Option<&'a Boundary>,
}

/// The chunks of `table` split at `bounds`: chunk i holds the keys in
/// `(bounds[i-1], bounds[i]]`, so there is one more chunk than bounds.
pub fn chunks<'a>(table: &'a str, bounds: &'a [Boundary]) -> Vec<Chunk<'a>> {
    (0..=bounds.len())
        .map(|index| Chunk {
            table,
            index,
            lower: index.checked_sub(1).map(|i| &bounds[i]),
            upper: bounds.get(index),
        })
        .collect()
}

/// The one retry rule: a job that fails with a transient error runs again,
/// on a fresh lane (its sessions dropped, so the next try opens new ones
/// in the same snapshot), up to `retries` more times. Any other error, or
/// one more than that, fails the run.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub retries: u32,
    pub transient: fn(&anyhow::Error) -> bool,
}

impl Default for Retry {
    /// One retry, for a lost connection.
    fn default() -> Retry {
        Retry {
            retries: 1,
            transient: crate::db::is_connection_lost,
        }
    }
}

/// Which chunks a run takes: `true` for those it runs.
pub type Take<'a> = &'a (dyn Fn(&Chunk<'_>) -> bool + Sync);

/// How to run a list of chunks.
#[derive(Clone, Copy)]
pub struct Schedule<'a> {
    /// Chunks in flight at once (lanes); never more than there are chunks.
    pub jobs: usize,
    pub retry: Retry,
    /// The chunks this run takes; `None`: all of them. The rest are not
    /// run and not handed back.
    pub take: Option<Take<'a>>,
}

impl Schedule<'_> {
    /// Every chunk, `jobs` at once, the default retry rule.
    pub fn new(jobs: usize) -> Schedule<'static> {
        Schedule {
            jobs,
            retry: Retry::default(),
            take: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    /// Chunks run and handed back.
    pub chunks: usize,
    /// Tries repeated under the retry rule.
    pub retries: u64,
}

/// Runs `job` for every chunk `schedule` takes, up to `schedule.jobs` at
/// once, and hands each result to `on_done` in chunk order on the calling
/// task. Each lane keeps a state `L` (its database sessions) from chunk to
/// chunk; `job` gets the chunk, the lane's state and the try number (0
/// first). On the first error that the retry rule does not absorb, or the
/// first error of `on_done`, lanes take no more chunks, the chunks in
/// flight finish (so no session is dropped mid-read), and that error is
/// returned.
pub async fn run<'c, L, T>(
    chunks: &[Chunk<'c>],
    schedule: &Schedule<'_>,
    job: impl AsyncFn(Chunk<'c>, &mut L, u32) -> Result<T>,
    mut on_done: impl FnMut(Chunk<'c>, T) -> Result<()>,
) -> Result<Ran>
where
    L: Default,
{
    let todo: Vec<Chunk<'c>> = chunks
        .iter()
        .filter(|c| schedule.take.is_none_or(|take| take(c)))
        .copied()
        .collect();
    if todo.is_empty() {
        return Ok(Ran::default());
    }
    let lanes = schedule.jobs.clamp(1, todo.len());
    // A lane starts a chunk only while fewer than this many are started and
    // not yet handed back: one slow chunk holds back at most that many
    // finished results, whatever the table's size.
    let window = Semaphore::new(2 * lanes);
    let next = AtomicUsize::new(0);
    let retries = AtomicU64::new(0);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, T)>();
    let (todo, window, next, retries, job) = (&todo, &window, &next, &retries, &job);
    let retry = schedule.retry;
    let lane = |tx: tokio::sync::mpsc::UnboundedSender<(usize, T)>| async move {
        let mut state = L::default();
        loop {
            // Closed: the run failed; take no more chunks.
            let Ok(permit) = window.acquire().await else {
                return Ok(());
            };
            permit.forget();
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&chunk) = todo.get(i) else {
                return Ok(());
            };
            let mut attempt = 0;
            let out = loop {
                match job(chunk, &mut state, attempt).await {
                    Ok(out) => break out,
                    Err(e) if attempt < retry.retries && (retry.transient)(&e) => {
                        state = L::default();
                        attempt += 1;
                        retries.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        window.close();
                        return Err(e);
                    }
                }
            };
            if tx.send((i, out)).is_err() {
                return Ok(());
            }
        }
    };
    let lanes = futures::future::join_all((0..lanes).map(|_| lane(tx.clone())));
    drop(tx);
    let deliver = async {
        // Finished out of order, waiting for the chunks before them.
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        let mut failed = None;
        while let Some((i, out)) = rx.recv().await {
            waiting.insert(i, out);
            while let Some(out) = waiting.remove(&due) {
                if failed.is_none()
                    && let Err(e) = on_done(todo[due], out)
                {
                    window.close();
                    failed = Some(e);
                }
                due += 1;
                window.add_permits(1);
            }
        }
        failed.map_or(Ok(due), Err)
    };
    let (lanes, delivered) = tokio::join!(lanes, deliver);
    for lane in lanes {
        lane?;
    }
    Ok(Ran {
        chunks: delivered?,
        retries: retries.load(Ordering::Relaxed),
    })
}

/// Runs CPU work (hashing, merge-joins) on the rayon pool, so the lanes
/// keep reading while chunks are hashed. One piece of work at a time (each
/// is parallel inside): a rayon thread waiting inside a `join` steals any
/// queued work, so without the turn every lane's digests could be alive at
/// once, more often the more chunks a run has (peak RSS grew from 1M to
/// 20M rows), with no gain in speed on the pool's threads.
pub async fn on_rayon<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    static TURN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = TURN.acquire().await.context("the hashing pool stopped")?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(work());
    });
    rx.await.context("the hashing pool stopped")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::OwnedRaw;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A transient error the tests' retry rule recognises.
    #[derive(Debug, thiserror::Error)]
    #[error("transient")]
    struct Transient;

    fn test_retry() -> Retry {
        Retry {
            retries: 1,
            transient: |e| e.is::<Transient>(),
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn bounds(keys: &[i64]) -> Vec<Boundary> {
        keys.iter().map(|k| vec![OwnedRaw::Int(*k)]).collect()
    }

    /// Runs `job` over `n` chunks and returns the indices in the order they
    /// were handed back.
    fn indices_handed_back<L: Default>(
        n: usize,
        schedule: &Schedule<'_>,
        job: impl AsyncFn(Chunk<'_>, &mut L, u32) -> Result<usize>,
    ) -> (Result<Ran>, Vec<usize>) {
        let b = bounds(&(1..n as i64).collect::<Vec<_>>());
        let all = chunks("t", &b);
        let mut seen = Vec::new();
        let ran = block_on(run(&all, schedule, job, |c, v: usize| {
            assert_eq!(c.index, v, "each result comes with its own chunk");
            seen.push(v);
            Ok(())
        }));
        (ran, seen)
    }

    #[test]
    fn chunks_cover_the_key_space_without_gaps() {
        let b = bounds(&[10, 20]);
        let c = chunks("t", &b);
        let ends: Vec<_> = c.iter().map(|c| (c.index, c.lower, c.upper)).collect();
        assert_eq!(
            ends,
            vec![
                (0, None, Some(&b[0])),
                (1, Some(&b[0]), Some(&b[1])),
                (2, Some(&b[1]), None),
            ]
        );
        // No boundary: one chunk, the whole table.
        let one = chunks("t", &[]);
        assert_eq!(one.len(), 1);
        assert!(one[0].lower.is_none() && one[0].upper.is_none());
        assert_eq!(one[0].table, "t");
    }

    #[test]
    fn results_come_back_in_chunk_order_whatever_order_they_finish() {
        // Early chunks take longest, so they finish last.
        let (ran, seen) = indices_handed_back(12, &Schedule::new(4), async |c, _: &mut (), _| {
            tokio::time::sleep(Duration::from_millis(2 * (12 - c.index as u64))).await;
            Ok(c.index)
        });
        assert_eq!(
            ran.unwrap(),
            Ran {
                chunks: 12,
                retries: 0
            }
        );
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn no_more_than_jobs_chunks_run_at_once() {
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let (ran, seen) = indices_handed_back(20, &Schedule::new(3), async |c, _: &mut (), _| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(3)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Ok(c.index)
        });
        assert_eq!(ran.unwrap().chunks, 20);
        assert_eq!(seen.len(), 20);
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn empty_list_and_jobs_beyond_the_chunks() {
        let ran = block_on(run(
            &[],
            &Schedule::new(8),
            async |_, _: &mut (), _| -> Result<()> { unreachable!("no chunk to run") },
            |_, _| Ok(()),
        ));
        assert_eq!(ran.unwrap(), Ran::default());
        // More lanes than chunks; a job of 0 (jobs = 0) still runs one lane.
        for jobs in [0, 1, 64] {
            let (ran, seen) = indices_handed_back(
                3,
                &Schedule::new(jobs),
                async |c, _: &mut (), _| Ok(c.index),
            );
            assert_eq!(ran.unwrap().chunks, 3);
            assert_eq!(seen, vec![0, 1, 2]);
        }
    }

    #[test]
    fn a_transient_failure_is_retried_on_a_fresh_lane() {
        // The lane state counts the tries it has seen: a retry starts from 0.
        let tries = Mutex::new(Vec::new());
        let schedule = Schedule {
            retry: test_retry(),
            ..Schedule::new(2)
        };
        let (ran, seen) = indices_handed_back(5, &schedule, async |c, lane: &mut u32, attempt| {
            *lane += 1;
            tries.lock().unwrap().push((c.index, attempt, *lane));
            if c.index == 3 && attempt == 0 {
                return Err(Transient.into());
            }
            Ok(c.index)
        });
        assert_eq!(
            ran.unwrap(),
            Ran {
                chunks: 5,
                retries: 1
            }
        );
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        let tries = tries.into_inner().unwrap();
        let third = tries.iter().filter(|t| t.0 == 3).collect::<Vec<_>>();
        assert_eq!(third.len(), 2, "chunk 3 ran twice: {tries:?}");
        assert_eq!(
            (third[1].1, third[1].2),
            (1, 1),
            "the retry runs on a fresh lane"
        );
    }

    #[test]
    fn failures_beyond_the_rule_fail_the_run() {
        let schedule = Schedule {
            retry: test_retry(),
            ..Schedule::new(2)
        };
        // Transient twice: one retry is not enough. One lane, so the
        // order is fixed: 0, 1, then 2 twice, and nothing after it.
        let calls = AtomicUsize::new(0);
        let one_lane = Schedule {
            jobs: 1,
            ..schedule
        };
        let (ran, seen) = indices_handed_back(6, &one_lane, async |c, _: &mut (), _| {
            calls.fetch_add(1, Ordering::SeqCst);
            if c.index == 2 {
                return Err(Transient.into());
            }
            Ok(c.index)
        });
        assert!(ran.unwrap_err().is::<Transient>());
        assert_eq!(
            seen,
            vec![0, 1],
            "only chunks before the failure are handed back"
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "no chunk after the failure runs"
        );
        // A permanent error is not retried at all.
        let tries = AtomicUsize::new(0);
        let (ran, _) =
            indices_handed_back(1, &schedule, async |_, _: &mut (), _| -> Result<usize> {
                tries.fetch_add(1, Ordering::SeqCst);
                anyhow::bail!("permanent")
            });
        assert_eq!(ran.unwrap_err().to_string(), "permanent");
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failing_consumer_stops_the_run() {
        let b = bounds(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let all = chunks("t", &b);
        let started = AtomicUsize::new(0);
        let mut handed = 0;
        let ran = block_on(run(
            &all,
            &Schedule::new(1),
            async |c, _: &mut (), _| {
                started.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(c.index)
            },
            |c, _| {
                handed += 1;
                anyhow::ensure!(c.index < 1, "cannot write chunk {}", c.index);
                Ok(())
            },
        ));
        assert_eq!(ran.unwrap_err().to_string(), "cannot write chunk 1");
        assert_eq!(handed, 2, "nothing is handed back after the failure");
        assert!(
            started.load(Ordering::SeqCst) < all.len(),
            "lanes stop taking chunks"
        );
    }

    #[test]
    fn take_runs_only_the_chosen_chunks_in_order() {
        // The seam a shard filter or a resume journal plugs into.
        let odd: Take<'_> = &|c| c.index % 2 == 1;
        let schedule = Schedule {
            take: Some(odd),
            ..Schedule::new(3)
        };
        let (ran, seen) = indices_handed_back(9, &schedule, async |c, _: &mut (), _| {
            tokio::time::sleep(Duration::from_millis(9 - c.index as u64)).await;
            Ok(c.index)
        });
        assert_eq!(ran.unwrap().chunks, 4);
        assert_eq!(seen, vec![1, 3, 5, 7]);
        let none: Take<'_> = &|_| false;
        let schedule = Schedule {
            take: Some(none),
            ..Schedule::new(3)
        };
        let (ran, seen) = indices_handed_back(4, &schedule, async |c, _: &mut (), _| Ok(c.index));
        assert_eq!((ran.unwrap().chunks, seen.len()), (0, 0));
    }

    #[test]
    fn rayon_work_comes_back() {
        assert_eq!(block_on(on_rayon(|| 6 * 7)).unwrap(), 42);
    }
}
