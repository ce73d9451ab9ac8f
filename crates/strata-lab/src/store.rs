//! The result store: one JSON file per run, a plan per experiment, and the
//! tidy summary tables.
//!
//! ```text
//! results/<experiment>/
//!   plan.json            the manifest, the dataset checksum, every run's hash in order
//!   runs/<hash>.json     one finished run (written to a temporary file, then renamed)
//!   scatter.json         first two principal components of a sample of rows (for plots)
//!   stability_refined.json  runs whose stability was measured again on more resamples
//!   summary.csv          one row per run: every parameter and every metric a column
//!   summary.parquet      the same table
//!   report.html, report.md
//! ```
//!
//! Every file is written atomically, so a killed sweep leaves whole files or
//! none. Two sweeps writing the same folder at once do not lock each other:
//! the last writer wins, and because a run's content is determined by its
//! hash, both write the same bytes (apart from timings).

use crate::manifest::RunConfig;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strata_core::{Diagnostics, ParamValue};

/// The dataset a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRef {
    pub descriptor: String,
    /// The data file's checksum.
    pub sha256: String,
    pub rows: usize,
    pub features: usize,
    /// A hash of the descriptor's keys that shape what is fitted and
    /// decided ([`recipe_hash`]): with `sha256`, the data part of every
    /// stored result's identity ([`DatasetRef::identity`]).
    #[serde(default)]
    pub recipe: String,
}

impl DatasetRef {
    /// What stored results are keyed by: the file's checksum and the
    /// recipe's hash, so editing the descriptor's preparation (scaling,
    /// imputation, encoding, clipping, derived columns, roles, economics)
    /// recomputes instead of reusing results of other data.
    pub fn identity(&self) -> String {
        format!("{}+{}", self.sha256, self.recipe)
    }
}

/// The hash of a descriptor's keys that shape what is fitted and decided:
/// column roles (`columns.nominal`, which only changes how segments are
/// described, left out), derived columns, imputation, encoding, clipping,
/// scaling, economics, and how the file is read (missing-value markers,
/// delimiter). Not its name, description or source address.
pub fn recipe_hash(d: &strata_data::Descriptor) -> String {
    let mut columns = d.columns.clone();
    columns.nominal.clear();
    crate::sweep::content_hash(&serde_json::json!({
        "columns": columns, "derive": d.derive, "impute": d.impute, "encode": d.encode,
        "clip": d.clip, "scale": d.scale, "economics": d.economics,
        "na_values": d.source.na_values, "delimiter": d.source.delimiter,
    }))
}

/// What the representation stage produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepresentationInfo {
    pub n_components: usize,
    pub component_names: Vec<String>,
    /// Mean squared error of `inverse_transform(transform(x))`, where defined.
    pub reconstruction_error: Option<f64>,
    /// Excess kurtosis of each output column.
    pub kurtosis: Vec<f64>,
    pub diagnostics: Diagnostics,
    /// The prepared columns this run's fit left out: the discrete ones, for
    /// a mixture under `discrete_in_mixtures = false`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// What the clustering stage produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusteringInfo {
    pub n_clusters: usize,
    pub sizes: Vec<usize>,
    pub diagnostics: Diagnostics,
    /// One label per dataset row.
    pub labels: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    Failed,
}

/// One stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub hash: String,
    pub experiment: String,
    pub config: RunConfig,
    pub dataset: DatasetRef,
    pub strata_version: String,
    pub status: RunStatus,
    pub error: Option<String>,
    pub representation: Option<RepresentationInfo>,
    pub clustering: Option<ClusteringInfo>,
    /// Headline numbers: silhouette, calinski_harabasz, davies_bouldin,
    /// inertia, bic, aic, stability_mean_ari, ari_<column>...
    pub metrics: BTreeMap<String, f64>,
    /// Rows the silhouette was computed on (all rows unless sampled).
    pub silhouette_rows: Option<usize>,
    /// The common-space silhouette of the run's labels within each of the
    /// experiment's disjoint random groups of rows (the same groups for
    /// every run; see `sweep::silhouette_groups`): claims (1) and (2)
    /// choose each side's best run on the first half of the groups and judge
    /// the difference, with its interval, on the other half. Empty when some
    /// group holds fewer than two of the run's clusters; absent when not
    /// computed (no exact common-space silhouette).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silhouette_common_groups: Option<Vec<f64>>,
    /// Seconds per stage.
    pub timings_s: BTreeMap<String, f64>,
    pub warnings: Vec<String>,
}

