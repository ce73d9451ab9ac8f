//! `RESULTS.md`: the headline of one experiment (claims with their verdicts
//! and rules, the chosen segmentation, the decisions drawn from it), written
//! beside the report from the stored results only.
//!
//! It holds no timings, so two sweeps of the same manifests and data write
//! the same bytes; `cargo xtask readme` assembles the README's Results section
//! from these files, and CI fails when the README differs from a fresh sweep.

use crate::store::ExperimentResults;
use std::fmt::Write as _;

/// File name of the headline beside `report.html`.
pub const FILE: &str = "RESULTS.md";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown text of `RESULTS.md` for one experiment.
pub fn render(res: &ExperimentResults) -> String {
    let mut s = String::new();
    let p = &res.plan;
    let _ = writeln!(s, "### {}\n", p.experiment);
    let _ = writeln!(
        s,
        "{}{}rows: {}, features: {}; strata {}; dataset SHA-256 {}.\n",
        p.description,
        if p.description.is_empty() { "" } else { ". " },
        p.dataset.rows,
        p.dataset.features,
        p.strata_version,
        p.dataset.sha256.get(..12).unwrap_or(&p.dataset.sha256),
    );
    let claims = crate::claims::claims(res);
    if !claims.is_empty() {
        let _ = writeln!(s, "| claim of the study | verdict | evidence |\n|---|---|---|");
        for c in &claims {
            let _ = writeln!(
                s,
                "| {} | **{}** | {} |",
                cell(c.claim),
                c.verdict(),
                cell(&c.evidence)
            );
        }
        let _ = writeln!(s, "\nRules behind the verdicts (margins from the manifest's `[verdicts]`):\n");
        for c in &claims {
            let _ = writeln!(s, "- *{}*: {}.", c.claim, c.rule);
        }
        s.push('\n');
    }
    match &res.segments {
        Some(seg) => {
            let sizes: Vec<String> = seg
                .cards
                .iter()
                .map(|c| format!("{} ({:.1} %, {})", c.segment, 100.0 * c.share, c.label))
                .collect();
            let _ = writeln!(
                s,
                "**Chosen segmentation**: {} on {}; {}. Segments: {}.\n",
                seg.clusterer,
                seg.representation,
                seg.reason,
                sizes.join("; ")
            );
            let run = res.runs.iter().find(|r| r.hash == seg.run);
            if let Some(t) = run.and_then(crate::selection::structure) {
                let _ = writeln!(s, "**Structure**: {t}.\n");
            }
            if let Some(f) = run.and_then(crate::features::note) {
                let _ = writeln!(s, "{f}\n");
            }
            if !seg.agreement.is_empty() {
                let a: Vec<String> = seg
                    .agreement
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.3}"))
                    .collect();
                let _ = writeln!(
                    s,
                    "Agreement with descriptive labels (never used to fit): {}.\n",
                    a.join(", ")
                );
            }
        }
        None => s.push_str("No segmentation could be chosen.\n\n"),
    }
    if let Some(t) = &res.targeting {
        let _ = writeln!(
            s,
            "**Held-out targeting** (every fit, the preprocessing recipe included, on the training customers only): {}{}\n",
            t.verdict,
            t.repeated.as_ref().map_or(String::new(), |r| format!(". Repeated {}", r.verdict))
        );
        if let Some(r) = t.repeated.as_ref().filter(|r| !r.depths.is_empty()) {
            let rows: Vec<String> = r
                .depths
                .iter()
                .map(|d| format!("{:.0} % {:.0} [{:.0}, {:.0}]", 100.0 * d.share, d.mean, d.low, d.high))
                .collect();
            let _ = writeln!(
                s,
                "**Capped lists** (a budget's reading: the best share of each split's {} held-out customers by the MLP's score, its threshold not applied, over the same {} splits; mean profit with 95 % corrected resampled t intervals, unadjusted for the {} shares): {}; the tranches between two shares that earn (interval above 0): {}; that lose (interval below 0): {}.\n",
                r.test_rows,
                r.splits,
                r.depths.len(),
                rows.join("; "),
                r.tranches("earns"),
                r.tranches("loses")
            );
        }
    }
    if let Some(c) = &res.cohorts {
        let excluded = if c.excluded.is_empty() {
            String::new()
        } else {
            format!(" (without {}, derived from the split column)", c.excluded.join(", "))
        };
        let _ = writeln!(
            s,
            "**Cohorts** (split at `{}` = {}; each cohort's own recipe, representation and clustering, fitted on its own rows{excluded}): {}.\n",
            c.column, c.split, c.verdict
        );
    }
    if let Some(sim) = &res.similarity {
        let judged = sim.judgements().first().copied().unwrap_or_default();
        let many = &sim.noun[1];
        let line: Vec<String> = sim
            .held_out
            .iter()
            .map(|(m, e)| format!("{m} {:.3} [{:.3}, {:.3}]", e.mean, e.low, e.high))
            .collect();
        let _ = writeln!(
            s,
            "**Similar {many}** (precision@{} of sharing a `{judged}` with the query, every row of the file; the representation chosen on {} query {many}, measured with the baselines on {} others, 95 % normal intervals over those queries): {}; `strata similar` searches {}.\n",
            sim.k,
            sim.choosing_queries,
            sim.queries - sim.choosing_queries,
            line.join("; "),
            sim.best
        );
    }
    if let Some(c) = &res.classification {
        let rows: Vec<String> = c
            .report
            .summary
            .iter()
            .filter(|x| x.feature_set == "original")
            .map(|x| {
                let m = |k: &str| match c.report.score_interval(&x.feature_set, &x.model, k, 0.95) {
                    Some(t) if t.low.is_finite() => format!("{:.3} [{:.3}, {:.3}]", t.mean, t.low, t.high),
                    _ => x.mean.get(k).map_or("–".into(), |v| format!("{v:.3}")),
                };
                format!(
                    "{}: recall {}, precision {}, accuracy {}, PR-AUC {}",
                    x.model,
                    m("recall"),
                    m("precision"),
                    m("accuracy"),
                    m("pr_auc")
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "**Classification** ({} folds x {} repeats, preprocessing refitted in every training fold, original features; means over the test folds with 95 % intervals from the corrected resampled t of Nadeau and Bengio, cut at 0 and 1, each model's own mean, not a comparison of models): {}.\n",
            c.config.folds,
            c.config.repeats,
            rows.join("; ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::tests::run;

    #[test]
    fn headline_has_claims_rules_and_no_timings() {
        let mut a = run("a", "none", 0.30, None, vec![50, 50]);
        a.timings_s.insert("cluster".into(), 1.234_567);
        let mut b = run("b", "none", 0.20, None, vec![50, 50]);
        b.config.clusterer.algorithm = "gmm".into();
        let mut res = crate::claims::tests::results(vec![a, b]);
        res.plan.experiment = "exp".into();
        res.plan.description = "Customers | segments".into();
        res.plan.dataset.sha256 = "0123456789abcdef".into();
        res.plan.strata_version = "9.9.9".into();
        let md = render(&res);
        assert!(md.starts_with("### exp\n"), "{md}");
        assert!(md.contains("strata 9.9.9; dataset SHA-256 0123456789ab."), "{md}");
        assert!(
            md.contains("| k-means suits these features better than Gaussian mixtures | **supported** |"),
            "{md}"
        );
        assert!(md.contains("- *k-means suits"), "{md}");
        assert!(!md.contains("1.23"), "timings never enter the headline: {md}");
        assert_eq!(md, render(&res), "deterministic");
    }

    /// Held-out targeting's depth table reaches the headline: every share's
    /// mean and interval, and the tranches that earn and lose.
    #[test]
    fn headline_reads_the_capped_lists() {
        let mut res = crate::claims::tests::results(vec![run("a", "none", 0.30, None, vec![50, 50])]);
        use crate::targeting::fixtures::{depth, repeated};
        let row = |share: f64, mean: f64, (low, high): (f64, f64)| depth(share, 0, (mean, mean - 10.0, mean + 10.0), (0, 0.0, low, high));
        let mut repeated = repeated(20, 30, vec![row(0.05, 40.0, (5.0, 9.0)), row(0.1, 42.0, (-1.0, 3.0)), row(0.2, 30.0, (-20.0, -2.0))]);
        repeated.verdict = "over 20 random splits".into();
        res.targeting = Some(crate::targeting::TargetingReport {
            train_rows: 70,
            test_rows: (0..30).collect(),
            test_positives: 5,
            segments: vec![],
            policies: vec![],
            curve: vec![],
            leads: vec![],
            verdict: "one split".into(),
            repeated: Some(repeated),
        });
        let md = render(&res);
        assert!(
            md.contains("**Capped lists** (a budget's reading: the best share of each split's 30 held-out customers by the MLP's score, its threshold not applied, over the same 20 splits; mean profit with 95 % corrected resampled t intervals, unadjusted for the 3 shares): 5 % 40 [30, 50]; 10 % 42 [32, 52]; 20 % 30 [20, 40]; the tranches between two shares that earn (interval above 0): 0 to 5 %; that lose (interval below 0): 10 to 20 %.\n"),
            "{md}"
        );
        res.targeting.as_mut().and_then(|t| t.repeated.as_mut()).expect("repeated").depths.clear();
        assert!(!render(&res).contains("Capped lists"), "no table, no line");
    }
}
