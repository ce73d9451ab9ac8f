//! Preprocessing recipes: derive, impute, clip, encode, scale.
//!
//! [`FittedRecipe::fit`] learns every parameter (medians, quantile bounds,
//! categories, means and deviations, the latest date...) from one table, and
//! [`FittedRecipe::transform`] applies exactly those parameters to any table
//! with the same columns, so a model trained on one split transforms another
//! the same way. Fitting is "learn the parameters, then transform the fitting
//! table": the two paths share every step.

use crate::csv::RawTable;
use crate::descriptor::{
    ConstantPolicy, DeriveKind, Descriptor, EncodeMethod, Impute, ScaleMethod,
};
use crate::error::{DataError, Result, RowRef};
use chrono::NaiveDate;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What one preprocessing step did, for `strata data inspect` and reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepNote {
    /// `derive`, `impute`, `clip`, `encode`, `scale`, `dedup`, ...
    pub step: String,
    /// Column concerned.
    pub column: String,
    pub message: String,
    /// A warning the user should read (dropped column, unseen category...).
    pub warning: bool,
}

impl std::fmt::Display for StepNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}: {}",
            if self.warning { "warning: " } else { "" },
            self.column,
            self.message
        )
    }
}

pub(crate) fn note(step: &str, column: &str, message: String) -> StepNote {
    StepNote {
        step: step.into(),
        column: column.into(),
        message,
        warning: false,
    }
}

fn warn(step: &str, column: &str, message: String) -> StepNote {
    tracing::warn!(step, column, "{message}");
    StepNote {
        step: step.into(),
        column: column.into(),
        message,
        warning: true,
    }
}

/// A derived column with its fitted reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedDerive {
    pub name: String,
    pub kind: DeriveKind,
    pub sources: Vec<String>,
    pub reference_year: Option<i32>,
    pub format: Option<String>,
    /// Reference date (`days_since`), fixed at fit time when `latest`.
    pub reference_date: Option<NaiveDate>,
}

/// A fitted categorical encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedEncoder {
    pub column: String,
    pub method: EncodeMethod,
    /// One-hot: kept categories, in output order. Ordinal: categories in order.
    pub categories: Vec<String>,
    /// One-hot: categories merged into `other` (an `other` column exists when non-empty).
    pub merged: Vec<String>,
}

const MISSING_CATEGORY: &str = "(missing)";
const OTHER: &str = "other";

impl FittedRecipe {
    /// What each named column holds: the indicators of one one-hot encoded
    /// category share a group (the encoder's position), a `code` column is
    /// categorical, every other column is a number.
    pub fn column_kinds(&self, names: &[String]) -> Vec<strata_core::ColumnKind> {
        names
            .iter()
            .map(|n| {
                match self
                    .encoders
                    .iter()
                    .enumerate()
                    .find(|(_, e)| e.method != EncodeMethod::Ordinal && e.output_names().contains(n))
                {
                    Some((g, e)) if e.method == EncodeMethod::OneHot => {
                        strata_core::ColumnKind::OneHot(g as u32)
                    }
                    Some(_) => strata_core::ColumnKind::Categorical,
                    None => strata_core::ColumnKind::Numeric,
                }
            })
            .collect()
    }
}

impl FittedEncoder {
    fn output_names(&self) -> Vec<String> {
        match self.method {
            EncodeMethod::Ordinal | EncodeMethod::Code => vec![self.column.clone()],
            EncodeMethod::OneHot => {
                let mut v: Vec<String> = self
                    .categories
                    .iter()
                    .map(|c| format!("{}={c}", self.column))
                    .collect();
                if !self.merged.is_empty() {
                    v.push(format!("{}={OTHER}", self.column));
                }
                v
            }
        }
    }
}

/// Scaling of one column: `(x - center) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnScale {
    pub name: String,
    pub center: f64,
    pub scale: f64,
    /// Dropped because constant at fit time.
    pub dropped: bool,
}

/// Every parameter learned from the fitting table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRecipe {
    pub dataset: String,
    pub na_values: Vec<String>,
    /// Raw numeric input columns, in file order.
    pub numeric_inputs: Vec<String>,
    pub derived: Vec<FittedDerive>,
    /// Fill value per numeric column that has an imputation rule.
    pub impute: BTreeMap<String, (Impute, f64)>,
    /// Clip bounds per numeric column.
    pub clip: BTreeMap<String, (f64, f64)>,
    pub encoders: Vec<FittedEncoder>,
    pub scale_method: ScaleMethod,
    /// One entry per column before scaling (numeric, derived, encoded), in order.
    pub scaling: Vec<ColumnScale>,
}

/// Output of [`FittedRecipe::transform`].
#[derive(Debug, Clone)]
pub struct Transformed {
    /// Model features, scaled.
    pub features: Array2<f64>,
    /// The same columns in original units (after imputation, clipping and encoding).
    pub unscaled: Array2<f64>,
    pub feature_names: Vec<String>,
    /// What each step did to this table.
    pub notes: Vec<StepNote>,
}

/// The columns before scaling: names, matrix in original units, which columns
/// are one-hot indicators, and what the steps did.
struct Unscaled {
    names: Vec<String>,
    matrix: Array2<f64>,
    one_hot: Vec<bool>,
    notes: Vec<StepNote>,
}

