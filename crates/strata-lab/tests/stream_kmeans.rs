//! `strata stream-kmeans` through the binary: a descriptor pointing at a
//! Parquet file or folder, k-means streamed over batches, labels written
//! back as a column; the same result whatever the batch size or the split
//! into files.

mod common;

use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const N: usize = 60_000;

/// Four blobs far apart (blob = row % 4) with deterministic noise in [-0.5, 0.5).
fn table(range: std::ops::Range<usize>) -> DataFrame {
    let noise = |i: usize, j: usize| {
        let h = (i as u64).wrapping_mul(2_654_435_761).wrapping_add(j as u64 * 40_503) % (1 << 32);
        h as f64 / 4_294_967_296.0 - 0.5
    };
    let mut cols = vec![
        Column::new("id".into(), range.clone().map(|i| format!("c{i}")).collect::<Vec<_>>()),
        Column::new("blob".into(), range.clone().map(|i| (i % 4) as i64).collect::<Vec<_>>()),
    ];
    for j in 0..4 {
        let v: Vec<f64> = range
            .clone()
            .map(|i| if (i % 4) == j { 8.0 } else { 0.0 } + noise(i, j) + 100.0 * j as f64)
            .collect();
        cols.push(Column::new(format!("x{j}").into(), v));
    }
    DataFrame::new_infer_height(cols).expect("frame")
}

fn write(df: &mut DataFrame, path: &Path) {
    ParquetWriter::new(std::fs::File::create(path).expect("create")).finish(df).expect("write");
}

fn descriptor(dir: &Path, file: &str) {
    let sha = strata_data::parquet::checksum(&dir.join(file)).expect("checksum");
    std::fs::write(
        dir.join(format!("{file}.toml")),
        format!(
            "[source]\nfile = \"{file}\"\nsha256 = \"{sha}\"\n[columns]\nid = \"id\"\nmetadata = [\"blob\"]\n"
        ),
    )
    .expect("descriptor");
}

