//! Shared vocabulary of strata.
//!
//! Every other crate depends on this one and on nothing else of the workspace
//! (except `strata-lab`, which composes them all). It holds:
//!
//! - [`Dataset`]: model features as an `ndarray` matrix (rows are samples) with
//!   their names, row ids, an optional binary target and optional campaign
//!   economics;
//! - the estimator traits [`Reducer`] / [`FittedReducer`] and [`Clusterer`] /
//!   [`FittedClusterer`], object safe so that a registry can hold them;
//! - [`Seed`] and [`Rng`], the only source of randomness, split deterministically so results
//!   never depend on thread scheduling;
//! - [`AlgoError`], the error every estimator returns, and small checks shared
//!   by all algorithm crates ([`check_finite`], [`check_columns`]);
//! - [`text`], helpers for "did you mean ...?" suggestions in error messages;
//! - [`kernels`], vectorizable arithmetic shared by the algorithm crates
//!   (a branch-free exponential, tiled scatter products);
//! - [`stats`], Student's t and normal distribution functions, Holm's
//!   adjustment and the corrected resampled t-test behind verdicts.

mod dataset;
mod error;
mod estimator;
pub mod batches;
pub mod kernels;
pub mod par;
pub mod params;
pub mod rng;
mod seed;
mod simd;
pub mod stats;
pub mod text;

pub use dataset::{BinaryTarget, Dataset, Economics};
pub use error::{
    AlgoError, DatasetError, all_finite, check_columns, check_finite, check_min_samples,
};
pub use estimator::{
    Clusterer, ColumnKind, Diagnostics, FittedClusterer, FittedReducer, Reducer, require_numeric,
};
pub use params::{Configurable, ParamSpec, ParamValue, Params};
pub use rng::Rng;
pub use seed::Seed;
pub use simd::{SimdLevel, simd_level, with_simd_cap};

/// Version of the strata workspace, recorded in results so that a stored run can
/// be traced to the code that produced it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Peak resident memory of this process so far (Linux `VmHWM`), in MB;
/// NaN where `/proc` does not say.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The word after `flag` in `args` (`--repeats 3` gives `"3"`), for the
/// benchmark examples' `--flag value` options; `None` when the flag is
/// absent or last.
pub fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[cfg(test)]
mod flag_tests {
    #[test]
    fn flag_value_takes_the_next_word() {
        let args: Vec<String> = ["bench", "--case", "fit", "--repeats"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(super::flag_value(&args, "--case").as_deref(), Some("fit"));
        assert_eq!(super::flag_value(&args, "--repeats"), None);
        assert_eq!(super::flag_value(&args, "--rows"), None);
    }
}
