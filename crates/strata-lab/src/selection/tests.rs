//! Unit tests of the choice rule on constructed runs.

use super::*;
use crate::manifest::{AlgoConfig, Evaluation, RunConfig};
use crate::store::{ClusteringInfo, DatasetRef};
use std::collections::BTreeMap;
use strata_core::{Diagnostics, Params, Seed};

/// A run on `representation` with a common-space silhouette, an
/// own-space one twice as high, optional stability and cluster sizes.
pub(crate) fn run(
    hash: &str,
    representation: &str,
    common: f64,
    stability: Option<f64>,
    sizes: Vec<usize>,
) -> RunRecord {
    let mut metrics = BTreeMap::from([
        (COMMON_SILHOUETTE.to_string(), common),
        ("silhouette".to_string(), 2.0 * common),
    ]);
    if let Some(s) = stability {
        metrics.insert("stability_mean_ari".into(), s);
        metrics.insert("stability_sd_ari".into(), 0.01);
    }
    let algo = |a: &str| AlgoConfig {
        algorithm: a.into(),
        params: Params::default(),
    };
    RunRecord {
        hash: hash.into(),
        experiment: "x".into(),
        config: RunConfig {
            representation: algo(representation),
            clusterer: algo("kmeans"),
            evaluation: Evaluation::default(),
            seed: Seed(0),
            columns: Default::default(),
            drop_discrete: false,
        },
        dataset: DatasetRef {
            descriptor: "d".into(),
            sha256: String::new(),
            rows: sizes.iter().sum(),
            features: 2,
            recipe: String::new(),
        },
        strata_version: String::new(),
        status: RunStatus::Ok,
        error: None,
        representation: None,
        clustering: Some(ClusteringInfo {
            n_clusters: sizes.len(),
            sizes,
            diagnostics: Diagnostics::default(),
            labels: Vec::new(),
        }),
        metrics,
        silhouette_rows: None,
        silhouette_common_groups: None,
        timings_s: BTreeMap::new(),
        warnings: Vec::new(),
    }
}

#[test]
fn stable_sizeable_runs_win_on_the_common_score() {
    let tiny = run("tiny", "none", 0.9, Some(1.0), vec![995, 5]);
    let unstable = run("unstable", "none", 0.6, Some(0.5), vec![500, 500]);
    let stable = run("stable", "pca", 0.4, Some(0.9), vec![600, 400]);
    let (best, why) = choose(&[&tiny, &unstable, &stable]).expect("a choice");
    assert_eq!(best.hash, "stable");
    assert!(
        why.contains("among the 1 of 2 runs whose pipeline stability ARI is at least 0.8"),
        "{why}"
    );
    assert!(
        why.contains("(1 run with a cluster under 2 % of the rows set aside)"),
        "{why}"
    );
    assert!(why.contains("common-space silhouette 0.400"), "{why}");
    // What the filters cost: both removed runs score higher, and the
    // best of them is named with what removed it.
    assert!(
        why.ends_with("; 2 runs set aside by these filters score higher on all rows, the best of them kmeans on none at 0.900 (its smallest segment holds 0.5 % of the rows)"),
        "{why}"
    );
    let (_, why) = choose(&[&unstable, &stable]).expect("a choice");
    assert!(
        why.ends_with("; 1 run set aside by these filters scores higher on all rows, the best of them kmeans on none at 0.600 (pipeline stability ARI 0.500)"),
        "{why}"
    );
    // A removed run that scores lower is not mentioned.
    let weak = run("weak", "none", 0.3, Some(0.5), vec![500, 500]);
    let (_, why) = choose(&[&weak, &stable]).expect("a choice");
    assert!(!why.contains("set aside by these filters"), "{why}");
    let table = candidates(&[&tiny, &unstable, &stable]);
    let eligible: Vec<&str> = table
        .iter()
        .filter(|c| c.eligible)
        .map(|c| c.run.hash.as_str())
        .collect();
    assert_eq!(eligible, ["stable"]);
    assert_eq!(table[0].run.hash, "tiny");
}

/// `r` with a recorded 95 % stability interval.
fn with_interval(mut r: RunRecord, lo: f64, hi: f64) -> RunRecord {
    r.metrics.insert(STABILITY_LOW.into(), lo);
    r.metrics.insert(STABILITY_HIGH.into(), hi);
    r
}