/// One run in a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    pub hash: String,
    pub representation: String,
    pub clusterer: String,
}

/// What an experiment folder is meant to hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub experiment: String,
    pub description: String,
    pub manifest_path: String,
    pub manifest_text: String,
    pub dataset: DatasetRef,
    pub strata_version: String,
    pub runs: Vec<PlannedRun>,
    /// Margins of practical relevance of the report's verdicts.
    #[serde(default)]
    pub margins: crate::verdict::Margins,
    /// The segmentation the manifest pins (`[segments]`), if any.
    #[serde(default)]
    pub pin: Option<crate::selection::Pin>,
}

/// The manifest's path as a plan records it: relative to the folder holding
/// the results folder `out` when the manifest lies under it (the
/// `experiments/` beside `results/`), else in full. So a plan does not
/// depend on how the path was typed (relative, absolute, through `..`), and
/// shards run in different checkouts record the same path.
pub fn recorded_manifest_path(manifest: &Path, out: &Path) -> String {
    let full = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let m = full(manifest);
    let base = full(out);
    base.parent()
        .and_then(|b| m.strip_prefix(b).ok())
        .unwrap_or(&m)
        .display()
        .to_string()
}

/// Two principal components of a sample of rows, for the report's scatter plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scatter {
    pub rows: Vec<usize>,
    pub pc1: Vec<f64>,
    pub pc2: Vec<f64>,
    pub explained: Vec<f64>,
}

/// Writes a file atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot move {} into place: {e}", path.display())
    })
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    write_atomic(path, serde_json::to_string_pretty(value)?.as_bytes())
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid strata file: {e}", path.display()))
}

pub fn run_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join("runs").join(format!("{hash}.json"))
}

/// The run files in an experiment folder's `runs/` that its plan does not
/// list: runs of an earlier manifest, descriptor or strata version, which
/// every report ignores. Temporary files of writes in flight are not
/// counted (another sweep may be writing them). Sorted; empty without a
/// plan or a `runs/` folder.
pub fn orphan_runs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let plan_path = dir.join("plan.json");
    let runs_dir = dir.join("runs");
    if !plan_path.is_file() || !runs_dir.is_dir() {
        return Ok(Vec::new());
    }
    let plan: Plan = read_json(&plan_path)?;
    let planned: std::collections::HashSet<&str> = plan.runs.iter().map(|r| r.hash.as_str()).collect();
    let entries = std::fs::read_dir(&runs_dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", runs_dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| !s.starts_with('.') && !planned.contains(s))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// A stored run, if its file exists and is whole; a damaged file is `Err`.
pub fn read_run(dir: &Path, hash: &str) -> Option<anyhow::Result<RunRecord>> {
    let p = run_path(dir, hash);
    if !p.is_file() {
        return None;
    }
    Some(read_json::<RunRecord>(&p).and_then(|r| {
        if r.hash == hash {
            Ok(r)
        } else {
            Err(anyhow::anyhow!(
                "{}: holds run {} instead",
                p.display(),
                r.hash
            ))
        }
    }))
}

/// A result derived from the chosen run, stored with the key of what it was
/// computed from (`targeting.json`, `cohorts.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Keyed<T> {
    pub key: String,
    pub report: T,
}

