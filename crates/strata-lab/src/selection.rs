//! Choosing the segmentation that the decisions rest on.
//!
//! Candidates from different representations are compared in one common
//! space: the silhouette of each run's labels in the prepared features
//! (`silhouette_common`, computed by the sweep for every run), never the
//! silhouette in the run's own space, which favours small spaces by
//! construction. The rule, applied in order:
//!
//! 1. only runs with a common-space silhouette are candidates;
//! 2. runs with a segment under 2 % of the rows are set aside (a handful of
//!    outliers is not a segment anyone can act on), unless every run has one;
//! 3. where pipeline stability was measured, only runs whose mean ARI over
//!    the resampled pipeline fits is at least 0.8 stay, unless none reaches it
//!    (then all stay, and the reason says so). The filter reads the mean;
//!    its 95 % interval (a jackknife over the resamples) is shown beside it,
//!    and the reason counts the runs whose interval holds 0.8, which another
//!    draw of resamples could move across the line, and says whether the
//!    choice stands when the filter reads the intervals' low or high ends;
//! 4. the highest common-space silhouette wins: its mean over the groups of
//!    rows that choose (groups 1 to [`CHOOSING_GROUPS`] of the disjoint
//!    groups the sweep scores every run in), when every run of the pool has
//!    its group silhouettes; its silhouette on all rows otherwise.
//!
//! Held out, the chosen run's silhouette and its lead over the runner-up
//! (the second of the pool by the same score) are judged on the other
//! groups, rows that took no part in the choice: the best of many runs is
//! not flattered by the noise that made it the best (methodology: a choice
//! made with a row's help is judged on rows that did not help make it).
//!
//! [`candidates`] gives the table a report shows beside the choice.

use crate::claims::{CHOOSING_GROUPS, choose_judge, mean};
use crate::store::{RunRecord, RunStatus};
use crate::sweep::{COMMON_SILHOUETTE, SILHOUETTE_GROUPS, STABILITY_HIGH, STABILITY_LOW};
use std::fmt::Write as _;

/// Mean pairwise ARI above which a clustering counts as stable.
pub const STABLE_ARI: f64 = 0.8;

/// Smallest share of rows a cluster must hold for a clustering to be
/// recommended: a "segment" of a handful of outliers is not actionable.
pub const MIN_CLUSTER_SHARE: f64 = 0.02;

/// The share of rows in a run's smallest non-empty cluster.
pub fn smallest_share(r: &RunRecord) -> f64 {
    r.clustering.as_ref().map_or(0.0, |c| {
        let n: usize = c.sizes.iter().sum();
        c.sizes
            .iter()
            .copied()
            .filter(|&s| s > 0)
            .min()
            .unwrap_or(0) as f64
            / n.max(1) as f64
    })
}

/// A run's common-space silhouette, when it has one.
pub fn common_score(r: &RunRecord) -> Option<f64> {
    r.metrics
        .get(COMMON_SILHOUETTE)
        .copied()
        .filter(|v| v.is_finite())
}

/// A run's pipeline stability as reports show it: `"pipeline stability
/// ARI 0.969 [0.955, 0.983]"` with its 95 % interval where the run has one
/// (runs stored before the interval was recorded show the mean alone);
/// `None` where stability was not measured.
pub fn stability_text(r: &RunRecord) -> Option<String> {
    let a = r.metrics.get("stability_mean_ari")?;
    Some(match stability_interval(r) {
        Some((lo, hi)) => format!("pipeline stability ARI {a:.3} [{lo:.3}, {hi:.3}]"),
        None => format!("pipeline stability ARI {a:.3}"),
    })
}

/// The 95 % interval of a run's pipeline stability, when recorded.
pub fn stability_interval(r: &RunRecord) -> Option<(f64, f64)> {
    Some((*r.metrics.get(STABILITY_LOW)?, *r.metrics.get(STABILITY_HIGH)?))
}

/// Whether a run's stability interval holds the filter's line: its mean
/// could fall on the other side of [`STABLE_ARI`] under another draw of
/// resamples.
fn straddles(r: &RunRecord) -> bool {
    stability_interval(r).is_some_and(|(lo, hi)| lo < STABLE_ARI && STABLE_ARI <= hi)
}

/// The rule of the module documentation, in one sentence for reports.
pub const RULE: &str = "among runs whose every segment holds at least 2 % of the rows and whose pipeline stability (mean ARI over resampled fits of representation and clusterer; shown with its 95 % interval, a jackknife over the resamples, which the filter does not read) is at least 0.8, the highest silhouette in the common space of the prepared features, averaged over half of the disjoint groups of rows every run is scored in (groups 1 to 5 of 10); the chosen run's silhouette and its lead over the runner-up are then judged on groups 6 to 10, rows that took no part in the choice (all rows choose, and no interval is honest, when a run lacks group silhouettes)";

/// What the stability filter reads of a run: the mean ARI (the rule), or
/// either end of its 95 % interval (to see whether the choice depends on
/// which side of 0.8 the resamples' noise put runs near the line). A run
/// without an interval is read by its mean.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    Mean,
    Low,
    High,
}

impl Reading {
    fn of(self, r: &RunRecord) -> Option<f64> {
        let mean = r.metrics.get("stability_mean_ari").copied();
        match (self, stability_interval(r)) {
            (Reading::Low, Some((lo, _))) => Some(lo),
            (Reading::High, Some((_, hi))) => Some(hi),
            _ => mean,
        }
    }
}

/// The runs the rule picks from, why, and the notes the reason carries.
struct Pool<'a> {
    runs: Vec<&'a RunRecord>,
    why: String,
    /// What the size filter set aside (empty, or a parenthesis).
    size_note: String,
    /// How many runs lie near the stability filter's line (empty, or a
    /// clause starting with "; ").
    near_note: String,
}

