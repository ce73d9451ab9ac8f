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
        let mut runs: Vec<FittedKMeans> = Vec::with_capacity(inits.len());
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
        let pairs: Vec<(&Array2<f64>, &[usize])> = distinct
            .iter()
            .map(|&q| (&runs[q].centers, runs[q].labels.as_slice().unwrap_or(&[])))
            .collect();
        let inertias = labelled_inertias(cols, &pairs);
        for (r, &q) in runs.iter_mut().zip(&first_of) {
            r.inertia = inertias[q];
        }
        let mut best: Option<FittedKMeans> = None;
        for fitted in runs {
            if best.as_ref().is_none_or(|b| fitted.inertia < b.inertia) {
                best = Some(fitted);
            }
        }
        let mut best = best.ok_or(ClusterError::InvalidParameter {
            name: "n_init",
            value: "0".into(),
            expected: "at least 1".into(),
        })?;
        best.warnings = warnings;
        Ok(best)
    }
}

/// Whether two fits partition the rows alike (labels equal up to a
/// renaming of the clusters) with the same centers to the bit for the
/// clusters in use, so that their inertias are equal to the bit.
fn same_clustering(a: &FittedKMeans, b: &FittedKMeans) -> bool {
    let k = a.centers.nrows();
    if b.centers.nrows() != k || a.labels.len() != b.labels.len() {
        return false;
    }
    let (mut to_b, mut to_a) = (vec![usize::MAX; k], vec![usize::MAX; k]);
    for (&la, &lb) in a.labels.iter().zip(&b.labels) {
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

#[inline]
fn sq_dist(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Nearest center (as a float, for branch-free selection), nearest and
/// second-nearest squared distances of a group of `LANES` rows given column
/// by column (`group[j]` holds feature `j` of the rows). For every (row,
/// center) the squared differences are summed over the features in order,
/// from 0.0, as a direct computation does; the smallest distance wins and
/// ties go to the lowest center index.
#[inline(always)]
fn nearest_lanes(
    group: &[[f64; LANES]],
    cs: &[f64],
    d: usize,
) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
    let mut best = [0.0f64; LANES];
    let mut v1 = [f64::INFINITY; LANES];
    let mut v2 = [f64::INFINITY; LANES];
    for (c, center) in cs.chunks_exact(d).enumerate() {
        let mut acc = [0.0f64; LANES];
        for (col, &cj) in group.iter().zip(center) {
            for l in 0..LANES {
                let t = col[l] - cj;
                acc[l] += t * t;
            }
        }
        let cf = c as f64;
        for l in 0..LANES {
            let v = acc[l];
            let closer = v < v1[l];
            v2[l] = if closer {
                v1[l]
            } else if v < v2[l] {
                v
            } else {
                v2[l]
            };
            v1[l] = if closer { v } else { v1[l] };
            best[l] = if closer { cf } else { best[l] };
        }
    }
    (best, v1, v2)
}

/// Nearest center, nearest and second-nearest squared distances of the rows
/// `start..start + first.len()` of the column-major `data` (`n` rows, `d`
/// columns), for the row-major centers `cs`. Rows go in groups of [`LANES`],
/// copied column by column into a small buffer (the last group padded), so
/// every row goes through the same arithmetic. Unless `counts` is empty, each
/// row is also added to its cluster's sum (`sums` is k x d, row-major) and
/// count, rows in order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn nearest_body(
    data: &[f64],
    n: usize,
    start: usize,
    cs: &[f64],
    d: usize,
    first: &mut [usize],
    d1: &mut [f64],
    d2: &mut [f64],
    sums: &mut [f64],
    counts: &mut [f64],
) {
    let m = first.len();
    let mut group = vec![[0.0f64; LANES]; d];
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        let (best, v1, v2) = nearest_lanes(&group, cs, d);
        for l in 0..len {
            first[r + l] = best[l] as usize;
            d1[r + l] = v1[l];
            d2[r + l] = v2[l];
        }
        if !counts.is_empty() {
            add_group(&group, &best, len, sums, counts);
        }
    }
}

/// Adds the first `len` rows of a group to the sums (k x d, row-major) and
/// counts of their clusters `best`, rows in order.
#[inline(always)]
fn add_group(
    group: &[[f64; LANES]],
    best: &[f64; LANES],
    len: usize,
    sums: &mut [f64],
    counts: &mut [f64],
) {
    let d = group.len();
    for (l, &b) in best.iter().enumerate().take(len) {
        let lab = b as usize;
        for (s, g) in sums[lab * d..(lab + 1) * d].iter_mut().zip(group) {
            *s += g[l];
        }
        counts[lab] += 1.0;
    }
}

/// Nearest center of a group of rows by the expanded form
/// |c|^2 - 2 x.c (the row's own |x|^2 is the same for every center), as
/// scikit-learn's Lloyd step: one multiply and one add per feature instead
/// of a subtract, a multiply and an add. `w` holds -2 c (k x d, row-major)
/// and `cn` the |c|^2; ties go to the lowest center index. Returns the
/// nearest center, and the lowest and second-lowest values of the form.
#[inline(always)]
fn nearest_dot_lanes(
    group: &[[f64; LANES]],
    w: &[f64],
    cn: &[f64],
    d: usize,
) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
    let mut best = [0.0f64; LANES];
    let mut v1 = [f64::INFINITY; LANES];
    let mut v2 = [f64::INFINITY; LANES];
    // Two centers at a time: each feature's loads serve both, and eight
    // independent sums hide the latency of the additions.
    let mut pairs = w.chunks_exact(2 * d);
    for (p, wp) in (&mut pairs).enumerate() {
        let (w0, w1) = wp.split_at(d);
        let mut a0 = [cn[2 * p]; LANES];
        let mut a1 = [cn[2 * p + 1]; LANES];
        for ((col, &x0), &x1) in group.iter().zip(w0).zip(w1) {
            for l in 0..LANES {
                a0[l] += col[l] * x0;
                a1[l] += col[l] * x1;
            }
        }
        keep_nearer(&a0, 2 * p, &mut v1, &mut v2, &mut best);
        keep_nearer(&a1, 2 * p + 1, &mut v1, &mut v2, &mut best);
    }
    let wc = pairs.remainder();
    if !wc.is_empty() {
        let c = cn.len() - 1;
        let mut acc = [cn[c]; LANES];
        for (col, &wj) in group.iter().zip(wc) {
            for l in 0..LANES {
                acc[l] += col[l] * wj;
            }
        }
        keep_nearer(&acc, c, &mut v1, &mut v2, &mut best);
    }
    (best, v1, v2)
}

/// Lanes where `acc` is below the best so far take it and center `c`; the
/// second-lowest value follows.
#[inline(always)]
fn keep_nearer(
    acc: &[f64; LANES],
    c: usize,
    v1: &mut [f64; LANES],
    v2: &mut [f64; LANES],
    best: &mut [f64; LANES],
) {
    let cf = c as f64;
    for l in 0..LANES {
        let closer = acc[l] < v1[l];
        let second = if acc[l] < v2[l] { acc[l] } else { v2[l] };
        v2[l] = if closer { v1[l] } else { second };
        v1[l] = if closer { acc[l] } else { v1[l] };
        best[l] = if closer { cf } else { best[l] };
    }
}

/// What a Lloyd step keeps from the previous one to skip rows whose center
/// cannot change: per row, a lower bound on the distance to the second-
/// nearest center minus an upper bound on the distance to the nearest, as
/// Hamerly's bounds, taken from the expanded form with a rounding allowance.
/// A move of the centers shrinks it by at most the row's center's move plus
/// the largest other move; while it stays above the allowance, the full
/// computation would pick the same center, whatever its rounding.
struct Gaps<'a> {
    /// Per row: the bound on the gap between the distances; updated in
    /// place. Empty: no bounds kept.
    slack: &'a mut [f64],
    /// Per row: |x|^2 as the kernels compute it, and |x| rounded up.
    xn: &'a [f64],
    xr: &'a [f64],
    /// Per cluster: how far its center moved plus the largest move of the
    /// others since the bounds were computed, rounded up. Empty: the
    /// bounds start afresh.
    drift: &'a [f64],
    /// A row's rounding allowance on squared distances is
    /// `ef * (|x| + cmax)^2`, `cmax` bounding the norm of every center since
    /// the bounds were computed.
    ef: f64,
    cmax: f64,
}

impl Gaps<'_> {
    /// The allowance on a squared distance of the row `i` (block-relative).
    /// A row keeps its center when its bound, less the drift, is above the
    /// allowance's square root: the true squared distances then differ by
    /// more than twice any rounding of the expanded form.
    #[inline(always)]
    fn allowance(&self, i: usize) -> f64 {
        let s = self.xr[i] + self.cmax;
        self.ef * s * s
    }

    /// The bound from the row's lowest and second-lowest values of the
    /// expanded form (|x|^2 added back, minus and plus the allowance).
    #[inline(always)]
    fn fresh(&self, i: usize, v1: f64, v2: f64) -> f64 {
        let e = self.allowance(i);
        let near = ((v1 + self.xn[i]) + e).max(0.0).sqrt();
        let far = ((v2 + self.xn[i]) - e).max(0.0).sqrt();
        (far - near) - tiny(self.xr[i] + self.cmax)
    }
}