/// Computes `compute` into `path` unless the file already holds a result for
/// `key` (or `force` is set).
pub fn keyed<T: Serialize + for<'de> Deserialize<'de>>(
    path: &Path,
    key: String,
    force: bool,
    compute: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<()> {
    let stored = read_json::<Keyed<T>>(path)
        .ok()
        .is_some_and(|s| s.key == key);
    if stored && !force {
        return Ok(());
    }
    write_json(
        path,
        &Keyed {
            key,
            report: compute()?,
        },
    )
}

/// A file that may be absent; present but unreadable, it is listed as damaged.
fn optional<T: for<'de> Deserialize<'de>>(
    dir: &Path,
    name: &str,
    damaged: &mut Vec<String>,
) -> Option<T> {
    let p = dir.join(name);
    if !p.is_file() {
        return None;
    }
    match read_json(&p) {
        Ok(v) => Some(v),
        Err(e) => {
            damaged.push(format!("{e:#}; run the sweep again to rewrite it"));
            None
        }
    }
}

/// Where the sweep keeps the stability of the runs it measured again on
/// more resamples because it could decide the choice
/// (`selection::to_refine`), by run hash. [`ExperimentResults::read`]
/// puts them into the runs' metrics.
pub const REFINED_FILE: &str = "stability_refined.json";

/// One run's stability measured again on more resamples, with the key it
/// was computed under ([`refined_key`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefinedStability {
    pub key: String,
    pub stability: strata_cluster::stability::Stability,
}

/// The key a run's refined stability is valid under: the run's hash (its
/// configuration, the data and their preparation), how many resamples and
/// strata's version. An entry under another key is not read.
pub fn refined_key(r: &RunRecord) -> String {
    serde_json::json!({
        "run": r.hash,
        "resamples": crate::selection::REFINE_FACTOR * r.config.evaluation.stability_resamples,
        "version": strata_core::VERSION,
        "interval": "jackknife"
    })
    .to_string()
}

/// The refined stabilities stored in `dir` by run hash; none when the file
/// is absent, an error naming it when it cannot be read.
pub fn read_refined(dir: &Path) -> anyhow::Result<BTreeMap<String, RefinedStability>> {
    let path = dir.join(REFINED_FILE);
    if !path.is_file() {
        return Ok(BTreeMap::new());
    }
    read_json(&path)
}

/// Writes the refined stabilities of `dir` (removes the file when there
/// are none, so that no stale entry outlives the sweep that dropped it).
pub fn write_refined(dir: &Path, refined: &BTreeMap<String, RefinedStability>) -> anyhow::Result<()> {
    let path = dir.join(REFINED_FILE);
    if refined.is_empty() {
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|e| anyhow::anyhow!("removing {}: {e}", path.display()))?;
        }
        return Ok(());
    }
    write_json(&path, refined)
}

/// A stability's numbers as a run's metrics: the mean, spread and smallest
/// pairwise ARI and the 95 % interval (removed when there is none).
pub fn put_stability(metrics: &mut BTreeMap<String, f64>, s: &strata_cluster::stability::Stability) {
    metrics.insert("stability_mean_ari".into(), s.mean_ari);
    metrics.insert("stability_sd_ari".into(), s.sd_ari);
    metrics.insert("stability_min_ari".into(), s.min_ari);
    match s.interval {
        Some((lo, hi)) => {
            metrics.insert(crate::sweep::STABILITY_LOW.into(), lo);
            metrics.insert(crate::sweep::STABILITY_HIGH.into(), hi);
        }
        None => {
            metrics.remove(crate::sweep::STABILITY_LOW);
            metrics.remove(crate::sweep::STABILITY_HIGH);
        }
    }
}

/// Puts a run's refined stability, when `refined` holds one under the
/// run's key, into its metrics, with the resamples it was measured on
/// (`selection::STABILITY_RESAMPLES`).
pub fn apply_refined(r: &mut RunRecord, refined: &BTreeMap<String, RefinedStability>) {
    if let Some(f) = refined.get(&r.hash).filter(|f| f.key == refined_key(r)) {
        put_stability(&mut r.metrics, &f.stability);
        r.metrics
            .insert(crate::selection::STABILITY_RESAMPLES.into(), f.stability.resamples as f64);
    }
}

