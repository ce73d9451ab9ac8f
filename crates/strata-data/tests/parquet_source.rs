//! A descriptor may point at Parquet (a file, or a folder of files read in
//! name order): the same rows load to the same numbers as from the CSV, the
//! checksum is verified, and the streamed view of a Parquet table equals the
//! in-memory load's scaled features.

use ndarray::Array2;
use polars::prelude::*;
use std::path::{Path, PathBuf};
use strata_core::batches::RowBatches;
use strata_data::{DataDirs, Descriptor, load};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The marketing CSV read by polars with inferred types (integers, floats
/// with nulls, text), as a user's own conversion would write it.
fn marketing_frame() -> DataFrame {
    let raw = strata_data::read_raw(
        &Descriptor::from_path(workspace().join("datasets/marketing_campaign.toml")).expect("descriptor"),
        &strata_data::reference_dirs(&workspace()),
    )
    .expect("csv");
    let bytes = std::fs::read(&raw.path).expect("bytes");
    CsvReadOptions::default()
        .with_has_header(true)
        .with_parse_options(CsvParseOptions::default().with_separator(b'\t'))
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .expect("polars reads the csv")
}

fn write(df: &mut DataFrame, path: &Path) {
    ParquetWriter::new(std::fs::File::create(path).expect("create")).finish(df).expect("write");
}

fn pointing_at(path: &Path) -> Descriptor {
    let mut d = Descriptor::from_path(workspace().join("datasets/marketing_campaign.toml")).expect("descriptor");
    d.source.file = path.display().to_string();
    d.source.sha256 = strata_data::parquet::checksum(path).expect("checksum");
    d
}

#[test]
fn marketing_from_parquet_file_or_folder_loads_as_from_csv() {
    let csv = strata_data::load_reference(&workspace(), "marketing_campaign").expect("csv load");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut df = marketing_frame();
    assert!(df.column("Income").expect("Income").dtype().is_primitive_numeric(), "typed columns, not text");
    let file = tmp.path().join("marketing.parquet");
    write(&mut df, &file);
    let folder = tmp.path().join("parts");
    std::fs::create_dir(&folder).expect("dir");
    write(&mut df.slice(0, 1000), &folder.join("a.parquet"));
    write(&mut df.slice(1000, 5000), &folder.join("b.parquet"));
    std::fs::write(folder.join("README.txt"), "not data").expect("other file");
    for path in [&file, &folder] {
        let pq = load(&pointing_at(path), &DataDirs::default()).expect("parquet load");
        assert_eq!(pq.dataset.feature_names(), csv.dataset.feature_names(), "{}", path.display());
        assert_eq!(pq.dataset.features(), csv.dataset.features(), "{}", path.display());
        assert_eq!(pq.dataset.ids(), csv.dataset.ids());
        assert_eq!(
            pq.dataset.target().expect("target").values,
            csv.dataset.target().expect("target").values
        );
        assert_eq!(pq.report.raw_rows, 2240);
        assert_eq!(pq.report.delimiter, "none (Parquet)");
    }
    // The folder's checksum is that of its files' lines, so a changed file fails.
    let mut d = pointing_at(&folder);
    write(&mut df.slice(1000, 1239), &folder.join("b.parquet"));
    let e = load(&d, &DataDirs::default()).unwrap_err().to_string();
    assert!(e.contains("parts") && e.to_lowercase().contains("sha"), "{e}");
    // Files of a folder must share their columns.
    write(&mut df.drop("Income").expect("drop"), &folder.join("b.parquet"));
    d.source.sha256 = strata_data::parquet::checksum(&folder).expect("checksum");
    let e = load(&d, &DataDirs::default()).unwrap_err().to_string();
    assert!(e.contains("b.parquet") && e.contains("differ from the folder's first file"), "{e}");
}

#[test]
fn folder_checksum_is_that_of_sha256sum_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("b.parquet"), b"second").expect("b");
    std::fs::write(tmp.path().join("a.parquet"), b"first").expect("a");
    // Independent reference, from coreutils in a folder holding these two files:
    // `printf first > a.parquet; printf second > b.parquet; sha256sum *.parquet | sha256sum`.
    assert_eq!(
        strata_data::parquet::checksum(tmp.path()).expect("checksum"),
        "9c2c9e32d227e5245be20241f36a73f84bceb6be71789b8edbc5ad041d05dca2"
    );
}

#[test]
fn streamed_table_equals_the_in_memory_scaled_features() {
    let tmp = tempfile::tempdir().expect("tmp");
    let n = 3_000;
    let mut df = df!(
        "id" => (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>(),
        "a" => (0..n).map(|i| ((i * 37) % 101) as f64 * 0.5).collect::<Vec<_>>(),
        "b" => (0..n).map(|i| ((i * 11) % 17) as i64 - 3).collect::<Vec<_>>(),
        "flat" => vec![2.5f64; n],
        "c" => (0..n).map(|i| (i as f64).sqrt()).collect::<Vec<_>>(),
        "group" => (0..n).map(|i| format!("g{}", i % 3)).collect::<Vec<_>>(),
    )
    .expect("frame");
    write(&mut df, &tmp.path().join("t.parquet"));
    let sha = strata_data::parquet::checksum(&tmp.path().join("t.parquet")).expect("sha");
    for (method, extra) in [("standard", ""), ("min_max", "")] {
        let toml = format!(
            "[source]\nfile = \"t.parquet\"\nsha256 = \"{sha}\"\n[columns]\nid = \"id\"\nmetadata = [\"group\"]\n[scale]\nmethod = \"{method}\"\n{extra}"
        );
        let p = tmp.path().join(format!("{method}.toml"));
        std::fs::write(&p, toml).expect("descriptor");
        let d = Descriptor::from_path(&p).expect("parses");
        let mem = load(&d, &DataDirs::default()).expect("in memory");
        let s = strata_data::stream::open(&d, &DataDirs::default(), 701).expect("stream");
        assert_eq!(s.dropped, vec!["flat".to_string()]);
        assert_eq!(s.batches.columns, mem.dataset.feature_names(), "{method}");
        let mut rows: Vec<f64> = Vec::new();
        s.each_batch(&mut |b| {
            assert!(b.nrows() <= 701);
            rows.extend(b.iter());
            Ok(())
        })
        .expect("batches");
        let x = Array2::from_shape_vec((n, 3), rows).expect("shape");
        let gap = (&x - mem.dataset.features()).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(gap < 1e-12, "{method}: streamed and in-memory scaling differ by {gap}");
    }
    // Steps that need the whole table are refused by name.
    let m = pointing_at(&tmp.path().join("t.parquet"));
    let e = strata_data::stream::open(&m, &DataDirs::default(), 100).unwrap_err().to_string();
    assert!(e.contains("`[[derive]]`") && e.contains("`[[encode]]`") && e.contains("`[impute]`"), "{e}");
}
