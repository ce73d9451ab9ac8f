//! Dataset descriptors, CSV ingestion with polars and fitted preprocessing.
//!
//! The flow: a [`Descriptor`] (TOML) says where the file is and what each column
//! is for; [`DataDirs`] finds the file and [`load`] verifies its SHA-256, reads
//! it with polars ([`csv`]), de-duplicates, fits the [`FittedRecipe`] (derive,
//! impute, clip, encode, scale) and returns a [`LoadedDataset`]: the
//! [`strata_core::Dataset`] for the estimators, the features in original units,
//! the metadata as a polars `DataFrame` and a [`LoadReport`] of every step.

pub mod compress;
pub mod csv;
pub mod descriptor;
pub mod error;
pub mod fetch;
pub mod load;
pub mod locate;
pub mod parquet;
pub mod recipe;
pub mod stream;

pub use csv::{Dialect, RawTable, read_table};
pub use descriptor::Descriptor;
pub use error::{DataError, Result, RowRef};
pub use fetch::{Fetched, fetch};
pub use load::{
    FeatureSummary, LoadReport, LoadedDataset, PreparedRows, RowsPrepared, available, load, load_table,
    read_raw,
};
pub use locate::{DATA_DIR_ENV, DataDirs, load_reference, reference_dirs, sha256_file};
pub use parquet::{ParquetBatches, is_parquet, write_with_labels};
pub use recipe::{FittedRecipe, StepNote, Transformed};

/// Re-exported so callers can use the metadata frame without naming polars.
pub use polars::prelude::DataFrame;
