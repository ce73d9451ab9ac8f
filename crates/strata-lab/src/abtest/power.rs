//! How many customers a segment's test needs: enough that, if the planned
//! lift is real, the reading reaches the decision that lift calls for.
//!
//! The reading ([`super::read`]) rolls out when the lower bound of the
//! uplift's Newcombe interval (level `1 - alpha`, alpha already divided by
//! the segments read) is above the break-even uplift `b = cost / revenue`,
//! and stops when the upper bound is below it. A test sized only to tell the
//! uplift from 0 promises a power the decision does not have: on the
//! marketing data (`b` = 27.3 points) an uplift of +40 points is told from 0
//! by a few dozen customers per arm, from break-even only by a few hundred.
//!
//! **The power of a decision**, with `n` customers per arm and true rates
//! `p0` (control) and `p1` (treatment), is computed exactly for up to
//! [`EXACT_MAX`] customers per arm: the sum over the control arm's
//! responders `kc` of `P(kc)` times the probability that the treated
//! responders put the interval's bound past `b` (the bound grows with the
//! treated responders, so the treated counts that decide are found by
//! bisection). Above that, and as the starting point of the search, the
//! normal approximation of a test for superiority by a margin (Chow, Shao
//! and Wang, *Sample Size Calculations in Clinical Research*, the
//! two-sample comparison of proportions):
//!
//! `n = (z(1 - a/2) + z(power))^2 (p0 q0 + p1 q1) / (p1 - p0 - b)^2`
//!
//! which falls short of the planned power when `n` is small (a 15 %
//! baseline, +50 points, alpha 0.05 over 4 segments: 77 per arm, which roll
//! out about 71 % of the time instead of 80 %), hence the exact sum. The power
//! wobbles with `n` (the counts are whole): on the marketing data's segment
//! at 23 %, +45 points at 0.05 over 2 segments, 135 per arm reach 80.5 % and
//! 136 only 79.6 %, so a test a customer larger than planned would have less
//! power than promised. The customers per arm are therefore the first size
//! at which the exact power reaches the target there and at each of the next
//! [`STAY`] sizes: found by bisection, then raised past any size of that
//! window that falls short (138 in the example). A size a few customers
//! smaller may reach the target too, but not steadily.

use super::newcombe;
use serde::{Deserialize, Serialize};
use strata_core::stats::{normal_cdf, normal_quantile};

/// Customers per arm up to which the power is summed exactly; above, the
/// normal approximation (they agree to within a point of power there).
pub const EXACT_MAX: usize = 5000;

/// Sizes past the planned one at which the exact power must reach the
/// target too (module docs): the wobble of the power with `n` lasts a few
/// customers, and 20 more cover it many times over at the sizes tests take.
pub const STAY: usize = 20;

/// The first size from `n` on at which `reaches` holds there and at each of
/// the next [`STAY`] sizes; `None` past `limit`.
pub(super) fn steadily(mut n: usize, limit: f64, reaches: impl Fn(usize) -> bool) -> Option<usize> {
    while n as f64 <= limit {
        match (n..=n + STAY).find(|&m| !reaches(m)) {
            Some(short) => n = short + 1,
            None => return Some(n),
        }
    }
    None
}

/// More customers per arm than any test holds: a lift this near break-even
/// gets no size (`None`), not a number of 10 or 20 digits.
pub const NEEDED_MAX: f64 = 1e9;

/// The decision a real uplift calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aim {
    /// The uplift is above break-even: contacting pays.
    RollOut,
    /// The uplift is below break-even: contacting loses money.
    Stop,
}

impl Aim {
    /// The decision for `uplift` against the break-even uplift; `None` when
    /// they are equal (contacting neither pays nor loses: nothing to decide).
    pub fn of(uplift: f64, break_even: f64) -> Option<Aim> {
        if uplift > break_even {
            Some(Aim::RollOut)
        } else if uplift < break_even {
            Some(Aim::Stop)
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Aim::RollOut => "roll out",
            Aim::Stop => "stop",
        }
    }
}

/// The normal quantile of the reading's two-sided intervals at `1 - alpha`.
fn z_of(alpha: f64) -> f64 {
    normal_quantile(1.0 - alpha / 2.0)
}

