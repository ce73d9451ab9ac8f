//! Cross-validation on synthetic data: learning, class weighting, leakage,
//! determinism and bad input.

use ndarray::{Array1, Array2, ArrayView2};
use std::sync::{Arc, Mutex};
use strata_core::{AlgoError, FittedReducer, Reducer, Rng, Seed};
use strata_neural::baselines::{Logistic, Tree};
use strata_neural::cv::{Classifier, CvConfig, cross_validate, paired_comparison};
use strata_neural::features::{FeatureBuilder, Original, Reduced};
use strata_neural::{ClassWeight, MlpConfig, ThresholdRule};

/// `n` rows in `d` dims; positives (share `rate`) are shifted along the first axis.
fn shifted(n: usize, d: usize, rate: f64, shift: f64, seed: u64) -> (Array2<f64>, Vec<f64>) {
    let mut r = Rng::new(Seed(seed));
    let y: Vec<f64> = (0..n)
        .map(|i| {
            if (i as f64) < rate * n as f64 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        r.normal() + if j == 0 { shift * y[i] } else { 0.0 }
    });
    (x, y)
}

fn quick_mlp() -> MlpConfig {
    MlpConfig {
        hidden: vec![16],
        learning_rate: 0.01,
        epochs: 40,
        batch_size: 32,
        patience: 10,
        ..MlpConfig::default()
    }
}

#[test]
fn separable_data_is_learned_by_every_model() {
    let (x, y) = shifted(600, 4, 0.5, 6.0, 1);
    let cfg = CvConfig {
        folds: 3,
        repeats: 1,
        threshold: ThresholdRule::Half,
        ..CvConfig::default()
    };
    let mlp = quick_mlp();
    let models: [&dyn Classifier; 3] = [&mlp, &Logistic::default(), &Tree::default()];
    let rep = cross_validate(x.view(), &y, &[&Original], &models, &cfg).unwrap();
    assert_eq!(rep.folds.len(), 9);
    for s in &rep.summary {
        assert!(s.mean["accuracy"] > 0.95, "{} {:?}", s.model, s.mean);
        assert_eq!(
            s.confusion.tp + s.confusion.fp + s.confusion.tn + s.confusion.r#fn,
            600
        );
    }
    let mlp_folds: Vec<_> = rep.folds.iter().filter(|f| f.model == "mlp").collect();
    assert!(
        mlp_folds
            .iter()
            .all(|f| f.history.as_ref().is_some_and(|h| !h.train_loss.is_empty()))
    );
}

#[test]
fn class_weighting_raises_recall_on_rare_positives() {
    let (x, y) = shifted(1500, 5, 0.1, 1.5, 2);
    let cfg = CvConfig {
        folds: 3,
        repeats: 1,
        threshold: ThresholdRule::Half,
        ..CvConfig::default()
    };
    let plain = MlpConfig {
        class_weight: ClassWeight::None,
        ..quick_mlp()
    };
    let weighted = MlpConfig {
        class_weight: ClassWeight::Balanced,
        ..quick_mlp()
    };
    let a = cross_validate(x.view(), &y, &[&Original], &[&plain], &cfg).unwrap();
    let b = cross_validate(x.view(), &y, &[&Original], &[&weighted], &cfg).unwrap();
    let (ra, rb) = (a.summary[0].mean["recall"], b.summary[0].mean["recall"]);
    assert!(rb > ra + 0.2, "recall without weights {ra}, with {rb}");
}

/// A reducer that records the rows it is fitted on (by their first column,
/// which holds the row index) and passes the data through.
struct Spy(Arc<Mutex<Vec<Vec<usize>>>>);
struct SpyFit(usize);

impl Reducer for Spy {
    fn name(&self) -> &str {
        "spy"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _seed: Seed,
    ) -> Result<Box<dyn FittedReducer>, AlgoError> {
        let rows = x.column(0).iter().map(|v| *v as usize).collect();
        self.0.lock().expect("lock").push(rows);
        Ok(Box::new(SpyFit(x.ncols())))
    }
}

