//! Per-representation metrics the study compares.

use crate::linalg;
use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};
use strata_core::{AlgoError, FittedReducer};

/// What a representation keeps of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepresentationMetrics {
    pub n_components: usize,
    /// Mean squared error per element of `inverse_transform(transform(x))`.
    pub reconstruction_error: f64,
    /// Excess kurtosis of each output column.
    pub kurtosis: Array1<f64>,
}

/// Reconstruction error and kurtosis of a fitted reducer on `x`.
pub fn evaluate(
    reducer: &dyn FittedReducer,
    x: ArrayView2<'_, f64>,
) -> Result<RepresentationMetrics, AlgoError> {
    let y = reducer.transform(x)?;
    let back = reducer.inverse_transform(y.view())?;
    Ok(RepresentationMetrics {
        n_components: reducer.n_components(),
        reconstruction_error: linalg::mean_squared_error(x, back.view()),
        kurtosis: linalg::excess_kurtosis(y.view()),
    })
}

/// Excess kurtosis of each column (0 for Gaussian data).
pub fn kurtosis(y: ArrayView2<'_, f64>) -> Array1<f64> {
    linalg::excess_kurtosis(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Components, Pca};
    use ndarray::Array2;
    use strata_core::{Reducer, Rng, Seed};

    #[test]
    fn fewer_components_reconstruct_worse() {
        let mut r = Rng::new(Seed(9));
        let x = Array2::from_shape_fn((500, 6), |(_, j)| r.normal() * (6 - j) as f64);
        let mut last = -1.0;
        for k in (1..=6).rev() {
            let f = Reducer::fit(&Pca::new(Components::Count(k)), x.view(), Seed(0)).unwrap();
            let m = evaluate(f.as_ref(), x.view()).unwrap();
            assert!(m.reconstruction_error >= last - 1e-12, "k={k}");
            last = m.reconstruction_error;
            assert_eq!(m.kurtosis.len(), k);
        }
        assert!(last > 0.5);
    }
}
