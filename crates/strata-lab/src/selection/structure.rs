//! How much structure the chosen segments have, on Kaufman and
//! Rousseeuw's scale for the average silhouette.

use super::*;

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
