//! k-means on tables larger than memory: exact Lloyd iterations streamed
//! over batches of rows, started by k-means|| (Bahmani et al., 2012).
//!
//! Each Lloyd iteration is one pass: every row is assigned to its nearest
//! centre and added to that centre's running sum; the sums of fixed chunks
//! of rows are added in chunk order, so the result does not depend on the
//! batch size or the thread count. Peak memory is one batch plus k x d sums.
//! The stopping rules are those of the in-memory [`crate::KMeans`]: the
//! centres did not move (the labels did not change), or they moved by no
//! more than `tol` times the mean variance of the features; the labels and
//! the inertia are those of the final centres (one more pass).
//!
//! k-means|| samples candidates in a few passes instead of k sequential
//! ones: after a first uniformly drawn row, each pass keeps every row with
//! probability `l d^2 / psi` (`d` its distance to the candidates so far,
//! `psi` their cost), then the candidates, weighted by the rows nearest to
//! them, are reduced to k centres by weighted k-means++ and Lloyd. A row's
//! random draw depends on the seed, the round and its index only.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use strata_core::{AlgoError, Rng, Seed};

pub use strata_core::batches::{InMemory, RowBatches};

/// Rows per chunk whose partial sums are added in order.
const CHUNK: usize = 4096;

fn sq(a: ndarray::ArrayView1<'_, f64>, c: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(c.iter()).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest centre of a row (the first on ties) and its squared distance.
fn nearest(row: ndarray::ArrayView1<'_, f64>, centers: &Array2<f64>) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, ctr) in centers.outer_iter().enumerate() {
        let d = sq(row, ctr);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Per-centre sums, counts and the inertia of one pass.
struct Pass {
    sums: Array2<f64>,
    counts: Vec<f64>,
    inertia: f64,
    rows: usize,
}

impl Pass {
    fn new(k: usize, d: usize) -> Pass {
        Pass {
            sums: Array2::zeros((k, d)),
            counts: vec![0.0; k],
            inertia: 0.0,
            rows: 0,
        }
    }
    /// Adds rows one after the other.
    fn add_rows(&mut self, rows: ArrayView2<'_, f64>, centers: &Array2<f64>) {
        for row in rows.outer_iter() {
            let (c, dist) = nearest(row, centers);
            self.sums.row_mut(c).zip_mut_with(&row, |s, v| *s += v);
            self.counts[c] += 1.0;
            self.inertia += dist;
            self.rows += 1;
        }
    }
    fn absorb(&mut self, p: &Pass) {
        self.sums += &p.sums;
        for (t, c) in self.counts.iter_mut().zip(&p.counts) {
            *t += c;
        }
        self.inertia += p.inertia;
        self.rows += p.rows;
    }
}

/// One assignment pass. Rows are summed in chunks of [`CHUNK`] rows counted
/// from the first row of the table (a chunk may span two batches), each
/// chunk in row order, and the chunks are added in order: the same bits
/// whatever the batch size and the thread count.
fn pass(src: &dyn RowBatches, centers: &Array2<f64>) -> Result<Pass, AlgoError> {
    let (k, d) = centers.dim();
    let mut total = Pass::new(k, d);
    let mut open = Pass::new(k, d);
    src.each_batch(&mut |b| {
        strata_core::check_columns(b, d)?;
        strata_core::check_finite(b, None)?;
        let n = b.nrows();
        // Finish the chunk the previous batch left open.
        let head = ((CHUNK - open.rows) % CHUNK).min(n);
        open.add_rows(b.slice(ndarray::s![..head, ..]), centers);
        if open.rows == CHUNK {
            total.absorb(&open);
            open = Pass::new(k, d);
        }
        // Whole chunks in parallel, added in order.
        let full = (n - head) / CHUNK;
        let parts: Vec<Pass> = (0..full)
            .into_par_iter()
            .map(|c| {
                let mut p = Pass::new(k, d);
                let a = head + c * CHUNK;
                p.add_rows(b.slice(ndarray::s![a..a + CHUNK, ..]), centers);
                p
            })
            .collect();
        for p in &parts {
            total.absorb(p);
        }
        // The rest opens the next chunk.
        open.add_rows(b.slice(ndarray::s![head + full * CHUNK.., ..]), centers);
        Ok(())
    })?;
    total.absorb(&open);
    Ok(total)
}

/// The fit of final centres: labels, sizes and inertia from one exact pass.
fn finish(src: &dyn RowBatches, centers: Array2<f64>, n_iter: usize, converged: bool) -> Result<StreamedKMeans, AlgoError> {
    let last = pass(src, &centers)?;
    Ok(StreamedKMeans {
        centers,
        inertia: last.inertia,
        n_iter,
        converged,
        rows: last.rows,
        sizes: last.counts.iter().map(|&c| c as usize).collect(),
    })
}

/// Mean of the features' (population) variances, in one pass.
fn mean_variance(src: &dyn RowBatches) -> Result<(f64, usize), AlgoError> {
    let d = src.n_features();
    let (mut n, mut s, mut s2) = (0usize, vec![0.0; d], vec![0.0; d]);
    src.each_batch(&mut |b| {
        for row in b.outer_iter() {
            for (j, v) in row.iter().enumerate() {
                s[j] += v;
                s2[j] += v * v;
            }
        }
        n += b.nrows();
        Ok(())
    })?;
    let nf = n.max(1) as f64;
    let var = (0..d).map(|j| (s2[j] / nf - (s[j] / nf).powi(2)).max(0.0)).sum::<f64>() / d.max(1) as f64;
    Ok((var, n))
}

/// A count given as 0 where at least 1 is needed.
fn zero(name: &str) -> AlgoError {
    AlgoError::InvalidParameter {
        name: name.into(),
        value: "0".into(),
        expected: "at least 1".into(),
    }
}

/// A fit streamed over batches.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedKMeans {
    pub centers: Array2<f64>,
    /// Sum of squared distances of the rows to their final centres.
    pub inertia: f64,
    pub n_iter: usize,
    pub converged: bool,
    pub rows: usize,
    /// Rows per final centre.
    pub sizes: Vec<usize>,
}

/// k-means streamed over batches of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamingKMeans {
    pub k: usize,
    pub max_iter: usize,
    /// Relative to the mean variance of the features, as in [`crate::KMeans`].
    pub tol: f64,
    /// k-means|| sampling passes.
    pub rounds: usize,
    /// Expected candidates kept per pass, as a multiple of k.
    pub oversampling: f64,
}

