//! A campaign test, planned and read per segment.
//!
//! The responses in the data say who answered the last campaign, not who
//! answered *because* of it; only a randomised test says that. Within each
//! segment of the chosen segmentation, customers are drawn at random into a
//! **treatment** arm (contacted) and a **control** arm (not contacted), and
//! the uplift is the difference of their response rates.
//!
//! **Planning.** Per segment: the baseline response rate (the segment's rate
//! in the data, with its Wilson interval) and the rate to detect (baseline
//! plus an absolute or relative lift). The customers needed per arm come from
//! the two-proportion formula for a two-sided z-test at level `alpha / m`
//! (Bonferroni over the `m` segments planned, the level the reading uses)
//! with power `power` (Fleiss, Levin and Paik, *Statistical Methods for Rates and
//! Proportions*, 3rd ed., eq. 4.14, without continuity correction):
//!
//! `n = (z(1-a/2) sqrt(2 pbar qbar) + z(power) sqrt(p0 q0 + p1 q1))^2 / (p1 - p0)^2`
//!
//! A segment with fewer than `2 n` customers puts all of them in the test and
//! states the smallest lift it can detect. The test's cost is the treatment
//! arm's contacts; contacting pays only when the uplift exceeds
//! cost / revenue (the break-even uplift).
//!
//! **Reading.** Per segment: the response rates of both arms, the uplift with
//! Newcombe's hybrid score interval (Newcombe 1998, method 10), the
//! incremental profit per contact `uplift x revenue - cost` with the interval
//! carried over, and a decision: **roll out** when the whole profit interval
//! is above 0, **stop** when it is wholly below, **keep testing** otherwise.
//! The intervals behind the decisions are Bonferroni-adjusted for the number
//! of segments read (level `1 - alpha / m`).
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

/// The lift the test is planned to detect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum Lift {
    /// Added to the baseline rate (0.05 = five percentage points).
    Absolute(f64),
    /// A share of the baseline rate (0.2 = a fifth more responders).
    Relative(f64),
}

impl Lift {
    /// The rate to detect, from a baseline rate; an error when it is not a
    /// rate above the baseline.
    pub fn target(&self, p0: f64) -> Result<f64, String> {
        let p1 = match *self {
            Lift::Absolute(d) => p0 + d,
            Lift::Relative(r) => p0 * (1.0 + r),
        };
        if !(p1 > p0 && p1 < 1.0) || !p1.is_finite() {
            return Err(format!(
                "a lift of {} on a baseline of {:.4} gives {p1:.4}: expected a rate above the baseline and below 1",
                self.describe(),
                p0
            ));
        }
        Ok(p1)
    }

    pub fn describe(&self) -> String {
        match *self {
            Lift::Absolute(d) => format!("+{:.1} percentage points", 100.0 * d),
            Lift::Relative(r) => format!("+{:.0} % of the baseline", 100.0 * r),
        }
    }
}

/// Significance, power and lift of a planned test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub alpha: f64,
    pub power: f64,
    pub lift: Lift,
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

/// Customers per arm for a two-sided two-proportion z-test (module docs).
pub fn sample_size(p0: f64, p1: f64, alpha: f64, power: f64) -> usize {
    let (za, zb) = (normal_quantile(1.0 - alpha / 2.0), normal_quantile(power));
    let pbar = (p0 + p1) / 2.0;
    let num = za * (2.0 * pbar * (1.0 - pbar)).sqrt() + zb * (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt();
    (num * num / ((p1 - p0) * (p1 - p0))).ceil() as usize
}

/// Power of that test with `n` customers per arm (the same normal approximation).
pub fn power_of(n: usize, p0: f64, p1: f64, alpha: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    let za = normal_quantile(1.0 - alpha / 2.0);
    let pbar = (p0 + p1) / 2.0;
    let null_sd = (2.0 * pbar * (1.0 - pbar) / n).sqrt();
    let alt_sd = ((p0 * (1.0 - p0) + p1 * (1.0 - p1)) / n).sqrt();
    strata_core::stats::normal_cdf(((p1 - p0).abs() - za * null_sd) / alt_sd)
}

/// The smallest absolute lift that `n` customers per arm detect with the
/// design's power, or `None` when even a rate of 1 is out of reach.
pub fn detectable_lift(n: usize, p0: f64, alpha: f64, power: f64) -> Option<f64> {
    let hi = 1.0 - 1e-9;
    if power_of(n, p0, hi, alpha) < power {
        return None;
    }
    let (mut a, mut b) = (p0, hi);
    for _ in 0..100 {
        let m = 0.5 * (a + b);
        if power_of(n, p0, m, alpha) >= power {
            b = m;
        } else {
            a = m;
        }
    }
    Some(b - p0)
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
    /// The rate the test is planned to detect in the treatment arm.
    pub target_rate: f64,
    /// Customers needed per arm.
    pub needed_per_arm: usize,
    /// Customers each arm gets (the needed number, or half the segment).
    pub per_arm: usize,
    /// The segment is large enough for the planned lift.
    pub feasible: bool,
    /// Smallest absolute lift detectable with `per_arm` customers per arm.
    pub detectable_lift: Option<f64>,
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
        let p1 = design.lift.target(p0).map_err(|e| format!("segment {s}: {e}"))?;
        let needed = sample_size(p0, p1, alpha, design.power);
        let per_arm = needed.min(rows.len() / 2);
        let (cost, revenue) = (mean_of(data.cost, &rows), mean_of(data.revenue, &rows));
        out.push(SegmentPlan {
            segment: s,
            customers: rows.len(),
            responders,
            baseline: p0,
            baseline_low: lo,
            baseline_high: hi,
            target_rate: p1,
            needed_per_arm: needed,
            per_arm,
            feasible: per_arm == needed,
            detectable_lift: detectable_lift(per_arm, p0, alpha, design.power),
            cost_per_contact: cost,
            revenue_per_response: revenue,
            break_even_uplift: if revenue > 0.0 { cost / revenue } else { f64::INFINITY },
            test_cost: per_arm as f64 * cost,
            profit_if_lift: per_arm as f64 * ((p1 - p0) * revenue - cost),
        });
    }
    Ok(out)
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
    KeepTesting,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::RollOut => "roll out",
            Decision::Stop => "stop",
            Decision::KeepTesting => "keep testing",
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
        "per segment, uplift = treated minus control response rate with Newcombe's hybrid score interval, incremental profit per contact = uplift x revenue - cost; roll out when the whole profit interval is above 0, stop when it is wholly below 0, keep testing otherwise; intervals at level 1 - {alpha}/{m} (Bonferroni over the {m} segments read); a segment whose assigned customers do not all have a result yet is an interim look, its intervals at level 1 - {INTERIM_ALPHA}/{m} (the Haybittle-Peto boundary, so that reading early barely moves the error rates), unless the results are read as final"
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
                decision: if !both {
                    Decision::KeepTesting
                } else if pl > 0.0 {
                    Decision::RollOut
                } else if ph < 0.0 {
                    Decision::Stop
                } else {
                    Decision::KeepTesting
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
        "per segment, treatment (contacted) against control (not contacted), customers drawn at random within the segment; customers per arm from the two-proportion formula for a two-sided z-test at level {}/{m} (Bonferroni over the {m} segments, the level the reading uses) with power {} to detect {} (Fleiss, Levin and Paik, eq. 4.14, no continuity correction); a segment with fewer customers puts them all in the test and states the smallest lift it can detect",
        d.alpha,
        d.power,
        d.lift.describe()
    )
}

