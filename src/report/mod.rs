//! Rendering results into files: one file per format behind one trait.
//! Never queries anything; it renders what it is handed. Files are rewritten
//! after each table or operation, so a run that dies midway leaves results.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Creates the run's report directory: `--out DIR`, or
/// `reports/<UTC timestamp>/` with `reports/latest` pointing at it.
pub fn prepare_out_dir(out: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
        return Ok(dir.to_path_buf());
    }
    let base = PathBuf::from("reports");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut dir = base.join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{stamp}-{n}"));
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
    let latest = base.join("latest");
    let _ = std::fs::remove_file(&latest);
    #[cfg(unix)]
    {
        let name = dir.file_name().map(PathBuf::from).unwrap_or_default();
        std::os::unix::fs::symlink(&name, &latest)
            .with_context(|| format!("cannot point {} at {}", latest.display(), dir.display()))?;
    }
    Ok(dir)
}

/// Writes a file atomically (temp file + rename) so readers never see half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
