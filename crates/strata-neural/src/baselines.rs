//! Baselines on the same folds as the MLP: logistic regression and a decision
//! tree from linfa. linfa 0.8 is built on ndarray 0.16, so arrays are copied
//! at the boundary.

use crate::cv::{Classifier, Scorer};
use crate::error::NeuralError;
use linfa::prelude::{Fit, Predict};
use ndarray::ArrayView2;
use strata_core::Seed;

fn to_linfa(x: ArrayView2<'_, f64>) -> ndarray016::Array2<f64> {
    let (n, d) = x.dim();
    ndarray016::Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]])
}

fn labels(y: &[u8]) -> ndarray016::Array1<usize> {
    y.iter().map(|&t| usize::from(t)).collect()
}

/// L2-regularised logistic regression (linfa-logistic).
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    /// L2 penalty strength.
    pub alpha: f64,
    pub max_iterations: u64,
}

impl Default for Logistic {
    fn default() -> Self {
        Logistic {
            alpha: 1.0,
            max_iterations: 200,
        }
    }
}

struct FittedLogistic(linfa_logistic::FittedLogisticRegression<f64, usize>);

impl Scorer for FittedLogistic {
    /// Probability of class 1. linfa reports the probability of the class it
    /// labels positive, which is the more frequent class (0 for rare
    /// responders), so the probability is flipped when that class is 0.
    fn score(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, NeuralError> {
        let p = self.0.predict_probabilities(&to_linfa(x));
        Ok(if self.0.labels().pos.class == 1 {
            p.to_vec()
        } else {
            p.iter().map(|v| 1.0 - v).collect()
        })
    }
}

impl Classifier for Logistic {
    fn name(&self) -> String {
        "logistic".into()
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
        _xv: ArrayView2<'_, f64>,
        _yv: &[u8],
        _seed: Seed,
    ) -> Result<Box<dyn Scorer>, NeuralError> {
        let ds = linfa::DatasetBase::new(to_linfa(x), labels(y));
        let model = linfa_logistic::LogisticRegression::default()
            .alpha(self.alpha)
            .max_iterations(self.max_iterations)
            .fit(&ds)
            .map_err(|e| NeuralError::Model {
                model: self.name(),
                message: e.to_string(),
            })?;
        Ok(Box::new(FittedLogistic(model)))
    }
}

/// A decision tree (linfa-trees, Gini), positives weighted to balance the
/// classes. Its scores are its 0/1 decisions, so its ROC-AUC and PR-AUC
/// describe a single operating point.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub max_depth: usize,
    /// Smallest total (weighted) rows in a leaf.
    pub min_weight_leaf: f32,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            max_depth: 6,
            min_weight_leaf: 10.0,
        }
    }
}

struct FittedTree(linfa_trees::DecisionTree<f64, usize>);

impl Scorer for FittedTree {
    fn score(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, NeuralError> {
        Ok(self
            .0
            .predict(&to_linfa(x))
            .iter()
            .map(|&c| c as f64)
            .collect())
    }
}

impl Classifier for Tree {
    fn name(&self) -> String {
        "tree".into()
    }
    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
        _xv: ArrayView2<'_, f64>,
        _yv: &[u8],
        _seed: Seed,
    ) -> Result<Box<dyn Scorer>, NeuralError> {
        let pos = y.iter().filter(|&&t| t == 1).count().max(1) as f32;
        let w_pos = (y.len() as f32 - pos).max(1.0) / pos;
        let weights: ndarray016::Array1<f32> = y
            .iter()
            .map(|&t| if t == 1 { w_pos } else { 1.0 })
            .collect();
        let ds = linfa::DatasetBase::new(to_linfa(x), labels(y)).with_weights(weights);
        let model = linfa_trees::DecisionTree::params()
            .max_depth(Some(self.max_depth))
            .min_weight_leaf(self.min_weight_leaf)
            .fit(&ds)
            .map_err(|e| NeuralError::Model {
                model: self.name(),
                message: e.to_string(),
            })?;
        Ok(Box::new(FittedTree(model)))
    }
}
