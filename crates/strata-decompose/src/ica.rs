//! FastICA: independent components by maximising non-Gaussianity.
//!
//! The data are centred and whitened through PCA (scikit-learn's whitening,
//! including its sign convention, so the same initial matrix reaches the same
//! components), then the fixed-point iteration of Hyvärinen runs either on all
//! components at once with symmetric decorrelation (`parallel`) or one after
//! another with Gram-Schmidt (`deflation`). Sources are scaled to unit
//! variance (scikit-learn's `whiten="unit-variance"`). Each iteration is one
//! blocked, parallel pass over the samples whose partial sums are combined in
//! block order, so the result does not depend on the number of threads.

use crate::error::DecomposeError;
use crate::linalg;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use serde::{Deserialize, Serialize};
use strata_core::kernels::exp;
use strata_core::{AlgoError, FittedReducer, Reducer, Rng, Seed, check_columns, check_min_samples};

/// The contrast function G' used in the fixed-point update.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Contrast {
    /// `tanh(alpha u)`, robust general purpose (default, alpha = 1).
    LogCosh { alpha: f64 },
    /// `u exp(-u²/2)`, for highly super-Gaussian sources.
    Exp,
    /// `u³`, kurtosis based.
    Cube,
}

/// `tanh` from the branch-free exponential: `1 - 2 / (e^(2v) + 1)`, within 1e-15 of the
/// exact value (absolute), branch free.
#[inline(always)]
fn fast_tanh(v: f64) -> f64 {
    1.0 - 2.0 / (exp(2.0 * v.clamp(-20.0, 20.0)) + 1.0)
}

/// How components are extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IcaAlgorithm {
    Parallel,
    Deflation,
}

/// FastICA hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FastIca {
    /// Number of components; all features when `None`.
    pub n_components: Option<usize>,
    pub algorithm: IcaAlgorithm,
    pub fun: Contrast,
    pub max_iter: usize,
    pub tol: f64,
    /// Initial unmixing matrix (k x k); drawn from the seed when `None`.
    pub w_init: Option<Array2<f64>>,
}

impl Default for FastIca {
    fn default() -> Self {
        FastIca {
            n_components: None,
            algorithm: IcaAlgorithm::Parallel,
            fun: Contrast::LogCosh { alpha: 1.0 },
            max_iter: 200,
            tol: 1e-4,
            w_init: None,
        }
    }
}

impl FastIca {
    pub fn new(n_components: usize) -> FastIca {
        FastIca {
            n_components: Some(n_components),
            ..FastIca::default()
        }
    }

