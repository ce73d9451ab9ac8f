//! The study's claims, judged on an experiment's results with the
//! four-outcome rule of [`crate::verdict`] and the manifest's margins.
//!
//! - (1) k-means suits the features better than Gaussian mixtures, and (2)
//!   dimensionality reduction improves cohesion: compared in the common space
//!   (the silhouette of each run's labels in the prepared features), best run
//!   against best run, per representation, against the silhouette margin.
//!   Each side's best run is chosen on half of the disjoint groups of rows
//!   the sweep scores every run in, and the difference is judged on the
//!   other half ([`held_out_difference`]): rows that helped choose a run do
//!   not judge it, so the best of many runs is not flattered by the noise
//!   that made it the best.
//! - (3) cluster features improve the MLP's recall while accuracy changes
//!   little: per cluster feature set, the corrected resampled t interval of
//!   the recall gain must clear the recall margin (improvement) and the
//!   accuracy interval must lie within the accuracy margin (equivalence).
//! - (4) some segments do not respond and some are worth pushing: the chosen
//!   segmentation's per-segment profit intervals. The segmentation is chosen
//!   without the target (common-space silhouette and pipeline stability), so
//!   no row's response helped choose it and every row may judge it.

use crate::selection::{MIN_CLUSTER_SHARE, STABLE_ARI, common_score, smallest_share};
use crate::store::{ExperimentResults, RunRecord, RunStatus};
use crate::sweep::SILHOUETTE_GROUPS;
use crate::verdict::{Verdict, both, combine, equivalence, improvement, point_improvement};

/// A 95 % interval of `diff`, the difference between two runs' silhouettes
/// (on all rows, or the mean of the paired group differences), from their
/// silhouettes `a` and `b` within the same disjoint groups of rows: a t
/// interval around `diff` whose width comes from the spread of the paired
/// group differences (groups - 1 degrees of freedom).
///
/// A group of n / G rows scores the labels with the variance of a whole
/// sample G times smaller, so the mean of the G independent group
/// differences varies as the difference on all n rows does; the interval
/// fits either (the runner-up's lead is centred on the difference on all
/// rows, claims (1) and (2) on the mean over their judging groups). It treats the rows
/// as draws from a population with each run's labels held fixed: how the
/// labels move when the pipeline is refitted is what pipeline stability
/// measures. Checked by simulation (`group_intervals_cover_the_population_difference`).
/// `None` without two paired groups.
pub fn group_interval(diff: f64, a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let g = d.len() as f64;
    let mean = d.iter().sum::<f64>() / g;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (g - 1.0);
    let half = strata_core::stats::t_quantile(0.975, g - 1.0) * (var / g).sqrt();
    half.is_finite().then_some((diff - half, diff + half))
}

/// [`group_interval`] of `diff`, the difference between the common-space
/// silhouettes of runs `b` and `a`, from their stored group silhouettes.
pub fn runs_interval(diff: f64, b: &RunRecord, a: &RunRecord) -> Option<(f64, f64)> {
    fn groups(r: &RunRecord) -> &[f64] {
        r.silhouette_common_groups.as_deref().unwrap_or(&[])
    }
    group_interval(diff, groups(b), groups(a))
}

/// The verdict on "run `b` is better than run `a`" from their scores `sb`
/// and `sa` ([`best_common`]), and the evidence text of the difference: with
/// the interval of their judging groups when held out, a point difference
/// (marked so) otherwise.
fn silhouette_verdict(
    b: &RunRecord,
    sb: f64,
    a: &RunRecord,
    sa: f64,
    held_out: bool,
    margin: f64,
) -> (Verdict, String) {
    let (d, interval) = held_out_difference(b, sb, a, sa, held_out);
    match interval {
        Some((low, high)) => (
            improvement(low, high, margin),
            format!("{d:+.3} [{low:+.3}, {high:+.3}]"),
        ),
        None => (point_improvement(d, margin), format!("{d:+.3}, no interval")),
    }
}

/// One claim of the study and what this experiment's results say about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Claim {
    pub claim: &'static str,
    pub verdict: Verdict,
    /// The rule, margin and method behind the verdict.
    pub rule: String,
    pub evidence: String,
}

impl Claim {
    pub fn verdict(&self) -> &'static str {
        self.verdict.label()
    }
}

/// How many of the [`SILHOUETTE_GROUPS`] groups of rows choose each side's
/// best run in claims (1) and (2); the others judge the difference.
pub const CHOOSING_GROUPS: usize = SILHOUETTE_GROUPS / 2;

/// A run's group silhouettes split into the groups that choose and the
/// groups that judge; `None` unless it has all [`SILHOUETTE_GROUPS`].
pub(crate) fn choose_judge(r: &RunRecord) -> Option<(&[f64], &[f64])> {
    r.silhouette_common_groups
        .as_deref()
        .filter(|g| g.len() == SILHOUETTE_GROUPS)
        .map(|g| g.split_at(CHOOSING_GROUPS))
}

pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The runs claims (1) and (2) may choose from: those with a common-space
/// silhouette whose every cluster holds at least 2 % of the rows.
fn eligible<'a>(runs: impl Iterator<Item = &'a RunRecord>) -> impl Iterator<Item = &'a RunRecord> {
    runs.filter(|r| smallest_share(r) >= MIN_CLUSTER_SHARE && common_score(r).is_some())
}

