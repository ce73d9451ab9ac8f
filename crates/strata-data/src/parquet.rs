//! Parquet data: a `.parquet` file or a folder of them (read in file-name
//! order) as one table. Read whole for the usual in-memory load
//! ([`read_table`]), or its numeric columns in batches of rows (each batch a
//! slice read on its own, so memory holds one batch, not the table), with a
//! column of labels written back beside them.

use crate::error::{DataError, Result};
use ndarray::{Array2, ArrayView2};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use strata_core::AlgoError;
use strata_core::batches::RowBatches;

/// Whether a data path is Parquet: a folder, or a file named `*.parquet`.
pub fn is_parquet(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The files of a Parquet path: itself, or a folder's `*.parquet` files in
/// name order (an error when there is none).
pub fn files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| DataError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(pq_error(path, "the folder holds no *.parquet file"));
    }
    Ok(out)
}

/// The checksum a descriptor gives for a Parquet path: a file's SHA-256, or
/// for a folder the SHA-256 of the lines `<sha256>  <file name>\n` of its
/// files in name order (what `sha256sum *.parquet | sha256sum` prints inside
/// it). `strata data checksum PATH` prints it.
pub fn checksum(path: &Path) -> Result<String> {
    if !path.is_dir() {
        return Ok(crate::locate::sha256_file(path)?.0);
    }
    let mut lines = String::new();
    for f in files(path)? {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        lines.push_str(&format!("{}  {name}\n", crate::locate::sha256_file(&f)?.0));
    }
    Ok(crate::locate::sha256_bytes(lines.as_bytes()))
}

/// Fails with [`DataError::ChecksumMismatch`] unless the Parquet path's
/// [`checksum`] is `expected`.
pub fn verify(path: &Path, expected: &str) -> Result<()> {
    let actual = checksum(path)?;
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(DataError::ChecksumMismatch {
        path: path.to_path_buf(),
        expected: expected.to_lowercase(),
        actual,
        bytes: files(path)?.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum(),
    })
}

