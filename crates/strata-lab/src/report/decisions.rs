//! The sections a decision rests on: the claims and their verdicts, the
//! chosen segmentation with its selection table, the segments, held-out
//! targeting and drift between cohorts.

use super::page::{Doc, fmt, fmt_units};
use super::plots::{Series, line_chart, scatter_chart};
use crate::store::{ExperimentResults, RunRecord};

/// The study's claims, each with its verdict, evidence and rule.
pub(super) fn claims_section(d: &mut Doc, res: &ExperimentResults) {
    let verdicts = crate::claims::claims(res);
    if !verdicts.is_empty() {
        d.h(2, "Claims of the study, tested on this data");
        d.p("Four outcomes: supported (the evidence clears the margin of practical relevance), not shown (compatible with no relevant effect and with a relevant one), contradicted (excludes any relevant effect in the claimed direction), mixed (parts disagree). Each rule, margin and method is stated beside its verdict; margins come from the manifest's [verdicts] table.");
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|c| {
                vec![
                    c.claim.to_string(),
                    c.verdict().to_string(),
                    c.evidence.clone(),
                    c.rule.clone(),
                ]
            })
            .collect();
        d.table(&["claim", "verdict", "evidence", "rule"], &rows);
    }
}

/// The chosen segmentation, why it won, and the table of candidates.
pub(super) fn selection_section(d: &mut Doc, res: &ExperimentResults, all: &[&RunRecord]) {
    d.h(2, "Chosen clustering");
    match &res.plan.pin {
        Some(p) => d.p(&format!(
            "Pinned by the manifest: [segments] {}. The rule that would otherwise apply, and its table below: {}.",
            p.label(),
            crate::selection::RULE
        )),
        None => d.p(&format!("Rule: {}.", crate::selection::RULE)),
    }
    match crate::selection::chosen(all, res.plan.pin.as_ref(), res.plan.margins.silhouette) {
        Some((best, why)) => {
            d.p(&format!(
                "{} on {}: {why}.",
                best.config.clusterer.label(),
                best.config.representation.label()
            ));
            if let Some(t) = crate::selection::structure(best) {
                d.p(&format!("Structure: {t}."));
            }
            if let Some(c) = &best.clustering {
                d.p(&format!("Cluster sizes: {:?}.", c.sizes));
            }
            if let Some(f) = crate::features::note(best) {
                d.p(&f);
            }
            for w in best.warnings.iter().filter(|w| w.contains("collapsed to reg_covar")) {
                d.p(&format!("Warning on the chosen run: {w}."));
            }
            d.svg(scatter_chart(res, best));
        }
        None => d.p("No run has a common-space silhouette, so none can be recommended."),
    }
    let mixtures = all
        .iter()
        .filter(|r| r.config.clusterer.algorithm == "gmm")
        .count();
    let collapsed = all
        .iter()
        .filter(|r| r.warnings.iter().any(|w| w.contains("collapsed to reg_covar")))
        .count();
    if collapsed > 0 {
        d.p(&format!(
            "Discrete columns: in {collapsed} of {mixtures} mixture runs a component is constant on a discrete column (binary, one-hot, a count, `key`, `mode`), so its variance there is only reg_covar and the likelihood, BIC and posteriors follow that column; each run's note in the table of all runs names the columns."
        ));
    }
    let table = crate::selection::candidates(all);
    if !table.is_empty() {
        let groups = table.iter().any(|c| c.halves.is_some());
        d.h(3, "Selection table (the 15 best candidates by the rule's score)");
        d.p(&format!(
            "Common-space silhouette: the run's labels scored in the prepared features, comparable across representations.{} Own-space silhouette: scored in the run's representation, comparable only within it. Pipeline stability: mean ARI between fits of representation and clusterer on resamples, on shared rows, with its 95 % interval (a jackknife over the resamples: how far another draw of resamples could move the mean; the rule's filter reads the mean).",
            if groups {
                format!(
                    " Choosing / judging groups: its mean over groups of rows 1 to {c} (the rule ranks by it) and over groups {j} to {g} (which judge the choice).",
                    c = crate::claims::CHOOSING_GROUPS,
                    j = crate::claims::CHOOSING_GROUPS + 1,
                    g = crate::sweep::SILHOUETTE_GROUPS
                )
            } else {
                String::new()
            }
        ));
        let spread = table
            .iter()
            .any(|c| c.run.metrics.contains_key(crate::sweep::RESPONSE_SPREAD));
        if spread {
            d.p("Response-rate spread: highest minus lowest segment response rate, read on the training rows of held-out targeting only; shown to judge the candidates, never used by the rule.");
        }
        let rows: Vec<Vec<String>> = table
            .iter()
            .take(15)
            .map(|c| {
                let mut row = vec![
                    c.run.config.representation.label(),
                    c.run.config.clusterer.label(),
                    format!("{:.3}", c.common_silhouette),
                ];
                if groups {
                    row.push(c.halves.map_or("–".into(), |(a, b)| format!("{a:.3} / {b:.3}")));
                }
                row.extend([
                    fmt(c.own_silhouette),
                    crate::selection::stability_cell(c.run),
                    format!("{:.1} %", 100.0 * c.smallest_share),
                ]);
                if spread {
                    row.push(
                        c.run
                            .metrics
                            .get(crate::sweep::RESPONSE_SPREAD)
                            .map_or("–".into(), |v| format!("{:.1} pp", 100.0 * v)),
                    );
                }
                row.push(if c.eligible { "yes" } else { "no" }.into());
                row
            })
            .collect();
        let mut header = vec![
            "representation",
            "clusterer",
            "common-space silhouette (all rows)",
        ];
        if groups {
            header.push("choosing / judging groups");
        }
        header.extend([
            "own-space silhouette",
            "pipeline stability ARI",
            "smallest segment",
        ]);
        if spread {
            header.push("response-rate spread (training rows)");
        }
        header.push("passes size and stability filters");
        d.table(&header, &rows);
    }
}

