//! The sweep's stages on synthetic data: classification, a pinned
//! segmentation, `[features]`, mixed data beside k-means, and the
//! stability refinement of the runs that could take the choice.

mod sweep_common;

use std::path::Path;
use strata_lab::registry::Registry;
use strata_lab::store::{ExperimentResults, RunRecord};
use strata_lab::sweep::{Phase, TIMINGS_FILE, sweep};
use sweep_common::*;

const CLASSIFY: &str = "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n[evaluation]\nstability_resamples = 0\n\
[classification]\nfolds = 3\nrepeats = 1\n[classification.mlp]\nepochs = 100\nlearning_rate = 0.01\nhidden = [8]\n\
[[classification.features]]\nkind = \"original\"\n\
[[classification.features]]\nkind = \"reduced\"\nalgorithm = \"pca\"\nn_components = 2\n\
[[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 3\n\
[[classification.features]]\nkind = \"posteriors\"\nalgorithm = \"gmm\"\nk = 3\n";

#[test]
fn classification_stage_runs_once_and_reports() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 300);
    let m = manifest(dir, "exp.toml", CLASSIFY);
    let reg = Registry::standard();
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    assert_eq!(o[0].classification, Some("computed"));
    let exp = dir.join("res/exp");
    let res = ExperimentResults::read(&exp).expect("read");
    let c = res.classification.as_ref().expect("classification stored");
    assert_eq!((c.rows, c.positives, c.target.as_str()), (300, 100, "y"));
    // 4 feature sets x (mlp, logistic, tree) x 3 folds.
    assert_eq!(c.report.folds.len(), 36);
    assert_eq!(c.report.summary.len(), 12);
    // The planted classes are blobs: every model on the original features finds them.
    for s in c
        .report
        .summary
        .iter()
        .filter(|s| s.feature_set == "original")
    {
        assert!(
            s.mean["balanced_accuracy"] > 0.9,
            "{} {:?}",
            s.model,
            s.mean
        );
    }
    // 3 other sets x 3 models x 4 compared metrics.
    assert_eq!(c.comparisons.len(), 36);
    let csv = std::fs::read_to_string(exp.join("classification.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 13);
    let md = std::fs::read_to_string(exp.join("report.md")).expect("report");
    assert!(
        md.contains("Target `y`: 100 positives of 300 rows")
            && md.contains("original+posteriors:gmm"),
        "{md}"
    );
    // Where the time went, phase by phase: the shared phases, then this
    // experiment's, in the order they ran.
    let phases: Vec<Phase> = strata_lab::store::read_json(&dir.join("res").join(TIMINGS_FILE)).expect("timings");
    let names: Vec<(&str, Option<&str>)> =
        phases.iter().map(|p| (p.phase.as_str(), p.experiment.as_deref())).collect();
    assert_eq!(
        names,
        [
            ("planning", None),
            ("representations", None),
            ("runs", None),
            ("common-space silhouettes", Some("exp")),
            ("mixed silhouettes", Some("exp")),
            ("classification", Some("exp")),
            ("refined stability", Some("exp")),
            ("summaries and reports", Some("exp")),
        ]
    );
    assert!(phases.iter().all(|p| p.wall_s >= 0.0 && p.cpu_s.is_none_or(|c| c >= 0.0)));
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("again");
    assert_eq!(o[0].classification, Some("stored"));
}

#[test]
fn classification_clusters_follow_the_features_selection() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 300);
    let reg = Registry::standard();
    let all = manifest(dir, "all.toml", CLASSIFY);
    let some = manifest(dir, "some.toml", &format!("{CLASSIFY}[features]\ninclude = [\"b\"]\n"));
    sweep(&[all, some], &reg, &opts(dir, "res")).expect("sweep");
    let read = |name: &str| {
        ExperimentResults::read(&dir.join("res").join(name))
            .expect("read")
            .classification
            .expect("classification stored")
    };
    let (all, some) = (read("all"), read("some"));
    assert_ne!(all.hash, some.hash, "the selection is part of the stage's hash");
    // Column b alone cannot tell group 0 from group 1: the cluster features
    // differ, the sets without clusters do not.
    let folds = |c: &strata_lab::classify::ClassificationRecord, set: &str| -> Vec<String> {
        c.report
            .folds
            .iter()
            .filter(|f| f.feature_set.split(':').next() == Some(set))
            .map(|f| format!("{:?}", f.metrics))
            .collect()
    };
    assert_eq!(folds(&all, "original").len(), 9);
    assert_eq!(folds(&all, "original"), folds(&some, "original"), "the original set reads every feature");
    assert_eq!(folds(&all, "reduced"), folds(&some, "reduced"));
    assert_ne!(folds(&all, "original+clusters"), folds(&some, "original+clusters"));
    assert_ne!(folds(&all, "original+posteriors"), folds(&some, "original+posteriors"));
    let md = std::fs::read_to_string(dir.join("res/some/report.md")).expect("report");
    assert!(
        md.contains("are fitted on the features `[features]` selects for the segmentation (include b), resolved by name in each training fold"),
        "{md}"
    );
}

