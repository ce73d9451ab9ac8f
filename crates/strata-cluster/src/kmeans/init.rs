//! Greedy k-means++: one start ([`plus_plus`]) and the starts of every
//! restart in one pass per chosen centre ([`plus_plus_many`]).

use super::*;

/// Greedy k-means++: each new center is the best (lowest potential) of
/// 2 + floor(ln k) candidates drawn with probability proportional to the
/// squared distance to the nearest chosen center.
pub fn plus_plus(x: ArrayView2<'_, f64>, k: usize, rng: &mut Rng) -> Array2<f64> {
    let t = column_major(x);
    let cols = cols_of(&t);
    plus_plus_many(cols, k, std::slice::from_mut(rng), &row_norms(cols))
        .pop()
        .unwrap_or_else(|| Array2::zeros((k, x.ncols())))
}

/// One k-means++ step over the rows `a..a + len` (one block) of the
/// column-major `data`, for several restarts at once. First each restart's
/// `closest` (its distances to its nearest chosen center, the block's rows)
/// is lowered to the distance to its pending center (row `i` of `pw`, which
/// holds -2 c, with squared norm `pcn[i]`; none when `pw` is empty). Then, for
/// each candidate (`t` per restart, restart after restart, as -2 c in `cw`
/// with squared norms `ccn`), `out` gets the sum over the rows of
/// min(closest, |x - c|^2): the restart's potential if that candidate is
/// chosen. Rows go in groups of [`LANES`] read once for every restart and
/// candidate, two candidates at a time; sums are kept per lane and added in
/// lane order.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_body(
    data: &[f64],
    n: usize,
    a: usize,
    xn: &[f64],
    pw: &[f64],
    pcn: &[f64],
    cw: &[f64],
    ccn: &[f64],
    t: usize,
    closest: &mut [&mut [f64]],
    out: &mut [f64],
) {
    let d = cw.len() / ccn.len().max(1);
    let len = closest.first().map_or(0, |c| c.len());
    let mut lanes = vec![[0.0f64; LANES]; ccn.len()];
    let mut group = vec![[0.0f64; LANES]; d];
    // Each restart's distances over the group, lowered by its pending
    // center; lanes past the group's rows stay 0 and add nothing.
    let mut low = vec![[0.0f64; LANES]; closest.len()];
    let mut norms = [0.0f64; LANES];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        for cl in closest.iter() {
            prefetch_rows(cl, len, 1, r + PREFETCH_AHEAD);
        }
        load_group(data, n, a + r, gl, &mut group);
        copy_lanes(&mut norms[..gl], &xn[a + r..a + r + gl]);
        for (lw, cl) in low.iter_mut().zip(closest.iter()) {
            if gl < LANES {
                *lw = [0.0; LANES];
            }
            copy_lanes(&mut lw[..gl], &cl[r..r + gl]);
        }
        if !pw.is_empty() {
            for_each_distance(&group, &norms, pw, pcn, |i, dist| {
                lower_lanes(&mut low[i], dist);
            });
            for (lw, cl) in low.iter().zip(closest.iter_mut()) {
                copy_lanes(&mut cl[r..r + gl], &lw[..gl]);
            }
        }
        // Candidates of the same restart or of two share a pass.
        for_each_distance(&group, &norms, cw, ccn, |q, dist| {
            add_lower(&mut lanes[q], dist, &low[q / t]);
        });
    }
    for (o, s) in out.iter_mut().zip(&lanes) {
        *o = s.iter().fold(0.0, |t, &v| t + v);
    }
}

strata_core::simd_dispatch!(pub(crate) fn step_simd(data: &[f64], n: usize, a: usize, xn: &[f64], pw: &[f64], pcn: &[f64], cw: &[f64], ccn: &[f64], t: usize, closest: &mut [&mut [f64]], out: &mut [f64]) => step_body);

/// Calls `f(q, distances)` for every point q given as -2 c (rows of `w`)
/// with squared norm `cn[q]`: the group's squared distances to it, computed
/// for two points per pass over the group ([`sq_dists_dot2`]).
#[inline(always)]
pub(crate) fn for_each_distance(
    group: &[[f64; LANES]],
    norms: &[f64; LANES],
    w: &[f64],
    cn: &[f64],
    mut f: impl FnMut(usize, &[f64; LANES]),
) {
    let d = group.len();
    let mut q = 0;
    while q + 1 < cn.len() {
        let (d0, d1) = sq_dists_dot2(
            group,
            norms,
            &w[q * d..(q + 1) * d],
            cn[q],
            &w[(q + 1) * d..(q + 2) * d],
            cn[q + 1],
        );
        f(q, &d0);
        f(q + 1, &d1);
        q += 2;
    }
    if q < cn.len() {
        f(
            q,
            &sq_dists_dot(group, norms, &w[q * d..(q + 1) * d], cn[q]),
        );
    }
}

