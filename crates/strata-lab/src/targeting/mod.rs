//! Campaign targeting that holds up on new customers.
//!
//! A stratified share of the customers is held out. On the rest, the chosen
//! representation and clustering are fitted, every segment's response rate and
//! action (contact, skip, uncertain) are estimated, and an MLP is trained (its
//! contact threshold chosen on a validation split of the training rows to
//! maximize profit). Then, on the held-out customers only, three policies are
//! compared by realized profit with bootstrap intervals: contact the
//! **contact** segments, contact **everyone**, or contact the MLP's **ranked
//! list** down to its threshold. No held-out row is used in any fit, the
//! preprocessing recipe included (the sweep passes a `Source::Prepared`).
//! The policy that earns the most is compared with each other one by a
//! paired bootstrap (the same resampled customers for both) interval of its
//! lead, Bonferroni-adjusted over those comparisons: it is "ahead" only when
//! every lead's interval is above zero.
//!
//! That split's intervals hold its fitted models fixed; the procedure is
//! then judged again over [`SPLITS`] random splits, each refitting
//! everything (`repeated.rs`, with the corrected resampled t of Nadeau and
//! Bengio). `split.rs` fits and decides one split, `ranked.rs` is the MLP's
//! ranked list (which `strata contact-list` applies), `tests.rs` the tests.

mod ranked;
mod repeated;
mod split;
#[cfg(test)]
mod tests;

pub use ranked::{RankedList, out_of_fold_scores, ranked_list};
pub use repeated::{DEPTHS, Depth, Repeated, RepeatedPolicy, depth_count};
#[cfg(test)]
pub(crate) use repeated::fixtures;

use crate::segments::{Action, percentile};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use split::{POLICIES, Setting, SplitFit, fit_split, random_split};
use strata_core::{Clusterer, Economics, Reducer, Rng, Seed};
use strata_neural::MlpConfig;
use strata_neural::cv::Source;
use strata_neural::folds::stratified_split;

/// A segment as estimated on the training customers and met on the held-out ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDecision {
    pub segment: usize,
    pub train_size: usize,
    pub train_rate: f64,
    pub rate_low: f64,
    pub rate_high: f64,
    pub profit_low: f64,
    pub profit_high: f64,
    pub action: Action,
    pub test_size: usize,
    pub test_rate: f64,
    /// The segment of the chosen clustering (fitted on every row) that holds
    /// most of this segment's training customers, and their share: the
    /// training-only fit numbers its segments its own way, so this names
    /// which segment card it stands for.
    #[serde(default)]
    pub chosen_segment: Option<(usize, f64)>,
}

/// Realized profit of one policy on the held-out customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub contacted: usize,
    pub profit: f64,
    /// Bootstrap 95 % interval over resampled held-out customers.
    pub low: f64,
    pub high: f64,
}

/// How far the policy that earns the most leads another, on the same
/// resampled held-out customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub over: String,
    pub diff: f64,
    pub low: f64,
    pub high: f64,
    /// Coverage of the interval: 1 - 0.05 / (number of leads).
    pub level: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetingReport {
    pub train_rows: usize,
    pub test_rows: Vec<usize>,
    pub test_positives: usize,
    pub segments: Vec<SegmentDecision>,
    pub policies: Vec<Policy>,
    /// (customers contacted in MLP score order, cumulative profit) on the held-out customers.
    pub curve: Vec<(usize, f64)>,
    /// The leads of the policy that earns the most over each other one.
    #[serde(default)]
    pub leads: Vec<Lead>,
    /// The stratified split's comparison.
    pub verdict: String,
    /// The comparison repeated over [`SPLITS`] random splits.
    #[serde(default)]
    pub repeated: Option<Repeated>,
}

/// Share of the customers the sweep holds out.
pub const TEST_FRACTION: f64 = 0.3;

/// The (training, held-out) rows [`evaluate`] uses for a given seed: a
/// stratified split, so that other stages can keep to the training rows.
pub fn holdout(y: &[u8], test_fraction: f64, seed: Seed) -> (Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..y.len()).collect();
    stratified_split(&all, y, test_fraction, seed.named("holdout"))
}

/// How many random splits [`evaluate`] repeats the comparison on, besides
/// the stratified split it reports in detail (segments, bootstrap
/// intervals, the profit curve): their mean profits, with the corrected
/// resampled t interval of Nadeau and Bengio, judge the procedure.
pub const SPLITS: usize = 20;

