//! Principal component analysis.
//!
//! Fitted from the eigen-decomposition of the covariance matrix (the solver
//! scikit-learn picks for tall data), accumulated in fixed row blocks in
//! parallel. Components follow scikit-learn's sign convention (the entry of
//! largest magnitude of each component is positive), so results are stable
//! across runs and comparable with scikit-learn.

use crate::error::DecomposeError;
use crate::linalg;
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use strata_core::{AlgoError, FittedReducer, Reducer, Seed, check_columns, check_min_samples};

/// How many components to keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Components {
    /// Exactly this many.
    Count(usize),
    /// The smallest count whose cumulative explained variance ratio exceeds this
    /// fraction (scikit-learn's rule for `0 < n_components < 1`); 1.0 keeps all.
    Variance(f64),
}

/// PCA hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    pub n_components: Components,
    /// Scale components to unit variance.
    pub whiten: bool,
}

impl Pca {
    pub fn new(n_components: Components) -> Pca {
        Pca {
            n_components,
            whiten: false,
        }
    }

    pub fn whiten(mut self, whiten: bool) -> Pca {
        self.whiten = whiten;
        self
    }

    /// Checks the hyperparameters that do not depend on the data.
    pub fn validate(&self) -> Result<(), DecomposeError> {
        match self.n_components {
            Components::Count(0) => Err(DecomposeError::ZeroComponents),
            Components::Variance(f) if !(f > 0.0 && f <= 1.0) => {
                Err(DecomposeError::BadVarianceFraction(f))
            }
            _ => Ok(()),
        }
    }

    /// Fits on `x` (rows are samples); `feature_names` label the loadings.
    pub fn fit_named(
        &self,
        x: ArrayView2<'_, f64>,
        feature_names: Option<&[String]>,
    ) -> Result<FittedPca, DecomposeError> {
        self.validate()?;
        check_min_samples(x, 2, "PCA")?;
        let (n, d) = x.dim();
        let (mean, scatter) = linalg::checked_mean_and_scatter(x, feature_names)?;
        let cov = scatter / (n as f64 - 1.0);
        let (mut values, vectors) =
            linalg::symmetric_eigen(&cov).map_err(DecomposeError::Numerical)?;
        values.mapv_inplace(|v| v.max(0.0));
        let total: f64 = values.sum();
        let limit = n.min(d);
        let ratio_all = if total > 0.0 {
            &values / total
        } else {
            Array1::zeros(d)
        };
        let k = match self.n_components {
            Components::Count(k) => {
                if k > limit {
                    let limit_name = if d <= n {
                        "the number of features"
                    } else {
                        "the number of samples"
                    };
                    return Err(DecomposeError::TooManyComponents {
                        requested: k,
                        limit,
                        limit_name,
                    });
                }
                k
            }
            Components::Variance(f) => {
                let mut cum = 0.0;
                let below = ratio_all.iter().take_while(|r| {
                    cum += **r;
                    cum <= f
                });
                (below.count() + 1).min(limit)
            }
        };
        let mut components = vectors.t().slice(ndarray::s![..k, ..]).to_owned();
        linalg::flip_rows_by_largest(&mut components);
        let explained_variance = values.slice(ndarray::s![..k]).to_owned();
        if self.whiten {
            let rank = values.iter().filter(|&&v| v > total * 1e-12).count();
            if let Some(c) = explained_variance.iter().position(|&v| v <= total * 1e-12) {
                return Err(DecomposeError::ZeroVariance {
                    component: c + 1,
                    rank,
                });
            }
        }
        let noise_variance = if k < limit {
            values.slice(ndarray::s![k..limit]).mean().unwrap_or(0.0)
        } else {
            0.0
        };
        let feature_names = feature_names
            .map(|f| f.to_vec())
            .unwrap_or_else(|| (0..d).map(|j| format!("x{j}")).collect());
        Ok(FittedPca {
            mean,
            singular_values: explained_variance.mapv(|v| (v * (n as f64 - 1.0)).sqrt()),
            explained_variance_ratio: ratio_all.slice(ndarray::s![..k]).to_owned(),
            explained_variance,
            components,
            noise_variance,
            whiten: self.whiten,
            n_samples: n,
            feature_names,
        })
    }

