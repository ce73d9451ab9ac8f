//! Numerical building blocks shared by the reducers.
//!
//! Row-parallel work is split into fixed blocks of rows whose partial results
//! are combined in block order, so sums are the same whatever the number of
//! threads. Dense factorizations (symmetric eigen, SVD) go through faer,
//! sequentially, on small d x d matrices.

use faer::Mat;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder, s};
use rayon::prelude::*;

pub use strata_core::par::{BLOCK_ROWS, blocked_sum};

/// `blocked_sum` for arrays.
pub(crate) fn blocked_array_sum<D, F>(n: usize, f: F) -> Option<ndarray::Array<f64, D>>
where
    D: ndarray::Dimension,
    F: Fn(usize, usize) -> ndarray::Array<f64, D> + Sync,
{
    blocked_sum(n, f, |acc, p| *acc += &p)
}

/// Column means.
pub fn column_means(x: ArrayView2<'_, f64>) -> Array1<f64> {
    let n = x.nrows();
    let sums = blocked_array_sum(n, |a, b| x.slice(s![a..b, ..]).sum_axis(Axis(0)))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    sums / n.max(1) as f64
}

/// Widths up to which the hand-written row kernels beat a general matrix
/// product (whose packing overhead dominates for narrow matrices).
const SMALL: usize = 64;

/// [`mean_and_scatter`], failing like `check_finite` (naming the first bad
/// cell) when the data hold a NaN or an infinity: the sums are finite exactly
/// when the values are (barring overflow, reported too), so no extra pass.
pub fn checked_mean_and_scatter(
    x: ArrayView2<'_, f64>,
    names: Option<&[String]>,
) -> Result<(Array1<f64>, Array2<f64>), strata_core::AlgoError> {
    let (m, g) = mean_and_scatter(x);
    if m.iter().chain(g.iter()).all(|v| v.is_finite()) {
        return Ok((m, g));
    }
    strata_core::check_finite(x, names)?;
    Err(strata_core::AlgoError::Numerical(
        "sums overflow: values are too large; rescale the data".into(),
    ))
}

/// Fails like `check_finite` on `x` when the output `y` computed from it holds
/// a non-finite value; free when it does not (a pass over the narrower `y`).
pub fn check_output(
    x: ArrayView2<'_, f64>,
    y: &Array2<f64>,
    names: Option<&[String]>,
) -> Result<(), strata_core::AlgoError> {
    if y.as_slice_memory_order()
        .map_or_else(|| y.iter().all(|v| v.is_finite()), strata_core::all_finite)
    {
        return Ok(());
    }
    strata_core::check_finite(x, names)?;
    Err(strata_core::AlgoError::Numerical(
        "the projection overflowed: values are too large; rescale the data".into(),
    ))
}

/// Column means and the scatter matrix `(x - mean)^T (x - mean)` (d x d).
///
/// Narrow data (d <= 64) take one pass: sums and scatter around the first
/// row (a shift that keeps the cancellation harmless), corrected to the mean
/// at the end. Wider data use two passes and a general matrix product.
pub fn mean_and_scatter(x: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
    let (n, d) = x.dim();
    if n == 0 {
        return (Array1::zeros(d), Array2::zeros((d, d)));
    }
    if d > SMALL {
        let mean = column_means(x);
        let g = blocked_array_sum(n, |a, b| {
            let c = &x.slice(s![a..b, ..]) - &mean;
            c.t().dot(&c)
        })
        .unwrap_or_else(|| Array2::zeros((d, d)));
        return (mean, g);
    }
    let shift: Vec<f64> = x.row(0).iter().copied().collect();
    let acc = blocked_array_sum(n, |a, b| gram_block_small(x.slice(s![a..b, ..]), &shift))
        .unwrap_or_else(|| Array1::zeros(d + d * d));
    let sums = acc.slice(s![..d]);
    let nf = n as f64;
    let mean = Array1::from_shape_fn(d, |j| shift[j] + sums[j] / nf);
    let mut g = Array2::zeros((d, d));
    for a in 0..d {
        for b in a..d {
            let v = acc[d + a * d + b] - sums[a] * sums[b] / nf;
            g[[a, b]] = v;
            g[[b, a]] = v;
        }
    }
    (mean, g)
}

