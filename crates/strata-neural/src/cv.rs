//! Repeated stratified cross-validation of classifiers over feature sets, and
//! paired comparisons between feature sets.
//!
//! Within each training fold, a stratified validation split is held out: the
//! feature builders and the models are fitted on the rest, the MLP stops
//! early on the validation rows, and the decision threshold is chosen there.
//! The test fold is touched only to score the fitted model.

use crate::error::{NeuralError, check_target};
use crate::features::FeatureBuilder;
use crate::folds::{stratified_folds, stratified_split};
use crate::metrics::{Confusion, METRIC_NAMES, Metrics, ThresholdRule};
use crate::mlp::{FittedMlp, History, MlpConfig};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_core::Seed;

/// A fitted model that scores rows (higher = more likely positive).
pub trait Scorer: Send {
    fn score(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, NeuralError>;
    /// Per-epoch losses, for models trained in epochs.
    fn history(&self) -> Option<History> {
        None
    }
}

/// A classifier evaluated by cross-validation.
pub trait Classifier: Send + Sync {
    fn name(&self) -> String;
    /// Fits on `(x, y)`; `(xv, yv)` are validation rows the model may use
    /// for early stopping (never for fitting weights).
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
        xv: ArrayView2<'_, f64>,
        yv: &[u8],
        seed: Seed,
    ) -> Result<Box<dyn Scorer>, NeuralError>;
}

impl Scorer for FittedMlp {
    fn score(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, NeuralError> {
        self.predict_proba(x)
    }
    fn history(&self) -> Option<History> {
        Some(self.history.clone())
    }
}

impl Classifier for MlpConfig {
    fn name(&self) -> String {
        "mlp".into()
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
        xv: ArrayView2<'_, f64>,
        yv: &[u8],
        seed: Seed,
    ) -> Result<Box<dyn Scorer>, NeuralError> {
        Ok(Box::new(MlpConfig::fit(self, x, y, xv, yv, seed, &|_| {})?))
    }
}

/// How the cross-validation runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvConfig {
    pub folds: usize,
    pub repeats: usize,
    /// Share of each training fold held out for early stopping and the threshold.
    pub validation_fraction: f64,
    pub threshold: ThresholdRule,
    pub seed: Seed,
    /// Draw a progress bar on a terminal.
    #[serde(skip)]
    pub progress: bool,
}

impl Default for CvConfig {
    fn default() -> Self {
        CvConfig {
            folds: 5,
            repeats: 3,
            validation_fraction: 0.2,
            threshold: ThresholdRule::MaxF1,
            seed: Seed(0),
            progress: false,
        }
    }
}

/// One model on one feature set on one test fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    pub repeat: usize,
    pub fold: usize,
    pub feature_set: String,
    pub model: String,
    pub metrics: Metrics,
    pub history: Option<History>,
    pub seconds: f64,
}

/// Mean and standard deviation of every metric over the folds of one
/// (feature set, model), and the summed confusion matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub feature_set: String,
    pub model: String,
    pub n_folds: usize,
    pub mean: BTreeMap<String, f64>,
    pub sd: BTreeMap<String, f64>,
    pub confusion: Confusion,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub config: CvConfig,
    /// How thresholds were set, in words.
    pub threshold_rule: String,
    pub folds: Vec<FoldResult>,
    pub summary: Vec<Summary>,
}

fn summarize(folds: &[FoldResult]) -> Vec<Summary> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for f in folds {
        let k = (f.feature_set.clone(), f.model.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(fs, model)| {
            let mine: Vec<&FoldResult> = folds
                .iter()
                .filter(|f| f.feature_set == fs && f.model == model)
                .collect();
            let n = mine.len() as f64;
            let (mut mean, mut sd) = (BTreeMap::new(), BTreeMap::new());
            for m in METRIC_NAMES {
                let v: Vec<f64> = mine.iter().filter_map(|f| f.metrics.get(m)).collect();
                let mu = v.iter().sum::<f64>() / n;
                let var = if v.len() > 1 {
                    v.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (v.len() - 1) as f64
                } else {
                    0.0
                };
                mean.insert(m.to_string(), mu);
                sd.insert(m.to_string(), var.sqrt());
            }
            let mut c = Confusion::default();
            for f in &mine {
                c.tp += f.metrics.confusion.tp;
                c.fp += f.metrics.confusion.fp;
                c.tn += f.metrics.confusion.tn;
                c.r#fn += f.metrics.confusion.r#fn;
            }
            Summary {
                feature_set: fs,
                model,
                n_folds: mine.len(),
                mean,
                sd,
                confusion: c,
            }
        })
        .collect()
}