/// The runs the rule picks from (steps 1 to 3), why, what the size filter
/// set aside, and how many runs the stability filter reads lie near its
/// line; `None` without a scored run.
fn pool<'a>(runs: &[&'a RunRecord], reading: Reading) -> Option<Pool<'a>> {
    let scored: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|r| r.status == RunStatus::Ok && common_score(r).is_some())
        .collect();
    if scored.is_empty() {
        return None;
    }
    let sizeable: Vec<&RunRecord> = scored
        .iter()
        .copied()
        .filter(|r| smallest_share(r) >= MIN_CLUSTER_SHARE)
        .collect();
    let (scored, size_note) = if sizeable.is_empty() {
        (
            scored,
            " (every run has a cluster under 2 % of the rows)".to_string(),
        )
    } else {
        let left = scored.len() - sizeable.len();
        let note = if left > 0 {
            format!(
                " ({left} {} with a cluster under 2 % of the rows set aside)",
                if left == 1 { "run" } else { "runs" }
            )
        } else {
            String::new()
        };
        (sizeable, note)
    };
    let has_stability = scored
        .iter()
        .any(|r| r.metrics.contains_key("stability_mean_ari"));
    let stable: Vec<&RunRecord> = scored
        .iter()
        .copied()
        .filter(|r| reading.of(r).is_some_and(|a| a >= STABLE_ARI))
        .collect();
    let near = scored.iter().filter(|r| straddles(r)).count();
    let near_note = match near {
        0 => String::new(),
        n => format!(
            "; the 95 % stability interval of {n} of the {} runs the filter reads holds {STABLE_ARI}: another draw of resamples could move {} across",
            scored.len(),
            if n == 1 { "it" } else { "them" }
        ),
    };
    let (pool, why) = if has_stability && !stable.is_empty() {
        (
            stable.clone(),
            format!(
                "highest common-space silhouette among the {} of {} runs whose pipeline stability ARI is at least {STABLE_ARI}",
                stable.len(),
                scored.len()
            ),
        )
    } else if has_stability {
        (
            scored.clone(),
            format!(
                "highest common-space silhouette; no run reached pipeline stability ARI {STABLE_ARI}, so treat it with care"
            ),
        )
    } else {
        (
            scored.clone(),
            "highest common-space silhouette (stability not measured)".to_string(),
        )
    };
    Some(Pool {
        runs: pool,
        why,
        size_note,
        near_note,
    })
}

/// Whether the rule chooses on the groups of rows that choose and judges on
/// the others: when every run of `pool` has all its group silhouettes.
fn held_out(pool: &[&RunRecord]) -> bool {
    pool.iter().all(|r| choose_judge(r).is_some())
}

/// A run's score for choosing and its score as judged: held out, the means
/// of its choosing and of its judging groups; otherwise its common-space
/// silhouette on all rows, twice (a run without one lowest).
fn scores(r: &RunRecord, held_out: bool) -> (f64, f64) {
    match choose_judge(r).filter(|_| held_out) {
        Some((c, j)) => (mean(c), mean(j)),
        None => {
            let s = common_score(r).unwrap_or(f64::NEG_INFINITY);
            (s, s)
        }
    }
}

/// The best run of `pool` by its choosing score, leaving out `except`; of
/// runs with equal scores (the same segments found by two clusterers, say),
/// the first in the manifest's order.
fn best_of<'a>(pool: &[&'a RunRecord], held_out: bool, except: Option<&str>) -> Option<&'a RunRecord> {
    pool.iter()
        .copied()
        .filter(|r| except != Some(r.hash.as_str()))
        .rev()
        .max_by(|a, b| scores(a, held_out).0.total_cmp(&scores(b, held_out).0))
}

/// The run the decisions rest on, and why it won.
pub fn choose<'a>(runs: &[&'a RunRecord]) -> Option<(&'a RunRecord, String)> {
    let Pool {
        runs: pool,
        why,
        size_note,
        near_note,
    } = pool(runs, Reading::Mean)?;
    let held_out = held_out(&pool);
    let best = best_of(&pool, held_out, None)?;
    let all_rows = common_score(best).unwrap_or(f64::NAN);
    let mut reason = if held_out {
        let (c, j) = scores(best, true);
        format!(
            "{why}{size_note}; ranked on groups of rows 1 to {CHOOSING_GROUPS} ({c:.3}), judged on groups {} to {SILHOUETTE_GROUPS}, which took no part in the choice: common-space silhouette {j:.3} ({all_rows:.3} on all rows)",
            CHOOSING_GROUPS + 1
        )
    } else {
        format!("{why}{size_note}: common-space silhouette {all_rows:.3}")
    };
    if let Some(text) = stability_text(best) {
        let _ = write!(reason, ", {text}");
        if stability_interval(best).is_some() {
            let _ = write!(
                reason,
                " (95 % jackknife interval over the {} resamples)",
                best.config.evaluation.stability_resamples
            );
        }
        if straddles(best) {
            let _ = write!(
                reason,
                ", an interval that reaches below {STABLE_ARI}: another draw of resamples could set this run aside"
            );
        }
    }
    reason.push_str(&near_note);
    if !near_note.is_empty() {
        let _ = write!(reason, "{}", other_readings(runs, best));
    }
    if let Some(text) = passed_over(runs, &pool, held_out, best) {
        let _ = write!(reason, "; {text}");
    }
    Some((best, reason))
}

