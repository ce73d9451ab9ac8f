//! The algorithm registry: the names manifests may use and how to build them.
//!
//! An algorithm joins by implementing `Reducer` or `Clusterer` and
//! `strata_core::Configurable` in its own crate, then one line in
//! [`Registry::standard`]. Nothing else in the workspace changes.

use crate::manifest::AlgoConfig;
use ndarray::{Array2, ArrayView2};
use strata_core::{
    AlgoError, Clusterer, Configurable, FittedReducer, ParamSpec, Params, Reducer, Seed,
};

type BuildReducer = fn(&Params) -> Result<Box<dyn Reducer>, AlgoError>;
type BuildClusterer = fn(&Params) -> Result<Box<dyn Clusterer>, AlgoError>;

/// A registered algorithm: its manifest name, its parameters and its builder.
pub struct Entry<B> {
    pub name: &'static str,
    pub about: &'static str,
    pub params: Vec<ParamSpec>,
    pub build: B,
    /// The algorithm's rules that need the data's shape (rows, columns).
    pub check_shape: fn(&Params, usize, usize) -> Result<(), String>,
}

/// Every algorithm a manifest can name.
pub struct Registry {
    pub reducers: Vec<Entry<BuildReducer>>,
    pub clusterers: Vec<Entry<BuildClusterer>>,
}

impl Registry {
    /// An empty registry (tests add their own algorithms).
    pub fn empty() -> Registry {
        Registry {
            reducers: Vec::new(),
            clusterers: Vec::new(),
        }
    }

    /// Every algorithm strata ships.
    pub fn standard() -> Registry {
        let mut r = Registry::empty();
        r.reducer::<Identity>("none", "the features as they are");
        r.reducer::<strata_decompose::Pca>("pca", "principal component analysis");
        r.reducer::<strata_decompose::FastIca>("ica", "independent component analysis (FastICA)");
        r.reducer::<strata_decompose::RandomProjection>(
            "random_projection",
            "Gaussian or sparse random projection",
        );
        r.clusterer::<strata_cluster::KMeans>("kmeans", "k-means (k-means++, Lloyd or Hamerly)");
        r.clusterer::<strata_cluster::GaussianMixture>("gmm", "Gaussian mixture fitted by EM");
        r.clusterer::<strata_cluster_linfa::Dbscan>("dbscan", "density-based clustering (linfa)");
        r.clusterer::<strata_cluster_linfa::Agglomerative>(
            "agglomerative",
            "hierarchical clustering (linfa)",
        );
        r.clusterer::<strata_cluster_mixed::KPrototypes>("kprototypes", "k-prototypes for mixed numeric and categorical data");
        r
    }

    /// Registers a reducer under `name`.
    pub fn reducer<R: Reducer + Configurable + 'static>(
        &mut self,
        name: &'static str,
        about: &'static str,
    ) {
        self.reducers.push(Entry {
            name,
            about,
            params: R::param_specs(),
            build: |p| Ok(Box::new(R::from_params(p)?)),
            check_shape: R::check_shape,
        });
    }

    /// Registers a clusterer under `name`.
    pub fn clusterer<C: Clusterer + Configurable + 'static>(
        &mut self,
        name: &'static str,
        about: &'static str,
    ) {
        self.clusterers.push(Entry {
            name,
            about,
            params: C::param_specs(),
            build: |p| Ok(Box::new(C::from_params(p)?)),
            check_shape: C::check_shape,
        });
    }

    pub fn find_reducer(&self, name: &str) -> Option<&Entry<BuildReducer>> {
        self.reducers.iter().find(|e| e.name == name)
    }

    pub fn find_clusterer(&self, name: &str) -> Option<&Entry<BuildClusterer>> {
        self.clusterers.iter().find(|e| e.name == name)
    }

    /// Builds the reducer a configuration names.
    pub fn build_reducer(&self, cfg: &AlgoConfig) -> anyhow::Result<Box<dyn Reducer>> {
        let e = self
            .find_reducer(&cfg.algorithm)
            .ok_or_else(|| anyhow::anyhow!("no reducer `{}` in the registry", cfg.algorithm))?;
        Ok((e.build)(&cfg.params)?)
    }

    /// Builds the clusterer a configuration names.
    pub fn build_clusterer(&self, cfg: &AlgoConfig) -> anyhow::Result<Box<dyn Clusterer>> {
        let e = self
            .find_clusterer(&cfg.algorithm)
            .ok_or_else(|| anyhow::anyhow!("no clusterer `{}` in the registry", cfg.algorithm))?;
        Ok((e.build)(&cfg.params)?)
    }
}

/// The `none` representation: features passed through unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

struct FittedIdentity {
    n: usize,
}

impl Configurable for Identity {
    fn param_specs() -> Vec<ParamSpec> {
        Vec::new()
    }
    fn from_params(_: &Params) -> Result<Self, AlgoError> {
        Ok(Identity)
    }
}

impl Reducer for Identity {
    fn name(&self) -> &str {
        "none"
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _seed: Seed,
    ) -> Result<Box<dyn FittedReducer>, AlgoError> {
        Ok(Box::new(FittedIdentity { n: x.ncols() }))
    }
}

impl FittedReducer for FittedIdentity {
    fn n_components(&self) -> usize {
        self.n
    }
    fn component_names(&self) -> Vec<String> {
        (1..=self.n).map(|i| format!("x{i}")).collect()
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        strata_core::check_columns(x, self.n)?;
        Ok(x.to_owned())
    }
    fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>, AlgoError> {
        self.transform(y)
    }
}
