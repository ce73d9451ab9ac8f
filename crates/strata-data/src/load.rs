//! Loading a dataset: locate, verify, read, de-duplicate, fit the recipe.

use crate::csv::{RawTable, read_table_bytes};
use crate::descriptor::{Amount, Descriptor};
use crate::error::{DataError, Result};
use crate::locate::{DataDirs, verify_bytes};
use crate::recipe::{FittedRecipe, StepNote, note};
use ndarray::{Array1, Array2};
use polars::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use strata_core::{BinaryTarget, Dataset, Economics};

/// Summary of one model feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSummary {
    pub name: String,
    /// Missing cells in the source column before imputation.
    pub missing: usize,
    /// In original units (after imputation and clipping, before scaling).
    pub min: f64,
    pub mean: f64,
    pub max: f64,
    /// After scaling.
    pub scaled_mean: f64,
    pub scaled_sd: f64,
}

/// What loading found and did, for `strata data inspect` and reports.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub file: PathBuf,
    /// SHA-256 the file was verified against; empty when the caller of
    /// [`load_table`] did not verify it.
    pub sha256: String,
    pub delimiter: String,
    pub had_bom: bool,
    pub crlf: bool,
    pub raw_rows: usize,
    pub raw_columns: usize,
    pub dedup_key: Option<String>,
    /// Rows removed because their dedup key repeated an earlier row.
    pub duplicates_removed: usize,
    /// Rows whose feature vector equals an earlier row's (after preprocessing).
    pub duplicate_feature_rows: usize,
    pub rows: usize,
    pub features: usize,
    /// `(positives, total)` of the target, when there is one.
    pub target: Option<(String, usize, usize)>,
    pub feature_summaries: Vec<FeatureSummary>,
    pub notes: Vec<StepNote>,
}

/// A loaded dataset with everything needed to interpret and re-apply it.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub descriptor: Descriptor,
    pub dataset: Dataset,
    /// The features in original units (same columns as `dataset`).
    pub unscaled: Array2<f64>,
    /// Descriptive columns (`columns.metadata`), one row per dataset row.
    pub metadata: DataFrame,
    pub recipe: FittedRecipe,
    pub report: LoadReport,
    /// The rows as read (after de-duplication), every column as text: what
    /// [`LoadedDataset::prepare_rows`] fits a fresh recipe on.
    pub table: RawTable,
}

/// One set of rows prepared by a recipe fitted on some rows
/// ([`LoadedDataset::prepare_rows_named`]).
#[derive(Debug, Clone)]
pub struct PreparedRows {
    /// Model features, scaled.
    pub features: Array2<f64>,
    /// The same columns in original units (after imputation, clipping and encoding).
    pub unscaled: Array2<f64>,
}

/// What [`LoadedDataset::prepare_rows_named`] returns: the fresh recipe's
/// column names, the rows it was fitted on, and each set it was applied to.
#[derive(Debug, Clone)]
pub struct RowsPrepared {
    pub names: Vec<String>,
    pub fit: PreparedRows,
    pub applied: Vec<PreparedRows>,
}

/// Checks the descriptor's data at `path` against its SHA-256: a Parquet
/// file or folder in place (`None`), a text file by its uncompressed bytes,
/// whatever the file's storage, which are returned for reading.
fn verified_bytes(descriptor: &Descriptor, path: &std::path::Path) -> Result<Option<(Vec<u8>, crate::compress::Compression)>> {
    if crate::parquet::is_parquet(path) {
        crate::parquet::verify(path, &descriptor.source.sha256)?;
        return Ok(None);
    }
    let (bytes, compression) = crate::compress::read_file(path)?;
    verify_bytes(path, &bytes, &descriptor.source.sha256)?;
    Ok(Some((bytes, compression)))
}

/// Where the descriptor's data is found (see [`DataDirs::locate`]), once
/// verified against its SHA-256.
pub fn available(descriptor: &Descriptor, dirs: &DataDirs) -> Result<std::path::PathBuf> {
    let path = dirs.locate(descriptor)?;
    verified_bytes(descriptor, &path)?;
    Ok(path)
}

