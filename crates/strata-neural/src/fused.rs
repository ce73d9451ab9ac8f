//! The MLP's forward and backward passes as a few single passes.
//!
//! Composed from burn's tensor operations, one training step of the 32-16 MLP
//! on a 64-row batch records about thirty graph nodes (matrix product, bias
//! broadcast, activation, dropout, and the loss's ten elementwise steps), each
//! with its allocations, shape bookkeeping and graph registration, while the
//! arithmetic is about 0.3 million multiply-adds. Here a dense layer (`x W +
//! b`, activation, dropout mask) is one forward pass and one backward pass
//! that computes the gradients of its input, weight and bias together, and the
//! weighted cross-entropy is one pass too. [`gradients`] chains them over the
//! whole network for one training step; burn owns the parameters and the
//! AdamW update (`mlp.rs`, `optim.rs`).
//!
//! The same passes also exist as single nodes of burn's autodiff tape
//! (`tape`, test builds only): the tests check that [`gradients`] equals the
//! tape to the bit, and the tape's nodes against burn's own composition of the
//! same operations.
//!
//! The arithmetic is plain f32 loops (the matrix products in 4 x 16 register
//! tiles, see [`gemm`]).

use crate::mlp::Activation;
use burn::backend::ndarray::NdArrayTensor;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Tensor, TensorPrimitive};

pub(crate) type Inner = NdArray<f32>;
pub(crate) type Train = Autodiff<Inner>;

/// One dense layer's weight (row-major, inputs x outputs) and bias.
pub(crate) type Layer = (Vec<f32>, Vec<f32>);

/// The values of a tensor of the inner backend, row-major.
pub(crate) fn values(t: &NdArrayTensor) -> Vec<f32> {
    if let NdArrayTensor::F32(s) = t {
        let v = s.view();
        return match v.as_slice() {
            Some(s) => s.to_vec(),
            None => v.iter().copied().collect(),
        };
    }
    Tensor::<Inner, 1>::from_primitive(TensorPrimitive::Float(t.clone()))
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .unwrap_or_default()
}

/// [`values`] of a tensor.
pub(crate) fn read<const D: usize>(t: Tensor<Inner, D>) -> Vec<f32> {
    values(&t.into_primitive().tensor())
}

/// Shape of one dense layer: `m` rows, `din` inputs, `dout` outputs.
#[derive(Debug, Clone, Copy)]
struct Dims {
    m: usize,
    din: usize,
    dout: usize,
}

/// Rows and columns of the register tile of [`gemm`].
const TR: usize = 4;
const TC: usize = 16;

/// How a matrix operand of [`gemm`] is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Row-major as the product reads it.
    Rows,
    /// Row-major transposed: the product reads its transpose.
    Transposed,
}

