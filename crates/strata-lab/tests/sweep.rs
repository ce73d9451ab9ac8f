//! The sweep on synthetic data: resuming, recomputing only what changed,
//! shards merged, damaged files, a killed sweep, two sweeps on one folder,
//! compare and the report.

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use strata_data::DataDirs;
use strata_lab::registry::Registry;
use strata_lab::store::{ExperimentResults, RunRecord};
use strata_lab::sweep::{SweepOptions, sweep};

/// Three blobs in 3-D with a metadata column naming the blob.
fn write_data(dir: &Path, n: usize) {
    let mut csv = String::from("id,grp,y,a,b,c\n");
    let mut state: u64 = 17;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for i in 0..n {
        let g = i % 3;
        let c = [[0.0, 0.0, 0.0], [6.0, 0.0, 2.0], [0.0, 6.0, -2.0]][g];
        csv.push_str(&format!(
            "{i},g{g},{},{:.6},{:.6},{:.6}\n",
            u8::from(g == 0),
            c[0] + 2.0 * noise(),
            c[1] + 2.0 * noise(),
            c[2] + 2.0 * noise()
        ));
    }
    write_table(dir, &csv, "metadata = [\"grp\"]\n");
}

/// Writes `csv` as data.csv and its descriptor data.toml: id `id`, target
/// `y`, then `rest` (more `[columns]` keys and any later tables).
fn write_table(dir: &Path, csv: &str, rest: &str) {
    std::fs::write(dir.join("data.csv"), csv).expect("csv");
    std::fs::write(
        dir.join("data.toml"),
        format!(
            "[source]\nfile = \"data.csv\"\nsha256 = \"{}\"\n[columns]\nid = \"id\"\ntarget = \"y\"\n{rest}",
            strata_data::locate::sha256_bytes(csv.as_bytes())
        ),
    )
    .expect("descriptor");
}

fn manifest(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("dataset = \"data.toml\"\nseed = 5\n{body}")).expect("manifest");
    p
}

const SMALL: &str = "[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = 2\n\
[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = \"diag\"\n\
[evaluation]\nstability_resamples = 3\nagreement = [\"grp\"]\n";

fn opts(dir: &Path, out: &str) -> SweepOptions {
    let mut o = SweepOptions::new(
        dir.join(out),
        DataDirs {
            explicit: Some(dir.to_path_buf()),
            env: None,
            cache: None,
        },
    );
    o.progress = false;
    o
}

/// A run without its timings (which differ between two computations).
fn timeless(mut r: RunRecord) -> RunRecord {
    r.timings_s.clear();
    r
}

fn runs_of(dir: &Path) -> Vec<RunRecord> {
    let res = ExperimentResults::read(dir).expect("results");
    assert!(res.damaged.is_empty(), "{:?}", res.damaged);
    res.runs.into_iter().map(timeless).collect()
}