/// The scatter matrix around a given mean (two passes; see `mean_and_scatter`).
pub fn centered_gram(x: ArrayView2<'_, f64>, mean: &Array1<f64>) -> Array2<f64> {
    let d = x.ncols();
    blocked_array_sum(x.nrows(), |a, b| {
        let c = &x.slice(s![a..b, ..]) - mean;
        c.t().dot(&c)
    })
    .unwrap_or_else(|| Array2::zeros((d, d)))
}

use std::mem::MaybeUninit;
use strata_core::simd_dispatch;

simd_dispatch!(fn project_fixed<const D: usize, const K: usize>(xs: &[f64], mu: &[f64], w: &[f64], out: &mut [f64]) => project_fixed_body);
simd_dispatch!(fn project_dynamic(xs: &[f64], mu: &[f64], w: &[f64], k: usize, out: &mut [f64]) => project_dynamic_body);

/// Rows of a block as one contiguous slice (copied only if the view is strided).
fn rows_slice<'a>(xb: &'a ArrayView2<'_, f64>, owned: &'a mut Option<Array2<f64>>) -> &'a [f64] {
    if let Some(s) = xb.as_slice() {
        return s;
    }
    let o = owned.insert(xb.as_standard_layout().into_owned());
    o.as_slice().unwrap_or(&[])
}

/// `(x - mean) · m` for a block with `D` inputs and `K` outputs known at compile time.
#[inline(always)]
fn project_fixed_body<const D: usize, const K: usize>(
    xs: &[f64],
    mu: &[f64],
    w: &[f64],
    out: &mut [f64],
) {
    let mut wt = [[0.0f64; K]; D];
    for j in 0..D {
        wt[j].copy_from_slice(&w[j * K..(j + 1) * K]);
    }
    let mut m = [0.0f64; D];
    m.copy_from_slice(&mu[..D]);
    for (row, o) in xs.chunks_exact(D).zip(out.chunks_exact_mut(K)) {
        let Ok(row) = <&[f64; D]>::try_from(row) else {
            continue;
        };
        let mut acc = [0.0f64; K];
        for j in 0..D {
            let c = row[j] - m[j];
            for l in 0..K {
                acc[l] += c * wt[j][l];
            }
        }
        o.copy_from_slice(&acc);
    }
}

/// Any width up to `SMALL`, without compile-time sizes.
#[inline(always)]
fn project_dynamic_body(xs: &[f64], mu: &[f64], w: &[f64], k: usize, out: &mut [f64]) {
    let d = mu.len();
    for (row, o) in xs.chunks_exact(d).zip(out.chunks_exact_mut(k)) {
        o.iter_mut().for_each(|v| *v = 0.0);
        for ((&x, &m), wrow) in row.iter().zip(mu).zip(w.chunks_exact(k)) {
            let c = x - m;
            for (v, &wv) in o.iter_mut().zip(wrow) {
                *v += c * wv;
            }
        }
    }
}

use strata_core::kernels::{CH, LN, padded_width, upper_tile_products};

/// Columns of `x` as slices when each is contiguous (a column-major table,
/// as polars gives), so chunks are read in place.
fn column_slices<'a>(x: &ArrayView2<'a, f64>) -> Option<Vec<&'a [f64]>> {
    (0..x.ncols())
        .map(|j| (*x).index_axis_move(Axis(1), j).to_slice())
        .collect()
}

/// Copies the rows `r..r + len` of `x` (any layout, read row by row)
/// feature by feature into `buf`, minus `center`; the lanes past `len` are
/// zeroed. Column slices go through [`fill_cols`] instead.
fn fill_chunk(x: ArrayView2<'_, f64>, r: usize, len: usize, center: &[f64], buf: &mut [[f64; CH]]) {
    for (t, row) in x.slice(s![r..r + len, ..]).outer_iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            buf[j][t] = e - center[j];
        }
    }
    zero_past(buf, x.ncols(), len);
}

/// Zeroes the lanes past `len` of the first `d` rows of `buf`.
#[inline(always)]
fn zero_past(buf: &mut [[f64; CH]], d: usize, len: usize) {
    for b in buf.iter_mut().take(d) {
        b[len..].iter_mut().for_each(|o| *o = 0.0);
    }
}

/// [`fill_chunk`] from the column slices of `x`: each value minus its
/// column's `center`, the lanes past `len` zeroed.
#[inline(always)]
fn fill_cols(cols: &[&[f64]], r: usize, len: usize, center: &[f64], buf: &mut [[f64; CH]]) {
    for ((b, c), &m) in buf.iter_mut().zip(cols).zip(center) {
        match <&[f64; CH]>::try_from(&c[r..r + len]) {
            Ok(full) => {
                for t in 0..CH {
                    b[t] = full[t] - m;
                }
            }
            Err(_) => {
                for (o, &e) in b.iter_mut().zip(&c[r..r + len]) {
                    *o = e - m;
                }
            }
        }
    }
    zero_past(buf, cols.len(), len);
}

