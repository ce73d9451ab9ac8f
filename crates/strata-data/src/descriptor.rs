//! Dataset descriptors: one TOML file per dataset saying where the data comes
//! from, what each column is for and how to preprocess it.
//!
//! See `datasets/README.md` for the full key reference. Unknown keys are errors
//! that point at the line and column and suggest the closest valid key.

use crate::error::{DataError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed and checked dataset descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    /// Dataset name; defaults to the descriptor's file stem.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What one row is, singular then plural, in the words of the reports
    /// and of `strata similar` (`["track", "tracks"]`); `["row", "rows"]`
    /// when not given. Describes only: stored results stay.
    #[serde(default = "row_nouns", deserialize_with = "two_words")]
    pub noun: [String; 2],
    pub source: Source,
    #[serde(default)]
    pub columns: Columns,
    #[serde(default)]
    pub derive: Vec<Derive>,
    /// Imputation rule per column.
    #[serde(default)]
    pub impute: BTreeMap<String, Impute>,
    #[serde(default)]
    pub encode: Vec<Encode>,
    #[serde(default)]
    pub clip: Option<Clip>,
    #[serde(default)]
    pub scale: Scale,
    #[serde(default)]
    pub economics: Option<EconomicsSpec>,
    /// How `strata similar` shows a row. Describes only: stored results stay.
    #[serde(default)]
    pub display: DisplayColumns,
    /// Where the descriptor was read from (not a TOML key).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Where the data file comes from and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// File name inside the data directory.
    pub file: String,
    /// Expected SHA-256 of the file, hex.
    pub sha256: String,
    /// Direct download URL, when the file is public.
    #[serde(default)]
    pub url: Option<String>,
    /// Page to download the file from by hand, when there is no direct URL.
    #[serde(default)]
    pub page: Option<String>,
    /// Field delimiter; detected from the file when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Cell values that mean "missing" besides the empty cell.
    #[serde(default)]
    pub na_values: Vec<String>,
}

/// The role of each column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// Column holding the row id; row numbers are used when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Keep only the first row of each value of this column.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// Binary target column (kept out of the features).
    #[serde(default)]
    pub target: Option<String>,
    /// Columns ignored entirely.
    #[serde(default)]
    pub drop: Vec<String>,
    /// Columns kept only to describe rows (never model inputs).
    #[serde(default)]
    pub metadata: Vec<String>,
    /// Explicit list of input columns; by default every column without another role.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Numeric input columns whose values are codes naming categories (a
    /// pitch class 0-11): fitted as numbers like every input, but described
    /// by their most common values, never by a mean.
    #[serde(default)]
    pub nominal: Vec<String>,
}

/// How `strata similar` shows a row: the column a query matches by name and
/// the ones listed beside each neighbour. Each must be a metadata column,
/// so none is ever searched on; each is optional, and the command's flags
/// override them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayColumns {
    /// The row's name: matched by a query (as the id is) and shown quoted.
    #[serde(default)]
    pub name: Option<String>,
    /// Shown after the name as "by ..." (an artist, a brand).
    #[serde(default)]
    pub by: Option<String>,
    /// Shown in a column of its own, headed by the column's name (a genre).
    #[serde(default)]
    pub group: Option<String>,
    /// A number shown in a column headed "popularity".
    #[serde(default)]
    pub popularity: Option<String>,
}

impl DisplayColumns {
    /// The keys given, as (`display.` key, column).
    pub fn given(&self) -> Vec<(&'static str, &str)> {
        [("name", &self.name), ("by", &self.by), ("group", &self.group), ("popularity", &self.popularity)]
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|c| (k, c)))
            .collect()
    }
}

/// How a derived column is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeriveKind {
    /// `reference_year - from` (age from a birth year).
    Age,
    /// Days from the date in `from` (parsed with `format`) to `reference`.
    DaysSince,
    /// Sum of `columns`.
    Sum,
}

