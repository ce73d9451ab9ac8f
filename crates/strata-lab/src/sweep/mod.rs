//! Running manifests: plan every run, skip the stored ones, run the rest in
//! parallel, store each as soon as it finishes, then write the summaries and
//! the report.
//!
//! A run's hash covers its resolved configuration, the dataset's SHA-256 and
//! the strata version, so re-running a sweep recomputes exactly the runs whose
//! inputs changed. Representations shared by several runs are fitted once.

mod decisions;
mod phases;
mod run;
mod shard;
mod silhouettes;

pub use phases::{Phase, Phases, TIMINGS_FILE};

pub use run::{RESPONSE_SPREAD, response_spread};
use run::run_one;
pub use shard::{in_shard, parse_shard, shard_from_env};
pub use silhouettes::{COMMON_SILHOUETTE, MIXED_SILHOUETTE, SILHOUETTE_GROUPS, silhouette_groups};
use silhouettes::{
    common_silhouettes, exact_silhouettes, in_common_space, mixed_silhouettes, needs_common, needs_pass,
};

use crate::manifest::{AlgoConfig, Manifest, RunConfig, SilhouetteMode};
use crate::registry::Registry;
use crate::store::{
    self, ClusteringInfo, DatasetRef, Plan, PlannedRun, RepresentationInfo, RunRecord, RunStatus,
    Scatter,
};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use strata_core::{FittedReducer, Seed};
use strata_data::{DataDirs, LoadedDataset};

pub use store::write_atomic;

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub out: PathBuf,
    pub dirs: DataDirs,
    /// Recompute runs that are already stored.
    pub force: bool,
    /// Run only shard `I` of `N` (0-based `I`), chosen by run hash.
    pub shard: Option<(u64, u64)>,
    /// Draw a progress bar on a terminal.
    pub progress: bool,
    /// Write the reports after the runs.
    pub report: bool,
}

impl SweepOptions {
    pub fn new(out: impl Into<PathBuf>, dirs: DataDirs) -> SweepOptions {
        SweepOptions {
            out: out.into(),
            dirs,
            force: false,
            shard: None,
            progress: true,
            report: true,
        }
    }
}


/// One experiment ready to run: validated manifest, loaded data, hashed runs.
pub struct Planned {
    pub manifest: Manifest,
    pub loaded: Arc<LoadedDataset>,
    /// The prepared features that segment (`[features]`, all by default):
    /// what every run's representation is fitted on, and the common space
    /// in which runs are compared across representations.
    pub segmenting: Arc<Array2<f64>>,
    /// Names of the columns of `segmenting`.
    pub segment_names: Vec<String>,
    /// What each column of `segmenting` holds (one-hot groups, codes, numbers).
    pub segment_kinds: crate::features::Typed,
    /// With a target: the rows held-out targeting trains on (never its
    /// held-out customers), where each run's segment response rates are read.
    pub train_rows: Option<Vec<usize>>,
    pub runs: Vec<(String, RunConfig)>,
    pub dir: PathBuf,
    pub dataset: DatasetRef,
}

/// The content hash of a run: configuration, dataset identity
/// ([`DatasetRef::identity`]), strata version.
pub fn run_hash(cfg: &RunConfig, dataset: &str) -> String {
    content_hash(&serde_json::json!({
        "run": cfg,
        "dataset_sha256": dataset,
        "strata_version": strata_core::VERSION,
    }))
}

