//! Timings of the reducers, printed as JSON lines for bench/decompose_vs_sklearn.py.
//!
//!     cargo run --release -p strata-decompose --example decompose_bench -- [--case NAME] [--repeats N]
//!
//! Cases: spotify/{pca,ica,gaussian_rp,sparse_rp} on the real Spotify features
//! (28,356 x 12, read through STRATA_DATA_DIR) and synthetic/{...} on a
//! 1,000,000 x 50 matrix built by the same formula as the Python script.
//! Each case reports the median wall time of its repeats and the process's
//! peak resident memory.

use ndarray::Array2;
use std::path::Path;
use std::time::Instant;
use strata_core::Seed;
use strata_decompose::{Components, FastIca, Pca, RandomProjection, RpComponents};

/// Deterministic synthetic data shared with the Python side: uniform sources
/// from an integer hash, mixed by a fixed cosine matrix.
fn synthetic(n: usize, d: usize) -> Array2<f64> {
    let mix = Array2::from_shape_fn((d, d), |(j, l)| {
        ((j * l) as f64 * 0.1).cos() + if j == l { 2.0 } else { 0.0 }
    });
    let mut x = Array2::zeros((n, d));
    for i in 0..n {
        let mut u = vec![0.0; d];
        for (j, v) in u.iter_mut().enumerate() {
            let h = ((i as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add((j as u64).wrapping_mul(40_503)))
                % (1u64 << 32);
            *v = h as f64 / (1u64 << 32) as f64 - 0.5;
        }
        for l in 0..d {
            x[[i, l]] = (0..d).map(|j| u[j] * mix[[j, l]]).sum();
        }
    }
    x
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

/// Seconds of untimed warm-up runs before the timed ones.
const WARM_UP_S: f64 = 0.3;

fn run(case: &str, x: &Array2<f64>, repeats: usize) {
    let (data, algo) = case.split_once('/').unwrap_or(("", case));
    let big = data == "synthetic";
    let mut times = Vec::new();
    let mut extra = String::new();
    // Untimed runs first, for at least 0.3 s (one run at least), so that the
    // thread pool, the allocator and the clock speed have settled as in a
    // long-running process; the Python side warms up the same way.
    let begin = Instant::now();
    let mut warm = true;
    let mut r = 0;
    while times.len() < repeats {
        if warm && r > 0 && begin.elapsed().as_secs_f64() >= WARM_UP_S {
            warm = false;
        }
        let t = Instant::now();
        match algo {
            "pca" => {
                let p = Pca::new(Components::Count(if big { 10 } else { 12 }))
                    .fit(x.view())
                    .expect("pca");
                std::hint::black_box(p.transform(x.view()).expect("transform"));
            }
            "ica" => {
                let f = FastIca::new(if big { 10 } else { 8 })
                    .fit(x.view(), Seed(r as u64))
                    .expect("ica");
                extra = format!(",\"n_iter\":{},\"converged\":{}", f.n_iter, f.converged);
                std::hint::black_box(f.transform(x.view()).expect("transform"));
            }
            "gaussian_rp" | "sparse_rp" => {
                let k = if big { 20 } else { 8 };
                let rp = if algo == "gaussian_rp" {
                    RandomProjection::gaussian(RpComponents::Count(k))
                } else {
                    RandomProjection::sparse(RpComponents::Count(k))
                };
                // As scikit-learn's `fit_transform`: the data are read once.
                let (_, y) = rp.fit_transform(x.view(), Seed(r as u64)).expect("rp");
                std::hint::black_box(y);
            }
            other => {
                eprintln!("unknown case {other}");
                std::process::exit(2)
            }
        }
        if !warm {
            times.push(t.elapsed().as_secs_f64());
        }
        r += 1;
    }
    times.sort_by(f64::total_cmp);
    let input_mb = (x.len() * 8) as f64 / 1_048_576.0;
    println!(
        "{{\"case\":\"{case}\",\"median_s\":{},\"min_s\":{},\"repeats\":{repeats},\"rows\":{},\"cols\":{},\"input_mb\":{input_mb:.1},\"peak_rss_mb\":{:.1},\"threads\":{}{extra}}}",
        times[times.len() / 2],
        times[0],
        x.nrows(),
        x.ncols(),
        strata_core::peak_rss_mb(),
        rayon::current_num_threads()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| strata_core::flag_value(&args, flag);
    let repeats: usize = get("--repeats").and_then(|r| r.parse().ok()).unwrap_or(7);
    let algos = ["pca", "ica", "gaussian_rp", "sparse_rp"];
    let cases: Vec<String> = match get("--case") {
        Some(c) => vec![c],
        None => algos.iter().map(|a| format!("spotify/{a}")).collect(),
    };
    let mut cached: Option<(bool, Array2<f64>)> = None;
    for case in cases {
        let big = case.starts_with("synthetic/");
        if cached.as_ref().is_none_or(|(b, _)| *b != big) {
            let rows: usize = get("--rows")
                .and_then(|r| r.parse().ok())
                .unwrap_or(1_000_000);
            cached = Some((big, if big { synthetic(rows, 50) } else { spotify() }));
        }
        if let Some((_, x)) = &cached {
            run(&case, x, repeats);
        }
    }
}
