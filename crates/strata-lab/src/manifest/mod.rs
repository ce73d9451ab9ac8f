//! Experiment manifests: TOML files in `experiments/`.
//!
//! ```toml
//! name = "spotify_songs"
//! dataset = "../datasets/spotify_songs.toml"
//! seed = 42
//!
//! [[representation]]
//! algorithm = "pca"
//! n_components = [0.9, 6]          # a list is a grid
//!
//! [[clusterer]]
//! algorithm = "kmeans"
//! k = { from = 2, to = 12 }        # an integer range is a grid too
//!
//! [evaluation]
//! silhouette = "exact"             # or "sampled" with silhouette_sample = 5000
//! stability_resamples = 10         # pipeline refits compared (0 switches stability off)
//! agreement = ["playlist_genre"]   # metadata columns compared with the clusters
//!
//! [segments]                       # optional: name the segmentation instead of choosing it
//! representation = { algorithm = "pca", n_components = 0.9 }
//! clusterer = { algorithm = "kmeans", k = 4 }
//!
//! [verdicts]                       # margins of practical relevance (defaults shown)
//! recall = 0.02                    # a recall gain that matters
//! accuracy = 0.01                  # "accuracy changes little" means within this
//! silhouette = 0.02                # a common-space silhouette difference that matters
//! ```
//!
//! Every grid expands to a cartesian product of runs. Validation happens in
//! two passes before anything runs: [`Manifest::from_path`] checks names,
//! types and ranges against the registry (with line and column), and
//! [`Manifest::check_against`] checks what needs the data (k above the number
//! of rows, more components than columns).

mod classification;
mod grid;
#[cfg(test)]
mod tests;

pub use classification::{BASELINES, Classification, FeatureKind, FeatureSpec};
use classification::*;
use grid::*;

use crate::registry::Registry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strata_core::{ParamSpec, ParamValue, Params, Seed};
use strata_neural::{MlpConfig, ThresholdRule};
use thiserror::Error;
use toml::Spanned;

#[derive(Debug, Error)]
pub enum ManifestError {
    /// The I/O error is part of the message, not a separate cause, so an
    /// error chain printed with `{:#}` says it once.
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: `dataset` = {}: no such descriptor (resolved relative to the manifest's folder){hint}", path.display(), dataset.display())]
    NoDescriptor {
        path: PathBuf,
        dataset: PathBuf,
        hint: String,
    },
}

/// Where in the manifest a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: usize,
    pub column: usize,
}

/// How the silhouette is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SilhouetteMode {
    #[default]
    Exact,
    Sampled,
    Off,
}

/// How every clustering of the experiment is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Evaluation {
    pub silhouette: SilhouetteMode,
    /// Rows sampled when `silhouette = "sampled"`.
    pub silhouette_sample: usize,
    /// Subsample fits for stability (0 = off).
    pub stability_resamples: usize,
    /// Fraction of rows in each stability subsample.
    pub stability_fraction: f64,
    /// Metadata columns whose categories are compared with the clusters (ARI, NMI).
    pub agreement: Vec<String>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            silhouette: SilhouetteMode::Exact,
            silhouette_sample: 5000,
            stability_resamples: 10,
            stability_fraction: 0.8,
            agreement: Vec::new(),
        }
    }
}

/// One algorithm with its resolved parameters: part of a run's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgoConfig {
    pub algorithm: String,
    pub params: Params,
}

impl AlgoConfig {
    /// `pca(n_components=0.9, whiten=false)`.
    pub fn label(&self) -> String {
        if self.params.0.is_empty() {
            return self.algorithm.clone();
        }
        let p: Vec<String> = self
            .params
            .0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}({})", self.algorithm, p.join(", "))
    }
}

/// Everything that determines one run's numbers (with the dataset's checksum
/// and the strata version, which the hash adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub representation: AlgoConfig,
    pub clusterer: AlgoConfig,
    pub evaluation: Evaluation,
    pub seed: Seed,
    /// The prepared features that segment (`[features]`); all when empty.
    #[serde(default, skip_serializing_if = "crate::features::Columns::is_all")]
    pub columns: crate::features::Columns,
    /// Columns discrete on the fit rows are left out before the
    /// representation (a mixture under `discrete_in_mixtures = false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_discrete: bool,
}

/// One `[[representation]]` or `[[clusterer]]` table, validated.
#[derive(Debug, Clone)]
pub struct Block {
    pub algorithm: String,
    pub at: Loc,
    /// Every declared parameter with its grid of values and where each was
    /// written (defaults have the block's location).
    pub grid: Vec<(String, Vec<(ParamValue, Loc)>)>,
    pub specs: Vec<ParamSpec>,
    /// A clusterer's `on = [...]`: the representations (by algorithm) it
    /// runs on; all when empty.
    pub on: Vec<String>,
}

