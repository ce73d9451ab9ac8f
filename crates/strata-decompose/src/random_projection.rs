//! Random projections (Gaussian and sparse), with the Johnson-Lindenstrauss
//! bound for choosing the dimension and a pseudo-inverse reconstruction so
//! they can be compared with PCA on the same footing.

use crate::error::DecomposeError;
use crate::linalg;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use strata_core::{AlgoError, FittedReducer, Reducer, Rng, Seed, check_columns, check_finite};

/// Smallest dimension that keeps every pairwise squared distance of
/// `n_samples` points within a factor `1 ± eps` with high probability:
/// `4 ln(n) / (eps²/2 - eps³/3)` (Dasgupta and Gupta), rounded down as
/// scikit-learn does.
pub fn johnson_lindenstrauss_min_dim(n_samples: usize, eps: f64) -> Result<usize, DecomposeError> {
    if !(eps > 0.0 && eps < 1.0) {
        return Err(DecomposeError::BadEps(eps));
    }
    let denominator = eps * eps / 2.0 - eps * eps * eps / 3.0;
    Ok((4.0 * (n_samples.max(1) as f64).ln() / denominator) as usize)
}

/// Target dimension.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RpComponents {
    Count(usize),
    /// From the Johnson-Lindenstrauss bound for this `eps`.
    Auto {
        eps: f64,
    },
}

/// Distribution of the projection matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RpKind {
    /// Entries N(0, 1/k).
    Gaussian,
    /// Entries ±sqrt(1/(density k)) with probability density/2 each, else 0
    /// (Achlioptas; Li et al.). `None` = 1/sqrt(d).
    Sparse { density: Option<f64> },
}

/// Random projection hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomProjection {
    pub n_components: RpComponents,
    pub kind: RpKind,
}

impl RandomProjection {
    pub fn gaussian(n_components: RpComponents) -> Self {
        RandomProjection {
            n_components,
            kind: RpKind::Gaussian,
        }
    }

    pub fn sparse(n_components: RpComponents) -> Self {
        RandomProjection {
            n_components,
            kind: RpKind::Sparse { density: None },
        }
    }

    /// Fits (draws the matrix) for data shaped like `x`, whose values must
    /// be finite.
    pub fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<FittedRandomProjection, DecomposeError> {
        check_finite(x, None)?;
        self.draw(x.dim(), seed)
    }

    /// Fits on `x` and projects it, reading the data once: the projection's
    /// check of its output names any non-finite value of `x` (every value
    /// reaches every output of its row, zero weights included, since NaN
    /// and infinities times 0 are NaN). The same numbers as `fit` then
    /// `transform`.
    pub fn fit_transform(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<(FittedRandomProjection, Array2<f64>), DecomposeError> {
        let fitted = self.draw(x.dim(), seed)?;
        let y = fitted.transform(x)?;
        Ok((fitted, y))
    }

    /// The matrix for `n` rows of `d` features.
    fn draw(
        &self,
        (n, d): (usize, usize),
        seed: Seed,
    ) -> Result<FittedRandomProjection, DecomposeError> {
        let k = match self.n_components {
            RpComponents::Count(0) => return Err(DecomposeError::ZeroComponents),
            RpComponents::Count(k) => {
                if k > d {
                    return Err(DecomposeError::TooManyComponents {
                        requested: k,
                        limit: d,
                        limit_name: "the number of features",
                    });
                }
                k
            }
            RpComponents::Auto { eps } => {
                let k = johnson_lindenstrauss_min_dim(n, eps)?;
                if k > d {
                    return Err(DecomposeError::JlTooLarge {
                        needed: k,
                        n_samples: n,
                        eps,
                        n_features: d,
                    });
                }
                k.max(1)
            }
        };
        let mut rng = Rng::new(seed);
        let components = match self.kind {
            RpKind::Gaussian => {
                let sd = 1.0 / (k as f64).sqrt();
                Array2::from_shape_fn((k, d), |_| rng.normal() * sd)
            }
            RpKind::Sparse { density } => {
                let density = density.unwrap_or(1.0 / (d as f64).sqrt());
                if !(density > 0.0 && density <= 1.0) {
                    return Err(DecomposeError::BadDensity(density));
                }
                let v = (1.0 / density).sqrt() / (k as f64).sqrt();
                Array2::from_shape_fn((k, d), |_| {
                    let u = rng.uniform();
                    if u < density / 2.0 {
                        -v
                    } else if u < density {
                        v
                    } else {
                        0.0
                    }
                })
            }
        };
        let inverse = linalg::pinv(&components).map_err(DecomposeError::Numerical)?;
        Ok(FittedRandomProjection {
            components,
            inverse,
        })
    }
}

/// A drawn random projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRandomProjection {
    /// Projection matrix (k x d): y = x components^T.
    pub components: Array2<f64>,
    /// Pseudo-inverse of `components` (d x k), for reconstruction.
    pub inverse: Array2<f64>,
}