#[test]
fn sweep_stores_resumes_and_recomputes_only_what_changed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 300);
    let m = manifest(dir, "exp.toml", SMALL);
    let reg = Registry::standard();
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    assert_eq!(
        (o[0].total, o[0].computed, o[0].reused, o[0].failed),
        (6, 6, 0, 0)
    );
    let exp = dir.join("res/exp");
    let runs = runs_of(&exp);
    assert_eq!(runs.len(), 6);
    // The planted blobs are found: k = 3 on the raw features agrees with `grp`.
    let k3 = runs
        .iter()
        .find(|r| {
            r.config.representation.algorithm == "none"
                && r.config.clusterer.label().contains("k=3")
                && r.config.clusterer.algorithm == "kmeans"
        })
        .expect("k=3 run");
    assert!(k3.metrics["ari_grp"] > 0.9, "{:?}", k3.metrics);
    for key in [
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "inertia",
        "stability_mean_ari",
        "stability_ari_low",
        "stability_ari_high",
        "nmi_grp",
    ] {
        assert!(k3.metrics.contains_key(key), "{key} missing");
    }
    // The stability interval holds the mean ARI and stays within [-1, 1].
    let (lo, mean, hi) = (
        k3.metrics["stability_ari_low"],
        k3.metrics["stability_mean_ari"],
        k3.metrics["stability_ari_high"],
    );
    assert!(-1.0 <= lo && lo <= mean && mean <= hi && hi <= 1.0, "{lo} {mean} {hi}");
    let gmm = runs
        .iter()
        .find(|r| r.config.clusterer.algorithm == "gmm")
        .expect("gmm");
    assert!(gmm.metrics.contains_key("bic") && gmm.metrics.contains_key("aic"));
    assert!(
        runs.iter()
            .all(|r| r.clustering.as_ref().is_some_and(|c| c.labels.len() == 300))
    );

    // The tidy tables, readable as they are.
    let csv = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(exp.join("summary.csv")))
        .expect("csv reader")
        .finish()
        .expect("csv");
    let pq = ParquetReader::new(std::fs::File::open(exp.join("summary.parquet")).expect("open"))
        .finish()
        .expect("parquet");
    assert_eq!((csv.height(), pq.height()), (6, 6));
    for col in [
        "hash",
        "representation",
        "clusterer",
        "clu_k",
        "rep_n_components",
        "silhouette",
        "bic",
        "time_cluster_s",
    ] {
        assert!(pq.column(col).is_ok(), "{col} not in summary.parquet");
    }
    assert_eq!(pq.column("clu_k").expect("k").dtype(), &DataType::Int64);
    let html = std::fs::read_to_string(exp.join("report.html")).expect("report");
    assert!(html.contains("<svg") && html.contains("Chosen clustering"));
    assert!(
        !html.contains("<script") && !html.contains("src="),
        "the report must be self-contained"
    );
    // The Markdown has no charts: the curves section says where they are
    // instead of leaving a heading per representation over nothing.
    let md = std::fs::read_to_string(exp.join("report.md")).expect("report.md");
    let curves = md.split("## Metrics against k").nth(1).and_then(|s| s.split("\n## ").next()).unwrap_or_default();
    assert!(curves.contains("are in `report.html`") && !curves.contains("###"), "{curves}");
    assert!(html.contains("<h3>none</h3>"), "the HTML keeps a heading over each representation's charts");

    // Nothing changed: nothing recomputed, identical files.
    let before = std::fs::read(exp.join(format!("runs/{}.json", runs[0].hash))).expect("run file");
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("again");
    assert_eq!((o[0].computed, o[0].reused), (0, 6));
    assert_eq!(
        before,
        std::fs::read(exp.join(format!("runs/{}.json", runs[0].hash))).expect("run file")
    );

    // One more k: only the two new runs (one per representation) are computed.
    manifest(
        dir,
        "exp.toml",
        &SMALL.replace("k = [2, 3]", "k = [2, 3, 4]"),
    );
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("edited");
    assert_eq!((o[0].total, o[0].computed, o[0].reused), (8, 2, 6));
    // --force recomputes everything, to the same numbers.
    let mut forced = opts(dir, "res");
    forced.force = true;
    let o = sweep(std::slice::from_ref(&m), &reg, &forced).expect("forced");
    assert_eq!(o[0].computed, 8);
    let again = runs_of(&exp);
    for r in &runs {
        assert!(again.contains(r), "run {} changed when recomputed", r.hash);
    }
}

