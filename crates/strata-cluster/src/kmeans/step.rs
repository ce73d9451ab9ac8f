//! One Lloyd step over a block of rows (labels, per-cluster sums and
//! counts, moving only the rows that change cluster), and the first step of
//! several restarts sharing one pass over the data.

use super::*;

/// Lloyd's assignment of the rows `start..start + labels.len()` of the
/// column-major `data` (`n` rows) by the expanded form (see
/// [`nearest_dot_lanes`]). Without `delta`, each row is added to its
/// cluster's sum and count; with `delta`, `labels` hold the previous labels
/// on entry and only the rows that change cluster move between sums (added
/// to the new, taken from the old), rows in order. With bounds in `gaps`
/// (the block's rows), a group whose rows all keep their center is skipped;
/// the labels, sums and counts are those of the full computation. Returns
/// how many rows changed cluster (with `delta`; otherwise 0).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn lloyd_step_body(
    data: &[f64],
    n: usize,
    start: usize,
    w: &[f64],
    cn: &[f64],
    labels: &mut [Label],
    delta: bool,
    sums: &mut [f64],
    counts: &mut [f64],
    gaps: &mut Gaps<'_>,
) -> usize {
    let d = w.len() / cn.len().max(1);
    let m = labels.len();
    let track = !gaps.slack.is_empty();
    let mut moved = 0;
    let mut group = vec![[0.0f64; LANES]; d];
    if track && delta && !gaps.drift.is_empty() {
        // Each row's bound, less its center's drift (and what rounding can
        // take from it); rows that may change center are computed, in row
        // order.
        // sqrt(allowance) is linear in |x|: the test needs no square root.
        // Branch-free: every bound is stored (a row that is computed gets a
        // fresh one below), and a row's index is written at the end of
        // `todo`, which grows only when the row may change center.
        let root = gaps.ef.sqrt();
        let (drift, cmax) = (gaps.drift, gaps.cmax);
        let mut todo = vec![0usize; m];
        let mut t = 0;
        // The bounds of a group of rows first (a loop the compiler turns
        // into vector instructions), then their indices.
        let mut lab_groups = labels.chunks_exact(LANES);
        let mut slack_groups = gaps.slack[..m].chunks_exact_mut(LANES);
        let mut xr_groups = gaps.xr[..m].chunks_exact(LANES);
        for (g, ((lab, s), xr)) in (&mut lab_groups)
            .zip(&mut slack_groups)
            .zip(&mut xr_groups)
            .enumerate()
        {
            let mut dr = [0.0f64; LANES];
            for (v, &b) in dr.iter_mut().zip(lab) {
                *v = drift.get(b as usize).copied().unwrap_or(f64::INFINITY);
            }
            let mut sv = [0.0f32; LANES];
            sv.copy_from_slice(s);
            let mut xv = [0.0f64; LANES];
            xv.copy_from_slice(xr);
            let mut go = [0usize; LANES];
            for l in 0..LANES {
                let (bound, keep) = decayed(sv[l], dr[l], xv[l], cmax, root);
                sv[l] = bound;
                go[l] = usize::from(!keep);
            }
            s.copy_from_slice(&sv);
            for (l, &v) in go.iter().enumerate() {
                todo[t] = g * LANES + l;
                t += v;
            }
        }
        let tail = m - m % LANES;
        for (l, ((&b, s), &xr)) in lab_groups
            .remainder()
            .iter()
            .zip(slack_groups.into_remainder())
            .zip(xr_groups.remainder())
            .enumerate()
        {
            let dr = drift.get(b as usize).copied().unwrap_or(f64::INFINITY);
            let (bound, keep) = decayed(*s, dr, xr, cmax, root);
            *s = bound;
            todo[t] = tail + l;
            t += usize::from(!keep);
        }
        todo.truncate(t);
        if todo.len() * 4 <= m {
            // Few rows: gathered 16 at a time.
            let block = &data[start..];
            for rows in todo.chunks(LANES) {
                for (j, g) in group.iter_mut().enumerate() {
                    let col = &block[j * n..];
                    for (v, &i) in g.iter_mut().zip(rows) {
                        *v = col[i];
                    }
                }
                let (best, v1, v2) = nearest_dot_lanes(&group, w, cn, d);
                for (l, &i) in rows.iter().enumerate() {
                    gaps.slack[i] = down(gaps.fresh(i, v1[l], v2[l]));
                    moved += usize::from(move_row(&group, l, best[l] as Label, &mut labels[i], sums, counts));
                }
            }
            return moved;
        }
        // Many rows: whole groups, skipping those where every row keeps its
        // center.
        let mut next = 0;
        for r in (0..m).step_by(LANES) {
            let len = LANES.min(m - r);
            if todo.get(next).is_none_or(|&i| i >= r + len) {
                continue;
            }
            while todo.get(next).is_some_and(|&i| i < r + len) {
                next += 1;
            }
            prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
            load_group(data, n, start + r, len, &mut group);
            moved += full_group(&group, len, r, w, cn, labels, true, sums, counts, gaps);
        }
        return moved;
    }
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        moved += full_group(&group, len, r, w, cn, labels, delta, sums, counts, gaps);
    }
    moved
}