/// [`fill_chunk`] from column slices then [`gram_chunk`], in one vectorized
/// call.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gram_cols_chunk_body(
    cols: &[&[f64]],
    r: usize,
    len: usize,
    center: &[f64],
    buf: &mut [[f64; CH]],
    dp: usize,
    acc: &mut [[f64; LN]],
    sums: &mut [[f64; LN]],
) {
    fill_cols(cols, r, len, center, buf);
    gram_chunk_body(buf, cols.len(), dp, acc, sums);
}

simd_dispatch!(fn gram_cols_chunk(cols: &[&[f64]], r: usize, len: usize, center: &[f64], buf: &mut [[f64; CH]], dp: usize, acc: &mut [[f64; LN]], sums: &mut [[f64; LN]]) => gram_cols_chunk_body);

/// Adds one chunk's column sums and products into per-lane accumulators:
/// `sums[j]`, and `acc[i * dp + j]` for the upper triangle (j >= i, in tiles
/// of `TI` x `TJ` whose accumulators stay in registers). `buf` has `dp` rows,
/// those past `d` zero, so tiles never need a bound.
#[inline(always)]
fn gram_chunk_body(
    buf: &[[f64; CH]],
    d: usize,
    dp: usize,
    acc: &mut [[f64; LN]],
    sums: &mut [[f64; LN]],
) {
    for (s, row) in sums.iter_mut().zip(buf).take(d) {
        for v in 0..CH / LN {
            for l in 0..LN {
                s[l] += row[v * LN + l];
            }
        }
    }
    upper_tile_products(buf, buf, d, dp, acc);
}

simd_dispatch!(fn gram_chunk(buf: &[[f64; CH]], d: usize, dp: usize, acc: &mut [[f64; LN]], sums: &mut [[f64; LN]]) => gram_chunk_body);

/// Column sums and upper-triangle scatter of the rows of `xb` (any layout)
/// around `shift`: the sums, then the d x d scatter (upper triangle filled).
/// Chunks of rows go feature by feature into a small buffer; each pair of
/// features accumulates in vector lanes, added in lane order at the end, so
/// the result depends on the rows only, never on the layout or the threads.
fn gram_block_small(xb: ArrayView2<'_, f64>, shift: &[f64]) -> Array1<f64> {
    let (nb, d) = xb.dim();
    let dp = padded_width(d);
    let mut buf = vec![[0.0f64; CH]; dp];
    let mut acc = vec![[0.0f64; LN]; dp * dp];
    let mut sums = vec![[0.0f64; LN]; dp];
    let cols = column_slices(&xb);
    for r in (0..nb).step_by(CH) {
        let len = CH.min(nb - r);
        match cols.as_deref() {
            Some(cols) => {
                gram_cols_chunk(cols, r, len, shift, &mut buf, dp, &mut acc, &mut sums);
            }
            None => {
                fill_chunk(xb, r, len, shift, &mut buf);
                gram_chunk(&buf, d, dp, &mut acc, &mut sums);
            }
        }
    }
    let lanes = |a: &[f64; LN]| a.iter().fold(0.0, |t, &v| t + v);
    let mut out = Array1::zeros(d + d * d);
    for j in 0..d {
        out[j] = lanes(&sums[j]);
        for i in 0..=j {
            out[d + i * d + j] = lanes(&acc[i * dp + j]);
        }
    }
    out
}

