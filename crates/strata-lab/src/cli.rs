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
    /// Run experiment manifests (stored runs are skipped), then write summaries and reports.
    Run {
        /// Experiment manifests (TOML) to run.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        sweep: SweepArgs,
    },
    /// Combine result folders (e.g. the shards of one sweep) into one.
    Merge {
        /// Folder to merge into.
        into: PathBuf,
        /// Result folders to merge from.
        #[arg(required = true)]
        from: Vec<PathBuf>,
    },
    /// Compare two experiments (manifests or result folders).
    Compare {
        /// The first experiment: its manifest, or its result folder.
        a: PathBuf,
        /// The second experiment: its manifest, or its result folder.
        b: PathBuf,
        /// Results folder holding the manifests' results.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "markdown")]
        format: CompareFormat,
    },
    /// Write report.html and report.md for a results folder (one experiment or all under it).
    Report {
        /// One experiment's result folder, or a folder of them (e.g. results).
        results: PathBuf,
    },
    /// Rows nearest to a given one in any experiment's catalogue: tracks
    /// that sound like a track, customers like a customer (the features
    /// only, never the metadata shown).
    Similar {
        /// The row's id, or its name when a name column is shown.
        query: String,
        /// How many neighbours (at least 1). A negative number is read as
        /// a value, so the parser names what it expects.
        #[arg(short, default_value_t = 10, allow_negative_numbers = true, value_parser = at_least_one)]
        n: usize,
        /// Only rows of the query's segment in the chosen clustering.
        #[arg(long)]
        same_segment: bool,
        /// Search this representation (a label or algorithm name from the
        /// manifest, or `chosen`) instead of the one measured best.
        #[arg(long)]
        representation: Option<String>,
        /// The experiment whose chosen representation and clustering are searched.
        #[arg(long, default_value = "experiments/spotify_songs.toml")]
        experiment: PathBuf,
        /// Results folder holding the experiment's results.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else the files shipped beside the descriptor).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Metadata column holding the row's name, matched by the query
        /// [default: the descriptor's `[display] name`; without one, queries are ids].
        #[arg(long)]
        name_column: Option<String>,
        /// Metadata column shown after the name as "by ..." (a track's artist)
        /// [default: the descriptor's `[display] by`; without one, not shown].
        #[arg(long, visible_alias = "by-column")]
        artist_column: Option<String>,
        /// Metadata column shown beside each row (a track's genre)
        /// [default: the descriptor's `[display] group`; without one, not shown].
        #[arg(long, visible_alias = "group-column")]
        genre_column: Option<String>,
        /// Metadata column of a number shown beside each row, never searched on
        /// [default: the descriptor's `[display] popularity`, else the
        /// manifest's `[similarity] popularity`; without either, not shown].
        #[arg(long)]
        popularity_column: Option<String>,
    },
    /// Plan a randomised campaign test per segment of the chosen segmentation:
    /// customers per arm, cost, and a seeded stratified assignment.
    PlanTest {
        /// The experiment's manifest (its results must be in --out).
        manifest: PathBuf,
        /// Lift to detect, in absolute terms (0.05 = five percentage points).
        // Negative numbers reach the checks, which name what is expected,
        // instead of being taken for flags.
        #[arg(
            long,
            allow_negative_numbers = true,
            conflicts_with = "relative_lift",
            required_unless_present = "relative_lift"
        )]
        lift: Option<f64>,
        /// Lift to detect, relative to the control arm's rate (0.2 = a fifth
        /// more responders with contact than without).
        #[arg(long, allow_negative_numbers = true)]
        relative_lift: Option<f64>,
        /// Which arm a segment's response rate in the data stands for:
        /// `treated` when the data record answers to a campaign sent to
        /// every customer (the control arm's rate is then that rate less
        /// the lift), `control` when they came without contact (the treated
        /// arm's rate is that rate plus the lift).
        #[arg(long, value_enum, default_value = "treated")]
        rate_in_data: crate::abtest::RateInData,
        /// Which rates the customers per arm are sized at: the segment's
        /// response rate in the data (`point`), or that rate and 21 rates
        /// spanning its 95 % Wilson interval, ends included, taking the
        /// largest size (`interval`: the planned power holds across the
        /// interval of the true rate).
        #[arg(long, value_enum, default_value = "point")]
        size_for: crate::abtest::SizeFor,
        /// Significance level of the two-sided test.
        #[arg(long, allow_negative_numbers = true, default_value_t = 0.05)]
        alpha: f64,
        /// Power to detect the lift.
        #[arg(long, allow_negative_numbers = true, default_value_t = 0.8)]
        power: f64,
        /// Seed of the assignment (default: the manifest's).
        #[arg(long)]
        seed: Option<u64>,
        /// Strata of the test: the chosen segmentation, or quartiles of the MLP's ranked list.
        #[arg(long, value_enum, default_value = "segments")]
        by: TestStrata,
        /// Results folder holding the manifest's results.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else the files shipped beside the descriptor).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Plan a new test where one is already planned: the current plan,
        /// assignment and reading move to campaign_test/replaced/N/ (a test
        /// already planned is otherwise kept, since it may be in the field)
        #[arg(long)]
        replace: bool,
    },
    /// Read a campaign test's results (id, responded[, arm]) against its plan:
    /// uplift, profit per contact and a decision per segment.
    ReadTest {
        /// The experiment's manifest (its test plan must be in --out).
        manifest: PathBuf,
        /// The test's outcomes: a CSV with the id column, `responded` (1/0,
        /// true/false or yes/no) and optionally `arm`.
        results: PathBuf,
        /// Results folder holding the manifest's results.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// The results are final: customers without a result will never
        /// have one, so every segment is read at the planned level
        /// (otherwise a segment with results still to come is an interim
        /// look, decided only past the Haybittle-Peto boundary)
        #[arg(long = "final")]
        final_results: bool,
    },
    /// Score a file of customers with the MLP's ranked list, fitted on every
    /// labelled customer as held-out targeting judges it: score, rank and
    /// whether to contact each one, written as contact_list.csv.
    ContactList {
        /// The experiment's manifest (its held-out targeting must be in --out).
        manifest: PathBuf,
        /// Customers to score (CSV or Parquet with the dataset's columns; the target and economics may be absent).
        #[arg(long)]
        customers: PathBuf,
        /// Results folder: the list goes to <out>/<experiment>/contact_list/, and the held-out figure is read from there.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else the files shipped beside the descriptor).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// At most this many contacts (at least 1): the best of the threshold's list, never a customer below the threshold; the summary quotes the held-out profit of capped lists.
        #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
        budget: Option<usize>,
    },
    /// k-means on a Parquet table larger than memory, read in batches of
    /// rows: exact Lloyd from a k-means|| start (or mini-batch k-means),
    /// labels written back as a column; prints the fit as JSON.
    StreamKmeans {
        /// Dataset descriptor whose `source.file` is a .parquet file or a folder of them.
        descriptor: PathBuf,
        /// Number of clusters (at least 1).
        #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
        k: usize,
        /// Rows read at a time (memory holds one batch; at least 1).
        #[arg(long, default_value_t = 500_000, allow_negative_numbers = true, value_parser = at_least_one)]
        batch_rows: usize,
        /// Seed of the start (the same seed gives the same labels).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Lloyd iterations (or mini-batch epochs) at most (at least 1).
        #[arg(long, default_value_t = 300, allow_negative_numbers = true, value_parser = at_least_one)]
        max_iter: usize,
        /// Mini-batch k-means with this many rows per mini-batch instead of exact Lloyd.
        #[arg(long)]
        mini_batch: Option<usize>,
        /// Start from k-means++ on about this many rows drawn in one pass,
        /// instead of k-means|| (a dozen passes).
        #[arg(long, value_name = "ROWS")]
        sample_start: Option<usize>,
        /// Copy the table here (a file, or a folder for a folder) with a column of labels.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Name of the labels column.
        #[arg(long, default_value = "segment")]
        label_column: String,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else beside the descriptor).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Segment profiles of an experiment's chosen clustering (a manifest or a result folder).
    Segments {
        /// The experiment: its manifest, or its result folder.
        experiment: PathBuf,
        /// Results folder holding the manifest's results.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// A count of at least 1; a negative number, 0 or a word gets an error
/// naming what is expected (with `allow_negative_numbers`, a negative one is
/// read as a value, not taken for a flag). clap's own range parser printed
/// "0 is not in 1..9223372036854775807".
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| format!("{n} is more than this machine can count ({})", usize::MAX)),
        _ => Err(format!("expected a whole number of at least 1, got `{s}`")),
    }
}