/// Cross-validates every model on every feature set over the same folds.
/// `y` holds 0/1 values, one per row of `x`.
pub fn cross_validate(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    features: &[&dyn FeatureBuilder],
    models: &[&dyn Classifier],
    cfg: &CvConfig,
) -> Result<CvReport, NeuralError> {
    cross_validate_source(Source::Matrix(x), y, features, models, cfg)
}

/// Prepares model matrices from raw rows with statistics fitted on some rows
/// only (a preprocessing recipe: imputation, clipping, scaling, ...).
pub trait Prepare: Sync {
    /// Fits on the rows `fit_rows` and returns their matrix and the matrix of
    /// each set in `apply`, rows in the order given. Nothing of the rows
    /// outside `fit_rows` may enter what is fitted.
    fn prepare(
        &self,
        fit_rows: &[usize],
        apply: &[&[usize]],
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError>;

    /// [`Prepare::prepare`] with the names of the prepared columns, which
    /// may differ between fits (a category absent from some rows): feature
    /// builders that pick columns by name read them
    /// ([`crate::features::FeatureBuilder::build_named`]). `None` when the
    /// preparation does not name its columns.
    fn prepare_named(&self, fit_rows: &[usize], apply: &[&[usize]]) -> Result<Prepared, NeuralError> {
        let (fit, applied) = self.prepare(fit_rows, apply)?;
        Ok((fit, applied, None))
    }
}

/// The matrix of the fit rows, that of each set applied, and the columns'
/// names when known.
pub type Prepared = (Array2<f64>, Vec<Array2<f64>>, Option<Vec<String>>);

/// Where cross-validation gets its features.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A matrix prepared beforehand, on every row.
    Matrix(ArrayView2<'a, f64>),
    /// `rows` raw rows, prepared inside each fold by a preparation fitted on
    /// the fit part of the training fold only (the validation and test rows
    /// are only transformed).
    Prepared { prepare: &'a dyn Prepare, rows: usize },
}

impl Source<'_> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Source::Matrix(x) => x.nrows(),
            Source::Prepared { rows, .. } => *rows,
        }
    }

    /// The matrix of the rows `fit` and of each set in `apply`, with any
    /// preparation fitted on `fit` only.
    pub fn prepare(
        &self,
        fit: &[usize],
        apply: &[&[usize]],
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        let (xf, rest, _) = self.prepare_named(fit, apply)?;
        Ok((xf, rest))
    }

    /// [`Source::prepare`] with the prepared columns' names, when the
    /// preparation gives them (a matrix given beforehand has none).
    pub fn prepare_named(&self, fit: &[usize], apply: &[&[usize]]) -> Result<Prepared, NeuralError> {
        match self {
            Source::Matrix(x) => Ok((
                x.select(Axis(0), fit),
                apply.iter().map(|rows| x.select(Axis(0), rows)).collect(),
                None,
            )),
            Source::Prepared { prepare, .. } => {
                let (xf, rest, names) = prepare.prepare_named(fit, apply)?;
                if let Some(n) = &names
                    && n.len() != xf.ncols()
                {
                    return Err(NeuralError::param(
                        "prepared column names",
                        n.len(),
                        &format!("one per prepared column ({})", xf.ncols()),
                    ));
                }
                if rest.len() != apply.len() {
                    return Err(NeuralError::param(
                        "prepared sets",
                        rest.len(),
                        &format!("one matrix per set to apply ({})", apply.len()),
                    ));
                }
                strata_core::check_finite(xf.view(), None)?;
                for m in &rest {
                    strata_core::check_finite(m.view(), None)?;
                }
                Ok((xf, rest, names))
            }
        }
    }

    /// The fit, validation and test matrices of one task, and the columns'
    /// names when known.
    fn split(&self, fit: &[usize], val: &[usize], test: &[usize]) -> Result<Split, NeuralError> {
        let (xf, rest, names) = self.prepare_named(fit, &[val, test])?;
        let mut rest = rest.into_iter();
        match (rest.next(), rest.next()) {
            (Some(xv), Some(xt)) => Ok((xf, xv, xt, names)),
            _ => Err(NeuralError::param("prepared sets", 0, "two")),
        }
    }
}

