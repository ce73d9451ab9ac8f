//! Arithmetic kernels shared by the algorithm crates, written so that loops
//! over them vectorize and give the same bits on every x86-64 (plain
//! additions and multiplications, never fused): a branch-free exponential,
//! and the tiled products of a symmetric d x d accumulation (scatter
//! matrices) over chunks of rows.

/// Rows per chunk of the tiled products: a chunk of every feature stays in
/// the L1 cache.
pub const CH: usize = 64;
/// Lanes of one AVX2 vector.
pub const LN: usize = 4;
/// Tiles: `TI` features against `TJ` features, 8 vector accumulators (with
/// their operands, within the 16 AVX2 registers).
pub const TI: usize = 2;
pub const TJ: usize = 4;

/// Feature count padded for the tiles: rows of a chunk buffer past `d` stay
/// zero, so the tiles never need a bound.
pub fn padded_width(d: usize) -> usize {
    d.next_multiple_of(TI).max(d.next_multiple_of(TJ))
}

/// Adds, for i <= j (in tiles, so some j < i too), the products of one chunk
/// sum_v u[i][v] e[j][v] to `acc[i * dp + j]`, one partial sum per vector
/// lane. `u` and `e` have `dp` rows ([`padded_width`]), those past `d` zero.
/// With `u == e` this is the chunk's scatter; with `u` the weighted `e`, its
/// weighted scatter. A tile that would straddle the diagonal with whole
/// columns below it is narrowed to the columns from the diagonal on; each
/// product is the same whatever the tiling.
#[inline(always)]
pub fn upper_tile_products(
    u: &[[f64; CH]],
    e: &[[f64; CH]],
    d: usize,
    dp: usize,
    acc: &mut [[f64; LN]],
) {
    for i0 in (0..d).step_by(TI) {
        for j0 in ((i0 / TJ) * TJ..d).step_by(TJ) {
            if j0 + TJ == i0 + 2 {
                tile::<2>(u, e, i0, i0, dp, acc);
            } else {
                tile::<TJ>(u, e, i0, j0, dp, acc);
            }
        }
    }
}

/// One `TI` x `W` tile of [`upper_tile_products`] at features (`i0`, `j0`):
/// its accumulators stay in registers over the chunk, then go to `acc`.
#[inline(always)]
fn tile<const W: usize>(
    u: &[[f64; CH]],
    e: &[[f64; CH]],
    i0: usize,
    j0: usize,
    dp: usize,
    acc: &mut [[f64; LN]],
) {
    let ui: [&[f64; CH]; TI] = std::array::from_fn(|p| &u[i0 + p]);
    let ej: [&[f64; CH]; W] = std::array::from_fn(|q| &e[j0 + q]);
    let mut t = [[[0.0f64; LN]; W]; TI];
    for v in 0..CH / LN {
        for p in 0..TI {
            for q in 0..W {
                for l in 0..LN {
                    t[p][q][l] += ui[p][v * LN + l] * ej[q][v * LN + l];
                }
            }
        }
    }
    for (p, tp) in t.iter().enumerate() {
        for (q, tq) in tp.iter().enumerate() {
            let a = &mut acc[(i0 + p) * dp + j0 + q];
            for l in 0..LN {
                a[l] += tq[l];
            }
        }
    }
}

/// Lanes of the paired layout: one AVX-512 vector holds the [`LN`] lanes of
/// two features side by side.
pub const PL: usize = 2 * LN;
/// Features per side of a tile of [`upper_tile_products_paired`]: 4 x 4
/// features are 8 paired accumulators, which with their operands fit the 32
/// AVX-512 registers and keep both of its units busy.
const PT: usize = 4;

/// Where the value of feature `j` for row `v` of a chunk goes in the paired
/// layout of [`upper_tile_products_paired`]: (pair, position in the pair).
#[inline(always)]
pub fn pair_index(j: usize, v: usize) -> (usize, usize) {
    (j / 2, (v / LN) * PL + (j % 2) * LN + v % LN)
}

/// [`upper_tile_products`] for an AVX-512 unit: `e` comes as pairs of
/// features whose blocks of [`LN`] rows interleave (`pairs[q]` holds features
/// `2q` and `2q + 1`, see [`pair_index`]), so one 8-lane operation computes
/// the lanes of two products, each lane the same chain as in
/// [`upper_tile_products`]: per product and lane, the chunk's rows in order
/// from 0.0, then one addition to `acc`. The results are the same bits;
/// the tiles are 4 x 4 features (`dp`, from [`padded_width`], is a multiple
/// of 4; `pairs` has `dp / 2` rows, those past `d` zero).
#[inline(always)]
pub fn upper_tile_products_paired(
    u: &[[f64; CH]],
    pairs: &[[f64; 2 * CH]],
    d: usize,
    dp: usize,
    acc: &mut [[f64; LN]],
) {
    for i0 in (0..d).step_by(PT) {
        for j0 in (i0..d).step_by(PT) {
            paired_tile(u, pairs, i0, j0, dp, acc);
        }
    }
}