/// Whether the choice depends on the resamples' noise near the stability
/// line: the rule rerun with the filter reading the low ends of the runs'
/// stability intervals, then the high ends: `", and the choice stands
/// when the filter reads the intervals' low ends (…) or high ends (…)"`
/// for those that pick `best` (or a run with the same segments), and what
/// each reading that differs would pick.
fn other_readings(runs: &[&RunRecord], best: &RunRecord) -> String {
    let mut same = Vec::new();
    let mut differ = Vec::new();
    for (reading, ends) in [(Reading::Low, "low ends"), (Reading::High, "high ends")] {
        let Some(p) = pool(runs, reading) else { continue };
        let held_out = held_out(&p.runs);
        let Some(b) = best_of(&p.runs, held_out, None) else { continue };
        let passing = p
            .runs
            .iter()
            .filter(|r| reading.of(r).is_some_and(|a| a >= STABLE_ARI))
            .count();
        let kept = match passing {
            0 => "no run passes, so every run stays".to_string(),
            1 => "1 run passes".to_string(),
            n => format!("{n} runs pass"),
        };
        if b.hash == best.hash || same_segments(b, best) {
            same.push(format!("{ends} ({kept})"));
        } else {
            let on = if held_out {
                format!("on groups of rows 1 to {CHOOSING_GROUPS}")
            } else {
                "on all rows".into()
            };
            let agree = agreement(b, best).map_or(String::new(), |a| {
                format!("; its segments agree with the chosen run's at ARI {a:.2}")
            });
            differ.push(format!(
                "were the filter to read the intervals' {ends} ({kept}), the rule would choose {} on {} instead ({:.3} {on}, the chosen run {:.3}{agree})",
                b.config.clusterer.label(),
                b.config.representation.label(),
                scores(b, held_out).0,
                scores(best, held_out).0
            ));
        }
    }
    let mut out = String::new();
    if !same.is_empty() {
        let _ = write!(out, ", and the choice stands when the filter reads the intervals' {}", same.join(" or "));
    }
    for d in differ {
        let _ = write!(out, "; {d}");
    }
    out
}

/// What the filters cost: the scored runs outside the rule's pool whose
/// choosing score beats the chosen run's, counted, and the best of them
/// named with what set it aside (a segment under 2 % of the rows, pipeline
/// stability under 0.8, or none measured). `None` when no run the filters
/// removed would have won.
fn passed_over(runs: &[&RunRecord], pool: &[&RunRecord], held_out: bool, best: &RunRecord) -> Option<String> {
    let bar = scores(best, held_out).0;
    let higher: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|r| r.status == RunStatus::Ok && common_score(r).is_some())
        .filter(|r| !pool.iter().any(|p| p.hash == r.hash))
        .filter(|r| scores(r, held_out).0 > bar)
        .collect();
    let top = best_of(&higher, held_out, None)?;
    let mut why = Vec::new();
    let share = smallest_share(top);
    if share < MIN_CLUSTER_SHARE {
        why.push(format!("its smallest segment holds {:.1} % of the rows", 100.0 * share));
    }
    match (top.metrics.get("stability_mean_ari"), stability_text(top)) {
        (Some(a), Some(text)) if *a < STABLE_ARI => why.push(text),
        (Some(_), _) => {}
        _ => why.push("pipeline stability not measured".into()),
    }
    let on = if held_out {
        format!("groups of rows 1 to {CHOOSING_GROUPS}")
    } else {
        "all rows".into()
    };
    Some(format!(
        "{} set aside by these filters {} higher on {on}, the best of them {} on {} at {:.3} ({})",
        match higher.len() {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        },
        if higher.len() == 1 { "scores" } else { "score" },
        top.config.clusterer.label(),
        top.config.representation.label(),
        scores(top, held_out).0,
        why.join(", ")
    ))
}

/// `[segments]` in a manifest: the segmentation the decisions rest on,
/// named instead of chosen. Each side names an algorithm and any of its
/// parameters; a run matches when its algorithms are those and every named
/// parameter has the named value (unnamed ones may be anything).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub representation: std::collections::BTreeMap<String, String>,
    pub clusterer: std::collections::BTreeMap<String, String>,
}

impl Pin {
    fn side_matches(
        want: &std::collections::BTreeMap<String, String>,
        have: &crate::manifest::AlgoConfig,
    ) -> bool {
        want.iter().all(|(k, v)| {
            if k == "algorithm" {
                &have.algorithm == v
            } else {
                have.params.0.get(k).is_some_and(|p| &p.to_string() == v)
            }
        })
    }

    /// Whether a run's configuration is the pinned one.
    pub fn matches(&self, cfg: &crate::manifest::RunConfig) -> bool {
        Self::side_matches(&self.representation, &cfg.representation)
            && Self::side_matches(&self.clusterer, &cfg.clusterer)
    }

    /// `kmeans(k=4) on pca(n_components=0.9)`, for messages.
    pub fn label(&self) -> String {
        let side = |m: &std::collections::BTreeMap<String, String>| {
            let name = m.get("algorithm").cloned().unwrap_or_default();
            let p: Vec<String> = m
                .iter()
                .filter(|(k, _)| *k != "algorithm")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if p.is_empty() {
                name
            } else {
                format!("{name}({})", p.join(", "))
            }
        };
        format!("{} on {}", side(&self.clusterer), side(&self.representation))
    }
}

