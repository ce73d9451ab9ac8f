//! strata-lab composes the algorithm crates into experiments.
//!
//! It holds the `strata` command ([`cli`]), the rendering of dataset
//! inspections ([`inspect`]), experiment manifests ([`manifest`]), the
//! algorithm registry ([`registry`]), the sweep that runs manifests
//! ([`sweep`]), the result store ([`store`]), `compare` ([`compare`]) and the
//! reports ([`report`]).

pub mod abtest;
pub mod claims;
pub mod classify;
pub mod cli;
pub mod cohorts;
pub mod compare;
pub mod features;
pub mod inspect;
pub mod manifest;
pub mod registry;
pub mod report;
pub mod results_md;
pub mod segments;
pub mod selection;
pub mod similar;
pub mod store;
pub mod sweep;
pub mod targeting;
pub mod verdict;

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
        Err(DataError::MissingFile {
            file,
            looked,
            sha256,
            how_to_get,
        }) if fetch_missing && descriptor.source.url.is_some() => {
            let cache = dirs.cache_dir(descriptor);
            tracing::info!(file = %descriptor.source.file, cache = %cache.display(), "data file missing: downloading it from its public URL");
            eprintln!(
                "{} is missing: downloading it from {} into {}",
                descriptor.source.file,
                descriptor.source.url.as_deref().unwrap_or_default(),
                cache.display()
            );
            // A failed download leaves the file missing: say so with every
            // place searched, not only the network error.
            if let Err(e) = strata_data::fetch(descriptor, &cache) {
                return Err(DataError::MissingFile {
                    file,
                    looked,
                    sha256,
                    how_to_get: format!(
                        "the download failed ({e}); {how_to_get}, or put the file in one of the folders above (or pass --data-dir)"
                    ),
                });
            }
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    strata_data::load(descriptor, dirs)
}

/// True when `e` says that a data file could not be found or fetched, as
/// opposed to an invalid manifest or a bad file.
pub fn is_missing_data(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<DataError>(),
            Some(DataError::MissingFile { .. })
        )
    })
}

/// Reads a descriptor, for callers that only have its path.
pub fn read_descriptor(path: &Path) -> Result<Descriptor, DataError> {
    Descriptor::from_path(path)
}

/// The catalogue `strata similar` searches: the experiment's data in the
/// representation of its chosen clustering (refitted with the same seed, so
/// the same as in the sweep), with that clustering's segments. Without results
/// it falls back to the prepared features and says so in the returned note.
pub fn similar_catalogue(
    manifest: &Path,
    out: &Path,
    dirs: &DataDirs,
    columns: &[String; 4],
) -> anyhow::Result<(similar::Catalogue, Option<String>)> {
    let m = manifest::Manifest::from_path(manifest)?;
    let descriptor = Descriptor::from_path(m.descriptor_path())?;
    let loaded = obtain(&descriptor, dirs, true)?;
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        sweep::metadata_text(&loaded, name).map_err(|e| anyhow::anyhow!("{}: {e}", descriptor.name))
    };
    let popularity: Vec<f64> = text(&columns[3])?
        .iter()
        .map(|v| v.parse().unwrap_or(f64::NAN))
        .collect();
    let registry = registry::Registry::standard();
    let chosen = store::read_json::<segments::Segments>(&out.join(&m.name).join("segments.json"))
        .ok()
        .and_then(|s| store::read_run(&out.join(&m.name), &s.run).and_then(Result::ok));
    let x = loaded.dataset.features().view();
    let (points, segments, note) = match chosen {
        Some(run) => {
            // The run's own space: its `[features]` columns, its representation.
            let (xs, _) = sweep::segmenting_matrix(&loaded, &run.config.columns)
                .map_err(|e| anyhow::anyhow!("{}: {e}", m.path.display()))?;
            let reducer = sweep::segment_reducer(&registry, &run.config)?;
            let (_, y) = reducer.fit_transform(xs.view(), run.config.seed.named("representation"))?;
            let labels = run
                .clustering
                .map(|c| c.labels)
                .filter(|l| l.len() == y.nrows());
            (y, labels, None)
        }
        None => (
            x.to_owned(),
            None,
            Some(format!(
                "no results for `{}` in {}: searching the prepared features, without segments",
                m.name,
                out.display()
            )),
        ),
    };
    Ok((
        similar::Catalogue {
            ids: loaded.dataset.ids().to_vec(),
            names: text(&columns[0])?,
            artists: text(&columns[1])?,
            genres: text(&columns[2])?,
            popularity,
            points,
            segments,
        },
        note,
    ))
}
