//! strata-cluster against scikit-learn on the real data (fixtures made by
//! tools/fixtures/cluster_reference.py), with the inputs loaded through
//! strata-data from the dataset descriptors.

use ndarray::Array2;
use serde_json::Value;
use std::path::{Path, PathBuf};
use strata_cluster::metrics::{
    adjusted_rand_index, calinski_harabasz, davies_bouldin, normalized_mutual_info,
    silhouette_samples_many,
};
use strata_cluster::{CovarianceType, GaussianMixture, GmmInit, KMeans, KMeansInit};
use strata_core::Seed;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(num).collect())
        .collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn load(name: &str) -> strata_data::LoadedDataset {
    strata_data::load_reference(&workspace(), name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

fn check(name: &str, x: &Array2<f64>, fx: &Value, genres: Option<Vec<usize>>) {
    assert_eq!(x.nrows() as u64, fx["n_samples"].as_u64().expect("n"));
    // Same initial centers: same Lloyd iterations, same inertia.
    for (k, f) in fx["from_init"].as_object().expect("from_init") {
        let k: usize = k.parse().expect("k");
        let km = KMeans {
            n_init: 1,
            init: KMeansInit::Centers(mat(&f["init"])),
            ..KMeans::new(k)
        };
        let fitted = km.fit(x.view(), Seed(0)).expect("kmeans");
        let reference = num(&f["inertia"]);
        assert!(
            rel(fitted.inertia, reference) < 1e-9,
            "{name} k={k}: inertia {} vs {reference}",
            fitted.inertia
        );
        let iters = f["n_iter"].as_u64().expect("n_iter") as usize;
        assert_eq!(fitted.n_iter, iters, "{name} k={k}: iterations");
    }
    // Own k-means++ with 10 restarts: within 0.5 % of scikit-learn's best of
    // 10. Which restarts are drawn moves one best of 10 by up to 3 % on the
    // marketing data, for scikit-learn as for strata (their single-run
    // inertia distributions match), so both sides run five seeds of 10
    // restarts and the best of those 50 restarts are compared.
    let best = |v: Vec<f64>| v.into_iter().fold(f64::INFINITY, f64::min);
    for (k, v) in fx["best_of_10"].as_object().expect("best_of_10") {
        let k: usize = k.parse().expect("k");
        let ours = best(
            (0..5)
                .map(|s| {
                    KMeans::new(k)
                        .fit(x.view(), Seed(s))
                        .expect("kmeans")
                        .inertia
                })
                .collect(),
        );
        let theirs = best(v.as_array().expect("seeds").iter().map(num).collect());
        assert!(
            ours <= theirs * 1.005,
            "{name} k={k}: best inertia of 5 x 10 restarts {ours} vs scikit-learn {theirs}"
        );
    }
    // Metrics on scikit-learn's labels.
    let m = &fx["metrics"];
    let labels: Vec<usize> = m["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|v| v.as_u64().expect("label") as usize)
        .collect();
    let s = silhouette_samples_many(x.view(), &[&labels])
        .expect("silhouette")
        .remove(0);
    let mean = s.mean().expect("mean");
    assert!(
        (mean - num(&m["silhouette"])).abs() < 1e-9,
        "{name} silhouette {mean} vs {}",
        num(&m["silhouette"])
    );
    for (i, v) in m["silhouette_first"]
        .as_array()
        .expect("first")
        .iter()
        .enumerate()
    {
        assert!(
            (s[i] - num(v)).abs() < 1e-9,
            "{name} silhouette of sample {i}"
        );
    }
    let ch = calinski_harabasz(x.view(), &labels).expect("ch");
    assert!(
        rel(ch, num(&m["calinski_harabasz"])) < 1e-9,
        "{name} CH {ch}"
    );
    let db = davies_bouldin(x.view(), &labels).expect("db");
    assert!(rel(db, num(&m["davies_bouldin"])) < 1e-9, "{name} DB {db}");
    if let Some(g) = genres {
        let ari = adjusted_rand_index(&g, &labels).expect("ari");
        let nmi = normalized_mutual_info(&g, &labels).expect("nmi");
        assert!(
            (ari - num(&m["ari_vs_genre"])).abs() < 1e-9,
            "{name} ARI {ari}"
        );
        assert!(
            (nmi - num(&m["nmi_vs_genre"])).abs() < 1e-9,
            "{name} NMI {nmi}"
        );
    }
}

#[test]
fn spotify_matches_scikit_learn() {
    let fx = fixture();
    let l = load("spotify_songs");
    let genre = l.metadata.column("playlist_genre").expect("genre column");
    let genre = genre.str().expect("text");
    let names: Vec<String> = genre.iter().map(|g| g.unwrap_or("").to_string()).collect();
    let mut values = names.clone();
    values.sort();
    values.dedup();
    let ids: Vec<usize> = names
        .iter()
        .map(|g| values.binary_search(g).unwrap_or(0))
        .collect();
    check("spotify", l.dataset.features(), &fx["spotify"], Some(ids));
}

#[test]
fn marketing_matches_scikit_learn() {
    let fx = fixture();
    let l = load("marketing_campaign");
    check("marketing", l.dataset.features(), &fx["marketing"], None);
}

fn check_gmm(name: &str, x: ndarray::ArrayView2<'_, f64>, fx: &Value) {
    let k = fx["k"].as_u64().expect("k") as usize;
    assert_eq!(x.nrows() as u64, fx["n_samples"].as_u64().expect("n"));
    let labels: Vec<usize> = fx["init_labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|v| v.as_u64().expect("label") as usize)
        .collect();
    for (ct, key) in [
        (CovarianceType::Full, "full"),
        (CovarianceType::Tied, "tied"),
        (CovarianceType::Diag, "diag"),
        (CovarianceType::Spherical, "spherical"),
    ] {
        let f = &fx["fits"][key];
        let gm = GaussianMixture {
            init: GmmInit::Labels(labels.clone()),
            ..GaussianMixture::new(k, ct)
        };
        let fitted = gm
            .fit(x, Seed(0))
            .unwrap_or_else(|e| panic!("{name} {key}: {e}"));
        let lb = num(&f["lower_bound"]);
        assert!(
            (fitted.lower_bound - lb).abs() < 1e-6,
            "{name} {key}: lower bound {} vs {lb}",
            fitted.lower_bound
        );
        assert_eq!(
            fitted.n_iter as u64,
            f["n_iter"].as_u64().expect("n_iter"),
            "{name} {key}: iterations"
        );
        assert_eq!(
            fitted.converged,
            f["converged"].as_bool().expect("converged")
        );
        let score = fitted.score(x).expect("score");
        assert!(
            (score - num(&f["score"])).abs() < 1e-6,
            "{name} {key}: score {score}"
        );
        let (bic, aic) = (fitted.bic(x).expect("bic"), fitted.aic(x).expect("aic"));
        assert!(
            rel(bic, num(&f["bic"])) < 1e-8,
            "{name} {key}: BIC {bic} vs {}",
            num(&f["bic"])
        );
        assert!(
            rel(aic, num(&f["aic"])) < 1e-8,
            "{name} {key}: AIC {aic} vs {}",
            num(&f["aic"])
        );
        for (c, w) in f["weights"].as_array().expect("weights").iter().enumerate() {
            assert!(
                (fitted.params.weights[c] - num(w)).abs() < 1e-6,
                "{name} {key}: weight {c}"
            );
        }
    }
}

#[test]
fn gaussian_mixtures_match_scikit_learn() {
    let fx = fixture();
    {
        let l = load("spotify_songs");
        let x = l
            .dataset
            .features()
            .slice(ndarray::s![..5000, ..])
            .to_owned();
        check_gmm("spotify", x.view(), &fx["gmm"]["spotify_first_5000"]);
    }
    {
        let l = load("marketing_campaign");
        check_gmm(
            "marketing",
            l.dataset.features().view(),
            &fx["gmm"]["marketing"],
        );
    }
}
