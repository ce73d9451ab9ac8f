//! k-prototypes against the Python `kmodes` package on the marketing data,
//! from the same initial prototypes (fixture and the script that made it:
//! `tools/fixtures/kprototypes_reference.py`): the same labels, the same
//! number of epochs, the same cost and epoch costs to 1e-9 relative.
//!
//! The data come from strata's own loading of `datasets/marketing_campaign.toml`
//! (one-hot Education and Marital_Status, decoded by their column kinds);
//! the script prepares them independently with pandas.

use ndarray::Array2;
use std::path::{Path, PathBuf};
use strata_cluster_mixed::{Mixed, Prototypes, labels_cost, run_from};
use strata_core::{Rng, Seed};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn matches_kmodes_from_identical_starts() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("crates/strata-cluster-mixed/tests/fixtures/kprototypes_reference.json"))
            .expect("fixture"),
    )
    .expect("json");
    let l = strata_data::load_reference(&workspace(), "marketing_campaign").expect("marketing data");
    let names = l.dataset.feature_names().to_vec();
    let kinds = l.recipe.column_kinds(&names);
    let m = Mixed::new(l.dataset.features().view(), &kinds, &names).expect("split");
    let numeric: Vec<String> = names.iter().filter(|n| !n.contains('=')).cloned().collect();
    let expected: Vec<String> = fixture["numeric_columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(numeric, expected, "same numeric columns in the same order");
    assert_eq!((m.num.ncols(), m.cat.ncols()), (23, 2));
    for case in fixture["cases"].as_array().expect("cases") {
        let k = case["k"].as_u64().expect("k") as usize;
        let rows: Vec<usize> = case["init_rows"].as_array().expect("rows").iter().map(|v| v.as_u64().expect("row") as usize).collect();
        let init = Prototypes {
            num: Array2::from_shape_fn((k, m.num.ncols()), |(c, j)| m.num[[rows[c], j]]),
            cat: Array2::from_shape_fn((k, m.cat.ncols()), |(c, a)| m.cat[[rows[c], a]]),
        };
        let gamma = case["gamma_given"].as_f64().unwrap_or_else(|| m.default_gamma());
        assert!(close(gamma, case["gamma"].as_f64().expect("gamma")), "k={k}: gamma {gamma} vs {}", case["gamma"]);
        let run = run_from(&m, &init, gamma, 100, &mut Rng::new(Seed(0))).expect("run");
        let labels: Vec<usize> = case["labels"].as_array().expect("labels").iter().map(|v| v.as_u64().expect("label") as usize).collect();
        let differ = run.labels.iter().zip(&labels).filter(|(a, b)| a != b).count();
        assert_eq!(differ, 0, "k={k}: {differ} labels differ from kmodes");
        assert_eq!(run.n_iter as u64, case["n_iter"].as_u64().expect("n_iter"), "k={k}");
        let cost = case["cost"].as_f64().expect("cost");
        assert!(close(run.cost, cost), "k={k}: cost {} vs kmodes {cost}", run.cost);
        let epochs: Vec<f64> = case["epoch_costs"].as_array().expect("epochs").iter().map(|v| v.as_f64().expect("cost")).collect();
        assert_eq!(run.epoch_costs.len(), epochs.len(), "k={k}");
        for (a, b) in run.epoch_costs.iter().zip(&epochs) {
            assert!(close(*a, *b), "k={k}: epoch cost {a} vs {b}");
        }
        // The reported cost is the total dissimilarity to the final prototypes.
        let (_, again) = labels_cost(&m, &run.prototypes, gamma);
        assert!(close(again, run.cost));
    }
}
