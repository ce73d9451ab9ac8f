//! Timings of the downstream classifier on the marketing features, printed as
//! JSON lines for bench/neural_vs_sklearn.py.
//!
//!     cargo run --release -p strata-lab --example neural_bench -- --case NAME [--repeats N]
//!
//! Cases: `fit` (one MLP, hidden 32-16, ReLU, Adam with learning rate 1e-3,
//! 200 epochs of batch 64 on all 2,240 rows, no early stopping, no class
//! weights: the shape scikit-learn's MLPClassifier is given) and `cv` (the
//! classification stage of experiments/marketing_campaign.toml: 7 feature
//! sets x 3 models x 5 folds x 3 repeats, parallel over folds).

use std::path::Path;
use std::time::Instant;
use strata_core::Seed;
use strata_lab::manifest::Manifest;
use strata_lab::registry::Registry;
use strata_lab::store::DatasetRef;
use strata_neural::{ClassWeight, MlpConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| strata_core::flag_value(&args, flag);
    let case = get("--case").unwrap_or_else(|| "fit".into());
    let repeats: usize = get("--repeats").and_then(|r| r.parse().ok()).unwrap_or(3);
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let loaded = match strata_data::load_reference(&ws, "marketing_campaign") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    };
    let x = loaded.dataset.features().clone();
    let Some(target) = loaded.dataset.target() else {
        eprintln!("the marketing descriptor declares no target");
        std::process::exit(2)
    };
    let y: Vec<u8> = target.values.to_vec();
    let mut times = Vec::new();
    let mut extra = String::new();
    for r in 0..repeats {
        let t = Instant::now();
        match case.as_str() {
            "fit" => {
                let cfg = MlpConfig {
                    hidden: vec![32, 16],
                    learning_rate: 1e-3,
                    weight_decay: 0.0,
                    epochs: 200,
                    batch_size: 64,
                    patience: 0,
                    class_weight: ClassWeight::None,
                    ..MlpConfig::default()
                };
                let f = cfg
                    .fit(x.view(), &y, x.view(), &y, Seed(r as u64), &|_| {})
                    .unwrap_or_else(|e| {
                        eprintln!("{e}");
                        std::process::exit(1)
                    });
                let p = f.predict_proba(x.view()).unwrap_or_default();
                let acc = p
                    .iter()
                    .zip(&y)
                    .filter(|(p, y)| (**p >= 0.5) == (**y == 1))
                    .count() as f64
                    / y.len() as f64;
                extra = format!(", \"train_accuracy\": {acc:.4}");
            }
            "cv" => {
                let reg = Registry::standard();
                let m = Manifest::from_path(&ws.join("experiments/marketing_campaign.toml"))
                    .unwrap_or_else(|e| {
                        eprintln!("{e}");
                        std::process::exit(1)
                    });
                let Some(c) = &m.classification else {
                    eprintln!("experiments/marketing_campaign.toml has no [classification]");
                    std::process::exit(1)
                };
                let ds = DatasetRef {
                    descriptor: "marketing_campaign".into(),
                    sha256: loaded.report.sha256.clone(),
                    rows: x.nrows(),
                    features: x.ncols(),
                    recipe: strata_lab::store::recipe_hash(&loaded.descriptor),
                };
                // A fresh folder each time: stored units would be reused.
                let units = std::env::temp_dir().join(format!("strata-neural-bench-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&units);
                let rec = strata_lab::classify::run(&m.name, &loaded, &ds, c, m.seed, &reg, false, &units, None)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| {
                        eprintln!("the classification stage failed");
                        std::process::exit(1)
                    });
                let _ = std::fs::remove_dir_all(&units);
                extra = format!(", \"fits\": {}", rec.report.folds.len());
            }
            other => {
                eprintln!("unknown case `{other}` (fit, cv)");
                std::process::exit(2)
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"case\": \"{case}\", \"median_s\": {:.4}, \"repeats\": {repeats}{extra}}}",
        times[times.len() / 2]
    );
}
