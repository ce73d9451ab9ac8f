//! The sections that describe the runs themselves: the best per
//! representation and clusterer, curves against k, the representations, every
//! run, and the downstream classification.

use super::page::{Doc, fmt, pm};
use super::plots::{Series, line_chart};
use super::{HEADLINE, family, k_of};
use crate::selection::{choose, stability_cell};
use crate::store::{ExperimentResults, RunRecord};
use std::collections::BTreeMap;

/// The best run per representation and clusterer family, by the selection rule.
pub(super) fn best_section(d: &mut Doc, all: &[&RunRecord]) {
    // Best per (representation, clusterer family).
    let mut groups: BTreeMap<(String, String), Vec<&RunRecord>> = BTreeMap::new();
    for r in all {
        groups
            .entry((r.config.representation.label(), family(r)))
            .or_default()
            .push(r);
    }
    d.h(2, "Best configuration per representation and clusterer");
    let mut rows = Vec::new();
    for ((rep, fam), runs) in &groups {
        if let Some((b, why)) = choose(runs) {
            rows.push(vec![
                rep.clone(),
                fam.clone(),
                b.config
                    .clusterer
                    .params
                    .0
                    .get("k")
                    .map_or("–".into(), |k| k.to_string()),
                fmt(b.metrics.get("silhouette_common").copied()),
                fmt(b.metrics.get("silhouette").copied()),
                stability_cell(b),
                fmt(b.metrics.get("bic").copied()),
                why,
            ]);
        }
    }
    d.table(
        &[
            "representation",
            "clusterer",
            "k",
            "common-space silhouette",
            "own-space silhouette",
            "pipeline stability ARI [95 % interval]",
            "BIC",
            "why",
        ],
        &rows,
    );
}

/// Metrics against k, one chart per representation and metric.
pub(super) fn curves_section(d: &mut Doc, all: &[&RunRecord]) {
    // Curves against k, one chart per representation and metric.
    d.h(2, "Metrics against k");
    d.md_only("Charts of each metric against k, per representation, are in `report.html`; every run's numbers are in the table under All runs.");
    let reps: Vec<String> = {
        let mut v: Vec<String> = all
            .iter()
            .map(|r| r.config.representation.label())
            .collect();
        v.dedup();
        let mut seen = Vec::new();
        v.retain(|x| {
            let new = !seen.contains(x);
            seen.push(x.clone());
            new
        });
        v
    };
    for rep in &reps {
        d.chart_heading(3, rep);
        for (metric, label) in [
            ("inertia", "inertia (within-cluster sum of squares)"),
            ("silhouette_common", "mean silhouette in the common space (prepared features)"),
            ("silhouette", "mean silhouette in this representation's own space (compare within it only)"),
            ("bic", "BIC"),
            ("aic", "AIC"),
            ("stability_mean_ari", "pipeline stability (mean ARI)"),
        ] {
            let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            for r in all
                .iter()
                .filter(|r| &r.config.representation.label() == rep)
            {
                if let (Some(k), Some(v)) = (k_of(r), r.metrics.get(metric)) {
                    series.entry(family(r)).or_default().push((k, *v));
                }
            }
            let mut series: Series = series.into_iter().collect();
            for (_, p) in &mut series {
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            d.svg(line_chart(
                &format!("{label} — {rep}"),
                "k (clusters)",
                label,
                &series,
            ));
        }
    }
}

/// Each representation once: components, reconstruction, kurtosis, variance curves.
pub(super) fn representations_section(d: &mut Doc, all: &[&RunRecord]) {
    // Representations.
    d.h(2, "Representations");
    let mut rep_rows = Vec::new();
    let mut seen = Vec::new();
    for r in all {
        let label = r.config.representation.label();
        if seen.contains(&label) {
            continue;
        }
        let Some(info) = &r.representation else {
            continue;
        };
        seen.push(label.clone());
        let kurt: Vec<String> = info.kurtosis.iter().map(|k| format!("{k:.2}")).collect();
        rep_rows.push(vec![
            label.clone(),
            info.n_components.to_string(),
            fmt(info.reconstruction_error),
            kurt.join(", "),
            info.diagnostics.warnings.join("; "),
        ]);
        if let (Some(ratio), Some(cum)) = (
            info.diagnostics.series.get("explained_variance_ratio"),
            info.diagnostics.series.get("cumulative_variance_ratio"),
        ) {
            let series: Series = vec![
                (
                    "per component".into(),
                    ratio
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ((i + 1) as f64, *v))
                        .collect(),
                ),
                (
                    "cumulative".into(),
                    cum.iter()
                        .enumerate()
                        .map(|(i, v)| ((i + 1) as f64, *v))
                        .collect(),
                ),
            ];
            d.svg(line_chart(
                &format!("explained variance — {label}"),
                "component",
                "share of variance",
                &series,
            ));
        }
        if let Some(k) = info.diagnostics.series.get("component_kurtosis") {
            let series: Series = vec![(
                "excess kurtosis".into(),
                k.iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            )];
            d.svg(line_chart(
                &format!("kurtosis per component — {label}"),
                "component",
                "excess kurtosis",
                &series,
            ));
        }
    }
    d.table(
        &[
            "representation",
            "components",
            "reconstruction MSE",
            "excess kurtosis per component",
            "warnings",
        ],
        &rep_rows,
    );
}

