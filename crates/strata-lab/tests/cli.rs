//! The `strata` binary on good and bad input: every bad input gets a message
//! naming the file and the key or row, a non-zero exit, and never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn sha256(bytes: &[u8]) -> String {
    strata_data::locate::sha256_bytes(bytes)
}

/// Writes `data.csv` and `data.toml` (with `extra` TOML appended and the right
/// checksum) into `dir`.
fn setup(dir: &Path, csv: &str, extra: &str) {
    std::fs::write(dir.join("data.csv"), csv).expect("write csv");
    let toml = format!(
        "[source]\nfile = \"data.csv\"\nsha256 = \"{}\"\n{extra}",
        sha256(csv.as_bytes())
    );
    std::fs::write(dir.join("data.toml"), toml).expect("write toml");
}

mod common;

fn strata(dir: &Path, args: &[&str]) -> Output {
    common::strata_command(dir, args)
        .output()
        .expect("run strata")
}

fn inspect(dir: &Path) -> Output {
    strata(dir, &["data", "inspect", "data.toml", "--data-dir", "."])
}

/// Asserts failure with every `needle` in stderr.
fn fails_with(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in stderr:\n{err}");
    }
}

fn case(csv: &str, extra: &str, needles: &[&str]) {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), csv, extra);
    fails_with(&inspect(tmp.path()), needles);
}

#[test]
fn good_input_is_inspected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let csv =
        "id;grp;x;when;y\r\n1;a;1.5;01-02-2020;0\r\n2;b;2.5;03-02-2020;1\r\n3;a;;05-02-2020;0\r\n";
    let extra = "[columns]\nid = \"id\"\ntarget = \"y\"\n[impute]\nx = \"mean\"\n[[encode]]\ncolumn = \"grp\"\n\
                 [[derive]]\nname = \"days\"\nkind = \"days_since\"\nfrom = \"when\"\nformat = \"%d-%m-%Y\"\n";
    setup(tmp.path(), &format!("\u{feff}{csv}"), extra);
    let out = inspect(tmp.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in [
        "semicolon-separated, UTF-8 BOM removed, CRLF line ends",
        "before    3 rows x 5 columns",
        "after     3 rows x 4 features",
        "y: 1 positive, 2 negative (33.3 % positive)",
        "x: imputed 1 missing with mean 2",
        "days: derived as days from `when` to 2020-02-05",
    ] {
        assert!(text.contains(n), "`{n}` not in:\n{text}");
    }
    let json = strata(
        tmp.path(),
        &[
            "data",
            "inspect",
            "data.toml",
            "--data-dir",
            ".",
            "--format",
            "json",
        ],
    );
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["rows"], 3);
    assert_eq!(v["target"][1], 1);
}

#[test]
fn unknown_descriptor_key_suggests_the_closest() {
    case(
        "a,b\n1,2\n",
        "[scale]\nmethdo = \"standard\"\n",
        &["data.toml:5:1: unknown key `methdo`; did you mean `method`?"],
    );
    case(
        "a,b\n1,2\n",
        "[impute]\na = \"medain\"\n",
        &["data.toml:5:5", "did you mean `median`?"],
    );
}

#[test]
fn absent_column_lists_the_columns_present() {
    case(
        "Response,v\n1,2\n0,3\n",
        "[columns]\ntarget = \"Respons\"\n",
        &[
            "data.toml",
            "`columns.target` names column `Respons`",
            "did you mean `Response`?",
            "columns present: Response, v",
        ],
    );
}

#[test]
fn non_numeric_value_names_row_and_value() {
    case(
        "a,b\n1,2\n3,x7\n",
        "",
        &[
            "data.csv",
            "row 2 (line 3), column `b`: `x7` is not a number",
        ],
    );
}

#[test]
fn unparseable_date_names_row_and_format() {
    let extra =
        "[[derive]]\nname = \"d\"\nkind = \"days_since\"\nfrom = \"t\"\nformat = \"%d-%m-%Y\"\n";
    case(
        "t,v\n01-01-2014,1\n2014-13-01,2\n",
        extra,
        &[
            "data.csv",
            "row 2 (line 3), column `t`: `2014-13-01` is not a date in format `%d-%m-%Y`",
        ],
    );
}

#[test]
fn empty_and_header_only_files() {
    case("", "", &["data.csv", "the file is empty"]);
    case(
        "a,b,c\n",
        "",
        &["data.csv", "has a header but no data rows"],
    );
}

#[test]
fn ragged_row_names_the_line() {
    case(
        "a,b,c\n1,2,3\n4,5\n",
        "",
        &["data.csv", "line 3: 2 fields, but the header has 3"],
    );
}

#[test]
fn constant_feature_dropped_with_warning_or_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), "a,c\n1,7\n2,7\n3,7\n", "");
    let out = inspect(tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: c: constant in the data: dropped"),
        "{text}"
    );
    assert!(text.contains("after     3 rows x 1 features"), "{text}");
    case(
        "a,c\n1,7\n2,7\n",
        "[scale]\nconstant = \"error\"\n",
        &["feature `c` is constant (7)"],
    );
}

