//! Errors of the reducers.

use strata_core::AlgoError;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum DecomposeError {
    #[error("n_components = {requested} is larger than {limit_name} ({limit})")]
    TooManyComponents {
        requested: usize,
        limit: usize,
        limit_name: &'static str,
    },
    #[error("n_components must be at least 1")]
    ZeroComponents,
    #[error("variance fraction {0} is outside (0, 1]")]
    BadVarianceFraction(f64),
    #[error("eps = {0} must be in (0, 1)")]
    BadEps(f64),
    #[error("density = {0} must be in (0, 1]")]
    BadDensity(f64),
    #[error(
        "the Johnson-Lindenstrauss bound asks for {needed} components for {n_samples} samples at eps = {eps}, more than the {n_features} features; raise eps or give n_components"
    )]
    JlTooLarge {
        needed: usize,
        n_samples: usize,
        eps: f64,
        n_features: usize,
    },
    #[error(
        "component {component} has zero variance: the data has rank {rank}, so whitening would divide by zero; ask for at most {rank} components or do not whiten"
    )]
    ZeroVariance { component: usize, rank: usize },
    #[error("`{name}` = {value}: {expected}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
    },
    #[error("w_init has shape {got:?}, expected ({n}, {n})")]
    BadInit { got: (usize, usize), n: usize },
    #[error(transparent)]
    Input(#[from] AlgoError),
    #[error("{0}")]
    Numerical(String),
}

impl From<DecomposeError> for AlgoError {
    fn from(e: DecomposeError) -> AlgoError {
        match e {
            DecomposeError::Input(a) => a,
            DecomposeError::Numerical(m) => AlgoError::Numerical(m),
            DecomposeError::TooManyComponents { requested, .. } => AlgoError::InvalidParameter {
                name: "n_components".into(),
                value: requested.to_string(),
                expected: e.to_string(),
            },
            other => AlgoError::Other(other.to_string()),
        }
    }
}