/// Folder of an experiment's campaign test, inside its results folder.
pub const FOLDER: &str = "campaign_test";

/// The chosen segmentation of an experiment's results, with the data it was
/// fitted on: ids, segment per row, responses and economics.
pub struct Chosen {
    pub experiment: String,
    pub run: String,
    pub segmentation: String,
    pub ids: Vec<String>,
    pub id_column: String,
    pub labels: Vec<usize>,
    pub y: Vec<u8>,
    pub cost: Vec<f64>,
    pub revenue: Vec<f64>,
    pub seed: Seed,
    pub dir: std::path::PathBuf,
}

/// Loads a manifest's data and its chosen segmentation from `out`.
pub fn chosen(manifest: &std::path::Path, out: &std::path::Path, dirs: &strata_data::DataDirs) -> anyhow::Result<Chosen> {
    let m = crate::manifest::Manifest::from_path(manifest)?;
    let res = crate::compare::resolve(manifest, out)?;
    let seg = res.segments.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: no chosen segmentation (segments.json) in {}; run the sweep first",
            manifest.display(),
            res.dir.display()
        )
    })?;
    let run = res
        .runs
        .iter()
        .find(|r| r.hash == seg.run)
        .ok_or_else(|| anyhow::anyhow!("{}: the chosen run {} is not stored; run the sweep again", res.dir.display(), seg.run))?;
    let labels = run
        .clustering
        .as_ref()
        .map(|c| c.labels.clone())
        .ok_or_else(|| anyhow::anyhow!("{}: the chosen run {} has no labels", res.dir.display(), seg.run))?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    let ds = &loaded.dataset;
    if labels.len() != ds.n_samples() || run.dataset.sha256 != loaded.report.sha256 {
        anyhow::bail!(
            "{}: the stored segmentation was computed on other data ({} rows, SHA-256 {}) than {} ({} rows, SHA-256 {}); run the sweep again",
            res.dir.display(),
            labels.len(),
            run.dataset.sha256,
            descriptor.source.file,
            ds.n_samples(),
            loaded.report.sha256
        );
    }
    let target = ds.target().ok_or_else(|| {
        anyhow::anyhow!("{}: a campaign test needs a response column, and descriptor `{}` declares none (columns.target)", manifest.display(), descriptor.name)
    })?;
    let econ = ds.economics().ok_or_else(|| {
        anyhow::anyhow!("{}: a campaign test needs the cost of a contact and the revenue of a response, and descriptor `{}` declares no [economics]", manifest.display(), descriptor.name)
    })?;
    Ok(Chosen {
        experiment: m.name.clone(),
        run: seg.run.clone(),
        segmentation: format!("{} on {}", seg.clusterer, seg.representation),
        ids: ds.ids().to_vec(),
        id_column: descriptor.columns.id.clone().unwrap_or_else(|| "id".into()),
        labels,
        y: target.values.to_vec(),
        cost: econ.cost_per_contact.to_vec(),
        revenue: econ.revenue_per_response.to_vec(),
        seed: m.seed,
        dir: res.dir.clone(),
    })
}