/// The columns' roles, resolved against a table's header.
#[derive(Debug, Clone)]
pub struct Roles {
    pub numeric_inputs: Vec<String>,
    pub encoded: Vec<String>,
}

impl Roles {
    /// Checks every column the descriptor names against the table and works out
    /// which columns are model inputs.
    pub fn resolve(d: &Descriptor, t: &RawTable) -> Result<Roles> {
        let present = t.column_names();
        let has = |c: &str| present.iter().any(|p| p == c);
        let check = |key: String, column: &str| -> Result<()> {
            if has(column) {
                Ok(())
            } else {
                Err(DataError::UnknownColumn(Box::new(
                    crate::error::UnknownColumn {
                        descriptor: d.path.clone(),
                        data: t.path.clone(),
                        key,
                        column: column.to_string(),
                        hint: strata_core::text::did_you_mean(column, present.iter()),
                        present: present.clone(),
                    },
                )))
            }
        };
        let c = &d.columns;
        let single = [
            ("columns.id", &c.id),
            ("columns.dedup_key", &c.dedup_key),
            ("columns.target", &c.target),
        ];
        for (key, col) in single {
            if let Some(col) = col {
                check(key.into(), col)?;
            }
        }
        for (key, list) in [("columns.drop", &c.drop), ("columns.metadata", &c.metadata)] {
            for col in list {
                check(key.into(), col)?;
            }
        }
        if let Some(f) = &c.features {
            for col in f {
                check("columns.features".into(), col)?;
            }
        }
        let mut consumed = Vec::new();
        for (i, dv) in d.derive.iter().enumerate() {
            let sources: Vec<&String> = dv.from.iter().chain(dv.columns.iter()).collect();
            for s in sources {
                check(format!("derive[{i}]"), s)?;
                if !dv.keep_source {
                    consumed.push(s.clone());
                }
            }
        }
        for (i, e) in d.encode.iter().enumerate() {
            check(format!("encode[{i}].column"), &e.column)?;
        }
        if let Some(cl) = &d.clip {
            for col in &cl.columns {
                let derived = d.derive.iter().any(|dv| &dv.name == col);
                if !derived {
                    check("clip.columns".into(), col)?;
                }
            }
        }
        for col in d.impute.keys() {
            let derived = d.derive.iter().any(|dv| &dv.name == col);
            if !derived {
                check(format!("impute.{col}"), col)?;
            }
        }
        let mut economics = Vec::new();
        if let Some(e) = &d.economics {
            for (key, amount) in [
                ("economics.cost_per_contact", &e.cost_per_contact),
                ("economics.revenue_per_response", &e.revenue_per_response),
            ] {
                if let crate::descriptor::Amount::Column(col) = amount {
                    check(key.into(), col)?;
                    economics.push(col.clone());
                }
            }
        }

        let excluded = |col: &String| {
            c.id.as_ref() == Some(col)
                || c.dedup_key.as_ref() == Some(col)
                || c.target.as_ref() == Some(col)
                || c.drop.contains(col)
                || c.metadata.contains(col)
                || economics.contains(col)
        };
        let inputs: Vec<String> = match &c.features {
            Some(f) => present.iter().filter(|p| f.contains(p)).cloned().collect(),
            None => present
                .iter()
                .filter(|p| !excluded(p) && !consumed.contains(p))
                .cloned()
                .collect(),
        };
        let mut encoded = Vec::new();
        for (i, e) in d.encode.iter().enumerate() {
            if !inputs.contains(&e.column) {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("encode[{i}].column"),
                    message: format!(
                        "`{}` is not a model input (it has another role: id, target, drop, metadata, economics or a consumed derive source)",
                        e.column
                    ),
                });
            }
            encoded.push(e.column.clone());
        }
        let numeric_inputs: Vec<String> = inputs
            .into_iter()
            .filter(|c| !encoded.contains(c))
            .collect();
        let derived_names: Vec<&String> = d.derive.iter().map(|dv| &dv.name).collect();
        for (i, dv) in d.derive.iter().enumerate() {
            if present.contains(&dv.name)
                && (numeric_inputs.contains(&dv.name) || !consumed.contains(&dv.name))
            {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("derive[{i}].name"),
                    message: format!(
                        "`{}` is already a column of the data; choose another name",
                        dv.name
                    ),
                });
            }
        }
        let numeric_or_derived =
            |col: &String| numeric_inputs.contains(col) || derived_names.contains(&col);
        for col in d.impute.keys() {
            if !numeric_or_derived(col) {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("impute.{col}"),
                    message: format!(
                        "`{col}` is not a numeric model input; imputation applies to numeric inputs and derived columns (missing categories become their own category `{MISSING_CATEGORY}`)"
                    ),
                });
            }
        }
        if let Some(cl) = &d.clip {
            for col in &cl.columns {
                if !numeric_or_derived(col) {
                    return Err(DataError::DescriptorValue {
                        path: d.path.clone(),
                        key: "clip.columns".into(),
                        message: format!("`{col}` is not a numeric model input or derived column"),
                    });
                }
            }
        }
        if numeric_inputs.is_empty() && encoded.is_empty() && d.derive.is_empty() {
            return Err(DataError::NoFeatures {
                path: d.path.clone(),
            });
        }
        Ok(Roles {
            numeric_inputs,
            encoded,
        })
    }
}

