//! The downstream classification stage: repeated stratified cross-validation
//! of the MLP and the baselines over the manifest's feature sets, with paired
//! comparisons of every feature set against `original`.
//!
//! The stage runs once per experiment (not per grid point) and is stored as
//! `results/<experiment>/classification.json`, keyed by a hash of its
//! configuration, the seed, the dataset's SHA-256 and the strata version.

use crate::manifest::{Classification, FeatureKind, FeatureSpec};
use crate::registry::Registry;
use crate::store::DatasetRef;
use serde::{Deserialize, Serialize};
use strata_core::Seed;
use strata_neural::baselines::{Logistic, Tree};
use strata_neural::cv::{
    Classifier, CvConfig, CvReport, PairedDiff, Prepare, Source,
    paired_comparison,
};
use strata_neural::features::{ClusterFeatures, ColumnPicker, FeatureBuilder, Original, Reduced, WithClusters};

/// Metrics compared between feature sets (paired over the same folds).
pub const COMPARED: [&str; 4] = ["recall", "pr_auc", "balanced_accuracy", "accuracy"];

/// One stored classification stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRecord {
    pub hash: String,
    pub experiment: String,
    pub config: Classification,
    pub seed: Seed,
    pub dataset: DatasetRef,
    pub strata_version: String,
    pub target: String,
    pub positives: usize,
    pub rows: usize,
    pub report: CvReport,
    /// Every feature set against `original`, per model and compared metric.
    pub comparisons: Vec<PairedDiff>,
    pub seconds: f64,
}

pub fn classification_hash(c: &Classification, seed: Seed, dataset_sha256: &str) -> String {
    crate::sweep::content_hash(&serde_json::json!({
        "classification": c,
        "seed": seed,
        "dataset_sha256": dataset_sha256,
        "strata_version": strata_core::VERSION,
    }))
}

/// Builds the feature builder a spec names, from the registry. A cluster or
/// posterior set whose spec selects columns fits its clusterer on those
/// columns, resolved against each fold's recipe (as [`SelectedPrep`]).
pub fn builder(spec: &FeatureSpec, registry: &Registry) -> anyhow::Result<Box<dyn FeatureBuilder>> {
    let Some(algo) = &spec.algorithm else {
        return Ok(Box::new(Original));
    };
    let label = algo.algorithm.clone();
    Ok(match spec.kind {
        FeatureKind::Original => Box::new(Original),
        FeatureKind::Reduced => Box::new(Reduced {
            label,
            reducer: registry.build_reducer(algo)?,
        }),
        FeatureKind::Clusters | FeatureKind::Posteriors => Box::new(WithClusters {
            label,
            clusterer: {
                let c = registry.build_clusterer(algo)?;
                if spec.drop_discrete {
                    Box::new(crate::features::ContinuousOnlyClusterer(c))
                } else {
                    c
                }
            },
            kind: if spec.kind == FeatureKind::Clusters {
                ClusterFeatures::OneHot
            } else {
                ClusterFeatures::Posteriors
            },
            columns: (!spec.columns.is_all()).then(|| {
                let columns = spec.columns.clone();
                Box::new(move |names: &[String]| columns.resolve(names, false)) as ColumnPicker
            }),
        }),
    })
}

/// Runs the classification stage on a loaded dataset.
/// Folder of an experiment's stored classification units.
pub const UNITS: &str = "classification_units";

/// The content hash of one unit of the stage: a (repeat, fold, feature set)
/// of one classification configuration.
pub fn unit_hash(stage: &str, repeat: usize, fold: usize, feature_set: &str) -> String {
    crate::sweep::content_hash(&serde_json::json!({
        "classification": stage, "repeat": repeat, "fold": fold, "feature_set": feature_set,
    }))
}

