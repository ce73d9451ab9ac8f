//! strata-decompose against scikit-learn on the real data (fixtures made by
//! tools/fixtures/decompose_reference.py). The inputs are loaded with
//! strata-data from the dataset descriptors, and checked first against the
//! script's own pandas preparation of the same data.

use ndarray::{Array1, Array2, ArrayView2};
use serde_json::Value;
use std::path::{Path, PathBuf};
use strata_core::Seed;
use strata_decompose::ica::{abs_correlation, match_components};
use strata_decompose::linalg::project;
use strata_decompose::random_projection::distance_ratios;
use strata_decompose::{
    Components, Contrast, FastIca, IcaAlgorithm, Pca, RandomProjection, RpComponents,
    johnson_lindenstrauss_min_dim,
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn fixture() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decompose_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn vec1(v: &Value) -> Array1<f64> {
    Array1::from(
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect::<Vec<_>>(),
    )
}

fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Array1<f64>> = v.as_array().expect("rows").iter().map(vec1).collect();
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_fn((r, c), |(i, j)| rows[i][j])
}

/// The dataset's features as strata loads them, checked against the fixture.
fn load(name: &str, fx: &Value) -> Array2<f64> {
    let l = strata_data::load_reference(&workspace(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let x = l.dataset.features().clone();
    assert_eq!(x.nrows() as u64, fx["n_samples"].as_u64().expect("n"));
    let names: Vec<String> = fx["feature_names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|v| v.as_str().expect("str").to_string())
        .collect();
    assert_eq!(
        l.dataset.feature_names(),
        names,
        "strata and the reference script disagree on the features"
    );
    let (m, s) = (vec1(&fx["column_means"]), vec1(&fx["column_sds"]));
    let n = x.nrows() as f64;
    for j in 0..x.ncols() {
        let c = x.column(j);
        let mean = c.sum() / n;
        let sd = (c.mapv(|v| (v - mean).powi(2)).sum() / n).sqrt();
        assert!(
            (mean - m[j]).abs() < 1e-9 && (sd - s[j]).abs() < 1e-9,
            "{name} column {}: {mean} {sd} vs {} {}",
            names[j],
            m[j],
            s[j]
        );
    }
    x
}

fn check_pca(name: &str, x: ArrayView2<'_, f64>, fx: &Value) {
    let d = x.ncols();
    let p = Pca::new(Components::Count(d)).fit(x).expect("pca");
    let ratio = vec1(&fx["explained_variance_ratio"]);
    let var = vec1(&fx["explained_variance"]);
    let comps = mat(&fx["components"]);
    let total: f64 = var.sum();
    for i in 0..d {
        assert!(
            (p.explained_variance_ratio[i] - ratio[i]).abs() < 1e-8,
            "{name} ratio {i}"
        );
        if var[i] < 1e-10 * total {
            // Null space (one-hot blocks sum to one): any rotation of these
            // directions is an equally valid answer.
            continue;
        }
        assert!(
            (p.explained_variance[i] - var[i]).abs() < 1e-8 * var[0],
            "{name} variance {i}"
        );
        // Same sign convention as scikit-learn, so no flip should be needed
        // except for (near-)degenerate eigenvalues; compare up to sign.
        let same = (0..d)
            .map(|j| (p.components[[i, j]] - comps[[i, j]]).abs())
            .fold(0.0, f64::max);
        let flipped = (0..d)
            .map(|j| (p.components[[i, j]] + comps[[i, j]]).abs())
            .fold(0.0, f64::max);
        assert!(
            same.min(flipped) < 1e-6,
            "{name} component {i}: {same} {flipped}"
        );
    }
    let k90 = Pca::new(Components::Variance(0.9))
        .fit(x)
        .expect("pca 0.9")
        .n_components();
    assert_eq!(
        k90 as u64,
        fx["n_components_for_0.9"].as_u64().expect("k"),
        "{name}"
    );
    let p3 = Pca::new(Components::Count(3)).fit(x).expect("pca 3");
    let nv = fx["noise_variance_k3"].as_f64().expect("nv");
    assert!(
        (p3.noise_variance - nv).abs() < 1e-9 * nv.abs().max(1.0),
        "{name} noise variance"
    );
}

fn check_ica(name: &str, x: ArrayView2<'_, f64>, fx: &Value) {
    let k = fx["n_components"].as_u64().expect("k") as usize;
    let w_init = mat(&fx["w_init"]);
    for (alg, algorithm) in [
        ("parallel", IcaAlgorithm::Parallel),
        ("deflation", IcaAlgorithm::Deflation),
    ] {
        let f = &fx["fits"][alg];
        let ica = FastIca {
            n_components: Some(k),
            algorithm,
            fun: Contrast::LogCosh { alpha: 1.0 },
            max_iter: 1000,
            tol: 1e-4,
            w_init: Some(w_init.clone()),
        };
        let fitted = ica.fit(x, Seed(0)).expect("ica");
        assert!(fitted.converged, "{name} {alg}");
        let ours = fitted.transform(x).expect("transform");
        let theirs = project(
            x,
            Some(&vec1(&f["mean"])),
            &mat(&f["components"]).t().to_owned(),
        );
        let corr = match_components(ours.view(), theirs.view());
        assert!(corr.iter().all(|&c| c > 0.99), "{name} {alg}: {corr:?}");
        // Started from the same matrix, the components come out in the same order.
        for i in 0..k {
            assert!(
                abs_correlation(ours.column(i), theirs.column(i)) > 0.99,
                "{name} {alg} component {i} out of order"
            );
        }
        let kurt = vec1(&f["kurtosis"]);
        for i in 0..k {
            assert!(
                (fitted.kurtosis[i] - kurt[i]).abs() < 1e-3 * kurt[i].abs().max(1.0),
                "{name} {alg} kurtosis {i}: {} vs {}",
                fitted.kurtosis[i],
                kurt[i]
            );
        }
        let iters = f["n_iter"].as_u64().expect("n_iter") as usize;
        assert!(
            fitted.n_iter.abs_diff(iters) <= 2,
            "{name} {alg}: {} iterations vs {iters}",
            fitted.n_iter
        );
    }
}

fn check_rp(name: &str, x: ArrayView2<'_, f64>, fx: &Value) {
    for (kind, rp) in [
        (
            "gaussian",
            RandomProjection::gaussian(RpComponents::Count(10)),
        ),
        ("sparse", RandomProjection::sparse(RpComponents::Count(10))),
    ] {
        let f = &fx[kind];
        let fitted = rp.fit(x, Seed(0)).expect("rp");
        let y = fitted.transform(x).expect("transform");
        let shape = vec1(&f["shape"]);
        assert_eq!((y.nrows() as f64, y.ncols() as f64), (shape[0], shape[1]));
        // Different generators draw different matrices, so scikit-learn's one
        // draw is compared with the spread of ours over 20 seeds.
        let stats: Vec<(f64, f64)> = (0..20)
            .map(|s| {
                let y = rp
                    .fit(x, Seed(s))
                    .expect("rp")
                    .transform(x)
                    .expect("transform");
                let r = distance_ratios(x, y.view(), 1000, Seed(1000 + s));
                let mean = r.iter().sum::<f64>() / r.len() as f64;
                let sd =
                    (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
                (mean, sd)
            })
            .collect();
        let spread = |v: Vec<f64>| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (
                m,
                (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt(),
            )
        };
        let (mean_of_means, sd_of_means) = spread(stats.iter().map(|s| s.0).collect());
        let (mean_of_sds, sd_of_sds) = spread(stats.iter().map(|s| s.1).collect());
        let (m_ref, sd_ref) = (
            f["ratio_mean"].as_f64().expect("m"),
            f["ratio_sd"].as_f64().expect("sd"),
        );
        assert!(
            (m_ref - mean_of_means).abs() < 3.0 * sd_of_means + 0.01,
            "{name} {kind}: scikit-learn mean ratio {m_ref}, ours {mean_of_means} ± {sd_of_means}"
        );
        assert!(
            (sd_ref - mean_of_sds).abs() < 3.0 * sd_of_sds + 0.01,
            "{name} {kind}: scikit-learn ratio sd {sd_ref}, ours {mean_of_sds} ± {sd_of_sds}"
        );
    }
}

#[test]
fn spotify_matches_scikit_learn() {
    let fx = fixture();
    let x = load("spotify_songs", &fx["spotify"]);
    check_pca("spotify", x.view(), &fx["spotify"]["pca"]);
    check_ica("spotify", x.view(), &fx["spotify"]["ica"]);
    check_rp("spotify", x.view(), &fx["spotify"]["random_projection"]);
}

#[test]
fn marketing_matches_scikit_learn() {
    let fx = fixture();
    let x = load("marketing_campaign", &fx["marketing"]);
    check_pca("marketing", x.view(), &fx["marketing"]["pca"]);
    check_ica("marketing", x.view(), &fx["marketing"]["ica"]);
    check_rp("marketing", x.view(), &fx["marketing"]["random_projection"]);
}

#[test]
fn jl_bound_matches_scikit_learn() {
    let fx = fixture();
    for row in fx["jl_min_dim"].as_array().expect("rows") {
        let (n, eps, k) = (
            row[0].as_u64().expect("n") as usize,
            row[1].as_f64().expect("eps"),
            row[2].as_u64().expect("k") as usize,
        );
        assert_eq!(
            johnson_lindenstrauss_min_dim(n, eps).expect("jl"),
            k,
            "n={n} eps={eps}"
        );
    }
}