impl FittedReducer for SpyFit {
    fn n_components(&self) -> usize {
        self.0
    }
    fn component_names(&self) -> Vec<String> {
        (0..self.0).map(|i| format!("s{i}")).collect()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        Ok(x.to_owned())
    }
}

#[test]
fn feature_builders_never_see_test_rows() {
    let (mut x, y) = shifted(300, 3, 0.3, 2.0, 3);
    for i in 0..300 {
        x[[i, 0]] = i as f64;
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let spy = Reduced {
        label: "spy".into(),
        reducer: Box::new(Spy(seen.clone())),
    };
    let cfg = CvConfig {
        folds: 5,
        repeats: 2,
        seed: Seed(9),
        ..CvConfig::default()
    };
    let rep = cross_validate(
        x.view(),
        &y,
        &[&spy as &dyn FeatureBuilder],
        &[&Logistic::default()],
        &cfg,
    )
    .unwrap();
    assert_eq!(rep.folds.len(), 10);
    // Recompute the test folds as cross_validate does and check every fit.
    let y8: Vec<u8> = y.iter().map(|&v| v as u8).collect();
    let fits = seen.lock().expect("lock").clone();
    assert_eq!(fits.len(), 10);
    let mut tests = Vec::new();
    for r in 0..2u64 {
        tests.extend(
            strata_neural::folds::stratified_folds(&y8, 5, Seed(9).named("folds").child(r))
                .unwrap(),
        );
    }
    let mut owned = vec![0usize; tests.len()];
    for rows in &fits {
        // Each fit saw the fit part of exactly one training fold: disjoint
        // from that fold's test rows and from no other fold's (a fit part
        // holds 80 % of the other 240 rows, so it meets every other fold).
        let owners: Vec<usize> = (0..tests.len())
            .filter(|&t| tests[t].iter().all(|i| !rows.contains(i)))
            .collect();
        assert_eq!(owners.len(), 1, "a feature builder was fitted on test rows");
        owned[owners[0]] += 1;
        assert!(
            rows.len() < 300 * 4 / 5,
            "{} rows: the validation split was not held out",
            rows.len()
        );
    }
    assert!(owned.iter().all(|&o| o == 1), "one fit per test fold: {owned:?}");
}

#[test]
fn same_seed_same_metrics_whatever_the_thread_count() {
    let (x, y) = shifted(400, 4, 0.2, 1.5, 4);
    let cfg = CvConfig {
        folds: 3,
        repeats: 2,
        ..CvConfig::default()
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| cross_validate(x.view(), &y, &[&Original], &[&quick_mlp()], &cfg).unwrap())
    };
    let (a, b) = (run(1), run(3));
    let strip = |r: &strata_neural::cv::CvReport| {
        r.folds
            .iter()
            .map(|f| (f.metrics.clone(), f.history.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
}

/// A feature set that keeps a range of the columns (given their count).
struct Columns {
    name: &'static str,
    keep: fn(usize) -> std::ops::Range<usize>,
}

impl FeatureBuilder for Columns {
    fn name(&self) -> String {
        self.name.into()
    }
    fn build(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        _seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), strata_neural::NeuralError> {
        let range = (self.keep)(train.ncols());
        let pick = |a: ArrayView2<'_, f64>| a.slice(ndarray::s![.., range.clone()]).to_owned();
        Ok((pick(train), apply.iter().map(|a| pick(*a)).collect()))
    }
}

#[test]
fn paired_comparison_detects_a_real_gain() {
    let (x, y) = shifted(800, 4, 0.2, 2.5, 5);
    // `noise` drops the informative column: clearly worse.
    let noise = Columns {
        name: "noise",
        keep: |n| 1..n,
    };
    let cfg = CvConfig {
        folds: 4,
        repeats: 2,
        ..CvConfig::default()
    };
    let rep = cross_validate(
        x.view(),
        &y,
        &[&noise, &Original],
        &[&Logistic::default()],
        &cfg,
    )
    .unwrap();
    let d = paired_comparison(&rep, "logistic", "noise", "original", "pr_auc", 0.95).unwrap();
    assert_eq!(d.n_pairs, 8);
    assert_eq!(d.df, 7.0);
    assert!(d.low > 0.2, "{d:?}");
    assert!(
        d.verdict().starts_with("original adds +"),
        "{}",
        d.verdict()
    );
    assert!(d.p_value < 0.01, "{d:?}");
}

/// The accuracy on the `test` rows of the rule fitted on the others: one
/// feature `x` cut at the midpoint between its two class means (`y` is 0/1).
fn midpoint_rule_accuracy(x: &[f64], y: &[u8], test: &[usize]) -> f64 {
    let in_test: std::collections::HashSet<usize> = test.iter().copied().collect();
    let (mut s, mut c) = ([0.0; 2], [0usize; 2]);
    for i in (0..x.len()).filter(|i| !in_test.contains(i)) {
        s[y[i] as usize] += x[i];
        c[y[i] as usize] += 1;
    }
    let cut = 0.5 * (s[0] / c[0] as f64 + s[1] / c[1] as f64);
    let right = test.iter().filter(|&&i| u8::from(x[i] > cut) == y[i]).count();
    right as f64 / test.len() as f64
}

/// Two feature sets that carry the same information: the original features,
/// and the same with one pure-noise column left out. Their true difference is
/// about zero, so the corrected interval must contain 0 and say so.
#[test]
fn paired_comparison_finds_no_difference_where_there_is_none() {
    let (x, y) = shifted(800, 4, 0.2, 2.5, 5);
    let without_noise = Columns {
        name: "without-noise-column",
        keep: |n| 0..n - 1,
    };
    let cfg = CvConfig {
        folds: 5,
        repeats: 3,
        ..CvConfig::default()
    };
    let rep = cross_validate(
        x.view(),
        &y,
        &[&Original, &without_noise],
        &[&Logistic::default()],
        &cfg,
    )
    .unwrap();
    for metric in ["recall", "pr_auc", "accuracy"] {
        let d = paired_comparison(&rep, "logistic", "original", "without-noise-column", metric, 0.95)
            .unwrap();
        assert_eq!(d.n_pairs, 15);
        assert!(d.low < 0.0 && d.high > 0.0, "{metric}: {d:?}");
        assert!(d.high > d.low, "{metric}: a real interval, {d:?}");
        assert!(
            d.verdict().starts_with("no detectable difference"),
            "{}",
            d.verdict()
        );
    }
}

/// Coverage of the corrected resampled t interval on simulated data with no
/// true difference: two equally informative features, each used alone by the
/// same simple classifier (threshold half-way between the training fold's
/// class means), scored by accuracy over 5 x 3 stratified cross-validation.
/// By symmetry the expected difference is 0, so nominal 95 % intervals must
/// cover 0 in 90 to 99 % of 200 simulated studies. The uncorrected t interval
/// on the same differences, which treats the 15 overlapping folds as
/// independent, covers markedly less: that is the defect the correction fixes.
#[test]
fn corrected_intervals_cover_zero_under_no_difference() {
    use strata_core::Rng;
    use strata_core::stats::corrected_resampled_t;
    use strata_neural::folds::stratified_folds;
    let (reps, n, k, repeats) = (200, 120, 5, 3);
    let mut rng = Rng::new(Seed(2026));
    let (mut covered, mut naive_covered) = (0, 0);
    for rep in 0..reps {
        let y: Vec<u8> = (0..n).map(|i| u8::from(i % 2 == 0)).collect();
        let feature = |rng: &mut Rng| -> Vec<f64> {
            y.iter().map(|&c| f64::from(c) + 1.2 * rng.normal()).collect()
        };
        let (x1, x2) = (feature(&mut rng), feature(&mut rng));
        let accuracy = |x: &[f64], test: &[usize]| midpoint_rule_accuracy(x, &y, test);
        let mut diffs = Vec::new();
        for r in 0..repeats {
            let folds = stratified_folds(&y, k, Seed(rep * 10 + r)).unwrap();
            for test in &folds {
                diffs.push(accuracy(&x2, test) - accuracy(&x1, test));
            }
        }
        let t = corrected_resampled_t(&diffs, 1.0 / (k as f64 - 1.0), 0.95);
        covered += usize::from(t.low <= 0.0 && 0.0 <= t.high);
        let naive = corrected_resampled_t(&diffs, 0.0, 0.95);
        naive_covered += usize::from(naive.low <= 0.0 && 0.0 <= naive.high);
    }
    let coverage = covered as f64 / reps as f64;
    let naive = naive_covered as f64 / reps as f64;
    eprintln!("coverage: corrected {coverage:.3}, uncorrected {naive:.3}");
    assert!((0.90..=0.99).contains(&coverage), "corrected coverage {coverage}");
    assert!(naive < coverage - 0.05, "uncorrected {naive} vs corrected {coverage}");
}

#[test]
fn score_intervals_use_the_folds_of_one_model_and_feature_set() {
    let (x, y) = shifted(400, 3, 0.3, 2.0, 8);
    let cfg = CvConfig {
        folds: 4,
        repeats: 2,
        ..CvConfig::default()
    };
    let models: [&dyn Classifier; 2] = [&Logistic::default(), &Tree::default()];
    let rep = cross_validate(x.view(), &y, &[&Original], &models, &cfg).unwrap();
    for s in &rep.summary {
        let t = rep.score_interval(&s.feature_set, &s.model, "recall", 0.95).unwrap();
        // Centred on the summary's mean over its own 8 folds, wider than
        // the uncorrected t interval by sqrt(1 + J / (k - 1)) = sqrt(11/3).
        assert!((t.mean - s.mean["recall"]).abs() < 1e-12, "{} {t:?}", s.model);
        assert_eq!(t.df, 7.0);
        let naive_se = s.sd["recall"] / 8f64.sqrt();
        assert!((t.se / naive_se - (11.0f64 / 3.0).sqrt()).abs() < 1e-9, "{t:?}");
    }
    assert!(rep.score_interval("original", "mlp", "recall", 0.95).is_none());
}

/// A score interval that would reach past 0 or 1 is cut there: recall 1 in
/// five of six folds and 0.4 in the sixth has the corrected t interval
/// 0.9 +- 2.571 x 0.2 = [0.386, 1.414], shown as [0.386, 1]; mirrored,
/// [-0.414, 0.614] is shown as [0, 0.614].
#[test]
fn score_intervals_are_cut_at_the_metrics_range() {
    use strata_core::stats::corrected_resampled_t;
    use strata_neural::Metrics;
    use strata_neural::cv::{CvReport, FoldResult};
    let cfg = CvConfig {
        folds: 3,
        repeats: 2,
        ..CvConfig::default()
    };
    let base = Metrics::compute(&[0.9, 0.1], &[1, 0], 0.5);
    for recalls in [[1.0, 1.0, 0.4, 1.0, 1.0, 1.0], [0.0, 0.0, 0.6, 0.0, 0.0, 0.0]] {
        let folds = recalls
            .iter()
            .enumerate()
            .map(|(i, &recall)| FoldResult {
                repeat: i / 3,
                fold: i % 3,
                feature_set: "original".into(),
                model: "mlp".into(),
                metrics: Metrics { recall, ..base.clone() },
                history: None,
                seconds: 0.0,
            })
            .collect();
        let rep = CvReport::assemble(&cfg, folds, &["original".into()], &["mlp".into()]);
        let t = rep.score_interval("original", "mlp", "recall", 0.95).unwrap();
        let raw = corrected_resampled_t(&recalls, 0.5, 0.95);
        assert!(raw.low < 0.0 || raw.high > 1.0, "{raw:?}");
        assert_eq!((t.mean, t.low, t.high), (raw.mean, raw.low.max(0.0), raw.high.min(1.0)));
        assert!((0.0..=1.0).contains(&t.low) && (0.0..=1.0).contains(&t.high), "{t:?}");
        assert!((t.high - t.low - 0.614).abs() < 2e-3, "{t:?}");
    }
}

/// The interval of one model's cross-validated score, checked by simulation
/// against its known target: the expected accuracy of the rule fitted on a
/// training set of the cross-validation's size (the midpoint between the
/// class means of one N(y, 1.2^2) feature, whose accuracy is known in
/// closed form for any cut), averaged over 20,000 training sets. Nominal
/// 95 % intervals from 5 x 3 cross-validation of 120 rows must cover it in
/// 88 to 100 % of 200 studies; the uncorrected t interval on the same
/// scores covers it in about 75 %.
#[test]
fn corrected_score_intervals_cover_the_expected_accuracy() {
    use strata_core::Rng;
    use strata_core::stats::{corrected_resampled_t, normal_cdf};
    use strata_neural::folds::stratified_folds;
    let (reps, n, k, repeats, sd) = (200, 120, 5, 3, 1.2);
    let accuracy_of_cut = |c: f64| 0.5 * (normal_cdf((1.0 - c) / sd) + normal_cdf(c / sd));
    let mut rng = Rng::new(Seed(77));
    // The target: a training set of 96 rows, 48 per class.
    let n_train = n * (k - 1) / k;
    let truth = (0..20_000)
        .map(|_| {
            let half = n_train / 2;
            let m0 = (0..half).map(|_| sd * rng.normal()).sum::<f64>() / half as f64;
            let m1 = (0..half).map(|_| 1.0 + sd * rng.normal()).sum::<f64>() / half as f64;
            accuracy_of_cut(0.5 * (m0 + m1))
        })
        .sum::<f64>()
        / 20_000.0;
    let (mut covered, mut naive_covered) = (0, 0);
    for rep in 0..reps {
        let y: Vec<u8> = (0..n).map(|i| u8::from(i % 2 == 0)).collect();
        let x: Vec<f64> = y.iter().map(|&c| f64::from(c) + sd * rng.normal()).collect();
        let mut scores = Vec::new();
        for r in 0..repeats {
            for test in &stratified_folds(&y, k, Seed(rep * 10 + r)).unwrap() {
                scores.push(midpoint_rule_accuracy(&x, &y, test));
            }
        }
        let t = corrected_resampled_t(&scores, 1.0 / (k as f64 - 1.0), 0.95);
        covered += usize::from(t.low <= truth && truth <= t.high);
        let naive = corrected_resampled_t(&scores, 0.0, 0.95);
        naive_covered += usize::from(naive.low <= truth && truth <= naive.high);
    }
    let coverage = covered as f64 / reps as f64;
    let naive = naive_covered as f64 / reps as f64;
    eprintln!("coverage of the expected accuracy {truth:.4}: corrected {coverage:.3}, uncorrected {naive:.3}");
    assert!((0.88..=1.0).contains(&coverage), "coverage {coverage} of {truth}");
    assert!(naive < coverage - 0.05, "uncorrected {naive} vs corrected {coverage}");
}

#[test]
fn bad_input_gets_clear_errors() {
    let (x, y) = shifted(100, 3, 0.2, 1.0, 6);
    let cfg = CvConfig::default();
    let lr = Logistic::default();
    let run = |x: ArrayView2<'_, f64>, y: &[f64], cfg: &CvConfig| {
        cross_validate(x, y, &[&Original], &[&lr], cfg)
            .unwrap_err()
            .to_string()
    };
    let mut y3 = y.clone();
    y3[4] = 2.0;
    assert!(run(x.view(), &y3, &cfg).contains("must be binary (0/1); found the values 0, 1, 2"));
    assert!(run(x.view(), &y[..90], &cfg).contains("100 feature rows but 90 target values"));
    let mut xn = x.clone();
    xn[[12, 2]] = f64::NAN;
    assert!(run(xn.view(), &y, &cfg).contains("row 12"));
    let mut few = vec![0.0; 100];
    few[3] = 1.0;
    few[50] = 1.0;
    let e = run(x.view(), &few, &cfg);
    assert!(
        e.contains("only 2 positive") && e.contains("at most 2 folds"),
        "{e}"
    );
    let bad_lr = MlpConfig {
        learning_rate: -1.0,
        ..MlpConfig::default()
    };
    let e = cross_validate(x.view(), &y, &[&Original], &[&bad_lr], &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("learning_rate"), "{e}");
    // Given folds (e.g. by date) can leave a training fold with one class.
    let mut ordered = vec![0.0; 100];
    for v in ordered.iter_mut().skip(80) {
        *v = 1.0;
    }
    let folds = vec![vec![(0..50).collect::<Vec<usize>>(), (50..100).collect()]];
    let e = strata_neural::cv::cross_validate_folds(
        x.view(),
        &ordered,
        &folds,
        &[&Original],
        &[&lr],
        &cfg,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("repeat 0, fold 1 hold only class 0") && e.contains("use fewer folds"),
        "{e}"
    );
    let _ = Array1::<f64>::zeros(1);
}

/// Spy on the preparation step: in every task it is fitted on the fit part
/// of that task's own training fold, and the fold's test rows (and the
/// validation rows) are only ever transformed. Together the three sets are
/// the whole table, and across a repeat the test sets cover every row once.
#[test]
fn preparation_is_fitted_on_its_own_training_fold_only() {
    use strata_neural::cv::{Prepare, Source, cross_validate_source};
    type Call = (Vec<usize>, Vec<usize>, Vec<usize>);
    struct Spy {
        x: Array2<f64>,
        calls: Mutex<Vec<Call>>,
    }
    impl Prepare for Spy {
        fn prepare(
            &self,
            fit_rows: &[usize],
            apply: &[&[usize]],
        ) -> Result<(Array2<f64>, Vec<Array2<f64>>), strata_neural::NeuralError> {
            self.calls.lock().unwrap().push((
                fit_rows.to_vec(),
                apply[0].to_vec(),
                apply[1].to_vec(),
            ));
            let pick = |rows: &[usize]| self.x.select(ndarray::Axis(0), rows);
            Ok((pick(fit_rows), apply.iter().map(|r| pick(r)).collect()))
        }
    }
    let (x, y) = shifted(300, 3, 0.3, 2.0, 11);
    let spy = Spy {
        x: x.clone(),
        calls: Mutex::new(Vec::new()),
    };
    let cfg = CvConfig {
        folds: 3,
        repeats: 2,
        ..CvConfig::default()
    };
    let source = Source::Prepared {
        prepare: &spy,
        rows: x.nrows(),
    };
    let prepared =
        cross_validate_source(source, &y, &[&Original], &[&Logistic::default()], &cfg).unwrap();
    // The same folds and numbers as with the matrix prepared beforehand
    // (the spy's preparation is the identity).
    let plain = cross_validate(x.view(), &y, &[&Original], &[&Logistic::default()], &cfg).unwrap();
    assert_eq!(prepared.folds.len(), plain.folds.len());
    for (a, b) in prepared.folds.iter().zip(&plain.folds) {
        assert_eq!(a.metrics, b.metrics);
    }
    let calls = spy.calls.lock().unwrap();
    assert_eq!(calls.len(), 6);
    let mut tested = vec![0usize; x.nrows()];
    for (fit, val, test) in calls.iter() {
        let mut all: Vec<usize> = fit.iter().chain(val).chain(test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..x.nrows()).collect::<Vec<_>>(), "disjoint and complete");
        for &i in test {
            tested[i] += 1;
        }
    }
    assert!(tested.iter().all(|&t| t == 2), "each row tested once per repeat");
}
