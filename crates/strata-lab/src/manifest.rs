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
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

fn five() -> usize {
    5
}
fn three() -> usize {
    3
}
fn default_baselines() -> Vec<Spanned<String>> {
    // Spans of defaults are never shown: defaults are valid.
    BASELINES
        .iter()
        .map(|b| Spanned::new(0..0, b.to_string()))
        .collect()
}
fn default_threshold() -> ThresholdRule {
    ThresholdRule::MaxF1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassification {
    #[serde(default = "five")]
    folds: usize,
    #[serde(default = "three")]
    repeats: usize,
    #[serde(default = "default_threshold")]
    threshold: ThresholdRule,
    #[serde(default = "default_baselines")]
    baselines: Vec<Spanned<String>>,
    #[serde(default)]
    mlp: MlpConfig,
    #[serde(default)]
    features: Vec<RawBlock>,
}

/// The baselines a manifest may name.
pub const BASELINES: [&str; 2] = ["logistic", "tree"];

/// How one feature set is built inside each training fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// The prepared features as they are.
    Original,
    /// A reducer's output.
    Reduced,
    /// The original features plus one-hot cluster labels.
    Clusters,
    /// The original features plus membership probabilities.
    Posteriors,
}

/// One feature set of the downstream classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub kind: FeatureKind,
    pub algorithm: Option<AlgoConfig>,
}

impl FeatureSpec {
    /// `original`, `reduced:pca(n_components=0.9, ...)`, `clusters:kmeans(k=4, ...)`.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            FeatureKind::Original => "original",
            FeatureKind::Reduced => "reduced",
            FeatureKind::Clusters => "original+clusters",
            FeatureKind::Posteriors => "original+posteriors",
        };
        match &self.algorithm {
            None => kind.to_string(),
            Some(a) => format!("{kind}:{}", a.algorithm),
        }
    }
}