/// One chunk of `x · w - offset` into the k output columns `out`, rows
/// `r..r + len`, from the chunk's d columns `cols` (each `len` long): each
/// output accumulates over the features in order, from 0.0, as the row
/// kernels do, then takes its offset off. Every output of the chunk is
/// written (`out` may start uninitialised).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn project_chunk_body(
    cols: &[&[f64]],
    w: &[f64],
    offset: &[f64],
    k: usize,
    out: &mut [&mut [MaybeUninit<f64>]],
    r: usize,
    len: usize,
) -> bool {
    const G: usize = 16;
    let full = len / G * G;
    // v * 0.0 is 0 for a finite v and NaN otherwise: the outputs' finiteness
    // is checked as they are stored.
    let mut bad = [0.0f64; G];
    // Two outputs at a time share the loads of the inputs.
    let mut pairs = out.chunks_exact_mut(2);
    for (q, pair) in (&mut pairs).enumerate() {
        let o = 2 * q;
        for g in (0..full).step_by(G) {
            let mut acc0 = [0.0f64; G];
            let mut acc1 = [0.0f64; G];
            for (c, wj) in cols.iter().zip(w.chunks_exact(k)) {
                let (w0, w1) = (wj[o], wj[o + 1]);
                let Ok(v) = <&[f64; G]>::try_from(&c[g..g + G]) else {
                    continue;
                };
                for l in 0..G {
                    acc0[l] += v[l] * w0;
                    acc1[l] += v[l] * w1;
                }
            }
            let (f0, f1) = (offset[o], offset[o + 1]);
            for ((e, a), b) in pair[0][r + g..r + g + G].iter_mut().zip(acc0).zip(&mut bad) {
                let v = a - f0;
                e.write(v);
                *b += v * 0.0;
            }
            for ((e, a), b) in pair[1][r + g..r + g + G].iter_mut().zip(acc1).zip(&mut bad) {
                let v = a - f1;
                e.write(v);
                *b += v * 0.0;
            }
        }
    }
    let done = k / 2 * 2;
    for (o, col) in out.iter_mut().enumerate().take(k).skip(done) {
        for g in (0..full).step_by(G) {
            let mut acc = [0.0f64; G];
            for (c, wj) in cols.iter().zip(w.chunks_exact(k)) {
                let wv = wj[o];
                let Ok(v) = <&[f64; G]>::try_from(&c[g..g + G]) else {
                    continue;
                };
                for l in 0..G {
                    acc[l] += v[l] * wv;
                }
            }
            for ((e, a), b) in col[r + g..r + g + G].iter_mut().zip(acc).zip(&mut bad) {
                let v = a - offset[o];
                e.write(v);
                *b += v * 0.0;
            }
        }
    }
    for (o, col) in out.iter_mut().enumerate().take(k) {
        for i in full..len {
            let mut a = 0.0;
            for (c, wj) in cols.iter().zip(w.chunks_exact(k)) {
                a += c[i] * wj[o];
            }
            let v = a - offset[o];
            col[r + i].write(v);
            bad[0] += v * 0.0;
        }
    }
    bad.iter().fold(0.0, |s, &v| s + v) == 0.0
}

simd_dispatch!(fn project_chunk(cols: &[&[f64]], w: &[f64], offset: &[f64], k: usize, out: &mut [&mut [MaybeUninit<f64>]], r: usize, len: usize) -> bool => project_chunk_body);

/// `(x - mean) · m` (m is d x k), by blocks of rows in parallel. A
/// column-major `x` (narrow: d, k <= 64) is read in place and gives a
/// column-major result; a row-major `x` goes through the row kernels and
/// gives a row-major one. Computed as `x · m - mean · m` (as
/// scikit-learn does), so a column-major `x` is read in place; the numbers
/// do not depend on the layout of `x` nor on the threads. A non-finite
/// output fails like `check_finite` on `x` (see [`check_output`]); each block
/// checks its own output while it is in cache.
pub fn project_columns(
    x: ArrayView2<'_, f64>,
    mean: Option<&Array1<f64>>,
    m: &Array2<f64>,
    names: Option<&[String]>,
) -> Result<Array2<f64>, strata_core::AlgoError> {
    let (n, d) = x.dim();
    let k = m.ncols();
    if d > SMALL || k > SMALL || d == 0 {
        let y = project(x, mean, m);
        check_output(x, &y, names)?;
        return Ok(y);
    }
    let w: Vec<f64> = m.iter().copied().collect(); // row-major d x k
    // mean · m, each output summed over the features in order.
    let offset: Vec<f64> = match mean {
        Some(mu) => (0..k)
            .map(|o| {
                mu.iter()
                    .zip(w.chunks_exact(k))
                    .fold(0.0, |acc, (&v, wj)| acc + v * wj[o])
            })
            .collect(),
        None => vec![0.0; k],
    };
    let Some(cols) = column_slices(&x) else {
        // Row-major data: the row kernels, then the same offsets off (the
        // same arithmetic, so the same numbers as from a column-major table).
        let mut y = project(x, None, m);
        if mean.is_some() {
            let off = Array1::from(offset);
            y.axis_chunks_iter_mut(Axis(0), BLOCK_ROWS)
                .into_par_iter()
                .for_each(|mut block| block -= &off);
        }
        check_output(x, &y, names)?;
        return Ok(y);
    };
    // k columns of n values; each block writes its own rows of every column,
    // into memory that is not zeroed first.
    let mut out: Vec<f64> = Vec::with_capacity(n * k);
    let blocks = strata_core::par::blocks(n);
    // (No rows: no columns to cut, and no blocks.)
    let per_block = strata_core::par::block_columns(
        out.spare_capacity_mut()[..n * k].chunks_exact_mut(n.max(1)),
    );
    let finite: Vec<bool> = per_block
        .into_par_iter()
        .zip(blocks)
        .map(|(mut slices, (a, b))| {
            let mut finite = true;
            let mut chunk: Vec<&[f64]> = Vec::with_capacity(d);
            for r in (0..b - a).step_by(CH) {
                let len = CH.min(b - a - r);
                let at = a + r;
                chunk.clear();
                chunk.extend(cols.iter().map(|c| &c[at..at + len]));
                finite &= project_chunk(&chunk, &w, &offset, k, &mut slices, r, len);
            }
            finite
        })
        .collect();
    // SAFETY: the blocks cover rows 0..n, and for each chunk of a block the
    // kernel writes every one of the chunk's rows in each of the k columns
    // (full groups and the tail alike), so all n * k values are initialised.
    unsafe { out.set_len(n * k) };
    let y = Array2::from_shape_vec((n, k).f(), out).unwrap_or_else(|_| Array2::zeros((n, k)));
    if !finite.iter().all(|&f| f) {
        check_output(x, &y, names)?;
    }
    Ok(y)
}