fn pq_error(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn open_reader(path: &Path) -> Result<ParquetReader<std::fs::File>> {
    Ok(ParquetReader::new(std::fs::File::open(path).map_err(|e| DataError::io(path, e))?))
}

/// The whole table, every column as text (as a CSV file is read), rows
/// numbered from 1 across the files in order. The files must share their
/// column names and order.
pub fn read_table(path: &Path) -> Result<crate::RawTable> {
    let mut frame: Option<DataFrame> = None;
    for f in files(path)? {
        let df = open_reader(&f)?.finish().map_err(|e| pq_error(&f, e))?;
        let text: Vec<Column> = df
            .columns()
            .iter()
            .map(|c| c.cast(&DataType::String))
            .collect::<PolarsResult<_>>()
            .map_err(|e| pq_error(&f, e))?;
        let df = DataFrame::new_infer_height(text).map_err(|e| pq_error(&f, e))?;
        frame = Some(match frame {
            None => df,
            Some(mut acc) => {
                if acc.get_column_names() != df.get_column_names() {
                    return Err(pq_error(
                        &f,
                        format!(
                            "its columns ({}) differ from the folder's first file ({})",
                            df.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "),
                            acc.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                acc.vstack_mut(&df).map_err(|e| pq_error(&f, e))?;
                acc
            }
        });
    }
    let frame = frame.ok_or_else(|| pq_error(path, "no file"))?;
    let mut table = crate::RawTable::from_frame(path, frame);
    // Parquet has rows, not lines (messages name the row only) nor delimiter.
    table.lines = vec![0; table.height()];
    table.dialect.delimiter = 0;
    Ok(table)
}

/// The column names of a Parquet path (its first file's, for a folder).
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    let first = files(path)?.into_iter().next().ok_or_else(|| pq_error(path, "no file"))?;
    let schema = open_reader(&first)?.schema().map_err(|e| pq_error(&first, e))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// A Parquet table's numeric columns, delivered `batch` rows at a time
/// (a batch never spans two files).
#[derive(Debug, Clone)]
pub struct ParquetBatches {
    /// The file or folder.
    pub path: PathBuf,
    /// Each file and its rows.
    pub files: Vec<(PathBuf, usize)>,
    pub columns: Vec<String>,
    pub batch: usize,
    pub rows: usize,
}

impl ParquetBatches {
    /// Opens `path` (a file or a folder); `columns` empty means every column.
    /// Every chosen column must be numeric in every file.
    pub fn open(path: &Path, columns: &[String], batch: usize) -> Result<ParquetBatches> {
        let mut found = Vec::new();
        let mut chosen: Option<Vec<String>> = None;
        for f in files(path)? {
            let mut reader = open_reader(&f)?;
            let rows = reader.num_rows().map_err(|e| pq_error(&f, e))?;
            let schema = reader.schema().map_err(|e| pq_error(&f, e))?;
            let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
            let cols = chosen.get_or_insert_with(|| if columns.is_empty() { names.clone() } else { columns.to_vec() });
            for c in cols.iter() {
                let Some(field) = schema.get(c.as_str()) else {
                    return Err(pq_error(&f, format!("no column `{c}`; the columns are {}", names.join(", "))));
                };
                let dtype = DataType::from_arrow_field(field);
                if !dtype.is_primitive_numeric() && !dtype.is_bool() {
                    return Err(pq_error(
                        &f,
                        format!("column `{c}` is {dtype}, not numeric; give it a role (drop, metadata, id) or list the features"),
                    ));
                }
            }
            found.push((f, rows));
        }
        Ok(ParquetBatches {
            path: path.to_path_buf(),
            rows: found.iter().map(|(_, r)| r).sum(),
            files: found,
            columns: chosen.unwrap_or_default(),
            batch: batch.max(1),
        })
    }

    /// Rows `offset..offset + len` of file `file` (whose first row is row
    /// `first` of the table) as a matrix.
    fn read(&self, file: &Path, first: usize, offset: usize, len: usize) -> Result<Array2<f64>> {
        let df = open_reader(file)?
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((offset, len)))
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|e| pq_error(file, e))?;
        self.matrix(&df, file, first, offset)
    }

    /// The chosen columns of a slice already read (rows `offset..` of
    /// `file`, whose first row is row `first` of the table) as a matrix; a
    /// missing or non-finite value is an error naming its column and row.
    fn matrix(&self, df: &DataFrame, file: &Path, first: usize, offset: usize) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros((df.height(), self.columns.len()));
        for (j, name) in self.columns.iter().enumerate() {
            let col = df
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| pq_error(file, format!("column `{name}`: {e}")))?;
            let ca = col.f64().map_err(|e| pq_error(file, e))?;
            for (i, v) in ca.iter().enumerate() {
                let problem = match v {
                    Some(v) if v.is_finite() => {
                        x[[i, j]] = v;
                        continue;
                    }
                    Some(v) => format!("the value {v} is not finite"),
                    None => "missing value".to_string(),
                };
                let (in_file, in_table) = (offset + i + 1, first + offset + i + 1);
                return Err(DataError::StreamValue {
                    path: file.to_path_buf(),
                    column: name.clone(),
                    at: if in_file == in_table {
                        format!("row {in_file}")
                    } else {
                        format!("row {in_file} of this file (row {in_table} of the table)")
                    },
                    problem,
                });
            }
        }
        Ok(x)
    }

    /// Every batch in order as a matrix, until `f` fails, with the errors of
    /// reading it as they are ([`RowBatches::each_batch`] turns them into
    /// algorithm errors).
    pub(crate) fn each_matrix(&self, f: &mut dyn FnMut(ArrayView2<'_, f64>) -> Result<()>) -> Result<()> {
        self.visit(&mut |file, first, offset, len| f(self.read(file, first, offset, len)?.view()))
    }

    /// Fails when a file of the table already has a column named `column`:
    /// a labelled copy would replace it.
    pub fn check_label_column(&self, column: &str) -> Result<()> {
        for (f, _) in &self.files {
            let schema = open_reader(f)?.schema().map_err(|e| pq_error(f, e))?;
            if schema.iter_names().any(|n| n.as_str() == column) {
                return Err(DataError::LabelColumnTaken {
                    path: f.clone(),
                    column: column.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Every batch in order with its file and the offset inside it.
    fn visit(&self, f: &mut dyn FnMut(&Path, usize, usize, usize) -> Result<()>) -> Result<()> {
        let mut first = 0;
        for (file, rows) in &self.files {
            let mut offset = 0;
            while offset < *rows {
                let len = self.batch.min(rows - offset);
                f(file, first, offset, len)?;
                offset += len;
            }
            first += rows;
        }
        Ok(())
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
        let mut inner: Option<AlgoError> = None;
        let outer = self.each_matrix(&mut |x| {
            f(x).map_err(|e| {
                let msg = e.to_string();
                inner = Some(e);
                DataError::Internal(msg)
            })
        });
        match (inner, outer) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(AlgoError::Other(e.to_string())),
            (None, Ok(())) => Ok(()),
        }
    }
}

/// Labels of one batch, computed from its matrix.
pub type LabelsOf<'a> = dyn FnMut(ArrayView2<'_, f64>) -> std::result::Result<Vec<u32>, AlgoError> + 'a;

/// Copies the table to `dest` batch by batch with one more column of
/// labels, `labels(batch_matrix)` giving each batch's; at most one batch in
/// memory. A folder is copied to a folder of the same file names; each file
/// appears only when complete.
pub fn write_with_labels(
    src: &ParquetBatches,
    dest: &Path,
    column: &str,
    labels: &mut LabelsOf<'_>,
) -> Result<()> {
    src.check_label_column(column)?;
    let folder = src.path.is_dir();
    // The destination's folders are made as needed.
    let dir = if folder { Some(dest) } else { dest.parent().filter(|p| !p.as_os_str().is_empty()) };
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
    }
    let target = |file: &Path| -> PathBuf {
        if folder { dest.join(file.file_name().unwrap_or_default()) } else { dest.to_path_buf() }
    };
    let mut writer: Option<(PathBuf, polars::io::parquet::write::BatchedWriter<std::fs::File>)> = None;
    let finish = |w: Option<(PathBuf, polars::io::parquet::write::BatchedWriter<std::fs::File>)>| -> Result<()> {
        if let Some((out, w)) = w {
            let tmp = out.with_extension("parquet.part");
            w.finish().map_err(|e| pq_error(&out, e))?;
            std::fs::rename(&tmp, &out).map_err(|e| DataError::write(&out, e))?;
        }
        Ok(())
    };
    src.visit(&mut |file, first, offset, len| {
        let out = target(file);
        if writer.as_ref().is_some_and(|(o, _)| *o != out) {
            finish(writer.take())?;
        }
        let mut df = open_reader(file)?
            .with_slice(Some((offset, len)))
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|e| pq_error(file, e))?;
        // The feature columns from the slice just read, not a second read.
        let x = src.matrix(&df, file, first, offset)?;
        let l = labels(x.view()).map_err(|e| pq_error(file, e))?;
        df.with_column(Column::new(column.into(), l)).map_err(|e| pq_error(&out, e))?;
        df.rechunk_mut();
        if writer.is_none() {
            let tmp = out.with_extension("parquet.part");
            let fd = std::fs::File::create(&tmp).map_err(|e| DataError::write(&tmp, e))?;
            let w = ParquetWriter::new(fd).batched(df.schema()).map_err(|e| pq_error(&out, e))?;
            writer = Some((out.clone(), w));
        }
        if let Some((_, w)) = writer.as_mut() {
            w.write_batch(&df).map_err(|e| pq_error(&out, e))?;
        }
        Ok(())
    })?;
    finish(writer)
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
        // A labels column named like one of the table's, and a destination
        // whose folder cannot be made: refused, named, nothing written.
        let mut none = |b: ArrayView2<'_, f64>| Ok(vec![0u32; b.nrows()]);
        let e = write_with_labels(&src, &tmp.path().join("x.parquet"), "name", &mut none).unwrap_err().to_string();
        assert!(e.ends_with("t.parquet: already has a column `name`; give the labels column another name"), "{e}");
        let e = write_with_labels(&src, &p.join("x.parquet"), "segment", &mut none).unwrap_err().to_string();
        assert!(e.starts_with(&format!("cannot write {}", p.display())), "{e}");
        assert!(!tmp.path().join("x.parquet").exists());
    }

    fn write(p: &Path, a: Vec<Option<f64>>) {
        let n = a.len();
        let mut df = df!("a" => a, "b" => (0..n).map(|i| i as f64).collect::<Vec<_>>()).expect("frame");
        ParquetWriter::new(std::fs::File::create(p).expect("file")).finish(&mut df).expect("write");
    }

    /// Reads every batch the way the streamed fit's first pass does.
    fn first_pass(path: &Path, batch: usize) -> Result<()> {
        ParquetBatches::open(path, &["a".into(), "b".into()], batch)?.each_matrix(&mut |_| Ok(()))
    }

    #[test]
    fn a_missing_or_non_finite_value_is_named_by_column_and_row() {
        let tmp = tempfile::tempdir().expect("tmp");
        let one = tmp.path().join("one.parquet");
        let mut a: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64)).collect();
        a[6] = None;
        write(&one, a.clone());
        // Row 7, whatever batch it falls in.
        for batch in [1, 4, 100] {
            let e = first_pass(&one, batch).unwrap_err().to_string();
            assert!(e.contains("one.parquet: column `a`, row 7: missing value; a streamed fit reads every value"), "{e}");
        }
        // A folder: rows are counted in the file and in the table.
        let dir = tmp.path().join("parts");
        std::fs::create_dir(&dir).expect("dir");
        write(&dir.join("part-0.parquet"), (0..5).map(|i| Some(i as f64)).collect());
        a[6] = Some(f64::INFINITY);
        write(&dir.join("part-1.parquet"), a);
        let e = first_pass(&dir, 3).unwrap_err().to_string();
        assert!(
            e.contains("part-1.parquet: column `a`, row 7 of this file (row 12 of the table): the value inf is not finite"),
            "{e}"
        );
    }
}