    pub fn validate(&self) -> Result<(), DecomposeError> {
        if self.n_components == Some(0) {
            return Err(DecomposeError::ZeroComponents);
        }
        if self.max_iter == 0 {
            return Err(DecomposeError::InvalidParameter {
                name: "max_iter",
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(DecomposeError::InvalidParameter {
                name: "tol",
                value: self.tol.to_string(),
                expected: "a positive number".into(),
            });
        }
        if let Contrast::LogCosh { alpha } = self.fun
            && !(1.0..=2.0).contains(&alpha)
        {
            return Err(DecomposeError::InvalidParameter {
                name: "alpha",
                value: alpha.to_string(),
                expected: "in [1, 2]".into(),
            });
        }
        Ok(())
    }

    /// Fits on `x` (rows are samples).
    pub fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<FittedIca, DecomposeError> {
        self.validate()?;
        check_min_samples(x, 2, "FastICA")?;
        let (n, d) = x.dim();
        let k = self.n_components.unwrap_or(d.min(n));
        if k > d.min(n) {
            let limit_name = if d <= n {
                "the number of features"
            } else {
                "the number of samples"
            };
            return Err(DecomposeError::TooManyComponents {
                requested: k,
                limit: d.min(n),
                limit_name,
            });
        }

        // Whitening: K (k x d) with K (x - mean) of unit (biased) variance.
        let (mean, gram) = linalg::checked_mean_and_scatter(x, None)?;
        let (values, mut vectors) =
            linalg::symmetric_eigen(&gram).map_err(DecomposeError::Numerical)?;
        // scikit-learn's convention: the first entry of each axis is positive.
        for mut col in vectors.columns_mut() {
            if col[0] < 0.0 {
                col.mapv_inplace(|v| -v);
            }
        }
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let rank = values.iter().filter(|&&v| v > total * 1e-12).count();
        if let Some(c) = values.iter().take(k).position(|&v| v <= total * 1e-12) {
            return Err(DecomposeError::ZeroVariance {
                component: c + 1,
                rank,
            });
        }
        let scale = (n as f64).sqrt();
        let whitening =
            Array2::from_shape_fn((k, d), |(i, j)| vectors[[j, i]] / values[i].sqrt() * scale);
        let x1 = linalg::project(x, Some(&mean), &whitening.t().to_owned()); // n x k, unit variance

        let w_init = match &self.w_init {
            Some(w) => {
                if w.dim() != (k, k) {
                    return Err(DecomposeError::BadInit { got: w.dim(), n: k });
                }
                w.clone()
            }
            None => {
                let mut rng = Rng::new(seed);
                Array2::from_shape_fn((k, k), |_| rng.normal())
            }
        };
        let (w, n_iter, converged) = match self.algorithm {
            IcaAlgorithm::Parallel => {
                parallel(x1.view(), w_init, self.fun, self.tol, self.max_iter)?
            }
            IcaAlgorithm::Deflation => {
                deflation(x1.view(), w_init, self.fun, self.tol, self.max_iter)
            }
        };

        // Unmixing: S = (x - mean) (W K)^T, then unit variance sources.
        let mut components = w.dot(&whitening);
        let sources = linalg::project(x, Some(&mean), &components.t().to_owned());
        let sd = sources.std_axis(Axis(0), 0.0);
        if let Some(c) = sd.iter().position(|&v| v <= 0.0) {
            return Err(DecomposeError::ZeroVariance {
                component: c + 1,
                rank,
            });
        }
        components /= &sd.view().insert_axis(Axis(1));
        let mixing = linalg::pinv(&components).map_err(DecomposeError::Numerical)?;
        let kurtosis = linalg::excess_kurtosis((&sources / &sd).view());
        Ok(FittedIca {
            mean,
            components,
            mixing,
            whitening,
            n_iter,
            converged,
            kurtosis,
        })
    }
}

/// Symmetric decorrelation: `W <- (W W^T)^(-1/2) W`.
fn sym_decorrelation(w: &Array2<f64>) -> Result<Array2<f64>, DecomposeError> {
    let (s, u) = linalg::symmetric_eigen(&w.dot(&w.t())).map_err(DecomposeError::Numerical)?;
    let tiny = f64::MIN_POSITIVE;
    let inv_sqrt = s.mapv(|v| 1.0 / v.max(tiny).sqrt());
    Ok((&u * &inv_sqrt).dot(&u.t()).dot(w))
}

/// One pass over the samples: `E[g(W x) x^T]` (k x k) and `E[g'(W x)]` (k).
fn expectations(
    x1: ArrayView2<'_, f64>,
    w: &Array2<f64>,
    fun: Contrast,
) -> (Array2<f64>, Array1<f64>) {
    let (n, k) = x1.dim();
    let m = w.nrows();
    let wt = w.t().to_owned(); // k x m
    let sums = linalg::blocked_sum(
        n,
        |lo, hi| {
            let xb = x1.slice(s![lo..hi, ..]);
            expectations_block(xb, &wt, fun)
        },
        |acc, p| acc.iter_mut().zip(p).for_each(|(a, b)| *a += b),
    )
    .unwrap_or_else(|| vec![0.0; m * k + m]);
    let nf = n as f64;
    let a = Array2::from_shape_fn((m, k), |(i, j)| sums[i * k + j] / nf);
    let b = Array1::from_shape_fn(m, |i| sums[m * k + i] / nf);
    (a, b)
}

/// One pass over a block of whitened samples: y = W x for every sample (the
/// narrow-matrix kernel of `linalg`), g and g' over the whole buffer, then
/// `sum g(y) x^T` (m x k) and `sum g'(y)` (m), returned concatenated.
fn expectations_block(xb: ArrayView2<'_, f64>, wt: &Array2<f64>, fun: Contrast) -> Vec<f64> {
    let (nb, k) = xb.dim();
    let m = wt.ncols();
    let mut y = Array2::<f64>::zeros((nb, m));
    linalg::project_block_small(xb, None, wt, y.view_mut());
    let mut out = vec![0.0; m * k + m];
    let (a, dg) = out.split_at_mut(m * k);
    let ys = y.as_slice_mut().unwrap_or(&mut []);
    // One monomorphic loop per contrast, so the evaluation vectorizes.
    match fun {
        Contrast::LogCosh { alpha } => contrast_logcosh(ys, m, dg, alpha),
        Contrast::Exp => contrast_exp(ys, m, dg),
        Contrast::Cube => contrast_cube(ys, m, dg),
    }
    let owned;
    let xs = match xb.as_slice() {
        Some(s) => s,
        None => {
            owned = xb.as_standard_layout().into_owned();
            owned.as_slice().unwrap_or(&[])
        }
    };
    accumulate_outer(ys, xs, m, k, a);
    out
}

#[inline(always)]
fn logcosh_body(ys: &mut [f64], m: usize, dg: &mut [f64], alpha: f64) {
    apply_contrast(ys, m, dg, |u| {
        let t = fast_tanh(alpha * u);
        (t, alpha * (1.0 - t * t))
    })
}

#[inline(always)]
fn exp_body(ys: &mut [f64], m: usize, dg: &mut [f64]) {
    apply_contrast(ys, m, dg, |u| {
        let e = exp(-0.5 * u * u);
        (u * e, (1.0 - u * u) * e)
    })
}

#[inline(always)]
fn cube_body(ys: &mut [f64], m: usize, dg: &mut [f64]) {
    apply_contrast(ys, m, dg, |u| (u * u * u, 3.0 * u * u))
}

/// `a[i, :] += g[r, i] * x[r, :]` over the rows r of a block.
#[inline(always)]
fn accumulate_outer_body(ys: &[f64], xs: &[f64], m: usize, k: usize, a: &mut [f64]) {
    for (yr, row) in ys.chunks_exact(m).zip(xs.chunks_exact(k)) {
        for (&g, ai) in yr.iter().zip(a.chunks_exact_mut(k)) {
            ai.iter_mut().zip(row).for_each(|(acc, &xv)| *acc += g * xv);
        }
    }
}

strata_core::simd_dispatch!(fn contrast_logcosh(ys: &mut [f64], m: usize, dg: &mut [f64], alpha: f64) => logcosh_body);
strata_core::simd_dispatch!(fn contrast_exp(ys: &mut [f64], m: usize, dg: &mut [f64]) => exp_body);
strata_core::simd_dispatch!(fn contrast_cube(ys: &mut [f64], m: usize, dg: &mut [f64]) => cube_body);
strata_core::simd_dispatch!(fn accumulate_outer(ys: &[f64], xs: &[f64], m: usize, k: usize, a: &mut [f64]) => accumulate_outer_body);

/// Replaces each y by g(y) and adds g'(y) into `dg`, column by column.
#[inline(always)]
fn apply_contrast<F: Fn(f64) -> (f64, f64)>(ys: &mut [f64], m: usize, dg: &mut [f64], f: F) {
    for yr in ys.chunks_exact_mut(m) {
        for (v, d) in yr.iter_mut().zip(dg.iter_mut()) {
            let (g, gp) = f(*v);
            *v = g;
            *d += gp;
        }
    }
}

fn parallel(
    x1: ArrayView2<'_, f64>,
    w_init: Array2<f64>,
    fun: Contrast,
    tol: f64,
    max_iter: usize,
) -> Result<(Array2<f64>, usize, bool), DecomposeError> {
    let mut w = sym_decorrelation(&w_init)?;
    for it in 1..=max_iter {
        let (gx, dg) = expectations(x1, &w, fun);
        let w1 = sym_decorrelation(&(&gx - &(&w * &dg.view().insert_axis(Axis(1)))))?;
        let lim = (&w1 * &w)
            .sum_axis(Axis(1))
            .iter()
            .map(|v| (v.abs() - 1.0).abs())
            .fold(0.0, f64::max);
        w = w1;
        if lim < tol {
            return Ok((w, it, true));
        }
    }
    Ok((w, max_iter, false))
}

fn deflation(
    x1: ArrayView2<'_, f64>,
    w_init: Array2<f64>,
    fun: Contrast,
    tol: f64,
    max_iter: usize,
) -> (Array2<f64>, usize, bool) {
    let k = w_init.nrows();
    let mut w_all = Array2::<f64>::zeros((k, k));
    let mut worst_iter = 0;
    let mut all_converged = true;
    for j in 0..k {
        let mut w = w_init.row(j).to_owned();
        w /= w.dot(&w).sqrt();
        let mut converged = false;
        let mut iters = max_iter;
        for it in 1..=max_iter {
            let wm = w.clone().insert_axis(Axis(0));
            let (gx, dg) = expectations(x1, &wm, fun);
            let mut w1 = gx.row(0).to_owned() - &(&w * dg[0]);
            gram_schmidt(&mut w1, w_all.slice(s![..j, ..]));
            w1 /= w1.dot(&w1).sqrt();
            let lim = (w1.dot(&w).abs() - 1.0).abs();
            w = w1;
            if lim < tol {
                converged = true;
                iters = it;
                break;
            }
        }
        worst_iter = worst_iter.max(iters);
        all_converged &= converged;
        w_all.row_mut(j).assign(&w);
    }
    (w_all, worst_iter, all_converged)
}

fn gram_schmidt(w: &mut Array1<f64>, previous: ArrayView2<'_, f64>) {
    if previous.nrows() == 0 {
        return;
    }
    let proj = previous.t().dot(&previous.dot(&w.view()));
    *w -= &proj;
}

/// A fitted FastICA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedIca {
    pub mean: Array1<f64>,
    /// Unmixing matrix (k x d): sources = (x - mean) components^T.
    pub components: Array2<f64>,
    /// Mixing matrix (d x k), the pseudo-inverse of `components`.
    pub mixing: Array2<f64>,
    /// Whitening matrix (k x d) of the pre-processing.
    pub whitening: Array2<f64>,
    /// Iterations used (the most of any component for deflation).
    pub n_iter: usize,
    /// Whether the iteration reached `tol` before `max_iter`; a fit that did
    /// not converge must be reported as such, not as a success.
    pub converged: bool,
    /// Excess kurtosis of each source on the fitting data.
    pub kurtosis: Array1<f64>,
}

impl FittedIca {
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Recovers the sources of new rows.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(x, self.mean.len())?;
        let y = linalg::project(x, Some(&self.mean), &self.components.t().to_owned());
        linalg::check_output(x, &y, None)?;
        Ok(y)
    }