/// The common-space silhouettes are computed once every chunk of an
/// experiment is done: a run stored without one (a sweep killed in between)
/// gets it at the next sweep, without being computed again.
#[test]
fn runs_stored_before_the_common_space_pass_get_it_at_the_next_sweep() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 300);
    let m = manifest(dir, "exp.toml", SMALL);
    let reg = Registry::standard();
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    let exp = dir.join("res/exp");
    let full = runs_of(&exp);
    assert_eq!(full.len(), 6);
    for r in &full {
        let own = r.metrics["silhouette"];
        let common = r.metrics["silhouette_common"];
        if r.config.representation.algorithm == "none" && !r.config.drop_discrete {
            // The prepared features are this run's own space.
            assert_eq!(own.to_bits(), common.to_bits(), "{}", r.hash);
        } else {
            assert_ne!(own, common, "{}", r.hash);
        }
        // And within each of the 10 groups of rows, for the claims' intervals.
        let groups = r.silhouette_common_groups.as_ref().expect("group scores");
        assert_eq!(groups.len(), 10, "{}", r.hash);
        assert!(groups.iter().all(|g| g.is_finite() && *g != common), "{groups:?}");
    }
    // As a kill between the chunks and the pass leaves them: a PCA run
    // without its common score, a `none` run without either; and a run
    // stored before group scores existed.
    let pca = full
        .iter()
        .find(|r| r.config.representation.algorithm == "pca")
        .expect("pca run");
    let none = full
        .iter()
        .find(|r| r.config.representation.algorithm == "none" && !r.config.drop_discrete)
        .expect("none run");
    for (r, drop) in [(pca, vec!["silhouette_common"]), (none, vec!["silhouette", "silhouette_common"])] {
        let path = exp.join(format!("runs/{}.json", r.hash));
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        for key in drop {
            v["metrics"].as_object_mut().expect("metrics").remove(key);
        }
        std::fs::write(&path, serde_json::to_vec(&v).expect("json")).expect("write");
    }
    let older = full
        .iter()
        .find(|r| r.config.clusterer.algorithm == "gmm")
        .expect("a mixture run");
    let path = exp.join(format!("runs/{}.json", older.hash));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert!(v.as_object_mut().expect("record").remove("silhouette_common_groups").is_some());
    std::fs::write(&path, serde_json::to_vec(&v).expect("json")).expect("write");
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("again");
    assert_eq!((o[0].computed, o[0].reused), (0, 6));
    let again = runs_of(&exp);
    for r in &full {
        let a = again.iter().find(|a| a.hash == r.hash).expect("run kept");
        // Scored in another company of labelings: the very bits (the
        // silhouette sums distances in fixed point).
        for key in ["silhouette", "silhouette_common"] {
            let (x, y) = (r.metrics[key], a.metrics[key]);
            assert_eq!(x.to_bits(), y.to_bits(), "{} {key}: {x} then {y}", r.hash);
        }
        assert_eq!(a.clustering.as_ref().map(|c| &c.labels), r.clustering.as_ref().map(|c| &c.labels));
        let bits = |g: &Option<Vec<f64>>| g.as_ref().map(|g| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(bits(&a.silhouette_common_groups), bits(&r.silhouette_common_groups), "{}", r.hash);
    }
}

#[test]
fn shards_merged_equal_one_sweep_and_damaged_files_are_skipped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 240);
    let m = manifest(dir, "exp.toml", SMALL);
    let reg = Registry::standard();
    sweep(std::slice::from_ref(&m), &reg, &opts(dir, "whole")).expect("whole");
    let mut shard_dirs = Vec::new();
    let mut seen = 0;
    for i in 0..3 {
        let mut o = opts(dir, &format!("shard{i}"));
        o.shard = Some((i, 3));
        let out = sweep(std::slice::from_ref(&m), &reg, &o).expect("shard");
        assert_eq!(out[0].computed + out[0].other_shards, 6);
        // A shard holds some runs only: no decision is drawn from them.
        assert!(out[0].decisions_left);
        assert!(!dir.join(format!("shard{i}/exp/segments.json")).exists());
        seen += out[0].computed;
        shard_dirs.push(dir.join(format!("shard{i}")));
    }
    assert_eq!(seen, 6, "every run is in exactly one shard");
    let merged = strata_lab::store::merge(&dir.join("merged"), &shard_dirs).expect("merge");
    assert_eq!(merged.copied, 6);
    assert_eq!(
        runs_of(&dir.join("merged/exp")),
        runs_of(&dir.join("whole/exp"))
    );
    let strip = |p: PathBuf| -> DataFrame {
        let df = ParquetReader::new(std::fs::File::open(p).expect("open"))
            .finish()
            .expect("read");
        let keep: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .filter(|c| !c.starts_with("time_"))
            .collect();
        df.select(keep).expect("select")
    };
    assert!(
        strip(dir.join("merged/exp/summary.parquet"))
            .equals_missing(&strip(dir.join("whole/exp/summary.parquet")))
    );
    // The sweep once more on the merged folder computes nothing and draws
    // the decisions from every run: the same as the unsharded sweep's.
    let fin = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "merged")).expect("finish");
    assert_eq!((fin[0].computed, fin[0].reused), (0, 6));
    assert!(!fin[0].decisions_left);
    let json = |p: &str| std::fs::read_to_string(dir.join(p)).expect(p);
    assert_eq!(json("merged/exp/segments.json"), json("whole/exp/segments.json"));
    assert_eq!(json("merged/exp/RESULTS.md"), json("whole/exp/RESULTS.md"));

    // A damaged run file: reported by the report, recomputed by the sweep.
    let exp = dir.join("whole/exp");
    let victim = runs_of(&exp)[1].hash.clone();
    std::fs::write(exp.join(format!("runs/{victim}.json")), "{ not json").expect("damage");
    let res = ExperimentResults::read(&exp).expect("read");
    assert_eq!((res.runs.len(), res.damaged.len()), (5, 1));
    let paths = strata_lab::report::write(&res).expect("report despite damage");
    let md = std::fs::read_to_string(&paths[1]).expect("md");
    assert!(
        md.contains("Damaged run file, skipped") && md.contains(&victim),
        "{md}"
    );
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "whole")).expect("repair");
    assert_eq!((o[0].computed, o[0].damaged_replaced), (1, 1));
    assert_eq!(runs_of(&exp).len(), 6);
}