/// The best of `runs` ([`eligible`] ones only) and its score. Held out
/// (`held_out`): chosen by the mean of its choosing groups' silhouettes and
/// scored by the mean of its judging groups'; otherwise chosen and scored by
/// its common-space silhouette on all rows.
fn best_common<'a>(
    runs: impl Iterator<Item = &'a RunRecord>,
    held_out: bool,
) -> Option<(&'a RunRecord, f64)> {
    let scored = eligible(runs).filter_map(|r| {
        if held_out {
            choose_judge(r).map(|(c, j)| (r, mean(c), mean(j)))
        } else {
            common_score(r).map(|s| (r, s, s))
        }
    });
    // Of equal scores, the first run in the manifest's order, as the
    // segmentation rule breaks ties.
    scored
        .reduce(|best, r| if r.1 > best.1 { r } else { best })
        .map(|(r, _, judged)| (r, judged))
}

/// The difference `sb - sa` between two runs chosen by [`best_common`] and
/// its 95 % interval: held out, a t interval from the spread of their paired
/// judging-group differences ([`group_interval`], centred on the mean of
/// those differences, which `sb - sa` is); on all rows, none (the groups
/// helped choose the runs).
pub fn held_out_difference(
    b: &RunRecord,
    sb: f64,
    a: &RunRecord,
    sa: f64,
    held_out: bool,
) -> (f64, Option<(f64, f64)>) {
    let d = sb - sa;
    let interval = match (held_out, choose_judge(b), choose_judge(a)) {
        (true, Some((_, jb)), Some((_, ja))) => group_interval(d, jb, ja),
        _ => None,
    };
    (d, interval)
}

fn short(rep: &str) -> &str {
    rep.split('(').next().unwrap_or(rep)
}

fn k_text(r: &RunRecord) -> String {
    r.config
        .clusterer
        .params
        .0
        .get("k")
        .map_or("?".into(), |v| v.to_string())
}

/// A run's pipeline stability for the evidence, `", stability 0.44 [0.03,
/// 0.85]"` with its 95 % interval where recorded (the mean alone for runs
/// stored without one), or nothing where it was not measured: shown beside
/// a side's best run, never used by the verdict, so a reader sees when a
/// claim's best run is one the chosen segmentation's stability filter would
/// not accept, or one it might accept under another draw of resamples.
fn stability_text(r: &RunRecord) -> String {
    let Some(a) = r.metrics.get("stability_mean_ari") else {
        return String::new();
    };
    let on = if crate::selection::refined(r) {
        format!(" on {} resamples", crate::selection::resamples_of(r))
    } else {
        String::new()
    };
    match crate::selection::stability_interval(r) {
        Some((lo, hi)) => format!(", stability {a:.2} [{lo:.2}, {hi:.2}]{on}"),
        None => format!(", stability {a:.2}{on}"),
    }
}

/// What the k-means against mixtures claim can and cannot say: the
/// silhouette is a measure of k-means' own kind.
pub const MEASURE_FAVOURS_KMEANS: &str = "The silhouette rewards compact, well-separated groups, the within-cluster spread k-means minimises; a mixture fits a density, and its elongated or overlapping components can describe the data as well or better while scoring lower here (the mixtures' BIC, in the runs table, measures their fit). So the verdict says whose labelings separate the rows better in the common space, not which model fits the data better";

