//! Which prepared features segment.
//!
//! `[features]` in a manifest chooses the columns the segmentation runs see
//! (`include` / `exclude`, by name or glob), while the segment cards still
//! profile every prepared column: segmenting on behaviour and describing the
//! segments by demographics is the usual practice. `discrete_in_mixtures =
//! false` also keeps columns with few distinct values (binary, one-hot,
//! counts, `key`, `mode`) out of Gaussian mixtures, whose component variance
//! collapses on them.
//!
//! The selection is by name, so it is resolved again against every recipe
//! fitted on a subset of the rows (a fold, a cohort), whose columns may differ
//! from the full load's (a rare category merged away, a constant column dropped).

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use strata_core::{AlgoError, Clusterer, Diagnostics, FittedClusterer, FittedReducer, Reducer, Seed};

/// Most distinct values a column may take to count as discrete (binary,
/// one-hot, counts, `key`, `mode`).
pub const DISCRETE_MAX_VALUES: usize = 12;

/// Columns of `x` with at most [`DISCRETE_MAX_VALUES`] distinct values.
pub fn discrete_columns(x: ArrayView2<'_, f64>) -> Vec<usize> {
    (0..x.ncols())
        .filter(|&j| {
            let mut seen: Vec<u64> = Vec::new();
            for v in x.column(j) {
                let b = v.to_bits();
                if !seen.contains(&b) {
                    seen.push(b);
                    if seen.len() > DISCRETE_MAX_VALUES {
                        return false;
                    }
                }
            }
            true
        })
        .collect()
}

