//! `cargo xtask`: workflows for users and developers of strata.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use strata_lab::cli::SweepArgs;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "strata workflows: run the experiment sweep"
)]
struct Xtask {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run every experiment manifest in experiments/ (or those given), store
    /// the runs, then write summaries and reports. Stored runs are skipped.
    Sweep {
        /// Manifests to run; all of experiments/*.toml when none are given.
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        sweep: SweepArgs,
    },
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> std::process::ExitCode {
    let x = Xtask::parse();
    strata_lab::cli::init_logging(x.verbose);
    let result = match x.command {
        Task::Sweep {
            manifests,
            mut sweep,
        } => {
            let root = workspace_root();
            if sweep.out == Path::new("results") {
                sweep.out = root.join("results");
            }
            let manifests = if manifests.is_empty() {
                strata_lab::sweep::manifests_in(&root.join("experiments"))
            } else {
                Ok(manifests)
            };
            manifests.and_then(|m| strata_lab::cli::run_and_report(&m, &sweep))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
