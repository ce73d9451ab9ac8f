//! Cluster validity and agreement metrics, with scikit-learn's definitions.
//!
//! The silhouette is exact and blockwise: each block of rows computes its
//! distances to all points once (a block x n buffer, never n x n) and scores
//! every labeling given from them, so scoring all k and all algorithms on the
//! same data shares the distance computation. Distances are summed in fixed
//! point (see [`Fixed`]): integer sums do not depend on the order of the
//! additions, so a labeling's silhouette is the same to the bit whichever
//! labelings it is scored with, however they are grouped, on any thread count.

use crate::error::ClusterError;
use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;
use std::collections::HashMap;
use strata_core::check_finite;

/// Rows per silhouette block: 64 x 28,356 distances is 14.5 MB per thread.
const SILHOUETTE_BLOCK: usize = 64;

/// Labels renumbered 0..k in order of first appearance of each sorted label
/// value, and k.
fn dense(labels: &[usize]) -> (Vec<usize>, usize) {
    let mut values: Vec<usize> = labels.to_vec();
    values.sort_unstable();
    values.dedup();
    let top = values.last().map_or(0, |&v| v);
    let ids = if top <= 4 * labels.len() + 64 {
        // Labels are usually 0..k: a direct table.
        let mut index = vec![0usize; top + 1];
        for (i, &v) in values.iter().enumerate() {
            index[v] = i;
        }
        labels.iter().map(|&l| index[l]).collect()
    } else {
        labels
            .iter()
            .map(|l| values.binary_search(l).unwrap_or(0))
            .collect()
    };
    (ids, values.len())
}

fn check_len(x: ArrayView2<'_, f64>, labels: &[usize]) -> Result<(), ClusterError> {
    if labels.len() != x.nrows() {
        return Err(ClusterError::LengthMismatch {
            labels: labels.len(),
            samples: x.nrows(),
        });
    }
    Ok(())
}

/// Points whose distances are accumulated together, in registers.
const GROUP: usize = 16;

/// Rows whose distances are computed and summed together. Each group of
/// points read from the transposed data serves all of them, and the
/// distances are stored point by point with the rows side by side (`[j][r]`),
/// so one vector of [`ROWS`] lanes carries a point's distances to all of them
/// into the per-cell sums.
const ROWS: usize = 4;

/// Fixed-point distances: a distance `v` is stored as the integer nearest to
/// `v * scale`, where `scale` is a power of two chosen from the data alone
/// (the bound of every distance, [`Fixed::of`]) so that each stored
/// distance is below 2^51 and a sum of n of them below 2^62. Sums of such
/// integers are exact, hence independent of the order and grouping of the
/// additions. On the Spotify tracks (28,356 rows) one unit is 8.8e-15 of
/// the bounding box's diagonal (25.7 in the prepared features).
#[derive(Clone, Copy, Debug)]
struct Fixed {
    scale: f64,
}

/// 2^52: adding it to a value in [0, 2^51] leaves, in the low bits of the
/// sum, that value rounded to the nearest integer.
const ROUNDER: f64 = 4_503_599_627_370_496.0;

impl Fixed {
    /// The scale for n rows whose distances are at most `bound`.
    fn of(n: usize, bound: f64) -> Self {
        let cap = (2f64.powi(62) / n.max(1) as f64).min(2f64.powi(51));
        let mut scale = 1.0f64;
        if bound > 0.0 {
            // Powers of two, so that scaling is exact; the loops end within
            // about 2,100 steps since bound is finite and positive. The
            // ceiling of 2^1000 binds only for a bound under 2^-950, data
            // whose squared differences underflow to zero anyway.
            while bound * scale > cap {
                scale *= 0.5;
            }
            while bound * scale * 2.0 <= cap && scale < 2f64.powi(1000) {
                scale *= 2.0;
            }
        }
        Fixed { scale }
    }

    /// A sum of fixed-point distances, back in units of distance.
    fn value(self, sum: i64) -> f64 {
        sum as f64 / self.scale
    }
}

/// An upper bound on every distance between rows of `x`, with margin for the
/// rounding of the computed distances: the diagonal of the bounding box.
/// `None` when it overflows.
fn distance_bound(x: ArrayView2<'_, f64>) -> Option<f64> {
    let mut squares = 0.0f64;
    for col in x.columns() {
        let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let range = hi - lo;
        squares += range * range;
    }
    let bound = squares.sqrt() * (1.0 + 1e-9);
    bound.is_finite().then_some(bound)
}

