//! Errors shared by the estimator crates, and the input checks every estimator runs.

use ndarray::ArrayView2;
use thiserror::Error;

/// What an estimator (reducer, clusterer, classifier) can refuse or fail with.
///
/// Algorithm crates have richer errors of their own and convert them into this
/// type at the trait boundary; the messages always name the parameter, row or
/// column at fault and what was expected.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AlgoError {
    /// A hyperparameter outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {expected}")]
    InvalidParameter {
        name: String,
        value: String,
        expected: String,
    },
    /// A NaN or infinite value in the input.
    #[error(
        "non-finite value {value} at row {row}, column {column} (`{column_name}`); clean or impute the data first"
    )]
    NonFinite {
        row: usize,
        column: usize,
        column_name: String,
        value: f64,
    },
    /// Input with the wrong number of columns for a fitted model.
    #[error("expected {expected} columns (as at fit time) but got {got}")]
    ColumnMismatch { expected: usize, got: usize },
    /// Too few samples for the requested operation.
    #[error("need at least {needed} samples, got {got}{}", context_suffix(.context))]
    TooFewSamples {
        needed: usize,
        got: usize,
        context: String,
    },
    /// A numerical failure with an explanation and a suggestion.
    #[error("numerical problem: {0}")]
    Numerical(String),
    /// The operation does not exist for this estimator (for example an inverse
    /// transform for a non-invertible reducer).
    #[error("`{operation}` is not supported by {estimator}")]
    Unsupported {
        estimator: String,
        operation: String,
    },
    /// Any other failure, with its message.
    #[error("{0}")]
    Other(String),
}

fn context_suffix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!(" ({context})")
    }
}

/// Errors building a [`crate::Dataset`] from parts.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DatasetError {
    #[error("{what} has {got} entries but the feature matrix has {expected} rows")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{got} feature names for {expected} feature columns")]
    NamesMismatch { expected: usize, got: usize },
    #[error("feature name `{0}` appears more than once")]
    DuplicateName(String),
    #[error("target `{name}` must be binary (0/1); found value {value} at row {row}")]
    NonBinaryTarget { name: String, row: usize, value: u8 },
    #[error("row index {index} out of range for a dataset of {n_rows} rows")]
    RowOutOfRange { index: usize, n_rows: usize },
}

/// Fails with [`AlgoError::NonFinite`] naming the first NaN or infinity (row-major
/// order), so the user can find it.
pub fn check_finite(
    x: ArrayView2<'_, f64>,
    column_names: Option<&[String]>,
) -> Result<(), AlgoError> {
    // Fast path: contiguous data in any order, checked without branches; the
    // row-by-row scan below only runs to name the first bad value.
    if x.as_slice_memory_order().is_some_and(all_finite) {
        return Ok(());
    }
    for (row, r) in x.outer_iter().enumerate() {
        for (column, &value) in r.iter().enumerate() {
            if !value.is_finite() {
                let column_name = column_names
                    .and_then(|n| n.get(column))
                    .cloned()
                    .unwrap_or_else(|| format!("#{column}"));
                return Err(AlgoError::NonFinite {
                    row,
                    column,
                    column_name,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// Whether every value is finite: `v * 0.0` is 0 for a finite value and NaN
/// otherwise, summed in eight independent lanes, so the loop vectorizes on any
/// x86-64 (and uses AVX2 where the CPU has it).
pub fn all_finite(values: &[f64]) -> bool {
    use rayon::prelude::*;
    // Large inputs are checked in parallel chunks (the answer is the same).
    const CHUNK: usize = 1 << 16;
    if values.len() > CHUNK {
        values.par_chunks(CHUNK).all(all_finite_simd)
    } else {
        all_finite_simd(values)
    }
}

#[inline(always)]
fn all_finite_body(values: &[f64]) -> bool {
    const L: usize = 8;
    values.chunks(4096).all(|c| {
        let mut acc = [0.0f64; L];
        let mut it = c.chunks_exact(L);
        for g in &mut it {
            for l in 0..L {
                acc[l] += g[l] * 0.0;
            }
        }
        let tail = it.remainder().iter().fold(0.0, |a, v| a + v * 0.0);
        acc.iter().fold(tail, |a, v| a + v) == 0.0
    })
}

crate::simd_dispatch!(fn all_finite_simd(values: &[f64]) -> bool => all_finite_body);

/// Fails with [`AlgoError::ColumnMismatch`] when `x` has not `expected` columns.
pub fn check_columns(x: ArrayView2<'_, f64>, expected: usize) -> Result<(), AlgoError> {
    if x.ncols() == expected {
        Ok(())
    } else {
        Err(AlgoError::ColumnMismatch {
            expected,
            got: x.ncols(),
        })
    }
}

/// Fails with [`AlgoError::TooFewSamples`] when `x` has fewer than `needed` rows.
pub fn check_min_samples(
    x: ArrayView2<'_, f64>,
    needed: usize,
    context: &str,
) -> Result<(), AlgoError> {
    if x.nrows() >= needed {
        Ok(())
    } else {
        Err(AlgoError::TooFewSamples {
            needed,
            got: x.nrows(),
            context: context.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn finite_check_names_the_cell() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN]];
        let names = vec!["a".to_string(), "b".to_string()];
        let err = check_finite(x.view(), Some(&names)).unwrap_err();
        match &err {
            AlgoError::NonFinite {
                row,
                column,
                column_name,
                value,
            } => {
                assert_eq!((*row, *column, column_name.as_str()), (1, 1, "b"));
                assert!(value.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("row 1, column 1 (`b`)"), "{err}");
        assert!(check_finite(array![[1.0]].view(), None).is_ok());
    }

    #[test]
    fn all_finite_spots_every_kind_of_bad_value() {
        let mut v = vec![1.0; 5000];
        assert!(all_finite(&v));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            v[4321] = bad;
            assert!(!all_finite(&v));
        }
        v[4321] = f64::MAX;
        assert!(all_finite(&v));
        v[4321] = -0.0;
        assert!(all_finite(&v) && all_finite(&[]));
    }

    #[test]
    fn shape_checks() {
        let x = array![[1.0, 2.0]];
        assert!(check_columns(x.view(), 2).is_ok());
        assert_eq!(
            check_columns(x.view(), 3),
            Err(AlgoError::ColumnMismatch {
                expected: 3,
                got: 2
            })
        );
        let e = check_min_samples(x.view(), 2, "PCA").unwrap_err();
        assert_eq!(e.to_string(), "need at least 2 samples, got 1 (PCA)");
    }
}
