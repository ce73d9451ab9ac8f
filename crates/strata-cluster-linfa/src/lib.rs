//! linfa's DBSCAN and agglomerative (hierarchical) clustering behind strata's
//! [`Clusterer`] trait, so manifests can name them (`dbscan`,
//! `agglomerative`) beside k-means and Gaussian mixtures.
//!
//! This crate is the proof that adding an algorithm takes a crate and one
//! registration line in `strata-lab`: of strata it depends on `strata-core`
//! only. linfa 0.8 is built on ndarray 0.16 while strata uses 0.17, so
//! arrays are copied at the boundary ([`to_linfa`]); labels come back as
//! plain vectors.
//!
//! Agglomerative clustering calls kodama's linkage (what linfa-hierarchical
//! calls) on the dissimilarities linfa-hierarchical would derive from linfa's
//! Gaussian kernel, computed here for the pairs the linkage reads: the same
//! labels (the tests compare with linfa's transforms, dissimilarities to the
//! bit), at a sixth of the cost. Labels are made canonical (numbered in order
//! of first appearance). DBSCAN's noise points get their own label after the
//! clusters, and the diagnostics say how many there are.

use linfa::ParamGuard;
use linfa::traits::Transformer;
use ndarray::{Array1, Array2, ArrayView2};
use strata_core::params::{Bound, ParamKind, float, int, word};
use strata_core::{
    AlgoError, Clusterer, Configurable, Diagnostics, FittedClusterer, ParamSpec, Params, Seed,
};

/// Copies a strata (ndarray 0.17) matrix into linfa's ndarray 0.16.
pub fn to_linfa(x: ArrayView2<'_, f64>) -> ndarray016::Array2<f64> {
    let (n, d) = x.dim();
    ndarray016::Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]])
}

/// Renumbers labels in order of first appearance (0, 1, 2...).
pub fn canonical_labels(raw: &[usize]) -> (Vec<usize>, usize) {
    let mut map = std::collections::HashMap::new();
    let labels = raw
        .iter()
        .map(|r| {
            let next = map.len();
            *map.entry(*r).or_insert(next)
        })
        .collect();
    (labels, map.len())
}

fn sq_dist(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// DBSCAN: clusters are dense regions (`min_points` neighbours within `eps`);
/// points in no dense region are noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Dbscan {
    pub eps: f64,
    pub min_points: usize,
}

/// A fitted DBSCAN. Noise rows carry label `n_found` (one past the last cluster).
pub struct FittedDbscan {
    eps: f64,
    train: Array2<f64>,
    labels: Array1<usize>,
    n_found: usize,
    n_noise: usize,
}

impl Configurable for Dbscan {
    fn param_specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::new(
                "eps",
                ParamKind::Float {
                    low: 0.0,
                    high: f64::MAX,
                    open: true,
                },
                float(0.5),
                "neighbourhood radius (Euclidean)",
            ),
            ParamSpec::new(
                "min_points",
                ParamKind::Int {
                    min: 2,
                    bound: Bound::Rows,
                },
                int(5),
                "neighbours (including the point) that make a core point",
            ),
        ]
    }
    fn from_params(p: &Params) -> Result<Self, AlgoError> {
        Ok(Dbscan {
            eps: p.f64("eps")?,
            min_points: p.usize("min_points")?,
        })
    }
}

impl Clusterer for Dbscan {
    fn name(&self) -> &str {
        "dbscan"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        strata_core::check_finite(x, None)?;
        strata_core::check_min_samples(x, 2, self.name())?;
        if !(self.eps > 0.0 && self.eps.is_finite()) || self.min_points < 2 {
            return Err(AlgoError::InvalidParameter {
                name: "eps/min_points".into(),
                value: format!("{}/{}", self.eps, self.min_points),
                expected: "eps > 0 and min_points >= 2".into(),
            });
        }
        let records = to_linfa(x);
        // linfa's `tolerance` is the neighbourhood radius.
        let params = linfa_clustering::Dbscan::params(self.min_points)
            .tolerance(self.eps)
            .check()
            .map_err(|e| AlgoError::Other(format!("dbscan: {e}")))?;
        let raw: ndarray016::Array1<Option<usize>> = params.transform(&records);
        let found: Vec<usize> = raw.iter().flatten().copied().collect();
        let (canon, n_found) = canonical_labels(&found);
        let mut it = canon.into_iter();
        let mut n_noise = 0;
        let labels: Array1<usize> = raw
            .iter()
            .map(|r| match r {
                Some(_) => it.next().unwrap_or(n_found),
                None => {
                    n_noise += 1;
                    n_found
                }
            })
            .collect();
        Ok(Box::new(FittedDbscan {
            eps: self.eps,
            train: x.to_owned(),
            labels,
            n_found,
            n_noise,
        }))
    }
}