/// Replaces the chosen segmentation by quartiles of an MLP's predicted
/// response (0 = the highest-scored quarter), so that the test reads the
/// uplift along the MLP's ranked list: the one `strata contact-list` ranks
/// by (`contact::fit_on_labelled`), fitted on every customer. This
/// plans a future test, it does not evaluate the model.
pub fn by_mlp_quartiles(c: &mut Chosen, manifest: &std::path::Path, dirs: &strata_data::DataDirs) -> anyhow::Result<()> {
    let m = crate::manifest::Manifest::from_path(manifest)?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    let x = loaded.dataset.features();
    let unit = |i: usize| f64::from(c.y[i]) * c.revenue[i] - c.cost[i];
    let fitted = crate::contact::fit_on_labelled(&m, x.view(), &c.y, &unit)?;
    let score = fitted.model.predict_proba(x.view())?;
    let mut order: Vec<usize> = (0..c.y.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let n = order.len();
    for (rank, &i) in order.iter().enumerate() {
        c.labels[i] = rank * 4 / n.max(1);
    }
    c.segmentation = "quartiles of the MLP's predicted response (0 = the highest-scored quarter; the ranked list of `strata contact-list`, fitted on every customer, so the quarters' past response rates are in-sample: they spread wider than the model would sort new customers, the top quarter's erring high and the lower ones' low, and customers per arm computed from a rate below one half that errs low fall short)".into();
    c.run = "mlp".into();
    Ok(())
}

/// The files of a planned (and perhaps read) test, in `campaign_test/`.
const TEST_FILES: [&str; 4] = ["plan.json", "assignment.csv", "assignment.parquet", "reading.json"];

/// Makes way for a new plan in `dir` (`campaign_test/`). A test already
/// planned there may be in the field, so its plan, assignment and reading
/// are never overwritten: without `replace` that is an error saying so; with
/// it they move to `replaced/N/` (N one more than any before), kept whole.
fn make_way(dir: &std::path::Path, replace: bool) -> anyhow::Result<Option<std::path::PathBuf>> {
    let plan_path = dir.join("plan.json");
    if !plan_path.is_file() {
        return Ok(None);
    }
    if !replace {
        let what = crate::store::read_json::<TestPlan>(&plan_path)
            .map(|t| format!(" ({}, seed {}, to detect {})", t.segmentation, t.seed.0, t.design.lift.describe()))
            .unwrap_or_default();
        let read = if dir.join("reading.json").is_file() { ", and it has been read" } else { "" };
        anyhow::bail!(
            "{}: a campaign test is already planned here{what}{read}; its assignment may be in the field, so it is kept. Pass --replace to plan a new test: the current plan, assignment and reading move to {} first",
            dir.display(),
            dir.join("replaced").join("N").display()
        );
    }
    let replaced = dir.join("replaced");
    let next = std::fs::read_dir(&replaced)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str()?.parse::<usize>().ok()).max().unwrap_or(0))
        .unwrap_or(0)
        + 1;
    let to = replaced.join(next.to_string());
    std::fs::create_dir_all(&to).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", to.display()))?;
    for name in TEST_FILES {
        let from = dir.join(name);
        if from.is_file() {
            std::fs::rename(&from, to.join(name))
                .map_err(|e| anyhow::anyhow!("cannot move {} to {}: {e}", from.display(), to.display()))?;
        }
    }
    Ok(Some(to))
}

/// Plans the test on an experiment's chosen segmentation and writes
/// `campaign_test/plan.json`, `assignment.csv` and `assignment.parquet`.
/// A test already planned there is kept: refused, or with `replace` moved
/// aside first ([`make_way`]). Returns the plan, the files written and
/// where a replaced test went.
pub fn plan_files(
    c: &Chosen,
    design: Design,
    seed: Option<Seed>,
    replace: bool,
) -> anyhow::Result<(TestPlan, Vec<std::path::PathBuf>, Option<std::path::PathBuf>)> {
    let data = Segmented {
        labels: &c.labels,
        y: &c.y,
        cost: &c.cost,
        revenue: &c.revenue,
    };
    let segments = plan(&data, design).map_err(|e| anyhow::anyhow!("{}: {e}", c.experiment))?;
    let seed = seed.unwrap_or(c.seed);
    let arms = assign(&c.labels, &segments, seed);
    let test = TestPlan {
        experiment: c.experiment.clone(),
        run: c.run.clone(),
        segmentation: c.segmentation.clone(),
        design,
        seed,
        rule: planning_rule(&design, segments.len()),
        segments,
    };
    let dir = c.dir.join(FOLDER);
    let moved = make_way(&dir, replace)?;
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let plan_path = dir.join("plan.json");
    crate::store::write_json(&plan_path, &test)?;
    use polars::prelude::*;
    let mut df = DataFrame::new_infer_height(vec![
        Column::new(c.id_column.as_str().into(), c.ids.clone()),
        Column::new("segment".into(), c.labels.iter().map(|&l| l as u32).collect::<Vec<_>>()),
        Column::new("arm".into(), arms.iter().map(|a| a.as_str()).collect::<Vec<_>>()),
    ])
    .map_err(|e| anyhow::anyhow!("assignment table: {e}"))?;
    let csv = dir.join("assignment.csv");
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("{}: {e}", csv.display()))?;
    crate::store::write_atomic(&csv, &buf)?;
    let pq = dir.join("assignment.parquet");
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("{}: {e}", pq.display()))?;
    crate::store::write_atomic(&pq, &buf)?;
    Ok((test, vec![plan_path, csv, pq], moved))
}