/// Every run with its headline metrics and notes.
pub(super) fn all_runs_section(d: &mut Doc, all: &[&RunRecord]) {
    // Every run.
    d.h(2, "All runs");
    let mut rows = Vec::new();
    for r in all {
        let mut row = vec![
            r.hash.clone(),
            r.config.representation.label(),
            r.config.clusterer.label(),
            format!("{:?}", r.status).to_lowercase(),
        ];
        for (m, _) in HEADLINE {
            row.push(if *m == "stability_mean_ari" {
                stability_cell(r)
            } else {
                fmt(r.metrics.get(*m).copied())
            });
        }
        row.push(fmt(r.metrics.get("inertia").copied()));
        row.push(r.error.clone().unwrap_or_else(|| r.warnings.join("; ")));
        rows.push(row);
    }
    d.table(
        &[
            "run",
            "representation",
            "clusterer",
            "status",
            "common-space silhouette",
            "own-space silhouette",
            "pipeline stability ARI [95 % interval]",
            "Calinski-Harabasz",
            "Davies-Bouldin",
            "BIC",
            "inertia",
            "notes",
        ],
        &rows,
    );
}

/// The downstream classification, or a line saying there is none.
pub(super) fn classification_stage(d: &mut Doc, res: &ExperimentResults) {
    d.h(2, "Downstream classification");
    match &res.classification {
        None => d.p("This experiment has no classification stage."),
        Some(c) => classification_section(d, c),
    }
}

/// Which classification feature sets cluster on the `[features]`
/// selection, and which on the continuous columns only
/// (`discrete_in_mixtures = false`), as sentences; `None` when none does.
fn mixture_columns_note(features: &[crate::manifest::FeatureSpec]) -> Option<String> {
    let labels = |keep: &dyn Fn(&crate::manifest::FeatureSpec) -> bool| -> Vec<String> {
        features
            .iter()
            .filter(|f| keep(f))
            .map(|f| format!("`{}`", f.label()))
            .collect()
    };
    let mut notes = Vec::new();
    let selected = labels(&|f| !f.columns.is_all());
    if let Some(f) = features.iter().find(|f| !f.columns.is_all()) {
        notes.push(format!(
            "The clusterers of {} are fitted on the features `[features]` selects for the segmentation ({}), resolved by name in each training fold.",
            selected.join(" and "),
            f.columns.label()
        ));
    }
    let sets = labels(&|f| f.drop_discrete);
    if !sets.is_empty() {
        notes.push(format!(
            "The mixtures of {} are fitted, in each training fold, on the columns with more than {} distinct values there (`discrete_in_mixtures = false`, as the segmentation's mixtures).",
            sets.join(" and "),
            crate::features::DISCRETE_MAX_VALUES
        ));
    }
    (!notes.is_empty()).then(|| format!("{} The MLP still sees every prepared feature.", notes.join(" ")))
}

