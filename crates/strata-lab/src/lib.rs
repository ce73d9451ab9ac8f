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
pub mod contact;
pub mod features;
pub mod inspect;
pub mod manifest;
pub mod neighbours;
pub mod registry;
pub mod report;
pub mod results_md;
pub mod segments;
pub mod selection;
pub mod similar;
pub mod store;
pub mod streamfit;
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

/// The catalogue `strata similar` searches: the experiment's data in one
/// representation (refitted with the sweep's seed, so the same as in the
/// sweep), with the chosen clustering's segments when there are results.
///
/// The representation is `representation` when given (a label or algorithm
/// name of one of the manifest's representations, or `chosen` for the
/// chosen clustering's), else the one `[similarity]` measured best, else the
/// chosen clustering's, else the prepared features; the returned note says
/// which and why.
pub fn similar_catalogue(
    manifest: &Path,
    out: &Path,
    dirs: &DataDirs,
    flags: &strata_data::descriptor::DisplayColumns,
    representation: Option<&str>,
) -> anyhow::Result<(similar::Catalogue, Option<String>)> {
    let m = manifest::Manifest::from_path(manifest)?;
    let descriptor = Descriptor::from_path(m.descriptor_path())?;
    let loaded = obtain(&descriptor, dirs, true)?;
    let shown = similar::shown(
        flags,
        &descriptor.display,
        m.similarity.as_ref().map(|s| s.popularity.as_str()),
    );
    // Each column named with where it can be set, as a bad one is reported.
    let text = |name: &Option<String>, from: &str| -> anyhow::Result<Option<Vec<String>>> {
        name.as_deref()
            .map(|n| sweep::metadata_text(&loaded, n).map_err(|e| anyhow::anyhow!("{} ({from}): {e}", descriptor.name)))
            .transpose()
    };
    let popularity: Option<Vec<f64>> = text(
        &shown.popularity,
        "--popularity-column, the descriptor's [display] or the manifest's [similarity]",
    )?
        .map(|v| v.iter().map(|v| v.parse().unwrap_or(f64::NAN)).collect());
    let registry = registry::Registry::standard();
    let dir = out.join(&m.name);
    let results = dir
        .join("plan.json")
        .is_file()
        .then(|| store::ExperimentResults::read(&dir).ok())
        .flatten();
    let chosen = results.as_ref().and_then(|r| {
        let seg = r.segments.as_ref()?;
        r.runs.iter().find(|x| x.hash == seg.run).cloned()
    });
    let reps: Vec<manifest::AlgoConfig> = m
        .representations
        .iter()
        .flat_map(manifest::Block::expand)
        .collect();
    let (config, why): (Option<manifest::AlgoConfig>, String) = match representation {
        Some("chosen") => match &chosen {
            Some(run) => (
                Some(run.config.representation.clone()),
                "the chosen clustering's representation, as asked".into(),
            ),
            None => anyhow::bail!(
                "--representation chosen: no chosen clustering for `{}` in {}; run the sweep first",
                m.name,
                out.display()
            ),
        },
        Some(want) => {
            let hits: Vec<&manifest::AlgoConfig> = reps
                .iter()
                .filter(|r| r.label() == want || r.algorithm == want)
                .collect();
            let labels = |rs: &mut dyn Iterator<Item = &manifest::AlgoConfig>| rs.map(|r| r.label()).collect::<Vec<_>>().join(", ");
            match hits.as_slice() {
                [one] => (Some((*one).clone()), "as asked".into()),
                [] => anyhow::bail!(
                    "--representation {want}: expected `chosen` or one of the manifest's representations{}: {}",
                    strata_core::text::did_you_mean(want, reps.iter().map(|r| r.algorithm.as_str()).chain(["chosen"])),
                    labels(&mut reps.iter())
                ),
                _ => anyhow::bail!(
                    "--representation {want}: names {} of the manifest's representations; pass one's full label: {}",
                    hits.len(),
                    labels(&mut hits.iter().copied())
                ),
            }
        }
        None => match results
            .as_ref()
            .and_then(|r| r.similarity.as_ref())
            .and_then(|s| reps.iter().find(|r| r.label() == s.best).map(|r| (r, s)))
        {
            Some((r, s)) => (Some(r.clone()), format!("measured best: {}", s.reason)),
            None => match &chosen {
                Some(run) => (
                    Some(run.config.representation.clone()),
                    "the chosen clustering's representation (no [similarity] measurement in the results)".into(),
                ),
                None => (
                    None,
                    format!(
                        "no results for `{}` in {}: searching the prepared features, without segments",
                        m.name,
                        out.display()
                    ),
                ),
            },
        },
    };
    // The manifest's `[features]` columns, as the sweep used them.
    let (xs, _) = sweep::segmenting_matrix(&loaded, &m.features.columns())
        .map_err(|e| anyhow::anyhow!("{}: {e}", m.path.display()))?;
    let points = match &config {
        Some(c) => {
            let (_, y) = registry
                .build_reducer(c)?
                .fit_transform(xs.view(), m.seed.named("representation"))?;
            y
        }
        None => xs,
    };
    let segments = chosen
        .and_then(|run| run.clustering.map(|c| c.labels))
        .filter(|l| l.len() == points.nrows());
    let note = Some(format!(
        "searching {}: {why}",
        config.as_ref().map_or("the prepared features".into(), |c| c.label())
    ));
    Ok((
        similar::Catalogue {
            ids: loaded.dataset.ids().to_vec(),
            names: text(&shown.name, "--name-column, or the descriptor's [display]")?,
            by: text(&shown.by, "--artist-column, or the descriptor's [display]")?,
            group: text(&shown.group, "--genre-column, or the descriptor's [display]")?.zip(shown.group.clone()).map(|(v, name)| (name, v)),
            popularity,
            points,
            segments,
            noun: descriptor.noun.clone(),
        },
        note,
    ))
}
