//! Stability of a clustering under resampling, and choosing k.
//!
//! Stability: the clusterer is fitted on B random subsamples (without
//! replacement, 80 % of the rows by default); every pair of fits is compared
//! by the adjusted Rand index on the rows both subsamples share. A stable
//! configuration gives high mean ARI with little spread. Fits run in parallel,
//! each from its own child seed, so the report is the same for any thread count.
//!
//! The mean ARI comes with a 95 % interval: a jackknife over the resamples
//! (see [`jackknife_interval`]). It says how far the mean could move under
//! another draw of resamples of the same data, which is what decides whether
//! a run near a stability threshold is on its side of it by chance.

use crate::error::ClusterError;
use crate::gmm::GaussianMixture;
use crate::kmeans::KMeans;
use crate::metrics::{adjusted_rand_index, silhouette_scores};
use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strata_core::{Clusterer, Rng, Seed};

/// Mean and spread of pairwise ARI across resampled fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    pub mean_ari: f64,
    pub sd_ari: f64,
    pub min_ari: f64,
    /// Number of fit pairs compared.
    pub n_pairs: usize,
    pub resamples: usize,
    pub sample_fraction: f64,
    /// 95 % interval of the mean ARI, a jackknife over the resamples
    /// ([`jackknife_interval`]); `None` with fewer than 3 resamples.
    #[serde(default)]
    pub interval: Option<(f64, f64)>,
}

/// 95 % interval of the mean pairwise ARI of `resamples` fits, from the
/// ARIs of the pairs `(a, b, ari)` compared: a jackknife over the resamples,
/// Student's t on `resamples - 1` degrees of freedom, the high end capped at
/// 1 (no ARI exceeds it).
///
/// The mean over pairs is a U-statistic of the resamples: the pairs share
/// resamples, so they are not independent, and the spread of the pairwise
/// ARIs over the square root of their number would understate its error.
/// Leaving out one resample at a time (and every pair it takes part in)
/// gives B means; the jackknife variance is (B - 1) / B times the sum of
/// their squared deviations from their mean, which for a U-statistic errs
/// large rather than small (the Efron-Stein inequality). The interval covers
/// what another draw of resamples of the same rows would give, not what
/// another sample of customers would: a rare alternative solution that no
/// resample found is invisible to it. `None` with fewer than 3 resamples or
/// when leaving one out leaves no pair.
pub fn jackknife_interval(resamples: usize, pairs: &[(usize, usize, f64)]) -> Option<(f64, f64)> {
    if resamples < 3 || pairs.is_empty() {
        return None;
    }
    let total: f64 = pairs.iter().map(|p| p.2).sum();
    let mean = total / pairs.len() as f64;
    let mut sum = vec![0.0; resamples];
    let mut count = vec![0usize; resamples];
    for &(a, b, v) in pairs {
        for i in [a, b] {
            sum[i] += v;
            count[i] += 1;
        }
    }
    let loo: Option<Vec<f64>> = (0..resamples)
        .map(|i| {
            let left = pairs.len() - count[i];
            (left > 0).then(|| (total - sum[i]) / left as f64)
        })
        .collect();
    let loo = loo?;
    let b = resamples as f64;
    let centre = loo.iter().sum::<f64>() / b;
    let var = (b - 1.0) / b * loo.iter().map(|v| (v - centre).powi(2)).sum::<f64>();
    let half = strata_core::stats::t_quantile(0.975, b - 1.0) * var.sqrt();
    Some((mean - half, (mean + half).min(1.0)))
}

/// Sorted random subsample of `m` of `n` rows.
fn subsample(n: usize, m: usize, seed: Seed) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    idx.truncate(m);
    idx.sort_unstable();
    idx
}

/// Fits `clusterer` on `resamples` subsamples of `sample_fraction` of the rows
/// and reports the pairwise ARI on shared rows.
pub fn stability(
    x: ArrayView2<'_, f64>,
    clusterer: &dyn Clusterer,
    resamples: usize,
    sample_fraction: f64,
    seed: Seed,
) -> Result<Stability, ClusterError> {
    stability_of(x.nrows(), resamples, sample_fraction, seed, |idx, fit_seed| {
        let xs = x.select(Axis(0), idx);
        Ok(clusterer.fit(xs.view(), fit_seed)?.labels().to_vec())
    })
}

/// The resamples [`stability_of`] fits, in order: each one's sorted rows
/// and fit seed. A caller can compute what several pipelines share on these
/// (the representation of every run on one representation, say) once, and
/// hand it to their fits by rows and seed.
pub fn resample_plan(
    n: usize,
    resamples: usize,
    sample_fraction: f64,
    seed: Seed,
) -> Result<Vec<(Vec<usize>, Seed)>, ClusterError> {
    if resamples < 2 {
        return Err(ClusterError::InvalidParameter {
            name: "resamples",
            value: resamples.to_string(),
            expected: "at least 2".into(),
        });
    }
    if !(sample_fraction > 0.0 && sample_fraction <= 1.0) {
        return Err(ClusterError::InvalidParameter {
            name: "sample_fraction",
            value: sample_fraction.to_string(),
            expected: "in (0, 1]".into(),
        });
    }
    let m = ((n as f64 * sample_fraction).round() as usize).clamp(1, n.max(1));
    Ok((0..resamples)
        .map(|b| {
            (
                subsample(n, m, seed.named("stability-rows").child(b as u64)),
                seed.named("stability-fit").child(b as u64),
            )
        })
        .collect())
}