/// The downstream classification: does knowing the segment help find responders?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub folds: usize,
    pub repeats: usize,
    pub threshold: ThresholdRule,
    pub baselines: Vec<String>,
    pub mlp: MlpConfig,
    pub features: Vec<FeatureSpec>,
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
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.into(),
            source,
        })?;
        let syntax = |loc: Loc, message: String| ManifestError::Syntax {
            path: path.into(),
            line: loc.line,
            column: loc.column,
            message,
        };
        let raw: Raw = toml::from_str(&text).map_err(|e| {
            let (line, column, message) = strata_data::descriptor::toml_location(&e, &text);
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
                    drop_discrete: !self.features.discrete_in_mixtures && c.algorithm == "gmm",
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

fn parse_classification(
    raw: RawClassification,
    at: Loc,
    registry: &Registry,
    text: &str,
) -> Result<Classification, (Loc, String)> {
    if raw.folds < 2 {
        return Err((
            at,
            format!("classification.folds = {}: expected at least 2", raw.folds),
        ));
    }
    if raw.repeats < 1 {
        return Err((at, "classification.repeats = 0: expected at least 1".into()));
    }
    if let ThresholdRule::TargetRecall(r) = raw.threshold
        && !(r > 0.0 && r <= 1.0)
    {
        return Err((
            at,
            format!("classification.threshold target_recall = {r}: expected a recall in (0, 1]"),
        ));
    }
    raw.mlp
        .validate()
        .map_err(|e| (at, format!("classification.mlp: {e}")))?;
    let mut baselines = Vec::new();
    for b in &raw.baselines {
        if !BASELINES.contains(&b.get_ref().as_str()) {
            return Err((
                loc_of(text, b.span().start),
                format!(
                    "unknown baseline `{}`{} available: {}",
                    b.get_ref(),
                    with_sep(strata_core::text::did_you_mean(
                        b.get_ref(),
                        BASELINES.iter()
                    )),
                    BASELINES.join(", ")
                ),
            ));
        }
        baselines.push(b.get_ref().clone());
    }
    if raw.features.is_empty() {
        return Err((at, "classification needs at least one [[classification.features]] (e.g. kind = \"original\")".into()));
    }
    let kinds = ["original", "reduced", "clusters", "posteriors"];
    let mut features = Vec::new();
    for block in &raw.features {
        let mut rest = block.clone();
        let first = block
            .keys()
            .next()
            .map(|k| loc_of(text, k.span().start))
            .unwrap_or(at);
        let kind_key = rest.keys().find(|k| k.get_ref() == "kind").cloned();
        let Some(kind_key) = kind_key else {
            return Err((
                first,
                format!(
                    "[[classification.features]] needs `kind` ({})",
                    kinds.join(", ")
                ),
            ));
        };
        let kv = rest.remove(&kind_key).map(|v| {
            (
                v.get_ref().as_str().map(str::to_string),
                loc_of(text, v.span().start),
            )
        });
        let (Some(Some(kind)), kat) = (
            kv.as_ref().map(|v| v.0.clone()),
            kv.map(|v| v.1).unwrap_or(first),
        ) else {
            return Err((first, "`kind` must be a string".into()));
        };
        let kind = match kind.as_str() {
            "original" => FeatureKind::Original,
            "reduced" => FeatureKind::Reduced,
            "clusters" => FeatureKind::Clusters,
            "posteriors" => FeatureKind::Posteriors,
            other => {
                return Err((
                    kat,
                    format!(
                        "unknown feature kind `{other}`{} available: {}",
                        with_sep(strata_core::text::did_you_mean(other, kinds.iter())),
                        kinds.join(", ")
                    ),
                ));
            }
        };
        let algorithm = if kind == FeatureKind::Original {
            if let Some(k) = rest.keys().next() {
                return Err((
                    loc_of(text, k.span().start),
                    format!(
                        "feature kind `original` takes no parameters, found `{}`",
                        k.get_ref()
                    ),
                ));
            }
            None
        } else {
            let what = if kind == FeatureKind::Reduced {
                "representation"
            } else {
                "clusterer"
            };
            let b = parse_block(&rest, what, registry, text)?;
            let mut configs = b.expand();
            if configs.len() != 1 {
                return Err((
                    b.at,
                    format!(
                        "classification features take one value per parameter, not a grid ({} combinations)",
                        configs.len()
                    ),
                ));
            }
            if kind == FeatureKind::Posteriors && b.algorithm != "gmm" {
                return Err((
                    b.at,
                    format!(
                        "posteriors need a clusterer with membership probabilities (gmm), not `{}`",
                        b.algorithm
                    ),
                ));
            }
            configs.pop()
        };
        features.push(FeatureSpec { kind, algorithm });
    }
    Ok(Classification {
        folds: raw.folds,
        repeats: raw.repeats,
        threshold: raw.threshold,
        baselines,
        mlp: raw.mlp,
        features,
    })
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

/// A TOML value as one or more parameter values (a list or a range is a grid).
fn grid_values(
    name: &str,
    v: &Spanned<toml::Value>,
    text: &str,
) -> Result<Vec<(ParamValue, Loc)>, (Loc, String)> {
    let at = loc_of(text, v.span().start);
    let scalar = |x: &toml::Value| -> Result<ParamValue, String> {
        match x {
            toml::Value::Integer(i) => Ok(ParamValue::Int(*i)),
            toml::Value::Float(f) => Ok(ParamValue::Float(*f)),
            toml::Value::Boolean(b) => Ok(ParamValue::Bool(*b)),
            toml::Value::String(s) => Ok(ParamValue::Text(s.clone())),
            other => Err(format!(
                "`{name}`: expected a value, a list of values or {{ from, to, step }}, found a {}",
                other.type_str()
            )),
        }
    };
    match v.get_ref() {
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err((
                    at,
                    format!("`{name}` = []: an empty grid would give no runs"),
                ));
            }
            items
                .iter()
                .map(|x| scalar(x).map(|p| (p, at)).map_err(|m| (at, m)))
                .collect()
        }
        toml::Value::Table(t) => {
            let get = |k: &str| t.get(k).and_then(toml::Value::as_integer);
            for k in t.keys() {
                if !["from", "to", "step"].contains(&k.as_str()) {
                    return Err((
                        at,
                        format!(
                            "`{name}`: unknown range key `{k}`{}; a range is {{ from, to, step }}",
                            strata_core::text::did_you_mean(k, ["from", "to", "step"].iter())
                        ),
                    ));
                }
            }
            let (Some(from), Some(to)) = (get("from"), get("to")) else {
                return Err((
                    at,
                    format!("`{name}`: a range needs integer `from` and `to`"),
                ));
            };
            let step = get("step").unwrap_or(1);
            if step < 1 || to < from {
                return Err((
                    at,
                    format!(
                        "`{name}`: range from {from} to {to} step {step} is empty (need from <= to, step >= 1)"
                    ),
                ));
            }
            Ok((from..=to)
                .step_by(step as usize)
                .map(|i| (ParamValue::Int(i), at))
                .collect())
        }
        x => Ok(vec![(scalar(x).map_err(|m| (at, m))?, at)]),
    }
}

fn parse_block(
    raw: &RawBlock,
    kind: &str,
    registry: &Registry,
    text: &str,
) -> Result<Block, (Loc, String)> {
    let Some((akey, aval)) = raw.iter().find(|(k, _)| k.get_ref() == "algorithm") else {
        let at = raw
            .keys()
            .next()
            .map(|k| loc_of(text, k.span().start))
            .unwrap_or_default();
        return Err((at, format!("[[{kind}]] needs `algorithm = \"...\"`")));
    };
    let _ = akey;
    let at = loc_of(text, aval.span().start);
    let Some(name) = aval.get_ref().as_str() else {
        return Err((at, format!("{kind} `algorithm` must be a string")));
    };
    let (specs, available): (Vec<ParamSpec>, Vec<&str>) = if kind == "representation" {
        (
            registry
                .find_reducer(name)
                .map(|e| e.params.clone())
                .unwrap_or_default(),
            registry.reducers.iter().map(|e| e.name).collect(),
        )
    } else {
        (
            registry
                .find_clusterer(name)
                .map(|e| e.params.clone())
                .unwrap_or_default(),
            registry.clusterers.iter().map(|e| e.name).collect(),
        )
    };
    if !available.contains(&name) {
        return Err((
            at,
            format!(
                "unknown {kind} `{name}`{} available: {}",
                with_sep(strata_core::text::did_you_mean(name, available.iter())),
                available.join(", ")
            ),
        ));
    }
    let mut given: BTreeMap<String, Vec<(ParamValue, Loc)>> = BTreeMap::new();
    let mut on = Vec::new();
    for (k, v) in raw {
        if k.get_ref() == "algorithm" {
            continue;
        }
        if k.get_ref() == "on" && kind == "clusterer" {
            let vat = loc_of(text, v.span().start);
            let reducers: Vec<&str> = registry.reducers.iter().map(|e| e.name).collect();
            let items = match v.get_ref() {
                toml::Value::Array(a) => a.clone(),
                one => vec![one.clone()],
            };
            for item in items {
                let Some(r) = item.as_str() else {
                    return Err((vat, format!("clusterer `{name}`: `on` lists representation names (strings)")));
                };
                if !reducers.contains(&r) {
                    return Err((
                        vat,
                        format!(
                            "clusterer `{name}`: on: unknown representation `{r}`{} available: {}",
                            with_sep(strata_core::text::did_you_mean(r, reducers.iter())),
                            reducers.join(", ")
                        ),
                    ));
                }
                on.push(r.to_string());
            }
            continue;
        }
        let key_at = loc_of(text, k.span().start);
        let Some(spec) = specs.iter().find(|s| s.name == k.get_ref()) else {
            let valid: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err((
                key_at,
                format!(
                    "unknown parameter `{}` for {kind} `{name}`{} parameters: {}",
                    k.get_ref(),
                    with_sep(strata_core::text::did_you_mean(k.get_ref(), valid.iter())),
                    if valid.is_empty() {
                        "none".to_string()
                    } else {
                        valid.join(", ")
                    }
                ),
            ));
        };
        let mut values = Vec::new();
        for (pv, vat) in grid_values(k.get_ref(), v, text)? {
            let checked = spec
                .check(&pv, None)
                .map_err(|m| (vat, format!("{kind} `{name}`: {m}")))?;
            values.push((checked, vat));
        }
        given.insert(k.get_ref().clone(), values);
    }
    let mut grid = Vec::new();
    for s in &specs {
        match given.remove(s.name) {
            Some(v) => grid.push((s.name.to_string(), v)),
            None => match &s.default {
                Some(d) => grid.push((s.name.to_string(), vec![(d.clone(), at)])),
                None => {
                    return Err((
                        at,
                        format!("{kind} `{name}` needs `{}` ({})", s.name, s.help),
                    ));
                }
            },
        }
    }
    Ok(Block {
        algorithm: name.to_string(),
        at,
        grid,
        specs,
        on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn err(dir: &Path, body: &str) -> String {
        let p = write(dir, "x.toml", body);
        Manifest::from_path(&p).unwrap_err().to_string()
    }

    const HEAD: &str = "dataset = \"d.toml\"\nseed = 7\n";

    #[test]
    fn grids_expand_to_the_cartesian_product() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, "d.toml", "");
        let p = write(
            dir,
            "ok.toml",
            &format!(
                "{HEAD}[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = [0.9, 3]\n\
                 [[clusterer]]\nalgorithm = \"kmeans\"\nk = {{ from = 2, to = 6, step = 2 }}\n\
                 [[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = [\"full\", \"diag\"]\n"
            ),
        );
        let m = Manifest::from_path(&p).unwrap();
        assert_eq!((m.name.as_str(), m.seed), ("ok", Seed(7)));
        assert_eq!(
            m.descriptor_path(),
            dir.join("d.toml").canonicalize().unwrap()
        );
        let runs = m.runs();
        // (none + 2 pca) x (3 kmeans + 2 gmm)
        assert_eq!(runs.len(), 15);
        let ks: Vec<String> = runs[..3]
            .iter()
            .map(|r| r.clusterer.params.0["k"].to_string())
            .collect();
        assert_eq!(ks, ["2", "4", "6"]);
        // Defaults are filled in, so two spellings of one run are one run.
        assert_eq!(runs[0].clusterer.params.0["n_init"], ParamValue::Int(10));
        assert_eq!(
            runs[3].clusterer.label(),
            "gmm(covariance=full, init=kmeans, k=3, max_iter=100, n_init=1, reg_covar=0.000001, tol=0.001)"
        );
        m.check_against(&Registry::standard(), 100, 5, &[]).unwrap();
        let e = m
            .check_against(&Registry::standard(), 5, 5, &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ok.toml:10:5: clusterer `kmeans`: `k` = 6 is more than the data's 5 rows"),
            "{e}"
        );
        let e = m
            .check_against(&Registry::standard(), 100, 2, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains(":7:16: representation `pca`: `n_components` = 3 is more than the data's 2 input columns"), "{e}");
    }

    #[test]
    fn bad_manifests_fail_with_line_column_and_suggestion() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, "d.toml", "");
        let e = err(dir, "dataset = \"d.toml\"\nsed = 7\n");
        assert!(
            e.contains("x.toml:2:1: unknown key `sed`; did you mean `seed`?"),
            "{e}"
        );
        let e = err(
            dir,
            &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmean\"\nk = 3\n"),
        );
        assert!(
            e.ends_with("x.toml:4:13: unknown clusterer `kmean`; did you mean `kmeans`? available: kmeans, gmm, dbscan, agglomerative, kprototypes"),
            "{e}"
        );
        let e = err(
            dir,
            &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\nn_inti = 4\n"),
        );
        assert!(e.contains("x.toml:6:1: unknown parameter `n_inti` for clusterer `kmeans`; did you mean `n_init`?"), "{e}");
        let e = err(
            dir,
            &format!(
                "{HEAD}[[representation]]\nalgorithm = \"pca\"\nn_components = 1.5\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n"
            ),
        );
        assert!(
            e.contains(
                "x.toml:5:16: representation `pca`: `n_components` = 1.5: expected a count >= 1"
            ),
            "{e}"
        );
        let e = err(
            dir,
            &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\nk = []\n"),
        );
        assert!(
            e.contains("x.toml:5:5: `k` = []: an empty grid would give no runs"),
            "{e}"
        );
        let e = err(
            dir,
            &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\n"),
        );
        assert!(
            e.contains("x.toml:4:13: clusterer `kmeans` needs `k`"),
            "{e}"
        );
        let e = err(
            dir,
            &format!("{HEAD}[[clusterer]]\nalgorithm = \"gmm\"\nk = 2\ncovariance = \"ful\"\n"),
        );
        assert!(
            e.contains("x.toml:6:14:") && e.contains("did you mean `full`"),
            "{e}"
        );
        let e = err(dir, HEAD);
        assert!(e.contains("no [[clusterer]]"), "{e}");
        let e = err(
            dir,
            &format!(
                "{HEAD}[evaluation]\nstability_fraction = 1.5\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n"
            ),
        );
        assert!(
            e.contains("x.toml:3:1: evaluation.stability_fraction = 1.5"),
            "{e}"
        );
        let e = err(dir, &format!("{HEAD}[evaluation]\nsilhouete = \"exact\"\n"));
        assert!(
            e.contains("x.toml:4:1: unknown key `silhouete`; did you mean `silhouette`?"),
            "{e}"
        );
        let e = err(
            dir,
            "dataset = \"e.toml\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n",
        );
        assert!(
            e.contains("no such descriptor") && e.contains("e.toml"),
            "{e}"
        );
        let e = err(dir, "dataset = \"d.toml\n");
        assert!(e.contains("x.toml:1:"), "{e}");
    }
}
