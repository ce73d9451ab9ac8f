//! Experiment manifests: TOML files in `experiments/`.
//!
//! A manifest names a dataset descriptor and a seed. The representations,
//! clusterers and evaluations an experiment runs are added to this schema as
//! the algorithm crates land; unknown keys are refused with their line and
//! column, so a typo never silently does nothing.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use strata_core::Seed;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: `dataset` = {}: no such descriptor (resolved relative to the manifest's folder){hint}", path.display(), dataset.display())]
    NoDescriptor {
        path: PathBuf,
        dataset: PathBuf,
        hint: String,
    },
}

/// A parsed experiment manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Experiment name (results go to `<out>/<name>/`); defaults to the file stem.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Path of the dataset descriptor, relative to the manifest's folder.
    pub dataset: PathBuf,
    /// Root seed of every random choice in the experiment.
    #[serde(default)]
    pub seed: Seed,
    /// Where the manifest was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

impl Manifest {
    pub fn from_path(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.into(),
            source,
        })?;
        let mut m: Manifest = toml::from_str(&text).map_err(|e| {
            let (line, column, message) = strata_data::descriptor::toml_location(&e, &text);
            ManifestError::Syntax {
                path: path.into(),
                line,
                column,
                message,
            }
        })?;
        m.path = path.to_path_buf();
        if m.name.is_empty() {
            m.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        let resolved = m.descriptor_path();
        if !resolved.is_file() {
            let siblings: Vec<String> = resolved
                .parent()
                .and_then(|p| std::fs::read_dir(p).ok())
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.ends_with(".toml"))
                        .collect()
                })
                .unwrap_or_default();
            let wanted = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let hint = strata_core::text::did_you_mean(&wanted, siblings.iter());
            return Err(ManifestError::NoDescriptor {
                path: path.into(),
                dataset: resolved,
                hint,
            });
        }
        Ok(m)
    }

    /// The descriptor path, resolved against the manifest's folder.
    pub fn descriptor_path(&self) -> PathBuf {
        let joined = if self.dataset.is_absolute() {
            self.dataset.clone()
        } else {
            self.path
                .parent()
                .unwrap_or(Path::new("."))
                .join(&self.dataset)
        };
        joined.canonicalize().unwrap_or(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_fail_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("d.toml"), "").unwrap();
        std::fs::write(dir.join("ok.toml"), "dataset = \"d.toml\"\nseed = 7\n").unwrap();
        let m = Manifest::from_path(&dir.join("ok.toml")).unwrap();
        assert_eq!((m.name.as_str(), m.seed), ("ok", Seed(7)));
        assert_eq!(
            m.descriptor_path(),
            dir.join("d.toml").canonicalize().unwrap()
        );

        std::fs::write(dir.join("typo.toml"), "dataset = \"d.toml\"\nsed = 7\n").unwrap();
        let e = Manifest::from_path(&dir.join("typo.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("typo.toml:2:1: unknown key `sed`; did you mean `seed`? (valid keys: name, description, dataset, seed)"), "{e}");

        std::fs::write(dir.join("nod.toml"), "dataset = \"e.toml\"\n").unwrap();
        let e = Manifest::from_path(&dir.join("nod.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no such descriptor") && e.contains("e.toml"),
            "{e}"
        );

        std::fs::write(dir.join("syntax.toml"), "dataset = \"d.toml\n").unwrap();
        let e = Manifest::from_path(&dir.join("syntax.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("syntax.toml:1:"), "{e}");
    }
}
