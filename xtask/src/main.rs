//! `cargo xtask`: workflows for users and developers of strata.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use strata_data::DataDirs;

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
    /// Run every experiment manifest in experiments/ (or those given) and store the results.
    Sweep {
        /// Manifests to run; all of experiments/*.toml when none are given.
        manifests: Vec<PathBuf>,
        /// Results folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache).
        #[arg(long)]
        data_dir: Option<PathBuf>,
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
    match x.command {
        Task::Sweep {
            manifests,
            out,
            data_dir,
        } => {
            let root = workspace_root();
            let manifests = if manifests.is_empty() {
                match strata_lab::sweep::manifests_in(&root.join("experiments")) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("error: {e:#}");
                        return std::process::ExitCode::FAILURE;
                    }
                }
            } else {
                manifests
            };
            let out = out.unwrap_or_else(|| root.join("results"));
            let (ok, failed) =
                strata_lab::sweep::sweep(&manifests, &out, &DataDirs::from_env(data_dir));
            for o in &ok {
                println!(
                    "ok      {} ({}): {} rows x {} features -> {}",
                    o.name,
                    o.manifest.display(),
                    o.rows,
                    o.features,
                    out.join(&o.name).display()
                );
            }
            for (m, e) in &failed {
                eprintln!("failed  {}: {e}", m.display());
            }
            println!(
                "{} manifest(s) run, {} failed; results in {}",
                ok.len() + failed.len(),
                failed.len(),
                out.display()
            );
            if failed.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
