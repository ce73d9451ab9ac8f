//! A campaign test, planned and read per segment.
//!
//! The responses in the data say who answered the last campaign, not who
//! answered *because* of it; only a randomised test says that. Within each
//! segment of the chosen segmentation, customers are drawn at random into a
//! **treatment** arm (contacted) and a **control** arm (not contacted), and
//! the uplift is the difference of their response rates.
//!
//! **Planning.** Per segment: the response rate in the data (with its
//! Wilson interval), the break-even uplift (cost / revenue: contacting pays
//! only above it) and both arms' rates if the planned lift (absolute, or
//! relative to the control arm's rate) is real. Which arm the data's rate
//! stands for is the user's to say ([`RateInData`]): by default the treated
//! arm's, for a target that records who answered a campaign sent to every
//! customer (the marketing data's `Response`; the segment cards' profit per
//! contact reads it so too), the test asking how much of that response the
//! contact caused; or the control arm's, for responses that came without
//! contact. The lift, if real, calls for a decision:
//! roll out when it is above break-even, stop when it is below. The
//! customers per arm are those with which the reading, at its level
//! `alpha / m` (Bonferroni over the `m` segments planned), reaches that
//! decision with probability `power` (`power.rs`: the exact power of the
//! reading's rule, from the normal approximation of a test for superiority
//! by a margin). Sizing for an uplift different from 0 would promise a power
//! the decision does not have. A segment with fewer than `2 n` customers
//! puts all of them in the test; every segment states the uplifts for which
//! its test is decisive (roll out above one, stop below the other). The
//! test's cost is the treatment arm's contacts.
//!
//! **Reading.** Per segment: the response rates of both arms, the uplift with
//! Newcombe's hybrid score interval (Newcombe 1998, method 10), the
//! incremental profit per contact `uplift x revenue - cost` with the interval
//! carried over, and a decision: **roll out** when the whole profit interval
//! is above 0, **stop** when it is wholly below; otherwise **keep testing**
//! at an interim look, and **undecided** at the final one: the planned test
//! could not tell, and testing on would be more looks at a test whose error
//! rates were planned for one (a new plan is the way to test further). The
//! intervals behind the decisions are Bonferroni-adjusted for the number of
//! segments read (level `1 - alpha / m`).
//!
//! **Reading early.** The planned sizes are those of one look at the end of
//! the test. A segment read before every customer assigned to it has a
//! result is an interim look, and deciding on it at the planned level would
//! raise the error rates with every look. An interim segment is decided only
//! past the Haybittle-Peto boundary (Haybittle 1971; Peto et al. 1976):
//! its intervals at level `1 - 0.001 / m`, so an early roll-out or stop
//! needs overwhelming evidence, and the final look keeps the planned level
//! (the overall error rate barely moves for a few looks). Results that will
//! never be complete (customers lost) are read as final on request.

use crate::segments::wilson;
use serde::{Deserialize, Serialize};
use strata_core::stats::normal_quantile;
use strata_core::{Rng, Seed};

mod files;
mod power;
mod render;
#[cfg(test)]
mod tests;

pub use files::{by_mlp_quartiles, chosen, plan_files, read_files, Chosen, FOLDER};
pub use power::{Aim, EXACT_MAX, NEEDED_MAX, STAY, decision_power, decision_sample_size, decisive_uplifts};
pub use render::{render_plan, render_reading};

/// The lift the test is planned to detect: how much higher the treated
/// arm's response rate is than the control arm's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum Lift {
    /// In rate (0.05 = five percentage points).
    Absolute(f64),
    /// A share of the control arm's rate (0.2 = a fifth more responders
    /// with contact than without).
    Relative(f64),
}

/// Which arm of the test a segment's response rate in the data stands for
/// (also `plan-test --rate-in-data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RateInData {
    /// The last campaign contacted every customer, so the data's responses
    /// are contacted ones: the treated arm's rate. Without contact it is
    /// lower by the lift (the share of the responses the contact caused).
    Treated,
    /// The data's responses came without contact: the control arm's rate,
    /// which the contact would raise by the lift.
    Control,
}

