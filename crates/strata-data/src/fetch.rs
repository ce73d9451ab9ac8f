//! Downloading data files that have a public URL into the cache.
//!
//! The download streams into a temporary file beside the target while hashing,
//! checks the length announced by the server and the SHA-256 from the
//! descriptor, and only then renames the file into place: a failure or a
//! mismatch leaves no partial file behind.

use crate::descriptor::Descriptor;
use crate::error::{DataError, Result};
use crate::locate::hex;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Outcome of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The file was already there with the right checksum.
    AlreadyPresent(PathBuf),
    /// The file was downloaded and verified.
    Downloaded { path: PathBuf, bytes: u64 },
}

/// Downloads the descriptor's file into `dir` unless a verified copy is there.
pub fn fetch(descriptor: &Descriptor, dir: &Path) -> Result<Fetched> {
    let target = dir.join(&descriptor.source.file);
    if target.is_file() {
        let (sha, _) = crate::locate::sha256_file(&target)?;
        if sha.eq_ignore_ascii_case(&descriptor.source.sha256) {
            return Ok(Fetched::AlreadyPresent(target));
        }
        tracing::warn!(path = %target.display(), "cached copy has the wrong checksum; downloading again");
    }
    let Some(url) = descriptor.source.url.as_deref() else {
        return Err(DataError::NoUrl {
            descriptor: descriptor.path.clone(),
            file: descriptor.source.file.clone(),
            page: descriptor
                .source
                .page
                .clone()
                .unwrap_or_else(|| "(no page given)".into()),
            target_dir: dir.to_path_buf(),
        });
    };
    let bytes = download_verified(url, &target, &descriptor.source.sha256)?;
    Ok(Fetched::Downloaded {
        path: target,
        bytes,
    })
}

/// Downloads `url` to `target`, verifying `sha256`; atomic (temp file + rename).
pub fn download_verified(url: &str, target: &Path, sha256: &str) -> Result<u64> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let part = dir.join(format!(".{name}.{}.part", std::process::id()));
    let result = download_to(url, &part, sha256);
    match result {
        Ok(bytes) => {
            std::fs::rename(&part, target).map_err(|e| {
                let _ = std::fs::remove_file(&part);
                DataError::write(target, e)
            })?;
            tracing::info!(url, path = %target.display(), bytes, "downloaded and verified");
            Ok(bytes)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn download_to(url: &str, part: &Path, sha256: &str) -> Result<u64> {
    let fail = |message: String| DataError::Download {
        url: url.to_string(),
        message,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    let announced: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let mut reader = response.into_body().into_reader();
    let mut file = std::fs::File::create(part).map_err(|e| DataError::write(part, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| fail(format!("connection lost after {total} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| DataError::write(part, e))?;
        total += n as u64;
    }
    file.sync_all().map_err(|e| DataError::write(part, e))?;
    if let Some(expected) = announced
        && expected != total
    {
        return Err(fail(format!(
            "connection closed after {total} of {expected} bytes"
        )));
    }
    let actual = hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(DataError::ChecksumMismatch {
            path: PathBuf::from(url),
            expected: sha256.to_lowercase(),
            actual,
            bytes: total,
        });
    }
    Ok(total)
}
