use super::*;
use std::sync::Mutex;
use strata_cluster::KMeans;

/// A recipe that standardizes on the fit rows; records which rows it was fitted on.
struct Standardize {
    /// Unscaled table; column 2 is "Tenure", derived from the date.
    x: Array2<f64>,
    names: Vec<String>,
    fitted_on: Mutex<Vec<Vec<usize>>>,
}

impl CohortPrep for Standardize {
    fn rows(&self) -> usize {
        self.x.nrows()
    }
    fn prepare(&self, rows: &[usize]) -> anyhow::Result<CohortMatrices> {
        self.fitted_on.lock().expect("lock").push(rows.to_vec());
        let own_unscaled = self.x.select(Axis(0), rows);
        let mean = own_unscaled.mean_axis(Axis(0)).expect("rows");
        let sd = own_unscaled.std_axis(Axis(0), 0.0).mapv(|s| if s > 0.0 { s } else { 1.0 });
        let scale = |m: &Array2<f64>| (m - &mean) / &sd;
        Ok(CohortMatrices {
            kinds: vec![strata_core::ColumnKind::Numeric; self.names.len()],
            names: self.names.clone(),
            own: scale(&own_unscaled),
            all: scale(&self.x),
            own_unscaled,
        })
    }
}

/// Three blobs; the later cohort's second blob sits `moved` further on
/// feature 0, and responds at `late_rate` instead of 10 %.
fn cohorts(moved: f64) -> (Standardize, Vec<chrono::NaiveDate>, Vec<u8>) {
    let mut r = strata_core::Rng::new(Seed(2));
    let n = 1200;
    let start = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).expect("date");
    let dates: Vec<chrono::NaiveDate> = (0..n).map(|i| start + chrono::Days::new(i as u64)).collect();
    let late = |i: usize| i >= n / 2;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let centre = [[0.0, 0.0], [6.0, 6.0], [0.0, 10.0]][i % 3];
        match j {
            2 => (n - i) as f64, // tenure in days: larger for the earlier cohort
            0 if i % 3 == 1 && late(i) => centre[0] + moved + r.normal(),
            _ => centre[j] + r.normal(),
        }
    });
    let y: Vec<u8> = (0..n).map(|i| u8::from(i % 3 == 1 && (i / 3) % 10 == 0)).collect();
    (
        Standardize {
            x,
            names: vec!["spend".into(), "visits".into(), "Tenure_days".into()],
            fitted_on: Mutex::new(Vec::new()),
        },
        dates,
        y,
    )
}

fn run(prep: &Standardize, dates: &[chrono::NaiveDate], y: &[u8], excluded: &[String]) -> CohortReport {
    run_with(prep, dates, y, excluded, &[])
}

fn run_with(
    prep: &Standardize,
    dates: &[chrono::NaiveDate],
    y: &[u8],
    excluded: &[String],
    nominal: &[String],
) -> CohortReport {
    // The chosen clustering: the blob of each row, numbered 10, 11, 12.
    let chosen: Vec<usize> = (0..dates.len()).map(|i| 10 + i % 3).collect();
    evaluate(
        prep,
        &CohortInputs {
            dates,
            column: "enrolled",
            columns: &Columns::default(),
            excluded,
            nominal,
            target: Some(y),
            chosen: Some(&chosen),
            refits: 50,
        },
        &crate::registry::Identity,
        &KMeans::new(3),
        Seed(1),
    )
    .unwrap()
}

#[test]
fn shift_interval_by_hand() {
    // Variances 4 and 9 over 100 rows each: Welch's standard error
    // sqrt(0.04 + 0.09) = 0.36056, over a pooled sd of 2: half-width
    // 1.959964 * 0.18028 = 0.35334.
    let (lo, hi) = shift_interval(0.5, 2.0, (4.0, 100), (9.0, 100)).expect("interval");
    assert!((lo - (0.5 - 0.353_34)).abs() < 1e-5 && (hi - (0.5 + 0.353_34)).abs() < 1e-5, "{lo} {hi}");
    assert_eq!(shift_interval(0.0, 0.0, (0.0, 100), (0.0, 100)), None);
    assert_eq!(shift_interval(0.1, 1.0, (1.0, 1), (1.0, 100)), None);
}