/// Binomial(n, p) probabilities of 0..=n responders, from logarithms (no
/// underflow of `q^n` for large `n`).
fn binomial_pmf(n: usize, p: f64) -> Vec<f64> {
    let mut pmf = vec![0.0; n + 1];
    if p <= 0.0 {
        pmf[0] = 1.0;
        return pmf;
    }
    if p >= 1.0 {
        pmf[n] = 1.0;
        return pmf;
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let mut ln_choose = 0.0;
    for (k, v) in pmf.iter_mut().enumerate() {
        if k > 0 {
            ln_choose += ((n - k + 1) as f64 / k as f64).ln();
        }
        *v = (ln_choose + k as f64 * lp + (n - k) as f64 * lq).exp();
    }
    pmf
}

/// The first `k` in `0..=n` where `pred` turns true (`pred` false then
/// true), `n + 1` when it never does.
fn first_true(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The normal approximation of [`decision_power`] (module docs).
fn approximate_power(n: usize, p0: f64, p1: f64, break_even: f64, alpha: f64, aim: Aim) -> f64 {
    let margin = match aim {
        Aim::RollOut => p1 - p0 - break_even,
        Aim::Stop => break_even - (p1 - p0),
    };
    let sd = (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt();
    if sd == 0.0 {
        return if margin > 0.0 { 1.0 } else { 0.0 };
    }
    normal_cdf(margin * (n as f64).sqrt() / sd - z_of(alpha))
}

/// The probability that a test with `n` customers per arm, read once all
/// results are in, reaches `aim` when the true response rates are `p0`
/// without contact and `p1` with it (module docs).
pub fn decision_power(n: usize, p0: f64, p1: f64, break_even: f64, alpha: f64, aim: Aim) -> f64 {
    if n == 0 {
        return 0.0;
    }
    if n > EXACT_MAX {
        return approximate_power(n, p0, p1, break_even, alpha, aim);
    }
    let z = z_of(alpha);
    let (treated, control) = (binomial_pmf(n, p1), binomial_pmf(n, p0));
    // at_least[k] = P(treated responders >= k), below[k] = P(... < k).
    let mut at_least = vec![0.0; n + 2];
    for k in (0..=n).rev() {
        at_least[k] = at_least[k + 1] + treated[k];
    }
    let below = |k: usize| 1.0 - at_least[k];
    control
        .iter()
        .enumerate()
        .map(|(kc, &w)| {
            if w == 0.0 {
                return 0.0;
            }
            match aim {
                Aim::RollOut => w * at_least[first_true(n, |kt| newcombe(kt, n, kc, n, z).1 > break_even)],
                Aim::Stop => w * below(first_true(n, |kt| newcombe(kt, n, kc, n, z).2 >= break_even)),
            }
        })
        .sum::<f64>()
        .clamp(0.0, 1.0)
}

/// Customers per arm for the test to reach the decision the planned rate
/// `p1` calls for with probability `power`, there and at each of the next
/// [`STAY`] sizes (module docs); `None` when the planned uplift is the
/// break-even one, or so near it that the size passes [`NEEDED_MAX`].
pub fn decision_sample_size(p0: f64, p1: f64, break_even: f64, alpha: f64, power: f64) -> Option<usize> {
    let aim = Aim::of(p1 - p0, break_even)?;
    let sd2 = p0 * (1.0 - p0) + p1 * (1.0 - p1);
    let approx = ((z_of(alpha) + normal_quantile(power)).powi(2) * sd2 / (p1 - p0 - break_even).powi(2)).ceil();
    if approx.is_nan() || approx > EXACT_MAX as f64 {
        return (approx <= NEEDED_MAX).then_some(approx as usize);
    }
    let reaches = |n: usize| decision_power(n, p0, p1, break_even, alpha, aim) >= power;
    // An upper end that reaches the power (past EXACT_MAX the approximate
    // power does, being increasing in n), then bisection below it.
    let mut hi = (approx as usize).max(1);
    while !reaches(hi) {
        hi *= 2;
    }
    let mut lo = 0;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    steadily(hi, NEEDED_MAX, reaches)
}

/// The uplifts for which `n` customers per arm reach a decision with
/// probability `power`: roll out from the first (above break-even), stop up
/// to the second (below it); `None` where no uplift does.
pub fn decisive_uplifts(n: usize, p0: f64, break_even: f64, alpha: f64, power: f64) -> (Option<f64>, Option<f64>) {
    let at = |u: f64, aim: Aim| decision_power(n, p0, (p0 + u).clamp(0.0, 1.0), break_even, alpha, aim);
    // Bisection between an uplift that reaches the power and one that does
    // not (the power of either decision is monotone in the uplift).
    let edge = |mut reaching: f64, mut not: f64, aim: Aim| {
        if at(reaching, aim) < power {
            return None;
        }
        for _ in 0..40 {
            let mid = 0.5 * (reaching + not);
            if at(mid, aim) >= power {
                reaching = mid;
            } else {
                not = mid;
            }
        }
        Some(reaching)
    };
    let top = 1.0 - p0;
    let roll_out = if break_even < top { edge(top, break_even.max(-p0), Aim::RollOut) } else { None };
    let stop = if break_even > -p0 { edge(-p0, break_even.min(top), Aim::Stop) } else { None };
    (roll_out, stop)
}