/// What rounding can take from a bound on a distance of a row in one update,
/// `scale` being its norm plus the largest center norm.
#[inline(always)]
fn tiny(scale: f64) -> f64 {
    4.0 * f64::EPSILON * scale
}

/// Lloyd's assignment of the rows `start..start + labels.len()` of the
/// column-major `data` (`n` rows) by the expanded form (see
/// [`nearest_dot_lanes`]). Without `delta`, each row is added to its
/// cluster's sum and count; with `delta`, `labels` hold the previous labels
/// on entry and only the rows that change cluster move between sums (added
/// to the new, taken from the old), rows in order. With bounds in `gaps`
/// (the block's rows), a group whose rows all keep their center is skipped;
/// the labels, sums and counts are those of the full computation.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lloyd_step_body(
    data: &[f64],
    n: usize,
    start: usize,
    w: &[f64],
    cn: &[f64],
    labels: &mut [usize],
    delta: bool,
    sums: &mut [f64],
    counts: &mut [f64],
    gaps: &mut Gaps<'_>,
) -> bool {
    let d = w.len() / cn.len().max(1);
    let m = labels.len();
    let track = !gaps.slack.is_empty();
    let mut changed = false;
    let mut group = vec![[0.0f64; LANES]; d];
    if track && delta && !gaps.drift.is_empty() {
        // Each row's bound, less its center's drift (and what rounding can
        // take from it); rows that may change center are computed, in row
        // order.
        let mut todo = Vec::new();
        // sqrt(allowance) is linear in |x|: the test needs no square root.
        let root = gaps.ef.sqrt();
        for (r, (lab, slack)) in labels
            .chunks(LANES)
            .zip(gaps.slack.chunks_mut(LANES))
            .enumerate()
        {
            let r = r * LANES;
            let mut moved = [0.0f64; LANES];
            let mut keep = [false; LANES];
            for (l, (&b, &s)) in lab.iter().zip(slack.iter()).enumerate() {
                let scale = gaps.xr[r + l] + gaps.cmax;
                moved[l] = (s - gaps.drift[b]) - tiny(scale);
                keep[l] = moved[l] > root * scale;
            }
            if keep.iter().take(lab.len()).all(|&k| k) {
                copy_lanes(slack, &moved[..lab.len()]);
                continue;
            }
            for (l, s) in slack.iter_mut().enumerate() {
                if keep[l] {
                    *s = moved[l];
                } else {
                    todo.push(r + l);
                }
            }
        }
        if todo.len() * 4 <= m {
            // Few rows: gathered into a small column-major batch.
            let t = todo.len();
            let mut batch = vec![0.0; d * t];
            for (j, out) in batch.chunks_exact_mut(t.max(1)).enumerate().take(d) {
                let col = &data[j * n + start..];
                for (o, &i) in out.iter_mut().zip(&todo) {
                    *o = col[i];
                }
            }
            for g in (0..t).step_by(LANES) {
                let len = LANES.min(t - g);
                load_group(&batch, t, g, len, &mut group);
                let (best, v1, v2) = nearest_dot_lanes(&group, w, cn, d);
                for (l, &i) in todo[g..g + len].iter().enumerate() {
                    gaps.slack[i] = gaps.fresh(i, v1[l], v2[l]);
                    changed |= move_row(&group, l, best[l] as usize, &mut labels[i], sums, counts);
                }
            }
            return changed;
        }
        // Many rows: whole groups, skipping those where every row keeps its
        // center.
        let mut next = 0;
        for r in (0..m).step_by(LANES) {
            let len = LANES.min(m - r);
            if todo.get(next).is_none_or(|&i| i >= r + len) {
                continue;
            }
            while todo.get(next).is_some_and(|&i| i < r + len) {
                next += 1;
            }
            prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
            load_group(data, n, start + r, len, &mut group);
            changed |= full_group(&group, len, r, w, cn, labels, true, sums, counts, gaps);
        }
        return changed;
    }
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        changed |= full_group(&group, len, r, w, cn, labels, delta, sums, counts, gaps);
    }
    changed
}

/// Lloyd's step for the group of rows `r..r + len` (block-relative), loaded
/// in `group`: labels, sums and counts (moved rows only with `delta`), and
/// fresh bounds when `gaps` keeps them. With `delta`, whether a row changed
/// cluster.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn full_group(
    group: &[[f64; LANES]],
    len: usize,
    r: usize,
    w: &[f64],
    cn: &[f64],
    labels: &mut [usize],
    delta: bool,
    sums: &mut [f64],
    counts: &mut [f64],
    gaps: &mut Gaps<'_>,
) -> bool {
    let (best, v1, v2) = nearest_dot_lanes(group, w, cn, group.len());
    if !gaps.slack.is_empty() {
        for l in 0..len {
            gaps.slack[r + l] = gaps.fresh(r + l, v1[l], v2[l]);
        }
    }
    if !delta {
        for l in 0..len {
            labels[r + l] = best[l] as usize;
        }
        add_group(group, &best, len, sums, counts);
        return false;
    }
    let mut changed = false;
    for l in 0..len {
        changed |= move_row(group, l, best[l] as usize, &mut labels[r + l], sums, counts);
    }
    changed
}

/// One restart's first Lloyd step over one block (see [`first_steps`]).
struct FirstStep<'a> {
    w: &'a [f64],
    cn: &'a [f64],
    labels: &'a mut [usize],
    sums: Vec<f64>,
    counts: Vec<f64>,
    gaps: Gaps<'a>,
}

/// The first Lloyd step of several restarts over the rows
/// `start..start + len` of the column-major `data` (`n` rows): each group
/// of rows is read once for all of them, and each restart's labels, sums,
/// counts and bounds come out as its own step computes them.
#[inline(always)]
fn first_steps_body(data: &[f64], n: usize, start: usize, jobs: &mut [FirstStep<'_>]) {
    let m = jobs.first().map_or(0, |j| j.labels.len());
    let d = data.len().checked_div(n).unwrap_or(0);
    let mut group = vec![[0.0f64; LANES]; d];
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        for job in jobs.iter_mut() {
            let _moved = full_group(
                &group,
                len,
                r,
                job.w,
                job.cn,
                job.labels,
                false,
                &mut job.sums,
                &mut job.counts,
                &mut job.gaps,
            );
        }
    }
}