#[test]
fn each_cohort_pipeline_sees_only_its_rows_and_a_moved_segment_is_measured() {
    let (prep, dates, y) = cohorts(3.0);
    let excluded = vec!["Tenure_days".to_string()];
    let rep = run(&prep, &dates, &y, &excluded);
    // Each recipe was fitted on one cohort's rows only.
    let fitted = prep.fitted_on.lock().expect("lock").clone();
    assert_eq!(fitted.len(), 2);
    assert_eq!(fitted[0], (0..600).collect::<Vec<_>>());
    assert_eq!(fitted[1], (600..1200).collect::<Vec<_>>());
    assert_eq!((rep.early_rows, rep.late_rows), (600, 600));
    assert_eq!((rep.early_columns, rep.late_columns), (2, 2));
    assert_eq!(rep.matches.len(), 3);
    assert!(rep.unmatched.is_empty());
    // The blob that moved: its spend moved by 3 units, the others by noise.
    let moved = rep
        .matches
        .iter()
        .find(|m| m.features.iter().any(|f| f.feature == "spend" && f.early > 4.0))
        .expect("the blob at spend 6");
    let spend = moved.features.iter().find(|f| f.feature == "spend").expect("spend");
    assert!((spend.late - spend.early - 3.0).abs() < 0.3, "{spend:?}");
    // Pooled sd of spend over both cohorts, from the unscaled columns.
    let sd = |rows: std::ops::Range<usize>| {
        let c = prep.x.slice(ndarray::s![rows, 0]);
        c.std(1.0)
    };
    let pooled = ((599.0 * sd(0..600).powi(2) + 599.0 * sd(600..1200).powi(2)) / 1198.0).sqrt();
    assert!((spend.pooled_sd - pooled).abs() < 1e-9);
    assert!((spend.shift_sd - (spend.late - spend.early) / pooled).abs() < 1e-12);
    assert_eq!(moved.features[0].feature, "spend", "largest shift first");
    // Its interval holds the planted move and excludes none; the blobs
    // that did not move have intervals around zero.
    let (lo, hi) = spend.shift_interval.expect("interval");
    assert!(lo < 3.0 / pooled && 3.0 / pooled < hi && lo > 0.0, "{lo} {hi} {}", 3.0 / pooled);
    for m in rep.matches.iter().filter(|m| m.early_segment != moved.early_segment) {
        let f = m.features.iter().find(|f| f.feature == "spend").expect("spend");
        let (lo, hi) = f.shift_interval.expect("interval");
        assert!(lo < 0.0 && 0.0 < hi, "{f:?}");
    }
    assert!(rep.verdict.contains("(95 %, Welch; picked as the largest of 6 feature shifts, so it errs large) pooled standard deviations, on `spend`"), "{}", rep.verdict);
    // Named after the chosen clustering's segment of its rows: blob 1.
    let (chosen, share) = moved.chosen_segment.expect("named");
    assert_eq!(chosen, 11);
    assert!(share > 0.99, "{share}");
    // Its response: 1 in 10 of the blob's rows in each cohort.
    let er = moved.early_response.as_ref().expect("target");
    assert_eq!((er.responders, er.rows), (20, 200));
    assert!(er.low < 0.1 && 0.1 < er.high);
    // The change, later minus earlier, with Newcombe's interval around it.
    let lr = moved.late_response.as_ref().expect("target");
    let ch = moved.response_change.expect("a change with both rates");
    let (d, low, high) = crate::abtest::newcombe(lr.responders, lr.rows, er.responders, er.rows, strata_core::stats::Z95);
    assert_eq!((ch.diff, ch.low, ch.high), (d, low, high));
    assert!((ch.diff - (lr.rate - er.rate)).abs() < 1e-12 && !ch.excludes_zero(), "{ch:?}");
    // Tenure is left out of the comparison.
    assert!(rep.matches.iter().all(|m| m.features.iter().all(|f| f.feature != "Tenure_days")));
    // A nominal feature segments but has no centre to shift.
    let nominal = run_with(&prep, &dates, &y, &excluded, &["visits".to_string()]);
    assert_eq!(nominal.ari, rep.ari, "the pipelines are the same");
    assert!(nominal.matches.iter().all(|m| m.features.iter().all(|f| f.feature != "visits")));
    assert!(rep.matches.iter().any(|m| m.features.iter().any(|f| f.feature == "visits")));
    assert!(rep.verdict.contains("on `spend`"), "{}", rep.verdict);
    // The same 10 % response in both cohorts: no segment's rate differs.
    assert!(
        rep.verdict.ends_with("the response rate of 0 of 3 matched segments changes between cohorts (Newcombe's 95 % interval of the difference excludes zero; unadjusted for the 3 segments)"),
        "{}",
        rep.verdict
    );
    // Agreement on every row stays high: the blobs are far apart.
    assert!(rep.ari > 0.9, "{}", rep.ari);
    let (low, high) = rep.ari_interval.expect("interval");
    assert!(low <= rep.ari && rep.ari <= high && low >= 0.8, "{low} {high}");
    assert!(rep.verdict.starts_with("segments carry over"), "{}", rep.verdict);
}