impl StreamingKMeans {
    pub fn new(k: usize) -> Self {
        StreamingKMeans {
            k,
            max_iter: 300,
            tol: 1e-4,
            rounds: 5,
            oversampling: 2.0,
        }
    }

    /// k is at least 1.
    fn check_params(&self) -> Result<(), AlgoError> {
        if self.k == 0 {
            return Err(zero("k"));
        }
        Ok(())
    }

    fn check_init(&self, src: &dyn RowBatches, init: &Array2<f64>) -> Result<(), AlgoError> {
        self.check_params()?;
        if init.nrows() != self.k || init.ncols() != src.n_features() {
            return Err(AlgoError::InvalidParameter {
                name: "init".into(),
                value: format!("{:?}", init.dim()),
                expected: format!("{} centres of {} features", self.k, src.n_features()),
            });
        }
        Ok(())
    }

    fn check_rows(&self, n: usize) -> Result<(), AlgoError> {
        self.check_params()?;
        if n < self.k {
            return Err(AlgoError::TooFewSamples {
                needed: self.k,
                got: n,
                context: "streaming k-means".into(),
            });
        }
        Ok(())
    }

    /// k-means|| then Lloyd.
    pub fn fit(&self, src: &dyn RowBatches, seed: Seed) -> Result<StreamedKMeans, AlgoError> {
        let init = self.init_parallel(src, seed)?;
        self.fit_from(src, init)
    }