fn classification_section(d: &mut Doc, c: &crate::classify::ClassificationRecord) {
    d.p(&format!(
        "Target `{}`: {} positives of {} rows ({:.1} %). {} folds x {} repeats, stratified; within each training fold 20 % is held out for early stopping and the decision threshold, which is {}. Figures are means ± standard deviations over the {} test folds.",
        c.target,
        c.positives,
        c.rows,
        100.0 * c.positives as f64 / c.rows.max(1) as f64,
        c.config.folds,
        c.config.repeats,
        c.report.threshold_rule,
        c.config.folds * c.config.repeats
    ));
    if let Some(note) = mixture_columns_note(&c.config.features) {
        d.p(&note);
    }
    let mut rows = Vec::new();
    for s in &c.report.summary {
        let mut row = vec![s.feature_set.clone(), s.model.clone()];
        for m in [
            "accuracy",
            "recall",
            "precision",
            "specificity",
            "pr_auc",
            "roc_auc",
            "balanced_accuracy",
        ] {
            row.push(pm(s.mean.get(m), s.sd.get(m)));
        }
        row.push(format!(
            "TP {} FP {} TN {} FN {}",
            s.confusion.tp, s.confusion.fp, s.confusion.tn, s.confusion.r#fn
        ));
        rows.push(row);
    }
    d.table(
        &[
            "feature set",
            "model",
            "accuracy",
            "recall",
            "precision",
            "specificity",
            "PR-AUC",
            "ROC-AUC",
            "balanced accuracy",
            "confusion (summed over folds)",
        ],
        &rows,
    );
    if !c.comparisons.is_empty() {
        let first = &c.comparisons[0];
        d.h(3, "Each feature set against the original features");
        d.p(&format!(
            "Paired over the same {} folds; {:.0} % intervals from the {}, which widens the interval for the overlap of the training sets of repeated cross-validation. Intervals are per comparison (unadjusted); the family is all {} comparisons below, and the last column gives Holm-adjusted p-values over it.",
            first.n_pairs,
            100.0 * first.level,
            first.method,
            first.family_size
        ));
        let rows: Vec<Vec<String>> = c
            .comparisons
            .iter()
            .map(|p| {
                vec![
                    p.b.clone(),
                    p.model.clone(),
                    p.metric.clone(),
                    format!("{:+.3}", p.mean_diff),
                    format!("[{:+.3}, {:+.3}]", p.low, p.high),
                    p.verdict(),
                    format!("{:.3}", p.p_holm),
                ]
            })
            .collect();
        d.table(
            &[
                "feature set",
                "model",
                "metric",
                "difference",
                "95 % interval (unadjusted)",
                "verdict",
                "p (Holm)",
            ],
            &rows,
        );
    }
    if let Some(h) = c
        .report
        .folds
        .iter()
        .find(|f| f.model == "mlp" && f.repeat == 0 && f.fold == 0)
        .and_then(|f| f.history.as_ref().map(|h| (f.feature_set.clone(), h)))
    {
        let (fs, h) = h;
        let series: Series = vec![
            (
                "training loss".into(),
                h.train_loss
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            ),
            (
                "validation loss".into(),
                h.validation_loss
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            ),
        ];
        d.svg(line_chart(
            &format!("MLP learning curve — {fs}, repeat 0 fold 0"),
            "epoch",
            "weighted cross-entropy",
            &series,
        ));
        d.p(&format!(
            "Kept the weights of epoch {}{}.",
            h.best_epoch + 1,
            if h.stopped_early {
                " (stopped early)"
            } else {
                ""
            }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::mixture_columns_note;
    use crate::manifest::{AlgoConfig, FeatureKind, FeatureSpec};

    #[test]
    fn the_classification_section_names_the_mixtures_on_continuous_columns() {
        let spec = |kind: FeatureKind, algorithm: &str, drop_discrete: bool| FeatureSpec {
            kind,
            algorithm: Some(AlgoConfig {
                algorithm: algorithm.into(),
                params: Default::default(),
            }),
            drop_discrete,
            columns: Default::default(),
        };
        let mut sets = vec![
            spec(FeatureKind::Clusters, "kmeans", false),
            spec(FeatureKind::Clusters, "gmm", true),
        ];
        assert_eq!(
            mixture_columns_note(&sets).as_deref(),
            Some("The mixtures of `original+clusters:gmm` are fitted, in each training fold, on the columns with more than 12 distinct values there (`discrete_in_mixtures = false`, as the segmentation's mixtures). The MLP still sees every prepared feature.")
        );
        sets.push(spec(FeatureKind::Posteriors, "gmm", true));
        assert!(
            mixture_columns_note(&sets)
                .is_some_and(|n| n.starts_with("The mixtures of `original+clusters:gmm` and `original+posteriors:gmm` are")),
        );
        sets.retain(|s| !s.drop_discrete);
        assert_eq!(mixture_columns_note(&sets), None);
        // A selection of features for the clusterers is named.
        sets[0].columns = crate::features::Columns {
            include: vec!["Mnt*".into()],
            exclude: vec![],
        };
        let note = mixture_columns_note(&sets).expect("a note");
        assert!(
            note.starts_with("The clusterers of `original+clusters:kmeans` are fitted on the features `[features]` selects for the segmentation (include Mnt*), resolved by name in each training fold."),
            "{note}"
        );
    }
}
