//! What the binary-level tests share.

use std::path::Path;
use std::process::Command;

/// The `strata` binary with `args`, run in `dir`, without the caller's data
/// folder or log settings leaking in.
pub fn strata_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
    c.args(args)
        .current_dir(dir)
        .env_remove("STRATA_DATA_DIR")
        .env_remove("RUST_LOG");
    c
}
