//! Estimator traits, following scikit-learn's semantics: an unfitted parameter
//! struct is fitted on data with a seed and yields a fitted model.
//!
//! The traits are object safe so that `strata-lab`'s registry can hold any
//! implementation behind `Box<dyn ...>`. Algorithm crates also offer concrete,
//! typed `fit` methods; the trait impls wrap those.

use crate::{AlgoError, Seed};
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a fitted model reports about itself, for results and reports: named
/// numbers (`inertia`, `bic`, `n_iter`...), named series (one value per
/// component or cluster, e.g. `explained_variance_ratio`) and warnings (a
/// fit that did not converge is a warning, never a silent success).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    pub scalars: BTreeMap<String, f64>,
    pub series: BTreeMap<String, Vec<f64>>,
    pub warnings: Vec<String>,
}

impl Diagnostics {
    /// Adds a named number.
    pub fn scalar(mut self, name: &str, value: f64) -> Self {
        self.scalars.insert(name.to_string(), value);
        self
    }
    /// Adds a named series.
    pub fn series(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Self {
        self.series
            .insert(name.to_string(), values.into_iter().collect());
        self
    }
    /// Adds warnings.
    pub fn warnings(mut self, w: impl IntoIterator<Item = String>) -> Self {
        self.warnings.extend(w);
        self
    }
    /// Adds `n_iter` and `converged` (1 or 0), and a warning naming
    /// `algorithm` when the fit stopped before converging.
    pub fn convergence(self, algorithm: &str, n_iter: usize, converged: bool) -> Self {
        let d = self
            .scalar("n_iter", n_iter as f64)
            .scalar("converged", f64::from(u8::from(converged)));
        if converged {
            d
        } else {
            d.warnings([format!(
                "{algorithm} did not converge in {n_iter} iterations; raise max_iter or tol"
            )])
        }
    }
}

/// An unfitted dimensionality reduction (PCA, ICA, random projection...).
pub trait Reducer: Send + Sync {
    /// Short registry name, e.g. `"pca"`.
    fn name(&self) -> &str;
    /// Learns the projection from `x` (rows are samples).
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedReducer>, AlgoError>;
    /// Fits on `x` and returns its projection.
    fn fit_transform(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f64>), AlgoError> {
        let fitted = self.fit(x, seed)?;
        let y = fitted.transform(x)?;
        Ok((fitted, y))
    }
}

/// A fitted dimensionality reduction.
pub trait FittedReducer: Send + Sync {
    /// Number of output columns.
    fn n_components(&self) -> usize;
    /// Names of the output columns (e.g. `PC1`, `IC3`).
    fn component_names(&self) -> Vec<String>;
    /// Projects rows with the same columns as at fit time.
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError>;
    /// Maps projected rows back to the input space, where the reducer allows it.
    fn inverse_transform(&self, _y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        Err(AlgoError::Unsupported {
            estimator: "this reducer".into(),
            operation: "inverse_transform".into(),
        })
    }
    /// What the fit learned about itself (explained variance, kurtosis,
    /// convergence...); empty unless the reducer says more.
    fn diagnostics(&self) -> Diagnostics {
        Diagnostics::default()
    }
}

/// What a column of a model matrix holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    /// A number.
    Numeric,
    /// A category's code (0, 1, 2...): equal or not, never ordered.
    Categorical,
    /// One 0/1 indicator of a one-hot encoded category; columns with the same
    /// group number encode one category together.
    OneHot(u32),
}

/// An error naming the categorical-code columns of `kinds`, for estimators
/// that need numbers only; `Ok` when there are none.
pub fn require_numeric(estimator: &str, kinds: &[ColumnKind], names: &[String]) -> Result<(), AlgoError> {
    let coded: Vec<String> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == ColumnKind::Categorical)
        .map(|(j, _)| names.get(j).cloned().unwrap_or_else(|| format!("column {j}")))
        .collect();
    if coded.is_empty() {
        return Ok(());
    }
    Err(AlgoError::InvalidParameter {
        name: "input columns".into(),
        value: coded.join(", "),
        expected: format!(
            "`{estimator}` needs numbers, and these columns are category codes; encode them with method = \"one_hot\", or use a clusterer for mixed data (kprototypes)"
        ),
    })
}

/// An unfitted clustering algorithm.
pub trait Clusterer: Send + Sync {
    /// Short registry name, e.g. `"kmeans"`.
    fn name(&self) -> &str;
    /// Learns the clusters of `x` (rows are samples).
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError>;
    /// Learns the clusters of `x` knowing what each column holds (`names`
    /// for messages). The default refuses category codes and calls
    /// [`Clusterer::fit`]; clusterers for mixed data use the kinds.
    fn fit_typed(
        &self,
        x: ArrayView2<'_, f64>,
        kinds: &[ColumnKind],
        names: &[String],
        seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        require_numeric(self.name(), kinds, names)?;
        self.fit(x, seed)
    }
}

/// A fitted clustering.
pub trait FittedClusterer: Send + Sync {
    /// Number of clusters.
    fn n_clusters(&self) -> usize;
    /// Cluster labels of the rows used for fitting.
    fn labels(&self) -> &Array1<usize>;
    /// Cluster of each new row.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError>;
    /// Membership probabilities (rows sum to 1), where the model defines them.
    fn predict_proba(&self, _x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        Err(AlgoError::Unsupported {
            estimator: "this clusterer".into(),
            operation: "predict_proba".into(),
        })
    }
    /// What the fit learned about itself on its training rows `x` (inertia,
    /// BIC, convergence...); empty unless the clusterer says more.
    fn diagnostics(&self, _x: ArrayView2<'_, f64>) -> Diagnostics {
        Diagnostics::default()
    }
}