/// How far the chosen run `best` leads the next run of the rule's pool, as
/// a sentence for the reason: the runner-up, the lead with its 95 %
/// interval and what it says against the silhouette `margin`. Held out
/// ([`choose`]), the runner-up is the second by the choosing groups and the
/// lead is judged on the other groups (a t interval over their paired
/// differences, `claims::held_out_difference`); otherwise both are read on
/// all rows, the interval from all the groups (`claims::runs_interval`),
/// and the sentence says the lead errs large. `None` when the pool has no
/// second run.
pub fn runner_up(runs: &[&RunRecord], best: &RunRecord, margin: f64) -> Option<String> {
    let pool = pool(runs, Reading::Mean)?.runs;
    let held_out = held_out(&pool);
    // Runs that put every row in the same segment as the chosen one are
    // named, not compared: the runner-up is the best different segmentation.
    let (twins, others): (Vec<&RunRecord>, Vec<&RunRecord>) = pool
        .iter()
        .copied()
        .filter(|r| r.hash != best.hash)
        .partition(|r| same_segments(r, best));
    let twins_text = (!twins.is_empty()).then(|| {
        let names: Vec<String> = twins
            .iter()
            .take(3)
            .map(|r| format!("{} on {}", r.config.clusterer.label(), r.config.representation.label()))
            .collect();
        let more = match twins.len().saturating_sub(3) {
            0 => String::new(),
            m => format!(" and {m} more"),
        };
        format!(
            "{}{more} {} the same segments, row for row",
            names.join(", "),
            if twins.len() == 1 { "gives" } else { "give" }
        )
    });
    let Some(second) = best_of(&others, held_out, None) else {
        return twins_text;
    };
    let ((_, sb), (_, s2)) = (scores(best, held_out), scores(second, held_out));
    if !(sb.is_finite() && s2.is_finite()) {
        return twins_text;
    }
    let (lead, interval) = if held_out {
        crate::claims::held_out_difference(best, sb, second, s2, true)
    } else {
        (sb - s2, crate::claims::runs_interval(sb - s2, best, second))
    };
    let mut out = twins_text.map_or(String::new(), |t| format!("{t}; "));
    let _ = write!(
        out,
        "runner-up {} on {} at {s2:.3}; the chosen run leads by ",
        second.config.clusterer.label(),
        second.config.representation.label()
    );
    match interval {
        Some((low, high)) => {
            // "The winner is better by a relevant amount", judged as every
            // improvement claim is.
            let what = match crate::verdict::improvement(low, high, margin) {
                crate::verdict::Verdict::Contradicted if high < 0.0 => {
                    "the runner-up scores higher on these rows, so it would serve at least as well"
                }
                crate::verdict::Verdict::Contradicted => {
                    "within the silhouette margin, so by this measure it would serve as well"
                }
                crate::verdict::Verdict::Supported => "more than the silhouette margin",
                _ => "not shown to exceed the silhouette margin",
            };
            let how = if held_out {
                format!(
                    "95 % t interval over the {} paired judging groups, rows that took no part in the choice",
                    SILHOUETTE_GROUPS - CHOOSING_GROUPS
                )
            } else {
                "95 %, groups of rows, the rows that made the choice, so the lead errs large".to_string()
            };
            let _ = write!(
                out,
                "{lead:+.3} [{low:+.3}, {high:+.3}] ({how}; margin {margin}): {what}"
            );
        }
        None => {
            let _ = write!(out, "{lead:+.3} (no interval)");
        }
    }
    Some(out)
}

/// Kaufman and Rousseeuw's reading of an average silhouette width
/// (*Finding Groups in Data*, 1990, ch. 2): the band's upper end and its
/// words, lowest first.
const STRUCTURE_BANDS: [(f64, &str); 4] = [
    (0.25, "no substantial structure"),
    (0.50, "a weak structure that could be artificial"),
    (0.70, "a reasonable structure"),
    (f64::INFINITY, "a strong structure"),
];

fn band(v: f64) -> usize {
    STRUCTURE_BANDS.iter().position(|(top, _)| v <= *top).unwrap_or(STRUCTURE_BANDS.len() - 1)
}

/// How much structure the chosen run's segments have, read from its
/// common-space silhouette on Kaufman and Rousseeuw's scale: on the groups
/// of rows that judge the choice, with a 95 % t interval over them, when
/// the run has its group silhouettes; otherwise the point on all rows (the
/// rows that made the choice). `None` without a common-space silhouette.
pub fn structure(r: &RunRecord) -> Option<String> {
    let scale = "on Kaufman and Rousseeuw's scale for the average silhouette (at most 0.25: no substantial structure; to 0.50: weak, could be artificial; to 0.70: reasonable; above: strong)";
    let (text, low, high) = match choose_judge(r) {
        Some((_, j)) => {
            // A one-sample t interval: the corrected resampled t without
            // its correction (the groups share no rows).
            let t = strata_core::stats::corrected_resampled_t(j, 0.0, 0.95);
            (
                format!(
                    "common-space silhouette {:.3} [{:.3}, {:.3}] on groups of rows {} to {SILHOUETTE_GROUPS} (95 % t interval over the {} groups)",
                    t.mean,
                    t.low,
                    t.high,
                    CHOOSING_GROUPS + 1,
                    j.len()
                ),
                t.low,
                t.high,
            )
        }
        None => {
            let s = common_score(r)?;
            (format!("common-space silhouette {s:.3} on all rows (no interval)"), s, s)
        }
    };
    let (a, b) = (band(low), band(high));
    let reading = if a == b {
        format!("it reads as {}", STRUCTURE_BANDS[a].1)
    } else {
        format!(
            "the interval reaches from {} into {}",
            STRUCTURE_BANDS[a].1, STRUCTURE_BANDS[b].1
        )
    };
    let meaning = if b == 0 {
        ": the segments cut a continuum into bins that can still be acted on, not naturally separate groups"
    } else {
        ""
    };
    Some(format!("{text}; {scale}, {reading}{meaning}"))
}

/// The adjusted Rand index between two runs' segments, row by row; `None`
/// without labels of the same rows.
fn agreement(a: &RunRecord, b: &RunRecord) -> Option<f64> {
    let (a, b) = (a.clustering.as_ref()?, b.clustering.as_ref()?);
    if a.labels.is_empty() || a.labels.len() != b.labels.len() {
        return None;
    }
    strata_cluster::metrics::adjusted_rand_index(&a.labels, &b.labels).ok()
}

/// Whether two runs put every row in the same segment (the same partition,
/// whatever the segments' numbers): their ARI is exactly 1, which
/// `adjusted_rand_index` returns only when no pair of rows is together in
/// one and apart in the other. False without labels.
fn same_segments(a: &RunRecord, b: &RunRecord) -> bool {
    agreement(a, b) == Some(1.0)
}

/// The segmentation of an experiment: the pinned run when the manifest pins
/// one, else [`choose`]'s, its reason ending with how far it leads the
/// runner-up ([`runner_up`], against the silhouette `margin`).
pub fn chosen<'a>(
    runs: &[&'a RunRecord],
    pin: Option<&Pin>,
    margin: f64,
) -> Option<(&'a RunRecord, String)> {
    match pin {
        None => choose(runs).map(|(best, mut why)| {
            if let Some(r) = runner_up(runs, best, margin) {
                let _ = write!(why, "; {r}");
            }
            (best, why)
        }),
        Some(p) => runs
            .iter()
            .copied()
            .find(|r| r.status == RunStatus::Ok && p.matches(&r.config))
            .map(|r| {
                let mut why = format!("pinned by the manifest ([segments] {})", p.label());
                if let Some(s) = common_score(r) {
                    let _ = write!(why, ": common-space silhouette {s:.3}");
                }
                if let Some(text) = stability_text(r) {
                    let _ = write!(why, ", {text}");
                }
                (r, why)
            }),
    }
}

