//! The checkpoint journal (issue 15): `journal.jsonl` in a check's report
//! folder, written by every check with no flag, read back by
//! `check --resume DIR`.
//!
//! Format: one JSON object per line. The first is the header
//! ([`Header`]: parity version, plan id, config hash, shard); then one
//! [`Line`] per finished chunk (table, index, bounds, and that chunk's
//! counts and listed differences), appended and flushed as the scheduler's
//! `on_done` hands the chunk back. A line torn by a kill is ignored.
//!
//! Owns: writing lines, reading a journal back, refusing one from another
//! run, and handing each chunk it records to the resumed run exactly once
//! (`Schedule::take` skips them). It does not decide what a chunk holds.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::compare::ChunkOutcome;
use super::schedule::Chunk;
use super::shard::{ChunkRange, Shard};

/// The journal's name in a report folder.
pub const FILE: &str = "journal.jsonl";

/// The journal's first line: which run it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub parity_version: String,
    pub plan_id: String,
    pub config_hash: String,
    pub shard: Option<Shard>,
}

/// One finished chunk.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    #[serde(flatten)]
    pub range: ChunkRange,
    pub outcome: ChunkOutcome,
}

/// An open journal: lines appended to `path`, and the chunks a resumed run
/// found already done, each handed out once.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    done: Mutex<HashMap<(String, usize), Line>>,
    /// Chunks read back from the journal when it was opened.
    pub resumed: usize,
}

impl Journal {
    /// Starts `dir/journal.jsonl` afresh (`resume` false, or no journal
    /// there yet), or continues it: the chunks it records are done, and a
    /// header from another run is refused.
    pub fn open(dir: &Path, header: &Header, resume: bool) -> Result<Journal> {
        let path = dir.join(FILE);
        let mut done = HashMap::new();
        if resume && path.exists() {
            done = read(&path, header)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // Rewritten whole on resume: a torn last line is dropped, the done
        // chunks kept, so the file stays one line per chunk.
        let mut text = serde_json::to_string(header)?;
        text.push('\n');
        let mut kept: Vec<_> = done.iter().collect();
        kept.sort_by(|a, b| a.0.cmp(b.0));
        for (_, line) in kept {
            text.push_str(&serde_json::to_string(line)?);
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        file.sync_data()?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
            resumed: done.len(),
            done: Mutex::new(done),
        })
    }

    /// True when the journal records chunk `index` of `table` as done.
    pub fn is_done(&self, table: &str, index: usize) -> bool {
        self.done
            .lock()
            .map(|d| d.contains_key(&(table.to_string(), index)))
            .unwrap_or(false)
    }

    /// The recorded outcome of a done chunk, handed out once. Its recorded
    /// bounds must be the chunk's now: else rows came or went since the
    /// journal began, and its chunks no longer tile the table.
    pub fn take_done(&self, chunk: &Chunk<'_>) -> Result<Option<ChunkOutcome>> {
        let key = (chunk.table.to_string(), chunk.index);
        let Some(line) = self.done.lock().ok().and_then(|mut d| d.remove(&key)) else {
            return Ok(None);
        };
        let now = ChunkRange::new(chunk.table, chunk.index, chunk.lower, chunk.upper);
        if line.range != now {
            bail!(
                "cannot resume {}: its chunk {} is not where the journal recorded it (rows were added or removed since); start afresh in another folder",
                chunk.table,
                chunk.index
            );
        }
        Ok(Some(line.outcome))
    }

    /// Appends a finished chunk and flushes it.
    pub fn record(&self, chunk: &Chunk<'_>, outcome: &ChunkOutcome) -> Result<()> {
        let line = LineRef {
            range: ChunkRange::new(chunk.table, chunk.index, chunk.lower, chunk.upper),
            outcome,
        };
        let mut text = serde_json::to_string(&line)?;
        text.push('\n');
        let mut f = self
            .file
            .lock()
            .map_err(|_| anyhow::anyhow!("the journal is poisoned"))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }
}

/// A line being written (borrowing the outcome).
#[derive(Serialize)]
struct LineRef<'a> {
    #[serde(flatten)]
    range: ChunkRange,
    outcome: &'a ChunkOutcome,
}

/// The done chunks of the journal at `path`, which must record `header`'s
/// run. Lines that do not parse (a torn last line) are skipped.
fn read(path: &Path, header: &Header) -> Result<HashMap<(String, usize), Line>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = std::io::BufReader::new(f).lines();
    let Some(first) = lines.next().transpose()? else {
        return Ok(HashMap::new());
    };
    let Ok(theirs) = serde_json::from_str::<Header>(&first) else {
        bail!(
            "{} does not start with a parity journal header; resume a folder a check wrote, or start afresh in another folder",
            path.display()
        );
    };
    if &theirs != header {
        let what = if theirs.parity_version != header.parity_version {
            format!(
                "parity {} (this is {})",
                theirs.parity_version, header.parity_version
            )
        } else if theirs.plan_id != header.plan_id {
            "another plan (other tables or mappings)".to_string()
        } else if theirs.config_hash != header.config_hash {
            "another config (or other read settings)".to_string()
        } else {
            let label = |s: &Option<Shard>| s.map_or("no shard".to_string(), |s| s.label());
            format!(
                "shard {} (this run: {})",
                label(&theirs.shard),
                label(&header.shard)
            )
        };
        bail!(
            "cannot resume: {} records a run with {what}; resume with the same config, plan and parity version, or start afresh in another folder",
            path.display()
        );
    }
    let mut done = HashMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        if let Ok(l) = serde_json::from_str::<Line>(&line) {
            done.insert((l.range.table.clone(), l.range.index), l);
        }
    }
    Ok(done)
}
