//! The in-memory dataset every estimator consumes.

use crate::error::DatasetError;
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

/// A binary target (1 = positive, for example "responded to the campaign").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryTarget {
    /// Column the target came from.
    pub name: String,
    /// One value per row, each 0 or 1.
    pub values: Array1<u8>,
}

impl BinaryTarget {
    /// Number of positive rows.
    pub fn positives(&self) -> usize {
        self.values.iter().filter(|&&v| v == 1).count()
    }

    /// Share of positive rows (0 for an empty target).
    pub fn positive_rate(&self) -> f64 {
        if self.values.is_empty() {
            0.0
        } else {
            self.positives() as f64 / self.values.len() as f64
        }
    }
}

/// Campaign economics, one value per row: what contacting a customer costs and
/// what a response brings in. Usually constant columns of the source table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Economics {
    pub cost_per_contact: Array1<f64>,
    pub revenue_per_response: Array1<f64>,
}

impl Economics {
    /// The cost and revenue when they are the same for every row.
    pub fn constant(&self) -> Option<(f64, f64)> {
        let c = *self.cost_per_contact.first()?;
        let r = *self.revenue_per_response.first()?;
        let same = self.cost_per_contact.iter().all(|&v| v == c)
            && self.revenue_per_response.iter().all(|&v| v == r);
        same.then_some((c, r))
    }
}

/// Model features (rows are samples) with everything needed to interpret them.
///
/// Invariants, checked by [`Dataset::new`]: one name per feature column, names
/// unique, one id per row, target and economics (when present) one entry per
/// row, target values 0 or 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Dataset name (from its descriptor).
    pub name: String,
    features: Array2<f64>,
    feature_names: Vec<String>,
    ids: Vec<String>,
    target: Option<BinaryTarget>,
    economics: Option<Economics>,
}

impl Dataset {
    /// Builds a dataset, checking the invariants above.
    pub fn new(
        name: impl Into<String>,
        features: Array2<f64>,
        feature_names: Vec<String>,
        ids: Vec<String>,
        target: Option<BinaryTarget>,
        economics: Option<Economics>,
    ) -> Result<Self, DatasetError> {
        let n = features.nrows();
        if feature_names.len() != features.ncols() {
            return Err(DatasetError::NamesMismatch {
                expected: features.ncols(),
                got: feature_names.len(),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for f in &feature_names {
            if !seen.insert(f.as_str()) {
                return Err(DatasetError::DuplicateName(f.clone()));
            }
        }
        if ids.len() != n {
            return Err(DatasetError::LengthMismatch {
                what: "ids",
                expected: n,
                got: ids.len(),
            });
        }
        if let Some(t) = &target {
            if t.values.len() != n {
                return Err(DatasetError::LengthMismatch {
                    what: "target",
                    expected: n,
                    got: t.values.len(),
                });
            }
            if let Some((row, &value)) = t.values.iter().enumerate().find(|(_, v)| **v > 1) {
                return Err(DatasetError::NonBinaryTarget {
                    name: t.name.clone(),
                    row,
                    value,
                });
            }
        }
        if let Some(e) = &economics {
            for (what, len) in [
                ("cost_per_contact", e.cost_per_contact.len()),
                ("revenue_per_response", e.revenue_per_response.len()),
            ] {
                if len != n {
                    return Err(DatasetError::LengthMismatch {
                        what,
                        expected: n,
                        got: len,
                    });
                }
            }
        }
        Ok(Dataset {
            name: name.into(),
            features,
            feature_names,
            ids,
            target,
            economics,
        })
    }

    pub fn features(&self) -> &Array2<f64> {
        &self.features
    }
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }
    pub fn ids(&self) -> &[String] {
        &self.ids
    }
    pub fn target(&self) -> Option<&BinaryTarget> {
        self.target.as_ref()
    }
    pub fn economics(&self) -> Option<&Economics> {
        self.economics.as_ref()
    }
    pub fn n_samples(&self) -> usize {
        self.features.nrows()
    }
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// Index of a feature by name.
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.feature_names.iter().position(|n| n == name)
    }

    /// The rows at `indices`, in that order (a fold, a bootstrap resample...).
    pub fn select_rows(&self, indices: &[usize]) -> Result<Dataset, DatasetError> {
        let n = self.n_samples();
        if let Some(&index) = indices.iter().find(|&&i| i >= n) {
            return Err(DatasetError::RowOutOfRange { index, n_rows: n });
        }
        let pick_f = |a: &Array1<f64>| a.select(Axis(0), indices);
        Ok(Dataset {
            name: self.name.clone(),
            features: self.features.select(Axis(0), indices),
            feature_names: self.feature_names.clone(),
            ids: indices.iter().map(|&i| self.ids[i].clone()).collect(),
            target: self.target.as_ref().map(|t| BinaryTarget {
                name: t.name.clone(),
                values: t.values.select(Axis(0), indices),
            }),
            economics: self.economics.as_ref().map(|e| Economics {
                cost_per_contact: pick_f(&e.cost_per_contact),
                revenue_per_response: pick_f(&e.revenue_per_response),
            }),
        })
    }

    /// The feature matrix, dropping the rest.
    pub fn into_features(self) -> Array2<f64> {
        self.features
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn small() -> Dataset {
        Dataset::new(
            "t",
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            names(&["a", "b"]),
            names(&["r0", "r1", "r2"]),
            Some(BinaryTarget {
                name: "y".into(),
                values: array![0, 1, 1],
            }),
            Some(Economics {
                cost_per_contact: array![3.0, 3.0, 3.0],
                revenue_per_response: array![11.0, 11.0, 11.0],
            }),
        )
        .unwrap()
    }

    #[test]
    fn invariants_are_checked() {
        let x = array![[1.0, 2.0]];
        assert_eq!(
            Dataset::new("t", x.clone(), names(&["a"]), names(&["r"]), None, None),
            Err(DatasetError::NamesMismatch {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            Dataset::new(
                "t",
                x.clone(),
                names(&["a", "a"]),
                names(&["r"]),
                None,
                None
            ),
            Err(DatasetError::DuplicateName("a".into()))
        );
        assert!(matches!(
            Dataset::new("t", x.clone(), names(&["a", "b"]), vec![], None, None),
            Err(DatasetError::LengthMismatch { what: "ids", .. })
        ));
        let bad = BinaryTarget {
            name: "y".into(),
            values: array![2],
        };
        assert!(matches!(
            Dataset::new("t", x, names(&["a", "b"]), names(&["r"]), Some(bad), None),
            Err(DatasetError::NonBinaryTarget {
                row: 0,
                value: 2,
                ..
            })
        ));
    }

    #[test]
    fn select_rows_keeps_everything_aligned() {
        let d = small();
        let s = d.select_rows(&[2, 0]).unwrap();
        assert_eq!(s.features(), &array![[5.0, 6.0], [1.0, 2.0]]);
        assert_eq!(s.ids(), &names(&["r2", "r0"])[..]);
        assert_eq!(s.target().unwrap().values, array![1, 0]);
        assert_eq!(s.economics().unwrap().constant(), Some((3.0, 11.0)));
        assert!(matches!(
            d.select_rows(&[3]),
            Err(DatasetError::RowOutOfRange {
                index: 3,
                n_rows: 3
            })
        ));
    }

    #[test]
    fn target_rates() {
        let d = small();
        let t = d.target().unwrap();
        assert_eq!(t.positives(), 2);
        assert!((t.positive_rate() - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(d.feature_index("b"), Some(1));
    }
}
