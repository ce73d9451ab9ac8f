//! Finding data files and checking them against their SHA-256.
//!
//! Places are searched in this order: the `--data-dir` given on the command
//! line, the `STRATA_DATA_DIR` environment variable, the cache folder `cache/`
//! beside the descriptors (git-ignored), where `strata data fetch` puts
//! downloads, and last the descriptor's own folder, where the repository ships
//! its reference files. In each folder the file is looked for as named, then
//! compressed (`.gz`, `.zst`; see [`crate::compress`]).

use crate::descriptor::Descriptor;
use crate::error::{DataError, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Name of the environment variable holding the data directory.
pub const DATA_DIR_ENV: &str = "STRATA_DATA_DIR";

/// The ordered list of directories in which data files are looked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataDirs {
    /// From `--data-dir`.
    pub explicit: Option<PathBuf>,
    /// From `STRATA_DATA_DIR`.
    pub env: Option<PathBuf>,
    /// Download cache; `None` means `cache/` beside each descriptor.
    pub cache: Option<PathBuf>,
}

impl DataDirs {
    /// `--data-dir` (if any), then `STRATA_DATA_DIR` from the environment.
    pub fn from_env(explicit: Option<PathBuf>) -> DataDirs {
        let env = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        DataDirs {
            explicit,
            env,
            cache: None,
        }
    }

    /// The cache directory for a descriptor.
    pub fn cache_dir(&self, descriptor: &Descriptor) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| {
            descriptor
                .path
                .parent()
                .map(|p| p.join("cache"))
                .unwrap_or_else(|| PathBuf::from("datasets/cache"))
        })
    }

    /// Every folder searched for the file of `descriptor`, in order: the
    /// explicit folder, the environment's, the cache, the descriptor's own.
    pub fn folders(&self, descriptor: &Descriptor) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = [self.explicit.as_ref(), self.env.as_ref()]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        v.push(self.cache_dir(descriptor));
        v.push(
            descriptor
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        );
        let mut seen = std::collections::HashSet::new();
        v.retain(|p| seen.insert(p.clone()));
        v
    }

    /// Every place the file of `descriptor` may be, in search order: in each
    /// folder the name itself, then its compressed forms (unless the name is
    /// already that of a compressed file).
    pub fn candidates(&self, descriptor: &Descriptor) -> Vec<PathBuf> {
        let file = &descriptor.source.file;
        let compressed = Path::new(file)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| crate::compress::SUFFIXES.contains(&e));
        let mut names = vec![file.clone()];
        if !compressed {
            names.extend(crate::compress::SUFFIXES.iter().map(|s| format!("{file}.{s}")));
        }
        self.folders(descriptor)
            .iter()
            .flat_map(|d| names.iter().map(move |n| d.join(n)))
            .collect()
    }

    /// The first existing candidate, or an error naming every place looked,
    /// the expected checksum and how to get the file.
    pub fn locate(&self, descriptor: &Descriptor) -> Result<PathBuf> {
        let looked = self.candidates(descriptor);
        // A folder stands for a folder of Parquet files.
        if let Some(found) = looked.iter().find(|p| p.is_file() || p.is_dir()) {
            return Ok(found.clone());
        }
        Err(DataError::MissingFile {
            file: descriptor.source.file.clone(),
            looked,
            sha256: descriptor.source.sha256.clone(),
            how_to_get: descriptor.how_to_get(),
        })
    }
}

/// Data folders for tests and benchmarks that need the reference datasets.
///
/// `STRATA_DATA_DIR`, when set, is searched first (a relative path is taken
/// from `workspace`, since cargo runs tests from each crate's folder); then the
/// cache and the files the repository ships beside the descriptors, as for any
/// load. The reference files always ship, so a real-data test never has a
/// reason to skip: a missing file is an error.
pub fn reference_dirs(workspace: &Path) -> DataDirs {
    let env = std::env::var_os(DATA_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { workspace.join(p) } else { p });
    DataDirs {
        explicit: None,
        env,
        cache: None,
    }
}

/// Loads the reference dataset `name` (descriptor `datasets/<name>.toml` of
/// `workspace`) from [`reference_dirs`].
pub fn load_reference(workspace: &Path, name: &str) -> crate::Result<crate::LoadedDataset> {
    let d = Descriptor::from_path(workspace.join("datasets").join(format!("{name}.toml")))?;
    crate::load(&d, &reference_dirs(workspace))
}

/// SHA-256 of a file, lowercase hex, and its size in bytes.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex(&h.finalize()), total))
}

/// SHA-256 of bytes in memory, lowercase hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails with [`DataError::ChecksumMismatch`] unless `bytes` hash to `expected`.
pub fn verify_bytes(path: &Path, bytes: &[u8], expected: &str) -> Result<()> {
    let actual = sha256_bytes(bytes);
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(DataError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.to_lowercase(),
            actual,
            bytes: bytes.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(dir: &Path) -> Descriptor {
        let text = "[source]\nfile = \"d.csv\"\nsha256 = \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\npage = \"https://example.org/d\"\n";
        Descriptor::from_toml(text, &dir.join("d.toml")).unwrap()
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn search_order_and_missing_message() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let d = descriptor(tmp.path());
        let dirs = DataDirs {
            explicit: Some(a.clone()),
            env: Some(b.clone()),
            cache: None,
        };
        let err = dirs.locate(&d).unwrap_err().to_string();
        for p in [
            a.join("d.csv"),
            b.join("d.csv"),
            tmp.path().join("cache/d.csv"),
        ] {
            assert!(err.contains(&p.display().to_string()), "{err}");
        }
        assert!(err.contains("ba7816bf"), "{err}");
        assert!(err.contains("https://example.org/d"), "{err}");

        std::fs::write(b.join("d.csv"), "abc").unwrap();
        assert_eq!(dirs.locate(&d).unwrap(), b.join("d.csv"));
        std::fs::write(a.join("d.csv"), "abc").unwrap();
        assert_eq!(dirs.locate(&d).unwrap(), a.join("d.csv"));
        let (sha, n) = sha256_file(&a.join("d.csv")).unwrap();
        assert_eq!(
            (sha.as_str(), n),
            (
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                3
            )
        );
        assert!(
            verify_bytes(&a, b"abd", &d.source.sha256)
                .unwrap_err()
                .to_string()
                .contains("SHA-256 mismatch")
        );
    }
}
