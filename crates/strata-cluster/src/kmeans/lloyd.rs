//! The iterations: assignments of every block, Hamerly's bounds, the
//! Lloyd loop with its stopping rules, inertias and empty clusters.

use super::*;

/// Per block: labels, distance of each point to its center, and the sums and
/// counts of the points of each cluster.
pub(crate) struct Assignment {
    pub(crate) labels: Vec<Label>,
    pub(crate) dist: Vec<f64>,
    pub(crate) sums: Array2<f64>,
    pub(crate) counts: Vec<f64>,
    /// Lloyd's bounds on each row's gap (see [`Gaps`]), for the centers
    /// `at`, whose norms (and those of the centers before them since the
    /// bounds were computed) are at most `cmax`; empty when not kept.
    pub(crate) slack: Vec<f32>,
    pub(crate) at: Array2<f64>,
    pub(crate) cmax: f64,
    /// How many rows changed cluster from the previous labels (every row
    /// when the step did not start from them): none means the labels are
    /// those of the step before.
    pub(crate) moved: usize,
}

/// Relative rounding allowance of the bounds: a generous multiple of the
/// unit roundoff for sums of `d` products.
pub(crate) fn rounding(d: usize) -> f64 {
    4.0 * (d + 2) as f64 * f64::EPSILON
}

/// The largest norm of the centers, rounded up.
pub(crate) fn max_norm(centers: &Array2<f64>) -> f64 {
    let up = 1.0 + rounding(centers.ncols());
    centers
        .rows()
        .into_iter()
        .map(|c| c.iter().fold(0.0, |a, v| a + v * v).sqrt() * up)
        .fold(0.0, f64::max)
}

/// How far the centers moved from `old` to `new`, as [`Gaps`] takes it: per
/// cluster, its center's move plus the largest move of the others, rounded
/// up.
pub(crate) fn center_drift(old: &Array2<f64>, new: &Array2<f64>) -> Vec<f64> {
    let (k, d) = new.dim();
    let up = 1.0 + rounding(d);
    let moved: Vec<f64> = (0..k)
        .map(|c| sq_dist(new.row(c), old.row(c)).sqrt() * up)
        .collect();
    (0..k)
        .map(|b| {
            let most = (0..k)
                .filter(|&c| c != b)
                .map(|c| moved[c])
                .fold(0.0, f64::max);
            (moved[b] + most) * up
        })
        .collect()
}

/// Adds the rows `start..start + labels.len()` to the sums (k x d, row-major)
/// and counts of their clusters, row after row (each sum takes its rows in
/// order; the features of a row are independent additions).
pub(crate) fn add_to_sums(x: Cols<'_>, start: usize, labels: &[Label], sums: &mut [f64], counts: &mut [f64]) {
    let d = x.d;
    for (r, &lab) in labels.iter().enumerate() {
        let lab = lab as usize;
        let sum = &mut sums[lab * d..(lab + 1) * d];
        for (j, s) in sum.iter_mut().enumerate() {
            *s += x.data[j * x.n + start + r];
        }
        counts[lab] += 1.0;
    }
}

/// Nearest center of every row, its squared distance, and each cluster's sum
/// and count; parallel over fixed blocks combined in block order.
pub(crate) fn assign(x: Cols<'_>, centers: &Array2<f64>) -> Assignment {
    assign_with(x, centers, true)
}

/// As [`assign`], exact (`exact`: distances computed and returned) or by the
/// expanded form of Lloyd's step (labels, sums and counts only).
pub(crate) fn assign_with(x: Cols<'_>, centers: &Array2<f64>, exact: bool) -> Assignment {
    assign_from(x, centers, exact, None, (&[], &[]))
}