/// Parses a cell as a finite number.
fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A numeric column, missing cells as `None`; a non-numeric cell is an error
/// naming its row.
pub(crate) fn numeric_column(
    t: &RawTable,
    column: &str,
    na: &[String],
) -> Result<Vec<Option<f64>>> {
    let cells = t.text_column(column, na)?;
    let mut out = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        match cell {
            None => out.push(None),
            Some(s) => match parse_number(s) {
                Some(v) => out.push(Some(v)),
                None => {
                    let bad = cells
                        .iter()
                        .flatten()
                        .filter(|c| parse_number(c).is_none())
                        .count();
                    let hint = if bad * 2 > cells.len() {
                        format!(
                            " (and {} more of {} cells are not numbers: if `{column}` is categorical, list it under [[encode]]; if it only describes rows, under columns.metadata)",
                            bad - 1,
                            cells.len()
                        )
                    } else {
                        String::new()
                    };
                    return Err(DataError::NotNumeric {
                        path: t.path.clone(),
                        at: t.at(i),
                        column: column.into(),
                        value: s.clone(),
                        hint,
                    });
                }
            },
        }
    }
    Ok(out)
}

fn date_column(
    t: &RawTable,
    column: &str,
    format: &str,
    na: &[String],
) -> Result<Vec<Option<NaiveDate>>> {
    let cells = t.text_column(column, na)?;
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            None => Ok(None),
            Some(s) => {
                NaiveDate::parse_from_str(s, format)
                    .map(Some)
                    .map_err(|_| DataError::BadDate {
                        path: t.path.clone(),
                        at: t.at(i),
                        column: column.into(),
                        value: s.clone(),
                        format: format.into(),
                    })
            }
        })
        .collect()
}

/// Median of sorted values (mean of the two middle ones for an even count).
fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Quantile of sorted values with linear interpolation (numpy's default).
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

fn sorted_present(v: &[Option<f64>]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().flatten().copied().collect();
    s.sort_by(f64::total_cmp);
    s
}

fn fmt_num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{}", (v * 1e6).round() / 1e6)
    }
}