impl RateInData {
    /// Plans written before the choice existed took the data's rate as the
    /// control arm's.
    fn before_the_choice() -> Self {
        RateInData::Control
    }

    /// `the treated arm's` or `the control arm's`.
    pub fn arm(&self) -> &'static str {
        match self {
            RateInData::Treated => "the treated arm's",
            RateInData::Control => "the control arm's",
        }
    }

    pub fn describe(&self) -> String {
        let why = match self {
            RateInData::Treated => "responses to a campaign sent to every customer; without contact the rate is lower by the lift",
            RateInData::Control => "responses without contact; contact raises the rate by the lift",
        };
        format!("{} ({why})", self.arm())
    }
}

impl Lift {
    /// The control and treated arms' rates if the lift is real, from the
    /// segment's rate in the data; an error unless `0 <= control <= treated
    /// <= 1` with a lift (equal rates only where a relative lift meets a
    /// rate of 0 taken as the treated arm's: nothing for the contact to have
    /// caused).
    pub fn arms(&self, rate: f64, of: RateInData) -> Result<(f64, f64), String> {
        let (control, treated) = match (of, *self) {
            (RateInData::Control, Lift::Absolute(d)) => (rate, rate + d),
            (RateInData::Control, Lift::Relative(r)) => (rate, rate * (1.0 + r)),
            (RateInData::Treated, Lift::Absolute(d)) => (rate - d, rate),
            (RateInData::Treated, Lift::Relative(r)) => (rate / (1.0 + r), rate),
        };
        let zero_of_zero = of == RateInData::Treated && matches!(self, Lift::Relative(_)) && rate == 0.0;
        if !(control >= 0.0 && (treated > control || zero_of_zero) && treated <= 1.0) {
            return Err(format!(
                "a lift of {} on a response rate of {rate:.4} in the data, taken as {}, gives a control rate of {control:.4} and a treated rate of {treated:.4}: expected 0 <= control < treated <= 1{}",
                self.describe(),
                of.arm(),
                if control < 0.0 {
                    "; taken as the treated arm's rate, the data's rate is the most the contact can have caused, so an absolute lift can be at most that (a relative lift fits every segment)"
                } else {
                    ""
                }
            ));
        }
        Ok((control, treated))
    }

    pub fn describe(&self) -> String {
        match *self {
            Lift::Absolute(d) => format!("+{} percentage points", render::percent(d)),
            Lift::Relative(r) => format!("+{} % of the control arm's rate", render::percent(r)),
        }
    }
}

/// Which rates a segment's test is sized at (also `plan-test --size-for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SizeFor {
    /// The segment's response rate in the data.
    #[default]
    Point,
    /// That rate and [`INTERVAL_RATES`] rates spanning its Wilson 95 %
    /// interval, ends included: the largest of those sizes, so that the
    /// planned power holds across the interval of the true rate (the rate
    /// is an estimate too).
    #[value(help = "That rate and 21 rates spanning its 95 % Wilson interval, ends included: the largest of those sizes")]
    Interval,
}

impl SizeFor {
    /// Where the planned power holds, for the planning rule.
    fn describe(&self) -> String {
        match self {
            SizeFor::Point => "at the segment's rate in the data".into(),
            SizeFor::Interval => format!(
                "at the segment's rate in the data and at {INTERVAL_RATES} rates spanning its 95 % Wilson interval, ends included, the largest of those sizes; a segment whose interval reaches a rate where the lift calls for the other decision, or does not fit, gets no size"
            ),
        }
    }
}

/// Significance, power and lift of a planned test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub alpha: f64,
    pub power: f64,
    pub lift: Lift,
    #[serde(default = "RateInData::before_the_choice")]
    pub rate_in_data: RateInData,
    /// Plans written before the choice were sized at the point.
    #[serde(default)]
    pub size_for: SizeFor,
}