/// As [`assign_with`]; given the previous step's assignment (`prev`, by the
/// expanded form), only the rows that change cluster update the sums and
/// counts (each block's changes are added in block order to the previous
/// sums), which after the first iterations skips almost every row. Given
/// the rows' squared norms and norms `xn` (see [`Gaps`]), Lloyd's step keeps
/// bounds on each row's distances and skips the groups of rows that cannot
/// change cluster.
pub(crate) fn assign_from(
    x: Cols<'_>,
    centers: &Array2<f64>,
    exact: bool,
    prev: Option<Assignment>,
    xn: (&[f64], &[f64]),
) -> Assignment {
    let (n, d) = (x.n, x.d);
    let k = centers.nrows();
    let cs: Vec<f64> = centers.iter().copied().collect();
    let (w, cn) = dot_form(&cs, k);
    use strata_core::par::BLOCK_ROWS;
    // Labels and distances are written in place, block by block; each block
    // returns its sums and counts, added in block order.
    let delta = prev.is_some() && !exact;
    // The previous step's labels and bounds are updated in place.
    let (mut labels, prev) = match prev {
        Some(mut p) if delta => (std::mem::take(&mut p.labels), Some(p)),
        _ => (vec![0; n], None),
    };
    let mut dist = vec![0.0; if exact { n } else { 0 }];
    let mut dist_blocks: Vec<&mut [f64]> = if exact {
        dist.chunks_mut(BLOCK_ROWS).collect()
    } else {
        (0..n.div_ceil(BLOCK_ROWS)).map(|_| &mut [][..]).collect()
    };
    let (xn, xr) = xn;
    let track = !exact && xr.len() == n && xn.len() == n;
    // The previous bounds are moved, not copied: one set per restart.
    let mut prev = prev;
    let (mut slack, drift, cmax) = match prev.as_mut() {
        Some(p) if track && p.slack.len() == n => {
            let cmax = p.cmax.max(max_norm(centers));
            (std::mem::take(&mut p.slack), center_drift(&p.at, centers), cmax)
        }
        _ if track => (vec![0.0; n], Vec::new(), max_norm(centers)),
        _ => (Vec::new(), Vec::new(), 0.0),
    };
    let ef = rounding(d);
    let mut slack_blocks: Vec<&mut [f32]> = if track {
        slack.chunks_mut(BLOCK_ROWS).collect()
    } else {
        (0..n.div_ceil(BLOCK_ROWS)).map(|_| &mut [][..]).collect()
    };
    let parts: Vec<(Vec<f64>, Vec<f64>, usize)> = labels
        .par_chunks_mut(BLOCK_ROWS)
        .zip(dist_blocks.par_iter_mut())
        .zip(slack_blocks.par_iter_mut())
        .enumerate()
        .map(|(b, ((lab, dst), slk))| {
            let a = b * BLOCK_ROWS;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0.0; k];
            let mut moved = 0;
            if exact {
                let mut second = vec![0.0; lab.len()];
                nearest_simd(
                    x.data,
                    n,
                    a,
                    &cs,
                    d,
                    lab,
                    dst,
                    &mut second,
                    &mut sums,
                    &mut counts,
                );
            } else {
                let mut gaps = Gaps {
                    slack: slk,
                    xn: if track { &xn[a..] } else { &[] },
                    xr: if track { &xr[a..] } else { &[] },
                    drift: &drift,
                    ef,
                    cmax,
                };
                moved = lloyd_step_simd(
                    x.data,
                    n,
                    a,
                    &w,
                    &cn,
                    lab,
                    delta,
                    &mut sums,
                    &mut counts,
                    &mut gaps,
                );
            }
            (sums, counts, moved)
        })
        .collect();
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0.0; k];
    let mut moved = 0;
    for (s, c, m) in parts {
        sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        moved += m;
    }
    if let Some(p) = &prev {
        sums.iter_mut().zip(&p.sums).for_each(|(a, b)| *a += b);
        counts.iter_mut().zip(&p.counts).for_each(|(a, b)| *a += b);
    }
    Assignment {
        labels,
        dist,
        sums: Array2::from_shape_vec((k, d), sums).unwrap_or_else(|_| Array2::zeros((k, d))),
        counts,
        slack,
        at: centers.clone(),
        cmax,
        moved: if delta { moved } else { n },
    }
}

/// Hamerly's bounds: for each point, an upper bound on the distance to its
/// center and a lower bound on the distance to any other center. A point
/// whose upper bound is below both its lower bound and half the distance from
/// its center to the nearest other center cannot change cluster, so its
/// distances are not computed. Labels, sums and counts come out exactly as
/// the full assignment's (sums are accumulated over the rows in order, block
/// by block).
pub(crate) struct Bounds {
    pub(crate) labels: Vec<Label>,
    /// Stored as `f32`, the upper bounds rounded up and the lower ones down.
    pub(crate) upper: Vec<f32>,
    pub(crate) lower: Vec<f32>,
    pub(crate) previous: Option<Array2<f64>>,
}

