//! Dense-matrix helpers shared by the clustering kernels: a column-major view
//! (consecutive rows of a feature are one vector load), and a branch-free
//! exponential that vectorizes.

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

/// e^x without branches, so a loop of it vectorizes: x = n ln 2 + r with
/// |r| <= ln 2 / 2 (Cody-Waite split of ln 2), e^r by its Taylor series to
/// r^13 (truncation below 1e-17), times 2^n built from the exponent bits.
/// Within 2 ulp of the correctly rounded value on [-708, 709]; 0 below
/// -708 (where e^x < 3.4e-308), and only plain additions and multiplications,
/// so the result is the same bits on every x86-64.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^20.
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding 1.5 * 2^52 rounds to the nearest integer, which then sits in the
    // low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    const INV_FACT: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * LOG2E + SHIFT;
    let nf = t - SHIFT;
    let r = (xc - nf * LN2_HI) - nf * LN2_LO;
    let mut p = INV_FACT[13];
    for &c in INV_FACT[..13].iter().rev() {
        p = p * r + c;
    }
    let n = t.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(n.wrapping_add(1023) << 52);
    let v = p * scale;
    if x < -708.0 { 0.0 } else { v }
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

    #[test]
    fn exp_is_within_two_ulp_of_the_standard_library() {
        assert_eq!(exp(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        let mut worst = 0.0f64;
        let mut x = -708.0;
        while x <= 709.0 {
            let (a, b) = (exp(x), x.exp());
            let ulp = f64::from_bits(b.to_bits() + 1) - b;
            worst = worst.max((a - b).abs() / ulp);
            x += 0.0137;
        }
        // Near zero, where mixture responsibilities live.
        for i in 0..100_000 {
            let x = -(i as f64) * 1e-4;
            let (a, b) = (exp(x), x.exp());
            let ulp = f64::from_bits(b.to_bits() + 1) - b;
            worst = worst.max((a - b).abs() / ulp);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }
}