impl Design {
    pub fn check(&self) -> Result<(), String> {
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(format!("--alpha {}: expected a level in (0, 0.5)", self.alpha));
        }
        if !(self.power > 0.5 && self.power < 1.0) {
            return Err(format!("--power {}: expected a power in (0.5, 1)", self.power));
        }
        let (flag, v) = match self.lift {
            Lift::Absolute(v) => ("--lift", v),
            Lift::Relative(v) => ("--relative-lift", v),
        };
        if !(v > 0.0 && v.is_finite()) {
            return Err(format!("{flag} {v}: expected a positive number"));
        }
        Ok(())
    }
}


/// The plan for one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPlan {
    pub segment: usize,
    pub customers: usize,
    pub responders: usize,
    /// The segment's response rate in the data, with its Wilson 95 % interval.
    pub baseline: f64,
    pub baseline_low: f64,
    pub baseline_high: f64,
    /// The treated arm's rate if the planned lift is real.
    pub target_rate: f64,
    /// The control arm's rate if the planned lift is real (`None` in plans
    /// written before the choice of [`RateInData`]: the data's rate).
    #[serde(default)]
    pub control_rate: Option<f64>,
    /// The decision the planned lift calls for, if real: roll out above
    /// the break-even uplift, stop below it; `None` at break-even.
    #[serde(default)]
    pub aim: Option<Aim>,
    /// Customers needed per arm for the reading to reach `aim` with the
    /// design's power; `None` when there is no decision to reach, or when
    /// the lift is so near break-even that it would take over
    /// [`NEEDED_MAX`].
    pub needed_per_arm: Option<usize>,
    /// Sized over the rate's interval ([`SizeFor::Interval`]): the rate
    /// whose size was the largest (the first such of the rate in the data,
    /// then the interval's rates from its low end), or why no size reaches
    /// the power across the interval (`needed_per_arm` is then `None`).
    #[serde(default)]
    pub sized_at: Option<f64>,
    #[serde(default)]
    pub no_size: Option<String>,
    /// Customers each arm gets (the needed number, or half the segment).
    pub per_arm: usize,
    /// The segment is large enough for the planned decision.
    pub feasible: bool,
    /// With `per_arm` customers per arm, the uplifts from which the reading
    /// rolls out with the design's power, and up to which it stops (`None`:
    /// no uplift does).
    #[serde(default)]
    pub roll_out_from: Option<f64>,
    #[serde(default)]
    pub stop_up_to: Option<f64>,
    /// The probability that the test, with `per_arm` customers per arm,
    /// reaches `aim` if the lift is real: at the data's rate, and the lowest
    /// and highest over its Wilson interval (the rate the plan starts from
    /// is an estimate too), at `power_rates` rates spanning it, ends
    /// included, where the lift fits (`None`: at its two ends, as plans
    /// written before the grid computed it).
    #[serde(default)]
    pub power: Option<f64>,
    #[serde(default)]
    pub power_over_interval: Option<(f64, f64)>,
    #[serde(default)]
    pub power_rates: Option<usize>,
    pub cost_per_contact: f64,
    pub revenue_per_response: f64,
    /// Uplift at which contacting breaks even: cost / revenue.
    pub break_even_uplift: f64,
    /// Contact cost of the treatment arm.
    pub test_cost: f64,
    /// Incremental profit of the treatment arm if the planned lift is real.
    pub profit_if_lift: f64,
}

/// A planned test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestPlan {
    pub experiment: String,
    /// The run whose segments stratify the test.
    pub run: String,
    pub segmentation: String,
    pub design: Design,
    pub seed: Seed,
    pub segments: Vec<SegmentPlan>,
    pub rule: String,
}

/// Arm of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    Treatment,
    Control,
    NotInTest,
}

impl Arm {
    pub fn as_str(&self) -> &'static str {
        match self {
            Arm::Treatment => "treatment",
            Arm::Control => "control",
            Arm::NotInTest => "not_in_test",
        }
    }
    pub fn parse(s: &str) -> Option<Arm> {
        match s.trim() {
            "treatment" => Some(Arm::Treatment),
            "control" => Some(Arm::Control),
            "not_in_test" => Some(Arm::NotInTest),
            _ => None,
        }
    }
}

