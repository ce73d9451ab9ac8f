//! AdamW as one pass per parameter tensor.
//!
//! burn's `AdamW` updates each parameter through about fifteen tensor
//! operations (two moments, two bias corrections, square root, division, decay,
//! step), each allocating a tensor the size of the parameter. For the MLP's
//! small parameters that bookkeeping, not the arithmetic, was a fifth of a fit.
//! [`FusedAdamW`] is a burn `SimpleOptimizer` (so burn's `OptimizerAdaptor`
//! still owns the per-parameter state and the module traversal) that performs
//! the same f32 operations in the same order, element by element, in one loop:
//! its parameters and moments are bit-identical to burn's `AdamW` (tested).

use crate::fused::{Inner, read};
use burn::backend::ndarray::NdArrayTensor;
use burn::optim::{AdaptiveMomentumState, SimpleOptimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

/// AdamW with burn's defaults for the betas and the decoupled weight decay
/// `p (1 - lr wd)` (not the "cautious" variant), without gradient clipping.
#[derive(Debug, Clone)]
pub(crate) struct FusedAdamW {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
}

impl FusedAdamW {
    pub(crate) fn new(weight_decay: f32, epsilon: f32) -> Self {
        FusedAdamW {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon,
            weight_decay,
        }
    }
}

fn write<const D: usize>(v: Vec<f32>, dims: [usize; D]) -> Tensor<Inner, D> {
    Tensor::from_primitive(TensorPrimitive::Float(NdArrayTensor::from_data(TensorData::new(
        v, dims,
    ))))
}

impl SimpleOptimizer<Inner> for FusedAdamW {
    type State<const D: usize> = AdaptiveMomentumState<Inner, D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<Inner, D>,
        grad: Tensor<Inner, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<Inner, D>, Option<Self::State<D>>) {
        let dims = tensor.dims();
        let mut p = read(tensor);
        let g = read(grad);
        let (f1, f2) = (1.0 - self.beta_1, 1.0 - self.beta_2);
        let (time, m1, m2) = match state {
            Some(s) => {
                let mut m1 = read(s.moment_1);
                let mut m2 = read(s.moment_2);
                for ((a, b), &gi) in m1.iter_mut().zip(m2.iter_mut()).zip(&g) {
                    *a = *a * self.beta_1 + gi * f1;
                    *b = *b * self.beta_2 + gi * gi * f2;
                }
                (s.time + 1, m1, m2)
            }
            None => (
                1,
                g.iter().map(|&gi| gi * f1).collect(),
                g.iter().map(|&gi| gi * gi * f2).collect(),
            ),
        };
        let t = i32::try_from(time).unwrap_or(i32::MAX);
        let c1 = 1f32 - self.beta_1.powi(t);
        let c2 = 1f32 - self.beta_2.powi(t);
        let decay_rate = lr * f64::from(self.weight_decay);
        let keep = (1.0 - decay_rate) as f32;
        let lr32 = lr as f32;
        for ((pi, &a), &b) in p.iter_mut().zip(&m1).zip(&m2) {
            let delta = (a / c1) / ((b / c2).sqrt() + self.epsilon);
            let decayed = if decay_rate == 0.0 { *pi } else { *pi * keep };
            *pi = decayed - delta * lr32;
        }
        let state = AdaptiveMomentumState::new(
            time,
            write(m1, dims),
            write(m2, dims),
        );
        (write(p, dims), Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &<Inner as Backend>::Device) -> Self::State<D> {
        state.moment_1 = state.moment_1.to_device(device);
        state.moment_2 = state.moment_2.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::Train;
    use burn::module::Param;
    use burn::nn::Linear;
    use burn::optim::adaptor::OptimizerAdaptor;
    use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
    use strata_core::{Rng, Seed};

    fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| (2.0 * rng.uniform() - 1.0) as f32).collect()
    }

    fn layer(rng: &mut Rng) -> Linear<Train> {
        let d = Default::default();
        Linear {
            weight: Param::from_tensor(Tensor::from_data(TensorData::new(random(rng, 15), [5, 3]), &d)),
            bias: Some(Param::from_tensor(Tensor::from_data(TensorData::new(random(rng, 3), [3]), &d))),
        }
    }

    fn bits(l: &Linear<Train>) -> Vec<u32> {
        let mut v = read::<2>(l.weight.val().inner());
        v.extend(read::<1>(l.bias.as_ref().map(|b| b.val().inner()).unwrap()));
        v.into_iter().map(f32::to_bits).collect()
    }

    /// Eight steps on the same gradients: every parameter equals burn's AdamW
    /// to the bit, with and without weight decay, at two learning rates.
    #[test]
    fn equals_burn_adamw_to_the_bit() {
        for (wd, lr) in [(1e-4f32, 1e-3), (0.0, 1e-2), (0.05, 0.3)] {
            let mut rng = Rng::new(Seed(9));
            let mut ours = layer(&mut rng);
            let mut theirs = ours.clone();
            let mut fused: OptimizerAdaptor<FusedAdamW, Linear<Train>, Train> =
                OptimizerAdaptor::from(FusedAdamW::new(wd, 1e-8));
            let mut burn_opt = AdamWConfig::new()
                .with_weight_decay(wd)
                .with_epsilon(1e-8)
                .init::<Train, Linear<Train>>();
            for step in 0..8 {
                let x: Tensor<Train, 2> =
                    Tensor::from_data(TensorData::new(random(&mut rng, 20), [4, 5]), &Default::default());
                let r: Tensor<Train, 2> =
                    Tensor::from_data(TensorData::new(random(&mut rng, 12), [4, 3]), &Default::default());
                let g1 = GradientsParams::from_grads(
                    (ours.forward(x.clone()) * r.clone()).sum().backward(),
                    &ours,
                );
                let g2 = GradientsParams::from_grads((theirs.forward(x) * r).sum().backward(), &theirs);
                ours = fused.step(lr, ours, g1);
                theirs = burn_opt.step(lr, theirs, g2);
                assert_eq!(bits(&ours), bits(&theirs), "wd {wd}, lr {lr}, step {step}");
            }
            assert_ne!(bits(&ours), bits(&layer(&mut Rng::new(Seed(9)))), "the steps moved the weights");
        }
    }
}