/// `C = 1 init + A B` (m x n, row-major) for `a` (m x kk) and `b` (kk x n),
/// each stored as `la` / `lb` say, and `init` a row of n values (the bias, or
/// empty for zeros). Each entry is its initial value plus `A[i, t] * B[t, j]`
/// added for t in order; tiles of 4 x 16 entries are kept in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gemm(a: &[f32], la: Layout, b: &[f32], lb: Layout, init: &[f32], m: usize, kk: usize, n: usize) -> Vec<f32> {
    let tiles = n.div_ceil(TC);
    // B cut into column tiles of 16 (zero-padded), each tile's rows contiguous.
    let mut bp = vec![[0.0f32; TC]; tiles * kk];
    match lb {
        Layout::Rows => {
            for (t, src) in b.chunks_exact(n.max(1)).enumerate() {
                for (tile, part) in src.chunks(TC).enumerate() {
                    bp[tile * kk + t][..part.len()].copy_from_slice(part);
                }
            }
        }
        Layout::Transposed => {
            for (j, src) in b.chunks_exact(kk.max(1)).enumerate() {
                let (tile, lane) = (j / TC, j % TC);
                for (dst, &v) in bp[tile * kk..(tile + 1) * kk].iter_mut().zip(src) {
                    dst[lane] = v;
                }
            }
        }
    }
    let mut row0 = vec![[0.0f32; TC]; tiles];
    for (j, &v) in init.iter().enumerate() {
        row0[j / TC][j % TC] = v;
    }
    let mut c = vec![0.0f32; m * n];
    let mut rows = vec![[0.0f32; TR]; kk];
    for r0 in (0..m).step_by(TR) {
        let nr = TR.min(m - r0);
        // The tile's rows of A, interleaved (kk x 4), zero past the last row.
        match la {
            Layout::Rows => {
                for (l, src) in a[r0 * kk..(r0 + nr) * kk].chunks_exact(kk.max(1)).enumerate() {
                    for (at, &v) in rows.iter_mut().zip(src) {
                        at[l] = v;
                    }
                }
            }
            Layout::Transposed => {
                for (at, src) in rows.iter_mut().zip(a.chunks_exact(m)) {
                    // Element by element: a library call per four values
                    // would cost more than the copy.
                    for (d, &v) in at.iter_mut().zip(&src[r0..r0 + nr]) {
                        *d = v;
                    }
                }
            }
        }
        if nr < TR {
            rows.iter_mut().for_each(|at| at[nr..].fill(0.0));
        }
        for (tile, init_c) in row0.iter().enumerate() {
            let btile = &bp[tile * kk..(tile + 1) * kk];
            let (mut a0, mut a1, mut a2, mut a3) = (*init_c, *init_c, *init_c, *init_c);
            for (at, bv) in rows.iter().zip(btile) {
                for j in 0..TC {
                    a0[j] += at[0] * bv[j];
                    a1[j] += at[1] * bv[j];
                    a2[j] += at[2] * bv[j];
                    a3[j] += at[3] * bv[j];
                }
            }
            let c0 = tile * TC;
            let w = TC.min(n - c0);
            for (l, accl) in [a0, a1, a2, a3].iter().enumerate().take(nr) {
                let i = r0 + l;
                // A whole tile as a copy of constant length (inlined, no
                // library call); the last, partial tile as a slice.
                if w == TC {
                    c[i * n + c0..i * n + c0 + TC].copy_from_slice(accl);
                } else {
                    c[i * n + c0..i * n + c0 + w].copy_from_slice(&accl[..w]);
                }
            }
        }
    }
    c
}

/// `act(x W + b)` for row-major `x` (m x din) and `w` (din x dout).
#[inline(always)]
fn dense_rows(x: &[f32], w: &[f32], b: &[f32], dims: Dims, act: Option<Activation>) -> Vec<f32> {
    let Dims { m, din, dout } = dims;
    let mut a = gemm(x, Layout::Rows, w, Layout::Rows, b, m, din, dout);
    match act {
        Some(Activation::Relu) => a.iter_mut().for_each(|v| *v = v.max(0.0)),
        Some(Activation::Tanh) => a.iter_mut().for_each(|v| *v = v.tanh()),
        None => {}
    }
    a
}

strata_core::simd_dispatch!(fn dense_rows_simd(x: &[f32], w: &[f32], b: &[f32], dims: Dims, act: Option<Activation>) -> Vec<f32> => dense_rows);

/// Gradients of a dense layer from the gradient `gz` at its pre-activation
/// (m x dout): weight `x^T gz`, bias (column sums in row order) and, when
/// `want_x`, input `gz W^T`.
#[inline(always)]
fn dense_grads(x: &[f32], w: &[f32], gz: &[f32], dims: Dims, want_x: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let Dims { m, din, dout } = dims;
    let gw = gemm(x, Layout::Transposed, gz, Layout::Rows, &[], din, m, dout);
    let mut gb = vec![0.0f32; dout];
    for gi in gz.chunks_exact(dout) {
        gb.iter_mut().zip(gi).for_each(|(o, &g)| *o += g);
    }
    let gx = if want_x {
        gemm(gz, Layout::Rows, w, Layout::Transposed, &[], m, dout, din)
    } else {
        Vec::new()
    };
    (gw, gb, gx)
}

strata_core::simd_dispatch!(fn dense_grads_simd(x: &[f32], w: &[f32], gz: &[f32], dims: Dims, want_x: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) => dense_grads);

