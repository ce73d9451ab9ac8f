//! Dimensionality reduction for strata: PCA, FastICA and random projection,
//! each with validated hyperparameters, typed errors and a fitted model that
//! implements `strata_core::FittedReducer`.
//!
//! - [`Pca`]: count or variance fraction, optional whitening, explained
//!   variance, named loadings, scikit-learn's sign convention.
//! - [`FastIca`]: logcosh / exp / cube, parallel or deflation, convergence
//!   reported, per-component excess kurtosis, mixing matrix.
//! - [`RandomProjection`]: Gaussian or sparse, dimension from the
//!   Johnson-Lindenstrauss bound, pseudo-inverse reconstruction.
//! - [`metrics`]: reconstruction error and kurtosis, the numbers the study
//!   compares across representations.
//!
//! Work over samples runs in parallel in fixed row blocks, combined in block
//! order: the same seed gives the same numbers whatever the thread count.

pub mod error;
pub mod ica;
pub mod linalg;
pub mod metrics;
pub mod pca;
pub mod random_projection;

pub use error::DecomposeError;
pub use ica::{Contrast, FastIca, FittedIca, IcaAlgorithm};
pub use pca::{Components, FittedPca, Pca};
pub use random_projection::{
    FittedRandomProjection, RandomProjection, RpComponents, RpKind, johnson_lindenstrauss_min_dim,
};
