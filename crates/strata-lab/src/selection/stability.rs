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
/// the mean alone without a recorded interval, `–` when not measured.
pub fn stability_cell(r: &RunRecord) -> String {
    match (r.metrics.get("stability_mean_ari"), stability_interval(r)) {
        (Some(a), Some((lo, hi))) => format!("{a:.3} [{lo:.3}, {hi:.3}]"),
        (Some(a), None) => format!("{a:.3}"),
        (None, _) => "–".into(),
    }
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
