//! Numeric columns of a Parquet file read in batches of rows (each batch a
//! slice read on its own, so memory holds one batch, not the table), and a
//! column of labels written back beside them.

use crate::error::{DataError, Result};
use ndarray::{Array2, ArrayView2};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use strata_core::AlgoError;
use strata_core::batches::RowBatches;

/// A Parquet file's numeric columns, delivered `batch` rows at a time.
#[derive(Debug, Clone)]
pub struct ParquetBatches {
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub batch: usize,
    pub rows: usize,
}

fn pq_error(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl ParquetBatches {
    /// Opens `path`; `columns` empty means every column (all must be numeric).
    pub fn open(path: &Path, columns: &[String], batch: usize) -> Result<ParquetBatches> {
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = ParquetReader::new(file);
        let rows = reader.num_rows().map_err(|e| pq_error(path, e))?;
        let schema = reader.schema().map_err(|e| pq_error(path, e))?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        let columns = if columns.is_empty() { names.clone() } else { columns.to_vec() };
        for c in &columns {
            if !names.contains(c) {
                return Err(pq_error(path, format!("no column `{c}`; the columns are {}", names.join(", "))));
            }
        }
        Ok(ParquetBatches {
            path: path.to_path_buf(),
            columns,
            batch: batch.max(1),
            rows,
        })
    }

    /// Rows `offset..offset + len` as a matrix.
    fn read(&self, offset: usize, len: usize) -> Result<Array2<f64>> {
        let file = std::fs::File::open(&self.path).map_err(|e| DataError::io(&self.path, e))?;
        let df = ParquetReader::new(file)
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((offset, len)))
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|e| pq_error(&self.path, e))?;
        let mut x = Array2::<f64>::zeros((df.height(), self.columns.len()));
        for (j, name) in self.columns.iter().enumerate() {
            let col = df
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| pq_error(&self.path, format!("column `{name}`: {e}")))?;
            let ca = col.f64().map_err(|e| pq_error(&self.path, e))?;
            for (i, v) in ca.iter().enumerate() {
                x[[i, j]] = v.ok_or_else(|| {
                    pq_error(&self.path, format!("column `{name}`, row {}: missing value", offset + i))
                })?;
            }
        }
        Ok(x)
    }
}

impl RowBatches for ParquetBatches {
    fn n_features(&self) -> usize {
        self.columns.len()
    }
    fn each_batch(
        &self,
        f: &mut dyn FnMut(ArrayView2<'_, f64>) -> std::result::Result<(), AlgoError>,
    ) -> std::result::Result<(), AlgoError> {
        let mut offset = 0;
        while offset < self.rows {
            let len = self.batch.min(self.rows - offset);
            let x = self.read(offset, len).map_err(|e| AlgoError::Other(e.to_string()))?;
            f(x.view())?;
            offset += len;
        }
        Ok(())
    }
}

/// Copies `src` to `dest` batch by batch with one more column of labels,
/// `labels(batch_matrix)` giving each batch's; at most one batch in memory.
pub fn write_with_labels(
    src: &ParquetBatches,
    dest: &Path,
    column: &str,
    labels: &mut dyn FnMut(ArrayView2<'_, f64>) -> std::result::Result<Vec<u32>, AlgoError>,
) -> Result<()> {
    let tmp = dest.with_extension("parquet.part");
    let file = std::fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    let mut writer: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>> = None;
    let mut pending = Some(ParquetWriter::new(file));
    let mut offset = 0;
    while offset < src.rows {
        let len = src.batch.min(src.rows - offset);
        let fd = std::fs::File::open(&src.path).map_err(|e| DataError::io(&src.path, e))?;
        let mut df = ParquetReader::new(fd)
            .with_slice(Some((offset, len)))
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|e| pq_error(&src.path, e))?;
        let x = src.read(offset, len)?;
        let l = labels(x.view()).map_err(|e| pq_error(&src.path, e))?;
        df.with_column(Column::new(column.into(), l))
            .map_err(|e| pq_error(dest, e))?;
        df.rechunk_mut();
        if writer.is_none() {
            let w = pending
                .take()
                .ok_or_else(|| pq_error(dest, "writer already started"))?
                .batched(&df.schema())
                .map_err(|e| pq_error(dest, e))?;
            writer = Some(w);
        }
        if let Some(w) = writer.as_mut() {
            w.write_batch(&df).map_err(|e| pq_error(dest, e))?;
        }
        offset += len;
    }
    if let Some(w) = writer {
        w.finish().map_err(|e| pq_error(dest, e))?;
    }
    std::fs::rename(&tmp, dest).map_err(|e| DataError::io(dest, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_the_file_in_order_and_labels_are_written_back() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("t.parquet");
        let n = 1000;
        let mut df = df!(
            "a" => (0..n).map(|i| i as f64).collect::<Vec<_>>(),
            "b" => (0..n).map(|i| (i % 7) as i64).collect::<Vec<_>>(),
            "name" => (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>(),
        )
        .expect("frame");
        ParquetWriter::new(std::fs::File::create(&p).expect("file"))
            .with_row_group_size(Some(128))
            .finish(&mut df)
            .expect("write");
        let src = ParquetBatches::open(&p, &["a".into(), "b".into()], 300).expect("open");
        assert_eq!(src.rows, n);
        let mut seen = Vec::new();
        src.each_batch(&mut |b| {
            assert!(b.nrows() <= 300);
            seen.extend(b.outer_iter().map(|r| (r[0], r[1])));
            Ok(())
        })
        .expect("batches");
        assert_eq!(seen.len(), n);
        assert!(seen.iter().enumerate().all(|(i, &(a, b))| a == i as f64 && b == (i % 7) as f64));
        let out = tmp.path().join("labelled.parquet");
        write_with_labels(&src, &out, "segment", &mut |b| Ok(b.outer_iter().map(|r| (r[1] as u32) % 3).collect()))
            .expect("write labels");
        let back = ParquetReader::new(std::fs::File::open(&out).expect("open")).finish().expect("read");
        assert_eq!(back.height(), n);
        let seg: Vec<u32> = back.column("segment").expect("segment").u32().expect("u32").into_no_null_iter().collect();
        assert!(seg.iter().enumerate().all(|(i, &s)| s == ((i % 7) as u32) % 3));
        assert_eq!(back.column("name").expect("name").str().expect("str").get(999), Some("r999"));
        let e = ParquetBatches::open(&p, &["zz".into()], 10).unwrap_err().to_string();
        assert!(e.contains("no column `zz`; the columns are a, b, name"), "{e}");
    }
}
