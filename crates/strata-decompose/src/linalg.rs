//! Numerical building blocks shared by the reducers.
//!
//! Row-parallel work is split into fixed blocks of rows whose partial results
//! are combined in block order, so sums are the same whatever the number of
//! threads. Dense factorizations (symmetric eigen, SVD) go through faer,
//! sequentially, on small d x d matrices.

use faer::Mat;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

/// Rows per block in blocked, parallel passes. Fixed (not derived from the
/// thread count) so that results are reproducible.
pub const BLOCK_ROWS: usize = 2048;

/// Splits `0..n` into the fixed blocks.
pub(crate) fn blocks(n: usize) -> Vec<(usize, usize)> {
    (0..n.div_ceil(BLOCK_ROWS))
        .map(|b| (b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(n)))
        .collect()
}

/// Runs `f` on every row block in parallel and folds the results with `add`
/// in block order; `None` when there are no rows.
pub(crate) fn blocked_sum<T, F, A>(n: usize, f: F, add: A) -> Option<T>
where
    T: Send,
    F: Fn(usize, usize) -> T + Sync,
    A: Fn(&mut T, T),
{
    let parts: Vec<T> = blocks(n).into_par_iter().map(|(a, b)| f(a, b)).collect();
    let mut it = parts.into_iter();
    let mut acc = it.next()?;
    for p in it {
        add(&mut acc, p);
    }
    Some(acc)
}

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

/// `(x - mean)^T (x - mean)`, the scatter matrix (d x d).
pub fn centered_gram(x: ArrayView2<'_, f64>, mean: &Array1<f64>) -> Array2<f64> {
    let d = x.ncols();
    blocked_array_sum(x.nrows(), |a, b| {
        let c = &x.slice(s![a..b, ..]) - mean;
        c.t().dot(&c)
    })
    .unwrap_or_else(|| Array2::zeros((d, d)))
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
    par_rows(x, out.view_mut(), |xb, mut ob| match mean {
        Some(mu) => ob.assign(&(&xb - mu).dot(m)),
        None => ob.assign(&xb.dot(m)),
    });
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
    fn kurtosis_of_uniform_and_flip() {
        let x = Array2::from_shape_fn((10_001, 1), |(i, _)| i as f64);
        let k = excess_kurtosis(x.view());
        assert!((k[0] + 1.2).abs() < 1e-3, "{}", k[0]);
        let mut r = array![[0.1, -0.9], [0.5, 0.2]];
        flip_rows_by_largest(&mut r);
        assert_eq!(r, array![[-0.1, 0.9], [0.5, 0.2]]);
    }
}
