//! Compressed data files through descriptors: found under `NAME.gz` /
//! `NAME.zst`, verified against the checksum of the uncompressed bytes, read
//! with the same dialect detection and the same line-numbered errors as plain
//! files. Also the search order, ending with the descriptor's own folder.

use std::io::Write;
use std::path::Path;
use strata_data::{DataDirs, Descriptor, load};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 19).expect("zstd")
}

fn descriptor(dir: &Path, file: &str, body: &[u8]) -> Descriptor {
    let text = format!(
        "[source]\nfile = \"{file}\"\nsha256 = \"{}\"\n[columns]\nid = \"id\"\nmetadata = [\"note\"]\n",
        strata_data::locate::sha256_bytes(body)
    );
    Descriptor::from_toml(&text, &dir.join("d.toml")).expect("descriptor")
}

/// Semicolon-separated with quoted fields spanning lines: sniffing and line
/// numbers must see the uncompressed text.
const TABLE: &[u8] = b"id;x;note\n1;0.5;\"two\nlines\"\n2;1.5;plain\n3;2.5;\"a; b\"\n";

fn no_env() -> DataDirs {
    DataDirs::default()
}

#[test]
fn gzip_and_zstd_load_like_the_plain_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let plain_dir = tmp.path().join("plain");
    std::fs::create_dir_all(&plain_dir).expect("dir");
    std::fs::write(plain_dir.join("t.csv"), TABLE).expect("write");
    let plain = load(&descriptor(&plain_dir, "t.csv", TABLE), &no_env()).expect("plain");
    for (suffix, bytes) in [("gz", gzip(TABLE)), ("zst", zstd(TABLE))] {
        let dir = tmp.path().join(suffix);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(format!("t.csv.{suffix}")), &bytes).expect("write");
        let l = load(&descriptor(&dir, "t.csv", TABLE), &no_env()).expect(suffix);
        assert_eq!(l.dataset.features(), plain.dataset.features(), "{suffix}");
        assert_eq!(l.dataset.ids(), plain.dataset.ids(), "{suffix}");
        assert_eq!(l.report.delimiter, "semicolon", "{suffix}");
        assert!(
            l.report.file.ends_with(format!("t.csv.{suffix}")),
            "{suffix}: {}",
            l.report.file.display()
        );
        // A descriptor may also name the compressed file itself.
        let named = format!("t.csv.{suffix}");
        let l = load(&descriptor(&dir, &named, TABLE), &no_env()).expect(&named);
        assert_eq!(l.dataset.features(), plain.dataset.features(), "{named}");
    }
}

#[test]
fn errors_in_a_compressed_file_name_the_line() {
    // Row 3 starts on line 5 (row 1 spans lines 2 and 3) and has 2 fields of 3.
    let bad: &[u8] = b"id;x;note\n1;0.5;\"two\nlines\"\n2;1.5;plain\n3;2.5\n";
    for (suffix, bytes) in [("gz", gzip(bad)), ("zst", zstd(bad))] {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join(format!("t.csv.{suffix}")), &bytes).expect("write");
        let e = load(&descriptor(tmp.path(), "t.csv", bad), &no_env())
            .expect_err("ragged")
            .to_string();
        assert!(e.contains(&format!("t.csv.{suffix}")), "{e}");
        assert!(e.contains("line 5"), "{e}");
    }
}

#[test]
fn checksum_is_that_of_the_uncompressed_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gz = gzip(TABLE);
    std::fs::write(tmp.path().join("t.csv.gz"), &gz).expect("write");
    // A descriptor carrying the checksum of the compressed bytes is refused.
    let e = load(&descriptor(tmp.path(), "t.csv", &gz), &no_env())
        .expect_err("compressed checksum")
        .to_string();
    assert!(e.contains("SHA-256 mismatch") && e.contains("uncompressed"), "{e}");
    // A damaged archive is named as such.
    std::fs::write(tmp.path().join("t.csv.gz"), &gz[..gz.len() / 2]).expect("write");
    let e = load(&descriptor(tmp.path(), "t.csv", TABLE), &no_env())
        .expect_err("truncated")
        .to_string();
    assert!(e.contains("t.csv.gz") && e.contains("not a valid gzip file"), "{e}");
}

#[test]
fn search_order_ends_with_the_descriptors_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let shipped = tmp.path().join("datasets");
    let explicit = tmp.path().join("explicit");
    let env = tmp.path().join("env");
    for d in [&shipped, &explicit, &env, &shipped.join("cache")] {
        std::fs::create_dir_all(d).expect("dir");
    }
    let d = descriptor(&shipped, "t.csv", TABLE);
    let dirs = DataDirs {
        explicit: Some(explicit.clone()),
        env: Some(env.clone()),
        cache: None,
    };
    let expect = |p: &Path| assert_eq!(dirs.locate(&d).expect("found"), p);
    // Only the shipped, compressed copy: found last of all.
    std::fs::write(shipped.join("t.csv.gz"), gzip(TABLE)).expect("write");
    expect(&shipped.join("t.csv.gz"));
    // A plain copy in the shipped folder comes before its compressed form.
    std::fs::write(shipped.join("t.csv"), TABLE).expect("write");
    expect(&shipped.join("t.csv"));
    // The cache comes before the shipped folder, the environment before the
    // cache, --data-dir before everything.
    std::fs::write(shipped.join("cache/t.csv.zst"), zstd(TABLE)).expect("write");
    expect(&shipped.join("cache/t.csv.zst"));
    std::fs::write(env.join("t.csv"), TABLE).expect("write");
    expect(&env.join("t.csv"));
    std::fs::write(explicit.join("t.csv.gz"), gzip(TABLE)).expect("write");
    expect(&explicit.join("t.csv.gz"));
    // Nothing anywhere: every place is named, the shipped folder included.
    let empty = tempfile::tempdir().expect("tmp");
    let d = descriptor(empty.path(), "t.csv", TABLE);
    let e = DataDirs::default().locate(&d).expect_err("missing").to_string();
    for name in ["t.csv", "t.csv.gz", "t.csv.zst"] {
        assert!(
            e.contains(&empty.path().join(name).display().to_string()),
            "{e}"
        );
        assert!(
            e.contains(&empty.path().join("cache").join(name).display().to_string()),
            "{e}"
        );
    }
}