/// An experiment folder read back: its plan, the runs found in plan order
/// (with the stability of runs measured again on more resamples,
/// [`REFINED_FILE`]), and the files that could not be read (reported,
/// never fatal).
pub struct ExperimentResults {
    pub dir: PathBuf,
    pub plan: Plan,
    pub runs: Vec<RunRecord>,
    pub missing: Vec<String>,
    pub damaged: Vec<String>,
    pub scatter: Option<Scatter>,
    pub classification: Option<crate::classify::ClassificationRecord>,
    pub segments: Option<crate::segments::Segments>,
    pub targeting: Option<crate::targeting::TargetingReport>,
    pub cohorts: Option<crate::cohorts::CohortReport>,
    /// Nearest-neighbour quality against human judgements, when the manifest asks.
    pub similarity: Option<crate::neighbours::SimilarityReport>,
    /// `strata plan-test` and `strata read-test` output, when run.
    pub test_plan: Option<crate::abtest::TestPlan>,
    pub test_reading: Option<crate::abtest::TestReading>,
}

impl ExperimentResults {
    pub fn read(dir: &Path) -> anyhow::Result<ExperimentResults> {
        Self::read_as(dir, true)
    }

    /// The folder with its runs as the run stage stored them, without the
    /// stability that a sweep measured again ([`REFINED_FILE`]).
    pub fn read_unrefined(dir: &Path) -> anyhow::Result<ExperimentResults> {
        Self::read_as(dir, false)
    }

    fn read_as(dir: &Path, refined: bool) -> anyhow::Result<ExperimentResults> {
        let plan: Plan = read_json(&dir.join("plan.json"))?;
        let (mut runs, mut missing, mut damaged) = (Vec::new(), Vec::new(), Vec::new());
        for r in &plan.runs {
            match read_run(dir, &r.hash) {
                None => missing.push(r.hash.clone()),
                Some(Ok(rec)) => runs.push(rec),
                Some(Err(e)) => damaged.push(format!("{e:#}")),
            }
        }
        if refined
            && let Some(refined) = optional::<BTreeMap<String, RefinedStability>>(dir, REFINED_FILE, &mut damaged)
        {
            for r in &mut runs {
                apply_refined(r, &refined);
            }
        }
        let scatter = read_json(&dir.join("scatter.json")).ok();
        let cpath = dir.join("classification.json");
        let classification = if cpath.is_file() {
            match read_json(&cpath) {
                Ok(c) => Some(c),
                Err(e) => {
                    damaged.push(format!("{e:#}"));
                    None
                }
            }
        } else {
            None
        };
        let segments = optional::<crate::segments::Segments>(dir, "segments.json", &mut damaged);
        let targeting = optional::<Keyed<crate::targeting::TargetingReport>>(
            dir,
            "targeting.json",
            &mut damaged,
        )
        .map(|t| t.report);
        let cohorts =
            optional::<Keyed<crate::cohorts::CohortReport>>(dir, "cohorts.json", &mut damaged)
                .map(|t| t.report);
        let test_dir = dir.join(crate::abtest::FOLDER);
        let test_plan = optional::<crate::abtest::TestPlan>(&test_dir, "plan.json", &mut damaged);
        let test_reading =
            optional::<crate::abtest::TestReading>(&test_dir, "reading.json", &mut damaged);
        let similarity = optional::<Keyed<crate::neighbours::SimilarityReport>>(
            dir,
            "similarity.json",
            &mut damaged,
        )
        .map(|t| t.report);
        Ok(ExperimentResults {
            similarity,
            test_plan,
            test_reading,
            cohorts,
            targeting,
            segments,
            classification,
            dir: dir.to_path_buf(),
            plan,
            runs,
            missing,
            damaged,
            scatter,
        })
    }