/// What the decisions read: the segment per row, the last campaign's
/// responses and the economics per row.
pub struct Segmented<'a> {
    pub labels: &'a [usize],
    pub y: &'a [u8],
    pub cost: &'a [f64],
    pub revenue: &'a [f64],
}

fn mean_of(v: &[f64], rows: &[usize]) -> f64 {
    rows.iter().map(|&i| v[i]).sum::<f64>() / rows.len().max(1) as f64
}

/// Plans the test, segment by segment (module docs).
pub fn plan(data: &Segmented<'_>, design: Design) -> Result<Vec<SegmentPlan>, String> {
    design.check()?;
    let n = data.labels.len();
    if data.y.len() != n || data.cost.len() != n || data.revenue.len() != n {
        return Err(format!(
            "{n} segment labels, {} responses, {} costs, {} revenues: expected one of each per customer",
            data.y.len(),
            data.cost.len(),
            data.revenue.len()
        ));
    }
    let k = data.labels.iter().copied().max().map_or(0, |m| m + 1);
    let segments: Vec<(usize, Vec<usize>)> = (0..k)
        .map(|s| (s, (0..n).filter(|&i| data.labels[i] == s).collect::<Vec<usize>>()))
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    // The reading judges every segment at alpha / m: plan for that level,
    // or the power promised would not be the reading's.
    let alpha = design.alpha / segments.len().max(1) as f64;
    let mut out = Vec::new();
    for (s, rows) in segments {
        let responders = rows.iter().filter(|&&i| data.y[i] == 1).count();
        let p0 = responders as f64 / rows.len() as f64;
        let (lo, hi) = wilson(responders, rows.len(), strata_core::stats::Z95);
        let (pc, pt) = design.lift.arms(p0, design.rate_in_data).map_err(|e| format!("segment {s}: {e}"))?;
        let (cost, revenue) = (mean_of(data.cost, &rows), mean_of(data.revenue, &rows));
        // Without revenue contacting never pays (and an infinite break-even
        // would not survive plan.json: JSON has no infinity).
        if !(revenue > 0.0 && cost.is_finite() && revenue.is_finite()) {
            return Err(format!(
                "segment {s}: mean cost per contact {cost}, mean revenue per response {revenue}: contacting pays only if a response brings a positive revenue, so there is no decision to test"
            ));
        }
        let break_even = cost / revenue;
        let aim = Aim::of(pt - pc, break_even);
        let (needed, sized_at, no_size) = match (design.size_for, aim) {
            (SizeFor::Interval, Some(aim)) => match size_over_interval(&design, aim, (p0, lo, hi), break_even, alpha) {
                Ok((n, at)) => (Some(n), Some(at), None),
                Err(why) => (None, None, Some(why)),
            },
            _ => (decision_sample_size(pc, pt, break_even, alpha, design.power), None, None),
        };
        let per_arm = needed.map_or(rows.len() / 2, |n| n.min(rows.len() / 2));
        let (roll_out_from, stop_up_to) = decisive_uplifts(per_arm, pc, break_even, alpha, design.power);
        // The power of the planned decision if the data's rate were `rate`.
        let power_at = |rate: f64| {
            let (c, t) = design.lift.arms(rate, design.rate_in_data).ok()?;
            Some(decision_power(per_arm, c, t, break_even, alpha, aim?))
        };
        let over: Vec<f64> = interval_rates(lo, hi).into_iter().filter_map(power_at).collect();
        let power_over_interval = (!over.is_empty()).then(|| (over.iter().copied().fold(1.0, f64::min), over.iter().copied().fold(0.0, f64::max)));
        let power_rates = (!over.is_empty()).then_some(over.len());
        out.push(SegmentPlan {
            segment: s,
            customers: rows.len(),
            responders,
            baseline: p0,
            baseline_low: lo,
            baseline_high: hi,
            target_rate: pt,
            control_rate: Some(pc),
            aim,
            needed_per_arm: needed,
            sized_at,
            no_size,
            per_arm,
            feasible: needed == Some(per_arm),
            roll_out_from,
            stop_up_to,
            power: aim.map(|a| decision_power(per_arm, pc, pt, break_even, alpha, a)),
            power_over_interval,
            power_rates,
            cost_per_contact: cost,
            revenue_per_response: revenue,
            break_even_uplift: break_even,
            test_cost: per_arm as f64 * cost,
            profit_if_lift: per_arm as f64 * ((pt - pc) * revenue - cost),
        });
    }
    Ok(out)
}