    /// Lloyd from given centres.
    pub fn fit_from(&self, src: &dyn RowBatches, init: Array2<f64>) -> Result<StreamedKMeans, AlgoError> {
        self.check_init(src, &init)?;
        if self.max_iter == 0 {
            return Err(zero("max_iter"));
        }
        let (var, _) = mean_variance(src)?;
        let tol = self.tol * var;
        let mut centers = init;
        let (mut n_iter, mut converged) = (0, false);
        for it in 1..=self.max_iter {
            n_iter = it;
            let p = pass(src, &centers)?;
            let mut next = p.sums.clone();
            for c in 0..self.k {
                if p.counts[c] > 0.0 {
                    next.row_mut(c).mapv_inplace(|v| v / p.counts[c]);
                } else {
                    next.row_mut(c).assign(&centers.row(c));
                }
            }
            let shift: f64 = (&next - &centers).mapv(|v| v * v).sum();
            let same = next == centers;
            centers = next;
            if same || shift <= tol {
                converged = true;
                break;
            }
        }
        finish(src, centers, n_iter, converged)
    }

    /// A cheaper start: about `rows` rows drawn uniformly in one pass (each
    /// row kept with probability `rows / n`, its draw depending on the seed
    /// and its index only), clustered in memory by [`crate::KMeans`]
    /// (k-means++, 3 restarts). Three passes (size, sample, nothing else)
    /// instead of k-means||'s dozen; the start mini-batch k-means uses in
    /// scikit-learn too (k-means++ on a sample).
    pub fn init_sample(&self, src: &dyn RowBatches, seed: Seed, rows: usize) -> Result<Array2<f64>, AlgoError> {
        let d = src.n_features();
        let (_, n) = mean_variance(src)?;
        self.check_rows(n)?;
        let p = rows.max(self.k) as f64 / n as f64;
        let mut kept: Vec<f64> = Vec::new();
        let mut at = 0u64;
        src.each_batch(&mut |b| {
            for row in b.outer_iter() {
                if draw(seed, u64::MAX, at) < p {
                    kept.extend(row.iter());
                }
                at += 1;
            }
            Ok(())
        })?;
        let m = kept.len() / d.max(1);
        if m < self.k {
            // Too few drawn (a tiny table): take the first k rows.
            let mut first = Vec::new();
            src.each_batch(&mut |b| {
                for row in b.outer_iter() {
                    if first.len() < self.k * d {
                        first.extend(row.iter());
                    }
                }
                Ok(())
            })?;
            return Array2::from_shape_vec((self.k, d), first).map_err(|e| AlgoError::Other(e.to_string()));
        }
        let sample = Array2::from_shape_vec((m, d), kept).map_err(|e| AlgoError::Other(e.to_string()))?;
        let mut km = crate::KMeans::new(self.k);
        km.n_init = 3;
        let fit = km.fit(sample.view(), seed.named("sample")).map_err(|e| AlgoError::Other(e.to_string()))?;
        Ok(fit.centers)
    }