impl Block {
    /// The cartesian product of the grid, in declaration order.
    pub fn expand(&self) -> Vec<AlgoConfig> {
        let mut out = vec![Params::default()];
        for (name, values) in &self.grid {
            let mut next = Vec::with_capacity(out.len() * values.len());
            for p in &out {
                for (v, _) in values {
                    let mut q = p.clone();
                    q.0.insert(name.clone(), v.clone());
                    next.push(q);
                }
            }
            out = next;
        }
        out.into_iter()
            .map(|params| AlgoConfig {
                algorithm: self.algorithm.clone(),
                params,
            })
            .collect()
    }
}

/// A parsed and validated experiment manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Experiment name (results go to `<out>/<name>/`); defaults to the file stem.
    pub name: String,
    pub description: String,
    /// Path of the dataset descriptor as written (relative to the manifest's folder).
    pub dataset: PathBuf,
    /// Root seed of every random choice in the experiment.
    pub seed: Seed,
    pub representations: Vec<Block>,
    pub clusterers: Vec<Block>,
    pub evaluation: Evaluation,
    /// The downstream classification, when the manifest asks for one.
    pub classification: Option<Classification>,
    /// Segment stability over time, when the manifest names a date column.
    pub cohorts: Option<crate::cohorts::CohortSpec>,
    /// Margins of practical relevance behind the report's verdicts (`[verdicts]`).
    pub margins: crate::verdict::Margins,
    /// The segmentation named by `[segments]`, instead of the chosen one.
    pub pin: Option<crate::selection::Pin>,
    pin_at: Loc,
    /// Which prepared features segment, and whether mixtures see discrete ones.
    pub features: crate::features::FeatureSection,
    /// Nearest-neighbour quality against human judgements (`[similarity]`).
    pub similarity: Option<crate::neighbours::SimilaritySpec>,
    /// Where the manifest was read from.
    pub path: PathBuf,
    /// The manifest's text, kept for error locations and for the results folder.
    pub text: String,
    evaluation_at: Loc,
}

type RawBlock = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    dataset: PathBuf,
    #[serde(default)]
    seed: Seed,
    #[serde(default)]
    representation: Vec<RawBlock>,
    #[serde(default)]
    clusterer: Vec<RawBlock>,
    #[serde(default)]
    evaluation: Option<Spanned<Evaluation>>,
    #[serde(default)]
    classification: Option<Spanned<RawClassification>>,
    #[serde(default)]
    cohorts: Option<crate::cohorts::CohortSpec>,
    #[serde(default)]
    verdicts: Option<Spanned<crate::verdict::Margins>>,
    #[serde(default)]
    segments: Option<Spanned<RawPin>>,
    #[serde(default)]
    features: Option<crate::features::FeatureSection>,
    #[serde(default)]
    similarity: Option<crate::neighbours::SimilaritySpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPin {
    representation: BTreeMap<String, toml::Value>,
    clusterer: BTreeMap<String, toml::Value>,
}

fn loc_of(text: &str, offset: usize) -> Loc {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    Loc { line, column }
}

impl Manifest {
    /// Reads and validates a manifest against the standard registry.
    pub fn from_path(path: &Path) -> Result<Manifest, ManifestError> {
        Self::from_path_with(path, &Registry::standard())
    }

