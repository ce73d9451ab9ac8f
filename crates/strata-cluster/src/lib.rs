//! Clustering for strata: k-means and the validity metrics the study relies
//! on, with scikit-learn's definitions so results can be checked against it.
//!
//! - [`KMeans`]: greedy k-means++, `n_init` restarts, Lloyd iterations that
//!   follow scikit-learn's (same inertia from the same initial centers),
//!   empty clusters re-seeded from the farthest points, deterministic for a
//!   seed whatever the thread count.
//! - [`metrics`]: exact blockwise silhouette (one distance pass shared by
//!   many labelings, O(n) memory), Calinski-Harabasz, Davies-Bouldin,
//!   adjusted Rand index, normalized mutual information.
//!
//! - [`GaussianMixture`]: EM with full, tied, diag and spherical covariances,
//!   k-means / random / given-label initialisation, `predict_proba`, BIC, AIC.
//!
//! - [`stability`]: pairwise ARI of fits on random subsamples, and
//!   [`stability::select_k`], which scores every k side by side and
//!   recommends one with the reason.

mod dense;
pub mod error;
pub mod gmm;
pub mod kmeans;
pub mod metrics;
pub mod stability;
pub mod streaming;

pub use error::ClusterError;
pub use gmm::{CovarianceType, FittedGmm, GaussianMixture, GmmInit};
pub use kmeans::{FittedKMeans, KMeans, KMeansAlgorithm, KMeansInit};