/// Logits of the rows of `x` (row-major, `d` columns) through `layers`
/// (weight, bias, output width): hidden layers with `act`, the last without.
pub(crate) fn logits(x: &[f32], d: usize, layers: &[Layer], act: Activation) -> Vec<f32> {
    let m = x.len().checked_div(d).unwrap_or(0);
    let mut h = x.to_vec();
    let mut din = d;
    for (i, (w, b)) in layers.iter().enumerate() {
        let dout = b.len();
        let a = (i + 1 < layers.len()).then_some(act);
        h = dense_rows_simd(&h, w, b, Dims { m, din, dout }, a);
        din = dout;
    }
    h
}

/// Weighted binary cross-entropy on logits, `sum w (max(z, 0) - z y +
/// ln(1 + e^-|z|)) / w_sum`, accumulated in f64.
pub(crate) fn bce_value(z: &[f32], y: &[f32], w: &[f32], w_sum: f64) -> f64 {
    let mut s = 0.0f64;
    for ((&z, &y), &w) in z.iter().zip(y).zip(w) {
        let z = f64::from(z);
        let per = z.max(0.0) - z * f64::from(y) + (-z.abs()).exp().ln_1p();
        s += f64::from(w) * per;
    }
    s / w_sum
}

/// The probability `1 / (1 + e^-z)` of a logit.
pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The gradient at a dense layer's pre-activation from the gradient `g` at
/// its output, given the activation before the dropout mask `a`.
fn pre_activation_grad(mut g: Vec<f32>, a: &[f32], mask: Option<&[f32]>, act: Option<Activation>) -> Vec<f32> {
    if let Some(mk) = mask {
        g.iter_mut().zip(mk).for_each(|(g, k)| *g *= k);
    }
    match act {
        Some(Activation::Relu) => g
            .iter_mut()
            .zip(a)
            .for_each(|(g, &v)| *g = if v > 0.0 { *g } else { 0.0 }),
        Some(Activation::Tanh) => g.iter_mut().zip(a).for_each(|(g, &v)| *g *= 1.0 - v * v),
        None => {}
    }
    g
}

/// The gradient of [`bce_value`] with respect to each logit,
/// `w (sigmoid(z) - y) / w_sum`.
fn bce_grad(z: &[f32], y: &[f32], w: &[f32], w_sum: f64) -> Vec<f32> {
    z.iter()
        .zip(y)
        .zip(w)
        .map(|((&z, &y), &w)| (f64::from(w) * (sigmoid(f64::from(z)) - f64::from(y)) / w_sum) as f32)
        .collect()
}

/// What a dense layer's forward pass keeps for its backward pass.
struct Pass<'m> {
    /// The layer's input.
    x: Vec<f32>,
    /// Its activation before the dropout mask.
    a: Vec<f32>,
    mask: Option<&'m [f32]>,
    dims: Dims,
}

