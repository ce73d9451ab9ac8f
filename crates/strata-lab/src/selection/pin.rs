//! `[segments]`: the segmentation named in the manifest instead of chosen.


/// `[segments]` in a manifest: the segmentation the decisions rest on,
/// named instead of chosen. Each side names an algorithm and any of its
/// parameters; a run matches when its algorithms are those and every named
/// parameter has the named value (unnamed ones may be anything).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub representation: std::collections::BTreeMap<String, String>,
    pub clusterer: std::collections::BTreeMap<String, String>,
}

impl Pin {
    fn side_matches(
        want: &std::collections::BTreeMap<String, String>,
        have: &crate::manifest::AlgoConfig,
    ) -> bool {
        want.iter().all(|(k, v)| {
            if k == "algorithm" {
                &have.algorithm == v
            } else {
                have.params.0.get(k).is_some_and(|p| &p.to_string() == v)
            }
        })
    }

    /// Whether a run's configuration is the pinned one.
    pub fn matches(&self, cfg: &crate::manifest::RunConfig) -> bool {
        Self::side_matches(&self.representation, &cfg.representation)
            && Self::side_matches(&self.clusterer, &cfg.clusterer)
    }

    /// `kmeans(k=4) on pca(n_components=0.9)`, for messages.
    pub fn label(&self) -> String {
        let side = |m: &std::collections::BTreeMap<String, String>| {
            let name = m.get("algorithm").cloned().unwrap_or_default();
            let p: Vec<String> = m
                .iter()
                .filter(|(k, _)| *k != "algorithm")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if p.is_empty() {
                name
            } else {
                format!("{name}({})", p.join(", "))
            }
        };
        format!("{} on {}", side(&self.clusterer), side(&self.representation))
    }
}
