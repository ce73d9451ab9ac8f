use super::*;
use crate::dense::LANES;
use crate::metrics::adjusted_rand_index;
use strata_core::{SimdLevel, with_simd_cap};

fn blobs() -> (Array2<f64>, Vec<usize>) {
    let mut r = Rng::new(Seed(8));
    let centers = [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]];
    let scales = [1.0, 0.5, 2.0];
    let x = Array2::from_shape_fn((900, 2), |(i, j)| {
        centers[i % 3][j] + scales[i % 3] * r.normal()
    });
    (x, (0..900).map(|i| i % 3).collect())
}

#[test]
fn every_covariance_type_recovers_blobs() {
    let (x, truth) = blobs();
    for ct in [
        CovarianceType::Full,
        CovarianceType::Tied,
        CovarianceType::Diag,
        CovarianceType::Spherical,
    ] {
        let f = GaussianMixture::new(3, ct).fit(x.view(), Seed(0)).unwrap();
        assert!(f.converged, "{ct:?}");
        let ari = adjusted_rand_index(f.labels.as_slice().unwrap(), &truth).unwrap();
        assert!(ari > 0.95, "{ct:?}: ARI {ari}");
        let p = f.predict_proba(x.view()).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        assert!((f.params.weights.sum() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn lower_bound_never_decreases() {
    let (x, _) = blobs();
    for ct in [CovarianceType::Full, CovarianceType::Diag] {
        let mut last = f64::NEG_INFINITY;
        for max_iter in 1..12 {
            let gm = GaussianMixture {
                init: GmmInit::Random,
                max_iter,
                tol: 0.0,
                ..GaussianMixture::new(3, ct)
            };
            let f = gm.fit(x.view(), Seed(4)).unwrap();
            assert!(
                f.lower_bound >= last - 1e-12,
                "{ct:?} iteration {max_iter}: {} after {last}",
                f.lower_bound
            );
            last = f.lower_bound;
        }
    }
}

#[test]
fn information_criteria_follow_the_formula() {
    let (x, _) = blobs();
    let f = GaussianMixture::new(3, CovarianceType::Full)
        .fit(x.view(), Seed(0))
        .unwrap();
    assert_eq!(f.n_parameters(), 3 * 3 + 3 * 2 + 2);
    let n = 900.0f64;
    let ll = f.score(x.view()).unwrap() * n;
    assert!((f.bic(x.view()).unwrap() - (-2.0 * ll + 17.0 * n.ln())).abs() < 1e-9);
    assert!((f.aic(x.view()).unwrap() - (-2.0 * ll + 34.0)).abs() < 1e-9);
    let t = GaussianMixture::new(3, CovarianceType::Spherical)
        .fit(x.view(), Seed(0))
        .unwrap();
    assert_eq!(t.n_parameters(), 3 + 6 + 2);
}

#[test]
fn kernels_match_their_baseline_and_any_thread_count() {
    let (x, _) = blobs();
    let mut r = Rng::new(Seed(5));
    // Five features, so groups, padding and the triangle are all exercised.
    let x = ndarray::concatenate![
        Axis(1),
        x,
        Array2::from_shape_fn((x.nrows(), 3), |_| r.normal())
    ];
    let t = column_major(x.view());
    let cols = cols_of(&t);
    for ct in [
        CovarianceType::Full,
        CovarianceType::Tied,
        CovarianceType::Diag,
        CovarianceType::Spherical,
    ] {
        let g = GaussianMixture::new(3, ct);
        let f = g.fit(x.view(), Seed(1)).unwrap();
        let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<u64>>();
        let (a, b) = (7, x.nrows() - 3);
        // Each build the CPU has (AVX2, and AVX-512 where present).
        // Responsibilities and log-likelihood of the rows a..b, flattened.
        let block = |f: &dyn Fn(&mut [&mut [f64]]) -> f64| {
            let mut w = vec![0.0; 3 * (b - a)];
            let mut pieces: Vec<&mut [f64]> = w.chunks_exact_mut(b - a).collect();
            let t = f(&mut pieces);
            w.push(t);
            w
        };
        let avx2 = with_simd_cap(SimdLevel::Avx2, || {
            block(&|w| e_step_simd(cols, a, b, &f.params, w))
        });
        let base = block(&|w| e_step_block(cols, a, b, &f.params, w));
        assert_eq!(bits(&avx2), bits(&base), "{ct:?}");
        // Against log-sum-exp row by row, over the whole groups of rows and
        // the block's last, shorter one (890 rows: 55 groups of 16, then 10).
        let nb = b - a;
        let mut lp = vec![0.0; 3 * nb];
        let mut pieces: Vec<&mut [f64]> = lp.chunks_exact_mut(nb).collect();
        log_prob_block(cols, a, b, &f.params, &mut pieces);
        let mut total = 0.0;
        for r in 0..nb {
            let v: Vec<f64> = (0..3).map(|c| lp[c * nb + r]).collect();
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = v.iter().map(|e| (e - m).exp()).sum();
            total += m + s.ln();
            for c in 0..3 {
                let want = (v[c] - m).exp() / s;
                assert!((base[c * nb + r] - want).abs() <= 1e-12, "{ct:?}: row {r}, component {c}");
            }
        }
        assert!((base[3 * nb] - total).abs() <= 1e-12 * total.abs(), "{ct:?}: {} against {total}", base[3 * nb]);
        assert_eq!(
            bits(&block(&|w| e_step_simd(cols, a, b, &f.params, w))),
            bits(&base),
            "{ct:?}"
        );
        let (_, resp) = e_step(cols, &f.params);
        let rt = column_major(resp.view());
        let resp_t = rt.as_slice().unwrap();
        let plain = scatter_block(cols, a, b, resp_t, &f.params.means);
        assert_eq!(bits(&scatter_simd(cols, a, b, resp_t, &f.params.means)), bits(&plain));
        // The paired layout of the AVX-512 build, run here whatever the CPU.
        assert_eq!(bits(&scatter_block_paired(cols, a, b, resp_t, &f.params.means)), bits(&plain));
        // Against the formula, row by row: sum_r w_rc (x_r - m_c)_i (x_r - m_c)_j
        // for i <= j (rows a..b: full chunks read in place, a short last one).
        let (k, d) = f.params.means.dim();
        let mut p = 0;
        for c in 0..k {
            let m = f.params.means.row(c);
            for i in 0..d {
                for j in i..d {
                    let want: f64 = (a..b)
                        .map(|r| resp_t[c * x.nrows() + r] * (x[[r, i]] - m[i]) * (x[[r, j]] - m[j]))
                        .sum();
                    assert!((plain[p] - want).abs() <= 1e-9 * want.abs().max(1.0), "component {c}, ({i}, {j})");
                    p += 1;
                }
            }
        }
        assert_eq!(p, plain.len());
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| g.fit(x.view(), Seed(1)).unwrap());
        assert_eq!(one, f, "{ct:?}");
    }
}

#[test]
fn mahalanobis_takes_each_column_alone() {
    // Columns in pairs, an odd one last: each column's sum over the
    // triangle, and the squares in column order, as one column at a time.
    let mut r = Rng::new(Seed(9));
    for d in 1..=7 {
        let diff: Vec<[f64; LANES]> = (0..d).map(|_| std::array::from_fn(|_| r.normal())).collect();
        let u: Vec<f64> = (0..d * d).map(|_| r.normal()).collect();
        let mut maha = [0.5f64; LANES];
        mahalanobis(&diff, &u, &mut maha);
        for (l, &got) in maha.iter().enumerate() {
            let mut want = 0.5f64;
            for j in 0..d {
                let mut y = 0.0f64;
                for (i, di) in diff.iter().enumerate().take(j + 1) {
                    y += di[l] * u[j * d + i];
                }
                want += y * y;
            }
            assert_eq!(got.to_bits(), want.to_bits(), "d = {d}, lane {l}");
        }
    }
}

#[test]
fn singular_component_is_a_clear_error() {
    // Two groups of identical points: without regularisation each
    // component's covariance is exactly zero.
    let x = Array2::from_shape_fn(
        (20, 2),
        |(i, j)| if i < 10 { j as f64 } else { 5.0 + j as f64 },
    );
    let gm = GaussianMixture {
        reg_covar: 0.0,
        init: GmmInit::Labels((0..20).map(|i| i / 10).collect()),
        ..GaussianMixture::new(2, CovarianceType::Full)
    };
    let e = gm.fit(x.view(), Seed(0)).unwrap_err();
    assert!(
        matches!(e, ClusterError::SingularComponent { component: 0, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("raise reg_covar"), "{e}");
    // The default regularisation makes the same data fit.
    assert!(
        GaussianMixture {
            reg_covar: 1e-6,
            ..gm
        }
        .fit(x.view(), Seed(0))
        .is_ok()
    );
}

#[test]
fn bad_input() {
    let (x, _) = blobs();
    assert!(matches!(
        GaussianMixture::new(0, CovarianceType::Full).fit(x.view(), Seed(0)),
        Err(ClusterError::BadClusterCount { .. })
    ));
    let f = GaussianMixture::new(2, CovarianceType::Diag)
        .fit(x.view(), Seed(0))
        .unwrap();
    assert_eq!(
        f.predict(Array2::zeros((1, 3)).view()).unwrap_err(),
        AlgoError::ColumnMismatch {
            expected: 2,
            got: 3
        }
    );
    let bad_labels = GaussianMixture {
        init: GmmInit::Labels(vec![0; 5]),
        ..GaussianMixture::new(2, CovarianceType::Diag)
    };
    assert!(matches!(
        bad_labels.fit(x.view(), Seed(0)),
        Err(ClusterError::LengthMismatch { .. })
    ));
}
