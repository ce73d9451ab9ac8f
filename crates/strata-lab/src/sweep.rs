//! Running manifests: today each run loads and inspects its dataset and stores
//! the inspection; clustering, reduction and classification stages join as
//! their crates land.

use crate::manifest::Manifest;
use std::path::{Path, PathBuf};
use strata_data::DataDirs;

/// What one manifest produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub manifest: PathBuf,
    pub name: String,
    pub rows: usize,
    pub features: usize,
    pub written: Vec<PathBuf>,
}

/// Runs one manifest into `out/<name>/`.
pub fn run_manifest(path: &Path, out: &Path, dirs: &DataDirs) -> anyhow::Result<RunOutcome> {
    let m = Manifest::from_path(path)?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let _span = tracing::info_span!("run", experiment = %m.name).entered();
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    let dir = out.join(&m.name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let json = dir.join("inspect.json");
    let text = dir.join("inspect.txt");
    write_atomic(
        &json,
        serde_json::to_string_pretty(&loaded.report)?.as_bytes(),
    )?;
    write_atomic(&text, crate::inspect::render(&loaded).as_bytes())?;
    Ok(RunOutcome {
        manifest: path.to_path_buf(),
        name: m.name,
        rows: loaded.dataset.n_samples(),
        features: loaded.dataset.n_features(),
        written: vec![json, text],
    })
}

/// The manifests of a folder (`*.toml`), sorted by name.
pub fn manifests_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot list manifests in {}: {e}", dir.display()))?;
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    Ok(v)
}

/// Runs every manifest, continuing past failures; returns the outcomes and
/// the failures (manifest, message).
pub fn sweep(
    manifests: &[PathBuf],
    out: &Path,
    dirs: &DataDirs,
) -> (Vec<RunOutcome>, Vec<(PathBuf, String)>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for m in manifests {
        match run_manifest(m, out, dirs) {
            Ok(o) => ok.push(o),
            Err(e) => failed.push((m.clone(), format!("{e:#}"))),
        }
    }
    (ok, failed)
}

/// Writes a file atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot move {} into place: {e}", path.display())
    })
}
