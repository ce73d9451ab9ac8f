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

    /// [`FeatureBuilder::build`] given the names of the columns, when the
    /// source knows them (a preprocessing recipe fitted on the training
    /// rows); a builder that picks columns by name needs them. By default
    /// the names are not read.
    fn build_named(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        names: Option<&[String]>,
        seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        let _ = names;
        self.build(train, apply, seed)
    }
}

/// Picks the columns a clusterer sees from the names of the prepared
/// columns (indices, in order), or says why it cannot.
pub type ColumnPicker = Box<dyn Fn(&[String]) -> Result<Vec<usize>, String> + Send + Sync>;

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
    /// The columns the clusterer sees, picked by name in every fold (the
    /// segmentation's selection of features); every column when `None`.
    /// The original features joined to the cluster information are always
    /// every column.
    pub columns: Option<ColumnPicker>,
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
        self.build_named(train, apply, None, seed)
    }

    fn build_named(
        &self,
        train: ArrayView2<'_, f64>,
        apply: &[ArrayView2<'_, f64>],
        names: Option<&[String]>,
        seed: Seed,
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>), NeuralError> {
        let wrap = |e: strata_core::AlgoError| features_error(self, e);
        let kept = match (&self.columns, names) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(features_error(
                    self,
                    "the clusterer's columns are picked by name, and this source does not name its columns",
                ));
            }
            (Some(pick), Some(names)) => {
                if names.len() != train.ncols() {
                    return Err(features_error(
                        self,
                        format!("{} column names for {} columns", names.len(), train.ncols()),
                    ));
                }
                Some(pick(names).map_err(|e| features_error(self, e))?)
            }
        };
        // What the clusterer sees of a matrix: the picked columns, or all.
        let seen = |x: ArrayView2<'_, f64>| kept.as_ref().map(|k| x.select(Axis(1), k));
        let seen_train = seen(train);
        let fitted = self
            .clusterer
            .fit(seen_train.as_ref().map_or(train, |m| m.view()), seed)
            .map_err(wrap)?;
        let k = fitted.n_clusters();
        let extra = |x: ArrayView2<'_, f64>, own: bool| -> Result<Array2<f64>, NeuralError> {
            let picked = seen(x);
            let x = picked.as_ref().map_or(x, |m| m.view());
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
    use ndarray::{Array1, array};
    use strata_core::{AlgoError, FittedClusterer};

    /// Two clusters by the sign of the first column it sees; its fits
    /// refuse a matrix of another width than the one they were fitted on.
    struct FirstColumnSign;
    struct Fitted {
        width: usize,
        labels: Array1<usize>,
    }
    fn sign(x: ArrayView2<'_, f64>) -> Array1<usize> {
        x.column(0).mapv(|v| usize::from(v > 0.0))
    }
    impl Clusterer for FirstColumnSign {
        fn name(&self) -> &str {
            "sign"
        }
        fn fit(&self, x: ArrayView2<'_, f64>, _seed: Seed) -> Result<Box<dyn FittedClusterer>, AlgoError> {
            Ok(Box::new(Fitted {
                width: x.ncols(),
                labels: sign(x),
            }))
        }
    }
    impl FittedClusterer for Fitted {
        fn n_clusters(&self) -> usize {
            2
        }
        fn labels(&self) -> &Array1<usize> {
            &self.labels
        }
        fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
            if x.ncols() != self.width {
                return Err(AlgoError::Other(format!("{} columns, fitted on {}", x.ncols(), self.width)));
            }
            Ok(sign(x))
        }
    }

    #[test]
    fn the_clusterer_sees_the_columns_picked_by_name() {
        // Column `a` is negative everywhere, `c` positive: the clusters
        // say which column the clusterer saw first.
        let train = array![[-1.0, 0.5, 2.0], [-2.0, -0.5, 3.0]];
        let test = array![[-3.0, 0.0, 1.0]];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|n| n.to_string()).collect();
        let with = |columns: Option<ColumnPicker>| WithClusters {
            label: "sign".into(),
            clusterer: Box::new(FirstColumnSign),
            kind: ClusterFeatures::OneHot,
            columns,
        };
        let pick_c: ColumnPicker = Box::new(|n: &[String]| Ok(vec![n.iter().position(|x| x == "c").ok_or("no c")?]));
        let (t, applied) = with(Some(pick_c))
            .build_named(train.view(), &[test.view()], Some(&names), Seed(1))
            .expect("features");
        // Every original column, then the one-hot clusters of column `c`.
        assert_eq!(t, array![[-1.0, 0.5, 2.0, 0.0, 1.0], [-2.0, -0.5, 3.0, 0.0, 1.0]]);
        assert_eq!(applied[0], array![[-3.0, 0.0, 1.0, 0.0, 1.0]]);
        // Without a picker, every column: the clusters of column `a`.
        let (t, _) = with(None)
            .build_named(train.view(), &[test.view()], Some(&names), Seed(1))
            .expect("features");
        assert_eq!(t.column(3).to_vec(), [1.0, 1.0]);
        // A picker needs the names, one per column; its own refusal is named.
        let picker = || -> ColumnPicker { Box::new(|_: &[String]| Ok(vec![2])) };
        let e = with(Some(picker())).build(train.view(), &[], Seed(1)).unwrap_err().to_string();
        assert!(e.contains("does not name its columns") && e.contains("original+clusters:sign"), "{e}");
        let e = with(Some(picker()))
            .build_named(train.view(), &[], Some(&names[..2]), Seed(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 column names for 3 columns"), "{e}");
        let refuse: ColumnPicker = Box::new(|_: &[String]| Err("include \"z*\" matches nothing".into()));
        let e = with(Some(refuse))
            .build_named(train.view(), &[], Some(&names), Seed(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("matches nothing"), "{e}");
    }

    #[test]
    fn one_hot_columns() {
        let m = one_hot(&[0, 2, 1, 2], 3);
        assert_eq!(
            m,
            array![[1., 0., 0.], [0., 0., 1.], [0., 1., 0.], [0., 0., 1.]]
        );
    }
}
