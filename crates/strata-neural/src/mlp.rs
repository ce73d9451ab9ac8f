//! The MLP binary classifier, trained with burn on the CPU (`NdArray` backend,
//! wrapped in `Autodiff` because burn's `OptimizerAdaptor` asks for an
//! autodiff backend; no parameter is tracked): burn owns the parameters (a burn `Module` of `Linear`
//! layers), the optimizer's per-parameter state and the update, through
//! burn's `OptimizerAdaptor` and AdamW in one pass per parameter
//! (`optim.rs`). The gradients of each step come from strata's own forward
//! and backward passes over the whole network (`fused::gradients`), the same
//! operations in the same order as burn's tape would run them, without the
//! tape: burn-autodiff's process-wide graph registry made fits that run in
//! parallel wait on each other (see `fused.rs`).
//!
//! Determinism: burn's ndarray backend draws from one process-wide generator,
//! which parallel fits would share in a scheduling-dependent order. So every
//! random choice here comes from strata's own [`Rng`] seeded per fit: initial
//! weights (uniform in ±1/sqrt(fan-in), as burn's default), the batch order of
//! each epoch and the dropout masks. Same seed, same model, whatever runs
//! beside it.

use crate::error::NeuralError;
use crate::fused::{self, Inner, Train};
use burn::module::{AutodiffModule, Module, Param, ParamId};
use burn::nn::Linear;
use crate::optim::FusedAdamW;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use strata_core::{Rng, Seed};

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
}

/// How positives are weighted in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    /// Every row counts once.
    None,
    /// Positives weighted by negatives / positives of the training rows.
    Balanced,
    /// Positives weighted by this factor (`{ pos = 3.0 }` in a manifest).
    #[serde(rename = "pos")]
    Positive(f64),
}

/// MLP hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub dropout: f64,
    pub learning_rate: f64,
    /// Decoupled weight decay (AdamW); 0 gives Adam.
    pub weight_decay: f64,
    pub epochs: usize,
    pub batch_size: usize,
    /// Epochs without a better validation loss before training stops (0 = never stop early).
    pub patience: usize,
    pub class_weight: ClassWeight,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            hidden: vec![32, 16],
            activation: Activation::Relu,
            dropout: 0.0,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            epochs: 200,
            batch_size: 64,
            patience: 20,
            class_weight: ClassWeight::Balanced,
        }
    }
}

