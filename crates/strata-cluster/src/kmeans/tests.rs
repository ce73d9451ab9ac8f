use super::*;
use crate::metrics::adjusted_rand_index;

/// Three well separated blobs of 200 points in 3-D.
fn blobs() -> (Array2<f64>, Vec<usize>) {
    let mut r = Rng::new(Seed(3));
    let centers = [[0.0, 0.0, 0.0], [10.0, 0.0, 5.0], [0.0, 10.0, -5.0]];
    let mut x = Array2::zeros((600, 3));
    let mut truth = Vec::new();
    for i in 0..600 {
        let c = i % 3;
        for j in 0..3 {
            x[[i, j]] = centers[c][j] + r.normal();
        }
        truth.push(c);
    }
    (x, truth)
}

#[test]
fn recovers_blobs() {
    let (x, truth) = blobs();
    let f = KMeans::new(3).fit(x.view(), Seed(0)).unwrap();
    assert!(f.converged);
    assert_eq!(
        adjusted_rand_index(f.labels.as_slice().unwrap(), &truth).unwrap(),
        1.0
    );
    assert!((inertia(x.view(), &f.centers, &f.labels) - f.inertia).abs() < 1e-9 * f.inertia);
    assert_eq!(f.predict(x.view()).unwrap(), f.labels);
}

#[test]
fn more_restarts_never_worse_and_seeded() {
    let (x, _) = blobs();
    let one = KMeans {
        n_init: 1,
        ..KMeans::new(8)
    }
    .fit(x.view(), Seed(1))
    .unwrap();
    let ten = KMeans {
        n_init: 10,
        ..KMeans::new(8)
    }
    .fit(x.view(), Seed(1))
    .unwrap();
    assert!(ten.inertia <= one.inertia);
    assert_eq!(
        ten,
        KMeans {
            n_init: 10,
            ..KMeans::new(8)
        }
        .fit(x.view(), Seed(1))
        .unwrap()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    assert_eq!(
        ten,
        pool.install(|| KMeans {
            n_init: 10,
            ..KMeans::new(8)
        }
        .fit(x.view(), Seed(1))
        .unwrap())
    );
}

#[test]
fn empty_cluster_is_reseeded_from_the_farthest_point() {
    let x = ndarray::array![[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]];
    // The third center attracts nothing at first.
    let init = ndarray::array![[0.1], [5.0], [100.0]];
    let f = KMeans {
        n_init: 1,
        init: KMeansInit::Centers(init),
        ..KMeans::new(3)
    }
    .fit(x.view(), Seed(0))
    .unwrap();
    let mut sizes = [0usize; 3];
    f.labels.iter().for_each(|&l| sizes[l] += 1);
    assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
    assert_eq!(
        f.labels[5], 2,
        "the farthest point (9.0) seeds the empty cluster"
    );
}

/// The bits of several vectors, one after the other.
/// Lloyd's step kernel, as built for AVX2 or for the baseline.
type StepFn = fn(
    &[f64],
    usize,
    usize,
    &[f64],
    &[f64],
    &mut [Label],
    bool,
    &mut [f64],
    &mut [f64],
    &mut Gaps<'_>,
) -> usize;

fn no_gaps() -> Gaps<'static> {
    Gaps {
        slack: &mut [],
        xn: &[],
        xr: &[],
        drift: &[],
        ef: 0.0,
        cmax: 0.0,
    }
}

fn bits(parts: &[&[f64]]) -> Vec<u64> {
    parts
        .iter()
        .flat_map(|p| p.iter().map(|v| v.to_bits()))
        .collect()
}