strata_core::simd_dispatch!(fn first_steps_simd(data: &[f64], n: usize, start: usize, jobs: &mut [FirstStep<'_>]) => first_steps_body);

/// The first Lloyd step of every restart (from its initial centers) in one
/// pass over the data, each as [`assign_from`] computes it alone (with
/// bounds when given the rows' norms `xn`).
fn first_steps(x: Cols<'_>, inits: &[Array2<f64>], xn: (&[f64], &[f64])) -> Vec<Assignment> {
    use strata_core::par::BLOCK_ROWS;
    let (n, d) = (x.n, x.d);
    let (xn, xr) = xn;
    let track = xr.len() == n && xn.len() == n;
    let points: Vec<(Vec<f64>, Vec<f64>, f64)> = inits
        .iter()
        .map(|c| {
            let cs: Vec<f64> = c.iter().copied().collect();
            let (w, cn) = dot_form(&cs, c.nrows());
            (w, cn, if track { max_norm(c) } else { 0.0 })
        })
        .collect();
    let mut labels: Vec<Vec<usize>> = inits.iter().map(|_| vec![0; n]).collect();
    let mut slack: Vec<Vec<f64>> = inits
        .iter()
        .map(|_| vec![0.0; if track { n } else { 0 }])
        .collect();
    let blocks = n.div_ceil(BLOCK_ROWS);
    let mut per_block: Vec<Vec<FirstStep<'_>>> = (0..blocks)
        .map(|_| Vec::with_capacity(inits.len()))
        .collect();
    for (((lab, slk), (w, cn, cmax)), c) in labels
        .iter_mut()
        .zip(slack.iter_mut())
        .zip(&points)
        .zip(inits)
    {
        let k = c.nrows();
        let mut slk = slk.chunks_mut(BLOCK_ROWS);
        for (b, (jobs, lab)) in per_block
            .iter_mut()
            .zip(lab.chunks_mut(BLOCK_ROWS))
            .enumerate()
        {
            let a = b * BLOCK_ROWS;
            jobs.push(FirstStep {
                w,
                cn,
                labels: lab,
                sums: vec![0.0; k * d],
                counts: vec![0.0; k],
                gaps: Gaps {
                    slack: slk.next().unwrap_or_default(),
                    xn: if track { &xn[a..] } else { &[] },
                    xr: if track { &xr[a..] } else { &[] },
                    drift: &[],
                    ef: rounding(d),
                    cmax: *cmax,
                },
            });
        }
    }
    let parts: Vec<Vec<(Vec<f64>, Vec<f64>)>> = per_block
        .into_par_iter()
        .enumerate()
        .map(|(b, mut jobs)| {
            first_steps_simd(x.data, n, b * BLOCK_ROWS, &mut jobs);
            jobs.into_iter().map(|j| (j.sums, j.counts)).collect()
        })
        .collect();
    labels
        .into_iter()
        .zip(slack)
        .zip(inits)
        .zip(&points)
        .enumerate()
        .map(|(i, (((labels, slack), c), p))| {
            let k = c.nrows();
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0.0; k];
            for block in &parts {
                let (s, cnt) = &block[i];
                sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
                counts.iter_mut().zip(cnt).for_each(|(a, b)| *a += b);
            }
            Assignment {
                labels,
                dist: Vec::new(),
                sums: Array2::from_shape_vec((k, d), sums)
                    .unwrap_or_else(|_| Array2::zeros((k, d))),
                counts,
                slack,
                at: c.clone(),
                cmax: p.2,
                unchanged: false,
            }
        })
        .collect()
}

/// Moves lane `l` of a group from its cluster `label` to `new` if they
/// differ (and says so): added to the new cluster's sum and count, taken
/// from the old.
#[inline(always)]
fn move_row(
    group: &[[f64; LANES]],
    l: usize,
    new: usize,
    label: &mut usize,
    sums: &mut [f64],
    counts: &mut [f64],
) -> bool {
    let old = *label;
    if new != old {
        let d = group.len();
        for (j, g) in group.iter().enumerate() {
            sums[new * d + j] += g[l];
            sums[old * d + j] -= g[l];
        }
        counts[new] += 1.0;
        counts[old] -= 1.0;
        *label = new;
    }
    new != old
}

strata_core::simd_dispatch!(fn lloyd_step_simd(data: &[f64], n: usize, start: usize, w: &[f64], cn: &[f64], labels: &mut [usize], delta: bool, sums: &mut [f64], counts: &mut [f64], gaps: &mut Gaps<'_>) -> bool => lloyd_step_body);

strata_core::simd_dispatch!(fn nearest_simd(data: &[f64], n: usize, start: usize, cs: &[f64], d: usize, first: &mut [usize], d1: &mut [f64], d2: &mut [f64], sums: &mut [f64], counts: &mut [f64]) => nearest_body);

/// Greedy k-means++: each new center is the best (lowest potential) of
/// 2 + floor(ln k) candidates drawn with probability proportional to the
/// squared distance to the nearest chosen center.
pub fn plus_plus(x: ArrayView2<'_, f64>, k: usize, rng: &mut Rng) -> Array2<f64> {
    let t = column_major(x);
    let cols = cols_of(&t);
    plus_plus_many(cols, k, std::slice::from_mut(rng), &row_norms(cols))
        .pop()
        .unwrap_or_else(|| Array2::zeros((k, x.ncols())))
}

/// One k-means++ step over the rows `a..a + len` (one block) of the
/// column-major `data`, for several restarts at once. First each restart's
/// `closest` (its distances to its nearest chosen center, the block's rows)
/// is lowered to the distance to its pending center (row `i` of `pw`, which
/// holds -2 c, with squared norm `pcn[i]`; none when `pw` is empty). Then, for
/// each candidate (`t` per restart, restart after restart, as -2 c in `cw`
/// with squared norms `ccn`), `out` gets the sum over the rows of
/// min(closest, |x - c|^2): the restart's potential if that candidate is
/// chosen. Rows go in groups of [`LANES`] read once for every restart and
/// candidate, two candidates at a time; sums are kept per lane and added in
/// lane order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_body(
    data: &[f64],
    n: usize,
    a: usize,
    xn: &[f64],
    pw: &[f64],
    pcn: &[f64],
    cw: &[f64],
    ccn: &[f64],
    t: usize,
    closest: &mut [&mut [f64]],
    out: &mut [f64],
) {
    let d = cw.len() / ccn.len().max(1);
    let len = closest.first().map_or(0, |c| c.len());
    let mut lanes = vec![[0.0f64; LANES]; ccn.len()];
    let mut group = vec![[0.0f64; LANES]; d];
    // Each restart's distances over the group, lowered by its pending
    // center; lanes past the group's rows stay 0 and add nothing.
    let mut low = vec![[0.0f64; LANES]; closest.len()];
    let mut norms = [0.0f64; LANES];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        for cl in closest.iter() {
            prefetch_rows(cl, len, 1, r + PREFETCH_AHEAD);
        }
        load_group(data, n, a + r, gl, &mut group);
        copy_lanes(&mut norms[..gl], &xn[a + r..a + r + gl]);
        for (lw, cl) in low.iter_mut().zip(closest.iter()) {
            if gl < LANES {
                *lw = [0.0; LANES];
            }
            copy_lanes(&mut lw[..gl], &cl[r..r + gl]);
        }
        if !pw.is_empty() {
            for_each_distance(&group, &norms, pw, pcn, |i, dist| {
                lower_lanes(&mut low[i], dist);
            });
            for (lw, cl) in low.iter().zip(closest.iter_mut()) {
                copy_lanes(&mut cl[r..r + gl], &lw[..gl]);
            }
        }
        // Candidates of the same restart or of two share a pass.
        for_each_distance(&group, &norms, cw, ccn, |q, dist| {
            add_lower(&mut lanes[q], dist, &low[q / t]);
        });
    }
    for (o, s) in out.iter_mut().zip(&lanes) {
        *o = s.iter().fold(0.0, |t, &v| t + v);
    }
}

strata_core::simd_dispatch!(fn step_simd(data: &[f64], n: usize, a: usize, xn: &[f64], pw: &[f64], pcn: &[f64], cw: &[f64], ccn: &[f64], t: usize, closest: &mut [&mut [f64]], out: &mut [f64]) => step_body);

/// Calls `f(q, distances)` for every point q given as -2 c (rows of `w`)
/// with squared norm `cn[q]`: the group's squared distances to it, computed
/// for two points per pass over the group ([`sq_dists_dot2`]).
#[inline(always)]
fn for_each_distance(
    group: &[[f64; LANES]],
    norms: &[f64; LANES],
    w: &[f64],
    cn: &[f64],
    mut f: impl FnMut(usize, &[f64; LANES]),
) {
    let d = group.len();
    let mut q = 0;
    while q + 1 < cn.len() {
        let (d0, d1) = sq_dists_dot2(
            group,
            norms,
            &w[q * d..(q + 1) * d],
            cn[q],
            &w[(q + 1) * d..(q + 2) * d],
            cn[q + 1],
        );
        f(q, &d0);
        f(q + 1, &d1);
        q += 2;
    }
    if q < cn.len() {
        f(
            q,
            &sq_dists_dot(group, norms, &w[q * d..(q + 1) * d], cn[q]),
        );
    }
}

/// Lowers `low` to `dist` where `dist` is below, lane by lane.
#[inline(always)]
fn lower_lanes(low: &mut [f64; LANES], dist: &[f64; LANES]) {
    for l in 0..LANES {
        low[l] = if dist[l] < low[l] { dist[l] } else { low[l] };
    }
}

/// Adds min(`dist`, `low`) lane by lane to `sums`.
#[inline(always)]
fn add_lower(sums: &mut [f64; LANES], dist: &[f64; LANES], low: &[f64; LANES]) {
    for l in 0..LANES {
        sums[l] += if dist[l] < low[l] { dist[l] } else { low[l] };
    }
}

/// `k` points (the rows of `cs`, row-major) as the expanded-form kernels
/// take them: -2 c, row after row, and each point's squared norm.
fn dot_form(cs: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
    let d = cs.len().checked_div(k).unwrap_or(0);
    let norms = (0..k)
        .map(|c| cs[c * d..(c + 1) * d].iter().fold(0.0, |s, &v| s + v * v))
        .collect();
    (cs.iter().map(|v| -2.0 * v).collect(), norms)
}

/// Squared distances of a group of rows (whose squared norms are `norms`)
/// to a point c given as `w` = -2 c (squared norm `cn`) by the expanded form
/// |x|^2 + |c|^2 - 2 x.c, as scikit-learn's k-means++ computes them (one
/// multiply and one add per feature), never below 0.
#[inline(always)]
fn sq_dists_dot(group: &[[f64; LANES]], norms: &[f64; LANES], w: &[f64], cn: f64) -> [f64; LANES] {
    let mut acc = [0.0f64; LANES];
    for (g, &m) in group.iter().zip(w) {
        for l in 0..LANES {
            acc[l] += g[l] * m;
        }
    }
    expanded(acc, norms, cn)
}

/// [`sq_dists_dot`] to two points at once: each feature's loads serve both,
/// and eight independent sums hide the latency of the additions. Each
/// distance is computed exactly as alone.
#[inline(always)]
fn sq_dists_dot2(
    group: &[[f64; LANES]],
    norms: &[f64; LANES],
    w0: &[f64],
    cn0: f64,
    w1: &[f64],
    cn1: f64,
) -> ([f64; LANES], [f64; LANES]) {
    let mut a0 = [0.0f64; LANES];
    let mut a1 = [0.0f64; LANES];
    for ((g, &m0), &m1) in group.iter().zip(w0).zip(w1) {
        for l in 0..LANES {
            a0[l] += g[l] * m0;
            a1[l] += g[l] * m1;
        }
    }
    (expanded(a0, norms, cn0), expanded(a1, norms, cn1))
}

/// (|x|^2 + |c|^2) + (-2 x.c), clamped at 0, lane by lane.
#[inline(always)]
fn expanded(mut acc: [f64; LANES], norms: &[f64; LANES], cn: f64) -> [f64; LANES] {
    for l in 0..LANES {
        // A maximum rather than a branch, so that the lanes stay one
        // vector; only the sign of a zero can differ, which no sum or
        // comparison sees.
        acc[l] = ((norms[l] + cn) + acc[l]).max(0.0);
    }
    acc
}

/// The squared distance of row `i` of `x` (squared norm `xn`) to the point
/// given as `w` = -2 c (squared norm `cn`), computed as [`sq_dists_dot`]
/// computes it.
fn sq_dist_dot_row(x: Cols<'_>, i: usize, xn: f64, w: &[f64], cn: f64) -> f64 {
    let mut acc = 0.0;
    for (j, &m) in w.iter().enumerate() {
        acc += x.data[j * x.n + i] * m;
    }
    let v = (xn + cn) + acc;
    if v > 0.0 { v } else { 0.0 }
}

/// Squared norm of every row, feature by feature (column-major `x`).
fn row_norms(x: Cols<'_>) -> Vec<f64> {
    let mut out = vec![0.0; x.n];
    out.par_chunks_mut(strata_core::par::BLOCK_ROWS)
        .enumerate()
        .for_each(|(b, o)| {
            let a = b * strata_core::par::BLOCK_ROWS;
            for j in 0..x.d {
                for (v, &e) in o.iter_mut().zip(&x.col(j)[a..]) {
                    *v += e * e;
                }
            }
        });
    out
}

/// Lowers each restart's `closest` (the block's rows `a..a + len`) to the
/// squared distance to its newly chosen center (`cs`, one row per restart,
/// holding -2 c, with squared norms `cns`),
/// and returns each restart's sum of the new values over the block, rows in
/// order (so that sampling can walk the same sums).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lower_closest_body(
    data: &[f64],
    n: usize,
    a: usize,
    xn: &[f64],
    cs: &[f64],
    cns: &[f64],
    closest: &mut [&mut [f64]],
    sums: &mut [f64],
) {
    let m = closest.len();
    let d = cs.len() / m.max(1);
    let len = closest.first().map_or(0, |c| c.len());
    let mut group = vec![[0.0f64; LANES]; d];
    let mut norms = [0.0f64; LANES];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        load_group(data, n, a + r, gl, &mut group);
        copy_lanes(&mut norms[..gl], &xn[a + r..a + r + gl]);
        for (((c, &cn), cl), s) in cs
            .chunks_exact(d)
            .zip(cns)
            .zip(closest.iter_mut())
            .zip(sums.iter_mut())
        {
            let acc = sq_dists_dot(&group, &norms, c, cn);
            for (l, v) in cl[r..r + gl].iter_mut().enumerate() {
                *v = if acc[l] < *v { acc[l] } else { *v };
                *s += *v;
            }
        }
    }
}