/// One training step's loss and gradients, without an autodiff tape.
///
/// The batch `x` (row-major, `d` columns) runs forward through `layers`
/// (hidden layers with `act` and, when `masks` is given, one dropout mask per
/// hidden layer; the last layer without either), the weighted cross-entropy
/// of the logits against `y` is taken, and the gradients flow back layer by
/// layer. Returns the loss ([`bce_value`]) and each layer's (weight, bias)
/// gradient, first layer first.
///
/// These are the operations of the autodiff nodes `tape::dense` and `tape::bce` in
/// the order burn's backward pass runs them, so the gradients are the same to
/// the bit (tested). The MLP is trained through this function rather than
/// through burn's tape: burn-autodiff 0.20 keeps every graph in one
/// process-wide registry, and the clean-up after each backward pass locks the
/// graph of every other fit in the process, so fits run in parallel waited on
/// each other (two threads gave 1.2 times the speed of one).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gradients(
    x: &[f32],
    d: usize,
    layers: &[Layer],
    act: Activation,
    masks: Option<&[Vec<f32>]>,
    y: &[f32],
    w: &[f32],
    w_sum: f64,
) -> (f64, Vec<Layer>) {
    let m = x.len().checked_div(d).unwrap_or(0);
    let mut kept: Vec<Pass<'_>> = Vec::with_capacity(layers.len());
    let mut h = x.to_vec();
    let mut din = d;
    for (i, (wl, bl)) in layers.iter().enumerate() {
        let dims = Dims { m, din, dout: bl.len() };
        let hidden = i + 1 < layers.len();
        let a = dense_rows_simd(&h, wl, bl, dims, hidden.then_some(act));
        let mask = if hidden {
            masks.and_then(|ms| ms.get(i)).map(Vec::as_slice)
        } else {
            None
        };
        let out = match mask {
            Some(mk) => a.iter().zip(mk).map(|(v, k)| v * k).collect(),
            None => a.clone(),
        };
        kept.push(Pass {
            x: std::mem::replace(&mut h, out),
            a,
            mask,
            dims,
        });
        din = dims.dout;
    }
    let loss = bce_value(&h, y, w, w_sum);
    let mut g = bce_grad(&h, y, w, w_sum);
    let mut grads = Vec::with_capacity(layers.len());
    for (i, (p, (wl, _))) in kept.iter().zip(layers).enumerate().rev() {
        let act = (i + 1 < layers.len()).then_some(act);
        let gz = pre_activation_grad(g, &p.a, p.mask, act);
        let (gw, gb, gx) = dense_grads_simd(&p.x, wl, &gz, p.dims, i > 0);
        grads.push((gw, gb));
        g = gx;
    }
    grads.reverse();
    (loss, grads)
}

/// The dense layer and the loss as single nodes of burn's autodiff tape:
/// the reference [`gradients`] is tested against (to the bit), itself tested
/// against burn's own composition of the same operations.
#[cfg(test)]
pub(crate) mod tape {
    use super::*;
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::tensor::TensorData;
    use burn::tensor::ops::FloatTensor;

    fn tensor(v: Vec<f32>, shape: &[usize]) -> NdArrayTensor {
        NdArrayTensor::from_data(TensorData::new(v, shape.to_vec()))
    }

    #[derive(Debug)]
    struct DenseBackward;

    #[derive(Debug, Clone)]
    struct DenseState {
        x: Vec<f32>,
        w: Vec<f32>,
        /// The activation before the mask.
        a: Vec<f32>,
        mask: Option<Vec<f32>>,
        act: Option<Activation>,
        dims: Dims,
    }