#[test]
fn classification_manifest_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 120);
    let err = |body: &str| {
        let p = manifest(dir, "c.toml", body);
        match strata_lab::manifest::Manifest::from_path(&p) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    let base = "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n[classification]\n";
    let e = err(&format!(
        "{base}[[classification.features]]\nkind = \"orignal\"\n"
    ));
    assert!(
        e.contains("c.toml:8:8: unknown feature kind `orignal`; did you mean `original`?"),
        "{e}"
    );
    let e = err(&format!(
        "{base}[[classification.features]]\nkind = \"posteriors\"\nalgorithm = \"kmeans\"\nk = 2\n"
    ));
    assert!(
        e.contains("posteriors need a clusterer with membership probabilities (gmm)"),
        "{e}"
    );
    let e = err(&format!("baselines = [\"logistc\"]\n{base}"));
    assert!(
        e.contains("c.toml:3:1: unknown key `baselines`"),
        "a top-level `baselines` is refused: {e}"
    );
    let e = err(&format!(
        "{base}baselines = [\"logistc\"]\n[[classification.features]]\nkind = \"original\"\n"
    ));
    assert!(
        e.contains("c.toml:7:14: unknown baseline `logistc`; did you mean `logistic`?"),
        "{e}"
    );
    let e = err(&format!("{base}[classification.mlp]\nlerning_rate = 0.1\n"));
    assert!(
        e.contains("unknown key `lerning_rate`; did you mean `learning_rate`?"),
        "{e}"
    );
    let e = err(&format!(
        "{base}[classification.mlp]\nepochs = 0\n[[classification.features]]\nkind = \"original\"\n"
    ));
    assert!(e.contains("classification.mlp: invalid epochs = 0"), "{e}");
    let e = err(&format!(
        "{base}[[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = [2, 3]\n"
    ));
    assert!(e.contains("not a grid"), "{e}");
    // A cohort column must exist and hold dates.
    let p = manifest(
        dir,
        "coh.toml",
        "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[cohorts]\ncolumn = \"grp\"\nformat = \"%d-%m-%Y\"\n",
    );
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        e.contains("data.csv, row 1 (line 2): `grp` = \"g0\" is not a date in the format \"%d-%m-%Y\""),
        "{e}"
    );
    let p = manifest(
        dir,
        "coh2.toml",
        "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[cohorts]\ncolumn = \"gp\"\nformat = \"%d-%m-%Y\"\n",
    );
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        e.contains("coh2.toml: cohorts.column: no metadata column `gp`; did you mean `grp`?"),
        "{e}"
    );
    // More folds than rows of a class: refused before any run, with the key.
    let p = manifest(
        dir,
        "folds.toml",
        &format!("{base}folds = 100\n[[classification.features]]\nkind = \"original\"\n"),
    );
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res_folds"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        e.contains("folds.toml: classification.folds = 100: `y` has only ") && e.contains("every fold needs both classes; use at most "),
        "{e}"
    );
    assert!(!dir.join("res_folds").exists(), "nothing may run");
    // k above the rows of a training fold is caught when the data is loaded.
    let p = manifest(
        dir,
        "big.toml",
        &format!(
            "{base}[[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 100\n"
        ),
    );
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        e.contains("`k` = 100 is more than the data's 76 rows (rows of a training fold)"),
        "{e}"
    );
}