/// Stability of any pipeline: `fit(rows, seed)` fits whatever the caller
/// wants (a representation and a clusterer, say) on the given sorted rows of
/// an `n`-row table and returns one label per given row. Each of the
/// `resamples` subsamples of `sample_fraction` of the rows gets its own rows
/// and fit seed (children of `seed`), so results do not depend on the thread
/// count; every pair of fits is compared by ARI on the rows both share.
pub fn stability_of<F>(
    n: usize,
    resamples: usize,
    sample_fraction: f64,
    seed: Seed,
    fit: F,
) -> Result<Stability, ClusterError>
where
    F: Fn(&[usize], Seed) -> Result<Vec<usize>, ClusterError> + Sync,
{
    let plan = resample_plan(n, resamples, sample_fraction, seed)?;
    // (rows of the subsample, their labels) per resample.
    type Fit = (Vec<usize>, Vec<usize>);
    let fits: Result<Vec<Fit>, ClusterError> = plan
        .into_par_iter()
        .map(|(idx, fit_seed)| {
            let labels = fit(&idx, fit_seed)?;
            if labels.len() != idx.len() {
                return Err(ClusterError::InvalidParameter {
                    name: "labels",
                    value: labels.len().to_string(),
                    expected: format!("one label per subsampled row ({})", idx.len()),
                });
            }
            Ok((idx, labels))
        })
        .collect();
    let fits = fits?;
    // (a, b, ARI) of every pair of fits compared.
    let mut pairs = Vec::new();
    for a in 0..fits.len() {
        for b in a + 1..fits.len() {
            let (ia, la) = &fits[a];
            let (ib, lb) = &fits[b];
            // Both index lists are sorted: merge to the shared rows.
            let (mut p, mut q) = (0, 0);
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            while p < ia.len() && q < ib.len() {
                match ia[p].cmp(&ib[q]) {
                    std::cmp::Ordering::Less => p += 1,
                    std::cmp::Ordering::Greater => q += 1,
                    std::cmp::Ordering::Equal => {
                        sa.push(la[p]);
                        sb.push(lb[q]);
                        p += 1;
                        q += 1;
                    }
                }
            }
            if sa.len() >= 2 {
                pairs.push((a, b, adjusted_rand_index(&sa, &sb)?));
            }
        }
    }
    let aris: Vec<f64> = pairs.iter().map(|p| p.2).collect();
    let k = aris.len().max(1) as f64;
    let mean = aris.iter().sum::<f64>() / k;
    let sd = (aris.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k).sqrt();
    Ok(Stability {
        mean_ari: mean,
        sd_ari: sd,
        min_ari: aris.iter().copied().fold(f64::INFINITY, f64::min),
        n_pairs: aris.len(),
        resamples,
        sample_fraction,
        interval: jackknife_interval(resamples, &pairs),
    })
}

/// Which algorithm `select_k` evaluates (the template's own k is replaced).
#[derive(Debug, Clone)]
pub enum Candidate {
    KMeans(KMeans),
    Gmm(GaussianMixture),
}

/// The numbers behind one k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    pub silhouette: f64,
    /// k-means only.
    pub inertia: Option<f64>,
    /// Gaussian mixtures only.
    pub bic: Option<f64>,
    pub aic: Option<f64>,
    pub stability: Option<Stability>,
}

/// Scores per k and a recommended k with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KSelection {
    pub scores: Vec<KScore>,
    pub recommended: usize,
    pub reason: String,
}

/// Stability below this mean ARI disqualifies a k from the recommendation.
pub const STABLE_ARI: f64 = 0.8;

