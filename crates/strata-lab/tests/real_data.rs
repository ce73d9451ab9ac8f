//! `strata data inspect` and the sweep on the two reference datasets.
//! The files are found as any load finds them (`STRATA_DATA_DIR` when set,
//! `datasets/cache/`, then the copies shipped in `datasets/`): never skipped.

use std::process::Command;
use strata_data::DataDirs;

mod common;
mod sweep_common;
use common::workspace;

fn data_dirs() -> DataDirs {
    strata_data::reference_dirs(&workspace())
}

/// `strata data inspect` as a user runs it: the binary finds the file itself.
fn inspect(descriptor: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["data", "inspect", descriptor])
        .current_dir(workspace())
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "{descriptor}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn inspect_marketing_campaign() {
    let text = inspect("datasets/marketing_campaign.toml");
    for n in [
        "tab-separated",
        "before    2240 rows x 29 columns",
        "Response: 334 positive, 1906 negative (14.9 % positive)",
        "Income: imputed 24 missing with median 51381.5",
        "Marital_Status: merged Absurd, Alone, YOLO (7 rows) into other",
        "economics cost per contact 3, revenue per response 11",
    ] {
        assert!(text.contains(n), "`{n}` not in:\n{text}");
    }
}

#[test]
fn inspect_spotify_songs() {
    let text = inspect("datasets/spotify_songs.toml");
    for n in [
        "comma-separated",
        "before    32833 rows x 23 columns",
        "after     28356 rows x 12 features",
        "4477 rows repeated a `track_id` and were removed",
    ] {
        assert!(text.contains(n), "`{n}` not in:\n{text}");
    }
}

/// The committed experiments are valid against the real data: every name,
/// value and count is checked (k against rows, components against columns,
/// agreement columns against the metadata) without running them.
#[test]
fn committed_experiments_are_valid() {
    let manifests =
        strata_lab::sweep::manifests_in(&workspace().join("experiments")).expect("manifests");
    assert!(manifests.len() >= 2, "{manifests:?}");
    let tmp = tempfile::tempdir().expect("tmp");
    let opts = strata_lab::sweep::SweepOptions::new(
        tmp.path(),
        data_dirs(),
    );
    let reg = strata_lab::registry::Registry::standard();
    for m in manifests {
        let p = strata_lab::sweep::plan(&m, &reg, &opts).expect("valid manifest");
        assert!(p.runs.len() >= 40, "{}: {} runs", m.display(), p.runs.len());
    }
}

/// A small sweep on the real marketing data, end to end: summary and report.
#[test]
fn small_sweep_on_marketing_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let m = tmp.path().join("mk.toml");
    std::fs::write(
        &m,
        format!(
            "dataset = \"{}\"\nseed = 42\n[[representation]]\nalgorithm = \"pca\"\nn_components = 0.9\n\
             [[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3, 4]\n[[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"diag\"\n\
             [evaluation]\nstability_resamples = 3\n\
             [classification]\nfolds = 3\nrepeats = 1\n[classification.mlp]\nepochs = 60\n\
             [[classification.features]]\nkind = \"original\"\n\
             [[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 4\n",
            workspace().join("datasets/marketing_campaign.toml").display()
        ),
    )
    .expect("manifest");
    let mut opts = strata_lab::sweep::SweepOptions::new(
        tmp.path().join("res"),
        data_dirs(),
    );
    opts.progress = false;
    let o = strata_lab::sweep::sweep(&[m], &strata_lab::registry::Registry::standard(), &opts)
        .expect("sweep");
    assert_eq!((o[0].total, o[0].computed, o[0].failed), (4, 4, 0));
    for w in &o[0].written {
        assert!(w.is_file(), "{} not written", w.display());
    }
    let res = strata_lab::store::ExperimentResults::read(&o[0].dir).expect("results");
    let prepared = strata_data::load_reference(&workspace(), "marketing_campaign")
        .expect("marketing data")
        .dataset;
    for r in &res.runs {
        let c = r.clustering.as_ref().expect("clustering");
        assert_eq!(c.labels.len(), 2240);
        let rep = r.representation.as_ref().expect("representation");
        // 90 % of the variance of the 34 prepared features.
        let cum = &rep.diagnostics.series["cumulative_variance_ratio"];
        assert!(cum.last().is_some_and(|v| *v >= 0.9) && rep.n_components < 34);
        assert!(r.metrics["silhouette"] > 0.0 && r.metrics["silhouette"] < 1.0);
        // The common-space silhouette is the textbook silhouette of the run's
        // labels in the prepared features, computed here directly.
        let direct = naive_silhouette(prepared.features(), &c.labels);
        let stored = r.metrics["silhouette_common"];
        assert!(
            (stored - direct).abs() < 1e-9,
            "{}: stored {stored}, direct {direct}",
            r.hash
        );
        // Each group score is the textbook silhouette of that group's rows
        // alone, the groups dealt from the manifest's seed.
        let groups = strata_lab::sweep::silhouette_groups(2240, strata_core::Seed(42));
        let scores = r.silhouette_common_groups.as_ref().expect("group scores");
        assert_eq!(scores.len(), groups.len());
        for (rows, &stored) in groups.iter().zip(scores) {
            let x = prepared.features().select(ndarray::Axis(0), rows);
            let labels: Vec<usize> = rows.iter().map(|&i| c.labels[i]).collect();
            let direct = naive_silhouette(&x, &labels);
            assert!((stored - direct).abs() < 1e-9, "{}: group {stored} against {direct}", r.hash);
        }
    }
    // The downstream classifier on the real campaign: 334 responders of 2,240.
    let c = res.classification.as_ref().expect("classification");
    assert_eq!((c.rows, c.positives), (2240, 334));
    for s in &c.report.summary {
        // The tree scores are its 0/1 decisions, so its ROC-AUC is its balanced accuracy.
        let floor = if s.model == "tree" { 0.65 } else { 0.8 };
        assert!(
            s.mean["roc_auc"] > floor,
            "{} {}: {:?}",
            s.feature_set,
            s.model,
            s.mean
        );
    }
    let mlp = c
        .report
        .summary
        .iter()
        .find(|s| s.model == "mlp" && s.feature_set == "original")
        .expect("mlp");
    // Better than the trivial rules: always "no" has accuracy 1906 / 2240 =
    // 0.851 and balanced accuracy 0.5; a random ranking has PR-AUC 0.149.
    assert!(
        mlp.mean["recall"] > 0.4
            && mlp.mean["balanced_accuracy"] > 0.7
            && mlp.mean["pr_auc"] > 3.0 * 334.0 / 2240.0,
        "{:?}",
        mlp.mean
    );
}