    /// Fits on `x` without feature names.
    pub fn fit(&self, x: ArrayView2<'_, f64>) -> Result<FittedPca, DecomposeError> {
        self.fit_named(x, None)
    }
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPca {
    /// Per-feature mean removed before projecting.
    pub mean: Array1<f64>,
    /// Principal axes, one row per component (k x d).
    pub components: Array2<f64>,
    /// Variance along each component (sample variance, n - 1).
    pub explained_variance: Array1<f64>,
    /// Share of the total variance along each component.
    pub explained_variance_ratio: Array1<f64>,
    pub singular_values: Array1<f64>,
    /// Mean variance of the discarded components (probabilistic PCA noise).
    pub noise_variance: f64,
    pub whiten: bool,
    pub n_samples: usize,
    pub feature_names: Vec<String>,
}

impl FittedPca {
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Running sum of `explained_variance_ratio`.
    pub fn cumulative_variance_ratio(&self) -> Array1<f64> {
        let mut acc = 0.0;
        self.explained_variance_ratio.mapv(|r| {
            acc += r;
            acc
        })
    }

    /// Loadings of component `i` (0-based) by feature, largest magnitude first.
    pub fn loadings(&self, i: usize) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = self
            .feature_names
            .iter()
            .cloned()
            .zip(self.components.row(i).iter().copied())
            .collect();
        v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        v
    }

    /// "PC1 = +0.52 energy +0.48 loudness -0.41 acousticness": the `top`
    /// largest loadings of component `i` (0-based).
    pub fn describe(&self, i: usize, top: usize) -> String {
        let terms: Vec<String> = self
            .loadings(i)
            .into_iter()
            .take(top)
            .map(|(n, w)| format!("{}{:.2} {n}", if w < 0.0 { "-" } else { "+" }, w.abs()))
            .collect();
        format!("PC{} = {}", i + 1, terms.join(" "))
    }

    /// Projects rows onto the components.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(x, self.mean.len())?;
        let mut y = linalg::project_columns(
            x,
            Some(&self.mean),
            &self.components.t().to_owned(),
            Some(&self.feature_names),
        )?;
        if self.whiten {
            let s = self.explained_variance.mapv(f64::sqrt);
            y /= &s;
        }
        Ok(y)
    }

    /// Maps projected rows back to the input space.
    pub fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(y, self.n_components())?;
        let comps = if self.whiten {
            &self.components
                * &self
                    .explained_variance
                    .mapv(f64::sqrt)
                    .insert_axis(ndarray::Axis(1))
        } else {
            self.components.clone()
        };
        let mut x = linalg::project(y, None, &comps);
        x += &self.mean;
        Ok(x)
    }
}

impl strata_core::Configurable for Pca {
    fn param_specs() -> Vec<strata_core::ParamSpec> {
        use strata_core::ParamSpec as S;
        use strata_core::params::{Bound, ParamKind, flag};
        vec![
            S::new(
                "n_components",
                ParamKind::CountOrFraction {
                    bound: Bound::Features,
                },
                None,
                "components to keep, or the fraction of variance to keep",
            ),
            S::new(
                "whiten",
                ParamKind::Bool,
                flag(false),
                "scale components to unit variance",
            ),
        ]
    }
    fn from_params(p: &strata_core::Params) -> Result<Self, AlgoError> {
        let n = match p.value("n_components")? {
            strata_core::ParamValue::Float(f) => Components::Variance(*f),
            _ => Components::Count(p.usize("n_components")?),
        };
        Ok(Pca::new(n).whiten(p.bool("whiten")?))
    }
}

impl Reducer for Pca {
    fn name(&self) -> &str {
        "pca"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _seed: Seed,
    ) -> Result<Box<dyn FittedReducer>, AlgoError> {
        Ok(Box::new(Pca::fit(self, x)?))
    }
}