impl MlpConfig {
    pub fn validate(&self) -> Result<(), NeuralError> {
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(NeuralError::param(
                "learning_rate",
                self.learning_rate,
                "a positive number",
            ));
        }
        if self.epochs == 0 {
            return Err(NeuralError::param("epochs", 0, "at least 1"));
        }
        if self.batch_size == 0 {
            return Err(NeuralError::param("batch_size", 0, "at least 1"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(NeuralError::param(
                "dropout",
                self.dropout,
                "a probability in [0, 1)",
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(NeuralError::param(
                "weight_decay",
                self.weight_decay,
                "a non-negative number",
            ));
        }
        if self.hidden.contains(&0) {
            return Err(NeuralError::param(
                "hidden",
                format!("{:?}", self.hidden),
                "layer widths of at least 1",
            ));
        }
        if let ClassWeight::Positive(w) = self.class_weight
            && !(w > 0.0 && w.is_finite())
        {
            return Err(NeuralError::param(
                "class_weight.pos",
                w,
                "a positive number",
            ));
        }
        Ok(())
    }
}

/// Loss per epoch, for learning curves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub train_loss: Vec<f64>,
    pub validation_loss: Vec<f64>,
    /// Epoch (from 0) whose weights were kept.
    pub best_epoch: usize,
    pub stopped_early: bool,
}

#[derive(Module, Debug)]
struct Net<B: Backend> {
    hidden: Vec<Linear<B>>,
    output: Linear<B>,
}

fn linear<B: Backend>(d_in: usize, d_out: usize, rng: &mut Rng, device: &B::Device) -> Linear<B> {
    let k = 1.0 / (d_in as f64).sqrt();
    let w: Vec<f32> = (0..d_in * d_out)
        .map(|_| ((2.0 * rng.uniform() - 1.0) * k) as f32)
        .collect();
    let b: Vec<f32> = (0..d_out)
        .map(|_| ((2.0 * rng.uniform() - 1.0) * k) as f32)
        .collect();
    // Without `require_grad`: the gradients come from `fused::gradients`, and
    // a tracked parameter would register a graph root with burn's autodiff
    // registry at every update, which only a backward pass of the tape cleans.
    Linear {
        weight: Param::initialized(ParamId::new(), Tensor::from_data(TensorData::new(w, [d_in, d_out]), device)),
        bias: Some(Param::initialized(
            ParamId::new(),
            Tensor::from_data(TensorData::new(b, [d_out]), device),
        )),
    }
}

impl<B: Backend> Net<B> {
    fn new(d: usize, hidden: &[usize], rng: &mut Rng, device: &B::Device) -> Self {
        let mut layers = Vec::new();
        let mut d_in = d;
        for &h in hidden {
            layers.push(linear(d_in, h, rng, device));
            d_in = h;
        }
        Net {
            hidden: layers,
            output: linear(d_in, 1, rng, device),
        }
    }
}

impl<B: Backend> Net<B> {
    /// Every layer, first layer first.
    fn layers(&self) -> impl Iterator<Item = &Linear<B>> {
        self.hidden.iter().chain(std::iter::once(&self.output))
    }
}

impl Net<Train> {
    /// Weights and biases of every layer, row-major, first layer first.
    fn weights(&self) -> Vec<fused::Layer> {
        self.valid().weights()
    }

    /// One step's gradients as burn's optimizer takes them: each layer's
    /// (weight, bias) gradient under its parameter's id.
    fn gradient_params(&self, grads: Vec<fused::Layer>) -> GradientsParams {
        let mut out = GradientsParams::new();
        for (l, (gw, gb)) in self.layers().zip(grads) {
            let dims = l.weight.dims();
            out.register::<Inner, 2>(l.weight.id, Tensor::from_data(TensorData::new(gw, dims), &Default::default()));
            if let Some(b) = &l.bias {
                out.register::<Inner, 1>(b.id, Tensor::from_data(TensorData::new(gb, [dims[1]]), &Default::default()));
            }
        }
        out
    }
}

impl Net<Inner> {
    /// Weights and biases of every layer, row-major, first layer first.
    fn weights(&self) -> Vec<fused::Layer> {
        self.layers()
            .map(|l| {
                let b = match &l.bias {
                    Some(b) => fused::read(b.val()),
                    None => vec![0.0; l.weight.dims()[1]],
                };
                (fused::read(l.weight.val()), b)
            })
            .collect()
    }
}

/// The rows of `x` as f32, row-major.
fn rows_f32(x: ArrayView2<'_, f64>) -> Vec<f32> {
    let mut v = Vec::with_capacity(x.len());
    for r in x.rows() {
        v.extend(r.iter().map(|&a| a as f32));
    }
    v
}

/// The rows `rows` of the row-major `x` (`d` columns).
fn gather(x: &[f32], d: usize, rows: &[usize]) -> Vec<f32> {
    let mut v = Vec::with_capacity(rows.len() * d);
    for &i in rows {
        v.extend_from_slice(&x[i * d..(i + 1) * d]);
    }
    v
}

/// A trained MLP.
#[derive(Debug)]
pub struct FittedMlp {
    net: Net<Inner>,
    activation: Activation,
    n_features: usize,
    pub history: History,
}

fn positive_weight(cw: ClassWeight, y: &[u8]) -> f64 {
    match cw {
        ClassWeight::None => 1.0,
        ClassWeight::Positive(w) => w,
        ClassWeight::Balanced => {
            let pos = y.iter().filter(|&&t| t == 1).count().max(1) as f64;
            (y.len() as f64 - pos).max(1.0) / pos
        }
    }
}

impl MlpConfig {
    /// Trains on `(x, y)`; the validation rows `(xv, yv)` drive early stopping
    /// (the weights of the epoch with the lowest validation loss are kept).
    /// `on_epoch` is called after every epoch (for a progress bar).
    pub fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
        xv: ArrayView2<'_, f64>,
        yv: &[u8],
        seed: Seed,
        on_epoch: &dyn Fn(usize),
    ) -> Result<FittedMlp, NeuralError> {
        self.validate()?;
        strata_core::check_finite(x, None)?;
        strata_core::check_finite(xv, None)?;
        if x.nrows() != y.len() || xv.nrows() != yv.len() {
            return Err(NeuralError::RowMismatch {
                features: x.nrows(),
                target: y.len(),
            });
        }
        if x.nrows() == 0 {
            return Err(NeuralError::param("training rows", 0, "at least 1"));
        }
        strata_core::check_columns(xv, x.ncols())?;
        let device = Default::default();
        let d = x.ncols();
        let mut rng = Rng::new(seed.named("mlp"));
        let mut net: Net<Train> = Net::new(d, &self.hidden, &mut rng, &device);
        let mut optim: OptimizerAdaptor<FusedAdamW, Net<Train>, Train> =
            OptimizerAdaptor::from(FusedAdamW::new(self.weight_decay as f32, 1e-8));
        let pw = positive_weight(self.class_weight, y);
        let keep = 1.0 - self.dropout;
        let mut order: Vec<usize> = (0..x.nrows()).collect();
        let mut history = History::default();
        let mut best: Option<(f64, Net<Inner>)> = None;
        let mut since_best = 0;
        let xf = rows_f32(x);
        let xvf = rows_f32(xv);
        let vw: Vec<f32> = yv
            .iter()
            .map(|&t| if t == 1 { pw as f32 } else { 1.0 })
            .collect();
        let vw_sum: f64 = vw.iter().map(|&v| f64::from(v)).sum();
        let yvf: Vec<f32> = yv.iter().map(|&t| f32::from(t)).collect();
        for epoch in 0..self.epochs {
            rng.shuffle(&mut order);
            let mut epoch_loss = 0.0;
            for batch in order.chunks(self.batch_size) {
                let m = batch.len();
                let xb = gather(&xf, d, batch);
                let yb: Vec<f32> = batch.iter().map(|&i| f32::from(y[i])).collect();
                let wb: Vec<f32> = batch
                    .iter()
                    .map(|&i| if y[i] == 1 { pw as f32 } else { 1.0 })
                    .collect();
                let w_sum: f64 = wb.iter().map(|&v| f64::from(v)).sum();
                let masks: Option<Vec<Vec<f32>>> = (self.dropout > 0.0).then(|| {
                    self.hidden
                        .iter()
                        .map(|&h| {
                            (0..m * h)
                                .map(|_| {
                                    if rng.uniform() < keep {
                                        (1.0 / keep) as f32
                                    } else {
                                        0.0
                                    }
                                })
                                .collect()
                        })
                        .collect()
                });
                let layers = net.weights();
                let (value, grads) =
                    fused::gradients(&xb, d, &layers, self.activation, masks.as_deref(), &yb, &wb, w_sum);
                epoch_loss += value * w_sum;
                let grads = net.gradient_params(grads);
                net = optim.step(self.learning_rate, net, grads);
            }
            let train_w: f64 = y.iter().map(|&t| if t == 1 { pw } else { 1.0 }).sum();
            history.train_loss.push(epoch_loss / train_w);
            let valid = net.valid();
            let vloss = if yv.is_empty() {
                f64::NAN
            } else {
                let z = fused::logits(&xvf, d, &valid.weights(), self.activation);
                fused::bce_value(&z, &yvf, &vw, vw_sum)
            };
            history.validation_loss.push(vloss);
            on_epoch(epoch);
            let improved = best.as_ref().is_none_or(|(b, _)| vloss < b - 1e-6) || vloss.is_nan();
            if improved {
                best = Some((vloss, valid));
                history.best_epoch = epoch;
                since_best = 0;
            } else {
                since_best += 1;
                if self.patience > 0 && since_best >= self.patience {
                    history.stopped_early = true;
                    break;
                }
            }
        }
        let net = match best {
            Some((_, n)) => n,
            None => net.valid(),
        };
        Ok(FittedMlp {
            net,
            activation: self.activation,
            n_features: d,
            history,
        })
    }
}

impl FittedMlp {
    /// Probability of the positive class for each row.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, NeuralError> {
        strata_core::check_columns(x, self.n_features)?;
        strata_core::check_finite(x, None)?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let z = fused::logits(&rows_f32(x), self.n_features, &self.net.weights(), self.activation);
        Ok(z.into_iter()
            .map(|z| fused::sigmoid(f64::from(z)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn xor(n: usize, seed: u64) -> (Array2<f64>, Vec<u8>) {
        let mut r = Rng::new(Seed(seed));
        let mut y = Vec::new();
        let x = Array2::from_shape_fn((n, 2), |_| 2.0 * r.uniform() - 1.0);
        for i in 0..n {
            y.push(u8::from((x[[i, 0]] > 0.0) != (x[[i, 1]] > 0.0)));
        }
        (x, y)
    }

    fn accuracy(p: &[f64], y: &[u8]) -> f64 {
        p.iter()
            .zip(y)
            .filter(|(p, y)| (**p >= 0.5) == (**y == 1))
            .count() as f64
            / y.len() as f64
    }

    #[test]
    fn learns_xor_deterministically() {
        let (x, y) = xor(800, 1);
        // Validation rows (which may pick the kept epoch) and test rows
        // (which judge the model) are different draws.
        let (xv, yv) = xor(400, 2);
        let (xt, yt) = xor(400, 3);
        let cfg = MlpConfig {
            hidden: vec![16, 8],
            learning_rate: 0.01,
            epochs: 150,
            batch_size: 32,
            patience: 0,
            class_weight: ClassWeight::None,
            ..MlpConfig::default()
        };
        let f = cfg
            .fit(x.view(), &y, xv.view(), &yv, Seed(3), &|_| {})
            .unwrap();
        let p = f.predict_proba(xt.view()).unwrap();
        assert!(accuracy(&p, &yt) > 0.95, "{}", accuracy(&p, &yt));
        assert_eq!(f.history.train_loss.len(), 150);
        assert!(f.history.train_loss[149] < f.history.train_loss[0]);
        let g = cfg
            .fit(x.view(), &y, xv.view(), &yv, Seed(3), &|_| {})
            .unwrap();
        assert_eq!(
            g.predict_proba(xt.view()).unwrap(),
            p,
            "same seed, same model"
        );
    }

    /// No hidden layer: the output layer alone (logistic regression on
    /// the features) learns a linear boundary, and dropout with it.
    #[test]
    fn no_hidden_layer_is_logistic_regression() {
        let mut r = Rng::new(Seed(4));
        let x = Array2::from_shape_fn((600, 3), |_| 2.0 * r.uniform() - 1.0);
        let y: Vec<u8> = x
            .rows()
            .into_iter()
            .map(|row| u8::from(row[0] - 0.5 * row[2] > 0.1))
            .collect();
        for dropout in [0.0, 0.2] {
            let cfg = MlpConfig {
                hidden: vec![],
                learning_rate: 0.05,
                epochs: 60,
                dropout,
                class_weight: ClassWeight::None,
                ..MlpConfig::default()
            };
            let f = cfg
                .fit(x.view(), &y, x.view(), &y, Seed(1), &|_| {})
                .unwrap();
            let p = f.predict_proba(x.view()).unwrap();
            assert!(accuracy(&p, &y) > 0.95, "{}", accuracy(&p, &y));
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let (x, y) = xor(50, 1);
        for (cfg, needle) in [
            (
                MlpConfig {
                    learning_rate: 0.0,
                    ..MlpConfig::default()
                },
                "learning_rate",
            ),
            (
                MlpConfig {
                    epochs: 0,
                    ..MlpConfig::default()
                },
                "epochs",
            ),
            (
                MlpConfig {
                    dropout: 1.0,
                    ..MlpConfig::default()
                },
                "dropout",
            ),
        ] {
            let e = cfg
                .fit(x.view(), &y, x.view(), &y, Seed(0), &|_| {})
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
        let mut bad = x.clone();
        bad[[7, 1]] = f64::NAN;
        let e = MlpConfig::default()
            .fit(bad.view(), &y, x.view(), &y, Seed(0), &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 7"), "{e}");
        let e = MlpConfig::default()
            .fit(x.view(), &y[..40], x.view(), &y, Seed(0), &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("50 feature rows but 40 target values"), "{e}");
    }
}
