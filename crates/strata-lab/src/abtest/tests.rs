use super::*;

/// The exact power by brute force: every pair of responder counts, read
/// with Newcombe's interval, weighted by its binomial probability.
fn brute_force_power(n: usize, p0: f64, p1: f64, b: f64, alpha: f64, aim: Aim) -> f64 {
    let pmf = |k: usize, p: f64| {
        let ln_choose = strata_core::stats::ln_gamma(n as f64 + 1.0)
            - strata_core::stats::ln_gamma(k as f64 + 1.0)
            - strata_core::stats::ln_gamma((n - k) as f64 + 1.0);
        (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
    };
    let z = normal_quantile(1.0 - alpha / 2.0);
    let mut total = 0.0;
    for kt in 0..=n {
        for kc in 0..=n {
            let (_, lo, hi) = newcombe(kt, n, kc, n, z);
            let decided = match aim {
                Aim::RollOut => lo > b,
                Aim::Stop => hi < b,
            };
            if decided {
                total += pmf(kt, p1) * pmf(kc, p0);
            }
        }
    }
    total
}

#[test]
fn the_exact_power_of_a_decision_is_the_sum_over_every_outcome() {
    let b = 3.0 / 11.0;
    for (n, p0, p1, aim) in [
        (40, 0.15, 0.65, Aim::RollOut),
        (60, 0.30, 0.80, Aim::RollOut),
        (40, 0.15, 0.20, Aim::Stop),
        (25, 0.05, 0.06, Aim::Stop),
        (60, 0.40, 0.55, Aim::Stop),
    ] {
        let fast = decision_power(n, p0, p1, b, 0.025, aim);
        let brute = brute_force_power(n, p0, p1, b, 0.025, aim);
        assert!((fast - brute).abs() < 1e-12, "{n} {p0} {p1} {aim:?}: {fast} against {brute}");
        assert!(fast > 0.05, "{fast}: a case that decides something");
    }
}

#[test]
fn the_planned_size_is_where_the_exact_power_reaches_the_target_and_stays() {
    let b = 3.0 / 11.0;
    for (p0, p1, alpha) in [(0.15, 0.55, 0.05), (0.15, 0.65, 0.0125), (0.15, 0.25, 0.025), (0.40, 0.85, 0.025), (0.23, 0.68, 0.025)] {
        let n = decision_sample_size(p0, p1, b, alpha, 0.8).expect("a decision to reach");
        let aim = Aim::of(p1 - p0, b).expect("aim");
        for m in n..=n + STAY {
            assert!(decision_power(m, p0, p1, b, alpha, aim) >= 0.8, "{p0} {p1}: {n}, {m}");
        }
        assert!(decision_power(n - 1, p0, p1, b, alpha, aim) < 0.8, "{p0} {p1}: {n}");
        // The normal approximation (Chow, Shao and Wang), written out: the
        // exact size is near it, larger where the approximation falls short.
        let (za, zb) = (normal_quantile(1.0 - alpha / 2.0), normal_quantile(0.8));
        let approx = (za + zb).powi(2) * (p0 * (1.0 - p0) + p1 * (1.0 - p1)) / (p1 - p0 - b).powi(2);
        assert!((n as f64) > 0.8 * approx && (n as f64) < 1.5 * approx, "{p0} {p1}: {n} against {approx}");
    }
    // The wobble (the module docs' example, the marketing data's segment at
    // 23 % planned for +45 points over 2 segments): 135 per arm reach the
    // power and 136 do not, so the size is 138, from which it stays.
    let at = |n: usize| decision_power(n, 0.23, 0.68, b, 0.025, Aim::RollOut);
    assert!(at(134) < 0.8 && at(135) >= 0.8 && at(136) < 0.8 && at(137) < 0.8, "{} {} {} {}", at(134), at(135), at(136), at(137));
    assert_eq!(decision_sample_size(0.23, 0.68, b, 0.025, 0.8), Some(138));
    // Where the approximation alone falls short (the module docs' example):
    // 15 % and +50 points at 0.05 over 4 segments, its 77 per arm roll out
    // about 71 % of the time.
    let b4 = decision_power(77, 0.15, 0.65, b, 0.0125, Aim::RollOut);
    assert!((0.69..0.73).contains(&b4), "{b4}");
    // Above EXACT_MAX per arm: the approximation itself.
    let (p0, p1, alpha) = (0.15, 0.43, 0.05);
    let (za, zb) = (normal_quantile(1.0 - alpha / 2.0), normal_quantile(0.8));
    let approx = (za + zb).powi(2) * (p0 * (1.0 - p0) + p1 * (1.0 - p1)) / (p1 - p0 - b).powi(2);
    assert!(approx > EXACT_MAX as f64);
    assert_eq!(decision_sample_size(p0, p1, b, alpha, 0.8), Some(approx.ceil() as usize));
    // A lift at break-even calls for no decision; one a hair from it gets
    // no size either, rather than a count of twenty digits.
    assert_eq!(decision_sample_size(0.1, 0.1 + b, b, 0.05, 0.8), None);
    assert_eq!(decision_sample_size(0.1, 0.1 + b + 1e-9, b, 0.05, 0.8), None);
    assert!(decision_sample_size(0.1, 0.1 + b + 1e-3, b, 0.05, 0.8).is_some_and(|n| n > 100_000));
}

#[test]
fn a_test_of_the_planned_size_reaches_the_planned_decision_as_often_as_planned() {
    // Simulated tests read by `read` itself, at the planned size, for a lift
    // above break-even (roll out) and one below (stop). The size that only
    // tells the uplift from 0 reaches the roll-out far less often.
    let b = 3.0 / 11.0;
    let mut rng = Rng::new(Seed(17));
    for (p0, p1) in [(0.15, 0.60), (0.15, 0.22)] {
        let n = decision_sample_size(p0, p1, b, 0.05, 0.8).expect("a decision");
        let aim = Aim::of(p1 - p0, b).expect("aim");
        let want = if aim == Aim::RollOut { Decision::RollOut } else { Decision::Stop };
        let share = |n: usize, rng: &mut Rng| simulated_share(&SegmentPlan { per_arm: n, ..segment_plan(0, n) }, p0, p1, want, rng);
        let simulated = share(n, &mut rng);
        let exact = decision_power(n, p0, p1, b, 0.05, aim);
        // 2000 runs: a standard error of about 0.009.
        assert!((simulated - exact).abs() < 0.03, "{p0} {p1}: simulated {simulated}, exact {exact}");
        assert!(simulated > 0.77, "{p0} {p1}: {simulated}");
        if aim == Aim::RollOut {
            // Two-proportion size against 0 (Fleiss, Levin and Paik 4.14).
            let (za, zb) = (normal_quantile(0.975), normal_quantile(0.8));
            let pbar = (p0 + p1) / 2.0;
            let num = za * (2.0 * pbar * (1.0 - pbar)).sqrt() + zb * (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt();
            let against_zero = (num * num / ((p1 - p0) * (p1 - p0))).ceil() as usize;
            assert!(against_zero < n / 3, "{against_zero} against {n}");
            let fell_short = share(against_zero, &mut rng);
            assert!(fell_short < 0.3, "sized against 0: {fell_short}");
        }
    }
}

/// The share of 2000 simulated tests of the one-segment `plan`
/// (`plan.per_arm` customers per arm, true rates `p0` without contact and
/// `p1` with it), read by `read` at level 0.05 once all results are in,
/// that reach `want`.
fn simulated_share(plan: &SegmentPlan, p0: f64, p1: f64, want: Decision, rng: &mut Rng) -> f64 {
    let (n, runs) = (plan.per_arm, 2000);
    let mut hits = 0;
    for _ in 0..runs {
        let mut obs = Vec::with_capacity(2 * n);
        for (arm, p) in [(Arm::Treatment, p1), (Arm::Control, p0)] {
            obs.extend((0..n).map(|_| Observation { segment: plan.segment, arm, responded: rng.uniform() < p }));
        }
        let r = read("x", std::slice::from_ref(plan), &obs, &[2 * n], true, 0.05);
        hits += usize::from(r.segments[0].decision == want);
    }
    hits as f64 / runs as f64
}

#[test]
fn the_decisive_uplifts_are_where_the_power_reaches_the_target() {
    let (n, p0, b, alpha) = (300, 0.15, 3.0 / 11.0, 0.025);
    let (roll, stop) = decisive_uplifts(n, p0, b, alpha, 0.8);
    let (roll, stop) = (roll.expect("roll out reachable"), stop.expect("stop reachable"));
    assert!(stop < b && b < roll, "{stop} {b} {roll}");
    let power = |u: f64, aim: Aim| decision_power(n, p0, p0 + u, b, alpha, aim);
    assert!(power(roll, Aim::RollOut) >= 0.8 && power(roll - 0.002, Aim::RollOut) < 0.8);
    assert!(power(stop, Aim::Stop) >= 0.8 && power(stop + 0.002, Aim::Stop) < 0.8);
    // A tiny test decides nothing with 80 % power on a side it cannot reach.
    let (roll, stop) = decisive_uplifts(3, 0.15, b, alpha, 0.8);
    assert_eq!((roll, stop), (None, None));
    // A break-even above any reachable uplift: roll out is out of reach.
    assert_eq!(decisive_uplifts(300, 0.15, 0.9, alpha, 0.8).0, None);
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
    // The data's rates taken as the control arm's: the treated arm's rate
    // is the data's plus the lift.
    let design = Design {
        alpha: 0.05,
        power: 0.8,
        lift: Lift::Absolute(0.05),
        rate_in_data: RateInData::Control,
        size_for: SizeFor::Point,
    };
    let plans = plan(&d, design).unwrap();
    assert_eq!(plans.len(), 2);
    let (a, b) = (&plans[0], &plans[1]);
    assert_eq!((a.customers, b.customers), (2000, 1000));
    assert!((a.baseline - 0.10).abs() < 1e-12 && (b.baseline - 0.30).abs() < 1e-12);
    // +5 points, below break-even (3/11): sized for the reading to stop,
    // at 0.05 / 2 (two segments, the level of the reading).
    let be = 3.0 / 11.0;
    assert_eq!(a.aim, Some(Aim::Stop));
    assert_eq!(a.needed_per_arm, decision_sample_size(0.10, 0.15, be, 0.025, 0.8));
    assert!(a.feasible && Some(a.per_arm) == a.needed_per_arm);
    assert!(a.stop_up_to.is_some_and(|u| u >= 0.05 - 1e-9), "{:?}", a.stop_up_to);
    assert_eq!(b.needed_per_arm, decision_sample_size(0.30, 0.35, be, 0.025, 0.8));
    // +25 points, just below break-even: more customers than either
    // segment holds; all go in, half each, and the plan says which uplifts
    // the test can still decide.
    let near = plan(&d, Design { lift: Lift::Absolute(0.25), ..design }).unwrap();
    for (p, half) in near.iter().zip([1000, 500]) {
        assert!(!p.feasible && p.per_arm == half && p.needed_per_arm.is_some_and(|n| n > half), "{p:?}");
        let (stop, roll) = (p.stop_up_to.expect("stop"), p.roll_out_from.expect("roll out"));
        assert!(stop < 0.25 && roll > be, "{stop} {roll}");
        let power = decision_power(half, p.baseline, p.baseline + stop, be, 0.025, Aim::Stop);
        assert!((0.8..0.81).contains(&power), "{power}");
    }
    // The power of the planned decision: at least the target where the
    // segment holds the size, short of it where it does not; and over the
    // Wilson interval of the rate it starts from, on both sides of it.
    assert!(a.power.is_some_and(|p| p >= 0.8) && near.iter().all(|p| p.power.is_some_and(|q| q < 0.8)));
    let (lo, hi) = a.power_over_interval.expect("a power range over the interval");
    assert!(lo < a.power.unwrap() && a.power.unwrap() < hi, "{lo} {hi}");
    // The lowest and highest over 21 rates spanning the interval, ends
    // included.
    let (l, h) = (a.baseline_low, a.baseline_high);
    let powers: Vec<f64> = (0..=20)
        .map(|i| if i == 20 { h } else { l + (h - l) * i as f64 / 20.0 })
        .map(|r| decision_power(a.per_arm, r, r + 0.05, be, 0.025, Aim::Stop))
        .collect();
    assert_eq!(a.power_rates, Some(21));
    assert_eq!((lo, hi), (powers.iter().copied().fold(1.0, f64::min), powers.iter().copied().fold(0.0, f64::max)));
    assert!(a.power_text().ends_with("% across the 95 % interval of the rate in the data, at 21 rates from end to end)"), "{}", a.power_text());
    // +40 points, above break-even: sized for a roll out.
    let above = plan(&d, Design { lift: Lift::Absolute(0.4), ..design }).unwrap();
    assert_eq!(above[1].aim, Some(Aim::RollOut));
    assert_eq!(above[1].needed_per_arm, decision_sample_size(0.30, 0.70, be, 0.025, 0.8));
    assert!(above[1].roll_out_from.is_some_and(|u| u <= 0.4 + 1e-9));
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
    assert!(c.starts_with("caution: the lift to detect (+5 percentage points) is below the break-even uplift of segments 0, 1 (27.3, 27.3 points): if it is the real lift, contacting loses money there, so the test there is sized to stop (to show the loss), not to find a lift that pays; to size the test for a roll out, plan a lift above 27.3 points"), "{c}");
    assert!(render_plan(&test(design)).contains(&c));
    assert!(render_plan(&test(design)).contains(&format!("power of the planned decision {}", a.power_text())));
    assert_eq!(test(Design { lift: Lift::Absolute(0.3), ..design }).below_break_even(), None);

    // The arms of the +40 plan (a few hundred per arm).
    let arms = assign(&labels, &above, Seed(3));
    for p in &above {
        let count = |arm: Arm| (0..labels.len()).filter(|&i| labels[i] == p.segment && arms[i] == arm).count();
        assert_eq!(count(Arm::Treatment), p.per_arm);
        assert_eq!(count(Arm::Control), p.per_arm);
        assert_eq!(count(Arm::NotInTest), p.customers - 2 * p.per_arm);
    }
    assert_eq!(arms, assign(&labels, &above, Seed(3)), "same seed, same arms");
    assert_ne!(arms, assign(&labels, &above, Seed(4)));
    // Random, not the first rows: treated rows spread over the segment.
    let treated: Vec<usize> = (0..labels.len()).filter(|&i| arms[i] == Arm::Treatment && labels[i] == 0).collect();
    assert!(treated.first().is_some_and(|&f| f < 100) && treated.last().is_some_and(|&l| l > 2900));

    let bad = Design {
        lift: Lift::Relative(5.0),
        ..design
    };
    let e = plan(&d, bad).unwrap_err();
    assert!(e.starts_with("segment 1: a lift of +500 % of the control arm's rate on a response rate of 0.3000 in the data, taken as the control arm's, gives a control rate of 0.3000 and a treated rate of 1.8000: expected 0 <= control < treated <= 1"), "{e}");
    assert!(Design { power: 1.2, ..design }.check().is_err());
    // A segment whose responses bring nothing: no decision to test (and
    // no infinite break-even written to plan.json, which could not be read).
    let none = vec![0.0; labels.len()];
    let e = plan(&Segmented { revenue: &none, ..d }, design).unwrap_err();
    assert!(e.starts_with("segment 0: mean cost per contact 3, mean revenue per response 0: contacting pays only if"), "{e}");

    // The data's rates taken as the treated arm's (answers to a campaign
    // sent to everyone): the control arm's rate is the data's less the lift.
    let treated = Design { rate_in_data: RateInData::Treated, ..design };
    let t = plan(&d, Design { lift: Lift::Relative(0.5), ..treated }).unwrap();
    for (p, rate) in t.iter().zip([0.10, 0.30]) {
        assert!((p.target_rate - rate).abs() < 1e-12 && (p.control() - rate / 1.5).abs() < 1e-12, "{p:?}");
        assert_eq!(p.needed_per_arm, decision_sample_size(rate / 1.5, rate, be, 0.025, 0.8));
        assert!((p.profit_if_lift - p.per_arm as f64 * (rate / 3.0 * 11.0 - 3.0)).abs() < 1e-9);
    }
    assert!(t[1].target_text().starts_with("control 20.0 %, treated 30.0 % (stop)"), "{}", t[1].target_text());
    // Segment 0 responds at 10 %, below the 27.3-point break-even, so no
    // lift taken out of its rate pays; segment 1's 30 % could.
    let caution = TestPlan { design: Design { lift: Lift::Relative(0.5), ..treated }, segments: plan(&d, Design { lift: Lift::Relative(0.5), ..treated }).unwrap(), ..test(design) }
        .below_break_even()
        .expect("a caution");
    assert!(caution.ends_with("to size the test for a roll out, plan a lift above 27.3 points; no lift can be planned for a roll out in segment 0 (10.0 % in the data): taken as the treated arm's, the response rate in the data is the most the contact can have added, and it is below break-even"), "{caution}");
    let t = plan(&d, Design { lift: Lift::Absolute(0.05), ..treated }).unwrap();
    assert!((t[0].control() - 0.05).abs() < 1e-12 && (t[0].target_rate - 0.10).abs() < 1e-12);
    // A lift larger than the contacted rate leaves a negative rate without contact.
    let e = plan(&d, Design { lift: Lift::Absolute(0.2), ..treated }).unwrap_err();
    assert!(e.starts_with("segment 0: a lift of +20 percentage points on a response rate of 0.1000 in the data, taken as the treated arm's, gives a control rate of -0.1000"), "{e}");
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
        control_rate: Some(0.1),
        aim: Some(Aim::Stop),
        needed_per_arm: Some(per_arm),
        sized_at: None,
        no_size: None,
        per_arm,
        feasible: true,
        roll_out_from: Some(0.4),
        stop_up_to: Some(0.1),
        power: Some(0.8),
        power_over_interval: None,
        power_rates: None,
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
    // Too few customers to tell, all results in: undecided (not "keep
    // testing": more looks at this test would raise its error rates).
    let few: Vec<Observation> = obs.iter().filter(|o| o.segment == 1).take(10).copied().chain(
        obs.iter().filter(|o| o.segment == 1 && o.arm == Arm::Control).take(10).copied(),
    ).collect();
    let r = read("x", &plans[1..2], &few, &[20], false, 0.05);
    assert_eq!(r.segments[0].decision, Decision::Undecided);
    // The same results with more to come: keep testing.
    let r = read("x", &plans[1..2], &few, &[40], false, 0.05);
    assert_eq!(r.segments[0].decision, Decision::KeepTesting);
    assert!(render_reading(&r).contains(": keep testing\n"), "{}", render_reading(&r));
    // An arm without results estimates nothing: no rate, uplift or
    // profit (a 0/0 rate read as 0 % would show a made-up uplift).
    let treated_only: Vec<Observation> = obs.iter().filter(|o| o.segment == 1 && o.arm == Arm::Treatment).take(50).copied().collect();
    let r = read("x", &plans[1..2], &treated_only, &[50], false, 0.05);
    let g = &r.segments[0];
    assert_eq!(g.decision, Decision::Undecided);
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
                .find(|d| matches!(d, Decision::RollOut | Decision::Stop))
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

#[test]
fn a_plan_written_before_the_decision_sizing_still_reads_and_says_so() {
    // A segment of a plan.json from strata 0.4.0's first plan-test: sized
    // to tell the uplift from 0, with its smallest detectable lift.
    let old = r#"{"segment":0,"customers":894,"responders":206,"baseline":0.23,"baseline_low":0.204,
        "baseline_high":0.259,"target_rate":0.345,"needed_per_arm":261,"per_arm":261,"feasible":true,
        "detectable_lift":0.11,"cost_per_contact":3.0,"revenue_per_response":11.0,
        "break_even_uplift":0.2727,"test_cost":783.0,"profit_if_lift":-253.0}"#;
    let p: SegmentPlan = serde_json::from_str(old).expect("an old plan reads");
    assert_eq!((p.aim, p.needed_per_arm, p.roll_out_from), (None, Some(261), None));
    assert_eq!(p.target_text(), "control 23.0 %, treated 34.5 %");
    // Its design, from before the choice of the arm, took the data's rate
    // as the control arm's.
    let design: Design = serde_json::from_str(r#"{"alpha":0.05,"power":0.8,"lift":{"kind":"relative","value":0.5}}"#).expect("an old design reads");
    assert_eq!((design.rate_in_data, design.size_for), (RateInData::Control, SizeFor::Point));
    assert_eq!((p.sized_at, &p.no_size, p.power_rates), (None, &None, None));
    // A plan of the day before the grid gave the power at the interval's ends.
    let ends = SegmentPlan { power: Some(0.8), power_over_interval: Some((0.7, 0.9)), ..p.clone() };
    assert_eq!(ends.power_text(), "80.0 % (70.0 to 90.0 % at the ends of the 95 % interval of the rate in the data)");
    assert!(p.decisive_text(0.8).starts_with("not computed (planned to tell the uplift from 0"), "{}", p.decisive_text(0.8));
    // A new plan at break-even has no decision to size for, and says so.
    let at = SegmentPlan { aim: None, needed_per_arm: None, roll_out_from: None, stop_up_to: None, ..p };
    assert_eq!(at.target_text(), "control 23.0 %, treated 34.5 % (nothing to decide: the lift is the break-even uplift)");
    assert_eq!(at.needed_text(), "none (nothing to decide at break-even)");
    let near = SegmentPlan { aim: Some(Aim::Stop), target_rate: 0.23 + 0.2727 - 1e-7, baseline: 0.23, ..at.clone() };
    assert_eq!(near.needed_text(), "over 1e9 (the lift is within 0.00 points of break-even)");
    assert_eq!(at.decisive_text(0.8), "with power 80 % it is decisive for no uplift");
}

#[test]
fn a_segment_that_never_responded_is_planned_to_stop_under_a_relative_lift() {
    // Taken as the treated arm's rate, 0 responders leave nothing for the
    // contact to have caused: both arms at 0, a decision to stop; an
    // absolute lift there is an error that says what fits.
    let labels = vec![0usize; 200];
    let (y, cost, revenue) = (vec![0u8; 200], vec![3.0; 200], vec![11.0; 200]);
    let d = Segmented { labels: &labels, y: &y, cost: &cost, revenue: &revenue };
    let design = Design { alpha: 0.05, power: 0.8, lift: Lift::Relative(0.5), rate_in_data: RateInData::Treated, size_for: SizeFor::Point };
    let p = &plan(&d, design).unwrap()[0];
    assert_eq!((p.control(), p.target_rate, p.aim), (0.0, 0.0, Some(Aim::Stop)));
    let n = p.needed_per_arm.expect("a size");
    assert!(decision_power(n, 0.0, 0.0, 3.0 / 11.0, 0.05, Aim::Stop) >= 0.8 && n < 100, "{n}");
    let e = plan(&d, Design { lift: Lift::Absolute(0.05), ..design }).unwrap_err();
    assert!(e.contains("an absolute lift can be at most that (a relative lift fits every segment)"), "{e}");
    // Taken as the control arm's rate, a relative lift of 0 is no lift.
    let e = plan(&d, Design { rate_in_data: RateInData::Control, ..design }).unwrap_err();
    assert!(e.contains("gives a control rate of 0.0000 and a treated rate of 0.0000"), "{e}");
}

#[test]
fn small_lifts_and_losses_that_round_to_nothing_read_as_what_they_are() {
    assert_eq!(Lift::Relative(0.0001).describe(), "+0.01 % of the control arm's rate");
    assert_eq!(Lift::Relative(0.5).describe(), "+50 % of the control arm's rate");
    assert_eq!(Lift::Absolute(0.0005).describe(), "+0.05 percentage points");
    let at = |v: f64| SegmentPlan { profit_if_lift: v, ..segment_plan(0, 10) }.profit_if_lift_text();
    assert_eq!((at(-0.3).as_str(), at(-0.6).as_str(), at(365.2).as_str()), ("0", "-1", "365"));
}

#[test]
fn sized_over_the_rates_interval_the_power_holds_across_it() {
    let (labels, y, cost, revenue) = data(3000);
    let d = Segmented { labels: &labels, y: &y, cost: &cost, revenue: &revenue };
    let (be, alpha) = (3.0 / 11.0, 0.025);
    // +45 points on the control arm's rate: a roll out in both segments.
    let point = Design {
        alpha: 0.05,
        power: 0.8,
        lift: Lift::Absolute(0.45),
        rate_in_data: RateInData::Control,
        size_for: SizeFor::Point,
    };
    let wide = Design { size_for: SizeFor::Interval, ..point };
    let (at_point, over) = (plan(&d, point).unwrap(), plan(&d, wide).unwrap());
    for (a, b) in at_point.iter().zip(&over) {
        let (lo, hi) = (b.baseline_low, b.baseline_high);
        let rates: Vec<f64> = std::iter::once(b.baseline).chain((0..=20).map(|i| if i == 20 { hi } else { lo + (hi - lo) * i as f64 / 20.0 })).collect();
        let sizes: Vec<usize> = rates.iter().map(|&r| decision_sample_size(r, r + 0.45, be, alpha, 0.8).expect("a size")).collect();
        let n = b.needed_per_arm.expect("a size over the interval");
        let most = sizes.iter().copied().max().expect("three sizes");
        assert!(n >= most && n < most + 5, "{n} against {sizes:?}");
        assert_eq!(b.sized_at, Some(rates[sizes.iter().position(|&s| s == most).expect("the largest")]));
        assert!(b.feasible && b.per_arm == n);
        // The planned power at every rate across the interval; sized at the
        // point, it falls short at an end.
        for r in rates {
            assert!(decision_power(n, r, r + 0.45, be, alpha, Aim::RollOut) >= 0.8, "at {r}");
        }
        assert!(b.power_over_interval.is_some_and(|(lo, _)| lo >= 0.8), "{:?}", b.power_over_interval);
        if a.needed_per_arm.is_some_and(|m| m < n) {
            assert!(a.power_over_interval.is_some_and(|(lo, _)| lo < 0.8), "{:?}", a.power_over_interval);
        }
        if b.sized_at == Some(b.baseline) {
            assert_eq!(b.needed_text(), n.to_string());
        } else {
            assert!(b.needed_text().starts_with(&format!("{n} (the size at ")), "{}", b.needed_text());
        }
    }
    assert!(at_point.iter().zip(&over).any(|(a, b)| a.needed_per_arm < b.needed_per_arm), "an end needs more than the point");
    // Taken as the treated arm's rate, a relative lift of +1200 % is an
    // uplift of 12/13 of the rate: 27.7 points at segment 1's 30 %, above
    // the 27.3-point break-even, but below it at the low end of the rate's
    // interval. No size reaches a roll out there: the segment gets none and
    // all its customers, and says why; segment 0 is sized to stop.
    let flip = Design { lift: Lift::Relative(12.0), rate_in_data: RateInData::Treated, ..wide };
    let t = plan(&d, flip).unwrap();
    assert_eq!((t[1].aim, t[1].needed_per_arm, t[1].per_arm, t[1].feasible), (Some(Aim::RollOut), None, 500, false));
    let why = t[1].no_size.as_deref().expect("why no size");
    assert!(why.contains("the low end of its 95 % interval, the lift is an uplift of ") && why.ends_with("which calls for stop where the rate in the data calls for roll out"), "{why}");
    assert_eq!(t[1].needed_text(), format!("none reaches the power across the rate's interval ({why})"));
    assert!(t[0].needed_per_arm.is_some() && t[0].no_size.is_none() && t[0].aim == Some(Aim::Stop));
    // Sized at the point, the same lift gets a size.
    assert!(plan(&d, Design { size_for: SizeFor::Point, ..flip }).unwrap()[1].needed_per_arm.is_some());
    // The rule says where the power holds.
    assert!(planning_rule(&wide, 2).contains("reaches that decision with probability 0.8 (its exact binomial power up to 5000 per arm, reaching it at that size and at each of the next 20, since it wobbles with the size; the normal approximation above) at the segment's rate in the data and at 21 rates spanning its 95 % Wilson interval, ends included, the largest of those sizes"));
    assert!(planning_rule(&point, 2).contains("the normal approximation above) at the segment's rate in the data; a segment with fewer"));
}

#[test]
fn sized_over_the_interval_simulated_tests_reach_the_decision_across_it() {
    // One segment of 150 customers answering at 20 %: its Wilson interval
    // is about 14 to 27 %. A lift of +5 points on the control arm's rate,
    // below the 27.3-point break-even, calls for stopping. Simulated tests
    // at the interval plan's size, read by `read`, stop at least as often
    // as planned wherever in the interval the true rate lies; the point
    // plan's size falls short at some rate of it.
    let n = 150;
    let labels = vec![0; n];
    let y: Vec<u8> = (0..n).map(|i| u8::from(i % 5 == 0)).collect();
    let (cost, revenue) = (vec![3.0; n], vec![11.0; n]);
    let d = Segmented { labels: &labels, y: &y, cost: &cost, revenue: &revenue };
    let point = Design {
        alpha: 0.05,
        power: 0.8,
        lift: Lift::Absolute(0.05),
        rate_in_data: RateInData::Control,
        size_for: SizeFor::Point,
    };
    let wide = plan(&d, Design { size_for: SizeFor::Interval, ..point }).unwrap().remove(0);
    let narrow = plan(&d, point).unwrap().remove(0);
    assert!(wide.feasible && narrow.feasible && wide.per_arm > narrow.per_arm, "{} {}", wide.per_arm, narrow.per_arm);
    let b = 3.0 / 11.0;
    let (lo, hi) = (wide.baseline_low, wide.baseline_high);
    let short: Vec<f64> = interval_rates(lo, hi)
        .into_iter()
        .filter(|&r| decision_power(narrow.per_arm, r, r + 0.05, b, 0.05, Aim::Stop) < 0.8)
        .collect();
    assert!(!short.is_empty());
    // Both ends, the middle, and where the point plan falls shortest.
    let worst = short.iter().copied().fold(f64::NAN, |w, r| {
        let at = |r: f64| decision_power(narrow.per_arm, r, r + 0.05, b, 0.05, Aim::Stop);
        if w.is_nan() || at(r) < at(w) { r } else { w }
    });
    let rates = [lo, 0.5 * (lo + hi), hi, worst];
    let mut rng = Rng::new(Seed(23));
    for &p0 in &rates {
        let share = simulated_share(&wide, p0, p0 + 0.05, Decision::Stop, &mut rng);
        // 2000 runs: a standard error of about 0.009.
        assert!(share > 0.775, "at a control rate of {p0}: stopped {share} of the time");
    }
}

/// Each fold is cut into quarters by its own scores: a fold whose fit
/// scores everyone high (another scale, not better customers) still puts
/// only its best quarter in quarter 0; pooled, it would fill quarters 0 and 1
/// alone.
#[test]
fn mlp_quarters_are_cut_within_each_fold() {
    // Fold a (rows 0..8) scored 0.9..0.97, fold b (rows 8..16) 0.1..0.17,
    // each in reverse row order within its fold.
    let score: Vec<f64> = (0..16).map(|i| if i < 8 { 0.97 - 0.01 * i as f64 } else { 0.17 - 0.01 * (i - 8) as f64 }).collect();
    let folds = vec![(0..8).collect::<Vec<_>>(), (8..16).collect()];
    let q = files::quartiles_within(&score, &folds);
    assert_eq!(q, [0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3]);
    // Ties are broken by row order; folds of uneven size differ by at most one per quarter.
    let q = files::quartiles_within(&[0.5; 7], &[vec![0, 2, 4, 6], vec![1, 3, 5]]);
    assert_eq!(q, [0, 0, 1, 1, 2, 2, 3]);
}
