//! M-step: weights, means and covariances from the responsibilities (the
//! weighted scatter of the full covariances in register tiles), then the
//! precision factors.

use super::*;
use ndarray::{ShapeBuilder, s};
use strata_core::kernels::{
    CH, LN, padded_width, pair_index, upper_tile_products, upper_tile_products_paired,
};
use strata_core::par::blocked_sum;

/// Lower Cholesky factor of a symmetric positive definite matrix, or `None`.
pub(super) fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[[i, j]];
            for p in 0..j {
                sum -= l[[i, p]] * l[[j, p]];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[[i, j]] = sum.sqrt();
            } else {
                l[[i, j]] = sum / l[[j, j]];
            }
        }
    }
    Some(l)
}

/// `(L^-1)^T` for lower-triangular L: the upper factor U with U U^T = (L L^T)^-1.
pub(super) fn precision_factor(l: &Array2<f64>) -> Array2<f64> {
    let d = l.nrows();
    let mut inv = Array2::<f64>::zeros((d, d));
    for c in 0..d {
        // Solve L y = e_c by forward substitution.
        for i in 0..d {
            let mut sum = if i == c { 1.0 } else { 0.0 };
            for p in 0..i {
                sum -= l[[i, p]] * inv[[p, c]];
            }
            inv[[i, c]] = sum / l[[i, i]];
        }
    }
    inv.reversed_axes()
}

pub(super) fn singular(component: usize, covariance_type: CovarianceType, reg_covar: f64) -> ClusterError {
    ClusterError::SingularComponent {
        component,
        covariance_type: format!("{covariance_type:?}").to_lowercase(),
        reg_covar,
    }
}

/// Number of (i, j) pairs with i <= j among d features: the entries of a
/// symmetric d x d matrix that are computed.
pub(super) fn n_pairs(d: usize) -> usize {
    d * (d + 1) / 2
}

/// Weighted scatter of the rows `a..b` around `mean`, for each component:
/// `out[c]` holds sum_r w_rc (x_r - mean_c)_i (x_r - mean_c)_j for i <= j
/// (row after row of the upper triangle). Rows go in chunks; per component a
/// chunk's differences and weighted differences are multiplied in tiles of
/// feature pairs, one partial sum per vector lane, and the lanes are added
/// in order at the end: the result depends on the block only, never on the
/// threads.
#[inline(always)]
pub(super) fn scatter_block(x: Cols<'_>, a: usize, b: usize, resp_t: &[f64], means: &Array2<f64>) -> Vec<f64> {
    scatter_with::<false>(x, a, b, resp_t, means)
}

/// [`scatter_block`] for AVX-512: the differences in the paired layout of
/// [`upper_tile_products_paired`], the same products in the same order.
#[inline(always)]
pub(super) fn scatter_block_paired(x: Cols<'_>, a: usize, b: usize, resp_t: &[f64], means: &Array2<f64>) -> Vec<f64> {
    scatter_with::<true>(x, a, b, resp_t, means)
}

#[inline(always)]
fn scatter_with<const PAIRED: bool>(
    x: Cols<'_>,
    a: usize,
    b: usize,
    resp_t: &[f64],
    means: &Array2<f64>,
) -> Vec<f64> {
    let (n, d) = (x.n, x.d);
    let k = means.nrows();
    let np = n_pairs(d);
    let dp = padded_width(d);
    let mut xb = vec![[0.0f64; CH]; d];
    // The differences: feature by feature, or in pairs of features.
    let mut diff = vec![[0.0f64; CH]; if PAIRED { 0 } else { dp }];
    let mut pairs = vec![[0.0f64; 2 * CH]; if PAIRED { dp / 2 } else { 0 }];
    let mut wd = vec![[0.0f64; CH]; dp];
    let mut acc = vec![[0.0f64; LN]; k * dp * dp];
    let mut wb = [0.0f64; CH];
    // Feature j's differences on their way to the paired layout; every
    // value is written before it is read.
    let mut paired_e = [0.0f64; CH];
    for r in (a..b).step_by(CH) {
        let len = CH.min(b - r);
        // A full chunk is read where it lies; the last, shorter one is
        // copied into buffers padded with zeros (copying every chunk cost a
        // call to memmove per feature and per component).
        for c in 0..k {
            let mean = means.row(c);
            let w = in_place_or_padded(&resp_t[c * n + r..c * n + r + len], &mut wb);
            for j in 0..d {
                let mj = mean[j];
                let xj = in_place_or_padded(&x.col(j)[r..r + len], &mut xb[j]);
                // The differences go straight to their buffer (a copy of
                // the whole chunk would be one more call to memmove).
                let e = if PAIRED { &mut paired_e } else { &mut diff[j] };
                // A full chunk without the padding's test per value (the
                // same values: one fit took 6 % less time).
                if len == CH {
                    for v in 0..CH {
                        e[v] = xj[v] - mj;
                        wd[j][v] = e[v] * w[v];
                    }
                } else {
                    for v in 0..CH {
                        // Padding rows carry weight 0 and difference 0.
                        e[v] = if v < len { xj[v] - mj } else { 0.0 };
                        wd[j][v] = e[v] * w[v];
                    }
                }
                if PAIRED {
                    // Blocks of LN rows to their place in feature j's pair.
                    for (v, block) in e.chunks_exact(LN).enumerate() {
                        let (q, at) = pair_index(j, v * LN);
                        pairs[q][at..at + LN].copy_from_slice(block);
                    }
                }
            }
            let acc_c = &mut acc[c * dp * dp..(c + 1) * dp * dp];
            if PAIRED {
                upper_tile_products_paired(&wd, &pairs, d, dp, acc_c);
            } else {
                upper_tile_products(&wd, &diff, d, dp, acc_c);
            }
        }
    }
    let mut out = vec![0.0; k * np];
    for (c, o) in out.chunks_exact_mut(np).enumerate() {
        let mut p = 0;
        for i in 0..d {
            for j in i..d {
                o[p] = acc[c * dp * dp + i * dp + j]
                    .iter()
                    .fold(0.0, |t, &e| t + e);
                p += 1;
            }
        }
    }
    out
}

