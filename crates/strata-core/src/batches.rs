//! Rows delivered in batches: what an estimator streams over when a table
//! does not fit in memory (`strata_data::ParquetBatches` reads a Parquet
//! file this way; [`InMemory`] slices a matrix).

use crate::AlgoError;
use ndarray::ArrayView2;

/// Rows delivered in batches, always in the same order.
pub trait RowBatches: Sync {
    fn n_features(&self) -> usize;
    /// Visits every row, one batch at a time, in order.
    fn each_batch(&self, f: &mut dyn FnMut(ArrayView2<'_, f64>) -> Result<(), AlgoError>) -> Result<(), AlgoError>;
}

/// A matrix in memory, delivered in batches of `batch` rows (for tests and
/// for comparing with the in-memory fit).
pub struct InMemory<'a> {
    pub x: ArrayView2<'a, f64>,
    pub batch: usize,
}

impl RowBatches for InMemory<'_> {
    fn n_features(&self) -> usize {
        self.x.ncols()
    }
    fn each_batch(&self, f: &mut dyn FnMut(ArrayView2<'_, f64>) -> Result<(), AlgoError>) -> Result<(), AlgoError> {
        let n = self.x.nrows();
        let mut a = 0;
        while a < n {
            let b = (a + self.batch.max(1)).min(n);
            f(self.x.slice(ndarray::s![a..b, ..]))?;
            a = b;
        }
        Ok(())
    }
}

