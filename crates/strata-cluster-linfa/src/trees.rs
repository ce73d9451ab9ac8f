//! The merge trees of the matrices clustered last, so that cutting one
//! matrix at several k builds its tree once.
//!
//! A tree depends on the matrix and the linkage only, never on k. An entry is
//! found by an exact comparison: linkage, shape and the bits of every value
//! (a hash first, to skip the others quickly). A tree that one thread is
//! building is waited for by the others that need it, never built twice at
//! once. The cache keeps the entries used last, within a budget of stored
//! values; a matrix larger than the budget is not kept at all.

use super::{Linkage, dissimilarities};
use ndarray::ArrayView2;
use std::cell::Cell;
use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// One linkage of a matrix.
pub(crate) struct Tree {
    /// The two nodes each step merges, in order (node `n + s` is step `s`'s union).
    pub merges: Vec<(usize, usize)>,
    /// The kernel bandwidth of the dissimilarities.
    pub bandwidth: f64,
}

struct Entry {
    linkage: Linkage,
    rows: usize,
    cols: usize,
    hash: u64,
    /// The matrix's values, row after row, as bits.
    bits: Vec<u64>,
    tree: OnceLock<Arc<Tree>>,
}

/// Values (8 bytes each) the cache may hold across its entries: 64 MB.
const BUDGET: usize = 8 << 20;
/// Entries at most, whatever their size: a sweep cuts each of a
/// representation's 11 matrices (the full one and 10 stability resamples)
/// at each k, and two threads may work on two representations.
const MAX_ENTRIES: usize = 48;

static CACHE: Mutex<VecDeque<Arc<Entry>>> = Mutex::new(VecDeque::new());

thread_local! {
    /// Trees this thread has built (for the tests).
    static BUILT: Cell<usize> = const { Cell::new(0) };
}

/// How many trees the calling thread has built so far.
#[cfg(test)]
pub(crate) fn built_here() -> usize {
    BUILT.with(Cell::get)
}

/// The tree of `x` under `linkage`: from the cache when the same matrix was
/// linked the same way recently, else built (and kept).
pub(crate) fn tree(x: ArrayView2<'_, f64>, linkage: Linkage) -> Arc<Tree> {
    let (rows, cols) = x.dim();
    if rows.saturating_mul(cols) > BUDGET {
        return Arc::new(build(x, linkage));
    }
    let bits: Vec<u64> = x.iter().map(|v| v.to_bits()).collect();
    let mut h = DefaultHasher::new();
    bits.hash(&mut h);
    let hash = h.finish();
    let entry = {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        let found = cache.iter().position(|e| {
            e.linkage == linkage
                && e.rows == rows
                && e.cols == cols
                && e.hash == hash
                && e.bits == bits
        });
        match found.and_then(|pos| cache.remove(pos)) {
            Some(e) => {
                cache.push_back(Arc::clone(&e));
                e
            }
            None => {
                let e = Arc::new(Entry {
                    linkage,
                    rows,
                    cols,
                    hash,
                    bits,
                    tree: OnceLock::new(),
                });
                cache.push_back(Arc::clone(&e));
                let mut held: usize = cache.iter().map(|e| e.bits.len()).sum();
                while cache.len() > MAX_ENTRIES || held > BUDGET {
                    match cache.pop_front() {
                        Some(old) => held -= old.bits.len(),
                        None => break,
                    }
                }
                e
            }
        }
    };
    Arc::clone(entry.tree.get_or_init(|| Arc::new(build(x, linkage))))
}

/// kodama's linkage of linfa-hierarchical's dissimilarities of `x`.
fn build(x: ArrayView2<'_, f64>, linkage: Linkage) -> Tree {
    BUILT.with(|b| b.set(b.get() + 1));
    let (mut condensed, bandwidth) = dissimilarities(x);
    let tree = kodama::linkage(&mut condensed, x.nrows(), linkage.method());
    Tree {
        merges: tree
            .steps()
            .iter()
            .map(|s| (s.cluster1, s.cluster2))
            .collect(),
        bandwidth,
    }
}
