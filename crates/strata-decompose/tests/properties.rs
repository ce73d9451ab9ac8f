//! Invariants of the reducers on random matrices.

use ndarray::Array2;
use proptest::prelude::*;
use strata_core::{Reducer, Rng, Seed};
use strata_decompose::{Components, FastIca, Pca, RandomProjection, RpComponents};

fn matrix(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut r = Rng::new(Seed(seed));
    Array2::from_shape_fn((n, d), |(_, j)| r.normal() * (1.0 + j as f64) + j as f64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn full_rank_pca_round_trips(n in 8usize..80, d in 1usize..7, seed in 0u64..1000, whiten: bool) {
        let x = matrix(n, d, seed);
        let p = Pca::new(Components::Count(d)).whiten(whiten).fit(x.view()).unwrap();
        let back = p.inverse_transform(p.transform(x.view()).unwrap().view()).unwrap();
        let scale = x.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        prop_assert!((&back - &x).iter().all(|e| e.abs() < 1e-9 * scale));
    }

    #[test]
    fn whitened_components_have_identity_covariance(n in 20usize..120, d in 2usize..6, seed in 0u64..1000) {
        let x = matrix(n, d, seed);
        let k = d - 1;
        let y = Pca::new(Components::Count(k)).whiten(true).fit(x.view()).unwrap().transform(x.view()).unwrap();
        let c = y.t().dot(&y) / (n as f64 - 1.0);
        for i in 0..k {
            for j in 0..k {
                let e = if i == j { 1.0 } else { 0.0 };
                prop_assert!((c[[i, j]] - e).abs() < 1e-8, "{}", c);
            }
        }
    }

    #[test]
    fn shapes_and_names_line_up(n in 10usize..60, d in 2usize..8, k in 1usize..8, seed in 0u64..1000) {
        let k = k.min(d);
        let x = matrix(n, d, seed);
        let reducers: Vec<(Box<dyn Reducer>, &str)> = vec![
            (Box::new(Pca::new(Components::Count(k))), "PC"),
            (Box::new(FastIca::new(k)), "IC"),
            (Box::new(RandomProjection::gaussian(RpComponents::Count(k))), "RP"),
            (Box::new(RandomProjection::sparse(RpComponents::Count(k))), "RP"),
        ];
        for (r, prefix) in reducers {
            let f = r.fit(x.view(), Seed(seed)).unwrap();
            let y = f.transform(x.view()).unwrap();
            prop_assert_eq!(y.dim(), (n, k));
            let names = f.component_names();
            prop_assert_eq!(names.len(), k);
            prop_assert_eq!(names[0].clone(), format!("{prefix}1"));
            prop_assert_eq!(f.inverse_transform(y.view()).unwrap().dim(), (n, d));
        }
    }
}