#[test]
fn stability_intervals_are_shown_and_runs_near_the_line_counted() {
    let stable = with_interval(run("stable", "pca", 0.4, Some(0.9), vec![600, 400]), 0.86, 0.94);
    let unstable = with_interval(run("unstable", "none", 0.6, Some(0.79), vec![500, 500]), 0.74, 0.84);
    let (best, why) = choose(&[&unstable, &stable]).expect("a choice");
    assert_eq!(best.hash, "stable", "the filter reads the mean, not the interval");
    assert!(
        why.contains("pipeline stability ARI 0.900 [0.860, 0.940] (95 % jackknife interval over the 10 resamples)"),
        "{why}"
    );
    assert!(!why.contains("could set this run aside"), "{why}");
    assert!(
        why.contains("(95 % jackknife interval over the 10 resamples); the 95 % stability interval of 1 of the 2 runs the filter reads holds 0.8: another draw of resamples could move it across, and"),
        "{why}"
    );
    // The run set aside is named with its interval.
    assert!(
        why.ends_with("the best of them kmeans on none at 0.600 (pipeline stability ARI 0.790 [0.740, 0.840])"),
        "{why}"
    );
    // A chosen run whose interval reaches below the line says so.
    let near = with_interval(run("near", "pca", 0.4, Some(0.82), vec![600, 400]), 0.77, 0.87);
    let (best, why) = choose(&[&unstable, &near]).expect("a choice");
    assert_eq!(best.hash, "near");
    assert!(
        why.contains("[0.770, 0.870] (95 % jackknife interval over the 10 resamples), an interval that reaches below 0.8: another draw of resamples could set this run aside"),
        "{why}"
    );
    assert!(why.contains("interval of 2 of the 2 runs the filter reads holds 0.8: another draw of resamples could move them across"), "{why}");
    // Whether the choice depends on which side of 0.8 the noise put
    // the runs near the line: the rule rerun on the intervals' ends.
    let (_, why) = choose(&[&unstable, &stable]).expect("a choice");
    assert!(
        why.contains("could move it across, and the choice stands when the filter reads the intervals' low ends (1 run passes); were the filter to read the intervals' high ends (2 runs pass), the rule would choose kmeans on none instead (0.600 on all rows, the chosen run 0.400); 1 run set aside"),
        "{why}"
    );
    let (_, why) = choose(&[&unstable, &near]).expect("a choice");
    assert!(
        why.contains("were the filter to read the intervals' low ends (no run passes, so every run stays), the rule would choose kmeans on none instead (0.600 on all rows, the chosen run 0.400); were the filter to read the intervals' high ends (2 runs pass), the rule would choose kmeans on none instead"),
        "{why}"
    );
    // With the rows' labels, how far the other choice's segments differ.
    let labelled = |mut r: RunRecord, labels: Vec<usize>| {
        if let Some(c) = r.clustering.as_mut() {
            c.labels = labels;
        }
        r
    };
    let a = labelled(unstable.clone(), vec![0, 0, 1, 1]);
    let b = labelled(stable.clone(), vec![0, 1, 0, 1]);
    let (_, why) = choose(&[&a, &b]).expect("a choice");
    assert!(
        why.contains("(0.600 on all rows, the chosen run 0.400; its segments agree with the chosen run's at ARI -0.50)"),
        "{why}"
    );
    // The same segments under another name: the choice stands.
    let c = labelled(stable.clone(), vec![1, 1, 0, 0]);
    let (_, why) = choose(&[&a, &c]).expect("a choice");
    assert!(why.contains("the choice stands when the filter reads the intervals' low ends (1 run passes) or high ends (2 runs pass)"), "{why}");
    let weaker = with_interval(run("weaker", "none", 0.3, Some(0.79), vec![500, 500]), 0.74, 0.84);
    let (best, why) = choose(&[&weaker, &stable]).expect("a choice");
    assert_eq!(best.hash, "stable");
    assert!(
        why.contains("could move it across, and the choice stands when the filter reads the intervals' low ends (1 run passes) or high ends (2 runs pass)"),
        "{why}"
    );
    // Runs stored without an interval show the mean alone.
    let old = run("old", "pca", 0.4, Some(0.9), vec![600, 400]);
    let (_, why) = choose(&[&old]).expect("a choice");
    assert!(why.contains(", pipeline stability ARI 0.900;") || why.ends_with(", pipeline stability ARI 0.900"), "{why}");
    assert!(!why.contains("jackknife"), "{why}");
    // The tables' cells: with the interval, the mean alone, or none.
    assert_eq!(stability_cell(&stable), "0.900 [0.860, 0.940]");
    assert_eq!(stability_cell(&old), "0.900");
    assert_eq!(stability_cell(&run("none", "pca", 0.4, None, vec![600, 400])), "–");
}