    /// Mixes sources back into the input space.
    pub fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(y, self.n_components())?;
        let mut x = linalg::project(y, None, &self.mixing.t().to_owned());
        x += &self.mean;
        Ok(x)
    }

    /// Components ordered by decreasing |excess kurtosis| (most non-Gaussian first).
    pub fn by_non_gaussianity(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.n_components()).collect();
        idx.sort_by(|&a, &b| self.kurtosis[b].abs().total_cmp(&self.kurtosis[a].abs()));
        idx
    }
}

impl strata_core::Configurable for FastIca {
    fn param_specs() -> Vec<strata_core::ParamSpec> {
        use strata_core::ParamSpec as S;
        use strata_core::params::{Bound, ParamKind, word};
        vec![
            S::new(
                "n_components",
                ParamKind::Int {
                    min: 1,
                    bound: Bound::Features,
                },
                None,
                "independent components to extract",
            ),
            S::new(
                "fun",
                ParamKind::Choice(&["logcosh", "exp", "cube"]),
                word("logcosh"),
                "contrast function",
            ),
            S::new(
                "ica_algorithm",
                ParamKind::Choice(&["parallel", "deflation"]),
                word("parallel"),
                "symmetric or one-at-a-time extraction",
            ),
            S::count("max_iter", 200, "fixed-point iterations"),
            S::tolerance(1e-4, "convergence tolerance"),
        ]
    }
    fn from_params(p: &strata_core::Params) -> Result<Self, AlgoError> {
        let mut f = FastIca::new(p.usize("n_components")?);
        f.fun = match p.text("fun")? {
            "exp" => Contrast::Exp,
            "cube" => Contrast::Cube,
            _ => Contrast::LogCosh { alpha: 1.0 },
        };
        f.algorithm = if p.text("ica_algorithm")? == "deflation" {
            IcaAlgorithm::Deflation
        } else {
            IcaAlgorithm::Parallel
        };
        f.max_iter = p.usize("max_iter")?;
        f.tol = p.f64("tol")?;
        Ok(f)
    }
}

