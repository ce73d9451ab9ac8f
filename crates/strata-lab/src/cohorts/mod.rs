//! Segment drift over time: split the rows by a date (e.g. when a customer
//! enrolled) into an earlier and a later cohort, and give each cohort its own
//! whole pipeline, fitted on its own rows only: the preprocessing recipe, the
//! representation and the clustering. Then compare what the two pipelines
//! learned:
//!
//! - **agreement**: both pipelines assign every row (each through its own
//!   recipe), and the adjusted Rand index of the two assignments says whether
//!   they cut the customers the same way, with a bootstrap interval that
//!   refits each cohort's representation and clustering on each resample
//!   (its recipe kept; [`refit_ari_interval`]);
//! - **matched segments**: each earlier segment is paired with the later one
//!   that takes most of its rows in those assignments (one to one, largest
//!   overlap first);
//! - **centres per feature**: each matched segment's mean on its own cohort's
//!   rows, in original units and as a shift in pooled standard deviations of
//!   the two cohorts, with a 95 % interval from Welch's standard error of the
//!   difference of the two segments' means (unadjusted; the largest shift,
//!   picked for its size, is said to err large);
//! - **response**: each matched segment's response rate in its own cohort,
//!   with a Wilson 95 % interval, and the change from the earlier cohort to
//!   the later one with Newcombe's hybrid score 95 % interval of the
//!   difference (unadjusted for the number of matched segments): a rate
//!   "changes" when that interval excludes zero. Two Wilson intervals that
//!   merely fail to overlap would be a much stricter test than 95 %.
//!
//! Features derived from the split column (e.g. the tenure computed from the
//! enrolment date) differ between cohorts by construction: they are left out
//! of both pipelines and of the comparison, and the report names them.

use crate::features::Columns;
use crate::segments::{percentile, wilson};
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use strata_core::{Clusterer, Reducer, Seed};

/// `[cohorts]` in a manifest: which date column splits the rows, and its format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortSpec {
    /// A metadata column holding dates.
    pub column: String,
    /// chrono format of the dates, e.g. "%d-%m-%Y".
    pub format: String,
}

/// Parses the dates of a column; the first unparseable value is an error
/// naming where it sits: `at(i)` says where row `i` of `values` was read
/// (the data file and its row and line, [`strata_data::RawTable::at`]).
pub fn parse_dates(
    values: &[String],
    spec: &CohortSpec,
    at: impl Fn(usize) -> String,
) -> Result<Vec<chrono::NaiveDate>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            chrono::NaiveDate::parse_from_str(v.trim(), &spec.format).map_err(|e| {
                format!(
                    "cohorts: {}: `{}` = \"{v}\" is not a date in the format \"{}\" ({e})",
                    at(i),
                    spec.column,
                    spec.format
                )
            })
        })
        .collect()
}

/// Where row `i` of a loaded dataset was read: `"data.csv, row 3 (line 4)"`.
pub fn row_in_file(loaded: &strata_data::LoadedDataset, i: usize) -> String {
    format!("{}, {}", loaded.table.path.display(), loaded.table.at(i))
}

/// The features a descriptor derives from `column`, directly or through
/// another derived feature.
pub fn derived_from(d: &strata_data::Descriptor, column: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![column.to_string()];
    loop {
        let before = out.len();
        for r in &d.derive {
            let uses = r.from.iter().chain(r.columns.iter()).any(|c| out.contains(c));
            if uses && !out.contains(&r.name) {
                out.push(r.name.clone());
            }
        }
        if out.len() == before {
            break;
        }
    }
    out.remove(0);
    out
}

/// One cohort's rows prepared by a recipe fitted on those rows only.
#[derive(Debug, Clone)]
pub struct CohortMatrices {
    /// The recipe's column names.
    pub names: Vec<String>,
    /// What each column holds.
    pub kinds: Vec<strata_core::ColumnKind>,
    /// The cohort's own rows, scaled.
    pub own: Array2<f64>,
    /// The cohort's own rows in original units.
    pub own_unscaled: Array2<f64>,
    /// Every row of the table, scaled by this cohort's recipe.
    pub all: Array2<f64>,
}

/// Fits a preprocessing recipe on some rows and prepares them and every row.
pub trait CohortPrep {
    fn rows(&self) -> usize;
    fn prepare(&self, rows: &[usize]) -> anyhow::Result<CohortMatrices>;
}