#[test]
fn own_space_scores_do_not_decide() {
    // The projection scores higher in its own space but lower in the
    // common one: the common space decides.
    let mut projected = run("rp", "random_projection", 0.2, Some(0.95), vec![50, 50]);
    projected.metrics.insert("silhouette".into(), 0.9);
    let plain = run("none", "none", 0.3, Some(0.95), vec![50, 50]);
    let (best, _) = choose(&[&projected, &plain]).expect("a choice");
    assert_eq!(best.hash, "none");
    // A run without a common-space score is no candidate.
    let mut unscored = run("unscored", "ica", 0.9, Some(1.0), vec![50, 50]);
    unscored.metrics.remove(COMMON_SILHOUETTE);
    assert_eq!(choose(&[&unscored, &plain]).expect("a choice").0.hash, "none");
    assert!(choose(&[&unscored]).is_none());
    assert!(choose(&[]).is_none());
}

#[test]
fn the_reason_says_how_far_the_runner_up_trails() {
    let grouped = |mut r: RunRecord, g: &[f64]| {
        r.silhouette_common_groups = Some(g.to_vec());
        r
    };
    let calm = [0.301, 0.299, 0.302, 0.298, 0.300, 0.301, 0.299, 0.300, 0.302, 0.298];
    let flat = [0.30; 10];
    let best = grouped(run("best", "none", 0.30, Some(0.95), vec![50, 50]), &calm);
    // Unstable: not in the pool, whatever its score.
    let shaky = run("shaky", "pca", 0.29, Some(0.2), vec![50, 50]);
    // Close behind, measured precisely: within the margin.
    let close = grouped(run("close", "pca", 0.295, Some(0.9), vec![50, 50]), &flat.map(|v| v - 0.005));
    let (r, why) = chosen(&[&best, &shaky, &close], None, 0.02).expect("chosen");
    assert_eq!(r.hash, "best");
    assert!(
        why.contains("ranked on groups of rows 1 to 5 (0.300), judged on groups 6 to 10, which took no part in the choice: common-space silhouette 0.300 (0.300 on all rows)"),
        "{why}"
    );
    assert!(
        why.contains("runner-up kmeans on pca at 0.295; the chosen run leads by +0.005 [+0.003, +0.007] (95 % t interval over the 5 paired judging groups, rows that took no part in the choice; margin 0.02)"),
        "{why}"
    );
    assert!(why.ends_with("within the silhouette margin, so by this measure it would serve as well"), "{why}");
    // Far behind: beyond the margin.
    let far = grouped(run("far", "pca", 0.20, Some(0.9), vec![50, 50]), &flat.map(|v| v - 0.1));
    let why = chosen(&[&best, &far], None, 0.02).expect("chosen").1;
    assert!(why.ends_with("more than the silhouette margin"), "{why}");
    // Groups that disagree: not shown either way.
    let wild = [0.35, 0.25, 0.34, 0.26, 0.33, 0.27, 0.35, 0.25, 0.30, 0.30].map(|v| v - 0.03);
    let noisy = grouped(run("noisy", "pca", 0.27, Some(0.9), vec![50, 50]), &wild);
    let why = chosen(&[&best, &noisy], None, 0.02).expect("chosen").1;
    assert!(why.ends_with("not shown to exceed the silhouette margin"), "{why}");
    // A runner-up without group scores: all rows choose, and the lead
    // is a point.
    let bare = run("bare", "pca", 0.25, Some(0.9), vec![50, 50]);
    let why = chosen(&[&best, &bare], None, 0.02).expect("chosen").1;
    assert!(why.contains(": common-space silhouette 0.300, pipeline"), "{why}");
    assert!(why.ends_with("the chosen run leads by +0.050 (no interval)"), "{why}");
    // A run without groups outside the pool leaves the choice held out.
    let why = chosen(&[&best, &close, &bare], None, 0.02).expect("chosen").1;
    assert!(why.contains("(95 %, groups of rows, the rows that made the choice, so the lead errs large"), "{why}");
    // A run with the same segments (relabelled) is named, and the
    // runner-up is the best different one.
    let labelled = |mut r: RunRecord, l: &[usize]| {
        if let Some(c) = r.clustering.as_mut() {
            c.labels = l.to_vec();
        }
        r
    };
    let (l, swapped) = ([0, 0, 1, 1, 0], [1, 1, 0, 0, 1]);
    let best_l = labelled(best.clone(), &l);
    let mut twin = labelled(close.clone(), &swapped);
    twin.hash = "twin".into();
    twin.config.clusterer.algorithm = "gmm".into();
    let other = labelled(far.clone(), &[0, 1, 1, 1, 0]);
    let why = chosen(&[&best_l, &twin, &other], None, 0.02).expect("chosen").1;
    // Equal scores: the first in the manifest's order wins, whichever
    // order the tie comes in.
    let mut tied = twin.clone();
    tied.silhouette_common_groups = best_l.silhouette_common_groups.clone();
    assert_eq!(chosen(&[&best_l, &tied], None, 0.02).expect("chosen").0.hash, "best");
    assert_eq!(chosen(&[&tied, &best_l], None, 0.02).expect("chosen").0.hash, "twin");
    assert!(
        why.contains("; gmm on pca gives the same segments, row for row; runner-up kmeans on pca at 0.200; the chosen run leads by +0.100"),
        "{why}"
    );
    // Only twins: named, no runner-up.
    let why = chosen(&[&best_l, &twin], None, 0.02).expect("chosen").1;
    assert!(why.ends_with("; gmm on pca gives the same segments, row for row"), "{why}");
    assert!(!why.contains("runner-up"), "{why}");
    // Alone in the pool, or pinned: no runner-up sentence.
    assert!(!chosen(&[&best, &shaky], None, 0.02).expect("chosen").1.contains("runner-up"));
}