/// Reads a test's results file against the stored plan and assignment, and
/// writes `campaign_test/reading.json`.
///
/// The file needs a column with the customer id (named as in the
/// assignment, or `id`) and `responded` (1/0, true/false, yes/no); an `arm`
/// column, when present, must agree with the assignment. A customer who is
/// not in the test, an unknown or repeated id and an unreadable value are
/// errors naming the row; assigned customers without a result are counted.
pub fn read_files(
    experiment_dir: &std::path::Path,
    results: &std::path::Path,
    final_results: bool,
) -> anyhow::Result<(TestReading, std::path::PathBuf)> {
    let dir = experiment_dir.join(FOLDER);
    let plan_path = dir.join("plan.json");
    if !plan_path.is_file() {
        anyhow::bail!("{}: no test plan; run `strata plan-test` first", plan_path.display());
    }
    let test: TestPlan = crate::store::read_json(&plan_path)?;
    let assignment = strata_data::read_table(&dir.join("assignment.csv"), None)?;
    let names = assignment.column_names();
    let id_column = names.first().cloned().unwrap_or_else(|| "id".into());
    let text = |t: &strata_data::RawTable, col: &str| -> anyhow::Result<Vec<Option<String>>> { Ok(t.text_column(col, &[])?) };
    let ids = text(&assignment, &id_column)?;
    let segs = text(&assignment, "segment")?;
    let arms = text(&assignment, "arm")?;
    let mut planned: std::collections::HashMap<String, (usize, Arm)> = std::collections::HashMap::new();
    for i in 0..assignment.height() {
        let bad = || anyhow::anyhow!("{}: {}: not an assignment row written by plan-test", dir.join("assignment.csv").display(), assignment.at(i));
        let id = ids[i].clone().ok_or_else(bad)?;
        let seg: usize = segs[i].as_deref().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let arm = arms[i].as_deref().and_then(Arm::parse).ok_or_else(bad)?;
        planned.insert(id, (seg, arm));
    }
    let table = strata_data::read_table(results, None)?;
    let cols = table.column_names();
    let id_col = [id_column.as_str(), "id"]
        .into_iter()
        .find(|c| cols.iter().any(|x| x == c))
        .ok_or_else(|| anyhow::anyhow!("{}: no id column (`{id_column}` or `id`); columns: {}", results.display(), cols.join(", ")))?;
    if !cols.iter().any(|c| c == "responded") {
        anyhow::bail!("{}: no `responded` column (1/0, true/false, yes/no); columns: {}", results.display(), cols.join(", "));
    }
    let rid = text(&table, id_col)?;
    let resp = text(&table, "responded")?;
    let rarm = if cols.iter().any(|c| c == "arm") { Some(text(&table, "arm")?) } else { None };
    let mut seen = std::collections::HashSet::new();
    let mut observed = Vec::new();
    for i in 0..table.height() {
        let at = table.at(i);
        let id = rid[i].clone().ok_or_else(|| anyhow::anyhow!("{}: {at}: empty `{id_col}`", results.display()))?;
        let &(segment, arm) = planned.get(&id).ok_or_else(|| anyhow::anyhow!("{}: {at}: id `{id}` is not in the test's assignment", results.display()))?;
        if arm == Arm::NotInTest {
            anyhow::bail!("{}: {at}: id `{id}` was not drawn into the test (arm not_in_test)", results.display());
        }
        if !seen.insert(id.clone()) {
            anyhow::bail!("{}: {at}: id `{id}` appears twice", results.display());
        }
        if let Some(ra) = &rarm {
            let given = ra[i].as_deref().unwrap_or("");
            if Arm::parse(given) != Some(arm) {
                anyhow::bail!("{}: {at}: id `{id}` has arm `{given}`, but the assignment put it in `{}`", results.display(), arm.as_str());
            }
        }
        let v = resp[i].as_deref().unwrap_or("");
        let responded = match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => anyhow::bail!("{}: {at}, column `responded`: `{v}` is not 1/0, true/false or yes/no", results.display()),
        };
        observed.push(Observation { segment, arm, responded });
    }
    let assigned: Vec<usize> = test
        .segments
        .iter()
        .map(|p| planned.values().filter(|&&(s, a)| s == p.segment && a != Arm::NotInTest).count())
        .collect();
    let reading = read(&test.experiment, &test.segments, &observed, &assigned, final_results, test.design.alpha);
    let path = dir.join("reading.json");
    crate::store::write_json(&path, &reading)?;
    Ok((reading, path))
}

impl TestPlan {
    /// A caution when the lift to detect is below some segment's break-even
    /// uplift: a test sized for it can show that contacting does not pay,
    /// but a lift that pays is a larger one.
    pub fn below_break_even(&self) -> Option<String> {
        let below: Vec<&SegmentPlan> = self
            .segments
            .iter()
            .filter(|p| p.target_rate - p.baseline < p.break_even_uplift)
            .collect();
        let highest = below.iter().map(|p| p.break_even_uplift).fold(f64::NEG_INFINITY, f64::max);
        (!below.is_empty()).then(|| {
            format!(
                "caution: the lift to detect ({}) is below the break-even uplift of segment{} {} ({}): if it is the real lift, contacting loses money there, and a test sized for it tells whether there is a lift, not whether contacting pays (the reading's roll out needs an uplift above break-even); to test that, plan a lift above {:.1} points",
                self.design.lift.describe(),
                if below.len() > 1 { "s" } else { "" },
                below.iter().map(|p| p.segment.to_string()).collect::<Vec<_>>().join(", "),
                below
                    .iter()
                    .map(|p| format!("{:.1} points", 100.0 * p.break_even_uplift))
                    .collect::<Vec<_>>()
                    .join(", "),
                100.0 * highest
            )
        })
    }
}