#[test]
fn tenure_left_in_splits_the_cohorts_and_bad_dates_name_their_row() {
    // With the tenure column kept, it dominates each cohort's own scaling
    // and the comparison shows it: what excluding derived features avoids.
    let (prep, dates, mut y) = cohorts(0.0);
    // In the later cohort, the blob at spend 6 responds half the time.
    for (i, v) in y.iter_mut().enumerate().skip(600) {
        if i % 3 == 1 {
            *v = u8::from(i % 2 == 0);
        }
    }
    let rep = run(&prep, &dates, &y, &[]);
    assert!(
        rep.verdict.ends_with("the response rate of 1 of 3 matched segments changes between cohorts (Newcombe's 95 % interval of the difference excludes zero; unadjusted for the 3 segments)"),
        "{}",
        rep.verdict
    );
    assert_eq!(rep.early_columns, 3);
    let largest = rep
        .matches
        .iter()
        .map(|m| m.features[0].clone())
        .max_by(|p, q| p.shift_sd.abs().total_cmp(&q.shift_sd.abs()))
        .expect("matches");
    assert_eq!(largest.feature, "Tenure_days");
    assert!(largest.shift_sd.abs() > 2.0, "{largest:?}");
    let spec = CohortSpec {
        column: "Dt_Customer".into(),
        format: "%d-%m-%Y".into(),
    };
    assert_eq!(
        parse_dates(&["04-09-2012".into()], &spec, |i| format!("row {i}")).unwrap()[0].to_string(),
        "2012-09-04"
    );
    let e = parse_dates(&["04-09-2012".into(), "2012/09/05".into()], &spec, |i| format!("at {}", i + 10)).unwrap_err();
    assert!(e.starts_with("cohorts: at 11: `Dt_Customer` = \"2012/09/05\" is not a date in the format \"%d-%m-%Y\""), "{e}");
}

#[test]
fn a_change_is_judged_by_the_interval_of_the_difference() {
    // 20 of 200 earlier, 34 of 200 later: the two Wilson intervals
    // overlap ([6.6, 14.9] % and [12.4, 22.8] %), yet the difference's
    // interval, [+0.27, +13.75] pp (statsmodels, newcomb), excludes zero.
    let rate = |k: usize, n: usize| {
        let (low, high) = wilson(k, n, strata_core::stats::Z95);
        Rate { responders: k, rows: n, rate: k as f64 / n as f64, low, high }
    };
    let (early, late) = (rate(20, 200), rate(34, 200));
    assert!(late.low < early.high, "the Wilson intervals overlap");
    let c = Change::of(&early, &late);
    assert!((c.diff - 0.07).abs() < 1e-12);
    assert!((c.low - 0.002_684_794_379_610_361).abs() < 1e-9 && (c.high - 0.137_534_941_566_485_88).abs() < 1e-9, "{c:?}");
    assert!(c.excludes_zero());
    assert!(!Change::of(&early, &rate(26, 200)).excludes_zero());
}

