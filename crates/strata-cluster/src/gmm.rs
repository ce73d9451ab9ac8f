//! Gaussian mixtures fitted by expectation-maximisation, with scikit-learn's
//! parameterisation (precision Cholesky factors, `reg_covar` on the diagonal,
//! log-sum-exp responsibilities) so that from the same start both reach the
//! same log-likelihood.
//!
//! Covariance types: full (one matrix per component), tied (one shared
//! matrix), diag (one diagonal per component), spherical (one variance per
//! component). Initialisation from k-means labels (default), from random
//! responsibilities, or from given labels; `n_init` restarts keep the best
//! lower bound. A component whose covariance is not positive definite is a
//! typed error naming it and suggesting a larger `reg_covar`.

use crate::dense::{Cols, LANES, cols_of, column_major, load_group};
use crate::error::ClusterError;
use crate::kmeans::KMeans;
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, ShapeBuilder, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strata_core::kernels::{CH, LN, exp, padded_width, upper_tile_products};
use strata_core::par::blocked_sum;
use strata_core::{AlgoError, Clusterer, FittedClusterer, Rng, Seed, check_columns, check_finite};

/// Shape of the component covariances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CovarianceType {
    Full,
    Tied,
    Diag,
    Spherical,
}

/// How the responsibilities of the first E-step are obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GmmInit {
    /// Labels of one k-means run (scikit-learn's default).
    KMeans,
    /// Random responsibilities, normalised per sample.
    Random,
    /// These labels (one per sample, in 0..k).
    Labels(Vec<usize>),
}

/// Gaussian mixture hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixture {
    pub n_components: usize,
    pub covariance_type: CovarianceType,
    /// Added to the covariance diagonals, keeps them positive definite.
    pub reg_covar: f64,
    /// Convergence threshold on the change of the mean log-likelihood.
    pub tol: f64,
    pub max_iter: usize,
    pub n_init: usize,
    pub init: GmmInit,
}

impl GaussianMixture {
    pub fn new(n_components: usize, covariance_type: CovarianceType) -> Self {
        GaussianMixture {
            n_components,
            covariance_type,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            init: GmmInit::KMeans,
        }
    }

    fn validate(&self, n: usize) -> Result<(), ClusterError> {
        if self.n_components < 1 || self.n_components > n {
            return Err(ClusterError::BadClusterCount {
                k: self.n_components,
                n,
            });
        }
        let bad =
            |name: &'static str, value: String, expected: &str| ClusterError::InvalidParameter {
                name,
                value,
                expected: expected.into(),
            };
        if !(self.reg_covar >= 0.0 && self.reg_covar.is_finite()) {
            return Err(bad(
                "reg_covar",
                self.reg_covar.to_string(),
                "a finite number >= 0",
            ));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(bad("tol", self.tol.to_string(), "a finite number >= 0"));
        }
        if self.max_iter < 1 {
            return Err(bad("max_iter", "0".into(), "at least 1"));
        }
        if self.n_init < 1 {
            return Err(bad("n_init", "0".into(), "at least 1"));
        }
        if let GmmInit::Labels(l) = &self.init {
            if l.len() != n {
                return Err(ClusterError::LengthMismatch {
                    labels: l.len(),
                    samples: n,
                });
            }
            if let Some(&bad_label) = l.iter().find(|&&v| v >= self.n_components) {
                return Err(bad(
                    "init labels",
                    bad_label.to_string(),
                    "labels in 0..n_components",
                ));
            }
        }
        Ok(())
    }

    /// Fits on `x` (rows are samples).
    pub fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<FittedGmm, ClusterError> {
        let n = x.nrows();
        self.validate(n)?;
        check_finite(x, None)?;
        // Column-major once (free for a table from polars): the kernels read
        // consecutive rows of a feature as one vector.
        let t = column_major(x);
        let cols = cols_of(&t);
        let x = t.view().reversed_axes();
        let k = self.n_components;
        let mut best: Option<FittedGmm> = None;
        for run in 0..self.n_init {
            let run_seed = seed.child(run as u64);
            let resp = match &self.init {
                GmmInit::Labels(l) => one_hot(l, k),
                GmmInit::KMeans => {
                    let km = KMeans {
                        n_init: 1,
                        ..KMeans::new(k)
                    }
                    .fit(x, run_seed)?;
                    one_hot(km.labels.as_slice().unwrap_or(&[]), k)
                }
                GmmInit::Random => {
                    let mut rng = Rng::new(run_seed);
                    let mut r = Array2::from_shape_fn((n, k), |_| rng.uniform());
                    for mut row in r.rows_mut() {
                        let s = row.sum();
                        row /= s;
                    }
                    r
                }
            };
            let mut params = m_step(cols, resp.view(), self.covariance_type, self.reg_covar)?;
            let mut lower_bound = f64::NEG_INFINITY;
            let mut converged = false;
            let mut n_iter = 0;
            for it in 1..=self.max_iter {
                n_iter = it;
                let prev = lower_bound;
                let (mean_log_prob, resp) = e_step(cols, &params);
                params = m_step(cols, resp.view(), self.covariance_type, self.reg_covar)?;
                lower_bound = mean_log_prob;
                if (lower_bound - prev).abs() < self.tol {
                    converged = true;
                    break;
                }
            }
            let fitted = FittedGmm {
                params,
                covariance_type: self.covariance_type,
                lower_bound,
                converged,
                n_iter,
                labels: Array1::zeros(n),
                n_samples: n,
            };
            if best
                .as_ref()
                .is_none_or(|b| fitted.lower_bound > b.lower_bound)
            {
                best = Some(fitted);
            }
        }
        let mut best = best.ok_or(ClusterError::InvalidParameter {
            name: "n_init",
            value: "0".into(),
            expected: "at least 1".into(),
        })?;
        // Labels consistent with the final parameters.
        let (_, resp) = e_step(cols, &best.params);
        best.labels = argmax_rows(&resp);
        Ok(best)
    }
}