strata_core::simd_dispatch!(fn lower_closest_simd(data: &[f64], n: usize, a: usize, xn: &[f64], cs: &[f64], cns: &[f64], closest: &mut [&mut [f64]], sums: &mut [f64]) => lower_closest_body);

/// The rows `rows` of `x` as -2 c (row after row) and their squared norms,
/// as the distance kernels take them.
fn as_points(x: Cols<'_>, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let cs: Vec<f64> = rows.iter().flat_map(|&c| x.row(c)).collect();
    dot_form(&cs, rows.len())
}

/// Each restart's distances to its nearest chosen center, and their sums
/// per block of rows (the potential is their total, in block order).
struct Potential<'a> {
    closest: Vec<Vec<f64>>,
    block_sums: Vec<Vec<f64>>,
    /// Squared norm of every row.
    norms: &'a [f64],
    /// Each restart's last chosen row, when `closest` does not include it yet
    /// (the block sums already do): the next step's pass lowers `closest`.
    pending: Option<Vec<usize>>,
}

impl Potential<'_> {
    fn total(&self, i: usize) -> f64 {
        self.block_sums[i].iter().fold(0.0, |t, &v| t + v)
    }

    /// Lowers every restart's distances with its newly chosen row
    /// (`chosen[i]`), one pass over the data for all restarts.
    fn lower(&mut self, x: Cols<'_>, chosen: &[usize]) {
        let m = chosen.len();
        let (cs, cns) = as_points(x, chosen);
        let norms = self.norms;
        let sums: Vec<Vec<f64>> =
            strata_core::par::block_columns(self.closest.iter_mut().map(|c| c.as_mut_slice()))
                .into_par_iter()
                .zip(strata_core::par::blocks(x.n))
                .map(|(mut slices, (a, _))| {
                    let mut s = vec![0.0; m];
                    lower_closest_simd(x.data, x.n, a, norms, &cs, &cns, &mut slices, &mut s);
                    s
                })
                .collect();
        for (i, bs) in self.block_sums.iter_mut().enumerate() {
            *bs = sums.iter().map(|s| s[i]).collect();
        }
        self.pending = None;
    }

    /// Restart `i`'s distances over the rows `start..end`, lowered by its
    /// pending row if it has one, each as the step kernel computes it.
    fn block_values(&self, x: Cols<'_>, i: usize, start: usize, end: usize) -> Vec<f64> {
        let cl = &self.closest[i][start..end];
        let Some(pending) = &self.pending else {
            return cl.to_vec();
        };
        let (w, cn) = as_points(x, &pending[i..i + 1]);
        (start..end)
            .zip(cl)
            .map(|(r, &v)| {
                let dist = sq_dist_dot_row(x, r, self.norms[r], &w, cn[0]);
                if dist < v { dist } else { v }
            })
            .collect()
    }

    /// `t` rows of restart `i` drawn with probability proportional to their
    /// distance (inverse transform sampling on the running sum: the first
    /// row where it reaches the drawn value), with the restart's generator.
    /// The walk skips whole blocks by their sums, then adds the rows of the
    /// block where the drawn value falls.
    fn sample(&self, x: Cols<'_>, i: usize, t: usize, rng: &mut Rng) -> Vec<usize> {
        use strata_core::par::BLOCK_ROWS;
        let total = self.total(i);
        let n = self.closest[i].len();
        (0..t)
            .map(|_| {
                let r = rng.uniform() * total;
                let mut acc = 0.0;
                for (b, &bs) in self.block_sums[i].iter().enumerate() {
                    if acc + bs < r {
                        acc += bs;
                        continue;
                    }
                    let start = b * BLOCK_ROWS;
                    let end = (start + BLOCK_ROWS).min(n);
                    for (row, v) in self.block_values(x, i, start, end).into_iter().enumerate() {
                        acc += v;
                        if acc >= r {
                            return start + row;
                        }
                    }
                }
                n - 1
            })
            .collect()
    }
}

/// Greedy k-means++ for several restarts at once, each with its own
/// generator: every new center is the best (lowest potential) of
/// 2 + floor(ln k) candidates drawn with probability proportional to the
/// squared distance to the nearest chosen center. One pass over the data per
/// step serves every restart: it lowers the distances by the centers chosen
/// at the previous step and scores the new candidates. The chosen
/// candidate's per-block sums from that pass are the new potential's, which
/// is all that sampling needs (the block where a draw falls is recomputed).
fn plus_plus_many(x: Cols<'_>, k: usize, rngs: &mut [Rng], norms: &[f64]) -> Vec<Array2<f64>> {
    let (n, d, m) = (x.n, x.d, rngs.len());
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = vec![Array2::zeros((k, d)); m];
    let first: Vec<usize> = rngs.iter_mut().map(|r| r.below(n)).collect();
    let mut pot = Potential {
        closest: vec![vec![f64::INFINITY; n]; m],
        block_sums: vec![vec![]; m],
        norms,
        pending: None,
    };
    pot.lower(x, &first);
    for (c, &f) in centers.iter_mut().zip(&first) {
        c.row_mut(0).assign(&Array1::from(x.row(f)));
    }
    for step in 1..k {
        let cands: Vec<usize> = {
            let pot = &pot;
            rngs.par_iter_mut()
                .enumerate()
                .flat_map_iter(|(i, rng)| pot.sample(x, i, trials, rng))
                .collect()
        };
        let (cw, ccn) = as_points(x, &cands);
        let (pw, pcn) = match &pot.pending {
            Some(rows) => as_points(x, rows),
            None => (Vec::new(), Vec::new()),
        };
        let norms = pot.norms;
        let per_block: Vec<Vec<f64>> =
            strata_core::par::block_columns(pot.closest.iter_mut().map(|c| c.as_mut_slice()))
                .into_par_iter()
                .zip(strata_core::par::blocks(n))
                .map(|(mut closest, (a, _))| {
                    let mut out = vec![0.0; cands.len()];
                    step_simd(
                        x.data,
                        n,
                        a,
                        norms,
                        &pw,
                        &pcn,
                        &cw,
                        &ccn,
                        trials,
                        &mut closest,
                        &mut out,
                    );
                    out
                })
                .collect();
        let mut pots = vec![0.0; cands.len()];
        for p in &per_block {
            pots.iter_mut().zip(p).for_each(|(s, v)| *s += v);
        }
        // Per restart, the lowest potential wins (the first on ties); its
        // per-block sums are the restart's new potential.
        let chosen: Vec<usize> = (0..m)
            .map(|i| {
                let range = i * trials..(i + 1) * trials;
                let best = range
                    .clone()
                    .fold(range.start, |b, q| if pots[q] < pots[b] { q } else { b });
                pot.block_sums[i] = per_block.iter().map(|p| p[best]).collect();
                cands[best]
            })
            .collect();
        for (c, &ch) in centers.iter_mut().zip(&chosen) {
            c.row_mut(step).assign(&Array1::from(x.row(ch)));
        }
        pot.pending = Some(chosen);
    }
    centers
}