impl FittedClusterer for FittedDbscan {
    fn n_clusters(&self) -> usize {
        self.n_found + usize::from(self.n_noise > 0)
    }
    fn labels(&self) -> &Array1<usize> {
        &self.labels
    }
    /// A new row joins the cluster of its nearest clustered training row if
    /// that row is within `eps`; otherwise it is noise.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        strata_core::check_columns(x, self.train.ncols())?;
        strata_core::check_finite(x, None)?;
        let eps2 = self.eps * self.eps;
        Ok(x.rows()
            .into_iter()
            .map(|r| {
                let mut best = (f64::INFINITY, self.n_found);
                for (t, &l) in self.train.rows().into_iter().zip(self.labels.iter()) {
                    if l < self.n_found {
                        let d = sq_dist(r, t);
                        if d < best.0 {
                            best = (d, l);
                        }
                    }
                }
                if best.0 <= eps2 { best.1 } else { self.n_found }
            })
            .collect())
    }
    fn diagnostics(&self, _x: ArrayView2<'_, f64>) -> Diagnostics {
        let noise = self.n_noise as f64 / self.labels.len().max(1) as f64;
        let mut d = Diagnostics::default()
            .scalar("clusters_found", self.n_found as f64)
            .scalar("noise_points", self.n_noise as f64)
            .scalar("noise_fraction", noise);
        if self.n_found == 0 {
            d = d.warnings([
                "DBSCAN found no dense region: every point is noise; raise eps or lower min_points"
                    .to_string(),
            ]);
        } else if noise > 0.5 {
            d = d.warnings([format!(
                "DBSCAN labelled {:.0} % of the points as noise (its own label, {}); metrics treat noise as a cluster",
                100.0 * noise,
                self.n_found
            )]);
        }
        d
    }
}

/// Agglomerative clustering (kodama's linkage), cut at `k` clusters.
///
/// The dissimilarity is linfa-hierarchical's: from a Gaussian kernel,
/// `-ln exp(-|a-b|^2/h)`, that is the squared Euclidean distance over `h`.
/// strata sets `h` to a tenth of the largest squared distance so that no
/// similarity falls under linfa's 1e-6 floor, which would flatten distant
/// pairs into ties. [`hierarchical_cut`] computes the same numbers as linfa's
/// kernel and hierarchical transforms, to the bit, for the pairs the linkage
/// reads only (linfa fills the whole n x n kernel, both triangles).
#[derive(Debug, Clone, PartialEq)]
pub struct Agglomerative {
    pub k: usize,
    pub linkage: Linkage,
}

/// How the distance between two clusters is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linkage {
    Single,
    Complete,
    Average,
    Ward,
}

impl Linkage {
    /// kodama's name for this linkage.
    fn method(self) -> kodama::Method {
        match self {
            Linkage::Single => kodama::Method::Single,
            Linkage::Complete => kodama::Method::Complete,
            Linkage::Average => kodama::Method::Average,
            Linkage::Ward => kodama::Method::Ward,
        }
    }
}

mod trees;

/// Rows above which the dense n x n kernel would not fit comfortably in memory.
pub const AGGLOMERATIVE_MAX_ROWS: usize = 12_000;

/// linfa-hierarchical's dissimilarities of the rows of `x` (condensed: the
/// pairs i < j, row after row) and the kernel bandwidth, see
/// [`hierarchical_cut`].
fn dissimilarities(x: ArrayView2<'_, f64>) -> (Vec<f64>, f64) {
    let n = x.nrows();
    let xs = x.as_standard_layout();
    let rows: Vec<&[f64]> = xs
        .rows()
        .into_iter()
        .map(|r| r.to_slice().unwrap_or(&[]))
        .collect();
    let mut condensed: Vec<f64> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            condensed.push(
                a.iter()
                    .zip(b.iter())
                    .map(|(p, q)| (p - q) * (p - q))
                    .sum::<f64>(),
            );
        }
    }
    let max_d2 = condensed.iter().copied().fold(0.0, f64::max);
    let bandwidth = if max_d2 > 0.0 { max_d2 / 10.0 } else { 1.0 };
    let floor: f64 = 1e-6;
    for v in &mut condensed {
        let similarity = (-*v / bandwidth).exp();
        *v = if similarity > floor {
            -similarity.ln()
        } else {
            -floor.ln()
        };
    }
    (condensed, bandwidth)
}