    /// Every experiment folder (holding a plan.json) under `root`, or `root` itself.
    pub fn folders(root: &Path) -> Vec<PathBuf> {
        if root.join("plan.json").is_file() {
            return vec![root.to_path_buf()];
        }
        let mut v: Vec<PathBuf> = std::fs::read_dir(root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("plan.json").is_file())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// A column of `T` when every present value converts with `get` (absent
/// values become nulls); `None` when one does not.
fn typed<T>(
    name: &str,
    vals: &[Option<&ParamValue>],
    get: fn(&ParamValue) -> Option<T>,
) -> Option<Column>
where
    Series: NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    let converted: Option<Vec<Option<T>>> = vals
        .iter()
        .map(|v| match v {
            None => Some(None),
            Some(p) => get(p).map(Some),
        })
        .collect();
    converted.map(|v| Series::new(name.into(), v).into())
}

/// The tidy table: one row per run, parameters and metrics as columns.
pub fn summary_frame(runs: &[RunRecord]) -> PolarsResult<DataFrame> {
    let text_col = |name: &str, f: &dyn Fn(&RunRecord) -> Option<String>| -> Column {
        Series::new(name.into(), runs.iter().map(f).collect::<Vec<_>>()).into()
    };
    let mut cols: Vec<Column> = vec![
        text_col("hash", &|r| Some(r.hash.clone())),
        text_col("experiment", &|r| Some(r.experiment.clone())),
        text_col("status", &|r| {
            Some(format!("{:?}", r.status).to_lowercase())
        }),
        text_col("representation", &|r| {
            Some(r.config.representation.algorithm.clone())
        }),
        text_col("clusterer", &|r| Some(r.config.clusterer.algorithm.clone())),
    ];
    // Parameters: one column per (stage, name); numeric where every value is
    // of one numeric kind, text otherwise (e.g. a count beside a fraction).
    for (prefix, pick) in [
        (
            "rep_",
            (|r: &RunRecord| &r.config.representation.params)
                as fn(&RunRecord) -> &strata_core::Params,
        ),
        ("clu_", |r: &RunRecord| &r.config.clusterer.params),
    ] {
        let mut names: Vec<String> = runs
            .iter()
            .flat_map(|r| pick(r).0.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        for n in names {
            let vals: Vec<Option<&ParamValue>> = runs.iter().map(|r| pick(r).0.get(&n)).collect();
            let col = format!("{prefix}{n}");
            let c: Column = typed(&col, &vals, |v| match v {
                ParamValue::Int(i) => Some(*i),
                _ => None,
            })
            .or_else(|| {
                typed(&col, &vals, |v| match v {
                    ParamValue::Float(x) => Some(*x),
                    _ => None,
                })
            })
            .or_else(|| {
                typed(&col, &vals, |v| match v {
                    ParamValue::Bool(b) => Some(*b),
                    _ => None,
                })
            })
            .unwrap_or_else(|| {
                let text: Vec<Option<String>> =
                    vals.iter().map(|v| v.map(ParamValue::to_string)).collect();
                Series::new(col.as_str().into(), text).into()
            });
            cols.push(c);
        }
    }
    cols.push(
        Series::new(
            "seed".into(),
            runs.iter().map(|r| r.config.seed.0).collect::<Vec<u64>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "n_components".into(),
            runs.iter()
                .map(|r| r.representation.as_ref().map(|x| x.n_components as u64))
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "n_clusters".into(),
            runs.iter()
                .map(|r| r.clustering.as_ref().map(|x| x.n_clusters as u64))
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    let mut metric_names: Vec<&String> = runs.iter().flat_map(|r| r.metrics.keys()).collect();
    metric_names.sort();
    metric_names.dedup();
    for m in metric_names {
        cols.push(
            Series::new(
                m.as_str().into(),
                runs.iter()
                    .map(|r| r.metrics.get(m).copied())
                    .collect::<Vec<_>>(),
            )
            .into(),
        );
    }
    cols.push(
        Series::new(
            "silhouette_rows".into(),
            runs.iter()
                .map(|r| r.silhouette_rows.map(|n| n as u64))
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    let mut stages: Vec<&String> = runs.iter().flat_map(|r| r.timings_s.keys()).collect();
    stages.sort();
    stages.dedup();
    for s in stages {
        let name = format!("time_{s}_s");
        cols.push(
            Series::new(
                name.as_str().into(),
                runs.iter()
                    .map(|r| r.timings_s.get(s).copied())
                    .collect::<Vec<_>>(),
            )
            .into(),
        );
    }
    cols.push(text_col("warnings", &|r| Some(r.warnings.join("; "))));
    cols.push(text_col("error", &|r| r.error.clone()));
    DataFrame::new_infer_height(cols)
}

/// Writes `summary.csv` and `summary.parquet` for the runs of an experiment folder.
pub fn write_summary(dir: &Path, runs: &[RunRecord]) -> anyhow::Result<Vec<PathBuf>> {
    let mut df = summary_frame(runs).map_err(|e| anyhow::anyhow!("summary table: {e}"))?;
    let csv = dir.join("summary.csv");
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("summary.csv: {e}"))?;
    write_atomic(&csv, &buf)?;
    let pq = dir.join("summary.parquet");
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("summary.parquet: {e}"))?;
    write_atomic(&pq, &buf)?;
    Ok(vec![csv, pq])
}

/// Writes `classification.csv`: one row per (feature set, model) with the
/// mean and standard deviation of every metric over the folds.
pub fn write_classification_summary(
    dir: &Path,
    c: &crate::classify::ClassificationRecord,
) -> anyhow::Result<PathBuf> {
    let s = &c.report.summary;
    let mut cols: Vec<Column> = vec![
        Series::new(
            "feature_set".into(),
            s.iter().map(|r| r.feature_set.clone()).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "model".into(),
            s.iter().map(|r| r.model.clone()).collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "n_folds".into(),
            s.iter().map(|r| r.n_folds as u64).collect::<Vec<_>>(),
        )
        .into(),
    ];
    for m in strata_neural::metrics::METRIC_NAMES {
        cols.push(
            Series::new(
                format!("{m}_mean").as_str().into(),
                s.iter().map(|r| r.mean.get(m).copied()).collect::<Vec<_>>(),
            )
            .into(),
        );
        cols.push(
            Series::new(
                format!("{m}_sd").as_str().into(),
                s.iter().map(|r| r.sd.get(m).copied()).collect::<Vec<_>>(),
            )
            .into(),
        );
    }
    for (name, f) in [
        (
            "tp",
            (|c: &strata_neural::Confusion| c.tp) as fn(&strata_neural::Confusion) -> usize,
        ),
        ("fp", |c| c.fp),
        ("tn", |c| c.tn),
        ("fn", |c| c.r#fn),
    ] {
        cols.push(
            Series::new(
                name.into(),
                s.iter().map(|r| f(&r.confusion) as u64).collect::<Vec<_>>(),
            )
            .into(),
        );
    }
    let mut df = DataFrame::new_infer_height(cols)
        .map_err(|e| anyhow::anyhow!("classification table: {e}"))?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("classification.csv: {e}"))?;
    let path = dir.join("classification.csv");
    write_atomic(&path, &buf)?;
    Ok(path)
}

/// What `merge` did.
#[derive(Debug, Default)]
pub struct MergeOutcome {
    pub experiments: Vec<String>,
    pub copied: usize,
    pub already_present: usize,
    pub damaged: Vec<String>,
}

/// Combines result folders (e.g. the shards of one sweep) into `into`: run
/// files are copied when absent, plans must agree, then summaries are rebuilt.
pub fn merge(into: &Path, sources: &[PathBuf]) -> anyhow::Result<MergeOutcome> {
    // `into` holds experiments' folders: one experiment's own folder there
    // would get another nested inside it.
    if into.join("plan.json").is_file() {
        anyhow::bail!(
            "{}: this is one experiment's result folder (it holds plan.json); merge into the folder that holds the experiments' folders{}",
            into.display(),
            into.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(String::new(), |p| format!(" ({})", p.display()))
        );
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let mut out = MergeOutcome::default();
    for src in sources {
        let folders = ExperimentResults::folders(src);
        if folders.is_empty() {
            anyhow::bail!(
                "{}: no experiment results (no plan.json) found",
                src.display()
            );
        }
        for f in folders {
            let plan: Plan = read_json(&f.join("plan.json"))?;
            let dest = into.join(&plan.experiment);
            if same(&f, &dest) {
                anyhow::bail!(
                    "{}: it is already the merged folder of `{}` in {}; merge other folders into it",
                    f.display(),
                    plan.experiment,
                    into.display()
                );
            }
            std::fs::create_dir_all(dest.join("runs"))
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest.display()))?;
            let dest_plan = dest.join("plan.json");
            if dest_plan.is_file() {
                let existing: Plan = read_json(&dest_plan)?;
                let hashes = |p: &Plan| p.runs.iter().map(|r| r.hash.clone()).collect::<Vec<_>>();
                if hashes(&existing) != hashes(&plan)
                    || existing.dataset.identity() != plan.dataset.identity()
                {
                    anyhow::bail!(
                        "{}: plan of `{}` differs from the one already in {} (another manifest version or dataset); merge only shards of one sweep",
                        f.display(),
                        plan.experiment,
                        dest.display()
                    );
                }
            } else {
                write_json(&dest_plan, &plan)?;
            }
            // Classification units of the shards: every file, once.
            let units = f.join(crate::classify::UNITS);
            if units.is_dir() {
                let dest_units = dest.join(crate::classify::UNITS);
                std::fs::create_dir_all(&dest_units)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest_units.display()))?;
                let entries = std::fs::read_dir(&units)
                    .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", units.display()))?;
                for e in entries.flatten() {
                    let target = dest_units.join(e.file_name());
                    if target.is_file() {
                        continue;
                    }
                    match read_json::<Vec<strata_neural::cv::FoldResult>>(&e.path()) {
                        Ok(unit) => write_json(&target, &unit)?,
                        Err(err) => out.damaged.push(format!("{err:#}")),
                    }
                }
            }
            let cls = f.join("classification.json");
            if !dest.join("classification.json").is_file() && cls.is_file() {
                let c: crate::classify::ClassificationRecord = read_json(&cls)?;
                write_json(&dest.join("classification.json"), &c)?;
            }
            // The similar-tracks measurement, computed by one shard.
            if !dest.join("similarity.json").is_file() && f.join("similarity.json").is_file() {
                // Checked to parse, then copied byte for byte (a JSON value
                // read and written again may lose the last bit of a float).
                let from = f.join("similarity.json");
                read_json::<serde_json::Value>(&from)?;
                let to = dest.join("similarity.json");
                let tmp = to.with_extension("json.part");
                std::fs::copy(&from, &tmp)
                    .and_then(|_| std::fs::rename(&tmp, &to))
                    .map_err(|e| anyhow::anyhow!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
            }
            if !dest.join("scatter.json").is_file() && f.join("scatter.json").is_file() {
                let s: Scatter = read_json(&f.join("scatter.json"))?;
                write_json(&dest.join("scatter.json"), &s)?;
            }
            for r in &plan.runs {
                match read_run(&f, &r.hash) {
                    None => {}
                    Some(Err(e)) => out.damaged.push(format!("{e:#}")),
                    Some(Ok(rec)) => {
                        if matches!(read_run(&dest, &r.hash), Some(Ok(_))) {
                            out.already_present += 1;
                        } else {
                            write_json(&run_path(&dest, &r.hash), &rec)?;
                            out.copied += 1;
                        }
                    }
                }
            }
            if !out.experiments.contains(&plan.experiment) {
                out.experiments.push(plan.experiment.clone());
            }
        }
    }
    for e in &out.experiments {
        let res = ExperimentResults::read(&into.join(e))?;
        write_summary(&res.dir, &res.runs)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_path_is_recorded_beside_the_results_folder_however_typed() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let project = tmp.path().join("project");
        std::fs::create_dir_all(project.join("experiments"))?;
        std::fs::create_dir_all(project.join("results"))?;
        let manifest = project.join("experiments").join("a.toml");
        std::fs::write(&manifest, "name = \"a\"\n")?;
        let out = project.join("results");
        let relative = Path::new("experiments").join("a.toml").display().to_string();
        assert_eq!(recorded_manifest_path(&manifest, &out), relative);
        // The same file through `..`, and the results folder through `..`.
        let detour = out.join("..").join("experiments").join("a.toml");
        assert_eq!(recorded_manifest_path(&detour, &out), relative);
        let out_detour = project.join("experiments").join("..").join("results");
        assert_eq!(recorded_manifest_path(&manifest, &out_detour), relative);
        // Results elsewhere: the manifest's full path.
        let elsewhere = tmp.path().join("other").join("results");
        std::fs::create_dir_all(&elsewhere)?;
        let full = manifest.canonicalize()?.display().to_string();
        assert_eq!(recorded_manifest_path(&manifest, &elsewhere), full);
        Ok(())
    }
}