impl FittedReducer for FittedPca {
    fn n_components(&self) -> usize {
        FittedPca::n_components(self)
    }
    fn component_names(&self) -> Vec<String> {
        (1..=self.n_components())
            .map(|i| format!("PC{i}"))
            .collect()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedPca::transform(self, x)
    }
    fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedPca::inverse_transform(self, y)
    }
    fn diagnostics(&self) -> strata_core::Diagnostics {
        let mut cum = 0.0;
        strata_core::Diagnostics::default()
            .series(
                "explained_variance",
                self.explained_variance.iter().copied(),
            )
            .series(
                "explained_variance_ratio",
                self.explained_variance_ratio.iter().copied(),
            )
            .series(
                "cumulative_variance_ratio",
                self.explained_variance_ratio.iter().map(|r| {
                    cum += r;
                    cum
                }),
            )
            .scalar("noise_variance", self.noise_variance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Rng;

    fn data(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut r = Rng::new(Seed(seed));
        let mut x = Array2::from_shape_fn((n, d), |_| r.normal());
        // Correlate columns so components are distinct.
        for i in 0..n {
            for j in 1..d {
                x[[i, j]] += 0.5 * x[[i, j - 1]] * (j as f64);
            }
        }
        x
    }

    #[test]
    fn full_rank_round_trip() {
        let x = data(300, 5, 1);
        for whiten in [false, true] {
            let p = Pca::new(Components::Count(5))
                .whiten(whiten)
                .fit(x.view())
                .unwrap();
            let back = p
                .inverse_transform(p.transform(x.view()).unwrap().view())
                .unwrap();
            assert!((&back - &x).iter().all(|e| e.abs() < 1e-9));
        }
    }

    #[test]
    fn whitened_output_has_identity_covariance() {
        let x = data(500, 4, 2);
        let p = Pca::new(Components::Count(3))
            .whiten(true)
            .fit(x.view())
            .unwrap();
        let y = p.transform(x.view()).unwrap();
        let cov = y.t().dot(&y) / (y.nrows() as f64 - 1.0);
        for i in 0..3 {
            for j in 0..3 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((cov[[i, j]] - e).abs() < 1e-9, "{cov}");
            }
        }
    }

    #[test]
    fn variance_fraction_picks_the_smallest_count() {
        let x = data(400, 6, 3);
        let all = Pca::new(Components::Count(6)).fit(x.view()).unwrap();
        let cum = all.cumulative_variance_ratio();
        let p = Pca::new(Components::Variance(0.9)).fit(x.view()).unwrap();
        let k = p.n_components();
        assert!(
            cum[k - 1] > 0.9 && (k == 1 || cum[k - 2] <= 0.9),
            "{cum} {k}"
        );
        assert!((cum[5] - 1.0).abs() < 1e-12);
        assert_eq!(
            Pca::new(Components::Variance(1.0))
                .fit(x.view())
                .unwrap()
                .n_components(),
            6
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let x = data(10, 3, 4);
        assert!(matches!(
            Pca::new(Components::Count(4)).fit(x.view()),
            Err(DecomposeError::TooManyComponents {
                requested: 4,
                limit: 3,
                ..
            })
        ));
        assert!(matches!(
            Pca::new(Components::Count(0)).fit(x.view()),
            Err(DecomposeError::ZeroComponents)
        ));
        assert!(matches!(
            Pca::new(Components::Variance(1.5)).fit(x.view()),
            Err(DecomposeError::BadVarianceFraction(_))
        ));
        assert!(matches!(
            Pca::new(Components::Variance(0.0)).fit(x.view()),
            Err(DecomposeError::BadVarianceFraction(_))
        ));
        let mut bad = x.clone();
        bad[[3, 1]] = f64::INFINITY;
        let e = Pca::new(Components::Count(2))
            .fit(bad.view())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 3, column 1"), "{e}");
        let one = data(1, 3, 5);
        assert!(
            Pca::new(Components::Count(1))
                .fit(one.view())
                .unwrap_err()
                .to_string()
                .contains("need at least 2 samples")
        );
        let p = Pca::new(Components::Count(2)).fit(x.view()).unwrap();
        assert_eq!(
            p.transform(data(2, 4, 6).view()).unwrap_err(),
            AlgoError::ColumnMismatch {
                expected: 3,
                got: 4
            }
        );
        let mut rank1 = x.clone();
        for i in 0..10 {
            rank1[[i, 1]] = 2.0 * rank1[[i, 0]];
            rank1[[i, 2]] = -rank1[[i, 0]];
        }
        let e = Pca::new(Components::Count(2))
            .whiten(true)
            .fit(rank1.view())
            .unwrap_err();
        assert!(
            matches!(
                e,
                DecomposeError::ZeroVariance {
                    component: 2,
                    rank: 1
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn loadings_are_named() {
        let x = data(200, 3, 7);
        let names: Vec<String> = ["energy", "loudness", "acousticness"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = Pca::new(Components::Count(2))
            .fit_named(x.view(), Some(&names))
            .unwrap();
        let text = p.describe(0, 2);
        assert!(text.starts_with("PC1 = +"), "{text}");
        assert_eq!(p.loadings(0).len(), 3);
        // sign convention: the largest loading is positive
        assert!(p.loadings(0)[0].1 > 0.0 && p.loadings(1)[0].1 > 0.0);
    }

    #[test]
    fn same_result_with_one_or_many_threads() {
        let x = data(20_000, 8, 8);
        let a = Pca::new(Components::Count(4)).fit(x.view()).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| Pca::new(Components::Count(4)).fit(x.view()).unwrap());
        assert_eq!(a, b);
    }
}