/// Per block: labels, distance of each point to its center, and the sums and
/// counts of the points of each cluster.
struct Assignment {
    labels: Vec<usize>,
    dist: Vec<f64>,
    sums: Array2<f64>,
    counts: Vec<f64>,
    /// Lloyd's bounds on each row's gap (see [`Gaps`]), for the centers
    /// `at`, whose norms (and those of the centers before them since the
    /// bounds were computed) are at most `cmax`; empty when not kept.
    slack: Vec<f64>,
    at: Array2<f64>,
    cmax: f64,
    /// A step from the previous labels in which no row changed cluster.
    unchanged: bool,
}

/// Relative rounding allowance of the bounds: a generous multiple of the
/// unit roundoff for sums of `d` products.
fn rounding(d: usize) -> f64 {
    4.0 * (d + 2) as f64 * f64::EPSILON
}

/// The largest norm of the centers, rounded up.
fn max_norm(centers: &Array2<f64>) -> f64 {
    let up = 1.0 + rounding(centers.ncols());
    centers
        .rows()
        .into_iter()
        .map(|c| c.iter().fold(0.0, |a, v| a + v * v).sqrt() * up)
        .fold(0.0, f64::max)
}

/// How far the centers moved from `old` to `new`, as [`Gaps`] takes it: per
/// cluster, its center's move plus the largest move of the others, rounded
/// up.
fn center_drift(old: &Array2<f64>, new: &Array2<f64>) -> Vec<f64> {
    let (k, d) = new.dim();
    let up = 1.0 + rounding(d);
    let moved: Vec<f64> = (0..k)
        .map(|c| sq_dist(new.row(c), old.row(c)).sqrt() * up)
        .collect();
    (0..k)
        .map(|b| {
            let most = (0..k)
                .filter(|&c| c != b)
                .map(|c| moved[c])
                .fold(0.0, f64::max);
            (moved[b] + most) * up
        })
        .collect()
}

/// Adds the rows `start..start + labels.len()` to the sums (k x d, row-major)
/// and counts of their clusters, row after row (each sum takes its rows in
/// order; the features of a row are independent additions).
fn add_to_sums(x: Cols<'_>, start: usize, labels: &[usize], sums: &mut [f64], counts: &mut [f64]) {
    let d = x.d;
    for (r, &lab) in labels.iter().enumerate() {
        let sum = &mut sums[lab * d..(lab + 1) * d];
        for (j, s) in sum.iter_mut().enumerate() {
            *s += x.data[j * x.n + start + r];
        }
        counts[lab] += 1.0;
    }
}

/// Nearest center of every row, its squared distance, and each cluster's sum
/// and count; parallel over fixed blocks combined in block order.
fn assign(x: Cols<'_>, centers: &Array2<f64>) -> Assignment {
    assign_with(x, centers, true)
}

/// As [`assign`], exact (`exact`: distances computed and returned) or by the
/// expanded form of Lloyd's step (labels, sums and counts only).
fn assign_with(x: Cols<'_>, centers: &Array2<f64>, exact: bool) -> Assignment {
    assign_from(x, centers, exact, None, (&[], &[]))
}

/// As [`assign_with`]; given the previous step's assignment (`prev`, by the
/// expanded form), only the rows that change cluster update the sums and
/// counts (each block's changes are added in block order to the previous
/// sums), which after the first iterations skips almost every row. Given
/// the rows' squared norms and norms `xn` (see [`Gaps`]), Lloyd's step keeps
/// bounds on each row's distances and skips the groups of rows that cannot
/// change cluster.
fn assign_from(
    x: Cols<'_>,
    centers: &Array2<f64>,
    exact: bool,
    prev: Option<Assignment>,
    xn: (&[f64], &[f64]),
) -> Assignment {
    let (n, d) = (x.n, x.d);
    let k = centers.nrows();
    let cs: Vec<f64> = centers.iter().copied().collect();
    let (w, cn) = dot_form(&cs, k);
    use strata_core::par::BLOCK_ROWS;
    // Labels and distances are written in place, block by block; each block
    // returns its sums and counts, added in block order.
    let delta = prev.is_some() && !exact;
    // The previous step's labels and bounds are updated in place.
    let (mut labels, prev) = match prev {
        Some(mut p) if delta => (std::mem::take(&mut p.labels), Some(p)),
        _ => (vec![0usize; n], None),
    };
    let mut dist = vec![0.0; if exact { n } else { 0 }];
    let mut dist_blocks: Vec<&mut [f64]> = if exact {
        dist.chunks_mut(BLOCK_ROWS).collect()
    } else {
        (0..n.div_ceil(BLOCK_ROWS)).map(|_| &mut [][..]).collect()
    };
    let (xn, xr) = xn;
    let track = !exact && xr.len() == n && xn.len() == n;
    let (mut slack, drift, cmax) = match prev.as_ref() {
        Some(p) if track && p.slack.len() == n => {
            let cmax = p.cmax.max(max_norm(centers));
            (p.slack.clone(), center_drift(&p.at, centers), cmax)
        }
        _ if track => (vec![0.0; n], Vec::new(), max_norm(centers)),
        _ => (Vec::new(), Vec::new(), 0.0),
    };
    let ef = rounding(d);
    let mut slack_blocks: Vec<&mut [f64]> = if track {
        slack.chunks_mut(BLOCK_ROWS).collect()
    } else {
        (0..n.div_ceil(BLOCK_ROWS)).map(|_| &mut [][..]).collect()
    };
    let parts: Vec<(Vec<f64>, Vec<f64>, bool)> = labels
        .par_chunks_mut(BLOCK_ROWS)
        .zip(dist_blocks.par_iter_mut())
        .zip(slack_blocks.par_iter_mut())
        .enumerate()
        .map(|(b, ((lab, dst), slk))| {
            let a = b * BLOCK_ROWS;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0.0; k];
            let mut changed = false;
            if exact {
                let mut second = vec![0.0; lab.len()];
                nearest_simd(
                    x.data,
                    n,
                    a,
                    &cs,
                    d,
                    lab,
                    dst,
                    &mut second,
                    &mut sums,
                    &mut counts,
                );
            } else {
                let mut gaps = Gaps {
                    slack: slk,
                    xn: if track { &xn[a..] } else { &[] },
                    xr: if track { &xr[a..] } else { &[] },
                    drift: &drift,
                    ef,
                    cmax,
                };
                changed = lloyd_step_simd(
                    x.data,
                    n,
                    a,
                    &w,
                    &cn,
                    lab,
                    delta,
                    &mut sums,
                    &mut counts,
                    &mut gaps,
                );
            }
            (sums, counts, changed)
        })
        .collect();
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0.0; k];
    let mut changed = false;
    for (s, c, ch) in parts {
        sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        changed |= ch;
    }
    if let Some(p) = &prev {
        sums.iter_mut().zip(&p.sums).for_each(|(a, b)| *a += b);
        counts.iter_mut().zip(&p.counts).for_each(|(a, b)| *a += b);
    }
    Assignment {
        labels,
        dist,
        sums: Array2::from_shape_vec((k, d), sums).unwrap_or_else(|_| Array2::zeros((k, d))),
        counts,
        slack,
        at: centers.clone(),
        cmax,
        unchanged: delta && !changed,
    }
}

/// Hamerly's bounds: for each point, an upper bound on the distance to its
/// center and a lower bound on the distance to any other center. A point
/// whose upper bound is below both its lower bound and half the distance from
/// its center to the nearest other center cannot change cluster, so its
/// distances are not computed. Labels, sums and counts come out exactly as
/// the full assignment's (sums are accumulated over the rows in order, block
/// by block).
struct Bounds {
    labels: Vec<usize>,
    upper: Vec<f64>,
    lower: Vec<f64>,
    previous: Option<Array2<f64>>,
}

impl Bounds {
    fn new(n: usize) -> Bounds {
        Bounds {
            labels: vec![0; n],
            upper: vec![0.0; n],
            lower: vec![0.0; n],
            previous: None,
        }
    }

    /// Forget the bounds: the next assignment computes every distance.
    fn reset(&mut self) {
        self.previous = None;
    }