/// One `PT` x `PT` tile of [`upper_tile_products_paired`] at features
/// (`i0`, `j0`), both multiples of `PT`.
#[inline(always)]
fn paired_tile(
    u: &[[f64; CH]],
    pairs: &[[f64; 2 * CH]],
    i0: usize,
    j0: usize,
    dp: usize,
    acc: &mut [[f64; LN]],
) {
    const Q: usize = PT / 2;
    let ui: [&[f64; CH]; PT] = std::array::from_fn(|p| &u[i0 + p]);
    let ej: [&[f64; 2 * CH]; Q] = std::array::from_fn(|q| &pairs[j0 / 2 + q]);
    let mut t = [[[0.0f64; PL]; Q]; PT];
    for v in 0..CH / LN {
        for p in 0..PT {
            // Feature i0 + p's lanes, the same for both features of a pair.
            let a: [f64; PL] = std::array::from_fn(|l| ui[p][v * LN + l % LN]);
            for q in 0..Q {
                for l in 0..PL {
                    t[p][q][l] += a[l] * ej[q][v * PL + l];
                }
            }
        }
    }
    for (p, tp) in t.iter().enumerate() {
        for (q, tq) in tp.iter().enumerate() {
            for h in 0..2 {
                let a = &mut acc[(i0 + p) * dp + j0 + 2 * q + h];
                for l in 0..LN {
                    a[l] += tq[h * LN + l];
                }
            }
        }
    }
}

/// e^x without branches, so a loop of it vectorizes: x = n ln 2 + r with
/// |r| <= ln 2 / 2 (Cody-Waite split of ln 2), e^r by its Taylor series to
/// r^13 (truncation below 1e-17), times 2^n built from the exponent bits.
/// Within 2 ulp of the correctly rounded value on [-708, 709]; 0 below
/// -708 (where e^x < 3.4e-308), and only plain additions and multiplications,
/// so the result is the same bits on every x86-64.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^20.
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding 1.5 * 2^52 rounds to the nearest integer, which then sits in the
    // low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    const INV_FACT: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * LOG2E + SHIFT;
    let nf = t - SHIFT;
    let r = (xc - nf * LN2_HI) - nf * LN2_LO;
    let mut p = INV_FACT[13];
    for &c in INV_FACT[..13].iter().rev() {
        p = p * r + c;
    }
    let n = t.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(n.wrapping_add(1023) << 52);
    let v = p * scale;
    if x < -708.0 { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_the_standard_library() {
        assert_eq!(exp(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        let mut worst = 0.0f64;
        let mut x = -708.0;
        while x <= 709.0 {
            let (a, b) = (exp(x), x.exp());
            let ulp = f64::from_bits(b.to_bits() + 1) - b;
            worst = worst.max((a - b).abs() / ulp);
            x += 0.0137;
        }
        // Near zero, where mixture responsibilities live.
        for i in 0..100_000 {
            let x = -(i as f64) * 1e-4;
            let (a, b) = (exp(x), x.exp());
            let ulp = f64::from_bits(b.to_bits() + 1) - b;
            worst = worst.max((a - b).abs() / ulp);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn tile_products_are_the_upper_triangle_of_the_products() {
        // Widths whose diagonal tiles are whole, narrowed, or both.
        for d in [1, 2, 5, 7, 12, 13] {
            tile_products_for(d);
        }
    }

    fn tile_products_for(d: usize) {
        let dp = padded_width(d);
        let mut u = vec![[0.0f64; CH]; dp];
        let mut e = vec![[0.0f64; CH]; dp];
        for j in 0..d {
            for v in 0..CH {
                u[j][v] = ((j * 31 + v * 7) % 13) as f64 - 6.0;
                e[j][v] = ((j * 17 + v * 5) % 11) as f64 * 0.5;
            }
        }
        let mut acc = vec![[0.0f64; LN]; dp * dp];
        upper_tile_products(&u, &e, d, dp, &mut acc);
        for i in 0..d {
            for j in i..d {
                let direct: f64 = (0..CH).map(|v| u[i][v] * e[j][v]).sum();
                let got: f64 = acc[i * dp + j].iter().sum();
                assert_eq!(got, direct, "d = {d}: ({i}, {j})");
            }
        }
        // The paired layout, twice over (so each lane adds to what the
        // first chunk left), gives every lane of the upper triangle the
        // same bits as the plain tiles. Values with many significant bits,
        // so that an addition in another order would show.
        for j in 0..d {
            for v in 0..CH {
                u[j][v] = ((j * 31 + v * 7) % 13) as f64 / 7.0 - 0.9;
                e[j][v] = ((j * 17 + v * 5) % 11) as f64 / 3.0 + 0.1;
            }
        }
        let mut pairs = vec![[0.0f64; 2 * CH]; dp / 2];
        for (j, ej) in e.iter().enumerate().take(d) {
            for (v, &x) in ej.iter().enumerate() {
                let (q, at) = pair_index(j, v);
                pairs[q][at] = x;
            }
        }
        let mut plain = vec![[0.0f64; LN]; dp * dp];
        let mut paired = vec![[0.0f64; LN]; dp * dp];
        for _ in 0..2 {
            upper_tile_products(&u, &e, d, dp, &mut plain);
            upper_tile_products_paired(&u, &pairs, d, dp, &mut paired);
        }
        for i in 0..d {
            for j in i..d {
                let bits = |a: &[f64; LN]| a.map(f64::to_bits);
                assert_eq!(bits(&paired[i * dp + j]), bits(&plain[i * dp + j]), "d = {d}: ({i}, {j})");
            }
        }
    }
}
