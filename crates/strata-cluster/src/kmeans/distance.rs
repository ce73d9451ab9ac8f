//! Distances from rows to centres, 16 rows at a time: the exact and the
//! expanded (|c|^2 - 2 x.c) forms, the nearest two centres of a row, and
//! Lloyd's per-row gap bounds ([`Gaps`]).

use super::*;

#[inline]
pub(crate) fn sq_dist(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Nearest center (as a float, for branch-free selection), nearest and
/// second-nearest squared distances of a group of `LANES` rows given column
/// by column (`group[j]` holds feature `j` of the rows). For every (row,
/// center) the squared differences are summed over the features in order,
/// from 0.0, as a direct computation does; the smallest distance wins and
/// ties go to the lowest center index.
#[inline(always)]
pub(crate) fn nearest_lanes(
    group: &[[f64; LANES]],
    cs: &[f64],
    d: usize,
) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
    let mut best = [0.0f64; LANES];
    let mut v1 = [f64::INFINITY; LANES];
    let mut v2 = [f64::INFINITY; LANES];
    for (c, center) in cs.chunks_exact(d).enumerate() {
        let mut acc = [0.0f64; LANES];
        for (col, &cj) in group.iter().zip(center) {
            for l in 0..LANES {
                let t = col[l] - cj;
                acc[l] += t * t;
            }
        }
        let cf = c as f64;
        for l in 0..LANES {
            let v = acc[l];
            let closer = v < v1[l];
            v2[l] = if closer {
                v1[l]
            } else if v < v2[l] {
                v
            } else {
                v2[l]
            };
            v1[l] = if closer { v } else { v1[l] };
            best[l] = if closer { cf } else { best[l] };
        }
    }
    (best, v1, v2)
}

/// Nearest center, nearest and second-nearest squared distances of the rows
/// `start..start + first.len()` of the column-major `data` (`n` rows, `d`
/// columns), for the row-major centers `cs`. Rows go in groups of [`LANES`],
/// copied column by column into a small buffer (the last group padded), so
/// every row goes through the same arithmetic. Unless `counts` is empty, each
/// row is also added to its cluster's sum (`sums` is k x d, row-major) and
/// count, rows in order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn nearest_body(
    data: &[f64],
    n: usize,
    start: usize,
    cs: &[f64],
    d: usize,
    first: &mut [Label],
    d1: &mut [f64],
    d2: &mut [f64],
    sums: &mut [f64],
    counts: &mut [f64],
) {
    let m = first.len();
    let mut group = vec![[0.0f64; LANES]; d];
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        let (best, v1, v2) = nearest_lanes(&group, cs, d);
        for l in 0..len {
            first[r + l] = best[l] as Label;
            d1[r + l] = v1[l];
            d2[r + l] = v2[l];
        }
        if !counts.is_empty() {
            add_group(&group, &best, len, sums, counts);
        }
    }
}

/// Adds the first `len` rows of a group to the sums (k x d, row-major) and
/// counts of their clusters `best`, rows in order.
#[inline(always)]
pub(crate) fn add_group(
    group: &[[f64; LANES]],
    best: &[f64; LANES],
    len: usize,
    sums: &mut [f64],
    counts: &mut [f64],
) {
    let d = group.len();
    for (l, &b) in best.iter().enumerate().take(len) {
        let lab = b as usize;
        for (s, g) in sums[lab * d..(lab + 1) * d].iter_mut().zip(group) {
            *s += g[l];
        }
        counts[lab] += 1.0;
    }
}