/// Runs the classification stage on a loaded dataset, one unit (repeat,
/// fold, feature set, with every model) at a time: units already stored in
/// `dir/classification_units/` are reused, new ones are stored as they end.
/// With `shard`, only the units whose hash falls in the shard are computed
/// and `None` is returned; without, every missing unit is computed and the
/// record assembled from all of them (the same as one uninterrupted run).
#[allow(clippy::too_many_arguments)]
pub fn run(
    experiment: &str,
    loaded: &strata_data::LoadedDataset,
    dataset: &DatasetRef,
    c: &Classification,
    seed: Seed,
    registry: &Registry,
    progress: bool,
    dir: &std::path::Path,
    shard: Option<(u64, u64)>,
) -> anyhow::Result<Option<ClassificationRecord>> {
    let t = std::time::Instant::now();
    let target = loaded.dataset.target().ok_or_else(|| {
        anyhow::anyhow!(
            "{experiment}: classification needs a target, and descriptor `{}` declares none (columns.target)",
            dataset.descriptor
        )
    })?;
    let y: Vec<f64> = target.values.iter().map(|&v| f64::from(v)).collect();
    let builders: Vec<Box<dyn FeatureBuilder>> = c
        .features
        .iter()
        .map(|f| builder(f, registry))
        .collect::<anyhow::Result<_>>()?;
    let fs: Vec<&dyn FeatureBuilder> = builders.iter().map(|b| b.as_ref()).collect();
    let (logistic, tree) = (Logistic::default(), Tree::default());
    let mut models: Vec<&dyn Classifier> = vec![&c.mlp];
    if c.baselines.iter().any(|b| b == "logistic") {
        models.push(&logistic);
    }
    if c.baselines.iter().any(|b| b == "tree") {
        models.push(&tree);
    }
    let cfg = CvConfig {
        folds: c.folds,
        repeats: c.repeats,
        threshold: c.threshold,
        seed: seed.named("classification"),
        progress,
        ..CvConfig::default()
    };
    // The preprocessing recipe is refitted on the training rows of every fold.
    let prep = RecipePrep(loaded);
    let source = Source::Prepared {
        prepare: &prep,
        rows: loaded.dataset.n_samples(),
    };
    let stage = classification_hash(c, seed, &dataset.identity());
    let units = dir.join(UNITS);
    std::fs::create_dir_all(&units)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", units.display()))?;
    let unit_path = |r: usize, f: usize, name: &str| units.join(format!("{}.json", unit_hash(&stage, r, f, name)));
    let stored = |r: usize, f: usize, name: &str| -> Option<Vec<strata_neural::cv::FoldResult>> {
        crate::store::read_json(&unit_path(r, f, name)).ok()
    };
    let keep = |r: usize, f: usize, name: &str| {
        stored(r, f, name).is_none()
            && shard.is_none_or(|s| crate::sweep::in_shard(&unit_hash(&stage, r, f, name), s))
    };
    let computed = strata_neural::cv::cross_validate_units(source, &y, &fs, &models, &cfg, &keep)?;
    // Store each unit's results (every model of it) in one file.
    let mut by_unit: std::collections::BTreeMap<(usize, usize, String), Vec<strata_neural::cv::FoldResult>> =
        std::collections::BTreeMap::new();
    for f in computed {
        by_unit
            .entry((f.repeat, f.fold, f.feature_set.clone()))
            .or_default()
            .push(f);
    }
    for ((r, f, name), results) in &by_unit {
        crate::store::write_json(&unit_path(*r, *f, name), results)?;
    }
    if shard.is_some() {
        return Ok(None);
    }
    let names: Vec<String> = fs.iter().map(|f| f.name()).collect();
    let mut all = Vec::new();
    for r in 0..c.repeats {
        for f in 0..c.folds {
            for name in &names {
                let unit = stored(r, f, name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{experiment}: classification unit (repeat {r}, fold {f}, {name}) is missing from {}",
                        units.display()
                    )
                })?;
                all.extend(unit);
            }
        }
    }
    let model_names: Vec<String> = models.iter().map(|m| m.name()).collect();
    let report = strata_neural::cv::CvReport::assemble(&cfg, all, &names, &model_names);
    let mut comparisons = Vec::new();
    if let Some(base) = fs.iter().map(|f| f.name()).find(|n| n == "original") {
        for f in fs.iter().map(|f| f.name()).filter(|n| *n != base) {
            for m in &models {
                for metric in COMPARED {
                    comparisons.push(paired_comparison(
                        &report,
                        &m.name(),
                        &base,
                        &f,
                        metric,
                        0.95,
                    )?);
                }
            }
        }
    }
    // Every comparison is reported together: one family for Holm's adjustment.
    strata_neural::cv::adjust_family(&mut comparisons);
    Ok(Some(ClassificationRecord {
        hash: stage.clone(),
        experiment: experiment.to_string(),
        config: c.clone(),
        seed,
        dataset: dataset.clone(),
        strata_version: strata_core::VERSION.to_string(),
        target: target.name.clone(),
        positives: target.values.iter().filter(|&&v| v == 1).count(),
        rows: y.len(),
        report,
        comparisons,
        seconds: t.elapsed().as_secs_f64(),
    }))
}

/// The dataset's preprocessing recipe, fitted afresh on given rows
/// ([`strata_data::LoadedDataset::prepare_rows`]): what keeps held-out rows
/// out of every fitted statistic in cross-validation and targeting.
pub struct RecipePrep<'a>(pub &'a strata_data::LoadedDataset);

impl Prepare for RecipePrep<'_> {
    fn prepare(
        &self,
        fit_rows: &[usize],
        apply: &[&[usize]],
    ) -> Result<(ndarray::Array2<f64>, Vec<ndarray::Array2<f64>>), strata_neural::NeuralError> {
        let (fit, applied, _) = self.prepare_named(fit_rows, apply)?;
        Ok((fit, applied))
    }

    /// The fresh recipe's matrices and its columns' names.
    fn prepare_named(
        &self,
        fit_rows: &[usize],
        apply: &[&[usize]],
    ) -> Result<strata_neural::cv::Prepared, strata_neural::NeuralError> {
        let p = self
            .0
            .prepare_rows_named(fit_rows, apply)
            .map_err(|e| strata_neural::NeuralError::Features {
                name: "preprocessing recipe".into(),
                message: e.to_string(),
            })?;
        Ok((
            p.fit.features,
            p.applied.into_iter().map(|t| t.features).collect(),
            Some(p.names),
        ))
    }
}

/// [`RecipePrep`] keeping only the columns `[features]` selects, resolved by
/// name against each fresh recipe's columns: what the segmentation pipeline
/// sees in held-out targeting, while the MLP sees every prepared feature.
pub struct SelectedPrep<'a> {
    pub loaded: &'a strata_data::LoadedDataset,
    pub columns: &'a crate::features::Columns,
}

impl Prepare for SelectedPrep<'_> {
    fn prepare(
        &self,
        fit_rows: &[usize],
        apply: &[&[usize]],
    ) -> Result<(ndarray::Array2<f64>, Vec<ndarray::Array2<f64>>), strata_neural::NeuralError> {
        let err = |message: String| strata_neural::NeuralError::Features {
            name: "preprocessing recipe".into(),
            message,
        };
        let p = self
            .loaded
            .prepare_rows_named(fit_rows, apply)
            .map_err(|e| err(e.to_string()))?;
        let kept = self.columns.resolve(&p.names, false).map_err(err)?;
        let pick = |m: ndarray::Array2<f64>| m.select(ndarray::Axis(1), &kept);
        Ok((
            pick(p.fit.features),
            p.applied.into_iter().map(|a| pick(a.features)).collect(),
        ))
    }
}