/// Rates across a segment's Wilson interval, ends included, at which
/// [`SizeFor::Interval`] sizes its test (the power need not be lowest at
/// an end: the variance of the uplift peaks inside some intervals).
pub const INTERVAL_RATES: usize = 21;

/// [`INTERVAL_RATES`] rates evenly spaced from `lo` to `hi`, both included.
fn interval_rates(lo: f64, hi: f64) -> Vec<f64> {
    let last = INTERVAL_RATES - 1;
    (0..=last).map(|i| if i == last { hi } else { lo + (hi - lo) * i as f64 / last as f64 }).collect()
}

/// Customers per arm with which the reading reaches `aim` with the
/// design's power at the segment's rate in the data (`rate`) and at
/// [`INTERVAL_RATES`] rates spanning its interval `lo..=hi`, and the rate
/// that needed the most; or why no size does: at some rate the lift does
/// not fit, calls for the other decision, or lies so near break-even that
/// the size passes [`NEEDED_MAX`]. The exact power wobbles with the size,
/// so the largest of the sizes is raised until it reaches the power at
/// every rate, there and at each of the next [`power::STAY`] sizes.
fn size_over_interval(design: &Design, aim: Aim, (rate, lo, hi): (f64, f64, f64), break_even: f64, alpha: f64) -> Result<(usize, f64), String> {
    let rates: Vec<f64> = std::iter::once(rate).chain(interval_rates(lo, hi)).collect();
    let which = |i: usize| match i {
        0 => "the rate in the data",
        1 => "the low end of its 95 % interval",
        _ if i == rates.len() - 1 => "the high end of its 95 % interval",
        _ => "inside its 95 % interval",
    };
    let mut arms = Vec::new();
    let mut sizes = Vec::new();
    for (i, &rate) in rates.iter().enumerate() {
        let at = format!("at {:.1} %, {},", 100.0 * rate, which(i));
        let (c, t) = design
            .lift
            .arms(rate, design.rate_in_data)
            .map_err(|_| format!("{at} the lift does not fit: the arms' rates would leave 0..1"))?;
        match Aim::of(t - c, break_even) {
            Some(a) if a == aim => {}
            other => {
                return Err(format!(
                    "{at} the lift is an uplift of {:.1} points, which calls for {} where the rate in the data calls for {}",
                    100.0 * (t - c),
                    other.map_or("no decision", |a| a.as_str()),
                    aim.as_str()
                ));
            }
        }
        let n = decision_sample_size(c, t, break_even, alpha, design.power).ok_or_else(|| {
            format!("{at} the lift is within {:.2} points of break-even: over {NEEDED_MAX:e} per arm", 100.0 * (t - c - break_even).abs())
        })?;
        arms.push((c, t));
        sizes.push((n, rate));
    }
    // The first of the largest: the rate in the data when it needs as many.
    let (n, at) = sizes.iter().copied().fold((0, rate), |a, b| if b.0 > a.0 { b } else { a });
    let reaches = |n: usize| arms.iter().all(|&(c, t)| decision_power(n, c, t, break_even, alpha, aim) >= design.power);
    let n = power::steadily(n, NEEDED_MAX, reaches)
        .ok_or_else(|| format!("no size up to {NEEDED_MAX:e} per arm reaches the power at every rate"))?;
    Ok((n, at))
}

