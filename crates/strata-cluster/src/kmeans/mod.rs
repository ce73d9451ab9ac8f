//! k-means with greedy k-means++ initialisation, `n_init` restarts and
//! Lloyd iterations that follow scikit-learn step for step (tolerance relative
//! to the data variance, strict convergence on unchanged labels, empty
//! clusters re-seeded from the farthest points), so that from the same
//! initial centers both reach the same inertia.
//!
//! The data are read column-major (a table from polars already is): the
//! kernels take groups of 16 consecutive rows as vectors. As in scikit-learn,
//! Lloyd's step labels by the expanded form |c|^2 - 2 x.c and k-means++
//! weighs rows by |x|^2 + |c|^2 - 2 x.c; the inertia and the re-seeding of
//! empty clusters use exact distances. Work is parallel over fixed blocks of
//! samples and sums are combined in block order: the same seed gives the same
//! clustering whatever the number of threads.
//!
//! Where each step lives: this file holds the parameters, `fit` (restarts,
//! the choice among them, warnings) and the fitted model; `init.rs` the
//! k-means++ starts; `distance.rs` the row-to-centre distance kernels and
//! Lloyd's gap bounds; `step.rs` one Lloyd step over a block of rows;
//! `lloyd.rs` the iterations (assignments, Hamerly's bounds, stopping,
//! inertias, empty clusters); `tests.rs` the unit tests.

mod distance;
mod init;
mod lloyd;
mod step;
#[cfg(test)]
mod tests;

use distance::*;
pub use init::plus_plus;
use init::*;
use lloyd::*;
use step::*;

use crate::dense::{
    Cols, LANES, PREFETCH_AHEAD, cols_of, column_major, copy_lanes, load_group,
    mean_column_variance, prefetch_rows,
};
use crate::error::ClusterError;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strata_core::par::blocked_sum;
use strata_core::{AlgoError, Clusterer, FittedClusterer, Rng, Seed, check_columns, check_finite};

/// A row's cluster while fitting: 4 bytes instead of 8 per row and restart
/// (the fitted model's labels are `usize`). `fit` refuses more clusters.
pub(crate) type Label = u32;

/// A bound stored as `f32` (4 bytes per row and restart instead of 8),
/// rounded toward safety: [`down`] for lower bounds (never above the
/// value), [`up`] for upper bounds (never below). A looser bound only makes
/// a row be computed when it could have been skipped, so the labels are
/// those of the full computation.
///
/// Neither tests how the rounding went: that test goes either way at
/// random, once per row and step, and its mispredictions cost a third of a
/// k-means fit on the Spotify features. Instead `v` is moved outward by two
/// units of `f32` relative rounding (2^-23) and by `SAFE_ABS` (far above the
/// subnormal `f32` spacing, 1.4e-45), then rounded to nearest, which moves
/// it back by at most one unit: the bound lands within `|v| * 2^-21 +
/// 2e-42` outside `v`, one to three units for any `|v|` above 1e-35 (the
/// test `f32_bounds_round_toward_safety` checks both sides). NaN stays NaN.
/// Values beyond `f32`'s range on the safe side are taken from its edge,
/// and the moved value is kept inside the range when `v` is: a finite
/// value keeps a finite bound.
#[inline(always)]
pub(crate) fn down(v: f64) -> f32 {
    let top = f64::from(f32::MAX);
    let v = if v > top { top } else { v };
    let w = v - v.abs() * SAFE_REL - SAFE_ABS;
    (if w < -top && v >= -top { -top } else { w }) as f32
}

/// See [`down`]: an `f32` at or above `v`, at most three units above.
#[inline(always)]
pub(crate) fn up(v: f64) -> f32 {
    let top = f64::from(f32::MAX);
    let v = if v < -top { -top } else { v };
    let w = v + v.abs() * SAFE_REL + SAFE_ABS;
    (if w > top && v <= top { top } else { w }) as f32
}

/// Relative and absolute margins of [`down`] and [`up`].
const SAFE_REL: f64 = 1.0 / (1u64 << 23) as f64;
const SAFE_ABS: f64 = 1e-42;

