//! The stability filter's numbers as reports show them: each run's mean
//! ARI with its 95 % interval, which runs lie near the filter's line, and
//! whether the choice stands when the filter reads the intervals' ends.

use super::*;

/// A run's pipeline stability as reports show it: `"pipeline stability
/// ARI 0.969 [0.955, 0.983]"` with its 95 % interval where the run has one
/// (runs stored before the interval was recorded show the mean alone);
/// `None` where stability was not measured.
pub fn stability_text(r: &RunRecord) -> Option<String> {
    r.metrics
        .contains_key("stability_mean_ari")
        .then(|| format!("pipeline stability ARI {}", stability_cell(r)))
}

/// A run's pipeline stability for a table cell: `0.969 [0.955, 0.983]`,
/// the mean alone without a recorded interval, `–` when not measured; a run
/// measured again on more resamples ([`to_refine`]) says on how many.
pub fn stability_cell(r: &RunRecord) -> String {
    let cell = match (r.metrics.get("stability_mean_ari"), stability_interval(r)) {
        (Some(a), Some((lo, hi))) => format!("{a:.3} [{lo:.3}, {hi:.3}]"),
        (Some(a), None) => format!("{a:.3}"),
        (None, _) => return "–".into(),
    };
    if refined(r) {
        format!("{cell} ({} resamples)", resamples_of(r))
    } else {
        cell
    }
}

/// How many times the resamples of a run's manifest a run near the
/// stability filter's line is measured on when its stability could decide
/// the choice ([`to_refine`]): four times as many resamples roughly halve
/// its interval.
pub const REFINE_FACTOR: usize = 4;

/// At most this many runs of an experiment are measured again on more
/// resamples ([`to_refine`]), which bounds the time it costs; the choice's
/// reason counts those left.
pub const MAX_REFINED: usize = 8;

/// Metric: the resamples a run's stability was measured on, where the sweep
/// measured it again on more than its manifest's ([`to_refine`]).
pub const STABILITY_RESAMPLES: &str = "stability_resamples";

/// The resamples a run's stability was measured on: its manifest's, or more
/// where the sweep measured it again ([`STABILITY_RESAMPLES`]).
pub fn resamples_of(r: &RunRecord) -> usize {
    r.metrics
        .get(STABILITY_RESAMPLES)
        .map_or(r.config.evaluation.stability_resamples, |&v| v as usize)
}

/// Whether a run's stability was measured again on more resamples than its
/// manifest's.
pub fn refined(r: &RunRecord) -> bool {
    resamples_of(r) > r.config.evaluation.stability_resamples
}

/// The runs whose stability could decide the choice but is not settled, to
/// be measured again on [`REFINE_FACTOR`] times their resamples (the first
/// ones the same, so the new estimate extends the old), best first: the
/// runs the size filter keeps whose 95 % stability interval holds the
/// filter's line and which could take the choice, that is which score at
/// least as high as the chosen run (the chosen run among them when its own
/// interval reaches below the line), or any such run when none passes the
/// filter. Runs already measured again are left out, so that a caller can
/// refine, apply, and ask again until nothing is left: a refined run that
/// passes may become the choice, and a chosen run that falls out lowers the
/// bar.
pub fn to_refine<'a>(runs: &[&'a RunRecord]) -> Vec<&'a RunRecord> {
    let Some(p) = pool(runs, Reading::Mean) else {
        return Vec::new();
    };
    let held_out = held_out(&p.runs);
    let bar = (p.passing > 0)
        .then(|| best_of(&p.runs, held_out, None).map(|b| scores(b, held_out).0))
        .flatten();
    let mut out: Vec<&RunRecord> = p
        .sized
        .iter()
        .copied()
        .filter(|r| straddles(r) && !refined(r))
        .filter(|r| bar.is_none_or(|b| scores(r, held_out).0 >= b))
        .collect();
    out.sort_by(|a, b| scores(b, held_out).0.total_cmp(&scores(a, held_out).0));
    out
}