/// Same seed, same numbers, whatever the thread count and the CPU's vector
/// instructions: a study on the real marketing data with every stage
/// (representations, four clusterers, pipeline stability and its
/// refinement, silhouettes in the common and the mixed space,
/// classification, held-out targeting, cohorts, segment cards), run by the
/// binary on one thread with the kernels the CPU allows (AVX-512 or AVX2),
/// then on three threads with the portable ones (`STRATA_SIMD=baseline`),
/// writes the same files, to the bit, but for the seconds they record.
/// (Both differences in one comparison: a failure names the file, and
/// rerunning with one setting changed tells which it was.)
#[test]
fn the_whole_study_is_the_same_on_one_thread_and_on_three_without_vector_kernels() {
    let manifest = format!(
        "dataset = \"{}\"\nseed = 42\n\
         [[representation]]\nalgorithm = \"none\"\n\
         [[representation]]\nalgorithm = \"pca\"\nn_components = 0.9\n\
         [[representation]]\nalgorithm = \"ica\"\nn_components = 4\n\
         [[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n\
         [[clusterer]]\nalgorithm = \"gmm\"\nk = [2, 3]\ncovariance = \"full\"\n\
         [[clusterer]]\nalgorithm = \"kprototypes\"\nk = 2\non = [\"none\"]\n\
         [[clusterer]]\nalgorithm = \"agglomerative\"\nk = 2\n\
         [evaluation]\nstability_resamples = 4\n\
         [classification]\nfolds = 3\nrepeats = 1\n[classification.mlp]\nhidden = [8]\nepochs = 20\n\
         [[classification.features]]\nkind = \"original\"\n\
         [[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 3\n\
         [[classification.features]]\nkind = \"posteriors\"\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"diag\"\n\
         [features]\ndiscrete_in_mixtures = false\n\
         [cohorts]\ncolumn = \"Dt_Customer\"\nformat = \"%d-%m-%Y\"\n",
        workspace().join("datasets/marketing_campaign.toml").display()
    );
    let compared = same_on_one_thread_and_three(
        &manifest,
        &["classification.json", "cohorts.json", "targeting.json", "segments.json", "stability_refined.json", "report.md"],
        16,
    );
    assert!(compared > 30, "{compared} files compared");
}