/// The segment cards of the chosen clustering.
pub(super) fn segments_section(d: &mut Doc, res: &ExperimentResults) {
    if let Some(seg) = &res.segments {
        d.h(2, "Segments of the chosen clustering");
        d.p(&format!(
            "{} on {}. Traits are the largest standardized differences from all rows, in original units.{}",
            seg.clusterer,
            seg.representation,
            if seg.agreement.is_empty() {
                String::new()
            } else {
                let a: Vec<String> = seg.agreement.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
                format!(" Agreement with descriptive labels (used only to describe): {}.", a.join(", "))
            }
        ));
        d.markdown(&crate::segments::render(&seg.cards));
    }
}

/// Segment actions, the MLP and everyone, judged on held-out customers.
pub(super) fn targeting_section(d: &mut Doc, res: &ExperimentResults) {
    if let Some(t) = &res.targeting {
        d.h(2, "Campaign targeting on held-out customers");
        d.p(&format!(
            "Segments, their actions and the MLP were fitted on {} customers; {} others ({} responders) were held out and never used in a fit. {}. The training fit numbers its segments its own way; each is shown beside the segment of the chosen clustering (the cards above) that holds most of its training customers.",
            t.train_rows,
            t.test_rows.len(),
            t.test_positives,
            t.verdict
        ));
        if let Some(line) = act_on(t) {
            d.p(&line);
        }
        let rows: Vec<Vec<String>> = t.policies.iter().map(policy_row).collect();
        d.table(
            &[
                "policy",
                "customers contacted",
                "profit",
                "bootstrap 95 % interval",
            ],
            &rows,
        );
        if let Some(r) = &t.repeated {
            d.p(&format!("Repeated {}.", r.verdict));
            let rows: Vec<Vec<String>> = r.policies.iter().map(|p| repeated_row(p, r.splits)).collect();
            d.table(
                &[
                    "policy",
                    "customers contacted, mean over the splits",
                    "mean profit on a split's held-out customers",
                    "corrected 95 % interval",
                    "splits where it earned the most",
                ],
                &rows,
            );
            if !r.depths.is_empty() {
                d.p(&depth_text(r));
                let rows: Vec<Vec<String>> = r.depths.iter().map(|x| depth_row(x, r.test_rows)).collect();
                d.table(
                    &[
                        "best share by the MLP's score",
                        "customers contacted",
                        "mean profit on a split's held-out customers",
                        "corrected 95 % interval",
                        "the tranche: customers ranked after the row above",
                        "what the tranche adds, mean",
                        "corrected 95 % interval",
                        "the tranche",
                    ],
                    &rows,
                );
            }
        }
        let rows: Vec<Vec<String>> = t
            .segments
            .iter()
            .map(|s| {
                vec![
                    s.segment.to_string(),
                    chosen_segment(s.chosen_segment),
                    s.train_size.to_string(),
                    format!(
                        "{:.1} % [{:.1}, {:.1}]",
                        100.0 * s.train_rate,
                        100.0 * s.rate_low,
                        100.0 * s.rate_high
                    ),
                    format!("[{:+.2}, {:+.2}]", s.profit_low, s.profit_high),
                    format!("{:?}", s.action).to_lowercase(),
                    s.test_size.to_string(),
                    format!("{:.1} %", 100.0 * s.test_rate),
                ]
            })
            .collect();
        d.table(
            &[
                "segment (training fit)",
                "chosen clustering's segment",
                "training customers",
                "training response rate",
                "profit per contact",
                "action",
                "held-out customers",
                "held-out response rate",
            ],
            &rows,
        );
        let mut series: Series = vec![(
            crate::targeting::MLP_POLICY.into(),
            t.curve.iter().map(|&(n, p)| (n as f64, p)).collect(),
        )];
        for p in t.policies.iter().filter(|p| p.name != crate::targeting::MLP_POLICY) {
            series.push((p.name.clone(), vec![(p.contacted as f64, p.profit)]));
        }
        d.svg(line_chart(
            "profit curve on held-out customers",
            "customers contacted",
            "cumulative profit",
            &series,
        ));
    }
}