fn one_hot(labels: &[usize], k: usize) -> Array2<f64> {
    let mut r = Array2::zeros((labels.len(), k));
    for (i, &l) in labels.iter().enumerate() {
        r[[i, l]] = 1.0;
    }
    r
}

fn argmax_rows(r: &Array2<f64>) -> Array1<usize> {
    r.rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (j, &v)| if v > b.1 { (j, v) } else { b },
                )
                .0
        })
        .collect()
}

/// Mixture parameters. `prec_chol[c]` is an upper-triangular matrix U with
/// precision = U U^T (full, tied: one d x d factor per component or shared);
/// for diag and spherical only its diagonal is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub weights: Array1<f64>,
    pub means: Array2<f64>,
    /// Full: k x d x d; tied: 1 x d x d; diag: k x 1 x d; spherical: k x 1 x 1.
    pub covariances: Array3<f64>,
    pub covariance_type: CovarianceType,
    prec_chol: Array3<f64>,
}

/// Lower Cholesky factor of a symmetric positive definite matrix, or `None`.
fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[[i, j]];
            for p in 0..j {
                sum -= l[[i, p]] * l[[j, p]];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[[i, j]] = sum.sqrt();
            } else {
                l[[i, j]] = sum / l[[j, j]];
            }
        }
    }
    Some(l)
}

/// `(L^-1)^T` for lower-triangular L: the upper factor U with U U^T = (L L^T)^-1.
fn precision_factor(l: &Array2<f64>) -> Array2<f64> {
    let d = l.nrows();
    let mut inv = Array2::<f64>::zeros((d, d));
    for c in 0..d {
        // Solve L y = e_c by forward substitution.
        for i in 0..d {
            let mut sum = if i == c { 1.0 } else { 0.0 };
            for p in 0..i {
                sum -= l[[i, p]] * inv[[p, c]];
            }
            inv[[i, c]] = sum / l[[i, i]];
        }
    }
    inv.reversed_axes()
}

fn singular(component: usize, covariance_type: CovarianceType, reg_covar: f64) -> ClusterError {
    ClusterError::SingularComponent {
        component,
        covariance_type: format!("{covariance_type:?}").to_lowercase(),
        reg_covar,
    }
}

/// Number of (i, j) pairs with i <= j among d features: the entries of a
/// symmetric d x d matrix that are computed.
fn n_pairs(d: usize) -> usize {
    d * (d + 1) / 2
}

