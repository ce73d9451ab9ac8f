//! k-means on a Parquet table larger than memory, for the measurement in
//! crates/strata-cluster/README.md:
//!
//!     cargo run -p strata-lab --example stream_kmeans -- generate /tmp/big.parquet 20000000 20
//!     cargo run -p strata-lab --example stream_kmeans -- fit /tmp/big.parquet 10 500000 [labels.parquet]
//!
//! `generate` writes a synthetic table (10 shifted blobs plus hashed noise,
//! the formula of strata-cluster's bench) in batches; `fit` streams
//! k-means|| and Lloyd over it in batches of rows, optionally writes the
//! labels back as a Parquet column, and prints rows, passes, seconds, rows
//! per second and the peak resident memory (VmHWM) of the process.

use ndarray::Array2;
use polars::prelude::*;
use std::time::Instant;
use strata_cluster::streaming::{StreamingKMeans, assign_batches};
use strata_core::Seed;

fn synthetic(start: usize, n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |(r, j)| {
        let i = (start + r) as u64;
        let h = (i.wrapping_mul(2654435761).wrapping_add((j as u64).wrapping_mul(40503))) % (1u64 << 32);
        let u = h as f64 / 4294967296.0 - 0.5;
        ((start + r) % 10) as f64 * ((j + 1) as f64 * 0.7).sin() * 3.0 + u
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("generate") => {
            let path = std::path::PathBuf::from(&a[2]);
            let (n, d): (usize, usize) = (a[3].parse()?, a[4].parse()?);
            let t = Instant::now();
            let file = std::fs::File::create(&path)?;
            let mut w: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>> = None;
            let mut pending = Some(ParquetWriter::new(file));
            let batch = 500_000;
            let mut start = 0;
            while start < n {
                let len = batch.min(n - start);
                let x = synthetic(start, len, d);
                let cols: Vec<Column> = (0..d)
                    .map(|j| Column::new(format!("x{j}").into(), x.column(j).to_vec()))
                    .collect();
                let df = DataFrame::new_infer_height(cols)?;
                if w.is_none() {
                    w = Some(pending.take().ok_or("writer")?.batched(&df.schema())?);
                }
                if let Some(w) = w.as_mut() {
                    w.write_batch(&df)?;
                }
                start += len;
            }
            if let Some(w) = w {
                w.finish()?;
            }
            println!(
                "{{\"rows\": {n}, \"cols\": {d}, \"seconds\": {:.1}, \"bytes\": {}, \"peak_rss_mb\": {:.0}}}",
                t.elapsed().as_secs_f64(),
                std::fs::metadata(&path)?.len(),
                strata_core::peak_rss_mb()
            );
        }
        Some("fit") => {
            let path = std::path::PathBuf::from(&a[2]);
            let (k, batch): (usize, usize) = (a[3].parse()?, a[4].parse()?);
            let src = strata_data::ParquetBatches::open(&path, &[], batch)?;
            let t = Instant::now();
            let km = StreamingKMeans::new(k);
            let fit = km.fit(&src, Seed(1))?;
            let secs = t.elapsed().as_secs_f64();
            // Passes: k-means|| (size, first row, cost, 2 per round, weights),
            // Lloyd (variance, one per iteration, the final labels).
            let passes = 4 + 2 * km.rounds + 2 + fit.n_iter;
            let mut out = format!(
                "{{\"rows\": {}, \"cols\": {}, \"k\": {k}, \"batch\": {batch}, \"n_iter\": {}, \"passes\": {passes}, \"seconds\": {secs:.1}, \"rows_per_s\": {:.0}, \"inertia\": {}, \"sizes\": {:?}",
                fit.rows,
                src.columns.len(),
                fit.n_iter,
                (fit.rows * passes) as f64 / secs,
                fit.inertia,
                fit.sizes
            );
            if let Some(dest) = a.get(5) {
                let t = Instant::now();
                let centers = fit.centers.clone();
                strata_data::write_with_labels(&src, std::path::Path::new(dest), "segment", &mut |b| {
                    let mut l = Vec::new();
                    assign_batches(&strata_core::batches::InMemory { x: b, batch: b.nrows() }, &centers, &mut |x| {
                        l.extend_from_slice(x);
                        Ok(())
                    })?;
                    Ok(l)
                })?;
                out.push_str(&format!(", \"labels_seconds\": {:.1}", t.elapsed().as_secs_f64()));
            }
            println!("{out}, \"peak_rss_mb\": {:.0}}}", strata_core::peak_rss_mb());
        }
        _ => {
            eprintln!("usage: stream_kmeans generate PATH ROWS COLS | fit PATH K BATCH [LABELS.parquet]");
            std::process::exit(2);
        }
    }
    Ok(())
}
