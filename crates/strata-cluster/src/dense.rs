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
    strata_core::par::block_columns(out.chunks_exact_mut(n.max(1)))
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
pub(crate) fn load_group(
    data: &[f64],
    n: usize,
    at: usize,
    len: usize,
    group: &mut [[f64; LANES]],
) {
    for (j, g) in group.iter_mut().enumerate() {
        let from = j * n + at;
        copy_lanes(&mut g[..len], &data[from..from + len]);
    }
}

/// Copies `src` into `dst` (equal lengths, at most [`LANES`]): a full group
/// as vector moves, not a call to memmove.
#[inline(always)]
pub(crate) fn copy_lanes<T: Copy>(dst: &mut [T], src: &[T]) {
    match (
        <&mut [T; LANES]>::try_from(&mut *dst),
        <&[T; LANES]>::try_from(src),
    ) {
        // Four lanes at a time: small fixed copies are single vector moves,
        // where a whole-group copy could become a call to memmove (and an
        // element loop stayed scalar in some callers).
        (Ok(d), Ok(s)) => {
            for (a, b) in d.as_chunks_mut::<4>().0.iter_mut().zip(s.as_chunks::<4>().0) {
                *a = *b;
            }
        }
        _ => dst.copy_from_slice(src),
    }
}

/// The variance of each column (divided by the number of rows) averaged
/// over the columns, as scikit-learn's tolerance scale `mean(var(X, axis=0))`:
/// two passes per column (mean, then squared deviations), each summed in
/// eight interleaved partial sums added in order, columns in parallel.
pub(crate) fn mean_column_variance(x: Cols<'_>) -> f64 {
    use rayon::prelude::*;
    if x.n == 0 || x.d == 0 {
        return 0.0;
    }
    let n = x.n as f64;
    let vars: Vec<f64> = (0..x.d)
        .into_par_iter()
        .map(|j| {
            let col = x.col(j);
            let mean = sum8(col, |v| v) / n;
            sum8(col, |v| (v - mean) * (v - mean)) / n
        })
        .collect();
    vars.iter().fold(0.0, |t, &v| t + v) / x.d as f64
}

/// The sum of `f` over `col` in eight interleaved partial sums (element `i`
/// goes to sum `i % 8`), added in order, then the tail.
#[inline(always)]
fn sum8(col: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = col.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    let tail = chunks.remainder().iter().fold(0.0, |t, &v| t + f(v));
    acc.iter().fold(0.0, |t, &v| t + v) + tail
}

/// Rows ahead of the current group that [`prefetch_rows`] asks for: far
/// enough for the loads to arrive before the kernels reach them.
pub(crate) const PREFETCH_AHEAD: usize = 8 * LANES;

/// Asks the CPU to start loading the [`LANES`] values from row `at` of each
/// of the `cols` columns of `data` (`n` rows) into cache. The kernels read
/// many columns at once, more streams than the hardware prefetcher follows.
/// Rows past the end are skipped; results never depend on it.
#[inline(always)]
pub(crate) fn prefetch_rows(data: &[f64], n: usize, cols: usize, at: usize) {
    #[cfg(target_arch = "x86_64")]
    if at + LANES <= n {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        for j in 0..cols {
            let p = data[j * n + at..].as_ptr() as *const i8;
            // Two cache lines: the group's 16 values.
            // SAFETY: SSE is part of every x86_64 CPU, and a prefetch never
            // faults, whatever the address.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(p);
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, n, cols, at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_column_variance_is_the_population_variance() {
        let x = ndarray::Array2::from_shape_fn((1003, 3), |(i, j)| {
            ((i * 37 + j * 11) % 101) as f64 * (j + 1) as f64
        });
        let t = column_major(x.view());
        let want = x.var_axis(ndarray::Axis(0), 0.0).mean().unwrap_or(f64::NAN);
        let got = mean_column_variance(cols_of(&t));
        assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        let one = ndarray::Array2::from_elem((1, 4), 2.5);
        assert_eq!(
            mean_column_variance(cols_of(&column_major(one.view()))),
            0.0
        );
    }

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
