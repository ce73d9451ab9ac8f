//! Estimator traits, following scikit-learn's semantics: an unfitted parameter
//! struct is fitted on data with a seed and yields a fitted model.
//!
//! The traits are object safe so that `strata-lab`'s registry can hold any
//! implementation behind `Box<dyn ...>`. Algorithm crates also offer concrete,
//! typed `fit` methods; the trait impls wrap those.

use crate::{AlgoError, Seed};
use ndarray::{Array1, Array2, ArrayView2};

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
}