impl FittedRandomProjection {
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Share of non-zero entries of the projection matrix.
    pub fn density(&self) -> f64 {
        self.components.iter().filter(|v| **v != 0.0).count() as f64
            / self.components.len().max(1) as f64
    }

    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(x, self.components.ncols())?;
        let y = linalg::project_columns(x, None, &self.components.t().to_owned(), None)?;
        Ok(y)
    }

    /// Least-squares reconstruction through the pseudo-inverse.
    pub fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        check_columns(y, self.n_components())?;
        Ok(linalg::project(y, None, &self.inverse.t().to_owned()))
    }
}

impl strata_core::Configurable for RandomProjection {
    fn param_specs() -> Vec<strata_core::ParamSpec> {
        use strata_core::ParamSpec as S;
        use strata_core::params::{Bound, ParamKind, float, word};
        vec![
            S::new(
                "n_components",
                ParamKind::CountOrAuto { bound: Bound::None },
                None,
                "output dimension, or auto from the Johnson-Lindenstrauss bound",
            ),
            S::new(
                "kind",
                ParamKind::Choice(&["gaussian", "sparse"]),
                word("gaussian"),
                "projection matrix distribution",
            ),
            S::new(
                "eps",
                ParamKind::Float {
                    low: 0.0,
                    high: 1.0,
                    open: true,
                },
                float(0.1),
                "distortion allowed by the bound when n_components = auto",
            ),
        ]
    }
    fn from_params(p: &strata_core::Params) -> Result<Self, AlgoError> {
        let n = match p.value("n_components")? {
            strata_core::ParamValue::Text(_) => RpComponents::Auto { eps: p.f64("eps")? },
            _ => RpComponents::Count(p.usize("n_components")?),
        };
        Ok(if p.text("kind")? == "sparse" {
            RandomProjection::sparse(n)
        } else {
            RandomProjection::gaussian(n)
        })
    }
}

impl Reducer for RandomProjection {
    fn name(&self) -> &str {
        match self.kind {
            RpKind::Gaussian => "gaussian_rp",
            RpKind::Sparse { .. } => "sparse_rp",
        }
    }
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedReducer>, AlgoError> {
        Ok(Box::new(RandomProjection::fit(self, x, seed)?))
    }
    fn fit_transform(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f64>), AlgoError> {
        let (fitted, y) = RandomProjection::fit_transform(self, x, seed)?;
        Ok((Box::new(fitted), y))
    }
}

impl FittedReducer for FittedRandomProjection {
    fn n_components(&self) -> usize {
        FittedRandomProjection::n_components(self)
    }
    fn component_names(&self) -> Vec<String> {
        (1..=self.n_components())
            .map(|i| format!("RP{i}"))
            .collect()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedRandomProjection::transform(self, x)
    }
    fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        FittedRandomProjection::inverse_transform(self, y)
    }
}