#[test]
fn checksum_mismatch_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), "a,b\n1,2\n", "");
    std::fs::write(tmp.path().join("data.csv"), "a,b\n1,3\n").expect("tamper");
    fails_with(
        &inspect(tmp.path()),
        &["data.csv: SHA-256 mismatch: expected", "8 bytes"],
    );
}

#[test]
fn missing_file_names_every_place_looked() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(
        tmp.path(),
        "a,b\n1,2\n",
        "page = \"https://example.org/get-it\"\n",
    );
    std::fs::remove_file(tmp.path().join("data.csv")).expect("rm");
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["data", "inspect", "data.toml", "--data-dir", "nowhere"])
        .current_dir(tmp.path())
        .env("STRATA_DATA_DIR", "elsewhere")
        .output()
        .expect("run");
    fails_with(
        &out,
        &[
            "`data.csv` not found",
            "nowhere/data.csv",
            "elsewhere/data.csv",
            "cache/data.csv",
            "expected SHA-256",
            "https://example.org/get-it",
        ],
    );
}

#[test]
fn non_binary_target_lists_values() {
    case(
        "y,v\n0,1\n2,2\n1,3\n",
        "[columns]\ntarget = \"y\"\n",
        &[
            "target `y` must be binary",
            "`0`, `1`, `2`",
            "the first other value, `2`, is at row 2 (line 3)",
        ],
    );
}

#[test]
fn run_writes_the_inspection() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path(), "a,b\n1,2\n3,5\n0,1\n", "");
    std::fs::write(
        tmp.path().join("exp.toml"),
        "dataset = \"data.toml\"\nseed = 3\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[evaluation]\nstability_resamples = 0\n",
    )
    .expect("manifest");
    let out = strata(
        tmp.path(),
        &[
            "run",
            "exp.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("res/exp/inspect.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(report["features"], 2);
    std::fs::write(tmp.path().join("bad.toml"), "datset = \"data.toml\"\n").expect("manifest");
    fails_with(
        &strata(tmp.path(), &["run", "bad.toml"]),
        &["bad.toml:1:1: unknown key `datset`; did you mean `dataset`?"],
    );
}

/// `strata data checksum` prints what a descriptor's `source.sha256` must
/// hold: a plain file's SHA-256, a compressed file's uncompressed bytes',
/// a Parquet folder's lines hash (`sha256sum *.parquet | sha256sum`); a
/// missing path is an error naming it.
#[test]
fn data_checksum_prints_what_a_descriptor_needs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let body = b"a,b\n1,2\n";
    std::fs::write(dir.join("t.csv"), body).expect("csv");
    std::fs::create_dir(dir.join("parts")).expect("dir");
    std::fs::write(dir.join("parts/a.parquet"), b"first").expect("a");
    std::fs::write(dir.join("parts/b.parquet"), b"second").expect("b");
    let printed = |path: &str| {
        let out = strata(dir, &["data", "checksum", path]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(printed("t.csv"), sha256(body));
    // The shipped Spotify file is gzip: its checksum is the descriptor's.
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    let d = strata_data::Descriptor::from_path(ws.join("spotify_songs.toml")).expect("descriptor");
    assert_eq!(printed(&ws.join("spotify_songs.csv.gz").display().to_string()), d.source.sha256);
    // From coreutils, in a folder of these two files: `sha256sum *.parquet | sha256sum`.
    assert_eq!(printed("parts"), "9c2c9e32d227e5245be20241f36a73f84bceb6be71789b8edbc5ad041d05dca2");
    fails_with(&strata(dir, &["data", "checksum", "nope.csv"]), &["nope.csv"]);
}

/// `data fetch` downloads nothing when a verified copy is where a run reads
/// it (beside the descriptor here, gzip-compressed as the repository ships
/// a file), and tries the download when that copy is damaged.
#[test]
fn data_fetch_finds_a_verified_copy_before_downloading() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let body = b"a,b\n1,2\n3,4\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).expect("gzip");
    std::fs::write(dir.join("data.csv.gz"), gz.finish().expect("gzip")).expect("write");
    // Nothing listens on port 9 of the loopback: a download would fail.
    std::fs::write(
        dir.join("d.toml"),
        format!("[source]\nfile = \"data.csv\"\nsha256 = \"{}\"\nurl = \"http://127.0.0.1:9/data.csv\"\n", sha256(body)),
    )
    .expect("descriptor");
    let out = strata(dir, &["data", "fetch", "d.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("data.csv.gz: already present and verified"), "{said}");
    assert!(!dir.join("cache").exists(), "nothing downloaded");
    // A damaged copy is not taken for the data: the download is tried.
    std::fs::write(dir.join("data.csv.gz"), b"not gzip").expect("damage");
    fails_with(&strata(dir, &["data", "fetch", "d.toml"]), &["download of http://127.0.0.1:9/data.csv failed"]);
}

/// A file that cannot be read is named with the reason, said once (the
/// reason was printed twice when it was both in the message and its cause).
#[test]
fn unreadable_files_name_the_reason_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        &["data", "inspect", "absent.toml"][..],
        &["run", "absent.toml"][..],
    ] {
        let out = strata(tmp.path(), args);
        fails_with(&out, &["cannot read absent.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches("(os error").count(), 1, "{args:?}: {err}");
    }
}