/// Euclidean distances from [`ROWS`] rows (`xi` holds them one after the
/// other) to every point, in fixed point at `scale` (see [`Fixed`]), with
/// the data transposed (`xt` is d x n, row-major): groups of points are
/// consecutive in each row of `xt`, so their squared differences accumulate
/// in vector registers. Per pair the squared differences are added feature
/// by feature, so every distance is the one a single row would get.
/// `dist[j * ROWS + r]` is the distance from row `r` to point `j`.
#[inline(always)]
fn distance_rows_body(xi: &[f64], xt: &[f64], n: usize, scale: f64, dist: &mut [i64]) {
    // Below 2^51 by the choice of scale, so the difference is that integer.
    let fixed = |v: f64| (v.sqrt() * scale + ROUNDER).to_bits().wrapping_sub(ROUNDER.to_bits()) as i64;
    let d = xi.len() / ROWS;
    let full = n / GROUP * GROUP;
    for start in (0..full).step_by(GROUP) {
        let mut acc = [[0.0f64; ROWS]; GROUP];
        for f in 0..d {
            let Ok(col) = <&[f64; GROUP]>::try_from(&xt[f * n + start..f * n + start + GROUP])
            else {
                continue;
            };
            for (l, a) in acc.iter_mut().enumerate() {
                for (r, v) in a.iter_mut().enumerate() {
                    let t = xi[r * d + f] - col[l];
                    *v += t * t;
                }
            }
        }
        for (o, a) in dist[start * ROWS..(start + GROUP) * ROWS]
            .chunks_exact_mut(ROWS)
            .zip(acc)
        {
            for (o, v) in o.iter_mut().zip(a) {
                *o = fixed(v);
            }
        }
    }
    for j in full..n {
        for r in 0..ROWS {
            let mut a = 0.0;
            for f in 0..d {
                let t = xi[r * d + f] - xt[f * n + j];
                a += t * t;
            }
            dist[j * ROWS + r] = fixed(a);
        }
    }
}

/// Per-cell sums of the [`ROWS`] rows' distances (`dist` as
/// [`distance_rows_body`] leaves it) under the joint labels `cell`:
/// `sums[c * ROWS + r]` is row `r`'s sum over the points of cell `c`, in
/// fixed point. One vector addition per point serves all the rows.
#[inline(always)]
fn cell_sums_body(cell: &[u32], dist: &[i64], sums: &mut [i64]) {
    sums.iter_mut().for_each(|v| *v = 0);
    for (&c, d) in cell.iter().zip(dist.chunks_exact(ROWS)) {
        let c = c as usize * ROWS;
        let (Some(s), Ok(d)) = (sums.get_mut(c..c + ROWS), <&[i64; ROWS]>::try_from(d)) else {
            continue;
        };
        // Sums stay below 2^62 by the choice of scale: never wraps.
        for (s, d) in s.iter_mut().zip(d) {
            *s = s.wrapping_add(*d);
        }
    }
}

strata_core::simd_dispatch!(avx512 fn distance_rows(xi: &[f64], xt: &[f64], n: usize, scale: f64, dist: &mut [i64]) => distance_rows_body);
strata_core::simd_dispatch!(avx512 fn cell_sums(cell: &[u32], dist: &[i64], sums: &mut [i64]) => cell_sums_body);

/// Most cells of a joint labeling: the per-cell sums of [`ROWS`] rows
/// (32 KB) stay in the L1 cache.
const MAX_CELLS: usize = 1024;

/// Labelings scored together: each point's cell is the tuple of its labels
/// under the `members` (renumbered 0..cells in order of first appearance), so
/// one pass of per-cell distance sums serves all of them; a member's cluster
/// sums are the sums over the cells of each cluster (`cell_label[m][cell]`).
struct JointGroup {
    members: Vec<usize>,
    joint: Vec<u32>,
    cells: usize,
    cell_label: Vec<Vec<usize>>,
}

impl JointGroup {
    /// Per member, its cells ordered by cluster (by cell within one) and
    /// where each cluster's cells start: a cluster's sums (one per row of
    /// the [`ROWS`]) are then running totals in a register, without each
    /// addition waiting for a store to the same cluster.
    fn cells_by_cluster(&self, ks: &[usize]) -> Vec<(Vec<u32>, Vec<usize>)> {
        self.members
            .iter()
            .zip(&self.cell_label)
            .map(|(&m, map)| {
                let k = ks[m];
                let mut offsets = vec![0usize; k + 1];
                for &c in map {
                    offsets[c + 1] += 1;
                }
                for c in 0..k {
                    offsets[c + 1] += offsets[c];
                }
                let mut next = offsets.clone();
                let mut order = vec![0u32; map.len()];
                for (cell, &c) in map.iter().enumerate() {
                    order[next[c]] = cell as u32;
                    next[c] += 1;
                }
                (order, offsets)
            })
            .collect()
    }
}

/// Groups the labelings, in order, so that each group has at most
/// [`MAX_CELLS`] cells (a labeling with more clusters than that is a group
/// of its own).
fn joint_groups(prepared: &[(Vec<usize>, usize, Vec<usize>)], n: usize) -> Vec<JointGroup> {
    let mut groups: Vec<JointGroup> = Vec::new();
    for (m, (labels, k, _)) in prepared.iter().enumerate() {
        if let Some(g) = groups.last_mut() {
            // Cells of the group refined by this labeling.
            let mut index: HashMap<(u32, usize), usize> = HashMap::new();
            let mut joint = Vec::with_capacity(n);
            let mut first = Vec::new();
            for (&cell, &l) in g.joint.iter().zip(labels) {
                let next = index.len();
                let id = *index.entry((cell, l)).or_insert(next);
                if id == first.len() {
                    first.push((cell, l));
                }
                // At most MAX_CELLS + 1 cells, far below u32::MAX.
                joint.push(id as u32);
                if index.len() > MAX_CELLS {
                    break;
                }
            }
            if index.len() <= MAX_CELLS {
                let mut cell_label: Vec<Vec<usize>> = g
                    .cell_label
                    .iter()
                    .map(|map| first.iter().map(|&(cell, _)| map[cell as usize]).collect())
                    .collect();
                cell_label.push(first.iter().map(|&(_, l)| l).collect());
                g.members.push(m);
                g.joint = joint;
                g.cells = first.len();
                g.cell_label = cell_label;
                continue;
            }
        }
        groups.push(JointGroup {
            members: vec![m],
            // Labels are below k, which the caller keeps within u32.
            joint: labels.iter().map(|&l| l as u32).collect(),
            cells: *k,
            cell_label: vec![(0..*k).collect()],
        });
    }
    groups
}