/// Weighted scatter of the rows `a..b` around `mean`, for each component:
/// `out[c]` holds sum_r w_rc (x_r - mean_c)_i (x_r - mean_c)_j for i <= j
/// (row after row of the upper triangle). Rows go in chunks; per component a
/// chunk's differences and weighted differences are multiplied in tiles of
/// feature pairs, one partial sum per vector lane, and the lanes are added
/// in order at the end: the result depends on the block only, never on the
/// threads.
#[inline(always)]
fn scatter_block(x: Cols<'_>, a: usize, b: usize, resp_t: &[f64], means: &Array2<f64>) -> Vec<f64> {
    let (n, d) = (x.n, x.d);
    let k = means.nrows();
    let np = n_pairs(d);
    let dp = padded_width(d);
    let mut xb = vec![[0.0f64; CH]; d];
    let mut diff = vec![[0.0f64; CH]; dp];
    let mut wd = vec![[0.0f64; CH]; dp];
    let mut acc = vec![[0.0f64; LN]; k * dp * dp];
    for r in (a..b).step_by(CH) {
        let len = CH.min(b - r);
        for (j, row) in xb.iter_mut().enumerate() {
            row[..len].copy_from_slice(&x.col(j)[r..r + len]);
        }
        for c in 0..k {
            let mean = means.row(c);
            let mut w = [0.0f64; CH];
            w[..len].copy_from_slice(&resp_t[c * n + r..c * n + r + len]);
            for j in 0..d {
                let mj = mean[j];
                for v in 0..CH {
                    // Padding rows carry weight 0 and difference 0.
                    let e = if v < len { xb[j][v] - mj } else { 0.0 };
                    diff[j][v] = e;
                    wd[j][v] = e * w[v];
                }
            }
            upper_tile_products(&wd, &diff, d, dp, &mut acc[c * dp * dp..(c + 1) * dp * dp]);
        }
    }
    let mut out = vec![0.0; k * np];
    for (c, o) in out.chunks_exact_mut(np).enumerate() {
        let mut p = 0;
        for i in 0..d {
            for j in i..d {
                o[p] = acc[c * dp * dp + i * dp + j]
                    .iter()
                    .fold(0.0, |t, &e| t + e);
                p += 1;
            }
        }
    }
    out
}

