//! Reading delimited text into a polars `DataFrame`.
//!
//! The dialect is detected when the descriptor does not give it: a UTF-8 byte
//! order mark is removed, the delimiter is the one of comma, tab, semicolon or
//! pipe that splits the first lines into the same number of fields, CRLF and LF
//! line ends are both accepted and fields follow RFC 4180 quoting (`"a, ""b"""`).
//!
//! Before polars parses the bytes, one quote-aware pass checks the structure,
//! so that an empty file, a header without rows, a ragged row or a quote never
//! closed is reported with its line number instead of being silently padded.
//! That pass also records the line on which each record starts, so later errors
//! can say "row 17 (line 18)" even when quoted fields span lines.
//!
//! Every column is read as text; typed parsing happens in the recipe, where a
//! bad value can be reported with its row and column.

use crate::error::{DataError, Result, RowRef};
use polars::prelude::*;
use std::io::Cursor;
use std::path::{Path, PathBuf};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];

/// The dialect found in (or given for) a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub had_bom: bool,
    pub crlf: bool,
}

impl Dialect {
    /// Human-readable delimiter name.
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b',' => "comma",
            b'\t' => "tab",
            b';' => "semicolon",
            b'|' => "pipe",
            0 => "none (Parquet)",
            _ => "custom",
        }
    }
}

/// A table read from a file, every column as text, with the position of each row
/// in the file.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// Where the rows came from (for messages).
    pub path: PathBuf,
    pub frame: DataFrame,
    /// 1-based data row number in the file of each row of `frame`.
    pub rows: Vec<usize>,
    /// Line on which each row of `frame` starts.
    pub lines: Vec<usize>,
    pub dialect: Dialect,
}

impl RawTable {
    /// A table built in memory (rows numbered 1.., line = row + 1 as if it had a header).
    pub fn from_frame(path: impl Into<PathBuf>, frame: DataFrame) -> RawTable {
        let n = frame.height();
        RawTable {
            path: path.into(),
            frame,
            rows: (1..=n).collect(),
            lines: (2..=n + 1).collect(),
            dialect: Dialect {
                delimiter: b',',
                had_bom: false,
                crlf: false,
            },
        }
    }

    /// Position in the file of row `i` of the frame.
    pub fn at(&self, i: usize) -> RowRef {
        RowRef {
            row: self.rows.get(i).copied().unwrap_or(i + 1),
            line: self.lines.get(i).copied().unwrap_or(i + 2),
        }
    }

    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Column names in file order.
    pub fn column_names(&self) -> Vec<String> {
        self.frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Keeps only the rows where `keep` is true (positions are kept in step).
    ///
    /// The columns are filtered one after another on the calling thread, not
    /// on polars' pool: cross-validation, targeting and cohorts call this
    /// inside rayon tasks, which must not wait on another pool (see "One
    /// thread pool for the work" in ARCHITECTURE.md; `tests/polars_pool.rs`).
    pub fn filter_rows(&self, keep: &[bool]) -> Result<RawTable> {
        let mask = BooleanChunked::from_slice("keep".into(), keep);
        let frame = self.frame.filter_seq(&mask).map_err(|e| self.polars(e))?;
        let pick = |v: &Vec<usize>| {
            v.iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| *x)
                .collect()
        };
        Ok(RawTable {
            path: self.path.clone(),
            frame,
            rows: pick(&self.rows),
            lines: pick(&self.lines),
            dialect: self.dialect.clone(),
        })
    }

