//! Invariants of k-means and the metrics on random data.

use ndarray::Array2;
use ndarray::ShapeBuilder;
use proptest::prelude::*;
use strata_cluster::metrics::{
    adjusted_rand_index, calinski_harabasz, davies_bouldin, normalized_mutual_info,
    silhouette_score,
};
use strata_cluster::{CovarianceType, GaussianMixture, KMeans, KMeansInit};
use strata_core::{Rng, Seed};

fn data(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut r = Rng::new(Seed(seed));
    Array2::from_shape_fn((n, d), |(i, _)| r.normal() + (i % 3) as f64 * 2.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn labels_in_range_and_inertia_never_increases(n in 12usize..150, d in 1usize..5, k in 1usize..7, seed in 0u64..500) {
        let x = data(n, d, seed);
        let k = k.min(n);
        let init = x.slice(ndarray::s![..k, ..]).to_owned();
        let mut last = f64::INFINITY;
        for max_iter in 1..8 {
            let f = KMeans { n_init: 1, max_iter, tol: 0.0, init: KMeansInit::Centers(init.clone()), ..KMeans::new(k) }
                .fit(x.view(), Seed(seed))
                .unwrap();
            prop_assert!(f.labels.iter().all(|&l| l < k));
            prop_assert!(f.inertia <= last + 1e-9 * last.abs().max(1.0), "iteration {max_iter}: {} after {last}", f.inertia);
            last = f.inertia;
        }
    }

    #[test]
    fn any_shape_and_layout_gives_the_same_fit(n in 1usize..40, d in 1usize..4, k in 1usize..8, seed in 0u64..500) {
        let x = data(n, d, seed);
        let k = k.min(n);
        // The same numbers in column-major memory, as polars gives them.
        let mut xf = Array2::zeros((n, d).f());
        xf.assign(&x);
        let km = KMeans { n_init: 3, ..KMeans::new(k) };
        let (a, b) = (km.fit(x.view(), Seed(seed)).unwrap(), km.fit(xf.view(), Seed(seed)).unwrap());
        prop_assert_eq!(&a, &b);
        prop_assert!(a.labels.iter().all(|&l| l < k));
        prop_assert_eq!(a.predict(x.view()).unwrap(), a.labels.clone());
        for ct in [CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical] {
            let g = GaussianMixture::new(k, ct);
            // Tiny samples may leave a component singular: a typed error, never a panic.
            match (g.fit(x.view(), Seed(seed)), g.fit(xf.view(), Seed(seed))) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(&a, &b);
                    let p = a.predict_proba(x.view()).unwrap();
                    prop_assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
                    prop_assert!(a.labels.iter().all(|&l| l < k));
                }
                (Err(e), Err(f)) => prop_assert_eq!(e.to_string(), f.to_string()),
                (a, b) => prop_assert!(false, "layouts disagree: {:?} vs {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }

    #[test]
    fn metrics_ignore_label_names(n in 12usize..80, seed in 0u64..500, shift in 1usize..50) {
        let x = data(n, 3, seed);
        let f = KMeans { n_init: 2, ..KMeans::new(3) }.fit(x.view(), Seed(seed)).unwrap();
        let labels: Vec<usize> = f.labels.to_vec();
        let distinct = { let mut v = labels.clone(); v.sort(); v.dedup(); v.len() };
        prop_assume!(distinct >= 2 && distinct < n);
        // Rename: reverse the order and offset.
        let renamed: Vec<usize> = labels.iter().map(|&l| (10 - l) * shift).collect();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
        // Renaming renumbers the clusters, not the sums: the very bits.
        prop_assert_eq!(silhouette_score(x.view(), &labels).unwrap().to_bits(), silhouette_score(x.view(), &renamed).unwrap().to_bits());
        prop_assert!(close(calinski_harabasz(x.view(), &labels).unwrap(), calinski_harabasz(x.view(), &renamed).unwrap()));
        prop_assert!(close(davies_bouldin(x.view(), &labels).unwrap(), davies_bouldin(x.view(), &renamed).unwrap()));
        prop_assert!(close(adjusted_rand_index(&labels, &renamed).unwrap(), 1.0));
        prop_assert!(close(normalized_mutual_info(&labels, &renamed).unwrap(), 1.0));
    }
}