#[test]
fn ari_interval_and_carry_over_wording() {
    let from = "from the earlier cohort to the later one";
    assert_eq!(carry_over(0.85, 0.95), format!("segments carry over {from}"));
    assert_eq!(carry_over(0.8, 0.95), format!("segments carry over {from}"));
    assert_eq!(carry_over(0.55, 0.75), format!("segments partly carry over {from}"));
    assert_eq!(carry_over(0.1, 0.45), format!("segments do not carry over {from}"));
    assert_eq!(carry_over(0.75, 0.85), format!("whether segments carry over {from} is not settled (the interval spans 0.8)"));
    assert_eq!(carry_over(0.45, 0.6), format!("whether segments carry over {from} is not settled (the interval spans 0.5)"));
    assert_eq!(carry_over(0.3, 0.9), format!("whether segments carry over {from} is not settled (the interval spans 0.5 and 0.8)"));
    // Two assignments that agree on 90 % of 400 rows (the rest moved to
    // the other label): the interval holds the ARI, is seeded, and
    // narrows as rows are added (a larger sample of the same agreement).
    let assign = |n: usize| -> (Vec<usize>, Vec<usize>) {
        let a: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let b: Vec<usize> = (0..n).map(|i| if i % 10 == 0 { 1 - i % 2 } else { i % 2 }).collect();
        (a, b)
    };
    let (a, b) = assign(400);
    let ari = strata_cluster::metrics::adjusted_rand_index(&a, &b).unwrap();
    let (low, high) = ari_interval(&a, &b, Seed(1)).unwrap();
    assert!(low < ari && ari < high, "{low} {ari} {high}");
    assert_eq!(ari_interval(&a, &b, Seed(1)).unwrap(), (low, high));
    let (a4, b4) = assign(4000);
    let (low4, high4) = ari_interval(&a4, &b4, Seed(1)).unwrap();
    assert!(high4 - low4 < 0.5 * (high - low), "{low4} {high4} against {low} {high}");
}

/// The interval's promise, checked by simulation: a population of
/// 200,000 rows with two fixed assignments (three groups; the second
/// moves a fifth of the rows at random), its ARI known; nominal 95 %
/// intervals from samples of 800 rows must cover it in 88 to 100 of 100
/// samples.
#[test]
fn ari_intervals_cover_the_population_ari() {
    let mut r = strata_core::Rng::new(Seed(21));
    let n = 200_000;
    let a: Vec<usize> = (0..n).map(|_| r.below(3)).collect();
    let b: Vec<usize> = a.iter().map(|&l| if r.uniform() < 0.2 { r.below(3) } else { l }).collect();
    let truth = strata_cluster::metrics::adjusted_rand_index(&a, &b).unwrap();
    let mut covered = 0;
    for rep in 0..100u64 {
        let rows: Vec<usize> = (0..800).map(|_| r.below(n)).collect();
        let sa: Vec<usize> = rows.iter().map(|&i| a[i]).collect();
        let sb: Vec<usize> = rows.iter().map(|&i| b[i]).collect();
        let (low, high) = ari_interval(&sa, &sb, Seed(rep)).unwrap();
        covered += usize::from(low <= truth && truth <= high);
    }
    assert!((88..=100).contains(&covered), "{covered} of 100 cover {truth}");
}