strata_core::simd_dispatch!(fn scatter_simd(x: Cols<'_>, a: usize, b: usize, resp_t: &[f64], means: &Array2<f64>) -> Vec<f64> => scatter_block);

/// M-step: weights, means and covariances from responsibilities, then the
/// precision factors.
fn m_step(
    x: Cols<'_>,
    resp: ArrayView2<'_, f64>,
    ct: CovarianceType,
    reg: f64,
) -> Result<Params, ClusterError> {
    let (n, d) = (x.n, x.d);
    let k = resp.ncols();
    // Responsibilities component by component (k x n, rows contiguous).
    let rt = column_major(resp);
    let resp_t = rt.as_slice().unwrap_or(&[]);
    let xv =
        ArrayView2::from_shape((n, d).f(), x.data).map_err(|_| ClusterError::InvalidParameter {
            name: "x",
            value: format!("{n} x {d}"),
            expected: "a matrix matching its data".into(),
        })?;
    let nk: Array1<f64> = resp.sum_axis(Axis(0)) + 10.0 * f64::EPSILON;
    let sums = blocked_sum(
        n,
        |a, b| rt.slice(s![.., a..b]).dot(&xv.slice(s![a..b, ..])),
        |acc, p| *acc += &p,
    )
    .unwrap_or_else(|| Array2::zeros((k, d)));
    let means = &sums / &nk.view().insert_axis(Axis(1));
    let covariances = match ct {
        CovarianceType::Full => {
            let np = n_pairs(d);
            let scatter = blocked_sum(
                n,
                |a, b| scatter_simd(x, a, b, resp_t, &means),
                |acc, p| acc.iter_mut().zip(p).for_each(|(s, v)| *s += v),
            )
            .unwrap_or_else(|| vec![0.0; k * np]);
            let mut cov = Array3::zeros((k, d, d));
            for c in 0..k {
                let mut p = c * np;
                for i in 0..d {
                    for j in i..d {
                        let v = scatter[p] / nk[c];
                        cov[[c, i, j]] = v;
                        cov[[c, j, i]] = v;
                        p += 1;
                    }
                    cov[[c, i, i]] += reg;
                }
            }
            cov
        }
        CovarianceType::Tied => {
            let xx = blocked_sum(
                n,
                |a, b| {
                    let xb = xv.slice(s![a..b, ..]);
                    xb.t().dot(&xb)
                },
                |acc, p| *acc += &p,
            )
            .unwrap_or_else(|| Array2::zeros((d, d)));
            let mm = (&means.t() * &nk.view().insert_axis(Axis(0))).dot(&means);
            let mut cc = (xx - mm) / nk.sum();
            cc.diag_mut().mapv_inplace(|v| v + reg);
            cc.insert_axis(Axis(0))
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let x2 = blocked_sum(
                n,
                |a, b| {
                    let xb = xv.slice(s![a..b, ..]);
                    rt.slice(s![.., a..b]).dot(&xb.mapv(|v| v * v))
                },
                |acc, p| *acc += &p,
            )
            .unwrap_or_else(|| Array2::zeros((k, d)));
            let avg_x2 = &x2 / &nk.view().insert_axis(Axis(1));
            let avg_means2 = means.mapv(|v| v * v);
            let avg_x_means = &means * &sums / nk.view().insert_axis(Axis(1));
            let diag = avg_x2 - &(&avg_x_means * 2.0) + &avg_means2 + reg;
            if ct == CovarianceType::Diag {
                diag.insert_axis(Axis(1))
            } else {
                diag.mean_axis(Axis(1))
                    .unwrap_or_else(|| Array1::zeros(k))
                    .insert_axis(Axis(1))
                    .insert_axis(Axis(2))
            }
        }
    };
    let mut prec_chol = Array3::zeros(covariances.dim());
    match ct {
        CovarianceType::Full | CovarianceType::Tied => {
            for c in 0..covariances.dim().0 {
                let cc = covariances.slice(s![c, .., ..]).to_owned();
                let l = cholesky(&cc).ok_or_else(|| singular(c, ct, reg))?;
                prec_chol
                    .slice_mut(s![c, .., ..])
                    .assign(&precision_factor(&l));
            }
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            for ((c, _, j), v) in covariances.indexed_iter() {
                if *v <= 0.0 {
                    return Err(singular(c, ct, reg));
                }
                prec_chol[[c, 0, j]] = 1.0 / v.sqrt();
            }
        }
    }
    let weights = &nk / n as f64;
    Ok(Params {
        weights: weights.clone() / weights.sum(),
        means,
        covariances,
        covariance_type: ct,
        prec_chol,
    })
}

/// Log-likelihood of each row of `a..b` under every component, weighted:
/// log(w_c) + log N(x | c), component by component (k x (b - a), row-major).
/// The Mahalanobis term is |(x - mean) U|^2 with U the upper-triangular
/// precision factor, computed for groups of [`LANES`] rows at once.
#[inline(always)]
fn log_prob_block(x: Cols<'_>, a: usize, b: usize, p: &Params) -> Vec<f64> {
    let (n, d) = (x.n, x.d);
    let k = p.means.nrows();
    let nb = b - a;
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let mut out = vec![0.0; k * nb];
    let mut group = vec![[0.0f64; LANES]; d];
    let mut diff = vec![[0.0f64; LANES]; d];
    let prec = p.prec_chol.as_standard_layout();
    let prec = prec.as_slice().unwrap_or(&[]);
    // log det of each precision factor plus log weight, once per block.
    let offset: Vec<f64> = (0..k)
        .map(|c| {
            let ld: f64 = match p.covariance_type {
                CovarianceType::Full => (0..d).map(|j| prec[c * d * d + j * d + j].ln()).sum(),
                CovarianceType::Tied => (0..d).map(|j| prec[j * d + j].ln()).sum(),
                CovarianceType::Diag => prec[c * d..(c + 1) * d].iter().map(|v| v.ln()).sum(),
                CovarianceType::Spherical => d as f64 * prec[c].ln(),
            };
            ld + p.weights[c].ln()
        })
        .collect();
    // The precision factors column by column (U's column j is row j here),
    // so the Mahalanobis loop reads them in order without index arithmetic.
    let columns: Vec<f64> = match p.covariance_type {
        CovarianceType::Full | CovarianceType::Tied => prec
            .chunks_exact(d * d)
            .flat_map(|u| (0..d * d).map(move |t| u[(t % d) * d + t / d]))
            .collect(),
        CovarianceType::Diag | CovarianceType::Spherical => Vec::new(),
    };
    // Each mean repeated for every lane, so the differences of a group are
    // one loop over consecutive values (a loop per feature, the compiler
    // may vectorize across features with gathers and scatters).
    let means: Vec<f64> = p.means.iter().flat_map(|&m| [m; LANES]).collect();
    for r in (a..b).step_by(LANES) {
        let len = LANES.min(b - r);
        load_group(x.data, n, r, len, &mut group);
        for (c, o) in out.chunks_exact_mut(nb).enumerate() {
            let mean = &means[c * d * LANES..(c + 1) * d * LANES];
            for ((e, &g), &m) in diff
                .as_flattened_mut()
                .iter_mut()
                .zip(group.as_flattened())
                .zip(mean)
            {
                *e = g - m;
            }
            let mut maha = [0.0f64; LANES];
            match p.covariance_type {
                CovarianceType::Full | CovarianceType::Tied => {
                    let idx = if p.covariance_type == CovarianceType::Tied {
                        0
                    } else {
                        c
                    };
                    let u = &columns[idx * d * d..(idx + 1) * d * d];
                    mahalanobis(&diff, u, &mut maha);
                }
                CovarianceType::Diag => {
                    let pf = &prec[c * d..(c + 1) * d];
                    for (dj, &f) in diff.iter().zip(pf) {
                        for l in 0..LANES {
                            let y = dj[l] * f;
                            maha[l] += y * y;
                        }
                    }
                }
                CovarianceType::Spherical => {
                    let pf = prec[c];
                    for dj in &diff {
                        for l in 0..LANES {
                            maha[l] += dj[l] * dj[l];
                        }
                    }
                    for m in maha.iter_mut() {
                        *m *= pf * pf;
                    }
                }
            }
            for l in 0..len {
                o[r - a + l] = -0.5 * (d as f64 * ln2pi + maha[l]) + offset[c];
            }
        }
    }
    out
}

/// Adds |diff U|^2 to `maha` for a group of rows (`diff[i]`: feature `i` of
/// the rows' differences from the mean), `U` upper-triangular given column
/// by column in `u` (d x d): column `j`'s sum runs over `i <= j` in order
/// from 0.0, and the squares are added in column order.
///
/// Two columns at a time: their sums are independent chains of additions,
/// so a unit that holds the 16 lanes in two registers (AVX-512) has work
/// while an addition completes; every sum is the same as one column alone.
#[inline(always)]
fn mahalanobis(diff: &[[f64; LANES]], u: &[f64], maha: &mut [f64; LANES]) {
    let d = diff.len();
    let mut pairs = u.chunks_exact(2 * d);
    for (p, pair) in (&mut pairs).enumerate() {
        let j = 2 * p;
        let (c0, c1) = pair.split_at(d);
        let mut y0 = [0.0f64; LANES];
        let mut y1 = [0.0f64; LANES];
        for ((di, &a), &b) in diff.iter().zip(&c0[..=j]).zip(&c1[..=j]) {
            for l in 0..LANES {
                y0[l] += di[l] * a;
                y1[l] += di[l] * b;
            }
        }
        let (dn, b) = (&diff[j + 1], c1[j + 1]);
        for l in 0..LANES {
            y1[l] += dn[l] * b;
        }
        for l in 0..LANES {
            maha[l] += y0[l] * y0[l];
        }
        for l in 0..LANES {
            maha[l] += y1[l] * y1[l];
        }
    }
    // An odd d: the last column, all of whose entries count.
    let last = pairs.remainder();
    if !last.is_empty() {
        let mut y = [0.0f64; LANES];
        for (di, &a) in diff.iter().zip(last) {
            for l in 0..LANES {
                y[l] += di[l] * a;
            }
        }
        for l in 0..LANES {
            maha[l] += y[l] * y[l];
        }
    }
}

/// Responsibilities of the rows `a..b` (component by component, k x (b - a))
/// and the sum of their log-likelihoods: log-sum-exp over the components,
/// for groups of [`LANES`] rows at once.
#[inline(always)]
fn e_step_block(x: Cols<'_>, a: usize, b: usize, p: &Params) -> (f64, Vec<f64>) {
    let k = p.means.nrows();
    let nb = b - a;
    let mut w = log_prob_block(x, a, b, p);
    let mut total = 0.0;
    for r in (0..nb).step_by(LANES) {
        let len = LANES.min(nb - r);
        let mut m = [f64::NEG_INFINITY; LANES];
        for c in 0..k {
            let row = &w[c * nb + r..c * nb + r + len];
            for (mm, &v) in m.iter_mut().zip(row) {
                *mm = if v > *mm { v } else { *mm };
            }
        }
        let mut sum = [0.0f64; LANES];
        for c in 0..k {
            let row = &mut w[c * nb + r..c * nb + r + len];
            for l in 0..len {
                let e = exp(row[l] - m[l]);
                row[l] = e;
                sum[l] += e;
            }
        }
        let mut inv = [0.0f64; LANES];
        for l in 0..len {
            total += m[l] + sum[l].ln();
            inv[l] = 1.0 / sum[l];
        }
        for c in 0..k {
            let row = &mut w[c * nb + r..c * nb + r + len];
            for l in 0..len {
                row[l] *= inv[l];
            }
        }
    }
    (total, w)
}

strata_core::simd_dispatch!(avx512 fn e_step_simd(x: Cols<'_>, a: usize, b: usize, p: &Params) -> (f64, Vec<f64>) => e_step_block);

/// E-step: mean log-likelihood per sample and the responsibilities (n x k,
/// column-major: each component's column is contiguous).
fn e_step(x: Cols<'_>, p: &Params) -> (f64, Array2<f64>) {
    let n = x.n;
    let k = p.means.nrows();
    let parts: Vec<(usize, f64, Vec<f64>)> = strata_core::par::blocks(n)
        .into_par_iter()
        .map(|(a, b)| {
            let (t, w) = e_step_simd(x, a, b, p);
            (a, t, w)
        })
        .collect();
    let mut resp_t = Array2::zeros((k, n));
    let mut total = 0.0;
    for (a, t, w) in parts {
        total += t;
        let nb = w.len() / k.max(1);
        for (c, row) in w.chunks_exact(nb.max(1)).enumerate() {
            resp_t
                .slice_mut(s![c, a..a + nb])
                .assign(&ndarray::ArrayView1::from(row));
        }
    }
    (total / n as f64, resp_t.reversed_axes())
}

/// A fitted Gaussian mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedGmm {
    pub params: Params,
    pub covariance_type: CovarianceType,
    /// Mean log-likelihood per sample at the last E-step of the kept run.
    pub lower_bound: f64,
    pub converged: bool,
    pub n_iter: usize,
    /// Most likely component of each fitting row.
    pub labels: Array1<usize>,
    pub n_samples: usize,
}

impl FittedGmm {
    pub fn n_components(&self) -> usize {
        self.params.means.nrows()
    }

    /// Membership probabilities (rows sum to 1).
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(x, self.params.means.ncols())?;
        check_finite(x, None)?;
        let t = column_major(x);
        Ok(e_step(cols_of(&t), &self.params).1)
    }

    /// Most likely component of each row.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        Ok(argmax_rows(&self.predict_proba(x)?))
    }

    /// Mean log-likelihood per sample of `x`.
    pub fn score(&self, x: ArrayView2<'_, f64>) -> Result<f64, AlgoError> {
        check_columns(x, self.params.means.ncols())?;
        check_finite(x, None)?;
        let t = column_major(x);
        Ok(e_step(cols_of(&t), &self.params).0)
    }

    /// Number of free parameters (scikit-learn's count).
    pub fn n_parameters(&self) -> usize {
        let (k, d) = self.params.means.dim();
        let cov = match self.covariance_type {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Tied => d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Spherical => k,
        };
        cov + k * d + k - 1
    }

    /// Bayesian information criterion on `x` (lower is better).
    pub fn bic(&self, x: ArrayView2<'_, f64>) -> Result<f64, AlgoError> {
        Ok(self.bic_from_score(self.score(x)?, x.nrows()))
    }

    /// Akaike information criterion on `x` (lower is better).
    pub fn aic(&self, x: ArrayView2<'_, f64>) -> Result<f64, AlgoError> {
        Ok(self.aic_from_score(self.score(x)?, x.nrows()))
    }

    /// BIC from a mean log-likelihood `score` already computed on `n` rows.
    pub fn bic_from_score(&self, score: f64, n: usize) -> f64 {
        let n = n as f64;
        -2.0 * score * n + self.n_parameters() as f64 * n.ln()
    }

    /// AIC from a mean log-likelihood `score` already computed on `n` rows.
    pub fn aic_from_score(&self, score: f64, n: usize) -> f64 {
        -2.0 * score * n as f64 + 2.0 * self.n_parameters() as f64
    }
}

impl strata_core::Configurable for GaussianMixture {
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
                "number of components",
            ),
            S::new(
                "covariance",
                ParamKind::Choice(&["full", "tied", "diag", "spherical"]),
                word("full"),
                "covariance type",
            ),
            S::new(
                "reg_covar",
                ParamKind::Float {
                    low: 0.0,
                    high: 1.0,
                    open: false,
                },
                float(1e-6),
                "added to covariance diagonals",
            ),
            S::new(
                "tol",
                ParamKind::Float {
                    low: 0.0,
                    high: 1.0,
                    open: true,
                },
                float(1e-3),
                "lower-bound change that stops EM",
            ),
            S::new(
                "max_iter",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::None,
                },
                int(100),
                "EM iterations per initialisation",
            ),
            S::new(
                "n_init",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::None,
                },
                int(1),
                "initialisations; the best lower bound is kept",
            ),
            S::new(
                "init",
                ParamKind::Choice(&["kmeans", "random"]),
                word("kmeans"),
                "first responsibilities",
            ),
        ]
    }
    fn from_params(p: &strata_core::Params) -> Result<Self, AlgoError> {
        let ct = match p.text("covariance")? {
            "tied" => CovarianceType::Tied,
            "diag" => CovarianceType::Diag,
            "spherical" => CovarianceType::Spherical,
            _ => CovarianceType::Full,
        };
        let mut g = GaussianMixture::new(p.usize("k")?, ct);
        g.reg_covar = p.f64("reg_covar")?;
        g.tol = p.f64("tol")?;
        g.max_iter = p.usize("max_iter")?;
        g.n_init = p.usize("n_init")?;
        g.init = if p.text("init")? == "random" {
            GmmInit::Random
        } else {
            GmmInit::KMeans
        };
        Ok(g)
    }
}