impl CohortPrep for strata_data::LoadedDataset {
    fn rows(&self) -> usize {
        self.dataset.n_samples()
    }
    fn prepare(&self, rows: &[usize]) -> anyhow::Result<CohortMatrices> {
        let all: Vec<usize> = (0..self.dataset.n_samples()).collect();
        let mut p = self.prepare_rows_named(rows, &[&all])?;
        let every = p
            .applied
            .pop()
            .ok_or_else(|| anyhow::anyhow!("cohorts: no matrix for every row"))?;
        Ok(CohortMatrices {
            kinds: self.recipe.column_kinds(&p.names),
            names: p.names,
            own: p.fit.features,
            own_unscaled: p.fit.unscaled,
            all: every.features,
        })
    }
}

/// A response rate with its Wilson 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub responders: usize,
    pub rows: usize,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    fn of(rows: &[usize], y: &[u8]) -> Rate {
        let k = rows.iter().filter(|&&i| y[i] == 1).count();
        let (low, high) = wilson(k, rows.len(), strata_core::stats::Z95);
        Rate {
            responders: k,
            rows: rows.len(),
            rate: k as f64 / rows.len().max(1) as f64,
            low,
            high,
        }
    }
}

/// A difference of two rates with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub diff: f64,
    pub low: f64,
    pub high: f64,
}

impl Change {
    /// `late` minus `early`, with Newcombe's hybrid score interval.
    fn of(early: &Rate, late: &Rate) -> Change {
        let (diff, low, high) = crate::abtest::newcombe(
            late.responders,
            late.rows,
            early.responders,
            early.rows,
            strata_core::stats::Z95,
        );
        Change { diff, low, high }
    }

    /// Whether the interval excludes no change.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// How far one feature's mean moved between two matched segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureShift {
    pub feature: String,
    /// Mean over the earlier segment's rows, in original units.
    pub early: f64,
    /// Mean over the later segment's rows, in original units.
    pub late: f64,
    /// Pooled within-cohort standard deviation of the feature.
    pub pooled_sd: f64,
    /// `(late - early) / pooled_sd`; 0 when the feature is constant in both cohorts.
    pub shift_sd: f64,
    /// 95 % interval of `shift_sd`: the difference of the two segments'
    /// means with Welch's standard error (each segment's own variance over
    /// its rows) and the normal quantile, over the same `pooled_sd`;
    /// unadjusted for the number of features and segments compared.
    #[serde(default)]
    pub shift_interval: Option<(f64, f64)>,
}

/// An earlier segment and the later segment matched to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub early_segment: usize,
    pub late_segment: usize,
    /// Share of the earlier cohort's rows in the earlier segment.
    pub early_share: f64,
    /// Share of the later cohort's rows in the later segment.
    pub late_share: f64,
    /// Share of the rows the earlier pipeline puts in `early_segment` that
    /// the later pipeline puts in `late_segment` (all rows).
    pub overlap: f64,
    /// Response in each cohort, when the data has a target.
    pub early_response: Option<Rate>,
    pub late_response: Option<Rate>,
    /// The later rate minus the earlier one, with Newcombe's 95 % interval
    /// (`abtest::newcombe`).
    #[serde(default)]
    pub response_change: Option<Change>,
    /// Every compared feature, largest absolute shift first.
    pub features: Vec<FeatureShift>,
    /// The chosen clustering's segment holding most of the earlier
    /// segment's rows, and their share (each cohort's pipeline numbers its
    /// segments its own way).
    #[serde(default)]
    pub chosen_segment: Option<(usize, f64)>,
}

