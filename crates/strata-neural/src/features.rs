//! Feature sets built inside each training fold.
//!
//! A [`FeatureBuilder`] is fitted on the training rows only and then applied
//! to the test rows, so no reducer or clusterer ever sees a test row. The
//! builders here take any `strata_core` `Reducer` or `Clusterer` behind a
//! trait object; `strata-lab` chooses which.

use crate::error::NeuralError;
use ndarray::{Array2, ArrayView2, Axis, concatenate};
use strata_core::{Clusterer, Reducer, Seed};

/// Builds one feature set from the training rows and applies it to others.
pub trait FeatureBuilder: Send + Sync {
    /// Name used in reports (`original`, `reduced:pca`, `original+clusters:kmeans`...).
    fn name(&self) -> String;
    /// Fits on `train` and returns the features of `train` and of each of `apply`.
    fn build(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError>;
}

/// An error of a feature builder, naming the feature set.
fn features_error(builder: &dyn FeatureBuilder, e: impl std::fmt::Display) -> NeuralError {
    NeuralError::Features {
        name: builder.name(),
        message: e.to_string(),
    }
}

/// The features as they are.
pub struct Original;

impl FeatureBuilder for Original {
    fn name(&self) -> String {
        "original".into()
    }
    fn build(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        _seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        Ok((
            train.to_owned(),
            apply.iter().map(|a| a.to_owned()).collect(),
        ))
    }
}

/// The output of a reducer fitted on the training rows.
pub struct Reduced {
    pub label: String,
    pub reducer: Box<dyn Reducer>,
}

impl FeatureBuilder for Reduced {
    fn name(&self) -> String {
        format!("reduced:{}", self.label)
    }
    fn build(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        let wrap = |e: strata_core::AlgoError| features_error(self, e);
        let (fitted, t) = self.reducer.fit_transform(train, seed).map_err(wrap)?;
        let mut out = Vec::new();
        for a in apply {
            out.push(fitted.transform(*a).map_err(wrap)?);
        }
        Ok((t, out))
    }
}

/// What a clusterer adds to the original features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterFeatures {
    /// One-hot cluster labels.
    OneHot,
    /// Membership probabilities (Gaussian-mixture responsibilities).
    Posteriors,
}

/// The original features plus cluster information from a clusterer fitted on
/// the training rows and applied (`predict` / `predict_proba`) to the others.
pub struct WithClusters {
    pub label: String,
    pub clusterer: Box<dyn Clusterer>,
    pub kind: ClusterFeatures,
}

fn one_hot(labels: &[usize], k: usize) -> Array2<f64> {
    let mut m = Array2::zeros((labels.len(), k));
    for (i, &l) in labels.iter().enumerate() {
        if l < k {
            m[[i, l]] = 1.0;
        }
    }
    m
}

impl FeatureBuilder for WithClusters {
    fn name(&self) -> String {
        match self.kind {
            ClusterFeatures::OneHot => format!("original+clusters:{}", self.label),
            ClusterFeatures::Posteriors => format!("original+posteriors:{}", self.label),
        }
    }
    fn build(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        let wrap = |e: strata_core::AlgoError| features_error(self, e);
        let fitted = self.clusterer.fit(train, seed).map_err(wrap)?;
        let k = fitted.n_clusters();
        let extra = |x: ArrayView2<'_, f64>, own: bool| -> Result<Array2<f64>, NeuralError> {
            match self.kind {
                ClusterFeatures::OneHot => {
                    let labels = if own {
                        fitted.labels().to_vec()
                    } else {
                        fitted.predict(x).map_err(wrap)?.to_vec()
                    };
                    Ok(one_hot(&labels, k))
                }
                ClusterFeatures::Posteriors => fitted.predict_proba(x).map_err(wrap),
            }
        };
        let join = |x: ArrayView2<'_, f64>, e: Array2<f64>| -> Result<Array2<f64>, NeuralError> {
            concatenate(Axis(1), &[x, e.view()]).map_err(|e| features_error(self, e))
        };
        let t = join(train, extra(train, true)?)?;
        let mut out = Vec::new();
        for a in apply {
            out.push(join(*a, extra(*a, false)?)?);
        }
        Ok((t, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_hot_columns() {
        let m = one_hot(&[0, 2, 1, 2], 3);
        assert_eq!(
            m,
            array![[1., 0., 0.], [0., 0., 1.], [0., 1., 0.], [0., 0., 1.]]
        );
    }
}
