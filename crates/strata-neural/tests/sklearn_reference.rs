//! Metrics against scikit-learn on fixed scores (fixture made by
//! tools/fixtures/neural_reference.py).

use strata_neural::Metrics;

#[test]
fn metrics_match_scikit_learn() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics_reference.json"
    ))
    .expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().unwrap_or("?");
        let y: Vec<u8> = c["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|v| v.as_u64().unwrap_or(9) as u8)
            .collect();
        let s: Vec<f64> = c["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        let m = Metrics::compute(&s, &y, 0.5);
        let close = |a: f64, key: &str| {
            let b = c[key].as_f64().expect(key);
            assert!(
                (a - b).abs() < 1e-12,
                "{name}: {key} {a} vs scikit-learn {b}"
            );
        };
        close(m.roc_auc, "roc_auc");
        close(m.pr_auc, "average_precision");
        close(m.f1, "f1");
        close(m.balanced_accuracy, "balanced_accuracy");
        let count = |k: &str| c[k].as_u64().expect(k) as usize;
        assert_eq!(
            (
                m.confusion.tp,
                m.confusion.fp,
                m.confusion.tn,
                m.confusion.r#fn
            ),
            (count("tp"), count("fp"), count("tn"), count("fn")),
            "{name}"
        );
    }
}