#[test]
fn the_choosing_groups_choose_and_the_others_judge() {
    let grouped = |mut r: RunRecord, g: [f64; 10]| {
        r.silhouette_common_groups = Some(g.to_vec());
        r
    };
    // "lucky" scores high on the choosing groups only; "steady" is
    // better on all rows and on the judging groups.
    let lucky = grouped(
        run("lucky", "none", 0.300, Some(0.9), vec![50, 50]),
        [0.331, 0.329, 0.330, 0.332, 0.328, 0.271, 0.269, 0.270, 0.272, 0.268],
    );
    let steady = grouped(
        run("steady", "pca", 0.310, Some(0.9), vec![50, 50]),
        [0.311, 0.309, 0.310, 0.309, 0.311, 0.310, 0.311, 0.309, 0.310, 0.310],
    );
    let (best, why) = chosen(&[&steady, &lucky], None, 0.02).expect("chosen");
    // Chosen on groups 1 to 5 ...
    assert_eq!(best.hash, "lucky");
    // ... and reported as groups 6 to 10 see it, not as the choosing
    // groups (0.330) or all rows (0.300) do.
    assert!(
        why.contains("(0.330), judged on groups 6 to 10, which took no part in the choice: common-space silhouette 0.270 (0.300 on all rows)"),
        "{why}"
    );
    assert!(why.contains("runner-up kmeans on pca at 0.310; the chosen run leads by -0.040 [-0.042, -0.038]"), "{why}");
    assert!(why.ends_with("the runner-up scores higher on these rows, so it would serve at least as well"), "{why}");
    // The table ranks by the choosing groups and shows both halves.
    let table = candidates(&[&steady, &lucky]);
    assert_eq!(table[0].run.hash, "lucky");
    let (c, j) = table[0].halves.expect("halves");
    assert!((c - 0.330).abs() < 1e-12 && (j - 0.270).abs() < 1e-12, "{c} {j}");
    // Without groups on one of them, all rows choose.
    let mut bare = steady.clone();
    bare.silhouette_common_groups = None;
    assert_eq!(chosen(&[&bare, &lucky], None, 0.02).expect("chosen").0.hash, "steady");
    assert_eq!(candidates(&[&bare, &lucky])[0].run.hash, "steady");
}