/// Locates and verifies the descriptor's data file and reads every row as
/// the file has them (before de-duplication), every column as text.
pub fn read_raw(descriptor: &Descriptor, dirs: &DataDirs) -> Result<RawTable> {
    let path = dirs.locate(descriptor)?;
    let Some((bytes, compression)) = verified_bytes(descriptor, &path)? else {
        let table = crate::parquet::read_table(&path)?;
        tracing::info!(file = %path.display(), format = "parquet", rows = table.height(), "read");
        return Ok(table);
    };
    let delimiter = descriptor
        .source
        .delimiter
        .as_deref()
        .and_then(crate::csv::delimiter_byte);
    let table = read_table_bytes(&path, &bytes, delimiter)?;
    tracing::info!(file = %path.display(), compression = compression.name(), rows = table.height(), "read");
    Ok(table)
}

/// Locates, verifies and loads the descriptor's data file.
pub fn load(descriptor: &Descriptor, dirs: &DataDirs) -> Result<LoadedDataset> {
    let table = read_raw(descriptor, dirs)?;
    let mut loaded = load_table(descriptor, table)?;
    // The bytes read were just checked against the descriptor's checksum.
    loaded.report.sha256 = descriptor.source.sha256.to_lowercase();
    Ok(loaded)
}

/// Loads from a table already read (the checksum is the caller's business).
pub fn load_table(descriptor: &Descriptor, table: RawTable) -> Result<LoadedDataset> {
    let raw_rows = table.height();
    let raw_columns = table.frame.width();
    let mut notes = Vec::new();

    // De-duplication by key, keeping the first row of each key.
    let (table, duplicates_removed) = match &descriptor.columns.dedup_key {
        None => (table, 0),
        Some(key) => {
            crate::recipe::Roles::resolve(descriptor, &table)?;
            let cells = table.text_column(key, &descriptor.source.na_values)?;
            let mut seen = std::collections::HashSet::new();
            let keep: Vec<bool> = cells
                .iter()
                .map(|c| c.as_ref().is_none_or(|k| seen.insert(k.clone())))
                .collect();
            let removed = keep.iter().filter(|k| !**k).count();
            notes.push(note(
                "dedup",
                key,
                format!(
                    "kept the first of each `{key}`: {removed} repeated rows removed, {} remain",
                    raw_rows - removed
                ),
            ));
            (table.filter_rows(&keep)?, removed)
        }
    };

    let (recipe, transformed) = FittedRecipe::fit(descriptor, &table)?;
    notes.extend(transformed.notes.iter().cloned());
    let dataset = assemble(
        descriptor,
        &table,
        transformed.features.clone(),
        transformed.feature_names.clone(),
    )?;
    let metadata = metadata_frame(descriptor, &table)?;

    // Summaries.
    let raw_missing: HashMap<String, usize> = recipe
        .numeric_columns(&table)?
        .into_iter()
        .map(|(n, v)| (n, v.iter().filter(|x| x.is_none()).count()))
        .collect();
    let n = dataset.n_samples() as f64;
    let feature_summaries = transformed
        .feature_names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let u = transformed.unscaled.column(j);
            let s = transformed.features.column(j);
            let scaled_mean = s.sum() / n;
            FeatureSummary {
                name: name.clone(),
                missing: raw_missing.get(name).copied().unwrap_or(0),
                min: u.fold(f64::INFINITY, |a, &b| a.min(b)),
                mean: u.sum() / n,
                max: u.fold(f64::NEG_INFINITY, |a, &b| a.max(b)),
                scaled_mean,
                scaled_sd: (s.mapv(|v| (v - scaled_mean).powi(2)).sum() / n).sqrt(),
            }
        })
        .collect();
    let duplicate_feature_rows = {
        let mut seen = std::collections::HashSet::new();
        dataset
            .features()
            .outer_iter()
            .filter(|r| !seen.insert(r.iter().map(|v| v.to_bits()).collect::<Vec<u64>>()))
            .count()
    };
    let report = LoadReport {
        file: table.path.clone(),
        sha256: String::new(),
        delimiter: table.dialect.delimiter_name().to_string(),
        had_bom: table.dialect.had_bom,
        crlf: table.dialect.crlf,
        raw_rows,
        raw_columns,
        dedup_key: descriptor.columns.dedup_key.clone(),
        duplicates_removed,
        duplicate_feature_rows,
        rows: dataset.n_samples(),
        features: dataset.n_features(),
        target: dataset
            .target()
            .map(|t| (t.name.clone(), t.positives(), t.values.len())),
        feature_summaries,
        notes,
    };
    Ok(LoadedDataset {
        descriptor: descriptor.clone(),
        dataset,
        unscaled: transformed.unscaled,
        metadata,
        recipe,
        report,
        table,
    })
}