/// Lowers `low` to `dist` where `dist` is below, lane by lane.
#[inline(always)]
pub(crate) fn lower_lanes(low: &mut [f64; LANES], dist: &[f64; LANES]) {
    for l in 0..LANES {
        low[l] = if dist[l] < low[l] { dist[l] } else { low[l] };
    }
}

/// Adds min(`dist`, `low`) lane by lane to `sums`.
#[inline(always)]
pub(crate) fn add_lower(sums: &mut [f64; LANES], dist: &[f64; LANES], low: &[f64; LANES]) {
    for l in 0..LANES {
        sums[l] += if dist[l] < low[l] { dist[l] } else { low[l] };
    }
}

/// `k` points (the rows of `cs`, row-major) as the expanded-form kernels
/// take them: -2 c, row after row, and each point's squared norm.
pub(crate) fn dot_form(cs: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
    let d = cs.len().checked_div(k).unwrap_or(0);
    let norms = (0..k)
        .map(|c| cs[c * d..(c + 1) * d].iter().fold(0.0, |s, &v| s + v * v))
        .collect();
    (cs.iter().map(|v| -2.0 * v).collect(), norms)
}

/// Squared distances of a group of rows (whose squared norms are `norms`)
/// to a point c given as `w` = -2 c (squared norm `cn`) by the expanded form
/// |x|^2 + |c|^2 - 2 x.c, as scikit-learn's k-means++ computes them (one
/// multiply and one add per feature), never below 0.
#[inline(always)]
pub(crate) fn sq_dists_dot(group: &[[f64; LANES]], norms: &[f64; LANES], w: &[f64], cn: f64) -> [f64; LANES] {
    let mut acc = [0.0f64; LANES];
    for (g, &m) in group.iter().zip(w) {
        for l in 0..LANES {
            acc[l] += g[l] * m;
        }
    }
    expanded(acc, norms, cn)
}

/// [`sq_dists_dot`] to two points at once: each feature's loads serve both,
/// and eight independent sums hide the latency of the additions. Each
/// distance is computed exactly as alone.
#[inline(always)]
pub(crate) fn sq_dists_dot2(
    group: &[[f64; LANES]],
    norms: &[f64; LANES],
    w0: &[f64],
    cn0: f64,
    w1: &[f64],
    cn1: f64,
) -> ([f64; LANES], [f64; LANES]) {
    let mut a0 = [0.0f64; LANES];
    let mut a1 = [0.0f64; LANES];
    for ((g, &m0), &m1) in group.iter().zip(w0).zip(w1) {
        for l in 0..LANES {
            a0[l] += g[l] * m0;
            a1[l] += g[l] * m1;
        }
    }
    (expanded(a0, norms, cn0), expanded(a1, norms, cn1))
}

/// (|x|^2 + |c|^2) + (-2 x.c), clamped at 0, lane by lane.
#[inline(always)]
pub(crate) fn expanded(mut acc: [f64; LANES], norms: &[f64; LANES], cn: f64) -> [f64; LANES] {
    for l in 0..LANES {
        // A maximum rather than a branch, so that the lanes stay one
        // vector; only the sign of a zero can differ, which no sum or
        // comparison sees.
        acc[l] = ((norms[l] + cn) + acc[l]).max(0.0);
    }
    acc
}

/// The squared distance of row `i` of `x` (squared norm `xn`) to the point
/// given as `w` = -2 c (squared norm `cn`), computed as [`sq_dists_dot`]
/// computes it.
pub(crate) fn sq_dist_dot_row(x: Cols<'_>, i: usize, xn: f64, w: &[f64], cn: f64) -> f64 {
    let mut acc = 0.0;
    for (j, &m) in w.iter().enumerate() {
        acc += x.data[j * x.n + i] * m;
    }
    let v = (xn + cn) + acc;
    if v > 0.0 { v } else { 0.0 }
}