impl Match {
    /// The largest absolute shift, in pooled standard deviations.
    pub fn largest_shift(&self) -> f64 {
        self.features.first().map_or(0.0, |f| f.shift_sd.abs())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    pub column: String,
    /// Rows dated on or before this date form the earlier cohort.
    pub split: String,
    pub early_rows: usize,
    pub late_rows: usize,
    /// Features derived from the split column, left out of the pipelines and
    /// of the comparison.
    pub excluded: Vec<String>,
    /// Columns each cohort's pipeline segmented on.
    pub early_columns: usize,
    pub late_columns: usize,
    /// Agreement of the two pipelines' assignments of every row.
    pub ari: f64,
    /// Its 95 % percentile bootstrap interval with each cohort's
    /// representation and clustering refitted on every resample, its recipe
    /// kept ([`refit_ari_interval`]): what the verdict rests on.
    /// None when too few refits succeeded.
    #[serde(default)]
    pub ari_interval: Option<(f64, f64)>,
    /// The resamples of `ari_interval` and how many of them failed (a
    /// refit that fails is left out).
    #[serde(default)]
    pub refits: usize,
    #[serde(default)]
    pub refits_failed: usize,
    /// The 95 % percentile bootstrap interval over rows with each
    /// pipeline's assignment held fixed ([`ari_interval`]): how much of the
    /// refitted interval's width is which customers were compared.
    #[serde(default)]
    pub ari_interval_fixed: Option<(f64, f64)>,
    pub matches: Vec<Match>,
    /// Segments left without a partner (when the two pipelines found
    /// different numbers of segments): (cohort, segment).
    pub unmatched: Vec<(String, usize)>,
    pub verdict: String,
}

/// A 95 % percentile bootstrap interval of the ARI of two assignments of
/// the same rows: 1000 resamples of the rows with replacement (seeded), each
/// assignment held fixed. It measures which customers happened to be in the
/// data, not how the pipelines would move if refitted: shown beside
/// [`refit_ari_interval`], which the verdict follows.
pub fn ari_interval(a: &[usize], b: &[usize], seed: Seed) -> anyhow::Result<(f64, f64)> {
    let n = a.len();
    let reps = 1000;
    let mut rng = strata_core::Rng::new(seed.named("cohorts-ari-bootstrap"));
    let mut v = Vec::with_capacity(reps);
    let (mut ra, mut rb) = (vec![0usize; n], vec![0usize; n]);
    for _ in 0..reps {
        for i in 0..n {
            let j = rng.below(n);
            ra[i] = a[j];
            rb[i] = b[j];
        }
        v.push(strata_cluster::metrics::adjusted_rand_index(&ra, &rb)?);
    }
    v.sort_by(f64::total_cmp);
    Ok((percentile(&v, 0.025), percentile(&v, 0.975)))
}

/// Bootstrap resamples of [`refit_ari_interval`] in the sweep. The verdict
/// compares the interval's ends with 0.8 and 0.5, and the Monte Carlo error
/// of a 2.5 % percentile shrinks as one over the square root of the
/// resamples: on the campaign, 200 gave a low end of 0.779 and 1,000 0.787,
/// for about 3 s of two cores instead of 0.7 s.
pub const REFITS: usize = 1000;

/// Which cohort a refit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    Earlier,
    Later,
}

/// What [`refit_ari_interval`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct RefitInterval {
    /// The 2.5 and 97.5 percentiles of the resamples' ARIs; None when
    /// fewer than half of the resamples could be refitted.
    pub interval: Option<(f64, f64)>,
    pub refits: usize,
    pub failed: usize,
}

/// A 95 % percentile bootstrap interval of the ARI of the two cohorts'
/// pipelines that refits them: each of `reps` resamples (seeded, run in
/// parallel, the same whatever the thread count) draws each cohort's rows
/// with replacement (`early` and `late` hold the table rows of each
/// cohort), refits each cohort's pipeline on its draw through `refit(cohort,
/// positions in that cohort, seed)`, which returns the labels the refitted
/// pipeline gives every row of the table, and takes the ARI of the two
/// assignments over the drawn rows of both cohorts. So it counts both which
/// customers were compared and how each pipeline would move had other
/// customers enrolled, as a user rerunning the study would see. A resample
/// whose refit fails is left out and counted.
pub fn refit_ari_interval<F>(early: &[usize], late: &[usize], reps: usize, seed: Seed, refit: F) -> RefitInterval
where
    F: Fn(Cohort, &[usize], Seed) -> anyhow::Result<Vec<usize>> + Sync,
{
    use rayon::prelude::*;
    let aris: Vec<Option<f64>> = (0..reps as u64)
        .into_par_iter()
        .map(|r| {
            let s = seed.named("cohorts-refit").child(r);
            let mut rng = strata_core::Rng::new(s.named("rows"));
            let pa: Vec<usize> = (0..early.len()).map(|_| rng.below(early.len())).collect();
            let pb: Vec<usize> = (0..late.len()).map(|_| rng.below(late.len())).collect();
            let la = refit(Cohort::Earlier, &pa, s.named("earlier")).ok()?;
            let lb = refit(Cohort::Later, &pb, s.named("later")).ok()?;
            let rows = pa.iter().map(|&p| early[p]).chain(pb.iter().map(|&p| late[p]));
            let (a, b): (Vec<usize>, Vec<usize>) = rows
                .map(|i| Some((*la.get(i)?, *lb.get(i)?)))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .unzip();
            strata_cluster::metrics::adjusted_rand_index(&a, &b).ok()
        })
        .collect();
    let mut v: Vec<f64> = aris.iter().flatten().copied().collect();
    let failed = reps - v.len();
    v.sort_by(f64::total_cmp);
    let interval = (!v.is_empty() && 2 * v.len() >= reps).then(|| (percentile(&v, 0.025), percentile(&v, 0.975)));
    RefitInterval { interval, refits: reps, failed }
}