/// The rows of `x` merged by `linkage` until `k` clusters remain: each row's
/// cluster (as merge-tree node ids, not yet canonical) and the kernel
/// bandwidth `h`. The condensed dissimilarities are those linfa-hierarchical
/// derives from linfa's dense Gaussian kernel, computed the same way (sums of
/// squares in feature order, `exp` then `-ln`, the 1e-6 similarity floor),
/// and the cut applies the first `n - k` merges, as linfa's does.
///
/// The merge tree does not depend on `k`, so it comes from [`trees`]: a sweep
/// that cuts one matrix at several k (runs k = 2, 4, 6 on one representation,
/// and each of their stability resamples) builds each tree once.
pub fn hierarchical_cut(x: ArrayView2<'_, f64>, k: usize, linkage: Linkage) -> (Vec<usize>, f64) {
    let n = x.nrows();
    let tree = trees::tree(x, linkage);
    // Node n + s is the union of step s's two clusters; every node's parent
    // has a larger id, so roots resolve from the top down.
    let merges = n.saturating_sub(k).min(tree.merges.len());
    let mut parent: Vec<usize> = (0..n + merges).collect();
    for (s, &(a, b)) in tree.merges[..merges].iter().enumerate() {
        parent[a] = n + s;
        parent[b] = n + s;
    }
    for id in (0..n + merges).rev() {
        parent[id] = parent[parent[id]];
    }
    parent.truncate(n);
    (parent, tree.bandwidth)
}

/// A fitted agglomerative clustering; new rows go to the nearest cluster mean.
pub struct FittedAgglomerative {
    labels: Array1<usize>,
    centroids: Array2<f64>,
    bandwidth: f64,
}

impl Configurable for Agglomerative {
    fn param_specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::clusters("number of clusters"),
            ParamSpec::new(
                "linkage",
                ParamKind::Choice(&["ward", "average", "complete", "single"]),
                word("ward"),
                "distance between clusters",
            ),
        ]
    }
    fn from_params(p: &Params) -> Result<Self, AlgoError> {
        let linkage = match p.text("linkage")? {
            "single" => Linkage::Single,
            "complete" => Linkage::Complete,
            "average" => Linkage::Average,
            _ => Linkage::Ward,
        };
        Ok(Agglomerative {
            k: p.usize("k")?,
            linkage,
        })
    }
    fn check_shape(_p: &Params, rows: usize, _cols: usize) -> Result<(), String> {
        if rows > AGGLOMERATIVE_MAX_ROWS {
            return Err(format!(
                "agglomerative clustering builds a dense {rows} x {rows} matrix ({:.1} GB); \
                 it accepts at most {AGGLOMERATIVE_MAX_ROWS} rows",
                (rows as f64).powi(2) * 12.0 / 1e9
            ));
        }
        Ok(())
    }
}

impl Clusterer for Agglomerative {
    fn name(&self) -> &str {
        "agglomerative"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        strata_core::check_finite(x, None)?;
        strata_core::check_min_samples(x, 2, self.name())?;
        let n = x.nrows();
        if self.k < 1 || self.k > n {
            return Err(AlgoError::InvalidParameter {
                name: "k".into(),
                value: self.k.to_string(),
                expected: format!("between 1 and the {n} rows"),
            });
        }
        if let Err(msg) = Self::check_shape(&Params::default(), n, x.ncols()) {
            return Err(AlgoError::Other(msg));
        }
        let (raw, bandwidth) = hierarchical_cut(x, self.k, self.linkage);
        let (labels, k) = canonical_labels(&raw);
        let mut centroids = Array2::<f64>::zeros((k, x.ncols()));
        let mut counts = vec![0usize; k];
        for (i, &l) in labels.iter().enumerate() {
            let mut c = centroids.row_mut(l);
            c += &x.row(i);
            counts[l] += 1;
        }
        for (l, &m) in counts.iter().enumerate() {
            centroids.row_mut(l).mapv_inplace(|v| v / m as f64);
        }
        Ok(Box::new(FittedAgglomerative {
            labels: Array1::from(labels),
            centroids,
            bandwidth,
        }))
    }
}

