//! One split of held-out targeting: the fits on its training customers and
//! the policies' decisions for its held-out ones.

use super::{MLP_POLICY, RankedList, SEGMENT_POLICY, SegmentDecision, ranked_list};
use crate::segments::{Action, campaign};
use strata_core::{Clusterer, Economics, Reducer, Rng, Seed};
use strata_neural::MlpConfig;
use strata_neural::cv::Source;

/// A random split of the rows `0..n` into (training, held out), `test_rows`
/// of them held out, unstratified: the number of responders held out
/// varies from split to split as it would in a new batch of customers, so
/// the splits' spread counts it (a stratified split fixes it, and contacting
/// everyone would then earn the same in every split).
pub(super) fn random_split(n: usize, test_rows: usize, seed: Seed) -> (Vec<usize>, Vec<usize>) {
    let mut all: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut all);
    let (test, train) = all.split_at(test_rows.min(n));
    let (mut train, mut test) = (train.to_vec(), test.to_vec());
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// What every split of [`evaluate`](super::evaluate) fits and judges with.
pub(super) struct Setting<'s, 'a, 'b> {
    pub(super) source: Source<'a>,
    pub(super) segment_source: Option<Source<'b>>,
    pub(super) y: &'s [u8],
    pub(super) econ: &'s Economics,
    pub(super) reducer: &'s dyn Reducer,
    pub(super) clusterer: &'s dyn Clusterer,
    pub(super) mlp: &'s MlpConfig,
    pub(super) typed: Option<&'s crate::features::Typed>,
    pub(super) chosen: Option<&'s [usize]>,
}

/// One split's fits and the held-out customers' decisions.
pub(super) struct SplitFit {
    pub(super) segments: Vec<SegmentDecision>,
    /// Whom each policy of [`POLICIES`] contacts among the held-out customers.
    pub(super) masks: [Vec<bool>; 3],
    /// Each held-out customer's profit if contacted.
    pub(super) units: Vec<f64>,
    /// The MLP's score of each held-out customer.
    pub(super) scores: Vec<f64>,
}

/// The policies, in the order of [`SplitFit::masks`].
pub(super) const POLICIES: [&str; 3] = [SEGMENT_POLICY, "everyone", MLP_POLICY];

impl SplitFit {
    /// Each policy's (profit, customers contacted) on the held-out customers;
    /// `+ 0.0` turns an empty sum's -0 into 0 for display.
    /// Profit of contacting the best [`DEPTHS`](super::repeated::DEPTHS)
    /// share of the held-out customers by the MLP's score (ties in
    /// held-out order), at each share.
    pub(super) fn depth_profits(&self) -> Vec<f64> {
        let n = self.units.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.scores[b].total_cmp(&self.scores[a]).then(a.cmp(&b)));
        super::repeated::DEPTHS
            .iter()
            .map(|&share| order[..super::repeated::depth_count(share, n).min(n)].iter().map(|&j| self.units[j]).sum::<f64>() + 0.0)
            .collect()
    }

    pub(super) fn outcome(&self) -> [(f64, usize); 3] {
        self.masks.each_ref().map(|mask| {
            let profit: f64 = mask.iter().zip(&self.units).filter(|(m, _)| **m).map(|(_, u)| u).sum();
            (profit + 0.0, mask.iter().filter(|&&m| m).count())
        })
    }
}

/// Fits the segments and the MLP's ranked list on the customers `train`
/// (the preprocessing recipe too) and decides for the customers `test`.
pub(super) fn fit_split(s: &Setting<'_, '_, '_>, train: &[usize], test: &[usize], seed: Seed) -> anyhow::Result<SplitFit> {
    let (y, econ) = (s.y, s.econ);
    // Everything fitted, preprocessing included, sees the training customers only.
    let prepare = |source: &Source<'_>| -> anyhow::Result<_> {
        let (xtr, mut rest) = source.prepare(train, &[test])?;
        let xte = rest
            .pop()
            .ok_or_else(|| anyhow::anyhow!("targeting: no matrix for the held-out customers"))?;
        Ok((xtr, xte))
    };
    let (xtr, xte) = prepare(&s.source)?;
    let segmenting = s.segment_source.as_ref().map(prepare).transpose()?;
    let (str_, ste) = segmenting.as_ref().map_or((&xtr, &xte), |(a, b)| (a, b));
    let unit = |i: usize| f64::from(y[i]) * econ.revenue_per_response[i] - econ.cost_per_contact[i];

    // Segments, fitted on the training customers only.
    let (fitted_r, ztr) = s.reducer.fit_transform(str_.view(), seed.named("representation"))?;
    let zte = fitted_r.transform(ste.view())?;
    let fitted_c =
        crate::features::fit_clusterer(s.clusterer, s.reducer.name(), ztr.view(), s.typed, seed.named("clusterer"))?;
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
    for (seg, contact_s) in contact.iter_mut().enumerate() {
        let rows: Vec<usize> = (0..train.len())
            .filter(|&j| ltr[j] == seg)
            .map(|j| train[j])
            .collect();
        if rows.is_empty() {
            continue;
        }
        let est = campaign(&rows, y, Some(econ), None);
        let action = est.action.unwrap_or(Action::Uncertain);
        *contact_s = action == Action::Contact;
        let trows: Vec<usize> = (0..test.len())
            .filter(|&j| lte[j] == seg)
            .map(|j| test[j])
            .collect();
        let chosen_segment = s.chosen.and_then(|c| crate::segments::majority(&rows, c));
        segments.push(SegmentDecision {
            segment: seg,
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
    let RankedList { model, threshold, .. } = ranked_list(s.mlp, xtr.view(), y, train, &unit, seed)?;
    let scores = model.predict_proba(xte.view())?;
    let by_segment: Vec<bool> = lte
        .iter()
        .map(|&seg| contact.get(seg).copied().unwrap_or(false))
        .collect();
    let by_mlp: Vec<bool> = scores.iter().map(|&p| p >= threshold).collect();
    Ok(SplitFit {
        segments,
        masks: [by_segment, vec![true; test.len()], by_mlp],
        units: test.iter().map(|&i| unit(i)).collect(),
        scores,
    })
}