/// The Spotify side of the study: the gzip-compressed file read and
/// deduplicated, a random projection, the mixtures without the discrete
/// columns, sampled silhouettes, agreement with the playlist labels and the
/// similar-tracks measurement (its nearest neighbours, the choice of
/// representation and the baselines) are the same on 1 thread with the CPU's
/// kernels and on 3 threads at baseline. (Exact silhouettes, 6 s of one
/// thread on these rows, are covered by the marketing study above.)
#[test]
fn the_spotify_study_and_its_similar_tracks_are_the_same_on_one_thread_and_on_three() {
    let manifest = format!(
        "dataset = \"{}\"\nseed = 7\n\
         [[representation]]\nalgorithm = \"none\"\n\
         [[representation]]\nalgorithm = \"random_projection\"\nn_components = 6\n\
         [[clusterer]]\nalgorithm = \"kmeans\"\nk = [3, 5]\n\
         [[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"full\"\n\
         [features]\ndiscrete_in_mixtures = false\n\
         [evaluation]\nsilhouette = \"sampled\"\nsilhouette_sample = 3000\nstability_resamples = 3\nagreement = [\"playlist_genre\"]\n\
         [similarity]\njudgements = [\"playlist_id\", \"playlist_genre\"]\npopularity = \"track_popularity\"\nk = 10\nqueries = 400\n",
        workspace().join("datasets/spotify_songs.toml").display()
    );
    let compared = same_on_one_thread_and_three(&manifest, &["similarity.json", "segments.json", "report.md"], 6);
    assert!(compared > 10, "{compared} files compared");
}

/// Runs `manifest` through the binary twice, on 1 thread with the CPU's
/// vector kernels and on 3 threads with `STRATA_SIMD=baseline`, and requires
/// every result file to be the same, seconds aside; `stages` are files that
/// must be among them, `runs` the number of run records. Returns how many
/// files were compared.
fn same_on_one_thread_and_three(manifest: &str, stages: &[&str], runs: usize) -> usize {
    let tmp = tempfile::tempdir().expect("tmp");
    let m = tmp.path().join("mk.toml");
    std::fs::write(&m, manifest).expect("manifest");
    let run = |threads: &str, simd: Option<&str>| {
        let out = tmp.path().join(format!("threads{threads}"));
        let done = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["run", "--quiet", "--out"])
            .arg(&out)
            .arg(&m)
            .env("RAYON_NUM_THREADS", threads)
            .env("POLARS_MAX_THREADS", threads)
            .env_remove("RUST_LOG")
            .env_remove("STRATA_SIMD")
            .envs(simd.map(|s| ("STRATA_SIMD", s)))
            .output()
            .expect("run strata");
        assert!(
            done.status.success(),
            "strata run on {threads} thread(s): {}",
            String::from_utf8_lossy(&done.stderr)
        );
        out.join("mk")
    };
    let (one, three) = (run("1", None), run("3", Some("baseline")));
    let files = |dir: &std::path::Path| -> Vec<String> {
        let mut names = Vec::new();
        // Every folder of the results, one level down (a study without
        // classification has no classification_units/).
        let subs = std::fs::read_dir(dir).expect("results folder").flatten().filter(|e| e.path().is_dir());
        for sub in std::iter::once(String::new()).chain(subs.map(|e| e.file_name().to_string_lossy().into_owned())) {
            for e in std::fs::read_dir(dir.join(&sub)).expect("results folder").flatten() {
                if e.path().is_file() {
                    names.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
                }
            }
        }
        names.sort();
        names
    };
    let names = files(&one);
    assert_eq!(names, files(&three));
    for stage in stages {
        assert!(names.contains(&format!("/{stage}")), "no {stage} in {names:?}");
    }
    assert_eq!(names.iter().filter(|n| n.starts_with("runs/")).count(), runs);
    // Timings are dropped: every key naming seconds, and the summary's
    // time_* columns (the Parquet summary holds the same table).
    let summary = |text: &str| -> Vec<Vec<String>> {
        let rows: Vec<Vec<String>> = text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
        let keep: Vec<bool> = rows[0].iter().map(|h| !h.starts_with("time_")).collect();
        rows.iter()
            .map(|r| r.iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c.clone()).collect())
            .collect()
    };
    let mut compared = 0;
    for name in names.iter().filter(|n| !n.ends_with(".parquet")) {
        let read = |dir: &std::path::Path| std::fs::read_to_string(dir.join(name.trim_start_matches('/'))).expect("result file");
        let (a, b) = (read(&one), read(&three));
        if name.ends_with(".json") {
            let parse = |t: &str| {
                let mut v: serde_json::Value = serde_json::from_str(t).expect("json");
                sweep_common::without_keys(&mut v, &["timings_s", "seconds", "wall_s", "cpu_s"]);
                v
            };
            assert!(parse(&a) == parse(&b), "{name} differs between 1 thread and 3 at baseline");
        } else if name == "/summary.csv" {
            assert!(summary(&a) == summary(&b), "summary.csv differs between 1 thread and 3 at baseline");
        } else {
            assert!(a == b, "{name} differs between 1 thread and 3 at baseline");
        }
        compared += 1;
    }
    compared
}