/// A derived feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    pub name: String,
    pub kind: DeriveKind,
    /// Source column (`age`, `days_since`).
    #[serde(default)]
    pub from: Option<String>,
    /// Source columns (`sum`).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Year the age is measured at (`age`).
    #[serde(default)]
    pub reference_year: Option<i32>,
    /// chrono format of the dates (`days_since`), e.g. `%d-%m-%Y`.
    #[serde(default)]
    pub format: Option<String>,
    /// `latest` (the latest date seen when fitting) or a date `YYYY-MM-DD` (`days_since`).
    #[serde(default)]
    pub reference: Option<String>,
    /// Keep the source column(s) as features too (default: they are consumed).
    #[serde(default)]
    pub keep_source: bool,
}

/// Imputation strategy for missing values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Impute {
    Median,
    Mean,
    Constant(f64),
}

/// Encoding method of a categorical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodeMethod {
    /// One 0/1 column per category; categories rarer than `min_count` merge into `other`.
    OneHot,
    /// Categories mapped to 0, 1, 2... in the given `order`.
    Ordinal,
    /// One column of category codes (0 for the most frequent category, 1 for
    /// the next...; categories rarer than `min_count` share the last code),
    /// never scaled, marked as categorical: for clusterers of mixed data.
    Code,
}

/// A categorical column and how to encode it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encode {
    pub column: String,
    #[serde(default = "default_encode_method")]
    pub method: EncodeMethod,
    /// One-hot: categories seen fewer times merge into `other`.
    #[serde(default = "default_min_count")]
    pub min_count: usize,
    /// Ordinal: categories from lowest to highest.
    #[serde(default)]
    pub order: Vec<String>,
}

fn row_nouns() -> [String; 2] {
    ["row".to_string(), "rows".to_string()]
}

/// Exactly two words: a longer or shorter list is an error, not cut or
/// padded.
fn two_words<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<[String; 2], D::Error> {
    let words = Vec::<String>::deserialize(d)?;
    let found = words.len();
    <[String; 2]>::try_from(words).map_err(|_| {
        serde::de::Error::custom(format!(
            "expected two words, singular then plural, as in [\"track\", \"tracks\"]; found {found}"
        ))
    })
}

fn default_encode_method() -> EncodeMethod {
    EncodeMethod::OneHot
}
fn default_min_count() -> usize {
    1
}

/// Clipping of outliers to quantile bounds learned when fitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    /// Columns to clip; every numeric feature when empty.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Lower quantile in [0, 1).
    #[serde(default)]
    pub lower: f64,
    /// Upper quantile in (0, 1].
    #[serde(default = "one")]
    pub upper: f64,
}

fn one() -> f64 {
    1.0
}

/// Feature scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMethod {
    /// Zero mean, unit variance (population standard deviation, as scikit-learn's `StandardScaler`).
    #[default]
    Standard,
    /// Median removed, divided by the interquartile range (as `RobustScaler`).
    Robust,
    /// Mapped to [0, 1] (as `MinMaxScaler`).
    MinMax,
    /// Left as is.
    None,
}

/// What to do with a feature that is constant when scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConstantPolicy {
    /// Drop it and say so in the preprocessing report (it carries no information).
    #[default]
    Drop,
    /// Refuse to load.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    #[serde(default)]
    pub method: ScaleMethod,
    #[serde(default)]
    pub constant: ConstantPolicy,
    /// Also scale the 0/1 columns of one-hot encodings (default: they stay 0/1).
    #[serde(default)]
    pub include_one_hot: bool,
}

