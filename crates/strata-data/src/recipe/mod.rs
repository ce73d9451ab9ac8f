//! Preprocessing recipes: derive, impute, clip, encode, scale.
//!
//! [`FittedRecipe::fit`] learns every parameter (medians, quantile bounds,
//! categories, means and deviations, the latest date...) from one table, and
//! [`FittedRecipe::transform`] applies exactly those parameters to any table
//! with the same columns, so a model trained on one split transforms another
//! the same way. Fitting is "learn the parameters, then transform the fitting
//! table": the two paths share every step.

mod columns;
mod roles;
#[cfg(test)]
mod tests;

pub(crate) use columns::*;
pub use roles::Roles;

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
        // Constant columns that are not scaled (indicators, codes, or every
        // column without scaling) stay, so that every fit of the recipe
        // gives the same columns; they carry no information, which the
        // user should hear (an encoding that merged every category, say).
        let mut constant_kept = Vec::new();
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
            } else if let Some(&first) = col.first()
                && col.iter().all(|&v| v == first)
            {
                constant_kept.push((name.clone(), first));
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
        for (name, value) in &constant_kept {
            let encoder = recipe.encoders.iter().find(|e| e.output_names().contains(name));
            let why = match encoder {
                Some(e) if !e.merged.is_empty() && e.categories.is_empty() => format!(
                    " (encode.{}: every category has fewer rows than min_count, so all were merged into `{OTHER}`; lower min_count to keep them apart)",
                    e.column
                ),
                _ => String::new(),
            };
            notes.push(warn(
                if encoder.is_some() { "encode" } else { "scale" },
                name,
                format!("constant in the data ({}): it carries no information{why}", fmt_num(*value)),
            ));
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

    /// The raw columns the features are made from: numeric inputs, the
    /// sources of derived columns and the encoded columns.
    pub fn input_columns(&self) -> impl Iterator<Item = &String> {
        self.numeric_inputs
            .iter()
            .chain(self.derived.iter().flat_map(|d| d.sources.iter()))
            .chain(self.encoders.iter().map(|e| &e.column))
    }

    /// The raw columns the prepared feature `name` is made from: itself for
    /// a numeric input, the sources of a derived column, the encoded column
    /// for each of its indicators or its code. Empty for a name the recipe
    /// does not make.
    pub fn sources_of(&self, name: &str) -> Vec<&String> {
        if let Some(c) = self.numeric_inputs.iter().find(|c| *c == name) {
            return vec![c];
        }
        if let Some(d) = self.derived.iter().find(|d| d.name == name) {
            return d.sources.iter().collect();
        }
        self.encoders
            .iter()
            .filter(|e| e.output_names().iter().any(|o| o == name))
            .map(|e| &e.column)
            .collect()
    }

    /// Applies the fitted recipe to a table with the same columns.
    pub fn transform(&self, t: &RawTable) -> Result<Transformed> {
        let present = t.column_names();
        for col in self.input_columns() {
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