impl Bounds {
    pub(crate) fn new(n: usize) -> Bounds {
        Bounds {
            labels: vec![0; n],
            upper: vec![0.0; n],
            lower: vec![0.0; n],
            previous: None,
        }
    }

    /// Forget the bounds: the next assignment computes every distance.
    pub(crate) fn reset(&mut self) {
        self.previous = None;
    }

    pub(crate) fn assign(&mut self, x: Cols<'_>, centers: &Array2<f64>) -> Assignment {
        let d = x.d;
        let k = centers.nrows();
        let cs: Vec<f64> = centers.iter().copied().collect();
        let center = |c: usize| &cs[c * d..(c + 1) * d];
        let fresh = match &self.previous {
            None => true,
            Some(prev) => {
                // Move the bounds by how far the centers moved.
                let moved: Vec<f64> = (0..k)
                    .map(|c| sq_dist(centers.row(c), prev.row(c)).sqrt())
                    .collect();
                let max_move = moved.iter().copied().fold(0.0, f64::max);
                for ((u, l), &lab) in self
                    .upper
                    .iter_mut()
                    .zip(self.lower.iter_mut())
                    .zip(&self.labels)
                {
                    *u = up(f64::from(*u) + moved[lab as usize]);
                    *l = down(f64::from(*l) - max_move);
                }
                false
            }
        };
        // Half the distance from each center to its nearest other center.
        let half: Vec<f64> = (0..k)
            .map(|c| {
                0.5 * (0..k)
                    .filter(|&o| o != c)
                    .map(|o| sq_dist(centers.row(c), centers.row(o)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let blocks: Vec<(Vec<f64>, Vec<f64>)> = self
            .labels
            .par_chunks_mut(strata_core::par::BLOCK_ROWS)
            .zip(self.upper.par_chunks_mut(strata_core::par::BLOCK_ROWS))
            .zip(self.lower.par_chunks_mut(strata_core::par::BLOCK_ROWS))
            .enumerate()
            .map(|(b, ((labels, upper), lower))| {
                let start = b * strata_core::par::BLOCK_ROWS;
                // 1. Bounds: which rows may have changed cluster.
                let mut todo: Vec<usize> = Vec::new();
                for (r, ((lab, u), l)) in labels
                    .iter()
                    .zip(upper.iter_mut())
                    .zip(lower.iter())
                    .enumerate()
                {
                    if fresh {
                        todo.push(r);
                        continue;
                    }
                    let lab = *lab as usize;
                    let m = half[lab].max(f64::from(*l));
                    if f64::from(*u) > m {
                        let exact = x.sq_dist_to(start + r, center(lab)).sqrt();
                        *u = up(exact);
                        if exact > m {
                            todo.push(r);
                        }
                    }
                }
                // 2. Exact nearest and second-nearest centers of those rows,
                //    with the assignment kernel on a gathered batch.
                if !todo.is_empty() {
                    let m = todo.len();
                    let mut batch = vec![0.0; m * d];
                    for j in 0..d {
                        let col = x.col(j);
                        for (t, &r) in todo.iter().enumerate() {
                            batch[j * m + t] = col[start + r];
                        }
                    }
                    let mut first: Vec<Label> = vec![0; m];
                    let mut d1 = vec![0.0; m];
                    let mut d2 = vec![0.0; m];
                    nearest_simd(
                        &batch,
                        m,
                        0,
                        &cs,
                        d,
                        &mut first,
                        &mut d1,
                        &mut d2,
                        &mut [],
                        &mut [],
                    );
                    for (i, &r) in todo.iter().enumerate() {
                        labels[r] = first[i];
                        upper[r] = up(d1[i].sqrt());
                        lower[r] = down(d2[i].sqrt());
                    }
                }
                // 3. Sums and counts over the rows in order.
                let mut sums = vec![0.0; k * d];
                let mut counts = vec![0.0; k];
                add_to_sums(x, start, labels, &mut sums, &mut counts);
                (sums, counts)
            })
            .collect();
        let mut sums = Array2::zeros((k, d));
        let mut counts = vec![0.0; k];
        for (s, c) in blocks {
            sums += &Array2::from_shape_vec((k, d), s).unwrap_or_else(|_| Array2::zeros((k, d)));
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
        self.previous = Some(centers.clone());
        Assignment {
            labels: self.labels.clone(),
            dist: Vec::new(),
            sums,
            counts,
            slack: Vec::new(),
            at: centers.clone(),
            cmax: 0.0,
            moved: x.n,
        }
    }
}

/// When Lloyd's step keeps bounds on the rows' distances (see [`Gaps`]).
/// The bounds never change a label, a sum or a count, only which rows are
/// computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracking {
    /// In every step (the tests hold the other mode to it).
    #[cfg_attr(not(test), allow(dead_code))]
    Always,
    /// In the first two steps (well-separated clusters often settle in the
    /// second, which then computes no row), and later in the steps that
    /// follow one in which at most one row in [`SETTLED`] changed cluster.
    /// While more rows move, the centers move far and most rows fail the
    /// bound test: the step computes them anyway, each with a fresh bound
    /// (two square roots and the rounding allowance) after a pass over
    /// every row's bound, which on the Spotify features costs more than the
    /// distances at small k x d (a step computing every row took 1.3 to 2
    /// times as long with the bounds as without, timed step by step with a
    /// temporary timer; the fits before and after are in the crate's
    /// README).
    Settled,
}

/// See [`Tracking::Settled`].
pub(crate) const SETTLED: usize = 50;

/// Lloyd iterations from `centers`, as scikit-learn's `_kmeans_single_lloyd`;
/// `xn` holds the rows' squared norms and norms, rounded up (see [`Gaps`]),
/// used for the bounds when `tracking` says so.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lloyd(
    x: Cols<'_>,
    mut centers: Array2<f64>,
    max_iter: usize,
    tol: f64,
    accelerated: bool,
    xn: (&[f64], &[f64]),
    tracking: Tracking,
    mut first: Option<Assignment>,
) -> Run {
    // The norms for step `it` from `prev`: none when it keeps no bounds.
    let norms_after = |it: usize, prev: Option<&Assignment>| {
        let keep = match tracking {
            Tracking::Always => true,
            Tracking::Settled => it <= 2 || prev.is_some_and(|p| p.moved * SETTLED <= x.n),
        };
        if keep { xn } else { (&[][..], &[][..]) }
    };
    let mut bounded_steps = 0;
    let k = centers.nrows();
    // The previous step's assignment, and whether its sums still match its
    // labels (not after empty clusters were re-seeded).
    let mut prev: Option<Assignment> = None;
    let mut prev_usable = false;
    let mut n_iter = 0;
    let mut converged = false;
    let mut bounds = accelerated.then(|| Bounds::new(x.n));
    // Labels that are those of the final centers (strict convergence).
    let mut final_labels: Option<Vec<Label>> = None;
    for it in 1..=max_iter {
        n_iter = it;
        let mut a = match (bounds.as_mut(), first.take()) {
            (_, Some(a)) => a,
            (Some(b), None) => b.assign(x, &centers),
            // The previous step's labels and bounds are moved into this one
            // (an unusable one stays, for the comparison of labels below).
            (None, None) => {
                let p = if prev_usable { prev.take() } else { None };
                let norms = norms_after(it, p.as_ref());
                bounded_steps += usize::from(
                    !norms.1.is_empty() && p.as_ref().is_some_and(|p| p.slack.len() == x.n),
                );
                assign_from(x, &centers, false, p, norms)
            }
        };
        let relocated = a.counts.contains(&0.0);
        if relocated {
            // Re-seeding needs every point's distance: take the exact pass,
            // and let the bounds start afresh.
            a = assign(x, &centers);
            relocate_empty(x, &mut a);
            if let Some(b) = bounds.as_mut() {
                b.reset();
            }
        }
        let mut new_centers = a.sums.clone();
        for c in 0..k {
            if a.counts[c] > 0.0 {
                new_centers.row_mut(c).mapv_inplace(|v| v / a.counts[c]);
            } else {
                new_centers.row_mut(c).assign(&centers.row(c));
            }
        }
        let shift: f64 = (&new_centers - &centers).mapv(|v| v * v).sum();
        centers = new_centers;
        // Strict convergence (labels unchanged) or a small enough shift.
        let same = a.moved == 0 || prev.as_ref().is_some_and(|p| p.labels == a.labels);
        if same && !relocated {
            // The same labels give the same centers: they are final.
            converged = true;
            final_labels = Some(a.labels);
            break;
        }
        prev_usable = !relocated;
        prev = Some(a);
        if shift <= tol {
            converged = true;
            break;
        }
    }
    // Otherwise one more assignment to the final centers (as scikit-learn);
    // the inertia is computed from exact distances.
    let labels = match final_labels {
        Some(l) => l,
        None if accelerated => assign(x, &centers).labels,
        None => {
            let p = prev.filter(|_| prev_usable);
            let norms = norms_after(n_iter + 1, p.as_ref());
            assign_from(x, &centers, false, p, norms).labels
        }
    };
    // The inertia is computed for all restarts at once (see `KMeans::fit`).
    Run {
        centers,
        labels,
        inertia: f64::NAN,
        n_iter,
        converged,
        bounded_steps,
    }
}

/// For several (centers, labels) pairs, the sum of the squared distances of
/// the rows to their given centers, in one pass over the data (groups of
/// rows at once; blocks summed in order), each computed exactly as alone.
pub(crate) fn labelled_inertias(x: Cols<'_>, runs: &[(&Array2<f64>, &[Label])]) -> Vec<f64> {
    let cs: Vec<Vec<f64>> = runs
        .iter()
        .map(|(c, _)| c.iter().copied().collect())
        .collect();
    let cs: Vec<&[f64]> = cs.iter().map(|c| c.as_slice()).collect();
    blocked_sum(
        x.n,
        |a, b| {
            let labels: Vec<&[Label]> = runs.iter().map(|(_, l)| &l[a..b]).collect();
            inertia_block_simd(x.data, x.n, a, &cs, &labels)
        },
        |acc: &mut Vec<f64>, p| acc.iter_mut().zip(p).for_each(|(s, v)| *s += v),
    )
    .unwrap_or_else(|| vec![0.0; runs.len()])
}

/// For each (centers `cs[i]`, labels `labels[i]`) pair, the sum over the
/// rows `a..a + len` of their squared distances to their centers: per row
/// over the features in order, rows in order. Each group of rows is read
/// once for all pairs.
#[inline(always)]
pub(crate) fn inertia_block_body(
    data: &[f64],
    n: usize,
    a: usize,
    cs: &[&[f64]],
    labels: &[&[Label]],
) -> Vec<f64> {
    let len = labels.first().map_or(0, |l| l.len());
    let d = data.len().checked_div(n).unwrap_or(0);
    let mut group = vec![[0.0f64; LANES]; d];
    let mut totals = vec![0.0; labels.len()];
    for r in (0..len).step_by(LANES) {
        let gl = LANES.min(len - r);
        prefetch_rows(data, n, d, a + r + PREFETCH_AHEAD);
        load_group(data, n, a + r, gl, &mut group);
        for ((total, cs), labels) in totals.iter_mut().zip(cs).zip(labels) {
            let mut lab: [Label; LANES] = [0; LANES];
            copy_lanes(&mut lab[..gl], &labels[r..r + gl]);
            let mut acc = [0.0f64; LANES];
            for (j, g) in group.iter().enumerate() {
                for l in 0..LANES {
                    let t = g[l] - cs[lab[l] as usize * d + j];
                    acc[l] += t * t;
                }
            }
            for &v in &acc[..gl] {
                *total += v;
            }
        }
    }
    totals
}

strata_core::simd_dispatch!(pub(crate) fn inertia_block_simd(data: &[f64], n: usize, a: usize, cs: &[&[f64]], labels: &[&[Label]]) -> Vec<f64> => inertia_block_body);

/// Empty clusters take the points farthest from their current centers (in
/// decreasing distance, ties by index), as scikit-learn does.
pub(crate) fn relocate_empty(x: Cols<'_>, a: &mut Assignment) {
    let empty: Vec<usize> = (0..a.counts.len())
        .filter(|&c| a.counts[c] == 0.0)
        .collect();
    if empty.is_empty() {
        return;
    }
    let mut order: Vec<usize> = (0..a.labels.len()).collect();
    order.sort_by(|&i, &j| a.dist[j].total_cmp(&a.dist[i]).then(i.cmp(&j)));
    for (&c, &far) in empty.iter().zip(order.iter()) {
        let old = a.labels[far] as usize;
        let xi = Array1::from(x.row(far));
        let mut o = a.sums.row_mut(old);
        o -= &xi;
        a.counts[old] -= 1.0;
        a.sums.row_mut(c).assign(&xi);
        a.counts[c] = 1.0;
    }
}
