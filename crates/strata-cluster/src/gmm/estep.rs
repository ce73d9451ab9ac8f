//! E-step: the weighted log-likelihood of every row under every component
//! (the Mahalanobis term for groups of 16 rows), and the responsibilities
//! by log-sum-exp.

use super::*;
use crate::dense::{LANES, load_group};
use strata_core::kernels::exp;

/// Log-likelihood of each row of `a..b` under every component, weighted:
/// log(w_c) + log N(x | c), written to `out` (one slice of `b - a` values
/// per component).
/// The Mahalanobis term is |(x - mean) U|^2 with U the upper-triangular
/// precision factor, computed for groups of [`LANES`] rows at once.
#[inline(always)]
pub(super) fn log_prob_block(x: Cols<'_>, a: usize, b: usize, p: &Params, out: &mut [&mut [f64]]) {
    let (n, d) = (x.n, x.d);
    let k = p.means.nrows();
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let mut group = vec![[0.0f64; LANES]; d];
    let mut diff = vec![[0.0f64; LANES]; d];
    let prec = p.prec_chol.as_standard_layout();
    let prec = prec.as_slice().unwrap_or(&[]);
    // log det of each precision factor plus log weight, once per block.
    let offset: Vec<f64> = (0..k)
        .map(|c| {
            let ld: f64 = match p.covariance_type {
                CovarianceType::Full => (0..d).map(|j| prec[c * d * d + j * d + j].ln()).sum(),
                CovarianceType::Tied => (0..d).map(|j| prec[j * d + j].ln()).sum(),
                CovarianceType::Diag => prec[c * d..(c + 1) * d].iter().map(|v| v.ln()).sum(),
                CovarianceType::Spherical => d as f64 * prec[c].ln(),
            };
            ld + p.weights[c].ln()
        })
        .collect();
    // The precision factors column by column (U's column j is row j here),
    // so the Mahalanobis loop reads them in order without index arithmetic.
    let columns: Vec<f64> = match p.covariance_type {
        CovarianceType::Full | CovarianceType::Tied => prec
            .chunks_exact(d * d)
            .flat_map(|u| (0..d * d).map(move |t| u[(t % d) * d + t / d]))
            .collect(),
        CovarianceType::Diag | CovarianceType::Spherical => Vec::new(),
    };
    // Each mean repeated for every lane, so the differences of a group are
    // one loop over consecutive values (a loop per feature, the compiler
    // may vectorize across features with gathers and scatters).
    let means: Vec<f64> = p.means.iter().flat_map(|&m| [m; LANES]).collect();
    for r in (a..b).step_by(LANES) {
        let len = LANES.min(b - r);
        load_group(x.data, n, r, len, &mut group);
        for (c, o) in out.iter_mut().enumerate().take(k) {
            let mean = &means[c * d * LANES..(c + 1) * d * LANES];
            for ((e, &g), &m) in diff
                .as_flattened_mut()
                .iter_mut()
                .zip(group.as_flattened())
                .zip(mean)
            {
                *e = g - m;
            }
            let mut maha = [0.0f64; LANES];
            match p.covariance_type {
                CovarianceType::Full | CovarianceType::Tied => {
                    let idx = if p.covariance_type == CovarianceType::Tied {
                        0
                    } else {
                        c
                    };
                    let u = &columns[idx * d * d..(idx + 1) * d * d];
                    mahalanobis(&diff, u, &mut maha);
                }
                CovarianceType::Diag => {
                    let pf = &prec[c * d..(c + 1) * d];
                    for (dj, &f) in diff.iter().zip(pf) {
                        for l in 0..LANES {
                            let y = dj[l] * f;
                            maha[l] += y * y;
                        }
                    }
                }
                CovarianceType::Spherical => {
                    let pf = prec[c];
                    for dj in &diff {
                        for l in 0..LANES {
                            maha[l] += dj[l] * dj[l];
                        }
                    }
                    for m in maha.iter_mut() {
                        *m *= pf * pf;
                    }
                }
            }
            for (o, &m) in o[r - a..r - a + len].iter_mut().zip(&maha) {
                *o = -0.5 * (d as f64 * ln2pi + m) + offset[c];
            }
        }
    }
}