impl FittedClusterer for FittedAgglomerative {
    fn n_clusters(&self) -> usize {
        self.centroids.nrows()
    }
    fn labels(&self) -> &Array1<usize> {
        &self.labels
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        strata_core::check_columns(x, self.centroids.ncols())?;
        strata_core::check_finite(x, None)?;
        Ok(x.rows()
            .into_iter()
            .map(|r| {
                let mut best = (f64::INFINITY, 0);
                for (l, c) in self.centroids.rows().into_iter().enumerate() {
                    let d = sq_dist(r, c);
                    if d < best.0 {
                        best = (d, l);
                    }
                }
                best.1
            })
            .collect())
    }
    fn diagnostics(&self, _x: ArrayView2<'_, f64>) -> Diagnostics {
        Diagnostics::default().scalar("kernel_bandwidth", self.bandwidth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Rng;

    /// Three tight blobs of 60 points and, optionally, far-away outliers.
    fn blobs(outliers: usize) -> (Array2<f64>, Vec<usize>) {
        let mut r = Rng::new(Seed(5));
        let centers = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let n = 180 + outliers;
        let mut truth = Vec::new();
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if i < 180 {
                centers[i % 3][j] + 0.3 * r.normal()
            } else {
                100.0 + 50.0 * (i - 180) as f64 * (j + 1) as f64
            }
        });
        for i in 0..n {
            truth.push(if i < 180 { i % 3 } else { 3 });
        }
        (x, truth)
    }

    fn same_partition(a: &[usize], b: &[usize]) -> bool {
        canonical_labels(a).0 == canonical_labels(b).0
    }

    #[test]
    fn dbscan_finds_blobs_and_noise() {
        let (x, truth) = blobs(4);
        let f = Dbscan {
            eps: 1.5,
            min_points: 5,
        }
        .fit(x.view(), Seed(0))
        .unwrap();
        assert_eq!(f.n_clusters(), 4, "three clusters plus noise");
        assert!(same_partition(f.labels().as_slice().unwrap(), &truth));
        let d = f.diagnostics(x.view());
        assert_eq!(d.scalars["noise_points"], 4.0);
        // New rows: near a blob joins it, far away is noise.
        let q = ndarray::array![[10.1, 0.2], [500.0, 500.0]];
        let p = f.predict(q.view()).unwrap();
        assert_eq!(p[0], f.labels()[1]);
        assert_eq!(p[1], 3);
    }

    #[test]
    fn agglomerative_recovers_blobs_with_every_linkage() {
        let (x, truth) = blobs(0);
        for linkage in [
            Linkage::Ward,
            Linkage::Average,
            Linkage::Complete,
            Linkage::Single,
        ] {
            let f = Agglomerative { k: 3, linkage }
                .fit(x.view(), Seed(0))
                .unwrap();
            assert_eq!(f.n_clusters(), 3);
            assert!(
                same_partition(f.labels().as_slice().unwrap(), &truth),
                "{linkage:?}"
            );
            let again = Agglomerative { k: 3, linkage }
                .fit(x.view(), Seed(0))
                .unwrap();
            assert_eq!(f.labels(), again.labels(), "labels are canonical");
            assert_eq!(f.predict(x.view()).unwrap(), *f.labels());
        }
    }

    /// Agglomerative clustering as linfa computes it: the dense Gaussian
    /// kernel, then linfa-hierarchical's transform (canonical labels).
    fn linfa_agglomerative(x: ArrayView2<'_, f64>, k: usize, linkage: Linkage) -> Vec<usize> {
        let n = x.nrows();
        let mut max_d2: f64 = 0.0;
        for i in 0..n {
            for j in 0..i {
                max_d2 = max_d2.max(sq_dist(x.row(i), x.row(j)));
            }
        }
        let bandwidth = if max_d2 > 0.0 { max_d2 / 10.0 } else { 1.0 };
        let kernel = linfa_kernel::Kernel::params()
            .kind(linfa_kernel::KernelType::Dense)
            .method(linfa_kernel::KernelMethod::Gaussian(bandwidth))
            .transform(&to_linfa(x));
        // linfa-hierarchical's `Method` is kodama's.
        let out = linfa_hierarchical::HierarchicalCluster::default()
            .with_method(linkage.method())
            .num_clusters(k)
            .check()
            .unwrap()
            .transform(kernel);
        canonical_labels(&out.targets).0
    }

