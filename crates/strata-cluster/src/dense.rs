//! Dense-matrix helpers shared by the clustering kernels: a column-major view
//! (consecutive rows of a feature are one vector load) and groups of rows.

use ndarray::{ArrayView2, CowArray, Ix2};

/// A matrix stored column by column: column `j` of its `n` rows is
/// `data[j * n..(j + 1) * n]`. The assignment kernels read it so that a
/// vector of consecutive rows is one contiguous load.
#[derive(Clone, Copy)]
pub(crate) struct Cols<'a> {
    pub(crate) data: &'a [f64],
    pub(crate) n: usize,
    pub(crate) d: usize,
}

impl<'a> Cols<'a> {
    /// Column `j`.
    pub(crate) fn col(&self, j: usize) -> &'a [f64] {
        &self.data[j * self.n..(j + 1) * self.n]
    }

    /// Squared distance of row `i` to `c`, summed over the features in order.
    #[inline]
    pub(crate) fn sq_dist_to(&self, i: usize, c: &[f64]) -> f64 {
        let mut s = 0.0;
        for (j, &cj) in c.iter().enumerate().take(self.d) {
            let t = self.data[j * self.n + i] - cj;
            s += t * t;
        }
        s
    }

    /// Row `i` as a vector.
    pub(crate) fn row(&self, i: usize) -> Vec<f64> {
        (0..self.d).map(|j| self.data[j * self.n + i]).collect()
    }
}

/// `x` transposed into standard layout (its columns contiguous); borrowed
/// when `x` is already column-major, as tables from polars are.
pub(crate) fn column_major<'a>(x: ArrayView2<'a, f64>) -> CowArray<'a, f64, Ix2> {
    let (n, d) = x.dim();
    if let Some(xs) = x.as_slice()
        && d > 1
        && n > 1
    {
        return CowArray::from(transpose_rows(xs, n, d));
    }
    let t = x.reversed_axes();
    if t.is_standard_layout() {
        CowArray::from(t)
    } else {
        CowArray::from(t.as_standard_layout().into_owned())
    }
}

/// The d x n transpose of a row-major n x d matrix, by blocks of rows in
/// parallel: each row is read once and its values go to the d columns, which
/// each block writes sequentially.
fn transpose_rows(xs: &[f64], n: usize, d: usize) -> ndarray::Array2<f64> {
    use rayon::prelude::*;
    use strata_core::par::BLOCK_ROWS;
    let mut out = vec![0.0; n * d];
    let mut per_block: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(BLOCK_ROWS))
        .map(|_| Vec::with_capacity(d))
        .collect();
    for col in out.chunks_exact_mut(n) {
        for (slices, part) in per_block.iter_mut().zip(col.chunks_mut(BLOCK_ROWS)) {
            slices.push(part);
        }
    }
    per_block
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut cols)| {
            let a = b * BLOCK_ROWS;
            let len = cols.first().map_or(0, |c| c.len());
            for (i, row) in xs[a * d..(a + len) * d].chunks_exact(d).enumerate() {
                for (c, &v) in cols.iter_mut().zip(row) {
                    c[i] = v;
                }
            }
        });
    ndarray::Array2::from_shape_vec((d, n), out).unwrap_or_else(|_| ndarray::Array2::zeros((d, n)))
}

/// The column view of a [`column_major`] array.
pub(crate) fn cols_of<'a>(t: &'a CowArray<'_, f64, Ix2>) -> Cols<'a> {
    Cols {
        data: t.as_slice().unwrap_or(&[]),
        n: t.ncols(),
        d: t.nrows(),
    }
}

/// Rows handled together by the assignment kernel (four AVX2 vectors).
pub(crate) const LANES: usize = 16;

/// Copies `len` (at most [`LANES`]) consecutive rows from row `at` of the
/// column-major `data` (`n` rows) into `group`, feature by feature; lanes past
/// `len` keep their previous values.
#[inline(always)]
// An element-by-element copy of a full group compiles to vector moves; a
// slice copy of it became a call to memmove.
#[allow(clippy::manual_memcpy)]
pub(crate) fn load_group(
    data: &[f64],
    n: usize,
    at: usize,
    len: usize,
    group: &mut [[f64; LANES]],
) {
    for (j, g) in group.iter_mut().enumerate() {
        let from = j * n + at;
        match <&[f64; LANES]>::try_from(&data[from..from + len]) {
            // Element by element: four vector moves, not a call to memmove.
            Ok(full) => {
                for l in 0..LANES {
                    g[l] = full[l];
                }
            }
            Err(_) => g[..len].copy_from_slice(&data[from..from + len]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_major_copies_are_the_transpose() {
        let n = 2 * strata_core::par::BLOCK_ROWS + 3;
        let x = ndarray::Array2::from_shape_fn((n, 5), |(i, j)| (i * 7 + j) as f64);
        for view in [x.view(), x.t().as_standard_layout().reversed_axes().view()] {
            let t = column_major(view);
            assert_eq!(t.dim(), (5, n));
            assert!(t.is_standard_layout());
            assert_eq!(t.view(), x.t());
        }
        // A column-major view is borrowed, not copied.
        let f = x.t().as_standard_layout().into_owned();
        assert_eq!(column_major(f.view().reversed_axes()).as_ptr(), f.as_ptr());
    }
}
