//! Running manifests: plan every run, skip the stored ones, run the rest in
//! parallel, store each as soon as it finishes, then write the summaries and
//! the report.
//!
//! A run's hash covers its resolved configuration, the dataset's SHA-256 and
//! the strata version, so re-running a sweep recomputes exactly the runs whose
//! inputs changed. Representations shared by several runs are fitted once.

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

/// Parses `I/N` (0 <= I < N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s}: expected I/N, e.g. 0/4"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: I is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: N is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!(
            "--shard {s}: need 0 <= I < N (shards are numbered from 0)"
        ));
    }
    Ok((i, n))
}

/// The shard a scheduler's array task stands for, read from its environment
/// (`get` looks a variable up), with a sentence saying where it came from:
/// Slurm job arrays (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`,
/// divided by `SLURM_ARRAY_TASK_STEP`, of `SLURM_ARRAY_TASK_COUNT`, so that
/// `--array=1-8` works as well as `0-7`), Kubernetes Indexed Jobs
/// (`JOB_COMPLETION_INDEX` of `STRATA_SHARDS`, since Kubernetes exposes no
/// count), AWS Batch array jobs (`AWS_BATCH_JOB_ARRAY_INDEX` of
/// `AWS_BATCH_JOB_ARRAY_SIZE`). `None` outside an array task; an error when
/// a scheduler's variables are incomplete or inconsistent.
pub fn shard_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<((u64, u64), String)>, String> {
    let num = |name: &str| -> Result<Option<u64>, String> {
        match get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{name}={v}: not a whole number")),
        }
    };
    let check = |i: u64, n: u64, from: String| -> Result<Option<((u64, u64), String)>, String> {
        if n == 0 || i >= n {
            return Err(format!("{from}: shard {i} of {n} is out of range"));
        }
        Ok(Some(((i, n), format!("shard {i}/{n} from {from}"))))
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: run inside a Slurm job array, or pass --shard I/N",
        )?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let from = format!(
            "Slurm (SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_STEP={step}, SLURM_ARRAY_TASK_COUNT={count})"
        );
        if id < min || (id - min) % step != 0 {
            return Err(format!(
                "{from}: the task id is not on the array's range; use a plain range such as --array=0-{} or pass --shard I/N",
                count.saturating_sub(1)
            ));
        }
        return check((id - min) / step, count, from);
    }
    if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let n = num("STRATA_SHARDS")?.ok_or(
            "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but STRATA_SHARDS is not: Kubernetes exposes no count, so set STRATA_SHARDS to the Job's completions",
        )?;
        return check(i, n, format!("Kubernetes (JOB_COMPLETION_INDEX={i}, STRATA_SHARDS={n})"));
    }
    if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
        let n = num("AWS_BATCH_JOB_ARRAY_SIZE")?.ok_or(
            "AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not: run as an AWS Batch array job, or pass --shard I/N",
        )?;
        return check(i, n, format!("AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX={i}, AWS_BATCH_JOB_ARRAY_SIZE={n})"));
    }
    Ok(None)
}