    fn assign(&mut self, x: Cols<'_>, centers: &Array2<f64>) -> Assignment {
        let d = x.d;
        let k = centers.nrows();
        let cs: Vec<f64> = centers.iter().copied().collect();
        let center = |c: usize| &cs[c * d..(c + 1) * d];
        let fresh = match &self.previous {
            None => true,
            Some(prev) => {
                // Move the bounds by how far the centers moved.
                let moved: Vec<f64> = (0..k)
                    .map(|c| sq_dist(centers.row(c), prev.row(c)).sqrt())
                    .collect();
                let max_move = moved.iter().copied().fold(0.0, f64::max);
                for ((u, l), &lab) in self
                    .upper
                    .iter_mut()
                    .zip(self.lower.iter_mut())
                    .zip(&self.labels)
                {
                    *u += moved[lab];
                    *l -= max_move;
                }
                false
            }
        };
        // Half the distance from each center to its nearest other center.
        let half: Vec<f64> = (0..k)
            .map(|c| {
                0.5 * (0..k)
                    .filter(|&o| o != c)
                    .map(|o| sq_dist(centers.row(c), centers.row(o)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let blocks: Vec<(Vec<f64>, Vec<f64>)> = self
            .labels
            .par_chunks_mut(strata_core::par::BLOCK_ROWS)
            .zip(self.upper.par_chunks_mut(strata_core::par::BLOCK_ROWS))
            .zip(self.lower.par_chunks_mut(strata_core::par::BLOCK_ROWS))
            .enumerate()
            .map(|(b, ((labels, upper), lower))| {
                let start = b * strata_core::par::BLOCK_ROWS;
                // 1. Bounds: which rows may have changed cluster.
                let mut todo: Vec<usize> = Vec::new();
                for (r, ((lab, u), l)) in labels
                    .iter()
                    .zip(upper.iter_mut())
                    .zip(lower.iter())
                    .enumerate()
                {
                    if fresh {
                        todo.push(r);
                        continue;
                    }
                    let m = half[*lab].max(*l);
                    if *u > m {
                        *u = x.sq_dist_to(start + r, center(*lab)).sqrt();
                        if *u > m {
                            todo.push(r);
                        }
                    }
                }
                // 2. Exact nearest and second-nearest centers of those rows,
                //    with the assignment kernel on a gathered batch.
                if !todo.is_empty() {
                    let m = todo.len();
                    let mut batch = vec![0.0; m * d];
                    for j in 0..d {
                        let col = x.col(j);
                        for (t, &r) in todo.iter().enumerate() {
                            batch[j * m + t] = col[start + r];
                        }
                    }
                    let mut first = vec![0usize; m];
                    let mut d1 = vec![0.0; m];
                    let mut d2 = vec![0.0; m];
                    nearest_simd(
                        &batch,
                        m,
                        0,
                        &cs,
                        d,
                        &mut first,
                        &mut d1,
                        &mut d2,
                        &mut [],
                        &mut [],
                    );
                    for (i, &r) in todo.iter().enumerate() {
                        labels[r] = first[i];
                        upper[r] = d1[i].sqrt();
                        lower[r] = d2[i].sqrt();
                    }
                }
                // 3. Sums and counts over the rows in order.
                let mut sums = vec![0.0; k * d];
                let mut counts = vec![0.0; k];
                add_to_sums(x, start, labels, &mut sums, &mut counts);
                (sums, counts)
            })
            .collect();
        let mut sums = Array2::zeros((k, d));
        let mut counts = vec![0.0; k];
        for (s, c) in blocks {
            sums += &Array2::from_shape_vec((k, d), s).unwrap_or_else(|_| Array2::zeros((k, d)));
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
        self.previous = Some(centers.clone());
        Assignment {
            labels: self.labels.clone(),
            dist: Vec::new(),
            sums,
            counts,
            slack: Vec::new(),
            at: centers.clone(),
            cmax: 0.0,
            unchanged: false,
        }
    }
}

/// Lloyd iterations from `centers`, as scikit-learn's `_kmeans_single_lloyd`;
/// `xn` holds the rows' squared norms and norms, rounded up (see [`Gaps`]).
fn lloyd(
    x: Cols<'_>,
    mut centers: Array2<f64>,
    max_iter: usize,
    tol: f64,
    accelerated: bool,
    xn: (&[f64], &[f64]),
    mut first: Option<Assignment>,
) -> FittedKMeans {
    let k = centers.nrows();
    // The previous step's assignment, and whether its sums still match its
    // labels (not after empty clusters were re-seeded).
    let mut prev: Option<Assignment> = None;
    let mut prev_usable = false;
    let mut n_iter = 0;
    let mut converged = false;
    let mut bounds = accelerated.then(|| Bounds::new(x.n));
    // Labels that are those of the final centers (strict convergence).
    let mut final_labels: Option<Vec<usize>> = None;
    for it in 1..=max_iter {
        n_iter = it;
        let mut a = match (bounds.as_mut(), first.take()) {
            (_, Some(a)) => a,
            (Some(b), None) => b.assign(x, &centers),
            // The previous step's labels and bounds are moved into this one
            // (an unusable one stays, for the comparison of labels below).
            (None, None) => {
                let p = if prev_usable { prev.take() } else { None };
                assign_from(x, &centers, false, p, xn)
            }
        };
        let relocated = a.counts.contains(&0.0);
        if relocated {
            // Re-seeding needs every point's distance: take the exact pass,
            // and let the bounds start afresh.
            a = assign(x, &centers);
            relocate_empty(x, &mut a);
            if let Some(b) = bounds.as_mut() {
                b.reset();
            }
        }
        let mut new_centers = a.sums.clone();
        for c in 0..k {
            if a.counts[c] > 0.0 {
                new_centers.row_mut(c).mapv_inplace(|v| v / a.counts[c]);
            } else {
                new_centers.row_mut(c).assign(&centers.row(c));
            }
        }
        let shift: f64 = (&new_centers - &centers).mapv(|v| v * v).sum();
        centers = new_centers;
        // Strict convergence (labels unchanged) or a small enough shift.
        let same = a.unchanged || prev.as_ref().is_some_and(|p| p.labels == a.labels);
        if same && !relocated {
            // The same labels give the same centers: they are final.
            converged = true;
            final_labels = Some(a.labels);
            break;
        }
        prev_usable = !relocated;
        prev = Some(a);
        if shift <= tol {
            converged = true;
            break;
        }
    }
    // Otherwise one more assignment to the final centers (as scikit-learn);
    // the inertia is computed from exact distances.
    let labels = match final_labels {
        Some(l) => l,
        None if accelerated => assign(x, &centers).labels,
        None => assign_from(x, &centers, false, prev.filter(|_| prev_usable), xn).labels,
    };
    // The inertia is computed for all restarts at once (see `KMeans::fit`).
    FittedKMeans {
        centers,
        labels: Array1::from(labels),
        inertia: f64::NAN,
        n_iter,
        converged,
        warnings: vec![],
    }
}

/// For several (centers, labels) pairs, the sum of the squared distances of
/// the rows to their given centers, in one pass over the data (groups of
/// rows at once; blocks summed in order), each computed exactly as alone.
fn labelled_inertias(x: Cols<'_>, runs: &[(&Array2<f64>, &[usize])]) -> Vec<f64> {
    let cs: Vec<Vec<f64>> = runs
        .iter()
        .map(|(c, _)| c.iter().copied().collect())
        .collect();
    let cs: Vec<&[f64]> = cs.iter().map(|c| c.as_slice()).collect();
    blocked_sum(
        x.n,
        |a, b| {
            let labels: Vec<&[usize]> = runs.iter().map(|(_, l)| &l[a..b]).collect();
            inertia_block_simd(x.data, x.n, a, &cs, &labels)
        },
        |acc: &mut Vec<f64>, p| acc.iter_mut().zip(p).for_each(|(s, v)| *s += v),
    )
    .unwrap_or_else(|| vec![0.0; runs.len()])
}

/// For each (centers `cs[i]`, labels `labels[i]`) pair, the sum over the
/// rows `a..a + len` of their squared distances to their centers: per row
/// over the features in order, rows in order. Each group of rows is read
/// once for all pairs.
#[inline(always)]
fn inertia_block_body(
    data: &[f64],
    n: usize,
    a: usize,
    cs: &[&[f64]],
    labels: &[&[usize]],
) -> Vec<f64> {
    let len = labels.first().map_or(0, |l| l.len());
    let d = data.len().checked_div(n).unwrap_or(0);
    let mut group = vec![[0.0f64; LANES]; d];
    let mut totals = vec![0.0; labels.len()];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        load_group(data, n, a + r, gl, &mut group);
        for ((total, cs), labels) in totals.iter_mut().zip(cs).zip(labels) {
            let mut lab = [0usize; LANES];
            copy_lanes(&mut lab[..gl], &labels[r..r + gl]);
            let mut acc = [0.0f64; LANES];
            for (j, g) in group.iter().enumerate() {
                for l in 0..LANES {
                    let t = g[l] - cs[lab[l] * d + j];
                    acc[l] += t * t;
                }
            }
            for &v in &acc[..gl] {
                *total += v;
            }
        }
    }
    totals
}

strata_core::simd_dispatch!(fn inertia_block_simd(data: &[f64], n: usize, a: usize, cs: &[&[f64]], labels: &[&[usize]]) -> Vec<f64> => inertia_block_body);

/// Empty clusters take the points farthest from their current centers (in
/// decreasing distance, ties by index), as scikit-learn does.
fn relocate_empty(x: Cols<'_>, a: &mut Assignment) {
    let empty: Vec<usize> = (0..a.counts.len())
        .filter(|&c| a.counts[c] == 0.0)
        .collect();
    if empty.is_empty() {
        return;
    }
    let mut order: Vec<usize> = (0..a.labels.len()).collect();
    order.sort_by(|&i, &j| a.dist[j].total_cmp(&a.dist[i]).then(i.cmp(&j)));
    for (&c, &far) in empty.iter().zip(order.iter()) {
        let old = a.labels[far];
        let xi = Array1::from(x.row(far));
        let mut o = a.sums.row_mut(old);
        o -= &xi;
        a.counts[old] -= 1.0;
        a.sums.row_mut(c).assign(&xi);
        a.counts[c] = 1.0;
    }
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
        Ok(Array1::from(
            assign_with(cols_of(&t), &self.centers, false).labels,
        ))
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
        use strata_core::params::{Bound, ParamKind, float, int, word};
        vec![
            S::new(
                "k",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::Rows,
                },
                None,
                "number of clusters",
            ),
            S::new(
                "n_init",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::None,
                },
                int(10),
                "restarts; the lowest inertia is kept",
            ),
            S::new(
                "max_iter",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::None,
                },
                int(300),
                "iterations per restart",
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::adjusted_rand_index;

    /// Three well separated blobs of 200 points in 3-D.
    fn blobs() -> (Array2<f64>, Vec<usize>) {
        let mut r = Rng::new(Seed(3));
        let centers = [[0.0, 0.0, 0.0], [10.0, 0.0, 5.0], [0.0, 10.0, -5.0]];
        let mut x = Array2::zeros((600, 3));
        let mut truth = Vec::new();
        for i in 0..600 {
            let c = i % 3;
            for j in 0..3 {
                x[[i, j]] = centers[c][j] + r.normal();
            }
            truth.push(c);
        }
        (x, truth)
    }

    #[test]
    fn recovers_blobs() {
        let (x, truth) = blobs();
        let f = KMeans::new(3).fit(x.view(), Seed(0)).unwrap();
        assert!(f.converged);
        assert_eq!(
            adjusted_rand_index(f.labels.as_slice().unwrap(), &truth).unwrap(),
            1.0
        );
        assert!((inertia(x.view(), &f.centers, &f.labels) - f.inertia).abs() < 1e-9 * f.inertia);
        assert_eq!(f.predict(x.view()).unwrap(), f.labels);
    }

    #[test]
    fn more_restarts_never_worse_and_seeded() {
        let (x, _) = blobs();
        let one = KMeans {
            n_init: 1,
            ..KMeans::new(8)
        }
        .fit(x.view(), Seed(1))
        .unwrap();
        let ten = KMeans {
            n_init: 10,
            ..KMeans::new(8)
        }
        .fit(x.view(), Seed(1))
        .unwrap();
        assert!(ten.inertia <= one.inertia);
        assert_eq!(
            ten,
            KMeans {
                n_init: 10,
                ..KMeans::new(8)
            }
            .fit(x.view(), Seed(1))
            .unwrap()
        );
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(
            ten,
            pool.install(|| KMeans {
                n_init: 10,
                ..KMeans::new(8)
            }
            .fit(x.view(), Seed(1))
            .unwrap())
        );
    }

    #[test]
    fn empty_cluster_is_reseeded_from_the_farthest_point() {
        let x = ndarray::array![[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]];
        // The third center attracts nothing at first.
        let init = ndarray::array![[0.1], [5.0], [100.0]];
        let f = KMeans {
            n_init: 1,
            init: KMeansInit::Centers(init),
            ..KMeans::new(3)
        }
        .fit(x.view(), Seed(0))
        .unwrap();
        let mut sizes = [0usize; 3];
        f.labels.iter().for_each(|&l| sizes[l] += 1);
        assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
        assert_eq!(
            f.labels[5], 2,
            "the farthest point (9.0) seeds the empty cluster"
        );
    }

    /// The bits of several vectors, one after the other.
    /// Lloyd's step kernel, as built for AVX2 or for the baseline.
    type StepFn = fn(
        &[f64],
        usize,
        usize,
        &[f64],
        &[f64],
        &mut [usize],
        bool,
        &mut [f64],
        &mut [f64],
        &mut Gaps<'_>,
    ) -> bool;

    fn no_gaps() -> Gaps<'static> {
        Gaps {
            slack: &mut [],
            xn: &[],
            xr: &[],
            drift: &[],
            ef: 0.0,
            cmax: 0.0,
        }
    }

    fn bits(parts: &[&[f64]]) -> Vec<u64> {
        parts
            .iter()
            .flat_map(|p| p.iter().map(|v| v.to_bits()))
            .collect()
    }

    #[test]
    fn assignment_kernel_equals_a_direct_computation_bit_for_bit() {
        let (x, _) = blobs();
        let mut r = Rng::new(Seed(3));
        let x = x.mapv(|v| v + r.normal());
        let (n, d) = x.dim();
        let t = column_major(x.view());
        let cols = cols_of(&t);
        for k in [1, 2, 7, 19] {
            let centers = x.slice(ndarray::s![..k, ..]).to_owned();
            let cs: Vec<f64> = centers.iter().copied().collect();
            // Rows 5.. (an offset and a tail shorter than a lane group).
            for (start, m) in [(0, n), (5, 37), (590, 10)] {
                let run = |wide: bool| {
                    let (mut f, mut d1, mut d2) = (vec![0; m], vec![0.0; m], vec![0.0; m]);
                    let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
                    if wide {
                        nearest_simd(
                            cols.data, n, start, &cs, d, &mut f, &mut d1, &mut d2, &mut s, &mut c,
                        );
                    } else {
                        nearest_body(
                            cols.data, n, start, &cs, d, &mut f, &mut d1, &mut d2, &mut s, &mut c,
                        );
                    }
                    (f, bits(&[&d1, &d2, &s, &c]))
                };
                let direct = {
                    let (mut f, mut d1, mut d2) = (vec![], vec![], vec![]);
                    let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
                    for i in start..start + m {
                        let dists: Vec<f64> =
                            (0..k).map(|c| sq_dist(x.row(i), centers.row(c))).collect();
                        let mut order: Vec<usize> = (0..k).collect();
                        order.sort_by(|&a, &b| dists[a].total_cmp(&dists[b]).then(a.cmp(&b)));
                        f.push(order[0]);
                        d1.push(dists[order[0]]);
                        d2.push(if k > 1 {
                            dists[order[1]]
                        } else {
                            f64::INFINITY
                        });
                        for j in 0..d {
                            s[order[0] * d + j] += x[[i, j]];
                        }
                        c[order[0]] += 1.0;
                    }
                    (f, bits(&[&d1, &d2, &s, &c]))
                };
                assert_eq!(run(true), direct, "k={k} start={start} m={m}");
                assert_eq!(run(false), direct, "k={k} start={start} m={m}");
            }
        }
    }

    #[test]
    fn expanded_form_step_matches_the_exact_assignment() {
        let (x, _) = blobs();
        let mut r = Rng::new(Seed(4));
        let x = x.mapv(|v| v + r.normal());
        let (n, d) = x.dim();
        let t = column_major(x.view());
        let cols = cols_of(&t);
        for k in [1, 3, 8, 21] {
            let centers = plus_plus(x.view(), k, &mut Rng::new(Seed(k as u64)));
            let exact = assign(cols, &centers);
            let fast = assign_with(cols, &centers, false);
            assert_eq!(fast.labels, exact.labels, "k={k}");
            assert_eq!(fast.sums, exact.sums, "k={k}");
            assert_eq!(fast.counts, exact.counts, "k={k}");
            // The AVX2 build computes the same bits as the baseline.
            let w: Vec<f64> = centers.iter().map(|v| -2.0 * v).collect();
            let cn: Vec<f64> = centers.rows().into_iter().map(|c| c.dot(&c)).collect();
            let run = |wide: bool, delta: bool| {
                // With `delta`, start from labels shifted by one cluster.
                let mut l: Vec<usize> = exact.labels[3..].iter().map(|&v| (v + 1) % k).collect();
                let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
                let step: StepFn = if wide {
                    lloyd_step_simd
                } else {
                    lloyd_step_body
                };
                step(
                    cols.data,
                    n,
                    3,
                    &w,
                    &cn,
                    &mut l,
                    delta,
                    &mut s,
                    &mut c,
                    &mut no_gaps(),
                );
                (l, bits(&[&s, &c]))
            };
            for delta in [false, true] {
                assert_eq!(run(true, delta), run(false, delta), "k={k}");
            }
            // Moving only the rows that change cluster gives the fresh
            // assignment: the same labels and counts, sums within rounding.
            let other = plus_plus(x.view(), k, &mut Rng::new(Seed(50 + k as u64)));
            let before = assign_with(cols, &other, false);
            let moved = assign_from(cols, &centers, false, Some(before), (&[], &[]));
            assert_eq!(moved.labels, fast.labels, "k={k}");
            assert_eq!(moved.counts, fast.counts, "k={k}");
            for (p, q) in moved.sums.iter().zip(&fast.sums) {
                assert!((p - q).abs() <= 1e-9 * (1.0 + q.abs()), "k={k}: {p} vs {q}");
            }
        }
    }

    #[test]
    fn restarts_in_step_equal_each_restart_alone() {
        let (x, _) = blobs();
        let mut r = Rng::new(Seed(12));
        let x = x.mapv(|v| v + r.normal());
        let t = column_major(x.view());
        let cols = cols_of(&t);
        for k in [1, 2, 6] {
            let mut rngs: Vec<Rng> = (0..4).map(|i| Rng::new(Seed(100 + i))).collect();
            let together = plus_plus_many(cols, k, &mut rngs, &row_norms(cols));
            for (i, c) in together.iter().enumerate() {
                let alone = plus_plus(x.view(), k, &mut Rng::new(Seed(100 + i as u64)));
                assert_eq!(c, &alone, "k={k} restart {i}");
                // Centers are distinct data rows.
                for row in c.rows() {
                    assert!(x.rows().into_iter().any(|xr| xr == row));
                }
            }
        }
    }

    #[test]
    fn a_pending_center_samples_as_if_lowered() {
        // Several blocks of rows, so that the walk skips whole blocks.
        let mut r = Rng::new(Seed(9));
        let x = Array2::from_shape_fn((2 * strata_core::par::BLOCK_ROWS + 77, 4), |_| r.normal());
        let t = column_major(x.view());
        let cols = cols_of(&t);
        let norms = row_norms(cols);
        let fresh = || Potential {
            closest: vec![vec![f64::INFINITY; cols.n]],
            block_sums: vec![vec![]],
            norms: &norms,
            pending: None,
        };
        let (mut lowered, mut pending) = (fresh(), fresh());
        lowered.lower(cols, &[5]);
        pending.lower(cols, &[5]);
        lowered.lower(cols, &[3000]);
        pending.pending = Some(vec![3000]);
        pending.block_sums = lowered.block_sums.clone();
        for (a, b) in strata_core::par::blocks(cols.n) {
            assert_eq!(
                bits(&[&lowered.block_values(cols, 0, a, b)]),
                bits(&[&pending.block_values(cols, 0, a, b)])
            );
        }
        let draw = |p: &Potential| p.sample(cols, 0, 200, &mut Rng::new(Seed(4)));
        assert_eq!(draw(&lowered), draw(&pending));
    }

    #[test]
    fn sampling_walks_the_running_sum() {
        let n = 3 * strata_core::par::BLOCK_ROWS + 5;
        // All the weight on three rows, in different blocks.
        let mut closest = vec![0.0; n];
        closest[7] = 1.0;
        closest[strata_core::par::BLOCK_ROWS + 1] = 2.0;
        closest[n - 1] = 1.0;
        let sums: Vec<f64> = closest
            .chunks(strata_core::par::BLOCK_ROWS)
            .map(|c| c.iter().sum())
            .collect();
        let pot = Potential {
            closest: vec![closest],
            block_sums: vec![sums],
            norms: &[],
            pending: None,
        };
        let mut counts = [0usize; 3];
        let none = Cols {
            data: &[],
            n: 0,
            d: 0,
        };
        let picks = pot.sample(none, 0, 4000, &mut Rng::new(Seed(1)));
        for p in picks {
            match p {
                7 => counts[0] += 1,
                p if p == strata_core::par::BLOCK_ROWS + 1 => counts[1] += 1,
                p if p == n - 1 => counts[2] += 1,
                other => panic!("row {other} has no weight"),
            }
        }
        // Proportional to 1 : 2 : 1.
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!((1800..2200).contains(&counts[1]), "{counts:?}");
        assert!((800..1200).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn restarts_share_an_inertia_only_when_their_clustering_is_the_same() {
        let fit = |labels: Vec<usize>, centers: Array2<f64>| FittedKMeans {
            centers,
            labels: Array1::from(labels),
            inertia: f64::NAN,
            n_iter: 1,
            converged: true,
            warnings: vec![],
        };
        let c = ndarray::array![[0.0, 1.0], [5.0, 5.0], [9.0, 0.5]];
        let a = fit(vec![0, 1, 1, 2, 0], c.clone());
        // The same clustering under other cluster numbers.
        let swapped = ndarray::array![[9.0, 0.5], [0.0, 1.0], [5.0, 5.0]];
        assert!(same_clustering(
            &a,
            &fit(vec![1, 2, 2, 0, 1], swapped.clone())
        ));
        // A center off by one bit, another partition, two clusters merged.
        let mut nudged = swapped.clone();
        nudged[[2, 1]] = f64::from_bits(5.0f64.to_bits() + 1);
        assert!(!same_clustering(&a, &fit(vec![1, 2, 2, 0, 1], nudged)));
        assert!(!same_clustering(
            &a,
            &fit(vec![1, 2, 0, 0, 1], swapped.clone())
        ));
        assert!(!same_clustering(&a, &fit(vec![1, 1, 1, 0, 1], swapped)));
        // An unused center does not matter.
        let mut unused = c.clone();
        unused[[2, 0]] = 7.0;
        let b = fit(vec![0, 1, 1, 1, 0], c);
        assert!(same_clustering(&b, &fit(vec![0, 1, 1, 1, 0], unused)));
    }

    #[test]
    fn predicting_no_rows_gives_no_labels() {
        let (x, _) = blobs();
        let f = KMeans::new(3).fit(x.view(), Seed(1)).unwrap();
        let none = Array2::<f64>::zeros((0, 3));
        assert_eq!(f.predict(none.view()).unwrap().len(), 0);
    }

    #[test]
    fn bounds_skip_rows_without_changing_a_bit() {
        // Lloyd with the bounds on the rows' distances gives the very fit of
        // Lloyd computing every row: on blobs, on noisy data, far from the
        // origin (where the expanded form rounds most), with duplicated rows
        // (ties) and with one cluster.
        let (blobs, _) = blobs();
        let mut r = Rng::new(Seed(21));
        let noisy = blobs.mapv(|v| v + 2.0 * r.normal());
        let far = noisy.mapv(|v| 1e7 + v * 1e-3);
        let dup = Array2::from_shape_fn((3000, 2), |(i, j)| ((i % 7) * (j + 1)) as f64);
        let long =
            Array2::from_shape_fn((3 * strata_core::par::BLOCK_ROWS + 11, 5), |_| r.normal());
        for x in [&blobs, &noisy, &far, &dup, &long] {
            let t = column_major(x.view());
            let cols = cols_of(&t);
            let norms = row_norms(cols);
            let up = 1.0 + rounding(cols.d);
            let xr: Vec<f64> = norms.iter().map(|v| v.sqrt() * up).collect();
            for k in [1, 3, 8, 20] {
                let init = plus_plus(x.view(), k, &mut Rng::new(Seed(k as u64)));
                let with = lloyd(cols, init.clone(), 300, 0.0, false, (&norms, &xr), None);
                let without = lloyd(cols, init.clone(), 300, 0.0, false, (&[], &[]), None);
                // The first step shared with other restarts changes nothing.
                let other = plus_plus(x.view(), k, &mut Rng::new(Seed(99)));
                let firsts = first_steps(cols, &[other, init.clone()], (&norms, &xr));
                let shared = firsts.into_iter().nth(1);
                let shared = lloyd(cols, init, 300, 0.0, false, (&norms, &xr), shared);
                assert_eq!(
                    bits(&[shared.centers.as_slice().unwrap_or(&[])]),
                    bits(&[without.centers.as_slice().unwrap_or(&[])]),
                    "k={k}"
                );
                assert_eq!(shared.labels, without.labels, "k={k}");
                assert_eq!(
                    bits(&[with.centers.as_slice().unwrap_or(&[])]),
                    bits(&[without.centers.as_slice().unwrap_or(&[])]),
                    "k={k}"
                );
                assert_eq!(with.labels, without.labels, "k={k}");
                assert_eq!(with.n_iter, without.n_iter, "k={k}");
            }
        }
    }

    #[test]
    fn hamerly_and_lloyd_give_the_same_clustering() {
        let (x, _) = blobs();
        let mut r = Rng::new(Seed(77));
        let noisy = x.mapv(|v| v + r.normal() * 3.0);
        for data in [&x, &noisy] {
            for k in [3, 5, 9] {
                let init = plus_plus(data.view(), k, &mut Rng::new(Seed(k as u64)));
                let run = |algorithm| {
                    KMeans {
                        algorithm,
                        n_init: 1,
                        init: KMeansInit::Centers(init.clone()),
                        ..KMeans::new(k)
                    }
                    .fit(data.view(), Seed(0))
                    .unwrap()
                };
                let (l, h) = (run(KMeansAlgorithm::Lloyd), run(KMeansAlgorithm::Hamerly));
                assert_eq!(l.labels, h.labels, "k={k}");
                assert_eq!(l.n_iter, h.n_iter, "k={k}");
                assert!(
                    (l.inertia - h.inertia).abs() <= 1e-12 * l.inertia,
                    "k={k}: {} vs {}",
                    l.inertia,
                    h.inertia
                );
            }
        }
    }

    #[test]
    fn bad_input() {
        let (x, _) = blobs();
        assert!(matches!(
            KMeans::new(0).fit(x.view(), Seed(0)),
            Err(ClusterError::BadClusterCount { k: 0, n: 600 })
        ));
        assert!(matches!(
            KMeans::new(601).fit(x.view(), Seed(0)),
            Err(ClusterError::BadClusterCount { k: 601, .. })
        ));
        let mut bad = x.clone();
        bad[[7, 2]] = f64::NAN;
        let e = KMeans::new(3)
            .fit(bad.view(), Seed(0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 7, column 2"), "{e}");
        let f = KMeans::new(3).fit(x.view(), Seed(0)).unwrap();
        assert_eq!(
            f.predict(Array2::zeros((2, 4)).view()).unwrap_err(),
            AlgoError::ColumnMismatch {
                expected: 3,
                got: 4
            }
        );
        let dup = Array2::from_shape_fn((10, 2), |(i, _)| (i % 2) as f64);
        let f = KMeans::new(3).fit(dup.view(), Seed(0)).unwrap();
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains("only 2 distinct points for 3 clusters")),
            "{:?}",
            f.warnings
        );
        let bad_init = KMeans {
            init: KMeansInit::Centers(Array2::zeros((2, 3))),
            ..KMeans::new(3)
        };
        assert!(matches!(
            bad_init.fit(x.view(), Seed(0)),
            Err(ClusterError::BadInit { .. })
        ));
    }
}