    /// Reads and validates a manifest against `registry`.
    pub fn from_path_with(path: &Path, registry: &Registry) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|error| ManifestError::Io {
            path: path.into(),
            error,
        })?;
        let syntax = |loc: Loc, message: String| ManifestError::Syntax {
            path: path.into(),
            line: loc.line,
            column: loc.column,
            message,
        };
        let raw: Raw = toml::from_str(&text).map_err(|e| {
            let (line, column, mut message) = strata_data::descriptor::toml_location(&e, &text);
            if strata_data::descriptor::looks_like_descriptor(&text) {
                message.push_str("; this file is a dataset descriptor (it has a [source] table), not an experiment manifest: a manifest names its descriptor with `dataset = \"...\"` (see experiments/)");
            }
            syntax(Loc { line, column }, message)
        })?;
        let mut representations = Vec::new();
        for b in &raw.representation {
            representations.push(
                parse_block(b, "representation", registry, &text).map_err(|(l, m)| syntax(l, m))?,
            );
        }
        let mut clusterers = Vec::new();
        for b in &raw.clusterer {
            clusterers
                .push(parse_block(b, "clusterer", registry, &text).map_err(|(l, m)| syntax(l, m))?);
        }
        if representations.is_empty() {
            // No reduction block means: cluster the features as they are.
            representations.push(Block {
                algorithm: "none".into(),
                at: Loc::default(),
                grid: Vec::new(),
                specs: Vec::new(),
                on: Vec::new(),
            });
        }
        let (evaluation, evaluation_at) = match raw.evaluation {
            Some(e) => {
                let at = loc_of(&text, e.span().start);
                (e.into_inner(), at)
            }
            None => (Evaluation::default(), Loc::default()),
        };
        check_evaluation(&evaluation).map_err(|m| syntax(evaluation_at, m))?;
        let classification = match raw.classification {
            None => None,
            Some(c) => {
                let at = loc_of(&text, c.span().start);
                Some(
                    parse_classification(c.into_inner(), at, registry, &text)
                        .map_err(|(l, m)| syntax(l, m))?,
                )
            }
        };
        let margins = match raw.verdicts {
            None => crate::verdict::Margins::default(),
            Some(v) => {
                let at = loc_of(&text, v.span().start);
                let v = v.into_inner();
                v.check().map_err(|m| syntax(at, m))?;
                v
            }
        };
        let (pin, pin_at) = match raw.segments {
            None => (None, Loc::default()),
            Some(p) => {
                let at = loc_of(&text, p.span().start);
                let p = p.into_inner();
                let side = |name: &str, m: BTreeMap<String, toml::Value>| {
                    if !m.contains_key("algorithm") {
                        return Err(format!("segments.{name} needs `algorithm`"));
                    }
                    m.into_iter()
                        .map(|(k, v)| {
                            let s = match v {
                                toml::Value::String(s) => s,
                                toml::Value::Integer(i) => i.to_string(),
                                toml::Value::Float(f) => f.to_string(),
                                toml::Value::Boolean(b) => b.to_string(),
                                other => {
                                    return Err(format!(
                                        "segments.{name}.{k} = {other}: expected a string, number or boolean"
                                    ));
                                }
                            };
                            Ok((k, s))
                        })
                        .collect::<Result<BTreeMap<String, String>, String>>()
                };
                let pin = crate::selection::Pin {
                    representation: side("representation", p.representation)
                        .map_err(|m| syntax(at, m))?,
                    clusterer: side("clusterer", p.clusterer).map_err(|m| syntax(at, m))?,
                };
                (Some(pin), at)
            }
        };
        let mut m = Manifest {
            pin,
            pin_at,
            features: raw.features.unwrap_or_default(),
            similarity: raw.similarity,
            margins,
            name: raw.name,
            description: raw.description,
            dataset: raw.dataset,
            seed: raw.seed,
            representations,
            clusterers,
            evaluation,
            classification,
            cohorts: raw.cohorts,
            path: path.to_path_buf(),
            text,
            evaluation_at,
        };
        // The classification stage's clusterers see the features the
        // segmentation's do, and its mixtures leave the discrete columns out
        // as the segmentation's do: one `[features]` rule for every clusterer.
        for f in m.classification.iter_mut().flat_map(|c| c.features.iter_mut()) {
            let clusters = matches!(f.kind, FeatureKind::Clusters | FeatureKind::Posteriors);
            f.drop_discrete =
                clusters && f.algorithm.as_ref().is_some_and(|a| m.features.drops_discrete(&a.algorithm));
            if clusters {
                f.columns = m.features.columns();
            }
        }
        if m.name.is_empty() {
            m.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        if m.clusterers.is_empty() {
            return Err(ManifestError::Syntax {
                path: path.into(),
                line: 1,
                column: 1,
                message: format!(
                    "no [[clusterer]]: an experiment needs at least one (available: {})",
                    names(registry.clusterers.iter().map(|e| e.name))
                ),
            });
        }
        if let Some(pin) = &m.pin {
            let n = m.runs().iter().filter(|c| pin.matches(c)).count();
            if n != 1 {
                return Err(syntax(
                    m.pin_at,
                    format!(
                        "[segments] {} matches {n} of the manifest's runs; it must name exactly one (give the algorithms and the parameters that differ, e.g. k)",
                        pin.label()
                    ),
                ));
            }
        }
        let resolved = m.descriptor_path();
        if !resolved.is_file() {
            let siblings: Vec<String> = resolved
                .parent()
                .and_then(|p| std::fs::read_dir(p).ok())
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.ends_with(".toml"))
                        .collect()
                })
                .unwrap_or_default();
            let wanted = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let hint = strata_core::text::did_you_mean(&wanted, siblings.iter());
            return Err(ManifestError::NoDescriptor {
                path: path.into(),
                dataset: resolved,
                hint,
            });
        }
        Ok(m)
    }

    /// The descriptor path, resolved against the manifest's folder.
    pub fn descriptor_path(&self) -> PathBuf {
        let joined = if self.dataset.is_absolute() {
            self.dataset.clone()
        } else {
            self.path
                .parent()
                .unwrap_or(Path::new("."))
                .join(&self.dataset)
        };
        joined.canonicalize().unwrap_or(joined)
    }

    /// Checks what needs the data: counts against rows and columns, the
    /// algorithms' own shape rules, and agreement columns against the
    /// metadata. `metadata` lists the dataset's metadata column names.
    pub fn check_against(
        &self,
        registry: &Registry,
        rows: usize,
        features: usize,
        metadata: &[String],
    ) -> Result<(), ManifestError> {
        let err = |loc: Loc, message: String| ManifestError::Syntax {
            path: self.path.clone(),
            line: loc.line,
            column: loc.column,
            message,
        };
        let mut widest = features;
        for b in &self.representations {
            for (name, values) in &b.grid {
                let spec = b.specs.iter().find(|s| s.name == name);
                for (v, at) in values {
                    if let Some(s) = spec {
                        s.check(v, Some((rows, features))).map_err(|m| {
                            err(*at, format!("representation `{}`: {m}", b.algorithm))
                        })?;
                    }
                }
            }
            for cfg in b.expand() {
                if let Some(e) = registry.find_reducer(&b.algorithm) {
                    (e.check_shape)(&cfg.params, rows, features)
                        .map_err(|m| err(b.at, format!("representation `{}`: {m}", b.algorithm)))?;
                }
                if let Ok(ParamValue::Int(n)) = cfg.params.value("n_components") {
                    widest = widest.max(*n as usize);
                }
            }
        }
        for b in &self.clusterers {
            for (name, values) in &b.grid {
                let spec = b.specs.iter().find(|s| s.name == name);
                for (v, at) in values {
                    if let Some(s) = spec {
                        s.check(v, Some((rows, widest)))
                            .map_err(|m| err(*at, format!("clusterer `{}`: {m}", b.algorithm)))?;
                    }
                }
            }
            if let Some(e) = registry.find_clusterer(&b.algorithm) {
                for cfg in b.expand() {
                    (e.check_shape)(&cfg.params, rows, widest)
                        .map_err(|m| err(b.at, format!("clusterer `{}`: {m}", b.algorithm)))?;
                }
            }
        }
        for col in &self.evaluation.agreement {
            if !metadata.iter().any(|m| m == col) {
                return Err(err(
                    self.evaluation_at,
                    format!(
                        "evaluation.agreement: no metadata column `{col}`{}; metadata columns: {}",
                        strata_core::text::did_you_mean(col, metadata.iter()),
                        metadata.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every run of the experiment, in a stable order (representations, then
    /// clusterers, each in manifest order, grids in declaration order).
    pub fn runs(&self) -> Vec<RunConfig> {
        let mut out = Vec::new();
        for r in self.representations.iter().flat_map(Block::expand) {
            let here = self
                .clusterers
                .iter()
                .filter(|b| b.on.is_empty() || b.on.contains(&r.algorithm));
            for c in here.flat_map(Block::expand) {
                out.push(RunConfig {
                    representation: r.clone(),
                    drop_discrete: self.features.drops_discrete(&c.algorithm),
                    clusterer: c,
                    evaluation: self.evaluation.clone(),
                    seed: self.seed,
                    columns: self.features.columns(),
                });
            }
        }
        out
    }
}

/// A "did you mean" hint followed by a separator for the list after it.
fn with_sep(hint: String) -> String {
    if hint.is_empty() { ";".into() } else { hint }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

fn check_evaluation(e: &Evaluation) -> Result<(), String> {
    if e.stability_resamples == 1 {
        return Err("evaluation.stability_resamples = 1: stability compares pairs of fits, so use 0 (off) or at least 2".into());
    }
    if !(e.stability_fraction > 0.0 && e.stability_fraction <= 1.0) {
        return Err(format!(
            "evaluation.stability_fraction = {}: expected a fraction in (0, 1]",
            e.stability_fraction
        ));
    }
    if e.silhouette == SilhouetteMode::Sampled && e.silhouette_sample < 2 {
        return Err(format!(
            "evaluation.silhouette_sample = {}: expected at least 2 rows",
            e.silhouette_sample
        ));
    }
    Ok(())
}
