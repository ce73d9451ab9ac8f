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
//!
//! Where each step lives: this file holds the parameters, `fit` (starts,
//! EM iterations, the choice among restarts) and the fitted model;
//! `estep.rs` the log-likelihoods and responsibilities (E-step);
//! `mstep.rs` the weights, means, covariances and precision factors
//! (M-step); `tests.rs` the unit tests.

use crate::dense::{Cols, cols_of, column_major};
use crate::error::ClusterError;
use crate::kmeans::KMeans;
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strata_core::{AlgoError, Clusterer, FittedClusterer, Rng, Seed, check_columns, check_finite};

mod estep;
mod mstep;
#[cfg(test)]
mod tests;

use estep::*;
use mstep::*;

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
        use strata_core::params::{ParamKind, float, word};
        vec![
            S::clusters("number of components"),
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
            S::tolerance(1e-3, "lower-bound change that stops EM"),
            S::count("max_iter", 100, "EM iterations per initialisation"),
            S::count("n_init", 1, "initialisations; the best lower bound is kept"),
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
