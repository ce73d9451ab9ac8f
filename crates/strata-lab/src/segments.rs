//! Segment profiles: one card per cluster of the chosen clustering, in the
//! data's original units, with the campaign economics where the dataset has a
//! target and costs.
//!
//! For a marketing segment the card gives the response rate with a Wilson 95 %
//! interval, the lift over the base rate, the expected profit per customer
//! contacted (response rate x revenue per response - cost per contact) with
//! the interval carried through, and an action: **contact** when even the low
//! end of the interval is profitable, **skip** when even the high end loses
//! money, **uncertain** when the interval straddles break-even.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_core::Economics;

/// Wilson score interval for `k` successes in `n` trials at normal quantile `z`.
pub fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// What to do with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Contact,
    Skip,
    Uncertain,
}

impl Action {
    pub fn from_profit_interval(low: f64, high: f64) -> Action {
        if low > 0.0 {
            Action::Contact
        } else if high < 0.0 {
            Action::Skip
        } else {
            Action::Uncertain
        }
    }
    pub fn explain(&self) -> &'static str {
        match self {
            Action::Contact => {
                "contact: receptive and profitable even at the low end of the interval"
            }
            Action::Skip => {
                "skip: responds too rarely; contacting loses money even at the high end of the interval"
            }
            Action::Uncertain => "uncertain: the interval straddles break-even",
        }
    }
}

/// One feature that sets a segment apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trait {
    pub feature: String,
    pub segment_mean: f64,
    pub overall_mean: f64,
    /// (segment mean - overall mean) / overall standard deviation.
    pub standardized_difference: f64,
}

impl Trait {
    pub fn describe(&self) -> String {
        // A ratio only reads well for positive quantities (not for decibels).
        let ratio = if self.overall_mean > 1e-12 && self.segment_mean >= 0.0 {
            format!(" ({:.1}x)", self.segment_mean / self.overall_mean)
        } else {
            String::new()
        };
        format!(
            "{}: {} vs {} overall{ratio}",
            self.feature,
            short(self.segment_mean),
            short(self.overall_mean)
        )
    }
}

fn short(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Campaign figures of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub responders: usize,
    pub response_rate: f64,
    pub rate_low: f64,
    pub rate_high: f64,
    /// Response rate over the base rate of all rows.
    pub lift: f64,
    /// Expected profit per customer contacted, with the Wilson interval carried through.
    pub profit_per_contact: Option<f64>,
    pub profit_low: Option<f64>,
    pub profit_high: Option<f64>,
    pub action: Option<Action>,
}

/// The share of each category of a metadata column in a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mix {
    pub column: String,
    /// (category, share of the segment), largest first, at most five.
    pub top: Vec<(String, f64)>,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentCard {
    pub segment: usize,
    pub size: usize,
    pub share: f64,
    pub label: String,
    pub traits: Vec<Trait>,
    pub campaign: Option<Campaign>,
    pub mixes: Vec<Mix>,
    /// Quartiles of descriptive numeric columns (e.g. popularity), shown, never used to fit.
    pub described: BTreeMap<String, [f64; 3]>,
    /// Mean of every feature in original units (when there are at most 15 features).
    #[serde(default)]
    pub means: Vec<(String, f64)>,
    /// The rows a density-based clusterer (DBSCAN) left in no dense region,
    /// gathered under one label: not a segment, shown as noise.
    #[serde(default)]
    pub noise: bool,
}

/// What a noise card is called in place of a segment.
pub const NOISE: &str = "noise: rows in no dense region";

/// The label a run gave the rows its clusterer left as noise, if any: a
/// clusterer that reports `noise_points` gives them the label after its
/// `clusters_found` clusters (see `strata_cluster_linfa`).
pub fn noise_label(run: &crate::store::RunRecord) -> Option<usize> {
    let s = &run.clustering.as_ref()?.diagnostics.scalars;
    let (noise, found) = (*s.get("noise_points")?, *s.get("clusters_found")?);
    (noise > 0.0 && found >= 0.0).then_some(found as usize)
}