#[test]
fn assignment_kernel_equals_a_direct_computation_bit_for_bit() {
    let (x, _) = blobs();
    let mut r = Rng::new(Seed(3));
    let x = x.mapv(|v| v + r.normal());
    let (n, d) = x.dim();
    let t = column_major(x.view());
    let cols = cols_of(&t);
    for k in [1, 2, 7, 19] {
        let centers = x.slice(ndarray::s![..k, ..]).to_owned();
        let cs: Vec<f64> = centers.iter().copied().collect();
        // Rows 5.. (an offset and a tail shorter than a lane group).
        for (start, m) in [(0, n), (5, 37), (590, 10)] {
            let run = |wide: bool| {
                let (mut f, mut d1, mut d2) = (vec![0; m], vec![0.0; m], vec![0.0; m]);
                let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
                if wide {
                    nearest_simd(
                        cols.data, n, start, &cs, d, &mut f, &mut d1, &mut d2, &mut s, &mut c,
                    );
                } else {
                    nearest_body(
                        cols.data, n, start, &cs, d, &mut f, &mut d1, &mut d2, &mut s, &mut c,
                    );
                }
                (f, bits(&[&d1, &d2, &s, &c]))
            };
            let direct = {
                let (mut f, mut d1, mut d2) = (vec![], vec![], vec![]);
                let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
                for i in start..start + m {
                    let dists: Vec<f64> =
                        (0..k).map(|c| sq_dist(x.row(i), centers.row(c))).collect();
                    let mut order: Vec<usize> = (0..k).collect();
                    order.sort_by(|&a, &b| dists[a].total_cmp(&dists[b]).then(a.cmp(&b)));
                    f.push(order[0] as Label);
                    d1.push(dists[order[0]]);
                    d2.push(if k > 1 {
                        dists[order[1]]
                    } else {
                        f64::INFINITY
                    });
                    for j in 0..d {
                        s[order[0] * d + j] += x[[i, j]];
                    }
                    c[order[0]] += 1.0;
                }
                (f, bits(&[&d1, &d2, &s, &c]))
            };
            assert_eq!(run(true), direct, "k={k} start={start} m={m}");
            assert_eq!(run(false), direct, "k={k} start={start} m={m}");
        }
    }
}

#[test]
fn expanded_form_step_matches_the_exact_assignment() {
    let (x, _) = blobs();
    let mut r = Rng::new(Seed(4));
    let x = x.mapv(|v| v + r.normal());
    let (n, d) = x.dim();
    let t = column_major(x.view());
    let cols = cols_of(&t);
    for k in [1, 3, 8, 21] {
        let centers = plus_plus(x.view(), k, &mut Rng::new(Seed(k as u64)));
        let exact = assign(cols, &centers);
        let fast = assign_with(cols, &centers, false);
        assert_eq!(fast.labels, exact.labels, "k={k}");
        assert_eq!(fast.sums, exact.sums, "k={k}");
        assert_eq!(fast.counts, exact.counts, "k={k}");
        // The AVX2 build computes the same bits as the baseline.
        let w: Vec<f64> = centers.iter().map(|v| -2.0 * v).collect();
        let cn: Vec<f64> = centers.rows().into_iter().map(|c| c.dot(&c)).collect();
        let run = |wide: bool, delta: bool| {
            // With `delta`, start from labels shifted by one cluster.
            let mut l: Vec<Label> = exact.labels[3..]
                .iter()
                .map(|&v| (v + 1) % k as Label)
                .collect();
            let (mut s, mut c) = (vec![0.0; k * d], vec![0.0; k]);
            let step: StepFn = if wide {
                lloyd_step_simd
            } else {
                lloyd_step_body
            };
            let before = l.clone();
            let moved = step(
                cols.data,
                n,
                3,
                &w,
                &cn,
                &mut l,
                delta,
                &mut s,
                &mut c,
                &mut no_gaps(),
            );
            // With `delta`, the count of rows that changed cluster.
            let changed = before.iter().zip(&l).filter(|(a, b)| a != b).count();
            assert_eq!(moved, if delta { changed } else { 0 }, "k={k}");
            (l, bits(&[&s, &c]))
        };
        for delta in [false, true] {
            assert_eq!(run(true, delta), run(false, delta), "k={k}");
        }
        // Moving only the rows that change cluster gives the fresh
        // assignment: the same labels and counts, sums within rounding.
        let other = plus_plus(x.view(), k, &mut Rng::new(Seed(50 + k as u64)));
        let before = assign_with(cols, &other, false);
        let moved = assign_from(cols, &centers, false, Some(before), (&[], &[]));
        assert_eq!(moved.labels, fast.labels, "k={k}");
        assert_eq!(moved.counts, fast.counts, "k={k}");
        for (p, q) in moved.sums.iter().zip(&fast.sums) {
            assert!((p - q).abs() <= 1e-9 * (1.0 + q.abs()), "k={k}: {p} vs {q}");
        }
    }
}

#[test]
fn restarts_in_step_equal_each_restart_alone() {
    let (x, _) = blobs();
    let mut r = Rng::new(Seed(12));
    let x = x.mapv(|v| v + r.normal());
    let t = column_major(x.view());
    let cols = cols_of(&t);
    for k in [1, 2, 6] {
        let mut rngs: Vec<Rng> = (0..4).map(|i| Rng::new(Seed(100 + i))).collect();
        let together = plus_plus_many(cols, k, &mut rngs, &row_norms(cols));
        for (i, c) in together.iter().enumerate() {
            let alone = plus_plus(x.view(), k, &mut Rng::new(Seed(100 + i as u64)));
            assert_eq!(c, &alone, "k={k} restart {i}");
            // Centers are distinct data rows.
            for row in c.rows() {
                assert!(x.rows().into_iter().any(|xr| xr == row));
            }
        }
    }
}

