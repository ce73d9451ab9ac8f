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

use crate::segments::{Action, campaign, percentile};
use ndarray::Axis;
use serde::{Deserialize, Serialize};
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
    pub verdict: String,
}

/// Share of the customers the sweep holds out.
pub const TEST_FRACTION: f64 = 0.3;

/// The (training, held-out) rows [`evaluate`] uses for a given seed: a
/// stratified split, so that other stages can keep to the training rows.
pub fn holdout(y: &[u8], test_fraction: f64, seed: Seed) -> (Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..y.len()).collect();
    stratified_split(&all, y, test_fraction, seed.named("holdout"))
}

/// Runs the held-out comparison. `source` gives the features (with
/// `Source::Prepared`, the preprocessing recipe is fitted on the training
/// customers only), `segment_source` the features the segmentation sees when
/// they differ (`[features]`), `y` the 0/1 responses, `econ` the cost and
/// revenue per row, `chosen` the chosen clustering's label of every row
/// (to name the segment card each training segment stands for; not used in
/// any fit or decision).
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
) -> anyhow::Result<TargetingReport> {
    if y.len() != source.rows()
        || econ.cost_per_contact.len() != y.len()
        || segment_source.is_some_and(|s| s.rows() != y.len())
        || chosen.is_some_and(|c| c.len() != y.len())
    {
        anyhow::bail!("features, target and economics must have one value per row");
    }
    let (train, test) = holdout(y, test_fraction, seed);
    if test.is_empty() || train.is_empty() {
        anyhow::bail!("targeting: too few rows of each class to hold {test_fraction} of them out");
    }
    // Everything fitted, preprocessing included, sees the training customers only.
    let prepare = |source: Source<'_>| -> anyhow::Result<_> {
        let (xtr, mut rest) = source.prepare(&train, &[&test])?;
        let xte = rest
            .pop()
            .ok_or_else(|| anyhow::anyhow!("targeting: no matrix for the held-out customers"))?;
        Ok((xtr, xte))
    };
    let (xtr, xte) = prepare(source)?;
    let segmenting = segment_source.map(prepare).transpose()?;
    let (str_, ste) = segmenting.as_ref().map_or((&xtr, &xte), |(a, b)| (a, b));
    let unit = |i: usize| f64::from(y[i]) * econ.revenue_per_response[i] - econ.cost_per_contact[i];

    // Segments, fitted on the training customers only.
    let (fitted_r, ztr) = reducer.fit_transform(str_.view(), seed.named("representation"))?;
    let zte = fitted_r.transform(ste.view())?;
    let fitted_c = crate::features::fit_clusterer(clusterer, reducer.name(), ztr.view(), typed, seed.named("clusterer"))?;
    let ltr = fitted_c.labels().to_vec();
    let lte = fitted_c.predict(zte.view())?.to_vec();
    let k = ltr
        .iter()
        .chain(lte.iter())
        .copied()
        .max()
        .map_or(0, |m| m + 1);
    let mut segments = Vec::new();
    let mut contact = vec![false; k];
    for (s, contact_s) in contact.iter_mut().enumerate() {
        let rows: Vec<usize> = (0..train.len())
            .filter(|&j| ltr[j] == s)
            .map(|j| train[j])
            .collect();
        if rows.is_empty() {
            continue;
        }
        let est = campaign(&rows, y, Some(econ), None);
        let action = est.action.unwrap_or(Action::Uncertain);
        *contact_s = action == Action::Contact;
        let trows: Vec<usize> = (0..test.len())
            .filter(|&j| lte[j] == s)
            .map(|j| test[j])
            .collect();
        let chosen_segment = chosen.and_then(|c| crate::segments::majority(&rows, c));
        segments.push(SegmentDecision {
            segment: s,
            chosen_segment,
            train_size: rows.len(),
            train_rate: est.response_rate,
            rate_low: est.rate_low,
            rate_high: est.rate_high,
            profit_low: est.profit_low.unwrap_or(f64::NAN),
            profit_high: est.profit_high.unwrap_or(f64::NAN),
            action,
            test_size: trows.len(),
            test_rate: trows.iter().filter(|&&i| y[i] == 1).count() as f64
                / trows.len().max(1) as f64,
        });
    }

    // The MLP's ranked list, its cut-off chosen on a validation split of the training customers.
    let RankedList { model, threshold, .. } = ranked_list(mlp, xtr.view(), y, &train, &unit, seed)?;
    let st = model.predict_proba(xte.view())?;

    // Decisions on the held-out customers, then bootstrap.
    let units: Vec<f64> = test.iter().map(|&i| unit(i)).collect();
    let by_segment: Vec<bool> = lte
        .iter()
        .map(|&s| contact.get(s).copied().unwrap_or(false))
        .collect();
    let by_mlp: Vec<bool> = st.iter().map(|&p| p >= threshold).collect();
    let everyone = vec![true; test.len()];
    let policies_def: [(&str, &Vec<bool>); 3] = [
        (SEGMENT_POLICY, &by_segment),
        ("everyone", &everyone),
        (MLP_POLICY, &by_mlp),
    ];
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
    let profits: Vec<f64> = policies_def
        .iter()
        // `+ 0.0` turns an empty sum's -0 into 0 for display.
        .map(|(_, mask)| total(mask, &mut (0..test.len())) + 0.0)
        .collect();
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
        .zip(&profits)
        .map(|(((name, mask), bs), &profit)| {
            bs.sort_by(f64::total_cmp);
            Policy {
                name: name.to_string(),
                contacted: mask.iter().filter(|&&m| m).count(),
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
    let lines: Vec<String> = policies.iter().map(|p| policy_line(p, &segments)).collect();
    let ahead = leads.iter().all(|l| l.low > 0.0);
    let lead_text: Vec<String> = leads.iter().map(|l| lead_line(l, &policies)).collect();
    let verdict = format!(
        "{win} earns the most on the {} held-out customers{}: {}; its lead {} (paired bootstrap, {:.1} % intervals, Bonferroni over {m} comparisons)",
        test.len(),
        if ahead {
            ", ahead of every other policy"
        } else {
            ", but not clearly ahead of every other policy"
        },
        lines.join("; "),
        lead_text.join(", "),
        100.0 * (1.0 - alpha),
    );
    Ok(TargetingReport {
        train_rows: train.len(),
        test_positives: test.iter().filter(|&&i| y[i] == 1).count(),
        test_rows: test,
        segments,
        policies,
        curve,
        leads,
        verdict,
    })
}

/// The MLP's ranked list, fitted on the customers `rows` (global indices
/// into `y`; `x` holds their features in that order): the MLP is trained on
/// a stratified 80 % of them, and the other 20 % validate it (early
/// stopping) and set the contact threshold, the score down to which
/// contacting them, best first, earned the most (`unit(i)`: customer `i`'s
/// profit if contacted). Infinite when no prefix of the list earns
/// anything: contact nobody. Held-out targeting judges this procedure;
/// `strata contact-list` applies it to every customer.
pub fn ranked_list(
    mlp: &MlpConfig,
    x: ndarray::ArrayView2<'_, f64>,
    y: &[u8],
    rows: &[usize],
    unit: &dyn Fn(usize) -> f64,
    seed: Seed,
) -> anyhow::Result<RankedList> {
    if x.nrows() != rows.len() {
        anyhow::bail!("ranked list: {} feature rows for {} customers", x.nrows(), rows.len());
    }
    let mut at = vec![usize::MAX; y.len()];
    for (p, &i) in rows.iter().enumerate() {
        at[i] = p;
    }
    let rows_of = |r: &[usize]| x.select(Axis(0), &r.iter().map(|&i| at[i]).collect::<Vec<_>>());
    let (fit, val) = stratified_split(rows, y, 0.2, seed.named("mlp-validation"));
    let yf: Vec<u8> = fit.iter().map(|&i| y[i]).collect();
    let yv: Vec<u8> = val.iter().map(|&i| y[i]).collect();
    let (xfit, xval) = (rows_of(&fit), rows_of(&val));
    let model = mlp.fit(xfit.view(), &yf, xval.view(), &yv, seed.named("mlp"), &|_| {})?;
    let sv = model.predict_proba(xval.view())?;
    let mut order: Vec<usize> = (0..val.len()).collect();
    order.sort_by(|&a, &b| sv[b].total_cmp(&sv[a]));
    let (mut best, mut run, mut threshold) = (0.0, 0.0, f64::INFINITY);
    for &j in &order {
        run += unit(val[j]);
        if run > best {
            best = run;
            threshold = sv[j];
        }
    }
    Ok(RankedList {
        model,
        threshold,
        fit_rows: fit.len(),
        validation_rows: val.len(),
    })
}

/// What [`ranked_list`] fits.
pub struct RankedList {
    pub model: strata_neural::FittedMlp,
    /// Contact every customer scored at least this (infinite: nobody).
    pub threshold: f64,
    /// Customers the MLP was trained on, and those that validated it.
    pub fit_rows: usize,
    pub validation_rows: usize,
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

/// The winner's lead over one other policy, for the verdict; a lead over a
/// policy that contacts nobody says so, since that policy's profit is 0 by
/// construction.
fn lead_line(l: &Lead, policies: &[Policy]) -> String {
    let nobody = policies.iter().any(|p| p.name == l.over && p.contacted == 0);
    format!(
        "{:+.0} [{:+.0}, {:+.0}] over {}{}",
        l.diff,
        l.low,
        l.high,
        l.over,
        if nobody { " (contacting nobody)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, ArrayView2};
    use std::sync::{Arc, Mutex};
    use strata_core::{AlgoError, FittedClusterer, FittedReducer};

    /// Records the rows (first column = row index) it is fitted on.
    struct Spy(Arc<Mutex<Vec<usize>>>);
    struct SpyFit(usize);
    impl Reducer for Spy {
        fn name(&self) -> &str {
            "spy"
        }
        fn fit(
            &self,
            x: ArrayView2<'_, f64>,
            _seed: Seed,
        ) -> Result<Box<dyn FittedReducer>, AlgoError> {
            self.0
                .lock()
                .expect("lock")
                .extend(x.column(0).iter().map(|v| *v as usize));
            Ok(Box::new(SpyFit(x.ncols())))
        }
    }
    impl FittedReducer for SpyFit {
        fn n_components(&self) -> usize {
            self.0
        }
        fn component_names(&self) -> Vec<String> {
            vec![]
        }
        fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
            Ok(x.to_owned())
        }
    }
    /// Two segments by the sign of column 1, recording the rows it is fitted on.
    struct SpyClusters(Arc<Mutex<Vec<usize>>>);
    struct Halves(Array1<usize>);
    impl Clusterer for SpyClusters {
        fn name(&self) -> &str {
            "spy"
        }
        fn fit(
            &self,
            x: ArrayView2<'_, f64>,
            _seed: Seed,
        ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
            self.0
                .lock()
                .expect("lock")
                .extend(x.column(0).iter().map(|v| *v as usize));
            Ok(Box::new(Halves(x.column(1).mapv(|v| usize::from(v > 0.0)))))
        }
    }
    impl FittedClusterer for Halves {
        fn n_clusters(&self) -> usize {
            2
        }
        fn labels(&self) -> &Array1<usize> {
            &self.0
        }
        fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
            Ok(x.column(1).mapv(|v| usize::from(v > 0.0)))
        }
    }

    #[test]
    fn held_out_customers_are_never_fitted_and_policies_add_up() {
        // Segment "column 1 > 0" responds 60 %, the other 5 %; cost 3, revenue 11.
        let n = 1000;
        let mut r = Rng::new(Seed(4));
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => i as f64,
            1 => {
                if i % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            }
            _ => r.normal(),
        });
        let y: Vec<u8> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    u8::from(i % 10 < 6)
                } else {
                    u8::from(i % 20 == 1)
                }
            })
            .collect();
        let econ = Economics {
            cost_per_contact: Array1::from_elem(n, 3.0),
            revenue_per_response: Array1::from_elem(n, 11.0),
        };
        // The chosen clustering's labels: even rows "7", odd rows "3" but
        // for one in five, "5".
        let chosen: Vec<usize> = (0..n)
            .map(|i| match (i % 2, i % 10) {
                (0, _) => 7,
                (_, 1) => 5,
                _ => 3,
            })
            .collect();
        let (seen_r, seen_c) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Mutex::new(Vec::new())),
        );
        let mlp = MlpConfig {
            epochs: 5,
            ..MlpConfig::default()
        };
        let rep = evaluate(
            Source::Matrix(x.view()),
            None,
            &y,
            &econ,
            &Spy(seen_r.clone()),
            &SpyClusters(seen_c.clone()),
            &mlp,
            0.3,
            Seed(1),
            None,
            Some(&chosen),
        )
        .unwrap();
        assert_eq!(rep.test_rows.len(), 300);
        for seen in [seen_r, seen_c] {
            let seen = seen.lock().expect("lock");
            assert_eq!(seen.len(), 700);
            assert!(
                seen.iter().all(|i| !rep.test_rows.contains(i)),
                "a fit saw a held-out row"
            );
        }
        let seg = |s: usize| {
            rep.segments
                .iter()
                .find(|d| d.segment == s)
                .expect("segment")
        };
        assert_eq!(seg(1).action, Action::Contact);
        assert_eq!(seg(0).action, Action::Skip);
        // Named after the chosen clustering's segments they hold: all of
        // segment 1's training rows are even, "7" in `chosen`; segment 0's
        // are odd, mostly "3".
        assert_eq!(seg(1).chosen_segment, Some((7, 1.0)));
        let (s0, share) = seg(0).chosen_segment.expect("matched");
        let odd_train = (0..1000).filter(|i| i % 2 == 1 && !rep.test_rows.contains(i));
        let fives = odd_train.clone().filter(|i| i % 10 == 1).count() as f64;
        assert_eq!(s0, 3);
        assert!((share - (1.0 - fives / odd_train.count() as f64)).abs() < 1e-12, "{share}");
        // Realized profits are sums of 11 y - 3 over the contacted held-out rows.
        let unit = |i: usize| 11.0 * f64::from(y[i]) - 3.0;
        let everyone: f64 = rep.test_rows.iter().map(|&i| unit(i)).sum();
        let segments: f64 = rep
            .test_rows
            .iter()
            .filter(|&&i| i % 2 == 0)
            .map(|&i| unit(i))
            .sum();
        let p = |name: &str| {
            rep.policies
                .iter()
                .find(|p| p.name == name)
                .expect("policy")
        };
        assert!((p("everyone").profit - everyone).abs() < 1e-9);
        assert!((p("contact segments").profit - segments).abs() < 1e-9);
        assert_eq!(
            p("contact segments").contacted,
            rep.test_rows.iter().filter(|&&i| i % 2 == 0).count()
        );
        assert!(p("contact segments").low <= segments && segments <= p("contact segments").high);
        // The winner's lead over each other policy, paired, Bonferroni over 2.
        let win = rep
            .policies
            .iter()
            .max_by(|a, b| a.profit.total_cmp(&b.profit))
            .expect("policies");
        assert_eq!(rep.leads.len(), 2);
        for l in &rep.leads {
            let o = p(&l.over);
            assert_ne!(o.name, win.name);
            assert!((l.diff - (win.profit - o.profit)).abs() < 1e-9, "{l:?}");
            assert!(l.low <= l.diff && l.diff <= l.high && l.level == 0.975, "{l:?}");
            // Paired: the lead varies less than the two totals apart would.
            assert!(l.high - l.low < (win.high - win.low) + (o.high - o.low), "{l:?}");
        }
        assert!(rep.verdict.contains("(paired bootstrap, 97.5 % intervals, Bonferroni over 2 comparisons)"), "{}", rep.verdict);
        assert_eq!(rep.curve.last().map(|c| c.0), Some(300));
        assert!((rep.curve.last().map(|c| c.1).unwrap_or(0.0) - everyone).abs() < 1e-9);

        // The segmentation sees `segment_source` (here with the sign of
        // column 1 flipped), the MLP still `source`: the segments swap, the
        // MLP's list does not move.
        let mut flipped = x.slice(ndarray::s![.., ..2]).to_owned();
        flipped.column_mut(1).mapv_inplace(|v| -v);
        let with_segments = |seg: Source<'_>| {
            evaluate(
                Source::Matrix(x.view()),
                Some(seg),
                &y,
                &econ,
                &Spy(Arc::new(Mutex::new(Vec::new()))),
                &SpyClusters(Arc::new(Mutex::new(Vec::new()))),
                &mlp,
                0.3,
                Seed(1),
                None,
                None,
            )
        };
        let rep2 = with_segments(Source::Matrix(flipped.view()))
        .unwrap();
        let seg2 = |s: usize| {
            rep2.segments
                .iter()
                .find(|d| d.segment == s)
                .expect("segment")
        };
        assert_eq!(seg2(0).action, Action::Contact);
        assert_eq!(seg2(1).action, Action::Skip);
        assert_eq!(rep2.curve, rep.curve);
        assert!(rep2.segments.iter().all(|d| d.chosen_segment.is_none()));
        let short = x.slice(ndarray::s![..10, ..]);
        assert!(with_segments(Source::Matrix(short)).is_err());
    }

    #[test]
    fn a_policy_that_contacts_nobody_says_so_and_why() {
        let decision = |segment: usize, action: Action| SegmentDecision {
            segment,
            chosen_segment: None,
            train_size: 100,
            train_rate: 0.1,
            rate_low: 0.05,
            rate_high: 0.15,
            profit_low: -2.0,
            profit_high: -0.5,
            action,
            test_size: 30,
            test_rate: 0.1,
        };
        let segments = [decision(0, Action::Skip), decision(1, Action::Skip), decision(2, Action::Uncertain)];
        let policy = |name: &str, contacted: usize| Policy {
            name: name.into(),
            contacted,
            profit: if contacted == 0 { 0.0 } else { -12.0 },
            low: -20.0,
            high: 0.0,
        };
        assert_eq!(
            policy_line(&policy("contact segments", 0), &segments),
            "contact segments 0 (nobody contacted: no segment clears break-even on the training customers, 2 to skip and 1 uncertain)"
        );
        assert_eq!(policy_line(&policy("MLP ranked list", 0), &segments), "MLP ranked list 0 (nobody contacted)");
        assert_eq!(
            policy_line(&policy("everyone", 40), &segments),
            "everyone -12 [-20, 0] (40 contacted)"
        );
        let policies = [policy("contact segments", 0), policy("everyone", 40)];
        let lead = |over: &str| Lead {
            over: over.into(),
            diff: 407.4,
            low: 242.0,
            high: 565.2,
            level: 0.975,
        };
        assert_eq!(
            lead_line(&lead("contact segments"), &policies),
            "+407 [+242, +565] over contact segments (contacting nobody)"
        );
        assert_eq!(lead_line(&lead("everyone"), &policies), "+407 [+242, +565] over everyone");
        // A name no policy carries is not taken for one that contacts nobody.
        assert_eq!(lead_line(&lead("nobody's list"), &policies), "+407 [+242, +565] over nobody's list");
    }
}
