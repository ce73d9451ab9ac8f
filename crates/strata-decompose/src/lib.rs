//! Dimensionality reduction for strata: PCA, FastICA and random projection,
//! implementing `strata_core::Reducer`.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout so
//! that the dependency rules (it depends on `strata-core` only) hold from the
//! start. The work is tracked in the strata-decompose issue.