/// Fits every k, scores it (silhouette with one shared distance pass for all
/// k; inertia or BIC/AIC; stability when `stability_resamples` > 0) and
/// recommends one: the lowest BIC for mixtures, the highest silhouette for
/// k-means, in both cases among the k whose stability reaches
/// [`STABLE_ARI`] when stability was measured.
pub fn select_k(
    x: ArrayView2<'_, f64>,
    ks: &[usize],
    candidate: &Candidate,
    stability_resamples: usize,
    seed: Seed,
) -> Result<KSelection, ClusterError> {
    if ks.is_empty() {
        return Err(ClusterError::InvalidParameter {
            name: "ks",
            value: "[]".into(),
            expected: "at least one k".into(),
        });
    }
    let mut labelings = Vec::new();
    let mut scores = Vec::new();
    for &k in ks {
        let s = seed.child(k as u64);
        // Fit, then keep the labels, the algorithm's own criteria, and the
        // configured clusterer for the stability runs.
        let (labels, mut score, boxed): (Vec<usize>, KScore, Box<dyn Clusterer>) = match candidate {
            Candidate::KMeans(t) => {
                let c = KMeans {
                    n_clusters: k,
                    ..t.clone()
                };
                let f = c.fit(x, s)?;
                let score = KScore {
                    k,
                    silhouette: f64::NAN,
                    inertia: Some(f.inertia),
                    bic: None,
                    aic: None,
                    stability: None,
                };
                (f.labels.to_vec(), score, Box::new(c))
            }
            Candidate::Gmm(t) => {
                let c = GaussianMixture {
                    n_components: k,
                    ..t.clone()
                };
                let f = c.fit(x, s)?;
                let score = KScore {
                    k,
                    silhouette: f64::NAN,
                    inertia: None,
                    bic: Some(f.bic(x)?),
                    aic: Some(f.aic(x)?),
                    stability: None,
                };
                (f.labels.to_vec(), score, Box::new(c))
            }
        };
        let stability = if stability_resamples > 0 {
            Some(stability(x, boxed.as_ref(), stability_resamples, 0.8, s)?)
        } else {
            None
        };
        score.stability = stability;
        labelings.push(labels);
        scores.push(score);
    }
    let refs: Vec<&[usize]> = labelings.iter().map(|l| l.as_slice()).collect();
    let sil = silhouette_scores(x, &refs)?;
    for (s, v) in scores.iter_mut().zip(sil) {
        s.silhouette = v;
    }
    let stable: Vec<&KScore> = scores
        .iter()
        .filter(|s| {
            s.stability
                .as_ref()
                .is_none_or(|st| st.mean_ari >= STABLE_ARI)
        })
        .collect();
    let caveat = if stable.is_empty() {
        format!(" (no k reached stability ARI {STABLE_ARI}; all were considered)")
    } else if stable.len() < scores.len() {
        format!(
            " among the {} of {} k with stability ARI >= {STABLE_ARI}",
            stable.len(),
            scores.len()
        )
    } else {
        String::new()
    };
    let pool: Vec<&KScore> = if stable.is_empty() {
        scores.iter().collect()
    } else {
        stable
    };
    let (best, reason) = match candidate {
        Candidate::Gmm(_) => {
            let b = pool.iter().min_by(|a, b| {
                a.bic
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.bic.unwrap_or(f64::INFINITY))
            });
            (b, "lowest BIC")
        }
        Candidate::KMeans(_) => {
            let b = pool
                .iter()
                .max_by(|a, b| a.silhouette.total_cmp(&b.silhouette).then(b.k.cmp(&a.k)));
            (b, "highest silhouette")
        }
    };
    let best = best.ok_or(ClusterError::InvalidParameter {
        name: "ks",
        value: "[]".into(),
        expected: "at least one k".into(),
    })?;
    let reason = format!(
        "k = {} has the {reason}{caveat} (silhouette {:.3})",
        best.k, best.silhouette
    );
    Ok(KSelection {
        recommended: best.k,
        reason,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::CovarianceType;
    use ndarray::Array2;

    fn blobs(k: usize) -> Array2<f64> {
        let mut r = Rng::new(Seed(12));
        Array2::from_shape_fn((150 * k, 2), |(i, j)| {
            ((i % k) as f64 * 9.0) * if j == 0 { 1.0 } else { ((i % k) as f64).sin() } + r.normal()
        })
    }

    #[test]
    fn true_k_is_stable_and_recommended() {
        let x = blobs(4);
        let st = stability(x.view(), &KMeans::new(4), 6, 0.8, Seed(1)).unwrap();
        assert_eq!(st.n_pairs, 15);
        assert!(st.mean_ari > 0.95, "{st:?}");
        let sel = select_k(
            x.view(),
            &[2, 3, 4, 5, 6],
            &Candidate::KMeans(KMeans::new(2)),
            4,
            Seed(2),
        )
        .unwrap();
        assert_eq!(sel.recommended, 4, "{}", sel.reason);
        assert!(sel.reason.contains("highest silhouette"), "{}", sel.reason);
        assert_eq!(sel.scores.len(), 5);
        let gsel = select_k(
            x.view(),
            &[2, 3, 4, 5],
            &Candidate::Gmm(GaussianMixture::new(2, CovarianceType::Full)),
            0,
            Seed(3),
        )
        .unwrap();
        assert_eq!(gsel.recommended, 4, "{}", gsel.reason);
        assert!(
            gsel.scores
                .iter()
                .all(|s| s.bic.is_some() && s.inertia.is_none())
        );
    }

    #[test]
    fn same_report_for_any_thread_count() {
        let x = blobs(3);
        let a = stability(x.view(), &KMeans::new(5), 4, 0.7, Seed(9)).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| stability(x.view(), &KMeans::new(5), 4, 0.7, Seed(9)).unwrap());
        assert_eq!(a, b);
        assert!(matches!(
            stability(x.view(), &KMeans::new(3), 1, 0.8, Seed(0)),
            Err(ClusterError::InvalidParameter { .. })
        ));
    }
}