/// The study's claims that this experiment's results can test.
pub fn claims(res: &ExperimentResults) -> Vec<Claim> {
    let margins = &res.plan.margins;
    let mut out = Vec::new();
    let ok: Vec<&RunRecord> = res
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .collect();
    let reps: Vec<String> = {
        let mut v: Vec<String> = ok.iter().map(|r| r.config.representation.label()).collect();
        v.sort();
        v.dedup();
        v
    };
    // Held out when every run a side may choose from has its group
    // silhouettes; otherwise (runs scored before groups, or with a group
    // holding one cluster) both sides are chosen and compared on all rows.
    let held_out = eligible(ok.iter().copied()).all(|r| choose_judge(r).is_some());
    // Where the shown silhouettes come from.
    let scope = if held_out {
        format!(
            "each side's best run chosen on groups of rows 1 to {CHOOSING_GROUPS}, judged on groups {} to {SILHOUETTE_GROUPS}: ",
            CHOOSING_GROUPS + 1
        )
    } else {
        "on all rows: ".to_string()
    };
    let point_rule = |what: &str, family: usize| {
        let method = if held_out {
            format!(
                "the rows are dealt at random into {g} disjoint groups and every run is also scored within each group; each side's best run is the one with the highest mean silhouette over groups 1 to {c}, and the two are judged on groups {j1} to {g}, rows that took no part in the choice: the silhouettes shown are the means over those groups, and the spread of their {j} paired group differences gives a 95 % t interval ({df} degrees of freedom) of the difference, unadjusted for the {family} comparison{s} of this claim. It counts the variation from which rows were drawn with each run's labels held fixed, not the refitting (pipeline stability measures that); supported when the interval's low end is at least +{m}, contradicted when its high end is below +{m} (no relevant improvement), not shown otherwise",
                m = margins.silhouette,
                g = SILHOUETTE_GROUPS,
                c = CHOOSING_GROUPS,
                j1 = CHOOSING_GROUPS + 1,
                j = SILHOUETTE_GROUPS - CHOOSING_GROUPS,
                df = SILHOUETTE_GROUPS - CHOOSING_GROUPS - 1,
                s = if family == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "some runs lack silhouettes within groups of rows (scored before groups, or with a group holding one cluster), so each side's best run is chosen and scored on all rows and the difference has no interval (the best of many runs is favoured by the same noise that made it the best): supported at +{m} or more, contradicted at -{m} or below, not shown in between",
                m = margins.silhouette
            )
        };
        format!(
            "{what}, best run against best run (runs with a cluster under 2 % of the rows left out), silhouettes of each run's labels in the common space of the prepared features; {method}; combined over representations: unanimous outcomes carry over, supported beside anything else is mixed, otherwise not shown. Each best run's pipeline stability (mean ARI over resampled fits, with its 95 % jackknife interval over the resamples), where measured, is shown beside it and does not enter the verdict; the chosen segmentation needs at least {STABLE_ARI}"
        )
    };
    // (1) k-means suits the features better than Gaussian mixtures.
    let (mut parts, mut lines) = (Vec::new(), Vec::new());
    for rep in &reps {
        let of = |alg: &str| {
            best_common(
                ok.iter().copied().filter(|r| {
                    &r.config.representation.label() == rep && r.config.clusterer.algorithm == alg
                }),
                held_out,
            )
        };
        if let (Some((k, sk)), Some((g, sg))) = (of("kmeans"), of("gmm")) {
            let (v, diff) = silhouette_verdict(k, sk, g, sg, held_out, margins.silhouette);
            parts.push(v);
            lines.push(format!(
                "{}: k-means {sk:.3} (k={}{}) vs mixture {sg:.3} (k={}{}), {diff}: {}",
                short(rep),
                k_text(k),
                stability_text(k),
                k_text(g),
                stability_text(g),
                v.label()
            ));
        }
    }
    if let Some(verdict) = combine(&parts) {
        out.push(Claim {
            claim: "k-means suits these features better than Gaussian mixtures",
            verdict,
            rule: format!(
                "{}. {MEASURE_FAVOURS_KMEANS}",
                point_rule("per representation, k-means minus mixture", parts.len())
            ),
            evidence: format!("{scope}{}", lines.join("; ")),
        });
    }
    // (2) Dimensionality reduction improves cluster cohesion.
    let none = best_common(
        ok.iter()
            .copied()
            .filter(|r| r.config.representation.algorithm == "none"),
        held_out,
    );
    if let Some((rn, sn)) = none {
        let (mut parts, mut lines) = (Vec::new(), Vec::new());
        for rep in reps.iter().filter(|r| !r.starts_with("none")) {
            if let Some((rb, sb)) = best_common(
                ok.iter()
                    .copied()
                    .filter(|r| &r.config.representation.label() == rep),
                held_out,
            ) {
                let (v, diff) = silhouette_verdict(rb, sb, rn, sn, held_out, margins.silhouette);
                parts.push(v);
                lines.push(format!(
                    "{} {sb:.3} (k={}{}; {diff}: {})",
                    short(rep),
                    k_text(rb),
                    stability_text(rb),
                    v.label()
                ));
            }
        }
        if let Some(verdict) = combine(&parts) {
            out.push(Claim {
                claim: "dimensionality reduction improves cluster cohesion",
                verdict,
                rule: point_rule(
                    "per reduced representation, its best run minus the best run without reduction",
                    parts.len(),
                ),
                evidence: format!(
                    "{scope}common-space silhouette without reduction {sn:.3} (k={}{}); with {}",
                    k_text(rn),
                    stability_text(rn),
                    lines.join(", ")
                ),
            });
        }
    }
    // (3) Cluster features improve recall of rare responders, accuracy changes little.
    if let Some(c) = &res.classification {
        let find = |fs: &str, metric: &str| {
            c.comparisons
                .iter()
                .find(|p| p.model == "mlp" && p.b == fs && p.metric == metric)
        };
        let sets: Vec<String> = c
            .report
            .summary
            .iter()
            .filter(|s| {
                s.model == "mlp"
                    && (s.feature_set.starts_with("original+clusters")
                        || s.feature_set.starts_with("original+posteriors"))
            })
            .map(|s| s.feature_set.clone())
            .collect();
        let (mut parts, mut lines, mut method) = (Vec::new(), Vec::new(), None);
        for fs in &sets {
            if let (Some(r), Some(a)) = (find(fs, "recall"), find(fs, "accuracy")) {
                let vr = improvement(r.low, r.high, margins.recall);
                let va = equivalence(a.low, a.high, margins.accuracy);
                parts.push(both(vr, va));
                method.get_or_insert((r.method.clone(), r.n_pairs, r.level, r.family_size));
                lines.push(format!(
                    "{fs}: recall {:+.3} [{:+.3}, {:+.3}] ({}), accuracy {:+.3} [{:+.3}, {:+.3}] ({})",
                    r.mean_diff,
                    r.low,
                    r.high,
                    vr.label(),
                    a.mean_diff,
                    a.low,
                    a.high,
                    va.label()
                ));
            }
        }
        if let (Some(verdict), Some((method, pairs, level, family))) = (combine(&parts), method) {
            out.push(Claim {
                claim: "cluster features improve the MLP's recall of rare responders while accuracy changes little",
                verdict,
                rule: format!(
                    "per cluster feature set against the original features, paired over {pairs} folds with the {method}, {:.0} % intervals (unadjusted; family of {family} comparisons, Holm-adjusted p-values in the classification section): the recall gain is supported when the interval's low end is at least +{mr}, contradicted when its high end is below +{mr}; accuracy changes little when the whole interval lies within ±{ma} (equivalence), contradicted when it lies wholly outside; a feature set supports the claim when both parts are supported, contradicts it when either part is contradicted; combined over feature sets as for the other claims",
                    100.0 * level,
                    mr = margins.recall,
                    ma = margins.accuracy
                ),
                evidence: lines.join("; "),
            });
        }
    }
    // (4) Some segments do not respond and some are worth pushing.
    if let Some(seg) = &res.segments {
        use crate::segments::Action;
        // Noise (rows in no dense region) is not a segment.
        let noise: Vec<usize> = seg.cards.iter().filter(|c| c.noise).map(|c| c.size).collect();
        let acts: Vec<(usize, Action, f64)> = seg
            .cards
            .iter()
            .filter(|c| !c.noise)
            .filter_map(|c| {
                c.campaign
                    .as_ref()
                    .and_then(|k| Some((c.segment, k.action?, k.profit_per_contact?)))
            })
            .collect();
        if !acts.is_empty() {
            let n = |a: Action| acts.iter().filter(|x| x.1 == a).count();
            let (contact, skip, uncertain) =
                (n(Action::Contact), n(Action::Skip), n(Action::Uncertain));
            let verdict = segment_verdict(contact, skip, uncertain);
            let list: Vec<String> = acts
                .iter()
                .map(|(s, a, p)| format!("segment {s}: {p:+.2} per contact ({a:?})"))
                .collect();
            out.push(Claim {
                claim: "some segments do not respond and some are worth pushing",
                verdict,
                rule: format!(
                    "each segment's profit per contact has a 95 % Wilson interval from its response rate (unadjusted for the {} segments); a segment is to contact when the whole interval is above break-even, to skip when it is wholly below, uncertain otherwise. Supported with at least one segment of each kind; contradicted when every segment is decided and all on one side; not shown otherwise. {}",
                    acts.len(),
                    if res.plan.pin.is_some() {
                        "The segmentation is pinned by the manifest: if its author chose it by looking at responses, this verdict needs rows that did not inform that choice"
                    } else {
                        "The segmentation is chosen without the target, so every row may judge it"
                    }
                ),
                evidence: format!(
                    "in the chosen clustering ({} on {}): {contact} segment(s) to contact, {skip} to skip, {uncertain} uncertain; {}{}",
                    seg.clusterer,
                    short(&seg.representation),
                    list.join(", "),
                    noise
                        .iter()
                        .map(|n| format!("; the {n} rows in no dense region (noise) are not a segment and are left out"))
                        .collect::<String>()
                ),
            });
        }
    }
    out
}

