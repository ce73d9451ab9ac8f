//! Helpers shared by the sweep's integration tests: synthetic data and
//! descriptors, manifests, sweep options and stored runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use strata_data::DataDirs;
use strata_lab::store::{ExperimentResults, RunRecord};
use strata_lab::sweep::SweepOptions;

/// Three blobs in 3-D with a metadata column naming the blob.
pub fn write_data(dir: &Path, n: usize) {
    let mut csv = String::from("id,grp,y,a,b,c\n");
    let mut state: u64 = 17;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for i in 0..n {
        let g = i % 3;
        let c = [[0.0, 0.0, 0.0], [6.0, 0.0, 2.0], [0.0, 6.0, -2.0]][g];
        csv.push_str(&format!(
            "{i},g{g},{},{:.6},{:.6},{:.6}\n",
            u8::from(g == 0),
            c[0] + 2.0 * noise(),
            c[1] + 2.0 * noise(),
            c[2] + 2.0 * noise()
        ));
    }
    write_table(dir, &csv, "metadata = [\"grp\"]\n");
}

/// Writes `csv` as data.csv and its descriptor data.toml: id `id`, target
/// `y`, then `rest` (more `[columns]` keys and any later tables).
pub fn write_table(dir: &Path, csv: &str, rest: &str) {
    std::fs::write(dir.join("data.csv"), csv).expect("csv");
    std::fs::write(
        dir.join("data.toml"),
        format!(
            "[source]\nfile = \"data.csv\"\nsha256 = \"{}\"\n[columns]\nid = \"id\"\ntarget = \"y\"\n{rest}",
            strata_data::locate::sha256_bytes(csv.as_bytes())
        ),
    )
    .expect("descriptor");
}

pub fn manifest(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("dataset = \"data.toml\"\nseed = 5\n{body}")).expect("manifest");
    p
}

pub const SMALL: &str = "[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = 2\n\
[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"diag\"\n\
[evaluation]\nstability_resamples = 3\nagreement = [\"grp\"]\n";

pub fn opts(dir: &Path, out: &str) -> SweepOptions {
    let mut o = SweepOptions::new(
        dir.join(out),
        DataDirs {
            explicit: Some(dir.to_path_buf()),
            env: None,
            cache: None,
        },
    );
    o.progress = false;
    o
}

/// A run without its timings (which differ between two computations).
pub fn timeless(mut r: RunRecord) -> RunRecord {
    r.timings_s.clear();
    r
}

pub fn runs_of(dir: &Path) -> Vec<RunRecord> {
    let res = ExperimentResults::read(dir).expect("results");
    assert!(res.damaged.is_empty(), "{:?}", res.damaged);
    res.runs.into_iter().map(timeless).collect()
}

/// Removes every object key named in `keys` from `v`, at any depth (the
/// seconds a result file records, which differ between two computations).
pub fn without_keys(v: &mut serde_json::Value, keys: &[&str]) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !keys.contains(&k.as_str()));
            m.values_mut().for_each(|x| without_keys(x, keys));
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| without_keys(x, keys)),
        _ => {}
    }
}
