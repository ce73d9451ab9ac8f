//! Errors of dataset description, location, download and preprocessing.
//!
//! Every message names the file, the TOML key or the row at fault and says what
//! was expected, so a user can fix the input without reading code.

use std::path::PathBuf;
use thiserror::Error;

/// Where a value sits in a data file: 1-based data row (the header is not a
/// row) and the physical line it starts on (0 for a format without lines,
/// such as Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef {
    pub row: usize,
    pub line: usize,
}

impl std::fmt::Display for RowRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "row {}", self.row)
        } else {
            write!(f, "row {} (line {})", self.row, self.line)
        }
    }
}

#[derive(Debug, Error)]
pub enum DataError {
    /// The I/O error is part of the message, not a separate cause, so an
    /// error chain printed with `{:#}` says it once.
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },

    /// A file or folder that could not be written or created.
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },

    /// The labels column of a labelled copy would replace a column of the table.
    #[error("{}: already has a column `{column}`; give the labels column another name", path.display())]
    LabelColumnTaken { path: PathBuf, column: String },

    /// TOML syntax error, unknown key or value of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Descriptor {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// A descriptor that parses but does not make sense (key path given).
    #[error("{}: `{key}`: {message}", path.display())]
    DescriptorValue {
        path: PathBuf,
        key: String,
        message: String,
    },

    /// The data file is nowhere to be found.
    #[error(
        "data file `{file}` not found; looked in:\n{}\nexpected SHA-256 {sha256}\n{how_to_get}",
        looked.iter().map(|p| format!("  - {}", p.display())).collect::<Vec<_>>().join("\n")
    )]
    MissingFile {
        file: String,
        looked: Vec<PathBuf>,
        sha256: String,
        how_to_get: String,
    },

    #[error("{}: SHA-256 mismatch: expected {expected}, got {actual} ({bytes} bytes, uncompressed); the file is corrupt, truncated or a different version", path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
        bytes: u64,
    },

    /// A gzip or Zstandard file that does not uncompress.
    #[error("{}: not a valid {format} file ({message}); the file is truncated or damaged", path.display())]
    Decompress {
        path: PathBuf,
        format: &'static str,
        message: String,
    },

    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },

    #[error("{}: `{file}` has no public URL in its descriptor; download it by hand from {page} into {}", descriptor.display(), target_dir.display())]
    NoUrl {
        descriptor: PathBuf,
        file: String,
        page: String,
        target_dir: PathBuf,
    },

    #[error("{}: the file is empty (expected a header line and data rows)", path.display())]
    EmptyFile { path: PathBuf },

    #[error("{}: the file has a header but no data rows", path.display())]
    HeaderOnly { path: PathBuf },

    #[error("{}: line {line}: {found} fields, but the header has {expected}; a field may contain an unquoted delimiter `{delimiter}` or a stray quote", path.display())]
    RaggedRow {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
        delimiter: String,
    },

    #[error("{}: line {line}: quoted field never closed", path.display())]
    UnclosedQuote { path: PathBuf, line: usize },

    #[error("{}: line {line}: not valid UTF-8 text (byte offset {offset}); save the file as UTF-8", path.display())]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        offset: usize,
    },

    #[error("{}: header has duplicate column name `{name}`", path.display())]
    DuplicateHeader { path: PathBuf, name: String },

    #[error("{0}")]
    UnknownColumn(Box<UnknownColumn>),

    #[error("{}: {at}, column `{column}`: `{value}` is not a number{hint}", path.display())]
    NotNumeric {
        path: PathBuf,
        at: RowRef,
        column: String,
        value: String,
        hint: String,
    },

    #[error("{}: {at}, column `{column}`: `{value}` is not a date in format `{format}`", path.display())]
    BadDate {
        path: PathBuf,
        at: RowRef,
        column: String,
        value: String,
        format: String,
    },

    #[error("{}: column `{column}` has {count} missing {} (first at {first}) and no imputation rule; add `{column} = \"median\"` (or mean, or {{ constant = ... }}) under [impute] in the descriptor", path.display(), if *count == 1 { "value" } else { "values" })]
    MissingValues {
        path: PathBuf,
        column: String,
        count: usize,
        first: RowRef,
    },

    #[error("{}: target `{column}` must be binary (0/1, true/false, yes/no); found {found}; the first other value, `{value}`, is at {first}", path.display())]
    NonBinaryTarget {
        path: PathBuf,
        column: String,
        found: String,
        /// The first value that is not binary, and where it is.
        value: String,
        first: RowRef,
    },

    #[error("{}: {at}: target `{column}` is missing", path.display())]
    MissingTarget {
        path: PathBuf,
        column: String,
        at: RowRef,
    },

    #[error("{}: id `{id}` appears at {first} and again at {second}; ids must be unique (set `columns.dedup_key` to keep one row per key)", path.display())]
    DuplicateId {
        path: PathBuf,
        id: String,
        first: RowRef,
        second: RowRef,
    },

    #[error("{}: feature `{column}` is constant ({value}) and cannot be scaled; it was requested with `scale.constant = \"error\"` (use \"drop\" to drop it with a warning, or drop the column in the descriptor)", path.display())]
    ConstantFeature {
        path: PathBuf,
        column: String,
        value: f64,
    },

    #[error("{}: `{column}`: category `{value}` at {at} is not in `order` ({known})", path.display())]
    UnknownCategory {
        path: PathBuf,
        column: String,
        value: String,
        at: RowRef,
        known: String,
    },

    #[error("{}: the recipe leaves no feature columns", path.display())]
    NoFeatures { path: PathBuf },

    #[error("{}: polars could not read the table: {message}", path.display())]
    Polars { path: PathBuf, message: String },

    #[error("{}: no column `{column}`{hint}; columns: {}", path.display(), present.join(", "))]
    NoColumn {
        path: PathBuf,
        column: String,
        /// "; did you mean `...`?" or empty.
        hint: String,
        present: Vec<String>,
    },

    #[error("{}: the table to transform lacks column `{column}` that the fitted recipe needs", path.display())]
    MissingInput { path: PathBuf, column: String },

    #[error("{}: {keys} cannot be applied to a streamed table: each needs the whole table in memory (or a category list); prepare the Parquet file beforehand, or load it in memory (`strata run`)", path.display())]
    NotStreamable { path: PathBuf, keys: String },

    /// A value a streamed fit cannot use (missing or not finite), named by
    /// column and row.
    #[error("{}: column `{column}`, {at}: {problem}; a streamed fit reads every value as stored: fill, drop or clean it in the Parquet data first", path.display())]
    StreamValue {
        path: PathBuf,
        column: String,
        /// The row (1-based) in the file, and in the whole table when the
        /// table is a folder of files and the two differ.
        at: String,
        problem: String,
    },

    #[error("internal inconsistency: {0}")]
    Internal(String),
}

/// A descriptor key naming a column the data file does not have.
#[derive(Debug, Error)]
#[error("{}: `{key}` names column `{column}`, which is not in {}{hint}; columns present: {}", descriptor.display(), data.display(), present.join(", "))]
pub struct UnknownColumn {
    pub descriptor: PathBuf,
    pub data: PathBuf,
    pub key: String,
    pub column: String,
    /// "; did you mean ...?" or empty.
    pub hint: String,
    pub present: Vec<String>,
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Write {
            path: path.into(),
            error,
        }
    }
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
