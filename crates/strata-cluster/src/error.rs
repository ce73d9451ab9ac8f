//! Errors of the clusterers and metrics.

use strata_core::AlgoError;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClusterError {
    #[error("n_clusters = {k} must be between 1 and the number of samples ({n})")]
    BadClusterCount { k: usize, n: usize },
    #[error("`{name}` = {value}: {expected}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
    },
    #[error("initial centers have shape {got:?}, expected ({k}, {d})")]
    BadInit {
        got: (usize, usize),
        k: usize,
        d: usize,
    },
    #[error("{labels} labels for {samples} samples")]
    LengthMismatch { labels: usize, samples: usize },
    #[error("the silhouette needs between 2 and n_samples - 1 = {max} distinct labels; got {got}")]
    SilhouetteLabels { got: usize, max: usize },
    #[error("{metric} needs at least 2 clusters; got {got}")]
    TooFewClusters { metric: &'static str, got: usize },
    #[error(
        "component {component} of the {covariance_type} mixture has a covariance that is not positive definite (it collapsed onto too few or identical points); raise reg_covar above {reg_covar} or use fewer components"
    )]
    SingularComponent {
        component: usize,
        covariance_type: String,
        reg_covar: f64,
    },
    #[error(transparent)]
    Input(#[from] AlgoError),
}

impl From<ClusterError> for AlgoError {
    fn from(e: ClusterError) -> AlgoError {
        match e {
            ClusterError::Input(a) => a,
            ClusterError::BadClusterCount { k, .. } => AlgoError::InvalidParameter {
                name: "n_clusters".into(),
                value: k.to_string(),
                expected: e.to_string(),
            },
            other => AlgoError::Other(other.to_string()),
        }
    }
}