/// Squared norm of every row, feature by feature (column-major `x`).
pub(crate) fn row_norms(x: Cols<'_>) -> Vec<f64> {
    let mut out = vec![0.0; x.n];
    out.par_chunks_mut(strata_core::par::BLOCK_ROWS)
        .enumerate()
        .for_each(|(b, o)| {
            let a = b * strata_core::par::BLOCK_ROWS;
            for j in 0..x.d {
                for (v, &e) in o.iter_mut().zip(&x.col(j)[a..]) {
                    *v += e * e;
                }
            }
        });
    out
}

/// Lowers each restart's `closest` (the block's rows `a..a + len`) to the
/// squared distance to its newly chosen center (`cs`, one row per restart,
/// holding -2 c, with squared norms `cns`),
/// and returns each restart's sum of the new values over the block, rows in
/// order (so that sampling can walk the same sums).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_closest_body(
    data: &[f64],
    n: usize,
    a: usize,
    xn: &[f64],
    cs: &[f64],
    cns: &[f64],
    closest: &mut [&mut [f64]],
    sums: &mut [f64],
) {
    let m = closest.len();
    let d = cs.len() / m.max(1);
    let len = closest.first().map_or(0, |c| c.len());
    let mut group = vec![[0.0f64; LANES]; d];
    let mut norms = [0.0f64; LANES];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        load_group(data, n, a + r, gl, &mut group);
        copy_lanes(&mut norms[..gl], &xn[a + r..a + r + gl]);
        for (((c, &cn), cl), s) in cs
            .chunks_exact(d)
            .zip(cns)
            .zip(closest.iter_mut())
            .zip(sums.iter_mut())
        {
            let acc = sq_dists_dot(&group, &norms, c, cn);
            for (l, v) in cl[r..r + gl].iter_mut().enumerate() {
                *v = if acc[l] < *v { acc[l] } else { *v };
                *s += *v;
            }
        }
    }
}

strata_core::simd_dispatch!(pub(crate) fn lower_closest_simd(data: &[f64], n: usize, a: usize, xn: &[f64], cs: &[f64], cns: &[f64], closest: &mut [&mut [f64]], sums: &mut [f64]) => lower_closest_body);

/// The rows `rows` of `x` as -2 c (row after row) and their squared norms,
/// as the distance kernels take them.
pub(crate) fn as_points(x: Cols<'_>, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let cs: Vec<f64> = rows.iter().flat_map(|&c| x.row(c)).collect();
    dot_form(&cs, rows.len())
}

/// Each restart's distances to its nearest chosen center, and their sums
/// per block of rows (the potential is their total, in block order).
pub(crate) struct Potential<'a> {
    pub(crate) closest: Vec<Vec<f64>>,
    pub(crate) block_sums: Vec<Vec<f64>>,
    /// Squared norm of every row.
    pub(crate) norms: &'a [f64],
    /// Each restart's last chosen row, when `closest` does not include it yet
    /// (the block sums already do): the next step's pass lowers `closest`.
    pub(crate) pending: Option<Vec<usize>>,
}

impl Potential<'_> {
    pub(crate) fn total(&self, i: usize) -> f64 {
        self.block_sums[i].iter().fold(0.0, |t, &v| t + v)
    }

    /// Lowers every restart's distances with its newly chosen row
    /// (`chosen[i]`), one pass over the data for all restarts.
    pub(crate) fn lower(&mut self, x: Cols<'_>, chosen: &[usize]) {
        let m = chosen.len();
        let (cs, cns) = as_points(x, chosen);
        let norms = self.norms;
        let sums: Vec<Vec<f64>> =
            strata_core::par::block_columns(self.closest.iter_mut().map(|c| c.as_mut_slice()))
                .into_par_iter()
                .zip(strata_core::par::blocks(x.n))
                .map(|(mut slices, (a, _))| {
                    let mut s = vec![0.0; m];
                    lower_closest_simd(x.data, x.n, a, norms, &cs, &cns, &mut slices, &mut s);
                    s
                })
                .collect();
        for (i, bs) in self.block_sums.iter_mut().enumerate() {
            *bs = sums.iter().map(|s| s[i]).collect();
        }
        self.pending = None;
    }

    /// Restart `i`'s distances over the rows `start..end`, lowered by its
    /// pending row if it has one, each as the step kernel computes it.
    pub(crate) fn block_values(&self, x: Cols<'_>, i: usize, start: usize, end: usize) -> Vec<f64> {
        let cl = &self.closest[i][start..end];
        let Some(pending) = &self.pending else {
            return cl.to_vec();
        };
        let (w, cn) = as_points(x, &pending[i..i + 1]);
        (start..end)
            .zip(cl)
            .map(|(r, &v)| {
                let dist = sq_dist_dot_row(x, r, self.norms[r], &w, cn[0]);
                if dist < v { dist } else { v }
            })
            .collect()
    }

    /// `t` rows of restart `i` drawn with probability proportional to their
    /// distance (inverse transform sampling on the running sum: the first
    /// row where it reaches the drawn value), with the restart's generator.
    /// The walk skips whole blocks by their sums, then adds the rows of the
    /// block where the drawn value falls.
    pub(crate) fn sample(&self, x: Cols<'_>, i: usize, t: usize, rng: &mut Rng) -> Vec<usize> {
        use strata_core::par::BLOCK_ROWS;
        let total = self.total(i);
        let n = self.closest[i].len();
        (0..t)
            .map(|_| {
                let r = rng.uniform() * total;
                let mut acc = 0.0;
                for (b, &bs) in self.block_sums[i].iter().enumerate() {
                    if acc + bs < r {
                        acc += bs;
                        continue;
                    }
                    let start = b * BLOCK_ROWS;
                    let end = (start + BLOCK_ROWS).min(n);
                    for (row, v) in self.block_values(x, i, start, end).into_iter().enumerate() {
                        acc += v;
                        if acc >= r {
                            return start + row;
                        }
                    }
                }
                n - 1
            })
            .collect()
    }
}