pub(crate) fn project_block_small(
    xb: ArrayView2<'_, f64>,
    mean: Option<&Array1<f64>>,
    m: &Array2<f64>,
    mut out: ArrayViewMut2<'_, f64>,
) {
    let (d, k) = m.dim();
    let mut owned = None;
    let xs = rows_slice(&xb, &mut owned);
    let w: Vec<f64> = m.iter().copied().collect(); // row-major d x k
    let mu: Vec<f64> = match mean {
        Some(mu) => mu.iter().copied().collect(),
        None => vec![0.0; d],
    };
    macro_rules! fixed {
        ($(($dd:literal, $kk:literal))*) => {
            match (d, k) {
                $(($dd, $kk) => Some(project_fixed::<$dd, $kk> as fn(&[f64], &[f64], &[f64], &mut [f64])),)*
                _ => None,
            }
        };
    }
    let kernel = fixed!((12, 1)(12, 2)(12, 3)(12, 4)(12, 6)(12, 8)(12, 10)(12, 12)(
        34, 2
    )(34, 5)(34, 10)(34, 20)(34, 34)(50, 10)(50, 20)(50, 50)(
        10, 10
    )(8, 8)(20, 20));
    let run = |o: &mut [f64]| match kernel {
        Some(f) => f(xs, &mu, &w, o),
        None => project_dynamic(xs, &mu, &w, k, o),
    };
    match out.as_slice_mut() {
        Some(o) => run(o),
        None => {
            let mut tmp = vec![0.0; xb.nrows() * k];
            run(&mut tmp);
            out.iter_mut().zip(tmp).for_each(|(dst, v)| *dst = v);
        }
    }
}

/// Row-blocked, parallel `out[i, :] = f(x[i, :])` over matching blocks of rows.
pub(crate) fn par_rows<F>(x: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>, f: F)
where
    F: Fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync,
{
    out.axis_chunks_iter_mut(Axis(0), BLOCK_ROWS)
        .into_par_iter()
        .zip(x.axis_chunks_iter(Axis(0), BLOCK_ROWS).into_par_iter())
        .for_each(|(o, xb)| f(xb, o));
}

/// `(x - mean) · m` computed by row blocks in parallel.
pub fn project(x: ArrayView2<'_, f64>, mean: Option<&Array1<f64>>, m: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), m.ncols()));
    if m.nrows() <= SMALL && m.ncols() <= SMALL {
        par_rows(x, out.view_mut(), |xb, ob| {
            project_block_small(xb, mean, m, ob)
        });
    } else {
        par_rows(x, out.view_mut(), |xb, mut ob| match mean {
            Some(mu) => ob.assign(&(&xb - mu).dot(m)),
            None => ob.assign(&xb.dot(m)),
        });
    }
    out
}

