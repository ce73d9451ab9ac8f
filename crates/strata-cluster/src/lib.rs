//! Clustering for strata: k-means, Gaussian mixtures and validity metrics,
//! implementing `strata_core::Clusterer`.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout so
//! that the dependency rules (it depends on `strata-core` only) hold from the
//! start. The work is tracked in the strata-cluster issue.
