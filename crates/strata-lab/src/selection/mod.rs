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
//!    choice stands when the filter reads the intervals' low or high ends.
//!    Where such a run could take the choice (it scores at least as high as
//!    the chosen run, or is the chosen run), the sweep measures its
//!    stability again on [`REFINE_FACTOR`] times the resamples, the first
//!    ones as before ([`to_refine`]), and the rule reads that: the noise is
//!    reduced where it decides, at the cost of a few runs' refits;
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

mod pin;
mod stability;
mod structure;
#[cfg(test)]
pub(crate) mod tests;

pub use pin::Pin;
use stability::{Reading, other_readings, refined_note, straddles};
pub use stability::{
    MAX_REFINED, REFINE_FACTOR, STABILITY_RESAMPLES, refined, resamples_of, stability_cell, stability_interval, stability_text,
    to_refine,
};
pub use structure::structure;

/// Mean pairwise ARI above which a clustering counts as stable.
pub const STABLE_ARI: f64 = 0.8;

/// Smallest share of rows a cluster must hold for a clustering to be
/// recommended: a "segment" of a handful of outliers is not actionable.
pub const MIN_CLUSTER_SHARE: f64 = 0.02;

/// The share of rows in a run's smallest non-empty cluster. The rows a
/// density clusterer leaves as noise ([`crate::segments::noise_label`]) are
/// no segment, so their count is not a cluster's (they still count among
/// the rows).
pub fn smallest_share(r: &RunRecord) -> f64 {
    let noise = crate::segments::noise_label(r);
    r.clustering.as_ref().map_or(0.0, |c| {
        let n: usize = c.sizes.iter().sum();
        c.sizes
            .iter()
            .enumerate()
            .filter(|&(label, &s)| s > 0 && Some(label) != noise)
            .map(|(_, &s)| s)
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

/// The rule of the module documentation, in one sentence for reports.
pub const RULE: &str = "among runs whose every segment holds at least 2 % of the rows and whose pipeline stability (mean ARI over resampled fits of representation and clusterer; shown with its 95 % interval, a jackknife over the resamples, which the filter does not read; a run whose interval holds 0.8 and which could take the choice is measured again on four times the resamples) is at least 0.8, the highest silhouette in the common space of the prepared features, averaged over half of the disjoint groups of rows every run is scored in (groups 1 to 5 of 10); the chosen run's silhouette and its lead over the runner-up are then judged on groups 6 to 10, rows that took no part in the choice (all rows choose, and no interval is honest, when a run lacks group silhouettes)";

/// The runs the rule picks from, why, and the notes the reason carries.
struct Pool<'a> {
    runs: Vec<&'a RunRecord>,
    why: String,
    /// What the size filter set aside (empty, or a parenthesis).
    size_note: String,
    /// How many runs lie near the stability filter's line (empty, or a
    /// clause starting with "; ").
    near_note: String,
    /// How many runs pass the stability filter as read (0: none does, and
    /// every run stays).
    passing: usize,
    /// The scored runs the size filter keeps, which the stability filter
    /// reads.
    sized: Vec<&'a RunRecord>,
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
        passing: stable.len(),
        sized: scored,
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

/// The run the rule picks from `runs` (a group of them, as the report's
/// best run per representation and clusterer), and why it won.
pub fn choose<'a>(runs: &[&'a RunRecord]) -> Option<(&'a RunRecord, String)> {
    choose_among(runs, false)
}

/// [`choose`]; for the choice the decisions rest on (`experiment`), which
/// the sweep measured runs near the stability line again for, the reason
/// also says which it measured and which it did not ([`refined_note`]).
fn choose_among<'a>(runs: &[&'a RunRecord], experiment: bool) -> Option<(&'a RunRecord, String)> {
    let Pool {
        runs: pool,
        why,
        size_note,
        near_note,
        ..
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
            let _ = write!(reason, " (95 % jackknife interval over the {} resamples)", resamples_of(best));
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
    if experiment {
        reason.push_str(&refined_note(runs));
    }
    if let Some(text) = passed_over(runs, &pool, held_out, best) {
        let _ = write!(reason, "; {text}");
    }
    Some((best, reason))
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
        None => choose_among(runs, true).map(|(best, mut why)| {
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
    /// Pipeline stability (mean ARI).
    pub stability: Option<f64>,
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
                .copied();
            let share = smallest_share(r);
            Some(Candidate {
                run: r,
                common_silhouette: common,
                halves: choose_judge(r).map(|(c, j)| (mean(c), mean(j))),
                own_silhouette: r.metrics.get("silhouette").copied(),
                stability,
                smallest_share: share,
                eligible: share >= MIN_CLUSTER_SHARE
                    && (!any_stable || stability.is_some_and(|m| m >= STABLE_ARI)),
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