    impl Backward<Inner, 3> for DenseBackward {
        type State = DenseState;

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x, node_w, node_b] = ops.parents;
            let g = values(&grads.consume::<Inner>(&ops.node));
            let DenseState {
                x,
                w,
                a,
                mask,
                act,
                dims,
            } = ops.state;
            let Dims { m, din, dout } = dims;
            let gz = pre_activation_grad(g, &a, mask.as_deref(), act);
            let (gw, gb, gx) = dense_grads_simd(&x, &w, &gz, dims, node_x.is_some());
            if let Some(node) = node_w {
                grads.register::<Inner>(node.id, tensor(gw, &[din, dout]));
            }
            if let Some(node) = node_b {
                grads.register::<Inner>(node.id, tensor(gb, &[dout]));
            }
            if let Some(node) = node_x {
                grads.register::<Inner>(node.id, tensor(gx, &[m, din]));
            }
        }
    }

    fn primitive<const D: usize>(t: Tensor<Train, D>) -> FloatTensor<Train> {
        t.into_primitive().tensor()
    }

    /// One dense layer of the training graph: `act(x W + b) * mask`, a single
    /// autodiff node with `x`, `w` and `b` as parents.
    pub(crate) fn dense(
        x: Tensor<Train, 2>,
        w: Tensor<Train, 2>,
        b: Tensor<Train, 1>,
        act: Option<Activation>,
        mask: Option<Vec<f32>>,
    ) -> Tensor<Train, 2> {
        let [m, din] = x.dims();
        let dout = w.dims()[1];
        let dims = Dims { m, din, dout };
        let (x, w, b) = (primitive(x), primitive(w), primitive(b));
        let (xv, wv, bv) = (values(&x.primitive), values(&w.primitive), values(&b.primitive));
        let a = dense_rows_simd(&xv, &wv, &bv, dims, act);
        let out = match &mask {
            Some(mk) => a.iter().zip(mk).map(|(v, k)| v * k).collect(),
            None => a.clone(),
        };
        let out_t = tensor(out, &[m, dout]);
        let nodes = [x.node.clone(), w.node.clone(), b.node.clone()];
        let result = match DenseBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(
                DenseState {
                    x: xv,
                    w: wv,
                    a,
                    mask,
                    act,
                    dims,
                },
                out_t,
            ),
            OpsKind::UnTracked(prep) => prep.finish(out_t),
        };
        Tensor::from_primitive(TensorPrimitive::Float(result))
    }

    #[derive(Debug)]
    struct BceBackward;

    #[derive(Debug, Clone)]
    struct BceState {
        /// d loss / d z for each row.
        dz: Vec<f32>,
        shape: Vec<usize>,
    }

    impl Backward<Inner, 1> for BceBackward {
        type State = BceState;

        fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_z] = ops.parents;
            let g = values(&grads.consume::<Inner>(&ops.node));
            let g = g.first().copied().unwrap_or(0.0);
            if let Some(node) = node_z {
                let BceState { dz, shape } = ops.state;
                let v = dz.into_iter().map(|d| d * g).collect();
                grads.register::<Inner>(node.id, tensor(v, &shape));
            }
        }
    }

    /// The weighted cross-entropy of the logits `z` (one column) as one autodiff
    /// node; also returns its value in f64.
    pub(crate) fn bce(z: Tensor<Train, 2>, y: &[f32], w: &[f32], w_sum: f64) -> (Tensor<Train, 1>, f64) {
        let shape = z.dims().to_vec();
        let z = primitive(z);
        let zv = values(&z.primitive);
        let loss = bce_value(&zv, y, w, w_sum);
        let out_t = tensor(vec![loss as f32], &[1]);
        let result = match BceBackward.prepare::<NoCheckpointing>([z.node.clone()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let dz = bce_grad(&zv, y, w, w_sum);
                prep.finish(BceState { dz, shape }, out_t)
            }
            OpsKind::UnTracked(prep) => prep.finish(out_t),
        };
        (Tensor::from_primitive(TensorPrimitive::Float(result)), loss)
    }
}

#[cfg(test)]
mod tests {
    use super::tape::{bce, dense};
    use super::*;
    use burn::tensor::TensorData;
    use strata_core::{Rng, Seed};

    fn random(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
        (0..n).map(|_| ((2.0 * rng.uniform() - 1.0) * scale) as f32).collect()
    }