impl FittedRecipe {
    /// Learns every preprocessing parameter from `t`, then transforms `t`.
    pub fn fit(d: &Descriptor, t: &RawTable) -> Result<(FittedRecipe, Transformed)> {
        let roles = Roles::resolve(d, t)?;
        let na = d.source.na_values.clone();

        // Derived columns: fix their references.
        let mut derived = Vec::new();
        for dv in &d.derive {
            let sources: Vec<String> = dv.from.iter().chain(dv.columns.iter()).cloned().collect();
            let mut reference_date = None;
            if dv.kind == DeriveKind::DaysSince {
                let format = dv.format.clone().unwrap_or_default();
                reference_date = match dv.reference.as_deref() {
                    None | Some("latest") => {
                        let dates = date_column(t, &sources[0], &format, &na)?;
                        dates.into_iter().flatten().max()
                    }
                    Some(r) => NaiveDate::parse_from_str(r, "%Y-%m-%d").ok(),
                };
            }
            derived.push(FittedDerive {
                name: dv.name.clone(),
                kind: dv.kind,
                sources,
                reference_year: dv.reference_year,
                format: dv.format.clone(),
                reference_date,
            });
        }

        let mut recipe = FittedRecipe {
            dataset: d.name.clone(),
            na_values: na,
            numeric_inputs: roles.numeric_inputs.clone(),
            derived,
            impute: BTreeMap::new(),
            clip: BTreeMap::new(),
            encoders: Vec::new(),
            scale_method: d.scale.method,
            scaling: Vec::new(),
        };

        // Imputation values, from the numeric columns as read.
        let numeric = recipe.numeric_columns(t)?;
        for (name, values) in &numeric {
            let Some(rule) = d.impute.get(name) else {
                continue;
            };
            let present = sorted_present(values);
            if present.is_empty() {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("impute.{name}"),
                    message: format!("every value of `{name}` is missing; nothing to impute from"),
                });
            }
            let fill = match rule {
                Impute::Median => median_sorted(&present),
                Impute::Mean => present.iter().sum::<f64>() / present.len() as f64,
                Impute::Constant(c) => *c,
            };
            recipe.impute.insert(name.clone(), (*rule, fill));
        }

        // Clip bounds, from imputed values.
        if let Some(cl) = &d.clip {
            let targets: Vec<&String> = if cl.columns.is_empty() {
                numeric.iter().map(|(n, _)| n).collect()
            } else {
                cl.columns.iter().collect()
            };
            for name in targets {
                let Some((_, values)) = numeric.iter().find(|(n, _)| n == name) else {
                    continue;
                };
                let filled = recipe.imputed(t, name, values)?.0;
                let mut s = filled.clone();
                s.sort_by(f64::total_cmp);
                recipe.clip.insert(
                    name.clone(),
                    (quantile_sorted(&s, cl.lower), quantile_sorted(&s, cl.upper)),
                );
            }
        }

        // Categories.
        for e in &d.encode {
            let cells = t.text_column(&e.column, &recipe.na_values)?;
            let encoder = match e.method {
                EncodeMethod::OneHot | EncodeMethod::Code => {
                    let mut counts: HashMap<&str, usize> = HashMap::new();
                    for c in &cells {
                        *counts
                            .entry(c.as_deref().unwrap_or(MISSING_CATEGORY))
                            .or_default() += 1;
                    }
                    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
                    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                    let (kept, merged): (Vec<_>, Vec<_>) =
                        by_count.into_iter().partition(|(_, n)| *n >= e.min_count);
                    let mut merged: Vec<String> =
                        merged.into_iter().map(|(c, _)| c.to_string()).collect();
                    merged.sort();
                    FittedEncoder {
                        column: e.column.clone(),
                        method: e.method,
                        categories: kept.into_iter().map(|(c, _)| c.to_string()).collect(),
                        merged,
                    }
                }
                EncodeMethod::Ordinal => FittedEncoder {
                    column: e.column.clone(),
                    method: e.method,
                    categories: e.order.clone(),
                    merged: vec![],
                },
            };
            recipe.encoders.push(encoder);
        }

        // Scaling parameters, from the unscaled matrix of the fitting table.
        let Unscaled {
            names,
            matrix: unscaled,
            one_hot: is_one_hot,
            ..
        } = recipe.unscaled(t)?;
        for (j, name) in names.iter().enumerate() {
            let col: Vec<f64> = unscaled.column(j).to_vec();
            let mut scale = ColumnScale {
                name: name.clone(),
                center: 0.0,
                scale: 1.0,
                dropped: false,
            };
            let coded = recipe
                .encoders
                .iter()
                .any(|e| e.method == EncodeMethod::Code && e.column == *name);
            if d.scale.method != ScaleMethod::None
                && !coded
                && (!is_one_hot[j] || d.scale.include_one_hot)
            {
                let mut s = col.clone();
                s.sort_by(f64::total_cmp);
                let (lo, hi) = (s[0], s[s.len() - 1]);
                if lo == hi {
                    if d.scale.constant == ConstantPolicy::Error {
                        return Err(DataError::ConstantFeature {
                            path: t.path.clone(),
                            column: name.clone(),
                            value: lo,
                        });
                    }
                    scale.dropped = true;
                } else {
                    let (center, spread) = match d.scale.method {
                        ScaleMethod::Standard => {
                            let n = s.len() as f64;
                            let mean = col.iter().sum::<f64>() / n;
                            let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                            (mean, var.sqrt())
                        }
                        ScaleMethod::Robust => (
                            median_sorted(&s),
                            quantile_sorted(&s, 0.75) - quantile_sorted(&s, 0.25),
                        ),
                        ScaleMethod::MinMax => (lo, hi - lo),
                        ScaleMethod::None => (0.0, 1.0),
                    };
                    scale.center = center;
                    scale.scale = if spread > 0.0 { spread } else { 1.0 };
                }
            }
            recipe.scaling.push(scale);
        }
        if recipe.scaling.iter().all(|s| s.dropped) {
            return Err(DataError::NoFeatures {
                path: d.path.clone(),
            });
        }

        let mut out = recipe.transform(t)?;
        // Fit-time descriptions go before the per-table notes.
        let mut notes = Vec::new();
        for dv in &recipe.derived {
            let how = match dv.kind {
                DeriveKind::Age => format!(
                    "{} - `{}`",
                    dv.reference_year.unwrap_or_default(),
                    dv.sources[0]
                ),
                DeriveKind::DaysSince => format!(
                    "days from `{}` to {}",
                    dv.sources[0],
                    dv.reference_date
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "(no date)".into())
                ),
                DeriveKind::Sum => dv
                    .sources
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" + "),
            };
            notes.push(note("derive", &dv.name, format!("derived as {how}")));
        }
        for enc in &recipe.encoders {
            let msg = match enc.method {
                EncodeMethod::OneHot => {
                    let mut cats = enc.categories.clone();
                    if !enc.merged.is_empty() {
                        cats.push(OTHER.to_string());
                    }
                    format!("one-hot into {} columns ({})", cats.len(), cats.join(", "))
                }
                EncodeMethod::Ordinal => format!(
                    "ordinal 0..{} ({})",
                    enc.categories.len() - 1,
                    enc.categories.join(" < ")
                ),
                EncodeMethod::Code => {
                    let mut codes: Vec<String> = enc
                        .categories
                        .iter()
                        .enumerate()
                        .map(|(k, c)| format!("{c} = {k}"))
                        .collect();
                    if !enc.merged.is_empty() {
                        codes.push(format!("{} = {}", enc.merged.join(" / "), enc.categories.len()));
                    }
                    format!("category codes, not scaled ({})", codes.join(", "))
                }
            };
            notes.push(note("encode", &enc.column, msg));
        }
        for s in &recipe.scaling {
            if s.dropped {
                notes.push(warn("scale", &s.name, "constant in the data: dropped (it carries no information and cannot be scaled; set scale.constant = \"error\" to refuse instead)".into()));
            }
        }
        let kept = recipe.scaling.iter().filter(|s| !s.dropped).count();
        let scaled = recipe
            .scaling
            .iter()
            .filter(|s| !s.dropped && (s.center != 0.0 || s.scale != 1.0))
            .count();
        if recipe.scale_method != ScaleMethod::None {
            notes.push(note(
                "scale",
                "(all)",
                format!(
                    "{:?} scaling of {scaled} of {kept} feature columns",
                    recipe.scale_method
                )
                .to_lowercase(),
            ));
        }
        notes.append(&mut out.notes);
        // Pipeline order: derive, impute, clip, encode, scale.
        let rank = |n: &StepNote| {
            ["derive", "impute", "clip", "encode", "scale"]
                .iter()
                .position(|s| *s == n.step)
                .unwrap_or(5)
        };
        notes.sort_by_key(rank);
        out.notes = notes;
        Ok((recipe, out))
    }

    /// Output feature names (scaled columns, constant columns dropped).
    pub fn feature_names(&self) -> Vec<String> {
        self.scaling
            .iter()
            .filter(|s| !s.dropped)
            .map(|s| s.name.clone())
            .collect()
    }

    /// Numeric inputs and derived columns, as read (missing as `None`).
    pub(crate) fn numeric_columns(&self, t: &RawTable) -> Result<Vec<(String, Vec<Option<f64>>)>> {
        let mut cols = Vec::new();
        for name in &self.numeric_inputs {
            cols.push((name.clone(), numeric_column(t, name, &self.na_values)?));
        }
        for dv in &self.derived {
            let values: Vec<Option<f64>> = match dv.kind {
                DeriveKind::Age => {
                    let year = f64::from(dv.reference_year.unwrap_or_default());
                    numeric_column(t, &dv.sources[0], &self.na_values)?
                        .into_iter()
                        .map(|v| v.map(|b| year - b))
                        .collect()
                }
                DeriveKind::DaysSince => {
                    let dates = date_column(
                        t,
                        &dv.sources[0],
                        dv.format.as_deref().unwrap_or(""),
                        &self.na_values,
                    )?;
                    dates
                        .into_iter()
                        .map(|d| Some((dv.reference_date? - d?).num_days() as f64))
                        .collect()
                }
                DeriveKind::Sum => {
                    let parts: Vec<Vec<Option<f64>>> = dv
                        .sources
                        .iter()
                        .map(|s| numeric_column(t, s, &self.na_values))
                        .collect::<Result<_>>()?;
                    (0..t.height())
                        .map(|i| parts.iter().map(|p| p[i]).sum::<Option<f64>>())
                        .collect()
                }
            };
            cols.push((dv.name.clone(), values));
        }
        Ok(cols)
    }

    /// Fills missing values of one column; errors when there is no rule.
    fn imputed(
        &self,
        t: &RawTable,
        name: &str,
        values: &[Option<f64>],
    ) -> Result<(Vec<f64>, Option<StepNote>)> {
        let missing: Vec<usize> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i)
            .collect();
        if missing.is_empty() {
            return Ok((values.iter().map(|v| v.unwrap_or_default()).collect(), None));
        }
        let Some((rule, fill)) = self.impute.get(name) else {
            return Err(DataError::MissingValues {
                path: t.path.clone(),
                column: name.into(),
                count: missing.len(),
                first: t.at(missing[0]),
            });
        };
        let how = match rule {
            Impute::Median => format!("median {}", fmt_num(*fill)),
            Impute::Mean => format!("mean {}", fmt_num(*fill)),
            Impute::Constant(_) => format!("constant {}", fmt_num(*fill)),
        };
        let n = note(
            "impute",
            name,
            format!("imputed {} missing with {how}", missing.len()),
        );
        Ok((values.iter().map(|v| v.unwrap_or(*fill)).collect(), Some(n)))
    }

    /// Everything but scaling.
    fn unscaled(&self, t: &RawTable) -> Result<Unscaled> {
        let n = t.height();
        let mut notes = Vec::new();
        let mut names = Vec::new();
        let mut columns: Vec<Vec<f64>> = Vec::new();
        let mut one_hot = Vec::new();
        for (name, values) in self.numeric_columns(t)? {
            let (mut filled, imputed) = self.imputed(t, &name, &values)?;
            notes.extend(imputed);
            if let Some(&(lo, hi)) = self.clip.get(&name) {
                let (mut below, mut above) = (0, 0);
                for v in filled.iter_mut() {
                    if *v < lo {
                        *v = lo;
                        below += 1;
                    } else if *v > hi {
                        *v = hi;
                        above += 1;
                    }
                }
                notes.push(note(
                    "clip",
                    &name,
                    format!(
                        "clipped to [{}, {}]: {below} values raised, {above} lowered",
                        fmt_num(lo),
                        fmt_num(hi)
                    ),
                ));
            }
            names.push(name);
            columns.push(filled);
            one_hot.push(false);
        }
        for enc in &self.encoders {
            let cells = t.text_column(&enc.column, &self.na_values)?;
            match enc.method {
                EncodeMethod::Ordinal => {
                    let mut col = Vec::with_capacity(n);
                    for (i, c) in cells.iter().enumerate() {
                        let Some(c) = c else {
                            return Err(DataError::MissingValues {
                                path: t.path.clone(),
                                column: enc.column.clone(),
                                count: cells.iter().filter(|c| c.is_none()).count(),
                                first: t.at(i),
                            });
                        };
                        let Some(pos) = enc.categories.iter().position(|k| k == c) else {
                            return Err(DataError::UnknownCategory {
                                path: t.path.clone(),
                                column: enc.column.clone(),
                                value: c.clone(),
                                at: t.at(i),
                                known: enc.categories.join(", "),
                            });
                        };
                        col.push(pos as f64);
                    }
                    names.push(enc.column.clone());
                    columns.push(col);
                    one_hot.push(false);
                }
                EncodeMethod::Code => {
                    // The kept categories by frequency, then one code for
                    // the merged ones and any category unseen when fitting.
                    let other = enc.categories.len() as f64;
                    let mut unseen: BTreeMap<String, usize> = BTreeMap::new();
                    let col: Vec<f64> = cells
                        .iter()
                        .map(|c| {
                            let c = c.as_deref().unwrap_or(MISSING_CATEGORY);
                            match enc.categories.iter().position(|k| k == c) {
                                Some(k) => k as f64,
                                None => {
                                    if !enc.merged.iter().any(|m| m == c) {
                                        *unseen.entry(c.to_string()).or_default() += 1;
                                    }
                                    other
                                }
                            }
                        })
                        .collect();
                    if !unseen.is_empty() {
                        let list: Vec<String> =
                            unseen.iter().map(|(k, v)| format!("{k} ({v})")).collect();
                        notes.push(warn(
                            "encode",
                            &enc.column,
                            format!(
                                "categories not seen when fitting: {} -> code {}",
                                list.join(", "),
                                enc.categories.len()
                            ),
                        ));
                    }
                    names.push(enc.column.clone());
                    columns.push(col);
                    // Codes are never scaled.
                    one_hot.push(true);
                }
                EncodeMethod::OneHot => {
                    let width = enc.output_names().len();
                    let mut block = vec![vec![0.0; n]; width];
                    let mut merged_rows = 0;
                    let mut unseen: BTreeMap<String, usize> = BTreeMap::new();
                    for (i, c) in cells.iter().enumerate() {
                        let c = c.as_deref().unwrap_or(MISSING_CATEGORY);
                        if let Some(k) = enc.categories.iter().position(|k| k == c) {
                            block[k][i] = 1.0;
                        } else if enc.merged.iter().any(|m| m == c) {
                            block[width - 1][i] = 1.0;
                            merged_rows += 1;
                        } else {
                            *unseen.entry(c.to_string()).or_default() += 1;
                            if !enc.merged.is_empty() {
                                block[width - 1][i] = 1.0;
                            }
                        }
                    }
                    if !enc.merged.is_empty() {
                        notes.push(note(
                            "encode",
                            &enc.column,
                            format!(
                                "merged {} ({merged_rows} rows) into {OTHER}",
                                enc.merged.join(", ")
                            ),
                        ));
                    }
                    if !unseen.is_empty() {
                        let list: Vec<String> =
                            unseen.iter().map(|(k, v)| format!("{k} ({v})")).collect();
                        let dest = if enc.merged.is_empty() {
                            "all-zero indicators"
                        } else {
                            OTHER
                        };
                        notes.push(warn(
                            "encode",
                            &enc.column,
                            format!(
                                "categories not seen when fitting: {} -> {dest}",
                                list.join(", ")
                            ),
                        ));
                    }
                    names.extend(enc.output_names());
                    columns.extend(block);
                    one_hot.extend(std::iter::repeat_n(true, width));
                }
            }
        }
        let mut m = Array2::<f64>::zeros((n, columns.len()));
        for (j, col) in columns.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                m[[i, j]] = *v;
            }
        }
        Ok(Unscaled {
            names,
            matrix: m,
            one_hot,
            notes,
        })
    }

    /// Applies the fitted recipe to a table with the same columns.
    pub fn transform(&self, t: &RawTable) -> Result<Transformed> {
        let present = t.column_names();
        let needed = self
            .numeric_inputs
            .iter()
            .chain(self.derived.iter().flat_map(|d| d.sources.iter()))
            .chain(self.encoders.iter().map(|e| &e.column));
        for col in needed {
            if !present.contains(col) {
                return Err(DataError::MissingInput {
                    path: t.path.clone(),
                    column: col.clone(),
                });
            }
        }
        let Unscaled {
            names,
            matrix: unscaled_all,
            notes,
            ..
        } = self.unscaled(t)?;
        if names.len() != self.scaling.len()
            || names.iter().zip(&self.scaling).any(|(a, b)| *a != b.name)
        {
            return Err(DataError::Internal(format!(
                "{}: columns before scaling do not match the fitted recipe",
                t.path.display()
            )));
        }
        let keep: Vec<usize> = (0..names.len())
            .filter(|&j| !self.scaling[j].dropped)
            .collect();
        let unscaled = unscaled_all.select(ndarray::Axis(1), &keep);
        let mut features = unscaled.clone();
        for (k, &j) in keep.iter().enumerate() {
            let s = &self.scaling[j];
            features
                .column_mut(k)
                .mapv_inplace(|v| (v - s.center) / s.scale);
        }
        Ok(Transformed {
            features,
            unscaled,
            feature_names: keep.iter().map(|&j| names[j].clone()).collect(),
            notes,
        })
    }
}