mod common;

fn strata(dir: &Path, args: &[&str]) -> Command {
    let mut c = common::strata_command(dir, args);
    c.env("RAYON_NUM_THREADS", "2");
    c
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const HEAVY: &str = "[[clusterer]]\nalgorithm = \"kmeans\"\nk = { from = 2, to = 31 }\nn_init = 10\n\
[[clusterer]]\nalgorithm = \"gmm\"\nk = { from = 2, to = 11 }\n[evaluation]\nstability_resamples = 6\n";

fn stored(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_sweep_resumes_with_nothing_lost_and_nothing_computed_twice() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 3000);
    manifest(dir, "exp.toml", HEAVY);
    let runs = dir.join("res/exp/runs");
    let mut child = strata(
        dir,
        &[
            "run",
            "exp.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let start = std::time::Instant::now();
    while stored(&runs) < 2 && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let at_kill = stored(&runs);
    assert!(
        (2..40).contains(&at_kill),
        "{at_kill} runs stored when killed: the kill came too late to test anything"
    );
    // Whatever was stored is whole (files are renamed into place).
    let res = ExperimentResults::read(&dir.join("res/exp")).expect("read");
    assert!(res.damaged.is_empty(), "{:?}", res.damaged);
    let out = ok(&strata(
        dir,
        &[
            "run",
            "exp.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    )
    .output()
    .expect("resume"));
    assert!(
        out.contains(&format!(
            "40 runs: {} computed (0 failed), {at_kill} already stored",
            40 - at_kill
        )),
        "{out}"
    );
    assert_eq!(stored(&runs), 40);
}

#[test]
fn two_sweeps_on_one_folder_leave_whole_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 600);
    manifest(dir, "exp.toml", SMALL);
    let spawn = || {
        strata(
            dir,
            &[
                "run",
                "exp.toml",
                "--data-dir",
                ".",
                "--out",
                "res",
                "--quiet",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    ok(&a.wait_with_output().expect("a"));
    ok(&b.wait_with_output().expect("b"));
    assert_eq!(runs_of(&dir.join("res/exp")).len(), 6);
    let pq =
        ParquetReader::new(std::fs::File::open(dir.join("res/exp/summary.parquet")).expect("open"))
            .finish()
            .expect("summary is whole");
    assert_eq!(pq.height(), 6);
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("res/exp/runs"))
        .expect("runs")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn compare_and_cli_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 240);
    manifest(dir, "a.toml", SMALL);
    std::fs::write(
        dir.join("b.toml"),
        format!(
            "dataset = \"data.toml\"\nseed = 6\n{}",
            SMALL.replace("k = [2, 3]", "k = [3, 4]")
        ),
    )
    .expect("b");
    ok(&strata(
        dir,
        &[
            "run",
            "a.toml",
            "b.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    )
    .output()
    .expect("run"));
    let md = ok(
        &strata(dir, &["compare", "a.toml", "b.toml", "--out", "res"])
            .output()
            .expect("compare"),
    );
    assert!(md.contains("| seed | 5 | 6 |"), "{md}");
    assert!(md.contains("| clusterer[0].k | [2, 3] | [3, 4] |"), "{md}");
    assert!(
        md.contains("## Winner per headline metric") && md.contains("| silhouette | higher |"),
        "{md}"
    );
    // k = 3 k-means and the mixture match on both representations.
    assert!(
        md.contains("Matching runs (4 matched; 2 only in A, 2 only in B)"),
        "{md}"
    );
    let js = ok(
        &strata(dir, &["compare", "res/a", "res/b", "--format", "json"])
            .output()
            .expect("json"),
    );
    let v: serde_json::Value = serde_json::from_str(&js).expect("json output");
    assert_eq!(v["matched"].as_array().map(Vec::len), Some(4));
    let csv = ok(
        &strata(dir, &["compare", "res/a", "res/b", "--format", "csv"])
            .output()
            .expect("csv"),
    );
    assert_eq!(csv.lines().count(), 5);
    let seg = ok(&strata(dir, &["segments", "a.toml", "--out", "res"])
        .output()
        .expect("segments"));
    assert!(
        seg.contains("chosen because: highest common-space silhouette") && seg.contains("### Segment"),
        "{seg}"
    );
    assert!(seg.contains("\nstructure: common-space silhouette "), "{seg}");
    // The planted blob 0 holds every positive of `y`: its card says so.
    assert!(seg.contains("response rate 100.0 %"), "{seg}");
    assert!(seg.contains("grp: g0 100 %"), "{seg}");
    let rep = ok(&strata(dir, &["report", "res"]).output().expect("report"));
    assert!(rep.contains("report.html"), "{rep}");

    let fails = |args: &[&str], needle: &str| {
        let out = strata(dir, args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && !err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    };
    manifest(
        dir,
        "bad.toml",
        "[[clusterer]]\nalgorithm = \"kmean\"\nk = 2\n",
    );
    fails(
        &["run", "bad.toml", "--data-dir", "."],
        "bad.toml:4:13: unknown clusterer `kmean`; did you mean `kmeans`? available: kmeans, gmm, dbscan, agglomerative, kprototypes",
    );
    manifest(
        dir,
        "big.toml",
        "[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 500]\n",
    );
    fails(
        &["run", "big.toml", "--data-dir", ".", "--out", "res"],
        "big.toml:5:5: clusterer `kmeans`: `k` = 500 is more than the data's 240 rows",
    );
    manifest(
        dir,
        "agree.toml",
        "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[evaluation]\nagreement = [\"group\"]\n",
    );
    fails(
        &["run", "agree.toml", "--data-dir", ".", "--out", "res"],
        "no metadata column `group`; did you mean `grp`?",
    );
    fails(
        &["compare", "res/a", "nowhere"],
        "nowhere: neither a manifest nor a results folder",
    );
    fails(&["run", "a.toml", "--shard", "3/3"], "need 0 <= I < N");
    // An invalid manifest stops the whole sweep before anything runs.
    let out = strata(
        dir,
        &[
            "run",
            "a.toml",
            "bad.toml",
            "--data-dir",
            ".",
            "--out",
            "fresh",
        ],
    )
    .output()
    .expect("run");
    assert!(!out.status.success());
    assert!(
        !dir.join("fresh").exists(),
        "nothing may run when a manifest is invalid"
    );
}

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
        e.contains("cohorts: row 0: `grp` = \"g0\" is not a date in the format \"%d-%m-%Y\""),
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
        e.contains("no metadata column `gp`; did you mean `grp`?"),
        "{e}"
    );
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

/// A manifest whose data file is nowhere (and has no URL to fetch it from)
/// does not stop the others: they run and report, and the sweep ends with an
/// error naming the missing file and every folder searched. An invalid
/// manifest, by contrast, still stops everything.
#[test]
fn missing_data_skips_only_its_experiment() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 120);
    let good = manifest(
        dir,
        "good.toml",
        "[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n",
    );
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    std::fs::write(
        elsewhere.join("gone.toml"),
        "[source]\nfile = \"gone.csv\"\nsha256 = \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\npage = \"https://example.org/gone\"\n",
    )
    .expect("descriptor");
    let missing = dir.join("missing.toml");
    std::fs::write(
        &missing,
        "dataset = \"elsewhere/gone.toml\"\nseed = 5\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n",
    )
    .expect("manifest");
    let reg = Registry::standard();
    let o = opts(dir, "res");
    let swept = strata_lab::sweep::sweep_available(&[missing.clone(), good.clone()], &reg, &o)
        .expect("the present experiment runs");
    assert_eq!(swept.outcomes.len(), 1);
    assert_eq!(swept.outcomes[0].computed, 1);
    assert!(dir.join("res/good/report.html").is_file());
    let e = format!("{:#}", swept.missing_data_error().expect("an error"));
    for part in [
        "1 experiment(s) not run",
        "missing.toml",
        "gone.csv",
        &elsewhere.join("gone.csv.gz").display().to_string(),
        &elsewhere.join("cache").join("gone.csv").display().to_string(),
        "https://example.org/gone",
    ] {
        assert!(e.contains(part), "`{part}` not in {e}");
    }
    // `sweep` itself fails for the missing experiment after running the rest.
    let e = sweep(&[missing.clone(), good.clone()], &reg, &opts(dir, "res2"))
        .expect_err("missing data is an error");
    assert!(format!("{e:#}").contains("gone.csv"));
    assert!(dir.join("res2/good/report.html").is_file());
    // An invalid manifest beside it stops everything, as before.
    let bad = manifest(dir, "bad.toml", "[[clusterer]]\nalgorithm = \"kmean\"\nk = 2\n");
    let e = sweep(&[missing, good, bad], &reg, &opts(dir, "res3")).expect_err("invalid");
    assert!(format!("{e:#}").contains("nothing was run"), "{e:#}");
    assert!(!dir.join("res3/good").exists());
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
        fn drop_seconds(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    m.remove("seconds");
                    m.values_mut().for_each(drop_seconds);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(drop_seconds),
                _ => {}
            }
        }
        drop_seconds(&mut v);
        v
    };
    let (merged, whole) = (strip("merged/cls/classification.json"), strip("whole/cls/classification.json"));
    assert_eq!(merged["report"]["folds"].as_array().map(Vec::len), Some(24));
    assert_eq!(merged, whole);
}

/// A stored run belongs to the data as prepared: editing how the descriptor
/// prepares it (here the scaling) recomputes every run; editing only how
/// segments are described (`columns.nominal`) or the description reuses them.
#[test]
fn editing_the_descriptors_preparation_recomputes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 150);
    let m = manifest(dir, "exp.toml", SMALL);
    let reg = Registry::standard();
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("sweep");
    assert_eq!((o[0].computed, o[0].reused), (6, 0));
    let descriptor = std::fs::read_to_string(dir.join("data.toml")).expect("descriptor");
    let edit = |text: &str| std::fs::write(dir.join("data.toml"), text).expect("descriptor");
    edit(&format!("description = \"the same data\"\n{}", descriptor.replace("[columns]\n", "[columns]\nnominal = [\"c\"]\n")));
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("described");
    assert_eq!((o[0].computed, o[0].reused), (0, 6));
    edit(&format!("{descriptor}[scale]\nmethod = \"robust\"\n"));
    let o = sweep(std::slice::from_ref(&m), &reg, &opts(dir, "res")).expect("rescaled");
    assert_eq!((o[0].computed, o[0].reused), (6, 0));
}