/// Nearest center of a group of rows by the expanded form
/// |c|^2 - 2 x.c (the row's own |x|^2 is the same for every center), as
/// scikit-learn's Lloyd step: one multiply and one add per feature instead
/// of a subtract, a multiply and an add. `w` holds -2 c (k x d, row-major)
/// and `cn` the |c|^2; ties go to the lowest center index. Returns the
/// nearest center, and the lowest and second-lowest values of the form.
#[inline(always)]
pub(crate) fn nearest_dot_lanes(
    group: &[[f64; LANES]],
    w: &[f64],
    cn: &[f64],
    d: usize,
) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
    let mut best = [0.0f64; LANES];
    let mut v1 = [f64::INFINITY; LANES];
    let mut v2 = [f64::INFINITY; LANES];
    // Two centers at a time: each feature's loads serve both, and eight
    // independent sums hide the latency of the additions.
    let mut pairs = w.chunks_exact(2 * d);
    for (p, wp) in (&mut pairs).enumerate() {
        let (w0, w1) = wp.split_at(d);
        let mut a0 = [cn[2 * p]; LANES];
        let mut a1 = [cn[2 * p + 1]; LANES];
        for ((col, &x0), &x1) in group.iter().zip(w0).zip(w1) {
            for l in 0..LANES {
                a0[l] += col[l] * x0;
                a1[l] += col[l] * x1;
            }
        }
        keep_nearer(&a0, 2 * p, &mut v1, &mut v2, &mut best);
        keep_nearer(&a1, 2 * p + 1, &mut v1, &mut v2, &mut best);
    }
    let wc = pairs.remainder();
    if !wc.is_empty() {
        let c = cn.len() - 1;
        let mut acc = [cn[c]; LANES];
        for (col, &wj) in group.iter().zip(wc) {
            for l in 0..LANES {
                acc[l] += col[l] * wj;
            }
        }
        keep_nearer(&acc, c, &mut v1, &mut v2, &mut best);
    }
    (best, v1, v2)
}

/// Lanes where `acc` is below the best so far take it and center `c`; the
/// second-lowest value follows.
#[inline(always)]
pub(crate) fn keep_nearer(
    acc: &[f64; LANES],
    c: usize,
    v1: &mut [f64; LANES],
    v2: &mut [f64; LANES],
    best: &mut [f64; LANES],
) {
    let cf = c as f64;
    for l in 0..LANES {
        let closer = acc[l] < v1[l];
        let second = if acc[l] < v2[l] { acc[l] } else { v2[l] };
        v2[l] = if closer { v1[l] } else { second };
        v1[l] = if closer { acc[l] } else { v1[l] };
        best[l] = if closer { cf } else { best[l] };
    }
}

/// What a Lloyd step keeps from the previous one to skip rows whose center
/// cannot change: per row, a lower bound on the distance to the second-
/// nearest center minus an upper bound on the distance to the nearest, as
/// Hamerly's bounds, taken from the expanded form with a rounding allowance.
/// A move of the centers shrinks it by at most the row's center's move plus
/// the largest other move; while it stays above the allowance, the full
/// computation would pick the same center, whatever its rounding.
pub(crate) struct Gaps<'a> {
    /// Per row: the bound on the gap between the distances; updated in
    /// place. Empty: no bounds kept.
    pub(crate) slack: &'a mut [f32],
    /// Per row: |x|^2 as the kernels compute it, and |x| rounded up.
    pub(crate) xn: &'a [f64],
    pub(crate) xr: &'a [f64],
    /// Per cluster: how far its center moved plus the largest move of the
    /// others since the bounds were computed, rounded up. Empty: the
    /// bounds start afresh.
    pub(crate) drift: &'a [f64],
    /// A row's rounding allowance on squared distances is
    /// `ef * (|x| + cmax)^2`, `cmax` bounding the norm of every center since
    /// the bounds were computed.
    pub(crate) ef: f64,
    pub(crate) cmax: f64,
}

impl Gaps<'_> {
    /// The allowance on a squared distance of the row `i` (block-relative).
    /// A row keeps its center when its bound, less the drift, is above the
    /// allowance's square root: the true squared distances then differ by
    /// more than twice any rounding of the expanded form.
    #[inline(always)]
    pub(crate) fn allowance(&self, i: usize) -> f64 {
        let s = self.xr[i] + self.cmax;
        self.ef * s * s
    }

    /// The bound from the row's lowest and second-lowest values of the
    /// expanded form (|x|^2 added back, minus and plus the allowance).
    #[inline(always)]
    pub(crate) fn fresh(&self, i: usize, v1: f64, v2: f64) -> f64 {
        let e = self.allowance(i);
        let near = ((v1 + self.xn[i]) + e).max(0.0).sqrt();
        let far = ((v2 + self.xn[i]) - e).max(0.0).sqrt();
        (far - near) - tiny(self.xr[i] + self.cmax)
    }
}

/// What rounding can take from a bound on a distance of a row in one update,
/// `scale` being its norm plus the largest center norm.
#[inline(always)]
pub(crate) fn tiny(scale: f64) -> f64 {
    4.0 * f64::EPSILON * scale
}