/// A row's bound after its center's drift `dr`, less what rounding can
/// take from it, and whether the row keeps its center: the bound is above
/// the square root of the allowance (`root` times the row's norm plus
/// `cmax`). NaN is not above: such a row is computed.
#[inline(always)]
fn decayed(slack: f32, dr: f64, xr: f64, cmax: f64, root: f64) -> (f32, bool) {
    let scale = xr + cmax;
    let moved = (f64::from(slack) - dr) - tiny(scale);
    (down(moved), moved > root * scale)
}

/// Lloyd's step for the group of rows `r..r + len` (block-relative), loaded
/// in `group`: labels, sums and counts (moved rows only with `delta`), and
/// fresh bounds when `gaps` keeps them. With `delta`, how many rows changed
/// cluster.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn full_group(
    group: &[[f64; LANES]],
    len: usize,
    r: usize,
    w: &[f64],
    cn: &[f64],
    labels: &mut [Label],
    delta: bool,
    sums: &mut [f64],
    counts: &mut [f64],
    gaps: &mut Gaps<'_>,
) -> usize {
    let (best, v1, v2) = nearest_dot_lanes(group, w, cn, group.len());
    if !gaps.slack.is_empty() {
        for l in 0..len {
            gaps.slack[r + l] = down(gaps.fresh(r + l, v1[l], v2[l]));
        }
    }
    if !delta {
        for l in 0..len {
            labels[r + l] = best[l] as Label;
        }
        add_group(group, &best, len, sums, counts);
        return 0;
    }
    let mut moved = 0;
    for l in 0..len {
        moved += usize::from(move_row(group, l, best[l] as Label, &mut labels[r + l], sums, counts));
    }
    moved
}

/// One restart's first Lloyd step over one block (see [`first_steps`]).
pub(crate) struct FirstStep<'a> {
    pub(crate) w: &'a [f64],
    pub(crate) cn: &'a [f64],
    pub(crate) labels: &'a mut [Label],
    pub(crate) sums: Vec<f64>,
    pub(crate) counts: Vec<f64>,
    pub(crate) gaps: Gaps<'a>,
}