fn to_faer(a: &Array2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: faer::MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// Eigen-decomposition of a symmetric matrix: eigenvalues in decreasing order
/// and the matching eigenvectors as columns.
pub fn symmetric_eigen(a: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>), String> {
    let m = to_faer(a);
    let evd = m
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| format!("eigen-decomposition did not converge: {e:?}"))?;
    let vals = evd.S().column_vector();
    let vecs = evd.U();
    let d = a.nrows();
    // faer sorts increasing; reverse.
    let values = Array1::from_shape_fn(d, |i| vals[d - 1 - i]);
    let vectors = Array2::from_shape_fn((d, d), |(i, j)| vecs[(i, d - 1 - j)]);
    Ok((values, vectors))
}

/// Moore-Penrose pseudo-inverse through the SVD; singular values below
/// `max(m, n) * eps * s_max` are treated as zero.
pub fn pinv(a: &Array2<f64>) -> Result<Array2<f64>, String> {
    let m = to_faer(a);
    let svd = m
        .thin_svd()
        .map_err(|e| format!("SVD did not converge: {e:?}"))?;
    let u = from_faer(svd.U());
    let v = from_faer(svd.V());
    let sv = svd.S().column_vector();
    let k = sv.nrows();
    let smax = if k > 0 { sv[0] } else { 0.0 };
    let cutoff = a.nrows().max(a.ncols()) as f64 * f64::EPSILON * smax;
    let inv = Array1::from_shape_fn(k, |i| if sv[i] > cutoff { 1.0 / sv[i] } else { 0.0 });
    // pinv = V diag(1/s) U^T
    Ok((&v * &inv).dot(&u.t()))
}

/// Flips the sign of each row so that its entry of largest magnitude is
/// positive (scikit-learn's `svd_flip` with `u_based_decision=False`).
pub fn flip_rows_by_largest(rows: &mut Array2<f64>) {
    for mut r in rows.rows_mut() {
        let mut best = 0usize;
        for (j, v) in r.iter().enumerate() {
            if v.abs() > r[best].abs() {
                best = j;
            }
        }
        if r[best] < 0.0 {
            r.mapv_inplace(|v| -v);
        }
    }
}

/// Excess kurtosis (Fisher, biased moments: 0 for a normal distribution) of each column.
pub fn excess_kurtosis(y: ArrayView2<'_, f64>) -> Array1<f64> {
    let n = y.nrows() as f64;
    let mean = column_means(y);
    Array1::from_shape_fn(y.ncols(), |j| {
        let c = y.column(j);
        let (m2, m4) = c.iter().fold((0.0, 0.0), |(a, b), &v| {
            let d = v - mean[j];
            let d2 = d * d;
            (a + d2, b + d2 * d2)
        });
        let (m2, m4) = (m2 / n, m4 / n);
        if m2 > 0.0 {
            m4 / (m2 * m2) - 3.0
        } else {
            f64::NAN
        }
    })
}