    /// The k-means|| start (module docs).
    pub fn init_parallel(&self, src: &dyn RowBatches, seed: Seed) -> Result<Array2<f64>, AlgoError> {
        let d = src.n_features();
        let (_, n) = mean_variance(src)?;
        self.check_rows(n)?;
        let first = Rng::new(seed.named("first")).below(n);
        let mut cand: Vec<Vec<f64>> = Vec::new();
        let mut at = 0;
        src.each_batch(&mut |b| {
            if first >= at && first < at + b.nrows() {
                cand.push(b.row(first - at).to_vec());
            }
            at += b.nrows();
            Ok(())
        })?;
        let as_matrix = |c: &[Vec<f64>]| Array2::from_shape_fn((c.len(), d), |(i, j)| c[i][j]);
        let l = self.oversampling * self.k as f64;
        let mut psi = pass(src, &as_matrix(&cand))?.inertia;
        for round in 0..self.rounds {
            if psi <= 0.0 {
                break;
            }
            let centers = as_matrix(&cand);
            let mut picked: Vec<Vec<f64>> = Vec::new();
            let mut next_psi = 0.0;
            let mut at = 0usize;
            src.each_batch(&mut |b| {
                for (i, row) in b.outer_iter().enumerate() {
                    let (_, dist) = nearest(row, &centers);
                    next_psi += dist;
                    if draw(seed, round as u64, (at + i) as u64) < l * dist / psi {
                        picked.push(row.to_vec());
                    }
                }
                at += b.nrows();
                Ok(())
            })?;
            cand.extend(picked);
            psi = pass(src, &as_matrix(&cand))?.inertia.min(next_psi);
        }
        // Weight each candidate by the rows nearest to it, then reduce to k.
        let candidates = as_matrix(&cand);
        let weights = pass(src, &candidates)?.counts;
        Ok(weighted_reduce(&candidates, &weights, self.k, seed.named("reduce")))
    }
}

/// Mini-batch k-means (Sculley, 2010) over the stream: a faster, approximate
/// alternative to exact Lloyd when a pass costs too much.
#[derive(Debug, Clone, PartialEq)]
pub struct MiniBatch {
    /// Rows per mini-batch: consecutive rows counted from the table's first
    /// row, whatever the read batches, so the result does not depend on them.
    pub rows: usize,
    /// Passes over the table at most.
    pub epochs: usize,
}

impl StreamingKMeans {
    /// Mini-batch k-means from given centres. Each mini-batch assigns its
    /// rows to the current centres, then moves each centre to the mean of
    /// every row it has received so far (a per-centre learning rate of
    /// 1 / count, as scikit-learn's `MiniBatchKMeans` does); the centres are
    /// updated in row order, so the result depends on the seed (through the
    /// start) and on the row order of the table, not on the batches or
    /// threads. Mini-batches follow the table's order: a table sorted by a
    /// feature should be shuffled first. Stops after `epochs` passes, or
    /// when an epoch moved the centres by no more than `tol` times the mean
    /// variance; labels, sizes and inertia come from one exact pass over the
    /// final centres, so the inertia compares directly with exact Lloyd's.
    pub fn fit_mini_batch(
        &self,
        src: &dyn RowBatches,
        init: Array2<f64>,
        mb: &MiniBatch,
    ) -> Result<StreamedKMeans, AlgoError> {
        self.check_init(src, &init)?;
        if mb.rows == 0 || mb.epochs == 0 {
            return Err(AlgoError::InvalidParameter {
                name: "mini_batch".into(),
                value: format!("{} rows, {} epochs", mb.rows, mb.epochs),
                expected: "at least one row per mini-batch and one epoch".into(),
            });
        }
        let (var, _) = mean_variance(src)?;
        let tol = self.tol * var;
        let d = src.n_features();
        let mut centers = init;
        let mut counts = vec![0.0f64; self.k];
        let (mut n_iter, mut converged) = (0, false);
        for epoch in 1..=mb.epochs {
            n_iter = epoch;
            let before = centers.clone();
            let mut open: Vec<f64> = Vec::with_capacity(mb.rows * d);
            src.each_batch(&mut |b| {
                strata_core::check_columns(b, d)?;
                strata_core::check_finite(b, None)?;
                for row in b.outer_iter() {
                    open.extend(row.iter());
                    if open.len() == mb.rows * d {
                        mini_batch_step(&mut centers, &mut counts, &open, d);
                        open.clear();
                    }
                }
                Ok(())
            })?;
            if !open.is_empty() {
                mini_batch_step(&mut centers, &mut counts, &open, d);
            }
            let shift: f64 = (&centers - &before).mapv(|v| v * v).sum();
            if shift <= tol {
                converged = true;
                break;
            }
        }
        finish(src, centers, n_iter, converged)
    }
}