/// How far segments carry over and the agreement's clause of the verdict:
/// the ARI with its refitted interval (or why there is none), the interval
/// with the assignments held fixed, and the rule.
fn agreement_text(ari: f64, refitted: &RefitInterval, fixed: (f64, f64)) -> (String, String) {
    let failed = match refitted.failed {
        0 => String::new(),
        f => format!(", {f} of which failed and are left out"),
    };
    match refitted.interval {
        Some((low, high)) => (
            carry_over(low, high),
            format!(
                "ARI {ari:.2} [{low:.2}, {high:.2}] (95 % bootstrap refitting each cohort's representation and clustering, its recipe kept, on each of {} resamples of its rows{failed}; [{:.2}, {:.2}] with the two assignments held fixed; carry over when the low end is at least 0.8, do not when the high end is below 0.5)",
                refitted.refits, fixed.0, fixed.1
            ),
        ),
        None => (
            "whether segments carry over from the earlier cohort to the later one is not settled (too few refits for an interval)".to_string(),
            format!(
                "ARI {ari:.2}, but only {} of {} refits of each cohort's representation and clustering on resamples of its rows succeeded, too few for an interval",
                refitted.refits - refitted.failed,
                refitted.refits
            ),
        ),
    }
}

/// The verdict's headline from the ARI interval: segments "carry over" when
/// its low end is at least 0.8, "do not carry over" when its high end is
/// below 0.5, "partly carry over" when it lies within [0.5, 0.8); otherwise
/// the interval spans a threshold, which the headline names.
pub fn carry_over(low: f64, high: f64) -> String {
    let from = "from the earlier cohort to the later one";
    let spans: Vec<&str> = [(0.5, "0.5"), (0.8, "0.8")]
        .iter()
        .filter(|(t, _)| low < *t && *t <= high)
        .map(|(_, name)| *name)
        .collect();
    if low >= 0.8 {
        format!("segments carry over {from}")
    } else if high < 0.5 {
        format!("segments do not carry over {from}")
    } else if low >= 0.5 && high < 0.8 {
        format!("segments partly carry over {from}")
    } else {
        format!("whether segments carry over {from} is not settled (the interval spans {})", spans.join(" and "))
    }
}

/// What [`evaluate`] needs besides the pipeline.
pub struct CohortInputs<'a> {
    pub dates: &'a [chrono::NaiveDate],
    pub column: &'a str,
    /// Which prepared features segment (`[features]`).
    pub columns: &'a Columns,
    /// Features to leave out: those derived from the split column.
    pub excluded: &'a [String],
    /// Features that are category codes (`columns.nominal`): in both
    /// pipelines like every feature, but a mean of codes is no centre, so
    /// they are left out of the centre shifts.
    pub nominal: &'a [String],
    /// 0/1 responses, when the data has a target.
    pub target: Option<&'a [u8]>,
    /// The chosen clustering's label of every row, to name the segment card
    /// each earlier segment stands for (not used in any fit).
    pub chosen: Option<&'a [usize]>,
    /// Bootstrap resamples of the refitted ARI interval ([`REFITS`] in the
    /// sweep).
    pub refits: usize,
}

/// One cohort's fitted pipeline: labels of its own rows and of every row.
struct Fitted {
    m: CohortMatrices,
    /// The cohort's own rows and every row of the table, scaled by its
    /// recipe, in the columns its pipeline segments.
    own: Array2<f64>,
    all: Array2<f64>,
    typed: crate::features::Typed,
    own_labels: Vec<usize>,
    all_labels: Vec<usize>,
    k: usize,
}