/// The refitted interval's promise, checked by simulation. Each cohort
/// is two unit Gaussian blobs, 2.5 apart; in the later cohort the second
/// blob sits 1.5 higher, so the two populations' k-means partitions
/// differ. The population ARI of the two pipelines comes from fits on
/// 100,000 rows of each cohort, compared on 200,000 rows of both.
/// Nominal 95 % intervals from samples of 200 rows per cohort, 100
/// refits each, must cover it in 88 to 100 of 100 samples (390 of 400
/// in a longer run). The interval with each sample's assignments held
/// fixed covers it in fewer than 85 (273 of 400): it leaves out how the
/// pipelines move, most of the uncertainty here.
#[test]
fn refitted_ari_intervals_cover_the_population_ari() {
    let mut r = strata_core::Rng::new(Seed(8));
    let mut draw = |n: usize, later: bool| -> Array2<f64> {
        let mut v = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let (cx, cy) = match (r.uniform() < 0.5, later) {
                (false, _) => (0.0, 0.0),
                (true, false) => (2.5, 0.0),
                (true, true) => (2.5, 1.5),
            };
            v.push(cx + r.normal());
            v.push(cy + r.normal());
        }
        Array2::from_shape_vec((n, 2), v).expect("shape")
    };
    let km = KMeans::new(2);
    let fit = |x: &Array2<f64>, seed: Seed| km.fit(x.view(), seed).unwrap();
    let (big_a, big_b) = (draw(100_000, false), draw(100_000, true));
    let mut both = draw(100_000, false);
    both.append(Axis(0), draw(100_000, true).view()).unwrap();
    let truth = strata_cluster::metrics::adjusted_rand_index(
        &fit(&big_a, Seed(1)).predict(both.view()).unwrap().to_vec(),
        &fit(&big_b, Seed(1)).predict(both.view()).unwrap().to_vec(),
    )
    .unwrap();
    let n = 200;
    let early: Vec<usize> = (0..n).collect();
    let late: Vec<usize> = (n..2 * n).collect();
    let (mut covered, mut covered_fixed) = (0, 0);
    for rep in 0..100u64 {
        let mut table = draw(n, false);
        table.append(Axis(0), draw(n, true).view()).unwrap();
        let out = refit_ari_interval(&early, &late, 100, Seed(rep), |cohort, positions, s| {
            let rows: Vec<usize> = match cohort {
                Cohort::Earlier => positions.to_vec(),
                Cohort::Later => positions.iter().map(|&p| n + p).collect(),
            };
            let own = table.select(Axis(0), &rows);
            Ok(km.fit(own.view(), s)?.predict(table.view())?.to_vec())
        });
        assert_eq!((out.refits, out.failed), (100, 0));
        let (low, high) = out.interval.expect("interval");
        covered += usize::from(low <= truth && truth <= high);
        let assign = |rows: &[usize]| km.fit(table.select(Axis(0), rows).view(), Seed(rep)).unwrap().predict(table.view()).unwrap().to_vec();
        let (low, high) = ari_interval(&assign(&early), &assign(&late), Seed(rep)).unwrap();
        covered_fixed += usize::from(low <= truth && truth <= high);
    }
    assert!((88..=100).contains(&covered), "{covered} of 100 cover {truth}");
    assert!(covered_fixed < 85, "held fixed: {covered_fixed} of 100 cover {truth}");
}