/// A money amount: a column of the data or a constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Amount {
    Value(f64),
    Column(String),
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct AmountVisitor;
        impl serde::de::Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a column name (string) or an amount (number)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Amount, E> {
                Ok(Amount::Column(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Amount, E> {
                if v.is_finite() {
                    Ok(Amount::Value(v))
                } else {
                    Err(E::custom("the amount must be finite"))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Amount, E> {
                Ok(Amount::Value(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Amount, E> {
                Ok(Amount::Value(v as f64))
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

/// Campaign economics: cost per contact and revenue per response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicsSpec {
    pub cost_per_contact: Amount,
    pub revenue_per_response: Amount,
}

impl Descriptor {
    /// Reads and checks a descriptor file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Descriptor> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        Descriptor::from_toml(&text, path)
    }

    /// Parses descriptor text; `path` is used for messages and to name the dataset.
    pub fn from_toml(text: &str, path: &Path) -> Result<Descriptor> {
        let mut d: Descriptor = toml::from_str(text).map_err(|e| {
            let mut err = toml_error(&e, text, path);
            // An experiment manifest given where a descriptor goes: say so,
            // and where its descriptor is.
            if let (DataError::Descriptor { message, .. }, Some(doc)) = (&mut err, top_level(text))
                && !doc.contains_key("source")
                && let Some(dataset) = doc.get("dataset").and_then(toml::Value::as_str)
            {
                message.push_str(&format!(
                    "; this file is an experiment manifest (it names `dataset` and has no [source]), not a dataset descriptor: its descriptor is `{dataset}`, relative to the manifest's folder"
                ));
            }
            err
        })?;
        d.path = path.to_path_buf();
        if d.name.is_empty() {
            d.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        d.check()?;
        Ok(d)
    }

    fn value_error(&self, key: impl Into<String>, message: impl Into<String>) -> DataError {
        DataError::DescriptorValue {
            path: self.path.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Checks that do not need the data: ranges, required keys per kind, formats.
    fn check(&self) -> Result<()> {
        for (word, which) in self.noun.iter().zip(["singular", "plural"]) {
            if word.trim().is_empty() || word.trim() != word || word.contains(char::is_control) {
                return Err(self.value_error(
                    "noun",
                    format!("the {which} `{word}` must be a word or words without surrounding spaces, as in [\"track\", \"tracks\"]"),
                ));
            }
        }
        for (key, column) in self.display.given() {
            if !self.columns.metadata.iter().any(|m| m == column) {
                return Err(self.value_error(
                    format!("display.{key}"),
                    format!(
                        "`{column}` is not a metadata column: what `strata similar` shows must be listed in columns.metadata, so that it is never searched on{}",
                        strata_core::text::did_you_mean(column, &self.columns.metadata)
                    ),
                ));
            }
        }
        let s = &self.source;
        if s.file.trim().is_empty() {
            return Err(self.value_error("source.file", "must name the data file"));
        }
        if s.sha256.len() != 64 || !s.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.value_error(
                "source.sha256",
                format!("`{}` is not 64 hex digits", s.sha256),
            ));
        }
        if let Some(d) = &s.delimiter
            && crate::csv::delimiter_byte(d).is_none()
        {
            return Err(self.value_error(
                "source.delimiter",
                format!("`{d}` must be a single ASCII character such as \",\", \"\\t\" or \";\""),
            ));
        }
        for (i, d) in self.derive.iter().enumerate() {
            let key = |k: &str| format!("derive[{i}].{k}");
            match d.kind {
                DeriveKind::Age => {
                    if d.from.is_none() {
                        return Err(
                            self.value_error(key("from"), "`age` needs the birth-year column")
                        );
                    }
                    if d.reference_year.is_none() {
                        return Err(self.value_error(
                            key("reference_year"),
                            "`age` needs the year the age is measured at",
                        ));
                    }
                }
                DeriveKind::DaysSince => {
                    if d.from.is_none() {
                        return Err(
                            self.value_error(key("from"), "`days_since` needs the date column")
                        );
                    }
                    let Some(f) = &d.format else {
                        return Err(self.value_error(
                            key("format"),
                            "`days_since` needs the date format, e.g. \"%d-%m-%Y\"",
                        ));
                    };
                    let bad = chrono::format::StrftimeItems::new(f)
                        .any(|i| matches!(i, chrono::format::Item::Error));
                    if f.is_empty() || bad {
                        return Err(self.value_error(key("format"), format!("`{f}` is not a valid date format (chrono strftime syntax, e.g. \"%d-%m-%Y\")")));
                    }
                    if let Some(r) = &d.reference
                        && r != "latest"
                        && chrono::NaiveDate::parse_from_str(r, "%Y-%m-%d").is_err()
                    {
                        return Err(self.value_error(
                            key("reference"),
                            format!("`{r}` is neither \"latest\" nor a date YYYY-MM-DD"),
                        ));
                    }
                }
                DeriveKind::Sum => {
                    if d.columns.len() < 2 {
                        return Err(
                            self.value_error(key("columns"), "`sum` needs at least two columns")
                        );
                    }
                }
            }
        }
        for (i, e) in self.encode.iter().enumerate() {
            match e.method {
                EncodeMethod::Ordinal if e.order.is_empty() => {
                    return Err(self.value_error(
                        format!("encode[{i}].order"),
                        "`ordinal` needs the categories in order",
                    ));
                }
                EncodeMethod::OneHot | EncodeMethod::Code if e.min_count == 0 => {
                    return Err(
                        self.value_error(format!("encode[{i}].min_count"), "must be at least 1")
                    );
                }
                _ => {}
            }
        }
        if let Some(c) = &self.clip {
            if !(0.0..1.0).contains(&c.lower) {
                return Err(self.value_error(
                    "clip.lower",
                    format!("{} is not a quantile in [0, 1)", c.lower),
                ));
            }
            if !(c.upper > 0.0 && c.upper <= 1.0) || c.upper <= c.lower {
                return Err(self.value_error(
                    "clip.upper",
                    format!("{} must be a quantile in (0, 1] above clip.lower", c.upper),
                ));
            }
        }
        for (col, rule) in &self.impute {
            if let Impute::Constant(v) = rule
                && !v.is_finite()
            {
                return Err(self.value_error(format!("impute.{col}"), "constant must be finite"));
            }
        }
        Ok(())
    }

    /// Text telling a user how to obtain the data file.
    pub fn how_to_get(&self) -> String {
        match (&self.source.url, &self.source.page) {
            (Some(u), _) => format!(
                "download it with `strata data fetch {}` (from {u})",
                self.path.display()
            ),
            (None, Some(p)) => format!("download it by hand from {p}"),
            (None, None) => "the descriptor gives no source for it".to_string(),
        }
    }
}

/// Turns a TOML/serde error into one with line, column and a suggestion.
/// The top-level table of a TOML text, when it parses as TOML at all.
fn top_level(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}

/// Whether `text` reads as a dataset descriptor (a [source] table, no
/// `dataset` key), for a clearer error where a manifest was expected.
pub fn looks_like_descriptor(text: &str) -> bool {
    top_level(text).is_some_and(|doc| doc.get("source").is_some_and(toml::Value::is_table) && !doc.contains_key("dataset"))
}

pub(crate) fn toml_error(e: &toml::de::Error, text: &str, path: &Path) -> DataError {
    let (line, column, message) = toml_location(e, text);
    DataError::Descriptor {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Line, column and a readable message (with a "did you mean" suggestion for
/// unknown keys and values) of a TOML deserialization error; shared by every
/// TOML file strata reads.
pub fn toml_location(e: &toml::de::Error, text: &str) -> (usize, usize, String) {
    let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
    (
        line,
        column,
        strata_core::text::explain_serde_message(e.message()),
    )
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[source]
file = "x.csv"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    fn parse(text: &str) -> Result<Descriptor> {
        Descriptor::from_toml(text, Path::new("datasets/x.toml"))
    }

    #[test]
    fn minimal_descriptor_gets_defaults() {
        let d = parse(MINIMAL).unwrap();
        assert_eq!(d.name, "x");
        assert_eq!(d.scale.method, ScaleMethod::Standard);
        assert_eq!(d.scale.constant, ConstantPolicy::Drop);
        assert!(d.columns.id.is_none());
        assert_eq!(d.noun, ["row", "rows"]);
    }

    #[test]
    fn display_columns_must_be_metadata() {
        assert_eq!(parse(MINIMAL).unwrap().display, DisplayColumns::default());
        let cols = "[columns]\nmetadata = [\"title\", \"artist\", \"sales\"]\n";
        let d = parse(&format!("{MINIMAL}{cols}[display]\nname = \"title\"\npopularity = \"sales\"\n")).unwrap();
        assert_eq!(d.display.given(), [("name", "title"), ("popularity", "sales")]);
        let err = parse(&format!("{MINIMAL}{cols}[display]\nname = \"title\"\nby = \"artists\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("display.by") && err.contains("`artists` is not a metadata column") && err.contains("did you mean `artist`?"),
            "{err}"
        );
        let err = parse(&format!("{MINIMAL}{cols}[display]\ntitle = \"title\"\n")).unwrap_err().to_string();
        assert!(err.contains("title") && err.contains("name"), "{err}");
    }

    #[test]
    fn the_row_noun_is_two_words_checked() {
        let d = parse(&format!("noun = [\"song\", \"songs\"]\n{MINIMAL}")).unwrap();
        assert_eq!(d.noun, ["song", "songs"]);
        let err = parse(&format!("noun = [\"song\", \" \"]\n{MINIMAL}")).unwrap_err().to_string();
        assert!(err.contains("`noun`") && err.contains("the plural ` `"), "{err}");
        for (words, found) in [("[\"song\"]", 1), ("[\"song\", \"songs\", \"tunes\"]", 3), ("\"song\"", 0)] {
            let err = parse(&format!("noun = {words}\n{MINIMAL}")).unwrap_err().to_string();
            let want = if found == 0 { "expected a sequence".to_string() } else { format!("singular then plural, as in [\"track\", \"tracks\"]; found {found}") };
            assert!(err.contains("datasets/x.toml:1:8") && err.contains(&want), "{err}");
        }
    }

    #[test]
    fn a_manifest_given_as_a_descriptor_is_named_as_one_with_its_descriptor() {
        let err = parse("dataset = \"../datasets/m.toml\"\nseed = 1\n[[clusterer]]\nalgorithm = \"kmeans\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("this file is an experiment manifest (it names `dataset` and has no [source]), not a dataset descriptor: its descriptor is `../datasets/m.toml`"),
            "{err}"
        );
        // A descriptor with a typo gets no such hint.
        let err = parse(&MINIMAL.replace("[source]\n", "[source]\ndelimeter = \",\"\n")).unwrap_err().to_string();
        assert!(!err.contains("manifest"), "{err}");
    }

    #[test]
    fn unknown_key_points_at_line_and_suggests() {
        let text = MINIMAL.replace("[source]\n", "[source]\ndelimeter = \",\"\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "datasets/x.toml:3:1: unknown key `delimeter`; did you mean `delimiter`?"
            ),
            "{err}"
        );
    }

    #[test]
    fn impute_rules_parse() {
        let d = parse(&format!(
            "{MINIMAL}[impute]\nIncome = \"median\"\nKids = {{ constant = 0 }}\n"
        ))
        .unwrap();
        assert_eq!(d.impute["Income"], Impute::Median);
        assert_eq!(d.impute["Kids"], Impute::Constant(0.0));
        let err = parse(&format!("{MINIMAL}[impute]\nIncome = \"medain\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `median`"), "{err}");
    }

    #[test]
    fn semantic_checks_name_the_key() {
        let err = parse(&format!("{MINIMAL}[clip]\nlower = 0.5\nupper = 0.2\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`clip.upper`"), "{err}");
        let err = parse(&format!(
            "{MINIMAL}[[derive]]\nname = \"Age\"\nkind = \"age\"\nfrom = \"Year_Birth\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("`derive[0].reference_year`"), "{err}");
        let err = parse(&MINIMAL.replace("0000000000", "zz"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`source.sha256`"), "{err}");
    }

    #[test]
    fn economics_amounts() {
        let d = parse(&format!(
            "{MINIMAL}[economics]\ncost_per_contact = 3\nrevenue_per_response = \"Z_Revenue\"\n"
        ))
        .unwrap();
        let e = d.economics.unwrap();
        assert_eq!(e.cost_per_contact, Amount::Value(3.0));
        assert_eq!(e.revenue_per_response, Amount::Column("Z_Revenue".into()));
        let err = parse(&format!(
            "{MINIMAL}[economics]\ncost_per_contact = true\nrevenue_per_response = 1.5\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(":6:20:") && err.contains("a column name (string) or an amount (number)"),
            "{err}"
        );
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