#[test]
fn a_pending_center_samples_as_if_lowered() {
    // Several blocks of rows, so that the walk skips whole blocks.
    let mut r = Rng::new(Seed(9));
    let x = Array2::from_shape_fn((2 * strata_core::par::BLOCK_ROWS + 77, 4), |_| r.normal());
    let t = column_major(x.view());
    let cols = cols_of(&t);
    let norms = row_norms(cols);
    let fresh = || Potential {
        closest: vec![vec![f64::INFINITY; cols.n]],
        block_sums: vec![vec![]],
        norms: &norms,
        pending: None,
    };
    let (mut lowered, mut pending) = (fresh(), fresh());
    lowered.lower(cols, &[5]);
    pending.lower(cols, &[5]);
    lowered.lower(cols, &[3000]);
    pending.pending = Some(vec![3000]);
    pending.block_sums = lowered.block_sums.clone();
    for (a, b) in strata_core::par::blocks(cols.n) {
        assert_eq!(
            bits(&[&lowered.block_values(cols, 0, a, b)]),
            bits(&[&pending.block_values(cols, 0, a, b)])
        );
    }
    let draw = |p: &Potential| p.sample(cols, 0, 200, &mut Rng::new(Seed(4)));
    assert_eq!(draw(&lowered), draw(&pending));
}

#[test]
fn sampling_walks_the_running_sum() {
    let n = 3 * strata_core::par::BLOCK_ROWS + 5;
    // All the weight on three rows, in different blocks.
    let mut closest = vec![0.0; n];
    closest[7] = 1.0;
    closest[strata_core::par::BLOCK_ROWS + 1] = 2.0;
    closest[n - 1] = 1.0;
    let sums: Vec<f64> = closest
        .chunks(strata_core::par::BLOCK_ROWS)
        .map(|c| c.iter().sum())
        .collect();
    let pot = Potential {
        closest: vec![closest],
        block_sums: vec![sums],
        norms: &[],
        pending: None,
    };
    let mut counts = [0usize; 3];
    let none = Cols {
        data: &[],
        n: 0,
        d: 0,
    };
    let picks = pot.sample(none, 0, 4000, &mut Rng::new(Seed(1)));
    for p in picks {
        match p {
            7 => counts[0] += 1,
            p if p == strata_core::par::BLOCK_ROWS + 1 => counts[1] += 1,
            p if p == n - 1 => counts[2] += 1,
            other => panic!("row {other} has no weight"),
        }
    }
    // Proportional to 1 : 2 : 1.
    assert!((800..1200).contains(&counts[0]), "{counts:?}");
    assert!((1800..2200).contains(&counts[1]), "{counts:?}");
    assert!((800..1200).contains(&counts[2]), "{counts:?}");
}

#[test]
fn restarts_share_an_inertia_only_when_their_clustering_is_the_same() {
    let fit = |labels: Vec<Label>, centers: Array2<f64>| Run {
        centers,
        labels,
        inertia: f64::NAN,
        n_iter: 1,
        converged: true,
        bounded_steps: 0,
    };
    let c = ndarray::array![[0.0, 1.0], [5.0, 5.0], [9.0, 0.5]];
    let a = fit(vec![0, 1, 1, 2, 0], c.clone());
    // The same clustering under other cluster numbers.
    let swapped = ndarray::array![[9.0, 0.5], [0.0, 1.0], [5.0, 5.0]];
    assert!(same_clustering(
        &a,
        &fit(vec![1, 2, 2, 0, 1], swapped.clone())
    ));
    // A center off by one bit, another partition, two clusters merged.
    let mut nudged = swapped.clone();
    nudged[[2, 1]] = f64::from_bits(5.0f64.to_bits() + 1);
    assert!(!same_clustering(&a, &fit(vec![1, 2, 2, 0, 1], nudged)));
    assert!(!same_clustering(
        &a,
        &fit(vec![1, 2, 0, 0, 1], swapped.clone())
    ));
    assert!(!same_clustering(&a, &fit(vec![1, 1, 1, 0, 1], swapped)));
    // An unused center does not matter.
    let mut unused = c.clone();
    unused[[2, 0]] = 7.0;
    let b = fit(vec![0, 1, 1, 1, 0], c);
    assert!(same_clustering(&b, &fit(vec![0, 1, 1, 1, 0], unused)));
}