#[test]
fn structure_is_read_on_kaufman_and_rousseeuws_scale() {
    let grouped = |g: [f64; 10]| {
        let mut r = run("r", "none", 0.3, Some(0.9), vec![50, 50]);
        r.silhouette_common_groups = Some(g.to_vec());
        r
    };
    // Judging groups 0.20 +- 0.01: wholly in the lowest band.
    let low = grouped([0.9, 0.9, 0.9, 0.9, 0.9, 0.19, 0.21, 0.20, 0.19, 0.21]);
    let text = structure(&low).expect("read");
    assert!(text.starts_with("common-space silhouette 0.200 ["), "{text}");
    assert!(text.contains("on groups of rows 6 to 10 (95 % t interval over the 5 groups)"), "{text}");
    assert!(text.ends_with("it reads as no substantial structure: the segments cut a continuum into bins that can still be acted on, not naturally separate groups"), "{text}");
    // The choosing groups (0.9) play no part; a spread across 0.5 says so.
    let spanning = grouped([0.1; 5].into_iter().chain([0.40, 0.60, 0.45, 0.55, 0.50]).collect::<Vec<_>>().try_into().expect("10"));
    let text = structure(&spanning).expect("read");
    assert!(text.ends_with("the interval reaches from a weak structure that could be artificial into a reasonable structure"), "{text}");
    let strong = grouped([0.8; 10]);
    assert!(structure(&strong).expect("read").ends_with("it reads as a strong structure"));
    // Without groups: the point on all rows.
    let bare = run("b", "none", 0.6, Some(0.9), vec![50, 50]);
    let text = structure(&bare).expect("read");
    assert!(text.starts_with("common-space silhouette 0.600 on all rows (no interval)"), "{text}");
    assert!(text.ends_with("it reads as a reasonable structure"), "{text}");
}

#[test]
fn a_pin_overrides_the_rule() {
    let best = run("best", "none", 0.6, Some(0.95), vec![50, 50]);
    let mut other = run("other", "pca", 0.2, Some(0.3), vec![50, 50]);
    other
        .config
        .clusterer
        .params
        .0
        .insert("k".into(), strata_core::ParamValue::Int(4));
    let pin = Pin {
        representation: [("algorithm".to_string(), "pca".to_string())].into(),
        clusterer: [
            ("algorithm".to_string(), "kmeans".to_string()),
            ("k".to_string(), "4".to_string()),
        ]
        .into(),
    };
    let (r, why) = chosen(&[&best, &other], Some(&pin), 0.02).expect("pinned");
    assert_eq!(r.hash, "other");
    assert!(why.starts_with("pinned by the manifest ([segments] kmeans(k=4) on pca)"), "{why}");
    assert_eq!(chosen(&[&best, &other], None, 0.02).expect("chosen").0.hash, "best");
    let wrong = Pin {
        clusterer: [("k".to_string(), "5".to_string())].into(),
        ..pin
    };
    assert!(chosen(&[&best, &other], Some(&wrong), 0.02).is_none());
}

#[test]
fn without_stable_runs_or_without_stability() {
    let tiny = run("tiny", "none", 0.9, Some(1.0), vec![995, 5]);
    let unstable = run("unstable", "none", 0.6, Some(0.5), vec![500, 500]);
    let (best, why) = choose(&[&tiny, &unstable]).expect("a choice");
    assert_eq!(best.hash, "unstable");
    assert!(why.contains("no run reached pipeline stability ARI 0.8"), "{why}");
    let a = run("a", "none", 0.3, None, vec![50, 50]);
    let b = run("b", "none", 0.5, None, vec![50, 50]);
    let (best, why) = choose(&[&a, &b]).expect("a choice");
    assert_eq!(best.hash, "b");
    assert!(
        why.starts_with("highest common-space silhouette (stability not measured)"),
        "{why}"
    );
    // Every run has a tiny cluster: they all stay, and the reason says so.
    let t1 = run("t1", "none", 0.5, None, vec![990, 10]);
    let t2 = run("t2", "none", 0.7, None, vec![995, 5]);
    let (best, why) = choose(&[&t1, &t2]).expect("a choice");
    assert_eq!(best.hash, "t2");
    assert!(why.contains("every run has a cluster under 2 %"), "{why}");
}

/// `r` measured again on 40 resamples, with a new mean and interval.
fn refined_to(mut r: RunRecord, mean: f64, lo: f64, hi: f64) -> RunRecord {
    r.metrics.insert("stability_mean_ari".into(), mean);
    r.metrics.insert(STABILITY_RESAMPLES.into(), 40.0);
    with_interval(r, lo, hi)
}