/// Fits the representation and the clusterer on `own` and returns the
/// labels of its rows and of the rows of `all`.
fn fit_pipeline(
    own: ArrayView2<'_, f64>,
    all: ArrayView2<'_, f64>,
    typed: &crate::features::Typed,
    reducer: &dyn Reducer,
    clusterer: &dyn Clusterer,
    seed: Seed,
) -> anyhow::Result<(Vec<usize>, Vec<usize>)> {
    let (fr, z) = reducer.fit_transform(own, seed.named("representation"))?;
    let fc = crate::features::fit_clusterer(clusterer, reducer.name(), z.view(), Some(typed), seed.named("clusterer"))?;
    let all_labels = fc.predict(fr.transform(all)?.view())?.to_vec();
    Ok((fc.labels().to_vec(), all_labels))
}

fn fit_cohort(
    prep: &dyn CohortPrep,
    rows: &[usize],
    name: &str,
    inp: &CohortInputs<'_>,
    reducer: &dyn Reducer,
    clusterer: &dyn Clusterer,
    seed: Seed,
) -> anyhow::Result<Fitted> {
    let m = prep
        .prepare(rows)
        .map_err(|e| anyhow::anyhow!("cohorts: the {name} cohort's recipe: {e:#}"))?;
    let kept: Vec<usize> = inp
        .columns
        .resolve(&m.names, false)
        .map_err(|e| anyhow::anyhow!("cohorts: the {name} cohort: {e}"))?
        .into_iter()
        .filter(|&j| !inp.excluded.contains(&m.names[j]))
        .collect();
    if kept.is_empty() {
        anyhow::bail!("cohorts: the {name} cohort has no feature left once those derived from `{}` are excluded", inp.column);
    }
    let own = m.own.select(Axis(1), &kept);
    let all = m.all.select(Axis(1), &kept);
    let typed = crate::features::Typed {
        kinds: kept.iter().map(|&j| m.kinds.get(j).copied().unwrap_or(strata_core::ColumnKind::Numeric)).collect(),
        names: kept.iter().map(|&j| m.names[j].clone()).collect(),
    };
    let (own_labels, all_labels) = fit_pipeline(own.view(), all.view(), &typed, reducer, clusterer, seed)
        .map_err(|e| anyhow::anyhow!("cohorts: the {name} cohort: {e:#}"))?;
    let k = own_labels
        .iter()
        .chain(all_labels.iter())
        .copied()
        .max()
        .map_or(0, |m| m + 1);
    Ok(Fitted {
        m,
        own,
        all,
        typed,
        own_labels,
        all_labels,
        k,
    })
}

/// Mean and variance (n - 1) of a column over some rows.
fn mean_var(x: &Array2<f64>, j: usize, rows: &[usize]) -> (f64, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|&i| x[[i, j]]).sum::<f64>() / n.max(1.0);
    let var = rows.iter().map(|&i| (x[[i, j]] - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var)
}

/// The 95 % interval of a standardized shift `shift_sd` (a difference of
/// two means over `pooled_sd`) from each side's variance and row count:
/// Welch's standard error of the difference, the normal quantile (the
/// segments hold hundreds of rows), over the same `pooled_sd`. `None` for a
/// constant feature or a segment of one row.
fn shift_interval(shift_sd: f64, pooled_sd: f64, (va, na): (f64, usize), (vb, nb): (f64, usize)) -> Option<(f64, f64)> {
    if pooled_sd <= 0.0 || na < 2 || nb < 2 {
        return None;
    }
    let half = strata_core::stats::Z95 * (va / na as f64 + vb / nb as f64).sqrt() / pooled_sd;
    half.is_finite().then_some((shift_sd - half, shift_sd + half))
}