/// Greedy k-means++ for several restarts at once, each with its own
/// generator: every new center is the best (lowest potential) of
/// 2 + floor(ln k) candidates drawn with probability proportional to the
/// squared distance to the nearest chosen center. One pass over the data per
/// step serves every restart: it lowers the distances by the centers chosen
/// at the previous step and scores the new candidates. The chosen
/// candidate's per-block sums from that pass are the new potential's, which
/// is all that sampling needs (the block where a draw falls is recomputed).
pub(crate) fn plus_plus_many(x: Cols<'_>, k: usize, rngs: &mut [Rng], norms: &[f64]) -> Vec<Array2<f64>> {
    let (n, d, m) = (x.n, x.d, rngs.len());
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = vec![Array2::zeros((k, d)); m];
    let first: Vec<usize> = rngs.iter_mut().map(|r| r.below(n)).collect();
    let mut pot = Potential {
        closest: vec![vec![f64::INFINITY; n]; m],
        block_sums: vec![vec![]; m],
        norms,
        pending: None,
    };
    pot.lower(x, &first);
    for (c, &f) in centers.iter_mut().zip(&first) {
        c.row_mut(0).assign(&Array1::from(x.row(f)));
    }
    for step in 1..k {
        let cands: Vec<usize> = {
            let pot = &pot;
            rngs.par_iter_mut()
                .enumerate()
                .flat_map_iter(|(i, rng)| pot.sample(x, i, trials, rng))
                .collect()
        };
        let (cw, ccn) = as_points(x, &cands);
        let (pw, pcn) = match &pot.pending {
            Some(rows) => as_points(x, rows),
            None => (Vec::new(), Vec::new()),
        };
        let norms = pot.norms;
        let per_block: Vec<Vec<f64>> =
            strata_core::par::block_columns(pot.closest.iter_mut().map(|c| c.as_mut_slice()))
                .into_par_iter()
                .zip(strata_core::par::blocks(n))
                .map(|(mut closest, (a, _))| {
                    let mut out = vec![0.0; cands.len()];
                    step_simd(
                        x.data,
                        n,
                        a,
                        norms,
                        &pw,
                        &pcn,
                        &cw,
                        &ccn,
                        trials,
                        &mut closest,
                        &mut out,
                    );
                    out
                })
                .collect();
        let mut pots = vec![0.0; cands.len()];
        for p in &per_block {
            pots.iter_mut().zip(p).for_each(|(s, v)| *s += v);
        }
        // Per restart, the lowest potential wins (the first on ties); its
        // per-block sums are the restart's new potential.
        let chosen: Vec<usize> = (0..m)
            .map(|i| {
                let range = i * trials..(i + 1) * trials;
                let best = range
                    .clone()
                    .fold(range.start, |b, q| if pots[q] < pots[b] { q } else { b });
                pot.block_sums[i] = per_block.iter().map(|p| p[best]).collect();
                cands[best]
            })
            .collect();
        for (c, &ch) in centers.iter_mut().zip(&chosen) {
            c.row_mut(step).assign(&Array1::from(x.row(ch)));
        }
        pot.pending = Some(chosen);
    }
    centers
}
