//! What the binary-level tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `strata` binary with `args`, run in `dir`, without the caller's data
/// folder or log settings leaking in.
#[allow(dead_code)] // real_data keeps the caller's data folder and builds its own
pub fn strata_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
    c.args(args)
        .current_dir(dir)
        .env_remove("STRATA_DATA_DIR")
        .env_remove("RUST_LOG");
    c
}

/// The workspace root, where the tests run the binary as a user would.
#[allow(dead_code)] // not every test crate that shares this module calls it
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The `strata` binary with `args`, run from the workspace root.
#[allow(dead_code)]
pub fn strata_at_root(args: &[&str]) -> Output {
    strata_command(&workspace(), args).output().expect("run strata")
}

/// The standard output of a run that must succeed (else its errors).
#[allow(dead_code)]
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The error output of a run that must fail, and not by a panic.
#[allow(dead_code)]
pub fn err(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!e.contains("panicked"), "{e}");
    e
}

/// The ids `strata similar` lists, in rank order: the bracketed field of
/// each ranked line (the last bracket, as a name may hold one).
#[allow(dead_code)]
pub fn ranked_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.rsplit('[').next().and_then(|r| r.split(']').next()))
        .map(str::to_string)
        .collect()
}