/// Draws the arms: within each segment, a seeded shuffle puts the first
/// `per_arm` customers in treatment, the next `per_arm` in control and the
/// rest out of the test. One arm per row.
pub fn assign(labels: &[usize], plans: &[SegmentPlan], seed: Seed) -> Vec<Arm> {
    let mut arms = vec![Arm::NotInTest; labels.len()];
    for p in plans {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == p.segment).collect();
        let mut rng = Rng::new(seed.named("campaign-test").child(p.segment as u64));
        // Fisher-Yates.
        for i in (1..rows.len()).rev() {
            let j = rng.below(i + 1);
            rows.swap(i, j);
        }
        for (pos, &i) in rows.iter().enumerate() {
            arms[i] = if pos < p.per_arm {
                Arm::Treatment
            } else if pos < 2 * p.per_arm {
                Arm::Control
            } else {
                Arm::NotInTest
            };
        }
    }
    arms
}

/// What to do with a segment after the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    RollOut,
    Stop,
    /// Neither, at an interim look: more results are coming.
    KeepTesting,
    /// Neither, at the final look: the planned test could not tell.
    Undecided,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::RollOut => "roll out",
            Decision::Stop => "stop",
            Decision::KeepTesting => "keep testing",
            Decision::Undecided => "undecided",
        }
    }
}

/// The reading of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReading {
    pub segment: usize,
    pub treated: usize,
    pub treated_responders: usize,
    pub control: usize,
    pub control_responders: usize,
    /// The rates, the uplift and the profit are estimated only once both
    /// arms have results (`None`, `null` in JSON, until then).
    pub treated_rate: Option<f64>,
    pub control_rate: Option<f64>,
    /// Treated minus control rate, with its interval.
    pub uplift: Option<f64>,
    pub uplift_low: Option<f64>,
    pub uplift_high: Option<f64>,
    /// `uplift x revenue - cost` per contact, with the interval carried over.
    pub profit_per_contact: Option<f64>,
    pub profit_low: Option<f64>,
    pub profit_high: Option<f64>,
    pub decision: Decision,
    /// Customers of the segment drawn into the test (both arms).
    #[serde(default)]
    pub assigned: usize,
    /// The level of an interim look's intervals (some assigned customers
    /// still without a result, the results not read as final): the
    /// Haybittle-Peto boundary; `None` on the final look.
    #[serde(default)]
    pub interim_level: Option<f64>,
}

/// A read test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReading {
    pub experiment: String,
    /// Confidence level of the intervals (Bonferroni over the segments).
    pub level: f64,
    pub segments: Vec<SegmentReading>,
    /// Customers assigned to an arm whose result is missing from the file.
    pub missing_results: usize,
    /// Read as final: customers without a result will never have one.
    #[serde(default)]
    pub final_results: bool,
    pub rule: String,
}

/// The two-sided level an interim look spends before Bonferroni: the
/// Haybittle-Peto boundary.
pub const INTERIM_ALPHA: f64 = 0.001;

/// The rule of [`read`], for reports.
pub fn reading_rule(alpha: f64, m: usize) -> String {
    format!(
        "per segment, uplift = treated minus control response rate with Newcombe's hybrid score interval, incremental profit per contact = uplift x revenue - cost; roll out when the whole profit interval is above 0, stop when it is wholly below 0, otherwise keep testing at an interim look and undecided at the final one (testing on would need a new plan); intervals at level 1 - {alpha}/{m} (Bonferroni over the {m} segments read); a segment whose assigned customers do not all have a result yet is an interim look, its intervals at level 1 - {INTERIM_ALPHA}/{m} (the Haybittle-Peto boundary, so that reading early barely moves the error rates), unless the results are read as final"
    )
}

/// Newcombe's hybrid score interval for `p1 - p2` (method 10), from Wilson
/// intervals at normal quantile `z`: the difference, then the bounds.
/// Checked against Newcombe's published example and statsmodels'
/// `confint_proportions_2indep(method="newcomb")`.
pub fn newcombe(k1: usize, n1: usize, k2: usize, n2: usize, z: f64) -> (f64, f64, f64) {
    let (p1, p2) = (k1 as f64 / n1.max(1) as f64, k2 as f64 / n2.max(1) as f64);
    let (l1, u1) = wilson(k1, n1, z);
    let (l2, u2) = wilson(k2, n2, z);
    let d = p1 - p2;
    (
        d,
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    )
}

