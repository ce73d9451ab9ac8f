//! The `strata` command line.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use strata_data::{DataDirs, Descriptor, Fetched};

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Segments without labels: load, reduce, cluster, judge and act on customer and catalogue tables"
)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dataset descriptors and data files.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Run one experiment manifest.
    Run {
        manifest: PathBuf,
        /// Results folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Load a dataset, apply its recipe and report what every step did.
    Inspect {
        descriptor: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Download data files that have a public URL into the cache, verifying their SHA-256.
    Fetch {
        #[arg(required = true)]
        descriptors: Vec<PathBuf>,
        /// Download into this folder instead of the cache beside the descriptor.
        #[arg(long)]
        dest: Option<PathBuf>,
    },
}

/// Sets up logging: warnings by default, more with -v, RUST_LOG wins.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Runs a parsed command; output goes to stdout, errors are returned.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data {
            command:
                DataCommand::Inspect {
                    descriptor,
                    data_dir,
                    format,
                },
        } => {
            let d = Descriptor::from_path(&descriptor)?;
            let loaded = crate::obtain(&d, &DataDirs::from_env(data_dir), false)?;
            match format {
                Format::Text => print!("{}", crate::inspect::render(&loaded)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&loaded.report)?),
            }
        }
        Command::Data {
            command: DataCommand::Fetch { descriptors, dest },
        } => {
            let mut failures = 0;
            for path in descriptors {
                let result = Descriptor::from_path(&path).and_then(|d| {
                    let dir = dest
                        .clone()
                        .unwrap_or_else(|| DataDirs::default().cache_dir(&d));
                    strata_data::fetch(&d, &dir)
                });
                match result {
                    Ok(Fetched::AlreadyPresent(p)) => {
                        println!("{}: already present and verified", p.display())
                    }
                    Ok(Fetched::Downloaded { path, bytes }) => println!(
                        "{}: downloaded {bytes} bytes, SHA-256 verified",
                        path.display()
                    ),
                    Err(e) => {
                        eprintln!("error: {e}");
                        failures += 1;
                    }
                }
            }
            if failures > 0 {
                anyhow::bail!("{failures} file(s) could not be fetched");
            }
        }
        Command::Run {
            manifest,
            out,
            data_dir,
        } => {
            let o = crate::sweep::run_manifest(&manifest, &out, &DataDirs::from_env(data_dir))?;
            println!("{}: {} rows x {} features", o.name, o.rows, o.features);
            for w in o.written {
                println!("  wrote {}", w.display());
            }
        }
    }
    Ok(())
}

/// Entry point of the `strata` binary: parse, run, print one clear error.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match execute(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