/// Position of a row for messages, re-exported for callers building errors.
pub fn row_ref(t: &RawTable, i: usize) -> RowRef {
    t.at(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::read_table_bytes;
    use std::path::Path;

    fn desc(extra: &str) -> Descriptor {
        let text = format!(
            "[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n{extra}",
            "0".repeat(64)
        );
        Descriptor::from_toml(&text, Path::new("datasets/t.toml")).unwrap()
    }

    fn table(text: &str) -> RawTable {
        read_table_bytes(Path::new("t.csv"), text.as_bytes(), None).unwrap()
    }

    #[test]
    fn standard_scaling_matches_population_sd() {
        let d = desc("[columns]\nid = \"id\"\n");
        let t = table("id,a,b\n1,1,10\n2,2,20\n3,3,60\n");
        let (r, out) = FittedRecipe::fit(&d, &t).unwrap();
        assert_eq!(out.feature_names, ["a", "b"]);
        let a = out.features.column(0).to_vec();
        let sd = (2.0f64 / 3.0).sqrt();
        assert!((a[0] + 1.0 / sd).abs() < 1e-12 && a[1].abs() < 1e-12);
        assert_eq!(out.unscaled.column(1).to_vec(), [10.0, 20.0, 60.0]);
        // Re-applied to new rows with the fitted parameters.
        let out2 = r.transform(&table("id,a,b\n9,2,30\n")).unwrap();
        assert!(out2.features[[0, 0]].abs() < 1e-12);
    }

    #[test]
    fn impute_median_and_report() {
        let d = desc("[impute]\nx = \"median\"\n");
        let t = table("x,y\n1,0\n,1\n4,2\n10,3\n");
        let (_, out) = FittedRecipe::fit(&d, &t).unwrap();
        assert_eq!(out.unscaled.column(0).to_vec(), [1.0, 4.0, 4.0, 10.0]);
        assert!(
            out.notes
                .iter()
                .any(|n| n.to_string() == "x: imputed 1 missing with median 4"),
            "{:?}",
            out.notes
        );
    }

    #[test]
    fn missing_without_rule_is_an_error() {
        let d = desc("");
        let e = FittedRecipe::fit(&d, &table("x,y\n1,0\n,1\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column `x` has 1 missing values (first at row 2 (line 3))"),
            "{e}"
        );
    }

    #[test]
    fn code_keeps_a_category_as_one_unscaled_categorical_column() {
        let d = Descriptor::from_toml(
            "name = \"t\"\n[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n[columns]\n[[encode]]\ncolumn = \"c\"\nmethod = \"code\"\nmin_count = 2\n[scale]\nmethod = \"standard\"\ninclude_one_hot = true\n".replace("{}", &"0".repeat(64)).as_str(),
            std::path::Path::new("t.toml"),
        )
        .expect("descriptor");
        let t = crate::csv::read_table_bytes(
            std::path::Path::new("t.csv"),
            b"x,c\n1,b\n2,a\n3,b\n4,z\n5,a\n6,b\n",
            None,
        )
        .expect("table");
        let (recipe, out) = FittedRecipe::fit(&d, &t).expect("fit");
        assert_eq!(out.feature_names, ["x", "c"]);
        // b (3 rows) = 0, a (2) = 1, z (1, under min_count) = 2; not scaled.
        assert_eq!(out.features.column(1).to_vec(), [0.0, 1.0, 0.0, 2.0, 1.0, 0.0]);
        assert_eq!(
            recipe.column_kinds(&out.feature_names),
            [strata_core::ColumnKind::Numeric, strata_core::ColumnKind::Categorical]
        );
        // A category unseen when fitting takes the last code, with a warning.
        let new = crate::csv::read_table_bytes(std::path::Path::new("n.csv"), b"x,c\n1,q\n", None).expect("table");
        let applied = recipe.transform(&new).expect("transform");
        assert_eq!(applied.features[[0, 1]], 2.0);
        assert!(applied.notes.iter().any(|n| n.message.contains("categories not seen when fitting: q (1) -> code 2")), "{:?}", applied.notes);
    }

    #[test]
    fn one_hot_columns_are_grouped_by_their_category() {
        let d = Descriptor::from_toml(
            "name = \"t\"\n[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n[columns]\n[[encode]]\ncolumn = \"c\"\nmethod = \"one_hot\"\n[[encode]]\ncolumn = \"e\"\nmethod = \"one_hot\"\n".replace("{}", &"0".repeat(64)).as_str(),
            std::path::Path::new("t.toml"),
        )
        .expect("descriptor");
        let t = crate::csv::read_table_bytes(
            std::path::Path::new("t.csv"),
            b"x,c,e\n1,a,u\n2,b,v\n3,a,v\n",
            None,
        )
        .expect("table");
        let (recipe, out) = FittedRecipe::fit(&d, &t).expect("fit");
        use strata_core::ColumnKind::{Numeric, OneHot};
        assert_eq!(out.feature_names, ["x", "c=a", "c=b", "e=v", "e=u"]);
        assert_eq!(
            recipe.column_kinds(&out.feature_names),
            [Numeric, OneHot(0), OneHot(0), OneHot(1), OneHot(1)]
        );
    }

    #[test]
    fn one_hot_merges_rare_categories() {
        let d = desc("[[encode]]\ncolumn = \"s\"\nmin_count = 2\n[scale]\nmethod = \"none\"\n");
        let t = table("s,v\nA,1\nA,2\nB,3\nB,4\nC,5\nD,6\n");
        let (r, out) = FittedRecipe::fit(&d, &t).unwrap();
        assert_eq!(out.feature_names, ["v", "s=A", "s=B", "s=other"]);
        assert_eq!(
            out.features.column(3).to_vec(),
            [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
        );
        assert!(
            out.notes
                .iter()
                .any(|n| n.to_string() == "s: merged C, D (2 rows) into other"),
            "{:?}",
            out.notes
        );
        let o = r.transform(&table("s,v\nZ,1\n")).unwrap();
        assert_eq!(o.features.row(0).to_vec(), [1.0, 0.0, 0.0, 1.0]);
        assert!(
            o.notes
                .iter()
                .any(|n| n.warning && n.message.contains("Z (1)"))
        );
    }

    #[test]
    fn derived_age_days_and_sum() {
        let d = desc(
            "[[derive]]\nname = \"Age\"\nkind = \"age\"\nfrom = \"by\"\nreference_year = 2014\n\
             [[derive]]\nname = \"Days\"\nkind = \"days_since\"\nfrom = \"dt\"\nformat = \"%d-%m-%Y\"\n\
             [[derive]]\nname = \"Kids\"\nkind = \"sum\"\ncolumns = [\"k\", \"t\"]\n[scale]\nmethod = \"none\"\n",
        );
        let t = table("by\tdt\tk\tt\n1980\t01-01-2014\t1\t0\n1990\t11-01-2014\t0\t2\n");
        let (_, out) = FittedRecipe::fit(&d, &t).unwrap();
        assert_eq!(out.feature_names, ["Age", "Days", "Kids"]);
        assert_eq!(out.features.row(0).to_vec(), [34.0, 10.0, 1.0]);
        assert_eq!(out.features.row(1).to_vec(), [24.0, 0.0, 2.0]);
    }

    #[test]
    fn bad_values_name_row_and_column() {
        let d = desc(
            "[[derive]]\nname = \"Days\"\nkind = \"days_since\"\nfrom = \"dt\"\nformat = \"%d-%m-%Y\"\n",
        );
        let e = FittedRecipe::fit(&d, &table("dt,v\n01-01-2014,1\n2014/01/02,2\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "row 2 (line 3), column `dt`: `2014/01/02` is not a date in format `%d-%m-%Y`"
            ),
            "{e}"
        );
        let e = FittedRecipe::fit(&desc(""), &table("v,w\n1,2\nabc,3\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2 (line 3), column `v`: `abc` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn constant_columns_dropped_or_refused() {
        let t = table("a,b\n1,5\n2,5\n3,5\n");
        let (_, out) = FittedRecipe::fit(&desc(""), &t).unwrap();
        assert_eq!(out.feature_names, ["a"]);
        assert!(
            out.notes
                .iter()
                .any(|n| n.warning && n.column == "b" && n.message.contains("dropped"))
        );
        let e = FittedRecipe::fit(&desc("[scale]\nconstant = \"error\"\n"), &t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("feature `b` is constant (5)"), "{e}");
    }

    #[test]
    fn clip_to_quantiles() {
        let d = desc(
            "[clip]\ncolumns = [\"a\"]\nlower = 0.0\nupper = 0.75\n[scale]\nmethod = \"none\"\n",
        );
        let (r, out) = FittedRecipe::fit(&d, &table("a\n1\n2\n3\n100\n")).unwrap();
        // numpy.quantile([1,2,3,100], 0.75) = 27.25
        assert_eq!(out.features.column(0).to_vec(), [1.0, 2.0, 3.0, 27.25]);
        assert_eq!(r.clip["a"], (1.0, 27.25));
    }

    #[test]
    fn robust_and_minmax() {
        let t = table("a\n1\n2\n3\n4\n5\n");
        let (_, out) = FittedRecipe::fit(&desc("[scale]\nmethod = \"robust\"\n"), &t).unwrap();
        assert_eq!(out.features.column(0).to_vec(), [-1.0, -0.5, 0.0, 0.5, 1.0]);
        let (_, out) = FittedRecipe::fit(&desc("[scale]\nmethod = \"min_max\"\n"), &t).unwrap();
        assert_eq!(out.features.column(0).to_vec(), [0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn unknown_columns_list_what_is_there() {
        let e = FittedRecipe::fit(
            &desc("[columns]\ntarget = \"Respons\"\n"),
            &table("Response,v\n1,2\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`columns.target` names column `Respons`"), "{e}");
        assert!(e.contains("did you mean `Response`?"), "{e}");
        assert!(e.contains("columns present: Response, v"), "{e}");
    }

    #[test]
    fn ordinal_encoding() {
        let d = desc(
            "[[encode]]\ncolumn = \"e\"\nmethod = \"ordinal\"\norder = [\"lo\", \"mid\", \"hi\"]\n[scale]\nmethod = \"none\"\n",
        );
        let (r, out) = FittedRecipe::fit(&d, &table("e\nlo\nhi\nmid\n")).unwrap();
        assert_eq!(out.features.column(0).to_vec(), [0.0, 2.0, 1.0]);
        let e = r.transform(&table("e\ntop\n")).unwrap_err().to_string();
        assert!(
            e.contains("category `top` at row 1 (line 2) is not in `order`"),
            "{e}"
        );
    }
}