fn run(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = common::strata_command(dir, args).output().expect("run strata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Every file of a labelled output, in name order, as (blob, segment).
fn labels(path: &Path) -> Vec<(i64, u32)> {
    strata_data::parquet::files(path)
        .expect("files")
        .iter()
        .flat_map(|f| {
            let df = ParquetReader::new(std::fs::File::open(f).expect("open")).finish().expect("read");
            assert_eq!(df.get_column_names().len(), 7, "id, blob, x0..x3 and the labels");
            let b: Vec<i64> = df.column("blob").expect("blob").i64().expect("i64").into_no_null_iter().collect();
            let s: Vec<u32> = df.column("segment").expect("segment").u32().expect("u32").into_no_null_iter().collect();
            b.into_iter().zip(s).collect::<Vec<_>>()
        })
        .collect()
}

/// The labels recover the blobs exactly: one segment per blob, one blob per segment.
fn recovers_blobs(l: &[(i64, u32)]) {
    let mut map: BTreeMap<i64, u32> = BTreeMap::new();
    for &(b, s) in l {
        assert_eq!(*map.entry(b).or_insert(s), s, "blob {b} split");
    }
    let mut segs: Vec<u32> = map.values().copied().collect();
    segs.sort();
    segs.dedup();
    assert_eq!(segs.len(), 4, "two blobs merged: {map:?}");
}

#[test]
fn stream_kmeans_fits_a_parquet_file_or_folder_and_writes_labels() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write(&mut table(0..N), &dir.join("t.parquet"));
    descriptor(dir, "t.parquet");
    let a = run(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--batch-rows", "7000", "--labels", "a.parquet"]);
    assert_eq!(a["rows"], N);
    assert_eq!(a["features"], serde_json::json!(["x0", "x1", "x2", "x3"]));
    assert_eq!(a["converged"], true);
    let sizes: Vec<u64> = a["centres"].as_array().expect("centres").iter().map(|c| c["rows"].as_u64().expect("rows")).collect();
    assert_eq!(sizes, vec![15_000; 4], "{a}");
    // Centres are reported in original units: each near its blob's corner.
    for c in a["centres"].as_array().expect("centres") {
        let m: Vec<f64> = c["mean"].as_array().expect("mean").iter().map(|p| p[1].as_f64().expect("value")).collect();
        let hot = (0..4).filter(|&j| (m[j] - 100.0 * j as f64 - 8.0).abs() < 0.1).count();
        let cold = (0..4).filter(|&j| (m[j] - 100.0 * j as f64).abs() < 0.1).count();
        assert_eq!((hot, cold), (1, 3), "{m:?}");
    }
    let la = labels(&dir.join("a.parquet"));
    assert_eq!(la.len(), N);
    recovers_blobs(&la);

    // Another batch size: the same bits.
    let b = run(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--batch-rows", "60000", "--labels", "b.parquet"]);
    assert_eq!((&a["inertia"], &a["centres"], &a["n_iter"]), (&b["inertia"], &b["centres"], &b["n_iter"]));
    assert_eq!(la, labels(&dir.join("b.parquet")));

    // The same rows split over three files: the same fit, a folder of labelled files.
    std::fs::create_dir(dir.join("parts")).expect("dir");
    for (name, r) in [("p0.parquet", 0..25_000), ("p1.parquet", 25_000..40_000), ("p2.parquet", 40_000..N)] {
        write(&mut table(r), &dir.join("parts").join(name));
    }
    descriptor(dir, "parts");
    let f = run(dir, &["stream-kmeans", "parts.toml", "--k", "4", "--batch-rows", "9000", "--labels", "out"]);
    assert_eq!((&a["inertia"], &a["centres"]), (&f["inertia"], &f["centres"]));
    assert!(dir.join("out/p2.parquet").is_file() && !dir.join("out/p2.parquet.part").exists());
    assert_eq!(la, labels(&dir.join("out")));

    // Mini-batch k-means finds the same blobs, with an inertia at least Lloyd's.
    let m = run(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--mini-batch", "2048", "--labels", "m.parquet"]);
    assert_eq!(m["mode"], "mini-batch of 2048 rows");
    recovers_blobs(&labels(&dir.join("m.parquet")));
    let (mi, li) = (m["inertia"].as_f64().expect("f64"), a["inertia"].as_f64().expect("f64"));
    assert!(mi >= li * (1.0 - 1e-9) && mi <= li * 1.01, "{mi} vs {li}");

    // A sampled start: fewer passes, the same blobs.
    let q = run(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--sample-start", "5000", "--labels", "q.parquet"]);
    assert!(q["passes"].as_u64() < a["passes"].as_u64(), "{q}");
    recovers_blobs(&labels(&dir.join("q.parquet")));

    // Bad input: clear errors, nothing overwritten.
    let out = common::strata_command(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--labels", "t.parquet"])
        .output()
        .expect("run");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("would overwrite the data"));
    // The same file spelled another way, and a new file inside a data folder.
    for (descriptor, labels) in [("t.parquet.toml", "./t.parquet"), ("parts.toml", "parts/new.parquet")] {
        let out = common::strata_command(dir, &["stream-kmeans", descriptor, "--k", "4", "--labels", labels])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("would overwrite the data or write into its folder"), "{labels}: {err}");
    }
    assert!(!dir.join("parts/new.parquet").exists());
    std::fs::write(dir.join("d.csv"), "a,b\n1,2\n3,4\n").expect("csv");
    std::fs::write(
        dir.join("d.toml"),
        format!("[source]\nfile = \"d.csv\"\nsha256 = \"{}\"\n", strata_data::locate::sha256_bytes(b"a,b\n1,2\n3,4\n")),
    )
    .expect("toml");
    let out = common::strata_command(dir, &["stream-kmeans", "d.toml", "--k", "2"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("d.csv") && err.contains("reads Parquet"), "{err}");
}

/// The same fit and labels on 1 thread with the CPU's vector kernels and on 3
/// threads with `STRATA_SIMD=baseline`, for exact Lloyd from k-means|| and
/// for mini-batch k-means: every reported number but the timings and memory
/// is equal to the bit. The blobs overlap here (noise wider than the gap), so
/// rows near a boundary and the sums of the inertia and centres depend on the
/// order of every addition.
#[test]
fn stream_kmeans_is_the_same_on_one_thread_and_on_three_without_vector_kernels() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let mut df = table(0..N);
    // x0 to x3 rescaled so that the blob offset (8) is under the noise's width.
    for j in 0..4 {
        let name = format!("x{j}");
        let v: Vec<f64> = df
            .column(&name)
            .expect("column")
            .f64()
            .expect("f64")
            .into_no_null_iter()
            .enumerate()
            .map(|(i, x)| (x - 100.0 * j as f64) * 0.1 + (((i * 7 + j * 3) % 23) as f64 - 11.0) * 0.2)
            .collect();
        df.replace(&name, Column::new(name.as_str().into(), v)).expect("replace");
    }
    write(&mut df, &dir.join("t.parquet"));
    descriptor(dir, "t.parquet");
    for mode in [&["--batch-rows", "7000"][..], &["--mini-batch", "2048"][..]] {
        let fit = |threads: &str, simd: Option<&str>, file: &str| {
            let mut args = vec!["stream-kmeans", "t.parquet.toml", "--k", "5", "--labels", file];
            args.extend_from_slice(mode);
            let mut c = common::strata_command(dir, &args);
            c.env("RAYON_NUM_THREADS", threads).env("POLARS_MAX_THREADS", threads).env_remove("STRATA_SIMD");
            if let Some(s) = simd {
                c.env("STRATA_SIMD", s);
            }
            let out = c.output().expect("run strata");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
            let o = v.as_object_mut().expect("object");
            for key in ["fit_seconds", "rows_per_second_per_pass", "labels_seconds", "peak_rss_mb", "labels"] {
                assert!(o.remove(key).is_some(), "no {key} in the report");
            }
            (v, labels(&dir.join(file)))
        };
        let (one, la) = fit("1", None, "one.parquet");
        let (three, lb) = fit("3", Some("baseline"), "three.parquet");
        assert!(one == three, "{mode:?}: {one} against {three}");
        assert!(la == lb, "{mode:?}: the labels differ");
        // Not a trivial agreement: segments mix the overlapping blobs.
        let mut blobs: BTreeMap<u32, std::collections::BTreeSet<i64>> = BTreeMap::new();
        for &(b, s) in &la {
            blobs.entry(s).or_default().insert(b);
        }
        assert!(blobs.values().any(|b| b.len() > 1), "{mode:?}: no segment mixes blobs: {blobs:?}");
    }
}

/// The error (stderr) of a `strata stream-kmeans` that must fail.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = common::strata_command(dir, args).output().expect("run");
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn stream_kmeans_names_bad_counts_and_bad_values() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write(&mut table(0..400), &dir.join("t.parquet"));
    descriptor(dir, "t.parquet");
    for (flag, value) in [("--k", "0"), ("--batch-rows", "0"), ("--max-iter", "0"), ("--k", "-3")] {
        let mut args = vec!["stream-kmeans", "t.parquet.toml", flag, value];
        if flag != "--k" {
            args.extend(["--k", "4"]);
        }
        let err = fails(dir, &args);
        assert!(
            err.contains(&format!("'{value}' for '{flag}")) && err.contains(&format!("expected a whole number of at least 1, got `{value}`")),
            "{flag} {value}: {err}"
        );
    }
    // A missing value and an infinite one, each named by column and row of
    // the file (1-based), whatever the batch it falls in.
    let mut df = table(0..400);
    let x2: Vec<Option<f64>> = (0..400).map(|i| if i == 250 { None } else { Some(i as f64) }).collect();
    df.replace("x2", Column::new("x2".into(), x2)).expect("replace");
    write(&mut df, &dir.join("na.parquet"));
    descriptor(dir, "na.parquet");
    let err = fails(dir, &["stream-kmeans", "na.parquet.toml", "--k", "4", "--batch-rows", "100"]);
    assert!(err.contains("na.parquet: column `x2`, row 251: missing value;"), "{err}");
    let mut df = table(0..400);
    let x0: Vec<f64> = (0..400).map(|i| if i == 17 { f64::NEG_INFINITY } else { i as f64 }).collect();
    df.replace("x0", Column::new("x0".into(), x0)).expect("replace");
    write(&mut df, &dir.join("inf.parquet"));
    descriptor(dir, "inf.parquet");
    let err = fails(dir, &["stream-kmeans", "inf.parquet.toml", "--k", "4", "--batch-rows", "10"]);
    assert!(err.contains("inf.parquet: column `x0`, row 18: the value -inf is not finite;"), "{err}");
    // A labels column named like a column of the table would replace it in
    // the copy: refused before the fit, nothing written.
    let err = fails(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--labels", "l.parquet", "--label-column", "x1"]);
    assert!(err.contains("--label-column x1: ") && err.contains("t.parquet: already has a column `x1`"), "{err}");
    assert!(!dir.join("l.parquet").exists());
    // The labelled copy's folders are made as needed.
    let out = common::strata_command(dir, &["stream-kmeans", "t.parquet.toml", "--k", "4", "--labels", "new/deeper/l.parquet"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(labels(&dir.join("new/deeper/l.parquet")).len(), 400);
}
