//! The downstream classifier for strata: a burn MLP for rare responders,
//! cross-validation and classification metrics.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout so
//! that the dependency rules (it depends on `strata-core` only; burn stays
//! inside it) hold from the start. The work is tracked in the strata-neural issue.