/// Options shared by `strata run` and `cargo xtask sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Results folder.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else the files shipped beside the descriptor).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Recompute runs that are already stored.
    #[arg(long)]
    pub force: bool,
    /// Run only shard I of N (I from 0), chosen by run hash; merge shards with `strata merge`.
    #[arg(long, value_parser = crate::sweep::parse_shard, value_name = "I/N")]
    pub shard: Option<(u64, u64)>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Delete stored run files that the manifest no longer plans (runs of an earlier manifest, descriptor or strata version).
    #[arg(long)]
    pub prune: bool,
}

impl SweepArgs {
    /// The sweep's options. Without `--shard`, an array task of Slurm,
    /// Kubernetes or AWS Batch gives the shard through its environment
    /// ([`crate::sweep::shard_from_env`]); the choice is printed.
    pub fn options(&self) -> anyhow::Result<crate::sweep::SweepOptions> {
        let mut o =
            crate::sweep::SweepOptions::new(&self.out, DataDirs::from_env(self.data_dir.clone()));
        o.force = self.force;
        o.shard = self.shard;
        if o.shard.is_none()
            && let Some((shard, from)) =
                crate::sweep::shard_from_env(&|k: &str| std::env::var(k).ok()).map_err(|e| anyhow::anyhow!(e))?
        {
            eprintln!("{from}");
            tracing::info!("{from}");
            o.shard = Some(shard);
        }
        o.progress = !self.quiet;
        Ok(o)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompareFormat {
    Markdown,
    Json,
    Csv,
}

/// Runs manifests and prints one line per experiment; an error if any run
/// failed to store or any manifest's data file is missing (the others run).
pub fn run_and_report(manifests: &[PathBuf], args: &SweepArgs) -> anyhow::Result<()> {
    let registry = crate::registry::Registry::standard();
    let swept = crate::sweep::sweep_available(manifests, &registry, &args.options()?)?;
    for o in &swept.outcomes {
        let shards = if o.other_shards > 0 {
            format!(", {} left to other shards", o.other_shards)
        } else {
            String::new()
        };
        println!(
            "{}: {} runs: {} computed ({} failed), {} already stored{shards} -> {}",
            o.name,
            o.total,
            o.computed,
            o.failed,
            o.reused,
            o.dir.display()
        );
        if let Some(c) = o.classification {
            println!("  classification: {c}");
        }
        // Listing stale runs never fails a sweep whose runs are stored.
        let orphans = crate::store::orphan_runs(&o.dir).unwrap_or_else(|e| {
            eprintln!("  cannot look for stale runs: {e:#}");
            Vec::new()
        });
        if !orphans.is_empty() {
            if args.prune {
                for p in &orphans {
                    std::fs::remove_file(p).map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", p.display()))?;
                }
                println!("  pruned {} stored runs the manifest no longer plans", orphans.len());
            } else {
                let (runs, them) = if orphans.len() == 1 { ("run", "it") } else { ("runs", "them") };
                println!(
                    "  {} stored {runs} in runs/ the manifest no longer plans (an earlier manifest, descriptor or strata version; every report ignores {them}): --prune deletes {them}",
                    orphans.len()
                );
            }
        }
        if o.decisions_left {
            println!(
                "  segments, targeting, cohorts and similar tracks need every run: after `strata merge`, run the sweep once more on the merged folder (it reuses every run)"
            );
        }
        if o.damaged_replaced > 0 {
            println!(
                "  {} damaged run file(s) were computed again",
                o.damaged_replaced
            );
        }
        for w in &o.written {
            println!("  wrote {}", w.display());
        }
    }
    match swept.missing_data_error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TestStrata {
    /// The segments of the chosen segmentation.
    Segments,
    /// Quartiles of the MLP's predicted response.
    Mlp,
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
        /// The dataset's descriptor (TOML).
        descriptor: PathBuf,
        /// Folder holding the data files (else STRATA_DATA_DIR, else datasets/cache, else the files shipped beside the descriptor).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The checksum a descriptor's `source.sha256` takes for a data path: a
    /// file's SHA-256, or for a folder of Parquet files the SHA-256 of its
    /// `<sha256>  <name>` lines in name order.
    Checksum {
        /// A data file, or a folder of Parquet files.
        path: PathBuf,
    },
    /// Download data files that have a public URL into the cache, verifying their SHA-256.
    Fetch {
        /// Dataset descriptors (TOML) whose files to download.
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
                    // Without --dest, a verified copy wherever a run would
                    // read it (STRATA_DATA_DIR, the cache, beside the
                    // descriptor) needs no download.
                    if dest.is_none()
                        && let Ok(found) = strata_data::available(&d, &DataDirs::from_env(None))
                    {
                        return Ok(Fetched::AlreadyPresent(found));
                    }
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
        Command::Data {
            command: DataCommand::Checksum { path },
        } => {
            if strata_data::is_parquet(&path) {
                println!("{}", strata_data::parquet::checksum(&path)?);
            } else {
                // A compressed file's checksum is that of its uncompressed bytes.
                let (bytes, _) = strata_data::compress::read_file(&path)?;
                println!("{}", strata_data::locate::sha256_bytes(&bytes));
            }
        }
        Command::StreamKmeans {
            descriptor,
            k,
            batch_rows,
            seed,
            max_iter,
            mini_batch,
            sample_start,
            labels,
            label_column,
            data_dir,
        } => {
            let req = crate::streamfit::StreamRequest {
                k,
                batch_rows,
                seed,
                max_iter,
                mini_batch: mini_batch.map(|rows| strata_cluster::streaming::MiniBatch { rows, epochs: max_iter }),
                sample_start,
                labels_out: labels,
                label_column,
            };
            let report = crate::streamfit::run(&descriptor, &DataDirs::from_env(data_dir), &req)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Run { manifests, sweep } => run_and_report(&manifests, &sweep)?,
        Command::Merge { into, from } => {
            let o = crate::store::merge(&into, &from)?;
            println!(
                "merged {} experiment(s) into {}: {} run(s) copied, {} already present",
                o.experiments.len(),
                into.display(),
                o.copied,
                o.already_present
            );
            for d in &o.damaged {
                eprintln!("skipped damaged file: {d}");
            }
            for e in &o.experiments {
                let res = crate::store::ExperimentResults::read(&into.join(e))?;
                for w in crate::report::write(&res)? {
                    println!("  wrote {}", w.display());
                }
            }
        }
        Command::Compare { a, b, out, format } => {
            let c = crate::compare::compare_paths(&a, &b, &out)?;
            match format {
                CompareFormat::Markdown => print!("{}", c.markdown()),
                CompareFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
                CompareFormat::Csv => print!("{}", c.csv()),
            }
        }
        Command::Segments {
            experiment,
            out,
            format,
        } => {
            let res = crate::compare::resolve(&experiment, &out)?;
            let Some(seg) = &res.segments else {
                anyhow::bail!(
                    "{}: no segments.json: no run has a silhouette to choose from, or the sweep predates segment profiles; run the sweep again",
                    res.dir.display()
                );
            };
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(seg)?),
                Format::Text => {
                    println!(
                        "{}: {} on {}\nchosen because: {}",
                        seg.experiment, seg.clusterer, seg.representation, seg.reason
                    );
                    if let Some(t) = res.runs.iter().find(|r| r.hash == seg.run).and_then(crate::selection::structure) {
                        println!("structure: {t}");
                    }
                    for (k, v) in &seg.agreement {
                        println!("agreement with descriptive labels: {k} {v:.3}");
                    }
                    println!();
                    print!("{}", crate::segments::render(&seg.cards));
                }
            }
        }
        Command::Similar {
            query,
            n,
            same_segment,
            representation,
            experiment,
            out,
            data_dir,
            name_column,
            artist_column,
            genre_column,
            popularity_column,
        } => {
            let flags = strata_data::descriptor::DisplayColumns {
                name: name_column,
                by: artist_column,
                group: genre_column,
                popularity: popularity_column,
            };
            let (cat, note) =
                crate::similar_catalogue(
                    &experiment,
                    &out,
                    &DataDirs::from_env(data_dir),
                    &flags,
                    representation.as_deref(),
                )?;
            if let Some(n) = note {
                eprintln!("{n}");
            }
            if same_segment && cat.segments.is_none() {
                anyhow::bail!(
                    "--same-segment needs the experiment's results (run the sweep first)"
                );
            }
            let of = cat.find(&query).map_err(|e| anyhow::anyhow!(e))?;
            let t = std::time::Instant::now();
            let found = cat.nearest(of, n, same_segment);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            print!("{}", cat.render(of, &found));
            println!("\n({} {} searched in {ms:.1} ms)", cat.ids.len(), cat.noun[1]);
        }
        Command::PlanTest {
            manifest,
            lift,
            relative_lift,
            rate_in_data,
            size_for,
            alpha,
            power,
            seed,
            by,
            out,
            data_dir,
            replace,
        } => {
            let lift = match (lift, relative_lift) {
                (Some(l), None) => crate::abtest::Lift::Absolute(l),
                (None, Some(r)) => crate::abtest::Lift::Relative(r),
                _ => anyhow::bail!("give one of --lift and --relative-lift"),
            };
            let design = crate::abtest::Design { alpha, power, lift, rate_in_data, size_for };
            design.check().map_err(|e| anyhow::anyhow!(e))?;
            let dirs = DataDirs::from_env(data_dir);
            let mut c = crate::abtest::chosen(&manifest, &out, &dirs)?;
            if let TestStrata::Mlp = by {
                crate::abtest::by_mlp_quartiles(&mut c, &manifest, &dirs)?;
            }
            let (plan, written, moved) = crate::abtest::plan_files(&c, design, seed.map(strata_core::Seed), replace)?;
            if let Some(m) = moved {
                println!("moved the test planned before to {}", m.display());
            }
            print!("{}", crate::abtest::render_plan(&plan));
            let res = crate::store::ExperimentResults::read(&c.dir)?;
            for w in written.iter().chain(crate::report::write(&res)?.iter()) {
                println!("wrote {}", w.display());
            }
        }
        Command::ReadTest {
            manifest,
            results,
            out,
            final_results,
        } => {
            let res = crate::compare::resolve(&manifest, &out)?;
            let (reading, path) = crate::abtest::read_files(&res.dir, &results, final_results)?;
            print!("{}", crate::abtest::render_reading(&reading));
            let res = crate::store::ExperimentResults::read(&res.dir)?;
            for w in std::iter::once(path).chain(crate::report::write(&res)?) {
                println!("wrote {}", w.display());
            }
        }
        Command::ContactList {
            manifest,
            customers,
            out,
            data_dir,
            budget,
        } => {
            let dirs = DataDirs::from_env(data_dir);
            let list = crate::contact::build(&manifest, &customers, &out, &dirs, budget)?;
            print!("{}", crate::contact::render(&list));
            let path = crate::contact::write(&list, &out.join(&list.experiment).join(crate::contact::FOLDER))?;
            println!("wrote {}", path.display());
        }
        Command::Report { results } => {
            let folders = crate::store::ExperimentResults::folders(&results);
            if folders.is_empty() {
                anyhow::bail!(
                    "{}: no experiment results (no plan.json) found",
                    results.display()
                );
            }
            for f in folders {
                let res = crate::store::ExperimentResults::read(&f)?;
                for d in &res.damaged {
                    eprintln!("skipped damaged run file: {d}");
                }
                for w in crate::report::write(&res)? {
                    println!("wrote {}", w.display());
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand, argument and option of `strata` says what it is in
    /// `--help` (clap's own checks of the definitions run too).
    #[test]
    fn every_argument_has_help() {
        let mut cmd = Cli::command();
        cmd.build();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", c.get_name());
            for a in c.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path}: {}", a.get_id()));
                }
            }
            for s in c.get_subcommands() {
                if s.get_name() != "help" {
                    if s.get_about().is_none() {
                        missing.push(format!("{path} {}: no description", s.get_name()));
                    }
                    walk(s, &path, missing);
                }
            }
        }
        walk(&cmd, "", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
