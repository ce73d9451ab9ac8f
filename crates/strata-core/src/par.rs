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

/// Columns of equal length cut into the fixed blocks of rows: for each block,
/// its piece of every column, in column order (no rows, no blocks). Each
/// block can then be handed to its own task.
pub fn block_columns<'a, T>(
    columns: impl IntoIterator<Item = &'a mut [T]>,
) -> Vec<Vec<&'a mut [T]>> {
    let mut per_block: Vec<Vec<&'a mut [T]>> = Vec::new();
    for column in columns {
        for (b, piece) in column.chunks_mut(BLOCK_ROWS).enumerate() {
            if per_block.len() == b {
                per_block.push(Vec::new());
            }
            per_block[b].push(piece);
        }
    }
    per_block
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
    fn block_columns_cuts_every_column_at_the_blocks() {
        let n = 2 * BLOCK_ROWS + 5;
        let mut values: Vec<usize> = (0..3 * n).collect();
        let per_block = block_columns(values.chunks_exact_mut(n));
        assert_eq!(per_block.len(), blocks(n).len());
        for (pieces, (a, b)) in per_block.iter().zip(blocks(n)) {
            assert_eq!(pieces.len(), 3);
            for (j, piece) in pieces.iter().enumerate() {
                assert_eq!(piece.to_vec(), (j * n + a..j * n + b).collect::<Vec<_>>());
            }
        }
        let mut none: Vec<&mut [f64]> = vec![&mut [], &mut []];
        assert!(block_columns(none.iter_mut().map(|c| &mut **c)).is_empty());
    }

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