/// The fit, validation and test matrices of one task and the columns' names.
type Split = (Array2<f64>, Array2<f64>, Array2<f64>, Option<Vec<String>>);

/// [`cross_validate`] over any [`Source`] of features.
pub fn cross_validate_source(
    source: Source<'_>,
    y: &[f64],
    features: &[&dyn FeatureBuilder],
    models: &[&dyn Classifier],
    cfg: &CvConfig,
) -> Result<CvReport, NeuralError> {
    let folds = cross_validate_units(source, y, features, models, cfg, &|_, _, _| true)?;
    Ok(CvReport::from_folds(cfg, folds))
}

/// The fold results of the units (repeat, fold, feature set) that `keep`
/// accepts, each with every model, in the order of a full run. A unit's
/// numbers depend only on its repeat, fold and feature set (its seeds derive
/// from them), so units computed apart (other processes, other machines)
/// and put together with [`CvReport::from_folds`] give the report of one run.
pub fn cross_validate_units(
    source: Source<'_>,
    y: &[f64],
    features: &[&dyn FeatureBuilder],
    models: &[&dyn Classifier],
    cfg: &CvConfig,
    keep: &(dyn Fn(usize, usize, &str) -> bool + Sync),
) -> Result<Vec<FoldResult>, NeuralError> {
    let yb = check_target(source.rows(), y)?;
    if cfg.repeats == 0 {
        return Err(NeuralError::param("repeats", 0, "at least 1"));
    }
    let mut folds = Vec::new();
    for r in 0..cfg.repeats {
        folds.push(stratified_folds(
            &yb,
            cfg.folds,
            cfg.seed.named("folds").child(r as u64),
        )?);
    }
    folds_units(source, y, &folds, features, models, cfg, keep)
}

impl CvReport {
    /// The report of fold results gathered from units: sorted into the
    /// order of one run (repeat, fold, feature set as in `features`, model
    /// as in `models`) and summarized.
    pub fn assemble(cfg: &CvConfig, mut folds: Vec<FoldResult>, features: &[String], models: &[String]) -> CvReport {
        let pos = |v: &[String], x: &str| v.iter().position(|n| n == x).unwrap_or(usize::MAX);
        folds.sort_by_key(|f| (f.repeat, f.fold, pos(features, &f.feature_set), pos(models, &f.model)));
        CvReport::from_folds(cfg, folds)
    }

    /// The mean of `metric` over the test folds of one (feature set,
    /// model) with its interval at `level` from the corrected resampled t
    /// of Nadeau and Bengio (the folds' training sets overlap, so their
    /// spread alone would understate the mean's variance), as
    /// [`paired_comparison`] does for differences, cut at 0 and 1: every
    /// metric of [`METRIC_NAMES`] lies in that range, so an interval
    /// reaching past it (few folds, a score near its bound) claims values
    /// the metric cannot take. `None` with fewer than two folds scored.
    pub fn score_interval(&self, feature_set: &str, model: &str, metric: &str, level: f64) -> Option<strata_core::stats::CorrectedT> {
        let scores: Vec<f64> = self
            .folds
            .iter()
            .filter(|f| f.feature_set == feature_set && f.model == model)
            .filter_map(|f| f.metrics.get(metric))
            .collect();
        if scores.len() < 2 {
            return None;
        }
        let k = self.config.folds.max(2) as f64;
        let t = strata_core::stats::corrected_resampled_t(&scores, 1.0 / (k - 1.0), level);
        Some(strata_core::stats::CorrectedT {
            low: t.low.max(0.0),
            high: t.high.min(1.0),
            ..t
        })
    }

    fn from_folds(cfg: &CvConfig, folds: Vec<FoldResult>) -> CvReport {
        CvReport {
            config: cfg.clone(),
            threshold_rule: cfg.threshold.describe(),
            summary: summarize(&folds),
            folds,
        }
    }
}

/// Cross-validation over given test folds: `folds[r][f]` holds the test rows
/// of fold `f` of repeat `r` (e.g. folds by date); each fold trains on every
/// other row. `cfg.folds` and `cfg.repeats` are ignored.
pub fn cross_validate_folds(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    folds: &[Vec<Vec<usize>>],
    features: &[&dyn FeatureBuilder],
    models: &[&dyn Classifier],
    cfg: &CvConfig,
) -> Result<CvReport, NeuralError> {
    let results = folds_units(Source::Matrix(x), y, folds, features, models, cfg, &|_, _, _| true)?;
    Ok(CvReport::from_folds(cfg, results))
}

