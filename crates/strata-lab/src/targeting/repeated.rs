//! Held-out targeting repeated over random splits, judged by the corrected
//! resampled t of Nadeau and Bengio.

use super::{Lead, POLICIES, lead_line, standing};
use serde::{Deserialize, Serialize};

/// One policy over the repeated splits of [`evaluate`](super::evaluate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatedPolicy {
    pub name: String,
    /// Profit on each split's held-out customers, in split order.
    pub profits: Vec<f64>,
    /// Customers contacted in each split.
    pub contacted: Vec<usize>,
    /// Mean of `profits`, with its 95 % corrected resampled t interval.
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Splits in which this policy alone earned the most (a split whose
    /// best profit two policies share counts for neither).
    pub wins: usize,
}

impl RepeatedPolicy {
    /// Whether the policy contacted nobody in any split (its profit is 0
    /// by construction).
    pub fn contacts_nobody(&self) -> bool {
        self.contacted.iter().all(|&c| c == 0)
    }
}

/// The held-out comparison repeated over random splits,
/// each refitting everything on its own training customers: what the
/// procedure earns, whichever customers happen to train it. The splits'
/// training sets overlap, so their spread understates the variance of the
/// mean; the corrected resampled t of Nadeau and Bengio (2003) accounts
/// for it (1/J + n_test/n_train in place of 1/J).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeated {
    /// Splits compared.
    pub splits: usize,
    /// Further splits whose fits failed, left out.
    #[serde(default)]
    pub failed: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub policies: Vec<RepeatedPolicy>,
    /// The lead of the policy with the highest mean over each other one,
    /// paired by split, Bonferroni-adjusted over those comparisons.
    pub leads: Vec<Lead>,
    /// Every lead's interval is above zero.
    pub ahead: bool,
    pub verdict: String,
    /// Profit of contacting a fixed share of each split's held-out
    /// customers, best first by the MLP's score, at each of [`DEPTHS`].
    #[serde(default)]
    pub depths: Vec<Depth>,
}

/// Shares of a split's held-out customers contacted best first by the
/// MLP's score in the depth table: what a budget that caps the contacts
/// would earn, and what each further tranche adds.
pub const DEPTHS: [f64; 7] = [0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50];

/// Customers of `n` held out that the share `share` contacts (at least 1).
pub fn depth_count(share: f64, n: usize) -> usize {
    ((share * n as f64).round() as usize).clamp(1, n.max(1))
}

/// One row of the depth table: the held-out customers' best `share` by the
/// MLP's score contacted, over the repeated splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Depth {
    pub share: f64,
    /// Customers contacted in each split (the same number in every split).
    pub contacted: usize,
    /// Profit of contacting them, in split order.
    pub profits: Vec<f64>,
    /// Mean of `profits`, with its 95 % corrected resampled t interval.
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// The tranche: customers ranked after the previous share (the first
    /// row's: from the top), how many, and what contacting them adds (mean
    /// over the splits, 95 % corrected resampled t interval).
    pub tranche: usize,
    pub tranche_mean: f64,
    pub tranche_low: f64,
    pub tranche_high: f64,
}

impl Depth {
    /// What the tranche does: "earns" when its whole interval is above 0,
    /// "loses" when it is wholly below, "not clear" otherwise.
    pub fn reading(&self) -> &'static str {
        if self.tranche_low > 0.0 {
            "earns"
        } else if self.tranche_high < 0.0 {
            "loses"
        } else {
            "not clear"
        }
    }
}

impl Repeated {
    /// The depth table's tranches read as `reading` (see
    /// [`Depth::reading`]), each named by its shares ("5 to 10 %"), or
    /// "none".
    pub fn tranches(&self, reading: &str) -> String {
        let v: Vec<String> = self
            .depths
            .iter()
            .enumerate()
            .filter(|(_, x)| x.reading() == reading)
            .map(|(i, x)| {
                let from = if i == 0 { 0.0 } else { self.depths[i - 1].share };
                format!("{:.0} to {:.0} %", 100.0 * from, 100.0 * x.share)
            })
            .collect();
        if v.is_empty() { "none".into() } else { v.join(", ") }
    }
}

/// The depth table from each split's profits at [`DEPTHS`] (`profits[r][d]`
/// for split r and depth d), each split holding out `test_rows` customers
/// and fitting on `train_rows`.
pub(super) fn depth_table(profits: &[Vec<f64>], train_rows: usize, test_rows: usize) -> Vec<Depth> {
    use strata_core::stats::corrected_resampled_t;
    let ratio = test_rows as f64 / train_rows.max(1) as f64;
    let mut previous: Option<(usize, Vec<f64>)> = None;
    DEPTHS
        .iter()
        .enumerate()
        .map(|(d, &share)| {
            let at: Vec<f64> = profits.iter().map(|p| p[d]).collect();
            let contacted = depth_count(share, test_rows);
            let (before, base) = previous.take().unwrap_or((0, vec![0.0; at.len()]));
            let added: Vec<f64> = at.iter().zip(&base).map(|(a, b)| a - b).collect();
            let t = corrected_resampled_t(&at, ratio, 0.95);
            let u = corrected_resampled_t(&added, ratio, 0.95);
            previous = Some((contacted, at.clone()));
            // `+ 0.0` turns -0 into 0 for display.
            Depth {
                share,
                contacted,
                profits: at,
                mean: t.mean + 0.0,
                low: t.low + 0.0,
                high: t.high + 0.0,
                tranche: contacted - before,
                tranche_mean: u.mean + 0.0,
                tranche_low: u.low + 0.0,
                tranche_high: u.high + 0.0,
            }
        })
        .collect()
}