/// The 95 % interval of a run's pipeline stability, when recorded.
pub fn stability_interval(r: &RunRecord) -> Option<(f64, f64)> {
    Some((*r.metrics.get(STABILITY_LOW)?, *r.metrics.get(STABILITY_HIGH)?))
}

/// Whether a run's stability interval holds the filter's line: its mean
/// could fall on the other side of [`STABLE_ARI`] under another draw of
/// resamples.
pub(super) fn straddles(r: &RunRecord) -> bool {
    stability_interval(r).is_some_and(|(lo, hi)| lo < STABLE_ARI && STABLE_ARI <= hi)
}

/// What the stability filter reads of a run: the mean ARI (the rule), or
/// either end of its 95 % interval (to see whether the choice depends on
/// which side of 0.8 the resamples' noise put runs near the line). A run
/// without an interval is read by its mean.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Reading {
    Mean,
    Low,
    High,
}

impl Reading {
    pub(super) fn of(self, r: &RunRecord) -> Option<f64> {
        let mean = r.metrics.get("stability_mean_ari").copied();
        match (self, stability_interval(r)) {
            (Reading::Low, Some((lo, _))) => Some(lo),
            (Reading::High, Some((_, hi))) => Some(hi),
            _ => mean,
        }
    }
}

/// Whether the choice depends on the resamples' noise near the stability
/// line: the rule rerun with the filter reading the low ends of the runs'
/// stability intervals, then the high ends: `", and the choice stands
/// when the filter reads the intervals' low ends (…) or high ends (…)"`
/// for those that pick `best` (or a run with the same segments), and what
/// each reading that differs would pick.
pub(super) fn other_readings(runs: &[&RunRecord], best: &RunRecord) -> String {
    let mut same = Vec::new();
    let mut differ = Vec::new();
    for (reading, ends) in [(Reading::Low, "low ends"), (Reading::High, "high ends")] {
        let Some(p) = pool(runs, reading) else { continue };
        let held_out = held_out(&p.runs);
        let Some(b) = best_of(&p.runs, held_out, None) else { continue };
        let kept = match p.passing {
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

/// The runs whose stability was measured again because it could decide the
/// choice ([`to_refine`]), with their new stability: `"; 1 run was measured
/// again on 40 resamples (the first 10 as before) because its 95 % interval
/// held 0.8 and it could take the choice: agglomerative(k=2, linkage=ward)
/// on none, pipeline stability ARI 0.752 [0.717, 0.787] (40 resamples)"`,
/// then a count of such runs not measured again (past [`MAX_REFINED`],
/// whose refits failed, or read before a sweep measured them); empty when
/// there are neither.
pub(super) fn refined_note(runs: &[&RunRecord]) -> String {
    let again: Vec<&RunRecord> = runs.iter().copied().filter(|r| refined(r)).collect();
    let mut out = String::new();
    if let Some(first) = again.first() {
        let named: Vec<String> = again
            .iter()
            .map(|r| {
                format!(
                    "{} on {}, pipeline stability ARI {}",
                    r.config.clusterer.label(),
                    r.config.representation.label(),
                    stability_cell(r)
                )
            })
            .collect();
        let one = again.len() == 1;
        let _ = write!(
            out,
            "; {} measured again on {} resamples (the first {} as before) because {} 95 % interval held {STABLE_ARI} and {} could take the choice: {}",
            if one { "1 run was".to_string() } else { format!("{} runs were", again.len()) },
            resamples_of(first),
            first.config.evaluation.stability_resamples,
            if one { "its" } else { "their" },
            if one { "it" } else { "each" },
            named.join("; ")
        );
    }
    let left = to_refine(runs);
    if let Some(first) = left.first() {
        let one = left.len() == 1;
        let _ = write!(
            out,
            "; {} whose 95 % interval holds {STABLE_ARI} and which could take the choice {} not measured again on more than {} resamples (a sweep measures at most {MAX_REFINED} such runs again, and a run whose refits fail keeps its first measurement)",
            if one { "1 run".to_string() } else { format!("{} runs", left.len()) },
            if one { "was" } else { "were" },
            first.config.evaluation.stability_resamples
        );
    }
    out
}
