//! Errors of the classifier and its evaluation.

use strata_core::AlgoError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NeuralError {
    #[error(transparent)]
    Algo(#[from] AlgoError),
    #[error("the target must be binary (0/1); found the values {}", found.join(", "))]
    NotBinary { found: Vec<String> },
    #[error("{features} feature rows but {target} target values; they must match row for row")]
    RowMismatch { features: usize, target: usize },
    #[error(
        "only {positives} positive and {negatives} negative rows for {folds} folds: every fold needs both classes; use at most {max_folds} folds"
    )]
    TooFewPerClass {
        positives: usize,
        negatives: usize,
        folds: usize,
        max_folds: usize,
    },
    #[error(
        "training rows of repeat {repeat}, fold {fold} hold only class {class}: a classifier cannot learn from one class; use fewer folds"
    )]
    SingleClassFold {
        repeat: usize,
        fold: usize,
        class: u8,
    },
    #[error("invalid {name} = {value}: expected {expected}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
    },
    #[error("feature set `{name}`: {message}")]
    Features { name: String, message: String },
    #[error("{model}: {message}")]
    Model { model: String, message: String },
}

impl NeuralError {
    pub(crate) fn param(name: &'static str, value: impl ToString, expected: &str) -> NeuralError {
        NeuralError::InvalidParameter {
            name,
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }
}

/// Checks a target: same length as the features, only 0 and 1.
pub fn check_target(n_rows: usize, y: &[f64]) -> Result<Vec<u8>, NeuralError> {
    if y.len() != n_rows {
        return Err(NeuralError::RowMismatch {
            features: n_rows,
            target: y.len(),
        });
    }
    let mut found: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(y.len());
    let mut bad = false;
    for v in y {
        let s = if v.is_nan() {
            "NaN".to_string()
        } else {
            format!("{v}")
        };
        if !found.contains(&s) && found.len() < 12 {
            found.push(s);
        }
        if *v == 0.0 {
            out.push(0);
        } else if *v == 1.0 {
            out.push(1);
        } else {
            bad = true;
        }
    }
    if bad {
        found.sort();
        return Err(NeuralError::NotBinary { found });
    }
    Ok(out)
}