impl Repeated {
    /// The policy named `name`.
    pub fn policy(&self, name: &str) -> Option<&RepeatedPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The policy with the highest mean profit.
    pub fn best(&self) -> Option<&RepeatedPolicy> {
        self.policies.iter().max_by(|a, b| a.mean.total_cmp(&b.mean))
    }
}

/// Summarises the policies' (profit, contacted) of every split (in
/// [`POLICIES`] order), each split holding out `test_rows` customers and
/// fitting on `train_rows`; `failed` more splits could not be fitted.
pub(super) fn repeated(outcomes: &[[(f64, usize); 3]], failed: usize, train_rows: usize, test_rows: usize) -> Repeated {
    use strata_core::stats::corrected_resampled_t;
    let j = outcomes.len();
    let ratio = test_rows as f64 / train_rows.max(1) as f64;
    let mut policies: Vec<RepeatedPolicy> = POLICIES
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let profits: Vec<f64> = outcomes.iter().map(|o| o[p].0).collect();
            let t = corrected_resampled_t(&profits, ratio, 0.95);
            RepeatedPolicy {
                name: name.to_string(),
                contacted: outcomes.iter().map(|o| o[p].1).collect(),
                profits,
                // `+ 0.0` turns -0 into 0 for display.
                mean: t.mean + 0.0,
                low: t.low + 0.0,
                high: t.high + 0.0,
                wins: 0,
            }
        })
        .collect();
    for o in outcomes {
        let best = (1..o.len()).fold(0, |b, p| if o[p].0 > o[b].0 { p } else { b });
        if o.iter().filter(|v| v.0 == o[best].0).count() == 1 {
            policies[best].wins += 1;
        }
    }
    let win = (1..policies.len()).fold(0, |b, p| if policies[p].mean > policies[b].mean { p } else { b });
    let m = policies.len() - 1;
    let alpha = 0.05 / m.max(1) as f64;
    let leads: Vec<Lead> = (0..policies.len())
        .filter(|&p| p != win)
        .map(|p| {
            let d: Vec<f64> = policies[win]
                .profits
                .iter()
                .zip(&policies[p].profits)
                .map(|(w, o)| w - o)
                .collect();
            let t = corrected_resampled_t(&d, ratio, 1.0 - alpha);
            Lead {
                over: policies[p].name.clone(),
                diff: t.mean + 0.0,
                low: t.low + 0.0,
                high: t.high + 0.0,
                level: 1.0 - alpha,
            }
        })
        .collect();
    let ahead = !leads.is_empty() && leads.iter().all(|l| l.low > 0.0);
    let nobody = |name: &str| policies.iter().any(|p| p.name == name && p.contacts_nobody());
    let lines: Vec<String> = policies
        .iter()
        .map(|p| {
            if nobody(&p.name) {
                format!("{} 0 (nobody contacted in any split)", p.name)
            } else {
                let contacted = p.contacted.iter().sum::<usize>() as f64 / j.max(1) as f64;
                format!(
                    "{} {:.0} [{:.0}, {:.0}] ({contacted:.0} contacted on average; the most in {} of {j} splits)",
                    p.name, p.mean, p.low, p.high, p.wins
                )
            }
        })
        .collect();
    let lead_text: Vec<String> = leads.iter().map(|l| lead_line(l, nobody(&l.over))).collect();
    let verdict = format!(
        "over {j} random splits ({train_rows} customers to fit, {test_rows} held out, everything refitted on each split's training customers{}), {} earns the most on average{}: {}; its lead {} (mean profit on a split's held-out customers; corrected resampled t of Nadeau and Bengio over the splits, {} degrees of freedom, {:.1} % intervals, Bonferroni over {m} comparisons)",
        if failed > 0 {
            format!("; {failed} more could not be fitted and are left out")
        } else {
            String::new()
        },
        policies[win].name,
        standing(ahead),
        lines.join("; "),
        lead_text.join(", "),
        j.saturating_sub(1),
        100.0 * (1.0 - alpha),
    );
    Repeated {
        splits: j,
        failed,
        train_rows,
        test_rows,
        policies,
        leads,
        ahead,
        verdict,
        depths: Vec::new(),
    }
}

/// Depth tables for the tests of the code that reads them (the report, the
/// headline, the contact list).
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Depth, Repeated};

    /// A row of the depth table: its share and customers, its mean profit
    /// with interval, and its tranche's (customers, mean, low, high).
    pub(crate) fn depth(share: f64, contacted: usize, (mean, low, high): (f64, f64, f64), (tranche, tranche_mean, tranche_low, tranche_high): (usize, f64, f64, f64)) -> Depth {
        Depth { share, contacted, profits: vec![], mean, low, high, tranche, tranche_mean, tranche_low, tranche_high }
    }

    /// A repeated comparison of `splits` splits of `test_rows` held out
    /// (70 fitted), with no policies and these depths.
    pub(crate) fn repeated(splits: usize, test_rows: usize, depths: Vec<Depth>) -> Repeated {
        Repeated {
            splits,
            failed: 0,
            train_rows: 70,
            test_rows,
            policies: vec![],
            leads: vec![],
            ahead: false,
            verdict: String::new(),
            depths,
        }
    }
}