/// `[segments]` pins the segmentation: the segment cards and the report use
/// it and say so; a pin that names no run (or several) is refused with its line.
#[test]
fn a_manifest_can_pin_the_segmentation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 150);
    let body = "[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = 2\n\
[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[evaluation]\nstability_resamples = 0\n";
    let m = manifest(
        dir,
        "pinned.toml",
        &format!("{body}[segments]\nrepresentation = {{ algorithm = \"pca\" }}\nclusterer = {{ algorithm = \"kmeans\", k = 2 }}\n"),
    );
    sweep(std::slice::from_ref(&m), &Registry::standard(), &opts(dir, "res")).expect("sweep");
    let seg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("res/pinned/segments.json")).expect("segments"),
    )
    .expect("json");
    let reason = seg["reason"].as_str().expect("reason");
    assert!(reason.starts_with("pinned by the manifest ([segments] kmeans(k=2) on pca)"), "{reason}");
    assert!(seg["representation"].as_str().expect("rep").starts_with("pca"));
    let report = std::fs::read_to_string(dir.join("res/pinned/report.md")).expect("report");
    assert!(report.contains("Pinned by the manifest: [segments] kmeans(k=2) on pca"), "{report}");
    assert!(report.contains("Selection table"), "the table is still shown");
    // A pin that matches no run, or two, is an error naming its line.
    for (pin, n) in [("k = 5", 0), ("max_iter = 300", 2)] {
        let bad = manifest(
            dir,
            "bad.toml",
            &format!("{body}[segments]\nrepresentation = {{ algorithm = \"pca\" }}\nclusterer = {{ algorithm = \"kmeans\", {pin} }}\n"),
        );
        let e = sweep(&[bad], &Registry::standard(), &opts(dir, "res2"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("bad.toml:13:1"), "{e}");
        assert!(e.contains(&format!("matches {n} of the manifest's runs")), "{e}");
    }
}

/// `[features]`: the runs segment on the selected columns, mixtures leave the
/// discrete ones out when asked, and a pattern matching nothing is an error.
#[test]
fn features_section_selects_what_segments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let mut csv = String::from("id,grp,y,a,b,c,flag\n");
    for i in 0..240 {
        let g = i % 3;
        let c = [[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]][g];
        // Deterministic jitter, no two values alike.
        let j = |s: usize| ((i * 37 + s * 11) % 101) as f64 / 50.0 - 1.0;
        csv.push_str(&format!(
            "{i},g{g},{},{:.6},{:.6},{:.6},{}\n",
            u8::from(g == 0),
            c[0] + j(1),
            c[1] + j(2),
            j(3) * 3.0,
            i % 2
        ));
    }
    write_table(dir, &csv, "metadata = [\"grp\"]\n");
    let body = "[[representation]]\nalgorithm = \"none\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n\
[[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"diag\"\n[evaluation]\nstability_resamples = 2\n";
    let p = manifest(
        dir,
        "sel.toml",
        &format!("{body}[features]\nexclude = [\"c\"]\ndiscrete_in_mixtures = false\n"),
    );
    sweep(&[p], &Registry::standard(), &opts(dir, "res")).expect("sweep");
    let runs = runs_of(&dir.join("res/sel"));
    assert_eq!(runs.len(), 2);
    for r in &runs {
        assert_eq!(r.config.columns.exclude, vec!["c".to_string()]);
        let rep = r.representation.as_ref().expect("representation");
        let gmm = r.config.clusterer.algorithm == "gmm";
        assert_eq!(r.config.drop_discrete, gmm);
        // k-means sees a, b and flag; the mixture only a and b.
        assert_eq!(rep.n_components, if gmm { 2 } else { 3 }, "{}", r.config.clusterer.algorithm);
        // The mixture's run names what it left out, and the report says so.
        let left: &[&str] = if gmm { &["flag"] } else { &[] };
        assert_eq!(rep.left_out, left);
        let note = strata_lab::features::note(r).expect("a note on [features]");
        assert_eq!(
            note.contains("left out the columns with at most 12 distinct values on its fit rows: `flag` (`discrete_in_mixtures = false`)"),
            gmm,
            "{note}"
        );
        assert!(r.metrics.contains_key("silhouette_common"), "{:?}", r.metrics);
        assert!(r.metrics.contains_key("stability_mean_ari"));
    }
    // Without [features] the same runs are other runs, on every column.
    let p = manifest(dir, "all.toml", body);
    sweep(&[p], &Registry::standard(), &opts(dir, "res")).expect("sweep");
    let all = runs_of(&dir.join("res/all"));
    assert!(all.iter().all(|r| r.representation.as_ref().is_some_and(|x| x.n_components == 4)));
    assert!(all.iter().all(|r| runs.iter().all(|s| s.hash != r.hash)));
    // A typo is named, with the features there are.
    let p = manifest(dir, "typo.toml", &format!("{body}[features]\ninclude = [\"a\", \"bb*\"]\n"));
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(e.contains("typo.toml"), "{e}");
    assert!(
        e.contains("[features] include: \"bb*\" matches no prepared feature; the features are: a, b, c, flag"),
        "{e}"
    );
    let p = manifest(dir, "unknown.toml", &format!("{body}[features]\nexcluded = [\"c\"]\n"));
    let e = sweep(&[p], &Registry::standard(), &opts(dir, "res"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(e.contains("excluded"), "{e}");
}

/// A descriptor may keep a category as one column of codes (`method =
/// "code"`): k-prototypes segments on it, k-means refuses it naming the column.
/// 150 rows in three groups `gap` apart on two numeric columns, each group
/// with its own colour, encoded by `method` (`code` or `one_hot`).
fn write_coloured(dir: &Path, gap: f64, method: &str) {
    let mut csv = String::from("id,y,a,b,colour\n");
    for i in 0..150 {
        let g = i % 3;
        let j = |s: usize| ((i * 37 + s * 11) % 101) as f64 / 50.0 - 1.0;
        csv.push_str(&format!(
            "{i},{},{:.6},{:.6},{}\n",
            u8::from(g == 0),
            [0.0, gap, 0.0][g] + j(1),
            [0.0, 0.0, gap][g] + j(2),
            ["red", "green", "blue"][g]
        ));
    }
    write_table(dir, &csv, &format!("[[encode]]\ncolumn = \"colour\"\nmethod = \"{method}\"\n"));
}

#[test]
fn coded_categories_feed_kprototypes_and_numeric_clusterers_refuse_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_coloured(dir, 5.0, "code");
    let p = manifest(
        dir,
        "coded.toml",
        "[[clusterer]]\nalgorithm = \"kprototypes\"\nk = 3\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n[evaluation]\nstability_resamples = 2\n",
    );
    sweep(&[p], &Registry::standard(), &opts(dir, "res")).expect("sweep");
    let runs = runs_of(&dir.join("res/coded"));
    let kp = runs.iter().find(|r| r.config.clusterer.algorithm == "kprototypes").expect("kprototypes");
    let km = runs.iter().find(|r| r.config.clusterer.algorithm == "kmeans").expect("kmeans");
    assert!(kp.error.is_none(), "{:?}", kp.error);
    // The colour separates the three groups exactly: k-prototypes finds them.
    let labels = &kp.clustering.as_ref().expect("labels").labels;
    let codes: Vec<usize> = (0..150).map(|i| i % 3).collect();
    assert_eq!(
        strata_cluster::metrics::adjusted_rand_index(labels, &codes).expect("ari"),
        1.0
    );
    assert_eq!(kp.metrics.get("categorical_variables"), Some(&1.0));
    assert!(kp.metrics.contains_key("silhouette_mixed"));
    assert!(kp.metrics.contains_key("stability_mean_ari"));
    let e = km.error.clone().unwrap_or_default();
    assert!(e.contains("colour") && e.contains("`kmeans` needs numbers"), "{e}");
}