/// Silhouette of every sample for each labeling, sharing the distances.
/// Each labeling needs between 2 and n - 1 distinct labels.
pub fn silhouette_samples_many(
    x: ArrayView2<'_, f64>,
    labelings: &[&[usize]],
) -> Result<Vec<Array1<f64>>, ClusterError> {
    check_finite(x, None)?;
    let (n, d) = x.dim();
    let mut prepared = Vec::with_capacity(labelings.len());
    for l in labelings {
        check_len(x, l)?;
        let (dl, k) = dense(l);
        if k < 2 || k > n.saturating_sub(1) {
            return Err(ClusterError::SilhouetteLabels {
                got: k,
                max: n.saturating_sub(1),
            });
        }
        if k > u32::MAX as usize {
            return Err(ClusterError::InvalidParameter {
                name: "labels",
                value: format!("{k} distinct labels"),
                expected: format!("at most {}", u32::MAX),
            });
        }
        let mut counts = vec![0usize; k];
        dl.iter().for_each(|&c| counts[c] += 1);
        prepared.push((dl, k, counts));
    }
    let fixed = Fixed::of(
        n,
        distance_bound(x).ok_or_else(|| ClusterError::InvalidParameter {
            name: "x",
            value: "values whose distances overflow".into(),
            expected: "distances within the range of f64".into(),
        })?,
    );
    let xt: Vec<f64> = x.t().iter().copied().collect(); // d x n, row-major
    let standard = x.as_standard_layout();
    let xs = standard.as_slice().unwrap_or(&[]);
    let groups = joint_groups(&prepared, n);
    let max_cells = groups.iter().map(|g| g.cells).max().unwrap_or(0);
    let ks: Vec<usize> = prepared.iter().map(|p| p.1).collect();
    let by_cluster: Vec<Vec<(Vec<u32>, Vec<usize>)>> =
        groups.iter().map(|g| g.cells_by_cluster(&ks)).collect();
    let starts: Vec<usize> = (0..n).step_by(SILHOUETTE_BLOCK).collect();
    let per_block: Vec<Vec<Vec<f64>>> = starts
        .into_par_iter()
        .map(|a| {
            let b = (a + SILHOUETTE_BLOCK).min(n);
            let mut rows = vec![0.0; ROWS * d];
            let mut dists = vec![0i64; ROWS * n];
            let mut per_cell = vec![0i64; ROWS * max_cells];
            // Cluster sums of every labeling for the ROWS rows, cluster by
            // cluster (`[c * ROWS + r]`).
            let mut all_sums: Vec<Vec<i64>> =
                prepared.iter().map(|p| vec![0; ROWS * p.1]).collect();
            let mut out: Vec<Vec<f64>> =
                prepared.iter().map(|_| Vec::with_capacity(b - a)).collect();
            for i in (a..b).step_by(ROWS) {
                // The block's rows go by ROWS; a last short group repeats
                // its last row (each row's sums are its own, whatever rows
                // share its vector), and the copies are not scored.
                let live = ROWS.min(b - i);
                for r in 0..ROWS {
                    let row = i + r.min(live - 1);
                    rows[r * d..(r + 1) * d].copy_from_slice(&xs[row * d..(row + 1) * d]);
                }
                distance_rows(&rows, &xt, n, fixed.scale, &mut dists);
                for (g, members) in groups.iter().zip(&by_cluster) {
                    let sums = &mut per_cell[..ROWS * g.cells];
                    cell_sums(&g.joint, &dists, sums);
                    for (&m, (order, offsets)) in g.members.iter().zip(members) {
                        for (total, w) in all_sums[m].chunks_exact_mut(ROWS).zip(offsets.windows(2)) {
                            total.iter_mut().for_each(|t| *t = 0);
                            for &cell in &order[w[0]..w[1]] {
                                let cell = cell as usize * ROWS;
                                for (t, v) in total.iter_mut().zip(&sums[cell..cell + ROWS]) {
                                    *t = t.wrapping_add(*v);
                                }
                            }
                        }
                    }
                }
                for (((labels, k, counts), o), sums) in
                    prepared.iter().zip(out.iter_mut()).zip(&all_sums)
                {
                    for r in 0..live {
                        let own = labels[i + r];
                        if counts[own] <= 1 {
                            o.push(0.0);
                            continue;
                        }
                        let intra = fixed.value(sums[own * ROWS + r]) / (counts[own] - 1) as f64;
                        let inter = (0..*k)
                            .filter(|&c| c != own)
                            .map(|c| fixed.value(sums[c * ROWS + r]) / counts[c] as f64)
                            .fold(f64::INFINITY, f64::min);
                        let m = intra.max(inter);
                        o.push(if m > 0.0 { (inter - intra) / m } else { 0.0 });
                    }
                }
            }
            out
        })
        .collect();
    let mut result: Vec<Vec<f64>> = prepared.iter().map(|_| Vec::with_capacity(n)).collect();
    for block in per_block {
        for (r, b) in result.iter_mut().zip(block) {
            r.extend(b);
        }
    }
    Ok(result.into_iter().map(Array1::from).collect())
}