#[test]
fn predicting_no_rows_gives_no_labels() {
    let (x, _) = blobs();
    let f = KMeans::new(3).fit(x.view(), Seed(1)).unwrap();
    let none = Array2::<f64>::zeros((0, 3));
    assert_eq!(f.predict(none.view()).unwrap().len(), 0);
}

#[test]
fn bounds_skip_rows_without_changing_a_bit() {
    // Lloyd with the bounds on the rows' distances gives the very fit of
    // Lloyd computing every row: on blobs, on noisy data, far from the
    // origin (where the expanded form rounds most), with duplicated rows
    // (ties) and with one cluster.
    let (blobs, _) = blobs();
    let mut r = Rng::new(Seed(21));
    let noisy = blobs.mapv(|v| v + 2.0 * r.normal());
    let far = noisy.mapv(|v| 1e7 + v * 1e-3);
    let dup = Array2::from_shape_fn((3000, 2), |(i, j)| ((i % 7) * (j + 1)) as f64);
    let long =
        Array2::from_shape_fn((3 * strata_core::par::BLOCK_ROWS + 11, 5), |_| r.normal());
    let (mut always_bounded, mut bounded, mut steps) = (0, 0, 0);
    for x in [&blobs, &noisy, &far, &dup, &long] {
        let t = column_major(x.view());
        let cols = cols_of(&t);
        let norms = row_norms(cols);
        let up = 1.0 + rounding(cols.d);
        let xr: Vec<f64> = norms.iter().map(|v| v.sqrt() * up).collect();
        for k in [1, 3, 8, 20] {
            let init = plus_plus(x.view(), k, &mut Rng::new(Seed(k as u64)));
            let norms = (&norms[..], &xr[..]);
            let without = lloyd(cols, init.clone(), 300, 0.0, false, (&[], &[]), Tracking::Always, None);
            let always = lloyd(cols, init.clone(), 300, 0.0, false, norms, Tracking::Always, None);
            let settled = lloyd(cols, init.clone(), 300, 0.0, false, norms, Tracking::Settled, None);
            // The first step shared with other restarts changes nothing.
            let other = plus_plus(x.view(), k, &mut Rng::new(Seed(99)));
            let firsts = first_steps(cols, &[other.clone(), init.clone()], norms);
            let shared = firsts.into_iter().nth(1);
            let shared = lloyd(cols, init.clone(), 300, 0.0, false, norms, Tracking::Always, shared);
            // As `KMeans::fit` runs it: a shared first step, then the default.
            let firsts = first_steps(cols, &[other, init.clone()], norms);
            let fit = firsts.into_iter().nth(1);
            let fit = lloyd(cols, init, 300, 0.0, false, norms, Tracking::Settled, fit);
            for (name, run) in [
                ("shared", &shared),
                ("always", &always),
                ("settled", &settled),
                ("fit", &fit),
            ] {
                assert_eq!(
                    bits(&[run.centers.as_slice().unwrap_or(&[])]),
                    bits(&[without.centers.as_slice().unwrap_or(&[])]),
                    "{name}, k={k}"
                );
                assert_eq!(run.labels, without.labels, "{name}, k={k}");
                assert_eq!(run.n_iter, without.n_iter, "{name}, k={k}");
            }
            assert_eq!(without.bounded_steps, 0, "k={k}");
            assert!(settled.bounded_steps <= always.bounded_steps, "k={k}");
            always_bounded += always.bounded_steps;
            bounded += settled.bounded_steps;
            steps += settled.n_iter;
        }
    }
    // By default the steps skip by their bounds once the rows have settled:
    // not in every step, nor in none.
    assert!(bounded > 0 && bounded < steps, "{bounded} of {steps} steps bounded");
    assert!(always_bounded > bounded, "{always_bounded} against {bounded}");
}