impl Reducer for FastIca {
    fn name(&self) -> &str {
        "ica"
    }
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedReducer>, AlgoError> {
        Ok(Box::new(FastIca::fit(self, x, seed)?))
    }
}

impl FittedReducer for FittedIca {
    fn n_components(&self) -> usize {
        FittedIca::n_components(self)
    }
    fn component_names(&self) -> Vec<String> {
        (1..=self.n_components())
            .map(|i| format!("IC{i}"))
            .collect()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedIca::transform(self, x)
    }
    fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedIca::inverse_transform(self, y)
    }
    fn diagnostics(&self) -> strata_core::Diagnostics {
        strata_core::Diagnostics::default()
            .series("component_kurtosis", self.kurtosis.iter().copied())
            .convergence("FastICA", self.n_iter, self.converged)
    }
}

/// Absolute Pearson correlation of two columns.
pub fn abs_correlation(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.sum() / n, b.sum() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b.iter()) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (sab / (saa * sbb).sqrt()).abs()
}

/// Greedy matching of the columns of `a` to those of `b` by absolute
/// correlation; returns the correlation of each matched pair (in `a`'s order).
pub fn match_components(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Vec<f64> {
    let k = a.ncols().min(b.ncols());
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..a.ncols() {
        for j in 0..b.ncols() {
            pairs.push((abs_correlation(a.column(i), b.column(j)), i, j));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut used_a = vec![false; a.ncols()];
    let mut used_b = vec![false; b.ncols()];
    let mut out = vec![0.0; a.ncols()];
    let mut matched = 0;
    for (c, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            out[i] = c;
            matched += 1;
            if matched == k {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three non-Gaussian sources (uniform, Laplace-like, sine) mixed linearly.
    fn mixture(n: usize) -> (Array2<f64>, Array2<f64>) {
        let mut r = Rng::new(Seed(11));
        let s = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => r.uniform() * 2.0 - 1.0,
            1 => {
                let u = r.uniform() - 0.5;
                -u.signum() * (1.0 - 2.0 * u.abs()).max(1e-300).ln()
            }
            _ => (i as f64 * 0.05).sin(),
        });
        let a = ndarray::array![
            [1.0, 0.5, 0.3],
            [0.4, 1.0, 0.8],
            [0.2, 0.7, 1.0],
            [0.9, 0.1, 0.4]
        ];
        (s.dot(&a.t()), s)
    }

    #[test]
    fn recovers_known_sources_with_every_setting() {
        let (x, s) = mixture(4000);
        for algorithm in [IcaAlgorithm::Parallel, IcaAlgorithm::Deflation] {
            for fun in [
                Contrast::LogCosh { alpha: 1.0 },
                Contrast::Exp,
                Contrast::Cube,
            ] {
                let ica = FastIca {
                    n_components: Some(3),
                    algorithm,
                    fun,
                    ..FastIca::default()
                };
                let f = ica.fit(x.view(), Seed(0)).unwrap();
                assert!(f.converged, "{algorithm:?} {fun:?} did not converge");
                let y = f.transform(x.view()).unwrap();
                let corr = match_components(y.view(), s.view());
                assert!(
                    corr.iter().all(|&c| c > 0.99),
                    "{algorithm:?} {fun:?}: {corr:?}"
                );
            }
        }
    }

    #[test]
    fn exp_and_tanh_match_libm() {
        for i in -69_900..=69_900 {
            let x = i as f64 * 0.01 + 1e-7;
            let (a, b) = (exp(x), x.exp());
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b,
                "exp {x}: {a} vs {b}"
            );
        }
        for i in -4000..=4000 {
            let v = i as f64 * 0.01 + 1e-7;
            let (a, b) = (fast_tanh(v), v.tanh());
            assert!((a - b).abs() <= 1e-15, "tanh {v}: {a} vs {b}");
        }
        assert_eq!((fast_tanh(50.0), fast_tanh(-50.0)), (1.0, -1.0));
        assert!(exp(-1e6) >= 0.0 && exp(-1e6) < 1e-300);
    }

    #[test]
    fn wide_and_baseline_contrasts_are_bit_identical() {
        let mut r = Rng::new(Seed(4));
        let ys: Vec<f64> = (0..8 * 999).map(|_| r.normal() * 2.0).collect();
        type Pair = (Vec<f64>, Vec<f64>);
        let run = |f: &dyn Fn(&mut [f64], &mut [f64])| -> Pair {
            let (mut y, mut dg) = (ys.clone(), vec![0.0; 8]);
            f(&mut y, &mut dg);
            (y, dg)
        };
        let same = |a: Pair, b: Pair| {
            a.0.iter()
                .chain(&a.1)
                .zip(b.0.iter().chain(&b.1))
                .all(|(p, q)| p.to_bits() == q.to_bits())
        };
        assert!(same(
            run(&|y, d| contrast_logcosh(y, 8, d, 1.0)),
            run(&|y, d| logcosh_body(y, 8, d, 1.0))
        ));
        assert!(same(
            run(&|y, d| contrast_exp(y, 8, d)),
            run(&|y, d| exp_body(y, 8, d))
        ));
        assert!(same(
            run(&|y, d| contrast_cube(y, 8, d)),
            run(&|y, d| cube_body(y, 8, d))
        ));
    }

    #[test]
    fn unit_variance_sources_and_reconstruction() {
        let (x, _) = mixture(2000);
        let f = FastIca::new(3).fit(x.view(), Seed(1)).unwrap();
        let y = f.transform(x.view()).unwrap();
        let sd = y.std_axis(Axis(0), 0.0);
        assert!(sd.iter().all(|v| (v - 1.0).abs() < 1e-9), "{sd}");
        // 4 features of rank 3: the mixing reconstructs x exactly.
        let back = f.inverse_transform(y.view()).unwrap();
        assert!((&back - &x).iter().all(|e| e.abs() < 1e-8));
        assert_eq!(f.kurtosis.len(), 3);
    }

    #[test]
    fn non_convergence_is_reported() {
        let (x, _) = mixture(1000);
        let f = FastIca {
            n_components: Some(3),
            max_iter: 1,
            tol: 1e-12,
            ..FastIca::default()
        }
        .fit(x.view(), Seed(2))
        .unwrap();
        assert!(!f.converged);
        assert_eq!(f.n_iter, 1);
    }

    #[test]
    fn bad_parameters() {
        let (x, _) = mixture(100);
        assert!(matches!(
            FastIca::new(5).fit(x.view(), Seed(0)),
            Err(DecomposeError::TooManyComponents { .. })
        ));
        assert!(matches!(
            FastIca::new(0).fit(x.view(), Seed(0)),
            Err(DecomposeError::ZeroComponents)
        ));
        let bad = FastIca {
            w_init: Some(Array2::zeros((2, 2))),
            ..FastIca::new(3)
        };
        assert!(matches!(
            bad.fit(x.view(), Seed(0)),
            Err(DecomposeError::BadInit { .. })
        ));
        // 4 features but rank 3: a 4th whitened component would divide by zero.
        assert!(matches!(
            FastIca::new(4).fit(x.view(), Seed(0)),
            Err(DecomposeError::ZeroVariance {
                component: 4,
                rank: 3
            })
        ));
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let (x, _) = mixture(10_000);
        let a = FastIca::new(3).fit(x.view(), Seed(5)).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| FastIca::new(3).fit(x.view(), Seed(5)).unwrap());
        assert_eq!(a, b);
    }
}
