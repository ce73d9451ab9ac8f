//! The downstream classifier for strata: does knowing a customer's segment
//! help find the rare ones who respond to a campaign?
//!
//! - [`mlp`]: an MLP binary classifier trained with burn (CPU `NdArray`
//!   backend with `Autodiff`), class weighting, early stopping, per-epoch
//!   history; deterministic for a seed.
//! - [`baselines`]: logistic regression and a decision tree from linfa, on the
//!   same folds.
//! - [`features`]: feature sets built inside each training fold (original,
//!   reduced, original + cluster one-hot, original + mixture posteriors) from
//!   any `strata_core` `Reducer` or `Clusterer`, so nothing leaks from test rows.
//! - [`cv`]: repeated stratified k-fold, metrics per fold and aggregated, and a
//!   paired bootstrap comparison of two feature sets.
//! - [`metrics`]: accuracy, recall, precision, specificity, F1, balanced
//!   accuracy, ROC-AUC, PR-AUC, confusion matrices, threshold rules.
//!
//! burn stays inside this crate; it depends on `strata-core` only.

pub mod baselines;
pub mod cv;
pub mod error;
pub mod features;
pub mod folds;
mod fused;
pub mod metrics;
pub mod mlp;
mod optim;

pub use error::NeuralError;
pub use metrics::{Confusion, Metrics, ThresholdRule};
pub use mlp::{Activation, ClassWeight, FittedMlp, History, MlpConfig};