/// The plan as text, one line per segment.
pub fn render_plan(t: &TestPlan) -> String {
    let mut s = format!(
        "campaign test for {} ({}), seed {}\nrule: {}\n\n",
        t.experiment, t.segmentation, t.seed.0, t.rule
    );
    for p in &t.segments {
        s.push_str(&format!(
            "segment {}: {} customers, baseline {:.1} % [{:.1}, {:.1}], to detect {:.1} %: {} per arm needed, {} per arm{}; contact cost {:.0}, break-even uplift {:.1} points, incremental profit if the lift is real {:.0}\n",
            p.segment,
            p.customers,
            100.0 * p.baseline,
            100.0 * p.baseline_low,
            100.0 * p.baseline_high,
            100.0 * p.target_rate,
            p.needed_per_arm,
            p.per_arm,
            if p.feasible {
                String::new()
            } else {
                format!(
                    " (too few customers: the smallest detectable lift is {})",
                    p.detectable_lift.map_or("out of reach".into(), |d| format!("+{:.1} points", 100.0 * d))
                )
            },
            p.test_cost,
            100.0 * p.break_even_uplift,
            p.profit_if_lift
        ));
    }
    if let Some(c) = t.below_break_even() {
        s.push_str(&c);
        s.push('\n');
    }
    s
}

/// The reading as text, one line per segment.
pub fn render_reading(r: &TestReading) -> String {
    let mut s = format!("campaign test reading for {}\nrule: {}\n", r.experiment, r.rule);
    if let Some(m) = r.missing_note() {
        s.push_str(&m);
        s.push('\n');
    }
    s.push('\n');
    for g in &r.segments {
        s.push_str(&format!(
            "segment {}{}: treated {}, control {}, uplift {}, profit per contact {}: {}\n",
            g.segment,
            g.look_text(),
            g.treated_text(),
            g.control_text(),
            g.uplift_text(),
            g.profit_text(),
            g.decision.as_str()
        ));
    }
    s
}