/// One restart's outcome before the best is chosen (labels kept compact).
pub(crate) struct Run {
    pub(crate) centers: Array2<f64>,
    pub(crate) labels: Vec<Label>,
    pub(crate) inertia: f64,
    pub(crate) n_iter: usize,
    pub(crate) converged: bool,
    /// Steps that skipped rows by their bounds (see [`Tracking`]); read
    /// by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) bounded_steps: usize,
}

/// How the first centers are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KMeansInit {
    /// Greedy k-means++ (2 + ln k candidates per step), as scikit-learn's default.
    PlusPlus,
    /// These centers (k x d); with `n_init = 1` the run is fully determined.
    Centers(Array2<f64>),
}

/// Which iteration computes the assignments. Both give the same clustering
/// (barring points equidistant to two centers within rounding, which Lloyd's
/// expanded form and Hamerly's exact distances may break differently);
/// Hamerly's bounds skip most distance computations once centers settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KMeansAlgorithm {
    /// Hamerly above 32 clusters, Lloyd up to 32 (on the Spotify features
    /// Lloyd's vectorized step measured faster up to k = 24, Hamerly's
    /// bounds from k = 40 on).
    Auto,
    Lloyd,
    Hamerly,
}

/// k-means hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    pub algorithm: KMeansAlgorithm,
    pub n_clusters: usize,
    /// Restarts; the run with the lowest inertia is kept.
    pub n_init: usize,
    pub max_iter: usize,
    /// Convergence threshold on the squared center shift, relative to the mean
    /// per-feature variance of the data (scikit-learn's definition).
    pub tol: f64,
    pub init: KMeansInit,
}

impl KMeans {
    pub fn new(n_clusters: usize) -> KMeans {
        KMeans {
            algorithm: KMeansAlgorithm::Auto,
            n_clusters,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            init: KMeansInit::PlusPlus,
        }
    }

