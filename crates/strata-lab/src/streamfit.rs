//! `strata stream-kmeans`: k-means on a table larger than memory. The
//! dataset descriptor points at a Parquet file or folder; the table is read
//! in batches of rows (scaled as the descriptor says, see
//! `strata_data::stream`), fitted by exact streamed Lloyd from a k-means||
//! start or by mini-batch k-means, and optionally copied with a column of
//! labels. Memory holds one batch, never the table.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_cluster::streaming::{MiniBatch, StreamingKMeans, assign_batches};
use strata_core::Seed;
use strata_core::batches::InMemory;
use strata_data::{DataDirs, Descriptor};

/// What the command was asked.
#[derive(Debug, Clone)]
pub struct StreamRequest {
    pub k: usize,
    pub batch_rows: usize,
    pub seed: u64,
    pub max_iter: usize,
    /// Mini-batch mode instead of exact Lloyd.
    pub mini_batch: Option<MiniBatch>,
    /// Start from k-means++ on about this many sampled rows instead of
    /// k-means|| (fewer passes).
    pub sample_start: Option<usize>,
    /// Where to write the table with its labels.
    pub labels_out: Option<PathBuf>,
    pub label_column: String,
}

/// One centre in the features' original units.
#[derive(Debug, Clone, Serialize)]
pub struct Centre {
    pub rows: usize,
    pub mean: Vec<(String, f64)>,
}

/// The outcome, printed as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    pub data: PathBuf,
    pub rows: usize,
    pub features: Vec<String>,
    pub dropped_constant: Vec<String>,
    pub scale: String,
    pub k: usize,
    pub mode: String,
    pub start: String,
    pub batch_rows: usize,
    pub seed: u64,
    /// Lloyd iterations, or mini-batch epochs.
    pub n_iter: usize,
    pub converged: bool,
    /// Passes over the table, the scaling statistics included.
    pub passes: usize,
    /// Sum of squared distances to the final centres, in the scaled space.
    pub inertia: f64,
    pub centres: Vec<Centre>,
    pub fit_seconds: f64,
    pub rows_per_second_per_pass: f64,
    pub labels: Option<PathBuf>,
    pub labels_seconds: Option<f64>,
    pub peak_rss_mb: f64,
}

/// Fits k-means to the descriptor's Parquet table and writes the labels.
pub fn run(descriptor: &Path, dirs: &DataDirs, req: &StreamRequest) -> anyhow::Result<StreamReport> {
    if req.label_column.is_empty() {
        anyhow::bail!("--label-column must not be empty");
    }
    let d = Descriptor::from_path(descriptor)?;
    let t = Instant::now();
    let table = strata_data::stream::open(&d, dirs, req.batch_rows)?;
    if let Some(out) = &req.labels_out {
        if touches_data(out, &table.batches) {
            anyhow::bail!(
                "--labels {} would overwrite the data or write into its folder; choose another path",
                out.display()
            );
        }
        // Before the fit, not after it.
        table
            .batches
            .check_label_column(&req.label_column)
            .map_err(|e| anyhow::anyhow!("--label-column {}: {e}", req.label_column))?;
    }
    let mut km = StreamingKMeans::new(req.k);
    km.max_iter = req.max_iter;
    let seed = Seed(req.seed);
    // Scaling statistics, then the start: k-means|| (size, first row, cost,
    // two per round, weights) or a sample (size, draw).
    let (init, start, start_passes) = match req.sample_start {
        None => (km.init_parallel(&table, seed)?, "k-means||".to_string(), 4 + 2 * km.rounds),
        Some(rows) => (
            km.init_sample(&table, seed, rows)?,
            format!("k-means++ on a sample of about {rows} rows"),
            2,
        ),
    };
    // Then the variance for the tolerance, the iterations, the final labels.
    let (fit, mode) = match &req.mini_batch {
        None => (km.fit_from(&table, init)?, "lloyd".to_string()),
        Some(mb) => (km.fit_mini_batch(&table, init, mb)?, format!("mini-batch of {} rows", mb.rows)),
    };
    let passes = 1 + start_passes + 2 + fit.n_iter;
    let fit_seconds = t.elapsed().as_secs_f64();
    let names = table.batches.columns.clone();
    let centres = fit
        .centers
        .outer_iter()
        .zip(&fit.sizes)
        .map(|(c, &rows)| Centre {
            rows,
            mean: names
                .iter()
                .enumerate()
                .map(|(j, n)| (n.clone(), c[j] * table.scale[j] + table.shift[j]))
                .collect(),
        })
        .collect();
    let mut labels_seconds = None;
    if let Some(out) = &req.labels_out {
        let t = Instant::now();
        let centers = fit.centers.clone();
        strata_data::write_with_labels(&table.batches, out, &req.label_column, &mut |b| {
            let x = table.scaled(b);
            let mut l = Vec::with_capacity(x.nrows());
            assign_batches(&InMemory { x: x.view(), batch: x.nrows() }, &centers, &mut |part| {
                l.extend_from_slice(part);
                Ok(())
            })?;
            Ok(l)
        })?;
        labels_seconds = Some(t.elapsed().as_secs_f64());
    }
    Ok(StreamReport {
        data: table.batches.path.clone(),
        rows: fit.rows,
        features: names,
        dropped_constant: table.dropped.clone(),
        scale: format!("{:?}", d.scale.method).to_lowercase(),
        k: req.k,
        mode,
        start,
        batch_rows: req.batch_rows,
        seed: req.seed,
        n_iter: fit.n_iter,
        converged: fit.converged,
        passes,
        inertia: fit.inertia,
        centres,
        fit_seconds,
        rows_per_second_per_pass: (fit.rows * passes) as f64 / fit_seconds.max(1e-9),
        labels: req.labels_out.clone(),
        labels_seconds,
        peak_rss_mb: strata_core::peak_rss_mb(),
    })
}

/// Whether writing `out` would replace a data file, the data folder, or add a
/// file to the data folder (which would change the folder's checksum).
fn touches_data(out: &Path, data: &strata_data::ParquetBatches) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    // An output that does not exist yet is compared through its folder.
    let out = match (out.parent(), out.file_name()) {
        (Some(dir), Some(name)) if !out.exists() => {
            canonical(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }).join(name)
        }
        _ => canonical(out),
    };
    let root = canonical(&data.path);
    out == root
        || (data.path.is_dir() && out.starts_with(&root))
        || data.files.iter().any(|(f, _)| canonical(f) == out)
}
