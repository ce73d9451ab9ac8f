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
    Classifier, CvConfig, CvReport, PairedDiff, Prepare, Source, cross_validate_source,
    paired_comparison,
};
use strata_neural::features::{ClusterFeatures, FeatureBuilder, Original, Reduced, WithClusters};

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

/// Builds the feature builder a spec names, from the registry.
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
            clusterer: registry.build_clusterer(algo)?,
            kind: if spec.kind == FeatureKind::Clusters {
                ClusterFeatures::OneHot
            } else {
                ClusterFeatures::Posteriors
            },
        }),
    })
}

/// Runs the classification stage on a loaded dataset.
#[allow(clippy::too_many_arguments)]
pub fn run(
    experiment: &str,
    loaded: &strata_data::LoadedDataset,
    dataset: &DatasetRef,
    c: &Classification,
    seed: Seed,
    registry: &Registry,
    progress: bool,
) -> anyhow::Result<ClassificationRecord> {
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
    let report = cross_validate_source(source, &y, &fs, &models, &cfg)?;
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
    Ok(ClassificationRecord {
        hash: classification_hash(c, seed, &dataset.sha256),
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
    })
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
        self.0
            .prepare_rows(fit_rows, apply)
            .map_err(|e| strata_neural::NeuralError::Features {
                name: "preprocessing recipe".into(),
                message: e.to_string(),
            })
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