/// Ratios `|f(a) - f(b)| / |a - b|` of projected to original distances over
/// `n_pairs` random pairs of distinct rows (pairs at distance 0 are skipped).
pub fn distance_ratios(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    n_pairs: usize,
    seed: Seed,
) -> Vec<f64> {
    let n = x.nrows();
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n_pairs);
    let mut attempts = 0;
    while out.len() < n_pairs && n > 1 && attempts < n_pairs * 10 {
        attempts += 1;
        let (i, j) = (rng.below(n), rng.below(n));
        if i == j {
            continue;
        }
        let dx = (&x.row(i) - &x.row(j)).mapv(|v| v * v).sum().sqrt();
        if dx == 0.0 {
            continue;
        }
        let dy = (&y.row(i) - &y.row(j)).mapv(|v| v * v).sum().sqrt();
        out.push(dy / dx);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide(n: usize, d: usize) -> Array2<f64> {
        let mut r = Rng::new(Seed(21));
        Array2::from_shape_fn((n, d), |_| r.normal())
    }

    #[test]
    fn jl_bound_matches_the_formula() {
        // scikit-learn: johnson_lindenstrauss_min_dim(1e6, eps=0.5) == 663, (1000, 0.1) == 5920
        assert_eq!(johnson_lindenstrauss_min_dim(1_000_000, 0.5).unwrap(), 663);
        assert_eq!(johnson_lindenstrauss_min_dim(1000, 0.1).unwrap(), 5920);
        assert!(matches!(
            johnson_lindenstrauss_min_dim(10, 1.0),
            Err(DecomposeError::BadEps(_))
        ));
    }

    #[test]
    fn distances_preserved_within_the_bound() {
        let (n, d, eps) = (1000, 3000, 0.5);
        let x = wide(n, d);
        for rp in [
            RandomProjection::gaussian(RpComponents::Auto { eps }),
            RandomProjection::sparse(RpComponents::Auto { eps }),
        ] {
            let f = rp.fit(x.view(), Seed(3)).unwrap();
            assert_eq!(
                f.n_components(),
                johnson_lindenstrauss_min_dim(n, eps).unwrap()
            );
            let y = f.transform(x.view()).unwrap();
            let ratios = distance_ratios(x.view(), y.view(), 1000, Seed(4));
            assert_eq!(ratios.len(), 1000);
            // JL bounds squared distances within 1 ± eps.
            for r in &ratios {
                assert!(
                    (1.0 - eps..=1.0 + eps).contains(&(r * r)),
                    "{} {r}",
                    rp.name()
                );
            }
        }
    }

    #[test]
    fn sparse_density_and_reconstruction() {
        let x = wide(200, 100);
        let f = RandomProjection::sparse(RpComponents::Count(40))
            .fit(x.view(), Seed(5))
            .unwrap();
        assert!((f.density() - 0.1).abs() < 0.02, "{}", f.density());
        // Projection then pseudo-inverse is the orthogonal projection onto the row space.
        let y = f.transform(x.view()).unwrap();
        let back = f.inverse_transform(y.view()).unwrap();
        let y2 = f.transform(back.view()).unwrap();
        assert!((&y2 - &y).iter().all(|e| e.abs() < 1e-9));
        // Full dimension: exact reconstruction.
        let full = RandomProjection::gaussian(RpComponents::Count(100))
            .fit(x.view(), Seed(6))
            .unwrap();
        let rec = full
            .inverse_transform(full.transform(x.view()).unwrap().view())
            .unwrap();
        assert!(linalg::mean_squared_error(x.view(), rec.view()) < 1e-18);
    }

    #[test]
    fn fit_transform_reads_once_and_still_names_bad_values() {
        // Column-major (as from polars) and row-major, narrow and wide.
        for (n, d, k) in [(300, 12, 8), (120, 80, 20)] {
            let x = wide(n, d);
            let f = x.t().as_standard_layout().reversed_axes().to_owned();
            for data in [x.view(), f.view()] {
                for rp in [
                    RandomProjection::gaussian(RpComponents::Count(k)),
                    RandomProjection::sparse(RpComponents::Count(k)),
                ] {
                    let (fitted, y) = rp.fit_transform(data, Seed(8)).unwrap();
                    let apart = rp.fit(data, Seed(8)).unwrap();
                    assert_eq!(fitted, apart);
                    let y2 = apart.transform(data).unwrap();
                    assert!(y.iter().zip(&y2).all(|(a, b)| a.to_bits() == b.to_bits()));
                    // Any non-finite value is named, even in a column that
                    // every output weighs by 0.
                    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                        let mut z = data.to_owned();
                        z[[n / 2, d - 1]] = bad;
                        let mut zero = rp.fit(x.view(), Seed(8)).unwrap();
                        zero.components.column_mut(d - 1).fill(0.0);
                        for err in [
                            rp.fit_transform(z.view(), Seed(8))
                                .err()
                                .map(AlgoError::from),
                            zero.transform(z.view()).err(),
                        ] {
                            let msg = err.map(|e| e.to_string()).unwrap_or_default();
                            assert!(msg.contains(&format!("row {}", n / 2)), "{msg}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn seeded_and_validated() {
        let x = wide(50, 20);
        let a = RandomProjection::gaussian(RpComponents::Count(5))
            .fit(x.view(), Seed(1))
            .unwrap();
        let b = RandomProjection::gaussian(RpComponents::Count(5))
            .fit(x.view(), Seed(1))
            .unwrap();
        let c = RandomProjection::gaussian(RpComponents::Count(5))
            .fit(x.view(), Seed(2))
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(matches!(
            RandomProjection::gaussian(RpComponents::Count(21)).fit(x.view(), Seed(1)),
            Err(DecomposeError::TooManyComponents { .. })
        ));
        assert!(matches!(
            RandomProjection::gaussian(RpComponents::Auto { eps: 0.1 }).fit(x.view(), Seed(1)),
            Err(DecomposeError::JlTooLarge { .. })
        ));
        let bad = RandomProjection {
            n_components: RpComponents::Count(3),
            kind: RpKind::Sparse { density: Some(1.5) },
        };
        assert!(matches!(
            bad.fit(x.view(), Seed(1)),
            Err(DecomposeError::BadDensity(_))
        ));
        assert!(a.transform(wide(3, 19).view()).is_err());
    }
}