/// One row of the selection table.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub run: &'a RunRecord,
    pub common_silhouette: f64,
    /// The mean common-space silhouette over the choosing groups and over
    /// the judging groups, when the run has its group silhouettes.
    pub halves: Option<(f64, f64)>,
    pub own_silhouette: Option<f64>,
    /// Pipeline stability (mean ARI) and, where recorded, its 95 % interval.
    pub stability: Option<(f64, Option<(f64, f64)>)>,
    pub smallest_share: f64,
    /// Passes the size and stability filters of the rule.
    pub eligible: bool,
}

/// Every candidate with a common-space score, best first, each marked as
/// eligible or not under the rule's filters.
pub fn candidates<'a>(runs: &[&'a RunRecord]) -> Vec<Candidate<'a>> {
    let any_stable = runs.iter().any(|r| {
        r.metrics
            .get("stability_mean_ari")
            .is_some_and(|a| *a >= STABLE_ARI)
    });
    let mut out: Vec<Candidate> = runs
        .iter()
        .copied()
        .filter(|r| r.status == RunStatus::Ok)
        .filter_map(|r| {
            let common = common_score(r)?;
            let stability = r
                .metrics
                .get("stability_mean_ari")
                .map(|m| (*m, stability_interval(r)));
            let share = smallest_share(r);
            Some(Candidate {
                run: r,
                common_silhouette: common,
                halves: choose_judge(r).map(|(c, j)| (mean(c), mean(j))),
                own_silhouette: r.metrics.get("silhouette").copied(),
                stability,
                smallest_share: share,
                eligible: share >= MIN_CLUSTER_SHARE
                    && (!any_stable || stability.is_some_and(|(m, _)| m >= STABLE_ARI)),
            })
        })
        .collect();
    // Best first by the score the rule chooses on: the choosing groups when
    // every eligible candidate has them (as `choose` does), all rows
    // otherwise.
    let held_out = out.iter().filter(|c| c.eligible).all(|c| c.halves.is_some());
    let key = |c: &Candidate| match c.halves.filter(|_| held_out) {
        Some((choosing, _)) => choosing,
        None => c.common_silhouette,
    };
    out.sort_by(|a, b| key(b).total_cmp(&key(a)));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::manifest::{AlgoConfig, Evaluation, RunConfig};
    use crate::store::{ClusteringInfo, DatasetRef};
    use std::collections::BTreeMap;
    use strata_core::{Diagnostics, Params, Seed};

    /// A run on `representation` with a common-space silhouette, an
    /// own-space one twice as high, optional stability and cluster sizes.
    pub(crate) fn run(
        hash: &str,
        representation: &str,
        common: f64,
        stability: Option<f64>,
        sizes: Vec<usize>,
    ) -> RunRecord {
        let mut metrics = BTreeMap::from([
            (COMMON_SILHOUETTE.to_string(), common),
            ("silhouette".to_string(), 2.0 * common),
        ]);
        if let Some(s) = stability {
            metrics.insert("stability_mean_ari".into(), s);
            metrics.insert("stability_sd_ari".into(), 0.01);
        }
        let algo = |a: &str| AlgoConfig {
            algorithm: a.into(),
            params: Params::default(),
        };
        RunRecord {
            hash: hash.into(),
            experiment: "x".into(),
            config: RunConfig {
                representation: algo(representation),
                clusterer: algo("kmeans"),
                evaluation: Evaluation::default(),
                seed: Seed(0),
                columns: Default::default(),
                drop_discrete: false,
            },
            dataset: DatasetRef {
                descriptor: "d".into(),
                sha256: String::new(),
                rows: sizes.iter().sum(),
                features: 2,
                recipe: String::new(),
            },
            strata_version: String::new(),
            status: RunStatus::Ok,
            error: None,
            representation: None,
            clustering: Some(ClusteringInfo {
                n_clusters: sizes.len(),
                sizes,
                diagnostics: Diagnostics::default(),
                labels: Vec::new(),
            }),
            metrics,
            silhouette_rows: None,
            silhouette_common_groups: None,
            timings_s: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn stable_sizeable_runs_win_on_the_common_score() {
        let tiny = run("tiny", "none", 0.9, Some(1.0), vec![995, 5]);
        let unstable = run("unstable", "none", 0.6, Some(0.5), vec![500, 500]);
        let stable = run("stable", "pca", 0.4, Some(0.9), vec![600, 400]);
        let (best, why) = choose(&[&tiny, &unstable, &stable]).expect("a choice");
        assert_eq!(best.hash, "stable");
        assert!(
            why.contains("among the 1 of 2 runs whose pipeline stability ARI is at least 0.8"),
            "{why}"
        );
        assert!(
            why.contains("(1 run with a cluster under 2 % of the rows set aside)"),
            "{why}"
        );
        assert!(why.contains("common-space silhouette 0.400"), "{why}");
        // What the filters cost: both removed runs score higher, and the
        // best of them is named with what removed it.
        assert!(
            why.ends_with("; 2 runs set aside by these filters score higher on all rows, the best of them kmeans on none at 0.900 (its smallest segment holds 0.5 % of the rows)"),
            "{why}"
        );
        let (_, why) = choose(&[&unstable, &stable]).expect("a choice");
        assert!(
            why.ends_with("; 1 run set aside by these filters scores higher on all rows, the best of them kmeans on none at 0.600 (pipeline stability ARI 0.500)"),
            "{why}"
        );
        // A removed run that scores lower is not mentioned.
        let weak = run("weak", "none", 0.3, Some(0.5), vec![500, 500]);
        let (_, why) = choose(&[&weak, &stable]).expect("a choice");
        assert!(!why.contains("set aside by these filters"), "{why}");
        let table = candidates(&[&tiny, &unstable, &stable]);
        let eligible: Vec<&str> = table
            .iter()
            .filter(|c| c.eligible)
            .map(|c| c.run.hash.as_str())
            .collect();
        assert_eq!(eligible, ["stable"]);
        assert_eq!(table[0].run.hash, "tiny");
    }

    /// `r` with a recorded 95 % stability interval.
    fn with_interval(mut r: RunRecord, lo: f64, hi: f64) -> RunRecord {
        r.metrics.insert(STABILITY_LOW.into(), lo);
        r.metrics.insert(STABILITY_HIGH.into(), hi);
        r
    }

    #[test]
    fn stability_intervals_are_shown_and_runs_near_the_line_counted() {
        let stable = with_interval(run("stable", "pca", 0.4, Some(0.9), vec![600, 400]), 0.86, 0.94);
        let unstable = with_interval(run("unstable", "none", 0.6, Some(0.79), vec![500, 500]), 0.74, 0.84);
        let (best, why) = choose(&[&unstable, &stable]).expect("a choice");
        assert_eq!(best.hash, "stable", "the filter reads the mean, not the interval");
        assert!(
            why.contains("pipeline stability ARI 0.900 [0.860, 0.940] (95 % jackknife interval over the 10 resamples)"),
            "{why}"
        );
        assert!(!why.contains("could set this run aside"), "{why}");
        assert!(
            why.contains("(95 % jackknife interval over the 10 resamples); the 95 % stability interval of 1 of the 2 runs the filter reads holds 0.8: another draw of resamples could move it across, and"),
            "{why}"
        );
        // The run set aside is named with its interval.
        assert!(
            why.ends_with("the best of them kmeans on none at 0.600 (pipeline stability ARI 0.790 [0.740, 0.840])"),
            "{why}"
        );
        // A chosen run whose interval reaches below the line says so.
        let near = with_interval(run("near", "pca", 0.4, Some(0.82), vec![600, 400]), 0.77, 0.87);
        let (best, why) = choose(&[&unstable, &near]).expect("a choice");
        assert_eq!(best.hash, "near");
        assert!(
            why.contains("[0.770, 0.870] (95 % jackknife interval over the 10 resamples), an interval that reaches below 0.8: another draw of resamples could set this run aside"),
            "{why}"
        );
        assert!(why.contains("interval of 2 of the 2 runs the filter reads holds 0.8: another draw of resamples could move them across"), "{why}");
        // Whether the choice depends on which side of 0.8 the noise put
        // the runs near the line: the rule rerun on the intervals' ends.
        let (_, why) = choose(&[&unstable, &stable]).expect("a choice");
        assert!(
            why.contains("could move it across, and the choice stands when the filter reads the intervals' low ends (1 run passes); were the filter to read the intervals' high ends (2 runs pass), the rule would choose kmeans on none instead (0.600 on all rows, the chosen run 0.400); 1 run set aside"),
            "{why}"
        );
        let (_, why) = choose(&[&unstable, &near]).expect("a choice");
        assert!(
            why.contains("were the filter to read the intervals' low ends (no run passes, so every run stays), the rule would choose kmeans on none instead (0.600 on all rows, the chosen run 0.400); were the filter to read the intervals' high ends (2 runs pass), the rule would choose kmeans on none instead"),
            "{why}"
        );
        // With the rows' labels, how far the other choice's segments differ.
        let labelled = |mut r: RunRecord, labels: Vec<usize>| {
            if let Some(c) = r.clustering.as_mut() {
                c.labels = labels;
            }
            r
        };
        let a = labelled(unstable.clone(), vec![0, 0, 1, 1]);
        let b = labelled(stable.clone(), vec![0, 1, 0, 1]);
        let (_, why) = choose(&[&a, &b]).expect("a choice");
        assert!(
            why.contains("(0.600 on all rows, the chosen run 0.400; its segments agree with the chosen run's at ARI -0.50)"),
            "{why}"
        );
        // The same segments under another name: the choice stands.
        let c = labelled(stable.clone(), vec![1, 1, 0, 0]);
        let (_, why) = choose(&[&a, &c]).expect("a choice");
        assert!(why.contains("the choice stands when the filter reads the intervals' low ends (1 run passes) or high ends (2 runs pass)"), "{why}");
        let weaker = with_interval(run("weaker", "none", 0.3, Some(0.79), vec![500, 500]), 0.74, 0.84);
        let (best, why) = choose(&[&weaker, &stable]).expect("a choice");
        assert_eq!(best.hash, "stable");
        assert!(
            why.contains("could move it across, and the choice stands when the filter reads the intervals' low ends (1 run passes) or high ends (2 runs pass)"),
            "{why}"
        );
        // Runs stored without an interval show the mean alone.
        let old = run("old", "pca", 0.4, Some(0.9), vec![600, 400]);
        let (_, why) = choose(&[&old]).expect("a choice");
        assert!(why.contains(", pipeline stability ARI 0.900;") || why.ends_with(", pipeline stability ARI 0.900"), "{why}");
        assert!(!why.contains("jackknife"), "{why}");
        // The selection table carries the interval.
        let table = candidates(&[&unstable, &stable, &old]);
        let of = |h: &str| table.iter().find(|c| c.run.hash == h).map(|c| c.stability);
        assert_eq!(of("stable"), Some(Some((0.9, Some((0.86, 0.94))))));
        assert_eq!(of("old"), Some(Some((0.9, None))));
    }

    #[test]
    fn own_space_scores_do_not_decide() {
        // The projection scores higher in its own space but lower in the
        // common one: the common space decides.
        let mut projected = run("rp", "random_projection", 0.2, Some(0.95), vec![50, 50]);
        projected.metrics.insert("silhouette".into(), 0.9);
        let plain = run("none", "none", 0.3, Some(0.95), vec![50, 50]);
        let (best, _) = choose(&[&projected, &plain]).expect("a choice");
        assert_eq!(best.hash, "none");
        // A run without a common-space score is no candidate.
        let mut unscored = run("unscored", "ica", 0.9, Some(1.0), vec![50, 50]);
        unscored.metrics.remove(COMMON_SILHOUETTE);
        assert_eq!(choose(&[&unscored, &plain]).expect("a choice").0.hash, "none");
        assert!(choose(&[&unscored]).is_none());
        assert!(choose(&[]).is_none());
    }

    #[test]
    fn the_reason_says_how_far_the_runner_up_trails() {
        let grouped = |mut r: RunRecord, g: &[f64]| {
            r.silhouette_common_groups = Some(g.to_vec());
            r
        };
        let calm = [0.301, 0.299, 0.302, 0.298, 0.300, 0.301, 0.299, 0.300, 0.302, 0.298];
        let flat = [0.30; 10];
        let best = grouped(run("best", "none", 0.30, Some(0.95), vec![50, 50]), &calm);
        // Unstable: not in the pool, whatever its score.
        let shaky = run("shaky", "pca", 0.29, Some(0.2), vec![50, 50]);
        // Close behind, measured precisely: within the margin.
        let close = grouped(run("close", "pca", 0.295, Some(0.9), vec![50, 50]), &flat.map(|v| v - 0.005));
        let (r, why) = chosen(&[&best, &shaky, &close], None, 0.02).expect("chosen");
        assert_eq!(r.hash, "best");
        assert!(
            why.contains("ranked on groups of rows 1 to 5 (0.300), judged on groups 6 to 10, which took no part in the choice: common-space silhouette 0.300 (0.300 on all rows)"),
            "{why}"
        );
        assert!(
            why.contains("runner-up kmeans on pca at 0.295; the chosen run leads by +0.005 [+0.003, +0.007] (95 % t interval over the 5 paired judging groups, rows that took no part in the choice; margin 0.02)"),
            "{why}"
        );
        assert!(why.ends_with("within the silhouette margin, so by this measure it would serve as well"), "{why}");
        // Far behind: beyond the margin.
        let far = grouped(run("far", "pca", 0.20, Some(0.9), vec![50, 50]), &flat.map(|v| v - 0.1));
        let why = chosen(&[&best, &far], None, 0.02).expect("chosen").1;
        assert!(why.ends_with("more than the silhouette margin"), "{why}");
        // Groups that disagree: not shown either way.
        let wild = [0.35, 0.25, 0.34, 0.26, 0.33, 0.27, 0.35, 0.25, 0.30, 0.30].map(|v| v - 0.03);
        let noisy = grouped(run("noisy", "pca", 0.27, Some(0.9), vec![50, 50]), &wild);
        let why = chosen(&[&best, &noisy], None, 0.02).expect("chosen").1;
        assert!(why.ends_with("not shown to exceed the silhouette margin"), "{why}");
        // A runner-up without group scores: all rows choose, and the lead
        // is a point.
        let bare = run("bare", "pca", 0.25, Some(0.9), vec![50, 50]);
        let why = chosen(&[&best, &bare], None, 0.02).expect("chosen").1;
        assert!(why.contains(": common-space silhouette 0.300, pipeline"), "{why}");
        assert!(why.ends_with("the chosen run leads by +0.050 (no interval)"), "{why}");
        // A run without groups outside the pool leaves the choice held out.
        let why = chosen(&[&best, &close, &bare], None, 0.02).expect("chosen").1;
        assert!(why.contains("(95 %, groups of rows, the rows that made the choice, so the lead errs large"), "{why}");
        // A run with the same segments (relabelled) is named, and the
        // runner-up is the best different one.
        let labelled = |mut r: RunRecord, l: &[usize]| {
            if let Some(c) = r.clustering.as_mut() {
                c.labels = l.to_vec();
            }
            r
        };
        let (l, swapped) = ([0, 0, 1, 1, 0], [1, 1, 0, 0, 1]);
        let best_l = labelled(best.clone(), &l);
        let mut twin = labelled(close.clone(), &swapped);
        twin.hash = "twin".into();
        twin.config.clusterer.algorithm = "gmm".into();
        let other = labelled(far.clone(), &[0, 1, 1, 1, 0]);
        let why = chosen(&[&best_l, &twin, &other], None, 0.02).expect("chosen").1;
        // Equal scores: the first in the manifest's order wins, whichever
        // order the tie comes in.
        let mut tied = twin.clone();
        tied.silhouette_common_groups = best_l.silhouette_common_groups.clone();
        assert_eq!(chosen(&[&best_l, &tied], None, 0.02).expect("chosen").0.hash, "best");
        assert_eq!(chosen(&[&tied, &best_l], None, 0.02).expect("chosen").0.hash, "twin");
        assert!(
            why.contains("; gmm on pca gives the same segments, row for row; runner-up kmeans on pca at 0.200; the chosen run leads by +0.100"),
            "{why}"
        );
        // Only twins: named, no runner-up.
        let why = chosen(&[&best_l, &twin], None, 0.02).expect("chosen").1;
        assert!(why.ends_with("; gmm on pca gives the same segments, row for row"), "{why}");
        assert!(!why.contains("runner-up"), "{why}");
        // Alone in the pool, or pinned: no runner-up sentence.
        assert!(!chosen(&[&best, &shaky], None, 0.02).expect("chosen").1.contains("runner-up"));
    }

    #[test]
    fn the_choosing_groups_choose_and_the_others_judge() {
        let grouped = |mut r: RunRecord, g: [f64; 10]| {
            r.silhouette_common_groups = Some(g.to_vec());
            r
        };
        // "lucky" scores high on the choosing groups only; "steady" is
        // better on all rows and on the judging groups.
        let lucky = grouped(
            run("lucky", "none", 0.300, Some(0.9), vec![50, 50]),
            [0.331, 0.329, 0.330, 0.332, 0.328, 0.271, 0.269, 0.270, 0.272, 0.268],
        );
        let steady = grouped(
            run("steady", "pca", 0.310, Some(0.9), vec![50, 50]),
            [0.311, 0.309, 0.310, 0.309, 0.311, 0.310, 0.311, 0.309, 0.310, 0.310],
        );
        let (best, why) = chosen(&[&steady, &lucky], None, 0.02).expect("chosen");
        // Chosen on groups 1 to 5 ...
        assert_eq!(best.hash, "lucky");
        // ... and reported as groups 6 to 10 see it, not as the choosing
        // groups (0.330) or all rows (0.300) do.
        assert!(
            why.contains("(0.330), judged on groups 6 to 10, which took no part in the choice: common-space silhouette 0.270 (0.300 on all rows)"),
            "{why}"
        );
        assert!(why.contains("runner-up kmeans on pca at 0.310; the chosen run leads by -0.040 [-0.042, -0.038]"), "{why}");
        assert!(why.ends_with("the runner-up scores higher on these rows, so it would serve at least as well"), "{why}");
        // The table ranks by the choosing groups and shows both halves.
        let table = candidates(&[&steady, &lucky]);
        assert_eq!(table[0].run.hash, "lucky");
        let (c, j) = table[0].halves.expect("halves");
        assert!((c - 0.330).abs() < 1e-12 && (j - 0.270).abs() < 1e-12, "{c} {j}");
        // Without groups on one of them, all rows choose.
        let mut bare = steady.clone();
        bare.silhouette_common_groups = None;
        assert_eq!(chosen(&[&bare, &lucky], None, 0.02).expect("chosen").0.hash, "steady");
        assert_eq!(candidates(&[&bare, &lucky])[0].run.hash, "steady");
    }

    #[test]
    fn structure_is_read_on_kaufman_and_rousseeuws_scale() {
        let grouped = |g: [f64; 10]| {
            let mut r = run("r", "none", 0.3, Some(0.9), vec![50, 50]);
            r.silhouette_common_groups = Some(g.to_vec());
            r
        };
        // Judging groups 0.20 +- 0.01: wholly in the lowest band.
        let low = grouped([0.9, 0.9, 0.9, 0.9, 0.9, 0.19, 0.21, 0.20, 0.19, 0.21]);
        let text = structure(&low).expect("read");
        assert!(text.starts_with("common-space silhouette 0.200 ["), "{text}");
        assert!(text.contains("on groups of rows 6 to 10 (95 % t interval over the 5 groups)"), "{text}");
        assert!(text.ends_with("it reads as no substantial structure: the segments cut a continuum into bins that can still be acted on, not naturally separate groups"), "{text}");
        // The choosing groups (0.9) play no part; a spread across 0.5 says so.
        let spanning = grouped([0.1; 5].into_iter().chain([0.40, 0.60, 0.45, 0.55, 0.50]).collect::<Vec<_>>().try_into().expect("10"));
        let text = structure(&spanning).expect("read");
        assert!(text.ends_with("the interval reaches from a weak structure that could be artificial into a reasonable structure"), "{text}");
        let strong = grouped([0.8; 10]);
        assert!(structure(&strong).expect("read").ends_with("it reads as a strong structure"));
        // Without groups: the point on all rows.
        let bare = run("b", "none", 0.6, Some(0.9), vec![50, 50]);
        let text = structure(&bare).expect("read");
        assert!(text.starts_with("common-space silhouette 0.600 on all rows (no interval)"), "{text}");
        assert!(text.ends_with("it reads as a reasonable structure"), "{text}");
    }

    #[test]
    fn a_pin_overrides_the_rule() {
        let best = run("best", "none", 0.6, Some(0.95), vec![50, 50]);
        let mut other = run("other", "pca", 0.2, Some(0.3), vec![50, 50]);
        other
            .config
            .clusterer
            .params
            .0
            .insert("k".into(), strata_core::ParamValue::Int(4));
        let pin = Pin {
            representation: [("algorithm".to_string(), "pca".to_string())].into(),
            clusterer: [
                ("algorithm".to_string(), "kmeans".to_string()),
                ("k".to_string(), "4".to_string()),
            ]
            .into(),
        };
        let (r, why) = chosen(&[&best, &other], Some(&pin), 0.02).expect("pinned");
        assert_eq!(r.hash, "other");
        assert!(why.starts_with("pinned by the manifest ([segments] kmeans(k=4) on pca)"), "{why}");
        assert_eq!(chosen(&[&best, &other], None, 0.02).expect("chosen").0.hash, "best");
        let wrong = Pin {
            clusterer: [("k".to_string(), "5".to_string())].into(),
            ..pin
        };
        assert!(chosen(&[&best, &other], Some(&wrong), 0.02).is_none());
    }

    #[test]
    fn without_stable_runs_or_without_stability() {
        let tiny = run("tiny", "none", 0.9, Some(1.0), vec![995, 5]);
        let unstable = run("unstable", "none", 0.6, Some(0.5), vec![500, 500]);
        let (best, why) = choose(&[&tiny, &unstable]).expect("a choice");
        assert_eq!(best.hash, "unstable");
        assert!(why.contains("no run reached pipeline stability ARI 0.8"), "{why}");
        let a = run("a", "none", 0.3, None, vec![50, 50]);
        let b = run("b", "none", 0.5, None, vec![50, 50]);
        let (best, why) = choose(&[&a, &b]).expect("a choice");
        assert_eq!(best.hash, "b");
        assert!(
            why.starts_with("highest common-space silhouette (stability not measured)"),
            "{why}"
        );
        // Every run has a tiny cluster: they all stay, and the reason says so.
        let t1 = run("t1", "none", 0.5, None, vec![990, 10]);
        let t2 = run("t2", "none", 0.7, None, vec![995, 5]);
        let (best, why) = choose(&[&t1, &t2]).expect("a choice");
        assert_eq!(best.hash, "t2");
        assert!(why.contains("every run has a cluster under 2 %"), "{why}");
    }
}
