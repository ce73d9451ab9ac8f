//! The plan and the reading as text.

use super::*;

impl TestPlan {
    /// A caution when the lift to detect is below some segment's break-even
    /// uplift: the test there is sized to stop, and a lift that pays is a
    /// larger one, or none at all where the data's rate, taken as the
    /// treated arm's, is itself below break-even (the contact cannot have
    /// caused more than all of it).
    pub fn below_break_even(&self) -> Option<String> {
        let below: Vec<&SegmentPlan> = self
            .segments
            .iter()
            .filter(|p| p.uplift() < p.break_even_uplift)
            .collect();
        let list = |of: &[&SegmentPlan], what: &dyn Fn(&SegmentPlan) -> f64, unit: &str| {
            format!(
                "segment{} {} ({} {unit})",
                if of.len() > 1 { "s" } else { "" },
                of.iter().map(|p| p.segment.to_string()).collect::<Vec<_>>().join(", "),
                of.iter().map(|p| format!("{:.1}", 100.0 * what(p))).collect::<Vec<_>>().join(", "),
            )
        };
        let (capped, open): (Vec<&SegmentPlan>, Vec<&SegmentPlan>) = below
            .iter()
            .partition(|p| self.design.rate_in_data == RateInData::Treated && p.baseline <= p.break_even_uplift);
        let mut way = Vec::new();
        if !open.is_empty() {
            let highest = open.iter().map(|p| p.break_even_uplift).fold(f64::NEG_INFINITY, f64::max);
            way.push(format!("to size the test for a roll out, plan a lift above {:.1} points", 100.0 * highest));
        }
        if !capped.is_empty() {
            way.push(format!(
                "no lift can be planned for a roll out in {}: taken as the treated arm's, the response rate in the data is the most the contact can have added, and it is below break-even",
                list(&capped, &|p| p.baseline, "% in the data")
            ));
        }
        (!below.is_empty()).then(|| {
            format!(
                "caution: the lift to detect ({}) is below the break-even uplift of {}: if it is the real lift, contacting loses money there, so the test there is sized to stop (to show the loss), not to find a lift that pays; {}",
                self.design.lift.describe(),
                list(&below, &|p| p.break_even_uplift, "points"),
                way.join("; ")
            )
        })
    }
}

impl SegmentPlan {
    /// A plan written before strata sized tests for the decision (sized to
    /// tell the uplift from 0): it has no aim and no decisive uplifts.
    fn sized_for_zero(&self) -> bool {
        self.aim.is_none() && self.needed_per_arm.is_some()
    }

    /// The incremental profit of the treatment arm if the lift is real, to
    /// the unit (a loss that rounds to nothing is 0, not -0).
    pub fn profit_if_lift_text(&self) -> String {
        format!("{:.0}", self.profit_if_lift.round() + 0.0)
    }

    /// The control arm's rate if the planned lift is real.
    pub fn control(&self) -> f64 {
        self.control_rate.unwrap_or(self.baseline)
    }

    /// The uplift if the planned lift is real: treated minus control rate.
    pub fn uplift(&self) -> f64 {
        self.target_rate - self.control()
    }

    /// `control 15.3 %, treated 23.0 % (stop)`: the arms' rates if the lift
    /// is real, and the decision they call for.
    pub fn target_text(&self) -> String {
        let rates = format!("control {:.1} %, treated {:.1} %", 100.0 * self.control(), 100.0 * self.target_rate);
        match self.aim {
            Some(a) => format!("{rates} ({})", a.as_str()),
            None if self.sized_for_zero() => rates,
            None => format!("{rates} (nothing to decide: the lift is the break-even uplift)"),
        }
    }

    /// Customers needed per arm, or why none.
    pub fn needed_text(&self) -> String {
        if let Some(why) = &self.no_size {
            return format!("none reaches the power across the rate's interval ({why})");
        }
        match (self.needed_per_arm, self.aim) {
            (Some(n), _) => match self.sized_at {
                Some(at) if at != self.baseline => format!("{n} (the size at {:.1} %, in the rate's interval)", 100.0 * at),
                _ => n.to_string(),
            },
            (None, Some(_)) => format!(
                "over {NEEDED_MAX:e} (the lift is within {:.2} points of break-even)",
                100.0 * (self.uplift() - self.break_even_uplift).abs()
            ),
            (None, None) => "none (nothing to decide at break-even)".into(),
        }
    }

    /// What follows the customers per arm when the segment holds fewer
    /// than the size needs.
    pub fn shortfall_text(&self) -> &'static str {
        if self.feasible { "" } else { " (too few customers: all in the test)" }
    }

    /// The power of the planned decision at the tested size, and over the
    /// interval of the rate it starts from; `-` when there is none.
    pub fn power_text(&self) -> String {
        let Some(p) = self.power else {
            return "-".into();
        };
        let range = self.power_over_interval.map_or(String::new(), |(lo, hi)| {
            let over = match self.power_rates {
                Some(n) => format!("across the 95 % interval of the rate in the data, at {n} rates from end to end"),
                None => "at the ends of the 95 % interval of the rate in the data".into(),
            };
            format!(" ({:.1} to {:.1} % {over})", 100.0 * lo, 100.0 * hi)
        });
        format!("{:.1} %{range}", 100.0 * p)
    }

    /// The uplifts for which the test is decisive with power `power`.
    pub fn decisive_text(&self, power: f64) -> String {
        let points = |u: Option<f64>| u.map(|u| format!("{:+.1} points", 100.0 * u));
        let parts: Vec<String> = [
            points(self.roll_out_from).map(|u| format!("rolls out from an uplift of {u}")),
            points(self.stop_up_to).map(|u| format!("stops up to {u}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.sized_for_zero() {
            "not computed (planned to tell the uplift from 0, before strata sized tests for the decision)".into()
        } else if parts.is_empty() {
            format!("with power {} % it is decisive for no uplift", percent(power))
        } else {
            format!("with power {} % it {}", percent(power), parts.join(" and "))
        }
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
            "segment {}: {} customers, response in the data {:.1} % [{:.1}, {:.1}], break-even uplift {:.1} points; if the lift is real: {}; needed per arm: {}; in the test: {} per arm{}; power of the planned decision {}; {}; contact cost {:.0}, incremental profit if the lift is real {}\n",
            p.segment,
            p.customers,
            100.0 * p.baseline,
            100.0 * p.baseline_low,
            100.0 * p.baseline_high,
            100.0 * p.break_even_uplift,
            p.target_text(),
            p.needed_text(),
            p.per_arm,
            p.shortfall_text(),
            p.power_text(),
            p.decisive_text(t.design.power),
            p.test_cost,
            p.profit_if_lift_text()
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
pub(super) fn percent(level: f64) -> String {
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