/// Like with like: the k-means runs beside k-prototypes get the silhouette
/// under k-prototypes' mixed dissimilarity too (Huang's gamma, k-prototypes'
/// default), so where both find the same segments both score the same; a
/// stored k-means run without it gets it at the next sweep, nothing
/// recomputed.
#[test]
fn k_means_beside_k_prototypes_is_scored_under_the_mixed_dissimilarity() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_coloured(dir, 9.0, "one_hot");
    let m = manifest(
        dir,
        "mixed.toml",
        "[[clusterer]]\nalgorithm = \"kprototypes\"\nk = 3\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[evaluation]\nstability_resamples = 2\n",
    );
    let reg = Registry::standard();
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    let runs = runs_of(&dir.join("res/mixed"));
    let of = |alg: &str, k: i64| {
        runs.iter()
            .find(|r| {
                r.config.clusterer.algorithm == alg
                    && r.config.clusterer.params.0.get("k") == Some(&strata_core::ParamValue::Int(k))
            })
            .expect("run")
    };
    let (kp, km3, km2) = (of("kprototypes", 3), of("kmeans", 3), of("kmeans", 2));
    let labels = |r: &RunRecord| r.clustering.as_ref().expect("labels").labels.clone();
    // Three far-apart groups, one colour each: both find them.
    assert_eq!(strata_cluster::metrics::adjusted_rand_index(&labels(kp), &labels(km3)).expect("ari"), 1.0);
    let mixed = |r: &RunRecord| *r.metrics.get("silhouette_mixed").expect("mixed silhouette");
    assert_eq!(mixed(kp), mixed(km3), "same segments, same measure, same score");
    assert!(mixed(km2) < mixed(km3), "{} {}", mixed(km2), mixed(km3));
    // A k-means run stored without it gets it at the next sweep.
    let path = strata_lab::store::run_path(&dir.join("res/mixed"), &km2.hash);
    let mut stored: RunRecord = strata_lab::store::read_json(&path).expect("stored");
    stored.metrics.remove("silhouette_mixed");
    strata_lab::store::write_json(&path, &stored).expect("write");
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("again");
    assert_eq!((o[0].computed, o[0].reused), (0, 3));
    let again: RunRecord = strata_lab::store::read_json(&path).expect("stored");
    assert_eq!(again.metrics.get("silhouette_mixed"), Some(&mixed(km2)));
    assert_eq!(again.metrics.get("silhouette_common"), km2.metrics.get("silhouette_common"));
}

