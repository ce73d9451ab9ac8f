//! A descriptor's Parquet table prepared for fits streamed over batches of
//! rows: the feature columns (every column without another role, or the
//! listed `columns.features`), scaled as `[scale]` says with statistics of
//! one pass over the table. Only the steps that need no second look at the
//! table stream: `standard`, `min_max` or no scaling. De-duplication,
//! derived columns, imputation, encoding, clipping and robust scaling need
//! the whole table (or its quantiles) and are refused by name.

use crate::descriptor::{ConstantPolicy, Descriptor, ScaleMethod};
use crate::error::{DataError, Result};
use crate::locate::DataDirs;
use crate::parquet::ParquetBatches;
use ndarray::{Array2, ArrayView2};
use strata_core::AlgoError;
use strata_core::batches::RowBatches;

/// The streamed table: `(x - shift) / scale` column by column.
#[derive(Debug, Clone)]
pub struct StreamTable {
    pub batches: ParquetBatches,
    pub shift: Vec<f64>,
    pub scale: Vec<f64>,
    /// Constant columns dropped under `scale.constant = "drop"`.
    pub dropped: Vec<String>,
}

/// Column statistics of one pass, in row order (Welford), so the same bits
/// whatever the batch size.
struct Stats {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

fn stats(src: &ParquetBatches) -> Result<Stats> {
    let d = src.n_features();
    let mut s = Stats {
        n: 0.0,
        mean: vec![0.0; d],
        m2: vec![0.0; d],
        min: vec![f64::INFINITY; d],
        max: vec![f64::NEG_INFINITY; d],
    };
    // Every value is finite: reading a batch checks it.
    src.each_matrix(&mut |b| {
        for row in b.outer_iter() {
            s.n += 1.0;
            for (j, &v) in row.iter().enumerate() {
                let delta = v - s.mean[j];
                s.mean[j] += delta / s.n;
                s.m2[j] += delta * (v - s.mean[j]);
                s.min[j] = s.min[j].min(v);
                s.max[j] = s.max[j].max(v);
            }
        }
        Ok(())
    })?;
    Ok(s)
}

/// Locates and verifies the descriptor's data (a Parquet file or folder),
/// resolves the feature columns and computes the scaling in one pass.
pub fn open(descriptor: &Descriptor, dirs: &DataDirs, batch: usize) -> Result<StreamTable> {
    let path = dirs.locate(descriptor)?;
    if !crate::parquet::is_parquet(&path) {
        return Err(DataError::Polars {
            path,
            message: "a streamed fit reads Parquet (a *.parquet file or a folder of them); convert the table first".into(),
        });
    }
    crate::parquet::verify(&path, &descriptor.source.sha256)?;
    let mut refused = Vec::new();
    if descriptor.columns.dedup_key.is_some() {
        refused.push("`columns.dedup_key`");
    }
    if !descriptor.derive.is_empty() {
        refused.push("`[[derive]]`");
    }
    if !descriptor.impute.is_empty() {
        refused.push("`[impute]`");
    }
    if !descriptor.encode.is_empty() {
        refused.push("`[[encode]]`");
    }
    if descriptor.clip.is_some() {
        refused.push("`[clip]`");
    }
    if descriptor.scale.method == ScaleMethod::Robust {
        refused.push("`scale.method = \"robust\"`");
    }
    if !refused.is_empty() {
        return Err(DataError::NotStreamable {
            path: descriptor.path.clone(),
            keys: refused.join(", "),
        });
    }
    let all = crate::parquet::column_names(&path)?;
    let c = &descriptor.columns;
    let features: Vec<String> = match &c.features {
        Some(f) => f.clone(),
        None => all
            .iter()
            .filter(|n| {
                c.id.as_ref() != Some(*n)
                    && c.target.as_ref() != Some(*n)
                    && !c.drop.contains(n)
                    && !c.metadata.contains(n)
            })
            .cloned()
            .collect(),
    };
    if features.is_empty() {
        return Err(DataError::NoFeatures { path });
    }
    let table = ParquetBatches::open(&path, &features, batch)?;
    let s = stats(&table)?;
    let mut keep = Vec::new();
    let (mut shift, mut scale, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
    for (j, name) in features.iter().enumerate() {
        let (a, b) = match descriptor.scale.method {
            ScaleMethod::Standard => (s.mean[j], (s.m2[j] / s.n.max(1.0)).sqrt()),
            ScaleMethod::MinMax => (s.min[j], s.max[j] - s.min[j]),
            _ => (0.0, 1.0),
        };
        if b > 0.0 || descriptor.scale.method == ScaleMethod::None {
            keep.push(name.clone());
            shift.push(a);
            scale.push(b);
            continue;
        }
        match descriptor.scale.constant {
            ConstantPolicy::Error => {
                return Err(DataError::ConstantFeature {
                    path,
                    column: name.clone(),
                    value: s.mean[j],
                });
            }
            ConstantPolicy::Drop => {
                tracing::warn!(column = %name, "constant feature dropped");
                dropped.push(name.clone());
            }
        }
    }
    if keep.is_empty() {
        return Err(DataError::NoFeatures { path });
    }
    let batches = if dropped.is_empty() { table } else { ParquetBatches::open(&path, &keep, batch)? };
    Ok(StreamTable {
        batches,
        shift,
        scale,
        dropped,
    })
}

impl StreamTable {
    /// A batch of the file's feature columns, scaled.
    pub fn scaled(&self, b: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut x = b.to_owned();
        for (j, mut col) in x.columns_mut().into_iter().enumerate() {
            let (a, s) = (self.shift[j], self.scale[j]);
            col.mapv_inplace(|v| (v - a) / s);
        }
        x
    }
}

impl RowBatches for StreamTable {
    fn n_features(&self) -> usize {
        self.batches.n_features()
    }
    fn each_batch(
        &self,
        f: &mut dyn FnMut(ArrayView2<'_, f64>) -> std::result::Result<(), AlgoError>,
    ) -> std::result::Result<(), AlgoError> {
        self.batches.each_batch(&mut |b| f(self.scaled(b).view()))
    }
}
