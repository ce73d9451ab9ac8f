//! Deterministic parallel reductions over the rows of a matrix.
//!
//! Rows are split into fixed blocks of [`BLOCK_ROWS`] (never derived from the
//! thread count), blocks run in parallel with rayon, and their partial results
//! are combined in block order: the floating-point result is the same with 1
//! thread or 64.

use rayon::prelude::*;

/// Rows per block.
pub const BLOCK_ROWS: usize = 2048;

/// The fixed blocks `[start, end)` covering `0..n`.
pub fn blocks(n: usize) -> Vec<(usize, usize)> {
    (0..n.div_ceil(BLOCK_ROWS))
        .map(|b| (b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(n)))
        .collect()
}

/// Runs `f` on every block in parallel and folds the results with `add` in
/// block order; `None` when there are no rows.
pub fn blocked_sum<T, F, A>(n: usize, f: F, add: A) -> Option<T>
where
    T: Send,
    F: Fn(usize, usize) -> T + Sync,
    A: Fn(&mut T, T),
{
    let parts: Vec<T> = blocks(n).into_par_iter().map(|(a, b)| f(a, b)).collect();
    let mut it = parts.into_iter();
    let mut acc = it.next()?;
    for p in it {
        add(&mut acc, p);
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_range_and_sums_are_thread_independent() {
        assert_eq!(blocks(0), vec![]);
        assert_eq!(blocks(5000), vec![(0, 2048), (2048, 4096), (4096, 5000)]);
        let v: Vec<f64> = (0..100_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let sum = |_: ()| blocked_sum(v.len(), |a, b| v[a..b].iter().sum::<f64>(), |x, y| *x += y);
        let many = sum(());
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map(|p| p.install(|| sum(())))
            .ok()
            .flatten();
        assert_eq!(many.map(f64::to_bits), one.map(f64::to_bits));
    }
}