    #[test]
    fn dissimilarities_equal_linfa_to_the_bit() {
        let mut r = Rng::new(Seed(12));
        let mut x = Array2::from_shape_fn((70, 6), |_| r.normal() * 3.0);
        x[[5, 2]] = 400.0;
        let (ours, bandwidth) = dissimilarities(x.view());
        let kernel = linfa_kernel::Kernel::params()
            .kind(linfa_kernel::KernelType::Dense)
            .method(linfa_kernel::KernelMethod::Gaussian(bandwidth))
            .transform(&to_linfa(x.view()));
        let theirs: Vec<f64> = kernel
            .to_upper_triangle()
            .into_iter()
            .map(|v: f64| if v > 1e-6 { -v.ln() } else { -(1e-6f64).ln() })
            .collect();
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "pair {i}: {a} against {b}");
        }
    }

    #[test]
    fn agglomerative_equals_linfa_to_the_label() {
        // Spread-out data, blobs, exact duplicates (tied dissimilarities) and
        // one far outlier (which sets the bandwidth): every linkage and
        // several cuts give linfa's labels.
        let mut r = Rng::new(Seed(11));
        let spread = Array2::from_shape_fn((90, 5), |_| r.normal());
        let (blobs_x, _) = blobs(1);
        let mut dup = Array2::from_shape_fn((60, 3), |_| (r.uniform() * 4.0).floor());
        dup[[0, 0]] = 1e3;
        for x in [spread, blobs_x, dup] {
            for linkage in [
                Linkage::Ward,
                Linkage::Average,
                Linkage::Complete,
                Linkage::Single,
            ] {
                for k in [1, 2, 3, 7, x.nrows()] {
                    let f = Agglomerative { k, linkage }.fit(x.view(), Seed(0)).unwrap();
                    assert_eq!(
                        f.labels().to_vec(),
                        linfa_agglomerative(x.view(), k, linkage),
                        "{linkage:?}, k = {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn one_tree_serves_every_cut_of_a_matrix() {
        // A matrix no other test uses, so no other thread's tree is found.
        let mut r = Rng::new(Seed(2026));
        let x = Array2::from_shape_fn((80, 4), |_| r.normal());
        let before = trees::built_here();
        let cuts: Vec<Vec<usize>> = [2, 5, 3, 2]
            .iter()
            .map(|&k| {
                let f = Agglomerative { k, linkage: Linkage::Ward }.fit(x.view(), Seed(0)).unwrap();
                assert_eq!(f.n_clusters(), k);
                f.labels().to_vec()
            })
            .collect();
        assert_eq!(trees::built_here(), before + 1, "four cuts, one tree");
        assert_eq!(cuts[0], cuts[3], "the same cut twice");
        assert_eq!(cuts[1], linfa_agglomerative(x.view(), 5, Linkage::Ward));
        // Another linkage of the same matrix is another tree.
        let avg = Agglomerative { k: 3, linkage: Linkage::Average }.fit(x.view(), Seed(0)).unwrap();
        assert_eq!(trees::built_here(), before + 2);
        assert_eq!(avg.labels().to_vec(), linfa_agglomerative(x.view(), 3, Linkage::Average));
        // One value changed by one unit in the last place is another matrix:
        // its own tree, never the stored one.
        let mut y = x.clone();
        y[[40, 2]] = f64::from_bits(y[[40, 2]].to_bits() + 1);
        let f = Agglomerative { k: 5, linkage: Linkage::Ward }.fit(y.view(), Seed(0)).unwrap();
        assert_eq!(trees::built_here(), before + 3);
        assert_eq!(f.labels().to_vec(), linfa_agglomerative(y.view(), 5, Linkage::Ward));
        // The same values in another memory layout are the same matrix.
        let t = x.t().to_owned();
        let f = Agglomerative { k: 5, linkage: Linkage::Ward }.fit(t.t(), Seed(0)).unwrap();
        assert_eq!(trees::built_here(), before + 3);
        assert_eq!(f.labels().to_vec(), cuts[1]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let (mut x, _) = blobs(0);
        assert!(
            Agglomerative {
                k: 500,
                linkage: Linkage::Ward
            }
            .fit(x.view(), Seed(0))
            .is_err()
        );
        assert!(
            Dbscan {
                eps: 0.0,
                min_points: 5
            }
            .fit(x.view(), Seed(0))
            .is_err()
        );
        x[[3, 1]] = f64::NAN;
        assert!(
            Dbscan {
                eps: 1.0,
                min_points: 5
            }
            .fit(x.view(), Seed(0))
            .is_err()
        );
        assert!(
            Agglomerative::check_shape(&Params::default(), 28_356, 12)
                .unwrap_err()
                .contains("28356 x 28356")
        );
    }
}