impl LoadedDataset {
    /// Fits a fresh recipe (every statistic: imputation values, clipping
    /// quantiles, categories, means and deviations, the "latest" date) on the
    /// rows `fit_rows` only, and returns their prepared features together with
    /// those of each set in `apply`, prepared with that same recipe. Row
    /// indices are those of [`LoadedDataset::dataset`]; each matrix has its
    /// rows in the order given. Nothing about the rows outside `fit_rows`
    /// enters the recipe: this is how held-out rows stay held out.
    ///
    /// The recipe fitted on a subset may have other columns than the one
    /// fitted on every row (a category absent from the subset, a column that
    /// is constant in it), so the matrices of one call agree with each other,
    /// not with [`LoadedDataset::dataset`].
    pub fn prepare_rows(
        &self,
        fit_rows: &[usize],
        apply: &[&[usize]],
    ) -> Result<(Array2<f64>, Vec<Array2<f64>>)> {
        let p = self.prepare_rows_named(fit_rows, apply)?;
        Ok((
            p.fit.features,
            p.applied.into_iter().map(|t| t.features).collect(),
        ))
    }

    /// [`LoadedDataset::prepare_rows`], keeping what the fresh recipe knows:
    /// its column names and each matrix in original units as well.
    pub fn prepare_rows_named(&self, fit_rows: &[usize], apply: &[&[usize]]) -> Result<RowsPrepared> {
        let subset = |rows: &[usize]| -> Result<(RawTable, Vec<usize>)> {
            let n = self.table.height();
            let mut keep = vec![false; n];
            for &i in rows {
                if i >= n {
                    return Err(DataError::Internal(format!(
                        "row {i} requested of a table with {n} rows"
                    )));
                }
                keep[i] = true;
            }
            // filter_rows keeps file order; remember where each wanted row lands.
            let mut rank = vec![usize::MAX; n];
            let mut next = 0;
            for (i, k) in keep.iter().enumerate() {
                if *k {
                    rank[i] = next;
                    next += 1;
                }
            }
            Ok((
                self.table.filter_rows(&keep)?,
                rows.iter().map(|&i| rank[i]).collect(),
            ))
        };
        let in_order = |t: crate::recipe::Transformed, order: &[usize]| PreparedRows {
            features: t.features.select(ndarray::Axis(0), order),
            unscaled: t.unscaled.select(ndarray::Axis(0), order),
        };
        // A recipe per fold would log the same notes once per fold (a junk
        // category absent from one fold's training rows, say); the load that
        // fitted on every row has already reported them, so stay quiet here.
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            let (fit_table, fit_order) = subset(fit_rows)?;
            let (recipe, fitted) = FittedRecipe::fit(&self.descriptor, &fit_table)?;
            let names = fitted.feature_names.clone();
            let applied = apply
                .iter()
                .map(|rows| {
                    let (t, order) = subset(rows)?;
                    Ok(in_order(recipe.transform(&t)?, &order))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RowsPrepared {
                names,
                fit: in_order(fitted, &fit_order),
                applied,
            })
        })
    }

    /// Applies the fitted recipe to new rows of the same layout (already
    /// de-duplicated as the caller sees fit) and returns them as a dataset.
    pub fn apply(&self, table: &RawTable) -> Result<Dataset> {
        let t = self.recipe.transform(table)?;
        assemble(&self.descriptor, table, t.features, t.feature_names)
    }

    /// [`LoadedDataset::apply`] for customers not yet contacted: the file
    /// needs the id and the feature columns, not the target (read when its
    /// column is there) nor the economics (never read). Ids must be unique.
    /// Also returns the recipe's warnings on these rows (a category no
    /// fitted row had, say), which the caller should show beside what it
    /// computes from them.
    pub fn apply_new(&self, table: &RawTable) -> Result<(Dataset, Vec<StepNote>)> {
        let mut d = self.descriptor.clone();
        let have = table.column_names();
        if d.columns.target.as_ref().is_some_and(|c| !have.contains(c)) {
            d.columns.target = None;
        }
        d.economics = None;
        let t = self.recipe.transform(table)?;
        let warnings = t.notes.into_iter().filter(|n| n.warning).collect();
        Ok((assemble(&d, table, t.features, t.feature_names)?, warnings))
    }
}