/// A level as a percentage with no trailing zeros: 0.9995 is `99.95`.
fn percent(level: f64) -> String {
    let t = format!("{:.4}", 100.0 * level);
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl TestReading {
    /// What the missing results mean for this reading, when some are.
    pub fn missing_note(&self) -> Option<String> {
        let n = self.missing_results;
        (n > 0).then(|| {
            if self.final_results {
                format!("{n} customers in the test have no result in the file, and the results are read as final: they count as lost, which biases the reading unless they are lost at random")
            } else {
                format!("{n} customers in the test have no result in the file yet: the segments they belong to are interim looks (pass --final if those results will never come)")
            }
        })
    }
}

impl SegmentReading {
    /// ` (interim look: ...)` for a segment read before all its results
    /// came, or nothing.
    pub fn look_text(&self) -> String {
        match self.interim_level {
            Some(level) => format!(
                " (interim look: {} of {} results; decided only past the Haybittle-Peto boundary, intervals at {} %)",
                self.treated + self.control,
                self.assigned,
                percent(level)
            ),
            None => String::new(),
        }
    }

    /// `k/n (rate %)`, or `0/0 (no results)`.
    fn arm_text(k: usize, n: usize, rate: Option<f64>) -> String {
        match rate {
            Some(r) => format!("{k}/{n} ({:.1} %)", 100.0 * r),
            None => format!("{k}/{n} (no results)"),
        }
    }

    pub fn treated_text(&self) -> String {
        Self::arm_text(self.treated_responders, self.treated, self.treated_rate)
    }

    pub fn control_text(&self) -> String {
        Self::arm_text(self.control_responders, self.control, self.control_rate)
    }

    /// What is missing for an estimate: the arms without results.
    fn not_estimated(&self) -> String {
        let mut arms = Vec::new();
        if self.treated == 0 {
            arms.push("treated");
        }
        if self.control == 0 {
            arms.push("control");
        }
        format!("not estimated (no results in the {} arm{})", arms.join(" and "), if arms.len() > 1 { "s" } else { "" })
    }

    /// Uplift in points with its interval, or why there is none.
    pub fn uplift_text(&self) -> String {
        match (self.uplift, self.uplift_low, self.uplift_high) {
            (Some(u), Some(lo), Some(hi)) => format!("{:+.1} points [{:+.1}, {:+.1}]", 100.0 * u, 100.0 * lo, 100.0 * hi),
            _ => self.not_estimated(),
        }
    }

    /// Incremental profit per contact with its interval, or why there is none.
    pub fn profit_text(&self) -> String {
        match (self.profit_per_contact, self.profit_low, self.profit_high) {
            (Some(p), Some(lo), Some(hi)) => format!("{p:+.2} [{lo:+.2}, {hi:+.2}]"),
            _ => self.not_estimated(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_size_matches_the_textbook_formula_and_a_published_value() {
        // 10 % against 15 %, two-sided 5 %, power 80 %: 686 per group
        // (Fleiss, Levin and Paik's formula without continuity correction).
        assert_eq!(sample_size(0.10, 0.15, 0.05, 0.80), 686);
        // The formula written out with the quantiles to 6 digits.
        let (za, zb): (f64, f64) = (1.959964, 0.841621);
        let (p0, p1): (f64, f64) = (0.149, 0.20);
        let pbar = (p0 + p1) / 2.0;
        let n = (za * (2.0 * pbar * (1.0 - pbar)).sqrt()
            + zb * (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt())
        .powi(2)
            / (p1 - p0).powi(2);
        assert_eq!(sample_size(p0, p1, 0.05, 0.80), n.ceil() as usize);
        // More power or a smaller lift needs more customers.
        assert!(sample_size(0.10, 0.15, 0.05, 0.90) > 686);
        assert!(sample_size(0.10, 0.13, 0.05, 0.80) > 686);
        // The power at the planned size is the planned power.
        assert!((power_of(686, 0.10, 0.15, 0.05) - 0.80).abs() < 0.002);
        let d = detectable_lift(686, 0.10, 0.05, 0.80).expect("reachable");
        assert!((d - 0.05).abs() < 0.001, "{d}");
        assert_eq!(detectable_lift(1, 0.10, 0.05, 0.80), None);
    }

    #[test]
    fn planned_size_detects_the_planned_lift_about_as_often_as_planned() {
        // Simulated tests at the planned size, read with the pooled z-test
        // the formula is derived for: about 80 % detect the lift.
        let (p0, p1) = (0.15, 0.25);
        let n = sample_size(p0, p1, 0.05, 0.80);
        let za = normal_quantile(0.975);
        let mut rng = Rng::new(Seed(11));
        let reps = 1000;
        let mut detected = 0;
        for _ in 0..reps {
            let kt = (0..n).filter(|_| rng.uniform() < p1).count() as f64;
            let kc = (0..n).filter(|_| rng.uniform() < p0).count() as f64;
            let pbar = (kt + kc) / (2.0 * n as f64);
            let z = (kt - kc) / n as f64 / (pbar * (1.0 - pbar) * 2.0 / n as f64).sqrt();
            detected += usize::from(z > za);
        }
        let share = detected as f64 / reps as f64;
        assert!((0.76..=0.84).contains(&share), "planned power 0.80, simulated {share}");
    }

    fn data(n: usize) -> (Vec<usize>, Vec<u8>, Vec<f64>, Vec<f64>) {
        // Segment 0: 2/3 of the rows at 10 %; segment 1: 1/3 at 30 %.
        let labels: Vec<usize> = (0..n).map(|i| usize::from(i % 3 == 2)).collect();
        let y: Vec<u8> = (0..n)
            .map(|i| u8::from(if i % 3 == 2 { i % 10 < 3 } else { i % 10 == 0 }))
            .collect();
        (labels, y, vec![3.0; n], vec![11.0; n])
    }

    #[test]
    fn plans_per_segment_and_assigns_balanced_seeded_arms() {
        let (labels, y, cost, revenue) = data(3000);
        let d = Segmented {
            labels: &labels,
            y: &y,
            cost: &cost,
            revenue: &revenue,
        };
        let design = Design {
            alpha: 0.05,
            power: 0.8,
            lift: Lift::Absolute(0.05),
        };
        let plans = plan(&d, design).unwrap();
        assert_eq!(plans.len(), 2);
        let (a, b) = (&plans[0], &plans[1]);
        assert_eq!((a.customers, b.customers), (2000, 1000));
        assert!((a.baseline - 0.10).abs() < 1e-12 && (b.baseline - 0.30).abs() < 1e-12);
        // Two segments: each planned at 0.05 / 2, the level of the reading.
        assert_eq!(a.needed_per_arm, sample_size(0.10, 0.15, 0.025, 0.8));
        assert!(a.needed_per_arm > 686);
        assert!(a.feasible && a.per_arm == a.needed_per_arm);
        // Segment 1 needs more than its 1000 customers hold: all go in, half each.
        assert!(!b.feasible && b.per_arm == 500 && b.needed_per_arm > 500);
        let dl = b.detectable_lift.expect("reachable");
        assert!(dl > 0.05 && (power_of(500, 0.30, 0.30 + dl, 0.025) - 0.8).abs() < 1e-6);
        assert!((a.break_even_uplift - 3.0 / 11.0).abs() < 1e-12);
        let na = a.per_arm as f64;
        assert!((a.test_cost - na * 3.0).abs() < 1e-9);
        assert!((a.profit_if_lift - na * (0.05 * 11.0 - 3.0)).abs() < 1e-9);

        // +5 points, below the break-even 27.3: the plan says what such a
        // test can tell; +30 points on both segments clears it.
        let test = |design: Design| TestPlan {
            experiment: "x".into(),
            run: "r".into(),
            segmentation: "s".into(),
            design,
            seed: Seed(3),
            segments: plan(&d, design).unwrap(),
            rule: String::new(),
        };
        let c = test(design).below_break_even().expect("a caution");
        assert!(c.starts_with("caution: the lift to detect (+5.0 percentage points) is below the break-even uplift of segments 0, 1 (27.3 points, 27.3 points)"), "{c}");
        assert!(render_plan(&test(design)).contains(&c));
        assert_eq!(test(Design { lift: Lift::Absolute(0.3), ..design }).below_break_even(), None);

        let arms = assign(&labels, &plans, Seed(3));
        for p in &plans {
            let count = |arm: Arm| (0..labels.len()).filter(|&i| labels[i] == p.segment && arms[i] == arm).count();
            assert_eq!(count(Arm::Treatment), p.per_arm);
            assert_eq!(count(Arm::Control), p.per_arm);
            assert_eq!(count(Arm::NotInTest), p.customers - 2 * p.per_arm);
        }
        assert_eq!(arms, assign(&labels, &plans, Seed(3)), "same seed, same arms");
        assert_ne!(arms, assign(&labels, &plans, Seed(4)));
        // Random, not the first rows: treated rows spread over the segment.
        let treated: Vec<usize> = (0..labels.len()).filter(|&i| arms[i] == Arm::Treatment && labels[i] == 0).collect();
        assert!(treated.first().is_some_and(|&f| f < 100) && treated.last().is_some_and(|&l| l > 2900));

        let bad = Design {
            lift: Lift::Relative(5.0),
            ..design
        };
        let e = plan(&d, bad).unwrap_err();
        assert!(e.starts_with("segment 1: a lift of +500 % of the baseline"), "{e}");
        assert!(Design { power: 1.2, ..design }.check().is_err());
    }

    /// A segment of `2 per_arm` customers at a 10 % baseline, all in the
    /// test, a contact costing 3 and a response bringing 11.
    fn segment_plan(segment: usize, per_arm: usize) -> SegmentPlan {
        SegmentPlan {
            segment,
            customers: 2 * per_arm,
            responders: per_arm / 5,
            baseline: 0.1,
            baseline_low: 0.09,
            baseline_high: 0.11,
            target_rate: 0.15,
            needed_per_arm: per_arm,
            per_arm,
            feasible: true,
            detectable_lift: Some(0.03),
            cost_per_contact: 3.0,
            revenue_per_response: 11.0,
            break_even_uplift: 3.0 / 11.0,
            test_cost: 3.0 * per_arm as f64,
            profit_if_lift: 0.0,
        }
    }

    #[test]
    fn a_simulated_test_with_uplift_in_one_segment_is_read_back() {
        // Segment 0: no effect (10 % in both arms); segment 1: +40 points, far
        // above break-even (3/11 = 27 points); segment 2: +10 points, below it.
        let plans: Vec<SegmentPlan> = (0..3).map(|s| segment_plan(s, 2000)).collect();
        let mut rng = Rng::new(Seed(5));
        let mut obs = Vec::new();
        for (s, (pt, pc)) in [(0.10, 0.10), (0.50, 0.10), (0.20, 0.10)].into_iter().enumerate() {
            for (arm, p) in [(Arm::Treatment, pt), (Arm::Control, pc)] {
                for _ in 0..2000 {
                    obs.push(Observation {
                        segment: s,
                        arm,
                        responded: rng.uniform() < p,
                    });
                }
            }
        }
        // Every result of segments 0 and 1 is in; 7 of segment 2 are not.
        let r = read("x", &plans, &obs, &[4000, 4000, 4007], false, 0.05);
        assert_eq!(r.missing_results, 7);
        assert!((r.level - (1.0 - 0.05 / 3.0)).abs() < 1e-12);
        assert_eq!(r.segments[0].interim_level, None);
        assert_eq!(r.segments[2].interim_level, Some(1.0 - 0.001 / 3.0));
        assert!(render_reading(&r).contains("segment 2 (interim look: 4000 of 4007 results; decided only past the Haybittle-Peto boundary, intervals at 99.9667 %)"));
        let d: Vec<Decision> = r.segments.iter().map(|s| s.decision).collect();
        // No effect: contacting costs 3 per contact, so stop; +40 points: roll
        // out; +10 points is real but below break-even: stop.
        assert_eq!(d, vec![Decision::Stop, Decision::RollOut, Decision::Stop]);
        let s1 = &r.segments[1];
        let (u, lo, hi) = (s1.uplift.unwrap(), s1.uplift_low.unwrap(), s1.uplift_high.unwrap());
        assert!(lo < 0.40 && 0.40 < hi, "{s1:?}");
        assert!((s1.profit_per_contact.unwrap() - (u * 11.0 - 3.0)).abs() < 1e-12);
        let s0 = &r.segments[0];
        assert!(s0.uplift_low.unwrap() < 0.0 && 0.0 < s0.uplift_high.unwrap());
        // Too few customers to tell: keep testing.
        let few: Vec<Observation> = obs.iter().filter(|o| o.segment == 1).take(10).copied().chain(
            obs.iter().filter(|o| o.segment == 1 && o.arm == Arm::Control).take(10).copied(),
        ).collect();
        let r = read("x", &plans[1..2], &few, &[20], false, 0.05);
        assert_eq!(r.segments[0].decision, Decision::KeepTesting);
        // An arm without results estimates nothing: no rate, uplift or
        // profit (a 0/0 rate read as 0 % would show a made-up uplift).
        let treated_only: Vec<Observation> = obs.iter().filter(|o| o.segment == 1 && o.arm == Arm::Treatment).take(50).copied().collect();
        let r = read("x", &plans[1..2], &treated_only, &[50], false, 0.05);
        let g = &r.segments[0];
        assert_eq!(g.decision, Decision::KeepTesting);
        assert!(g.treated_rate.is_some() && g.control_rate.is_none(), "{g:?}");
        assert!(g.uplift.is_none() && g.uplift_low.is_none() && g.profit_per_contact.is_none() && g.profit_high.is_none());
        let text = render_reading(&r);
        assert!(text.contains("control 0/0 (no results), uplift not estimated (no results in the control arm)"), "{text}");
        let back: TestReading = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn an_interim_look_decides_only_past_the_haybittle_peto_boundary() {
        // 60/120 treated against 12/120 control: +40 points. Break-even is
        // 3/11 = 27.3 points. The 95 % interval's low end clears it, the
        // 99.9 % one does not.
        let plan = segment_plan(0, 2000);
        // 120 customers per arm of segment 0, the first `kt` and `kc` responding.
        let results = |kt: usize, kc: usize| -> Vec<Observation> {
            [(Arm::Treatment, kt), (Arm::Control, kc)]
                .into_iter()
                .flat_map(|(arm, k)| (0..120).map(move |i| Observation { segment: 0, arm, responded: i < k }))
                .collect()
        };
        let obs = results(60, 12);
        let (_, lo95, _) = newcombe(60, 120, 12, 120, normal_quantile(0.975));
        let (_, lo999, _) = newcombe(60, 120, 12, 120, normal_quantile(1.0 - 0.0005));
        assert!(lo95 > 3.0 / 11.0 && lo999 < 3.0 / 11.0, "{lo95} {lo999}");
        // Complete results (all 240 assigned customers): roll out.
        let done = read("x", std::slice::from_ref(&plan), &obs, &[240], false, 0.05);
        assert_eq!((done.segments[0].decision, done.segments[0].interim_level), (Decision::RollOut, None));
        // The same results with 3760 of the 4000 assigned still to come: an
        // interim look, not yet past the boundary.
        let early = read("x", std::slice::from_ref(&plan), &obs, &[4000], false, 0.05);
        let g = &early.segments[0];
        assert_eq!((g.decision, g.interim_level), (Decision::KeepTesting, Some(0.999)));
        assert!((g.uplift_low.unwrap() - lo999).abs() < 1e-15);
        assert_eq!(early.missing_results, 3760);
        let text = render_reading(&early);
        assert!(text.contains("3760 customers in the test have no result in the file yet: the segments they belong to are interim looks (pass --final"), "{text}");
        assert!(text.contains("segment 0 (interim look: 240 of 4000 results; decided only past the Haybittle-Peto boundary, intervals at 99.9 %)"), "{text}");
        // Read as final, the missing customers are lost: the planned level.
        let lost = read("x", std::slice::from_ref(&plan), &obs, &[4000], true, 0.05);
        assert_eq!((lost.segments[0].decision, lost.segments[0].interim_level), (Decision::RollOut, None));
        assert!(render_reading(&lost).contains("the results are read as final: they count as lost"));
        // Overwhelming evidence decides even early: 100/120 against 12/120.
        let strong = results(100, 12);
        assert_eq!(read("x", std::slice::from_ref(&plan), &strong, &[4000], false, 0.05).segments[0].decision, Decision::RollOut);
    }

    #[test]
    fn reading_early_at_the_boundary_keeps_the_error_rate_that_naive_peeking_inflates() {
        // The true uplift is exactly break-even (3/11): rolling out is an
        // error. Four looks, at 100, 200, 300 and 400 results per arm of the
        // 800 assigned; a test stops at its first roll-out or stop.
        let plan = segment_plan(0, 400);
        let (pc, pt) = (0.1, 0.1 + 3.0 / 11.0);
        let mut rng = Rng::new(Seed(11));
        let runs = 4000;
        let (mut naive, mut bounded) = (0, 0);
        for _ in 0..runs {
            let obs: Vec<Observation> = (0..400)
                .flat_map(|_| [(Arm::Treatment, pt), (Arm::Control, pc)])
                .map(|(arm, p)| Observation { segment: 0, arm, responded: rng.uniform() < p })
                .collect();
            let first = |final_each_look: bool| {
                [200, 400, 600, 800]
                    .into_iter()
                    .map(|n| read("x", std::slice::from_ref(&plan), &obs[..n], &[800], final_each_look, 0.05).segments[0].decision)
                    .find(|d| *d != Decision::KeepTesting)
            };
            naive += usize::from(first(true) == Some(Decision::RollOut));
            bounded += usize::from(first(false) == Some(Decision::RollOut));
        }
        let (naive, bounded) = (naive as f64 / runs as f64, bounded as f64 / runs as f64);
        // One look at the planned level errs one-sidedly 2.5 % of the time;
        // four naive looks err about twice as often, the boundary keeps it.
        assert!(naive > 0.04, "naive peeking: {naive}");
        assert!(bounded < 0.033, "Haybittle-Peto: {bounded}");
    }

    #[test]
    fn newcombe_matches_statsmodels() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newcombe.json");
        let text = std::fs::read_to_string(path).expect("fixture (tools/fixtures/proportions_reference.py)");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let cases = v["newcombe"].as_array().expect("cases");
        assert_eq!(cases.len(), 8);
        for c in cases {
            let n = |i: usize| c[i].as_u64().expect("count") as usize;
            let f = |i: usize| c[i].as_f64().expect("bound");
            let (_, low, high) = newcombe(n(0), n(1), n(2), n(3), strata_core::stats::Z95);
            assert!((low - f(4)).abs() < 1e-9 && (high - f(5)).abs() < 1e-9, "{c}: {low} {high}");
        }
    }

    #[test]
    fn newcombe_interval_matches_a_published_example() {
        // Newcombe (1998), Table II, example (a): 56/70 against 48/80,
        // method 10: 0.0524 to 0.3339.
        let (d, lo, hi) = newcombe(56, 70, 48, 80, strata_core::stats::Z95);
        assert!((d - 0.2).abs() < 1e-12);
        assert!((lo - 0.0524).abs() < 5e-4 && (hi - 0.3339).abs() < 5e-4, "{lo} {hi}");
    }
}
