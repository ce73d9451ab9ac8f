//! `strata_core::stats` against SciPy (fixture made by
//! `tools/fixtures/stats_reference.py`).

use serde_json::Value;
use strata_core::stats::{normal_cdf, normal_quantile, t_cdf, t_quantile};

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stats.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn rows<'a>(fx: &'a Value, key: &str) -> impl Iterator<Item = Vec<f64>> + 'a {
    fx[key]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|v| v.as_f64().expect("num")).collect())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn student_t_matches_scipy() {
    let fx = fixture();
    let mut n = 0;
    for r in rows(&fx, "t_cdf") {
        let got = t_cdf(r[0], r[1]);
        assert!(close(got, r[2], 1e-10), "t_cdf({}, {}) = {got}, scipy {}", r[0], r[1], r[2]);
        n += 1;
    }
    for r in rows(&fx, "t_ppf") {
        let got = t_quantile(r[0], r[1]);
        assert!(close(got, r[2], 1e-9), "t_ppf({}, {}) = {got}, scipy {}", r[0], r[1], r[2]);
        n += 1;
    }
    assert!(n >= 150, "{n} reference values");
}

#[test]
fn normal_matches_scipy() {
    let fx = fixture();
    for r in rows(&fx, "norm_cdf") {
        let got = normal_cdf(r[0]);
        assert!(close(got, r[1], 2e-7), "norm_cdf({}) = {got}, scipy {}", r[0], r[1]);
    }
    for r in rows(&fx, "norm_ppf") {
        let got = normal_quantile(r[0]);
        assert!(close(got, r[1], 2e-9), "norm_ppf({}) = {got}, scipy {}", r[0], r[1]);
    }
}
