//! Distribution functions and multiplicity adjustments for the inference
//! behind strata's verdicts: Student's t (for the corrected resampled t-test
//! over repeated cross-validation), the standard normal, and Holm's step-down
//! adjustment of a family of p-values.
//!
//! Everything is computed from textbook formulas (Lanczos' log-gamma, the
//! continued fraction of the regularized incomplete beta function) and checked
//! against SciPy in `tests/stats_reference.rs`.

/// Natural log of the gamma function for `x > 0` (Lanczos, g = 7, 9 terms;
/// relative error below 1e-13 on the range used here).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(π x).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    // One Lentz update with the next coefficient: returns the factor for `h`.
    let mut step = |aa: f64| {
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        d * c
    };
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1].
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The fraction converges fast for x < (a + 1) / (a + b + 2); use the
    // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) elsewhere.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// P(T <= t) for Student's t with `df` degrees of freedom (df > 0).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// The `p` quantile of Student's t with `df` degrees of freedom, 0 < p < 1.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.5 {
        return 0.0;
    }
    // Bracket, then bisect: the CDF is monotone, and 200 halvings of any
    // bracket reach the resolution of f64.
    let (mut lo, mut hi) = (-1.0, 1.0);
    while t_cdf(lo, df) > p {
        lo *= 2.0;
    }
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    (2.0 * t_cdf(-t.abs(), df)).min(1.0)
}

/// P(Z <= z) for the standard normal (relative error below 1.2e-7).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (a Chebyshev-type fit with relative
/// error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The 0.975 quantile of the standard normal to double precision: the `z` of
/// every two-sided 95 % normal-theory interval (Wilson, Newcombe, a mean's).
pub const Z95: f64 = 1.959_963_984_540_054;

/// The `p` quantile of the standard normal, 0 < p < 1 (Acklam's rational
/// approximation, relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.024_25;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// Holm's step-down adjustment of a family of p-values: the adjusted values,
/// in the input's order. Rejecting where the adjusted value is at most α
/// controls the family-wise error rate at α. NaN p-values are left out of the
/// family and stay NaN.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Result of [`corrected_resampled_t`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorrectedT {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub p_value: f64,
    pub df: f64,
    /// Standard error of the mean after the correction.
    pub se: f64,
}

/// The corrected resampled t-test of Nadeau and Bengio (2003) for paired
/// scores over repeated k-fold cross-validation.
///
/// The J = folds x repeats differences share training rows, so their sample
/// variance understates the variance of their mean; the correction replaces
/// 1/J by 1/J + n_test/n_train. `test_over_train` is that ratio (1 / (k - 1)
/// for k-fold). Returns the mean, the interval at `level` and the two-sided
/// p-value of "no difference", on J - 1 degrees of freedom.
pub fn corrected_resampled_t(diffs: &[f64], test_over_train: f64, level: f64) -> CorrectedT {
    let j = diffs.len();
    let mean = diffs.iter().sum::<f64>() / j.max(1) as f64;
    if j < 2 {
        return CorrectedT {
            mean,
            low: f64::NAN,
            high: f64::NAN,
            p_value: f64::NAN,
            df: 0.0,
            se: f64::NAN,
        };
    }
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (j - 1) as f64;
    let se = (var * (1.0 / j as f64 + test_over_train)).sqrt();
    let df = (j - 1) as f64;
    let q = t_quantile(0.5 + level / 2.0, df);
    let p_value = if se > 0.0 {
        t_two_sided_p(mean / se, df)
    } else if mean == 0.0 {
        1.0
    } else {
        0.0
    };
    CorrectedT {
        mean,
        low: mean - q * se,
        high: mean + q * se,
        p_value,
        df,
        se,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_by_hand() {
        // Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, 0.04, 0.04 (monotone).
        let a = holm(&[0.04, 0.01, f64::NAN, 0.02]);
        assert!((a[1] - 0.03).abs() < 1e-15);
        assert!((a[3] - 0.04).abs() < 1e-15);
        assert!((a[0] - 0.04).abs() < 1e-15);
        assert!(a[2].is_nan());
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
    }

    #[test]
    fn corrected_interval_by_hand() {
        // d = 1, 2, 3: mean 2, variance 1; 5-fold: ratio 1/4.
        let c = corrected_resampled_t(&[1.0, 2.0, 3.0], 0.25, 0.95);
        let se = (1.0_f64 / 3.0 + 0.25).sqrt();
        assert!((c.se - se).abs() < 1e-15);
        // t(0.975, 2) = 4.302652729911275 (tables).
        assert!((c.high - (2.0 + 4.302_652_729_911_275 * se)).abs() < 1e-9);
        assert_eq!(c.df, 2.0);
        // Zero variance: a certain difference.
        let z = corrected_resampled_t(&[0.5, 0.5, 0.5], 0.25, 0.95);
        assert_eq!((z.low, z.high, z.p_value), (0.5, 0.5, 0.0));
        assert!(corrected_resampled_t(&[0.5], 0.25, 0.95).low.is_nan());
    }

    #[test]
    fn quantile_inverts_cdf() {
        for df in [1.0, 2.5, 14.0, 200.0] {
            for p in [0.001, 0.025, 0.3, 0.5, 0.9, 0.975] {
                let q = t_quantile(p, df);
                assert!((t_cdf(q, df) - p).abs() < 1e-12, "df {df} p {p}");
            }
        }
        for p in [1e-6, 0.01, 0.3, 0.7, 0.975] {
            let z = normal_quantile(p);
            assert!((normal_cdf(z) - p).abs() < 1e-6 * p.max(1e-3), "p {p}");
        }
        // The constant agrees with the approximation to its stated error.
        assert!((normal_quantile(0.975) - Z95).abs() < 1.2e-9 * Z95);
    }
}