/// The first Lloyd step of several restarts over the rows
/// `start..start + len` of the column-major `data` (`n` rows): each group
/// of rows is read once for all of them, and each restart's labels, sums,
/// counts and bounds come out as its own step computes them.
#[inline(always)]
pub(crate) fn first_steps_body(data: &[f64], n: usize, start: usize, jobs: &mut [FirstStep<'_>]) {
    let m = jobs.first().map_or(0, |j| j.labels.len());
    let d = data.len().checked_div(n).unwrap_or(0);
    let mut group = vec![[0.0f64; LANES]; d];
    for r in (0..m).step_by(LANES) {
        let len = LANES.min(m - r);
        prefetch_rows(data, n, d, start + r + PREFETCH_AHEAD);
        load_group(data, n, start + r, len, &mut group);
        for job in jobs.iter_mut() {
            let _moved = full_group(
                &group,
                len,
                r,
                job.w,
                job.cn,
                job.labels,
                false,
                &mut job.sums,
                &mut job.counts,
                &mut job.gaps,
            );
        }
    }
}

strata_core::simd_dispatch!(pub(crate) fn first_steps_simd(data: &[f64], n: usize, start: usize, jobs: &mut [FirstStep<'_>]) => first_steps_body);

/// The first Lloyd step of every restart (from its initial centers) in one
/// pass over the data, each as [`assign_from`] computes it alone (with
/// bounds when given the rows' norms `xn`).
pub(crate) fn first_steps(x: Cols<'_>, inits: &[Array2<f64>], xn: (&[f64], &[f64])) -> Vec<Assignment> {
    use strata_core::par::BLOCK_ROWS;
    let (n, d) = (x.n, x.d);
    let (xn, xr) = xn;
    let track = xr.len() == n && xn.len() == n;
    let points: Vec<(Vec<f64>, Vec<f64>, f64)> = inits
        .iter()
        .map(|c| {
            let cs: Vec<f64> = c.iter().copied().collect();
            let (w, cn) = dot_form(&cs, c.nrows());
            (w, cn, if track { max_norm(c) } else { 0.0 })
        })
        .collect();
    let mut labels: Vec<Vec<Label>> = inits.iter().map(|_| vec![0; n]).collect();
    let mut slack: Vec<Vec<f32>> = inits
        .iter()
        .map(|_| vec![0.0; if track { n } else { 0 }])
        .collect();
    let blocks = n.div_ceil(BLOCK_ROWS);
    let mut per_block: Vec<Vec<FirstStep<'_>>> = (0..blocks)
        .map(|_| Vec::with_capacity(inits.len()))
        .collect();
    for (((lab, slk), (w, cn, cmax)), c) in labels
        .iter_mut()
        .zip(slack.iter_mut())
        .zip(&points)
        .zip(inits)
    {
        let k = c.nrows();
        let mut slk = slk.chunks_mut(BLOCK_ROWS);
        for (b, (jobs, lab)) in per_block
            .iter_mut()
            .zip(lab.chunks_mut(BLOCK_ROWS))
            .enumerate()
        {
            let a = b * BLOCK_ROWS;
            jobs.push(FirstStep {
                w,
                cn,
                labels: lab,
                sums: vec![0.0; k * d],
                counts: vec![0.0; k],
                gaps: Gaps {
                    slack: slk.next().unwrap_or_default(),
                    xn: if track { &xn[a..] } else { &[] },
                    xr: if track { &xr[a..] } else { &[] },
                    drift: &[],
                    ef: rounding(d),
                    cmax: *cmax,
                },
            });
        }
    }
    let parts: Vec<Vec<(Vec<f64>, Vec<f64>)>> = per_block
        .into_par_iter()
        .enumerate()
        .map(|(b, mut jobs)| {
            first_steps_simd(x.data, n, b * BLOCK_ROWS, &mut jobs);
            jobs.into_iter().map(|j| (j.sums, j.counts)).collect()
        })
        .collect();
    labels
        .into_iter()
        .zip(slack)
        .zip(inits)
        .zip(&points)
        .enumerate()
        .map(|(i, (((labels, slack), c), p))| {
            let k = c.nrows();
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0.0; k];
            for block in &parts {
                let (s, cnt) = &block[i];
                sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
                counts.iter_mut().zip(cnt).for_each(|(a, b)| *a += b);
            }
            Assignment {
                labels,
                dist: Vec::new(),
                sums: Array2::from_shape_vec((k, d), sums)
                    .unwrap_or_else(|_| Array2::zeros((k, d))),
                counts,
                slack,
                at: c.clone(),
                cmax: p.2,
                moved: n,
            }
        })
        .collect()
}

/// Moves lane `l` of a group from its cluster `label` to `new` if they
/// differ (and says so): added to the new cluster's sum and count, taken
/// from the old.
#[inline(always)]
pub(crate) fn move_row(
    group: &[[f64; LANES]],
    l: usize,
    new: Label,
    label: &mut Label,
    sums: &mut [f64],
    counts: &mut [f64],
) -> bool {
    let old = std::mem::replace(label, new);
    if new == old {
        return false;
    }
    let (new, old) = (new as usize, old as usize);
    let d = group.len();
    for (j, g) in group.iter().enumerate() {
        sums[new * d + j] += g[l];
        sums[old * d + j] -= g[l];
    }
    counts[new] += 1.0;
    counts[old] -= 1.0;
    true
}

strata_core::simd_dispatch!(pub(crate) fn lloyd_step_simd(data: &[f64], n: usize, start: usize, w: &[f64], cn: &[f64], labels: &mut [Label], delta: bool, sums: &mut [f64], counts: &mut [f64], gaps: &mut Gaps<'_>) -> usize => lloyd_step_body);

strata_core::simd_dispatch!(pub(crate) fn nearest_simd(data: &[f64], n: usize, start: usize, cs: &[f64], d: usize, first: &mut [Label], d1: &mut [f64], d2: &mut [f64], sums: &mut [f64], counts: &mut [f64]) => nearest_body);
