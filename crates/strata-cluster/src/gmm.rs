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

use crate::error::ClusterError;
use crate::kmeans::KMeans;
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
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
            let mut params = m_step(x, &resp, self.covariance_type, self.reg_covar)?;
            let mut lower_bound = f64::NEG_INFINITY;
            let mut converged = false;
            let mut n_iter = 0;
            for it in 1..=self.max_iter {
                n_iter = it;
                let prev = lower_bound;
                let (mean_log_prob, resp) = e_step(x, &params);
                params = m_step(x, &resp, self.covariance_type, self.reg_covar)?;
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
        let (_, resp) = e_step(x, &best.params);
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

/// M-step: weights, means and covariances from responsibilities, then the
/// precision factors.
fn m_step(
    x: ArrayView2<'_, f64>,
    resp: &Array2<f64>,
    ct: CovarianceType,
    reg: f64,
) -> Result<Params, ClusterError> {
    let (n, d) = x.dim();
    let k = resp.ncols();
    let nk: Array1<f64> = resp.sum_axis(Axis(0)) + 10.0 * f64::EPSILON;
    let sums = blocked_sum(
        n,
        |a, b| resp.slice(s![a..b, ..]).t().dot(&x.slice(s![a..b, ..])),
        |acc, p| *acc += &p,
    )
    .unwrap_or_else(|| Array2::zeros((k, d)));
    let means = &sums / &nk.view().insert_axis(Axis(1));
    let covariances = match ct {
        CovarianceType::Full => {
            let mut cov = Array3::zeros((k, d, d));
            for c in 0..k {
                let rc = resp.column(c);
                let m = means.row(c);
                let scatter = blocked_sum(
                    n,
                    |a, b| {
                        let diff = &x.slice(s![a..b, ..]) - &m;
                        let weighted = &diff * &rc.slice(s![a..b]).insert_axis(Axis(1));
                        weighted.t().dot(&diff)
                    },
                    |acc, p| *acc += &p,
                )
                .unwrap_or_else(|| Array2::zeros((d, d)));
                let mut cc = scatter / nk[c];
                cc.diag_mut().mapv_inplace(|v| v + reg);
                cov.slice_mut(s![c, .., ..]).assign(&cc);
            }
            cov
        }
        CovarianceType::Tied => {
            let xx = blocked_sum(
                n,
                |a, b| {
                    let xb = x.slice(s![a..b, ..]);
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
                    let xb = x.slice(s![a..b, ..]);
                    resp.slice(s![a..b, ..]).t().dot(&xb.mapv(|v| v * v))
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

/// Weighted log-probabilities log(w_c) + log N(x | c) of a block (rows x k).
fn weighted_log_prob(xb: ArrayView2<'_, f64>, p: &Params) -> Array2<f64> {
    let (nb, d) = xb.dim();
    let k = p.means.nrows();
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let mut out = Array2::zeros((nb, k));
    for c in 0..k {
        let diff = &xb - &p.means.row(c);
        let (log_det, maha): (f64, Array1<f64>) = match p.covariance_type {
            CovarianceType::Full | CovarianceType::Tied => {
                let idx = if p.covariance_type == CovarianceType::Tied {
                    0
                } else {
                    c
                };
                let pc = p.prec_chol.slice(s![idx, .., ..]);
                let y = diff.dot(&pc);
                (
                    pc.diag().mapv(f64::ln).sum(),
                    y.mapv(|v| v * v).sum_axis(Axis(1)),
                )
            }
            CovarianceType::Diag => {
                let pf = p.prec_chol.slice(s![c, 0, ..]);
                let y = &diff * &pf;
                (pf.mapv(f64::ln).sum(), y.mapv(|v| v * v).sum_axis(Axis(1)))
            }
            CovarianceType::Spherical => {
                let pf = p.prec_chol[[c, 0, 0]];
                (
                    d as f64 * pf.ln(),
                    diff.mapv(|v| v * v).sum_axis(Axis(1)) * (pf * pf),
                )
            }
        };
        let lw = p.weights[c].ln();
        out.column_mut(c)
            .assign(&maha.mapv(|m| -0.5 * (d as f64 * ln2pi + m) + log_det + lw));
    }
    out
}

/// E-step: mean log-likelihood per sample and the responsibilities.
fn e_step(x: ArrayView2<'_, f64>, p: &Params) -> (f64, Array2<f64>) {
    let (n, _) = x.dim();
    let k = p.means.nrows();
    let mut resp = Array2::zeros((n, k));
    let parts: Vec<(usize, f64, Array2<f64>)> = strata_core::par::blocks(n)
        .into_par_iter()
        .map(|(a, b)| {
            let mut w = weighted_log_prob(x.slice(s![a..b, ..]), p);
            let mut total = 0.0;
            for mut row in w.rows_mut() {
                let m = row.fold(f64::NEG_INFINITY, |acc, &v| acc.max(v));
                let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                total += lse;
                row.mapv_inplace(|v| (v - lse).exp());
            }
            (a, total, w)
        })
        .collect();
    let mut total = 0.0;
    for (a, t, w) in parts {
        total += t;
        resp.slice_mut(s![a..a + w.nrows(), ..]).assign(&w);
    }
    (total / n as f64, resp)
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
        Ok(e_step(x, &self.params).1)
    }

    /// Most likely component of each row.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        Ok(argmax_rows(&self.predict_proba(x)?))
    }

    /// Mean log-likelihood per sample of `x`.
    pub fn score(&self, x: ArrayView2<'_, f64>) -> Result<f64, AlgoError> {
        check_columns(x, self.params.means.ncols())?;
        check_finite(x, None)?;
        Ok(e_step(x, &self.params).0)
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