/// A resample whose refit fails is left out and counted; with fewer than
/// half left there is no interval, and the verdict says why. The
/// resamples give the same interval whatever the thread count.
#[test]
fn failed_refits_are_counted_and_the_interval_is_thread_independent() {
    let early: Vec<usize> = (0..40).collect();
    let late: Vec<usize> = (40..80).collect();
    // Labels: the later pipeline moves the rows its draw holds twice.
    // Refuses a later draw that holds position 0 at least `times` times.
    let refit = |times: Option<usize>| {
        move |cohort: Cohort, positions: &[usize], _: Seed| -> anyhow::Result<Vec<usize>> {
            if cohort == Cohort::Later && times.is_some_and(|t| positions.iter().filter(|&&q| q == 0).count() >= t) {
                anyhow::bail!("refused");
            }
            let mut labels: Vec<usize> = (0..80).map(|i| i % 2).collect();
            if cohort == Cohort::Later {
                for (i, l) in labels.iter_mut().enumerate() {
                    if positions.iter().filter(|&&p| p == i % 40).count() > 1 {
                        *l = 1 - *l;
                    }
                }
            }
            Ok(labels)
        }
    };
    let run = |threads: usize, times: Option<usize>| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| refit_ari_interval(&early, &late, 60, Seed(4), refit(times)))
    };
    let all = run(1, None);
    assert_eq!((all.refits, all.failed), (60, 0));
    let (low, high) = all.interval.expect("interval");
    assert!(low < high && high < 1.0, "{low} {high}");
    assert_eq!(run(3, None), all);
    // Position 0 is drawn twice or more in about 26 % of the draws.
    let some = run(2, Some(2));
    assert!((5..=30).contains(&some.failed), "{some:?}");
    assert!(some.interval.is_some());
    assert_eq!(run(1, Some(2)), some);
    // Once: about 64 % refused, more than half, so no interval.
    let most = run(2, Some(1));
    assert!(most.failed > 30 && most.interval.is_none(), "{most:?}");
    let (_, text) = agreement_text(0.9, &some, (0.85, 0.95));
    assert!(text.contains(&format!("each of 60 resamples of its rows, {} of which failed and are left out; [0.85, 0.95] with the two assignments held fixed", some.failed)), "{text}");
    // Too many refused: no interval, and the verdict is not settled.
    let none = RefitInterval { interval: None, refits: 60, failed: 31 };
    let (carry, text) = agreement_text(0.9, &none, (0.85, 0.95));
    assert!(carry.ends_with("is not settled (too few refits for an interval)"), "{carry}");
    assert_eq!(text, "ARI 0.90, but only 29 of 60 refits of each cohort's representation and clustering on resamples of its rows succeeded, too few for an interval");
    let (carry, text) = agreement_text(0.9, &RefitInterval { interval: Some((0.82, 0.97)), refits: 60, failed: 0 }, (0.85, 0.95));
    assert_eq!(carry, "segments carry over from the earlier cohort to the later one");
    assert!(text.starts_with("ARI 0.90 [0.82, 0.97] (95 % bootstrap refitting each cohort's representation and clustering, its recipe kept, on each of 60 resamples of its rows; [0.85, 0.95]"), "{text}");
}

#[test]
fn matching_is_one_to_one_by_overlap() {
    // Earlier 0 -> later 2 (3 rows), earlier 1 -> later 0 (2 rows); later 1 unmatched.
    let a = [0, 0, 0, 1, 1, 1];
    let b = [2, 2, 2, 0, 0, 1];
    assert_eq!(match_segments(&a, 2, &b, 3), vec![(0, 2, 3), (1, 0, 2)]);
    // A later segment cannot take two earlier ones.
    let b2 = [0, 0, 0, 0, 0, 1];
    assert_eq!(match_segments(&a, 2, &b2, 2), vec![(0, 0, 3), (1, 1, 1)]);
}

#[test]
fn derived_features_follow_their_source_column() {
    let d: strata_data::Descriptor = toml::from_str(
        r#"
name = "t"
[source]
file = "t.csv"
sha256 = "0"
[columns]
[[derive]]
name = "Tenure_days"
kind = "days_since"
from = "Dt_Customer"
format = "%d-%m-%Y"
reference = "latest"
[[derive]]
name = "Age"
kind = "age"
from = "Year_Birth"
reference_year = 2014
[[derive]]
name = "Both"
kind = "sum"
columns = ["Tenure_days", "Income"]
"#,
    )
    .expect("descriptor");
    assert_eq!(derived_from(&d, "Dt_Customer"), vec!["Tenure_days", "Both"]);
    assert_eq!(derived_from(&d, "Year_Birth"), vec!["Age"]);
    assert!(derived_from(&d, "Income").contains(&"Both".to_string()));
}