impl Clusterer for GaussianMixture {
    fn name(&self) -> &str {
        "gmm"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        Ok(Box::new(GaussianMixture::fit(self, x, seed)?))
    }
}

impl FittedClusterer for FittedGmm {
    fn n_clusters(&self) -> usize {
        self.n_components()
    }
    fn labels(&self) -> &Array1<usize> {
        &self.labels
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        FittedGmm::predict(self, x)
    }
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedGmm::predict_proba(self, x)
    }
    fn diagnostics(&self, x: ArrayView2<'_, f64>) -> strata_core::Diagnostics {
        let mut d = strata_core::Diagnostics::default()
            .scalar("lower_bound", self.lower_bound)
            .scalar("n_parameters", self.n_parameters() as f64)
            .series("weights", self.params.weights.iter().copied());
        // One E-step over `x` gives the log-likelihood, BIC and AIC.
        match self.score(x) {
            Ok(ll) => {
                d = d
                    .scalar("log_likelihood", ll)
                    .scalar("bic", self.bic_from_score(ll, x.nrows()))
                    .scalar("aic", self.aic_from_score(ll, x.nrows()))
            }
            Err(e) => d = d.warnings([format!("BIC/AIC not computed: {e}")]),
        }
        d.convergence("EM", self.n_iter, self.converged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::adjusted_rand_index;
    use strata_core::{SimdLevel, with_simd_cap};

    fn blobs() -> (Array2<f64>, Vec<usize>) {
        let mut r = Rng::new(Seed(8));
        let centers = [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]];
        let scales = [1.0, 0.5, 2.0];
        let x = Array2::from_shape_fn((900, 2), |(i, j)| {
            centers[i % 3][j] + scales[i % 3] * r.normal()
        });
        (x, (0..900).map(|i| i % 3).collect())
    }

    #[test]
    fn every_covariance_type_recovers_blobs() {
        let (x, truth) = blobs();
        for ct in [
            CovarianceType::Full,
            CovarianceType::Tied,
            CovarianceType::Diag,
            CovarianceType::Spherical,
        ] {
            let f = GaussianMixture::new(3, ct).fit(x.view(), Seed(0)).unwrap();
            assert!(f.converged, "{ct:?}");
            let ari = adjusted_rand_index(f.labels.as_slice().unwrap(), &truth).unwrap();
            assert!(ari > 0.95, "{ct:?}: ARI {ari}");
            let p = f.predict_proba(x.view()).unwrap();
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
            assert!((f.params.weights.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn lower_bound_never_decreases() {
        let (x, _) = blobs();
        for ct in [CovarianceType::Full, CovarianceType::Diag] {
            let mut last = f64::NEG_INFINITY;
            for max_iter in 1..12 {
                let gm = GaussianMixture {
                    init: GmmInit::Random,
                    max_iter,
                    tol: 0.0,
                    ..GaussianMixture::new(3, ct)
                };
                let f = gm.fit(x.view(), Seed(4)).unwrap();
                assert!(
                    f.lower_bound >= last - 1e-12,
                    "{ct:?} iteration {max_iter}: {} after {last}",
                    f.lower_bound
                );
                last = f.lower_bound;
            }
        }
    }

    #[test]
    fn information_criteria_follow_the_formula() {
        let (x, _) = blobs();
        let f = GaussianMixture::new(3, CovarianceType::Full)
            .fit(x.view(), Seed(0))
            .unwrap();
        assert_eq!(f.n_parameters(), 3 * 3 + 3 * 2 + 2);
        let n = 900.0f64;
        let ll = f.score(x.view()).unwrap() * n;
        assert!((f.bic(x.view()).unwrap() - (-2.0 * ll + 17.0 * n.ln())).abs() < 1e-9);
        assert!((f.aic(x.view()).unwrap() - (-2.0 * ll + 34.0)).abs() < 1e-9);
        let t = GaussianMixture::new(3, CovarianceType::Spherical)
            .fit(x.view(), Seed(0))
            .unwrap();
        assert_eq!(t.n_parameters(), 3 + 6 + 2);
    }

    #[test]
    fn kernels_match_their_baseline_and_any_thread_count() {
        let (x, _) = blobs();
        let mut r = Rng::new(Seed(5));
        // Five features, so groups, padding and the triangle are all exercised.
        let x = ndarray::concatenate![
            Axis(1),
            x,
            Array2::from_shape_fn((x.nrows(), 3), |_| r.normal())
        ];
        let t = column_major(x.view());
        let cols = cols_of(&t);
        for ct in [
            CovarianceType::Full,
            CovarianceType::Tied,
            CovarianceType::Diag,
            CovarianceType::Spherical,
        ] {
            let g = GaussianMixture::new(3, ct);
            let f = g.fit(x.view(), Seed(1)).unwrap();
            let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<u64>>();
            let (a, b) = (7, x.nrows() - 3);
            // Each build the CPU has (AVX2, and AVX-512 where present).
            let avx2 = with_simd_cap(SimdLevel::Avx2, || e_step_simd(cols, a, b, &f.params).1);
            let base = e_step_block(cols, a, b, &f.params).1;
            assert_eq!(bits(&avx2), bits(&base), "{ct:?}");
            assert_eq!(
                bits(&e_step_simd(cols, a, b, &f.params).1),
                bits(&base),
                "{ct:?}"
            );
            let (_, resp) = e_step(cols, &f.params);
            let rt = column_major(resp.view());
            let resp_t = rt.as_slice().unwrap();
            assert_eq!(
                bits(&scatter_simd(cols, a, b, resp_t, &f.params.means)),
                bits(&scatter_block(cols, a, b, resp_t, &f.params.means)),
            );
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap()
                .install(|| g.fit(x.view(), Seed(1)).unwrap());
            assert_eq!(one, f, "{ct:?}");
        }
    }

    #[test]
    fn mahalanobis_takes_each_column_alone() {
        // Columns in pairs, an odd one last: each column's sum over the
        // triangle, and the squares in column order, as one column at a time.
        let mut r = Rng::new(Seed(9));
        for d in 1..=7 {
            let diff: Vec<[f64; LANES]> = (0..d).map(|_| std::array::from_fn(|_| r.normal())).collect();
            let u: Vec<f64> = (0..d * d).map(|_| r.normal()).collect();
            let mut maha = [0.5f64; LANES];
            mahalanobis(&diff, &u, &mut maha);
            for (l, &got) in maha.iter().enumerate() {
                let mut want = 0.5f64;
                for j in 0..d {
                    let mut y = 0.0f64;
                    for (i, di) in diff.iter().enumerate().take(j + 1) {
                        y += di[l] * u[j * d + i];
                    }
                    want += y * y;
                }
                assert_eq!(got.to_bits(), want.to_bits(), "d = {d}, lane {l}");
            }
        }
    }

    #[test]
    fn singular_component_is_a_clear_error() {
        // Two groups of identical points: without regularisation each
        // component's covariance is exactly zero.
        let x = Array2::from_shape_fn(
            (20, 2),
            |(i, j)| if i < 10 { j as f64 } else { 5.0 + j as f64 },
        );
        let gm = GaussianMixture {
            reg_covar: 0.0,
            init: GmmInit::Labels((0..20).map(|i| i / 10).collect()),
            ..GaussianMixture::new(2, CovarianceType::Full)
        };
        let e = gm.fit(x.view(), Seed(0)).unwrap_err();
        assert!(
            matches!(e, ClusterError::SingularComponent { component: 0, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("raise reg_covar"), "{e}");
        // The default regularisation makes the same data fit.
        assert!(
            GaussianMixture {
                reg_covar: 1e-6,
                ..gm
            }
            .fit(x.view(), Seed(0))
            .is_ok()
        );
    }

    #[test]
    fn bad_input() {
        let (x, _) = blobs();
        assert!(matches!(
            GaussianMixture::new(0, CovarianceType::Full).fit(x.view(), Seed(0)),
            Err(ClusterError::BadClusterCount { .. })
        ));
        let f = GaussianMixture::new(2, CovarianceType::Diag)
            .fit(x.view(), Seed(0))
            .unwrap();
        assert_eq!(
            f.predict(Array2::zeros((1, 3)).view()).unwrap_err(),
            AlgoError::ColumnMismatch {
                expected: 2,
                got: 3
            }
        );
        let bad_labels = GaussianMixture {
            init: GmmInit::Labels(vec![0; 5]),
            ..GaussianMixture::new(2, CovarianceType::Diag)
        };
        assert!(matches!(
            bad_labels.fit(x.view(), Seed(0)),
            Err(ClusterError::LengthMismatch { .. })
        ));
    }
}