/// Segment drift: each cohort's own pipeline, matched segments, centres per
/// feature and response per cohort.
pub(super) fn cohort_section(d: &mut Doc, c: &crate::cohorts::CohortReport) {
    d.h(2, "Segment drift between cohorts");
    let excluded = if c.excluded.is_empty() {
        String::new()
    } else {
        format!(
            " Features derived from `{}` ({}) differ between cohorts by construction: they are left out of both pipelines and of the comparison.",
            c.column,
            c.excluded.join(", ")
        )
    };
    d.p(&format!(
        "Rows with `{}` on or before {} ({} rows) and after it ({} rows) each got their own pipeline, fitted on their own rows only: preprocessing recipe, representation and clustering of the chosen segmentation ({} and {} columns).{excluded} Each pipeline then assigns every row; {}. Each earlier segment is shown beside the segment of the chosen clustering (the cards above) that holds most of its rows.",
        c.column, c.split, c.early_rows, c.late_rows, c.early_columns, c.late_columns, c.verdict
    ));
    let rate = |r: &Option<crate::cohorts::Rate>| {
        r.as_ref().map_or("–".to_string(), |r| {
            format!("{:.1} % [{:.1}, {:.1}]", 100.0 * r.rate, 100.0 * r.low, 100.0 * r.high)
        })
    };
    let rows: Vec<Vec<String>> = c
        .matches
        .iter()
        .map(|m| {
            vec![
                format!("{} ({:.1} %)", m.early_segment, 100.0 * m.early_share),
                chosen_segment(m.chosen_segment),
                format!("{} ({:.1} %)", m.late_segment, 100.0 * m.late_share),
                format!("{:.1} %", 100.0 * m.overlap),
                rate(&m.early_response),
                rate(&m.late_response),
                m.response_change.map_or("–".to_string(), |c| {
                    format!("{:+.1} pp [{:+.1}, {:+.1}]", 100.0 * c.diff, 100.0 * c.low, 100.0 * c.high)
                }),
                m.features
                    .iter()
                    .take(3)
                    .map(|f| {
                        format!(
                            "{} {} → {} ({:+.2} sd{})",
                            f.feature,
                            fmt_units(f.early),
                            fmt_units(f.late),
                            f.shift_sd,
                            f.shift_interval
                                .map_or(String::new(), |(lo, hi)| format!(" [{lo:+.2}, {hi:+.2}]"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    d.table(
        &[
            "earlier segment (share of its cohort)",
            "chosen clustering's segment",
            "matched later segment",
            "earlier segment's rows the later pipeline puts there",
            "response, earlier cohort (95 % Wilson)",
            "response, later cohort",
            "change, later minus earlier (Newcombe 95 %, unadjusted)",
            "largest centre shifts (original units; pooled sd, 95 % Welch, unadjusted)",
        ],
        &rows,
    );
    if !c.unmatched.is_empty() {
        d.p(&format!(
            "Without a match (the pipelines found different numbers of segments): {}.",
            c.unmatched
                .iter()
                .map(|(cohort, s)| format!("{cohort} segment {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}


/// The campaign test: its plan per segment and, once read, the decisions.
pub(super) fn campaign_test_section(d: &mut Doc, res: &ExperimentResults) {
    let Some(t) = &res.test_plan else {
        return;
    };
    d.h(2, "Campaign test");
    d.p(&format!(
        "Planned by `strata plan-test` on {} (run {}), assignment seed {}: {}. The assignment (customer id, segment, arm) is in campaign_test/assignment.csv and .parquet.",
        t.segmentation, t.run, t.seed.0, t.rule
    ));
    let rows: Vec<Vec<String>> = t
        .segments
        .iter()
        .map(|p| {
            vec![
                p.segment.to_string(),
                p.customers.to_string(),
                format!("{:.1} % [{:.1}, {:.1}]", 100.0 * p.baseline, 100.0 * p.baseline_low, 100.0 * p.baseline_high),
                p.target_text(),
                p.needed_text(),
                format!("{}{}", p.per_arm, p.shortfall_text()),
                p.power_text(),
                p.decisive_text(t.design.power),
                format!("{:.0}", p.test_cost),
                format!("{:.1} points", 100.0 * p.break_even_uplift),
                p.profit_if_lift_text(),
            ]
        })
        .collect();
    d.table(
        &[
            "segment",
            "customers",
            "response in the data (95 % Wilson)",
            "the arms' rates if the lift is real (the decision they call for)",
            "needed per arm",
            "per arm",
            "power of the planned decision",
            "decisive uplifts",
            "contact cost of the treatment arm",
            "break-even uplift",
            "incremental profit if the lift is real",
        ],
        &rows,
    );
    if let Some(c) = t.below_break_even() {
        d.p(&c);
    }
    let Some(r) = &res.test_reading else {
        d.p("Not read yet: `strata read-test MANIFEST RESULTS.csv` reads the responses per arm.");
        return;
    };
    d.p(&format!(
        "Read by `strata read-test`: {}.{}",
        r.rule,
        r.missing_note().map(|m| format!(" {m}.")).unwrap_or_default()
    ));
    let rows: Vec<Vec<String>> = r
        .segments
        .iter()
        .map(|g| {
            vec![
                format!("{}{}", g.segment, g.look_text()),
                g.treated_text(),
                g.control_text(),
                g.uplift_text(),
                g.profit_text(),
                g.decision.as_str().to_string(),
            ]
        })
        .collect();
    d.table(
        &[
            "segment",
            "treated responders",
            "control responders",
            "uplift",
            "incremental profit per contact",
            "decision",
        ],
        &rows,
    );
}

/// Similar rows (tracks, in the shipped study), measured against the
/// manifest's judgement columns (there, the playlists, subgenres and
/// genres people gave them), beside two baselines; the rows are called by
/// the descriptor's `noun`.
pub(super) fn similarity_section(d: &mut Doc, s: &crate::neighbours::SimilarityReport) {
    let [one, many] = &s.noun;
    d.h(2, &format!("Similar {many}, measured"));
    let judged: Vec<String> = s.judgements().iter().map(|j| format!("`{j}`")).collect();
    let each = if judged.len() > 1 { ", each judgement on its own" } else { "" };
    let several = if s.multi_membership == 1 { format!("{one} takes") } else { format!("{many} take") };
    d.p(&format!(
        "For {} query {many} drawn at random from {}, precision@{}: the share of a query's {} nearest {many} (itself excluded) that share a value of {} with it{each}, counting every row of the file ({} {several} more than one value of {}), with 95 % normal intervals over queries, cut at 0 and 1. Baselines: {} random {many}, and the {} {many} nearest by popularity alone. `strata similar` searches the best representation: {}, {}. The table below scores every method on all {} queries, the choosing ones included.",
        s.queries,
        s.items,
        s.k,
        s.k,
        judged.join(", of "),
        s.multi_membership,
        judged.first().map_or("the first judgement", String::as_str),
        s.k,
        s.k,
        s.best,
        s.reason,
        s.queries
    ));
    d.p(&format!(
        "Regardless of popularity: the catalogue's popularity has standard deviation {:.1}; a quarter of the {many} have popularity {:.0} or less. A search that ignores popularity keeps a spread near the catalogue's within each neighbour list and about a quarter of its neighbours in that least popular quartile.",
        s.catalogue_popularity_sd, s.least_popular_cut
    ));
    let mut head: Vec<String> = vec!["neighbours by".into()];
    head.extend(s.judgements().iter().map(|j| format!("precision@{} by {j}", s.k)));
    head.extend([
        "popularity sd within a list".to_string(),
        "mean popularity gap to the query".to_string(),
        "neighbours in the least popular quartile".to_string(),
    ]);
    let rows: Vec<Vec<String>> = s
        .methods
        .iter()
        .map(|m| {
            let mut r = vec![if m.baseline {
                format!("{} (baseline)", m.method)
            } else {
                m.method.clone()
            }];
            r.extend(m.precision.iter().map(|(_, e)| format!("{:.3} [{:.3}, {:.3}]", e.mean, e.low, e.high)));
            r.push(format!("{:.1}", m.neighbour_popularity_sd));
            r.push(format!("{:.1}", m.popularity_gap));
            r.push(format!("{:.1} %", 100.0 * m.least_popular_share));
            r
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    d.table(&head, &rows);
}

/// k-prototypes on the raw categories against k-means on the one-hot
/// columns, k by k: in the common space, under the mixed dissimilarity, and
/// by how far the segments' response rates differ on training rows.
pub(super) fn mixed_section(d: &mut Doc, all: &[&RunRecord]) {
    let on_none = |algo: &str, k: i64| {
        all.iter().copied().find(|r| {
            r.config.clusterer.algorithm == algo
                && r.config.representation.algorithm == "none"
                && !r.config.drop_discrete
                && matches!(r.config.clusterer.params.0.get("k"), Some(strata_core::ParamValue::Int(x)) if *x == k)
        })
    };
    let mut ks: Vec<i64> = all
        .iter()
        .filter(|r| r.config.clusterer.algorithm == "kprototypes")
        .filter_map(|r| match r.config.clusterer.params.0.get("k") {
            Some(strata_core::ParamValue::Int(k)) => Some(*k),
            _ => None,
        })
        .collect();
    if ks.is_empty() {
        return;
    }
    ks.sort_unstable();
    ks.dedup();
    d.h(2, "Mixed data: k-prototypes against k-means on one-hot columns");
    d.p("k-prototypes reads each one-hot group back as one categorical variable and weighs a mismatch by gamma (Huang's default: half the mean standard deviation of the numeric columns); k-means sees the 0/1 columns as numbers. Both on the prepared columns, compared k by k in the common space (the prepared features, as every run), both under k-prototypes' mixed dissimilarity (k-means' labels with Huang's gamma; k-prototypes' with its run's gamma, the same unless the manifest sets one), and by the spread of their segments' response rates on the training rows of held-out targeting.");
    let metric = |r: Option<&RunRecord>, m: &str| fmt(r.and_then(|r| r.metrics.get(m).copied()));
    let spread = |r: Option<&RunRecord>| {
        r.and_then(|r| r.metrics.get(crate::sweep::RESPONSE_SPREAD))
            .map_or("–".into(), |v| format!("{:.1} pp", 100.0 * v))
    };
    let rows: Vec<Vec<String>> = ks
        .iter()
        .map(|&k| {
            let (p, m) = (on_none("kprototypes", k), on_none("kmeans", k));
            vec![
                k.to_string(),
                metric(p, "silhouette_common"),
                metric(m, "silhouette_common"),
                metric(p, crate::sweep::MIXED_SILHOUETTE),
                metric(m, crate::sweep::MIXED_SILHOUETTE),
                p.map_or("–".into(), crate::selection::stability_cell),
                m.map_or("–".into(), crate::selection::stability_cell),
                spread(p),
                spread(m),
            ]
        })
        .collect();
    d.table(
        &[
            "k",
            "k-prototypes: common-space silhouette",
            "k-means on one-hot: common-space silhouette",
            "k-prototypes: mixed-dissimilarity silhouette",
            "k-means on one-hot: mixed-dissimilarity silhouette",
            "k-prototypes: pipeline stability (95 % interval)",
            "k-means: pipeline stability (95 % interval)",
            "k-prototypes: response-rate spread",
            "k-means: response-rate spread",
        ],
        &rows,
    );
}

/// A segment of another fit (training rows only, one cohort) named after
/// the chosen clustering's segment holding most of its rows.
fn chosen_segment(m: Option<(usize, f64)>) -> String {
    m.map_or("–".into(), |(c, share)| format!("{c} ({:.0} % of its rows)", 100.0 * share))
}

/// How to act on the MLP's ranked list, when it earns the most on the
/// held-out customers (on average over the repeated splits, when measured;
/// else on the one split): the command that fits it on every labelled
/// customer and scores new ones.
fn act_on(t: &crate::targeting::TargetingReport) -> Option<String> {
    let mlp_wins = match &t.repeated {
        Some(r) => r
            .best()
            .is_some_and(|b| b.name == crate::targeting::MLP_POLICY && !b.contacts_nobody()),
        None => t
            .policies
            .iter()
            .max_by(|a, b| a.profit.total_cmp(&b.profit))
            .is_some_and(|b| b.name == crate::targeting::MLP_POLICY && b.contacted > 0),
    };
    mlp_wins.then(|| {
        "To act on the ranked list: `strata contact-list <manifest> --customers <file>` fits the same procedure on every labelled customer and writes, for the customers of the file, a score, a rank and whether to contact each (`contact_list/contact_list.csv`).".to_string()
    })
}

/// The paragraph above the depth table: what it measures, how, and which
/// tranches earn or lose.
fn depth_text(r: &crate::targeting::Repeated) -> String {
    format!(
        "For a budget that caps the contacts: contacting a fixed share of each split's {} held-out customers, best first by the MLP's score (its threshold not applied), over the same {} splits; each tranche is the customers ranked after the row above, and what contacting them adds tells whether a larger budget pays. Means over the splits with 95 % corrected resampled t intervals (Nadeau and Bengio), unadjusted for the {} rows. Tranches that earn (interval above 0): {}; that lose (interval below 0): {}.",
        r.test_rows,
        r.splits,
        r.depths.len(),
        r.tranches("earns"),
        r.tranches("loses"),
    )
}

/// One row of the depth table.
fn depth_row(x: &crate::targeting::Depth, test_rows: usize) -> Vec<String> {
    vec![
        format!("{:.0} %", 100.0 * x.share),
        format!("{} of {test_rows}", x.contacted),
        format!("{:.0}", x.mean),
        format!("[{:.0}, {:.0}]", x.low, x.high),
        x.tranche.to_string(),
        format!("{:+.0}", x.tranche_mean),
        format!("[{:+.0}, {:+.0}]", x.tranche_low, x.tranche_high),
        x.reading().into(),
    ]
}

/// One row of the repeated splits' policy table; a policy that contacts
/// nobody in any split says so, as in [`policy_row`].
fn repeated_row(p: &crate::targeting::RepeatedPolicy, splits: usize) -> Vec<String> {
    let mut row = if p.contacts_nobody() {
        nobody_row(&p.name, "0 (nobody contacted in any split)")
    } else {
        let contacted = p.contacted.iter().sum::<usize>() as f64 / p.contacted.len().max(1) as f64;
        vec![
            p.name.clone(),
            format!("{contacted:.1}"),
            format!("{:.0}", p.mean),
            format!("[{:.0}, {:.0}]", p.low, p.high),
        ]
    };
    row.push(format!("{} of {splits}", p.wins));
    row
}

/// The cells of a policy that contacts nobody: its profit is 0 with no
/// spread by construction, not an estimate.
fn nobody_row(name: &str, contacted: &str) -> Vec<String> {
    vec![
        name.to_string(),
        contacted.into(),
        "0 by construction".into(),
        "none: no contacts, no spread".into(),
    ]
}

/// One row of the policy table. A policy that contacts nobody earns 0 with
/// no spread by construction, not as an estimate, and its row says so
/// rather than showing a bare "0 | 0 | [0, 0]".
fn policy_row(p: &crate::targeting::Policy) -> Vec<String> {
    if p.contacted == 0 {
        return nobody_row(&p.name, "0 (nobody contacted)");
    }
    vec![
        p.name.clone(),
        p.contacted.to_string(),
        format!("{:.0}", p.profit),
        format!("[{:.0}, {:.0}]", p.low, p.high),
    ]
}

#[cfg(test)]
mod tests {
    use super::policy_row;
    use crate::targeting::Policy;

    #[test]
    fn the_mixed_section_pairs_k_prototypes_with_k_means_by_k_with_stability_intervals() {
        let at = |algo: &str, k: i64, stability: f64| {
            let mut r = crate::selection::tests::run(algo, "none", 0.2, Some(stability), vec![50, 50]);
            r.config.clusterer.algorithm = algo.into();
            r.config.clusterer.params.0.insert("k".into(), strata_core::ParamValue::Int(k));
            r
        };
        let mut proto = at("kprototypes", 2, 0.97);
        proto.metrics.insert(crate::sweep::STABILITY_LOW.into(), 0.944);
        proto.metrics.insert(crate::sweep::STABILITY_HIGH.into(), 0.995);
        // k-means at k = 3 has no k-prototypes partner and no row of its own;
        // k-means at k = 2 was stored without an interval.
        let runs = [proto, at("kmeans", 2, 0.9), at("kmeans", 3, 0.5)];
        let all: Vec<_> = runs.iter().collect();
        let mut d = super::Doc { html: String::new(), md: String::new() };
        super::mixed_section(&mut d, &all);
        assert!(d.md.contains("| 2 | 0.2000 | 0.2000 |"), "{}", d.md);
        assert!(d.md.contains("| 0.970 [0.944, 0.995] | 0.900 |"), "{}", d.md);
        assert!(!d.md.contains("| 3 |"), "{}", d.md);
        // Without k-prototypes runs there is no section.
        let mut d = super::Doc { html: String::new(), md: String::new() };
        super::mixed_section(&mut d, &all[1..]);
        assert!(d.md.is_empty(), "{}", d.md);
    }

    #[test]
    fn the_command_to_act_is_named_when_the_ranked_list_wins() {
        let policy = |name: &str, contacted: usize, profit: f64| Policy {
            name: name.into(),
            contacted,
            profit,
            low: profit - 1.0,
            high: profit + 1.0,
        };
        let report = |policies: Vec<Policy>, repeated: Option<crate::targeting::Repeated>| crate::targeting::TargetingReport {
            train_rows: 70,
            test_rows: (0..30).collect(),
            test_positives: 5,
            segments: vec![],
            policies,
            curve: vec![],
            leads: vec![],
            verdict: String::new(),
            repeated,
        };
        let mlp = |p: f64| policy("MLP ranked list", 10, p);
        let wins = vec![policy("contact segments", 0, 0.0), policy("everyone", 40, -9.0), mlp(5.0)];
        assert!(super::act_on(&report(wins.clone(), None)).is_some_and(|l| l.contains("strata contact-list")));
        let loses = vec![policy("contact segments", 3, 8.0), mlp(5.0)];
        assert_eq!(super::act_on(&report(loses.clone(), None)), None);
        assert_eq!(super::act_on(&report(vec![policy("MLP ranked list", 0, 0.0)], None)), None);
        // Over repeated splits, the best mean decides, whatever the first split says.
        let repeated = |segments: f64, mlp: f64, mlp_contacted: usize| crate::targeting::Repeated {
            splits: 2,
            failed: 0,
            train_rows: 70,
            test_rows: 30,
            policies: [("contact segments", segments, 3), ("MLP ranked list", mlp, mlp_contacted)]
                .into_iter()
                .map(|(name, mean, contacted)| crate::targeting::RepeatedPolicy {
                    name: name.into(),
                    profits: vec![mean, mean],
                    contacted: vec![contacted, contacted],
                    mean,
                    low: mean - 1.0,
                    high: mean + 1.0,
                    wins: 1,
                })
                .collect(),
            leads: vec![],
            ahead: false,
            verdict: String::new(),
            depths: vec![],
        };
        assert_eq!(super::act_on(&report(wins, Some(repeated(8.0, 5.0, 10)))), None);
        assert!(super::act_on(&report(loses.clone(), Some(repeated(2.0, 5.0, 10)))).is_some());
        assert_eq!(super::act_on(&report(loses, Some(repeated(-2.0, 0.0, 0)))), None);
    }

    #[test]
    fn the_repeated_table_says_when_nobody_is_contacted_in_any_split() {
        let row = |contacted: Vec<usize>| {
            super::repeated_row(
                &crate::targeting::RepeatedPolicy {
                    name: "contact segments".into(),
                    profits: vec![0.0; contacted.len()],
                    contacted,
                    mean: 12.4,
                    low: -3.2,
                    high: 28.0,
                    wins: 1,
                },
                4,
            )
        };
        assert_eq!(
            row(vec![0, 0, 0, 0]),
            ["contact segments", "0 (nobody contacted in any split)", "0 by construction", "none: no contacts, no spread", "1 of 4"]
        );
        assert_eq!(row(vec![0, 3, 0, 4]), ["contact segments", "1.8", "12", "[-3, 28]", "1 of 4"]);
    }

    /// Each tranche is read by its own interval (earns above 0, loses below,
    /// not clear across), and the paragraph names the tranches by share.
    #[test]
    fn the_depth_table_reads_each_tranche_by_its_interval() {
        use crate::targeting::fixtures::{depth, repeated};
        let r = repeated(
            20,
            30,
            vec![
                depth(0.1, 3, (50.0, 10.0, 90.0), (3, 40.0, 20.0, 60.0)),
                depth(0.2, 6, (50.0, 10.0, 90.0), (3, 2.0, -0.5, 4.5)),
                depth(0.5, 15, (50.0, 10.0, 90.0), (9, -12.0, -20.0, -4.0)),
            ],
        );
        let rows: Vec<Vec<String>> = r.depths.iter().map(|x| super::depth_row(x, 30)).collect();
        assert_eq!(rows[0], ["10 %", "3 of 30", "50", "[10, 90]", "3", "+40", "[+20, +60]", "earns"]);
        assert_eq!((rows[1][7].as_str(), rows[2][7].as_str()), ("not clear", "loses"));
        let text = super::depth_text(&r);
        assert!(text.contains("each split's 30 held-out customers, best first by the MLP's score (its threshold not applied), over the same 20 splits"), "{text}");
        assert!(text.contains("unadjusted for the 3 rows"), "{text}");
        assert!(text.ends_with("Tranches that earn (interval above 0): 0 to 10 %; that lose (interval below 0): 20 to 50 %."), "{text}");
        let mut none = r.clone();
        none.depths.truncate(2);
        assert!(super::depth_text(&none).ends_with("that lose (interval below 0): none."), "{}", super::depth_text(&none));
    }

    #[test]
    fn the_policy_table_says_when_nobody_is_contacted() {
        let policy = |contacted: usize, profit: f64, low: f64, high: f64| Policy {
            name: "contact segments".into(),
            contacted,
            profit,
            low,
            high,
        };
        assert_eq!(
            policy_row(&policy(0, 0.0, 0.0, 0.0)),
            ["contact segments", "0 (nobody contacted)", "0 by construction", "none: no contacts, no spread"]
        );
        assert_eq!(
            policy_row(&policy(12, -37.4, -80.2, 6.6)),
            ["contact segments", "12", "-37", "[-80, 7]"]
        );
    }
}