/// The first 10 bytes of the SHA-256 of a JSON value's text, as hex: the
/// identity of a stored result.
pub fn content_hash(canonical: &serde_json::Value) -> String {
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

/// Parses, loads and validates one manifest; nothing runs yet.
pub fn plan(path: &Path, registry: &Registry, opts: &SweepOptions) -> anyhow::Result<Planned> {
    let manifest = Manifest::from_path_with(path, registry)?;
    let descriptor = strata_data::Descriptor::from_path(manifest.descriptor_path())?;
    let loaded = crate::obtain(&descriptor, &opts.dirs, true)?;
    let metadata: Vec<String> = loaded
        .metadata
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (segmenting, segment_names) = segmenting_matrix(&loaded, &manifest.features.columns())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    manifest.check_against(
        registry,
        loaded.dataset.n_samples(),
        segmenting.ncols(),
        &metadata,
    )?;
    let dataset = DatasetRef {
        descriptor: descriptor.name.clone(),
        sha256: loaded.report.sha256.clone(),
        rows: loaded.dataset.n_samples(),
        features: loaded.dataset.n_features(),
        recipe: crate::store::recipe_hash(&descriptor),
    };
    if let Some(c) = &manifest.classification {
        let Some(target) = loaded.dataset.target() else {
            anyhow::bail!(
                "{}: [classification] needs a target, and descriptor `{}` declares none (set columns.target)",
                path.display(),
                descriptor.name
            );
        };
        // Stratified folds put rows of both classes in every fold: checked
        // here, before any run, rather than when classification starts.
        let positives = target.positives();
        let negatives = target.values.len() - positives;
        if c.folds > positives.min(negatives) {
            anyhow::bail!(
                "{}: classification.folds = {}: `{}` has only {positives} positive and {negatives} negative rows, and every fold needs both classes; use at most {} folds",
                path.display(),
                c.folds,
                target.name,
                positives.min(negatives)
            );
        }
        let (rows, cols) = (loaded.dataset.n_samples(), loaded.dataset.n_features());
        // Feature builders are fitted on the fit part of a training fold.
        let fit_rows = rows * (c.folds - 1) / c.folds * 4 / 5;
        for f in &c.features {
            let Some(a) = &f.algorithm else { continue };
            let specs = registry
                .find_reducer(&a.algorithm)
                .map(|e| (e.params.clone(), e.check_shape))
                .or_else(|| {
                    registry
                        .find_clusterer(&a.algorithm)
                        .map(|e| (e.params.clone(), e.check_shape))
                });
            if let Some((specs, shape)) = specs {
                for s in &specs {
                    if let Ok(v) = a.params.value(s.name) {
                        s.check(v, Some((fit_rows, cols))).map_err(|m| {
                            anyhow::anyhow!(
                                "{}: classification feature set {}: {m} (rows of a training fold)",
                                path.display(),
                                f.label()
                            )
                        })?;
                    }
                }
                shape(&a.params, fit_rows, cols).map_err(|m| {
                    anyhow::anyhow!(
                        "{}: classification feature set {}: {m}",
                        path.display(),
                        f.label()
                    )
                })?;
            }
        }
    }
    if let Some(spec) = &manifest.cohorts {
        let values = metadata_text(&loaded, &spec.column)
            .map_err(|e| anyhow::anyhow!("{}: cohorts.column: {e}", path.display()))?;
        crate::cohorts::parse_dates(&values, spec, |i| crate::cohorts::row_in_file(&loaded, i))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(spec) = &manifest.similarity {
        spec.check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        // The queries are distinct rows: more than the file holds cannot be
        // drawn.
        let rows = loaded.dataset.n_samples();
        if spec.queries > rows {
            anyhow::bail!(
                "{}: similarity.queries = {}: expected at most {rows}, the rows of {} after de-duplication (with {rows}, every row is a query)",
                path.display(),
                spec.queries,
                loaded.descriptor.source.file
            );
        }
        metadata_text(&loaded, &spec.popularity)
            .map_err(|e| anyhow::anyhow!("{}: similarity.popularity: {e}", path.display()))?;
        let columns = loaded.table.column_names();
        // The search reads the features `[features]` selects, each made
        // from one or more raw columns: those that read `col`.
        let readers_of = |col: &str| -> Vec<&str> {
            segment_names
                .iter()
                .filter(|f| loaded.recipe.sources_of(f).iter().any(|c| *c == col))
                .map(String::as_str)
                .collect()
        };
        for j in &spec.judgements {
            // Neighbours found by a column share its values more often
            // whatever their worth: such a judgement would measure the
            // search by itself.
            let readers = readers_of(j);
            if !readers.is_empty() {
                // Metadata can feed a derived feature (a birth year, an
                // enrolment date): only the rest can judge.
                let judges: Vec<&str> = metadata
                    .iter()
                    .map(String::as_str)
                    .filter(|c| readers_of(c).is_empty())
                    .collect();
                let via = if readers == [j.as_str()] {
                    String::new()
                } else {
                    format!(" through {}", readers.join(", "))
                };
                let instead = if judges.is_empty() {
                    format!("judge by a column the search does not read; descriptor `{}` has no such metadata column", descriptor.name)
                } else {
                    format!("judge by a column the search does not read, such as a metadata column: {}", judges.join(", "))
                };
                anyhow::bail!(
                    "{}: similarity.judgements: `{j}` is an input of the search{via} (the neighbours are found by it), so it cannot judge them; {instead}",
                    path.display()
                );
            }
            if !columns.contains(j) {
                anyhow::bail!(
                    "{}: similarity.judgements: no column `{j}` in {}{}",
                    path.display(),
                    loaded.descriptor.source.file,
                    strata_core::text::did_you_mean(j, columns.iter().map(String::as_str))
                );
            }
        }
        if loaded.descriptor.columns.id.is_none() {
            anyhow::bail!(
                "{}: [similarity] groups the file's rows by their id (one {} may sit on several rows): descriptor `{}` needs columns.id",
                path.display(),
                loaded.descriptor.noun[0],
                loaded.descriptor.name
            );
        }
    }
    // Two identical blocks give the same run twice: keep it once.
    let mut seen = std::collections::HashSet::new();
    let runs = manifest
        .runs()
        .into_iter()
        .map(|c| (run_hash(&c, &dataset.identity()), c))
        .filter(|(h, _)| seen.insert(h.clone()))
        .collect();
    let train_rows = loaded.dataset.target().map(|t| {
        crate::targeting::holdout(
            &t.values.to_vec(),
            crate::targeting::TEST_FRACTION,
            manifest.seed.named("targeting"),
        )
        .0
    });
    let segment_kinds = crate::features::Typed {
        kinds: loaded.recipe.column_kinds(&segment_names),
        names: segment_names.clone(),
    };
    Ok(Planned {
        dir: opts.out.join(&manifest.name),
        manifest,
        loaded: Arc::new(loaded),
        segment_kinds,
        segmenting: Arc::new(segmenting),
        segment_names,
        train_rows,
        runs,
        dataset,
    })
}

/// The prepared features `columns` selects, with their names; a pattern that
/// matches no feature is an error.
pub fn segmenting_matrix(
    loaded: &LoadedDataset,
    columns: &crate::features::Columns,
) -> Result<(Array2<f64>, Vec<String>), String> {
    let names = loaded.dataset.feature_names();
    let kept = columns.resolve(names, true)?;
    Ok((
        loaded.dataset.features().select(ndarray::Axis(1), &kept),
        kept.iter().map(|&j| names[j].clone()).collect(),
    ))
}

/// The representation of a run, as the run fits it: behind
/// [`crate::features::ContinuousOnly`] when the run leaves discrete columns out.
pub fn segment_reducer(
    registry: &Registry,
    cfg: &RunConfig,
) -> anyhow::Result<Box<dyn strata_core::Reducer>> {
    let r = registry.build_reducer(&cfg.representation)?;
    Ok(if cfg.drop_discrete {
        Box::new(crate::features::ContinuousOnly(r))
    } else {
        r
    })
}

/// Runs with equal keys share one fitted representation.
fn rep_key(c: &RunConfig) -> String {
    format!(
        "{}{}",
        serde_json::to_string(&c.representation).unwrap_or_default(),
        if c.drop_discrete { " continuous" } else { "" }
    )
}

/// The reducer and clusterer of a run, built from the registry.
pub fn build_pair(
    registry: &Registry,
    cfg: &RunConfig,
) -> anyhow::Result<(
    Box<dyn strata_core::Reducer>,
    Box<dyn strata_core::Clusterer>,
)> {
    Ok((
        segment_reducer(registry, cfg)?,
        registry.build_clusterer(&cfg.clusterer)?,
    ))
}

/// What a sweep did for one experiment.
#[derive(Debug, Clone, Default)]
pub struct ExperimentOutcome {
    pub name: String,
    pub dir: PathBuf,
    pub total: usize,
    pub computed: usize,
    pub reused: usize,
    pub failed: usize,
    pub other_shards: usize,
    pub damaged_replaced: usize,
    /// "computed", "stored" or "this shard's units computed", when the manifest has a classification stage.
    pub classification: Option<&'static str>,
    /// A sharded sweep left the decision stages (segments, targeting,
    /// cohorts, similar tracks) to the unsharded sweep after the merge.
    pub decisions_left: bool,
    pub written: Vec<PathBuf>,
}

/// A fitted representation shared by the runs that use it.
struct Rep {
    y: Array2<f64>,
    info: RepresentationInfo,
    seconds: f64,
}

/// The representation of `cfg` fitted on the experiment's segmenting
/// matrix, once for every run that shares it.
fn fit_representation(cfg: &RunConfig, p: &Planned, registry: &Registry) -> Result<Rep, String> {
    let (x, seed) = (p.segmenting.view(), p.manifest.seed);
    let t = Instant::now();
    let reducer = segment_reducer(registry, cfg).map_err(|e| format!("{e:#}"))?;
    let (fitted, y) = reducer
        .fit_transform(x, seed.named("representation"))
        .map_err(|e| format!("{}: {e}", cfg.representation.label()))?;
    let reconstruction_error = fitted.inverse_transform(y.view()).ok().map(|back| {
        let n = back.len().max(1) as f64;
        (&back - &x).iter().map(|e| e * e).sum::<f64>() / n
    });
    let info = RepresentationInfo {
        n_components: fitted.n_components(),
        component_names: fitted.component_names(),
        reconstruction_error,
        kurtosis: strata_decompose::metrics::kurtosis(y.view()).to_vec(),
        diagnostics: FittedReducer::diagnostics(fitted.as_ref()),
        // A fit on continuous columns only left out the others (the same
        // rule on the same rows as its reducer), named.
        left_out: if cfg.drop_discrete {
            let kept = crate::features::continuous_columns(x);
            (0..p.segment_names.len())
                .filter(|j| !kept.contains(j))
                .map(|j| p.segment_names[j].clone())
                .collect()
        } else {
            Vec::new()
        },
    };
    Ok(Rep {
        y,
        info,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// A metadata column as text; an unknown column names the ones there are.
pub fn metadata_text(loaded: &LoadedDataset, column: &str) -> anyhow::Result<Vec<String>> {
    use polars::prelude::DataType;
    let names: Vec<String> = loaded
        .metadata
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let col = loaded.metadata.column(column).map_err(|_| {
        anyhow::anyhow!(
            "no metadata column `{column}`{}; metadata columns: {}",
            strata_core::text::did_you_mean(column, names.iter()),
            names.join(", ")
        )
    })?;
    let s = col
        .cast(&DataType::String)
        .map_err(|e| anyhow::anyhow!("`{column}`: {e}"))?;
    Ok(s.str()
        .map_err(|e| anyhow::anyhow!("`{column}`: {e}"))?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

/// Category codes of a metadata column (missing values, read as empty text,
/// form their own category).
fn category_codes(loaded: &LoadedDataset, column: &str) -> anyhow::Result<Vec<usize>> {
    let mut codes = HashMap::new();
    Ok(metadata_text(loaded, column)?
        .into_iter()
        .map(|v| {
            let next = codes.len();
            *codes.entry(v).or_insert(next)
        })
        .collect())
}

pub use crate::features::{DISCRETE_MAX_VALUES, discrete_columns};

/// The ends of the 95 % interval of a run's pipeline stability (mean ARI),
/// a jackknife over the resamples (`strata_cluster::stability::jackknife_interval`).
pub const STABILITY_LOW: &str = "stability_ari_low";
pub const STABILITY_HIGH: &str = "stability_ari_high";

/// Runs whose exact silhouettes share one distance pass.
const SILHOUETTE_CHUNK: usize = 24;

/// First two principal components of up to 3,000 rows, for the scatter plot.
fn scatter(x: ArrayView2<'_, f64>, seed: Seed) -> Option<Scatter> {
    let n = x.nrows();
    if x.ncols() < 2 || n < 3 {
        return None;
    }
    let mut rows: Vec<usize> = (0..n).collect();
    strata_core::Rng::new(seed.named("scatter")).shuffle(&mut rows);
    rows.truncate(3000);
    rows.sort_unstable();
    let pca = strata_decompose::Pca::new(strata_decompose::Components::Count(2))
        .fit(x)
        .ok()?;
    let y = pca.transform(x.select(Axis(0), &rows).view()).ok()?;
    Some(Scatter {
        pc1: y.column(0).to_vec(),
        pc2: y.column(1).to_vec(),
        explained: pca.explained_variance_ratio.to_vec(),
        rows,
    })
}

/// Runs the planned experiments: stored runs are skipped (unless `force`),
/// the rest run in parallel and are stored one by one. Each phase's time
/// goes to `phases`, which are written, with any recorded before (the
/// planning's), to `timings.json` in the results folder at the end: the
/// timings of the last sweep into it.
pub fn execute(
    plans: &[Planned],
    registry: &Registry,
    opts: &SweepOptions,
    phases: &Phases,
) -> anyhow::Result<Vec<ExperimentOutcome>> {
    let mut outcomes = Vec::new();
    // (experiment index, hash, config) of every run to compute.
    let mut pending: Vec<(usize, String, RunConfig)> = Vec::new();
    // (experiment index, record) of stored runs still missing their
    // common-space silhouette (a sweep killed before that pass).
    let mut unfinished: Vec<(usize, RunRecord)> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        std::fs::create_dir_all(p.dir.join("runs"))
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.dir.display()))?;
        let plan = Plan {
            experiment: p.manifest.name.clone(),
            description: p.manifest.description.clone(),
            manifest_path: store::recorded_manifest_path(&p.manifest.path, &opts.out),
            manifest_text: p.manifest.text.clone(),
            dataset: p.dataset.clone(),
            strata_version: strata_core::VERSION.to_string(),
            margins: p.manifest.margins.clone(),
            pin: p.manifest.pin.clone(),
            runs: p
                .runs
                .iter()
                .map(|(h, c)| PlannedRun {
                    hash: h.clone(),
                    representation: c.representation.label(),
                    clusterer: c.clusterer.label(),
                })
                .collect(),
        };
        store::write_json(&p.dir.join("plan.json"), &plan)?;
        store::write_json(&p.dir.join("inspect.json"), &p.loaded.report)?;
        store::write_atomic(
            &p.dir.join("inspect.txt"),
            crate::inspect::render(&p.loaded).as_bytes(),
        )?;
        if let Some(s) = scatter(p.segmenting.view(), p.manifest.seed) {
            store::write_json(&p.dir.join("scatter.json"), &s)?;
        }
        let mut o = ExperimentOutcome {
            name: p.manifest.name.clone(),
            dir: p.dir.clone(),
            total: p.runs.len(),
            ..Default::default()
        };
        for (h, c) in &p.runs {
            if let Some(shard) = opts.shard
                && !in_shard(h, shard)
            {
                o.other_shards += 1;
                continue;
            }
            match store::read_run(&p.dir, h) {
                Some(Ok(r)) if !opts.force => {
                    o.reused += 1;
                    if needs_pass(&r, p) {
                        unfinished.push((i, r));
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!("{e:#}; computing the run again");
                    o.damaged_replaced += 1;
                    pending.push((i, h.clone(), c.clone()));
                }
                _ => pending.push((i, h.clone(), c.clone())),
            }
        }
        outcomes.push(o);
    }

    let bar = if opts.progress {
        ProgressBar::new(pending.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{pos}/{len} runs {bar:20} ETA {eta} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    // Fit each needed representation once per experiment.
    bar.set_message("fitting representations");
    let mut rep_keys: Vec<(usize, String, RunConfig)> = Vec::new();
    for (i, _, c) in &pending {
        let key = rep_key(c);
        if !rep_keys.iter().any(|(j, k, _)| j == i && *k == key) {
            rep_keys.push((*i, key, c.clone()));
        }
    }
    let reps: Vec<Result<Arc<Rep>, String>> = phases.time("representations", None, || {
        rep_keys
            .par_iter()
            .map(|(i, _, cfg)| {
                let p = &plans[*i];
                let _span = tracing::info_span!("representation", experiment = %p.manifest.name, algorithm = %cfg.representation.label()).entered();
                fit_representation(cfg, p, registry).map(Arc::new)
            })
            .collect()
    });
    let rep_of = |i: usize, c: &RunConfig| -> &Result<Arc<Rep>, String> {
        let key = rep_key(c);
        let pos = rep_keys
            .iter()
            .position(|(j, k, _)| *j == i && *k == key)
            .unwrap_or(0);
        &reps[pos]
    };
    let mut agreements: Vec<Vec<(String, Vec<usize>)>> = Vec::new();
    for p in plans {
        let mut v = Vec::new();
        for col in &p.manifest.evaluation.agreement {
            v.push((col.clone(), category_codes(&p.loaded, col)?));
        }
        agreements.push(v);
    }

    // Runs that share a representation go in chunks of up to 24, so that the
    // exact silhouettes of a chunk share one distance pass. Each run is still
    // stored as soon as its chunk is done: a kill loses at most the chunks in flight.
    let mut order: Vec<usize> = (0..pending.len()).collect();
    let chunk_key = |k: usize| {
        let (i, _, c) = &pending[k];
        (*i, rep_key(c))
    };
    order.sort_by_key(|&k| chunk_key(k));
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    for k in order {
        match chunks.last_mut() {
            Some(last) if last.len() < SILHOUETTE_CHUNK && chunk_key(last[0]) == chunk_key(k) => {
                last.push(k)
            }
            _ => chunks.push(vec![k]),
        }
    }
    type Done = (usize, RunStatus, Option<RunRecord>);
    let results: Vec<anyhow::Result<Vec<Done>>> = phases.time("runs", None, || chunks
        .par_iter()
        .map(|chunk| {
            let (i, _, c) = &pending[chunk[0]];
            // Nothing to share when the chunk's representation failed: its
            // runs stop before stability.
            let resampled = match rep_of(*i, c) {
                Ok(_) => run::Resampled::of(c, &plans[*i], registry),
                Err(_) => run::Resampled::default(),
            };
            let mut recs: Vec<RunRecord> = chunk
                .par_iter()
                .map(|&k| {
                    let (i, h, c) = &pending[k];
                    let p = &plans[*i];
                    let _span =
                        tracing::info_span!("run", experiment = %p.manifest.name, hash = %h)
                            .entered();
                    // Short enough for an 80-column terminal: the clusterer, its k, the representation.
                    let kk = c
                        .clusterer
                        .params
                        .0
                        .get("k")
                        .map_or(String::new(), |k| format!(" k={k}"));
                    let what = format!(
                        "{}: {}{kk} on {}",
                        p.manifest.name, c.clusterer.algorithm, c.representation.algorithm
                    );
                    let stage = |s: &str| bar.set_message(format!("{what} · {s}"));
                    run_one(h, c, p, rep_of(*i, c), &resampled, &agreements[*i], registry, &stage)
                })
                .collect();
            let (i, _, c) = &pending[chunk[0]];
            if let Ok(rep) = rep_of(*i, c) {
                bar.set_message(format!(
                    "{}: silhouettes on {}",
                    plans[*i].manifest.name, c.representation.algorithm
                ));
                // The own-space silhouettes now; those in the space common
                // to every representation (the prepared features, the score
                // that compares runs across representations) once every
                // chunk of the experiment is done, in one pass.
                if !in_common_space(c) {
                    exact_silhouettes(rep.y.view(), &mut recs, "silhouette");
                }
            }
            let mut out = Vec::new();
            for rec in recs {
                if let Some(e) = &rec.error {
                    tracing::warn!(run = %rec.hash, "run failed: {e}");
                }
                store::write_json(&store::run_path(&plans[*i].dir, &rec.hash), &rec)?;
                bar.inc(1);
                out.push((*i, rec.status, needs_pass(&rec, &plans[*i]).then_some(rec)));
            }
            Ok(out)
        })
        .collect());
    for r in results {
        for (i, status, rec) in r? {
            outcomes[i].computed += 1;
            if status == RunStatus::Failed {
                outcomes[i].failed += 1;
            }
            unfinished.extend(rec.map(|rec| (i, rec)));
        }
    }
    let mut by_experiment: Vec<Vec<RunRecord>> = plans.iter().map(|_| Vec::new()).collect();
    for (i, r) in unfinished {
        by_experiment[i].push(r);
    }
    for (p, mut recs) in plans.iter().zip(by_experiment) {
        if recs.is_empty() {
            continue;
        }
        // In plan order (neighbouring k of one clusterer and representation
        // side by side), whichever runs were stored before.
        let position = |h: &str| p.runs.iter().position(|(ph, _)| ph == h);
        recs.sort_by_key(|r| position(&r.hash));
        bar.set_message(format!("{}: silhouettes in the common space", p.manifest.name));
        // Only the runs that lack them: a run here for its mixed silhouette
        // alone keeps its common ones.
        let n = p.segmenting.nrows();
        let (mut common, rest): (Vec<RunRecord>, Vec<RunRecord>) = recs.into_iter().partition(|r| needs_common(r, n));
        phases.time("common-space silhouettes", Some(&p.manifest.name), || {
            common_silhouettes(p.segmenting.view(), &mut common, p.manifest.seed)
        });
        let mut recs: Vec<RunRecord> = common.into_iter().chain(rest).collect();
        recs.sort_by_key(|r| position(&r.hash));
        phases.time("mixed silhouettes", Some(&p.manifest.name), || mixed_silhouettes(p, &mut recs));
        for rec in &recs {
            store::write_json(&store::run_path(&p.dir, &rec.hash), rec)?;
        }
    }
    bar.finish_and_clear();
    for (o, p) in outcomes.iter_mut().zip(plans) {
        let Some(c) = &p.manifest.classification else {
            continue;
        };
        let hash = crate::classify::classification_hash(c, p.manifest.seed, &p.dataset.identity());
        let path = p.dir.join("classification.json");
        let stored = store::read_json::<crate::classify::ClassificationRecord>(&path)
            .ok()
            .is_some_and(|r| r.hash == hash);
        if stored && !opts.force {
            o.classification = Some("stored");
            continue;
        }
        if opts.force {
            // Units of an earlier computation are not reused either.
            let units = p.dir.join(crate::classify::UNITS);
            if units.is_dir() {
                std::fs::remove_dir_all(&units)
                    .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", units.display()))?;
            }
        }
        if opts.progress {
            eprintln!(
                "{}: cross-validating the classifiers ({} feature sets, {} folds x {} repeats)",
                p.manifest.name,
                c.features.len(),
                c.folds,
                c.repeats
            );
        }
        let rec = phases.time("classification", Some(&p.manifest.name), || {
            let _span = tracing::info_span!("classification", experiment = %p.manifest.name).entered();
            crate::classify::run(
                &p.manifest.name,
                &p.loaded,
                &p.dataset,
                c,
                p.manifest.seed,
                registry,
                opts.progress,
                &p.dir,
                opts.shard,
            )
        })?;
        match rec {
            Some(rec) => {
                store::write_json(&path, &rec)?;
                o.classification = Some("computed");
            }
            None => o.classification = Some("this shard's units computed"),
        }
    }
    decisions::draw(&mut outcomes, plans, registry, opts, phases)?;
    decisions::similar_tracks(&mut outcomes, plans, registry, opts, phases)?;
    for o in &mut outcomes {
        phases.time("summaries and reports", Some(&o.name), || -> anyhow::Result<()> {
            let res = store::ExperimentResults::read(&o.dir)?;
            if let Some(c) = &res.classification {
                o.written
                    .push(store::write_classification_summary(&o.dir, c)?);
            }
            o.written.extend(store::write_summary(&o.dir, &res.runs)?);
            if opts.report {
                o.written.extend(crate::report::write(&res)?);
            }
            Ok(())
        })?;
    }
    if !plans.is_empty() {
        phases.write(&opts.out)?;
    }
    Ok(outcomes)
}

/// Plans every manifest (all must be valid before anything runs), then runs
/// them; an error if any manifest's data file is missing.
pub fn sweep(
    manifests: &[PathBuf],
    registry: &Registry,
    opts: &SweepOptions,
) -> anyhow::Result<Vec<ExperimentOutcome>> {
    let swept = sweep_available(manifests, registry, opts)?;
    if let Some(e) = swept.missing_data_error() {
        return Err(e);
    }
    Ok(swept.outcomes)
}

/// What [`sweep_available`] ran, and the manifests it could not run for want
/// of their data file.
#[derive(Debug)]
pub struct Swept {
    pub outcomes: Vec<ExperimentOutcome>,
    /// One message per manifest whose data file is missing (the file, every
    /// folder searched, what to do).
    pub missing_data: Vec<String>,
}

impl Swept {
    /// The error to end with when some data were missing.
    pub fn missing_data_error(&self) -> Option<anyhow::Error> {
        (!self.missing_data.is_empty()).then(|| {
            anyhow::anyhow!(
                "{} experiment(s) not run because their data file is missing:\n  {}",
                self.missing_data.len(),
                self.missing_data.join("\n  ")
            )
        })
    }
}

/// As [`sweep`], but a manifest whose data file is missing (and cannot be
/// fetched) does not stop the others: they run, and the missing ones are
/// returned for the caller to report. Any other invalid manifest still stops
/// everything before anything runs.
pub fn sweep_available(
    manifests: &[PathBuf],
    registry: &Registry,
    opts: &SweepOptions,
) -> anyhow::Result<Swept> {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    let mut missing_data = Vec::new();
    let phases = Phases::default();
    // Planning loads and prepares every manifest's data.
    let planned: Vec<_> = phases.time("planning", None, || {
        manifests.iter().map(|m| (m, plan(m, registry, opts))).collect()
    });
    for (m, planned) in planned {
        match planned {
            Ok(p) => plans.push(p),
            Err(e) if crate::is_missing_data(&e) => {
                missing_data.push(format!("{}: {e:#}", m.display()))
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!(
            "{} manifest(s) are not valid; nothing was run:\n  {}",
            errors.len(),
            errors.join("\n  ")
        );
    }
    let mut names: Vec<&str> = plans.iter().map(|p| p.manifest.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        anyhow::bail!(
            "two manifests are both named `{}`; their results would share one folder",
            w[0]
        );
    }
    Ok(Swept {
        outcomes: execute(&plans, registry, opts, &phases)?,
        missing_data,
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