/// Pairs earlier and later segments one to one, largest overlap (rows both
/// pipelines put in the pair) first; ties go to the lower segment numbers.
fn match_segments(a: &[usize], ka: usize, b: &[usize], kb: usize) -> Vec<(usize, usize, usize)> {
    let mut count = vec![vec![0usize; kb]; ka];
    for (&s, &t) in a.iter().zip(b) {
        count[s][t] += 1;
    }
    let mut cells: Vec<(usize, usize, usize)> = (0..ka)
        .flat_map(|s| (0..kb).map(move |t| (s, t)))
        .map(|(s, t)| (s, t, count[s][t]))
        .collect();
    cells.sort_by(|p, q| q.2.cmp(&p.2).then(p.0.cmp(&q.0)).then(p.1.cmp(&q.1)));
    let (mut used_a, mut used_b) = (vec![false; ka], vec![false; kb]);
    let mut out = Vec::new();
    for (s, t, c) in cells {
        if !used_a[s] && !used_b[t] {
            used_a[s] = true;
            used_b[t] = true;
            out.push((s, t, c));
        }
    }
    out.sort_by_key(|m| m.0);
    out
}

/// Splits the rows at the median date and compares the two cohorts'
/// pipelines (see the module documentation).
pub fn evaluate(
    prep: &dyn CohortPrep,
    inp: &CohortInputs<'_>,
    reducer: &dyn Reducer,
    clusterer: &dyn Clusterer,
    seed: Seed,
) -> anyhow::Result<CohortReport> {
    let n = prep.rows();
    if inp.dates.len() != n || n == 0 {
        anyhow::bail!("cohorts: {} dates for {n} rows", inp.dates.len());
    }
    if inp.target.is_some_and(|y| y.len() != n) {
        anyhow::bail!("cohorts: the target has another number of rows than the table ({n})");
    }
    if inp.chosen.is_some_and(|c| c.len() != n) {
        anyhow::bail!("cohorts: the chosen clustering has another number of rows than the table ({n})");
    }
    let mut sorted = inp.dates.to_vec();
    sorted.sort_unstable();
    let split = sorted[(sorted.len().saturating_sub(1)) / 2];
    let early: Vec<usize> = (0..n).filter(|&i| inp.dates[i] <= split).collect();
    let late: Vec<usize> = (0..n).filter(|&i| inp.dates[i] > split).collect();
    if early.len() < 10 || late.len() < 10 {
        anyhow::bail!(
            "cohorts: splitting `{}` at {split} leaves {} and {} rows; too few to segment",
            inp.column,
            early.len(),
            late.len()
        );
    }
    let a = fit_cohort(prep, &early, "earlier", inp, reducer, clusterer, seed)?;
    let b = fit_cohort(prep, &late, "later", inp, reducer, clusterer, seed)?;
    let ari = strata_cluster::metrics::adjusted_rand_index(&a.all_labels, &b.all_labels)?;
    let fixed = ari_interval(&a.all_labels, &b.all_labels, seed)?;
    let refitted = refit_ari_interval(&early, &late, inp.refits, seed, |cohort, positions, s| {
        let f = match cohort {
            Cohort::Earlier => &a,
            Cohort::Later => &b,
        };
        let own = f.own.select(Axis(0), positions);
        Ok(fit_pipeline(own.view(), f.all.view(), &f.typed, reducer, clusterer, s)?.1)
    });

    // Features both recipes produced, minus the excluded ones, in the earlier recipe's order.
    let compared: Vec<(usize, usize)> = a
        .m
        .names
        .iter()
        .enumerate()
        .filter(|(_, name)| !inp.excluded.contains(name) && !inp.nominal.contains(name))
        .filter_map(|(ja, name)| b.m.names.iter().position(|x| x == name).map(|jb| (ja, jb)))
        .collect();
    let pooled: Vec<f64> = {
        let all_a: Vec<usize> = (0..early.len()).collect();
        let all_b: Vec<usize> = (0..late.len()).collect();
        let (na, nb) = (early.len() as f64, late.len() as f64);
        compared
            .iter()
            .map(|&(ja, jb)| {
                let (_, va) = mean_var(&a.m.own_unscaled, ja, &all_a);
                let (_, vb) = mean_var(&b.m.own_unscaled, jb, &all_b);
                (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt()
            })
            .collect()
    };
    // Positions (in the cohort's own matrices) of each segment's rows.
    let members = |f: &Fitted, s: usize| -> Vec<usize> {
        (0..f.own_labels.len()).filter(|&p| f.own_labels[p] == s).collect()
    };
    let pairs = match_segments(&a.all_labels, a.k, &b.all_labels, b.k);
    let mut matches = Vec::new();
    for &(s, t, both) in &pairs {
        let (ma, mb) = (members(&a, s), members(&b, t));
        if ma.is_empty() || mb.is_empty() {
            continue;
        }
        let mut features: Vec<FeatureShift> = compared
            .iter()
            .zip(&pooled)
            .map(|(&(ja, jb), &sd)| {
                let (early_mean, early_var) = mean_var(&a.m.own_unscaled, ja, &ma);
                let (late_mean, late_var) = mean_var(&b.m.own_unscaled, jb, &mb);
                let shift_sd = if sd > 0.0 { (late_mean - early_mean) / sd } else { 0.0 };
                FeatureShift {
                    feature: a.m.names[ja].clone(),
                    early: early_mean,
                    late: late_mean,
                    pooled_sd: sd,
                    shift_sd,
                    shift_interval: shift_interval(shift_sd, sd, (early_var, ma.len()), (late_var, mb.len())),
                }
            })
            .collect();
        features.sort_by(|p, q| {
            q.shift_sd
                .abs()
                .total_cmp(&p.shift_sd.abs())
                .then(p.feature.cmp(&q.feature))
        });
        let in_a = a.all_labels.iter().filter(|&&l| l == s).count();
        let rows_of = |cohort: &[usize], pos: &[usize]| -> Vec<usize> { pos.iter().map(|&p| cohort[p]).collect() };
        // The earlier segment's rows of the table, for its response and its
        // chosen-clustering segment.
        let early_rows = rows_of(&early, &ma);
        let early_response = inp.target.map(|y| Rate::of(&early_rows, y));
        let late_response = inp.target.map(|y| Rate::of(&rows_of(&late, &mb), y));
        matches.push(Match {
            early_segment: s,
            late_segment: t,
            early_share: ma.len() as f64 / early.len() as f64,
            late_share: mb.len() as f64 / late.len() as f64,
            overlap: both as f64 / in_a.max(1) as f64,
            response_change: early_response.as_ref().zip(late_response.as_ref()).map(|(e, l)| Change::of(e, l)),
            early_response,
            late_response,
            features,
            chosen_segment: inp.chosen.and_then(|c| crate::segments::majority(&early_rows, c)),
        });
    }
    let mut unmatched = Vec::new();
    for s in 0..a.k {
        if !matches.iter().any(|m| m.early_segment == s) && !members(&a, s).is_empty() {
            unmatched.push(("earlier".to_string(), s));
        }
    }
    for t in 0..b.k {
        if !matches.iter().any(|m| m.late_segment == t) && !members(&b, t).is_empty() {
            unmatched.push(("later".to_string(), t));
        }
    }
    let worst = matches
        .iter()
        .max_by(|p, q| p.largest_shift().total_cmp(&q.largest_shift()));
    let shifts: usize = matches.iter().map(|m| m.features.len()).sum();
    let moved = worst.and_then(|m| m.features.first()).map_or(String::new(), |f| {
        let interval = f.shift_interval.map_or(String::new(), |(lo, hi)| {
            format!(
                " [{lo:+.2}, {hi:+.2}] (95 %, Welch; picked as the largest of {shifts} feature shifts, so it errs large)"
            )
        });
        format!(
            "; the largest move of a matched segment's centre is {:+.2}{interval} pooled standard deviations, on `{}`",
            f.shift_sd, f.feature
        )
    });
    let changes: Vec<Change> = matches.iter().filter_map(|m| m.response_change).collect();
    let response = if changes.is_empty() {
        String::new()
    } else {
        let changed = changes.iter().filter(|c| c.excludes_zero()).count();
        format!(
            "; the response rate of {changed} of {} matched segments changes between cohorts (Newcombe's 95 % interval of the difference excludes zero; unadjusted for the {} segments)",
            changes.len(),
            changes.len()
        )
    };
    let (carry, agreement) = agreement_text(ari, &refitted, fixed);
    let verdict = format!(
        "{carry}: each cohort's own pipeline assigns every row, and the two assignments agree with {agreement}{moved}{response}"
    );
    Ok(CohortReport {
        column: inp.column.to_string(),
        split: split.to_string(),
        early_rows: early.len(),
        late_rows: late.len(),
        excluded: inp.excluded.to_vec(),
        early_columns: a.own.ncols(),
        late_columns: b.own.ncols(),
        ari,
        ari_interval: refitted.interval,
        refits: refitted.refits,
        refits_failed: refitted.failed,
        ari_interval_fixed: Some(fixed),
        matches,
        unmatched,
        verdict,
    })
}

#[cfg(test)]
mod tests;
