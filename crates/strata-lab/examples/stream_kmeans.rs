//! A Parquet table larger than memory, for the measurement of
//! `strata stream-kmeans` in crates/strata-cluster/README.md:
//!
//!     cargo run -p strata-lab --example stream_kmeans -- generate /tmp/big.parquet 20000000 20
//!     cargo run -p strata-lab --bin strata -- stream-kmeans /tmp/big.toml --k 10
//!
//! `generate` writes a synthetic table (10 shifted blobs plus hashed noise,
//! the formula of strata-cluster's bench) in batches, and beside it a
//! dataset descriptor (`big.toml`: the checksum, no scaling) pointing at it;
//! it prints the rows, seconds, bytes and the peak resident memory (VmHWM).

use ndarray::Array2;
use polars::prelude::*;
use std::time::Instant;

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
                    w = Some(pending.take().ok_or("writer")?.batched(df.schema())?);
                }
                if let Some(w) = w.as_mut() {
                    w.write_batch(&df)?;
                }
                start += len;
            }
            if let Some(w) = w {
                w.finish()?;
            }
            let descriptor = path.with_extension("toml");
            std::fs::write(
                &descriptor,
                format!(
                    "# {n} x {d} synthetic rows: 10 blobs plus noise (crates/strata-lab/examples/stream_kmeans.rs)\n\
                     [source]\nfile = \"{}\"\nsha256 = \"{}\"\n[scale]\nmethod = \"none\"\n",
                    path.display(),
                    strata_data::parquet::checksum(&path)?
                ),
            )?;
            println!(
                "{{\"rows\": {n}, \"cols\": {d}, \"seconds\": {:.1}, \"bytes\": {}, \"peak_rss_mb\": {:.0}}}",
                t.elapsed().as_secs_f64(),
                std::fs::metadata(&path)?.len(),
                strata_core::peak_rss_mb()
            );
        }
        _ => {
            eprintln!("usage: stream_kmeans generate PATH.parquet ROWS COLS");
            std::process::exit(2);
        }
    }
    Ok(())
}
