//! The silhouette passes after the runs: the exact silhouettes a chunk of
//! runs deferred (one distance pass per chunk), the common-space ones of a
//! whole experiment with their groups of rows, and the mixed ones of the
//! k-means runs beside k-prototypes.

use super::Planned;
use crate::manifest::{RunConfig, SilhouetteMode};
use crate::store::{RunRecord, RunStatus};
use ndarray::ArrayView2;
use std::time::Instant;
use strata_core::Seed;

/// The silhouette of a run's labels in the prepared features (the `none`
/// representation), comparable across representations.
pub const COMMON_SILHOUETTE: &str = "silhouette_common";

/// Whether the run's labels get an exact silhouette on an `n`-row matrix:
/// a successful run asking for it, with between 2 and n - 1 clusters.
fn wants_exact(r: &RunRecord, n: usize) -> bool {
    r.config.evaluation.silhouette == SilhouetteMode::Exact && scorable(r, n)
}

/// A successful run whose labels of all `n` rows have between 2 and n - 1
/// clusters: a silhouette is defined.
fn scorable(r: &RunRecord, n: usize) -> bool {
    r.status == RunStatus::Ok
        && r.clustering.as_ref().is_some_and(|c| {
            let distinct = c.sizes.iter().filter(|&&s| s > 0).count();
            c.labels.len() == n && distinct >= 2 && distinct < n
        })
}

/// Whether the run's own space is the common one (the prepared features):
/// its own silhouette is then its common-space silhouette.
pub(super) fn in_common_space(c: &RunConfig) -> bool {
    c.representation.algorithm == "none" && !c.drop_discrete
}

/// A run still waiting for its common-space silhouette or its group
/// silhouettes (see [`common_silhouettes`]), for a common space of `n` rows.
pub(super) fn needs_common(r: &RunRecord, n: usize) -> bool {
    wants_exact(r, n)
        && (!r.metrics.contains_key(COMMON_SILHOUETTE) || r.silhouette_common_groups.is_none())
}

/// The silhouette under k-prototypes' mixed dissimilarity (numeric distance
/// plus gamma per categorical mismatch): k-prototypes runs on the prepared
/// columns get it as they run, with their own gamma; the k-means runs beside
/// them get it in the pass after the runs ([`mixed_silhouettes`]), with
/// Huang's gamma, so the report compares the two under one measure.
pub const MIXED_SILHOUETTE: &str = "silhouette_mixed";

/// Whether a run is a k-means run on the prepared columns of an experiment
/// that also runs k-prototypes: it gets a [`MIXED_SILHOUETTE`].
fn wants_mixed(r: &RunRecord, p: &Planned) -> bool {
    r.config.clusterer.algorithm == "kmeans"
        && in_common_space(&r.config)
        && p.runs.iter().any(|(_, c)| c.clusterer.algorithm == "kprototypes")
        && scorable(r, p.segmenting.nrows())
}

/// A run still waiting for a pass after the runs: its common-space
/// silhouettes ([`needs_common`]) or its mixed one ([`wants_mixed`]).
pub(super) fn needs_pass(r: &RunRecord, p: &Planned) -> bool {
    needs_common(r, p.segmenting.nrows()) || (wants_mixed(r, p) && !r.metrics.contains_key(MIXED_SILHOUETTE))
}

/// The [`MIXED_SILHOUETTE`] of every k-means run in `recs` that lacks one,
/// with Huang's gamma (half the mean standard deviation of the numeric
/// columns, k-prototypes' default) on the prepared columns read as
/// k-prototypes reads them.
pub(super) fn mixed_silhouettes(p: &Planned, recs: &mut [RunRecord]) {
    let wanted: Vec<usize> = (0..recs.len())
        .filter(|&j| wants_mixed(&recs[j], p) && !recs[j].metrics.contains_key(MIXED_SILHOUETTE))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let mixed = strata_cluster_mixed::Mixed::new(
        p.segmenting.view(),
        &p.segment_kinds.kinds,
        &p.segment_kinds.names,
    );
    for j in wanted {
        let t = Instant::now();
        let r = &mut recs[j];
        let labels = r.clustering.as_ref().map(|c| c.labels.clone()).unwrap_or_default();
        let score = mixed
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|m| strata_cluster_mixed::mixed_silhouette(m, &labels, m.default_gamma()));
        match score {
            Ok(v) => {
                r.metrics.insert(MIXED_SILHOUETTE.into(), v);
            }
            Err(e) => r.warnings.push(format!("{MIXED_SILHOUETTE}: {e}")),
        }
        r.timings_s.insert(MIXED_SILHOUETTE.into(), t.elapsed().as_secs_f64());
    }
}

