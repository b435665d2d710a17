//! The two snapshots a run reads, source and target: opening them (one
//! shared snapshot when both URLs are the same database), the notes they
//! leave in reports, and ending them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use crate::db::Snapshot;

/// The two snapshots a run reads. When source and target are the same
/// database, both are the same snapshot and same-table pairs are read once.
pub struct Sides {
    pub source: Arc<Snapshot>,
    pub target: Arc<Snapshot>,
    pub same_database: bool,
    /// Chunks re-read in one fresh snapshot because their readers did not
    /// share a view (MySQL without a global lock, or a replaced reader).
    pub rechecked: AtomicUsize,
}

/// Opens both sides' databases and snapshots. Equal URLs share one pool and
/// one snapshot, so both mappings read the same database state.
pub async fn open_sides(
    source: &crate::config::DbUrl,
    target: &crate::config::DbUrl,
    jobs: usize,
) -> Result<Sides> {
    open_sides_with(source, target, jobs, &crate::db::ConnectOptions::default()).await
}

/// [`open_sides`] with session settings (statement and lock timeouts).
pub async fn open_sides_with(
    source: &crate::config::DbUrl,
    target: &crate::config::DbUrl,
    jobs: usize,
    base: &crate::db::ConnectOptions,
) -> Result<Sides> {
    use crate::db::{ConnectOptions, Db};
    let opts = ConnectOptions {
        // coordinator + a reader per job per side, + one for retries/hooks.
        max_connections: (2 * jobs + 2) as u32,
        ..base.clone()
    };
    let open = async |url, what: &'static str| -> Result<Arc<Snapshot>> {
        let db = Db::connect(url, &opts).await.context(what)?;
        Ok(Arc::new(Snapshot::begin(&db).await.context(what)?))
    };
    let same_database = source == target;
    let source = open(source, "source database").await?;
    let target = match same_database {
        true => source.clone(),
        false => open(target, "target database").await?,
    };
    Ok(Sides {
        source,
        target,
        same_database,
        rechecked: AtomicUsize::new(0),
    })
}

impl Sides {
    /// For MySQL/MariaDB sides: which consistent-view mode ran, and how many
    /// chunks were re-read (report notes).
    pub fn snapshot_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (name, snap) in [("source", &self.source), ("target", &self.target)] {
            if self.same_database && name == "target" {
                break;
            }
            if let Some(mode) = snap.mysql_mode() {
                notes.push(format!(
                    "{name} snapshot: {}; view at {}",
                    mode.describe(),
                    snap.mysql_position().unwrap_or("?")
                ));
            }
        }
        let n = self.rechecked.load(Ordering::Relaxed);
        if n > 0 {
            notes.push(format!(
                "{n} chunk(s) with differences were re-read in one fresh snapshot; only persisting differences are reported"
            ));
        }
        notes
    }

    /// Ends both snapshots.
    pub async fn close(self) {
        let Sides { source, target, .. } = self;
        // Equal URLs share one snapshot: drop the second handle first.
        let target = if Arc::ptr_eq(&source, &target) {
            drop(target);
            None
        } else {
            Some(target)
        };
        for s in std::iter::once(source).chain(target) {
            if let Ok(s) = Arc::try_unwrap(s) {
                s.close().await;
            }
        }
    }
}