/// One observed customer: segment, arm, whether they responded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub segment: usize,
    pub arm: Arm,
    pub responded: bool,
}

/// Reads the test: uplift, profit and decision per planned segment.
/// `assigned[i]`: the customers of `plans[i]`'s segment drawn into the test;
/// with `final_results`, every segment is read at the planned level even
/// when some of them have no result (lost, not late).
pub fn read(
    experiment: &str,
    plans: &[SegmentPlan],
    observed: &[Observation],
    assigned: &[usize],
    final_results: bool,
    alpha: f64,
) -> TestReading {
    let m = plans.len().max(1);
    let level = 1.0 - alpha / m as f64;
    let interim = 1.0 - INTERIM_ALPHA / m as f64;
    let z_of = |level: f64| normal_quantile(1.0 - (1.0 - level) / 2.0);
    let segments = plans
        .iter()
        .zip(assigned)
        .map(|(p, &assigned)| {
            let count = |arm: Arm| {
                let of: Vec<&Observation> = observed
                    .iter()
                    .filter(|o| o.segment == p.segment && o.arm == arm)
                    .collect();
                (of.len(), of.iter().filter(|o| o.responded).count())
            };
            let ((nt, kt), (nc, kc)) = (count(Arm::Treatment), count(Arm::Control));
            let interim_level = (!final_results && nt + nc < assigned).then_some(interim);
            let (d, lo, hi) = newcombe(kt, nt, kc, nc, z_of(interim_level.unwrap_or(level)));
            let profit = |u: f64| u * p.revenue_per_response - p.cost_per_contact;
            let (pl, ph) = (profit(lo), profit(hi));
            // An arm without results estimates nothing (its rate is 0/0).
            let both = nt > 0 && nc > 0;
            let est = |v: f64| both.then_some(v);
            SegmentReading {
                segment: p.segment,
                treated: nt,
                treated_responders: kt,
                control: nc,
                control_responders: kc,
                treated_rate: (nt > 0).then(|| kt as f64 / nt as f64),
                control_rate: (nc > 0).then(|| kc as f64 / nc as f64),
                uplift: est(d),
                uplift_low: est(lo),
                uplift_high: est(hi),
                profit_per_contact: est(profit(d)),
                profit_low: est(pl),
                profit_high: est(ph),
                decision: if both && pl > 0.0 {
                    Decision::RollOut
                } else if both && ph < 0.0 {
                    Decision::Stop
                } else if interim_level.is_some() {
                    Decision::KeepTesting
                } else {
                    Decision::Undecided
                },
                assigned,
                interim_level,
            }
        })
        .collect();
    TestReading {
        experiment: experiment.to_string(),
        level,
        segments,
        missing_results: assigned.iter().sum::<usize>().saturating_sub(observed.len()),
        final_results,
        rule: reading_rule(alpha, m),
    }
}

/// The planning rule for `m` segments, for reports.
pub fn planning_rule(d: &Design, m: usize) -> String {
    format!(
        "per segment, treatment (contacted) against control (not contacted), customers drawn at random within the segment; the segment's response rate in the data is taken as {3}; a lift of {2}, if real, calls for rolling out where it is above the segment's break-even uplift (cost / revenue) and for stopping where it is below; customers per arm so that the reading (Newcombe intervals at level 1 - {0}/{m}, Bonferroni over the {m} segments) reaches that decision with probability {1} (its exact binomial power up to {EXACT_MAX} per arm, reaching it at that size and at each of the next {STAY}, since it wobbles with the size; the normal approximation above) {4}; a segment with fewer customers puts them all in the test; each states the uplifts for which its test is decisive with that power",
        d.alpha,
        d.power,
        d.lift.describe(),
        d.rate_in_data.describe(),
        d.size_for.describe()
    )
}