/// Whether a run belongs to shard `i` of `n`.
pub fn in_shard(hash: &str, (i, n): (u64, u64)) -> bool {
    let v = u64::from_str_radix(&hash[..hash.len().min(15)], 16).unwrap_or(0);
    v % n == i
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

/// The content hash of a run: configuration, dataset checksum, strata version.
pub fn run_hash(cfg: &RunConfig, dataset_sha256: &str) -> String {
    content_hash(&serde_json::json!({
        "run": cfg,
        "dataset_sha256": dataset_sha256,
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
    };
    if let Some(c) = &manifest.classification {
        if loaded.dataset.target().is_none() {
            anyhow::bail!(
                "{}: [classification] needs a target, and descriptor `{}` declares none (set columns.target)",
                path.display(),
                descriptor.name
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
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        crate::cohorts::parse_dates(&values, spec)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(spec) = &manifest.similarity {
        spec.check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        metadata_text(&loaded, &spec.popularity)
            .map_err(|e| anyhow::anyhow!("{}: similarity.popularity: {e}", path.display()))?;
        let columns = loaded.table.column_names();
        for j in &spec.judgements {
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
                "{}: [similarity] groups the file's rows by track: descriptor `{}` needs columns.id",
                path.display(),
                loaded.descriptor.name
            );
        }
    }
    // Two identical blocks give the same run twice: keep it once.
    let mut seen = std::collections::HashSet::new();
    let runs = manifest
        .runs()
        .into_iter()
        .map(|c| (run_hash(&c, &dataset.sha256), c))
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

fn fit_representation(
    cfg: &RunConfig,
    x: ArrayView2<'_, f64>,
    seed: Seed,
    registry: &Registry,
) -> Result<Rep, String> {
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

/// A warning when a mixture component is constant on a discrete column: its
/// variance there is only `reg_covar`, so the likelihood, the BIC and the
/// posteriors follow that column rather than the data's shape.
fn collapsed_on_discrete(x: ArrayView2<'_, f64>, labels: &[usize], names: &[String]) -> Option<String> {
    let discrete = discrete_columns(x);
    if discrete.is_empty() {
        return None;
    }
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut hits: Vec<String> = Vec::new();
    for c in 0..k {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        if rows.len() < 2 {
            continue;
        }
        let constant: Vec<&str> = discrete
            .iter()
            .filter(|&&j| rows.iter().all(|&i| x[[i, j]] == x[[rows[0], j]]))
            .map(|&j| names.get(j).map_or("?", String::as_str))
            .collect();
        if !constant.is_empty() {
            hits.push(format!("component {c} on {}", constant.join(", ")));
        }
    }
    (!hits.is_empty()).then(|| {
        format!(
            "mixture component variance collapsed to reg_covar on discrete columns (at most {DISCRETE_MAX_VALUES} values): {}; the likelihood, BIC and posteriors are driven by those columns",
            hits.join("; ")
        )
    })
}

/// Sum of squared distances of rows to their cluster means.
fn within_ss(x: ArrayView2<'_, f64>, labels: &[usize], k: usize) -> f64 {
    let (means, _) = strata_cluster::metrics::centroids(x, labels, k);
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            x.row(i)
                .iter()
                .zip(means.row(l).iter())
                .map(|(v, m)| (v - m).powi(2))
                .sum::<f64>()
        })
        .sum()
}

fn run_one(
    hash: &str,
    cfg: &RunConfig,
    p: &Planned,
    rep: &Result<Arc<Rep>, String>,
    agreement: &[(String, Vec<usize>)],
    registry: &Registry,
    stage: &dyn Fn(&str),
) -> RunRecord {
    let mut rec = RunRecord {
        hash: hash.to_string(),
        experiment: p.manifest.name.clone(),
        config: cfg.clone(),
        dataset: p.dataset.clone(),
        strata_version: strata_core::VERSION.to_string(),
        status: RunStatus::Ok,
        error: None,
        representation: None,
        clustering: None,
        metrics: BTreeMap::new(),
        silhouette_rows: None,
        timings_s: BTreeMap::new(),
        warnings: Vec::new(),
    };
    let fail = |mut rec: RunRecord, e: String| {
        rec.status = RunStatus::Failed;
        rec.error = Some(e);
        rec
    };
    let rep = match rep {
        Ok(r) => r,
        Err(e) => return fail(rec, format!("representation: {e}")),
    };
    rec.representation = Some(rep.info.clone());
    rec.timings_s.insert("representation".into(), rep.seconds);
    rec.warnings
        .extend(rep.info.diagnostics.warnings.iter().cloned());
    if let Some(e) = rep.info.reconstruction_error {
        rec.metrics.insert("reconstruction_error".into(), e);
    }
    let x = rep.y.view();

    stage("cluster");
    let t = Instant::now();
    let clusterer = match registry.build_clusterer(&cfg.clusterer) {
        Ok(c) => c,
        Err(e) => return fail(rec, format!("{}: {e:#}", cfg.clusterer.label())),
    };
    let reducer_name = if cfg.drop_discrete { "continuous" } else { cfg.representation.algorithm.as_str() };
    let fitted = match crate::features::fit_clusterer(
        clusterer.as_ref(),
        reducer_name,
        x,
        Some(&p.segment_kinds),
        cfg.seed.named("clusterer"),
    ) {
        Ok(f) => f,
        Err(e) => return fail(rec, format!("{}: {e}", cfg.clusterer.label())),
    };
    let labels = fitted.labels().to_vec();
    let diagnostics = fitted.diagnostics(x);
    rec.timings_s
        .insert("cluster".into(), t.elapsed().as_secs_f64());
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    for &l in &labels {
        sizes[l] += 1;
    }
    rec.warnings.extend(diagnostics.warnings.iter().cloned());
    // Without reduction the columns are the prepared features: name them so.
    let kept_names: Vec<String>;
    let column_names = if cfg.representation.algorithm == "none" {
        if cfg.drop_discrete {
            kept_names = crate::features::continuous_columns(p.segmenting.view())
                .into_iter()
                .map(|j| p.segment_names[j].clone())
                .collect();
            kept_names.as_slice()
        } else {
            p.segment_names.as_slice()
        }
    } else {
        rep.info.component_names.as_slice()
    };
    if cfg.clusterer.algorithm == "gmm"
        && let Some(w) = collapsed_on_discrete(x, &labels, column_names)
    {
        rec.warnings.push(w);
    }
    let distinct = sizes.iter().filter(|&&s| s > 0).count();
    if let (Some(train), Some(t)) = (&p.train_rows, p.loaded.dataset.target())
        && let Some(spread) = response_spread(&labels, &t.values.to_vec(), train, k)
    {
        rec.metrics.insert(RESPONSE_SPREAD.into(), spread);
    }

    stage("metrics");
    let t = Instant::now();
    rec.metrics
        .insert("inertia".into(), within_ss(x, &labels, k));
    if distinct >= 2 && distinct < labels.len() {
        let ev = &cfg.evaluation;
        let sil = match ev.silhouette {
            // The exact silhouette is computed afterwards for a chunk of runs
            // at once (`exact_silhouettes`).
            SilhouetteMode::Off | SilhouetteMode::Exact => None,
            SilhouetteMode::Sampled => Some(strata_cluster::metrics::silhouette_sampled(
                x,
                &labels,
                ev.silhouette_sample,
                cfg.seed.named("silhouette"),
            )),
        };
        match sil {
            Some(Ok((s, rows))) => {
                rec.metrics.insert("silhouette".into(), s);
                rec.silhouette_rows = Some(rows);
            }
            Some(Err(e)) => rec.warnings.push(format!("silhouette: {e}")),
            None => {}
        }
        if ev.silhouette == SilhouetteMode::Sampled {
            // The same sampled rows, in the prepared features.
            let common = p.segmenting.view();
            match strata_cluster::metrics::silhouette_sampled(
                common,
                &labels,
                ev.silhouette_sample,
                cfg.seed.named("silhouette"),
            ) {
                Ok((s, _)) => {
                    rec.metrics.insert(COMMON_SILHOUETTE.into(), s);
                }
                Err(e) => rec.warnings.push(format!("{COMMON_SILHOUETTE}: {e}")),
            }
        }
        // k-prototypes on the prepared columns: the silhouette under its own
        // mixed dissimilarity as well.
        if cfg.clusterer.algorithm == "kprototypes" && reducer_name == "none" {
            let gamma = diagnostics.scalars.get("gamma").copied().unwrap_or(1.0);
            match strata_cluster_mixed::Mixed::new(x, &p.segment_kinds.kinds, &p.segment_kinds.names)
                .and_then(|m| strata_cluster_mixed::mixed_silhouette(&m, &labels, gamma))
            {
                Ok(v) => {
                    rec.metrics.insert("silhouette_mixed".into(), v);
                }
                Err(e) => rec.warnings.push(format!("silhouette_mixed: {e}")),
            }
        }
        match strata_cluster::metrics::calinski_harabasz(x, &labels) {
            Ok(v) => {
                rec.metrics.insert("calinski_harabasz".into(), v);
            }
            Err(e) => rec.warnings.push(format!("calinski_harabasz: {e}")),
        }
        match strata_cluster::metrics::davies_bouldin(x, &labels) {
            Ok(v) => {
                rec.metrics.insert("davies_bouldin".into(), v);
            }
            Err(e) => rec.warnings.push(format!("davies_bouldin: {e}")),
        }
    } else {
        rec.warnings.push(format!(
            "{distinct} non-empty cluster(s): silhouette, Calinski-Harabasz and Davies-Bouldin need between 2 and n - 1"
        ));
    }
    for (col, codes) in agreement {
        if let Ok(a) = strata_cluster::metrics::adjusted_rand_index(&labels, codes) {
            rec.metrics.insert(format!("ari_{col}"), a);
        }
        if let Ok(a) = strata_cluster::metrics::normalized_mutual_info(&labels, codes) {
            rec.metrics.insert(format!("nmi_{col}"), a);
        }
    }
    for (name, v) in &diagnostics.scalars {
        rec.metrics.entry(name.clone()).or_insert(*v);
    }
    rec.timings_s
        .insert("metrics".into(), t.elapsed().as_secs_f64());

    let ev = &cfg.evaluation;
    if ev.stability_resamples >= 2 {
        stage("stability");
        let t = Instant::now();
        // The whole pipeline is refitted on each resample: the representation
        // (with the resample's seed) on the prepared features of its rows,
        // then the clusterer on that representation.
        let prepared = p.segmenting.view();
        let pipeline = |idx: &[usize], seed: Seed| {
            let reducer = segment_reducer(registry, cfg)
                .map_err(|e| strata_core::AlgoError::Other(format!("{e:#}")))?;
            let xs = prepared.select(ndarray::Axis(0), idx);
            let (_, y) = reducer.fit_transform(xs.view(), seed.named("representation"))?;
            let fitted = crate::features::fit_clusterer(
                clusterer.as_ref(),
                reducer_name,
                y.view(),
                Some(&p.segment_kinds),
                seed.named("clusterer"),
            )?;
            Ok(fitted.labels().to_vec())
        };
        match strata_cluster::stability::stability_of(
            prepared.nrows(),
            ev.stability_resamples,
            ev.stability_fraction,
            cfg.seed.named("stability"),
            pipeline,
        ) {
            Ok(s) => {
                rec.metrics.insert("stability_mean_ari".into(), s.mean_ari);
                rec.metrics.insert("stability_sd_ari".into(), s.sd_ari);
                rec.metrics.insert("stability_min_ari".into(), s.min_ari);
            }
            Err(e) => rec.warnings.push(format!("stability: {e}")),
        }
        rec.timings_s
            .insert("stability".into(), t.elapsed().as_secs_f64());
    }
    rec.clustering = Some(ClusteringInfo {
        n_clusters: fitted.n_clusters(),
        sizes,
        diagnostics,
        labels,
    });
    rec
}

/// Metric: how far the segments' response rates differ on the training rows.
pub const RESPONSE_SPREAD: &str = "response_spread_train";

/// Highest minus lowest response rate of the segments on the rows `train`
/// (segments without a training row left out); `None` with fewer than two
/// such segments or a target of another length.
pub fn response_spread(labels: &[usize], y: &[u8], train: &[usize], k: usize) -> Option<f64> {
    if y.len() != labels.len() {
        return None;
    }
    let (mut pos, mut n) = (vec![0usize; k], vec![0usize; k]);
    for &i in train {
        let s = *labels.get(i)?;
        n[s] += 1;
        pos[s] += usize::from(y[i] == 1);
    }
    let rates: Vec<f64> = (0..k)
        .filter(|&s| n[s] > 0)
        .map(|s| pos[s] as f64 / n[s] as f64)
        .collect();
    if rates.len() < 2 {
        return None;
    }
    let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    Some(hi - lo)
}

/// Runs whose exact silhouettes share one distance pass.
const SILHOUETTE_CHUNK: usize = 24;

/// The silhouette of a run's labels in the prepared features (the `none`
/// representation), comparable across representations.
pub const COMMON_SILHOUETTE: &str = "silhouette_common";

/// Fills in the exact silhouettes the runs deferred (as `metric`), in one
/// pass over the distances of `x`: their shared representation for the
/// own-space silhouette, the prepared features for the common-space one; each
/// run records its share of the time.
fn exact_silhouettes(x: ArrayView2<'_, f64>, recs: &mut [RunRecord], metric: &str) {
    let n = x.nrows();
    let wanted: Vec<usize> = (0..recs.len())
        .filter(|&j| {
            let r = &recs[j];
            r.status == RunStatus::Ok
                && r.config.evaluation.silhouette == SilhouetteMode::Exact
                && r.clustering.as_ref().is_some_and(|c| {
                    let distinct = c.sizes.iter().filter(|&&s| s > 0).count();
                    c.labels.len() == n && distinct >= 2 && distinct < n
                })
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let t = Instant::now();
    let labelings: Vec<&[usize]> = wanted
        .iter()
        .filter_map(|&j| recs[j].clustering.as_ref().map(|c| c.labels.as_slice()))
        .collect();
    let scores = strata_cluster::metrics::silhouette_scores(x, &labelings);
    let share = t.elapsed().as_secs_f64() / wanted.len() as f64;
    for (pos, &j) in wanted.iter().enumerate() {
        let r = &mut recs[j];
        match &scores {
            Ok(s) => {
                r.metrics.insert(metric.into(), s[pos]);
                r.silhouette_rows = Some(n);
            }
            Err(e) => r.warnings.push(format!("{metric}: {e}")),
        }
        r.timings_s.insert(metric.into(), share);
    }
}

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
/// the rest run in parallel and are stored one by one.
pub fn execute(
    plans: &[Planned],
    registry: &Registry,
    opts: &SweepOptions,
) -> anyhow::Result<Vec<ExperimentOutcome>> {
    let mut outcomes = Vec::new();
    // (experiment index, hash, config) of every run to compute.
    let mut pending: Vec<(usize, String, RunConfig)> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        std::fs::create_dir_all(p.dir.join("runs"))
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.dir.display()))?;
        let plan = Plan {
            experiment: p.manifest.name.clone(),
            description: p.manifest.description.clone(),
            manifest_path: p.manifest.path.display().to_string(),
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
                Some(Ok(_)) if !opts.force => o.reused += 1,
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
    let reps: Vec<Result<Arc<Rep>, String>> = rep_keys
        .par_iter()
        .map(|(i, _, cfg)| {
            let p = &plans[*i];
            let _span = tracing::info_span!("representation", experiment = %p.manifest.name, algorithm = %cfg.representation.label()).entered();
            fit_representation(cfg, p.segmenting.view(), p.manifest.seed, registry).map(Arc::new)
        })
        .collect();
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
    let results: Vec<anyhow::Result<Vec<(usize, RunStatus)>>> = chunks
        .par_iter()
        .map(|chunk| {
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
                    run_one(h, c, p, rep_of(*i, c), &agreements[*i], registry, &stage)
                })
                .collect();
            let (i, _, c) = &pending[chunk[0]];
            if let Ok(rep) = rep_of(*i, c) {
                bar.set_message(format!(
                    "{}: silhouettes on {}",
                    plans[*i].manifest.name, c.representation.algorithm
                ));
                exact_silhouettes(rep.y.view(), &mut recs, "silhouette");
                // The same labels judged in one space common to every
                // representation, the prepared features: the score that
                // compares runs across representations.
                if c.representation.algorithm == "none" && !c.drop_discrete {
                    for r in &mut recs {
                        if let Some(&v) = r.metrics.get("silhouette") {
                            r.metrics.insert(COMMON_SILHOUETTE.into(), v);
                        }
                    }
                } else {
                    exact_silhouettes(plans[*i].segmenting.view(), &mut recs, COMMON_SILHOUETTE);
                }
            }
            let mut out = Vec::new();
            for rec in recs {
                if let Some(e) = &rec.error {
                    tracing::warn!(run = %rec.hash, "run failed: {e}");
                }
                store::write_json(&store::run_path(&plans[*i].dir, &rec.hash), &rec)?;
                bar.inc(1);
                out.push((*i, rec.status));
            }
            Ok(out)
        })
        .collect();
    bar.finish_and_clear();
    for r in results {
        for (i, status) in r? {
            outcomes[i].computed += 1;
            if status == RunStatus::Failed {
                outcomes[i].failed += 1;
            }
        }
    }
    for (o, p) in outcomes.iter_mut().zip(plans) {
        let Some(c) = &p.manifest.classification else {
            continue;
        };
        let hash = crate::classify::classification_hash(c, p.manifest.seed, &p.dataset.sha256);
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
        let _span = tracing::info_span!("classification", experiment = %p.manifest.name).entered();
        if opts.progress {
            eprintln!(
                "{}: cross-validating the classifiers ({} feature sets, {} folds x {} repeats)",
                p.manifest.name,
                c.features.len(),
                c.folds,
                c.repeats
            );
        }
        let rec = crate::classify::run(
            &p.manifest.name,
            &p.loaded,
            &p.dataset,
            c,
            p.manifest.seed,
            registry,
            opts.progress,
            &p.dir,
            opts.shard,
        )?;
        match rec {
            Some(rec) => {
                store::write_json(&path, &rec)?;
                o.classification = Some("computed");
            }
            None => o.classification = Some("this shard's units computed"),
        }
    }
    // The decisions (the chosen segmentation, its cards, targeting, cohorts)
    // need every run: a shard holds only some, so they are left to the
    // unsharded sweep that follows `strata merge` (it reuses every run).
    for (o, p) in outcomes.iter_mut().zip(plans) {
        if opts.shard.is_some() {
            o.decisions_left = true;
            continue;
        }
        let res = store::ExperimentResults::read(&o.dir)?;
        let all: Vec<&RunRecord> = res.runs.iter().collect();
        if let Some((best, reason)) = crate::selection::chosen(&all, res.plan.pin.as_ref())
            && let Some(c) = &best.clustering
        {
            let ds = &p.loaded.dataset;
            let (categories, numbers) = crate::segments::describable(&p.loaded.metadata);
            let target: Option<Vec<u8>> = ds.target().map(|t| t.values.to_vec());
            let cards = crate::segments::profile(
                &c.labels,
                &crate::segments::ProfileData {
                    unscaled: p.loaded.unscaled.view(),
                    names: ds.feature_names(),
                    target: target.as_deref(),
                    economics: ds.economics(),
                    categories,
                    numbers,
                },
            );
            let seg = crate::segments::Segments {
                experiment: p.manifest.name.clone(),
                run: best.hash.clone(),
                representation: best.config.representation.label(),
                clusterer: best.config.clusterer.label(),
                reason,
                agreement: best
                    .metrics
                    .iter()
                    .filter(|(k, _)| k.starts_with("ari_") || k.starts_with("nmi_"))
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                cards,
            };
            let path = o.dir.join("segments.json");
            store::write_json(&path, &seg)?;
            o.written.push(path);
            if let (Some(t), Some(e)) = (&target, ds.economics()) {
                let mlp = p
                    .manifest
                    .classification
                    .as_ref()
                    .map(|c| c.mlp.clone())
                    .unwrap_or_default();
                let key = serde_json::json!({
                        "run": best.hash, "mlp": mlp, "seed": p.manifest.seed, "version": strata_core::VERSION
                    })
                    .to_string();
                let path = o.dir.join("targeting.json");
                store::keyed(&path, key, opts.force, || {
                    let (r, c) = build_pair(registry, &best.config)?;
                    let prep = crate::classify::RecipePrep(&p.loaded);
                    let selected = crate::classify::SelectedPrep {
                        loaded: &p.loaded,
                        columns: &best.config.columns,
                    };
                    crate::targeting::evaluate(
                        strata_neural::cv::Source::Prepared {
                            prepare: &prep,
                            rows: ds.n_samples(),
                        },
                        (!best.config.columns.is_all()).then_some(
                            strata_neural::cv::Source::Prepared {
                                prepare: &selected,
                                rows: ds.n_samples(),
                            },
                        ),
                        t,
                        e,
                        r.as_ref(),
                        c.as_ref(),
                        &mlp,
                        crate::targeting::TEST_FRACTION,
                        p.manifest.seed.named("targeting"),
                        Some(&p.segment_kinds),
                    )
                })?;
                o.written.push(path);
            }
            if let Some(spec) = &p.manifest.cohorts {
                let key = serde_json::json!({
                        "run": best.hash, "cohorts": spec, "seed": p.manifest.seed, "version": strata_core::VERSION
                    })
                    .to_string();
                let path = o.dir.join("cohorts.json");
                store::keyed(&path, key, opts.force, || {
                    let dates =
                        crate::cohorts::parse_dates(&metadata_text(&p.loaded, &spec.column)?, spec)
                            .map_err(|e| anyhow::anyhow!(e))?;
                    let (r, c) = build_pair(registry, &best.config)?;
                    let names = ds.feature_names();
                    let excluded: Vec<String> = std::iter::once(spec.column.clone())
                        .chain(crate::cohorts::derived_from(&p.loaded.descriptor, &spec.column))
                        .filter(|f| names.contains(f))
                        .collect();
                    crate::cohorts::evaluate(
                        p.loaded.as_ref(),
                        &crate::cohorts::CohortInputs {
                            dates: &dates,
                            column: &spec.column,
                            columns: &best.config.columns,
                            excluded: &excluded,
                            target: target.as_deref(),
                        },
                        r.as_ref(),
                        c.as_ref(),
                        p.manifest.seed.named("cohorts"),
                    )
                })?;
                o.written.push(path);
            }
        }
    }
    for (o, p) in outcomes.iter_mut().zip(plans) {
        let Some(spec) = &p.manifest.similarity else {
            continue;
        };
        let mut reps: Vec<AlgoConfig> = Vec::new();
        for r in p.manifest.representations.iter().flat_map(crate::manifest::Block::expand) {
            if !reps.contains(&r) {
                reps.push(r);
            }
        }
        let key = serde_json::json!({
            "similarity": spec, "representations": reps, "columns": p.manifest.features.columns(),
            "seed": p.manifest.seed, "dataset": p.dataset.sha256, "version": strata_core::VERSION
        })
        .to_string();
        // The measurement needs no run, only the representations: one unit,
        // computed by the shard its key hashes to, copied by `strata merge`.
        if let Some(shard) = opts.shard {
            o.decisions_left = true;
            if !in_shard(&content_hash(&serde_json::Value::String(key.clone())), shard) {
                continue;
            }
        }
        let path = o.dir.join("similarity.json");
        store::keyed(&path, key, opts.force, || {
            let _span = tracing::info_span!("similarity", experiment = %p.manifest.name).entered();
            let raw = strata_data::read_raw(&p.loaded.descriptor, &opts.dirs)?;
            let id = p.loaded.descriptor.columns.id.clone().unwrap_or_default();
            let judged = crate::neighbours::memberships(&raw, &id, &spec.judgements, p.loaded.dataset.ids())?;
            let popularity: Vec<f64> = metadata_text(&p.loaded, &spec.popularity)?
                .iter()
                .map(|v| v.trim().parse().unwrap_or(f64::NAN))
                .collect();
            let mut spaces = Vec::new();
            for r in &reps {
                let (_, y) = registry
                    .build_reducer(r)?
                    .fit_transform(p.segmenting.view(), p.manifest.seed.named("representation"))?;
                spaces.push((r.label(), y));
            }
            crate::neighbours::evaluate(
                &spaces,
                &spec.judgements.iter().cloned().zip(judged).collect::<Vec<_>>(),
                &popularity,
                spec,
                p.manifest.seed.named("similarity"),
            )
        })?;
        o.written.push(path);
    }
    for o in &mut outcomes {
        let res = store::ExperimentResults::read(&o.dir)?;
        if let Some(c) = &res.classification {
            o.written
                .push(store::write_classification_summary(&o.dir, c)?);
        }
        o.written.extend(store::write_summary(&o.dir, &res.runs)?);
        if opts.report {
            o.written.extend(crate::report::write(&res)?);
        }
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
    for m in manifests {
        match plan(m, registry, opts) {
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
        outcomes: execute(&plans, registry, opts)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn shards_come_from_each_scheduler() {
        let env = |vars: &[(&str, &str)]| {
            let m: std::collections::HashMap<String, String> =
                vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            shard_from_env(&move |k: &str| m.get(k).cloned())
        };
        assert_eq!(env(&[]), Ok(None));
        // Slurm: --array=0-7 and --array=1-8 give the same shards; steps count.
        let s = |id, min, count| {
            env(&[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_COUNT", count),
            ])
            .map(|o| o.map(|(s, _)| s))
        };
        assert_eq!(s("0", "0", "8"), Ok(Some((0, 8))));
        assert_eq!(s("8", "1", "8"), Ok(Some((7, 8))));
        assert_eq!(s("3", "1", "8"), Ok(Some((2, 8))));
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(stepped.clone().map(|o| o.map(|(s, _)| s)), Ok(Some((3, 4))));
        assert!(stepped.unwrap().unwrap().1.starts_with("shard 3/4 from Slurm (SLURM_ARRAY_TASK_ID=6"));
        assert!(s("9", "1", "8").unwrap_err().contains("out of range"));
        assert!(
            env(&[("SLURM_ARRAY_TASK_ID", "2")])
                .unwrap_err()
                .contains("SLURM_ARRAY_TASK_COUNT is not")
        );
        assert!(env(&[("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "2")])
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID=x: not a whole number"));
        // Kubernetes: the count must be given.
        assert_eq!(
            env(&[("JOB_COMPLETION_INDEX", "2"), ("STRATA_SHARDS", "4")]).map(|o| o.map(|(s, _)| s)),
            Ok(Some((2, 4)))
        );
        assert!(
            env(&[("JOB_COMPLETION_INDEX", "2")])
                .unwrap_err()
                .contains("Kubernetes exposes no count, so set STRATA_SHARDS")
        );
        // AWS Batch.
        let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0"), ("AWS_BATCH_JOB_ARRAY_SIZE", "3")]).unwrap().unwrap();
        assert_eq!(aws.0, (0, 3));
        assert!(aws.1.starts_with("shard 0/3 from AWS Batch"));
        assert!(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "3"), ("AWS_BATCH_JOB_ARRAY_SIZE", "3")]).is_err());
    }

    #[test]
    fn response_spread_reads_training_rows_only() {
        // Segment 0: rows 0..4, responders 0 and 1; segment 1: rows 4..8, responder 4.
        let labels = [0, 0, 0, 0, 1, 1, 1, 1];
        let y = [1, 1, 0, 0, 1, 0, 0, 0];
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(response_spread(&labels, &y, &all, 2), Some(0.5 - 0.25));
        // Held-out rows 1 and 4 do not count: 1/3 against 0/3.
        assert_eq!(response_spread(&labels, &y, &[0, 2, 3, 5, 6, 7], 2), Some(1.0 / 3.0));
        assert_eq!(response_spread(&labels, &y, &[0, 1, 2], 2), None, "one segment");
        assert_eq!(response_spread(&labels, &y[..7], &all, 2), None);
    }

    #[test]
    fn collapse_on_discrete_columns_is_named() {
        // Column 0 continuous, column 1 binary, column 2 a count.
        let x = array![
            [0.1, 0.0, 3.0],
            [0.7, 0.0, 1.0],
            [1.3, 1.0, 2.0],
            [2.9, 1.0, 2.0],
            [5.0, 0.0, 2.0],
        ];
        let names: Vec<String> = ["a", "flag", "count"].iter().map(|s| s.to_string()).collect();
        assert_eq!(discrete_columns(x.view()), vec![0, 1, 2]);
        let wide = ndarray::Array2::from_shape_fn((20, 1), |(i, _)| i as f64);
        assert!(discrete_columns(wide.view()).is_empty());
        // Component 0 (rows 0, 1) is constant on `flag`; component 1 (rows
        // 2, 3) on `flag` and `count`; row 4 alone is skipped.
        let w = collapsed_on_discrete(x.view(), &[0, 0, 1, 1, 2], &names).expect("warning");
        assert!(w.contains("component 0 on flag;"), "{w}");
        assert!(w.contains("component 1 on flag, count"), "{w}");
        assert!(!w.contains("component 2"), "{w}");
        // No component constant on a discrete column: no warning.
        assert!(collapsed_on_discrete(x.view(), &[0, 1, 0, 1, 0], &names).is_none());
    }
}