#[test]
fn stale_runs_are_counted_and_pruned_on_request() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_data(dir, 150);
    manifest(dir, "exp.toml", SMALL);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "exp.toml", "--data-dir", ".", "--out", "res", "--quiet"];
        args.extend_from_slice(extra);
        ok(&strata(dir, &args).output().expect("strata"))
    };
    let exp = dir.join("res/exp");
    let first = run(&[]);
    assert!(!first.contains("no longer plans"), "{first}");
    assert!(strata_lab::store::orphan_runs(&exp).expect("orphans").is_empty());
    // k = [2, 3] becomes [2, 4]: the k = 3 runs (one per representation) are stale.
    manifest(dir, "exp.toml", &SMALL.replace("k = [2, 3]", "k = [2, 4]"));
    let second = run(&[]);
    assert!(
        second.contains("  2 stored runs in runs/ the manifest no longer plans (an earlier manifest, descriptor or strata version; every report ignores them): --prune deletes them"),
        "{second}"
    );
    let stale = strata_lab::store::orphan_runs(&exp).expect("orphans");
    assert_eq!(stale.len(), 2);
    for p in &stale {
        let r: RunRecord = strata_lab::store::read_json(p).expect("run");
        assert_eq!(r.config.clusterer.params.0.get("k").map(|v| v.to_string()), Some("3".into()));
    }
    // A temporary file of a write in flight is not stale.
    std::fs::write(exp.join("runs/.abc.json.1.0.tmp"), "{").expect("tmp");
    let third = run(&["--prune"]);
    assert!(third.contains("  pruned 2 stored runs the manifest no longer plans"), "{third}");
    assert!(stale.iter().all(|p| !p.exists()));
    assert!(exp.join("runs/.abc.json.1.0.tmp").exists());
    // Every planned run is still there: nothing recomputed.
    assert!(third.contains("0 computed (0 failed), 6 already stored"), "{third}");
    assert!(!run(&[]).contains("no longer plans"));
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
