//! Cluster validity and agreement metrics, with scikit-learn's definitions.
//!
//! The silhouette is exact and blockwise: each block of rows computes its
//! distances to all points once (a block x n buffer, never n x n) and scores
//! every labeling given from them, so scoring all k and all algorithms on the
//! same data shares the distance computation.

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
    let index: HashMap<usize, usize> = values.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    (labels.iter().map(|l| index[l]).collect(), values.len())
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

/// Euclidean distances from `xi` to every point, with the data transposed
/// (`xt` is d x n, row-major): groups of points are consecutive in each row
/// of `xt`, so their squared differences accumulate in vector registers. Per
/// pair the squared differences are added feature by feature.
#[inline(always)]
fn distance_row_body(xi: &[f64], xt: &[f64], n: usize, dist: &mut [f64]) {
    let full = n / GROUP * GROUP;
    for start in (0..full).step_by(GROUP) {
        let mut acc = [0.0f64; GROUP];
        for (f, &xv) in xi.iter().enumerate() {
            let Ok(col) = <&[f64; GROUP]>::try_from(&xt[f * n + start..f * n + start + GROUP])
            else {
                continue;
            };
            for l in 0..GROUP {
                let t = xv - col[l];
                acc[l] += t * t;
            }
        }
        for (o, a) in dist[start..start + GROUP].iter_mut().zip(acc) {
            *o = a.sqrt();
        }
    }
    for (j, o) in dist.iter_mut().enumerate().take(n).skip(full) {
        let mut a = 0.0;
        for (f, &xv) in xi.iter().enumerate() {
            let t = xv - xt[f * n + j];
            a += t * t;
        }
        *o = a.sqrt();
    }
}

/// Rows whose distances are computed together: each group of points read
/// from the transposed data serves all of them, which divides the traffic
/// from memory (on Spotify the transposed data, 2.7 MB, does not fit in a
/// core's cache) by as much.
const ROWS: usize = 4;