/// `src` itself when it is a full chunk, otherwise `buf` holding `src`
/// followed by zeros.
#[inline(always)]
fn in_place_or_padded<'a>(src: &'a [f64], buf: &'a mut [f64; CH]) -> &'a [f64; CH] {
    match <&[f64; CH]>::try_from(src) {
        Ok(full) => full,
        Err(_) => {
            let len = src.len().min(CH);
            buf[..len].copy_from_slice(&src[..len]);
            buf[len..].fill(0.0);
            buf
        }
    }
}

strata_core::simd_dispatch!(avx512(scatter_block_paired) pub(super) fn scatter_simd(x: Cols<'_>, a: usize, b: usize, resp_t: &[f64], means: &Array2<f64>) -> Vec<f64> => scatter_block);

/// M-step: weights, means and covariances from responsibilities, then the
/// precision factors.
pub(super) fn m_step(
    x: Cols<'_>,
    resp: ArrayView2<'_, f64>,
    ct: CovarianceType,
    reg: f64,
) -> Result<Params, ClusterError> {
    let (n, d) = (x.n, x.d);
    let k = resp.ncols();
    // Responsibilities component by component (k x n, rows contiguous).
    let rt = column_major(resp);
    let resp_t = rt.as_slice().unwrap_or(&[]);
    let xv =
        ArrayView2::from_shape((n, d).f(), x.data).map_err(|_| ClusterError::InvalidParameter {
            name: "x",
            value: format!("{n} x {d}"),
            expected: "a matrix matching its data".into(),
        })?;
    let nk: Array1<f64> = resp.sum_axis(Axis(0)) + 10.0 * f64::EPSILON;
    let sums = blocked_sum(
        n,
        |a, b| rt.slice(s![.., a..b]).dot(&xv.slice(s![a..b, ..])),
        |acc, p| *acc += &p,
    )
    .unwrap_or_else(|| Array2::zeros((k, d)));
    let means = &sums / &nk.view().insert_axis(Axis(1));
    let covariances = match ct {
        CovarianceType::Full => {
            let np = n_pairs(d);
            let scatter = blocked_sum(
                n,
                |a, b| scatter_simd(x, a, b, resp_t, &means),
                |acc, p| acc.iter_mut().zip(p).for_each(|(s, v)| *s += v),
            )
            .unwrap_or_else(|| vec![0.0; k * np]);
            let mut cov = Array3::zeros((k, d, d));
            for c in 0..k {
                let mut p = c * np;
                for i in 0..d {
                    for j in i..d {
                        let v = scatter[p] / nk[c];
                        cov[[c, i, j]] = v;
                        cov[[c, j, i]] = v;
                        p += 1;
                    }
                    cov[[c, i, i]] += reg;
                }
            }
            cov
        }
        CovarianceType::Tied => {
            let xx = blocked_sum(
                n,
                |a, b| {
                    let xb = xv.slice(s![a..b, ..]);
                    xb.t().dot(&xb)
                },
                |acc, p| *acc += &p,
            )
            .unwrap_or_else(|| Array2::zeros((d, d)));
            let mm = (&means.t() * &nk.view().insert_axis(Axis(0))).dot(&means);
            let mut cc = (xx - mm) / nk.sum();
            cc.diag_mut().mapv_inplace(|v| v + reg);
            cc.insert_axis(Axis(0))
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let x2 = blocked_sum(
                n,
                |a, b| {
                    let xb = xv.slice(s![a..b, ..]);
                    rt.slice(s![.., a..b]).dot(&xb.mapv(|v| v * v))
                },
                |acc, p| *acc += &p,
            )
            .unwrap_or_else(|| Array2::zeros((k, d)));
            let avg_x2 = &x2 / &nk.view().insert_axis(Axis(1));
            let avg_means2 = means.mapv(|v| v * v);
            let avg_x_means = &means * &sums / nk.view().insert_axis(Axis(1));
            let diag = avg_x2 - &(&avg_x_means * 2.0) + &avg_means2 + reg;
            if ct == CovarianceType::Diag {
                diag.insert_axis(Axis(1))
            } else {
                diag.mean_axis(Axis(1))
                    .unwrap_or_else(|| Array1::zeros(k))
                    .insert_axis(Axis(1))
                    .insert_axis(Axis(2))
            }
        }
    };
    let mut prec_chol = Array3::zeros(covariances.dim());
    match ct {
        CovarianceType::Full | CovarianceType::Tied => {
            for c in 0..covariances.dim().0 {
                let cc = covariances.slice(s![c, .., ..]).to_owned();
                let l = cholesky(&cc).ok_or_else(|| singular(c, ct, reg))?;
                prec_chol
                    .slice_mut(s![c, .., ..])
                    .assign(&precision_factor(&l));
            }
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            for ((c, _, j), v) in covariances.indexed_iter() {
                if *v <= 0.0 {
                    return Err(singular(c, ct, reg));
                }
                prec_chol[[c, 0, j]] = 1.0 / v.sqrt();
            }
        }
    }
    let weights = &nk / n as f64;
    Ok(Params {
        weights: weights.clone() / weights.sum(),
        means,
        covariances,
        covariance_type: ct,
        prec_chol,
    })
}