/// One mini-batch (`rows`, row-major, `d` columns): assignment in parallel,
/// then the running means updated centre by centre in row order.
fn mini_batch_step(centers: &mut Array2<f64>, counts: &mut [f64], rows: &[f64], d: usize) {
    let labels: Vec<usize> = rows
        .par_chunks_exact(d)
        .map(|r| nearest(ndarray::ArrayView1::from(r), centers).0)
        .collect();
    let k = centers.nrows();
    let mut sums = Array2::<f64>::zeros((k, d));
    let mut n = vec![0.0; k];
    for (r, &c) in rows.chunks_exact(d).zip(&labels) {
        sums.row_mut(c).zip_mut_with(&ndarray::ArrayView1::from(r), |s, v| *s += v);
        n[c] += 1.0;
    }
    for c in 0..k {
        if n[c] > 0.0 {
            let total = counts[c] + n[c];
            let old = counts[c];
            centers.row_mut(c).zip_mut_with(&sums.row(c), |m, s| *m = (*m * old + s) / total);
            counts[c] = total;
        }
    }
}

/// A uniform draw in [0, 1) from the seed, the round and the row index only.
fn draw(seed: Seed, round: u64, row: u64) -> f64 {
    let mut z = seed.0 ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ row.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Weighted k-means++ and Lloyd on the few candidates, 10 seeded restarts:
/// the lowest weighted cost wins (the first on ties).
fn weighted_reduce(cand: &Array2<f64>, w: &[f64], k: usize, seed: Seed) -> Array2<f64> {
    let (m, d) = cand.dim();
    if m <= k {
        let mut out = Array2::zeros((k, d));
        for c in 0..k {
            out.row_mut(c).assign(&cand.row(c % m.max(1)));
        }
        return out;
    }
    let cost = |centers: &Array2<f64>| -> f64 { (0..m).map(|i| w[i] * nearest(cand.row(i), centers).1).sum() };
    let mut best: Option<(f64, Array2<f64>)> = None;
    for r in 0..10 {
        let centers = weighted_lloyd(cand, w, k, &mut Rng::new(seed.child(r)));
        let c = cost(&centers);
        if best.as_ref().is_none_or(|(b, _)| c < *b) {
            best = Some((c, centers));
        }
    }
    best.map_or_else(|| Array2::zeros((k, d)), |(_, c)| c)
}

/// One weighted k-means++ start and Lloyd on the candidates.
fn weighted_lloyd(cand: &Array2<f64>, w: &[f64], k: usize, rng: &mut Rng) -> Array2<f64> {
    let (m, d) = cand.dim();
    let pick = |rng: &mut Rng, p: &[f64]| {
        let total: f64 = p.iter().sum();
        let mut t = rng.uniform() * total;
        for (i, &v) in p.iter().enumerate() {
            if t < v {
                return i;
            }
            t -= v;
        }
        p.len() - 1
    };
    let mut chosen = vec![pick(rng, w)];
    let mut best: Vec<f64> = (0..m).map(|i| sq(cand.row(i), cand.row(chosen[0]))).collect();
    while chosen.len() < k {
        let p: Vec<f64> = (0..m).map(|i| w[i] * best[i]).collect();
        let next = if p.iter().sum::<f64>() > 0.0 { pick(rng, &p) } else { chosen.len() };
        chosen.push(next);
        for i in 0..m {
            best[i] = best[i].min(sq(cand.row(i), cand.row(next)));
        }
    }
    let mut centers = Array2::from_shape_fn((k, d), |(c, j)| cand[[chosen[c], j]]);
    for _ in 0..100 {
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut cw = vec![0.0; k];
        for i in 0..m {
            let (c, _) = nearest(cand.row(i), &centers);
            sums.row_mut(c).zip_mut_with(&cand.row(i), |s, v| *s += w[i] * v);
            cw[c] += w[i];
        }
        let mut next = centers.clone();
        for c in 0..k {
            if cw[c] > 0.0 {
                next.row_mut(c).assign(&sums.row(c).mapv(|v| v / cw[c]));
            }
        }
        if next == centers {
            break;
        }
        centers = next;
    }
    centers
}

/// The nearest centre of every row, batch by batch (for writing labels back).
pub fn assign_batches(
    src: &dyn RowBatches,
    centers: &Array2<f64>,
    f: &mut dyn FnMut(&[u32]) -> Result<(), AlgoError>,
) -> Result<(), AlgoError> {
    src.each_batch(&mut |b| {
        let labels: Vec<u32> = b
            .outer_iter()
            .into_par_iter()
            .map(|row| nearest(row, centers).0 as u32)
            .collect();
        f(&labels)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KMeans, KMeansInit};

    fn blobs(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut r = Rng::new(Seed(seed));
        Array2::from_shape_fn((n, d), |(i, j)| ((i % 5) as f64) * 4.0 * ((j % 3) as f64 - 1.0) + r.normal())
    }

    #[test]
    fn streamed_lloyd_matches_the_in_memory_fit_from_the_same_start() {
        let x = blobs(20_000, 6, 3);
        let init = Array2::from_shape_fn((5, 6), |(c, j)| x[[c * 7, j]]);
        let mut km = KMeans::new(5);
        km.n_init = 1;
        km.init = KMeansInit::Centers(init.clone());
        let mem = km.fit(x.view(), Seed(0)).unwrap();
        for batch in [1_000, 7_777, 20_000] {
            let s = StreamingKMeans::new(5).fit_from(&InMemory { x: x.view(), batch }, init.clone()).unwrap();
            assert_eq!(s.n_iter, mem.n_iter, "batch {batch}");
            let dc = (&s.centers - &mem.centers).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b));
            assert!(dc < 1e-9, "batch {batch}: centres differ by {dc}");
            assert!((s.inertia - mem.inertia).abs() <= 1e-9 * mem.inertia, "{} vs {}", s.inertia, mem.inertia);
            let mut labels = Vec::new();
            assign_batches(&InMemory { x: x.view(), batch }, &s.centers, &mut |l| {
                labels.extend(l.iter().map(|&v| v as usize));
                Ok(())
            })
            .unwrap();
            assert_eq!(labels, mem.labels.to_vec(), "batch {batch}");
            assert_eq!(s.rows, 20_000);
        }
        // The batch size does not move a bit.
        let a = StreamingKMeans::new(5).fit_from(&InMemory { x: x.view(), batch: 999 }, init.clone()).unwrap();
        let b = StreamingKMeans::new(5).fit_from(&InMemory { x: x.view(), batch: 20_000 }, init).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn zero_clusters_or_iterations_are_named() {
        let x = blobs(100, 2, 1);
        let src = InMemory { x: x.view(), batch: 10 };
        let e = StreamingKMeans::new(0).fit(&src, Seed(0)).unwrap_err().to_string();
        assert!(e.contains("`k` = 0") && e.contains("at least 1"), "{e}");
        let e = StreamingKMeans::new(0).init_sample(&src, Seed(0), 10).unwrap_err().to_string();
        assert!(e.contains("`k` = 0"), "{e}");
        let km = StreamingKMeans { max_iter: 0, ..StreamingKMeans::new(2) };
        let init = Array2::from_shape_fn((2, 2), |(c, j)| x[[c, j]]);
        let e = km.fit_from(&src, init).unwrap_err().to_string();
        assert!(e.contains("`max_iter` = 0") && e.contains("at least 1"), "{e}");
    }

    #[test]
    fn kmeans_parallel_start_is_seeded_and_good() {
        let x = blobs(10_000, 4, 5);
        let s = StreamingKMeans::new(5);
        let a = s.fit(&InMemory { x: x.view(), batch: 1234 }, Seed(9)).unwrap();
        let b = s.fit(&InMemory { x: x.view(), batch: 10_000 }, Seed(9)).unwrap();
        assert_eq!(a, b, "the start depends on the seed only, not on the batches");
        // About as good as the in-memory k-means++ with 10 restarts.
        let mem = KMeans::new(5).fit(x.view(), Seed(9)).unwrap();
        assert!(a.inertia <= 1.01 * mem.inertia, "{} vs {}", a.inertia, mem.inertia);
        assert_eq!(a.sizes.iter().sum::<usize>(), 10_000);
        assert!(s.fit(&InMemory { x: x.slice(ndarray::s![..3, ..]), batch: 10 }, Seed(1)).is_err());
    }

    #[test]
    fn mini_batch_is_close_to_lloyd_and_ignores_the_read_batches() {
        let x = blobs(30_000, 6, 11);
        let s = StreamingKMeans::new(5);
        let init = s.init_parallel(&InMemory { x: x.view(), batch: 5_000 }, Seed(4)).unwrap();
        let exact = s.fit_from(&InMemory { x: x.view(), batch: 5_000 }, init.clone()).unwrap();
        let mb = MiniBatch { rows: 1_024, epochs: 5 };
        let a = s.fit_mini_batch(&InMemory { x: x.view(), batch: 777 }, init.clone(), &mb).unwrap();
        let b = s.fit_mini_batch(&InMemory { x: x.view(), batch: 30_000 }, init.clone(), &mb).unwrap();
        assert_eq!(a, b, "mini-batches are counted from the first row, not per read batch");
        assert!(a.n_iter <= 5 && a.rows == 30_000);
        assert!(a.inertia >= exact.inertia * (1.0 - 1e-12), "Lloyd's fixed point is a local minimum");
        assert!(a.inertia <= 1.02 * exact.inertia, "{} vs {}", a.inertia, exact.inertia);
        // The one-row mini-batch of a single epoch is sequential k-means (MacQueen):
        // each centre is the running mean of the rows it received, checked by hand.
        let small = Array2::from_shape_vec((4, 1), vec![0.0, 10.0, 2.0, 12.0]).unwrap();
        let one = StreamingKMeans::new(2)
            .fit_mini_batch(
                &InMemory { x: small.view(), batch: 3 },
                Array2::from_shape_vec((2, 1), vec![1.0, 11.0]).unwrap(),
                &MiniBatch { rows: 1, epochs: 1 },
            )
            .unwrap();
        assert_eq!(one.centers.column(0).to_vec(), vec![1.0, 11.0]);
        assert_eq!(one.sizes, vec![2, 2]);
        assert_eq!(one.inertia, 4.0);
        assert!(s.fit_mini_batch(&InMemory { x: x.view(), batch: 10 }, init, &MiniBatch { rows: 0, epochs: 1 }).is_err());
    }

    #[test]
    fn sampled_start_is_seeded_batch_free_and_good() {
        let x = blobs(40_000, 5, 8);
        let s = StreamingKMeans::new(5);
        let a = s.init_sample(&InMemory { x: x.view(), batch: 3_333 }, Seed(2), 5_000).unwrap();
        let b = s.init_sample(&InMemory { x: x.view(), batch: 40_000 }, Seed(2), 5_000).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, s.init_sample(&InMemory { x: x.view(), batch: 40_000 }, Seed(3), 5_000).unwrap());
        let fit = s.fit_from(&InMemory { x: x.view(), batch: 5_000 }, a).unwrap();
        let mem = KMeans::new(5).fit(x.view(), Seed(9)).unwrap();
        assert!(fit.inertia <= 1.01 * mem.inertia, "{} vs {}", fit.inertia, mem.inertia);
        // A table smaller than the sample: every row drawn.
        let few = x.slice(ndarray::s![..50, ..]);
        assert_eq!(s.init_sample(&InMemory { x: few, batch: 7 }, Seed(1), 1_000).unwrap().nrows(), 5);
    }
}
