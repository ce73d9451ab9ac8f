//! Stratified folds and splits: every fold keeps the class balance of the whole.

use crate::error::NeuralError;
use strata_core::{Rng, Seed};

/// Test rows of each of `k` stratified folds (disjoint, covering every row,
/// each fold's positive count within one of `positives / k`), sorted.
pub fn stratified_folds(y: &[u8], k: usize, seed: Seed) -> Result<Vec<Vec<usize>>, NeuralError> {
    if k < 2 {
        return Err(NeuralError::param("folds", k, "at least 2"));
    }
    let (mut pos, mut neg): (Vec<usize>, Vec<usize>) = (0..y.len()).partition(|&i| y[i] == 1);
    if pos.len() < k || neg.len() < k {
        return Err(NeuralError::TooFewPerClass {
            positives: pos.len(),
            negatives: neg.len(),
            folds: k,
            max_folds: pos.len().min(neg.len()),
        });
    }
    let mut rng = Rng::new(seed);
    rng.shuffle(&mut pos);
    rng.shuffle(&mut neg);
    let mut folds = vec![Vec::new(); k];
    // Deal positives round-robin, then negatives continuing where they
    // stopped, so fold sizes differ by at most one as well.
    for (j, &i) in pos.iter().chain(neg.iter()).enumerate() {
        folds[j % k].push(i);
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    Ok(folds)
}

/// Splits `rows` (indices into `y`) into (fit, validation) with about
/// `fraction` of each class in validation (at least one of each when possible).
pub fn stratified_split(
    rows: &[usize],
    y: &[u8],
    fraction: f64,
    seed: Seed,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let (mut fit, mut val) = (Vec::new(), Vec::new());
    for class in [0u8, 1] {
        let mut c: Vec<usize> = rows.iter().copied().filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut c);
        let m = ((c.len() as f64 * fraction).round() as usize)
            .clamp(usize::from(c.len() >= 2), c.len().saturating_sub(1));
        val.extend_from_slice(&c[..m]);
        fit.extend_from_slice(&c[m..]);
    }
    fit.sort_unstable();
    val.sort_unstable();
    (fit, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_disjoint_and_cover() {
        let y: Vec<u8> = (0..2240).map(|i| u8::from(i % 100 < 15)).collect();
        let pos = y.iter().filter(|&&v| v == 1).count() as f64;
        for seed in 0..5 {
            let folds = stratified_folds(&y, 5, Seed(seed)).unwrap();
            let mut all: Vec<usize> = folds.concat();
            all.sort_unstable();
            assert_eq!(all, (0..y.len()).collect::<Vec<_>>());
            for f in &folds {
                let p = f.iter().filter(|&&i| y[i] == 1).count() as f64;
                assert!((p - pos / 5.0).abs() <= 1.0, "{p}");
            }
        }
        let e = stratified_folds(&[1, 0, 0, 0, 0, 1], 3, Seed(0))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("only 2 positive") && e.contains("at most 2 folds"),
            "{e}"
        );
    }

    #[test]
    fn split_keeps_both_classes() {
        let y: Vec<u8> = (0..100).map(|i| u8::from(i < 10)).collect();
        let rows: Vec<usize> = (0..100).collect();
        let (fit, val) = stratified_split(&rows, &y, 0.2, Seed(1));
        assert_eq!(fit.len() + val.len(), 100);
        assert_eq!(val.iter().filter(|&&i| y[i] == 1).count(), 2);
        assert!(fit.iter().all(|i| !val.contains(i)));
    }
}