/// How many disjoint groups of rows the common-space silhouette is also
/// computed in, for the claims' held-out judgement and intervals (see
/// [`silhouette_groups`] and `claims::held_out_difference`).
pub const SILHOUETTE_GROUPS: usize = 10;

/// The experiment's rows `0..n` dealt into [`SILHOUETTE_GROUPS`] disjoint
/// groups of near-equal size at random (seeded: every run of the
/// experiment, in any shard, gets the same groups), each in row order.
pub fn silhouette_groups(n: usize, seed: Seed) -> Vec<Vec<usize>> {
    let mut rows: Vec<usize> = (0..n).collect();
    strata_core::Rng::new(seed.named("silhouette_groups")).shuffle(&mut rows);
    let mut groups: Vec<Vec<usize>> = (0..SILHOUETTE_GROUPS)
        .map(|g| rows.iter().copied().skip(g).step_by(SILHOUETTE_GROUPS).collect())
        .collect();
    groups.iter_mut().for_each(|g| g.sort_unstable());
    groups
}

/// The positions in `recs` of the runs whose labels get an exact silhouette
/// on an `n`-row matrix ([`wants_exact`]), and their labels.
fn exact_labelings(recs: &[RunRecord], n: usize) -> (Vec<usize>, Vec<&[usize]>) {
    (0..recs.len())
        .filter(|&j| wants_exact(&recs[j], n))
        .filter_map(|j| recs[j].clustering.as_ref().map(|c| (j, c.labels.as_slice())))
        .unzip()
}

/// Fills in the exact silhouettes the runs deferred (as `metric`), in one
/// pass over the distances of `x`: their shared representation for the
/// own-space silhouette, the prepared features for the common-space one; each
/// run records its share of the time.
pub(super) fn exact_silhouettes(x: ArrayView2<'_, f64>, recs: &mut [RunRecord], metric: &str) {
    let (wanted, labelings) = exact_labelings(recs, x.nrows());
    if wanted.is_empty() {
        return;
    }
    let n = x.nrows();
    let t = Instant::now();
    let scores = strata_cluster::metrics::silhouette_scores(x, &labelings);
    let share = t.elapsed().as_secs_f64() / wanted.len() as f64;
    for (pos, &j) in wanted.iter().enumerate() {
        let r = &mut recs[j];
        match &scores {
            Ok(s) => {
                r.metrics.insert(metric.into(), s[pos]);
                r.silhouette_rows = Some(n);
            }
            Err(e) => r.warnings.push(format!("{metric}: {e}")),
        }
        r.timings_s.insert(metric.into(), share);
    }
}

/// The common-space silhouettes of every run of one experiment that lacks
/// one, in a single pass over the distances of the prepared features `x`
/// (one distance pass for all representations: the distances dominate the
/// cost, see `silhouette_samples_many`). A run whose own space is the common
/// one (`none` on every column) gets both scores from it. Runs are stored
/// with their own-space silhouette as their chunk ends and rewritten here,
/// so a sweep killed before this pass fills them in when run again.
///
/// Each run also gets its common-space silhouette within each of the
/// experiment's [`silhouette_groups`] (one distance pass per group, about a
/// tenth of the whole pass's work).
pub(super) fn common_silhouettes(x: ArrayView2<'_, f64>, recs: &mut [RunRecord], seed: Seed) {
    exact_silhouettes(x, recs, COMMON_SILHOUETTE);
    let (wanted, labelings) = exact_labelings(recs, x.nrows());
    if !wanted.is_empty() {
        let t = Instant::now();
        let groups = silhouette_groups(x.nrows(), seed);
        let scores = strata_cluster::metrics::silhouette_group_scores(x, &labelings, &groups);
        let share = t.elapsed().as_secs_f64() / wanted.len() as f64;
        for (pos, &j) in wanted.iter().enumerate() {
            let r = &mut recs[j];
            match &scores {
                Ok(s) => r.silhouette_common_groups = Some(s[pos].clone().unwrap_or_default()),
                Err(e) => {
                    // Recorded as unavailable, so the next sweep does not
                    // try again.
                    r.silhouette_common_groups = Some(Vec::new());
                    r.warnings.push(format!("{COMMON_SILHOUETTE} in groups of rows: {e}"));
                }
            }
            r.timings_s.insert("silhouette_common_groups".into(), share);
        }
    }
    for r in recs.iter_mut() {
        if in_common_space(&r.config)
            && let Some(&v) = r.metrics.get(COMMON_SILHOUETTE)
        {
            r.metrics.insert("silhouette".into(), v);
            if let Some(t) = r.timings_s.remove(COMMON_SILHOUETTE) {
                r.timings_s.insert("silhouette".into(), t);
            }
        }
    }
}