fn mean_sd(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count().max(1) as f64;
    let m = v.clone().sum::<f64>() / n;
    let var = v.map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// The value at quantile `q` of sorted, non-empty `v`: the nearest rank,
/// `v[round(q (len - 1))]` (quartiles of segment cards, bootstrap intervals).
pub(crate) fn percentile(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn quartiles(mut v: Vec<f64>) -> [f64; 3] {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return [f64::NAN; 3];
    }
    v.sort_by(f64::total_cmp);
    [percentile(&v, 0.25), percentile(&v, 0.5), percentile(&v, 0.75)]
}

/// The segment of `labels` (one per row of the chosen clustering) that
/// holds most of `rows`, and its share of them; on a tie, the lower
/// segment. A segment from another fit (training rows only, one cohort)
/// names the segment card it stands for this way. `None` for no rows.
pub fn majority(rows: &[usize], labels: &[usize]) -> Option<(usize, f64)> {
    let mut counts = BTreeMap::<usize, usize>::new();
    rows.iter().for_each(|&i| *counts.entry(labels[i]).or_default() += 1);
    let (seg, n) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    Some((seg, n as f64 / rows.len() as f64))
}

/// Response rate of `rows` with its Wilson 95 % interval and lift over
/// `base_rate`; with economics, the expected profit per contact (mean revenue
/// per response x rate - mean cost), its interval and the action.
pub fn campaign(
    rows: &[usize],
    target: &[u8],
    economics: Option<&Economics>,
    base_rate: Option<f64>,
) -> Campaign {
    let responders = rows.iter().filter(|&&i| target[i] == 1).count();
    let rate = responders as f64 / rows.len() as f64;
    let (lo, hi) = wilson(responders, rows.len(), strata_core::stats::Z95);
    let (profit, plo, phi, action) = match economics {
        Some(e) => {
            let m = rows.len() as f64;
            let cost = rows.iter().map(|&i| e.cost_per_contact[i]).sum::<f64>() / m;
            let revenue = rows.iter().map(|&i| e.revenue_per_response[i]).sum::<f64>() / m;
            let (p, l, h) = (
                rate * revenue - cost,
                lo * revenue - cost,
                hi * revenue - cost,
            );
            (
                Some(p),
                Some(l),
                Some(h),
                Some(Action::from_profit_interval(l, h)),
            )
        }
        None => (None, None, None, None),
    };
    Campaign {
        responders,
        response_rate: rate,
        rate_low: lo,
        rate_high: hi,
        lift: base_rate.map_or(f64::NAN, |b| if b > 0.0 { rate / b } else { f64::NAN }),
        profit_per_contact: profit,
        profit_low: plo,
        profit_high: phi,
        action,
    }
}

/// Inputs of the profiles besides the labels.
pub struct ProfileData<'a> {
    /// Features in original units (rows x features).
    pub unscaled: ArrayView2<'a, f64>,
    pub names: &'a [String],
    pub target: Option<&'a [u8]>,
    pub economics: Option<&'a Economics>,
    /// Categorical metadata columns: (name, value per row).
    pub categories: Categories,
    /// Numeric metadata columns described but never used: (name, value per row).
    pub numbers: Numbers,
    /// Features whose values are category codes (`columns.nominal`): shown
    /// by their most common values, never as a mean or a trait.
    pub nominal: &'a [String],
    /// The label of the rows left as noise ([`noise_label`]), if any.
    pub noise: Option<usize>,
}