/// Adds |diff U|^2 to `maha` for a group of rows (`diff[i]`: feature `i` of
/// the rows' differences from the mean), `U` upper-triangular given column
/// by column in `u` (d x d): column `j`'s sum runs over `i <= j` in order
/// from 0.0, and the squares are added in column order.
///
/// Two columns at a time: their sums are independent chains of additions,
/// so a unit that holds the 16 lanes in two registers (AVX-512) has work
/// while an addition completes; every sum is the same as one column alone.
#[inline(always)]
pub(super) fn mahalanobis(diff: &[[f64; LANES]], u: &[f64], maha: &mut [f64; LANES]) {
    let d = diff.len();
    let mut pairs = u.chunks_exact(2 * d);
    for (p, pair) in (&mut pairs).enumerate() {
        let j = 2 * p;
        let (c0, c1) = pair.split_at(d);
        let mut y0 = [0.0f64; LANES];
        let mut y1 = [0.0f64; LANES];
        for ((di, &a), &b) in diff.iter().zip(&c0[..=j]).zip(&c1[..=j]) {
            for l in 0..LANES {
                y0[l] += di[l] * a;
                y1[l] += di[l] * b;
            }
        }
        let (dn, b) = (&diff[j + 1], c1[j + 1]);
        for l in 0..LANES {
            y1[l] += dn[l] * b;
        }
        for l in 0..LANES {
            maha[l] += y0[l] * y0[l];
        }
        for l in 0..LANES {
            maha[l] += y1[l] * y1[l];
        }
    }
    // An odd d: the last column, all of whose entries count.
    let last = pairs.remainder();
    if !last.is_empty() {
        let mut y = [0.0f64; LANES];
        for (di, &a) in diff.iter().zip(last) {
            for l in 0..LANES {
                y[l] += di[l] * a;
            }
        }
        for l in 0..LANES {
            maha[l] += y[l] * y[l];
        }
    }
}

/// Responsibilities of the rows `a..b`, written to `w` (one slice of
/// `b - a` values per component), and the sum of their log-likelihoods:
/// log-sum-exp over the components, for groups of [`LANES`] rows at once.
#[inline(always)]
pub(super) fn e_step_block(x: Cols<'_>, a: usize, b: usize, p: &Params, w: &mut [&mut [f64]]) -> f64 {
    let nb = b - a;
    log_prob_block(x, a, b, p, w);
    let mut total = 0.0;
    let full = nb - nb % LANES;
    for r in (0..full).step_by(LANES) {
        normalize_group::<true>(w, r, LANES, &mut total);
    }
    if full < nb {
        normalize_group::<false>(w, full, nb - full, &mut total);
    }
    total
}

/// [`e_step_block`]'s responsibilities of the `len` rows from `r` (at most
/// [`LANES`]); their log-likelihoods are added to `total` in row order (one
/// running sum for the block). A `WHOLE` group's loops run over a known
/// length, [`LANES`]: the same values, and one full-covariance fit on the
/// Spotify features took about a tenth less time than with every group's
/// length found at run time.
#[inline(always)]
fn normalize_group<const WHOLE: bool>(w: &mut [&mut [f64]], r: usize, len: usize, total: &mut f64) {
    let len = if WHOLE { LANES } else { len.min(LANES) };
    let mut m = [f64::NEG_INFINITY; LANES];
    for comp in w.iter() {
        for (mm, &v) in m.iter_mut().zip(&comp[r..r + len]) {
            *mm = if v > *mm { v } else { *mm };
        }
    }
    let mut sum = [0.0f64; LANES];
    for comp in w.iter_mut() {
        let row = &mut comp[r..r + len];
        for l in 0..len {
            let e = exp(row[l] - m[l]);
            row[l] = e;
            sum[l] += e;
        }
    }
    let mut inv = [0.0f64; LANES];
    for l in 0..len {
        *total += m[l] + sum[l].ln();
        inv[l] = 1.0 / sum[l];
    }
    for comp in w.iter_mut() {
        let row = &mut comp[r..r + len];
        for l in 0..len {
            row[l] *= inv[l];
        }
    }
}

strata_core::simd_dispatch!(avx512 pub(super) fn e_step_simd(x: Cols<'_>, a: usize, b: usize, p: &Params, w: &mut [&mut [f64]]) -> f64 => e_step_block);

/// E-step: mean log-likelihood per sample and the responsibilities (n x k,
/// column-major: each component's column is contiguous). Each block of
/// rows writes its piece of every component's column in place; the blocks'
/// log-likelihoods are added in block order.
pub(super) fn e_step(x: Cols<'_>, p: &Params) -> (f64, Array2<f64>) {
    let n = x.n;
    let k = p.means.nrows();
    let mut resp_t = vec![0.0; k * n];
    let per_block = strata_core::par::block_columns(resp_t.chunks_exact_mut(n.max(1)));
    let totals: Vec<f64> = per_block
        .into_par_iter()
        .zip(strata_core::par::blocks(n))
        .map(|(mut w, (a, b))| e_step_simd(x, a, b, p, &mut w))
        .collect();
    let mut total = 0.0;
    for t in totals {
        total += t;
    }
    let resp = Array2::from_shape_vec((k, n), resp_t).unwrap_or_else(|_| Array2::zeros((k, n)));
    (total / n as f64, resp.reversed_axes())
}