/// The classification stage shards too: each shard computes its units
/// (repeat, fold, feature set), the merge gathers them, and the sweep on the
/// merged folder assembles the same record as one unsharded run.
#[test]
fn classification_units_shard_and_assemble_to_one_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 240);
    let body = "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n[evaluation]\nstability_resamples = 0\n\
[classification]\nfolds = 3\nrepeats = 2\nbaselines = [\"logistic\"]\n[classification.mlp]\nepochs = 3\n\
[[classification.features]]\nkind = \"original\"\n[[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 3\n";
    let m = manifest(dir, "cls.toml", body);
    let reg = Registry::standard();
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "whole")).expect("whole");
    let mut shard_dirs = Vec::new();
    let mut units = 0;
    for i in 0..3 {
        let mut o = opts(dir, &format!("shard{i}"));
        o.shard = Some((i, 3));
        let out = sweep(std::slice::from_ref(&m), &reg, &o).expect("shard");
        assert_eq!(out[0].classification, Some("this shard's units computed"));
        let d = dir.join(format!("shard{i}/cls/classification_units"));
        units += std::fs::read_dir(&d).map(|r| r.count()).unwrap_or(0);
        assert!(!dir.join(format!("shard{i}/cls/classification.json")).exists());
        shard_dirs.push(dir.join(format!("shard{i}")));
    }
    // 2 repeats x 3 folds x 2 feature sets, each unit in exactly one shard.
    assert_eq!(units, 12);
    strata_lab::store::merge(&dir.join("merged"), &shard_dirs).expect("merge");
    let fin = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "merged")).expect("finish");
    assert_eq!(fin[0].classification, Some("computed"));
    let strip = |p: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(p)).expect(p)).expect("json");
        without_keys(&mut v, &["seconds"]);
        v
    };
    let (merged, whole) = (strip("merged/cls/classification.json"), strip("whole/cls/classification.json"));
    assert_eq!(merged["report"]["folds"].as_array().map(Vec::len), Some(24));
    assert_eq!(merged, whole);
}

/// Sets a stored run's stability (mean and 95 % interval) in its file.
fn set_stability(exp: &Path, hash: &str, mean: f64, lo: f64, hi: f64) {
    let path = exp.join("runs").join(format!("{hash}.json"));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("run")).expect("json");
    let m = &mut v["metrics"];
    m["stability_mean_ari"] = mean.into();
    m["stability_ari_low"] = lo.into();
    m["stability_ari_high"] = hi.into();
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
}

/// Puts every stored run of `exp` well above the stability line but the
/// best sizeable one, which goes just under it with an interval that holds
/// it; returns that run's hash.
fn straddle_best(exp: &Path) -> String {
    let runs = runs_of(exp);
    // The first in the manifest's order among equal scores, as the rule.
    let top = runs
        .iter()
        .rev()
        .filter(|r| strata_lab::selection::smallest_share(r) >= 0.02)
        .max_by(|a, b| {
            let s = |r: &RunRecord| r.metrics["silhouette_common"];
            s(a).total_cmp(&s(b))
        })
        .expect("a sizeable run")
        .hash
        .clone();
    for r in &runs {
        set_stability(exp, &r.hash, 0.95, 0.9, 1.0);
    }
    set_stability(exp, &top, 0.79, 0.7, 0.88);
    top
}