/// Runs the held-out comparison. `source` gives the features (with
/// `Source::Prepared`, the preprocessing recipe is fitted on the training
/// customers only), `segment_source` the features the segmentation sees when
/// they differ (`[features]`), `y` the 0/1 responses, `econ` the cost and
/// revenue per row, `chosen` the chosen clustering's label of every row
/// (to name the segment card each training segment stands for; not used in
/// any fit or decision). One stratified split (from `seed`) is reported in
/// detail; with `splits` of at least 2, the comparison is repeated on that
/// many random splits of the same size (see [`random_split`]; seeds
/// `seed.named("repeated").child(r)`, run in parallel), each refitting
/// everything on its own training customers.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    source: Source<'_>,
    segment_source: Option<Source<'_>>,
    y: &[u8],
    econ: &Economics,
    reducer: &dyn Reducer,
    clusterer: &dyn Clusterer,
    mlp: &MlpConfig,
    test_fraction: f64,
    seed: Seed,
    typed: Option<&crate::features::Typed>,
    chosen: Option<&[usize]>,
    splits: usize,
) -> anyhow::Result<TargetingReport> {
    if y.len() != source.rows()
        || econ.cost_per_contact.len() != y.len()
        || segment_source.as_ref().is_some_and(|s| s.rows() != y.len())
        || chosen.is_some_and(|c| c.len() != y.len())
    {
        anyhow::bail!("features, target and economics must have one value per row");
    }
    let (train, test) = holdout(y, test_fraction, seed);
    if test.is_empty() || train.is_empty() {
        anyhow::bail!("targeting: too few rows of each class to hold {test_fraction} of them out");
    }
    let setting = Setting {
        source,
        segment_source,
        y,
        econ,
        reducer,
        clusterer,
        mlp,
        typed,
        chosen,
    };
    let first = fit_split(&setting, &train, &test, seed)?;
    let SplitFit {
        segments,
        masks,
        units,
        scores: st,
    } = &first;
    let policies_def: Vec<(&str, &Vec<bool>)> = POLICIES.iter().copied().zip(masks).collect();
    let total = |mask: &[bool], idx: &mut dyn Iterator<Item = usize>| -> f64 {
        idx.filter(|&j| mask[j]).map(|j| units[j]).sum()
    };
    let b = 1000;
    let mut rng = Rng::new(seed.named("targeting-bootstrap"));
    let mut boots = vec![Vec::with_capacity(b); policies_def.len()];
    for _ in 0..b {
        let sample: Vec<usize> = (0..test.len()).map(|_| rng.below(test.len())).collect();
        for (p, (_, mask)) in policies_def.iter().enumerate() {
            boots[p].push(total(mask, &mut sample.iter().copied()));
        }
    }
    // Percentile of sorted bootstrap values; `+ 0.0` turns -0 into 0 for display.
    let at = |sorted: &[f64], q: f64| percentile(sorted, q) + 0.0;
    let outcome = first.outcome();
    let profits: Vec<f64> = outcome.iter().map(|o| o.0).collect();
    let win = (0..profits.len())
        .max_by(|&a, &c| profits[a].total_cmp(&profits[c]))
        .unwrap_or(0);
    // Paired: replicate r of every policy is on the same customers.
    let m = policies_def.len() - 1;
    let alpha = 0.05 / m.max(1) as f64;
    let leads: Vec<Lead> = (0..policies_def.len())
        .filter(|&p| p != win)
        .map(|p| {
            let mut d: Vec<f64> = boots[win].iter().zip(&boots[p]).map(|(w, o)| w - o).collect();
            d.sort_by(f64::total_cmp);
            Lead {
                over: policies_def[p].0.to_string(),
                diff: profits[win] - profits[p],
                low: at(&d, alpha / 2.0),
                high: at(&d, 1.0 - alpha / 2.0),
                level: 1.0 - alpha,
            }
        })
        .collect();
    let policies: Vec<Policy> = policies_def
        .iter()
        .zip(boots.iter_mut())
        .zip(&outcome)
        .map(|(((name, _), bs), &(profit, contacted))| {
            bs.sort_by(f64::total_cmp);
            Policy {
                name: name.to_string(),
                contacted,
                profit,
                low: at(bs, 0.025),
                high: at(bs, 0.975),
            }
        })
        .collect();
    let mut ranked: Vec<usize> = (0..test.len()).collect();
    ranked.sort_by(|&a, &c| st[c].total_cmp(&st[a]));
    let step = (test.len() / 200).max(1);
    let mut curve = vec![(0, 0.0)];
    let mut acc = 0.0;
    for (n, &j) in ranked.iter().enumerate() {
        acc += units[j];
        if (n + 1) % step == 0 || n + 1 == test.len() {
            curve.push((n + 1, acc));
        }
    }
    let win = policies_def[win].0;
    let lines: Vec<String> = policies.iter().map(|p| policy_line(p, segments)).collect();
    let ahead = leads.iter().all(|l| l.low > 0.0);
    let lead_text: Vec<String> = leads
        .iter()
        .map(|l| lead_line(l, contacts_nobody(&l.over, &policies)))
        .collect();
    let verdict = format!(
        "{win} earns the most on the {} held-out customers{}: {}; its lead {} (paired bootstrap, {:.1} % intervals, Bonferroni over {m} comparisons)",
        test.len(),
        standing(ahead),
        lines.join("; "),
        lead_text.join(", "),
        100.0 * (1.0 - alpha),
    );
    // A random split whose fits fail (a training draw without responders,
    // say) is left out with a warning and counted; fewer than two left: no
    // repeated comparison.
    let repeats = if splits >= 2 { splits } else { 0 };
    type Outcome = ([(f64, usize); 3], Vec<f64>);
    let fitted: Vec<anyhow::Result<Outcome>> = (0..repeats)
        .into_par_iter()
        .map(|r| {
            let seed = seed.named("repeated").child(r as u64);
            let (train, test) = random_split(y.len(), test.len(), seed);
            let fit = fit_split(&setting, &train, &test, seed)?;
            Ok((fit.outcome(), fit.depth_profits()))
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut depths = Vec::new();
    let mut failed = 0;
    for (r, f) in fitted.into_iter().enumerate() {
        match f {
            Ok((o, d)) => {
                outcomes.push(o);
                depths.push(d);
            }
            Err(e) => {
                failed += 1;
                tracing::warn!("held-out targeting: random split {r} could not be fitted and is left out of the repeated comparison: {e:#}");
            }
        }
    }
    let repeated = (outcomes.len() >= 2).then(|| {
        let mut r = repeated::repeated(&outcomes, failed, train.len(), test.len());
        r.depths = repeated::depth_table(&depths, train.len(), test.len());
        r
    });
    Ok(TargetingReport {
        train_rows: train.len(),
        test_positives: test.iter().filter(|&&i| y[i] == 1).count(),
        segments: first.segments,
        test_rows: test,
        policies,
        curve,
        leads,
        verdict,
        repeated,
    })
}

/// The policy that contacts the MLP's ranked list down to its threshold.
pub const MLP_POLICY: &str = "MLP ranked list";

/// The policy that contacts the segments whose training customers clear
/// break-even.
const SEGMENT_POLICY: &str = "contact segments";

/// One policy's realised profit on the held-out customers, for the
/// verdict. A policy that contacts nobody says so (its profit is 0 by
/// construction, not an estimate), and the segment policy says why: no
/// segment's profit interval on the training customers clears break-even.
fn policy_line(p: &Policy, segments: &[SegmentDecision]) -> String {
    if p.contacted > 0 {
        return format!(
            "{} {:.0} [{:.0}, {:.0}] ({} contacted)",
            p.name, p.profit, p.low, p.high, p.contacted
        );
    }
    if p.name == SEGMENT_POLICY {
        let count = |a: Action| segments.iter().filter(|s| s.action == a).count();
        return format!(
            "{SEGMENT_POLICY} 0 (nobody contacted: no segment clears break-even on the training customers, {} to skip and {} uncertain)",
            count(Action::Skip),
            count(Action::Uncertain)
        );
    }
    format!("{} 0 (nobody contacted)", p.name)
}

/// How the policy that earns the most stands against the others, for the
/// verdict: ahead when every lead's interval is above zero.
fn standing(ahead: bool) -> &'static str {
    if ahead {
        ", ahead of every other policy"
    } else {
        ", but not clearly ahead of every other policy"
    }
}

/// The winner's lead over one other policy, for the verdict; a lead over a
/// policy that contacts nobody (`nobody`) says so, since that policy's
/// profit is 0 by construction.
fn lead_line(l: &Lead, nobody: bool) -> String {
    format!(
        "{:+.0} [{:+.0}, {:+.0}] over {}{}",
        l.diff,
        l.low,
        l.high,
        l.over,
        if nobody { " (contacting nobody)" } else { "" }
    )
}

/// Whether the policy named `name` contacts nobody.
fn contacts_nobody(name: &str, policies: &[Policy]) -> bool {
    policies.iter().any(|p| p.name == name && p.contacted == 0)
}