#[test]
fn runs_near_the_line_that_could_take_the_choice_are_measured_again() {
    let hashes = |v: Vec<&RunRecord>| v.iter().map(|r| r.hash.clone()).collect::<Vec<_>>();
    // Above the chosen run and near the line: could take the choice.
    let above = with_interval(run("above", "none", 0.30, Some(0.78), vec![50, 50]), 0.74, 0.82);
    let chosen = with_interval(run("chosen", "pca", 0.25, Some(0.95), vec![50, 50]), 0.93, 0.97);
    // Near the line but below the chosen run: cannot take it.
    let below = with_interval(run("below", "none", 0.20, Some(0.79), vec![50, 50]), 0.75, 0.83);
    // Near the line and higher, but the size filter sets it aside.
    let tiny = with_interval(run("tiny", "none", 0.40, Some(0.79), vec![99, 1]), 0.75, 0.83);
    // Higher, but its interval lies wholly below the line.
    let unstable = with_interval(run("unstable", "none", 0.35, Some(0.5), vec![50, 50]), 0.3, 0.7);
    let runs = [&above, &chosen, &below, &tiny, &unstable];
    assert_eq!(hashes(to_refine(&runs)), ["above"]);
    let (best, why) = super::chosen(&runs, None, 0.02).expect("a choice");
    assert_eq!(best.hash, "chosen");
    // A group's best run (the report's table) says nothing of it: the
    // sweep measures runs again for the experiment's choice only.
    assert!(!choose(&runs).expect("a choice").1.contains("measured again"));
    // Read before a sweep measured it again, the reason says so.
    assert!(!why.contains("measured again on 40"), "{why}");
    assert!(why.contains("; 1 run whose 95 % interval holds 0.8 and which could take the choice was not measured again"), "{why}");
    // The chosen run's own interval reaching below the line puts it in too,
    // after the higher run.
    let shaky = with_interval(run("chosen", "pca", 0.25, Some(0.85), vec![50, 50]), 0.78, 0.92);
    assert_eq!(hashes(to_refine(&[&above, &shaky, &below])), ["above", "chosen"]);
    // Measured again, the higher run passes and is chosen; nothing is left
    // to measure, and the reason says what was measured on how many.
    let above = refined_to(above, 0.81, 0.801, 0.819);
    let runs = [&above, &chosen, &below, &tiny, &unstable];
    assert!(to_refine(&runs).is_empty());
    let (best, why) = super::chosen(&runs, None, 0.02).expect("a choice");
    assert_eq!(best.hash, "above");
    assert!(why.contains("pipeline stability ARI 0.810 [0.801, 0.819] (40 resamples) (95 % jackknife interval over the 40 resamples)"), "{why}");
    assert!(
        why.contains("; 1 run was measured again on 40 resamples (the first 10 as before) because its 95 % interval held 0.8 and it could take the choice: kmeans on none, pipeline stability ARI 0.810 [0.801, 0.819] (40 resamples)"),
        "{why}"
    );
    assert_eq!(stability_cell(&chosen), "0.950 [0.930, 0.970]");
    // Measured again and still under the line: the choice stays, and the
    // run is not asked for again.
    let above = refined_to(run("above", "none", 0.30, Some(0.78), vec![50, 50]), 0.78, 0.765, 0.795);
    let runs = [&above, &chosen, &below];
    assert!(to_refine(&runs).is_empty());
    assert_eq!(choose(&runs).expect("a choice").0.hash, "chosen");
    // A run near the line left unmeasured (the sweep's cap) is counted.
    let other = with_interval(run("other", "ica", 0.28, Some(0.79), vec![50, 50]), 0.75, 0.83);
    let (_, why) = super::chosen(&[&above, &other, &chosen], None, 0.02).expect("a choice");
    assert!(
        why.contains("(40 resamples); 1 run whose 95 % interval holds 0.8 and which could take the choice was not measured again on more than 10 resamples (a sweep measures at most 8 such runs again, and a run whose refits fail keeps its first measurement)"),
        "{why}"
    );
    // When no run passes, every run near the line could: best first.
    let weak = with_interval(run("weak", "pca", 0.25, Some(0.6), vec![50, 50]), 0.5, 0.7);
    let above = with_interval(run("above", "none", 0.30, Some(0.78), vec![50, 50]), 0.74, 0.82);
    assert_eq!(hashes(to_refine(&[&below, &weak, &above])), ["above", "below"]);
    // Runs without an interval are never asked for.
    let bare = run("bare", "none", 0.30, Some(0.79), vec![50, 50]);
    assert!(to_refine(&[&bare, &chosen]).is_empty());
}