    fn t2(v: &[f32], shape: [usize; 2]) -> Tensor<Train, 2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &Default::default())
    }

    fn t1(v: &[f32]) -> Tensor<Train, 1> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &Default::default())
    }

    /// Through burn's own `into_data`, independently of [`values`].
    fn data_of<const D: usize>(t: Tensor<Inner, D>) -> Vec<f32> {
        t.into_data().into_vec::<f32>().unwrap()
    }

    fn close(ours: &[f32], reference: &[f32], tol: f32, what: &str) {
        assert_eq!(ours.len(), reference.len(), "{what}: length");
        for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
            assert!(
                (a - b).abs() <= tol * (1.0 + b.abs()),
                "{what}[{i}]: fused {a}, burn {b}"
            );
        }
    }

    /// One dense layer and its gradients (through a random linear read-out)
    /// against the same layer composed from burn's tensor operations, for
    /// shapes that are not multiples of the 4 x 8 tile.
    #[test]
    fn dense_layer_matches_burn_composition() {
        let mut rng = Rng::new(Seed(11));
        for (m, din, dout) in [(37, 13, 11), (64, 34, 32), (3, 5, 1), (9, 16, 16)] {
            for act in [Some(Activation::Relu), Some(Activation::Tanh), None] {
                for masked in [false, true] {
                    let xv = random(&mut rng, m * din, 2.0);
                    let wv = random(&mut rng, din * dout, 0.5);
                    let bv = random(&mut rng, dout, 0.5);
                    let rv = random(&mut rng, m * dout, 1.0);
                    let mask: Option<Vec<f32>> = masked.then(|| {
                        (0..m * dout)
                            .map(|_| if rng.uniform() < 0.7 { 1.0 / 0.7 } else { 0.0 })
                            .collect()
                    });
                    let what = format!("{m}x{din}->{dout} {act:?} mask {masked}");
                    let run = |fused_path: bool| {
                        let x = t2(&xv, [m, din]).require_grad();
                        let w = t2(&wv, [din, dout]).require_grad();
                        let b = t1(&bv).require_grad();
                        let out = if fused_path {
                            dense(x.clone(), w.clone(), b.clone(), act, mask.clone())
                        } else {
                            let z = x.clone().matmul(w.clone()) + b.clone().unsqueeze::<2>();
                            let a = match act {
                                Some(Activation::Relu) => burn::tensor::activation::relu(z),
                                Some(Activation::Tanh) => z.tanh(),
                                None => z,
                            };
                            match &mask {
                                Some(mk) => a * t2(mk, [m, dout]),
                                None => a,
                            }
                        };
                        let value = data_of(out.clone().inner());
                        let grads = (out * t2(&rv, [m, dout])).sum().backward();
                        (
                            value,
                            data_of(x.grad(&grads).unwrap()),
                            data_of(w.grad(&grads).unwrap()),
                            data_of(b.grad(&grads).unwrap()),
                        )
                    };
                    let (v, gx, gw, gb) = run(true);
                    let (rv_, rgx, rgw, rgb) = run(false);
                    close(&v, &rv_, 1e-5, &format!("{what}: output"));
                    close(&gx, &rgx, 1e-5, &format!("{what}: d input"));
                    close(&gw, &rgw, 1e-5, &format!("{what}: d weight"));
                    close(&gb, &rgb, 1e-5, &format!("{what}: d bias"));
                }
            }
        }
    }

    /// The weighted cross-entropy and its gradient against burn's composition
    /// of the same formula, including logits far in both tails.
    #[test]
    fn cross_entropy_matches_burn_composition() {
        let mut rng = Rng::new(Seed(5));
        let m = 50;
        let mut zv = random(&mut rng, m, 4.0);
        zv[0] = 40.0;
        zv[1] = -40.0;
        let mut yv: Vec<f32> = (0..m).map(|i| f32::from(u8::from(i % 3 == 0))).collect();
        // Row 0 confidently right, row 1 confidently wrong.
        yv[1] = 1.0;
        let wv: Vec<f32> = yv.iter().map(|&y| if y == 1.0 { 2.5 } else { 1.0 }).collect();
        let w_sum: f64 = wv.iter().map(|&w| f64::from(w)).sum();
        let z = t2(&zv, [m, 1]).require_grad();
        let (loss, value) = bce(z.clone(), &yv, &wv, w_sum);
        let grads = loss.clone().backward();
        let ours_g = data_of(z.grad(&grads).unwrap());
        let zr = t2(&zv, [m, 1]).require_grad();
        let z1 = zr.clone().reshape([m]);
        let per = z1.clone().clamp_min(0.0) - z1.clone() * t1(&yv) + z1.abs().neg().exp().log1p();
        let reference = (per * t1(&wv)).sum().div_scalar(w_sum);
        let grads = reference.clone().backward();
        let ref_g = data_of(zr.grad(&grads).unwrap());
        let ref_v = f64::from(data_of(reference.inner())[0]);
        assert!((value - ref_v).abs() <= 1e-6 * (1.0 + ref_v.abs()), "{value} vs {ref_v}");
        assert_eq!(f64::from(data_of(loss.inner())[0]), value as f32 as f64);
        close(&ours_g, &ref_g, 1e-5, "d logits");
        // Both tails: a confident right answer has a vanishing gradient, a
        // confident wrong one minus its weight over the weight sum.
        assert!(ours_g[0].abs() < 1e-12, "{}", ours_g[0]);
        let full = -(2.5 / w_sum) as f32;
        assert!((ours_g[1] - full).abs() < 1e-6 * full.abs(), "{} vs {full}", ours_g[1]);
    }

    /// One training step's loss and gradients without the tape equal those of
    /// the tape's nodes to the bit: networks with two, one and no hidden
    /// layers, both activations, with and without dropout masks, batches of
    /// one row up to a full batch, and logits far in both tails.
    #[test]
    fn gradients_equal_the_tape_to_the_bit() {
        let mut rng = Rng::new(Seed(31));
        let d = 7;
        for hidden in [vec![9, 4], vec![5], vec![]] {
            for act in [Activation::Relu, Activation::Tanh] {
                for masked in [false, true] {
                    for m in [1, 13, 64] {
                        let what = format!("hidden {hidden:?} {act:?} mask {masked} rows {m}");
                        let xv = random(&mut rng, m * d, 2.0);
                        let mut layers: Vec<Layer> = Vec::new();
                        let mut din = d;
                        for &o in hidden.iter().chain(&[1]) {
                            layers.push((random(&mut rng, din * o, 1.5), random(&mut rng, o, 0.5)));
                            din = o;
                        }
                        let masks: Option<Vec<Vec<f32>>> = masked.then(|| {
                            hidden
                                .iter()
                                .map(|&h| {
                                    (0..m * h)
                                        .map(|_| if rng.uniform() < 0.8 { 1.0 / 0.8 } else { 0.0 })
                                        .collect()
                                })
                                .collect()
                        });
                        let yv: Vec<f32> = (0..m).map(|i| f32::from(u8::from(i % 4 == 1))).collect();
                        let wv: Vec<f32> = yv.iter().map(|&y| if y == 1.0 { 3.0 } else { 1.0 }).collect();
                        let w_sum: f64 = wv.iter().map(|&w| f64::from(w)).sum();
                        let (loss, grads) = gradients(&xv, d, &layers, act, masks.as_deref(), &yv, &wv, w_sum);

                        let params: Vec<(Tensor<Train, 2>, Tensor<Train, 1>)> = layers
                            .iter()
                            .map(|(w, b)| {
                                let dout = b.len();
                                (t2(w, [w.len() / dout, dout]).require_grad(), t1(b).require_grad())
                            })
                            .collect();
                        let mut h = t2(&xv, [m, d]);
                        for (i, (w, b)) in params.iter().enumerate() {
                            let hidden_layer = i + 1 < params.len();
                            let mask = masks.as_ref().filter(|_| hidden_layer).map(|ms| ms[i].clone());
                            h = dense(h, w.clone(), b.clone(), hidden_layer.then_some(act), mask);
                        }
                        let (tape_loss, tape_value) = bce(h, &yv, &wv, w_sum);
                        let tape_grads = tape_loss.backward();
                        assert_eq!(loss.to_bits(), tape_value.to_bits(), "{what}: loss");
                        assert_eq!(grads.len(), params.len(), "{what}: layers");
                        for (i, ((gw, gb), (w, b))) in grads.iter().zip(&params).enumerate() {
                            let tw = data_of(w.grad(&tape_grads).unwrap());
                            let tb = data_of(b.grad(&tape_grads).unwrap());
                            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                            assert_eq!(bits(gw), bits(&tw), "{what}: layer {i} d weight");
                            assert_eq!(bits(gb), bits(&tb), "{what}: layer {i} d bias");
                        }
                    }
                }
            }
        }
    }

    /// The inference path (`logits`, plain slices) equals the training graph's
    /// forward pass to the bit.
    #[test]
    fn inference_equals_the_training_forward() {
        let mut rng = Rng::new(Seed(2));
        let (m, d) = (23, 7);
        let xv = random(&mut rng, m * d, 1.0);
        let layers: Vec<Layer> = [(d, 9), (9, 4), (4, 1)]
            .iter()
            .map(|&(i, o)| (random(&mut rng, i * o, 0.7), random(&mut rng, o, 0.2)))
            .collect();
        let z = logits(&xv, d, &layers, Activation::Tanh);
        let mut h = t2(&xv, [m, d]);
        let mut din = d;
        for (i, (w, b)) in layers.iter().enumerate() {
            let act = (i + 1 < layers.len()).then_some(Activation::Tanh);
            h = dense(h, t2(w, [din, b.len()]).require_grad(), t1(b).require_grad(), act, None);
            din = b.len();
        }
        assert_eq!(data_of(h.inner()), z);
    }
}