/// Claim (4) from the count of segments to contact, to skip and uncertain.
pub fn segment_verdict(contact: usize, skip: usize, uncertain: usize) -> Verdict {
    if contact > 0 && skip > 0 {
        Verdict::Supported
    } else if uncertain == 0 {
        Verdict::Contradicted
    } else {
        Verdict::NotShown
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::selection::tests::run;
    use crate::store::{DatasetRef, Plan};

    /// Results of an experiment "x" on 100 rows holding `runs` and nothing else.
    pub(crate) fn results(runs: Vec<RunRecord>) -> ExperimentResults {
        ExperimentResults {
            dir: "x".into(),
            plan: Plan {
                experiment: "x".into(),
                description: String::new(),
                manifest_path: String::new(),
                manifest_text: String::new(),
                dataset: DatasetRef {
                    descriptor: "d".into(),
                    sha256: String::new(),
                    rows: 100,
                    features: 2,
                    recipe: String::new(),
                },
                strata_version: String::new(),
                runs: Vec::new(),
                margins: Default::default(),
                pin: None,
            },
            runs,
            missing: Vec::new(),
            damaged: Vec::new(),
            scatter: None,
            classification: None,
            segments: None,
            targeting: None,
            cohorts: None,
            test_plan: None,
            test_reading: None,
            similarity: None,
        }
    }

    fn gmm(mut r: RunRecord) -> RunRecord {
        r.config.clusterer.algorithm = "gmm".into();
        r
    }

    fn claim(res: &ExperimentResults, start: &str) -> Claim {
        claims(res)
            .into_iter()
            .find(|c| c.claim.starts_with(start))
            .expect("claim present")
    }

    #[test]
    fn claim_one_every_outcome() {
        let sizes = || vec![50, 50];
        // k-means clearly better on both representations.
        let res = results(vec![
            run("a", "none", 0.30, None, sizes()),
            gmm(run("b", "none", 0.20, None, sizes())),
            run("c", "pca", 0.30, None, sizes()),
            gmm(run("d", "pca", 0.25, None, sizes())),
        ]);
        assert_eq!(claim(&res, "k-means").verdict, Verdict::Supported);
        // The rule says the measure is k-means' own kind; the reduction
        // claim, which compares like with like, does not.
        assert!(claim(&res, "k-means").rule.ends_with(&format!(". {MEASURE_FAVOURS_KMEANS}")));
        assert!(!claim(&res, "dimensionality").rule.contains("BIC"));
        // Mixture clearly better on both: contradicted.
        let res = results(vec![
            run("a", "none", 0.10, None, sizes()),
            gmm(run("b", "none", 0.20, None, sizes())),
        ]);
        assert_eq!(claim(&res, "k-means").verdict, Verdict::Contradicted);
        // Within the margin: not shown.
        let res = results(vec![
            run("a", "none", 0.200, None, sizes()),
            gmm(run("b", "none", 0.195, None, sizes())),
        ]);
        let c = claim(&res, "k-means");
        assert_eq!(c.verdict, Verdict::NotShown);
        assert!(c.rule.contains("+0.02"), "{}", c.rule);
        // One each way: mixed.
        let res = results(vec![
            run("a", "none", 0.30, None, sizes()),
            gmm(run("b", "none", 0.20, None, sizes())),
            run("c", "pca", 0.10, None, sizes()),
            gmm(run("d", "pca", 0.25, None, sizes())),
        ]);
        assert_eq!(claim(&res, "k-means").verdict, Verdict::Mixed);
        // Equal scores: the first run in the manifest's order is the side's best.
        let with_k = |mut r: RunRecord, k: i64| {
            r.config.clusterer.params.0.insert("k".into(), strata_core::ParamValue::Int(k));
            r
        };
        let res = results(vec![
            with_k(run("a", "none", 0.30, None, sizes()), 3),
            with_k(run("b", "none", 0.30, None, sizes()), 2),
            gmm(run("c", "none", 0.20, None, sizes())),
        ]);
        let c = claim(&res, "k-means");
        assert!(c.evidence.contains("k-means 0.300 (k=3)"), "{}", c.evidence);
    }

    #[test]
    fn claim_two_uses_the_common_space() {
        // Own-space silhouettes (twice the common ones in the helper) are
        // higher for the projection, but the common space decides.
        let mut rp = run("rp", "random_projection", 0.15, None, vec![50, 50]);
        rp.metrics.insert("silhouette".into(), 0.9);
        let res = results(vec![run("n", "none", 0.20, None, vec![50, 50]), rp]);
        let c = claim(&res, "dimensionality");
        assert_eq!(c.verdict, Verdict::Contradicted);
        assert!(c.evidence.contains("0.200"), "{}", c.evidence);
        let res = results(vec![
            run("n", "none", 0.20, None, vec![50, 50]),
            run("p", "pca", 0.30, None, vec![50, 50]),
        ]);
        assert_eq!(claim(&res, "dimensionality").verdict, Verdict::Supported);
        let res = results(vec![
            run("n", "none", 0.20, None, vec![50, 50]),
            run("p", "pca", 0.21, None, vec![50, 50]),
        ]);
        assert_eq!(claim(&res, "dimensionality").verdict, Verdict::NotShown);
        // A tiny cluster does not count as the best run.
        let res = results(vec![
            run("n", "none", 0.20, None, vec![50, 50]),
            run("p", "pca", 0.90, None, vec![99, 1]),
            run("q", "pca", 0.10, None, vec![50, 50]),
        ]);
        assert_eq!(claim(&res, "dimensionality").verdict, Verdict::Contradicted);
        // Stability is shown beside each side's best run and does not move
        // the verdict: an unstable reduction still wins on cohesion, and the
        // reader sees that it is unstable.
        // A run stored with its stability interval shows it; one stored
        // without shows the mean alone.
        let mut ica = run("i", "ica", 0.30, Some(0.44), vec![50, 50]);
        ica.metrics.insert(crate::sweep::STABILITY_LOW.into(), 0.031);
        ica.metrics.insert(crate::sweep::STABILITY_HIGH.into(), 0.849);
        // Measured again on more resamples, it says on how many.
        let mut again = ica.clone();
        again.metrics.insert(crate::selection::STABILITY_RESAMPLES.into(), 40.0);
        assert_eq!(stability_text(&again), ", stability 0.44 [0.03, 0.85] on 40 resamples");
        let res = results(vec![
            run("n", "none", 0.20, Some(0.97), vec![50, 50]),
            ica,
            gmm(run("g", "none", 0.10, Some(0.9), vec![50, 50])),
        ]);
        let c = claim(&res, "dimensionality");
        assert_eq!(c.verdict, Verdict::Supported);
        assert!(
            c.evidence.contains("without reduction 0.200 (k=?, stability 0.97); with ica 0.300 (k=?, stability 0.44 [0.03, 0.85]; +0.100"),
            "{}",
            c.evidence
        );
        assert!(c.rule.ends_with("does not enter the verdict; the chosen segmentation needs at least 0.8"), "{}", c.rule);
        let c = claim(&res, "k-means");
        assert!(
            c.evidence.contains("none: k-means 0.200 (k=?, stability 0.97) vs mixture 0.100 (k=?, stability 0.90)"),
            "{}",
            c.evidence
        );
    }

    /// `r` with group silhouettes `centre + spread[g]`.
    fn grouped(mut r: RunRecord, centre: f64, spread: &[f64]) -> RunRecord {
        r.silhouette_common_groups = Some(spread.iter().map(|s| centre + s).collect());
        r
    }

    #[test]
    fn silhouette_claims_with_intervals_every_outcome() {
        let sizes = || vec![50, 50];
        let calm = [0.001, -0.001, 0.002, -0.002, 0.0, 0.001, -0.001, 0.0, 0.002, -0.002];
        let wild = [0.05, -0.05, 0.04, -0.04, 0.03, -0.03, 0.05, -0.05, 0.0, 0.0];
        let zero = [0.0; 10];
        // A clear difference with a narrow interval: supported, the
        // interval in the evidence.
        let res = results(vec![
            grouped(run("a", "none", 0.30, None, sizes()), 0.30, &calm),
            grouped(gmm(run("b", "none", 0.20, None, sizes())), 0.20, &zero),
        ]);
        let c = claim(&res, "k-means");
        assert_eq!(c.verdict, Verdict::Supported);
        // Judged on groups 6 to 10: differences 0.001, -0.001, 0, 0.002,
        // -0.002, sd 0.00158, t(0.975, 4) = 2.776, half width 0.00196.
        assert!(c.evidence.contains("+0.100 [+0.098, +0.102]"), "{}", c.evidence);
        assert!(c.evidence.starts_with("each side's best run chosen on groups of rows 1 to 5, judged on groups 6 to 10"), "{}", c.evidence);
        assert!(c.rule.contains("10 disjoint groups") && c.rule.contains("4 degrees"), "{}", c.rule);
        assert!(c.rule.contains("unadjusted for the 1 comparison of this claim"), "{}", c.rule);
        // A small difference measured precisely: no relevant improvement,
        // contradicted (the point rule could only say not shown).
        let res = results(vec![
            grouped(run("a", "none", 0.205, None, sizes()), 0.205, &calm),
            grouped(gmm(run("b", "none", 0.20, None, sizes())), 0.20, &zero),
        ]);
        assert_eq!(claim(&res, "k-means").verdict, Verdict::Contradicted);
        // A relevant difference the groups cannot pin down: not shown,
        // where the point rule would say supported.
        let res = results(vec![
            grouped(run("a", "none", 0.23, None, sizes()), 0.23, &wild),
            grouped(gmm(run("b", "none", 0.20, None, sizes())), 0.20, &zero),
        ]);
        let c = claim(&res, "k-means");
        assert_eq!(c.verdict, Verdict::NotShown, "{}", c.evidence);
        // One run without groups: the point rule, marked in the evidence.
        let res = results(vec![
            run("a", "none", 0.23, None, sizes()),
            grouped(gmm(run("b", "none", 0.20, None, sizes())), 0.20, &zero),
        ]);
        let c = claim(&res, "k-means");
        assert_eq!(c.verdict, Verdict::Supported);
        assert!(c.evidence.contains("+0.030, no interval"), "{}", c.evidence);
        assert!(c.evidence.starts_with("on all rows: ") && c.rule.contains("chosen and scored on all rows"), "{c:?}");
        // A side's best is the best on groups 1 to 5 ("a2", 0.25 there
        // against 0.22, though "a1" leads on all rows), scored on groups 6 to
        // 10 (0.20, its luck gone).
        let late = [-0.02, -0.02, -0.02, -0.02, -0.02, 0.02, 0.02, 0.02, 0.02, 0.02];
        let lucky = [0.05, 0.05, 0.05, 0.05, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0];
        let res = results(vec![
            grouped(run("a1", "none", 0.30, None, sizes()), 0.24, &late),
            grouped(run("a2", "none", 0.25, None, sizes()), 0.20, &lucky),
            grouped(gmm(run("b", "none", 0.20, None, sizes())), 0.20, &zero),
        ]);
        let c = claim(&res, "k-means");
        assert!(c.evidence.contains("k-means 0.200 (k=?) vs mixture 0.200 (k=?), +0.000 [+0.000, +0.000]"), "{}", c.evidence);
        // Claim 2 pairs each reduction's best run with the best run
        // without reduction: pca clearly better, random projection
        // precisely no better: mixed.
        let res = results(vec![
            grouped(run("n", "none", 0.20, None, sizes()), 0.20, &zero),
            grouped(run("p", "pca", 0.30, None, sizes()), 0.30, &calm),
            grouped(run("r", "random_projection", 0.19, None, sizes()), 0.19, &calm),
        ]);
        let c = claim(&res, "dimensionality");
        assert_eq!(c.verdict, Verdict::Mixed, "{}", c.evidence);
        assert!(c.rule.contains("unadjusted for the 2 comparisons of this claim"), "{}", c.rule);
        assert!(c.evidence.contains("pca 0.300 (k=?; +0.100 ["), "{}", c.evidence);
    }

    /// The winner's curse, simulated: one side's best is picked from nine
    /// runs of equal merit, the other's from one such run and eight poor
    /// ones; in truth the two best are equal. Chosen and scored on all rows,
    /// the many-run side gains the maximum of nine noises; chosen on groups
    /// 1 to 5 and judged on 6 to 10, the difference is unbiased and its 95 %
    /// interval covers zero as often as promised.
    #[test]
    fn held_out_groups_undo_the_winners_curse() {
        let sizes = || vec![50, 50];
        let mut rng = strata_core::Rng::new(strata_core::Seed(7));
        let sd = 0.03;
        let mut noisy = |hash: String, truth: f64| {
            let g: Vec<f64> = (0..SILHOUETTE_GROUPS).map(|_| truth + sd * rng.normal()).collect();
            let all = mean(&g);
            let mut r = run(&hash, "none", all, None, sizes());
            r.silhouette_common_groups = Some(g);
            r
        };
        let reps = 400;
        let (mut held, mut all_rows, mut covered) = (0.0, 0.0, 0);
        for rep in 0..reps {
            let many: Vec<RunRecord> = (0..9).map(|i| noisy(format!("m{rep}-{i}"), 0.25)).collect();
            let few: Vec<RunRecord> = (0..9)
                .map(|i| gmm(noisy(format!("f{rep}-{i}"), if i == 0 { 0.25 } else { 0.0 })))
                .collect();
            let ((b, sb), (a, sa)) = (
                best_common(many.iter(), true).unwrap(),
                best_common(few.iter(), true).unwrap(),
            );
            let (d, interval) = held_out_difference(b, sb, a, sa, true);
            let (low, high) = interval.unwrap();
            held += d;
            covered += usize::from(low <= 0.0 && 0.0 <= high);
            let ((b, sb), (a, sa)) = (
                best_common(many.iter(), false).unwrap(),
                best_common(few.iter(), false).unwrap(),
            );
            let (d, interval) = held_out_difference(b, sb, a, sa, false);
            assert_eq!(interval, None);
            all_rows += d;
        }
        let (held, all_rows) = (held / reps as f64, all_rows / reps as f64);
        // A held-out difference has sd sqrt(2 sd^2 / 5) = 0.019, so its mean
        // over 400 repetitions has sd 0.00095; the all-rows bias is the mean
        // of the largest of nine normals (1.485) times sd / sqrt(10) = 0.014.
        assert!(held.abs() < 0.003, "held-out mean difference {held}");
        assert!(all_rows > 0.009, "all-rows mean difference {all_rows}");
        assert!((360..=396).contains(&covered), "{covered} of {reps} cover 0");
    }

    #[test]
    fn group_interval_by_hand() {
        // Differences 0.1, 0.3: mean 0.2, sd 0.1414, t(0.975, 1) = 12.706.
        let (low, high) = group_interval(0.25, &[0.3, 0.5], &[0.2, 0.2]).unwrap();
        let half = 12.706_204_736 * (0.02f64 / 2.0).sqrt();
        assert!((low - (0.25 - half)).abs() < 1e-8 && (high - (0.25 + half)).abs() < 1e-8, "{low} {high}");
        assert_eq!(group_interval(0.1, &[0.3], &[0.2]), None);
        assert_eq!(group_interval(0.1, &[0.3, 0.4], &[0.2]), None);
    }

    /// The interval's promise, checked by simulation: rows drawn from three
    /// overlapping blobs, two fixed labelings (the nearest of the blobs'
    /// centres, and a cut on the first coordinate), the population's
    /// difference of their silhouettes taken from one sample of 20,000 rows;
    /// nominal 95 % intervals from samples of 1,000 rows must cover it in 90
    /// to 99 % of 200 samples.
    #[test]
    fn group_intervals_cover_the_population_difference() {
        use ndarray::Array2;
        use strata_cluster::metrics::{silhouette_group_scores, silhouette_scores};
        let centres = [[0.0, 0.0], [2.5, 0.5], [1.0, 2.5]];
        let draw = |r: &mut strata_core::Rng, n: usize| {
            let mut x = Array2::zeros((n, 2));
            for mut row in x.rows_mut() {
                let c = centres[r.below(3)];
                row[0] = c[0] + r.normal();
                row[1] = c[1] + r.normal();
            }
            x
        };
        let labels = |x: &Array2<f64>| -> (Vec<usize>, Vec<usize>) {
            let near = x
                .rows()
                .into_iter()
                .map(|row| {
                    let d = |c: &[f64; 2]| (row[0] - c[0]).powi(2) + (row[1] - c[1]).powi(2);
                    (0..3).min_by(|&a, &b| d(&centres[a]).total_cmp(&d(&centres[b]))).unwrap_or(0)
                })
                .collect();
            let cut = x.rows().into_iter().map(|row| usize::from(row[0] > 1.2)).collect();
            (near, cut)
        };
        let mut r = strata_core::Rng::new(strata_core::Seed(2003));
        let big = draw(&mut r, 20_000);
        let (a, b) = labels(&big);
        let s = silhouette_scores(big.view(), &[&a, &b]).unwrap();
        let truth = s[0] - s[1];
        let mut covered = 0;
        for rep in 0..200u64 {
            let x = draw(&mut r, 1000);
            let (a, b) = labels(&x);
            let s = silhouette_scores(x.view(), &[&a, &b]).unwrap();
            let groups = crate::sweep::silhouette_groups(1000, strata_core::Seed(rep));
            let g = silhouette_group_scores(x.view(), &[&a, &b], &groups).unwrap();
            let (ga, gb) = (g[0].as_ref().unwrap(), g[1].as_ref().unwrap());
            let (low, high) = group_interval(s[0] - s[1], ga, gb).unwrap();
            covered += usize::from(low <= truth && truth <= high);
        }
        assert!((180..=198).contains(&covered), "{covered} of 200 cover {truth}");
    }

    /// A classification record whose MLP comparisons against the original
    /// features have the given (feature set, recall interval, accuracy interval).
    fn with_classification(
        sets: &[(&str, (f64, f64), (f64, f64))],
    ) -> ExperimentResults {
        use strata_neural::cv::{CvConfig, CvReport, PAIRED_METHOD, PairedDiff, Summary};
        let diff = |fs: &str, metric: &str, (low, high): (f64, f64)| PairedDiff {
            model: "mlp".into(),
            a: "original".into(),
            b: fs.into(),
            metric: metric.into(),
            mean_diff: 0.5 * (low + high),
            low,
            high,
            level: 0.95,
            p_value: 0.5,
            p_holm: 1.0,
            family_size: 2 * sets.len(),
            n_pairs: 15,
            df: 14.0,
            method: PAIRED_METHOD.into(),
        };
        let mut res = results(Vec::new());
        res.classification = Some(crate::classify::ClassificationRecord {
            hash: "h".into(),
            experiment: "x".into(),
            config: crate::manifest::Classification {
                folds: 5,
                repeats: 3,
                threshold: strata_neural::ThresholdRule::MaxF1,
                baselines: Vec::new(),
                mlp: strata_neural::MlpConfig::default(),
                features: Vec::new(),
            },
            seed: strata_core::Seed(0),
            dataset: res.plan.dataset.clone(),
            strata_version: String::new(),
            target: "y".into(),
            positives: 15,
            rows: 100,
            report: CvReport {
                config: CvConfig::default(),
                threshold_rule: String::new(),
                folds: Vec::new(),
                summary: sets
                    .iter()
                    .map(|(fs, _, _)| Summary {
                        feature_set: fs.to_string(),
                        model: "mlp".into(),
                        n_folds: 15,
                        mean: Default::default(),
                        sd: Default::default(),
                        confusion: Default::default(),
                    })
                    .collect(),
            },
            comparisons: sets
                .iter()
                .flat_map(|(fs, r, a)| [diff(fs, "recall", *r), diff(fs, "accuracy", *a)])
                .collect(),
            seconds: 0.0,
        });
        res
    }

    #[test]
    fn claim_three_every_outcome() {
        let verdict = |sets: &[(&str, (f64, f64), (f64, f64))]| {
            claim(&with_classification(sets), "cluster features").verdict
        };
        let k = "original+clusters:kmeans";
        let g = "original+clusters:gmm";
        // Recall gain clears 0.02 and accuracy stays within ±0.01.
        assert_eq!(verdict(&[(k, (0.03, 0.09), (-0.005, 0.008))]), Verdict::Supported);
        // The study's situation: the recall interval spans 0 and 0.02.
        assert_eq!(verdict(&[(k, (-0.02, 0.10), (-0.005, 0.008))]), Verdict::NotShown);
        // A recall gain, but accuracy not shown to stay within its margin.
        assert_eq!(verdict(&[(k, (0.03, 0.09), (-0.03, 0.03))]), Verdict::NotShown);
        // No relevant recall gain possible.
        assert_eq!(verdict(&[(k, (-0.05, 0.01), (-0.005, 0.008))]), Verdict::Contradicted);
        // Accuracy clearly falls.
        assert_eq!(verdict(&[(k, (0.03, 0.09), (-0.05, -0.02))]), Verdict::Contradicted);
        // One feature set supports, another contradicts.
        assert_eq!(
            verdict(&[
                (k, (0.03, 0.09), (-0.005, 0.008)),
                (g, (-0.05, 0.01), (-0.005, 0.008)),
            ]),
            Verdict::Mixed
        );
        let c = claim(&with_classification(&[(k, (0.03, 0.09), (-0.005, 0.008))]), "cluster");
        assert!(c.rule.contains("corrected resampled t-test"), "{}", c.rule);
        assert!(c.rule.contains("family of 2 comparisons"), "{}", c.rule);
    }

    #[test]
    fn claim_four_every_outcome() {
        assert_eq!(segment_verdict(1, 1, 0), Verdict::Supported);
        assert_eq!(segment_verdict(1, 2, 3), Verdict::Supported);
        assert_eq!(segment_verdict(0, 2, 0), Verdict::Contradicted);
        assert_eq!(segment_verdict(3, 0, 0), Verdict::Contradicted);
        assert_eq!(segment_verdict(0, 2, 1), Verdict::NotShown);
        assert_eq!(segment_verdict(0, 0, 2), Verdict::NotShown);
        // Through the claims: the segments' actions decide, the rule names
        // the family of intervals and whether the segmentation was pinned.
        use crate::segments::{Action, Campaign, SegmentCard, Segments};
        let card = |segment: usize, action: Action, profit: f64| SegmentCard {
            segment,
            size: 50,
            share: 0.5,
            label: String::new(),
            traits: Vec::new(),
            campaign: Some(Campaign {
                responders: 5,
                response_rate: 0.1,
                rate_low: 0.05,
                rate_high: 0.2,
                lift: 1.0,
                profit_per_contact: Some(profit),
                profit_low: Some(profit - 0.5),
                profit_high: Some(profit + 0.5),
                action: Some(action),
            }),
            mixes: Vec::new(),
            described: Default::default(),
            means: Vec::new(),
            noise: false,
        };
        let mut res = results(Vec::new());
        res.segments = Some(Segments {
            experiment: "x".into(),
            run: "r".into(),
            representation: "none".into(),
            clusterer: "kmeans(k=3)".into(),
            reason: String::new(),
            agreement: Default::default(),
            cards: vec![card(0, Action::Contact, 1.5), card(1, Action::Skip, -2.0), card(2, Action::Uncertain, 0.1)],
        });
        let c = claim(&res, "some segments");
        assert_eq!(c.verdict, Verdict::Supported);
        assert!(c.rule.contains("(unadjusted for the 3 segments)"), "{}", c.rule);
        assert!(c.rule.contains("chosen without the target"), "{}", c.rule);
        assert!(c.evidence.contains("1 segment(s) to contact, 1 to skip, 1 uncertain; segment 0: +1.50 per contact (Contact)"), "{}", c.evidence);
        if let Some(s) = res.segments.as_mut() {
            s.cards.truncate(1);
        }
        assert_eq!(claim(&res, "some segments").verdict, Verdict::Contradicted);
        // DBSCAN's noise is not a segment: a noise group to skip beside one
        // segment to contact does not make the claim.
        if let Some(s) = res.segments.as_mut() {
            s.cards.push(SegmentCard { noise: true, size: 30, ..card(1, Action::Skip, -2.0) });
        }
        let c = claim(&res, "some segments");
        assert_eq!(c.verdict, Verdict::Contradicted);
        assert!(c.evidence.contains("1 segment(s) to contact, 0 to skip, 0 uncertain; segment 0: +1.50 per contact (Contact); the 30 rows in no dense region (noise) are not a segment"), "{}", c.evidence);
        assert!(c.rule.contains("(unadjusted for the 1 segments)"), "{}", c.rule);
    }
}