/// Silhouette of every sample for one labeling.
pub fn silhouette_samples(
    x: ArrayView2<'_, f64>,
    labels: &[usize],
) -> Result<Array1<f64>, ClusterError> {
    Ok(silhouette_samples_many(x, &[labels])?.remove(0))
}

/// Mean silhouette for each labeling, sharing the distances.
pub fn silhouette_scores(
    x: ArrayView2<'_, f64>,
    labelings: &[&[usize]],
) -> Result<Vec<f64>, ClusterError> {
    Ok(silhouette_samples_many(x, labelings)?
        .into_iter()
        .map(|s| s.mean().unwrap_or(0.0))
        .collect())
}

/// Mean silhouette of one labeling.
pub fn silhouette_score(x: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64, ClusterError> {
    Ok(silhouette_scores(x, &[labels])?[0])
}

/// Silhouette estimated on a random subsample of `sample_size` rows (as
/// scikit-learn's `silhouette_score(..., sample_size=...)`): returns the score
/// and the sample size actually used, which a report must state.
pub fn silhouette_sampled(
    x: ArrayView2<'_, f64>,
    labels: &[usize],
    sample_size: usize,
    seed: strata_core::Seed,
) -> Result<(f64, usize), ClusterError> {
    check_len(x, labels)?;
    let n = x.nrows();
    if sample_size >= n {
        return Ok((silhouette_score(x, labels)?, n));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    strata_core::Rng::new(seed).shuffle(&mut idx);
    idx.truncate(sample_size);
    idx.sort_unstable();
    let xs = x.select(ndarray::Axis(0), &idx);
    let ls: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    Ok((silhouette_score(xs.view(), &ls)?, sample_size))
}

/// The silhouette of every labeling within each group of rows: group `g`'s
/// score is the mean silhouette of the rows `groups[g]`, each measured
/// against the other rows of its group only (one shared distance pass per
/// group). Disjoint groups give independent scores of the same labels,
/// whose spread tells how much a score would move with other rows of the
/// same population. A labeling gets `None` when some group holds fewer than
/// two of its clusters, or only singletons.
pub fn silhouette_group_scores(
    x: ArrayView2<'_, f64>,
    labelings: &[&[usize]],
    groups: &[Vec<usize>],
) -> Result<Vec<Option<Vec<f64>>>, ClusterError> {
    let n = x.nrows();
    for l in labelings {
        check_len(x, l)?;
    }
    if let Some(&row) = groups.iter().flatten().find(|&&i| i >= n) {
        return Err(ClusterError::InvalidParameter {
            name: "groups",
            value: format!("row {row}"),
            expected: format!("row indices below {n}"),
        });
    }
    let mut out: Vec<Option<Vec<f64>>> = vec![Some(Vec::with_capacity(groups.len())); labelings.len()];
    for g in groups {
        let sub: Vec<Vec<usize>> = labelings
            .iter()
            .map(|l| g.iter().map(|&i| l[i]).collect())
            .collect();
        // Labelings still scored in every group so far that can be scored
        // in this one; the others drop out.
        let scored: Vec<usize> = (0..labelings.len())
            .filter(|&j| {
                let k = dense(&sub[j]).1;
                out[j].is_some() && k >= 2 && k < g.len()
            })
            .collect();
        for (j, o) in out.iter_mut().enumerate() {
            if !scored.contains(&j) {
                *o = None;
            }
        }
        if scored.is_empty() {
            continue;
        }
        let xg = x.select(ndarray::Axis(0), g);
        let refs: Vec<&[usize]> = scored.iter().map(|&j| sub[j].as_slice()).collect();
        let s = silhouette_scores(xg.view(), &refs)?;
        for (pos, &j) in scored.iter().enumerate() {
            if let Some(v) = &mut out[j] {
                v.push(s[pos]);
            }
        }
    }
    Ok(out)
}

/// Checks shared by the centroid-based indices: finite data, one label per
/// row, between 2 and n - 1 clusters. Returns the dense labels and k.
fn checked_dense(
    x: ArrayView2<'_, f64>,
    labels: &[usize],
    metric: &'static str,
) -> Result<(Vec<usize>, usize), ClusterError> {
    check_finite(x, None)?;
    check_len(x, labels)?;
    let (l, k) = dense(labels);
    if k < 2 || k > x.nrows().saturating_sub(1) {
        return Err(ClusterError::TooFewClusters { metric, got: k });
    }
    Ok((l, k))
}

/// Centroids and sizes of the clusters of labels in `0..k` (an empty
/// cluster keeps a zero row and size 0).
pub fn centroids(x: ArrayView2<'_, f64>, labels: &[usize], k: usize) -> (Array2<f64>, Vec<usize>) {
    let mut c = Array2::zeros((k, x.ncols()));
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        let mut row = c.row_mut(l);
        row += &x.row(i);
        counts[l] += 1;
    }
    for (l, &m) in counts.iter().enumerate() {
        if m > 0 {
            c.row_mut(l).mapv_inplace(|v| v / m as f64);
        }
    }
    (c, counts)
}

/// Calinski-Harabasz index: between- over within-cluster dispersion, scaled.
pub fn calinski_harabasz(x: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64, ClusterError> {
    let (l, k) = checked_dense(x, labels, "Calinski-Harabasz")?;
    let n = x.nrows();
    let mean = x
        .mean_axis(ndarray::Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let (c, counts) = centroids(x, &l, k);
    let extra: f64 = (0..k)
        .map(|j| counts[j] as f64 * (&c.row(j) - &mean).mapv(|v| v * v).sum())
        .sum();
    let intra: f64 = l
        .iter()
        .enumerate()
        .map(|(i, &j)| (&x.row(i) - &c.row(j)).mapv(|v| v * v).sum())
        .sum();
    Ok(if intra == 0.0 {
        1.0
    } else {
        extra * (n - k) as f64 / (intra * (k - 1) as f64)
    })
}

/// Davies-Bouldin index: mean over clusters of the worst ratio of summed
/// scatters to centroid distance (lower is better).
pub fn davies_bouldin(x: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64, ClusterError> {
    let (l, k) = checked_dense(x, labels, "Davies-Bouldin")?;
    let (c, counts) = centroids(x, &l, k);
    let mut intra = vec![0.0; k];
    for (i, &j) in l.iter().enumerate() {
        intra[j] += (&x.row(i) - &c.row(j)).mapv(|v| v * v).sum().sqrt();
    }
    for j in 0..k {
        intra[j] /= counts[j] as f64;
    }
    let cd = |a: usize, b: usize| (&c.row(a) - &c.row(b)).mapv(|v| v * v).sum().sqrt();
    if intra.iter().all(|&v| v == 0.0) || (0..k).all(|a| (0..k).all(|b| cd(a, b) == 0.0)) {
        return Ok(0.0);
    }
    let scores: Vec<f64> = (0..k)
        .map(|a| {
            (0..k)
                .filter(|&b| b != a)
                .map(|b| {
                    let d = cd(a, b);
                    if d == 0.0 {
                        0.0
                    } else {
                        (intra[a] + intra[b]) / d
                    }
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    Ok(scores.iter().sum::<f64>() / k as f64)
}

/// Non-zero cells of a contingency table, keyed by (row, column).
/// The non-zero cells of a contingency table, in (row, column) order.
type Cells = Vec<((usize, usize), u64)>;

/// Contingency table of two labelings (dense ids), with row and column sums.
/// Counted in a dense table unless it would be large (counts are integers,
/// so the way they are gathered changes no result).
fn contingency(a: &[usize], b: &[usize]) -> (Cells, Vec<u64>, Vec<u64>) {
    let (da, ka) = dense(a);
    let (db, kb) = dense(b);
    let mut ra = vec![0u64; ka];
    let mut rb = vec![0u64; kb];
    for (&x, &y) in da.iter().zip(&db) {
        ra[x] += 1;
        rb[y] += 1;
    }
    let cells: Cells = if ka.saturating_mul(kb) <= 1 << 20 {
        let mut table = vec![0u64; ka * kb];
        for (&x, &y) in da.iter().zip(&db) {
            table[x * kb + y] += 1;
        }
        table
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v > 0)
            .map(|(c, &v)| ((c / kb, c % kb), v))
            .collect()
    } else {
        let mut table: HashMap<(usize, usize), u64> = HashMap::new();
        for (&x, &y) in da.iter().zip(&db) {
            *table.entry((x, y)).or_default() += 1;
        }
        let mut cells: Cells = table.into_iter().collect();
        cells.sort_unstable();
        cells
    };
    (cells, ra, rb)
}

/// Adjusted Rand index between two labelings (1 = identical partitions,
/// about 0 = chance agreement).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> Result<f64, ClusterError> {
    if a.len() != b.len() {
        return Err(ClusterError::LengthMismatch {
            labels: b.len(),
            samples: a.len(),
        });
    }
    let n = a.len() as f64;
    let (table, ra, rb) = contingency(a, b);
    // Pair confusion matrix, as scikit-learn computes it.
    let sum_sq: f64 = table.iter().map(|&(_, v)| (v as f64) * (v as f64)).sum();
    let sum_a: f64 = ra.iter().map(|&v| (v as f64) * (v as f64)).sum();
    let sum_b: f64 = rb.iter().map(|&v| (v as f64) * (v as f64)).sum();
    let tp = sum_sq - n;
    let fp = sum_b - sum_sq; // pairs together in b, apart in a
    let fn_ = sum_a - sum_sq;
    let tn = n * n - fp - fn_ - sum_sq;
    if fn_ == 0.0 && fp == 0.0 {
        return Ok(1.0);
    }
    Ok(2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn)))
}

fn entropy(counts: &[u64]) -> f64 {
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return 1.0;
    }
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| (c as f64 / total) * ((c as f64).ln() - total.ln()))
        .sum::<f64>()
}

/// Normalized mutual information with the arithmetic mean of the entropies
/// (scikit-learn's default).
pub fn normalized_mutual_info(a: &[usize], b: &[usize]) -> Result<f64, ClusterError> {
    if a.len() != b.len() {
        return Err(ClusterError::LengthMismatch {
            labels: b.len(),
            samples: a.len(),
        });
    }
    let (table, ra, rb) = contingency(a, b);
    if (ra.len() == 1 && rb.len() == 1) || (ra.is_empty() && rb.is_empty()) {
        return Ok(1.0);
    }
    let n: f64 = a.len() as f64;
    let mut mi = 0.0;
    for &((i, j), nij) in &table {
        let nij = nij as f64;
        mi += (nij / n) * (nij.ln() - n.ln())
            + (nij / n) * (-(ra[i] as f64).ln() - (rb[j] as f64).ln() + n.ln() + n.ln());
    }
    let mi = mi.max(0.0);
    let (ha, hb) = (entropy(&ra), entropy(&rb));
    let normalizer = (0.5 * (ha + hb)).max(f64::EPSILON);
    Ok(mi / normalizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use strata_core::{SimdLevel, with_simd_cap};

    /// ARI from pair counts, the textbook way (every unordered pair once).
    fn ari_by_pairs(a: &[usize], b: &[usize]) -> f64 {
        let (mut tp, mut fp, mut fn_, mut tn) = (0f64, 0f64, 0f64, 0f64);
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                match (a[i] == a[j], b[i] == b[j]) {
                    (true, true) => tp += 1.0,
                    (false, true) => fp += 1.0,
                    (true, false) => fn_ += 1.0,
                    (false, false) => tn += 1.0,
                }
            }
        }
        2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
    }

    #[test]
    fn ari_matches_pair_counting_for_small_and_huge_tables() {
        let n = 2100;
        // Few clusters (the dense table), then label values far above n
        // and over 2^20 cells (the sorted and hashed paths).
        let small_a: Vec<usize> = (0..n).map(|i| (i * 13) % 7).collect();
        let small_b: Vec<usize> = (0..n).map(|i| (i / 300 + i % 3) % 9).collect();
        let huge_a: Vec<usize> = (0..n).map(|i| (i % 1030) * 1_000_003).collect();
        let huge_b: Vec<usize> = (0..n).map(|i| (i * 7) % 1025).collect();
        for (a, b) in [(&small_a, &small_b), (&huge_a, &huge_b), (&small_a, &huge_b)] {
            let ours = adjusted_rand_index(a, b).unwrap();
            let reference = ari_by_pairs(a, b);
            assert!((ours - reference).abs() < 1e-12, "{ours} against {reference}");
            // Renaming the labels changes nothing, to the bit.
            let renamed: Vec<usize> = a.iter().map(|&l| 5 * l + 11).collect();
            assert_eq!(adjusted_rand_index(&renamed, b).unwrap().to_bits(), ours.to_bits());
            assert_eq!(
                normalized_mutual_info(&renamed, b).unwrap().to_bits(),
                normalized_mutual_info(a, b).unwrap().to_bits()
            );
        }
    }

    #[test]
    fn group_scores_are_each_groups_own_silhouette() {
        let mut r = strata_core::Rng::new(strata_core::Seed(21));
        let n = 90;
        let x = Array2::from_shape_fn((n, 3), |(i, _)| r.normal() + if i % 3 == 0 { 4.0 } else { 0.0 });
        let a: Vec<usize> = (0..n).map(|i| usize::from(i % 3 == 0)).collect();
        let b: Vec<usize> = (0..n).map(|i| (i * 7) % 4).collect();
        // Uneven, interleaved groups (not contiguous rows).
        let groups: Vec<Vec<usize>> = vec![
            (0..n).filter(|i| i % 3 == 1).collect(),
            (0..n).filter(|i| i % 3 != 1 && i % 2 == 0).collect(),
            (0..n).filter(|i| i % 3 != 1 && i % 2 == 1).collect(),
        ];
        let got = silhouette_group_scores(x.view(), &[&a, &b], &groups).unwrap();
        // `a` has one cluster only in the first group (rows i % 3 == 1 are
        // all label 0): not scored.
        assert_eq!(got[0], None);
        let scores = got[1].as_ref().expect("b has several clusters in every group");
        assert_eq!(scores.len(), 3);
        for (g, rows) in groups.iter().enumerate() {
            let xg = x.select(ndarray::Axis(0), rows);
            let lg: Vec<usize> = rows.iter().map(|&i| b[i]).collect();
            let direct = silhouette_score(xg.view(), &lg).unwrap();
            assert_eq!(scores[g].to_bits(), direct.to_bits(), "group {g}");
        }
        // Without the first group, `a` is scored too, and `b` the same.
        let got = silhouette_group_scores(x.view(), &[&a, &b], &groups[1..]).unwrap();
        assert_eq!(got[0].as_ref().map(Vec::len), Some(2));
        assert_eq!(got[1].as_deref(), Some(&scores[1..]));
        let bad = silhouette_group_scores(x.view(), &[&a], &[vec![0, 1, n]]);
        assert!(matches!(bad, Err(ClusterError::InvalidParameter { name: "groups", .. })));
    }

    #[test]
    fn silhouette_by_hand() {
        // Two tight pairs far apart on a line: 0, 1 | 10, 11.
        let x = array![[0.0], [1.0], [10.0], [11.0]];
        let s = silhouette_samples(x.view(), &[0, 0, 1, 1]).unwrap();
        // point 0: a = 1, b = (10 + 11) / 2 = 10.5 -> 1 - 1/10.5
        assert!((s[0] - (1.0 - 1.0 / 10.5)).abs() < 1e-15);
        assert!((s[1] - (1.0 - 1.0 / 9.5)).abs() < 1e-15);
        let many = silhouette_scores(x.view(), &[&[0, 0, 1, 1], &[0, 1, 0, 1]]).unwrap();
        assert!(many[0] > 0.8 && many[1] < 0.0);
        assert!(matches!(
            silhouette_score(x.view(), &[0, 0, 0, 0]),
            Err(ClusterError::SilhouetteLabels { got: 1, .. })
        ));
        assert!(matches!(
            silhouette_score(x.view(), &[0, 1, 2, 3]),
            Err(ClusterError::SilhouetteLabels { got: 4, max: 3 })
        ));
        assert!(matches!(
            silhouette_score(x.view(), &[0, 1]),
            Err(ClusterError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn sampled_silhouette_states_its_size_and_is_close() {
        let mut r = strata_core::Rng::new(strata_core::Seed(5));
        let x = Array2::from_shape_fn((2000, 2), |(i, _)| (i % 2) as f64 * 6.0 + r.normal());
        let labels: Vec<usize> = (0..2000).map(|i| i % 2).collect();
        let exact = silhouette_score(x.view(), &labels).unwrap();
        let (est, m) = silhouette_sampled(x.view(), &labels, 500, strata_core::Seed(1)).unwrap();
        assert_eq!(m, 500);
        assert!((est - exact).abs() < 0.03, "{est} vs {exact}");
        assert_eq!(
            silhouette_sampled(x.view(), &labels, 5000, strata_core::Seed(1)).unwrap(),
            (exact, 2000)
        );
    }

    #[test]
    fn wide_and_baseline_kernels_are_bit_identical() {
        let mut r = strata_core::Rng::new(strata_core::Seed(6));
        // n not a multiple of the group of points.
        let (n, d) = (1500 + GROUP / 2 + 1, 5);
        let xt: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
        let rows: Vec<f64> = (0..ROWS * d).map(|_| r.normal()).collect();
        let scale = Fixed::of(n, 20.0).scale;
        let (mut wide, mut base) = (vec![0; ROWS * n], vec![0; ROWS * n]);
        distance_rows_body(&rows, &xt, n, scale, &mut base);
        // Each build the CPU has (AVX2, and AVX-512 where present).
        let mut avx2 = vec![0; ROWS * n];
        with_simd_cap(SimdLevel::Avx2, || distance_rows(&rows, &xt, n, scale, &mut avx2));
        distance_rows(&rows, &xt, n, scale, &mut wide);
        assert_eq!(avx2, wide);
        // Every distance is that of the row and point alone, its squared
        // differences added feature by feature, scaled and rounded.
        for k in 0..ROWS {
            for j in 0..n {
                let mut a = 0.0f64;
                for f in 0..d {
                    let t = rows[k * d + f] - xt[f * n + j];
                    a += t * t;
                }
                let alone = (a.sqrt() * scale).round_ties_even() as i64;
                assert_eq!(wide[j * ROWS + k], alone, "row {k}, point {j}");
                assert_eq!(base[j * ROWS + k], alone, "row {k}, point {j}");
                assert!((alone as f64 / scale - a.sqrt()).abs() <= 0.5 / scale);
            }
        }
        // Per-cell sums: each row's, as a plain scatter.
        let cells = 7;
        let cell: Vec<u32> = (0..n).map(|j| ((j * 5 + j / 3) % cells) as u32).collect();
        let (mut sa, mut sb) = (vec![1; ROWS * cells], vec![2; ROWS * cells]);
        cell_sums(&cell, &wide, &mut sa);
        cell_sums_body(&cell, &wide, &mut sb);
        let mut s2 = vec![3; ROWS * cells];
        with_simd_cap(SimdLevel::Avx2, || cell_sums(&cell, &wide, &mut s2));
        for k in 0..ROWS {
            let mut plain = vec![0i64; cells];
            for (j, &c) in cell.iter().enumerate() {
                plain[c as usize] += wide[j * ROWS + k];
            }
            for c in 0..cells {
                assert_eq!(sa[c * ROWS + k], plain[c], "row {k}, cell {c}");
                assert_eq!(sb[c * ROWS + k], plain[c], "row {k}, cell {c}");
                assert_eq!(s2[c * ROWS + k], plain[c], "row {k}, cell {c}");
            }
        }
    }

    /// The fixed-point unit follows the largest distance: a far outlier
    /// coarsens it for every row. With one point 10^6 away from clusters of
    /// unit spread, each silhouette still matches a plain floating-point
    /// computation to 1e-9 (4e-12 measured; a unit 2^20 times coarser gives
    /// 5e-6 and fails).
    #[test]
    fn fixed_point_keeps_precision_with_a_far_outlier() {
        let mut r = strata_core::Rng::new(strata_core::Seed(12));
        let n = 1500;
        let mut x = Array2::from_shape_fn((n, 3), |(i, _)| (i % 3) as f64 * 4.0 + r.normal());
        x[[n - 1, 0]] = 1e6;
        let labels: Vec<usize> = (0..n).map(|i| if i == n - 1 { 3 } else { i % 3 }).collect();
        let fast = silhouette_samples(x.view(), &labels).unwrap();
        let k = 4;
        let counts: Vec<usize> = (0..k).map(|c| labels.iter().filter(|&&l| l == c).count()).collect();
        let mut worst = 0.0f64;
        for i in 0..n {
            let mut sums = vec![0.0f64; k];
            for j in 0..n {
                let d2: f64 = (0..3).map(|f| (x[[i, f]] - x[[j, f]]).powi(2)).sum();
                sums[labels[j]] += d2.sqrt();
            }
            let own = labels[i];
            let plain = if counts[own] <= 1 {
                0.0
            } else {
                let a = sums[own] / (counts[own] - 1) as f64;
                let b = (0..k)
                    .filter(|&c| c != own)
                    .map(|c| sums[c] / counts[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                (b - a) / a.max(b)
            };
            worst = worst.max((fast[i] - plain).abs());
        }
        assert!(worst < 1e-9, "largest difference {worst:e}");
    }

    #[test]
    fn fixed_point_scale_is_the_largest_power_of_two_that_fits() {
        for (n, bound) in [
            (2usize, 1.0f64),
            (300, 7.3),
            (28_356, 13.9),
            (1 << 20, 1e-200),
            (10, 1e300),
            (5, f64::MAX / 4.0),
            (100, 0.0),
        ] {
            let scale = Fixed::of(n, bound).scale;
            assert_eq!(scale.log2().fract(), 0.0, "{n} {bound}: {scale}");
            let cap = (2f64.powi(62) / n as f64).min(2f64.powi(51));
            if bound > 0.0 {
                assert!(bound * scale <= cap, "{n} {bound}: {scale}");
                assert!(bound * scale * 2.0 > cap || scale == 2f64.powi(1000));
                // n distances at the bound sum below 2^62; each is exact
                // under the rounding constant.
                assert!(n as f64 * (bound * scale) <= 2f64.powi(62));
            } else {
                assert_eq!(scale, 1.0);
            }
        }
        let x = Array2::from_shape_vec((2, 2), vec![0.0, 0.0, 3.0, -4.0]).unwrap();
        let b = distance_bound(x.view()).unwrap();
        assert!((5.0..5.0 * (1.0 + 1e-8)).contains(&b), "{b}");
        let huge = Array2::from_shape_vec((3, 1), vec![-f64::MAX, f64::MAX, 0.0]).unwrap();
        assert!(distance_bound(huge.view()).is_none());
        assert!(matches!(
            silhouette_score(huge.view(), &[0, 1, 1]),
            Err(ClusterError::InvalidParameter { name: "x", .. })
        ));
    }

    #[test]
    fn labelings_scored_together_equal_each_scored_alone() {
        let mut r = strata_core::Rng::new(strata_core::Seed(9));
        let n = 3000;
        let x = Array2::from_shape_fn((n, 3), |(i, _)| (i % 4) as f64 * 3.0 + r.normal());
        // Enough clusters that the joint cells overflow one group several times.
        let labelings: Vec<Vec<usize>> = [2, 3, 5, 7, 11, 30, 2, 9]
            .iter()
            .map(|&k| (0..n).map(|_| r.below(k)).collect())
            .collect();
        let refs: Vec<&[usize]> = labelings.iter().map(|l| l.as_slice()).collect();
        let prepared: Vec<(Vec<usize>, usize, Vec<usize>)> = refs
            .iter()
            .map(|l| {
                let (dl, k) = dense(l);
                (dl, k, vec![])
            })
            .collect();
        assert!(joint_groups(&prepared, n).len() > 1);
        let together = silhouette_samples_many(x.view(), &refs).unwrap();
        for (l, t) in refs.iter().zip(&together) {
            // Fixed-point sums: the very bits, whatever the grouping.
            let alone = silhouette_samples(x.view(), l).unwrap();
            for (p, q) in t.iter().zip(&alone) {
                assert_eq!(p.to_bits(), q.to_bits(), "{p} vs {q}");
            }
        }
    }

    #[test]
    fn agreement_by_hand() {
        let a = [0, 0, 1, 1];
        assert_eq!(adjusted_rand_index(&a, &[5, 5, 7, 7]).unwrap(), 1.0);
        assert!((normalized_mutual_info(&a, &[5, 5, 7, 7]).unwrap() - 1.0).abs() < 1e-15);
        // scikit-learn: adjusted_rand_score([0,0,1,1],[0,1,0,1]) == -0.5
        assert!((adjusted_rand_index(&a, &[0, 1, 0, 1]).unwrap() + 0.5).abs() < 1e-15);
        assert!(normalized_mutual_info(&a, &[0, 1, 0, 1]).unwrap().abs() < 1e-15);
        // scikit-learn: adjusted_rand_score([0,0,1,2],[0,0,1,1]) == 0.5714285714285715
        assert!(
            (adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]).unwrap() - 0.5714285714285715).abs()
                < 1e-15
        );
    }

    #[test]
    fn ch_and_db_by_hand() {
        let x = array![[0.0], [2.0], [10.0], [12.0]];
        // centroids 1 and 11, mean 6: extra = 2*25*2 = 100, intra = 4 -> 100*2/(4*1) = 50
        assert!((calinski_harabasz(x.view(), &[0, 0, 1, 1]).unwrap() - 50.0).abs() < 1e-12);
        // intra distances 1 and 1, centroid distance 10 -> (1+1)/10 = 0.2
        assert!((davies_bouldin(x.view(), &[0, 0, 1, 1]).unwrap() - 0.2).abs() < 1e-12);
        assert!(matches!(
            calinski_harabasz(x.view(), &[0, 0, 0, 0]),
            Err(ClusterError::TooFewClusters { .. })
        ));
    }
}