/// The prepared features that segment: every one, or those matching
/// `include` (all when empty) and none of `exclude`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl Columns {
    /// No selection: every prepared feature segments.
    pub fn is_all(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Indices of the selected `names`, in their order. With `strict`, a
    /// pattern that matches no name is an error (a typo would otherwise pass
    /// unnoticed); recipes fitted on a subset of rows resolve without it,
    /// since a category can be absent there.
    pub fn resolve(&self, names: &[String], strict: bool) -> Result<Vec<usize>, String> {
        if strict {
            for (key, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
                for p in patterns {
                    if !names.iter().any(|n| glob_match(p, n)) {
                        return Err(format!(
                            "[features] {key}: \"{p}\" matches no prepared feature{}; the features are: {}",
                            // A name, not a glob, may be a typo of one.
                            if p.contains(['*', '?']) {
                                String::new()
                            } else {
                                strata_core::text::did_you_mean(p, names.iter())
                            },
                            names.join(", ")
                        ));
                    }
                }
            }
        }
        let kept: Vec<usize> = (0..names.len())
            .filter(|&j| {
                (self.include.is_empty() || self.include.iter().any(|p| glob_match(p, &names[j])))
                    && !self.exclude.iter().any(|p| glob_match(p, &names[j]))
            })
            .collect();
        if kept.is_empty() {
            return Err(format!(
                "[features] leaves no feature to segment on (include {:?}, exclude {:?}); the features are: {}",
                self.include,
                self.exclude,
                names.join(", ")
            ));
        }
        Ok(kept)
    }

    /// The selection as written: `include Mnt*, Num*; exclude NumWebVisitsMonth`,
    /// or "every prepared feature".
    pub fn label(&self) -> String {
        if self.is_all() {
            return "every prepared feature".into();
        }
        [("include", &self.include), ("exclude", &self.exclude)]
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(key, p)| format!("{key} {}", p.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A short description for reports: "every prepared feature" or the kept names.
    pub fn describe(&self, names: &[String]) -> String {
        if self.is_all() {
            return "every prepared feature".into();
        }
        match self.resolve(names, false) {
            Ok(kept) => format!(
                "{} of {} prepared features ({})",
                kept.len(),
                names.len(),
                kept.iter()
                    .map(|&j| names[j].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => e,
        }
    }
}

/// `[features]` in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSection {
    /// Names or globs of the prepared features that segment (all when empty).
    #[serde(default)]
    pub include: Vec<String>,
    /// Names or globs of prepared features that do not segment.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// When false, Gaussian mixtures leave out the columns that are discrete
    /// on their fit rows.
    #[serde(default = "yes")]
    pub discrete_in_mixtures: bool,
}

impl FeatureSection {
    /// The column selection every run carries.
    pub fn columns(&self) -> Columns {
        Columns {
            include: self.include.clone(),
            exclude: self.exclude.clone(),
        }
    }

    /// Whether a clusterer leaves the discrete columns out: a Gaussian
    /// mixture under `discrete_in_mixtures = false`, in the runs and in the
    /// classification stage alike.
    pub fn drops_discrete(&self, clusterer: &str) -> bool {
        !self.discrete_in_mixtures && clusterer == "gmm"
    }
}

fn yes() -> bool {
    true
}

impl Default for FeatureSection {
    fn default() -> Self {
        FeatureSection {
            include: Vec::new(),
            exclude: Vec::new(),
            discrete_in_mixtures: true,
        }
    }
}

/// Shell-style match of a whole name: `*` any run of characters, `?` one
/// character, everything else literal.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with one backtrack point (the last `*`).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// A reducer that first leaves out the columns discrete on its fit rows
/// (what `discrete_in_mixtures = false` puts in front of a mixture), then
/// fits the wrapped reducer on the rest.
pub struct ContinuousOnly(pub Box<dyn Reducer>);

struct FittedContinuousOnly {
    cols: Continuous,
    inner: Box<dyn FittedReducer>,
}

/// The columns continuous on a wrapper's fit rows, and how many columns
/// those rows had: how [`ContinuousOnly`] and [`ContinuousOnlyClusterer`]
/// read every later row.
struct Continuous {
    kept: Vec<usize>,
    width: usize,
}

impl Continuous {
    /// The columns of the fit rows `x`, and `x` read through them.
    fn fit(x: ArrayView2<'_, f64>) -> Result<(Continuous, Array2<f64>), AlgoError> {
        let kept = ContinuousOnly::kept(x)?;
        let selected = x.select(Axis(1), &kept);
        Ok((Continuous { kept, width: x.ncols() }, selected))
    }

    /// New rows read through the kept columns; rows of another width are
    /// refused, not misread.
    fn select(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        strata_core::check_columns(x, self.width)?;
        Ok(x.select(Axis(1), &self.kept))
    }
}

impl ContinuousOnly {
    fn kept(x: ArrayView2<'_, f64>) -> Result<Vec<usize>, AlgoError> {
        let discrete = discrete_columns(x);
        let kept: Vec<usize> = (0..x.ncols()).filter(|j| !discrete.contains(j)).collect();
        if kept.is_empty() {
            return Err(AlgoError::Other(format!(
                "discrete_in_mixtures = false: all {} columns have at most {DISCRETE_MAX_VALUES} distinct values, none is left for the mixture",
                x.ncols()
            )));
        }
        Ok(kept)
    }
}

impl Reducer for ContinuousOnly {
    /// Not the wrapped reducer's name: its output has fewer columns.
    fn name(&self) -> &str {
        "continuous"
    }
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedReducer>, AlgoError> {
        let (cols, selected) = Continuous::fit(x)?;
        let inner = self.0.fit(selected.view(), seed)?;
        Ok(Box::new(FittedContinuousOnly { cols, inner }))
    }
    fn fit_transform(
        &self,
        x: ArrayView2<'_, f64>,
        seed: Seed,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f64>), AlgoError> {
        let (cols, selected) = Continuous::fit(x)?;
        let (inner, y) = self.0.fit_transform(selected.view(), seed)?;
        Ok((Box::new(FittedContinuousOnly { cols, inner }), y))
    }
}

impl FittedReducer for FittedContinuousOnly {
    fn n_components(&self) -> usize {
        self.inner.n_components()
    }
    fn component_names(&self) -> Vec<String> {
        self.inner.component_names()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        self.inner.transform(self.cols.select(x)?.view())
    }
    // No inverse: the columns left out cannot be brought back.
    fn diagnostics(&self) -> Diagnostics {
        let mut d = self.inner.diagnostics();
        d.scalars
            .insert("continuous_columns".into(), self.cols.kept.len() as f64);
        d
    }
}

/// A clusterer behind the same rule as [`ContinuousOnly`]: it clusters the
/// columns continuous on its fit rows, and reads new rows through those
/// columns. What `discrete_in_mixtures = false` puts in front of a mixture
/// whose labels or posteriors feed the classification stage.
pub struct ContinuousOnlyClusterer(pub Box<dyn Clusterer>);

struct FittedContinuousOnlyClusterer {
    cols: Continuous,
    inner: Box<dyn FittedClusterer>,
}

impl Clusterer for ContinuousOnlyClusterer {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        let (cols, selected) = Continuous::fit(x)?;
        let inner = self.0.fit(selected.view(), seed)?;
        Ok(Box::new(FittedContinuousOnlyClusterer { cols, inner }))
    }
}

impl FittedClusterer for FittedContinuousOnlyClusterer {
    fn n_clusters(&self) -> usize {
        self.inner.n_clusters()
    }
    fn labels(&self) -> &ndarray::Array1<usize> {
        self.inner.labels()
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<usize>, AlgoError> {
        self.inner.predict(self.cols.select(x)?.view())
    }
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        self.inner.predict_proba(self.cols.select(x)?.view())
    }
    fn diagnostics(&self, x: ArrayView2<'_, f64>) -> Diagnostics {
        match self.cols.select(x) {
            Ok(k) => self.inner.diagnostics(k.view()),
            Err(_) => Diagnostics::default(),
        }
    }
}

/// The kept columns of a [`ContinuousOnly`] fit on `x`: the same rule, for
/// naming the columns in reports.
pub fn continuous_columns(x: ArrayView2<'_, f64>) -> Vec<usize> {
    ContinuousOnly::kept(x).unwrap_or_default()
}

/// What a run segmented on, when `[features]` narrowed it or its mixture
/// left the discrete columns out (named, where the run recorded them);
/// `None` for every prepared feature.
pub fn note(run: &crate::store::RunRecord) -> Option<String> {
    let cfg = &run.config;
    let mut parts = Vec::new();
    if !cfg.columns.is_all() {
        let list = |v: &[String]| v.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
        let mut what = "Segmented on the prepared features".to_string();
        if !cfg.columns.include.is_empty() {
            what.push_str(&format!(" matching {}", list(&cfg.columns.include)));
        }
        if !cfg.columns.exclude.is_empty() {
            what.push_str(&format!(" except {}", list(&cfg.columns.exclude)));
        }
        parts.push(format!(
            "{what} (`[features]`); the segment cards profile every prepared column."
        ));
    }
    if cfg.drop_discrete {
        let named = run
            .representation
            .as_ref()
            .filter(|r| !r.left_out.is_empty())
            .map(|r| {
                let names: Vec<String> = r.left_out.iter().map(|c| format!("`{c}`")).collect();
                format!(": {}", names.join(", "))
            })
            .unwrap_or_default();
        parts.push(format!(
            "The mixture left out the columns with at most {DISCRETE_MAX_VALUES} distinct values on its fit rows{named} (`discrete_in_mixtures = false`)."
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// What the segmentation's columns hold, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub kinds: Vec<strata_core::ColumnKind>,
    pub names: Vec<String>,
}

/// Fits a clusterer on the output `z` of a representation of `input`
/// columns: through the `none` representation (the same columns) the
/// clusterer learns what each column holds, so a clusterer for mixed data
/// sees its categories and a numeric-only one refuses category codes; after
/// any other representation every column is a number.
pub fn fit_clusterer(
    clusterer: &dyn strata_core::Clusterer,
    reducer_name: &str,
    z: ArrayView2<'_, f64>,
    input: Option<&Typed>,
    seed: Seed,
) -> Result<Box<dyn strata_core::FittedClusterer>, AlgoError> {
    match input {
        Some(t) if reducer_name == "none" && z.ncols() == t.kinds.len() => {
            clusterer.fit_typed(z, &t.kinds, &t.names, seed)
        }
        Some(t)
            if reducer_name == "none"
                && t.kinds.iter().any(|k| *k != strata_core::ColumnKind::Numeric) =>
        {
            Err(AlgoError::ColumnMismatch {
                expected: t.kinds.len(),
                got: z.ncols(),
            })
        }
        _ => clusterer.fit(z, seed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_match("Mnt*", "MntWines"));
        assert!(glob_match("*Purchases", "NumWebPurchases"));
        assert!(glob_match("Num*Purchases", "NumDealsPurchases"));
        assert!(glob_match("Kid?ome", "Kidhome"));
        assert!(glob_match("*", ""));
        assert!(glob_match("Income", "Income"));
        assert!(!glob_match("Income", "Income2"), "a literal pattern matches the whole name");
        assert!(!glob_match("Mnt*", "NumMnt"));
        assert!(!glob_match("?", ""));
        assert!(glob_match("a*b*c", "a-b-b-c"));
        assert!(!glob_match("a*b*c", "a-c-b"));
        assert!(glob_match("Education=*", "Education=PhD"));
    }

    #[test]
    fn selection_resolves_include_then_exclude_and_names_bad_patterns() {
        let all = names(&["Income", "MntWines", "MntMeat", "Education=PhD", "Age"]);
        assert_eq!(Columns::default().resolve(&all, true).unwrap(), vec![0, 1, 2, 3, 4]);
        let c = Columns {
            include: vec!["Mnt*".into(), "Income".into()],
            exclude: vec!["MntMeat".into()],
        };
        assert_eq!(c.resolve(&all, true).unwrap(), vec![0, 1]);
        let only_exclude = Columns {
            include: vec![],
            exclude: vec!["Education=*".into(), "Age".into()],
        };
        assert_eq!(only_exclude.resolve(&all, true).unwrap(), vec![0, 1, 2]);
        let typo = Columns {
            include: vec!["Mnt*".into(), "Incme".into()],
            exclude: vec![],
        };
        let e = typo.resolve(&all, true).unwrap_err();
        assert!(e.starts_with("[features] include: \"Incme\" matches no prepared feature; did you mean `Income`?; the features are: "), "{e}");
        // A subset's recipe may lack a category: not an error there.
        assert_eq!(typo.resolve(&all, false).unwrap(), vec![1, 2]);
        let none = Columns {
            include: vec!["Mnt*".into()],
            exclude: vec!["Mnt*".into()],
        };
        assert!(none.resolve(&all, true).unwrap_err().contains("leaves no feature"));
        assert_eq!(
            c.describe(&all),
            "2 of 5 prepared features (Income, MntWines)"
        );
    }

    #[test]
    fn continuous_only_drops_discrete_columns_of_its_fit_rows() {
        let mut r = strata_core::Rng::new(Seed(4));
        let n = 50;
        // Column 1 is binary, column 2 takes 3 values; 0 and 3 are continuous.
        let x = Array2::from_shape_fn((n, 4), |(i, j)| match j {
            1 => (i % 2) as f64,
            2 => (i % 3) as f64,
            _ => r.normal(),
        });
        let (fitted, y) = ContinuousOnly(Box::new(crate::registry::Identity))
            .fit_transform(x.view(), Seed(1))
            .unwrap();
        assert_eq!(y.ncols(), 2);
        assert_eq!(y.column(0), x.column(0));
        assert_eq!(y.column(1), x.column(3));
        assert_eq!(fitted.transform(x.view()).unwrap(), y);
        assert!(fitted.inverse_transform(y.view()).is_err());
        assert!(fitted.transform(x.slice(ndarray::s![.., ..3])).is_err());
        assert_eq!(continuous_columns(x.view()), vec![0, 3]);
        let f = ContinuousOnly(Box::new(crate::registry::Identity))
            .fit(x.view(), Seed(1))
            .unwrap();
        assert_eq!(f.n_components(), 2);
        let all_discrete = x.select(Axis(1), &[1, 2]);
        let e = ContinuousOnly(Box::new(crate::registry::Identity))
            .fit(all_discrete.view(), Seed(1))
            .err()
            .expect("nothing left");
        assert!(e.to_string().contains("none is left for the mixture"), "{e}");
    }

    #[test]
    fn a_continuous_only_mixture_is_the_mixture_of_the_continuous_columns() {
        let mut r = strata_core::Rng::new(Seed(5));
        let n = 200;
        // Two groups on columns 0 and 3; column 1 is binary and column 2
        // takes 3 values, unrelated to the groups.
        let x = Array2::from_shape_fn((n, 4), |(i, j)| match j {
            1 => (i % 2) as f64,
            2 => (i % 3) as f64,
            _ => r.normal() + if i < n / 2 { 0.0 } else { 4.0 },
        });
        let gmm = || Box::new(strata_cluster::GaussianMixture::new(2, strata_cluster::CovarianceType::Diag));
        let wrapped = ContinuousOnlyClusterer(gmm()).fit(x.view(), Seed(3)).unwrap();
        let continuous = x.select(Axis(1), &[0, 3]);
        let plain = gmm().fit(continuous.view(), Seed(3)).unwrap();
        assert_eq!(wrapped.labels(), plain.labels());
        assert_eq!(wrapped.n_clusters(), 2);
        assert_eq!(
            wrapped.predict_proba(x.view()).unwrap(),
            plain.predict_proba(continuous.view()).unwrap()
        );
        // New rows are read through the same columns: flipping the discrete
        // ones changes nothing.
        let mut flipped = x.clone();
        flipped.column_mut(1).mapv_inplace(|v| 1.0 - v);
        flipped.column_mut(2).mapv_inplace(|v| 2.0 - v);
        assert_eq!(wrapped.predict(flipped.view()).unwrap(), plain.predict(continuous.view()).unwrap());
        // Rows of another width are refused, not misread.
        let e = wrapped.predict(x.slice(ndarray::s![.., ..3])).expect_err("width");
        assert!(e.to_string().contains('4') && e.to_string().contains('3'), "{e}");
        assert_eq!(
            wrapped.diagnostics(x.view()).scalars,
            plain.diagnostics(continuous.view()).scalars
        );
    }
}