/// Mean squared reconstruction error per element: `mean((x - x_hat)^2)`.
pub fn mean_squared_error(x: ArrayView2<'_, f64>, x_hat: ArrayView2<'_, f64>) -> f64 {
    let total = blocked_sum(
        x.nrows(),
        |a, b| {
            let d = &x.slice(s![a..b, ..]) - &x_hat.slice(s![a..b, ..]);
            d.mapv(|v| v * v).sum()
        },
        |acc, p| *acc += p,
    )
    .unwrap_or(0.0);
    total / (x.len().max(1)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigen_of_known_matrix() {
        let a = array![[2.0, 1.0], [1.0, 2.0]];
        let (v, u) = symmetric_eigen(&a).unwrap();
        assert!((v[0] - 3.0).abs() < 1e-12 && (v[1] - 1.0).abs() < 1e-12);
        let r = a.dot(&u.column(0)) - &(&u.column(0) * 3.0);
        assert!(r.iter().all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn pinv_inverts_full_rank_and_handles_rank_deficiency() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let p = pinv(&a).unwrap();
        let i = p.dot(&a);
        assert!((i[[0, 0]] - 1.0).abs() < 1e-12 && i[[0, 1]].abs() < 1e-12);
        let r = array![[1.0, 2.0], [2.0, 4.0]];
        let pr = pinv(&r).unwrap();
        let back = r.dot(&pr).dot(&r);
        assert!((&back - &r).iter().all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn blocked_means_and_gram_match_direct() {
        let n = 5000;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 13) % 17) as f64 + j as f64);
        let m = column_means(x.view());
        let direct = x.mean_axis(Axis(0)).unwrap();
        assert!((&m - &direct).iter().all(|e| e.abs() < 1e-12));
        let g = centered_gram(x.view(), &m);
        let c = &x - &m;
        let gd = c.t().dot(&c);
        assert!((&g - &gd).iter().all(|e| e.abs() < 1e-6));
    }

    #[test]
    fn small_and_general_kernels_agree() {
        let mut r = strata_core::Rng::new(strata_core::Seed(1));
        for d in [3, 64, 65] {
            let x = Array2::from_shape_fn((3000, d), |_| r.normal());
            let m = column_means(x.view());
            let c = &x - &m;
            let direct = c.t().dot(&c);
            assert!(
                (&centered_gram(x.view(), &m) - &direct)
                    .iter()
                    .all(|e| e.abs() < 1e-9),
                "gram d={d}"
            );
            let w = Array2::from_shape_fn((d, 5), |_| r.normal());
            assert!(
                (&project(x.view(), Some(&m), &w) - &c.dot(&w))
                    .iter()
                    .all(|e| e.abs() < 1e-9),
                "project d={d}"
            );
            assert!(
                (&project(x.view(), None, &w) - &x.dot(&w))
                    .iter()
                    .all(|e| e.abs() < 1e-9),
                "project d={d}"
            );
        }
    }

    #[test]
    fn wide_and_baseline_kernels_are_bit_identical() {
        let mut r = strata_core::Rng::new(strata_core::Seed(2));
        let xs: Vec<f64> = (0..12 * 1001).map(|_| r.normal() * 3.0 + 1.0).collect();
        let mu: Vec<f64> = (0..12).map(|j| j as f64 * 0.1).collect();
        let w: Vec<f64> = (0..12 * 8).map(|_| r.normal()).collect();
        let (mut a, mut b) = (vec![0.0; 1001 * 8], vec![0.0; 1001 * 8]);
        project_fixed::<12, 8>(&xs, &mu, &w, &mut a);
        project_fixed_body::<12, 8>(&xs, &mu, &w, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        project_dynamic(&xs, &mu, &w, 8, &mut a);
        project_dynamic_body(&xs, &mu, &w, 8, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        let buf: Vec<[f64; CH]> = (0..12)
            .map(|j| std::array::from_fn(|v| xs[v * 12 + j]))
            .collect();
        let (dp, mut sa, mut sb) = (12, vec![[0.0; LN]; 12], vec![[0.0; LN]; 12]);
        let (mut ga, mut gb) = (vec![[0.0; LN]; dp * dp], vec![[0.0; LN]; dp * dp]);
        gram_chunk(&buf, 11, dp, &mut ga, &mut sa);
        gram_chunk_body(&buf, 11, dp, &mut gb, &mut sb);
        assert_eq!(ga, gb);
        assert_eq!(sa, sb);
        type GramCols = fn(
            &[&[f64]],
            usize,
            usize,
            &[f64],
            &mut [[f64; CH]],
            usize,
            &mut [[f64; LN]],
            &mut [[f64; LN]],
        );
        // Filled from column slices in the same call: the same bits too,
        // and the same as filling first.
        let cols: Vec<Vec<f64>> = (0..12)
            .map(|j| (0..100).map(|v| xs[(v % 64) * 12 + j] + v as f64).collect())
            .collect();
        let cols: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let shift: Vec<f64> = (0..12).map(|j| j as f64 * 0.5).collect();
        for len in [CH, 36] {
            let run = |f: GramCols| {
                let mut b = vec![[0.0; CH]; dp];
                let (mut g, mut s) = (vec![[0.0; LN]; dp * dp], vec![[0.0; LN]; dp]);
                f(&cols, 30, len, &shift, &mut b, dp, &mut g, &mut s);
                (g, s)
            };
            assert_eq!(run(gram_cols_chunk), run(gram_cols_chunk_body));
            let x = Array2::from_shape_fn((100, 12), |(i, j)| cols[j][i]);
            let mut b = vec![[0.0; CH]; dp];
            fill_chunk(x.view(), 30, len, &shift, &mut b);
            let (mut g, mut s) = (vec![[0.0; LN]; dp * dp], vec![[0.0; LN]; dp]);
            gram_chunk(&b, 12, dp, &mut g, &mut s);
            assert_eq!(run(gram_cols_chunk), (g, s));
        }
        let zeros = || vec![MaybeUninit::new(0.0f64); 8 * 100];
        let (mut pa, mut pb) = (zeros(), zeros());
        let mut sa: Vec<&mut [MaybeUninit<f64>]> = pa.chunks_exact_mut(100).collect();
        let mut sb: Vec<&mut [MaybeUninit<f64>]> = pb.chunks_exact_mut(100).collect();
        let chunk: Vec<&[f64]> = buf.iter().map(|b| &b[..50]).collect();
        let off: Vec<f64> = (0..8).map(|o| o as f64 * 0.25).collect();
        assert!(project_chunk(&chunk, &w, &off, 8, &mut sa, 30, 50));
        assert!(project_chunk_body(&chunk, &w, &off, 8, &mut sb, 30, 50));
        // SAFETY: every value was created initialised (`MaybeUninit::new`).
        let read = |v: &[MaybeUninit<f64>]| -> Vec<u64> {
            v.iter()
                .map(|p| unsafe { p.assume_init() }.to_bits())
                .collect()
        };
        assert_eq!(read(&pa), read(&pb));
        // A non-finite output is reported.
        let inf: Vec<f64> = (0..8)
            .map(|o| if o == 5 { f64::INFINITY } else { 0.0 })
            .collect();
        let mut sc: Vec<&mut [MaybeUninit<f64>]> = pa.chunks_exact_mut(100).collect();
        assert!(!project_chunk(&chunk, &w, &inf, 8, &mut sc, 30, 50));
    }

    #[test]
    fn projecting_no_rows_gives_no_rows() {
        let m = Array2::from_shape_fn((4, 3), |(i, j)| (i + 2 * j) as f64);
        let mean = Array1::from(vec![1.0, 2.0, 3.0, 4.0]);
        let rows = Array2::<f64>::zeros((0, 4));
        let cols = rows.t().as_standard_layout().reversed_axes().to_owned();
        for x in [rows.view(), cols.view()] {
            let y = project_columns(x, Some(&mean), &m, None).unwrap();
            assert_eq!(y.dim(), (0, 3));
        }
    }

    #[test]
    fn column_kernels_do_not_depend_on_the_layout() {
        let mut r = strata_core::Rng::new(strata_core::Seed(3));
        for (d, k) in [(1, 1), (5, 3), (12, 12), (13, 7), (34, 10)] {
            let rows = Array2::from_shape_fn((2 * BLOCK_ROWS + 77, d), |_| r.normal() * 2.0 + 1.0);
            let cols = rows.t().as_standard_layout().reversed_axes().to_owned();
            assert!(cols.t().is_standard_layout());
            let m = column_means(rows.view());
            let w = Array2::from_shape_fn((d, k), |_| r.normal());
            // Same numbers from either layout, and the same as the row kernels.
            let (ma, ga) = mean_and_scatter(rows.view());
            let (mb, gb) = mean_and_scatter(cols.view());
            assert_eq!(ma, mb, "d={d}");
            assert_eq!(ga, gb, "d={d}");
            let c = &rows - &m;
            assert!(
                (&ga - &c.t().dot(&c)).iter().all(|e| e.abs() < 1e-8),
                "d={d}"
            );
            for mean in [Some(&m), None] {
                let expected = project(rows.view(), mean, &w);
                let from_rows = project_columns(rows.view(), mean, &w, None).unwrap();
                let from_cols = project_columns(cols.view(), mean, &w, None).unwrap();
                assert!(from_cols.t().is_standard_layout());
                assert_eq!(from_rows, from_cols, "d={d} k={k}");
                assert!(
                    from_rows
                        .iter()
                        .zip(&expected)
                        .all(|(p, q)| (p - q).abs() < 1e-12),
                    "d={d} k={k}"
                );
                if mean.is_none() {
                    // Nothing subtracted: the row kernels' numbers exactly.
                    assert!(
                        from_rows
                            .iter()
                            .zip(&expected)
                            .all(|(p, q)| p.to_bits() == q.to_bits())
                    );
                }
            }
        }
    }

    #[test]
    fn kurtosis_of_uniform_and_flip() {
        let x = Array2::from_shape_fn((10_001, 1), |(i, _)| i as f64);
        let k = excess_kurtosis(x.view());
        assert!((k[0] + 1.2).abs() < 1e-3, "{}", k[0]);
        let mut r = array![[0.1, -0.9], [0.5, 0.2]];
        flip_rows_by_largest(&mut r);
        assert_eq!(r, array![[-0.1, 0.9], [0.5, 0.2]]);
    }
}