/// A category code as text: whole numbers without decimals.
fn code_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// Profiles every segment of `labels`, largest first.
pub fn profile(labels: &[usize], d: &ProfileData<'_>) -> Vec<SegmentCard> {
    let n = labels.len();
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let overall: Vec<(f64, f64)> = (0..d.unscaled.ncols())
        .map(|j| mean_sd(d.unscaled.column(j).iter().copied()))
        .collect();
    let base = d
        .target
        .map(|t| t.iter().filter(|&&v| v == 1).count() as f64 / n.max(1) as f64);
    let mut cards = Vec::new();
    for s in 0..k {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == s).collect();
        if rows.is_empty() {
            continue;
        }
        let is_nominal = |j: usize| d.names.get(j).is_some_and(|n| d.nominal.contains(n));
        let mut traits: Vec<Trait> = (0..d.unscaled.ncols())
            .filter(|&j| overall[j].1 > 0.0 && !is_nominal(j))
            .map(|j| {
                let m = rows.iter().map(|&i| d.unscaled[[i, j]]).sum::<f64>() / rows.len() as f64;
                Trait {
                    feature: d.names.get(j).cloned().unwrap_or_else(|| format!("x{j}")),
                    segment_mean: m,
                    overall_mean: overall[j].0,
                    standardized_difference: (m - overall[j].0) / overall[j].1,
                }
            })
            .collect();
        traits.sort_by(|a, b| {
            b.standardized_difference
                .abs()
                .total_cmp(&a.standardized_difference.abs())
        });
        traits.truncate(5);
        let label = traits
            .iter()
            .take(3)
            .filter(|t| t.standardized_difference.abs() >= 0.3)
            .map(|t| {
                format!(
                    "{} {}",
                    if t.standardized_difference > 0.0 {
                        "high"
                    } else {
                        "low"
                    },
                    t.feature
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let campaign = d.target.map(|t| campaign(&rows, t, d.economics, base));
        let mix = |column: &str, value: &dyn Fn(usize) -> String| {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for &i in &rows {
                *counts.entry(value(i)).or_default() += 1;
            }
            let mut top: Vec<(String, f64)> = counts
                .into_iter()
                .map(|(c, m)| (c, m as f64 / rows.len() as f64))
                .collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(5);
            Mix {
                column: column.to_string(),
                top,
            }
        };
        // Nominal features first (they segment), then the metadata.
        let mixes = (0..d.unscaled.ncols())
            .filter(|&j| is_nominal(j))
            .map(|j| mix(&d.names[j], &|i| code_text(d.unscaled[[i, j]])))
            .chain(d.categories.iter().map(|(col, values)| mix(col, &|i| values[i].clone())))
            .collect();
        let described = d
            .numbers
            .iter()
            .map(|(col, v)| (col.clone(), quartiles(rows.iter().map(|&i| v[i]).collect())))
            .collect();
        let means = if d.unscaled.ncols() <= 15 {
            (0..d.unscaled.ncols())
                .filter(|&j| !is_nominal(j))
                .map(|j| {
                    let m =
                        rows.iter().map(|&i| d.unscaled[[i, j]]).sum::<f64>() / rows.len() as f64;
                    (
                        d.names.get(j).cloned().unwrap_or_else(|| format!("x{j}")),
                        m,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        cards.push(SegmentCard {
            means,
            segment: s,
            size: rows.len(),
            share: rows.len() as f64 / n as f64,
            label: match (d.noise == Some(s), label.is_empty()) {
                (true, true) => NOISE.into(),
                (true, false) => format!("{NOISE} ({label})"),
                (false, true) => "close to the average".into(),
                (false, false) => label,
            },
            traits,
            campaign,
            mixes,
            described,
            noise: d.noise == Some(s),
        });
    }
    cards.sort_by(|a, b| b.size.cmp(&a.size).then(a.segment.cmp(&b.segment)));
    cards
}

/// The profiles of an experiment's chosen clustering, as stored in `segments.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    pub experiment: String,
    pub run: String,
    pub representation: String,
    pub clusterer: String,
    pub reason: String,
    /// Agreement of the segments with descriptive labels (ARI, NMI per column).
    #[serde(default)]
    pub agreement: BTreeMap<String, f64>,
    pub cards: Vec<SegmentCard>,
}

/// Categorical metadata columns: (name, value per row).
pub type Categories = Vec<(String, Vec<String>)>;
/// Numeric metadata columns: (name, value per row).
pub type Numbers = Vec<(String, Vec<f64>)>;

/// Metadata columns worth describing: text columns with at most 40 distinct
/// values (genres, channels) and numeric columns (popularity).
pub fn describable(meta: &polars::prelude::DataFrame) -> (Categories, Numbers) {
    use polars::prelude::DataType;
    let (mut cats, mut nums) = (Vec::new(), Vec::new());
    for col in meta.columns() {
        let name = col.name().to_string();
        if col.dtype().is_primitive_numeric() {
            if let Ok(c) = col.cast(&DataType::Float64)
                && let Ok(ca) = c.f64()
            {
                nums.push((name, ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect()));
            }
        } else if let Ok(ca) = col.str() {
            let values: Vec<String> = ca
                .iter()
                .map(|v| v.unwrap_or("(missing)").to_string())
                .collect();
            let mut distinct: Vec<&String> = values.iter().collect();
            distinct.sort();
            distinct.dedup();
            if distinct.len() <= 40 {
                cats.push((name, values));
            }
        }
    }
    (cats, nums)
}

/// Text of the cards, for the terminal and the Markdown report.
pub fn render(cards: &[SegmentCard]) -> String {
    let mut s = String::new();
    // Each card's interval is a 95 % interval on its own; the actions read
    // them all at once.
    let family = cards.iter().filter(|c| c.campaign.is_some()).count();
    let plural = if family == 1 { "" } else { "s" };
    for c in cards {
        s.push_str(&format!(
            "### {} {}: {} ({} rows, {:.1} %)\n\n",
            if c.noise { "Label" } else { "Segment" },
            c.segment,
            c.label,
            c.size,
            100.0 * c.share
        ));
        for t in &c.traits {
            s.push_str(&format!(
                "- {} [{:+.2} sd]\n",
                t.describe(),
                t.standardized_difference
            ));
        }
        if let Some(k) = &c.campaign {
            s.push_str(&format!(
                "- response rate {:.1} % [{:.1}, {:.1}] (Wilson 95 %, unadjusted for the {family} segment{plural}), {} responders, lift {:.2}\n",
                100.0 * k.response_rate,
                100.0 * k.rate_low,
                100.0 * k.rate_high,
                k.responders,
                k.lift
            ));
            if let (Some(p), Some(l), Some(h), Some(a)) =
                (k.profit_per_contact, k.profit_low, k.profit_high, k.action)
            {
                s.push_str(&format!(
                    "- expected profit per customer contacted {p:.2} [{l:.2}, {h:.2}]: **{}**\n",
                    a.explain()
                ));
            }
        }
        for m in &c.mixes {
            let top: Vec<String> = m
                .top
                .iter()
                .map(|(c, f)| format!("{c} {:.0} %", 100.0 * f))
                .collect();
            s.push_str(&format!("- {}: {}\n", m.column, top.join(", ")));
        }
        if !c.means.is_empty() {
            let m: Vec<String> = c
                .means
                .iter()
                .map(|(n, v)| format!("{n} {}", short(*v)))
                .collect();
            s.push_str(&format!("- mean features: {}\n", m.join(", ")));
        }
        for (col, q) in &c.described {
            s.push_str(&format!(
                "- {col} (described, not used): quartiles {} / {} / {}\n",
                short(q[0]),
                short(q[1]),
                short(q[2])
            ));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;
    use ndarray::Array2;

    #[test]
    fn wilson_matches_hand_computation() {
        // 15 of 100 at z = 1.96: centre (0.15 + 0.019208) / 1.038416 = 0.1629482,
        // half 1.96 / 1.038416 * sqrt(0.001275 + 0.00009604) = 0.0698892.
        let (lo, hi) = wilson(15, 100, 1.96);
        assert!((lo - 0.0930590).abs() < 1e-6, "{lo}");
        assert!((hi - 0.2328373).abs() < 1e-6, "{hi}");
        assert_eq!(wilson(0, 0, 1.96), (0.0, 1.0));
        let (lo, _) = wilson(0, 50, 1.96);
        assert_eq!(lo, 0.0);
    }

    #[test]
    fn planted_segments_recover_rates_profits_and_actions() {
        // Three planted segments of 400 rows: response 50 %, 2 %, 27 %.
        // Cost 3, revenue 11: break-even at 3 / 11 = 27.3 %.
        let n = 1200;
        let labels: Vec<usize> = (0..n).map(|i| i / 400).collect();
        let rates = [0.5, 0.02, 0.27];
        let target: Vec<u8> = (0..n)
            .map(|i| {
                let s = i / 400;
                let j = i % 400;
                u8::from((j as f64) < rates[s] * 400.0)
            })
            .collect();
        let unscaled = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 0 {
                (i / 400) as f64 * 100.0
            } else {
                1.0 + (i % 7) as f64
            }
        });
        let econ = Economics {
            cost_per_contact: Array1::from_elem(n, 3.0),
            revenue_per_response: Array1::from_elem(n, 11.0),
        };
        let names = vec!["spend".to_string(), "visits".to_string()];
        let data = ProfileData {
            unscaled: unscaled.view(),
            names: &names,
            target: Some(&target),
            economics: Some(&econ),
            categories: vec![(
                "grp".into(),
                (0..n).map(|i| format!("g{}", i / 400)).collect(),
            )],
            numbers: vec![(
                "popularity".into(),
                (0..n).map(|i| (i % 100) as f64).collect(),
            )],
            nominal: &[],
            noise: None,
        };
        let cards = profile(&labels, &data);
        assert_eq!(cards.len(), 3);
        let by = |s: usize| cards.iter().find(|c| c.segment == s).expect("segment");
        let c0 = by(0).campaign.as_ref().expect("campaign");
        assert_eq!(c0.responders, 200);
        assert!((c0.response_rate - 0.5).abs() < 1e-12);
        // 0.5 x 11 - 3 = 2.5 per contact.
        assert!((c0.profit_per_contact.expect("profit") - 2.5).abs() < 1e-12);
        assert_eq!(c0.action, Some(Action::Contact));
        assert!((c0.lift - 0.5 / (316.0 / 1200.0)).abs() < 1e-12);
        assert_eq!(
            by(1).campaign.as_ref().and_then(|c| c.action),
            Some(Action::Skip)
        );
        assert_eq!(
            by(2).campaign.as_ref().and_then(|c| c.action),
            Some(Action::Uncertain)
        );
        // The spend feature sets them apart, in original units.
        assert_eq!(by(2).traits[0].feature, "spend");
        assert!((by(2).traits[0].segment_mean - 200.0).abs() < 1e-12);
        assert!(by(2).label.starts_with("high spend"), "{}", by(2).label);
        assert_eq!(by(1).mixes[0].top, vec![("g1".to_string(), 1.0)]);
        let text = render(&cards);
        assert!(text.contains("**skip: responds too rarely"), "{text}");
        assert_eq!(text.matches("(Wilson 95 %, unadjusted for the 3 segments)").count(), 3, "{text}");
        assert!(text.contains("popularity (described, not used)"), "{text}");
        assert!(cards.iter().all(|c| !c.noise) && !text.contains("noise"), "{text}");
        // The same rows with label 1 as a clusterer's noise: shown as such,
        // its campaign figures kept.
        let noisy = profile(&labels, &ProfileData { noise: Some(1), ..data });
        let n1 = noisy.iter().find(|c| c.segment == 1).expect("label 1");
        assert!(n1.noise && n1.label.starts_with("noise: rows in no dense region"), "{}", n1.label);
        assert_eq!(n1.campaign, by(1).campaign);
        assert!(noisy.iter().filter(|c| c.noise).count() == 1);
        let text = render(&noisy);
        assert!(text.contains("### Label 1: noise: rows in no dense region"), "{text}");
        assert!(text.contains("### Segment 0: "), "{text}");
    }

    #[test]
    fn noise_label_is_read_from_the_run_diagnostics() {
        let with = |d: strata_core::Diagnostics| {
            let mut r = crate::selection::tests::run("h", "none", 0.1, None, vec![50, 30, 20]);
            if let Some(c) = r.clustering.as_mut() {
                c.diagnostics = d;
            }
            r
        };
        let d = strata_core::Diagnostics::default;
        // Two clusters found and 20 noise rows: label 2 is the noise.
        let r = with(d().scalar("clusters_found", 2.0).scalar("noise_points", 20.0));
        assert_eq!(noise_label(&r), Some(2));
        // No noise, or a clusterer that reports none: no noise label.
        assert_eq!(noise_label(&with(d().scalar("clusters_found", 3.0).scalar("noise_points", 0.0))), None);
        assert_eq!(noise_label(&with(d().scalar("inertia", 1.0))), None);
        // The size filter of the choice reads segments, not the noise: 20
        // noise rows of 100 leave 30 % as the smallest segment's share, and
        // a run of 1 noise row among 100 is not set aside as a 1 % segment.
        assert_eq!(crate::selection::smallest_share(&r), 0.3);
        let mut few = with(d().scalar("clusters_found", 2.0).scalar("noise_points", 1.0));
        if let Some(c) = few.clustering.as_mut() {
            c.sizes = vec![60, 39, 1];
        }
        assert_eq!(crate::selection::smallest_share(&few), 0.39);
        // Without noise, the smallest cluster is the smallest segment.
        assert_eq!(crate::selection::smallest_share(&with(d().scalar("inertia", 1.0))), 0.2);
    }

    #[test]
    fn nominal_codes_are_described_by_their_values_not_a_mean() {
        // Two segments of 100 rows; "tone" is a code (0-11): the second
        // segment sits mostly on 11, so its mean would make it "high tone".
        let n = 200;
        let labels: Vec<usize> = (0..n).map(|i| i / 100).collect();
        let unscaled = Array2::from_shape_fn((n, 2), |(i, j)| match (j, i / 100) {
            (0, s) => s as f64 + 0.01 * (i % 10) as f64,
            (_, 0) => (i % 3) as f64,
            _ => if i % 10 < 7 { 11.0 } else { 2.0 },
        });
        let names = vec!["energy".to_string(), "tone".to_string()];
        let cards_with = |nominal: &[String]| {
            profile(
                &labels,
                &ProfileData {
                    unscaled: unscaled.view(),
                    names: &names,
                    target: None,
                    economics: None,
                    categories: Vec::new(),
                    numbers: Vec::new(),
                    nominal,
                    noise: None,
                },
            )
        };
        let cards = cards_with(&["tone".to_string()]);
        let second = cards.iter().find(|c| c.segment == 1).expect("segment 1");
        assert!(second.traits.iter().all(|t| t.feature != "tone"), "{:?}", second.traits);
        assert!(second.means.iter().all(|(f, _)| f != "tone"), "{:?}", second.means);
        assert_eq!(second.mixes[0].column, "tone");
        assert_eq!(second.mixes[0].top, vec![("11".to_string(), 0.7), ("2".to_string(), 0.3)]);
        assert!(render(&cards).contains("- tone: 11 70 %, 2 30 %"), "{}", render(&cards));
        // Not nominal: a trait like any number.
        let cards = cards_with(&[]);
        assert!(cards.iter().any(|c| c.traits.iter().any(|t| t.feature == "tone")));
    }
}