    pub fn validate(&self, n: usize, d: usize) -> Result<(), ClusterError> {
        if self.n_clusters < 1 || self.n_clusters > n {
            return Err(ClusterError::BadClusterCount {
                k: self.n_clusters,
                n,
            });
        }
        if Label::try_from(self.n_clusters).is_err() {
            return Err(ClusterError::InvalidParameter {
                name: "n_clusters",
                value: self.n_clusters.to_string(),
                expected: format!("at most {}", Label::MAX),
            });
        }
        if self.n_init < 1 {
            return Err(ClusterError::InvalidParameter {
                name: "n_init",
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        if self.max_iter < 1 {
            return Err(ClusterError::InvalidParameter {
                name: "max_iter",
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(ClusterError::InvalidParameter {
                name: "tol",
                value: self.tol.to_string(),
                expected: "a finite number >= 0".into(),
            });
        }
        if let KMeansInit::Centers(c) = &self.init {
            if c.dim() != (self.n_clusters, d) {
                return Err(ClusterError::BadInit {
                    got: c.dim(),
                    k: self.n_clusters,
                    d,
                });
            }
            check_finite(c.view(), None)?;
        }
        Ok(())
    }

    /// Fits on `x` (rows are samples).
    pub fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<FittedKMeans, ClusterError> {
        let (n, d) = x.dim();
        self.validate(n, d)?;
        check_finite(x, None)?;
        // Column-major once (free for a table from polars): the assignment
        // kernel reads consecutive rows of a column as one vector.
        let t = column_major(x);
        let cols = cols_of(&t);
        let mut warnings = Vec::new();
        if let Some(distinct) = distinct_rows_below(x, self.n_clusters) {
            warnings.push(format!(
                "only {distinct} distinct points for {} clusters: duplicates will leave clusters sharing points",
                self.n_clusters
            ));
        }
        let variance = mean_column_variance(cols);
        let norms = row_norms(cols);
        let tol = self.tol * variance;
        let accelerated = match self.algorithm {
            KMeansAlgorithm::Lloyd => false,
            KMeansAlgorithm::Hamerly => true,
            KMeansAlgorithm::Auto => self.n_clusters > 32,
        };
        // The restarts' k-means++ run in step (one pass over the data per
        // step serves all of them), then their Lloyd iterations (the first
        // step shared, see below) run in parallel, each also parallel over its
        // rows. Each restart depends only on its own seed, and the first
        // lowest inertia in restart order is kept, so the thread count changes
        // nothing.
        let inits: Vec<Array2<f64>> = match &self.init {
            KMeansInit::Centers(c) => vec![c.clone(); self.n_init],
            KMeansInit::PlusPlus => {
                let mut rngs: Vec<Rng> = (0..self.n_init)
                    .map(|run| Rng::new(seed.child(run as u64)))
                    .collect();
                // At most 16 restarts in step, so that their distances (n
                // values each) stay bounded whatever n_init is; each restart's
                // centers are the same in any batch (tested).
                rngs.chunks_mut(16)
                    .flat_map(|batch| plus_plus_many(cols, self.n_clusters, batch, &norms))
                    .collect()
            }
        };
        // The rows' norms, rounded up, for the bounds of Lloyd's step.
        let up = 1.0 + rounding(d);
        let xr: Vec<f64> = norms.iter().map(|v| v.sqrt() * up).collect();
        // Lloyd's first step of up to 16 restarts shares one pass over the
        // data; the rest of each restart runs on its own.
        let mut runs: Vec<Run> = Vec::with_capacity(inits.len());
        for batch in inits.chunks(16) {
            let firsts: Vec<Option<Assignment>> = if accelerated || self.max_iter == 0 {
                batch.iter().map(|_| None).collect()
            } else {
                first_steps(cols, batch, (&norms, &xr))
                    .into_iter()
                    .map(Some)
                    .collect()
            };
            runs.par_extend(batch.par_iter().zip(firsts).map(|(centers, first)| {
                lloyd(
                    cols,
                    centers.clone(),
                    self.max_iter,
                    tol,
                    accelerated,
                    (&norms, &xr),
                    Tracking::Settled,
                    first,
                )
            }));
        }
        // Every restart's inertia in one pass over the data, from exact
        // distances. Restarts that end in the same clustering (the same
        // partition, with the same centers to the bit) have the same
        // inertia to the bit: it is computed once.
        let mut first_of: Vec<usize> = Vec::with_capacity(runs.len());
        let mut distinct: Vec<usize> = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            let same = distinct.iter().position(|&q| same_clustering(&runs[q], r));
            first_of.push(same.unwrap_or_else(|| {
                distinct.push(i);
                distinct.len() - 1
            }));
        }
        let pairs: Vec<(&Array2<f64>, &[Label])> = distinct
            .iter()
            .map(|&q| (&runs[q].centers, runs[q].labels.as_slice()))
            .collect();
        let inertias = labelled_inertias(cols, &pairs);
        for (r, &q) in runs.iter_mut().zip(&first_of) {
            r.inertia = inertias[q];
        }
        let mut best: Option<Run> = None;
        for fitted in runs {
            if best.as_ref().is_none_or(|b| fitted.inertia < b.inertia) {
                best = Some(fitted);
            }
        }
        let best = best.ok_or(ClusterError::InvalidParameter {
            name: "n_init",
            value: "0".into(),
            expected: "at least 1".into(),
        })?;
        Ok(FittedKMeans {
            labels: best.labels.iter().map(|&l| l as usize).collect(),
            centers: best.centers,
            inertia: best.inertia,
            n_iter: best.n_iter,
            converged: best.converged,
            warnings,
        })
    }
}

/// Whether two fits partition the rows alike (labels equal up to a
/// renaming of the clusters) with the same centers to the bit for the
/// clusters in use, so that their inertias are equal to the bit.
fn same_clustering(a: &Run, b: &Run) -> bool {
    let k = a.centers.nrows();
    if b.centers.nrows() != k || a.labels.len() != b.labels.len() {
        return false;
    }
    let (mut to_b, mut to_a) = (vec![usize::MAX; k], vec![usize::MAX; k]);
    for (la, lb) in a.labels.iter().zip(&b.labels) {
        let (la, lb) = (*la as usize, *lb as usize);
        if to_b[la] == usize::MAX && to_a[lb] == usize::MAX {
            to_b[la] = lb;
            to_a[lb] = la;
        } else if to_b[la] != lb {
            return false;
        }
    }
    (0..k).filter(|&c| to_b[c] != usize::MAX).all(|c| {
        a.centers
            .row(c)
            .iter()
            .zip(b.centers.row(to_b[c]))
            .all(|(p, q)| p.to_bits() == q.to_bits())
    })
}

/// Number of distinct rows (bitwise) if it is below `k`, for the duplicates
/// warning; `None` as soon as `k` distinct rows are seen (usually after the
/// first few rows).
fn distinct_rows_below(x: ArrayView2<'_, f64>, k: usize) -> Option<usize> {
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for r in x.rows() {
        let bits: Vec<u64> = r.iter().map(|v| v.to_bits()).collect();
        if !seen.contains(&bits) {
            seen.push(bits);
            if seen.len() >= k {
                return None;
            }
        }
    }
    Some(seen.len())
}

/// A fitted k-means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKMeans {
    /// Cluster centers (k x d).
    pub centers: Array2<f64>,
    /// Cluster of each fitting row.
    pub labels: Array1<usize>,
    /// Sum of squared distances of the rows to their centers.
    pub inertia: f64,
    /// Lloyd iterations of the kept run.
    pub n_iter: usize,
    /// Whether the kept run converged before `max_iter`.
    pub converged: bool,
    /// Things the user should know (duplicate points...).
    pub warnings: Vec<String>,
}

impl FittedKMeans {
    /// Nearest center of each row, decided as the fit decides its labels
    /// (Lloyd's expanded form, as scikit-learn's `predict`), so predicting the
    /// fitting rows gives the fitted labels.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        check_columns(x, self.centers.ncols())?;
        check_finite(x, None)?;
        let t = column_major(x);
        Ok(assign_with(cols_of(&t), &self.centers, false)
            .labels
            .iter()
            .map(|&l| l as usize)
            .collect())
    }

    /// Sum of squared distances of `x` to their nearest centers.
    pub fn score_inertia(&self, x: ArrayView2<'_, f64>) -> Result<f64, AlgoError> {
        check_columns(x, self.centers.ncols())?;
        let t = column_major(x);
        Ok(assign(cols_of(&t), &self.centers).dist.iter().sum())
    }
}

impl strata_core::Configurable for KMeans {
    fn param_specs() -> Vec<strata_core::ParamSpec> {
        use strata_core::ParamSpec as S;
        use strata_core::params::{ParamKind, float, word};
        vec![
            S::clusters("number of clusters"),
            S::count("n_init", 10, "restarts; the lowest inertia is kept"),
            S::count("max_iter", 300, "iterations per restart"),
            S::new(
                "tol",
                ParamKind::Float {
                    low: 0.0,
                    high: 1.0,
                    open: false,
                },
                float(1e-4),
                "center shift tolerance, relative to the data variance",
            ),
            S::new(
                "algorithm",
                ParamKind::Choice(&["auto", "lloyd", "hamerly"]),
                word("auto"),
                "assignment iteration",
            ),
        ]
    }
    fn from_params(p: &strata_core::Params) -> Result<Self, AlgoError> {
        let mut km = KMeans::new(p.usize("k")?);
        km.n_init = p.usize("n_init")?;
        km.max_iter = p.usize("max_iter")?;
        km.tol = p.f64("tol")?;
        km.algorithm = match p.text("algorithm")? {
            "lloyd" => KMeansAlgorithm::Lloyd,
            "hamerly" => KMeansAlgorithm::Hamerly,
            _ => KMeansAlgorithm::Auto,
        };
        Ok(km)
    }
}

impl Clusterer for KMeans {
    fn name(&self) -> &str {
        "kmeans"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        Ok(Box::new(KMeans::fit(self, x, seed)?))
    }
}

impl FittedClusterer for FittedKMeans {
    fn n_clusters(&self) -> usize {
        self.centers.nrows()
    }
    fn labels(&self) -> &Array1<usize> {
        &self.labels
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        FittedKMeans::predict(self, x)
    }
    fn diagnostics(&self, _x: ArrayView2<'_, f64>) -> strata_core::Diagnostics {
        strata_core::Diagnostics::default()
            .scalar("inertia", self.inertia)
            .scalar("n_iter", self.n_iter as f64)
            .scalar("converged", f64::from(u8::from(self.converged)))
            .warnings(self.warnings.iter().cloned())
    }
}

/// Inertia of given labels and centers (for tests and reports).
pub fn inertia(x: ArrayView2<'_, f64>, centers: &Array2<f64>, labels: &Array1<usize>) -> f64 {
    labels
        .iter()
        .enumerate()
        .map(|(i, &c)| sq_dist(x.row(i), centers.row(c)))
        .sum()
}
