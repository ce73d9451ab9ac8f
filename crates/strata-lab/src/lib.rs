//! strata-lab composes the algorithm crates into experiments.
//!
//! It holds the `strata` command ([`cli`]), the rendering of dataset
//! inspections ([`inspect`]), experiment manifests ([`manifest`]), the
//! algorithm registry ([`registry`]), the sweep that runs manifests
//! ([`sweep`]), the result store ([`store`]), `compare` ([`compare`]) and the
//! reports ([`report`]).

pub mod classify;
pub mod cli;
pub mod compare;
pub mod inspect;
pub mod manifest;
pub mod registry;
pub mod report;
pub mod segments;
pub mod store;
pub mod sweep;

use std::path::Path;
use strata_data::{DataDirs, DataError, Descriptor, LoadedDataset};

/// Loads a descriptor's dataset; when the file is missing and the descriptor
/// has a public URL and `fetch_missing` is set, downloads it into the cache
/// first and says so.
pub fn obtain(
    descriptor: &Descriptor,
    dirs: &DataDirs,
    fetch_missing: bool,
) -> Result<LoadedDataset, DataError> {
    match dirs.locate(descriptor) {
        Err(DataError::MissingFile { .. }) if fetch_missing && descriptor.source.url.is_some() => {
            let cache = dirs.cache_dir(descriptor);
            tracing::info!(file = %descriptor.source.file, cache = %cache.display(), "data file missing: downloading it from its public URL");
            eprintln!(
                "{} is missing: downloading it from {} into {}",
                descriptor.source.file,
                descriptor.source.url.as_deref().unwrap_or_default(),
                cache.display()
            );
            strata_data::fetch(descriptor, &cache)?;
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    strata_data::load(descriptor, dirs)
}

/// Reads a descriptor, for callers that only have its path.
pub fn read_descriptor(path: &Path) -> Result<Descriptor, DataError> {
    Descriptor::from_path(path)
}