fn folds_units(
    source: Source<'_>,
    y: &[f64],
    folds: &[Vec<Vec<usize>>],
    features: &[&dyn FeatureBuilder],
    models: &[&dyn Classifier],
    cfg: &CvConfig,
    keep: &(dyn Fn(usize, usize, &str) -> bool + Sync),
) -> Result<Vec<FoldResult>, NeuralError> {
    let y = check_target(source.rows(), y)?;
    if let Source::Matrix(x) = source {
        strata_core::check_finite(x, None)?;
    }
    if !(cfg.validation_fraction > 0.0 && cfg.validation_fraction < 1.0) {
        return Err(NeuralError::param(
            "validation_fraction",
            cfg.validation_fraction,
            "a fraction in (0, 1)",
        ));
    }
    let k = folds.iter().map(Vec::len).max().unwrap_or(0);
    if k == 0 {
        return Err(NeuralError::param("folds", 0, "at least one test fold"));
    }
    let mut plan = Vec::new();
    for (r, repeat) in folds.iter().enumerate() {
        for (f, test) in repeat.iter().enumerate() {
            let mut in_test = vec![false; y.len()];
            for &i in test {
                if i >= y.len() {
                    return Err(NeuralError::param(
                        "fold rows",
                        i,
                        &format!("row indices below {}", y.len()),
                    ));
                }
                in_test[i] = true;
            }
            let train: Vec<usize> = (0..y.len()).filter(|&i| !in_test[i]).collect();
            let pos = train.iter().filter(|&&i| y[i] == 1).count();
            if pos == 0 || pos == train.len() {
                return Err(NeuralError::SingleClassFold {
                    repeat: r,
                    fold: f,
                    class: u8::from(pos > 0),
                });
            }
            plan.push((r, f, train, test.clone()));
        }
    }
    let tasks: Vec<(usize, usize)> = (0..plan.len())
        .flat_map(|p| (0..features.len()).map(move |j| (p, j)))
        .filter(|&(p, j)| keep(plan[p].0, plan[p].1, &features[j].name()))
        .collect();
    let bar = if cfg.progress {
        ProgressBar::new((tasks.len() * models.len()) as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{pos}/{len} fits {bar:20} ETA {eta} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // One task per piece of work a thread takes: there are only tens of
    // tasks, of uneven length, and rayon's default split hands each thread
    // runs of several, so the last run can leave the other thread idle
    // (the marketing classification stage, 6 runs each: median 4.0 s wall
    // with this, 4.3 s without).
    let results: Result<Vec<Vec<FoldResult>>, NeuralError> = tasks
        .par_iter()
        .with_max_len(1)
        .map(|&(p, j)| {
            let (r, f, train, test) = &plan[p];
            let task_seed = cfg.seed.named("task").child((r * k + f) as u64);
            let (fit_rows, val_rows) = stratified_split(
                train,
                &y,
                cfg.validation_fraction,
                task_seed.named("validation"),
            );
            let (xf, xv, xt, names) = source.split(&fit_rows, &val_rows, test)?;
            let yf: Vec<u8> = fit_rows.iter().map(|&i| y[i]).collect();
            let yv: Vec<u8> = val_rows.iter().map(|&i| y[i]).collect();
            let yt: Vec<u8> = test.iter().map(|&i| y[i]).collect();
            let fs = features[j];
            bar.set_message(format!("repeat {r} fold {f} {}", fs.name()));
            let (ff, applied) = fs.build_named(
                xf.view(),
                &[xv.view(), xt.view()],
                names.as_deref(),
                task_seed.named("features"),
            )?;
            let (fv, ft) = (&applied[0], &applied[1]);
            let mut out = Vec::new();
            for m in models {
                let t = std::time::Instant::now();
                let scorer = m.fit(ff.view(), &yf, fv.view(), &yv, task_seed.named("model"))?;
                let threshold = cfg.threshold.choose(&scorer.score(fv.view())?, &yv);
                let scores = scorer.score(ft.view())?;
                out.push(FoldResult {
                    repeat: *r,
                    fold: *f,
                    feature_set: fs.name(),
                    model: m.name(),
                    metrics: Metrics::compute(&scores, &yt, threshold),
                    history: scorer.history(),
                    seconds: t.elapsed().as_secs_f64(),
                });
                bar.inc(1);
            }
            Ok(out)
        })
        .collect();
    bar.finish_and_clear();
    Ok(results?.into_iter().flatten().collect())
}

/// The difference `b - a` of one metric between two feature sets (same
/// model, same folds): the mean over folds, an interval and a p-value from the
/// corrected resampled t-test of Nadeau and Bengio (2003), which accounts for
/// the overlap of the training sets of repeated k-fold cross-validation.
///
/// The interval is per comparison (unadjusted); `p_holm` is the p-value after
/// Holm's adjustment over the family of `family_size` comparisons it was
/// reported with ([`adjust_family`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedDiff {
    pub model: String,
    pub a: String,
    pub b: String,
    pub metric: String,
    pub mean_diff: f64,
    pub low: f64,
    pub high: f64,
    /// Confidence level of `low`..`high` (0.95).
    pub level: f64,
    /// Two-sided p-value of "no difference", unadjusted.
    pub p_value: f64,
    /// Holm-adjusted p-value within the family; equal to `p_value` until
    /// [`adjust_family`] is applied.
    pub p_holm: f64,
    pub family_size: usize,
    pub n_pairs: usize,
    /// Degrees of freedom of the t distribution (pairs - 1).
    pub df: f64,
    /// The method, in words, for reports.
    pub method: String,
}

/// The name of the interval method, as reports print it.
pub const PAIRED_METHOD: &str = "corrected resampled t-test (Nadeau and Bengio, 2003)";

impl PairedDiff {
    /// "+0.060 recall [0.020, 0.100]" or "no detectable difference in recall ...".
    /// A difference the (unadjusted) interval detects says whether it holds
    /// after Holm's adjustment over its family, when the family has more
    /// than one comparison.
    pub fn verdict(&self) -> String {
        let body = format!(
            "{:+.3} {} [{:+.3}, {:+.3}]",
            self.mean_diff, self.metric, self.low, self.high
        );
        let family = if self.family_size < 2 {
            String::new()
        } else if self.p_holm < 1.0 - self.level {
            format!(", also after Holm's adjustment over {} comparisons", self.family_size)
        } else {
            format!(
                ", but not after Holm's adjustment over {} comparisons (p = {:.3})",
                self.family_size, self.p_holm
            )
        };
        if self.low > 0.0 {
            format!("{} adds {body} over {}{family}", self.b, self.a)
        } else if self.high < 0.0 {
            format!("{} loses {body} against {}{family}", self.b, self.a)
        } else {
            format!(
                "no detectable difference between {} and {}: {body}",
                self.b, self.a
            )
        }
    }
}

/// Holm's adjustment over a family of comparisons reported together: sets
/// each one's `p_holm` and `family_size`.
pub fn adjust_family(family: &mut [PairedDiff]) {
    let p: Vec<f64> = family.iter().map(|d| d.p_value).collect();
    let adjusted = strata_core::stats::holm(&p);
    let m = family.len();
    for (d, a) in family.iter_mut().zip(adjusted) {
        d.p_holm = a;
        d.family_size = m;
    }
}

/// Pairs the folds of `a` and `b` for `model` and tests the mean difference
/// with the corrected resampled t-test at confidence `level`.
///
/// Each test fold holds 1/k of the rows and its training side the rest, so
/// the correction's test-to-train ratio is 1 / (k - 1). A plain bootstrap or
/// t-test over the folds would treat the overlapping folds as independent and
/// give intervals about twice too narrow for 5 x 3 cross-validation.
pub fn paired_comparison(
    report: &CvReport,
    model: &str,
    a: &str,
    b: &str,
    metric: &str,
    level: f64,
) -> Result<PairedDiff, NeuralError> {
    if !METRIC_NAMES.contains(&metric) {
        return Err(NeuralError::param(
            "metric",
            metric,
            &format!("one of {}", METRIC_NAMES.join(", ")),
        ));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(NeuralError::param("level", level, "between 0 and 1"));
    }
    let find = |fs: &str, r: usize, f: usize| {
        report
            .folds
            .iter()
            .find(|x| x.feature_set == fs && x.model == model && x.repeat == r && x.fold == f)
            .and_then(|x| x.metrics.get(metric))
    };
    let mut diffs = Vec::new();
    for fa in report
        .folds
        .iter()
        .filter(|x| x.feature_set == a && x.model == model)
    {
        if let (Some(va), Some(vb)) = (find(a, fa.repeat, fa.fold), find(b, fa.repeat, fa.fold)) {
            diffs.push(vb - va);
        }
    }
    if diffs.len() < 2 {
        return Err(NeuralError::param(
            "feature sets",
            format!("{a} / {b} with {model}"),
            "two feature sets evaluated with this model on the same folds (at least 2)",
        ));
    }
    let k = report.config.folds.max(2) as f64;
    let t = strata_core::stats::corrected_resampled_t(&diffs, 1.0 / (k - 1.0), level);
    // Every metric lies in [0, 1], so a difference lies in [-1, 1]: the
    // interval is cut there (the p-value is the t test's, uncut).
    Ok(PairedDiff {
        model: model.into(),
        a: a.into(),
        b: b.into(),
        metric: metric.into(),
        mean_diff: t.mean,
        low: t.low.max(-1.0),
        high: t.high.min(1.0),
        level,
        p_value: t.p_value,
        p_holm: t.p_value,
        family_size: 1,
        n_pairs: diffs.len(),
        df: t.df,
        method: PAIRED_METHOD.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folds that swing from a perfect to a useless recall give a t
    /// interval wider than the metric's range: it is cut at -1 and 1.
    #[test]
    fn a_difference_interval_stays_within_the_metrics_range() {
        let y = [1u8, 1, 0, 0];
        let (all, none) = (Metrics::compute(&[1.0, 1.0, 0.0, 0.0], &y, 0.5), Metrics::compute(&[0.0; 4], &y, 0.5));
        assert_eq!((all.recall, none.recall), (1.0, 0.0));
        let mut folds = Vec::new();
        for fold in 0..4 {
            // `b` loses all recall on even folds and gains it on odd ones.
            let (on_a, on_b) = if fold % 2 == 0 { (&all, &none) } else { (&none, &all) };
            for (fs, m) in [("a", on_a), ("b", on_b)] {
                folds.push(FoldResult { repeat: 0, fold, feature_set: fs.into(), model: "m".into(), metrics: m.clone(), history: None, seconds: 0.0 });
            }
        }
        let report = CvReport { config: CvConfig { folds: 4, repeats: 1, ..CvConfig::default() }, threshold_rule: String::new(), folds, summary: Vec::new() };
        let d = paired_comparison(&report, "m", "a", "b", "recall", 0.95).unwrap();
        assert_eq!((d.mean_diff, d.low, d.high), (0.0, -1.0, 1.0), "{d:?}");
        // The uncut interval reaches well beyond: the cut is what holds it.
        let t = strata_core::stats::corrected_resampled_t(&[-1.0, 1.0, -1.0, 1.0], 1.0 / 3.0, 0.95);
        assert!(t.low < -2.0 && t.high > 2.0, "{t:?}");
    }

    #[test]
    fn a_detected_difference_says_whether_it_survives_holm() {
        let d = |low: f64, high: f64, p_holm: f64, family_size: usize| PairedDiff {
            model: "mlp".into(),
            a: "original".into(),
            b: "reduced".into(),
            metric: "recall".into(),
            mean_diff: 0.5 * (low + high),
            low,
            high,
            level: 0.95,
            p_value: 0.01,
            p_holm,
            family_size,
            n_pairs: 15,
            df: 14.0,
            method: PAIRED_METHOD.into(),
        };
        assert_eq!(
            d(0.02, 0.06, 0.01, 1).verdict(),
            "reduced adds +0.040 recall [+0.020, +0.060] over original"
        );
        assert_eq!(
            d(0.02, 0.06, 0.03, 8).verdict(),
            "reduced adds +0.040 recall [+0.020, +0.060] over original, also after Holm's adjustment over 8 comparisons"
        );
        assert_eq!(
            d(-0.06, -0.02, 0.062, 72).verdict(),
            "reduced loses -0.040 recall [-0.060, -0.020] against original, but not after Holm's adjustment over 72 comparisons (p = 0.062)"
        );
        // No detected difference: nothing to adjust.
        assert!(!d(-0.02, 0.06, 1.0, 72).verdict().contains("Holm"));
    }
}
