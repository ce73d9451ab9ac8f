//! The sweep on synthetic data: resuming, recomputing only what changed,
//! shards merged, damaged files, a killed sweep, two sweeps on one folder,
//! missing data, stale runs, compare and the report (the stages' own tests
//! are in `sweep_stages.rs`).

mod sweep_common;

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use strata_lab::registry::Registry;
use strata_lab::store::{ExperimentResults, RunRecord};
use strata_lab::sweep::sweep;
use sweep_common::*;

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
    // Into one experiment's folder, or a folder into itself: refused by
    // name, nothing written.
    let e = strata_lab::store::merge(&dir.join("merged/exp"), &shard_dirs).unwrap_err().to_string();
    assert!(e.contains("merged/exp: this is one experiment's result folder") && e.contains("merged)"), "{e}");
    assert!(!dir.join("merged/exp/exp").exists());
    let e = strata_lab::store::merge(&dir.join("merged"), &[dir.join("merged")]).unwrap_err().to_string();
    assert!(e.contains("it is already the merged folder of `exp`"), "{e}");
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
    assert!(md.contains("Data: both on data (240 rows, 3 prepared features)."), "{md}");
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
    // The same rows scaled otherwise: only pipeline stability compares
    // (silhouettes and BIC live in the features' space).
    let descriptor = std::fs::read_to_string(dir.join("data.toml")).expect("descriptor");
    std::fs::write(dir.join("minmax.toml"), format!("{descriptor}[scale]\nmethod = \"min_max\"\n")).expect("minmax");
    std::fs::write(dir.join("c.toml"), format!("dataset = \"minmax.toml\"\nseed = 5\n{SMALL}")).expect("c");
    // The same recipe, but `[features]` segments on other columns: the
    // common space differs, so only stability compares.
    std::fs::write(dir.join("e.toml"), format!("dataset = \"data.toml\"\nseed = 5\n[features]\nexclude = [\"c\"]\n{SMALL}")).expect("e");
    // Other rows altogether: nothing compares.
    std::fs::create_dir_all(dir.join("other")).expect("other");
    write_data(&dir.join("other"), 180);
    std::fs::write(dir.join("d.toml"), format!("dataset = \"other/data.toml\"\nseed = 5\n{SMALL}")).expect("d");
    for (m, data) in [("c.toml", "."), ("d.toml", "other"), ("e.toml", ".")] {
        ok(&strata(dir, &["run", m, "--data-dir", data, "--out", "res", "--quiet"]).output().expect("run"));
    }
    let md = ok(&strata(dir, &["compare", "a.toml", "c.toml", "--out", "res"]).output().expect("compare"));
    assert!(md.contains("Data: the same rows in other feature spaces (A: data (240 rows, 3 prepared features); B: minmax (240 rows, 3 prepared features); a different recipe, or `[features]` choosing other columns): only stability_mean_ari compare"), "{md}");
    assert!(md.contains("| silhouette | higher |") && md.contains("| not comparable (other features) |"), "{md}");
    let stability = md.lines().find(|l| l.starts_with("| stability_mean_ari |")).expect("stability row");
    assert!(!stability.contains("not comparable"), "{stability}");
    let md = ok(&strata(dir, &["compare", "a.toml", "e.toml", "--out", "res"]).output().expect("compare"));
    assert!(md.contains("Data: the same rows in other feature spaces") && md.contains("| features.exclude | (unset) | [\"c\"] |"), "{md}");
    assert_eq!(md.matches("not comparable (other features)").count(), 5, "{md}");
    let md = ok(&strata(dir, &["compare", "a.toml", "d.toml", "--out", "res"]).output().expect("compare"));
    assert!(md.contains("Data: other data (A: data (240 rows, 3 prepared features); B: data (180 rows, 3 prepared features)): no metric compares"), "{md}");
    assert_eq!(md.matches("not comparable (other data)").count(), 6, "{md}");
    let js = ok(&strata(dir, &["compare", "a.toml", "d.toml", "--out", "res", "--format", "json"]).output().expect("json"));
    let v: serde_json::Value = serde_json::from_str(&js).expect("json output");
    assert_eq!(v["comparable"], "other_data");
    assert!(v["matched"].as_array().expect("matched").iter().all(|p| p["delta"].as_object().is_some_and(|d| d.is_empty())), "{js}");
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