/// A run whose refits fail when it is measured again keeps its first
/// measurement: the sweep goes on, nothing is stored for it, and the
/// choice's reason counts it among the runs not measured again.
#[test]
fn a_run_whose_refits_fail_keeps_its_first_stability() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 150);
    let m = manifest(dir, "refits.toml", SMALL);
    sweep(std::slice::from_ref(&m), &Registry::standard(), &opts(dir, "res")).expect("sweep");
    let exp = dir.join("res/refits");
    let top = straddle_best(&exp);
    // The same algorithms and parameters (so the same runs, all stored),
    // but every clusterer's fit now fails.
    struct Refuses;
    impl strata_core::Clusterer for Refuses {
        fn name(&self) -> &str {
            "refuses"
        }
        fn fit(
            &self,
            _x: ndarray::ArrayView2<'_, f64>,
            _seed: strata_core::Seed,
        ) -> Result<Box<dyn strata_core::FittedClusterer>, strata_core::AlgoError> {
            Err(strata_core::AlgoError::InvalidParameter {
                name: "fit".into(),
                value: "any".into(),
                expected: "a fit this test refuses".into(),
            })
        }
    }
    let mut failing = Registry::standard();
    for e in &mut failing.clusterers {
        e.build = |_| Ok(Box::new(Refuses));
    }
    let out = sweep(std::slice::from_ref(&m), &failing, &opts(dir, "res")).expect("the sweep goes on");
    assert_eq!(out.len(), 1);
    assert!(!exp.join(strata_lab::store::REFINED_FILE).exists());
    let res = ExperimentResults::read(&exp).expect("results");
    let run = res.runs.iter().find(|r| r.hash == top).expect("run");
    assert_eq!(run.metrics["stability_mean_ari"], 0.79);
    assert!(!run.metrics.contains_key(strata_lab::selection::STABILITY_RESAMPLES));
    let seg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exp.join("segments.json")).expect("segments")).expect("json");
    let why = seg["reason"].as_str().expect("reason");
    assert!(why.contains("not measured again on more than 3 resamples"), "{why}");
    assert!(!why.contains("measured again on 12 resamples"), "{why}");
    assert_ne!(seg["run"].as_str(), Some(top.as_str()));
}

/// A run whose stability interval holds 0.8 and which scores above the
/// chosen run is measured again on four times the resamples; the rule reads
/// that, the measurement is kept and reused, and it is dropped once no run
/// needs it.
#[test]
fn runs_near_the_stability_line_that_could_take_the_choice_are_measured_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 150);
    let m = manifest(dir, "refine.toml", SMALL);
    let reg = Registry::standard();
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    let exp = dir.join("res/refine");
    let file = exp.join(strata_lab::store::REFINED_FILE);
    let top = straddle_best(&exp);
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    let stored = strata_lab::store::read_refined(&exp).expect("refined");
    assert_eq!(stored.keys().collect::<Vec<_>>(), [&top]);
    let s = &stored[&top].stability;
    assert_eq!((s.resamples, s.n_pairs), (12, 66));
    // Read back, the run carries the new measurement; unrefined, the old.
    let res = ExperimentResults::read(&exp).expect("results");
    let run = res.runs.iter().find(|r| r.hash == top).expect("run");
    assert_eq!(run.metrics["stability_mean_ari"], s.mean_ari);
    assert_eq!(run.metrics[strata_lab::selection::STABILITY_RESAMPLES], 12.0);
    let raw = ExperimentResults::read_unrefined(&exp).expect("results");
    let run = raw.runs.iter().find(|r| r.hash == top).expect("run");
    assert_eq!(run.metrics["stability_mean_ari"], 0.79);
    let reason = || -> String {
        let seg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(exp.join("segments.json")).expect("segments"))
                .expect("json");
        seg["reason"].as_str().expect("reason").to_string()
    };
    let why = reason();
    assert!(why.contains("1 run was measured again on 12 resamples (the first 3 as before)"), "{why}");
    assert!(why.contains(&format!("{:.3}", s.mean_ari)), "{why}");
    // The chosen run is the refined one exactly when its new mean passes.
    let seg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exp.join("segments.json")).expect("segments")).expect("json");
    assert_eq!(seg["run"].as_str() == Some(top.as_str()), s.mean_ari >= 0.8, "{why}");
    // A stored measurement is reused: a marked mean survives the next sweep.
    let mut marked = stored.clone();
    marked.get_mut(&top).expect("entry").stability.mean_ari = 0.8123456;
    strata_lab::store::write_refined(&exp, &marked).expect("mark");
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    assert!(reason().contains("0.812"), "{}", reason());
    // Once no run needs it, the file goes.
    set_stability(&exp, &top, 0.95, 0.9, 1.0);
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    assert!(!file.exists());
    assert!(!reason().contains("measured again"), "{}", reason());
}
