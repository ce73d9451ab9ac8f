//! The `[classification]` table: folds, repeats, threshold rule, baselines,
//! the MLP and the feature sets, checked against the registry.

use super::*;

pub(crate) fn five() -> usize {
    5
}
pub(crate) fn three() -> usize {
    3
}
pub(crate) fn default_baselines() -> Vec<Spanned<String>> {
    // Spans of defaults are never shown: defaults are valid.
    BASELINES
        .iter()
        .map(|b| Spanned::new(0..0, b.to_string()))
        .collect()
}
pub(crate) fn default_threshold() -> ThresholdRule {
    ThresholdRule::MaxF1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClassification {
    #[serde(default = "five")]
    pub(crate) folds: usize,
    #[serde(default = "three")]
    pub(crate) repeats: usize,
    #[serde(default = "default_threshold")]
    pub(crate) threshold: ThresholdRule,
    #[serde(default = "default_baselines")]
    pub(crate) baselines: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) mlp: MlpConfig,
    #[serde(default)]
    pub(crate) features: Vec<RawBlock>,
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
    /// The clusterer sees only the columns continuous on the training rows:
    /// a mixture's labels or posteriors under `discrete_in_mixtures =
    /// false`, as the segmentation's mixtures (set from `[features]` when the
    /// manifest is read, never written in `[classification]`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_discrete: bool,
    /// The prepared features the clusterer sees: those `[features]`
    /// selects for the segmentation, resolved by name in every fold (set
    /// when the manifest is read, for cluster and posterior feature sets;
    /// never written in `[classification]`). The MLP still reads every
    /// prepared feature beside the cluster information.
    #[serde(default, skip_serializing_if = "crate::features::Columns::is_all")]
    pub columns: crate::features::Columns,
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


pub(crate) fn parse_classification(
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
        features.push(FeatureSpec {
            kind,
            algorithm,
            drop_discrete: false,
            columns: Default::default(),
        });
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