/// The silhouette by its definition: for each row, a = mean distance to the
/// other rows of its cluster, b = smallest mean distance to another cluster,
/// s = (b - a) / max(a, b) (0 for a row alone in its cluster); the mean over rows.
fn naive_silhouette(x: &ndarray::Array2<f64>, labels: &[usize]) -> f64 {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let n = x.nrows();
    let size: Vec<usize> = (0..k).map(|c| labels.iter().filter(|&&l| l == c).count()).collect();
    let mut total = 0.0;
    for i in 0..n {
        let mut sum = vec![0.0; k];
        for j in 0..n {
            if i != j {
                let d: f64 = x
                    .row(i)
                    .iter()
                    .zip(x.row(j).iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                sum[labels[j]] += d;
            }
        }
        let own = labels[i];
        if size[own] <= 1 {
            continue;
        }
        let a = sum[own] / (size[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && size[c] > 0)
            .map(|c| sum[c] / size[c] as f64)
            .fold(f64::INFINITY, f64::min);
        total += (b - a) / a.max(b);
    }
    total / n as f64
}

/// The similar-tracks measurement against an independent reference
/// (`tools/fixtures/similarity_reference.py`: the features standardized with
/// pandas, the neighbours found by scikit-learn's exact search, the
/// memberships gathered with pandas from every row of the file). With every
/// track a query, precision@10 does not depend on the seeded sample, so the
/// means over all 28,356 queries must agree to rounding: the reference finds
/// no neighbour list that a rounding of the features could change (equal
/// distances come from tracks with the same features, taken in row order on
/// both sides). `strata similar`, a search of its own, returns the
/// reference's 10 neighbours for its first queries.
#[test]
fn similar_tracks_precision_matches_an_independent_reference() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("crates/strata-lab/tests/fixtures/similarity_reference.json"))
            .expect("fixture"),
    )
    .expect("json");
    let (rows, k) = (fixture["rows"].as_u64().expect("rows"), fixture["k"].as_u64().expect("k"));
    let tmp = tempfile::tempdir().expect("tmp");
    let manifest = tmp.path().join("near.toml");
    std::fs::write(
        &manifest,
        format!(
            "dataset = \"{}\"\nseed = 3\n[[representation]]\nalgorithm = \"none\"\n\
             [[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n\
             [evaluation]\nsilhouette = \"sampled\"\nsilhouette_sample = 500\nstability_resamples = 0\n\
             [similarity]\njudgements = [\"playlist_id\", \"playlist_subgenre\", \"playlist_genre\"]\n\
             popularity = \"track_popularity\"\nk = {k}\nqueries = {rows}\n",
            workspace().join("datasets/spotify_songs.toml").display()
        ),
    )
    .expect("manifest");
    let out = tmp.path().join("res");
    let strata = |args: &[&str]| {
        common::ok(&Command::new(env!("CARGO_BIN_EXE_strata")).args(args).env_remove("RUST_LOG").output().expect("run strata"))
    };
    let (m, o) = (manifest.to_str().expect("path"), out.to_str().expect("path"));
    strata(&["run", "--quiet", "--out", o, m]);
    let stored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("near/similarity.json")).expect("similarity.json"),
    )
    .expect("json");
    let report = &stored["report"];
    assert_eq!(report["items"].as_u64(), Some(rows));
    assert_eq!(report["queries"].as_u64(), Some(rows), "every track a query");
    assert_eq!(report["multi_membership"], fixture["multi_membership"]["playlist_id"]);
    let none = report["methods"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["method"] == "none"))
        .expect("the search without reduction");
    let mut compared = 0;
    for p in none["precision"].as_array().expect("precision") {
        let (name, mean) = (p[0].as_str().expect("judgement"), p[1]["mean"].as_f64().expect("mean"));
        let want = fixture["precision"][name].as_f64().expect("reference precision");
        assert!((mean - want).abs() < 1e-12, "precision@10 by {name}: strata {mean}, reference {want}");
        compared += 1;
    }
    assert_eq!(compared, 3);
    for (query, want) in fixture["first_neighbours"].as_object().expect("neighbours") {
        let text = strata(&["similar", query, "-n", &k.to_string(), "--experiment", m, "--out", o, "--representation", "none"]);
        let got = common::ranked_ids(&text);
        let want: Vec<&str> = want.as_array().expect("ids").iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(got, want, "neighbours of {query}");
    }
}