    /// The cells of a column as optional strings; `None` for missing cells
    /// (empty, blank or one of `na_values`).
    pub fn text_column(&self, name: &str, na_values: &[String]) -> Result<Vec<Option<String>>> {
        Ok(self
            .text_cells(name, na_values)?
            .into_iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    /// [`RawTable::text_column`], borrowing the (trimmed) cells from the
    /// table instead of copying each one.
    pub fn text_cells(&self, name: &str, na_values: &[String]) -> Result<Vec<Option<&str>>> {
        let names = self.column_names();
        if !names.iter().any(|n| n == name) {
            return Err(DataError::NoColumn {
                path: self.path.clone(),
                column: name.to_string(),
                hint: strata_core::text::did_you_mean(name, names.iter()),
                present: names,
            });
        }
        let col = self.frame.column(name).map_err(|e| self.polars(e))?;
        let ca = col.str().map_err(|e| self.polars(e))?;
        Ok(ca
            .iter()
            .map(|v| {
                v.and_then(|s| {
                    let t = s.trim();
                    (!t.is_empty() && !na_values.iter().any(|n| n == t)).then_some(t)
                })
            })
            .collect())
    }

    pub(crate) fn polars(&self, e: PolarsError) -> DataError {
        DataError::Polars {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// Parses a delimiter given in a descriptor (`","`, `"\t"`, `"tab"`...).
pub fn delimiter_byte(text: &str) -> Option<u8> {
    match text {
        "tab" | "\\t" => Some(b'\t'),
        "comma" => Some(b','),
        "semicolon" => Some(b';'),
        "pipe" => Some(b'|'),
        s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Some(s.as_bytes()[0])
        }
        _ => None,
    }
}

/// Reads a delimited text file, plain or compressed (see [`crate::compress`]);
/// `delimiter` overrides detection.
pub fn read_table(path: &Path, delimiter: Option<u8>) -> Result<RawTable> {
    let (bytes, _) = crate::compress::read_file(path)?;
    read_table_bytes(path, &bytes, delimiter)
}

/// As [`read_table`], from bytes already in memory; `path` names them in messages.
pub fn read_table_bytes(path: &Path, bytes: &[u8], delimiter: Option<u8>) -> Result<RawTable> {
    let had_bom = bytes.starts_with(BOM);
    let body = if had_bom { &bytes[BOM.len()..] } else { bytes };
    if let Err(e) = std::str::from_utf8(body) {
        let offset = e.valid_up_to();
        let line = body[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(DataError::NotUtf8 {
            path: path.to_path_buf(),
            line,
            offset: offset + if had_bom { 3 } else { 0 },
        });
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(body));
    let crlf = body.windows(2).any(|w| w == b"\r\n");
    let dialect = Dialect {
        delimiter,
        had_bom,
        crlf,
    };
    let layout = scan(path, body, delimiter)?;
    tracing::debug!(path = %path.display(), delimiter = dialect.delimiter_name(), rows = layout.lines.len(), "structure checked");

    let header = split_header(body, delimiter);
    let mut seen = std::collections::HashSet::new();
    for name in &header {
        if !seen.insert(name.as_str()) {
            return Err(DataError::DuplicateHeader {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
    }

    let cleaned: Vec<u8>;
    let body = if layout.blank.is_empty() {
        body
    } else {
        let mut keep = Vec::with_capacity(body.len());
        let mut from = 0;
        for r in &layout.blank {
            keep.extend_from_slice(&body[from..r.start]);
            from = r.end;
        }
        keep.extend_from_slice(&body[from..]);
        cleaned = keep;
        &cleaned
    };
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(true)
        .map_parse_options(|o| {
            o.with_separator(delimiter)
                .with_quote_char(Some(b'"'))
                .with_missing_is_null(true)
        })
        .into_reader_with_file_handle(Cursor::new(body))
        .finish()
        .map_err(|e| DataError::Polars {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if frame.height() != layout.lines.len() {
        return Err(DataError::Internal(format!(
            "{}: polars read {} rows where the structural check found {}",
            path.display(),
            frame.height(),
            layout.lines.len()
        )));
    }
    let n = frame.height();
    Ok(RawTable {
        path: path.to_path_buf(),
        frame,
        rows: (1..=n).collect(),
        lines: layout.lines,
        dialect,
    })
}

/// Picks the candidate delimiter that gives the same, largest field count on
/// the first lines (quotes respected). Falls back to comma.
fn sniff_delimiter(body: &[u8]) -> u8 {
    let sample = &body[..body.len().min(64 * 1024)];
    let mut best = (b',', 0usize, 0usize); // (delimiter, consistent lines, fields)
    for &d in &CANDIDATES {
        let counts = field_counts(sample, d, 20);
        let Some(&first) = counts.first() else {
            continue;
        };
        if first < 2 {
            continue;
        }
        let consistent = counts.iter().take_while(|&&c| c == first).count();
        if (consistent, first) > (best.1, best.2) {
            best = (d, consistent, first);
        }
    }
    best.0
}

/// Field counts of the first `max_records` records of `sample`.
fn field_counts(sample: &[u8], delimiter: u8, max_records: usize) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut fields = 1;
    let mut in_quotes = false;
    let mut blank = true;
    for &b in sample {
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            b'\n' if !in_quotes => {
                if !blank {
                    counts.push(fields);
                    if counts.len() == max_records {
                        break;
                    }
                }
                fields = 1;
                blank = true;
            }
            b'\r' => {}
            _ if b == delimiter && !in_quotes => {
                fields += 1;
                blank = false;
            }
            _ => blank = false,
        }
    }
    counts
}

/// Result of the structural pass: the start line of every data record.
struct Layout {
    lines: Vec<usize>,
    /// Byte ranges of blank lines outside quotes (polars would read them as rows of nulls).
    blank: Vec<std::ops::Range<usize>>,
}

/// One quote-aware pass over the whole body: every record must have as many
/// fields as the header; blank lines are skipped.
fn scan(path: &Path, body: &[u8], delimiter: u8) -> Result<Layout> {
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut quote_line = 0usize;
    let mut fields = 1usize;
    let mut in_quotes = false;
    let mut blank = true;
    let mut header_fields: Option<usize> = None;
    let mut lines = Vec::new();
    let mut blank_ranges = Vec::new();
    let mut record_start = 0usize;
    let delim_text = if delimiter == b'\t' {
        "\\t".to_string()
    } else {
        (delimiter as char).to_string()
    };

    let mut finish = |fields: usize, record_line: usize, blank: bool| -> Result<()> {
        if blank {
            return Ok(());
        }
        match header_fields {
            None => header_fields = Some(fields),
            Some(expected) if expected != fields => {
                return Err(DataError::RaggedRow {
                    path: path.to_path_buf(),
                    line: record_line,
                    expected,
                    found: fields,
                    delimiter: delim_text.clone(),
                });
            }
            Some(_) => lines.push(record_line),
        }
        Ok(())
    };

    for (pos, &b) in body.iter().enumerate() {
        if b == b'"' {
            if !in_quotes {
                quote_line = line;
            }
            in_quotes = !in_quotes;
            blank = false;
            continue;
        }
        if b == b'\n' {
            line += 1;
            if in_quotes {
                continue;
            }
            finish(fields, record_line, blank)?;
            if blank {
                blank_ranges.push(record_start..pos + 1);
            }
            fields = 1;
            blank = true;
            record_line = line;
            record_start = pos + 1;
            continue;
        }
        if in_quotes || b == b'\r' {
            continue;
        }
        if b == delimiter {
            fields += 1;
            blank = false;
        } else if !b.is_ascii_whitespace() {
            blank = false;
        } else if b == b' ' {
            // a line of spaces is still blank, but spaces inside a record count
        }
    }
    if in_quotes {
        return Err(DataError::UnclosedQuote {
            path: path.to_path_buf(),
            line: quote_line,
        });
    }
    finish(fields, record_line, blank)?;
    if header_fields.is_none() {
        return Err(DataError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if lines.is_empty() {
        return Err(DataError::HeaderOnly {
            path: path.to_path_buf(),
        });
    }
    if blank {
        blank_ranges.push(record_start..body.len());
    }
    Ok(Layout {
        lines,
        blank: blank_ranges,
    })
}

/// The header's field names (quotes removed, trimmed).
fn split_header(body: &[u8], delimiter: u8) -> Vec<String> {
    let mut names = Vec::new();
    let mut cur = Vec::new();
    let mut in_quotes = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'"' {
            if in_quotes && body.get(i + 1) == Some(&b'"') {
                cur.push(b'"');
                i += 2;
                continue;
            }
            in_quotes = !in_quotes;
        } else if !in_quotes && (b == b'\n') {
            if cur.iter().all(|c| c.is_ascii_whitespace()) && names.is_empty() {
                cur.clear();
                i += 1;
                continue;
            }
            break;
        } else if !in_quotes && b == delimiter {
            names.push(String::from_utf8_lossy(&cur).trim().to_string());
            cur.clear();
        } else if b != b'\r' || in_quotes {
            cur.push(b);
        }
        i += 1;
    }
    names.push(String::from_utf8_lossy(&cur).trim().to_string());
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RawTable> {
        read_table_bytes(Path::new("t.csv"), text.as_bytes(), None)
    }

    fn cells(t: &RawTable, col: &str) -> Vec<Option<String>> {
        t.text_column(col, &[]).unwrap()
    }

    #[test]
    fn an_absent_column_is_named_with_the_columns_present() {
        let t = read("Id,spend\n1,2\n3,4\n").unwrap();
        let e = t.text_column("ID", &[]).unwrap_err().to_string();
        assert_eq!(e, "t.csv: no column `ID`; did you mean `Id`?; columns: Id, spend");
    }

    #[test]
    fn detects_delimiters() {
        for d in [",", "\t", ";"] {
            let text = format!("a{d}b{d}c\n1{d}2{d}3\n4{d}5{d}6\n");
            let t = read(&text).unwrap();
            assert_eq!(t.dialect.delimiter, d.as_bytes()[0]);
            assert_eq!(t.column_names(), ["a", "b", "c"]);
            assert_eq!(cells(&t, "c"), [Some("3".into()), Some("6".into())]);
        }
    }

    #[test]
    fn quoted_fields_with_delimiters_quotes_and_newlines() {
        let t = read("id,title,x\n1,\"Hello, \"\"World\"\"\",2\n2,\"two\nlines\",3\n3,plain,4\n")
            .unwrap();
        assert_eq!(t.height(), 3);
        assert_eq!(cells(&t, "title")[0].as_deref(), Some("Hello, \"World\""));
        assert_eq!(t.lines, [2, 3, 5]);
        assert_eq!(t.at(2), RowRef { row: 3, line: 5 });
    }

    #[test]
    fn bom_and_crlf() {
        let t = read("\u{feff}a;b\r\n1;2\r\n3;\"x\"\r\n").unwrap();
        assert!(t.dialect.had_bom && t.dialect.crlf);
        assert_eq!(t.dialect.delimiter, b';');
        assert_eq!(t.column_names(), ["a", "b"]);
        assert_eq!(cells(&t, "b"), [Some("2".into()), Some("x".into())]);
    }

    #[test]
    fn empty_cells_are_missing() {
        let t = read("a,b\n1,\n,NA\n").unwrap();
        assert_eq!(cells(&t, "a"), [Some("1".into()), None]);
        assert_eq!(t.text_column("b", &["NA".into()]).unwrap(), [None, None]);
    }

    #[test]
    fn structural_errors() {
        assert!(matches!(read(""), Err(DataError::EmptyFile { .. })));
        assert!(matches!(read("  \n\n"), Err(DataError::EmptyFile { .. })));
        assert!(matches!(read("a,b,c\n"), Err(DataError::HeaderOnly { .. })));
        let e = read("a,b,c\n1,2,3\n4,5\n").unwrap_err();
        assert!(
            matches!(
                e,
                DataError::RaggedRow {
                    line: 3,
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = read("a,b\n1,\"open\n2,3\n").unwrap_err();
        assert!(matches!(e, DataError::UnclosedQuote { line: 2, .. }), "{e}");
        let e = read("a,a\n1,2\n").unwrap_err();
        assert!(e.to_string().contains("duplicate column name `a`"), "{e}");
        let e = read_table_bytes(Path::new("t.csv"), b"a,b\n1,\xff\n", None).unwrap_err();
        assert!(matches!(e, DataError::NotUtf8 { line: 2, .. }), "{e}");
    }

    #[test]
    fn blank_lines_are_skipped() {
        let t = read("a,b\n1,2\n\n3,4\n\n").unwrap();
        assert_eq!(t.height(), 2);
        assert_eq!(t.lines, [2, 4]);
    }

    #[test]
    fn delimiter_names() {
        assert_eq!(delimiter_byte("\t"), Some(b'\t'));
        assert_eq!(delimiter_byte("tab"), Some(b'\t'));
        assert_eq!(delimiter_byte(";"), Some(b';'));
        assert_eq!(delimiter_byte("ab"), None);
    }
}
