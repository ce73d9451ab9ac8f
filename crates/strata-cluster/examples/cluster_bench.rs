//! Timings of k-means, Gaussian mixtures and the silhouette, printed as JSON
//! lines for bench/cluster_vs_sklearn.py.
//!
//!     cargo run -p strata-cluster --example cluster_bench -- --case NAME [--repeats N] [--dims N]
//!
//! Cases: spotify/kmeans (k = 10, n_init = 10), spotify/gmm_full (k = 10),
//! spotify/silhouette1 (one labeling), spotify/silhouette18 (k = 2..10 of k-means and of the full mixture, 18
//! labelings sharing one distance pass), synthetic/kmeans and
//! synthetic/gmm_full on a 1,000,000 x 20 matrix built by the same formula as
//! the Python script.

use ndarray::Array2;
use std::path::Path;
use std::time::Instant;
use strata_cluster::metrics::silhouette_scores;
use strata_cluster::{CovarianceType, GaussianMixture, KMeans, KMeansAlgorithm};
use strata_core::Seed;

fn synthetic(n: usize, d: usize) -> Array2<f64> {
    // Ten Gaussian-ish blobs from an integer hash, same formula as the Python side.
    Array2::from_shape_fn((n, d), |(i, j)| {
        let h = ((i as u64)
            .wrapping_mul(2_654_435_761)
            .wrapping_add((j as u64).wrapping_mul(40_503)))
            % (1u64 << 32);
        let u = h as f64 / (1u64 << 32) as f64 - 0.5;
        ((i % 10) as f64 * ((j + 1) as f64 * 0.7).sin()) * 3.0 + u
    })
}

fn spotify() -> Array2<f64> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match strata_data::load_reference(&ws, "spotify_songs") {
        Ok(l) => l.dataset.features().clone(),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| strata_core::flag_value(&args, flag);
    let repeats: usize = get("--repeats").and_then(|r| r.parse().ok()).unwrap_or(5);
    let case = get("--case").unwrap_or_else(|| "spotify/kmeans".into());
    let rows: usize = get("--rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let x = if case.starts_with("synthetic/") {
        synthetic(rows, 20)
    } else {
        spotify()
    };
    // `--dims N`: the first N columns only (the shipped experiments reduce
    // Spotify to 6 dimensions, where the bound tests weigh more).
    let x = match get("--dims").and_then(|d| d.parse::<usize>().ok()) {
        Some(d) if d >= 1 && d < x.ncols() => x.slice(ndarray::s![.., ..d]).to_owned(),
        _ => x,
    };
    let rss_before = strata_core::peak_rss_mb();
    let mut times = Vec::new();
    let mut extra = String::new();
    let mut iters: Vec<usize> = Vec::new();
    for r in 0..repeats {
        let t = Instant::now();
        match case.split_once('/').map(|c| c.1).unwrap_or("") {
            "kmeans" => {
                let algorithm = match get("--algorithm").as_deref() {
                    Some("lloyd") => KMeansAlgorithm::Lloyd,
                    Some("hamerly") => KMeansAlgorithm::Hamerly,
                    _ => KMeansAlgorithm::Auto,
                };
                let k = get("--k").and_then(|k| k.parse().ok()).unwrap_or(10);
                let f = KMeans {
                    algorithm,
                    ..KMeans::new(k)
                }
                .fit(x.view(), Seed(r as u64))
                .expect("kmeans");
                iters.push(f.n_iter);
                extra = format!(",\"inertia\":{},\"n_iter\":{:?}", f.inertia, iters);
            }
            "gmm_full" => {
                let f = GaussianMixture::new(10, CovarianceType::Full)
                    .fit(x.view(), Seed(r as u64))
                    .expect("gmm");
                iters.push(f.n_iter);
                extra = format!(",\"lower_bound\":{},\"n_iter\":{:?}", f.lower_bound, iters);
            }
            "assign" => {
                // One assignment pass (nearest of 10 centers for every row, by
                // Lloyd's expanded form), 2 flops (multiply, add) per row,
                // center and feature.
                times.clear();
                let f = KMeans {
                    n_init: 1,
                    ..KMeans::new(10)
                }
                .fit(x.view(), Seed(0))
                .expect("kmeans");
                // Column-major, as tables from polars are, so the pass is
                // timed without a transposition of the input.
                let cols = x.t().as_standard_layout().into_owned();
                for _ in 0..repeats.max(5) * 10 {
                    let t = Instant::now();
                    std::hint::black_box(f.predict(cols.t()).expect("predict"));
                    times.push(t.elapsed().as_secs_f64());
                }
                times.sort_by(f64::total_cmp);
                let flops = 2.0 * x.nrows() as f64 * 10.0 * x.ncols() as f64;
                extra = format!(",\"gflops\":{:.2}", flops / times[times.len() / 2] / 1e9);
                break;
            }
            "silhouette18" => {
                // Labelings are computed outside the timed region below.
                times.clear();
                let mut labelings = Vec::new();
                for k in 2..=10 {
                    labelings.push(
                        KMeans {
                            n_init: 1,
                            ..KMeans::new(k)
                        }
                        .fit(x.view(), Seed(0))
                        .expect("kmeans")
                        .labels
                        .to_vec(),
                    );
                    labelings.push(
                        GaussianMixture::new(k, CovarianceType::Full)
                            .fit(x.view(), Seed(0))
                            .expect("gmm")
                            .labels
                            .to_vec(),
                    );
                }
                let refs: Vec<&[usize]> = labelings.iter().map(|l| l.as_slice()).collect();
                let t = Instant::now();
                let s = silhouette_scores(x.view(), &refs).expect("silhouette");
                times.push(t.elapsed().as_secs_f64());
                extra = format!(
                    ",\"labelings\":{},\"first\":{},\"scores\":{:?}",
                    s.len(),
                    s[0],
                    s
                );
                continue;
            }
            "silhouette1" => {
                // One labeling (k-means, k = 10, one start), computed outside
                // the timed region: one call against one `silhouette_score`.
                let labels = KMeans {
                    n_init: 1,
                    ..KMeans::new(10)
                }
                .fit(x.view(), Seed(0))
                .expect("kmeans")
                .labels
                .to_vec();
                let t = Instant::now();
                let s = silhouette_scores(x.view(), &[labels.as_slice()]).expect("silhouette");
                times.push(t.elapsed().as_secs_f64());
                extra = format!(",\"labelings\":1,\"first\":{}", s[0]);
                continue;
            }
            other => {
                eprintln!("unknown case {other}");
                std::process::exit(2)
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"case\":\"{case}\",\"median_s\":{},\"repeats\":{},\"rows\":{},\"cols\":{},\"peak_rss_mb\":{:.1},\"rss_before_mb\":{:.1},\"threads\":{}{extra}}}",
        times[times.len() / 2],
        times.len(),
        x.nrows(),
        x.ncols(),
        strata_core::peak_rss_mb(),
        rss_before,
        rayon::current_num_threads()
    );
}