/// Ids, target and economics of a table, joined with its features.
fn assemble(
    d: &Descriptor,
    t: &RawTable,
    features: Array2<f64>,
    names: Vec<String>,
) -> Result<Dataset> {
    let na = &d.source.na_values;
    let ids: Vec<String> = match &d.columns.id {
        None => t.rows.iter().map(|r| r.to_string()).collect(),
        Some(col) => {
            let cells = t.text_column(col, na)?;
            let mut first: HashMap<&str, usize> = HashMap::new();
            let mut ids = Vec::with_capacity(cells.len());
            for (i, c) in cells.iter().enumerate() {
                let id = c.as_deref().ok_or_else(|| DataError::NotNumeric {
                    path: t.path.clone(),
                    at: t.at(i),
                    column: col.clone(),
                    value: String::new(),
                    hint: " (the id is missing)".into(),
                })?;
                if let Some(&j) = first.get(id) {
                    return Err(DataError::DuplicateId {
                        path: t.path.clone(),
                        id: id.into(),
                        first: t.at(j),
                        second: t.at(i),
                    });
                }
                first.insert(id, i);
                ids.push(id.to_string());
            }
            ids
        }
    };
    let target = match &d.columns.target {
        None => None,
        Some(col) => Some(BinaryTarget {
            name: col.clone(),
            values: binary_column(t, col, na)?,
        }),
    };
    let economics = match &d.economics {
        None => None,
        Some(e) => {
            let amount = |a: &Amount| -> Result<Array1<f64>> {
                match a {
                    Amount::Value(v) => Ok(Array1::from_elem(t.height(), *v)),
                    Amount::Column(c) => {
                        let vals = crate::recipe::numeric_column(t, c, na)?;
                        vals.iter()
                            .enumerate()
                            .map(|(i, v)| {
                                v.ok_or_else(|| DataError::MissingValues {
                                    path: t.path.clone(),
                                    column: c.clone(),
                                    count: vals.iter().filter(|x| x.is_none()).count(),
                                    first: t.at(i),
                                })
                            })
                            .collect::<Result<Vec<f64>>>()
                            .map(Array1::from)
                    }
                }
            };
            Some(Economics {
                cost_per_contact: amount(&e.cost_per_contact)?,
                revenue_per_response: amount(&e.revenue_per_response)?,
            })
        }
    };
    Dataset::new(d.name.clone(), features, names, ids, target, economics)
        .map_err(|e| DataError::Internal(e.to_string()))
}

/// A 0/1 target column; anything else is an error listing what was found
/// and naming the row of the first value that is not binary.
fn binary_column(t: &RawTable, col: &str, na: &[String]) -> Result<Array1<u8>> {
    let cells = t.text_column(col, na)?;
    let mut out = Vec::with_capacity(cells.len());
    let mut first_bad: Option<(usize, &String)> = None;
    for (i, c) in cells.iter().enumerate() {
        let Some(c) = c else {
            return Err(DataError::MissingTarget {
                path: t.path.clone(),
                column: col.into(),
                at: t.at(i),
            });
        };
        let v = match c.to_ascii_lowercase().as_str() {
            "0" | "0.0" | "false" | "no" => 0,
            "1" | "1.0" | "true" | "yes" => 1,
            _ => {
                first_bad.get_or_insert((i, c));
                0
            }
        };
        out.push(v);
    }
    if let Some((i, value)) = first_bad {
        let mut found: Vec<String> = cells
            .iter()
            .flatten()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .take(12)
            .collect();
        found.iter_mut().for_each(|f| *f = format!("`{f}`"));
        return Err(DataError::NonBinaryTarget {
            path: t.path.clone(),
            column: col.into(),
            found: found.join(", "),
            value: value.clone(),
            first: t.at(i),
        });
    }
    Ok(Array1::from(out))
}

/// The metadata columns; a column whose every present value is a number
/// becomes Float64, others stay text.
fn metadata_frame(d: &Descriptor, t: &RawTable) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::new();
    let mut names = d.columns.metadata.clone();
    if let Some(id) = &d.columns.id
        && !names.contains(id)
    {
        names.insert(0, id.clone());
    }
    for name in &names {
        let cells = t.text_column(name, &d.source.na_values)?;
        let numbers: Option<Vec<Option<f64>>> = cells
            .iter()
            .map(|c| match c {
                None => Some(None),
                Some(s) => s.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some),
            })
            .collect();
        let series = match numbers {
            Some(v) if d.columns.id.as_ref() != Some(name) => Series::new(name.as_str().into(), v),
            _ => Series::new(name.as_str().into(), cells),
        };
        columns.push(series.into());
    }
    DataFrame::new_infer_height(columns).map_err(|e| t.polars(e))
}