/// [`distance_row_body`] for [`ROWS`] rows at once (`xi` holds them one
/// after the other, `dist` receives `ROWS` rows of `n` distances): every
/// distance is computed by the same additions as one row alone.
#[inline(always)]
fn distance_rows_body(xi: &[f64], xt: &[f64], n: usize, dist: &mut [f64]) {
    let d = xi.len() / ROWS;
    let full = n / GROUP * GROUP;
    for start in (0..full).step_by(GROUP) {
        let mut acc = [[0.0f64; GROUP]; ROWS];
        for f in 0..d {
            let Ok(col) = <&[f64; GROUP]>::try_from(&xt[f * n + start..f * n + start + GROUP])
            else {
                continue;
            };
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = xi[r * d + f];
                for l in 0..GROUP {
                    let t = xv - col[l];
                    a[l] += t * t;
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            for (o, v) in dist[r * n + start..r * n + start + GROUP].iter_mut().zip(a) {
                *o = v.sqrt();
            }
        }
    }
    for r in 0..ROWS {
        for j in full..n {
            let mut a = 0.0;
            for f in 0..d {
                let t = xi[r * d + f] - xt[f * n + j];
                a += t * t;
            }
            dist[r * n + j] = a.sqrt();
        }
    }
}

/// Per-cluster sums of `dist` under `labels`, with four interleaved partial
/// sums so consecutive points of the same cluster do not wait on each other.
#[inline(always)]
fn cluster_sums_body(
    labels: &[usize],
    dist: &[f64],
    k: usize,
    partial: &mut [f64],
    out: &mut [f64],
) {
    partial.iter_mut().for_each(|v| *v = 0.0);
    let (p0, rest) = partial.split_at_mut(k);
    let (p1, rest) = rest.split_at_mut(k);
    let (p2, p3) = rest.split_at_mut(k);
    let mut l4 = labels.chunks_exact(4);
    let mut d4 = dist.chunks_exact(4);
    for (l, d) in (&mut l4).zip(&mut d4) {
        p0[l[0]] += d[0];
        p1[l[1]] += d[1];
        p2[l[2]] += d[2];
        p3[l[3]] += d[3];
    }
    for (&l, &d) in l4.remainder().iter().zip(d4.remainder()) {
        p0[l] += d;
    }
    for c in 0..k {
        out[c] = (p0[c] + p1[c]) + (p2[c] + p3[c]);
    }
}

strata_core::simd_dispatch!(fn distance_row(xi: &[f64], xt: &[f64], n: usize, dist: &mut [f64]) => distance_row_body);
strata_core::simd_dispatch!(fn distance_rows(xi: &[f64], xt: &[f64], n: usize, dist: &mut [f64]) => distance_rows_body);
strata_core::simd_dispatch!(fn cluster_sums(labels: &[usize], dist: &[f64], k: usize, partial: &mut [f64], out: &mut [f64]) => cluster_sums_body);

/// Most cells of a joint labeling: its per-cell sums (four interleaved
/// copies, 32 KB) stay in the L1 cache; measured best on the Spotify data
/// among 256 to 8192.
const MAX_CELLS: usize = 1024;

/// Labelings scored together: each point's cell is the tuple of its labels
/// under the `members` (renumbered 0..cells in order of first appearance), so
/// one pass of per-cell distance sums serves all of them; a member's cluster
/// sums are the sums over the cells of each cluster (`cell_label[m][cell]`).
struct JointGroup {
    members: Vec<usize>,
    joint: Vec<usize>,
    cells: usize,
    cell_label: Vec<Vec<usize>>,
}

impl JointGroup {
    /// Per member, its cells ordered by cluster (by cell within one) and
    /// where each cluster's cells start: a cluster's sum is then one
    /// running total in a register, taken over its cells in cell order (so
    /// the very additions of a scatter over the cells, without each waiting
    /// for the previous store to the same cluster).
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
            let mut index: HashMap<(usize, usize), usize> = HashMap::new();
            let mut joint = Vec::with_capacity(n);
            let mut first = Vec::new();
            for (&cell, &l) in g.joint.iter().zip(labels) {
                let next = index.len();
                let id = *index.entry((cell, l)).or_insert(next);
                if id == first.len() {
                    first.push((cell, l));
                }
                joint.push(id);
                if index.len() > MAX_CELLS {
                    break;
                }
            }
            if index.len() <= MAX_CELLS {
                let mut cell_label: Vec<Vec<usize>> = g
                    .cell_label
                    .iter()
                    .map(|map| first.iter().map(|&(cell, _)| map[cell]).collect())
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
            joint: labels.clone(),
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
        let mut counts = vec![0usize; k];
        dl.iter().for_each(|&c| counts[c] += 1);
        prepared.push((dl, k, counts));
    }
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
            let mut dists = vec![0.0; ROWS * n];
            let mut partial = vec![0.0; 4 * max_cells];
            let mut cell_sums = vec![0.0; max_cells];
            // Cluster sums of every labeling, one after the other.
            let mut all_sums: Vec<Vec<f64>> = prepared.iter().map(|p| vec![0.0; p.1]).collect();
            let mut out: Vec<Vec<f64>> =
                prepared.iter().map(|_| Vec::with_capacity(b - a)).collect();
            for i in a..b {
                // The block's rows go by ROWS (the distances of all of them
                // at once), the last ones one by one if ROWS do not fit.
                let r = (i - a) % ROWS;
                let whole = i - r + ROWS <= b;
                if r == 0 && whole {
                    distance_rows(&xs[i * d..(i + ROWS) * d], &xt, n, &mut dists);
                } else if !whole {
                    distance_row(
                        &xs[i * d..(i + 1) * d],
                        &xt,
                        n,
                        &mut dists[r * n..(r + 1) * n],
                    );
                }
                let dist = &dists[r * n..(r + 1) * n];
                for (g, members) in groups.iter().zip(&by_cluster) {
                    let cells = g.cells;
                    cluster_sums(
                        &g.joint,
                        dist,
                        cells,
                        &mut partial[..4 * cells],
                        &mut cell_sums[..cells],
                    );
                    for (&m, (order, offsets)) in g.members.iter().zip(members) {
                        for (sum, w) in all_sums[m].iter_mut().zip(offsets.windows(2)) {
                            let mut total = 0.0;
                            for &cell in &order[w[0]..w[1]] {
                                total += cell_sums[cell as usize];
                            }
                            *sum = total;
                        }
                    }
                }
                for (((labels, k, counts), o), sums) in
                    prepared.iter().zip(out.iter_mut()).zip(&all_sums)
                {
                    let k = *k;
                    let own = labels[i];
                    if counts[own] <= 1 {
                        o.push(0.0);
                        continue;
                    }
                    let intra = sums[own] / (counts[own] - 1) as f64;
                    let inter = (0..k)
                        .filter(|&c| c != own)
                        .map(|c| sums[c] / counts[c] as f64)
                        .fold(f64::INFINITY, f64::min);
                    let m = intra.max(inter);
                    o.push(if m > 0.0 { (inter - intra) / m } else { 0.0 });
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
type Cells = HashMap<(usize, usize), u64>;

/// Contingency table of two labelings (dense ids), with row and column sums.
fn contingency(a: &[usize], b: &[usize]) -> (Cells, Vec<u64>, Vec<u64>) {
    let (da, ka) = dense(a);
    let (db, kb) = dense(b);
    let mut table: HashMap<(usize, usize), u64> = HashMap::new();
    let mut ra = vec![0u64; ka];
    let mut rb = vec![0u64; kb];
    for (&x, &y) in da.iter().zip(&db) {
        *table.entry((x, y)).or_default() += 1;
        ra[x] += 1;
        rb[y] += 1;
    }
    (table, ra, rb)
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
    let sum_sq: f64 = table.values().map(|&v| (v as f64) * (v as f64)).sum();
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
    let mut cells: Vec<(&(usize, usize), &u64)> = table.iter().collect();
    cells.sort();
    for (&(i, j), &nij) in cells {
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
        let (n, d) = (1500, 5);
        let xt: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
        let xi: Vec<f64> = (0..d).map(|_| r.normal()).collect();
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        distance_row(&xi, &xt, n, &mut a);
        distance_row_body(&xi, &xt, n, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        let labels: Vec<usize> = (0..n).map(|i| (i * 7) % 5).collect();
        let (mut pa, mut pb, mut sa, mut sb) =
            (vec![0.0; 20], vec![0.0; 20], vec![0.0; 5], vec![0.0; 5]);
        cluster_sums(&labels, &a, 5, &mut pa, &mut sa);
        cluster_sums_body(&labels, &a, 5, &mut pb, &mut sb);
        assert!(sa.iter().zip(&sb).all(|(p, q)| p.to_bits() == q.to_bits()));
        let direct: Vec<f64> = (0..n)
            .map(|j| {
                (0..d)
                    .map(|f| (xi[f] - xt[f * n + j]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        assert!(a.iter().zip(&direct).all(|(p, q)| (p - q).abs() < 1e-12));
        // ROWS rows at once (n not a multiple of the group): each row's
        // distances are the very bits of that row alone.
        let rows: Vec<f64> = (0..ROWS * d).map(|_| r.normal()).collect();
        let (mut wide, mut base) = (vec![0.0; ROWS * n], vec![0.0; ROWS * n]);
        distance_rows(&rows, &xt, n, &mut wide);
        distance_rows_body(&rows, &xt, n, &mut base);
        for k in 0..ROWS {
            let mut alone = vec![0.0; n];
            distance_row_body(&rows[k * d..(k + 1) * d], &xt, n, &mut alone);
            for (w, v) in [&wide, &base]
                .into_iter()
                .map(|v| &v[k * n..(k + 1) * n])
                .zip([0, 1])
            {
                assert!(
                    w.iter()
                        .zip(&alone)
                        .all(|(p, q)| p.to_bits() == q.to_bits()),
                    "row {k}, kernel {v}"
                );
            }
        }
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
            let alone = silhouette_samples(x.view(), l).unwrap();
            for (p, q) in t.iter().zip(&alone) {
                assert!((p - q).abs() < 1e-12, "{p} vs {q}");
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