#[test]
fn hamerly_and_lloyd_give_the_same_clustering() {
    let (x, _) = blobs();
    let mut r = Rng::new(Seed(77));
    let noisy = x.mapv(|v| v + r.normal() * 3.0);
    for data in [&x, &noisy] {
        for k in [3, 5, 9] {
            let init = plus_plus(data.view(), k, &mut Rng::new(Seed(k as u64)));
            let run = |algorithm| {
                KMeans {
                    algorithm,
                    n_init: 1,
                    init: KMeansInit::Centers(init.clone()),
                    ..KMeans::new(k)
                }
                .fit(data.view(), Seed(0))
                .unwrap()
            };
            let (l, h) = (run(KMeansAlgorithm::Lloyd), run(KMeansAlgorithm::Hamerly));
            assert_eq!(l.labels, h.labels, "k={k}");
            assert_eq!(l.n_iter, h.n_iter, "k={k}");
            assert!(
                (l.inertia - h.inertia).abs() <= 1e-12 * l.inertia,
                "k={k}: {} vs {}",
                l.inertia,
                h.inertia
            );
        }
    }
}

#[test]
fn bad_input() {
    let (x, _) = blobs();
    assert!(matches!(
        KMeans::new(0).fit(x.view(), Seed(0)),
        Err(ClusterError::BadClusterCount { k: 0, n: 600 })
    ));
    assert!(matches!(
        KMeans::new(601).fit(x.view(), Seed(0)),
        Err(ClusterError::BadClusterCount { k: 601, .. })
    ));
    let mut bad = x.clone();
    bad[[7, 2]] = f64::NAN;
    let e = KMeans::new(3)
        .fit(bad.view(), Seed(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 7, column 2"), "{e}");
    let f = KMeans::new(3).fit(x.view(), Seed(0)).unwrap();
    assert_eq!(
        f.predict(Array2::zeros((2, 4)).view()).unwrap_err(),
        AlgoError::ColumnMismatch {
            expected: 3,
            got: 4
        }
    );
    let dup = Array2::from_shape_fn((10, 2), |(i, _)| (i % 2) as f64);
    let f = KMeans::new(3).fit(dup.view(), Seed(0)).unwrap();
    assert!(
        f.warnings
            .iter()
            .any(|w| w.contains("only 2 distinct points for 3 clusters")),
        "{:?}",
        f.warnings
    );
    let bad_init = KMeans {
        init: KMeansInit::Centers(Array2::zeros((2, 3))),
        ..KMeans::new(3)
    };
    assert!(matches!(
        bad_init.fit(x.view(), Seed(0)),
        Err(ClusterError::BadInit { .. })
    ));
}

#[test]
fn f32_bounds_round_toward_safety() {
    let mut r = Rng::new(Seed(5));
    let mut values: Vec<f64> = (0..2000)
        .map(|i| r.normal() * 10f64.powi(i % 80 - 40))
        .collect();
    values.extend([
        0.0,
        -0.0,
        1.0,
        0.1,
        -0.1,
        1e39,
        -1e39,
        1e-50,
        -1e-50,
        f64::from(f32::MAX),
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]);
    let top = f64::from(f32::MAX);
    for v in values {
        let (lo, hi) = (down(v), up(v));
        assert!(f64::from(lo) <= v && v <= f64::from(hi), "{v}: {lo} {hi}");
        // Tight: within |v| * 2^-21 + 2e-42 (one to three f32 units), so a
        // bound loosens by no more than that per step.
        let slack = v.abs() * 2f64.powi(-21) + 2e-42;
        if v.abs() <= top {
            assert!(f64::from(lo) >= v - slack, "{v}: {lo}");
            assert!(f64::from(hi) <= v + slack, "{v}: {hi}");
        }
        // Finite stays finite (an overflow would round an upper bound down
        // to infinity's opposite, or a lower bound up to infinity).
        if v.is_finite() {
            assert!(lo < f32::INFINITY && hi > f32::NEG_INFINITY, "{v}");
        }
        // Infinite values keep a bound on their safe side.
        if v == f64::INFINITY {
            assert!(hi == f32::INFINITY && lo.is_finite(), "{v}: {lo} {hi}");
        }
        if v == f64::NEG_INFINITY {
            assert!(lo == f32::NEG_INFINITY && hi.is_finite(), "{v}: {lo} {hi}");
        }
    }
    // Values whose nearest f32 lies on the wrong side, where a plain cast
    // would break the bound: the cast rounds 1 + 2^-25 down and 1 - 2^-26
    // up, and likewise for every scale.
    for scale in [1e-30, 1e-3, 1.0, 3.0, 1e20, 1e37] {
        for v in [scale * (1.0 + 2f64.powi(-25)), scale * (1.0 - 2f64.powi(-26))] {
            for v in [v, -v] {
                assert!(f64::from(down(v)) <= v && f64::from(up(v)) >= v, "{v}");
            }
        }
    }
    assert!(down(f64::NAN).is_nan() && up(f64::NAN).is_nan());
}
